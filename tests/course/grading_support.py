"""What the grader's tests share: the `grade` command as a teacher runs it, and whether a process has ended."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path


def run_grade_command(
    submissions: Path,
    out: Path,
    *,
    timeout: int,
    notebook_timeout: int,
    wait: float,
) -> subprocess.CompletedProcess:
    """``python -m gan_teach.course grade SUBMISSIONS --out OUT`` in a fresh process.

    Args:
        timeout, notebook_timeout: the grader's ``--timeout`` (per cell and for the checks) and
            ``--notebook-timeout`` in seconds.
        wait: seconds this test waits for the whole command.
    """
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "gan_teach.course",
            "grade",
            str(submissions),
            "--out",
            str(out),
            "--timeout",
            str(timeout),
            "--notebook-timeout",
            str(notebook_timeout),
        ],
        capture_output=True,
        text=True,
        timeout=wait,
    )


def alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie has ended)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as file:
        return file.read().split(")")[-1].split()[0] != "Z"


def ends_within(pid: int, seconds: float) -> bool:
    """Wait up to ``seconds`` for process ``pid`` to end; whether it did."""
    deadline = time.monotonic() + seconds
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not alive(pid)
