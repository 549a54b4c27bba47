"""Checks for the code exercise of the failures chapter (``book/failures.ipynb``).

:func:`check_non_saturating_loss` tests ``my_non_saturating_loss(fake_logits)``, the generator loss
``-E[log D(G(z))]`` computed from the discriminator's raw scores (logits), in a way that stays finite and
keeps its gradient when the discriminator is very sure the fakes are fake. It runs the student's function
on hidden batches, prints ``All N hidden cases passed.`` or ``Not yet: <what is wrong>``, and never prints
the answer.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from .. import ExerciseCheckError, run_check

__all__ = ["check_non_saturating_loss"]


def _reference(fake_logits: torch.Tensor) -> torch.Tensor:
    """The true value in float64, for comparison only: ``mean(log(1 + exp(-l)))``, written out for each sign."""
    logits = fake_logits.double()
    return torch.where(
        logits < 0,
        -logits + torch.log1p(torch.exp(logits)),
        torch.log1p(torch.exp(-logits)),
    ).mean()


def _minimax(fake_logits: torch.Tensor) -> torch.Tensor:
    """``E[log(1 - D(G(z)))]`` in float64: what a student writes who minimises the saturating loss."""
    logits = fake_logits.double()
    return -torch.where(
        logits > 0,
        logits + torch.log1p(torch.exp(-logits)),
        torch.log1p(torch.exp(logits)),
    ).mean()


# (name, logits): a mixed batch (first: there every typical mistake gives a different value), a D that is undecided, one that rejects the fakes strongly (where the
# loss must stay finite and its gradient must not vanish), and one fooled completely.
_CASES: list[tuple[str, torch.Tensor]] = [
    (
        "a mixed batch",
        torch.randn(64, generator=torch.Generator().manual_seed(6)) * 3,
    ),
    ("an undecided discriminator (all logits 0)", torch.zeros(8)),
    (
        "a discriminator that rejects the fakes with certainty (logits near -200)",
        -200.0
        + torch.randn(16, generator=torch.Generator().manual_seed(7)),
    ),
    (
        "a fooled discriminator (logits near +60)",
        60.0 + torch.randn(16, generator=torch.Generator().manual_seed(8)),
    ),
]


def check_non_saturating_loss(
    student_function: Callable[[torch.Tensor], torch.Tensor],
    *,
    raise_on_failure: bool = False,
) -> bool:
    """Test a student's non-saturating generator loss on hidden batches of logits.

    Args:
        student_function: ``f(fake_logits) -> scalar tensor``: the generator's loss ``-E[log sigmoid(l)]``
            for a batch ``(N,)`` of the discriminator's logits on generated samples, differentiable, finite for
            any finite logits.
        raise_on_failure: raise :class:`~gan_teach.course.ExerciseCheckError` instead of printing the message.

    Returns:
        True if every case passed.
    """

    def run_cases() -> int:
        for name, logits in _CASES:
            logits = logits.clone().float().requires_grad_(True)
            try:
                loss = student_function(logits)
            except Exception as error:  # noqa: BLE001 - any failure is the student's to read
                raise ExerciseCheckError(
                    f"on {name} your function raised {type(error).__name__}: {error}"
                ) from None
            if not isinstance(loss, torch.Tensor):
                raise ExerciseCheckError(
                    f"return a tensor, not {type(loss).__name__}, so that it can be backpropagated"
                )
            if loss.numel() != 1:
                raise ExerciseCheckError(
                    f"on {name} (a batch of {len(logits)}) you returned shape {tuple(loss.shape)}: return one number, "
                    "the mean over the batch"
                )
            value, expected = (
                float(loss.detach()),
                float(_reference(logits.detach())),
            )
            if not math.isfinite(value):
                raise ExerciseCheckError(
                    f"on {name} your loss is {value}. Computing log(sigmoid(l)) in two steps rounds sigmoid(l) to 0 "
                    "once l is very negative, and log(0) = -inf: use a function that works on the logits directly "
                    "(torch.nn.functional.softplus or logsigmoid)"
                )
            if not loss.requires_grad:
                raise ExerciseCheckError(
                    "your loss has no gradient with respect to the logits (did you use .item(), numpy or "
                    "torch.no_grad()?): the generator learns only through it"
                )
            if abs(value - expected) > 1e-4 * max(1.0, abs(expected)):
                if abs(
                    value - float(_minimax(logits.detach()))
                ) < 1e-4 * max(1.0, abs(value)):
                    hint = (
                        "that is the minimax (saturating) loss log(1 - D(G(z))): the non-saturating generator "
                        "maximises log D(G(z)) instead"
                    )
                elif abs(value + expected) < 1e-4 * max(1.0, abs(expected)):
                    hint = "the sign is wrong: the generator minimises minus the log-probability that fakes are real"
                elif abs(value - expected * len(logits)) < 1e-4 * max(
                    1.0, abs(expected * len(logits))
                ):
                    hint = "that is the sum over the batch; take the mean, so the loss does not grow with the batch size"
                elif expected > 50 and value < expected:
                    hint = (
                        "for very negative logits -log(sigmoid(l)) grows like -l; if you clamp the probability "
                        "before the log, the loss stops growing and its gradient vanishes"
                    )
                else:
                    hint = "the loss is -log(sigmoid(l)) averaged over the batch"
                raise ExerciseCheckError(
                    f"on {name} your loss is {value:.4g}, which is not right; {hint}"
                )
            (gradient,) = torch.autograd.grad(
                loss, logits, allow_unused=True
            )
            expected_gradient = -torch.sigmoid(
                -logits.detach().double()
            ) / len(logits)  # d/dl of the mean
            if gradient is None or not torch.allclose(
                gradient.double(), expected_gradient, rtol=1e-3, atol=1e-9
            ):
                raise ExerciseCheckError(
                    f"on {name} your loss has the right value but the wrong gradient with respect to the logits: "
                    "clamping or rounding inside the loss cuts the gradient the generator needs exactly when the "
                    "discriminator rejects its samples"
                )
        return len(_CASES)

    return run_check(run_cases, raise_on_failure=raise_on_failure)
