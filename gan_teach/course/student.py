"""The student edition: the book's notebooks with every solution removed, everything else kept.

A solution in the book is a sphinx-exercise block: a markdown cell that opens it with a
``{solution-start} LABEL`` fence (and options such as ``:class: dropdown``), the solution's
markdown and code cells, and a markdown cell with a ``{solution-end}`` fence. The whole block can also
sit inside one markdown cell. :func:`strip_solutions` drops every such block and keeps the rest: the
exercise prompts, the starter cells and the checks, so that the notebook still runs top to bottom
(each starter cell's check says "Not yet" until the student writes the answer).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

__all__ = ["strip_solutions", "make_student_edition", "SolutionBlockError"]

# The opening directive: its first line, then any ":option: value" lines, then the closing fence.
_START = re.compile(
    r"^```\{solution-start\}[^\n]*\n(?:[ \t]*:[^\n]*\n)*[ \t]*```[ \t]*$\n?",
    re.MULTILINE,
)
_END = re.compile(
    r"^```\{solution-end\}[^\n]*\n[ \t]*```[ \t]*$\n?", re.MULTILINE
)


class SolutionBlockError(ValueError):
    """A solution block that never ends (or ends without starting): the notebook's markup is broken."""


def _source(cell: Any) -> str:
    source = cell["source"]
    return "".join(source) if isinstance(source, list) else source


def strip_solutions(
    notebook: Any, name: str = "notebook"
) -> tuple[Any, int]:
    """Remove every solution block from a notebook (an ``nbformat`` node or a plain dict), in place.

    Args:
        notebook: the notebook; its ``cells`` are replaced.
        name: how to call the notebook in error messages.

    Returns:
        ``(notebook, number of solution blocks removed)``.

    >>> cells = [{"cell_type": "markdown", "source": "Prompt."},
    ...          {"cell_type": "markdown", "source": "```{solution-start} ex-a\\n:class: dropdown\\n```\\nWhy."},
    ...          {"cell_type": "code", "source": "answer = 42", "outputs": []},
    ...          {"cell_type": "markdown", "source": "```{solution-end}\\n```"}]
    >>> stripped, count = strip_solutions({"cells": cells})
    >>> count, [cell["source"] for cell in stripped["cells"]]
    (1, ['Prompt.'])
    """
    kept: list[Any] = []
    inside_since: int | None = (
        None  # index of the cell that opened the current block
    )
    removed = 0
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "markdown":
            if inside_since is None:
                kept.append(cell)
            continue
        text, pieces = _source(cell), []
        position = 0
        while True:
            if inside_since is None:
                start = _START.search(text, position)
                if start is None:
                    if _END.search(text, position):
                        raise SolutionBlockError(
                            f"{name}, cell {index}: a solution-end without a solution-start"
                        )
                    pieces.append(text[position:])
                    break
                pieces.append(text[position : start.start()])
                inside_since, position = index, start.end()
            else:
                end = _END.search(text, position)
                if end is None:
                    break  # the block goes on in the next cells
                inside_since, position = None, end.end()
                removed += 1
        remaining = "".join(pieces)
        if remaining.strip():
            cell["source"] = remaining.strip("\n")
            kept.append(cell)
    if inside_since is not None:
        raise SolutionBlockError(
            f"{name}: the solution opened in cell {inside_since} never ends (no solution-end)"
        )
    notebook["cells"] = kept
    return notebook, removed


def _check_apart(book: Path, out: Path) -> None:
    """Refuse an ``out`` that is the book, lies in it, or holds it, before anything is written."""
    book_folder, out_folder = book.resolve(), out.resolve()
    if out_folder == book_folder or book_folder in out_folder.parents:
        raise ValueError(
            f"--out {out} is the book's folder {book} or inside it: the "
            "student edition would replace the book's notebooks and erase "
            "their solutions. Choose a folder outside the book, e.g. "
            "_build/student"
        )
    if out_folder in book_folder.parents:
        raise ValueError(
            f"--book {book} lies inside --out {out}: the student edition "
            "would be written around the book. Choose an --out that does "
            "not hold the book, e.g. _build/student"
        )


def make_student_edition(
    book: str | Path = "book", out: str | Path = "_build/student"
) -> dict[str, int]:
    """Write the student edition of every notebook in ``book`` to ``out``, with the book's figures.

    Each notebook keeps its stored outputs (figures, printed results) except those of removed cells, and
    gains ``metadata["gan_teach"] = {"chapter": NAME, "edition": "student"}``, which the grader reads.
    Markdown pages (glossary, ...) and the ``figures`` folder are copied as they are.

    Args:
        book: the folder of the chapter notebooks.
        out: the folder to write; created if needed, and its notebooks are replaced. It must
            lie outside ``book`` (writing into the book would erase its solutions).

    Returns:
        The number of solution blocks removed from each notebook, by notebook name.

    Raises:
        ValueError: ``out`` is ``book``, inside it, or holds it (symbolic links followed);
            nothing is written.
    """
    import nbformat

    book, out = Path(book), Path(out)
    _check_apart(book, out)
    notebooks = sorted(book.glob("*.ipynb"))
    if not notebooks:
        raise FileNotFoundError(
            f"no notebooks in {book}: pass the book's folder (the one with intro.ipynb)"
        )
    out.mkdir(parents=True, exist_ok=True)
    removed: dict[str, int] = {}
    for path in notebooks:
        notebook = nbformat.read(path, as_version=4)
        notebook, removed[path.stem] = strip_solutions(
            notebook, name=path.name
        )
        notebook.metadata["gan_teach"] = {
            "chapter": path.stem,
            "edition": "student",
        }
        nbformat.write(notebook, out / path.name)
    for page in book.glob("*.md"):
        shutil.copy2(page, out / page.name)
    if (book / "figures").is_dir():
        shutil.copytree(
            book / "figures", out / "figures", dirs_exist_ok=True
        )
    return removed
