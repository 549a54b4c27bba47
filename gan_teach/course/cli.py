"""The instructors' command line: ``gan-teach-course student-edition | grade``.

Apart from the learner's ``gan-teach`` so that a learner's commands never load the course
tooling (nbformat, nbclient). Also ``python -m gan_teach.course``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ..cli import run
from .grading import NOTEBOOK_TIMEOUT, grade_folder
from .student import make_student_edition

__all__ = ["main", "build_parser"]

_WEEK = (
    7 * 24 * 3600
)  # the longest time limit: longer ones overflow the kernel client's clock


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the instructors' commands."""
    parser = argparse.ArgumentParser(
        prog="gan-teach-course",
        description="The student edition and the grader of the gan-teach book.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    student = commands.add_parser(
        "student-edition",
        help="write the book's notebooks without their solutions",
    )
    student.add_argument(
        "--book",
        type=Path,
        default=Path("book"),
        help="the chapters' folder (default: book)",
    )
    student.add_argument(
        "--out",
        type=Path,
        default=Path("_build/student"),
        help="default: _build/student",
    )

    grade = commands.add_parser(
        "grade",
        help="run submitted notebooks, check their exercises, write a CSV",
    )
    grade.add_argument(
        "folder",
        type=Path,
        help="the folder of submitted notebooks (searched recursively)",
    )
    grade.add_argument(
        "--out",
        type=Path,
        default=Path("grades.csv"),
        help="the CSV to write (default: grades.csv)",
    )
    grade.add_argument(
        "--timeout",
        type=int,
        default=300,
        help="seconds per cell, and for the checks (default: 300)",
    )
    grade.add_argument(
        "--notebook-timeout",
        type=int,
        default=NOTEBOOK_TIMEOUT,
        help=f"seconds per notebook, then its kernel is killed (default: {NOTEBOOK_TIMEOUT})",
    )
    grade.add_argument(
        "--full",
        action="store_true",
        help="full training runs (default: the fast mode of CI)",
    )
    return parser


def _student_edition(args: argparse.Namespace) -> None:
    removed = make_student_edition(args.book, args.out)
    print(
        f"wrote {len(removed)} notebooks to {args.out}, {sum(removed.values())} solutions removed"
    )


def _grade(args: argparse.Namespace) -> None:
    for option, value in [
        ("--timeout", args.timeout),
        ("--notebook-timeout", args.notebook_timeout),
    ]:
        if not 1 <= value <= _WEEK:
            raise ValueError(
                f"{option} must be a number of seconds from 1 to {_WEEK} (a week), got {value}"
            )
    try:
        grades = grade_folder(
            args.folder,
            args.out,
            timeout=args.timeout,
            notebook_timeout=args.notebook_timeout,
            full=args.full,
        )
    except KeyboardInterrupt:
        print(f"interrupted: {args.out} holds the rows graded so far")
        raise
    passed, checks = (
        sum(g.score for g in grades),
        sum(g.max_score for g in grades),
    )
    print(
        f"wrote {args.out}: {len(grades)} notebooks, {passed} of {checks} checks passed"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the instructors' command line; returns the exit status (0 on success)."""
    return run(
        "gan-teach-course",
        build_parser(),
        {"student-edition": _student_edition, "grade": _grade},
        argv,
    )


if __name__ == "__main__":
    sys.exit(main())
