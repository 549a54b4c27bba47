"""Helper processes end when told to, with everything they started, even if they ignore signals."""

import subprocess
import sys
import time

from course.grading_support import ends_within

from gan_teach.course.processes import run_process_group

STUBBORN = """
import pathlib, signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
signal.signal(signal.SIGINT, signal.SIG_IGN)
child = subprocess.Popen(["sleep", "600"])
pathlib.Path(sys.argv[1]).write_text(str(child.pid))
while True:
    time.sleep(0.01)
"""


def test_a_process_that_ignores_signals_is_killed_with_its_children(
    tmp_path,
):
    pid_file = tmp_path / "child.pid"
    started = time.monotonic()
    finished = run_process_group(
        [sys.executable, "-c", STUBBORN, str(pid_file)],
        timeout=15,  # time enough to start on a busy machine
        cwd=tmp_path,
    )
    assert finished.timed_out and finished.returncode is None
    assert (
        time.monotonic() - started < 15 + 5 + 10
    )  # the grace, then SIGKILL
    child = int(pid_file.read_text())
    assert ends_within(child, 10)


def test_a_process_that_ends_reports_its_status(tmp_path):
    out = tmp_path / "out.txt"
    finished = run_process_group(
        [sys.executable, "-c", "import sys; print('hi'); sys.exit(3)"],
        timeout=60,
        cwd=tmp_path,
        stdout=out,
    )
    assert (finished.returncode, finished.timed_out) == (3, False)
    assert out.read_text() == "hi\n"


def test_the_time_limit_counts_from_when_the_process_is_ready(tmp_path):
    slow_start = (
        "import pathlib, time; time.sleep(3); pathlib.Path('ready').touch()"
    )
    finished = run_process_group(
        [sys.executable, "-c", slow_start + "; time.sleep(1)"],
        timeout=30,
        cwd=tmp_path,
        ready=tmp_path / "ready",
        start_timeout=120,
    )
    assert (finished.returncode, finished.timed_out) == (0, False)
    never_ready = run_process_group(
        [sys.executable, "-c", "import time; time.sleep(600)"],
        timeout=600,
        cwd=tmp_path,
        ready=tmp_path / "never",
        start_timeout=2,
    )
    assert (never_ready.timed_out, never_ready.started) == (True, False)


ORPHAN = """
import pathlib, sys, time
from gan_teach.course.processes import exit_with_parent
exit_with_parent()
pathlib.Path(sys.argv[1]).write_text("ready")
time.sleep(600)
"""
GRADER = """
import subprocess, sys, time
subprocess.Popen([sys.executable, "-c", sys.argv[1], sys.argv[2]], start_new_session=True)
time.sleep(600)
"""


def test_a_helper_ends_when_the_grader_is_killed_outright(tmp_path):
    ready = tmp_path / "ready"
    grader = subprocess.Popen(
        [sys.executable, "-c", GRADER, ORPHAN, str(ready)]
    )
    deadline = time.monotonic() + 120
    while not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    (helper,) = [
        int(pid)
        for pid in subprocess.run(
            ["pgrep", "-P", str(grader.pid)],
            capture_output=True,
            text=True,
        ).stdout.split()
    ]
    grader.kill()  # SIGKILL: the grader cannot stop its helpers
    grader.wait()
    assert ends_within(helper, 30)
