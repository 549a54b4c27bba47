"""Grade a folder of submitted notebooks: run each one, check every code exercise, write a CSV.

Each notebook is executed by a Jupyter kernel from its own folder, with a time limit per cell and, unless
asked otherwise, the book's fast mode (``GAN_TEACH_FAST=1``) so that training runs stay short. A last
cell, added by the grader, runs the check of each of the chapter's code exercises on the function the
student defined. A notebook that cannot be read, raises, hangs or kills its kernel still gets a row:
a score and a reason in words. The grader never stops at a bad submission.

Grading runs the students' code: do it in an account or container that holds nothing you would not
let that code read or change.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import ExerciseCheckError
from .registry import CHAPTERS, CODE_EXERCISES, exercises_of

__all__ = [
    "NotebookGrade",
    "run_checks",
    "detect_chapter",
    "grade_notebook",
    "grade_folder",
    "write_csv",
]

_RESULT_MARKER = "GAN_TEACH_GRADES "
_ERROR_SHOWN = 300  # characters of an error message kept in the reason


@dataclass
class NotebookGrade:
    """The outcome for one notebook.

    Attributes:
        path: the notebook.
        chapter: the book chapter it was recognised as, or None.
        status: ``ok``, ``errors`` (some cell raised), ``timeout``, ``kernel died``, ``unreadable`` or
            ``unknown chapter``.
        score: checks passed.
        max_score: the chapter's number of code exercises.
        results: exercise label -> passed.
        reason: what went wrong, in words ("" when everything passed).
    """

    path: Path
    chapter: str | None
    status: str
    score: int = 0
    max_score: int = 0
    results: dict[str, bool] = field(default_factory=dict)
    reason: str = ""


def run_checks(
    chapter: str, namespace: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """Run each code exercise's check of ``chapter`` on the student's function found in ``namespace``.

    The checks' own printing is silenced; a check that fails, or a function that crashes inside it,
    counts as not passed, with the message.

    Returns:
        label -> ``{"passed": bool, "message": str}``.

    >>> run_checks("math", {"my_optimal_discriminator": lambda p_data, p_g: p_data / (p_data + p_g)})
    {'ex-code-optimal-discriminator': {'passed': True, 'message': ''}}
    >>> run_checks("math", {})["ex-code-optimal-discriminator"]["message"]
    'my_optimal_discriminator is not defined: run the exercise cell that defines it'
    """
    results = {}
    for exercise in exercises_of(chapter):
        function = namespace.get(exercise.function_name)
        if not callable(function):
            results[exercise.label] = {
                "passed": False,
                "message": f"{exercise.function_name} is not defined: run the exercise cell that defines it",
            }
            continue
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                exercise.check()(function, raise_on_failure=True)
            results[exercise.label] = {"passed": True, "message": ""}
        except ExerciseCheckError as error:
            results[exercise.label] = {
                "passed": False,
                "message": str(error),
            }
        except Exception as error:  # noqa: BLE001 - the student's function crashed inside the check
            results[exercise.label] = {
                "passed": False,
                "message": f"{type(error).__name__}: {error}",
            }
    return results


def detect_chapter(notebook: Any, path: Path) -> str | None:
    """Which chapter a submission is: the student edition's metadata, else the file name, else its functions."""
    chapter = (
        notebook.get("metadata", {}).get("gan_teach", {}).get("chapter")
    )
    if chapter in CHAPTERS:
        return chapter
    stem = path.stem.lower()
    named = [name for name in CHAPTERS if name in stem]
    if len(named) == 1:
        return named[0]
    code = "\n".join(
        "".join(cell["source"])
        for cell in notebook["cells"]
        if cell["cell_type"] == "code"
    )
    defined = set(re.findall(r"^def (\w+)\(", code, re.MULTILINE))
    votes = {
        name: sum(e.function_name in defined for e in exercises_of(name))
        for name in CHAPTERS
    }
    best = max(votes, key=votes.get)
    return best if votes[best] > 0 else None


@contextlib.contextmanager
def _environment(**values: str) -> Iterator[None]:
    """Set environment variables for the kernels started inside the block, then restore them."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _short(text: str) -> str:
    text = " ".join(str(text).split())
    return (
        text
        if len(text) <= _ERROR_SHOWN
        else text[: _ERROR_SHOWN - 3] + "..."
    )


def grade_notebook(
    path: str | Path, *, timeout: int = 300, full: bool = False
) -> NotebookGrade:
    """Execute one notebook and check its code exercises.

    Args:
        path: the notebook.
        timeout: seconds each cell may run before it is interrupted.
        full: run the full training (default: fast mode, as in CI).

    Returns:
        The :class:`NotebookGrade`; never raises for a bad submission.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    path = Path(path)
    try:
        notebook = nbformat.read(path, as_version=4)
    except Exception as error:  # noqa: BLE001 - not JSON, not a notebook, unreadable file
        return NotebookGrade(
            path,
            None,
            "unreadable",
            reason=f"not a readable notebook: {_short(error)}",
        )
    chapter = detect_chapter(notebook, path)
    if chapter is None:
        return NotebookGrade(
            path,
            None,
            "unknown chapter",
            reason="neither its metadata, its file name nor its functions name a chapter of the book",
        )
    exercises = exercises_of(chapter)
    grade = NotebookGrade(
        path,
        chapter,
        "ok",
        max_score=len(exercises),
        results={exercise.label: False for exercise in exercises},
    )
    if not exercises:
        return grade
    student_cells = len(notebook.cells)
    notebook.cells.append(
        nbformat.v4.new_code_cell(
            "from gan_teach.course.grading import run_checks as _gan_teach_run_checks\n"
            f"print({_RESULT_MARKER!r} + __import__('json').dumps(_gan_teach_run_checks({chapter!r}, globals())))"
        )
    )
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=True,
        interrupt_on_timeout=True,
        resources={"metadata": {"path": str(path.parent.resolve())}},
    )
    problems = []
    try:
        with _environment(GAN_TEACH_FAST="0" if full else "1"):
            client.execute()
    except DeadKernelError as error:
        grade.status, problems = (
            "kernel died",
            [f"the kernel died: {_short(error)}"],
        )
    except CellTimeoutError as error:
        grade.status, problems = (
            "timeout",
            [f"a cell ran longer than {timeout} s: {_short(error)}"],
        )
    except Exception as error:  # noqa: BLE001 - anything else the kernel machinery raises
        grade.status, problems = (
            "errors",
            [f"the notebook could not be run: {_short(error)}"],
        )

    results = None
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if (
                output.get("output_type") == "error"
                and index >= student_cells
            ):  # the grader's own cell
                timed_out = output.get("ename") == "KeyboardInterrupt"
                grade.status = "timeout" if timed_out else "errors"
                problems.append(
                    f"checking the exercises ran longer than {timeout} s (does a function of yours loop?)"
                    if timed_out
                    else f"checking the exercises raised {output.get('ename')}"
                )
            elif output.get("output_type") == "error":
                if output.get("ename") == "KeyboardInterrupt":
                    grade.status = "timeout"
                    problems.append(
                        f"cell {index + 1} ran longer than {timeout} s and was stopped"
                    )
                else:
                    grade.status = (
                        "errors" if grade.status == "ok" else grade.status
                    )
                    problems.append(
                        f"cell {index + 1} raised {output.get('ename')}: {_short(output.get('evalue', ''))}"
                    )
            elif (
                output.get("output_type") == "stream"
                and index >= student_cells
            ):
                for line in output.get("text", "").splitlines():
                    if line.startswith(_RESULT_MARKER):
                        results = json.loads(line[len(_RESULT_MARKER) :])
    if results is None:
        problems.append(
            "the exercises could not be checked (the notebook did not run to the end)"
        )
    else:
        for label, result in results.items():
            grade.results[label] = result["passed"]
            if not result["passed"]:
                problems.append(f"{label}: {_short(result['message'])}")
    grade.score = sum(grade.results.values())
    grade.reason = "; ".join(problems)
    return grade


def grade_folder(
    folder: str | Path,
    *,
    timeout: int = 300,
    full: bool = False,
    progress: bool = True,
) -> list[NotebookGrade]:
    """Grade every ``*.ipynb`` under ``folder`` (checkpoint copies excluded), in path order."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(
            f"no folder {folder}: pass the folder that holds the submitted notebooks"
        )
    paths = sorted(
        path
        for path in folder.rglob("*.ipynb")
        if ".ipynb_checkpoints" not in path.parts
    )
    if not paths:
        raise FileNotFoundError(f"no notebooks (*.ipynb) under {folder}")
    grades = []
    for path in paths:
        grade = grade_notebook(path, timeout=timeout, full=full)
        if progress:
            print(
                f"{path.relative_to(folder)}: {grade.status}, {grade.score}/{grade.max_score}",
                flush=True,
            )
        grades.append(grade)
    return grades


def write_csv(
    grades: list[NotebookGrade],
    out: str | Path,
    root: str | Path | None = None,
) -> Path:
    """One row per notebook: notebook, chapter, status, score, max_score, one column per exercise, reason.

    An exercise column holds ``pass`` or ``fail`` for the notebook's own chapter and stays empty otherwise.
    """
    out = Path(out)
    labels = [
        exercise.label
        for exercise in CODE_EXERCISES
        if any(exercise.label in g.results for g in grades)
    ]
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(
            [
                "notebook",
                "chapter",
                "status",
                "score",
                "max_score",
                *labels,
                "reason",
            ]
        )
        for grade in grades:
            name = (
                grade.path.relative_to(root)
                if root is not None
                else grade.path
            )
            cells = [
                ("pass" if grade.results[label] else "fail")
                if label in grade.results
                else ""
                for label in labels
            ]
            writer.writerow(
                [
                    str(name),
                    grade.chapter or "",
                    grade.status,
                    grade.score,
                    grade.max_score,
                    *cells,
                    grade.reason,
                ]
            )
    return out
