"""The DDPM of gan_teach.diffusion, denoisers and diffusion_train.

The samplers are checked against the one data distribution whose best
noise predictor is known in closed form, a Gaussian: with it, both
samplers must give back the data's mean and standard deviation. Then a
short training on the ring must find its modes.
"""

from __future__ import annotations

import pytest
import torch

from gan_teach.denoisers import MLPDenoiser, UNetDenoiser
from gan_teach.diffusion import (
    SCHEDULES,
    GaussianNoiseOracle,
    ddim_sample,
    ddim_timesteps,
    ddpm_sample,
    diffusion_loss,
    noise_schedule,
    noising_step,
    q_sample,
)
from gan_teach.diffusion_train import DiffusionConfig, train_diffusion
from gan_teach.metrics import toy_metrics

MEAN, STD = 1.5, 0.5  # the Gaussian data of the oracle tests


@pytest.fixture(autouse=True)
def one_thread():
    """One CPU thread: on a loaded 2-core machine, two threads per test
    made these tests 10 to 40 times slower (measured), not faster."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("kind", SCHEDULES)
def test_alpha_bar_decreases_strictly_inside_zero_one(kind):
    for num_steps in (1, 10, 1000):
        alpha_bars = noise_schedule(num_steps, kind).alpha_bars
        assert ((alpha_bars > 0) & (alpha_bars < 1)).all()
        assert (alpha_bars[1:] < alpha_bars[:-1]).all()
    # T = 1000 ends in (nearly) pure noise: under 1e-4 of the signal left
    assert noise_schedule(1000, kind).alpha_bars[-1] < 1e-4


def test_linear_schedule_is_ho_et_al():
    betas = noise_schedule(1000, "linear").betas
    assert betas[0].item() == pytest.approx(1e-4)
    assert betas[-1].item() == pytest.approx(0.02)
    assert (betas[1:] > betas[:-1]).all()


@pytest.mark.parametrize("kind", SCHEDULES)
def test_closed_form_matches_t_sequential_noising_steps(kind):
    """q(x_t | x_0) in one jump = t small steps, in mean and variance."""
    schedule = noise_schedule(100, kind)
    generator = torch.Generator().manual_seed(0)
    x0 = torch.tensor([[2.0, -1.0]]).repeat(200_000, 1)  # (N, 2)
    for last in (9, 49, 99):
        x = x0
        for t in range(last + 1):
            steps = torch.full((len(x0),), t)
            noise = torch.randn(x.shape, generator=generator)
            x = noising_step(schedule, x, steps, noise)
        steps = torch.full((len(x0),), last)
        noise = torch.randn(x0.shape, generator=generator)
        jumped = q_sample(schedule, x0, steps, noise)
        alpha_bar = schedule.alpha_bars[last].item()
        expected_mean = alpha_bar**0.5 * x0[0]
        for samples in (x, jumped):
            assert torch.allclose(
                samples.mean(0), expected_mean.float(), atol=0.01
            )
            assert torch.allclose(
                samples.var(0),
                torch.full((2,), 1 - alpha_bar),
                rtol=0.02,
                atol=1e-3,
            )


def test_oracle_loss_is_below_the_zero_predictors():
    schedule = noise_schedule(1000)
    x0 = MEAN + STD * torch.randn(50_000, 1)
    oracle = GaussianNoiseOracle(MEAN, STD, schedule)
    oracle_loss = diffusion_loss(
        oracle, schedule, x0, generator=torch.Generator().manual_seed(1)
    )
    zero_loss = diffusion_loss(
        lambda x_t, t: torch.zeros_like(x_t),
        schedule,
        x0,
        generator=torch.Generator().manual_seed(1),
    )
    # measured: 0.33 against 1.00 (the zero predictor scores E[eps^2] = 1)
    assert zero_loss.item() == pytest.approx(1.0, abs=0.02)
    assert oracle_loss.item() < 0.5 * zero_loss.item()


def test_the_oracle_is_the_best_predictor_of_its_family():
    """Scaling the oracle's answer up or down only raises the loss."""
    schedule = noise_schedule(1000)
    x0 = MEAN + STD * torch.randn(50_000, 1)
    oracle = GaussianNoiseOracle(MEAN, STD, schedule)
    losses = {
        scale: diffusion_loss(
            lambda x_t, t, scale=scale: scale * oracle(x_t, t),
            schedule,
            x0,
            generator=torch.Generator().manual_seed(2),
        ).item()
        for scale in (0.8, 1.0, 1.2)
    }
    assert losses[1.0] < losses[0.8] and losses[1.0] < losses[1.2]


@pytest.mark.parametrize("kind", SCHEDULES)
def test_ddpm_with_the_oracle_recovers_the_gaussian(kind):
    schedule = noise_schedule(1000, kind)
    oracle = GaussianNoiseOracle(MEAN, STD, schedule)
    result = ddpm_sample(oracle, schedule, 4000, seed=0, batch_size=4000)
    assert result.samples.shape == (4000, 1)
    assert result.forward_passes_per_sample == 1000
    # measured (20,000 samples): mean 1.496, std 0.499 (cosine)
    assert result.samples.mean().item() == pytest.approx(MEAN, abs=0.03)
    assert result.samples.std().item() == pytest.approx(STD, rel=0.05)


@pytest.mark.parametrize("kind", SCHEDULES)
def test_ddim_with_the_oracle_recovers_the_gaussian(kind):
    schedule = noise_schedule(1000, kind)
    oracle = GaussianNoiseOracle(MEAN, STD, schedule)
    result = ddim_sample(oracle, schedule, 4000, 50, seed=0)
    assert result.forward_passes_per_sample == 50
    # measured (20,000 samples): std 0.487 cosine, 0.474 linear
    assert result.samples.mean().item() == pytest.approx(MEAN, abs=0.03)
    assert result.samples.std().item() == pytest.approx(STD, rel=0.08)
    # Ten steps cost a fifth and shrink the spread even with a perfect
    # predictor (measured std 0.43 cosine, 0.37 linear): the jumps'
    # discretisation error, not the network's.
    few = ddim_sample(oracle, schedule, 4000, 10, seed=0)
    assert few.forward_passes_per_sample == 10
    assert few.samples.std().item() < result.samples.std().item()


def test_ddim_is_deterministic_given_its_starting_noise():
    schedule = noise_schedule(100)
    oracle = GaussianNoiseOracle(MEAN, STD, schedule)
    first = ddim_sample(oracle, schedule, 100, 10, seed=3, batch_size=7)
    second = ddim_sample(oracle, schedule, 100, 10, seed=3, batch_size=100)
    assert torch.allclose(first.samples, second.samples, atol=1e-6)
    assert first.forward_passes_per_sample == 10


def test_ddim_timesteps_are_even_and_end_at_the_last():
    assert ddim_timesteps(1000, 1).tolist() == [999]
    assert ddim_timesteps(10, 10).tolist() == list(range(10))
    with pytest.raises(ValueError, match="from 1 to T = 10"):
        ddim_timesteps(10, 11)


def test_short_training_on_the_ring_covers_most_modes():
    # measured for seed 0: 8 of 8 modes, 84 % high quality, in 9 s of
    # training and 3 s of sampling on a loaded 2-core CPU
    run = train_diffusion(DiffusionConfig(steps=3000, width=64))
    assert run.step == 3000 and len(run.history["loss"]) == 3000
    result = ddpm_sample(run.sampling_denoiser, run.schedule, 2000, seed=1)
    metrics = toy_metrics(result.samples, "ring")
    assert metrics["modes_covered"] >= 7
    assert metrics["high_quality_share"] >= 0.6
    # The same network, 10 passes instead of 1000. Measured for seed 0:
    # 0 of 8 modes, 2 % high quality; clamped to the data, 8 and 81 %.
    assert run.clip == pytest.approx(2.0, abs=0.1)
    few = ddim_sample(run.sampling_denoiser, run.schedule, 2000, 10, seed=1)
    clamped = ddim_sample(
        run.sampling_denoiser, run.schedule, 2000, 10, seed=1, clip=run.clip
    )
    few_metrics = toy_metrics(few.samples, "ring")
    clamped_metrics = toy_metrics(clamped.samples, "ring")
    assert clamped_metrics["modes_covered"] >= 7
    assert (
        clamped_metrics["high_quality_share"]
        > few_metrics["high_quality_share"]
    )


def test_a_time_budget_ends_the_run():
    run = train_diffusion(
        DiffusionConfig(max_seconds=0.5, width=16, batch_size=64)
    )
    assert 0.5 <= run.train_seconds < 5
    assert run.step >= 1


def test_training_on_images_keeps_their_shape():
    images = torch.rand(16, 1, 28, 28) * 2 - 1
    config = DiffusionConfig(
        dataset="mnist", steps=2, width=8, batch_size=8, num_timesteps=20
    )
    run = train_diffusion(config, data=images)
    assert isinstance(run.denoiser, UNetDenoiser)
    result = ddim_sample(
        run.sampling_denoiser, run.schedule, 3, 5, clip=1.0
    )
    assert result.samples.shape == (3, 1, 28, 28)
    assert result.samples.abs().max() <= 1.0 + 1e-5


def test_denoisers_keep_the_shape_of_their_input():
    points, t = torch.randn(5, 2), torch.arange(5)
    assert MLPDenoiser(2, hidden_dim=16)(points, t).shape == (5, 2)
    images = torch.randn(2, 1, 28, 28)
    unet = UNetDenoiser(base_channels=8)
    assert unet(images, torch.tensor([0, 999])).shape == (2, 1, 28, 28)


def test_denoisers_say_what_shape_they_expected():
    with pytest.raises(ValueError, match=r"shape \(N, 2\), got \(5, 3\)"):
        MLPDenoiser(2, hidden_dim=16)(torch.randn(5, 3), torch.arange(5))
    with pytest.raises(ValueError, match="one timestep per example"):
        MLPDenoiser(2, hidden_dim=16)(torch.randn(5, 2), torch.arange(4))
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\)"):
        UNetDenoiser(base_channels=8)(
            torch.randn(2, 28, 28), torch.arange(2)
        )
    with pytest.raises(ValueError, match="divisible by 4"):
        UNetDenoiser(image_size=30)


def test_bad_schedules_and_timesteps_are_refused():
    with pytest.raises(ValueError, match="positive integer"):
        noise_schedule(0)
    with pytest.raises(ValueError, match="cosine, linear"):
        noise_schedule(10, "quadratic")
    schedule = noise_schedule(10)
    x0 = torch.zeros(4, 2)
    with pytest.raises(ValueError, match="from 0 to T - 1 = 9"):
        q_sample(schedule, x0, torch.full((4,), 10))
    with pytest.raises(ValueError, match="integer tensor of shape"):
        q_sample(schedule, x0, torch.full((4,), 1.0))
    with pytest.raises(ValueError, match="shape of x0"):
        q_sample(schedule, x0, torch.zeros(4, dtype=torch.long), x0[:2])


def test_samplers_refuse_bad_requests():
    schedule = noise_schedule(10)
    oracle = GaussianNoiseOracle(MEAN, STD, schedule)
    with pytest.raises(ValueError, match="num_samples"):
        ddpm_sample(oracle, schedule, 0)
    with pytest.raises(ValueError, match="sample_shape"):
        ddpm_sample(lambda x, t: x, schedule, 4)
    with pytest.raises(ValueError, match="noise shaped like its input"):
        ddim_sample(
            lambda x, t: x[:, :1], schedule, 4, 2, sample_shape=(2,)
        )
    with pytest.raises(ValueError, match="clip must be positive"):
        ddim_sample(oracle, schedule, 4, 2, clip=0.0)


def test_configs_that_cannot_run_are_refused():
    with pytest.raises(ValueError, match="a run needs an end"):
        DiffusionConfig().resolve()
    with pytest.raises(ValueError, match="use model 'unet'"):
        DiffusionConfig(dataset="mnist", model="mlp", steps=1).resolve()
    with pytest.raises(ValueError, match="unknown schedule"):
        DiffusionConfig(schedule="sigmoid", steps=1).resolve()
    with pytest.raises(ValueError, match="max_seconds must be a positive"):
        DiffusionConfig(max_seconds=-1.0).resolve()
    with pytest.raises(ValueError, match="examples of shape"):
        train_diffusion(DiffusionConfig(steps=1), data=torch.zeros(600, 3))
