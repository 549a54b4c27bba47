"""Measurement helpers of the failures chapter, and the promise that the default recipes cover the ring."""

import pytest
import torch
from torch import nn

from gan_teach import (
    TrainConfig,
    create_state,
    generate,
    gradient_penalty,
    load_toy,
    toy_distribution,
    toy_metrics,
    train,
)
from gan_teach.instruments.dynamics import dirac_gan_trajectory
from gan_teach.instruments.failures import (
    dirac_gan_animation_html,
    fit_critic,
    generator_gradient_norms,
    input_gradient_norms,
    mode_coverage_over_time,
    modes_visited,
    train_discriminator_alone,
)

TINY = dict(dataset="ring", width=16, latent_dim=4, batch_size=32)


def test_mode_coverage_is_measured_before_during_and_after_training():
    data = load_toy("ring", 32 * 5)  # 5 steps an epoch
    history = mode_coverage_over_time(
        TrainConfig(**TINY, steps=12), every=5, num_samples=200, data=data
    )
    assert history.steps == [0, 5, 10, 12]
    assert (
        len(history.modes_covered) == len(history.high_quality_share) == 4
    )
    assert all(0 <= modes <= 8 for modes in history.modes_covered)
    assert history.final["step"] == 12 == history.state.step


def test_mode_coverage_rejects_image_datasets_and_bad_arguments():
    with pytest.raises(
        ValueError, match="every and num_samples must be positive"
    ):
        mode_coverage_over_time(TrainConfig(**TINY, steps=1), every=0)
    with pytest.raises(ValueError):
        mode_coverage_over_time(TrainConfig(dataset="mnist", steps=1))


def test_modes_visited_counts_collapse_that_toy_metrics_calls_low_quality():
    ring = toy_distribution("ring")
    centers = ring.centers_tensor()  # (8, 2)
    collapsed = (
        centers[3] + 0.3 + 0.01 * torch.randn(400, 2)
    )  # all near one mode, but off it
    spread = (
        centers.repeat(50, 1) * 1.1
    )  # every mode, a little outside the ring
    assert (
        toy_metrics(collapsed, ring)["modes_covered"]
        == 0
        == toy_metrics(spread, ring)["modes_covered"]
    )
    assert modes_visited(collapsed, ring) == 1
    assert modes_visited(spread, "ring") == 8


def test_generator_gradient_norms_minimax_vanishes_when_the_discriminator_wins():
    generator = create_state(TrainConfig(**TINY, steps=1)).generator
    noise = torch.randn(64, 4)
    sure = nn.Sequential(
        nn.Linear(2, 1), nn.Flatten(0)
    )  # logits far below 0: D rejects every fake
    with torch.no_grad():
        sure[0].weight.fill_(0.1)
        sure[0].bias.fill_(-12.0)
    norms = generator_gradient_norms(generator, sure, noise)
    assert set(norms) == {"minimax", "non-saturating"}
    assert norms["minimax"] < 1e-3 * norms["non-saturating"]
    assert all(
        parameter.grad is None for parameter in generator.parameters()
    )  # nothing was accumulated


def test_train_discriminator_alone_makes_d_confident_and_minimax_gradients_small():
    state = create_state(TrainConfig(**TINY, loss="minimax", steps=1))
    generator_before = [
        parameter.clone() for parameter in state.generator.parameters()
    ]
    records = train_discriminator_alone(
        state, load_toy("ring", 2048), steps=60, every=20, num_probe=128
    )
    assert records["step"] == [0, 20, 40, 60]
    assert records["d_fake"][-1] < records["d_fake"][0]
    ratio_start = records["minimax"][0] / records["non-saturating"][0]
    ratio_end = records["minimax"][-1] / records["non-saturating"][-1]
    assert ratio_end < ratio_start
    assert all(
        torch.equal(a, b)
        for a, b in zip(generator_before, state.generator.parameters())
    )


def _critic() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Linear(2, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1), nn.Flatten(0)
    )


def test_fit_critic_with_the_right_penalty_has_slope_near_one_between_the_sets():
    real = torch.randn(512, 2) * 0.1 + torch.tensor([1.0, 0.0])
    fake = torch.randn(512, 2) * 0.1 - torch.tensor([1.0, 0.0])
    critic = _critic()
    estimates = fit_critic(
        critic, real, fake, gradient_penalty, steps=300, batch_size=64
    )
    assert len(estimates) == 300 and estimates[-1] > estimates[0]
    between = torch.stack(
        [torch.linspace(-1, 1, 50), torch.zeros(50)], dim=1
    )  # (50, 2)
    slopes = input_gradient_norms(critic, between)
    assert slopes.shape == (50,)
    assert 0.7 < float(slopes.mean()) < 1.3


def test_input_gradient_norms_of_a_linear_critic():
    critic = nn.Sequential(nn.Linear(2, 1, bias=False), nn.Flatten(0))
    with torch.no_grad():
        critic[0].weight.copy_(torch.tensor([[3.0, 4.0]]))
    assert torch.allclose(
        input_gradient_norms(critic, torch.randn(5, 2)),
        torch.full((5,), 5.0),
    )


def test_dirac_gan_animation_is_offline_html():
    html = dirac_gan_animation_html(
        {
            "alternating": dirac_gan_trajectory(
                steps=20, update="alternating"
            )
        },
        max_frames=5,
    )
    assert (
        "<script" in html
        and "https://" not in html
        and "fa fa-play" not in html
    )
    with pytest.raises(ValueError, match="same number of points"):
        dirac_gan_animation_html(
            {
                "a": dirac_gan_trajectory(steps=5),
                "b": dirac_gan_trajectory(steps=6),
            }
        )
    with pytest.raises(ValueError, match="at least one trajectory"):
        dirac_gan_animation_html({})


@pytest.mark.slow
def test_default_wgan_gp_ring_recipe_covers_seven_of_eight_modes():
    """The issue's promise for WGAN-GP with the library's defaults (the non-saturating one is in test_train.py)."""
    state = train(
        TrainConfig(dataset="ring", loss="wgan-gp"), progress=False
    )
    metrics = toy_metrics(
        generate(state.sampling_generator, 10_000, seed=0),
        toy_distribution("ring"),
    )
    assert metrics["modes_covered"] >= 7, metrics
