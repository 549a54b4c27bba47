"""The numbers behind the GAN theory chapter: densities on a grid, D*, V(D, G), JSD.

Goodfellow et al. (2014) prove two facts about the value function
``V(D, G) = E_x[log D(x)] + E_z[log(1 - D(G(z)))]``: for a fixed generator the best discriminator is
``D*(x) = p_data(x) / (p_data(x) + p_g(x))``, and then ``V(D*, G) = -log 4 + 2 JSD(p_data || p_g)``.
For 1-D densities both can be checked by integrating on a fine grid with the trapezoid rule, which is
what these functions do. Every density is a tensor of values on the same grid (float64 for accuracy).
"""

from __future__ import annotations

import math  # noqa: F401 - the doctests use it
from collections.abc import Callable

import torch

from ..data import ToyDistribution

__all__ = [
    "density_on_grid",
    "optimal_discriminator",
    "pointwise_objective",
    "value_function",
    "kl_divergence",
    "jensen_shannon",
    "wasserstein_1d",
    "loss_and_logit_gradient",
]


def density_on_grid(
    distribution: ToyDistribution, grid: torch.Tensor
) -> torch.Tensor:
    """The density of a 1-D toy distribution at every point of ``grid``.

    Args:
        distribution: a 1-D :class:`~gan_teach.data.ToyDistribution`, e.g. ``toy_distribution("gaussian-1d")``.
        grid: ``(N,)`` points.

    Returns:
        ``(N,)`` density values, in the grid's dtype.

    >>> standard_normal = ToyDistribution("standard-normal", ((0.0,),), 1.0)
    >>> round(density_on_grid(standard_normal, torch.zeros(1, dtype=torch.float64)).item(), 6)  # 1 / sqrt(2 pi)
    0.398942
    """
    if distribution.dim != 1:
        raise ValueError(
            f"density_on_grid needs a 1-D distribution, got {distribution.name!r} of dimension {distribution.dim}"
        )
    return distribution.log_density(grid[:, None]).exp()  # (N, 1) -> (N,)


def optimal_discriminator(
    p_data: torch.Tensor, p_g: torch.Tensor
) -> torch.Tensor:
    """``D*(x) = p_data(x) / (p_data(x) + p_g(x))``, and 1/2 where both densities are 0 (any D is optimal there).

    >>> optimal_discriminator(torch.tensor([1.0, 0.3, 0.0, 0.0]), torch.tensor([1.0, 0.1, 0.2, 0.0]))
    tensor([0.5000, 0.7500, 0.0000, 0.5000])
    """
    total = p_data + p_g
    return torch.where(
        total > 0, p_data / torch.where(total > 0, total, 1.0), 0.5
    )


def value_function(
    discriminator: torch.Tensor,
    p_data: torch.Tensor,
    p_g: torch.Tensor,
    grid: torch.Tensor,
) -> float:
    """``V(D, G) = integral of p_data log D + p_g log(1 - D)``, by the trapezoid rule on ``grid``.

    ``E_z[log(1 - D(G(z)))]`` is written as an integral over ``p_g``, the density of ``G(z)``.
    ``0 log 0`` counts as 0. D is clipped to ``[eps, 1 - eps]`` of its dtype: far in a tail, where one
    density is ``1e-20`` times the other, ``D*`` rounds to exactly 0 or 1, and the negligible term
    ``p_g log(1 - D)`` would otherwise be ``-inf``.

    Args:
        discriminator: ``D(x)`` in ``[0, 1]`` at every grid point, ``(N,)``.
        p_data: the data density on the grid, ``(N,)``.
        p_g: the generator's density on the grid, ``(N,)``.
        grid: ``(N,)`` increasing points.

    Returns:
        V as a float.
    """
    eps = torch.finfo(discriminator.dtype).eps
    discriminator = discriminator.clamp(eps, 1 - eps)
    integrand = torch.xlogy(p_data, discriminator) + torch.xlogy(
        p_g, 1 - discriminator
    )  # (N,)
    return torch.trapezoid(integrand, grid).item()


def kl_divergence(
    p: torch.Tensor, q: torch.Tensor, grid: torch.Tensor
) -> float:
    """``KL(p || q) = integral of p log(p / q)`` in nats, by the trapezoid rule (``+inf`` if ``q = 0 < p`` somewhere)."""
    integrand = torch.xlogy(p, p) - torch.xlogy(p, q)  # 0 where p = 0
    return torch.trapezoid(integrand, grid).item()


def jensen_shannon(
    p: torch.Tensor, q: torch.Tensor, grid: torch.Tensor
) -> float:
    """``JSD(p || q) = KL(p || m) / 2 + KL(q || m) / 2`` with ``m = (p + q) / 2``, in nats: between 0 and log 2.

    >>> grid = torch.linspace(-1.0, 3.0, 4001, dtype=torch.float64)
    >>> left, right = (grid < 1) / 2.0, (grid > 1) / 2.0  # uniform on [-1, 1] and on [1, 3]: disjoint supports
    >>> round(jensen_shannon(left, right, grid) / math.log(2), 3)  # the largest possible value, log 2
    1.0
    """
    mixture = (p + q) / 2
    return 0.5 * kl_divergence(p, mixture, grid) + 0.5 * kl_divergence(
        q, mixture, grid
    )


def wasserstein_1d(
    p: torch.Tensor, q: torch.Tensor, grid: torch.Tensor
) -> float:
    """Earth mover's distance ``W1(p, q) = integral of |F_p - F_q|`` in 1-D, with ``F`` the cumulative distributions.

    >>> grid = torch.linspace(-10.0, 10.0, 20001, dtype=torch.float64)
    >>> bump = lambda mean: torch.exp(-((grid - mean) ** 2) / 2) / math.sqrt(2 * math.pi)
    >>> round(wasserstein_1d(bump(0.0), bump(1.5), grid), 4)  # a shift moves all mass by 1.5
    1.5
    """
    steps = grid.diff()  # (N - 1,)
    cumulative_p = torch.cat(
        [p.new_zeros(1), torch.cumsum((p[1:] + p[:-1]) / 2 * steps, 0)]
    )  # (N,)
    cumulative_q = torch.cat(
        [q.new_zeros(1), torch.cumsum((q[1:] + q[:-1]) / 2 * steps, 0)]
    )  # (N,)
    return torch.trapezoid((cumulative_p - cumulative_q).abs(), grid).item()


def loss_and_logit_gradient(
    generator_loss: Callable[[torch.Tensor], torch.Tensor],
    probabilities: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """A generator loss, and its derivative with respect to the logit, at each value of ``D(G(z))``.

    Args:
        generator_loss: a loss of ``gan_teach.losses`` that takes fake logits and averages over them.
        probabilities: ``(N,)`` values of ``D(G(z))`` strictly between 0 and 1.

    Returns:
        ``(losses, gradients)``, each ``(N,)``: the loss of a batch holding one fake example with that
        ``D(G(z))``, and ``d loss / d logit`` for it (the signal that flows back into the generator).

    >>> from gan_teach.losses import minimax_generator_loss
    >>> losses, gradients = loss_and_logit_gradient(minimax_generator_loss, torch.tensor([0.5]))
    >>> round(losses.item(), 4), round(gradients.item(), 4)  # log(1 - 1/2), and -D(G(z))
    (-0.6931, -0.5)
    """
    if not bool(((probabilities > 0) & (probabilities < 1)).all()):
        raise ValueError(
            "probabilities must lie strictly between 0 and 1, where the logit is finite"
        )
    logits = (
        torch.logit(probabilities).detach().requires_grad_(True)
    )  # (N,)
    losses = torch.stack(
        [generator_loss(logit.reshape(1)) for logit in logits]
    )  # one batch of one per value
    (gradients,) = torch.autograd.grad(
        losses.sum(), logits
    )  # each loss depends on its own logit only
    return losses.detach(), gradients


def pointwise_objective(
    discriminator: torch.Tensor, p_data: torch.Tensor, p_g: torch.Tensor
) -> torch.Tensor:
    """``p_data log D + p_g log(1 - D)``: the integrand of V at each point."""
    return torch.xlogy(p_data, discriminator) + torch.xlogy(
        p_g, 1 - discriminator
    )
