import json
import subprocess
import sys
from pathlib import Path

import pytest

from gan_teach.cli import main as learner_main
from gan_teach.course.cli import main

BOOK = Path(__file__).resolve().parents[2] / "book"


def test_student_edition_from_the_instructors_command_line(
    tmp_path, capsys
):
    book = tmp_path / "book"
    book.mkdir()
    (book / "algorithm.ipynb").write_text(
        (BOOK / "algorithm.ipynb").read_text()
    )
    assert (
        main(
            [
                "student-edition",
                "--book",
                str(book),
                "--out",
                str(tmp_path / "student"),
            ]
        )
        == 0
    )
    assert "solutions removed" in capsys.readouterr().out
    cells = json.loads(
        (tmp_path / "student" / "algorithm.ipynb").read_text()
    )["cells"]
    assert not any(
        "{solution-start}" in "".join(cell["source"]) for cell in cells
    )


def test_grading_a_missing_folder_is_one_line(tmp_path, capsys):
    assert main(["grade", str(tmp_path / "nowhere")]) == 1
    error = capsys.readouterr().err
    assert (
        error.startswith("gan-teach-course grade: error:")
        and len(error.strip().splitlines()) == 1
    )


def test_the_learners_command_line_has_no_course_commands(capsys):
    with pytest.raises(SystemExit):
        learner_main(["grade", "submissions"])
    assert "invalid choice: 'grade'" in capsys.readouterr().err


def test_the_learners_command_line_does_not_load_the_course_package():
    code = "import sys, gan_teach.cli; print(any(m.startswith('gan_teach.course') for m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize(
    "options, expected",
    [
        (["--timeout", "0"], "--timeout must be a number of seconds"),
        (
            ["--timeout", str(10**12)],
            "--timeout must be a number of seconds",
        ),
        (["--notebook-timeout", "-1"], "--notebook-timeout must be"),
        (["--folder-is-a-file"], "is a file: pass the folder"),
    ],
)
def test_bad_grading_options_are_one_line(
    tmp_path, capsys, options, expected
):
    folder = tmp_path / "submissions"
    folder.mkdir()
    (folder / "a.ipynb").write_text("{}")
    if options == ["--folder-is-a-file"]:
        folder, options = folder / "a.ipynb", []
    out = tmp_path / "grades.csv"
    assert main(["grade", str(folder), "--out", str(out), *options]) == 1
    captured = capsys.readouterr()
    assert len(captured.err.strip().splitlines()) == 1, captured.err
    assert expected in captured.err and captured.out == ""
    assert not out.exists()  # nothing was opened, nothing graded
