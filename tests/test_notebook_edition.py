"""The notebook edition (notebooks/book/*.ipynb, and notebooks/book/zh/*.ipynb for the Chinese chapters in
book/zh): up to date with the book, no MyST left, every solution folded, every text in the page's language."""

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
BOOK_ZH = sorted((REPO / "book" / "zh").glob("*.ipynb"))
EDITION_ZH = EDITION / "zh"
# Every chapter of both editions: (its language, the book's notebook, the edition's).
CHAPTERS = [("en", path, EDITION / path.name) for path in BOOK] + [
    ("zh", path, EDITION_ZH / path.name) for path in BOOK_ZH
]
CHAPTER_IDS = [
    f"{language}/{path.name}" if language != "en" else path.name
    for language, path, _ in CHAPTERS
]
# What each edition calls a solution (summary, and the #@title of its code), and
# what a solution's heading looks like anywhere outside <details>.
SOLUTION = {
    "en": ("Solution to {number} (", re.compile(r"Solution to")),
    "zh": ("{number} 的解答（", re.compile(r"练习 [\d.]+ 的解答")),
}
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
def edition_zh() -> Edition:
    return Edition.from_repository(REPO, "zh")


@pytest.fixture(scope="module")
def editions(edition, edition_zh) -> dict[str, Edition]:
    return {"en": edition, "zh": edition_zh}


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


def test_the_committed_chinese_edition_is_what_make_notebooks_writes(
    regenerated,
):
    assert BOOK_ZH, "no Chinese chapters in book/zh"
    assert sorted(path.name for path in EDITION_ZH.glob("*.ipynb")) == [
        path.name for path in BOOK_ZH
    ], (
        "notebooks/book/zh must hold one notebook per book/zh/*.ipynb: run `make notebooks`"
    )
    stale = [
        path.name
        for path in BOOK_ZH
        if (regenerated / "zh" / path.name).read_bytes()
        != (EDITION_ZH / path.name).read_bytes()
    ]
    assert not stale, (
        f"notebooks/book/zh is out of date for {stale}: run `make notebooks` and commit notebooks/"
    )


@pytest.mark.parametrize(
    ("language", "path", "out"), CHAPTERS, ids=CHAPTER_IDS
)
def test_no_myst_markup_is_left(language, path, out):
    notebook = _load(out)
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] == "markdown":
            left = MYST.search(_text(cell))
            assert not left, (
                f"{out.relative_to(REPO)}, cell {index}: MyST markup left: {_text(cell)[left.start() : left.start() + 80]!r}"
            )


@pytest.mark.parametrize(
    ("language", "path", "out"), CHAPTERS, ids=CHAPTER_IDS
)
def test_every_solution_is_folded_and_nothing_else_is(
    language, path, out, editions
):
    """Each solution's text is inside <details>; its code is collapsed, with no output until the reader runs it."""
    book, notebook = _load(path), _load(out)
    announced, heading = SOLUTION[language]
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
            assert not heading.search(outside), (
                f"{path.name}, cell {index}: a solution outside <details>"
            )
            for block in re.findall(r"<details>\n(.*?)\n", text):
                assert re.match(
                    "<summary>"
                    + re.escape(announced).replace(
                        re.escape("{number}"), r"(Exercise|练习) \d+\.\d+"
                    ),
                    block,
                ), f"{path.name}, cell {index}: {block}"
        elif text.startswith("#@title ") and heading.match(
            text, len("#@title ")
        ):
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
        number = editions[language].targets[label]
        summary = announced.format(number=number)
        assert (
            f"<summary>{summary}" in folded
            or f"#@title {summary}" in folded
        ), label


@pytest.mark.parametrize(
    ("language", "path", "out"), CHAPTERS, ids=CHAPTER_IDS
)
def test_the_code_is_the_books_with_the_set_up_cell_first(
    language, path, out
):
    book, notebook = _load(path), _load(out)
    config = yaml.safe_load(
        (
            REPO
            / (
                "_config.yml"
                if language == "en"
                else f"_config.{language}.yml"
            )
        ).read_text(encoding="utf-8")
    )
    url = config["repository"]["url"]
    version = re.search(
        r'^version = "(.+)"',
        (REPO / "pyproject.toml").read_text(encoding="utf-8"),
        re.M,
    ).group(1)

    badge, setup = notebook["cells"][0], notebook["cells"][1]
    colab = f"https://colab.research.google.com/github/{url.removeprefix('https://github.com/')}/blob/v{version}/"
    # the notebook the book's launch button opens: notebooks/<page path>.ipynb
    page = path.relative_to(REPO).as_posix()
    assert f'href="{colab}notebooks/{page}"' in _text(
        badge
    ) and "colab-badge.svg" in _text(badge)
    assert f"`{page}`" in _text(badge)
    assert (
        f'%pip install --quiet "gan-teach @ git+{url}@v{version}"'
        in _text(setup)
    )
    assert "gan_teach.get_device()" in _text(setup)
    assert notebook["metadata"]["accelerator"] == "GPU"
    expected = {
        "chapter": path.stem,
        "edition": "notebook",
        "version": version,
    }
    if language == "zh":
        expected["language"] = "zh-CN"
    assert notebook["metadata"]["gan_teach"] == expected
    if (
        language == "zh"
    ):  # the badge's sentence and the set-up cell's comments and messages are Chinese
        for text in (_text(badge), _text(setup)):
            assert not re.search(
                r"\b(the|notebook edition|Solutions|Set-up|install it|No GPU)\b",
                text,
            ), text
        assert "在 Colab 中打开" in _text(badge) and "笔记本版" in _text(
            badge
        )
        assert "更改运行时类型" in _text(setup) and "没有找到 GPU" in _text(
            setup
        )
        assert f"本笔记本是为 gan-teach {version} 制作的" in _text(setup)

    # The book's own install line (unpinned) is replaced; every other line of code is the book's.
    book_code = [
        _text(cell) for cell in book["cells"] if cell["cell_type"] == "code"
    ]
    assert f'"gan-teach @ git+{url}"' in book_code[0], (
        f"{page} installs from another address than its config"
    )
    edition_code = [
        _text(cell)
        for cell in notebook["cells"][2:]
        if cell["cell_type"] == "code"
    ]
    assert len(edition_code) == len(book_code)
    for ours, theirs in zip(edition_code, book_code):
        if ours.startswith("#@title "):
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


def _chinese_chapter(stem: str) -> str:
    if not (EDITION_ZH / f"{stem}.ipynb").exists():
        pytest.skip(f"book/zh/{stem}.ipynb is not translated yet")
    return "\n".join(
        _text(c) for c in _load(EDITION_ZH / f"{stem}.ipynb")["cells"]
    )


def test_the_chinese_edition_writes_chinese_headings_and_numbers(
    edition_zh,
):
    """Exercises, solutions, theorems, proofs and the references are named as the Chinese book names them."""
    math = _chinese_chapter("math")
    assert (
        "# 5. 数学模型和公式详细讲解举例说明" in math
    )  # its number, its Chinese title
    assert "### 练习 5.1（原文的博弈）" in math
    assert "<summary>练习 5.1 的解答（原文的博弈）</summary>" in math
    assert (
        "#@title 练习 5.2 的解答（两个高斯分布的最优判别器）：代码（双击显示）"
        in math
    )
    assert "**定理 5.1**（最优判别器）。" in math
    assert "*证明。*" in math and "*Proof.*" not in math
    assert "\\tag{5.2}" in math
    assert (
        "## 参考文献\n\n- Arjovsky and Bottou, 2017. Martin Arjovsky"
        in math
    )
    assert (
        "(Goodfellow et al., 2014)" in math
    )  # citations stay author-year, in Latin
    for english in (
        "### Exercise",
        "Solution to",
        "**Theorem",
        "## References",
    ):
        assert english not in math, english
    assert "> **备注。**" in _chinese_chapter("lab")
    assert edition_zh.targets["thm-optimal-discriminator"] == "定理 5.1"


def test_a_chinese_page_links_to_chinese_pages_and_to_english_ones_not_translated_yet(
    edition_zh,
):
    """{doc} becomes the Chinese page's title and edition; a page not in book/zh yet, the English one's, marked."""
    version = edition_zh.release
    github = f"https://github.com/{edition_zh.owner_and_name}"
    colab = f"https://colab.research.google.com/github/{edition_zh.owner_and_name}/blob/{version}/notebooks"
    seen = 0
    for path in BOOK_ZH:
        book = "\n".join(
            _text(c)
            for c in _load(path)["cells"]
            if c["cell_type"] == "markdown"
        )
        out = "\n".join(
            _text(c) for c in _load(EDITION_ZH / path.name)["cells"]
        )
        for page in set(re.findall(r"\{doc\}`([^`<>]+)`", book)):
            seen += 1
            if (REPO / "book" / "zh" / f"{page}.ipynb").exists():
                link = f"]({colab}/book/zh/{page}.ipynb)"
                title = edition_zh.titles[page]
            elif (REPO / "book" / "zh" / f"{page}.md").exists():
                link = f"]({github}/blob/{version}/book/zh/{page}.md)"
                title = edition_zh.titles[page]
            else:
                link = (
                    f"]({colab}/book/{page}.ipynb)"
                    if (REPO / "book" / f"{page}.ipynb").exists()
                    else f"]({github}/blob/{version}/book/{page}.md)"
                )
                title = edition_zh.titles[page] + "（英文）"
            assert f"[{title}{link}" in out, (path.name, page)
    assert seen
    lab = _chinese_chapter("lab")
    assert (
        f"[核心算法原理具体操作步骤]({colab}/book/zh/algorithm.ipynb)"
        in lab
    )


def test_the_chinese_literalincludes_are_resolved_from_book_zh():
    import inspect

    from gan_teach.train import train_step

    algorithm = _chinese_chapter("algorithm")
    assert (
        "*摘自 `gan_teach/train.py` 中的 `train_step`：*\n\n```python\n"
        + inspect.getsource(train_step).rstrip()
        in algorithm
    )


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
    exercise = next(  # a label the book gives an exercise
        label
        for label, target in edition.targets.items()
        if target.startswith("Exercise ")
    )
    with pytest.raises(MystLeftError, match="never ends"):
        convert_notebook(
            chapter(
                "```{solution-start} "
                + exercise
                + "\n:class: dropdown\n```\nWhy."
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
    with pytest.raises(MystLeftError, match="no exercise is labelled so"):
        convert_notebook(
            chapter(
                "```{solution-start} ex-nowhere\n```\nWhy.\n```{solution-end}\n```"
            ),
            "x",
            edition,
        )


def test_the_chinese_edition_refuses_what_it_cannot_name(edition_zh):
    """A kind without a Chinese name in the table, or a language without a table, is an error that says where to add it."""
    from gan_teach.course.edition import LANGUAGES

    chapter = {
        "cells": [
            {
                "cell_type": "markdown",
                "metadata": {},
                "source": "# 标题\n\n```{prf:lemmata}\n正文\n```",
            },
            {
                "cell_type": "code",
                "metadata": {},
                "outputs": [],
                "source": "try:\n    import gan_teach\nexcept ImportError:\n    %pip install --quiet "
                f'"gan-teach @ git+{edition_zh.repository_url}"\n    import gan_teach\n',
            },
        ],
        "metadata": {},
    }
    with pytest.raises(
        MystLeftError,
        match="add it to the kinds of the 'zh' entry of LANGUAGES",
    ):
        convert_notebook(chapter, "x", edition_zh)
    chapter["cells"][0]["source"] = (
        "# 标题\n\n```{prf:lemma} 一个引理\n正文\n```\n\n```{note}\n注意这里。\n```"
    )
    converted = _text(
        convert_notebook(chapter, "x", edition_zh)["cells"][2]
    )
    assert (
        "**引理**（一个引理）。" in converted
        and "> **备注。** 注意这里。" in converted
    )
    assert set(LANGUAGES["zh"].kinds) == set(LANGUAGES["en"].kinds)
    with pytest.raises(ValueError, match="no language 'fr'"):
        Edition.from_repository(REPO, "fr")
    with pytest.raises(ValueError, match="no language 'fr'"):
        make_notebook_edition(REPO, REPO / "nowhere", ["fr"])


def test_the_edition_is_valid_nbformat_with_unique_cell_ids():
    import nbformat

    for _, _, out in CHAPTERS:
        notebook = nbformat.read(out, as_version=4)
        nbformat.validate(notebook)
        ids = [cell.id for cell in notebook.cells]
        assert len(ids) == len(set(ids)), out


@pytest.mark.parametrize(
    ("config_name", "toc_name", "book"),
    [
        ("_config.yml", "_toc.yml", BOOK),
        ("_config.zh.yml", "_toc.zh.yml", BOOK_ZH),
    ],
    ids=["en", "zh"],
)
def test_the_launch_buttons_open_the_edition(config_name, toc_name, book):
    """sphinx-book-theme opens <repository.path_to_book>/<page>.ipynb; for every chapter that is the edition."""
    config = yaml.safe_load(
        (REPO / config_name).read_text(encoding="utf-8")
    )
    toc = yaml.safe_load((REPO / toc_name).read_text(encoding="utf-8"))
    pages = [toc["root"]] + [
        chapter["file"]
        for part in toc["parts"]
        for chapter in part["chapters"]
    ]
    notebooks = [
        page for page in pages if (REPO / f"{page}.ipynb").exists()
    ]
    assert len(notebooks) == len(book)
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
