import math

import pytest
import torch

from gan_teach import (
    LOSSES,
    DCGANDiscriminator,
    MLPDiscriminator,
    get_loss,
    gradient_penalty,
)
from gan_teach.losses import bce_discriminator_loss

REAL = torch.tensor([2.0, -1.0])
FAKE = torch.tensor([0.5, -3.0])


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def by_hand_bce_discriminator() -> float:
    real = [-math.log(sigmoid(s)) for s in REAL.tolist()]
    fake = [-math.log(1 - sigmoid(s)) for s in FAKE.tolist()]
    return sum(real) / 2 + sum(fake) / 2


@pytest.mark.parametrize(
    "name,d_expected,g_expected",
    [
        (
            "minimax",
            by_hand_bce_discriminator(),
            sum(math.log(1 - sigmoid(s)) for s in FAKE.tolist()) / 2,
        ),
        (
            "non-saturating",
            by_hand_bce_discriminator(),
            sum(-math.log(sigmoid(s)) for s in FAKE.tolist()) / 2,
        ),
        (
            "lsgan",
            0.5 * ((2 - 1) ** 2 + (-1 - 1) ** 2) / 2
            + 0.5 * (0.5**2 + 3.0**2) / 2,
            0.5 * ((0.5 - 1) ** 2 + (-3 - 1) ** 2) / 2,
        ),
        (
            "hinge",
            (max(0, 1 - 2) + max(0, 1 + 1)) / 2
            + (max(0, 1 + 0.5) + max(0, 1 - 3)) / 2,
            -(0.5 - 3) / 2,
        ),
        ("wgan-gp", (0.5 - 3) / 2 - (2 - 1) / 2, -(0.5 - 3) / 2),
    ],
)
def test_losses_match_hand_computation(name, d_expected, g_expected):
    loss = get_loss(name)
    assert loss.discriminator_loss(REAL, FAKE).item() == pytest.approx(
        d_expected, rel=1e-6
    )
    assert loss.generator_loss(FAKE).item() == pytest.approx(
        g_expected, rel=1e-6
    )


def test_bce_matches_torch_bce_with_logits():
    bce = torch.nn.BCEWithLogitsLoss()
    expected = bce(REAL, torch.ones(2)) + bce(FAKE, torch.zeros(2))
    assert torch.allclose(bce_discriminator_loss(REAL, FAKE), expected)


def test_losses_are_finite_for_extreme_logits():
    extreme = torch.tensor([-200.0, 200.0])
    for loss in LOSSES.values():
        assert torch.isfinite(loss.discriminator_loss(extreme, extreme))
        assert torch.isfinite(loss.generator_loss(extreme))


def test_minimax_saturates_where_non_saturating_does_not():
    """When D confidently rejects a fake (logit -8), minimax's gradient vanishes; non-saturating's does not."""
    logits = torch.tensor([-8.0], requires_grad=True)
    (minimax_gradient,) = torch.autograd.grad(
        get_loss("minimax").generator_loss(logits), logits
    )
    (non_saturating_gradient,) = torch.autograd.grad(
        get_loss("non-saturating").generator_loss(logits), logits
    )
    assert abs(minimax_gradient.item()) == pytest.approx(
        sigmoid(-8.0), rel=1e-4
    )  # about 3e-4
    assert abs(non_saturating_gradient.item()) == pytest.approx(
        1 - sigmoid(-8.0), rel=1e-4
    )  # about 1


def test_gradient_penalty_of_a_linear_critic():
    """For D(x) = w.x, the gradient is w everywhere: the penalty is (|w| - 1)^2 exactly."""
    critic = torch.nn.Sequential(
        torch.nn.Linear(2, 1, bias=False), torch.nn.Flatten(0)
    )
    with torch.no_grad():
        critic[0].weight.copy_(torch.tensor([[3.0, 4.0]]))  # |w| = 5
    penalty = gradient_penalty(
        critic, torch.randn(16, 2), torch.randn(16, 2)
    )
    assert penalty.item() == pytest.approx(16.0, rel=1e-5)


def test_gradient_penalty_is_differentiable_and_checks_shapes():
    critic = MLPDiscriminator(data_dim=2, hidden_dim=8)
    penalty = gradient_penalty(critic, torch.randn(8, 2), torch.randn(8, 2))
    penalty.backward()
    first_layer, last_layer = critic.hidden[0], critic.classify
    assert (
        first_layer.weight.grad is not None
        and first_layer.weight.grad.abs().sum() > 0
    )
    assert (
        last_layer.bias.grad is None
    )  # a constant shift of the score leaves its gradient unchanged
    with pytest.raises(ValueError, match="same shape"):
        gradient_penalty(critic, torch.randn(8, 2), torch.randn(4, 2))


def test_gradient_penalty_on_images():
    critic = DCGANDiscriminator(base_channels=4, normalization="layer")
    assert (
        gradient_penalty(
            critic, torch.randn(3, 1, 28, 28), torch.randn(3, 1, 28, 28)
        ).ndim
        == 0
    )


def test_unknown_loss_lists_choices():
    with pytest.raises(
        ValueError, match="minimax, non-saturating, lsgan, hinge, wgan-gp"
    ):
        get_loss("wasserstein")


def test_only_bce_losses_use_a_sigmoid():
    assert {name for name, loss in LOSSES.items() if loss.uses_sigmoid} == {
        "minimax",
        "non-saturating",
    }
    assert get_loss("wgan-gp").gradient_penalty_weight == 10.0


def test_r1_penalty_of_a_linear_critic():
    """For D(x) = w.x the gradient is w at every real point: R1 = |w|^2."""
    critic = torch.nn.Sequential(
        torch.nn.Linear(2, 1, bias=False), torch.nn.Flatten(0)
    )
    with torch.no_grad():
        critic[0].weight.copy_(torch.tensor([[3.0, 4.0]]))
    from gan_teach import r1_penalty

    assert r1_penalty(critic, torch.randn(16, 2)).item() == pytest.approx(
        25.0, rel=1e-5
    )
