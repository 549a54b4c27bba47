"""The background chapter's code exercise: a right answer passes, typical wrong ones fail with a hint."""

import math

import pytest
import torch

from gan_teach.course import ExerciseCheckError
from gan_teach.course.checks.background import check_average_log_likelihood


def correct(data: torch.Tensor, mean: float, std: float) -> torch.Tensor:
    return torch.distributions.Normal(mean, std).log_prob(data).mean()


def test_correct_answer_passes(capsys):
    assert check_average_log_likelihood(correct, raise_on_failure=True)
    assert "hidden cases passed" in capsys.readouterr().out


def test_a_python_float_is_accepted():
    def as_float(data, mean, std):
        return float(correct(data, mean, std))

    assert check_average_log_likelihood(as_float, raise_on_failure=True)


def test_sum_instead_of_mean_is_named():
    with pytest.raises(ExerciseCheckError, match="total log-likelihood"):
        check_average_log_likelihood(
            lambda data, mean, std: (
                torch.distributions.Normal(mean, std).log_prob(data).sum()
            ),
            raise_on_failure=True,
        )


def test_missing_normalising_constant_is_named():
    def no_constant(data, mean, std):
        return (-((data - mean) ** 2) / (2 * std**2)).mean()

    with pytest.raises(
        ExerciseCheckError, match="normalising constant is missing"
    ):
        check_average_log_likelihood(no_constant, raise_on_failure=True)


def test_negative_log_likelihood_is_named():
    with pytest.raises(ExerciseCheckError, match="sign is flipped"):
        check_average_log_likelihood(
            lambda data, mean, std: -correct(data, mean, std),
            raise_on_failure=True,
        )


def test_std_in_place_of_variance_is_named():
    def std_not_variance(data, mean, std):
        return (
            -((data - mean) ** 2) / (2 * std)
            - 0.5 * math.log(2 * math.pi * std)
        ).mean()

    with pytest.raises(ExerciseCheckError, match="variance"):
        check_average_log_likelihood(
            std_not_variance, raise_on_failure=True
        )


def test_per_point_values_are_rejected():
    with pytest.raises(ExerciseCheckError, match="one number"):
        check_average_log_likelihood(
            lambda data, mean, std: torch.distributions.Normal(
                mean, std
            ).log_prob(data),
            raise_on_failure=True,
        )


def test_failure_prints_and_returns_false(capsys):
    assert not check_average_log_likelihood(lambda data, mean, std: 0.0)
    output = capsys.readouterr().out
    assert output.startswith("Not yet:")
