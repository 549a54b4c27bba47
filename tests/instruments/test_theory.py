import math

import pytest
import torch

from gan_teach.data import ToyDistribution, toy_distribution
from gan_teach.instruments.theory import (
    density_on_grid,
    jensen_shannon,
    kl_divergence,
    loss_and_logit_gradient,
    optimal_discriminator,
    value_function,
    wasserstein_1d,
)
from gan_teach.losses import (
    minimax_generator_loss,
    non_saturating_generator_loss,
)

GRID = torch.linspace(-12.0, 12.0, 12001, dtype=torch.float64)
P_DATA = density_on_grid(ToyDistribution("data", ((0.0,),), 1.0), GRID)
P_G = density_on_grid(ToyDistribution("generator", ((1.5,),), 0.8), GRID)


def test_density_integrates_to_one():
    assert torch.trapezoid(P_DATA, GRID).item() == pytest.approx(
        1.0, abs=1e-9
    )
    mixture = density_on_grid(toy_distribution("mixture-1d"), GRID)
    assert torch.trapezoid(mixture, GRID).item() == pytest.approx(
        1.0, abs=1e-9
    )


def test_density_rejects_2d_distribution():
    with pytest.raises(ValueError, match="1-D"):
        density_on_grid(toy_distribution("ring"), GRID)


def test_optimal_discriminator_is_half_when_distributions_match():
    assert torch.allclose(
        optimal_discriminator(P_DATA, P_DATA), torch.full_like(P_DATA, 0.5)
    )


def test_value_at_optimum_is_minus_log_four_plus_twice_jsd():
    value = value_function(
        optimal_discriminator(P_DATA, P_G), P_DATA, P_G, GRID
    )
    assert value == pytest.approx(
        -math.log(4) + 2 * jensen_shannon(P_DATA, P_G, GRID), abs=1e-9
    )
    assert value_function(
        torch.full_like(GRID, 0.5), P_DATA, P_DATA, GRID
    ) == pytest.approx(-math.log(4), abs=1e-9)


def test_any_other_discriminator_scores_lower():
    best = value_function(
        optimal_discriminator(P_DATA, P_G), P_DATA, P_G, GRID
    )
    for perturbation in (
        0.05 * torch.sin(GRID),
        torch.full_like(GRID, -0.02),
        0.1 * torch.tanh(GRID),
    ):
        other = (optimal_discriminator(P_DATA, P_G) + perturbation).clamp(
            1e-6, 1 - 1e-6
        )
        assert value_function(other, P_DATA, P_G, GRID) < best


def test_kl_of_gaussians_matches_closed_form():
    # KL(N(0, 1) || N(1.5, 0.8^2)) = log(0.8) + (1 + 1.5^2) / (2 * 0.8^2) - 1/2
    expected = math.log(0.8) + (1 + 1.5**2) / (2 * 0.8**2) - 0.5
    assert kl_divergence(P_DATA, P_G, GRID) == pytest.approx(
        expected, abs=1e-8
    )


def test_jensen_shannon_bounds_and_symmetry():
    value = jensen_shannon(P_DATA, P_G, GRID)
    assert 0 < value < math.log(2)
    assert value == pytest.approx(
        jensen_shannon(P_G, P_DATA, GRID), abs=1e-12
    )
    assert jensen_shannon(P_DATA, P_DATA, GRID) == pytest.approx(
        0.0, abs=1e-12
    )


def test_wasserstein_of_equal_variance_gaussians_is_the_shift():
    shifted = density_on_grid(
        ToyDistribution("shifted", ((1.5,),), 1.0), GRID
    )
    assert wasserstein_1d(P_DATA, shifted, GRID) == pytest.approx(
        1.5, abs=1e-6
    )
    assert wasserstein_1d(P_DATA, P_DATA, GRID) == pytest.approx(
        0.0, abs=1e-12
    )


def test_logit_gradients_match_closed_forms():
    probabilities = torch.tensor([0.01, 0.5, 0.99])
    _, minimax_gradients = loss_and_logit_gradient(
        minimax_generator_loss, probabilities
    )
    losses, non_saturating_gradients = loss_and_logit_gradient(
        non_saturating_generator_loss, probabilities
    )
    assert torch.allclose(
        minimax_gradients, -probabilities, atol=1e-6
    )  # vanishes as D(G(z)) -> 0
    assert torch.allclose(
        non_saturating_gradients, -(1 - probabilities), atol=1e-6
    )
    assert torch.allclose(losses, -torch.log(probabilities), atol=1e-5)


def test_logit_gradient_rejects_probabilities_at_the_ends():
    with pytest.raises(ValueError, match="strictly between"):
        loss_and_logit_gradient(
            minimax_generator_loss, torch.tensor([0.0, 0.5])
        )
