"""Run a helper process in a process group of its own, and end the whole group when time is up.

The grader runs students' code in child processes (a Jupyter kernel, a check process). Such code
can ignore Ctrl-C, loop forever or start processes of its own, so a polite interrupt is not enough:
each helper starts a new session (it and everything it starts share one process group, apart from
a process that starts a session of its own), and the group is asked to stop (SIGTERM), then killed
(SIGKILL), on a time limit, on Ctrl-C, and after a normal end, so that nothing stays behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "exit_with_parent",
    "Finished",
    "run_process_group",
    "stop_group",
    "short",
    "last_line",
]

_GRACE_SECONDS = (
    5.0  # how long a group may take to stop after SIGTERM before SIGKILL
)


@dataclass
class Finished:
    """How a helper process ended.

    Attributes:
        returncode: its exit status, or None when it was stopped at the time limit.
        timed_out: True when it ran past the limit and its group was killed.
        started: False when it did not even get ready in time (see ``ready``).
    """

    returncode: int | None
    timed_out: bool
    started: bool = True


def exit_with_parent(cleanup: Callable[[], None] = lambda: None) -> None:
    """End this helper process (after ``cleanup``) as soon as the grader that started it is gone.

    The grader stops its helpers itself, but a grader killed outright (SIGKILL, the out-of-memory
    killer) cannot: a thread checks every second whether the parent process changed.
    """
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        cleanup()
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _signal_group(group: int, signum: int) -> None:
    try:
        os.killpg(group, signum)
    except (ProcessLookupError, PermissionError):
        pass  # the group is gone already


def stop_group(
    process: subprocess.Popen, grace: float = _GRACE_SECONDS
) -> None:
    """End ``process`` and every process of its group: SIGTERM, ``grace`` seconds, then SIGKILL."""
    if process.poll() is None:
        _signal_group(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    _signal_group(process.pid, signal.SIGKILL)
    process.wait()


def _wait_until_ready(
    process: subprocess.Popen, ready: Path, start_timeout: float
) -> bool:
    """Wait until ``ready`` exists or the process ends; False if neither came in time."""
    deadline = time.monotonic() + start_timeout
    while not ready.exists() and process.poll() is None:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def run_process_group(
    command: Sequence[str],
    *,
    timeout: float,
    cwd: Path,
    stdout: Path | None = None,
    stderr: Path | None = None,
    env: dict[str, str] | None = None,
    ready: Path | None = None,
    start_timeout: float = 0.0,
) -> Finished:
    """Run ``command`` in a new session and wait at most ``timeout`` seconds for it.

    Args:
        command: the program and its arguments.
        timeout: wall-clock seconds before the group is killed (after ``ready``, if given).
        cwd: the folder it runs in.
        stdout: a file for its standard output (default: discarded).
        stderr: a file for its standard error (default: discarded).
        env: its environment (default: this process's).
        ready: a file the process creates when it has started (imports done): ``timeout``
            counts from then, so that a slow start on a busy machine is not a timeout.
        start_timeout: seconds to wait for ``ready``.

    Returns:
        A :class:`Finished`. On Ctrl-C (KeyboardInterrupt) the group is killed and the
        interrupt raised again.
    """
    with (
        open(stdout or os.devnull, "wb") as out,
        open(stderr or os.devnull, "wb") as err,
    ):
        process = subprocess.Popen(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            cwd=cwd,
            env=env,
            start_new_session=True,
        )
        try:
            if ready is not None and not _wait_until_ready(
                process, ready, start_timeout
            ):
                return Finished(None, timed_out=True, started=False)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                return Finished(None, timed_out=True)
            return Finished(process.returncode, timed_out=False)
        finally:  # also on KeyboardInterrupt: nothing of the student's keeps running
            stop_group(process)


def short(text: Any, limit: int = 300) -> str:
    """``text`` on one line, cut to ``limit`` characters.

    >>> short("a\\n  b", 10), short("x" * 20, 10)
    ('a b', 'xxxxxxx...')
    """
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def last_line(path: Path) -> str:
    """The last line of a log that the student's code may have flooded: its end only."""
    try:
        with path.open("rb") as file:
            file.seek(max(0, path.stat().st_size - 4096))
            lines = file.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return ""
    return lines[-1] if lines else ""
