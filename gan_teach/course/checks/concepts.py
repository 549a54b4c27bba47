"""Checks for the exercises of the core-concepts chapter (``book/concepts.ipynb``).

``check_mixture_generator`` tests a generator written by hand: a deterministic function that turns
uniform noise ``u`` into samples of the library's ``mixture-1d`` distribution, half of the mass in
``N(-2, 0.5^2)`` and half in ``N(2, 0.5^2)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from ...data import toy_distribution
from .. import ExerciseCheckError, run_check

__all__ = ["check_mixture_generator"]

NUM_SAMPLES = 20_000  # noise values per hidden case
MAX_KS_DISTANCE = 0.02  # a correct generator scores about 0.005 on these sample sizes; a wrong one, 0.05 or more


def _mixture_cdf(points: torch.Tensor) -> torch.Tensor:
    """The cumulative distribution function of ``mixture-1d`` at ``points`` (float64)."""
    distribution = toy_distribution("mixture-1d")
    centers = distribution.centers_tensor().to(torch.float64)[:, 0]  # (K,)
    standardized = (
        points[:, None] - centers[None]
    ) / distribution.std  # (N, K)
    return (0.5 * (1 + torch.erf(standardized / math.sqrt(2)))).mean(
        dim=1
    )  # equal weights


def _ks_distance(samples: torch.Tensor) -> float:
    """The Kolmogorov-Smirnov distance between the samples' empirical CDF and the mixture's CDF."""
    ordered = torch.sort(samples.to(torch.float64)).values  # (N,)
    cdf = _mixture_cdf(ordered)  # (N,)
    count = ordered.numel()
    above = (
        torch.arange(1, count + 1, dtype=torch.float64) / count - cdf
    )  # empirical CDF just after each point
    below = (
        cdf - torch.arange(0, count, dtype=torch.float64) / count
    )  # and just before it
    return max(above.max().item(), below.max().item())


def _hidden_noise() -> list[torch.Tensor]:
    """Uniform noise in the open interval (0, 1), one ``(N,)`` float64 tensor per hidden seed."""
    return [
        torch.rand(
            NUM_SAMPLES,
            generator=torch.Generator().manual_seed(seed),
            dtype=torch.float64,
        ).clamp(1e-9, 1 - 1e-9)
        for seed in (3, 14, 2014)
    ]


def _check_one(
    student_function: Callable[[torch.Tensor], torch.Tensor],
    noise: torch.Tensor,
) -> None:
    samples = student_function(noise.clone())
    if not isinstance(samples, torch.Tensor):
        raise ExerciseCheckError(
            f"return a torch.Tensor, not {type(samples).__name__}"
        )
    if samples.shape != noise.shape:
        raise ExerciseCheckError(
            f"return one sample per noise value: expected shape {tuple(noise.shape)}, got {tuple(samples.shape)}"
        )
    samples = samples.detach().to(torch.float64)
    if not bool(torch.isfinite(samples).all()):
        raise ExerciseCheckError(
            f"{int((~torch.isfinite(samples)).sum())} of your samples are not finite (inf or nan): check what your "
            "function does near u = 0, u = 1/2 and u = 1"
        )
    again = student_function(noise.clone())
    if not torch.equal(
        torch.as_tensor(again).detach().to(torch.float64), samples
    ):
        raise ExerciseCheckError(
            "the same noise gave different samples on a second call: a generator is a deterministic function of "
            "its noise, so draw no new random numbers inside it; all its randomness must come from u"
        )
    left, right = (
        samples[samples < 0],
        samples[samples >= 0],
    )  # the two modes are at -2 and +2
    left_share = left.numel() / samples.numel()
    if abs(left_share - 0.5) > 0.03:
        raise ExerciseCheckError(
            f"{left_share:.0%} of your samples are negative (near the mode at -2), but the two modes have equal "
            "weight: half of the noise should go to each mode"
        )
    for name, part, center in [("-2", left, -2.0), ("+2", right, 2.0)]:
        if abs(part.mean().item() - center) > 0.1:
            raise ExerciseCheckError(
                f"the samples of the mode at {name} have mean {part.mean().item():.2f}; expected {center:.0f}"
            )
        spread = part.std().item()
        if abs(spread - 0.5) > 0.05:
            hint = (
                " (each mode is a Gaussian with std 0.5, not a single point)"
                if spread < 0.05
                else ""
            )
            raise ExerciseCheckError(
                f"the samples of the mode at {name} have standard deviation {spread:.3f}; expected 0.5{hint}"
            )
    distance = _ks_distance(samples)
    if distance > MAX_KS_DISTANCE:
        raise ExerciseCheckError(
            f"the share, mean and spread of each mode are right, but the shape is not Gaussian: the largest gap "
            f"between your samples' cumulative distribution and the mixture's is {distance:.3f} (a correct "
            f"generator stays under {MAX_KS_DISTANCE}); compare a histogram of your samples with the density"
        )


def check_mixture_generator(
    student_function: Callable[[torch.Tensor], torch.Tensor],
    *,
    raise_on_failure: bool = False,
) -> bool:
    """Test a hand-written generator ``u -> x`` for the ``mixture-1d`` distribution on hidden noise.

    Args:
        student_function: ``G(u)`` for a ``(N,)`` float64 tensor of uniform noise in ``(0, 1)``; it must
            return ``(N,)`` samples whose distribution is ``mixture-1d`` (equal-weight Gaussians at -2 and
            +2 with standard deviation 0.5), and be deterministic: the same ``u`` gives the same samples.
        raise_on_failure: raise :class:`~gan_teach.course.ExerciseCheckError` instead of printing the message.

    Returns:
        True if every hidden case passed.

    >>> check_mixture_generator(lambda u: u)
    Not yet: 0% of your samples are negative (near the mode at -2), but the two modes have equal weight: half of the noise should go to each mode
    False
    """
    cases = _hidden_noise()

    def run_cases() -> int:
        for noise in cases:
            _check_one(student_function, noise)
        return len(cases)

    return run_check(run_cases, raise_on_failure=raise_on_failure)
