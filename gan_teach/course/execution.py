"""Execute one submitted notebook in a Jupyter kernel, in a helper process the grader can always stop.

:func:`execute_submission` writes the notebook into a folder of its own and starts
``python -m gan_teach.course.execution`` there, in a new process group, with a wall-clock limit for
the whole notebook. That helper starts the kernel and runs the code cells one by one, each with a
time limit; after each cell it writes what it has seen to a report file (which cell runs, which
raised). A cell that runs too long stops the notebook: its kernel is killed, not interrupted, since
a cell can ignore interrupts. On the notebook's time limit or on Ctrl-C the grader stops the
helper, which kills the kernel's process group (the kernel runs in a session of its own) first.

The report says only how the notebook ran; the score never comes from the kernel
(see :mod:`gan_teach.course.checker`).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .processes import (
    exit_with_parent,
    last_line,
    run_process_group,
    short,
)

__all__ = ["Execution", "execute_submission", "main"]

_REPORT = "report.json"
_START_SECONDS = 300  # for the kernel to start on a busy machine
_STATUSES = ("ok", "errors", "timeout", "kernel died")
_PROBLEMS_SHOWN = 5  # a reason names at most this many failing cells


@dataclass
class Execution:
    """How a notebook ran.

    Attributes:
        status: ``ok``, ``errors`` (some cell raised), ``timeout`` (a cell or the whole notebook ran
            too long) or ``kernel died``.
        problems: what went wrong, one sentence each.
    """

    status: str = "ok"
    problems: list[str] = field(default_factory=list)


def _write_report(path: Path, report: dict[str, Any]) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(report), encoding="utf-8")
    os.replace(temporary, path)


async def _run_cells(
    notebook: Any, cwd: str, cell_timeout: int, report_path: Path
) -> None:
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    report: dict[str, Any] = {
        "status": "ok",
        "problems": [],
        "running": None,
    }
    client = NotebookClient(
        notebook,
        timeout=cell_timeout,
        kernel_name="python3",
        allow_errors=True,
        interrupt_on_timeout=False,  # a cell may ignore SIGINT: kill instead
        shutdown_kernel="immediate",
        startup_timeout=_START_SECONDS,
        resources={"metadata": {"path": cwd}},
    )
    group: list[int] = []
    exit_with_parent(lambda: stop_kernel_group(group))

    def stop(*_: Any) -> None:
        # SIGTERM from the grader (time limit, Ctrl-C): take the kernel down first.
        stop_kernel_group(group)
        os._exit(143)

    try:
        async with client.async_setup_kernel():
            pgid = getattr(client.km.provisioner, "pgid", None)
            group.extend([pgid] if pgid else [])
            report["kernel_group"] = pgid
            asyncio.get_running_loop().add_signal_handler(
                signal.SIGTERM, stop
            )
            for index, cell in enumerate(notebook.cells):
                if cell.cell_type != "code":
                    continue
                report["running"] = index
                _write_report(report_path, report)
                try:
                    await client.async_execute_cell(cell, index)
                except CellTimeoutError:
                    report["status"] = "timeout"
                    report["problems"].append(
                        f"cell {index + 1} ran longer than {cell_timeout} s and was stopped"
                    )
                    break
                except DeadKernelError:
                    report["status"] = "kernel died"
                    report["problems"].append(
                        f"the kernel died in cell {index + 1}"
                    )
                    break
                for output in cell.get("outputs", []):
                    if output.get("output_type") == "error":
                        if report["status"] == "ok":
                            report["status"] = "errors"
                        report["problems"].append(
                            f"cell {index + 1} raised {output.get('ename')}: {short(output.get('evalue', ''))}"
                        )
            report["running"] = None
    except Exception as error:  # noqa: BLE001 - the kernel could not start, or its machinery failed
        report["status"] = "errors"
        report["problems"].append(
            f"the notebook could not be run: {type(error).__name__}: {short(error)}"
        )
    finally:
        stop_kernel_group(group)
        _write_report(report_path, report)


def stop_kernel_group(group: list[int]) -> None:
    """Kill what is left of the kernel's process group (processes the student's code started)."""
    for pgid in group:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def main() -> int:
    """``python -m gan_teach.course.execution NOTEBOOK REPORT CELL_TIMEOUT``: run it from its folder."""
    import nbformat

    notebook_path, report_path, cell_timeout = sys.argv[1:4]
    notebook = nbformat.read(notebook_path, as_version=4)
    asyncio.run(
        _run_cells(
            notebook,
            str(Path(notebook_path).parent.resolve()),
            int(cell_timeout),
            Path(report_path),
        )
    )
    return 0


def execute_submission(
    notebook: Any,
    folder: Path,
    *,
    cell_timeout: int,
    notebook_timeout: int,
    fast: bool = True,
) -> Execution:
    """Execute ``notebook`` as ``folder/submission.ipynb``, with ``folder`` as its working folder.

    Args:
        notebook: the notebook (an ``nbformat`` node).
        folder: an empty folder of its own, where it may write what it likes.
        cell_timeout: seconds each cell may run.
        notebook_timeout: seconds the whole notebook may run, kernel start included.
        fast: run with ``GAN_TEACH_FAST=1`` (the book's fast mode).

    Returns:
        The :class:`Execution`. Ctrl-C (KeyboardInterrupt) kills the kernel and is raised again.
    """
    import nbformat

    work = folder / "work"
    private = (
        folder / "grader"
    )  # the report, out of the notebook's working folder
    work.mkdir()
    private.mkdir()
    nbformat.write(notebook, work / "submission.ipynb")
    report_path = private / _REPORT
    try:
        finished = run_process_group(
            [
                sys.executable,
                "-m",
                "gan_teach.course.execution",
                str(work / "submission.ipynb"),
                str(report_path),
                str(cell_timeout),
            ],
            timeout=notebook_timeout,
            cwd=work,
            stderr=private / "stderr.txt",
            env={**os.environ, "GAN_TEACH_FAST": "1" if fast else "0"},
        )
    finally:  # the helper kills its kernel; should the helper itself have been killed, do it here
        report = _read_report(report_path)
        group = (report or {}).get("kernel_group")
        if isinstance(group, int) and group > 1 and group != os.getpgrp():
            stop_kernel_group([group])
    execution = _execution(report)
    if finished.timed_out:
        running = (report or {}).get("running")
        where = (
            f" (cell {running + 1} was running)"
            if isinstance(running, int)
            else ""
        )
        execution.status = "timeout"
        execution.problems.append(
            f"the notebook ran longer than its limit of {notebook_timeout} s and was stopped{where}"
        )
    elif finished.returncode != 0 or report is None:
        last = last_line(private / "stderr.txt")
        execution.status = "errors"
        execution.problems.append(
            f"the notebook runner failed: {short(last) or 'no report'}"
        )
    return execution


def _execution(report: dict[str, Any] | None) -> Execution:
    """The report's status and problems, as far as they make sense (the kernel could reach it).

    >>> _execution({"status": "all passed!", "problems": [3, "cell 1 raised X"]})
    Execution(status='errors', problems=['cell 1 raised X'])
    >>> _execution({"status": "errors", "problems": ["a"] * 8}).problems[-1]
    'and 3 more'
    """
    if report is None:
        return Execution()
    status = report.get("status")
    problems = report.get("problems")
    problems = (
        [short(problem) for problem in problems if isinstance(problem, str)]
        if isinstance(problems, list)
        else []
    )
    if len(problems) > _PROBLEMS_SHOWN:  # a notebook where every cell fails
        more = len(problems) - _PROBLEMS_SHOWN
        problems = [*problems[:_PROBLEMS_SHOWN], f"and {more} more"]
    return Execution(status if status in _STATUSES else "errors", problems)


def _read_report(path: Path) -> dict[str, Any] | None:
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return report if isinstance(report, dict) else None


if __name__ == "__main__":
    sys.exit(main())
