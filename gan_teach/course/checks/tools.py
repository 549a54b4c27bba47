"""Checks for the code exercises of the tools chapter (``book/tools.ipynb``)."""

from __future__ import annotations

from collections.abc import Callable

import torch

from ...metrics import frechet_distance
from .. import ExerciseCheckError, run_check

__all__ = ["check_diagonal_frechet_distance"]

DistanceFunction = Callable[
    [torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor],
    "torch.Tensor | float",
]


def _cases() -> list[
    tuple[str, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]
]:
    """Hidden cases ``(description, mu1, var1, mu2, var2)``, float64, ``(D,)`` each."""
    generator = torch.Generator().manual_seed(2017)

    def random_case(dim: int, spread: float) -> tuple[torch.Tensor, ...]:
        mu1 = torch.randn(dim, generator=generator, dtype=torch.float64)
        mu2 = torch.randn(dim, generator=generator, dtype=torch.float64)
        var1 = (
            torch.rand(dim, generator=generator, dtype=torch.float64)
            * spread
            + 0.1
        )
        var2 = (
            torch.rand(dim, generator=generator, dtype=torch.float64)
            * spread
            + 0.1
        )
        return mu1, var1, mu2, var2

    zeros = torch.zeros(3, dtype=torch.float64)
    return [
        ("two 5-D Gaussians", *random_case(5, 4.0)),
        ("two 1-D Gaussians", *random_case(1, 9.0)),
        (
            "two 128-D Gaussians with small variances",
            *random_case(128, 0.05),
        ),
        (
            "equal means and different variances",
            zeros,
            torch.tensor([1.0, 4.0, 0.25], dtype=torch.float64),
            zeros.clone(),
            torch.tensor([4.0, 1.0, 0.0], dtype=torch.float64),
        ),
        (
            "two identical Gaussians",
            zeros + 1,
            zeros + 2,
            zeros + 1,
            zeros + 2,
        ),
    ]


def _diagnose(
    answer: float,
    mu1: torch.Tensor,
    var1: torch.Tensor,
    mu2: torch.Tensor,
    var2: torch.Tensor,
) -> str:
    """Name the usual mistake that ``answer`` matches, or a general hint."""
    mean_term = float(((mu1 - mu2) ** 2).sum())
    cross = float(2 * (var1 * var2).sqrt().sum())
    mistakes = {
        "it equals the squared distance between the means alone: you forgot the covariance (trace) term": mean_term,
        "it treats the variances as standard deviations: the covariance term of a diagonal Gaussian is "
        "sum (sqrt(var1) - sqrt(var2))^2, not sum (var1 - var2)^2": mean_term
        + float(((var1 - var2) ** 2).sum()),
        "it adds tr(sigma1) + tr(sigma2) but forgets - 2 tr((sigma1 sigma2)^(1/2))": mean_term
        + float((var1 + var2).sum()),
        "it uses the distance between the means, not its square: FID is a squared distance": float(
            ((mu1 - mu2) ** 2).sum().sqrt()
        )
        + float((var1 + var2).sum())
        - cross,
        "it is the square root of the answer: FID is the *squared* Fréchet distance, so do not take the root": max(
            mean_term + float((var1 + var2).sum()) - cross, 0.0
        )
        ** 0.5,
    }
    for message, wrong in mistakes.items():
        if abs(answer - wrong) <= 1e-7 * (1 + abs(wrong)):
            return f"your distance is not right yet: {message}."
    return (
        "your distance differs from the squared Fréchet distance of the two diagonal Gaussians. Hint: it is "
        "|mu1 - mu2|^2 plus tr(sigma1) + tr(sigma2) - 2 tr((sigma1 sigma2)^(1/2)); with diagonal covariances "
        "every matrix is a vector of variances."
    )


def check_diagonal_frechet_distance(
    student_function: DistanceFunction, *, raise_on_failure: bool = False
) -> bool:
    """Test a student's Fréchet distance between diagonal Gaussians against :func:`gan_teach.metrics.frechet_distance`.

    Args:
        student_function: ``f(mu1, var1, mu2, var2) -> distance`` for ``(D,)`` float64 tensors of means and
            of variances (the diagonals of the covariances); it returns the squared Fréchet distance, the
            quantity that FID reports, as a float or a 0-dimensional tensor.
        raise_on_failure: raise :class:`~gan_teach.course.ExerciseCheckError` instead of printing the message.

    Returns:
        True if every case passed.
    """
    cases = _cases()

    def run_cases() -> int:
        for description, mu1, var1, mu2, var2 in cases:
            answer = student_function(
                mu1.clone(), var1.clone(), mu2.clone(), var2.clone()
            )
            if isinstance(answer, torch.Tensor):
                if answer.numel() != 1:
                    raise ExerciseCheckError(
                        f"return one number (a float or a 0-dimensional tensor), got a tensor of shape "
                        f"{tuple(answer.shape)}: add up over the {mu1.shape[0]} dimensions"
                    )
                answer = answer.item()
            if not isinstance(answer, (float, int)):
                raise ExerciseCheckError(
                    f"return a float or a 0-dimensional tensor, not {type(answer).__name__}"
                )
            answer = float(answer)
            expected = frechet_distance(
                mu1, torch.diag(var1), mu2, torch.diag(var2)
            )
            if not abs(answer - expected) <= 1e-7 * (1 + abs(expected)):
                raise ExerciseCheckError(
                    f"on {description}, {_diagnose(answer, mu1, var1, mu2, var2)}"
                )
        return len(cases)

    return run_check(run_cases, raise_on_failure=raise_on_failure)
