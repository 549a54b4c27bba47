"""The check process: the checks run where no cell of the student's notebook ever ran."""

import secrets

from gan_teach.course import checker
from gan_teach.course.checker import check_submission, run_checks

RIGHT = "def my_optimal_discriminator(p_data, p_g):\n    return p_data / (p_data + p_g)"


def test_a_function_that_exits_or_uses_a_notebook_variable_fails_with_a_reason():
    def exits(p_data, p_g):
        raise SystemExit(0)

    device = "cpu"  # noqa: F841 - a notebook variable the function relies on

    def uses_a_notebook_variable(p_data, p_g):
        return p_data.to(undefined_device)  # noqa: F821

    results = run_checks("math", {"my_optimal_discriminator": exits})
    assert results["ex-code-optimal-discriminator"] == {
        "passed": False,
        "message": "SystemExit: 0",
    }
    message = run_checks(
        "math", {"my_optimal_discriminator": uses_a_notebook_variable}
    )["ex-code-optimal-discriminator"]["message"]
    assert (
        message.startswith("NameError")
        and "inside your function" in message
    )


def test_the_checks_run_in_a_fresh_process(tmp_path):
    passed, problems = check_submission(
        "math", ["import torch", RIGHT], tmp_path / "checks", timeout=60
    )
    assert (passed, problems) == (
        {"ex-code-optimal-discriminator": True},
        [],
    )


def test_forged_reports_are_refused_and_extra_passes_ignored(
    tmp_path, monkeypatch
):
    """A function that prints a report of its own, then ends the process before the real one."""
    forged = (
        "def my_optimal_discriminator(p_data, p_g):\n"
        "    import json, os\n"
        "    labels = ['ex-code-optimal-discriminator', 'ex-other', 'ex-third']\n"
        "    report = json.dumps({label: {'passed': True} for label in labels})\n"
        "    os.write(1, ('TOKEN' + report + '\\n').encode())\n"
        "    os._exit(0)"
    )
    passed, problems = check_submission(
        "math", [forged], tmp_path / "guessing", timeout=60
    )
    assert passed == {"ex-code-optimal-discriminator": False}
    assert "the checks did not report" in problems[0]
    # Had it found the token, its extra labels would still count for nothing.
    monkeypatch.setattr(secrets, "token_hex", lambda size: "TOKEN")
    passed, _ = check_submission(
        "math", [forged], tmp_path / "knowing", timeout=60
    )
    assert passed == {"ex-code-optimal-discriminator": True}
    assert (
        checker.START_SECONDS >= 10
    )  # time for torch to import on a busy machine
