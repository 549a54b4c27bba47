import pytest
import torch

from gan_teach.course import ExerciseCheckError
from gan_teach.course.checks.math import check_optimal_discriminator


def test_check_accepts_the_right_answer(capsys):
    assert check_optimal_discriminator(
        lambda p_data, p_g: p_data / (p_data + p_g)
    )
    assert "passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong_answer,message",
    [
        (lambda p_data, p_g: torch.full_like(p_data, 0.5), "larger D"),
        (lambda p_data, p_g: p_g / (p_data + p_g), "D ="),
        (lambda p_data, p_g: p_data + p_g, "lie in \\[0, 1\\]"),
        (
            lambda p_data, p_g: (p_data / (p_data + p_g)).tolist(),
            "torch.Tensor",
        ),
        (lambda p_data, p_g: (p_data / (p_data + p_g))[:-1], "shape"),
    ],
)
def test_check_explains_wrong_answers(wrong_answer, message):
    with pytest.raises(ExerciseCheckError, match=message):
        check_optimal_discriminator(wrong_answer, raise_on_failure=True)


def test_check_prints_instead_of_raising_by_default(capsys):
    assert not check_optimal_discriminator(
        lambda p_data, p_g: torch.full_like(p_data, 0.5)
    )
    output = capsys.readouterr().out
    assert (
        output.startswith("Not yet:")
        and "p_data / (p_data + p_g)" not in output
    )
