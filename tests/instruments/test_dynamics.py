"""The Dirac-GAN behaves as Mescheder et al. (2018) prove: diverges, circles, or converges with R1."""

import math

import pytest
import torch

from gan_teach.instruments.dynamics import _f_prime, dirac_gan_trajectory


def test_f_prime_is_the_sigmoid_of_minus_t_and_finite():
    for t in (-50.0, -1.0, 0.0, 2.0, 800.0):
        assert _f_prime(t) == pytest.approx(
            1 / (1 + math.exp(min(t, 700))), abs=1e-300
        )
    assert _f_prime(0.0) == 0.5


def test_simultaneous_steps_spiral_outwards():
    distances = dirac_gan_trajectory(
        steps=300, learning_rate=0.1, update="simultaneous"
    ).norm(dim=1)
    assert bool(
        (distances[1:] > distances[:-1]).all()
    )  # every step moves away from the equilibrium


def test_alternating_steps_circle_without_converging():
    path = dirac_gan_trajectory(
        steps=2000, learning_rate=0.1, update="alternating"
    )
    distances = path.norm(dim=1)
    assert (
        distances.max() < 2 * distances[0]
        and distances[-500:].min() > 0.5 * distances[0]
    )  # bounded, not converging
    assert (path[:, 0] > 0).any() and (
        path[:, 0] < 0
    ).any()  # theta swings to both sides of the data


def test_r1_penalty_makes_training_converge():
    for update in ("simultaneous", "alternating"):
        path = dirac_gan_trajectory(
            steps=2000, learning_rate=0.1, update=update, r1_gamma=1.0
        )
        assert path[-1].norm() < 1e-2, update


def test_bad_arguments_are_explained():
    with pytest.raises(ValueError, match="update must be one of"):
        dirac_gan_trajectory(update="adam")
    with pytest.raises(ValueError, match="r1_gamma non-negative"):
        dirac_gan_trajectory(r1_gamma=-1.0)
    assert (
        dirac_gan_trajectory(steps=3).shape == (4, 2)
        and dirac_gan_trajectory(steps=3).dtype == torch.float64
    )
