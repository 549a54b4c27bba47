"""Checks for the book's code exercises: they run a student's answer on hidden cases and say what is wrong.

Every check has the same shape, ``check_something(student_function, *, raise_on_failure=False) -> bool``:
it prints ``All N hidden cases passed.`` or ``Not yet: <what is wrong, in words>``, and never prints the
answer. The chapters' checks live in :mod:`gan_teach.course.checks`, one module per chapter.
This package is the top layer: it may import anything in ``gan_teach``, and nothing imports it.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["ExerciseCheckError", "run_check"]


class ExerciseCheckError(AssertionError):
    """A student's answer failed one of the hidden checks; the message says what is wrong."""


def run_check(
    run_cases: Callable[[], int], *, raise_on_failure: bool = False
) -> bool:
    """Run a check and tell the student how it went.

    Args:
        run_cases: runs every hidden case, raises :class:`ExerciseCheckError` at the first wrong one, and
            returns the number of cases it ran.
        raise_on_failure: raise the error instead of printing it (for graders and tests).

    Returns:
        True if every case passed.

    >>> run_check(lambda: 3)
    All 3 hidden cases passed.
    True
    >>> def wrong() -> int:
    ...     raise ExerciseCheckError("expected 1.31, got 0.69: did you forget the fake term?")
    >>> run_check(wrong)
    Not yet: expected 1.31, got 0.69: did you forget the fake term?
    False
    """
    try:
        count = run_cases()
    except ExerciseCheckError as error:
        if raise_on_failure:
            raise
        print(f"Not yet: {error}")
        return False
    print(f"All {count} hidden cases passed.")
    return True
