"""The student edition: `make student` removes every solution and keeps every exercise, starter cell and check."""

import ast
import json
import re
import subprocess
from pathlib import Path

import pytest

from gan_teach.course.registry import CHAPTERS, CODE_EXERCISES
from gan_teach.course.student import SolutionBlockError, strip_solutions

REPO = Path(__file__).resolve().parents[2]
BOOK = REPO / "book"
NOTEBOOKS = sorted(BOOK.glob("*.ipynb"))
EXERCISE_LABEL = re.compile(r"```\{exercise\}[^\n]*\n:label: (\S+)")
SOLUTION_LABEL = re.compile(r"```\{solution-start\} (\S+)")


def _source(cell) -> str:
    return (
        "".join(cell["source"])
        if isinstance(cell["source"], list)
        else cell["source"]
    )


def _cells_with_solution_flag(notebook):
    """Each cell of a book notebook, with whether it lies inside a solution block (by the markup)."""
    depth = 0
    for cell in notebook["cells"]:
        text = _source(cell)
        starts, ends = (
            text.count("{solution-start}"),
            text.count("{solution-end}"),
        )
        yield cell, depth > 0 or starts > 0
        depth += starts - ends


def _markdown(cells) -> str:
    return "\n".join(
        _source(cell) for cell in cells if cell["cell_type"] == "markdown"
    )


def _cell(kind: str, text: str) -> dict:
    return {
        "cell_type": kind,
        "source": text,
        **({"outputs": []} if kind == "code" else {}),
    }


START = "```{solution-start} ex-a\n:class: dropdown\n```\n"
END = "```{solution-end}\n```"


def test_a_block_across_cells_is_removed_with_its_code():
    cells = [
        _cell("markdown", "```{exercise} A\n:label: ex-a\n\nDo it.\n```"),
        _cell("code", "starter()"),
        _cell("markdown", START),
        _cell("code", "answer = 1"),
        _cell("markdown", "Because."),
        _cell("markdown", END),
        _cell("markdown", "After."),
    ]
    notebook, removed = strip_solutions({"cells": cells})
    assert removed == 1
    assert [_source(cell) for cell in notebook["cells"]] == [
        cells[0]["source"],
        "starter()",
        "After.",
    ]


def test_a_block_inside_one_cell_keeps_the_text_around_it():
    text = (
        "Before.\n\n" + START + "The answer is 42.\n\n" + END + "\n\nAfter."
    )
    notebook, removed = strip_solutions(
        {"cells": [_cell("markdown", text)]}
    )
    assert removed == 1
    kept = _source(notebook["cells"][0])
    assert (
        kept.startswith("Before.")
        and kept.endswith("After.")
        and "42" not in kept
        and "solution" not in kept
    )


def test_two_blocks_and_a_block_that_ends_in_a_later_cell_with_text():
    cells = [
        _cell(
            "markdown", START + "one\n" + END + "\nkept\n" + START + "two"
        ),
        _cell("code", "secret = 2"),
        _cell("markdown", END + "\ntail"),
    ]
    notebook, removed = strip_solutions({"cells": cells})
    assert removed == 2
    assert [_source(cell) for cell in notebook["cells"]] == ["kept", "tail"]


def test_broken_markup_is_refused_with_the_cell():
    with pytest.raises(SolutionBlockError, match="never ends"):
        strip_solutions(
            {"cells": [_cell("markdown", START), _cell("code", "x = 1")]},
            name="a.ipynb",
        )
    with pytest.raises(
        SolutionBlockError,
        match="cell 0: a solution-end without a solution-start",
    ):
        strip_solutions({"cells": [_cell("markdown", END)]})


def test_registry_matches_the_starter_cells_of_the_book():
    found = set()
    for path in NOTEBOOKS:
        notebook = json.loads(path.read_text(encoding="utf-8"))
        label = None
        for cell, in_solution in _cells_with_solution_flag(notebook):
            text = _source(cell)
            if match := EXERCISE_LABEL.search(text):
                label = match.group(1)
            if cell["cell_type"] == "code" and not in_solution:
                # an exercise's check, imported on one line or in parentheses
                for module, check in re.findall(
                    r"from (\S+\.checks\.\w+) import \(?\s*(check_\w+)",
                    text,
                ):
                    call = re.search(check + r"\(\s*(\w+)", text)
                    function = call.group(1)
                    found.add(
                        (path.stem, label, function, f"{module}:{check}")
                    )
    registered = {
        (e.chapter, e.label, e.function_name, e.check_path)
        for e in CODE_EXERCISES
    }
    assert found == registered, (
        f"book only: {found - registered}; registry only: {registered - found}"
    )
    assert {e.chapter for e in CODE_EXERCISES} <= set(CHAPTERS)
    for exercise in CODE_EXERCISES:
        assert callable(exercise.check())


def _names(code: str) -> tuple[set[str], set[str]]:
    """Names a code cell defines and names it reads (IPython magics dropped, with
    the lines a magic continues on after a backslash)."""
    kept, continued = [], False
    for line in code.splitlines():
        magic = continued or line.lstrip().startswith(("%", "!"))
        continued = magic and line.rstrip().endswith("\\")
        if not magic:
            kept.append(line)
    tree = ast.parse("\n".join(kept))
    defined, read = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(
            node, ast.arg
        ):  # a parameter: defined inside its function
            defined.add(node.arg)
        elif isinstance(node, ast.Name):
            (defined if isinstance(node.ctx, ast.Store) else read).add(
                node.id
            )
        elif isinstance(node, ast.alias):
            defined.add((node.asname or node.name).split(".")[0])
    return defined, read


@pytest.fixture(scope="module")
def student_edition(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    result = subprocess.run(
        ["make", "--no-print-directory", "student", f"STUDENT_DIR={out}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def test_make_student_removes_every_solution_and_keeps_every_exercise(
    student_edition,
):
    for path in NOTEBOOKS:
        original = json.loads(path.read_text(encoding="utf-8"))
        student = json.loads(
            (student_edition / path.name).read_text(encoding="utf-8")
        )
        assert student["metadata"]["gan_teach"] == {
            "chapter": path.stem,
            "edition": "student",
        }
        text = _markdown(student["cells"]) + "\n".join(
            _source(c) for c in student["cells"] if c["cell_type"] == "code"
        )
        assert (
            "{solution-start}" not in text and "{solution-end}" not in text
        ), path.name

        solution_code = [
            _source(c)
            for c, inside in _cells_with_solution_flag(original)
            if inside and c["cell_type"] == "code"
        ]
        student_code = [
            _source(c) for c in student["cells"] if c["cell_type"] == "code"
        ]
        assert not set(solution_code) & set(student_code), (
            f"{path.name}: a solution's code survived"
        )
        kept_code = [
            _source(c)
            for c, inside in _cells_with_solution_flag(original)
            if not inside and c["cell_type"] == "code"
        ]
        assert student_code == kept_code, (
            f"{path.name}: a code cell outside the solutions was lost"
        )

        assert EXERCISE_LABEL.findall(
            _markdown(student["cells"])
        ) == EXERCISE_LABEL.findall(_markdown(original["cells"]))
        if path.stem in CHAPTERS:
            assert (
                len(SOLUTION_LABEL.findall(_markdown(original["cells"])))
                >= 3
            ), f"{path.name}: solutions expected"
            for exercise in [
                e for e in CODE_EXERCISES if e.chapter == path.stem
            ]:
                assert any(
                    exercise.check_path.split(":")[1]
                    + "("
                    + exercise.function_name
                    in code
                    for code in student_code
                )
    assert (
        student_edition / "figures" / "practice-mnist-recipe.png"
    ).exists()  # the pictures the text shows


def test_no_kept_cell_needs_a_name_only_a_solution_defined():
    """A student's notebook must not stop with a NameError because a solution cell was removed."""
    for path in NOTEBOOKS:
        original = json.loads(path.read_text(encoding="utf-8"))
        defined_by_kept, defined_by_solutions = set(), set()
        for cell, inside in _cells_with_solution_flag(original):
            if cell["cell_type"] != "code":
                continue
            defined, read = _names(_source(cell))
            if inside:
                defined_by_solutions |= defined
                continue
            missing = (
                (read & defined_by_solutions) - defined_by_kept - defined
            )
            assert not missing, (
                f"{path.name}: a cell reads {sorted(missing)}, defined only in a solution"
            )
            defined_by_kept |= defined


CHINESE_NOTEBOOKS = sorted((BOOK / "zh").glob("*.ipynb"))


@pytest.mark.parametrize(
    "path", CHINESE_NOTEBOOKS, ids=lambda path: path.stem
)
def test_the_chinese_student_edition_is_the_english_one_translated(
    student_edition, path
):
    """`make student` writes book/zh's student edition to STUDENT_DIR/zh: the same exercises and labels, the
    same solutions removed, the same code left for the student (comments and printed text aside), and the
    chapter named in the metadata as the English twin's, so the grader runs the same checks on it."""
    from gan_teach.course.translation import code_differences

    english = json.loads(
        (student_edition / path.name).read_text(encoding="utf-8")
    )
    chinese = json.loads(
        (student_edition / "zh" / path.name).read_text(encoding="utf-8")
    )
    assert (
        chinese["metadata"]["gan_teach"]
        == english["metadata"]["gan_teach"]
        == {
            "chapter": path.stem,
            "edition": "student",
        }
    )
    assert EXERCISE_LABEL.findall(
        _markdown(chinese["cells"])
    ) == EXERCISE_LABEL.findall(_markdown(english["cells"]))
    assert "{solution-start}" not in _markdown(chinese["cells"])
    assert code_differences(english, chinese) == [], (
        f"zh/{path.name}: the student's code differs"
    )
