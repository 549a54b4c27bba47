"""The latent chapter's code exercise: a right slerp passes, the usual wrong ones fail with a useful hint."""

import pytest
import torch

from gan_teach.course import ExerciseCheckError
from gan_teach.course.checks.latent import check_slerp
from gan_teach.instruments.latent import lerp, slerp


def correct(z0, z1, t):
    norm0, norm1 = z0.norm(), z1.norm()
    omega = torch.arccos(
        torch.clamp(torch.dot(z0, z1) / (norm0 * norm1), -1.0, 1.0)
    )
    if omega < 1e-6:
        return (1 - t) * z0 + t * z1
    unit = (
        torch.sin((1 - t) * omega) * z0 / norm0
        + torch.sin(t * omega) * z1 / norm1
    ) / torch.sin(omega)
    return unit * ((1 - t) * norm0 + t * norm1)


def unit_only(z0, z1, t):
    omega = torch.arccos(
        torch.clamp(torch.dot(z0, z1) / (z0.norm() * z1.norm()), -1.0, 1.0)
    )
    return (
        torch.sin((1 - t) * omega) * z0 / z0.norm()
        + torch.sin(t * omega) * z1 / z1.norm()
    ) / torch.sin(omega)


def raw_sine_formula(z0, z1, t):
    omega = torch.arccos(
        torch.clamp(torch.dot(z0, z1) / (z0.norm() * z1.norm()), -1.0, 1.0)
    )
    if omega < 1e-6:
        return (1 - t) * z0 + t * z1
    return (
        torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1
    ) / torch.sin(omega)


def no_parallel_case(z0, z1, t):
    omega = (
        torch.zeros((), dtype=z0.dtype)
        if torch.allclose(z0 / z0.norm(), z1 / z1.norm())
        else torch.arccos(torch.dot(z0, z1) / (z0.norm() * z1.norm()))
    )
    unit = (
        torch.sin((1 - t) * omega) * z0 / z0.norm()
        + torch.sin(t * omega) * z1 / z1.norm()
    ) / torch.sin(omega)
    return unit * ((1 - t) * z0.norm() + t * z1.norm())


def test_correct_answers_pass(capsys):
    assert check_slerp(correct, raise_on_failure=True)
    assert check_slerp(slerp)
    assert check_slerp(
        lambda z0, z1, t: slerp(z0.float(), z1.float(), t)
    )  # float32 is accurate enough
    assert "All 5 hidden cases passed." in capsys.readouterr().out


def test_placeholder_fails_without_raising(capsys):
    assert not check_slerp(lerp)
    output = capsys.readouterr().out
    assert output.startswith("Not yet:") and "straight line" in output


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lerp, "straight line"),
        (lambda z0, z1, t: correct(z1, z0, t), "backwards"),
        (unit_only, "forgot to scale"),
        (raw_sine_formula, "lengths differ"),
        (no_parallel_case, "NaN or inf.*parallel"),
        (lambda z0, z1, t: torch.stack([z0, z1]), "shape"),
        (lambda z0, z1, t: correct(z0, z1, t).tolist(), "return a tensor"),
        (
            lambda z0, z1, t: correct(z0, z1, t) * 1.1,
            "right direction but norm",
        ),
    ],
)
def test_typical_mistakes_fail_with_a_hint(wrong, message):
    with pytest.raises(ExerciseCheckError, match=message):
        check_slerp(wrong, raise_on_failure=True)


def test_messages_never_print_the_answer(capsys):
    check_slerp(unit_only)
    output = capsys.readouterr().out
    assert "tensor(" not in output and "[" not in output
