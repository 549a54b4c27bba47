"""Run a chapter's checks on a submission's functions, in a fresh Python process of the grader's own.

The student's notebook runs in its own kernel, where any cell can replace a check, print a fake
result or patch a module. So the checks never run there. This module is the other side: a new
process, started by the grader in an empty folder, imports the chapter's checks from the installed
package *first*, then defines the submission's functions from the statements that
:func:`gan_teach.course.extraction.checked_source` keeps, and runs each check once. It reports the
results on a line that starts with a random token the grader passed in a request file (deleted once
read), so that a function that prints cannot fake the report by accident or by a plain ``print``.
"""

from __future__ import annotations
import __future__

import contextlib
import io
import json
import os
import secrets
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import ExerciseCheckError
from .processes import (
    exit_with_parent,
    last_line,
    run_process_group,
    short,
)
from .registry import exercises_of

__all__ = ["run_checks", "define", "check_submission", "main"]

# Seconds a check process may take to start (Python, torch, the checks) before --timeout counts.
START_SECONDS = 300

_NAME_HINT = (
    " (the grader re-runs only the notebook's imports, functions, classes and"
    " constants: compute this value inside your function)"
)


def run_checks(
    chapter: str,
    namespace: dict[str, Any],
    checks: dict[str, Callable[..., bool]] | None = None,
) -> dict[str, dict[str, Any]]:
    """Run each code exercise's check of ``chapter`` on the student's function found in ``namespace``.

    The checks' own printing is silenced; a check that fails, or a function that crashes inside it
    (even with ``sys.exit``), counts as not passed, with the message.

    Args:
        chapter: the chapter, e.g. ``"math"``.
        namespace: the names the submission defined.
        checks: label -> check function, looked up before any student code ran (default: now).

    Returns:
        label -> ``{"passed": bool, "message": str}``.

    >>> run_checks("math", {"my_optimal_discriminator": lambda p_data, p_g: p_data / (p_data + p_g)})
    {'ex-code-optimal-discriminator': {'passed': True, 'message': ''}}
    >>> run_checks("math", {})["ex-code-optimal-discriminator"]["message"]
    'my_optimal_discriminator is not defined: run the exercise cell that defines it'
    """
    exercises = exercises_of(chapter)
    if checks is None:
        checks = {
            exercise.label: exercise.check() for exercise in exercises
        }
    results = {}
    for exercise in exercises:
        function = namespace.get(exercise.function_name)
        if not callable(function):
            results[exercise.label] = {
                "passed": False,
                "message": f"{exercise.function_name} is not defined: run the exercise cell that defines it",
            }
            continue
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                checks[exercise.label](function, raise_on_failure=True)
            results[exercise.label] = {"passed": True, "message": ""}
        except ExerciseCheckError as error:
            results[exercise.label] = {
                "passed": False,
                "message": str(error),
            }
        except (Exception, SystemExit) as error:  # noqa: BLE001 - the student's function crashed inside the check
            hint = _NAME_HINT if isinstance(error, NameError) else ""
            results[exercise.label] = {
                "passed": False,
                "message": f"{type(error).__name__}: {error}{hint}",
            }
    return results


def define(statements: list[str]) -> tuple[dict[str, Any], list[str]]:
    """Run the kept statements of a submission in a new namespace, each on its own.

    Annotations are never evaluated (as under ``from __future__ import annotations``), so that a
    signature cannot run code. A statement that fails (an import of a module that is not installed)
    is reported and the others still run.

    Returns:
        ``(namespace, problems)``.

    >>> namespace, problems = define(["import math", "import no_such_module", "def f():\\n    return 2"])
    >>> namespace["f"](), problems
    (2, ["ModuleNotFoundError: No module named 'no_such_module'"])
    """
    module = types.ModuleType(
        "submission"
    )  # dataclasses look their module up
    sys.modules[module.__name__] = module
    namespace: dict[str, Any] = module.__dict__
    problems = []
    flags = __future__.annotations.compiler_flag
    for statement in statements:
        try:
            code = compile(
                statement,
                "<submission>",
                "exec",
                flags=flags,
                dont_inherit=True,
            )
            exec(code, namespace)  # noqa: S102 - definitions only (see extraction)
        except (Exception, SystemExit) as error:  # noqa: BLE001 - report it and go on
            problems.append(f"{type(error).__name__}: {error}")
    return namespace, problems


def main() -> int:
    """``python -m gan_teach.course.checker REQUEST``: check, print the token and the results.

    ``REQUEST`` is a JSON file ``{"chapter", "statements", "token"}``, deleted once read. The file
    ``ready`` is created in the working folder when the checks are imported, before any of the
    student's code is defined.
    """
    exit_with_parent()
    request_path = Path(sys.argv[1])
    request = json.loads(request_path.read_text(encoding="utf-8"))
    request_path.unlink()
    token = request.pop("token")
    report = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    # The folder we run in is the grader's own; never import from it.
    sys.path[:] = [
        entry for entry in sys.path if entry not in ("", os.getcwd())
    ]
    chapter = request["chapter"]
    checks = {
        exercise.label: exercise.check()
        for exercise in exercises_of(chapter)
    }  # imported before any of the student's code exists
    Path("ready").touch()
    with contextlib.redirect_stdout(io.StringIO()):
        namespace, _ = define(request["statements"])
    results = run_checks(chapter, namespace, checks)
    report.write(token + json.dumps(results) + "\n")
    report.flush()
    return 0


def check_submission(
    chapter: str, statements: list[str], folder: Path, *, timeout: int
) -> tuple[dict[str, bool], list[str]]:
    """Check a submission in a new process (``python -m gan_teach.course.checker``) in ``folder``.

    Only the chapter's own exercises count, a result counts as passed only if it is ``true``, and
    a report that does not come back exactly once counts as nothing passed.

    Args:
        chapter: the submission's chapter.
        statements: what :func:`gan_teach.course.extraction.checked_source` kept of it.
        folder: an empty folder of the grader's own (it runs there, and keeps its output there).
        timeout: seconds for the checks, counted once the process has imported them (which may
            take up to ``START_SECONDS`` (300 s) on a busy machine).

    Returns:
        ``(label -> passed, problems in words)``, with every exercise of the chapter as a label.
    """
    token = secrets.token_hex(16)
    folder.mkdir()
    work, private = folder / "work", folder / "grader"
    work.mkdir()
    private.mkdir()
    request = private / "request.json"
    request.write_text(
        json.dumps(
            {"chapter": chapter, "statements": statements, "token": token}
        ),
        encoding="utf-8",
    )
    output = private / "stdout.txt"
    finished = run_process_group(
        [sys.executable, "-m", "gan_teach.course.checker", str(request)],
        timeout=timeout,
        cwd=work,
        ready=work / "ready",
        start_timeout=START_SECONDS,
        stdout=output,
        stderr=private / "stderr.txt",
    )
    passed = {exercise.label: False for exercise in exercises_of(chapter)}
    if not finished.started:
        return passed, [
            f"the check process did not start within {START_SECONDS} s (is the machine overloaded?)"
        ]
    if finished.timed_out:
        return passed, [
            f"checking the exercises ran longer than {timeout} s (does a function of yours loop?)"
        ]
    reports = []
    with output.open(encoding="utf-8", errors="replace") as file:
        reports = [
            line[len(token) :] for line in file if line.startswith(token)
        ]
    try:
        (results,) = [json.loads(report) for report in reports]
        if not isinstance(results, dict):
            raise ValueError("the report is not a table")
    except ValueError:
        last = last_line(private / "stderr.txt")
        return passed, [
            "the checks did not report (did a function of yours end the check process?)"
            + (f": {short(last)}" if last else "")
        ]
    problems = []
    for label in passed:
        result = results.get(label)
        if not isinstance(result, dict):
            problems.append(f"{label}: not checked")
            continue
        passed[label] = result.get("passed") is True
        if not passed[label]:
            problems.append(f"{label}: {result.get('message', '')}")
    return passed, problems


if __name__ == "__main__":
    sys.exit(main())
