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
