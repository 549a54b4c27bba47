"""The notebook edition (notebooks/book/*.ipynb): up to date with book/, no MyST left, every solution folded."""

import json
import re
from pathlib import Path

import pytest
import yaml

from gan_teach.course.notebook_edition import (
    Edition,
    MystLeftError,
    convert_notebook,
    make_notebook_edition,
)

REPO = Path(__file__).resolve().parents[1]
BOOK = sorted((REPO / "book").glob("*.ipynb"))
EDITION = REPO / "notebooks" / "book"
MYST = re.compile(
    r"\{[\w:-]+\}`|^\s*(`{3,}|:{3,})\{|^\$\$\s*\(|^\([\w-]+\)=\s*$",
    re.MULTILINE,
)
SOLUTION_START = re.compile(r"```\{solution-start\} (\S+)")


def _text(cell) -> str:
    return (
        "".join(cell["source"])
        if isinstance(cell["source"], list)
        else cell["source"]
    )


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def edition() -> Edition:
    return Edition.from_repository(REPO)


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("edition")
    make_notebook_edition(REPO, out)
    return out / "book"


def test_the_committed_edition_is_what_make_notebooks_writes(regenerated):
    assert sorted(path.name for path in EDITION.glob("*.ipynb")) == [
        path.name for path in BOOK
    ]
    stale = [
        path.name
        for path in BOOK
        if (regenerated / path.name).read_bytes()
        != (EDITION / path.name).read_bytes()
    ]
    assert not stale, (
        f"notebooks/book is out of date for {stale}: run `make notebooks` and commit notebooks/"
    )


@pytest.mark.parametrize("path", BOOK, ids=lambda path: path.name)
def test_no_myst_markup_is_left(path):
    notebook = _load(EDITION / path.name)
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] == "markdown":
            left = MYST.search(_text(cell))
            assert not left, (
                f"{path.name}, cell {index}: MyST markup left: {_text(cell)[left.start() : left.start() + 80]!r}"
            )


@pytest.mark.parametrize("path", BOOK, ids=lambda path: path.name)
def test_every_solution_is_folded_and_nothing_else_is(path, edition):
    """Each solution's text is inside <details>; its code is collapsed, with no output until the reader runs it."""
    book, notebook = _load(path), _load(EDITION / path.name)
    solutions = [
        label
        for cell in book["cells"]
        if cell["cell_type"] == "markdown"
        for label in SOLUTION_START.findall(_text(cell))
    ]
    opened = closed = 0
    for index, cell in enumerate(notebook["cells"]):
        text = _text(cell)
        if cell["cell_type"] == "markdown":
            opened += text.count("<details>")
            closed += text.count("</details>")
            outside = re.sub(
                r"<details>.*?</details>", "", text, flags=re.DOTALL
            )
            assert "Solution to" not in outside, (
                f"{path.name}, cell {index}: a solution outside <details>"
            )
            for block in re.findall(r"<details>\n(.*?)\n", text):
                assert block.startswith("<summary>Solution to Exercise "), (
                    f"{path.name}, cell {index}: {block}"
                )
        elif text.startswith("#@title Solution"):
            assert cell["metadata"]["cellView"] == "form"
            assert cell["metadata"]["jupyter"] == {
                "source_hidden": True,
                "outputs_hidden": True,
            }
            assert (
                cell["outputs"] == [] and "NBVAL_CHECK_OUTPUT" not in text
            )
            assert "nbval-check-output" not in cell["metadata"].get(
                "tags", []
            )
        else:
            assert "cellView" not in cell["metadata"], (
                f"{path.name}, cell {index}: collapsed but not a solution"
            )
    assert opened == closed
    assert (opened > 0) == bool(solutions), (
        f"{path.name}: {len(solutions)} solutions in the book, {opened} folded"
    )
    folded = "\n".join(_text(cell) for cell in notebook["cells"])
    for label in solutions:  # each solution is announced by its exercise's number, folded or collapsed
        number = edition.targets[label]
        assert (
            f"<summary>Solution to {number} (" in folded
            or f"#@title Solution to {number} (" in folded
        ), label


@pytest.mark.parametrize("path", BOOK, ids=lambda path: path.name)
def test_the_code_is_the_books_with_the_set_up_cell_first(path, edition):
    book, notebook = _load(path), _load(EDITION / path.name)
    config = yaml.safe_load(
        (REPO / "_config.yml").read_text(encoding="utf-8")
    )
    url = config["repository"]["url"]
    version = re.search(
        r'^version = "(.+)"',
        (REPO / "pyproject.toml").read_text(encoding="utf-8"),
        re.M,
    ).group(1)

    badge, setup = notebook["cells"][0], notebook["cells"][1]
    colab = f"https://colab.research.google.com/github/{url.removeprefix('https://github.com/')}/blob/v{version}/"
    assert f'href="{colab}notebooks/book/{path.name}"' in _text(
        badge
    ) and "colab-badge.svg" in _text(badge)
    assert (
        f'%pip install --quiet "gan-teach @ git+{url}@v{version}"'
        in _text(setup)
    )
    assert "gan_teach.get_device()" in _text(setup)
    assert notebook["metadata"]["accelerator"] == "GPU"
    assert notebook["metadata"]["gan_teach"] == {
        "chapter": path.stem,
        "edition": "notebook",
        "version": version,
    }

    # The book's own install line (unpinned) is replaced; every other line of code is the book's.
    book_code = [
        _text(cell) for cell in book["cells"] if cell["cell_type"] == "code"
    ]
    assert f'"gan-teach @ git+{url}"' in book_code[0], (
        f"book/{path.name} installs from another address than _config.yml"
    )
    edition_code = [
        _text(cell)
        for cell in notebook["cells"][2:]
        if cell["cell_type"] == "code"
    ]
    assert len(edition_code) == len(book_code)
    for ours, theirs in zip(edition_code, book_code):
        if ours.startswith("#@title Solution"):
            ours = ours.split("\n", 1)[1]
        if "%pip install" in theirs:
            assert "%pip" not in ours and ours.startswith(
                "import gan_teach\n"
            )
            continue
        assert ours == theirs


def test_references_become_text_the_book_prints(edition):
    math = _text(
        next(
            c
            for c in _load(EDITION / "math.ipynb")["cells"]
            if "Theorem 5.1" in _text(c)
        )
    )
    assert "**Theorem 5.1** (Optimal discriminator)." in math
    assert (
        "\\tag{5.2}" in math and "By (5.2)," in math
    )  # an equation label and its {eq} reference
    future = "\n".join(
        _text(c) for c in _load(EDITION / "future.ipynb")["cells"]
    )
    assert (
        "(Ho et al., 2020; Sohl-Dickstein et al., 2015)" not in future
    )  # order kept as written
    assert "(Sohl-Dickstein et al., 2015; Ho et al., 2020)" in future
    assert (
        "Exercise 11.2" in future
        and "## References" in future
        and "- Ho et al., 2020. Jonathan Ho" in future
    )
    lab = "\n".join(_text(c) for c in _load(EDITION / "lab.ipynb")["cells"])
    assert (
        f"[The algorithm step by step (核心算法原理具体操作步骤)]({edition.colab_url('algorithm')})"
        in lab
    )
    assert "> **Note.** The lab below" in lab


def test_literalinclude_shows_the_library_source(edition):
    import inspect

    from gan_teach.conditional import ConditionalDCGANDiscriminator
    from gan_teach.train import train_step

    algorithm = "\n".join(
        _text(c) for c in _load(EDITION / "algorithm.ipynb")["cells"]
    )
    assert (
        "*From `gan_teach/train.py`, `train_step`:*\n\n```python\n"
        + inspect.getsource(train_step).rstrip()
        in algorithm
    )
    latent = "\n".join(
        _text(c) for c in _load(EDITION / "latent.ipynb")["cells"]
    )
    method = inspect.getsource(ConditionalDCGANDiscriminator.forward)
    assert (
        "```python\n"
        + "\n".join(line[4:] for line in method.rstrip().split("\n"))
        + "\n```"
        in latent
    )


def test_figures_come_from_the_release_on_github(edition):
    practice = "\n".join(
        _text(c) for c in _load(EDITION / "practice.ipynb")["cells"]
    )
    url = edition.raw_url("book/figures/practice-mnist-recipe.png")
    assert (
        f'<img src="{url}" alt="An 8 x 8 grid of MNIST digits' in practice
        and 'width="300"' in practice
    )
    assert (
        REPO / "book" / "figures" / "practice-mnist-recipe.png"
    ).exists()


def test_markup_the_edition_cannot_convert_is_refused(edition):
    def chapter(markdown: str) -> dict:
        install = (
            "try:\n    import gan_teach\nexcept ImportError:  # on Colab\n    %pip install --quiet "
            f'"gan-teach @ git+{edition.repository_url}"\n    import gan_teach\n'
        )
        return {
            "cells": [
                {
                    "cell_type": "markdown",
                    "metadata": {},
                    "source": "# T\n\n" + markdown,
                },
                {
                    "cell_type": "code",
                    "metadata": {},
                    "outputs": [],
                    "source": install,
                },
            ],
            "metadata": {},
        }

    assert "(Goodfellow et al., 2014)" in _text(
        convert_notebook(
            chapter("{cite}`goodfellow2014generative`"), "x", edition
        )["cells"][2]
    )
    with pytest.raises(MystLeftError, match="the role {glue}"):
        convert_notebook(chapter("{glue}`accuracy`"), "x", edition)
    with pytest.raises(MystLeftError, match="the directive {mermaid}"):
        convert_notebook(chapter("```{mermaid}\ngraph\n```"), "x", edition)
    with pytest.raises(MystLeftError, match="never ends"):
        convert_notebook(
            chapter(
                "```{solution-start} ex-a\n:class: dropdown\n```\nWhy."
            ),
            "x",
            edition,
        )
    with pytest.raises(MystLeftError, match="no entry 'nobody2099'"):
        convert_notebook(chapter("{cite}`nobody2099`"), "x", edition)
    other = chapter("")
    other["cells"][1]["source"] = other["cells"][1]["source"].replace(
        edition.repository_url, "https://github.com/a/b"
    )
    with pytest.raises(ValueError, match="make them agree"):
        convert_notebook(other, "x", edition)


def test_the_edition_is_valid_nbformat_with_unique_cell_ids():
    import nbformat

    for path in BOOK:
        notebook = nbformat.read(EDITION / path.name, as_version=4)
        nbformat.validate(notebook)
        ids = [cell.id for cell in notebook.cells]
        assert len(ids) == len(set(ids)), path.name


def test_the_launch_buttons_open_the_edition():
    """sphinx-book-theme opens <repository.path_to_book>/<page>.ipynb; for every chapter that is the edition."""
    config = yaml.safe_load(
        (REPO / "_config.yml").read_text(encoding="utf-8")
    )
    toc = yaml.safe_load((REPO / "_toc.yml").read_text(encoding="utf-8"))
    pages = [toc["root"]] + [
        chapter["file"]
        for part in toc["parts"]
        for chapter in part["chapters"]
    ]
    notebooks = [
        page for page in pages if (REPO / f"{page}.ipynb").exists()
    ]
    assert len(notebooks) == len(BOOK)
    for page in notebooks:
        assert (
            REPO / config["repository"]["path_to_book"] / f"{page}.ipynb"
        ).is_file(), page
    assert (
        config["launch_buttons"]["colab_url"]
        == "https://colab.research.google.com"
    )


def test_what_the_book_installs_beside_the_library_is_installed_by_the_set_up_cell(
    edition,
):
    install = (
        "try:\n    import gan_teach\nexcept ImportError:\n    %pip install --quiet "
        f'"gan-teach @ git+{edition.repository_url}" "ipywidgets>=7.6"\n    import gan_teach\n\nimport torch'
    )
    chapter = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": "# T"},
            {
                "cell_type": "code",
                "metadata": {},
                "outputs": [],
                "source": install,
            },
        ],
        "metadata": {},
    }
    converted = convert_notebook(chapter, "x", edition)["cells"]
    pinned = f'%pip install --quiet "gan-teach @ git+{edition.repository_url}@{edition.release}" "ipywidgets>=7.6"\n'
    assert pinned in _text(converted[1])
    assert _text(converted[3]) == "import gan_teach\n\nimport torch"
