"""The grader: `python -m gan_teach.course grade DIR` runs every notebook, checks its exercises and writes a CSV."""

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from gan_teach.course.grading import (
    detect_chapter,
    grade_notebook,
    run_checks,
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
    """A class's submissions: the student edition untouched, two solved chapters, and four broken notebooks."""
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
    (submissions / "not_a_notebook.ipynb").write_text(
        "{ this is not json", encoding="utf-8"
    )
    nbformat.write(
        _notebook("raise RuntimeError('my bug')", chapter="tools"),
        submissions / "raises.ipynb",
    )
    nbformat.write(_notebook("x = 1"), submissions / "homework.ipynb")
    out = submissions / "grades.csv"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "gan_teach.course",
            "grade",
            str(submissions),
            "--out",
            str(out),
            "--timeout",
            "300",
        ],
        capture_output=True,
        text=True,
        timeout=1800,
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
def test_broken_submissions_get_a_score_and_a_reason(graded):
    assert graded["not_a_notebook.ipynb"]["status"] == "unreadable"
    raises = graded["raises.ipynb"]
    assert (
        raises["status"] == "errors"
        and "cell 1 raised RuntimeError: my bug" in raises["reason"]
    )
    assert "my_diagonal_frechet_distance is not defined" in raises["reason"]
    assert graded["homework.ipynb"]["status"] == "unknown chapter"


def test_a_hanging_cell_is_stopped_and_the_rest_still_graded(tmp_path):
    path = tmp_path / "hangs.ipynb"
    nbformat.write(
        _notebook(
            "import time\ntime.sleep(600)",
            "def my_optimal_discriminator(p_data, p_g):\n    return p_data / (p_data + p_g)",
            chapter="math",
        ),
        path,
    )
    grade = grade_notebook(path, timeout=3)
    assert (
        grade.status == "timeout"
        and "cell 1 ran longer than 3 s and was stopped" in grade.reason
    )
    assert (grade.score, grade.max_score) == (
        1,
        1,
    )  # the cells after the hanging one still ran


def test_a_function_that_loops_inside_the_check_is_a_timeout(tmp_path):
    path = tmp_path / "loops.ipynb"
    nbformat.write(
        _notebook(
            "def my_optimal_discriminator(p_data, p_g):\n    while True:\n        pass",
            chapter="math",
        ),
        path,
    )
    grade = grade_notebook(path, timeout=3)
    assert (
        grade.status == "timeout"
        and "checking the exercises ran longer than 3 s" in grade.reason
    )
    assert grade.score == 0


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
