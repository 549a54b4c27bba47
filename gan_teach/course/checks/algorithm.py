"""Checks for the code exercises of the chapter "The algorithm step by step" (``book/algorithm.ipynb``).

``check_discriminator_loss`` tests a student's discriminator loss written from logits;
``check_discriminator_step`` tests one discriminator update of Algorithm 1. Both run hidden cases,
recognise the usual mistakes (a missing term, swapped labels, a sigmoid too many, a sum instead of
a mean, fakes that are not detached, a forgotten ``zero_grad``) and say so in words, without
printing the answer.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ...models import MLPDiscriminator, MLPGenerator
from .. import ExerciseCheckError, run_check

__all__ = ["check_discriminator_loss", "check_discriminator_step"]

DiscriminatorLoss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _reference_loss(
    real_logits: torch.Tensor, fake_logits: torch.Tensor
) -> torch.Tensor:
    """``-(mean log D(x) + mean log(1 - D(G(z))))`` from logits; the same as ``losses.bce_discriminator_loss``."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


# Typical wrong answers and what to tell a student whose loss matches one of them on every hidden batch.
_MISTAKES: list[tuple[DiscriminatorLoss, str]] = [
    (
        lambda real, fake: F.softplus(-real).mean(),
        "did you forget the fake term? D must also be rewarded for calling generated samples fake (label 0).",
    ),
    (
        lambda real, fake: F.softplus(fake).mean(),
        "did you forget the real term? D must also be rewarded for calling real samples real (label 1).",
    ),
    (
        lambda real, fake: (
            F.softplus(real).mean() + F.softplus(-fake).mean()
        ),
        "are the labels swapped? Real examples get the target 1 and generated ones the target 0.",
    ),
    (
        lambda real, fake: (
            -(F.softplus(-real).mean() + F.softplus(fake).mean())
        ),
        "the sign is flipped: you return the log-likelihood that D maximises, but an optimizer minimises, "
        "so the loss is minus it (a cross-entropy, which is never negative).",
    ),
    (
        lambda real, fake: (
            F.softplus(-torch.sigmoid(real)).mean()
            + F.softplus(torch.sigmoid(fake)).mean()
        ),
        "it looks as if the sigmoid is applied twice. The inputs are logits, and "
        "binary_cross_entropy_with_logits (or softplus) already contains the sigmoid: do not call torch.sigmoid first.",
    ),
    (
        lambda real, fake: F.softplus(-real).sum() + F.softplus(fake).sum(),
        "it looks as if you summed over the batch instead of averaging. Algorithm 1 uses (1/m) sum, "
        "so that the loss, and the step size, do not grow with the batch size.",
    ),
    (
        lambda real, fake: (
            (F.softplus(-real).sum() + F.softplus(fake).sum())
            / (len(real) + len(fake))
        ),
        "you averaged over the real and fake examples together, which weights the two terms by the batch "
        "sizes (and halves the loss when they are equal). Take the mean of each term separately, then add them.",
    ),
]


def _loss_cases() -> list[tuple[str, torch.Tensor, torch.Tensor]]:
    """Hidden batches ``(description, real_logits, fake_logits)``; the last one has extreme logits."""
    generator = torch.Generator().manual_seed(2014)
    return [
        (
            "a batch of 8 real and 8 fake logits, all 0 (D(x) = 1/2 everywhere)",
            torch.zeros(8),
            torch.zeros(8),
        ),
        (
            "a batch where every real logit is +2 and every fake logit is -2 (a D that is right)",
            torch.full((6,), 2.0),
            torch.full((6,), -2.0),
        ),
        (
            "a hidden batch of 16 real and 24 fake logits",
            torch.randn(16, generator=generator) * 2,
            torch.randn(24, generator=generator) * 2 - 1,
        ),
        (
            "a hidden batch of 5 real and 3 fake logits",
            torch.randn(5, generator=generator) + 1,
            torch.randn(3, generator=generator) * 3,
        ),
        (
            "a batch with logits as large as 40 (a very confident D)",
            torch.tensor([40.0, -40.0, 3.0, 25.0]),
            torch.tensor([40.0, -40.0, -3.0, 30.0]),
        ),
    ]


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-4 * (1 + abs(b))


def _call_loss(
    student_function: DiscriminatorLoss,
    real: torch.Tensor,
    fake: torch.Tensor,
) -> torch.Tensor:
    """The student's loss on copies of the logits, validated; logit tensors require gradients."""
    real, fake = (
        real.clone().requires_grad_(True),
        fake.clone().requires_grad_(True),
    )
    try:
        answer = student_function(real, fake)
    except RuntimeError as error:
        if "between 0 and 1" in str(error):
            raise ExerciseCheckError(
                "binary_cross_entropy expects probabilities in [0, 1], but the inputs are logits (any real number): "
                "use binary_cross_entropy_with_logits, or softplus."
            ) from None
        raise
    if not isinstance(answer, torch.Tensor):
        raise ExerciseCheckError(
            f"return a torch.Tensor (a scalar that .backward() can use), not {type(answer).__name__}; "
            "did you call .item()?"
        )
    if answer.numel() != 1:
        raise ExerciseCheckError(
            f"the loss must be one number (a scalar tensor), got shape {tuple(answer.shape)}: "
            "average over the batch with .mean()"
        )
    if not answer.requires_grad:
        raise ExerciseCheckError(
            "your loss does not depend on the logits through autograd, so D would get no gradient: "
            "did you use .detach(), .item() or torch.tensor(...) on the way?"
        )
    return answer.reshape(())


def check_discriminator_loss(
    student_function: DiscriminatorLoss, *, raise_on_failure: bool = False
) -> bool:
    """Test a student's discriminator loss on hidden batches of logits, and say what is wrong.

    The expected loss is ``-(1/m) sum log D(x_i) - (1/n) sum log(1 - D(G(z_j)))`` with ``D = sigmoid(logit)``,
    the binary cross-entropy with target 1 for real and 0 for generated examples.

    Args:
        student_function: ``f(real_logits, fake_logits) -> loss`` for two 1-D float32 tensors of raw scores
            (the batches may differ in size); it must return a scalar tensor connected to the logits.
        raise_on_failure: raise :class:`~gan_teach.course.ExerciseCheckError` instead of printing the message.

    Returns:
        True if every hidden case passed.
    """
    cases = _loss_cases()
    ordinary, extreme = cases[:-1], cases[-1]

    def diagnose() -> str | None:
        """The hint of the one mistake that the student's loss matches on every ordinary batch, if any."""
        answers = [
            float(_call_loss(student_function, real, fake).detach())
            for _, real, fake in ordinary
        ]
        for mistake, hint in _MISTAKES:
            if all(
                _close(answer, float(mistake(real, fake)))
                for answer, (_, real, fake) in zip(answers, ordinary)
            ):
                return hint
        return None

    def run_cases() -> int:
        for description, real, fake in ordinary:
            answer = float(
                _call_loss(student_function, real, fake).detach()
            )
            expected = float(_reference_loss(real, fake))
            if not _close(answer, expected):
                hint = diagnose() or (
                    "compare your loss with the formula: minus the mean of log D(x) over the real logits, "
                    "minus the mean of log(1 - D(G(z))) over the fake ones, with D = sigmoid(logit)."
                )
                raise ExerciseCheckError(
                    f"on {description} your loss is {answer:.4f}, but it should be {expected:.4f}: {hint}"
                )
        description, real, fake = extreme
        answer = float(_call_loss(student_function, real, fake).detach())
        expected = float(_reference_loss(real, fake))
        if not _close(answer, expected):
            raise ExerciseCheckError(
                f"on {description} your loss is {answer:.4g}, but it should be {expected:.4f}. Your formula is right "
                "on ordinary batches, so it is a numerical problem: log(sigmoid(s)) and log(1 - sigmoid(s)) "
                "round to log(0) for large |s|. Compute from the logits with softplus "
                "(log(1 + exp(s))) or binary_cross_entropy_with_logits, which are stable."
            )
        return len(cases)

    return run_check(run_cases, raise_on_failure=raise_on_failure)


# ------------------------------------------------------------------------------ one D update

DiscriminatorStep = Callable[
    [
        nn.Module,
        nn.Module,
        torch.optim.Optimizer,
        torch.Tensor,
        torch.Tensor,
    ],
    torch.Tensor,
]


def _step_case(
    seed: int,
) -> tuple[nn.Module, nn.Module, torch.Tensor, torch.Tensor]:
    """A small generator and discriminator for 2-D points, a real batch and a noise batch, all seeded."""
    generator_rng = torch.Generator().manual_seed(seed)
    torch_state = torch.random.get_rng_state()
    torch.manual_seed(seed)  # the networks' initial weights
    generator = MLPGenerator(
        latent_dim=4, data_dim=2, hidden_dim=16, num_layers=2
    )
    discriminator = MLPDiscriminator(
        data_dim=2, hidden_dim=16, num_layers=2
    )
    torch.random.set_rng_state(
        torch_state
    )  # leave the student's random stream as it was
    real = torch.randn(12, 2, generator=generator_rng) + 1.0  # (12, 2)
    noise = torch.randn(12, 4, generator=generator_rng)  # (12, latent_dim)
    return generator, discriminator, real, noise


def _parameters(module: nn.Module) -> list[torch.Tensor]:
    return [parameter.detach().clone() for parameter in module.parameters()]


def _max_difference(a: list[torch.Tensor], b: list[torch.Tensor]) -> float:
    return max(float((x - y).abs().max()) for x, y in zip(a, b))


def _expected_step(
    generator: nn.Module,
    discriminator: nn.Module,
    real: torch.Tensor,
    noise: torch.Tensor,
    learning_rate: float,
    stale: list[torch.Tensor] | None = None,
    sign: float = 1.0,
) -> tuple[list[torch.Tensor], float]:
    """D's parameters after one SGD step on the (possibly mistaken) loss, and the loss before the step."""
    discriminator = copy.deepcopy(discriminator)
    with torch.no_grad():
        fake = generator(noise)  # (B, 2)
    loss = _reference_loss(discriminator(real), discriminator(fake))
    gradients = torch.autograd.grad(
        sign * loss, list(discriminator.parameters())
    )
    with torch.no_grad():
        for index, (parameter, gradient) in enumerate(
            zip(discriminator.parameters(), gradients)
        ):
            total = gradient + (stale[index] if stale is not None else 0)
            parameter -= learning_rate * total
    return _parameters(discriminator), float(loss.detach())


def check_discriminator_step(
    student_function: DiscriminatorStep, *, raise_on_failure: bool = False
) -> bool:
    """Test a student's single discriminator update (block (1) of Algorithm 1 with k = 1).

    The student's function receives a generator, a discriminator, the discriminator's optimizer (plain SGD
    here, so that the expected step is exact), a real batch ``(B, 2)`` and a noise batch ``(B, latent_dim)``.
    It must make the fakes from the noise without letting gradients reach the generator, compute the
    discriminator loss (binary cross-entropy from logits), take one optimizer step, and return the loss.
    The discriminator's gradients hold stale values when it is called, as they would after a generator update.

    Args:
        student_function: ``f(generator, discriminator, discriminator_optimizer, real, noise) -> d_loss``.
        raise_on_failure: raise :class:`~gan_teach.course.ExerciseCheckError` instead of printing the message.

    Returns:
        True if every hidden case passed.
    """
    learning_rate = 0.1
    seeds = (7, 2014)

    def run_cases() -> int:
        for seed in seeds:
            generator, discriminator, real, noise = _step_case(seed)
            # Stale gradients, as a generator update leaves them in D (its loss goes through D).
            stale = [
                torch.full_like(parameter, 0.5)
                for parameter in discriminator.parameters()
            ]
            for parameter, gradient in zip(
                discriminator.parameters(), stale
            ):
                parameter.grad = gradient.clone()
            generator_before, discriminator_before = (
                _parameters(generator),
                _parameters(discriminator),
            )
            reference = copy.deepcopy(discriminator)
            optimizer = torch.optim.SGD(
                discriminator.parameters(), lr=learning_rate
            )
            d_loss = student_function(
                generator,
                discriminator,
                optimizer,
                real.clone(),
                noise.clone(),
            )

            if (
                _max_difference(_parameters(generator), generator_before)
                > 0
            ):
                raise ExerciseCheckError(
                    "the generator's weights changed: this step updates D only. G is held fixed while D learns."
                )
            if any(
                parameter.grad is not None
                and bool(parameter.grad.abs().sum() > 0)
                for parameter in generator.parameters()
            ):
                raise ExerciseCheckError(
                    "gradients reached the generator: make the fakes under torch.no_grad() or call .detach() on "
                    "them, so that D's loss does not backpropagate into G (it wastes work, and G's gradients "
                    "would then be summed with those of its own update)."
                )
            discriminator_after = _parameters(discriminator)
            if (
                _max_difference(discriminator_after, discriminator_before)
                == 0
            ):
                raise ExerciseCheckError(
                    "the discriminator's weights did not change: call optimizer.zero_grad(), then loss.backward(), then "
                    "optimizer.step(), in this order (zero_grad between backward and step erases the gradients)."
                )
            expected, expected_loss = _expected_step(
                generator, reference, real, noise, learning_rate
            )
            if _max_difference(discriminator_after, expected) > 1e-5:
                mistakes = [
                    (
                        _expected_step(
                            generator,
                            reference,
                            real,
                            noise,
                            learning_rate,
                            stale=stale,
                        )[0],
                        "you forgot optimizer.zero_grad() before backward(): the gradients were added to the stale "
                        "ones left in D by the previous update.",
                    ),
                    (
                        _expected_step(
                            generator,
                            reference,
                            real,
                            noise,
                            learning_rate,
                            sign=-1.0,
                        )[0],
                        "D moved uphill on its loss: minimise the loss (its gradient is followed downhill by "
                        "optimizer.step()); do not negate it.",
                    ),
                ]
                for parameters, hint in mistakes:
                    if (
                        _max_difference(discriminator_after, parameters)
                        < 1e-5
                    ):
                        raise ExerciseCheckError(hint)
                raise ExerciseCheckError(
                    "D's weights changed, but not as one SGD step on the discriminator loss would change them: check "
                    "the loss (real logits with target 1, logits of generator(noise) with target 0, each term "
                    "averaged) and that you take exactly one optimizer step."
                )
            if not isinstance(d_loss, torch.Tensor) or d_loss.numel() != 1:
                raise ExerciseCheckError(
                    "return the discriminator loss as a scalar tensor (for the training curves)"
                )
            if abs(float(d_loss.detach()) - expected_loss) > 1e-4 * (
                1 + expected_loss
            ):
                raise ExerciseCheckError(
                    f"the update is right, but you return {float(d_loss.detach()):.4f} instead of the loss that was "
                    "minimised, computed before the step."
                )
        return len(seeds)

    return run_check(run_cases, raise_on_failure=raise_on_failure)
