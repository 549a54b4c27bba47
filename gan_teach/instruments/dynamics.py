"""The Dirac-GAN: the smallest GAN whose training can be solved by hand (Mescheder et al. 2018).

The data are one point, ``p_data = delta_0``; the generator is one point too, ``p_g = delta_theta``; the
discriminator is linear, ``D_psi(x) = psi * x`` (a logit). The value function is
``V(psi, theta) = f(psi * theta) + f(0)`` with ``f(t) = -log(1 + exp(-t))`` for the GAN of Goodfellow et al.
The only equilibrium is ``theta = psi = 0``, and near it the gradient field is a rotation: plain gradient
steps circle around the equilibrium instead of reaching it. Simultaneous steps spiral outwards, alternating
steps (Algorithm 1's order: D, then G) keep circling, and a gradient penalty on the real data (R1) pulls
the discriminator to 0, so the pair converges.
"""

from __future__ import annotations

import math

import torch

__all__ = ["dirac_gan_trajectory", "UPDATES"]

#: The two ways to update the players, both at once or D then G (as Algorithm 1 does).
UPDATES = ("simultaneous", "alternating")


def _f_prime(t: float) -> float:
    """Derivative of ``f(t) = -log(1 + exp(-t))``: ``sigmoid(-t)``, written to stay finite for large ``|t|``."""
    return (
        1.0 / (1.0 + math.exp(t))
        if t < 0
        else math.exp(-t) / (1.0 + math.exp(-t))
    )


def dirac_gan_trajectory(
    theta: float = 1.0,
    psi: float = 1.0,
    *,
    steps: int = 300,
    learning_rate: float = 0.1,
    update: str = "simultaneous",
    r1_gamma: float = 0.0,
) -> torch.Tensor:
    """Gradient training of the Dirac-GAN from ``(theta, psi)``; returns every point visited.

    The generator descends ``V`` (``theta <- theta - lr * dV/dtheta``); the discriminator ascends
    ``V - r1_gamma / 2 * psi**2``, where ``psi**2 = |grad_x D(x)|^2`` at the real point is the R1 penalty.

    Args:
        theta: the generator's starting point.
        psi: the discriminator's starting slope.
        steps: how many updates of each player.
        learning_rate: the step size of both players.
        update: ``"simultaneous"`` (both from the same old values) or ``"alternating"`` (D first, then G
            against the updated D, as in Algorithm 1).
        r1_gamma: weight of the R1 penalty; 0 for none.

    Returns:
        ``(steps + 1, 2)`` float64 tensor of ``(theta, psi)``, starting point first.

    >>> path = dirac_gan_trajectory(steps=200, update="simultaneous")
    >>> bool(path[-1].norm() > path[0].norm())  # simultaneous steps spiral away from the equilibrium
    True
    """
    if update not in UPDATES:
        raise ValueError(f"update must be one of {UPDATES}, got {update!r}")
    if steps < 1 or learning_rate <= 0 or r1_gamma < 0:
        raise ValueError(
            "steps must be positive, learning_rate positive and r1_gamma non-negative"
        )
    points = [(theta, psi)]
    for _ in range(steps):
        # dV/dtheta = f'(psi theta) psi,  dV/dpsi = f'(psi theta) theta
        slope = _f_prime(psi * theta)
        new_psi = psi + learning_rate * (
            slope * theta - r1_gamma * psi
        )  # (1) D ascends V - gamma/2 psi^2
        if update == "alternating":
            slope = _f_prime(
                new_psi * theta
            )  # G answers the discriminator it now faces
            theta = (
                theta - learning_rate * slope * new_psi
            )  # (2) G descends V
        else:
            theta = theta - learning_rate * slope * psi
        psi = new_psi
        points.append((theta, psi))
    return torch.tensor(points, dtype=torch.float64)
