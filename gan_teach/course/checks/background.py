"""Checks for the exercises of the background chapter (``book/background.ipynb``).

``check_average_log_likelihood`` tests a student's average log-likelihood of 1-D data under a Gaussian,
the number that maximum-likelihood training maximises and that explicit density models report.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from .. import ExerciseCheckError, run_check

__all__ = ["check_average_log_likelihood"]


def _reference_average_log_likelihood(
    data: torch.Tensor, mean: float, std: float
) -> float:
    """(1/N) sum_i log N(x_i; mean, std^2), in float64."""
    standardized = (data.to(torch.float64) - mean) / std  # (N,)
    return (
        (
            -0.5 * standardized**2
            - math.log(std)
            - 0.5 * math.log(2 * math.pi)
        )
        .mean()
        .item()
    )


def _hidden_cases() -> list[tuple[torch.Tensor, float, float]]:
    """Data, mean and std of each hidden case: seeded draws, a poor fit, a narrow Gaussian, one point."""
    generator = torch.Generator().manual_seed(1406)
    cases = []
    for mean, std, num_points, data_mean, data_std in [
        (0.0, 1.0, 500, 0.0, 1.0),  # the model matches the data
        (4.0, 1.0, 200, 4.0, 1.0),  # the data of gaussian-1d
        (1.0, 2.5, 300, -2.0, 0.5),  # a poor, wide model
        (
            0.3,
            0.05,
            100,
            0.3,
            0.05,
        ),  # a narrow Gaussian: its density is above 1
    ]:
        data = data_mean + data_std * torch.randn(
            num_points, generator=generator, dtype=torch.float64
        )  # (N,)
        cases.append((data, mean, std))
    cases.append(
        (torch.tensor([2.0], dtype=torch.float64), 2.0, 1.0)
    )  # one point, at the mean
    return cases


def _diagnose(
    answer: float,
    expected: float,
    data: torch.Tensor,
    mean: float,
    std: float,
) -> str:
    """A hint that names the most likely mistake, without giving the formula away."""
    count = data.numel()
    constant = -math.log(std) - 0.5 * math.log(
        2 * math.pi
    )  # the part of log N that does not depend on x
    hint = "compare your formula with the log of the Gaussian density, term by term"
    if count > 1 and math.isclose(
        answer, count * expected, rel_tol=1e-6, abs_tol=1e-9
    ):
        hint = "you returned the total log-likelihood; the exercise asks for the average over the data points"
    elif math.isclose(answer, -expected, rel_tol=1e-6, abs_tol=1e-9):
        hint = "the sign is flipped: that is the negative log-likelihood (a loss), not the log-likelihood"
    elif math.isclose(
        answer - expected, -constant, rel_tol=1e-6, abs_tol=1e-9
    ):
        hint = "the normalising constant is missing: a density must integrate to 1, which costs -log(std * sqrt(2 pi))"
    elif math.isclose(
        answer - expected,
        -0.5 * math.log(2 * math.pi),
        rel_tol=1e-6,
        abs_tol=1e-9,
    ):
        hint = "the -log(sqrt(2 pi)) part of the normalising constant is missing"
    elif (
        math.isclose(
            answer - expected, math.log(std), rel_tol=1e-6, abs_tol=1e-9
        )
        and std != 1.0
    ):
        hint = "the -log(std) part of the normalising constant is missing"
    elif std != 1.0 and math.isclose(
        answer,
        _reference_average_log_likelihood(data, mean, math.sqrt(std)),
        rel_tol=1e-6,
        abs_tol=1e-9,
    ):
        hint = "you seem to use std where the variance std**2 belongs"
    return (
        f"on {count} hidden point(s) with mean = {mean} and std = {std}, your average log-likelihood is "
        f"{answer:.4f}, expected {expected:.4f}: {hint}"
    )


def check_average_log_likelihood(
    student_function: Callable[
        [torch.Tensor, float, float], torch.Tensor | float
    ],
    *,
    raise_on_failure: bool = False,
) -> bool:
    """Test a student's average Gaussian log-likelihood on hidden data, and say what is wrong.

    Args:
        student_function: ``f(data, mean, std)`` for a ``(N,)`` float64 tensor ``data`` and floats
            ``mean`` and ``std > 0``; it must return ``(1/N) sum_i log N(data_i; mean, std^2)`` as a float or
            a one-element tensor.
        raise_on_failure: raise :class:`~gan_teach.course.ExerciseCheckError` instead of printing the message.

    Returns:
        True if every hidden case passed.

    >>> import math
    >>> check_average_log_likelihood(lambda data, mean, std: 0.0)
    Not yet: on 500 hidden point(s) with mean = 0.0 and std = 1.0, your average log-likelihood is 0.0000, expected -1.3916: compare your formula with the log of the Gaussian density, term by term
    False
    """
    cases = _hidden_cases()

    def run_cases() -> int:
        for data, mean, std in cases:
            answer = student_function(data.clone(), mean, std)
            if isinstance(answer, torch.Tensor):
                if answer.numel() != 1:
                    raise ExerciseCheckError(
                        f"return one number, the average over the data; got a tensor of shape {tuple(answer.shape)}"
                    )
                answer = answer.item()
            if not isinstance(answer, (float, int)):
                raise ExerciseCheckError(
                    f"return a float or a one-element tensor, not {type(answer).__name__}"
                )
            answer = float(answer)
            if not math.isfinite(answer):
                raise ExerciseCheckError(
                    f"your average log-likelihood is {answer} for std = {std}: it must be finite"
                )
            expected = _reference_average_log_likelihood(data, mean, std)
            if not math.isclose(
                answer, expected, rel_tol=1e-6, abs_tol=1e-6
            ):
                raise ExerciseCheckError(
                    _diagnose(answer, expected, data, mean, std)
                )
        return len(cases)

    return run_check(run_cases, raise_on_failure=raise_on_failure)
