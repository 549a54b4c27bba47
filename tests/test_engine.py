import pytest
import torch

from gan_teach import TrainConfig, create_state, load_toy
from gan_teach.engine import (
    gradient_norm,
    penalties,
    players,
    score_metrics,
    update,
)

TINY = dict(dataset="ring", width=16, latent_dim=4, batch_size=32, steps=1)


def test_players_are_plain_functions_returning_float32():
    state = create_state(TrainConfig(**TINY))
    generator, discriminator = players(state)
    fake = generator(torch.randn(5, 4))
    assert fake.shape == (5, 2) and fake.dtype == torch.float32
    assert discriminator(fake).shape == (5,)


def test_players_refuse_labels_for_an_unconditional_gan():
    state = create_state(TrainConfig(**TINY))
    with pytest.raises(ValueError, match="not conditional"):
        players(state, torch.zeros(5, dtype=torch.long))


def test_players_of_a_conditional_gan_need_labels_or_draw_them():
    state = create_state(
        TrainConfig(
            dataset="mnist",
            model="conditional",
            width=4,
            latent_dim=8,
            epochs=1,
        )
    )
    with pytest.raises(ValueError, match="needs the class labels"):
        players(state)
    generator, _ = players(state, draw_labels=3)
    assert generator(torch.randn(3, 8)).shape == (3, 1, 28, 28)


def test_penalties_are_zero_when_off_and_weighted_when_on():
    real, fake = load_toy("ring", 8), load_toy("ring", 8)
    total, metrics = penalties(
        create_state(TrainConfig(**TINY)), real, fake
    )
    assert total == 0.0 and metrics == {}
    state = create_state(TrainConfig(**TINY, loss="wgan-gp", r1_gamma=2.0))
    total, metrics = penalties(state, real, fake)
    expected = (
        10 * metrics["gradient_penalty"] + 2.0 / 2 * metrics["r1_penalty"]
    )
    assert torch.allclose(total.detach(), expected)


def test_update_steps_one_player_and_returns_its_gradient_norm():
    state = create_state(TrainConfig(**TINY))
    before = [p.detach().clone() for p in state.generator.parameters()]
    discriminator_before = [
        p.detach().clone() for p in state.discriminator.parameters()
    ]
    generator, discriminator = players(state)
    loss = state.loss.generator_loss(
        discriminator(generator(torch.randn(8, 4)))
    )
    norm = update(state, "generator", loss)
    assert norm == gradient_norm(state.generator) and norm > 0
    assert all(
        not torch.equal(a, b)
        for a, b in zip(before, state.generator.parameters())
    )
    assert all(
        torch.equal(a, b)
        for a, b in zip(
            discriminator_before, state.discriminator.parameters()
        )
    )
    with pytest.raises(ValueError, match="'generator' or 'discriminator'"):
        update(state, "critic", loss)


def test_score_metrics_are_detached_means():
    real, fake = (
        torch.tensor([0.0, 2.0], requires_grad=True),
        torch.tensor([-2.0, 0.0]),
    )
    metrics = score_metrics(real.sum(), real, fake, torch.tensor(1.0))
    assert not any(value.requires_grad for value in metrics.values())
    assert metrics["real_score"] == 1.0 and metrics["fake_score"] == -1.0
    assert metrics["d_real"] == pytest.approx(
        (0.5 + torch.sigmoid(torch.tensor(2.0)).item()) / 2
    )


@pytest.mark.parametrize("model", ["dcgan", "conditional"])
def test_recalibrated_statistics_are_the_averages_own(model):
    """After recalibration, the EMA generator's batch norm holds the mean and variance of its own
    activations on fresh noise, not the live generator's; the run's random stream is untouched."""
    from gan_teach.engine import recalibrate_batch_norm, update_ema

    state = create_state(
        TrainConfig(
            dataset="mnist",
            model=model,
            width=4,
            latent_dim=8,
            epochs=1,
            ema_decay=0.9,
        )
    )
    live = state.generator
    with torch.no_grad():  # move the live weights away from the average
        for parameter in live.parameters():
            parameter.add_(0.5 * torch.randn_like(parameter))
        # the live generator's own statistics, on noise ten times as large
        live.train()
        for _ in range(20):
            z = 10 * torch.randn(64, 8)
            live(z) if model == "dcgan" else live(z, torch.arange(64) % 10)
    update_ema(state.ema_generator, live, decay=0.5)
    body = (
        state.ema_generator.body
        if model == "conditional"
        else state.ema_generator
    )
    norm = body.start_norm[0]  # on (N, 2 * width, 7, 7) features
    copied = norm.running_var.clone()  # the live generator's
    before = torch.get_rng_state()
    recalibrate_batch_norm(state, batches=4, batch_size=256)
    assert torch.equal(torch.get_rng_state(), before)
    assert not state.ema_generator.training  # back in eval mode
    # the statistics the average's own first layer produces
    seen = []
    hook = norm.register_forward_hook(
        lambda module, inputs, output: seen.append(inputs[0])
    )
    random = torch.Generator().manual_seed(state.config.seed + state.step)
    with torch.no_grad():
        for _ in range(4):
            z = torch.randn(256, 8, generator=random)
            inputs = [z]
            if model == "conditional":
                inputs.append(torch.randint(10, (256,), generator=random))
            state.ema_generator(*inputs)
    hook.remove()
    # a cumulative average over the 4 batches of each batch's statistics
    means = torch.stack([batch.mean(dim=(0, 2, 3)) for batch in seen])
    variances = torch.stack(
        [batch.var(dim=(0, 2, 3), unbiased=True) for batch in seen]
    )
    assert torch.allclose(norm.running_mean, means.mean(0), atol=1e-5)
    assert torch.allclose(norm.running_var, variances.mean(0), rtol=1e-4)
    assert (copied / norm.running_var).min() > 10  # not the live one's
    assert norm.momentum == 0.1  # restored


def test_recalibration_without_batch_norm_or_average_changes_nothing():
    from gan_teach.engine import recalibrate_batch_norm

    state = create_state(TrainConfig(**TINY))  # no moving average
    before = torch.get_rng_state()
    recalibrate_batch_norm(state)
    assert state.ema_generator is None
    assert torch.equal(torch.get_rng_state(), before)


def test_a_short_run_samples_from_a_trained_average_not_the_untrained_network():
    """The moving average's decay is capped early (engine.ema_decay_at): after 40 updates at 0.999 the
    average is close to the live generator, while an uncapped one would still be 96 % its starting weights."""
    from gan_teach import train

    state = create_state(
        TrainConfig(**{**TINY, "steps": 40}, ema_decay=0.999)
    )
    start = [
        parameter.clone() for parameter in state.ema_generator.parameters()
    ]
    state = train(state=state, progress=False)

    def distance(one, two):
        return (
            sum((a - b).pow(2).sum() for a, b in zip(one, two))
            .sqrt()
            .item()
        )

    average = list(state.ema_generator.parameters())
    live = list(state.generator.parameters())
    assert distance(average, live) < 0.5 * distance(average, start)
