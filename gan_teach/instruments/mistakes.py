"""Detectors for the common GAN mistakes: run them on your own networks, data and functions.

Each detector returns a list of :class:`Finding` (empty when it found nothing wrong); :func:`report`
prints them in words. They look for the mistakes that the source article makes and that students make
most often:

- a discriminator that ends in a sigmoid, trained with a loss that applies one again (``sigmoid-output``);
- a sigmoid or batch norm in a Wasserstein critic (``critic-sigmoid``, ``critic-batch-dependence``);
- real data in ``[0, 1]`` or ``[0, 255]`` for a generator that ends in ``tanh`` (``data-range``);
- a layer that does not fit the shape it receives, such as the source's ``Linear(128*7*7, 1)`` after a
  ``128 x 16 x 16`` feature map (``shape-mismatch``);
- fakes not detached in the discriminator's update, so the generator receives gradients from the
  discriminator's loss (``fakes-not-detached``);
- a gradient penalty evaluated at the wrong points (``penalty-points``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from ..losses import gradient_penalty
from ..utils import evaluating

__all__ = [
    "Finding",
    "report",
    "find_sigmoid_output",
    "check_critic",
    "check_data_range",
    "trace_shapes",
    "check_detached_fakes",
    "check_penalty_points",
]


@dataclass(frozen=True)
class Finding:
    """One mistake found.

    Attributes:
        mistake: a short name, e.g. ``"sigmoid-output"``.
        message: what is wrong, why it matters, and what to do, in words.
    """

    mistake: str
    message: str


def report(findings: Sequence[Finding]) -> bool:
    """Print the findings; True when there are none.

    >>> report([])
    No mistake found.
    True
    """
    if not findings:
        print("No mistake found.")
        return True
    for finding in findings:
        print(f"[{finding.mistake}] {finding.message}")
    return False


def _last_module_run(
    model: nn.Module, example: torch.Tensor
) -> tuple[nn.Module | None, torch.Tensor]:
    """Run ``model`` on ``example``; return the last leaf module that ran, and the output."""
    order: list[nn.Module] = []
    hooks = [
        module.register_forward_hook(
            lambda module, inputs, output: order.append(module)
        )
        for module in model.modules()
        if not list(module.children())
    ]
    try:
        with torch.no_grad():
            output = model(example)
    finally:
        for hook in hooks:
            hook.remove()
    return (order[-1] if order else None), output


def find_sigmoid_output(
    discriminator: nn.Module, example: torch.Tensor
) -> list[Finding]:
    """Does the discriminator end in a sigmoid? gan_teach's losses (like ``BCEWithLogitsLoss``) apply their own.

    Args:
        discriminator: the network to test; it is run once, in eval mode, without gradients.
        example: a batch it accepts, e.g. ``real_images[:8]``.
    """
    with evaluating(discriminator):
        last, output = _last_module_run(discriminator, example)
    if isinstance(last, nn.Sigmoid):
        return [
            Finding(
                "sigmoid-output",
                (
                    "your discriminator ends in nn.Sigmoid, so it outputs probabilities. gan_teach's losses and "
                    "BCEWithLogitsLoss expect raw scores (logits) and apply the sigmoid themselves, in a numerically stable "
                    "way: remove the Sigmoid layer. (A sigmoid followed by BCELoss computes log(sigmoid(s)); sigmoid(s) rounds "
                    "to 0 or 1 once |s| is large (about 17 in float32 for 1, 88 for 0), BCELoss then clamps the log at -100, "
                    "and the gradient vanishes exactly when D is sure.)"
                ),
            )
        ]
    return []


def check_critic(critic: nn.Module, example: torch.Tensor) -> list[Finding]:
    """Is this a valid Wasserstein critic: raw scores (no final sigmoid), and each example scored on its own?

    A WGAN critic's score is unbounded, and the gradient penalty is defined per example; a sigmoid bounds the
    score and saturates, and batch norm makes an example's score depend on the rest of its batch.

    Args:
        critic: the network; it is run in training mode (where batch norm mixes examples), without gradients.
        example: a batch of at least 2 examples it accepts. Each is scored in this batch and again in a
            batch with other examples added: a per-example critic gives the same scores both times.
    """
    if example.shape[0] < 2:
        raise ValueError(
            f"check_critic needs a batch of at least 2 examples, got {example.shape[0]}"
        )
    findings = []
    was_training = critic.training
    critic.train()
    try:
        last, together = _last_module_run(critic, example)
        with torch.no_grad():
            # The same examples beside different company (shifted and stretched copies): batch statistics change.
            others = example.flip(0) * 2 + 1
            in_other_batch = critic(torch.cat([example, others]))[
                : example.shape[0]
            ]
    finally:
        critic.train(was_training)
    if isinstance(last, nn.Sigmoid):
        findings.append(
            Finding(
                "critic-sigmoid",
                (
                    "your critic ends in nn.Sigmoid. A Wasserstein critic's score must be unbounded: remove the sigmoid. "
                    "Bounded is not Lipschitz, and a saturated sigmoid gives the generator no gradient."
                ),
            )
        )
    if not torch.allclose(
        in_other_batch.reshape(together.shape),
        together,
        atol=1e-5,
        rtol=1e-4,
    ):
        norms = [
            type(m).__name__
            for m in critic.modules()
            if isinstance(m, nn.modules.batchnorm._BatchNorm)
        ]
        culprit = f" ({', '.join(sorted(set(norms)))})" if norms else ""
        findings.append(
            Finding(
                "critic-batch-dependence",
                (
                    f"your critic scores the same example differently in different batches{culprit}: the gradient penalty "
                    "is a per-example quantity, so use no normalisation or a per-example one (layer norm, "
                    "nn.GroupNorm(1, channels)) in a WGAN-GP critic."
                ),
            )
        )
    return findings


def check_data_range(
    data: torch.Tensor,
    generator: nn.Module | None = None,
    latent_dim: int | None = None,
) -> list[Finding]:
    """Do the real data lie in ``[-1, 1]``, the range of a generator that ends in ``tanh``?

    Args:
        data: real examples (any shape), e.g. a batch of images.
        generator: optional; if given, its output range on random noise is compared with the data's.
        latent_dim: the generator's input size; default: ``generator.latent_dim``.
    """
    low, high = data.min().item(), data.max().item()
    findings = []
    if high > 1.0 + 1e-3:
        findings.append(
            Finding(
                "data-range",
                (
                    f"your data lie in [{low:.3g}, {high:.3g}]. Pixels in [0, 255] must be scaled to [-1, 1] "
                    "(images / 127.5 - 1) to match a tanh generator; gan_teach.load_images does this for you."
                ),
            )
        )
    elif low >= 0.0 and high > 0.0:
        findings.append(
            Finding(
                "data-range",
                (
                    f"your data lie in [{low:.3g}, {high:.3g}], like [0, 1] images, but a tanh generator outputs [-1, 1]: "
                    "its black is -1, yours is 0. G must learn to squeeze its output into half its range, and until it does "
                    "D can tell them apart by the background alone. Use images * 2 - 1."
                ),
            )
        )
    if generator is not None:
        latent_dim = (
            latent_dim
            if latent_dim is not None
            else getattr(generator, "latent_dim", None)
        )
        if latent_dim is None:
            raise ValueError(
                "pass latent_dim: the generator has no latent_dim attribute"
            )
        with evaluating(generator), torch.no_grad():
            fake = generator(
                torch.randn(
                    64,
                    latent_dim,
                    generator=torch.Generator().manual_seed(0),
                )
            )
        fake_low, fake_high = fake.min().item(), fake.max().item()
        if fake_low < low - 0.5 or fake_high > high + 0.5:
            findings.append(
                Finding(
                    "data-range",
                    (
                        f"the generator's outputs reach [{fake_low:.3g}, {fake_high:.3g}] but the data stay in "
                        f"[{low:.3g}, {high:.3g}]: its last activation does not match the data's range."
                    ),
                )
            )
    return findings


def trace_shapes(
    model: nn.Module, example: torch.Tensor, show: bool = True
) -> list[Finding]:
    """Run ``model`` layer by layer with hooks, print each layer's output shape, and explain a shape error.

    Args:
        model: the network, e.g. the source article's discriminator.
        example: a batch of the shape the model will be given, e.g. ``torch.zeros(2, 3, 64, 64)``.
        show: print one line per layer.

    Returns:
        One ``shape-mismatch`` finding naming the layer that failed, or nothing if the forward pass works.
    """
    names = {module: name for name, module in model.named_modules()}
    last_shape = [tuple(example.shape)]

    def record(module: nn.Module, inputs, output) -> None:
        if isinstance(output, torch.Tensor):
            last_shape[0] = tuple(output.shape)
            if show:
                print(
                    f"  {names.get(module, '?'):<12} {type(module).__name__:<18} -> {last_shape[0]}"
                )

    hooks = [
        module.register_forward_hook(record)
        for module in model.modules()
        if not list(module.children())
    ]
    failed: list[nn.Module] = []
    pre_hooks = [
        module.register_forward_pre_hook(
            lambda module, inputs: failed.append(module) or None
        )
        for module in model.modules()
        if not list(module.children())
    ]
    if show:
        print(f"  {'input':<12} {'':<18} -> {last_shape[0]}")
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(example)
        return []
    except RuntimeError as error:
        layer = failed[-1] if failed else None
        where = (
            f"{names.get(layer, '?')} ({layer})"
            if layer is not None
            else "the model"
        )
        hint = ""
        if isinstance(layer, nn.Linear) and len(last_shape[0]) == 2:
            hint = (
                f" It expects {layer.in_features} features per example but receives {last_shape[0][1]}: compute "
                "in_features from the image size (or use nn.LazyLinear) instead of hard-coding it."
            )
        return [
            Finding(
                "shape-mismatch",
                f"{where} fails on an input of shape {last_shape[0]}: {error}.{hint}",
            )
        ]
    finally:
        model.train(was_training)
        for hook in hooks + pre_hooks:
            hook.remove()


def check_detached_fakes(
    discriminator_step: Callable[
        [nn.Module, nn.Module, torch.optim.Optimizer, torch.Tensor], object
    ],
    generator: nn.Module,
    discriminator: nn.Module,
    real: torch.Tensor,
) -> list[Finding]:
    """Does your discriminator update leave the generator alone?

    Args:
        discriminator_step: your ``f(generator, discriminator, discriminator_optimizer, real_batch)`` that makes
            fakes and updates the discriminator once.
        generator, discriminator: networks it accepts (they are copied; yours are not changed).
        real: a real batch.
    """
    import copy

    generator, discriminator = (
        copy.deepcopy(generator),
        copy.deepcopy(discriminator),
    )
    for parameter in generator.parameters():
        parameter.grad = None
    optimizer = torch.optim.SGD(discriminator.parameters(), lr=0.01)
    discriminator_step(generator, discriminator, optimizer, real)
    touched = [
        name
        for name, parameter in generator.named_parameters()
        if parameter.grad is not None and parameter.grad.abs().sum() > 0
    ]
    if touched:
        return [
            Finding(
                "fakes-not-detached",
                (
                    f"after your discriminator update, {len(touched)} of the generator's parameters hold gradients "
                    f"(e.g. {touched[0]}): the discriminator's loss was backpropagated into the generator. Make the fakes "
                    "with torch.no_grad() or pass fake.detach() to the discriminator. Unless the generator's gradients are "
                    "zeroed before its own update, its next step also follows the discriminator's objective; either way the "
                    "backward pass through the generator is wasted work."
                ),
            )
        ]
    return []


class _QuadraticCritic(nn.Module):
    """f(x) = 0.5 * sum(x^2) per example: its gradient is x itself, so its norm says where it was taken."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 0.5 * x.flatten(1).pow(2).sum(1)  # (N,)


def check_penalty_points(
    student_penalty: Callable[
        [nn.Module, torch.Tensor, torch.Tensor], torch.Tensor
    ],
) -> list[Finding]:
    """Is your gradient penalty taken at random points between real and fake examples, per example?

    Uses a critic whose gradient at ``x`` is ``x``: real examples of norm 3 and fake ones of norm 1, placed so
    that every point between them has a norm below 3 and above 1.

    Args:
        student_penalty: ``f(critic, real, fake) -> scalar``, WGAN-GP's ``E[(||grad f(x_hat)|| - 1)^2]``.
    """
    critic = _QuadraticCritic()
    direction = torch.zeros(256, 4)
    direction[:, 0] = 1.0
    real, fake = (
        3.0 * direction,
        1.0 * direction,
    )  # (256, 4): norms 3 and 1 along one axis
    torch.manual_seed(0)
    value = student_penalty(critic, real, fake)
    value = (
        float(value.detach())
        if isinstance(value, torch.Tensor)
        else float(value)
    )
    at_real, at_fake = (3.0 - 1) ** 2, (1.0 - 1) ** 2  # 4 and 0
    torch.manual_seed(0)
    expected = float(
        gradient_penalty(critic, real, fake).detach()
    )  # E[(2 e + 1 - 1)^2] = 4/3 for e ~ U(0, 1)
    if abs(value - at_real) < 1e-3:
        where = "at the real examples"
    elif abs(value - at_fake) < 1e-3:
        where = "at the fake examples"
    elif abs(value - ((2.0 * 0.5 + 1 - 1) ** 2)) < 1e-3:
        where = "at the midpoints only (a fixed epsilon = 0.5, the same for every example)"
    elif abs(value - expected) < 0.25:
        return []
    else:
        return [
            Finding(
                "penalty-points",
                (
                    f"your penalty is {value:.3f} on a test whose correct value is about {expected:.3f}: take the gradient "
                    "of the critic at x_hat = e x + (1 - e) G(z) with one uniform e per example, and average "
                    "(||grad|| - 1)^2 over the batch."
                ),
            )
        ]
    return [
        Finding(
            "penalty-points",
            (
                f"your penalty ({value:.3f}) is taken {where}. WGAN-GP penalises the gradient at random points on the "
                "lines between real and fake examples, x_hat = e x + (1 - e) G(z) with a fresh uniform e per example "
                "(random pairs stand in for the optimal coupling, on whose lines the optimal critic has gradient norm 1)."
            ),
        )
    ]
