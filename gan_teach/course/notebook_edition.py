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

The Chinese edition (``book/zh/x.ipynb``, built with ``_config.zh.yml`` and ``_toc.zh.yml``) is converted
the same way into ``notebooks/book/zh/x.ipynb``, with its numbers, titles and paths, and every text written
above in Chinese ("练习 5.1（标题）", "练习 5.1 的解答", "参考文献"...): the words of each language are one
:class:`~gan_teach.course.edition.EditionLanguage` in
:data:`~gan_teach.course.edition.LANGUAGES`. A page not translated yet is linked in English.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from .edition import (
    EDITION_FOLDER,
    LANGUAGES,
    Edition,
    MystLeftError,
    cell_text,
)
from .myst_markdown import citation_label, convert_markdown

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
    language, version = edition.language, edition.version
    requirement = (
        f"gan-teach @ git+{edition.repository_url}@{edition.release}"
    )
    wrong_version = language.wrong_version.format(
        version=version, requirement=requirement
    )
    source = (
        language.setup_comment.format(version=version) + "try:\n"
        "    import gan_teach\n"
        "except ImportError:\n"
        f'    %pip install --quiet "{requirement}"{extra}\n'
        "    import gan_teach\n"
        f"{language.after_install}"
        "\n"
        f"device = gan_teach.get_device()  # {language.device_comment}\n"
        f'print(f"{language.running}")\n'
        'if device.type == "cpu":\n'
        f'    print("{language.no_gpu}")\n'
        f'if gan_teach.__version__ != "{version}":\n'
        f'    print("{wrong_version}")'
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

    The chapter is ``<edition.language.book>/<stem>.ipynb``: its texts, numbers and links are those of
    ``edition.language`` (:meth:`~gan_teach.course.edition.Edition.from_repository` reads the book of one language).

    Raises:
        MystLeftError: the chapter uses markup the edition cannot convert, a solution never ends, or a
            solution's label names no exercise.
        ValueError: the chapter's install cell is missing, doubled, or installs from another address.
    """
    language = edition.language
    page = f"{language.book}/{stem}.ipynb"
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
                        f"{page}, cell {index}: installs from {install.group('url')}, but "
                        f"{language.config}'s repository.url is {edition.repository_url}; make them agree"
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
                    "#@title "
                    + language.solution_code.format(solution=solution)
                    + "\n"
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
                if label not in edition.targets:
                    raise MystLeftError(
                        f"{stem}, cell {index}: a solution to {label!r}, but no exercise is "
                        f"labelled so (:label: {label} under an {{exercise}})"
                    )
                solution = language.with_title(
                    language.solution.format(
                        exercise=edition.targets[label]
                    ),
                    exercise_of.get(label, ""),
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
            f"{page}: expected one install cell (try: import gan_teach / except ImportError: "
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
        f'src="https://colab.research.google.com/assets/colab-badge.svg" alt="{language.badge_alt}"/></a>\n\n'
        f"*{language.badge.format(version=edition.version, source=page)}*"
    )
    cells.insert(0, _markdown_cell(badge, "edition-badge"))
    cells.insert(1, _setup_cell(edition, extra))
    if cited:
        cells.append(
            _markdown_cell(
                f"## {language.references}\n\n"
                + references_markdown(edition, cited),
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
    if language.tag:
        metadata["gan_teach"]["language"] = language.tag
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
    root: str | Path = ".",
    out: str | Path | None = None,
    languages: Sequence[str] = tuple(LANGUAGES),
) -> dict[str, Path]:
    """Write the edition of every chapter of each language: ``root/book/x.ipynb`` to ``out/book/x.ipynb``,
    ``root/book/zh/x.ipynb`` to ``out/book/zh/x.ipynb`` (``out``: default ``root/notebooks``).

    Args:
        root: the repository.
        out: the folder of the edition.
        languages: the keys of :data:`~gan_teach.course.edition.LANGUAGES` to write; a language whose folder (``book/zh``) does not
            exist is skipped.

    Returns:
        The path written for each chapter, by its page name (``book/math``, ``book/zh/math``). Files of
        chapters that no longer exist are removed.
    """
    root = Path(root)
    out = Path(out) if out is not None else root / EDITION_FOLDER
    unknown = [code for code in languages if code not in LANGUAGES]
    if unknown:  # before anything is written
        raise ValueError(
            f"the notebook edition has no language {unknown[0]!r}; it knows "
            f"{', '.join(LANGUAGES)} (LANGUAGES in gan_teach/course/edition.py)"
        )
    written: dict[str, Path] = {}
    for code in languages:
        if not (root / LANGUAGES[code].book).is_dir():
            continue
        edition = Edition.from_repository(root, code)
        folder = out / edition.language.book
        folder.mkdir(parents=True, exist_ok=True)
        chapters = set()
        for path in sorted(edition.book.glob("*.ipynb")):
            notebook = json.loads(path.read_text(encoding="utf-8"))
            converted = convert_notebook(notebook, path.stem, edition)
            target = folder / path.name
            target.write_text(_dumps(converted), encoding="utf-8")
            written[f"{edition.language.book}/{path.stem}"] = target
            chapters.add(path.stem)
        for stale in folder.glob("*.ipynb"):
            if stale.stem not in chapters:
                stale.unlink()
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m gan_teach.course.notebook_edition [--root .] [--out notebooks] [--language en|zh ...]``."""
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
    parser.add_argument(
        "--language",
        action="append",
        choices=list(LANGUAGES),
        help="write only this language's edition (repeatable); default: all of them",
    )
    args = parser.parse_args(argv)
    try:
        written = make_notebook_edition(
            args.root, args.out, args.language or tuple(LANGUAGES)
        )
    except (MystLeftError, ValueError, FileNotFoundError) as error:
        print(f"notebook edition: {error}", file=sys.stderr)
        return 1
    if not written:
        print(
            f"notebook edition: no chapters found in {args.root}",
            file=sys.stderr,
        )
        return 1
    folders: dict[Path, int] = {}
    for path in written.values():
        folders[path.parent] = folders.get(path.parent, 0) + 1
    for folder, count in folders.items():
        print(f"wrote {count} notebooks to {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
