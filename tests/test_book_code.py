"""The code the book shows: the library's by ``{literalinclude}``, and its notebooks' cells.

Each ``:pyobject:`` block must name a definition that is in the file (a move or rename would
otherwise break the book at build time), and its lines must fit the code column (ruff's
line-length, 76: what the rendered column holds at 1280 px; the browser test
measures it). Every code cell of the chapters (and of their notebook edition) fits its
column too, and carries nbval's markers as cell tags, never as comments a reader sees.
"""

from __future__ import annotations

import ast
import json
import re
import unicodedata
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
EDITION = ROOT / "notebooks" / "book"
WIDTH = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"][
    "ruff"
]["line-length"]
# The code columns at 1280 px, measured in headless Chromium (14 px DejaVu Sans Mono,
# 8.43 px a character): an included block's <pre> leaves 642 px (76.2 characters);
# a notebook cell's frame (3 + 1 px of border) leaves 640 px (75.9); a cell inside a
# solution's dropdown, with the admonition's padding, 618 px (73.3).
CELL_WIDTH = 75
SOLUTION_WIDTH = 73
SOLUTION_START = re.compile(r"^(`{3,}|:{3,})\{solution-start\}", re.M)
SOLUTION_END = re.compile(r"^(`{3,}|:{3,})\{solution-end\}", re.M)
INCLUDE = re.compile(r"```\{literalinclude\}\s+(\S+)\s*\n((?::\w+:.*\n)*)")


def _book_texts() -> dict[str, str]:
    texts = {}
    for path in sorted(BOOK.glob("*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        texts[path.name] = "\n".join(
            "".join(cell["source"]) + "\n" for cell in cells
        )
    for path in sorted(BOOK.glob("*.md")):
        texts[path.name] = path.read_text()
    return texts


def _includes() -> list[tuple[str, str, str]]:
    found = []
    for page, text in _book_texts().items():
        for match in INCLUDE.finditer(text):
            options = dict(re.findall(r":(\w+):\s*(.*)", match.group(2)))
            found.append(
                (page, match.group(1), options.get("pyobject", ""))
            )
    return found


def _definition_source(path: Path, dotted: str) -> str:
    source = path.read_text()
    body = ast.parse(source).body
    node = None
    for name in dotted.split("."):
        node = next(
            (n for n in body if getattr(n, "name", None) == name), None
        )
        if node is None:
            return ""
        body = getattr(node, "body", [])
    start = min(
        [node.lineno]
        + [d.lineno for d in getattr(node, "decorator_list", [])]
    )
    return "\n".join(source.splitlines()[start - 1 : node.end_lineno])


INCLUDES = _includes()


def test_the_book_includes_library_code():
    assert len(INCLUDES) >= 10


@pytest.mark.parametrize(
    "page,target,pyobject",
    INCLUDES,
    ids=[f"{p}:{o}" for p, _, o in INCLUDES],
)
def test_included_code_exists_and_fits_the_page(page, target, pyobject):
    path = (BOOK / target).resolve()
    assert path.is_file(), f"{page} includes {target}, which does not exist"
    if not pyobject:
        return
    source = _definition_source(path, pyobject)
    assert source, (
        f"{page} includes {pyobject} from {target}, which does not define it"
    )
    wide = [line for line in source.splitlines() if len(line) > WIDTH]
    assert wide == [], (
        f"{pyobject} ({target}) has lines wider than {WIDTH}: {wide}"
    )


def test_the_algorithm_chapter_shows_the_two_blocks_without_excuses():
    text = _book_texts()["algorithm.ipynb"]
    shown = {
        pyobject
        for page, _, pyobject in INCLUDES
        if page == "algorithm.ipynb"
    }
    assert {"discriminator_step", "generator_step", "train_step"} <= shown
    assert "_conditioned" not in text and "_optimizer_step" not in text
    tree = ast.parse((ROOT / "gan_teach" / "train.py").read_text())
    for node in tree.body:
        if getattr(node, "name", None) in (
            "discriminator_step",
            "generator_step",
        ):
            body_start = node.body[1].lineno  # after the docstring
            assert node.end_lineno - body_start + 1 <= 20, (
                f"{node.name}: keep it the paper's short block"
            )
            segment = ast.get_source_segment(
                (ROOT / "gan_teach" / "train.py").read_text(), node
            )
            assert len(re.findall(r"# \(\d\) Update", segment)) == 1, (
                f"{node.name}: one numbered banner"
            )


def _columns(line: str) -> int:
    """The width of a line in a monospace font: wide (CJK) characters take two columns."""
    return sum(
        2 if unicodedata.east_asian_width(character) in "WF" else 1
        for character in line
    )


def _code_cells(path: Path) -> list[tuple[int, dict, str, int]]:
    """Each code cell: its index, the cell, its text, and the column it shows in."""
    found, in_solution = [], False
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    for index, cell in enumerate(cells):
        text = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            marks = [
                (m.start(), True) for m in SOLUTION_START.finditer(text)
            ]
            marks += [
                (m.start(), False) for m in SOLUTION_END.finditer(text)
            ]
            in_solution = max(marks)[1] if marks else in_solution
        elif cell["cell_type"] == "code":
            width = SOLUTION_WIDTH if in_solution else CELL_WIDTH
            found.append((index, cell, text, width))
    return found


def _edition_generated(text: str) -> bool:
    """The edition's own set-up cell, made for Colab and Jupyter (whose code column is
    the window's width), not for the HTML book."""
    return text.startswith(
        ("# Set-up for Colab and Jupyter", "# Colab 和 Jupyter 的准备工作")
    )


# the chapters, and their Chinese translations (book/zh), whose code is the same but whose
# comments and strings are Chinese: two columns a character
CHAPTERS = sorted(BOOK.glob("*.ipynb")) + sorted(BOOK.glob("zh/*.ipynb"))


@pytest.mark.parametrize(
    "path",
    CHAPTERS
    + sorted(EDITION.glob("*.ipynb"))
    + sorted(EDITION.glob("zh/*.ipynb")),
    ids=lambda path: str(path.relative_to(ROOT)),
)
def test_every_code_cell_fits_the_column(path):
    wide = [
        f"cell {index} ({_columns(line)} columns of {width}): {line}"
        for index, cell, text, width in _code_cells(path)
        if not _edition_generated(text)
        for line in text.split("\n")
        # Colab shows a solution's "#@title" line as a form's heading, not as code
        if not line.startswith("#@title ") and _columns(line) > width
    ]
    assert wide == [], (
        f"{path.relative_to(ROOT)}: code lines wider than the book's code "
        f"column ({CELL_WIDTH} columns at 1280 px, {SOLUTION_WIDTH} in a "
        "solution) scroll sideways; wrap them (ruff format --line-length; "
        "long strings as implicit concatenation, long comments on their own "
        "lines):\n" + "\n".join(wide)
    )


@pytest.mark.parametrize(
    "path", CHAPTERS, ids=lambda path: str(path.relative_to(ROOT))
)
def test_nbval_markers_are_tags_not_comments(path):
    from nbval.plugin import comment_markers, metadata_tags

    checked = 0
    for index, cell, text, _ in _code_cells(path):
        markers = [
            line.strip()
            for line in text.split("\n")
            if line.strip().startswith("#")
            and line.strip().lstrip("#").strip() in comment_markers
        ]
        assert markers == [], (
            f"{path.name}, cell {index}: {markers} is printed on the page; "
            "give the cell the tag nbval reads instead (e.g. "
            "nbval-check-output)"
        )
        tags = cell["metadata"].get("tags", [])
        unknown = [
            tag
            for tag in tags
            if tag.startswith("nbval") and tag not in metadata_tags
        ]
        assert unknown == [], (
            f"{path.name}, cell {index}: nbval reads none of {unknown}; "
            f"its tags are {sorted(metadata_tags)}"
        )
        checked += "nbval-check-output" in tags
    assert checked >= 1, (
        f"{path.name}: no cell tagged nbval-check-output, so nbval "
        "(--nbval-lax) compares none of its outputs"
    )
