"""Checks for the code exercises of the latent-space chapter (``book/latent.ipynb``)."""

from __future__ import annotations

from collections.abc import Callable

import torch

from ...instruments import latent
from .. import ExerciseCheckError, run_check

__all__ = ["check_slerp"]

SlerpFunction = Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor]


def _cases() -> list[tuple[str, torch.Tensor, torch.Tensor]]:
    """Hidden cases ``(description, z0, z1)``: float64 vectors ``(d,)`` of the same size."""
    generator = torch.Generator().manual_seed(1609)
    gaussian = torch.randn(2, 64, generator=generator, dtype=torch.float64)
    small = torch.randn(2, 5, generator=generator, dtype=torch.float64)
    direction = torch.randn(16, generator=generator, dtype=torch.float64)
    return [
        ("two 64-dimensional Gaussian latents", gaussian[0], gaussian[1]),
        (
            "two orthogonal unit vectors in 2-D",
            torch.tensor([1.0, 0.0], dtype=torch.float64),
            torch.tensor([0.0, 1.0], dtype=torch.float64),
        ),
        (
            "two orthogonal vectors of lengths 3 and 1",
            torch.tensor([3.0, 0.0, 0.0], dtype=torch.float64),
            torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64),
        ),
        (
            "two 5-dimensional latents of different lengths",
            0.5 * small[0],
            2.0 * small[1],
        ),
        (
            "two parallel latents (z1 = 2 z0), where the great circle is a line",
            direction,
            2.0 * direction,
        ),
    ]


TIMES = (0.0, 0.25, 0.5, 0.8, 1.0)


def _close(answer: torch.Tensor, expected: torch.Tensor) -> bool:
    return bool(torch.allclose(answer, expected, rtol=1e-5, atol=1e-6))


def _classical_slerp(
    z0: torch.Tensor, z1: torch.Tensor, t: float
) -> torch.Tensor:
    """White's formula applied to the raw vectors (no normalisation): the usual near miss."""
    omega = torch.arccos(
        torch.clamp(torch.dot(z0 / z0.norm(), z1 / z1.norm()), -1.0, 1.0)
    )
    return (
        torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1
    ) / torch.sin(omega)


def _diagnose(
    answer: torch.Tensor,
    z0: torch.Tensor,
    z1: torch.Tensor,
    t: float,
    expected: torch.Tensor,
) -> str:
    """Say which usual mistake ``answer`` matches, or give a general hint; never the answer itself."""
    if _close(answer, latent.lerp(z0, z1, t)):
        return (
            "your point lies on the straight line between z0 and z1 (that is lerp): slerp moves along the "
            "great circle of the directions instead, so its norm does not dip in the middle"
        )
    if _close(answer, latent.slerp(z1, z0, t)):
        return "your path runs backwards: at t = 0 it must give z0 and at t = 1 it must give z1"
    if _close(
        answer.norm(), torch.ones((), dtype=answer.dtype)
    ) and not _close(expected.norm(), answer.norm()):
        return (
            "your point has length 1: you moved along the great circle of the unit directions but forgot to "
            "scale by the interpolated norm (1 - t) |z0| + t |z1|"
        )
    if _close(answer / answer.norm(), expected / expected.norm()):
        return (
            f"your point has the right direction but norm {answer.norm().item():.4f}; the norm should be "
            "interpolated linearly, (1 - t) |z0| + t |z1|"
        )
    if abs(z0.norm().item() - z1.norm().item()) > 1e-3 and _close(
        answer, _classical_slerp(z0, z1, t)
    ):
        return (
            "you applied the sine formula to the raw vectors. That is right when |z0| = |z1|, but here the "
            "lengths differ: normalise z0 and z1 first, move along the great circle, then scale by "
            "(1 - t) |z0| + t |z1|"
        )
    return (
        "your point is not on the path described in the exercise. Hint: the angle is "
        "omega = arccos(z0 . z1 / (|z0| |z1|)); the unit direction at t is "
        "(sin((1 - t) omega) u0 + sin(t omega) u1) / sin(omega) for the unit vectors u0, u1"
    )


def check_slerp(
    student_function: SlerpFunction, *, raise_on_failure: bool = False
) -> bool:
    """Test a student's spherical interpolation against :func:`gan_teach.instruments.latent.slerp` on hidden cases.

    The slerp of the book: the *direction* moves along the great circle from ``z0 / |z0|`` to
    ``z1 / |z1|`` at constant angular speed, and the *norm* goes linearly from ``|z0|`` to ``|z1|``.

    Args:
        student_function: ``f(z0, z1, t) -> z`` for two float64 vectors ``(d,)`` and a float ``t`` in
            ``[0, 1]``; returns the point ``(d,)`` at ``t``.
        raise_on_failure: raise :class:`~gan_teach.course.ExerciseCheckError` instead of printing the message.

    Returns:
        True if every case passed.
    """
    cases = _cases()

    def run_cases() -> int:
        for description, z0, z1 in cases:
            for t in TIMES:
                answer = student_function(z0.clone(), z1.clone(), t)
                if not isinstance(answer, torch.Tensor):
                    raise ExerciseCheckError(
                        f"return a tensor of shape {tuple(z0.shape)}, got {type(answer).__name__} (on {description})"
                    )
                if answer.shape != z0.shape:
                    raise ExerciseCheckError(
                        f"on {description} at t = {t}, your point has shape {tuple(answer.shape)}, expected "
                        f"{tuple(z0.shape)}, the shape of z0 and z1"
                    )
                answer = answer.detach().to(torch.float64)
                if not bool(torch.isfinite(answer).all()):
                    hint = (
                        " When z0 and z1 are parallel, the angle is 0 and sin(omega) = 0: handle that case "
                        "(the arc is then a straight line), and clamp the cosine to [-1, 1] before arccos."
                        if "parallel" in description
                        else " Check for a division by zero."
                    )
                    raise ExerciseCheckError(
                        f"on {description} at t = {t}, your point contains NaN or inf.{hint}"
                    )
                expected = latent.slerp(z0, z1, t)
                if not _close(answer, expected):
                    raise ExerciseCheckError(
                        f"on {description} at t = {t}, {_diagnose(answer, z0, z1, t, expected)}"
                    )
        return len(cases)

    return run_check(run_cases, raise_on_failure=raise_on_failure)
