"""The outputs stored in book/*.ipynb and book/zh/*.ipynb (the Chinese edition, executed on its own, never copied)
are what the books publish: never an error, and from full runs of the code."""

import json
from pathlib import Path

import pytest

from gan_teach.course.stored_outputs import (
    code_fingerprint,
    stamp,
    stamp_problems,
    stored_errors,
)

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "book").glob("*.ipynb")) + sorted(
    (REPO / "book" / "zh").glob("*.ipynb")
)


def _code(source: str, outputs: list | None = None) -> dict:
    return {
        "cell_type": "code",
        "source": source,
        "outputs": outputs or [],
        "metadata": {},
    }


@pytest.mark.parametrize(
    "path",
    NOTEBOOKS,
    ids=lambda path: path.relative_to(REPO / "book").as_posix(),
)
def test_no_stored_output_is_an_error_or_a_traceback(path):
    """The book is built with execution off: an error stored in a notebook would be published as it is."""
    assert stored_errors(json.loads(path.read_text(encoding="utf-8"))) == []


@pytest.mark.parametrize(
    "path",
    NOTEBOOKS,
    ids=lambda path: path.relative_to(REPO / "book").as_posix(),
)
def test_stored_outputs_come_from_a_full_run_of_the_current_code(path):
    """`make execute` stamps a notebook with its mode and code fingerprint; a later code change needs a re-run."""
    problems = stamp_problems(json.loads(path.read_text(encoding="utf-8")))
    assert not problems, f"{path.name}: " + "; ".join(problems)


def test_an_interrupted_run_is_found_in_every_form_it_is_stored():
    interrupted = {
        "output_type": "error",
        "ename": "KeyboardInterrupt",
        "evalue": "",
        "traceback": ["..."],
    }
    printed = {
        "output_type": "stream",
        "name": "stderr",
        "text": [
            "Traceback (most recent call last):\n",
            "  File ...\n",
            "KeyboardInterrupt\n",
        ],
    }
    coloured = {
        "output_type": "stream",
        "name": "stdout",
        "text": "\x1b[0;31mKeyboardInterrupt\x1b[0m: \n",
    }
    shown = {
        "output_type": "display_data",
        "data": {"text/plain": "Traceback (most recent call last):\n  ..."},
    }
    warning = {
        "output_type": "stream",
        "name": "stderr",
        "text": "UserWarning: the data loader is slow\n",
    }
    cells = [
        _code("a", [interrupted]),
        _code("b", [printed]),
        _code("c", [coloured]),
        _code("d", [shown]),
        _code("e", [warning]),
        {
            "cell_type": "markdown",
            "source": "Traceback (most recent call last) in prose",
        },
    ]
    problems = stored_errors({"cells": cells})
    assert [problem.split(":")[0] for problem in problems] == [
        "cell 0",
        "cell 1",
        "cell 2",
        "cell 3",
    ]


def test_the_fingerprint_follows_what_the_code_does_not_how_it_is_laid_out():
    base = {
        "cells": [
            _code(
                '%pip install x\nresult = train(epochs=3)  # short\nprint(f"{result:.2f}")'
            )
        ]
    }
    wrapped = {
        "cells": [
            {"cell_type": "markdown", "source": "prose is not code"},
            _code(
                "%pip install \\\n    x\n# a comment\nresult = train(\n    epochs=3,\n)\n"
                'print(\n    f"{result:.2f}"\n)'
            ),
        ]
    }
    changed = {
        "cells": [
            _code(
                '%pip install x\nresult = train(epochs=4)\nprint(f"{result:.2f}")'
            )
        ]
    }
    printed_differently = {
        "cells": [
            _code(
                '%pip install x\nresult = train(epochs=3)\nprint(f"{result:.3f}")'
            )
        ]
    }
    other_install = {
        "cells": [
            _code(
                '%pip install y\nresult = train(epochs=3)\nprint(f"{result:.2f}")'
            )
        ]
    }
    assert code_fingerprint(base) == code_fingerprint(wrapped)
    for other in (changed, printed_differently, other_install):
        assert code_fingerprint(other) != code_fingerprint(base)


def test_a_stamp_holds_until_the_code_changes_and_only_a_full_run_counts():
    notebook = {"cells": [_code("x = 1")], "metadata": {}}
    stamp(notebook, "full")
    record = notebook["metadata"]["gan_teach"]["execution"]
    assert record["mode"] == "full" and record[
        "code_sha256"
    ] == code_fingerprint(notebook)
    assert stamp_problems(notebook) == []
    notebook["cells"][0]["source"] = "x = 2"
    assert stamp_problems(notebook) == [
        f"its code changed after the run of {record['date']}: re-execute it with `make execute`"
    ]
    stamp(notebook, "fast")
    assert stamp_problems(notebook) == [
        "its outputs come from a 'fast' run; the book shows full runs: `make execute`"
    ]
    with pytest.raises(ValueError, match="mode must be one of"):
        stamp(notebook, "quick")


def test_execute_writes_outputs_and_a_stamp_and_leaves_a_failed_notebook_alone(
    tmp_path,
):
    import nbformat

    from gan_teach.course.stored_outputs import execute_notebook

    good = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                "from gan_teach import fast_mode\nprint('fast' if fast_mode() else 'full')"
            )
        ]
    )
    good.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    bad = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("raise RuntimeError('broken')")]
    )
    nbformat.write(good, tmp_path / "good.ipynb")
    nbformat.write(bad, tmp_path / "bad.ipynb")
    before = (tmp_path / "bad.ipynb").read_text()

    assert (
        execute_notebook(tmp_path / "good.ipynb", "full", timeout=120) == []
    )
    written = nbformat.read(tmp_path / "good.ipynb", as_version=4)
    assert (
        written.cells[0].outputs[0]["text"] == "full\n"
    )  # GAN_TEACH_FAST=0 wins over CI=true
    assert stamp_problems(written) == []
    problems = execute_notebook(tmp_path / "bad.ipynb", "full", timeout=120)
    assert (
        problems
        and "RuntimeError" in problems[0]
        and (tmp_path / "bad.ipynb").read_text() == before
    )


def test_adopting_outputs_without_a_run_says_so_in_the_stamp(
    tmp_path, capsys
):
    import nbformat

    from gan_teach.course.stored_outputs import main

    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("x = 1")]
    )
    nbformat.write(notebook, tmp_path / "a.ipynb")
    assert main(["check", str(tmp_path / "a.ipynb")]) == 1
    assert "no execution stamp" in capsys.readouterr().err
    with pytest.raises(
        SystemExit
    ):  # an adoption must say why the outputs are trusted
        main(["adopt", str(tmp_path / "a.ipynb")])
    assert (
        main(
            [
                "adopt",
                "--note",
                "full run of this code at commit abc123",
                str(tmp_path / "a.ipynb"),
            ]
        )
        == 0
    )
    record = nbformat.read(tmp_path / "a.ipynb", as_version=4).metadata[
        "gan_teach"
    ]["execution"]
    assert (
        record["executed_by"] == "adopted"
        and record["note"] == "full run of this code at commit abc123"
    )
    assert main(["check", str(tmp_path / "a.ipynb")]) == 0
    with pytest.raises(FileNotFoundError, match="no such notebook"):
        main(["check", str(tmp_path / "missing.ipynb")])


def test_adopting_the_outputs_of_an_older_commit_keeps_later_code_changes_visible(
    tmp_path,
):
    import subprocess

    import nbformat

    from gan_teach.course.stored_outputs import main

    def git(*args):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
            cwd=tmp_path,
            check=True,
            capture_output=True,
        )

    path = tmp_path / "a.ipynb"
    nbformat.write(
        nbformat.v4.new_notebook(
            cells=[nbformat.v4.new_code_cell("x = 1")]
        ),
        path,
    )
    git("init", "-q")
    git("add", "a.ipynb")
    git("commit", "-qm", "full run")
    notebook = nbformat.read(path, as_version=4)
    notebook.cells[0].source = "x = (\n    1  # reformatted\n)"
    nbformat.write(notebook, path)
    assert (
        main(
            [
                "adopt",
                "--at",
                "HEAD",
                "--note",
                "full run at HEAD",
                str(path),
            ]
        )
        == 0
    )
    assert (
        main(["check", str(path)]) == 0
    )  # the same code, laid out differently
    notebook = nbformat.read(path, as_version=4)
    notebook.cells[0].source = "x = 2"
    nbformat.write(notebook, path)
    assert (
        main(["check", str(path)]) == 1
    )  # a real change since the adopted run


def test_provenance_finds_the_commit_that_stored_the_run_and_code_changed_since(
    tmp_path,
):
    import subprocess

    from gan_teach.course.stored_outputs import provenance

    def git(*args):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
            cwd=tmp_path,
            check=True,
            capture_output=True,
        )

    def notebook(code: list[str], times: list[str], counts: list) -> dict:
        cells = [
            {
                "cell_type": "code",
                "source": source,
                "outputs": [],
                "execution_count": count,
                "metadata": {"execution": {"iopub.execute_input": time}}
                if time
                else {},
            }
            for source, time, count in zip(code, times, counts)
        ]
        return {
            "cells": cells,
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 5,
        }

    path = tmp_path / "a.ipynb"
    git("init", "-q")
    for message, content in [
        ("old run", notebook(["x = 1"], ["2026-01-01T00:00"], [1])),
        (
            "the run",
            notebook(
                ["x = 2", "y = 3"],
                ["2026-01-02T00:00", "2026-01-02T00:01"],
                [1, 2],
            ),
        ),
        (
            "prose and layout",
            notebook(
                ["x = (2)", "y = 3  # why"],
                ["2026-01-02T00:00", "2026-01-02T00:01"],
                [1, 2],
            ),
        ),
    ]:
        path.write_text(json.dumps(content))
        git("add", "a.ipynb")
        git("commit", "-qm", message)
    found = provenance(path)
    the_run = subprocess.run(
        ["git", "log", "--format=%h", "--grep", "the run"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert found == {
        "commit": the_run,
        "same_code": True,
        "one_run": True,
        "unrun_cells": 0,
    }

    path.write_text(
        json.dumps(
            notebook(
                ["x = 2", "y = 3", "z = 4"],
                ["2026-01-02T00:00", "2026-01-02T00:01", ""],
                [1, 2, None],
            )
        )
    )  # a cell added after the run, never run
    assert provenance(path) == {
        "commit": the_run,
        "same_code": False,
        "one_run": True,
        "unrun_cells": 1,
    }
