"""Checks for the code exercise of the chapter "The GAN lab" (``book/lab.ipynb``).

``check_fake_push`` tests a student's arrows: for each generated point, minus the gradient of that
point's non-saturating generator loss ``-log D(x) = softplus(-D(x))`` with respect to the point. It runs
hidden discriminators and points, recognises the usual mistakes (the sign, the batch mean, the minimax
loss, the gradient of D's score instead of the loss, moved points instead of arrows) and says so in
words, without printing the answer.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ...models import MLPDiscriminator
from .. import ExerciseCheckError, run_check

__all__ = ["check_fake_push"]

FakePush = Callable[[nn.Module, torch.Tensor], torch.Tensor]


def _score_gradient(
    discriminator: nn.Module, points: torch.Tensor, per_point_loss: Callable
) -> torch.Tensor:
    """The gradient of ``sum_i per_point_loss(D(x_i))`` with respect to the points, ``(N, 2)``."""
    points = points.detach().clone().requires_grad_(True)
    (gradient,) = torch.autograd.grad(
        per_point_loss(discriminator(points)).sum(), points
    )
    return gradient


def _reference(
    discriminator: nn.Module, points: torch.Tensor
) -> torch.Tensor:
    """Minus the gradient of each point's own loss ``softplus(-D(x))``: the same as ``gan_teach.instruments.lab.generator_gradients``."""
    return -_score_gradient(
        discriminator, points, lambda scores: F.softplus(-scores)
    )


# Typical wrong answers, each as a function of (discriminator, points) -> arrows, and what to say.
_MISTAKES: list[
    tuple[Callable[[nn.Module, torch.Tensor], torch.Tensor], str]
] = [
    (
        lambda d, x: -_reference(d, x),
        "your arrows point the opposite way: they are the gradient of the loss, but a generator step moves each "
        "fake *down* the loss, along minus the gradient.",
    ),
    (
        lambda d, x: _reference(d, x) / len(x),
        "your arrows are N times too short (N = the number of points): it looks like the gradient of the batch's "
        "mean loss. Each arrow should be the gradient of that one point's own loss; sum the per-point losses "
        "instead of averaging them (each point only changes its own score).",
    ),
    (
        lambda d, x: -_score_gradient(d, x, lambda s: -F.softplus(s)),
        "your arrows follow the minimax loss log(1 - D(G(z))). The exercise asks for the non-saturating loss "
        "-log D(G(z)) = softplus(-score); the two point the same way but their lengths differ.",
    ),
    (
        lambda d, x: _score_gradient(d, x, lambda s: s),
        "your arrows follow the gradient of D's raw score, not of the loss: they miss the factor 1 - D(x), which "
        "makes the arrows short where D already believes a fake is real. Differentiate softplus(-score).",
    ),
    (
        lambda d, x: x + _reference(d, x),
        "you returned the moved points (point + arrow), not the arrows themselves.",
    ),
]


def _cases() -> list[tuple[str, nn.Module, torch.Tensor]]:
    """Hidden ``(description, discriminator, points)`` cases with fixed seeds."""
    cases = []
    for seed, width, count in ((0, 16, 8), (1, 32, 20), (2, 8, 1)):
        torch.manual_seed(seed)
        discriminator = MLPDiscriminator(data_dim=2, hidden_dim=width)
        points = (
            torch.randn(
                count,
                2,
                generator=torch.Generator().manual_seed(100 + seed),
            )
            * 2
        )
        what = "one point" if count == 1 else f"{count} points"
        cases.append(
            (
                f"a hidden discriminator of width {width} and {what}",
                discriminator,
                points,
            )
        )
    linear = nn.Sequential(
        nn.Linear(2, 1), nn.Flatten(0)
    )  # D(x) = w . x + b: (N, 2) -> (N,)
    with torch.no_grad():
        linear[0].weight.copy_(torch.tensor([[1.0, -2.0]]))
        linear[0].bias.fill_(0.5)
    cases.append(
        (
            "a linear discriminator D(x) = x_0 - 2 x_1 + 0.5 and 6 points",
            linear,
            torch.tensor(
                [
                    [0.0, 0.0],
                    [1.0, 1.0],
                    [-3.0, 2.0],
                    [2.0, -1.0],
                    [0.5, 0.25],
                    [4.0, 4.0],
                ]
            ),
        )
    )
    return cases


def check_fake_push(
    my_fake_push: FakePush, *, raise_on_failure: bool = False
) -> bool:
    """Check a student's ``my_fake_push(discriminator, fake_points) -> arrows`` on hidden cases.

    Args:
        my_fake_push: takes a discriminator (points ``(N, 2)`` to scores ``(N,)``) and fake points ``(N, 2)``;
            returns ``(N, 2)``: for each point, minus the gradient of its own loss ``-log sigmoid(D(x))``.
        raise_on_failure: raise :class:`~gan_teach.course.ExerciseCheckError` instead of printing ``Not yet: ...``.

    Returns:
        True if every hidden case passed.
    """

    def run_cases() -> int:
        cases = _cases()
        for description, discriminator, points in cases:
            discriminator.zero_grad(set_to_none=True)
            before = points.clone()
            try:
                answer = my_fake_push(discriminator, points.clone())
            except Exception as error:  # noqa: BLE001 - the student's code may raise anything
                hint = ""
                if "does not require grad" in str(error):
                    hint = " Make the points a leaf that records gradients: points = points.clone().requires_grad_(True)."
                raise ExerciseCheckError(
                    f"on {description}, your function raised {type(error).__name__}: {error}.{hint}"
                ) from error
            if not torch.is_tensor(answer):
                raise ExerciseCheckError(
                    f"on {description}, your function returned a {type(answer).__name__}; "
                    "return a tensor of arrows, one row per point."
                )
            answer = answer.detach().float()
            if answer.shape != points.shape:
                raise ExerciseCheckError(
                    f"on {description}, your arrows have shape {tuple(answer.shape)}; "
                    f"expected one 2-D arrow per point, {tuple(points.shape)}."
                )
            if not torch.isfinite(answer).all():
                raise ExerciseCheckError(
                    f"on {description}, some arrows are NaN or infinite: use softplus, which "
                    "stays finite, rather than log(sigmoid(...))."
                )
            expected = _reference(discriminator, before)
            if torch.allclose(answer, expected, rtol=1e-4, atol=1e-6):
                continue
            if answer.abs().max() == 0:
                raise ExerciseCheckError(
                    f"on {description}, every arrow is zero: compute each point's loss "
                    "softplus(-D(x)) and differentiate it with respect to the points."
                )
            for mistake, message in _MISTAKES:
                if torch.allclose(
                    answer,
                    mistake(discriminator, before).float(),
                    rtol=1e-4,
                    atol=1e-6,
                ):
                    raise ExerciseCheckError(f"on {description}, {message}")
            error = (answer - expected).norm(dim=1).max().item()
            raise ExerciseCheckError(
                f"on {description}, your arrows are off by up to {error:.3g} in length. Compare your code with: "
                "loss of each point = softplus(-D(x)); arrow = minus its gradient with respect to x."
            )
        return len(cases)

    return run_check(run_cases, raise_on_failure=raise_on_failure)
