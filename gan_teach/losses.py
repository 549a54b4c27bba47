"""GAN losses, all computed from the discriminator's raw scores (logits), never from probabilities.

Writing ``log(sigmoid(s))`` as ``-softplus(-s)`` keeps the losses finite where ``sigmoid`` rounds to
0 or 1; this is what ``BCEWithLogitsLoss`` does, and why a model should not end in a sigmoid.

With ``D(x) = sigmoid(s)``, the value function of Goodfellow et al. (2014) is
``V(D, G) = E_x[log D(x)] + E_z[log(1 - D(G(z)))]``. The discriminator maximises it, so its loss is
``-V``; the generator minimises it ("minimax") or, in practice, maximises ``log D(G(z))``
("non-saturating") because ``log(1 - D(G(z)))`` has almost no gradient when D rejects the fakes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "GANLoss",
    "LOSSES",
    "get_loss",
    "gradient_penalty",
    "r1_penalty",
    "bce_discriminator_loss",
    "minimax_generator_loss",
    "non_saturating_generator_loss",
    "lsgan_discriminator_loss",
    "lsgan_generator_loss",
    "hinge_discriminator_loss",
    "wasserstein_discriminator_loss",
    "wasserstein_generator_loss",
]


def bce_discriminator_loss(
    real_logits: torch.Tensor, fake_logits: torch.Tensor
) -> torch.Tensor:
    """``-E[log D(x)] - E[log(1 - D(G(z)))]``: binary cross-entropy with real = 1 and fake = 0.

    >>> round(bce_discriminator_loss(torch.zeros(4), torch.zeros(4)).item(), 4)  # D(x) = 0.5: 2 log 2
    1.3863
    """
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def minimax_generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """``E[log(1 - D(G(z)))]``, minimised: the original, saturating generator loss."""
    return -F.softplus(fake_logits).mean()


def non_saturating_generator_loss(
    fake_logits: torch.Tensor,
) -> torch.Tensor:
    """``-E[log D(G(z))]``: same fixed point as minimax, strong gradients when D rejects the fakes."""
    return F.softplus(-fake_logits).mean()


def lsgan_discriminator_loss(
    real_logits: torch.Tensor, fake_logits: torch.Tensor
) -> torch.Tensor:
    """Least squares (Mao et al. 2017): ``0.5 E[(D(x) - 1)^2] + 0.5 E[D(G(z))^2]`` on raw scores."""
    return (
        0.5 * ((real_logits - 1) ** 2).mean()
        + 0.5 * (fake_logits**2).mean()
    )


def lsgan_generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Least squares: ``0.5 E[(D(G(z)) - 1)^2]``."""
    return 0.5 * ((fake_logits - 1) ** 2).mean()


def hinge_discriminator_loss(
    real_logits: torch.Tensor, fake_logits: torch.Tensor
) -> torch.Tensor:
    """Hinge (Lim & Ye 2017; Miyato et al. 2018): ``E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))]``."""
    return F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()


def wasserstein_discriminator_loss(
    real_logits: torch.Tensor, fake_logits: torch.Tensor
) -> torch.Tensor:
    """The critic's loss ``E[D(G(z))] - E[D(x)]`` (Arjovsky et al. 2017); needs a Lipschitz constraint."""
    return fake_logits.mean() - real_logits.mean()


def wasserstein_generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """``-E[D(G(z))]``; also the generator loss of the hinge GAN."""
    return -fake_logits.mean()


def gradient_penalty(
    discriminator: nn.Module, real: torch.Tensor, fake: torch.Tensor
) -> torch.Tensor:
    """WGAN-GP's penalty ``E[(||grad D(x_hat)||_2 - 1)^2]`` (Gulrajani et al. 2017).

    ``x_hat`` lies on straight lines between real and fake examples: ``x_hat = e x + (1 - e) G(z)``
    with one uniform ``e`` per example. The optimal critic has gradient norm 1 on the lines between
    *optimally coupled* pairs; random pairs are the paper's practical stand-in for that coupling. The penalty itself is differentiated (``create_graph=True``).

    Args:
        discriminator: the critic; it must treat examples independently (no batch norm).
        real: a batch of real examples.
        fake: a batch of generated examples of the same shape, detached from the generator.

    Returns:
        A scalar tensor.
    """
    if real.shape != fake.shape:
        raise ValueError(
            f"real and fake batches must have the same shape, got {tuple(real.shape)} and {tuple(fake.shape)}"
        )
    mix_shape = (real.shape[0],) + (1,) * (
        real.dim() - 1
    )  # one mixing weight per example: (N, 1, 1, 1) for images
    epsilon = torch.rand(mix_shape, device=real.device, dtype=real.dtype)
    interpolated = (
        (epsilon * real + (1 - epsilon) * fake)
        .detach()
        .requires_grad_(True)
    )
    scores = discriminator(interpolated)  # (N,)
    (gradients,) = torch.autograd.grad(
        scores.sum(), interpolated, create_graph=True
    )  # same shape as the input
    norms = gradients.flatten(1).norm(2, dim=1)  # (N,)
    return ((norms - 1) ** 2).mean()


def r1_penalty(
    discriminator: nn.Module, real: torch.Tensor
) -> torch.Tensor:
    """R1 regulariser ``E_x[||grad D(x)||^2]`` on real data (Mescheder et al. 2018).

    It penalises the discriminator for changing quickly where the real data are, which makes the
    game converge locally; the loss adds ``gamma / 2`` times it. Differentiable (``create_graph=True``).

    Args:
        discriminator: the discriminator (it must treat examples independently).
        real: a batch of real examples.

    Returns:
        A scalar tensor.
    """
    real = real.detach().requires_grad_(True)
    scores = discriminator(real)  # (N,)
    (gradients,) = torch.autograd.grad(
        scores.sum(), real, create_graph=True
    )
    return gradients.flatten(1).pow(2).sum(1).mean()


@dataclass(frozen=True)
class GANLoss:
    """A pair of losses, and the weight of the gradient penalty (0 for none).

    Attributes:
        name: the registry name (``"non-saturating"`` ...).
        discriminator_loss: ``f(real_logits, fake_logits) -> scalar``, minimised by the discriminator.
        generator_loss: ``f(fake_logits) -> scalar``, minimised by the generator.
        gradient_penalty_weight: lambda of WGAN-GP; 0 disables the penalty.
        uses_sigmoid: whether D's score is meant as a probability ``sigmoid(logit)``; False for critics.
    """

    name: str
    discriminator_loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    generator_loss: Callable[[torch.Tensor], torch.Tensor]
    gradient_penalty_weight: float = 0.0
    uses_sigmoid: bool = True


#: Name -> :class:`GANLoss`, for ``minimax``, ``non-saturating``, ``lsgan``, ``hinge``, ``wgan-gp``.
#:
#: :meta hide-value:
LOSSES: dict[str, GANLoss] = {
    "minimax": GANLoss(
        "minimax", bce_discriminator_loss, minimax_generator_loss
    ),
    "non-saturating": GANLoss(
        "non-saturating",
        bce_discriminator_loss,
        non_saturating_generator_loss,
    ),
    "lsgan": GANLoss(
        "lsgan",
        lsgan_discriminator_loss,
        lsgan_generator_loss,
        uses_sigmoid=False,
    ),
    "hinge": GANLoss(
        "hinge",
        hinge_discriminator_loss,
        wasserstein_generator_loss,
        uses_sigmoid=False,
    ),
    "wgan-gp": GANLoss(
        "wgan-gp",
        wasserstein_discriminator_loss,
        wasserstein_generator_loss,
        gradient_penalty_weight=10.0,
        uses_sigmoid=False,
    ),
}


def get_loss(name: str) -> GANLoss:
    """The loss called ``name``: ``minimax``, ``non-saturating``, ``lsgan``, ``hinge`` or ``wgan-gp``."""
    if name not in LOSSES:
        raise ValueError(
            f"unknown loss {name!r}; choose one of: {', '.join(LOSSES)}"
        )
    return LOSSES[name]
