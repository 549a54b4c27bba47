"""The notebook edition: the book's chapters as notebooks that Colab and Jupyter render, generated, never edited.

The chapters in ``book/`` are written for Jupyter Book: MyST directives (``{exercise}``, ``{solution-start}``,
``{literalinclude}``, ``{prf:theorem}``, ``{figure}``) and roles (``{cite}``, ``{doc}``, ``{eq}``) that Colab
and Jupyter show as raw text, with every solution unfolded. :func:`make_notebook_edition` writes each
chapter again with that markup turned into plain Markdown:

- an exercise becomes a heading, ``Exercise 5.1 (title)``, numbered as the book numbers it;
- a solution's text goes inside ``<details><summary>Solution to Exercise 5.1 …</summary>`` (folded until
  the reader opens it); a solution's code cell is collapsed (Colab's ``cellView: form`` with a ``#@title``,
  Jupyter's ``source_hidden``) and its outputs are cleared, so the answer is shown only after a click or a run;
- ``{literalinclude}`` becomes the included code, read from the library (``:pyobject:`` as Sphinx finds it);
- ``{cite}`` becomes author-year text, and a *References* section lists the works a chapter cites;
- ``{doc}``, ``{ref}``, ``{eq}``, ``{prf:ref}`` become the chapter's title (a link) or the number the book
  prints; a labelled equation gets its number as ``\\tag``; ``{figure}`` becomes an image;
- a first markdown cell carries an "Open in Colab" badge, and a first code cell installs the release the
  edition was built from (``gan-teach @ git+<repository>@v<version>``) and picks the GPU when there is one.

The repository's address is read from ``_config.yml`` (``repository.url``), the version from
``pyproject.toml``, the chapter numbers from ``_toc.yml``. Regenerate with ``make notebooks``
(``python -m gan_teach.course.notebook_edition``); a test checks the committed edition is up to date.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from .myst_markdown import (
    EDITION_FOLDER,
    Edition,
    MystLeftError,
    cell_text,
    citation_label,
    convert_markdown,
)

__all__ = [
    "Edition",
    "convert_notebook",
    "make_notebook_edition",
    "MystLeftError",
    "main",
]

# The book's install block in each chapter's first code cell; the edition replaces it with its set-up cell.
# Anything after the library's requirement on the %pip line (other packages, pins) goes into the set-up cell too.
_INSTALL = re.compile(
    r"try:\n    import gan_teach\nexcept ImportError:[^\n]*\n"
    r"    %pip install --quiet(?: \\\n +| )"  # on one line or continued
    r"\"gan-teach @ git\+(?P<url>[^\"@]+)\"(?P<extra>[^\n]*)\n    import gan_teach\n"
)

_SOLUTION = re.compile(
    r"^(`{3,}|:{3,})\{solution-(?P<which>start|end)\}[ \t]*(?P<label>\S*)[^\n]*\n"
    r"(?:[ \t]*:[^\n]*\n)*[ \t]*\1[ \t]*$\n?",
    re.MULTILINE,
)


def _markdown_cell(source: str, cell_id: str) -> dict:
    return {
        "cell_type": "markdown",
        "id": cell_id,
        "metadata": {},
        "source": source,
    }


def _id(cell: dict) -> dict:
    return {"id": cell["id"]} if "id" in cell else {}


def _details(summary: str, body: str) -> str:
    return f"<details>\n<summary>{summary}</summary>\n\n{body.strip()}\n\n</details>"


def _setup_cell(edition: Edition, extra: str = "") -> dict:
    requirement = (
        f"gan-teach @ git+{edition.repository_url}@{edition.release}"
    )
    source = (
        f"# Set-up for Colab and Jupyter: install gan-teach {edition.version}, the release this notebook was made\n"
        "# from (unless it is installed already), and pick the GPU when there is one. On Colab, choose a GPU\n"
        "# under Runtime > Change runtime type before you run this cell.\n"
        "try:\n"
        "    import gan_teach\n"
        "except ImportError:\n"
        f'    %pip install --quiet "{requirement}"{extra}\n'
        "    import gan_teach\n"
        "\n"
        "device = gan_teach.get_device()  # CUDA, then Apple's MPS, then the CPU; the library trains on it\n"
        'print(f"gan_teach {gan_teach.__version__} on {device.type}")\n'
        'if device.type == "cpu":\n'
        '    print("No GPU found: the training runs take longer (on Colab: Runtime > Change runtime type > GPU).")\n'
        f'if gan_teach.__version__ != "{edition.version}":\n'
        f'    print("This notebook was made for gan-teach {edition.version}; '
        f'install it with: %pip install \\"{requirement}\\"")'
    )
    return {
        "cell_type": "code",
        "execution_count": None,
        "id": "edition-set-up",
        "metadata": {},
        "outputs": [],
        "source": source,
    }


def convert_notebook(notebook: dict, stem: str, edition: Edition) -> dict:
    """The edition of one chapter (a notebook as a JSON dict; the input is not changed).

    Raises:
        MystLeftError: the chapter uses markup the edition cannot convert, or a solution never ends.
    """
    source = copy.deepcopy(notebook)
    cells: list[dict] = []
    cited: list[str] = []
    solution: str | None = (
        None  # the summary of the solution we are inside, if any
    )
    installs_found, extra = (
        0,
        "",
    )  # extra: what the book installs beside the library
    exercise_of = {
        label: edition.targets.get(label + "#title", "")
        for label in edition.targets
    }
    for index, cell in enumerate(source["cells"]):
        metadata = {
            key: value
            for key, value in cell.get("metadata", {}).items()
            if key != "execution"
        }
        if cell["cell_type"] == "code":
            text = cell_text(cell)
            install = _INSTALL.search(text)
            if install:
                installs_found += 1
                extra = install.group("extra")
                if (
                    install.group("url").rstrip("/")
                    != edition.repository_url
                ):
                    raise ValueError(
                        f"book/{stem}.ipynb, cell {index}: installs from {install.group('url')}, but "
                        f"_config.yml's repository.url is {edition.repository_url}; make them agree"
                    )
                text = text.replace(install.group(0), "import gan_teach\n")
            new = {
                "cell_type": "code",
                "execution_count": cell.get("execution_count"),
                "metadata": metadata,
                "outputs": cell.get("outputs", []),
                "source": text,
                **_id(cell),
            }
            if solution is not None:
                new["source"] = (
                    f"#@title {solution}: the code (double-click to show it)\n"
                    + text
                )
                # its outputs are cleared, so nbval has nothing to compare
                tags = [
                    tag
                    for tag in metadata.get("tags", [])
                    if tag != "nbval-check-output"
                ]
                metadata.update(
                    {
                        "cellView": "form",
                        "jupyter": {
                            "source_hidden": True,
                            "outputs_hidden": True,
                        },
                    }
                )
                if "tags" in metadata:
                    metadata["tags"] = tags
                new["outputs"], new["execution_count"] = [], None
            cells.append(new)
            continue
        if cell["cell_type"] != "markdown":
            cells.append(cell)
            continue
        text, pieces, position = cell_text(cell), [], 0
        while True:
            match = _SOLUTION.search(text, position)
            chunk = text[position : match.start() if match else len(text)]
            if chunk.strip():
                converted = convert_markdown(
                    chunk.strip("\n"), edition, stem, cited
                )
                pieces.append(
                    _details(solution, converted)
                    if solution is not None
                    else converted
                )
            if match is None:
                break
            if match.group("which") == "start":
                if solution is not None:
                    raise MystLeftError(
                        f"{stem}, cell {index}: a solution starts inside another one"
                    )
                label = match.group("label")
                number = edition.targets.get(label, "the exercise")
                title = exercise_of.get(label, "")
                solution = f"Solution to {number}" + (
                    f" ({title})" if title else ""
                )
            else:
                if solution is None:
                    raise MystLeftError(
                        f"{stem}, cell {index}: a solution-end without a solution-start"
                    )
                solution = None
            position = match.end()
        if pieces:
            kept = {
                key: cell[key]
                for key in ("id", "attachments")
                if key in cell
            }
            cells.append(
                {
                    "cell_type": "markdown",
                    "metadata": metadata,
                    "source": "\n\n".join(pieces),
                    **kept,
                }
            )
    if solution is not None:
        raise MystLeftError(
            f"{stem}: a solution never ends (no solution-end)"
        )
    if installs_found != 1:
        raise ValueError(
            f"book/{stem}.ipynb: expected one install cell (try: import gan_teach / except ImportError: "
            f"%pip install ...), found {installs_found}"
        )

    if (
        stem in edition.numbers
    ):  # the book prints chapter numbers; references such as "Theorem 5.1" need them
        first = cells[0]
        first["source"] = re.sub(
            r"^# ", f"# {edition.numbers[stem]}. ", first["source"], count=1
        )
    badge = (
        f'<a href="{edition.colab_url(stem)}" target="_parent"><img '
        'src="https://colab.research.google.com/assets/colab-badge.svg" alt="Open In Colab"/></a>\n\n'
        f"*The notebook edition of gan-teach {edition.version}, made from `book/{stem}.ipynb` by `make notebooks` "
        '(do not edit it by hand). Solutions are folded: click a "Solution" line to open one; a solution\'s '
        "code cell is hidden until you double-click it, and its output appears when you run it.*"
    )
    cells.insert(0, _markdown_cell(badge, "edition-badge"))
    cells.insert(1, _setup_cell(edition, extra))
    if cited:
        cells.append(
            _markdown_cell(
                "## References\n\n" + references_markdown(edition, cited),
                "edition-references",
            )
        )

    metadata = {
        key: value
        for key, value in source.get("metadata", {}).items()
        # widget state is left out: a kernel makes its widgets afresh,
        # and state saved by ipywidgets 8 breaks a 7.x frontend's output
        if key not in ("gan_teach", "widgets")
    }
    metadata["accelerator"] = (
        "GPU"  # Colab opens it on a GPU runtime when one is free
    )
    metadata["colab"] = {
        "gpuType": "T4",
        "name": f"{stem}.ipynb",
        "provenance": [],
        "toc_visible": True,
    }
    metadata["gan_teach"] = {
        "chapter": stem,
        "edition": "notebook",
        "version": edition.version,
    }
    for cell in cells:
        cell.setdefault("metadata", {})
        if cell["cell_type"] == "code":
            cell["execution_count"] = cell.get("execution_count")
    return {
        "cells": cells,
        "metadata": metadata,
        "nbformat": 4,
        "nbformat_minor": source.get("nbformat_minor", 5),
    }


def _dumps(notebook: dict) -> str:
    return (
        json.dumps(notebook, indent=1, ensure_ascii=False, sort_keys=True)
        + "\n"
    )


def references_markdown(edition: Edition, keys: list[str]) -> str:
    """A Markdown list of the works cited (by key), sorted by author and year, as the book's bibliography formats them."""
    from pybtex.plugin import find_plugin

    style = find_plugin("pybtex.style.formatting", "unsrt")()
    backend = find_plugin("pybtex.backends", "markdown")()
    ordered = sorted(keys, key=lambda key: citation_label(edition, key))
    entries = style.format_entries(
        [edition.bibliography.entries[key] for key in ordered]
    )
    lines = []
    for key, entry in zip(ordered, entries):
        authors, year = citation_label(edition, key)
        lines.append(
            f"- {authors}, {year}. "
            + " ".join(entry.text.render(backend).split())
        )
    return "\n".join(lines)


def make_notebook_edition(
    root: str | Path = ".", out: str | Path | None = None
) -> dict[str, Path]:
    """Write the edition of every chapter in ``root/book`` to ``out/book`` (default ``root/notebooks/book``).

    Returns:
        The path written for each chapter, by chapter name. Files of chapters that no longer exist are removed.
    """
    edition = Edition.from_repository(root)
    out = Path(out) if out is not None else edition.root / EDITION_FOLDER
    folder = out / "book"
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for path in sorted((edition.root / "book").glob("*.ipynb")):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        converted = convert_notebook(notebook, path.stem, edition)
        target = folder / path.name
        target.write_text(_dumps(converted), encoding="utf-8")
        written[path.stem] = target
    for stale in folder.glob("*.ipynb"):
        if stale.stem not in written:
            stale.unlink()
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m gan_teach.course.notebook_edition [--root .] [--out notebooks]``."""
    parser = argparse.ArgumentParser(
        prog="python -m gan_teach.course.notebook_edition",
        description=__doc__.split("\n")[0],
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=Path("."),
        help="the repository (with _config.yml and book/)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"default: ROOT/{EDITION_FOLDER}",
    )
    args = parser.parse_args(argv)
    try:
        written = make_notebook_edition(args.root, args.out)
    except (MystLeftError, ValueError, FileNotFoundError) as error:
        print(f"notebook edition: {error}", file=sys.stderr)
        return 1
    print(
        f"wrote {len(written)} notebooks to {next(iter(written.values())).parent}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
