"""Grade a folder of submitted notebooks: run each one, check every code exercise, write a CSV.

The grader first reads every submission into memory and opens the CSV, so that an output it cannot
write fails at once, and a submission cannot change another before its turn. Then, one submission
at a time, in a temporary folder of its own:

1. the notebook runs in a Jupyter kernel (:mod:`gan_teach.course.execution`), with a time limit
   per cell and one for the whole notebook, and, unless asked otherwise, the book's fast mode
   (``GAN_TEACH_FAST=1``) so that training runs stay short. This gives the status: did it run?
2. the checks run in a fresh process of the grader's own (:mod:`gan_teach.course.checker`) on the
   functions the submitted file defines (:mod:`gan_teach.course.extraction`), out of reach of the
   student's cells. This gives the score.

Each submission's row is written (and flushed) as soon as it is graded. A notebook that cannot be
read, raises, hangs or kills its kernel still gets a row: a status, a score and a reason in words.
The grader never stops at a bad submission; Ctrl-C stops it, with the rows so far written.

Grading runs the students' code: do it in a throwaway container without network access, which
holds nothing you would not let that code read or change. See the instructors' guide for what the
grader protects against and what it does not.
"""

from __future__ import annotations

import csv
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .checker import check_submission, run_checks
from .execution import execute_submission
from .extraction import checked_source, code_cells
from .processes import short
from .registry import CHAPTERS, CODE_EXERCISES, exercises_of

__all__ = [
    "NotebookGrade",
    "Submission",
    "run_checks",
    "detect_chapter",
    "read_submission",
    "grade_submission",
    "grade_notebook",
    "grade_folder",
    "open_grades",
    "spreadsheet_safe",
    "write_csv",
]

# A cell that starts with one of these is a formula to a spreadsheet (OWASP, "CSV Injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NOTEBOOK_TIMEOUT = 1800  # default seconds for a whole notebook


@dataclass
class NotebookGrade:
    """The outcome for one notebook.

    Attributes:
        path: the notebook.
        chapter: the book chapter it was recognised as, or None.
        status: ``ok``, ``errors`` (some cell raised), ``timeout`` (a cell or the notebook ran too
            long and was stopped), ``kernel died``, ``unreadable`` or ``unknown chapter``.
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


@dataclass
class Submission:
    """One submitted file, read into memory.

    Attributes:
        path: where it was found.
        notebook: the notebook, or None when it is not a valid notebook.
        chapter: its chapter, or None.
        problem: why it cannot be graded, in words ("" when it can).
    """

    path: Path
    notebook: Any = None
    chapter: str | None = None
    problem: str = ""


def detect_chapter(notebook: Any, path: Path) -> str | None:
    """Which chapter a submission is: the student edition's metadata, else the file name, else its functions."""
    metadata = notebook.get("metadata")
    marks = (
        metadata.get("gan_teach") if isinstance(metadata, dict) else None
    )
    chapter = marks.get("chapter") if isinstance(marks, dict) else None
    if isinstance(chapter, str) and chapter in CHAPTERS:
        return chapter
    stem = path.stem.lower()
    named = [name for name in CHAPTERS if name in stem]
    if len(named) == 1:
        return named[0]
    defined = {
        statement.split("(")[0].split()[-1]
        for statement in checked_source(notebook)
        if statement.startswith("def ")
    }
    votes = {
        name: sum(e.function_name in defined for e in exercises_of(name))
        for name in CHAPTERS
    }
    best = max(votes, key=votes.get)
    return best if votes[best] > 0 else None


def read_submission(path: Path) -> Submission:
    """Read and validate one submitted file; never raises for a bad one."""
    import nbformat

    submission = Submission(path)
    try:
        text = path.read_text(encoding="utf-8")
        notebook = nbformat.reads(text, as_version=nbformat.NO_CONVERT)
        notebook = nbformat.convert(notebook, 4)
        nbformat.validate(notebook)
        code_cells(notebook)
    except nbformat.ValidationError as error:
        where = "/".join(str(part) for part in error.absolute_path)
        submission.problem = f"not a valid notebook: {where + ': ' if where else ''}{short(error.message)}"
        return submission
    except Exception as error:  # noqa: BLE001 - not UTF-8, not JSON, not a notebook, unreadable
        submission.problem = f"not a readable notebook: {short(error)}"
        return submission
    submission.notebook = notebook
    submission.chapter = detect_chapter(notebook, path)
    if submission.chapter is None:
        submission.problem = "neither its metadata, its file name nor its functions name a chapter of the book"
    return submission


def grade_submission(
    submission: Submission,
    *,
    timeout: int = 300,
    notebook_timeout: int = NOTEBOOK_TIMEOUT,
    full: bool = False,
) -> NotebookGrade:
    """Run one submission in a temporary folder of its own and check its code exercises.

    Args:
        submission: what :func:`read_submission` read.
        timeout: seconds each cell, and the checks, may run.
        notebook_timeout: seconds the whole notebook may run.
        full: run the full training (default: fast mode, as in CI).

    Returns:
        The :class:`NotebookGrade`; never raises for a bad submission (Ctrl-C is raised again, after
        the kernel is killed).
    """
    path, chapter = submission.path, submission.chapter
    if submission.notebook is None or chapter is None:
        status = (
            "unreadable"
            if submission.notebook is None
            else "unknown chapter"
        )
        return NotebookGrade(
            path, chapter, status, reason=submission.problem
        )
    labels = [exercise.label for exercise in exercises_of(chapter)]
    try:
        with tempfile.TemporaryDirectory(
            prefix="gan-teach-grade-", ignore_cleanup_errors=True
        ) as folder:
            execution = execute_submission(
                submission.notebook,
                Path(folder),
                cell_timeout=timeout,
                notebook_timeout=notebook_timeout,
                fast=not full,
            )
            passed, problems = check_submission(
                chapter,
                checked_source(submission.notebook),
                Path(folder) / "checks",
                timeout=timeout,
            )
    except Exception as error:  # noqa: BLE001 - e.g. a full disk: this row says so, the batch goes on
        return NotebookGrade(
            path,
            chapter,
            "errors",
            max_score=len(labels),
            results=dict.fromkeys(labels, False),
            reason=f"the grader could not grade this notebook: {type(error).__name__}: {short(error)}",
        )
    results = {label: passed[label] is True for label in labels}
    return NotebookGrade(
        path,
        chapter,
        execution.status,
        score=min(sum(results.values()), len(labels)),
        max_score=len(labels),
        results=results,
        reason="; ".join(
            [*execution.problems, *(short(problem) for problem in problems)]
        ),
    )


def grade_notebook(
    path: str | Path,
    *,
    timeout: int = 300,
    notebook_timeout: int = NOTEBOOK_TIMEOUT,
    full: bool = False,
) -> NotebookGrade:
    """Read, execute and check one notebook (see :func:`grade_submission`)."""
    return grade_submission(
        read_submission(Path(path)),
        timeout=timeout,
        notebook_timeout=notebook_timeout,
        full=full,
    )


def spreadsheet_safe(value: Any) -> Any:
    """A text cell that a spreadsheet will not run as a formula: a leading ``'`` where needed.

    >>> spreadsheet_safe('=HYPERLINK("http://example.com")'), spreadsheet_safe("ok"), spreadsheet_safe(3)
    ('\\'=HYPERLINK("http://example.com")', 'ok', 3)
    """
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _labels(chapters: list[str | None]) -> list[str]:
    return [e.label for e in CODE_EXERCISES if e.chapter in set(chapters)]


def open_grades(out: str | Path, labels: list[str]) -> tuple[IO[str], Any]:
    """Open the CSV for writing and write its header, or fail in one line before any grading.

    Returns:
        ``(file, csv writer)``; the caller closes the file.
    """
    out = Path(out)
    if out.is_dir():
        raise ValueError(
            f"--out {out} is a folder: pass a file name, such as {out / 'grades.csv'}"
        )
    for folder in [out.parent, *out.parent.parents]:
        if folder.exists() and not folder.is_dir():
            raise ValueError(
                f"cannot write {out}: {folder} is a file, not a folder; pass a path in a folder"
            )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        file = out.open("w", newline="", encoding="utf-8")
    except OSError as error:
        raise ValueError(
            f"cannot write {out}: {error.strerror or error}; pass a path in a folder you can write to"
        ) from None
    writer = csv.writer(file, quoting=csv.QUOTE_MINIMAL)
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
    file.flush()
    return file, writer


def _row(
    grade: NotebookGrade, labels: list[str], root: Path | None
) -> list[Any]:
    name = grade.path.relative_to(root) if root is not None else grade.path
    cells = [
        ("pass" if grade.results[label] else "fail")
        if label in grade.results
        else ""
        for label in labels
    ]
    row = [
        str(name),
        grade.chapter or "",
        grade.status,
        grade.score,
        grade.max_score,
    ]
    return [spreadsheet_safe(cell) for cell in [*row, *cells, grade.reason]]


def _submission_paths(folder: Path, out: Path | None) -> list[Path]:
    if folder.exists() and not folder.is_dir():
        raise ValueError(
            f"{folder} is a file: pass the folder that holds the submitted notebooks"
        )
    if not folder.is_dir():
        raise FileNotFoundError(
            f"no folder {folder}: pass the folder that holds the submitted notebooks"
        )
    paths = sorted(
        path
        for path in folder.rglob("*.ipynb")
        if ".ipynb_checkpoints" not in path.parts
        and path.is_file()
        and (out is None or path.resolve() != out.resolve())
    )
    if not paths:
        raise FileNotFoundError(f"no notebooks (*.ipynb) under {folder}")
    return paths


def grade_folder(
    folder: str | Path,
    out: str | Path | None = None,
    *,
    timeout: int = 300,
    notebook_timeout: int = NOTEBOOK_TIMEOUT,
    full: bool = False,
    progress: bool = True,
) -> list[NotebookGrade]:
    """Grade every ``*.ipynb`` under ``folder`` (checkpoint copies excluded), in path order.

    Args:
        folder: the submissions.
        out: the CSV to write, one row per notebook as it is graded (default: none).
        timeout: seconds per cell, and for the checks of one notebook.
        notebook_timeout: seconds per notebook.
        full: full training runs.
        progress: print a line per notebook.

    Returns:
        The grades. On Ctrl-C the CSV keeps the rows written so far and KeyboardInterrupt is raised.
    """
    folder = Path(folder)
    paths = _submission_paths(
        folder, Path(out) if out is not None else None
    )
    submissions = [read_submission(path) for path in paths]
    labels = _labels([submission.chapter for submission in submissions])
    file, writer = (
        open_grades(out, labels) if out is not None else (None, None)
    )
    grades: list[NotebookGrade] = []
    try:
        for submission in submissions:
            grade = grade_submission(
                submission,
                timeout=timeout,
                notebook_timeout=notebook_timeout,
                full=full,
            )
            grades.append(grade)
            if writer is not None:
                writer.writerow(_row(grade, labels, folder))
                file.flush()
            if progress:
                print(
                    f"{grade.path.relative_to(folder)}: {grade.status}, {grade.score}/{grade.max_score}",
                    flush=True,
                )
    finally:
        if file is not None:
            file.close()
            # A submission may have deleted or changed the CSV while it ran (it is the students'
            # code): write it again, whole, from the grades in memory.
            try:
                _rewrite(Path(out), grades, labels, folder)
            except (OSError, ValueError) as error:
                print(
                    f"could not write {out} again after grading: {error}",
                    file=sys.stderr,
                )
    return grades


def _rewrite(
    out: Path, grades: list[NotebookGrade], labels: list[str], root: Path
) -> None:
    temporary = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    file, writer = open_grades(temporary, labels)
    with file:
        for grade in grades:
            writer.writerow(_row(grade, labels, root))
    os.replace(temporary, out)


def write_csv(
    grades: list[NotebookGrade],
    out: str | Path,
    root: str | Path | None = None,
) -> Path:
    """One row per notebook: notebook, chapter, status, score, max_score, one column per exercise, reason.

    An exercise column holds ``pass`` or ``fail`` for the notebook's own chapter and stays empty
    otherwise. Text that a spreadsheet would read as a formula gets a leading ``'``.
    """
    labels = _labels([grade.chapter for grade in grades])
    file, writer = open_grades(out, labels)
    with file:
        for grade in grades:
            writer.writerow(
                _row(
                    grade, labels, Path(root) if root is not None else None
                )
            )
    return Path(out)
