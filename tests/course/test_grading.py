"""The grader: `python -m gan_teach.course grade DIR` runs every notebook, checks its exercises and writes a CSV."""

import csv
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from course.grading_support import ends_within, run_grade_command

from gan_teach.course.cli import main as course_main
from gan_teach.course.grading import (
    NotebookGrade,
    detect_chapter,
    grade_notebook,
    read_submission,
    run_checks,
    spreadsheet_safe,
    write_csv,
)
from gan_teach.course.registry import CHAPTERS, CODE_EXERCISES, exercises_of
from gan_teach.course.student import make_student_edition

REPO = Path(__file__).resolve().parents[2]


def _notebook(*cells: str, chapter: str | None = None):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    if chapter:
        notebook.metadata["gan_teach"] = {"chapter": chapter}
    return notebook


def test_run_checks_reports_each_exercise():
    right = lambda p_data, p_g: p_data / (p_data + p_g)  # noqa: E731
    assert run_checks("math", {"my_optimal_discriminator": right})[
        "ex-code-optimal-discriminator"
    ]["passed"]
    wrong = run_checks(
        "math",
        {
            "my_optimal_discriminator": lambda p_data, p_g: (
                p_g / (p_data + p_g)
            )
        },
    )
    assert not wrong["ex-code-optimal-discriminator"]["passed"]
    assert (
        "smaller D" in wrong["ex-code-optimal-discriminator"]["message"]
        or "larger D" in wrong["ex-code-optimal-discriminator"]["message"]
    )
    crashing = run_checks(
        "math", {"my_optimal_discriminator": lambda p_data, p_g: 1 / 0}
    )
    assert crashing["ex-code-optimal-discriminator"] == {
        "passed": False,
        "message": "ZeroDivisionError: division by zero",
    }
    assert set(run_checks("algorithm", {})) == {
        "ex-algorithm-discriminator-loss",
        "ex-algorithm-discriminator-step",
    }


def test_detect_chapter_from_metadata_file_name_or_functions():
    assert (
        detect_chapter(
            _notebook("x = 1", chapter="tools"), Path("anything.ipynb")
        )
        == "tools"
    )
    assert (
        detect_chapter(_notebook("x = 1"), Path("alice_Practice.ipynb"))
        == "practice"
    )
    assert (
        detect_chapter(
            _notebook("def my_mixture_generator(noise):\n    return noise"),
            Path("hw.ipynb"),
        )
        == "concepts"
    )
    assert (
        detect_chapter(_notebook("x = 1"), Path("homework.ipynb")) is None
    )


def test_every_chapter_has_its_exercises_registered():
    assert sum(len(exercises_of(chapter)) for chapter in CHAPTERS) == len(
        CODE_EXERCISES
    )
    with pytest.raises(ValueError, match="unknown chapter 'gans'"):
        exercises_of("gans")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A class's submissions: the student edition untouched, three solved chapters (one of them Chinese), and
    four broken notebooks."""
    submissions = tmp_path_factory.mktemp("submissions")
    make_student_edition(REPO / "book", submissions / "untouched")
    for chapter in (
        "math",
        "tools",
    ):  # the book's own notebooks: their solution cells define the right answers
        shutil.copy(
            REPO / "book" / f"{chapter}.ipynb",
            submissions / f"solved_{chapter}.ipynb",
        )
    # the Chinese edition's chapter: the same checks, keyed by the same chapter name and labels
    shutil.copy(
        REPO / "book" / "zh" / "math.ipynb",
        submissions / "solved_zh_math.ipynb",
    )
    (submissions / "not_a_notebook.ipynb").write_text(
        "{ this is not json", encoding="utf-8"
    )
    nbformat.write(
        _notebook("raise RuntimeError('my bug')", chapter="tools"),
        submissions / "raises.ipynb",
    )
    nbformat.write(_notebook("x = 1"), submissions / "homework.ipynb")
    out = submissions / "grades.csv"
    result = run_grade_command(
        submissions,
        out,
        timeout=1200,  # generous: fast-mode training on a loaded 2-core machine
        notebook_timeout=3600,
        wait=4 * 3600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    with out.open(encoding="utf-8") as file:
        return {row["notebook"]: row for row in csv.DictReader(file)}


@pytest.mark.slow
def test_the_student_edition_runs_top_to_bottom_and_scores_zero(graded):
    assert (
        graded["untouched/intro.ipynb"]["status"] == "unknown chapter"
    )  # the preface has no exercises to grade
    for chapter in CHAPTERS:
        row = graded[f"untouched/{chapter}.ipynb"]
        assert (row["status"], row["score"], row["max_score"]) == (
            "ok",
            "0",
            str(len(exercises_of(chapter))),
        ), row
        for exercise in exercises_of(chapter):
            assert row[exercise.label] == "fail"
            assert (
                exercise.label in row["reason"]
            )  # the check's message, in words


@pytest.mark.slow
def test_solved_notebooks_score_full_marks(graded):
    for chapter in ("math", "tools"):
        row = graded[f"solved_{chapter}.ipynb"]
        assert (row["status"], row["reason"]) == ("ok", "")
        assert (
            row["score"]
            == row["max_score"]
            == str(len(exercises_of(chapter)))
        )


@pytest.mark.slow
def test_a_solved_chinese_chapter_scores_full_marks(graded):
    row = graded["solved_zh_math.ipynb"]
    assert (row["status"], row["reason"]) == ("ok", "")
    assert (
        row["score"] == row["max_score"] == str(len(exercises_of("math")))
    )


@pytest.mark.slow
def test_broken_submissions_get_a_score_and_a_reason(graded):
    assert graded["not_a_notebook.ipynb"]["status"] == "unreadable"
    raises = graded["raises.ipynb"]
    assert (
        raises["status"] == "errors"
        and "cell 1 raised RuntimeError: my bug" in raises["reason"]
    )
    assert "my_diagonal_frechet_distance is not defined" in raises["reason"]
    assert graded["homework.ipynb"]["status"] == "unknown chapter"


def test_grading_a_missing_folder_is_one_clear_line(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "gan_teach.course",
            "grade",
            str(tmp_path / "nowhere"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert (
        result.stderr.strip().count("\n") == 0
        and "no folder" in result.stderr
    )


RIGHT_MATH = "import torch\n\n\ndef my_optimal_discriminator(p_data, p_g):\n    return p_data / (p_data + p_g)"
WRONG_MATH = "import torch\n\n\ndef my_optimal_discriminator(p_data, p_g):\n    return torch.full_like(p_data, 0.5)"
RIGHT_TOOLS = (
    "import torch\n\n\ndef my_diagonal_frechet_distance(mu1, var1, mu2, var2):\n"
    "    return ((mu1 - mu2) ** 2).sum() + ((var1.sqrt() - var2.sqrt()) ** 2).sum()"
)
FORGES_IN_ITS_KERNEL = """
import gan_teach.course.checker as checker
import gan_teach.course.checks.math as checks_math
import gan_teach.course.grading as grading

checks_math.check_optimal_discriminator = lambda function, **options: True
forged = {"ex-code-optimal-discriminator": {"passed": True, "message": ""}}
forged.update({f"ex-extra-{n}": {"passed": True, "message": ""} for n in range(2)})
grading.run_checks = checker.run_checks = lambda *args, **options: forged
print("GAN_TEACH_GRADES " + __import__("json").dumps(forged))
"""
FORGES_IN_THE_CHECK = """
def my_optimal_discriminator(p_data, p_g):
    import json, os
    forged = {label: {"passed": True, "message": ""} for label in ["ex-code-optimal-discriminator", "ex-a", "ex-b"]}
    print(json.dumps(forged), flush=True)
    os.write(1, ("GAN_TEACH_GRADES " + json.dumps(forged) + "\\n").encode())
    os._exit(0)
"""
HANGS = """
import pathlib, signal, subprocess
signal.signal(signal.SIGINT, signal.SIG_IGN)
child = subprocess.Popen(["sleep", "600"])
pathlib.Path({pid_file!r}).write_text(str(child.pid))
while True:
    pass
"""
LOOPS_IN_THE_CHECK = """
def my_optimal_discriminator(p_data, p_g):
    import signal
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while True:
        pass
"""
VANDAL = """
import pathlib, shutil
for folder in [pathlib.Path.cwd(), pathlib.Path.cwd().parent, pathlib.Path({submissions!r})]:
    for path in folder.iterdir():
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
"""
HYPERLINK = '=HYPERLINK("evil.example","click")&.ipynb'


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """A class with honest students and every kind of hostile submission, graded once."""
    submissions = tmp_path_factory.mktemp("hostile")
    pid_file = tmp_path_factory.mktemp("pids") / "hangs.pid"
    (submissions / HYPERLINK).write_text("{ not json", encoding="utf-8")
    (submissions / "list.ipynb").write_text("[1, 2]", encoding="utf-8")
    no_source = _notebook(RIGHT_MATH, chapter="math")
    del no_source.cells[0]["source"]
    (submissions / "no_source.ipynb").write_text(json.dumps(no_source))
    nbformat.write(
        _notebook(
            VANDAL.format(submissions=str(submissions)), chapter="math"
        ),
        submissions / "a_vandal.ipynb",
    )
    nbformat.write(
        _notebook(WRONG_MATH, FORGES_IN_ITS_KERNEL, chapter="math"),
        submissions / "forger_kernel.ipynb",
    )
    nbformat.write(
        _notebook(FORGES_IN_THE_CHECK, chapter="math"),
        submissions / "forger_check.ipynb",
    )
    nbformat.write(
        _notebook(
            HANGS.format(pid_file=str(pid_file)),
            LOOPS_IN_THE_CHECK,
            chapter="math",
        ),
        submissions / "hangs.ipynb",
    )
    honest_math = _notebook(RIGHT_MATH)
    honest_math.metadata["gan_teach"] = "math"  # malformed: not a table
    nbformat.write(honest_math, submissions / "honest_math.ipynb")
    nbformat.write(
        _notebook(RIGHT_TOOLS, chapter="tools"),
        submissions / "honest_tools.ipynb",
    )
    out = submissions / "grades.csv"  # where the vandal will delete it
    started = time.monotonic()
    result = run_grade_command(
        submissions,
        out,
        timeout=20,
        notebook_timeout=300,
        wait=1800,
    )
    text = out.read_text(encoding="utf-8")
    with out.open(encoding="utf-8", newline="") as file:
        rows = {row["notebook"]: row for row in csv.DictReader(file)}
    return {
        "result": result,
        "rows": rows,
        "text": text,
        "left": sorted(path.name for path in submissions.iterdir()),
        "pid_file": pid_file,
        "seconds": time.monotonic() - started,
    }


@pytest.mark.slow
def test_every_submission_gets_a_row_and_the_run_ends_well(hostile):
    result = hostile["result"]
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert len(hostile["rows"]) == 9
    assert hostile["left"] == ["grades.csv"]  # the vandal deleted the rest


@pytest.mark.slow
def test_honest_students_get_their_true_score(hostile):
    for name in ("honest_math.ipynb", "honest_tools.ipynb"):
        row = hostile["rows"][name]
        assert (row["status"], row["score"], row["max_score"]) == (
            "ok",
            "1",
            "1",
        ), row
        assert row["reason"] == ""


@pytest.mark.slow
def test_forgers_cannot_set_their_grade(hostile):
    rows = hostile["rows"]
    kernel = rows["forger_kernel.ipynb"]
    assert (kernel["status"], kernel["score"], kernel["max_score"]) == (
        "ok",
        "0",
        "1",
    )
    assert "larger D" in kernel["reason"]  # the real check's message
    check = rows["forger_check.ipynb"]
    assert (check["score"], check["max_score"]) == ("0", "1")
    assert "the checks did not report" in check["reason"]
    header = hostile["text"].splitlines()[0].split(",")
    assert [label for label in header if label.startswith("ex-")] == [
        "ex-code-optimal-discriminator",
        "ex-tools-diagonal-frechet",
    ]  # labels that are not the chapters' never reach the CSV


@pytest.mark.slow
def test_a_notebook_that_ignores_interrupts_is_killed(hostile):
    row = hostile["rows"]["hangs.ipynb"]
    assert (row["status"], row["score"]) == ("timeout", "0")
    assert "cell 1 ran longer than 20 s and was stopped" in row["reason"]
    assert "checking the exercises ran longer than 20 s" in row["reason"]
    child = int(hostile["pid_file"].read_text())
    assert ends_within(child, 10)  # the kernel's process group went with it


@pytest.mark.slow
def test_malformed_submissions_and_file_names_are_harmless(hostile):
    rows = hostile["rows"]
    for name in ("list.ipynb", "no_source.ipynb", "'" + HYPERLINK):
        assert rows[name]["status"] == "unreadable", rows[name]
    assert (
        "'source' is a required property"
        in rows["no_source.ipynb"]["reason"]
    )
    assert (
        '"\'=HYPERLINK(""evil.example"",""click"")&.ipynb"'
        in hostile["text"]
    )


def test_malformed_notebooks_are_read_without_a_kernel(tmp_path):
    cases = {
        "empty.ipynb": "",
        "binary.ipynb": "\x00\xff",
        "string.ipynb": '"a notebook"',
        "cells_not_a_list.ipynb": json.dumps(
            {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": 3}
        ),
    }
    for name, text in cases.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        submission = read_submission(tmp_path / name)
        assert submission.notebook is None and submission.problem, name
    weird = _notebook(RIGHT_MATH)
    weird.metadata["gan_teach"] = ["math"]
    nbformat.write(weird, tmp_path / "homework.ipynb")
    assert read_submission(tmp_path / "homework.ipynb").chapter == "math"


def test_text_that_a_spreadsheet_would_run_is_escaped(tmp_path):
    grade = NotebookGrade(
        tmp_path / "+cmd.ipynb",
        "math",
        "errors",
        score=0,
        max_score=1,
        results={"ex-code-optimal-discriminator": False},
        reason='-1 raised\tsomething, "quoted"',
    )
    out = write_csv([grade], tmp_path / "grades.csv", root=tmp_path)
    with out.open(encoding="utf-8", newline="") as file:
        (row,) = list(csv.DictReader(file))
    assert row["notebook"] == "'+cmd.ipynb"
    assert row["reason"] == '\'-1 raised\tsomething, "quoted"'
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert spreadsheet_safe(start + "x") == "'" + start + "x"
    assert spreadsheet_safe("a=b") == "a=b"


@pytest.mark.parametrize("kind", ["folder", "under a file", "not writable"])
def test_an_output_that_cannot_be_written_fails_before_grading(
    tmp_path, capsys, kind
):
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    nbformat.write(
        _notebook(RIGHT_MATH, chapter="math"), submissions / "a.ipynb"
    )
    (tmp_path / "file.txt").write_text("keep me")
    out = {
        "folder": tmp_path,
        "under a file": tmp_path / "file.txt" / "grades.csv",
        "not writable": Path("/proc/gan-teach-grades.csv"),  # even for root
    }[kind]
    started = time.monotonic()
    assert course_main(["grade", str(submissions), "--out", str(out)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""  # no notebook was graded
    assert len(captured.err.strip().splitlines()) == 1, captured.err
    assert captured.err.startswith("gan-teach-course grade: error: ")
    assert time.monotonic() - started < 30  # no kernel was started
    assert (tmp_path / "file.txt").read_text() == "keep me"


@pytest.mark.slow
def test_ctrl_c_stops_grading_kills_the_kernel_and_keeps_the_rows(tmp_path):
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    pid_file = tmp_path / "hangs.pid"
    (submissions / "a_broken.ipynb").write_text("{", encoding="utf-8")
    nbformat.write(
        _notebook(HANGS.format(pid_file=str(pid_file)), chapter="math"),
        submissions / "b_hangs.ipynb",
    )
    out = tmp_path / "grades.csv"
    grader = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gan_teach.course",
            "grade",
            str(submissions),
            "--out",
            str(out),
            "--timeout",
            "600",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 300
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.2)  # until the hanging cell runs
    assert pid_file.exists(), "the hanging notebook never started"
    time.sleep(0.5)
    grader.send_signal(signal.SIGINT)
    stdout, stderr = grader.communicate(timeout=120)
    assert grader.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "interrupted" in stdout + stderr
    with out.open(encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    assert [row["notebook"] for row in rows] == ["a_broken.ipynb"]
    child = int(pid_file.read_text())
    assert ends_within(child, 10)


@pytest.mark.slow
def test_a_notebook_past_its_time_limit_is_stopped(tmp_path):
    pid_file = tmp_path / "hangs.pid"
    path = tmp_path / "hangs.ipynb"
    nbformat.write(
        _notebook(
            "print('starting')",
            HANGS.format(pid_file=str(pid_file)),
            RIGHT_MATH,
            chapter="math",
        ),
        path,
    )
    grade = grade_notebook(path, timeout=600, notebook_timeout=60)
    assert grade.status == "timeout"
    assert "ran longer than its limit of 60 s" in grade.reason
    assert (grade.score, grade.max_score) == (1, 1)  # scored from the file
    if pid_file.exists():  # the kernel started within the limit
        assert "cell 2 was running" in grade.reason
        child = int(pid_file.read_text())
        assert ends_within(child, 10)
