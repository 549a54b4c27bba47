"""Each mistake detector finds its mistake in a broken example and stays quiet on the library's correct version."""

import pytest
import torch
from torch import nn

from gan_teach.instruments.mistakes import (
    check_critic,
    check_data_range,
    check_detached_fakes,
    check_penalty_points,
    find_sigmoid_output,
    report,
    trace_shapes,
)
from gan_teach.losses import bce_discriminator_loss, gradient_penalty
from gan_teach.models import (
    DCGANDiscriminator,
    DCGANGenerator,
    MLPDiscriminator,
    MLPGenerator,
)


def _kinds(findings):
    return [finding.mistake for finding in findings]


def test_sigmoid_at_the_end_of_a_discriminator():
    images = torch.randn(4, 1, 28, 28)
    with_sigmoid = nn.Sequential(
        nn.Flatten(), nn.Linear(784, 1), nn.Sigmoid()
    )
    assert _kinds(find_sigmoid_output(with_sigmoid, images)) == [
        "sigmoid-output"
    ]
    assert find_sigmoid_output(DCGANDiscriminator(), images) == []


def test_critic_with_sigmoid_or_batch_norm_is_flagged():
    images = torch.randn(6, 1, 28, 28)
    batch_norm_critic = DCGANDiscriminator(normalization="batch")
    findings = check_critic(batch_norm_critic, images)
    assert (
        _kinds(findings) == ["critic-batch-dependence"]
        and "BatchNorm2d" in findings[0].message
    )
    sigmoid_critic = nn.Sequential(
        nn.Flatten(), nn.Linear(784, 1), nn.Sigmoid()
    )
    assert _kinds(check_critic(sigmoid_critic, images)) == [
        "critic-sigmoid"
    ]
    assert (
        check_critic(DCGANDiscriminator(normalization="layer"), images)
        == []
    )
    with pytest.raises(ValueError, match="at least 2"):
        check_critic(sigmoid_critic, images[:1])


def test_data_in_zero_one_or_bytes_is_flagged_for_a_tanh_generator():
    generator = DCGANGenerator(latent_dim=8, base_channels=8)
    zero_one = torch.rand(16, 1, 28, 28)
    findings = check_data_range(zero_one, generator)
    assert (
        _kinds(findings)[0] == "data-range"
        and "images * 2 - 1" in findings[0].message
    )
    assert "127.5" in check_data_range(zero_one * 255)[0].message
    assert check_data_range(zero_one * 2 - 1) == []


def test_trace_shapes_names_the_layer_of_the_source_article():
    source_discriminator = (
        nn.Sequential(  # the article's discriminator, as printed
            nn.Conv2d(3, 64, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(64, 128, 4, 2, 1),
            nn.BatchNorm2d(128),
            nn.LeakyReLU(0.2),
            nn.Flatten(),
            nn.Linear(128 * 7 * 7, 1),
            nn.Sigmoid(),
        )
    )
    findings = trace_shapes(
        source_discriminator, torch.zeros(2, 3, 64, 64), show=False
    )
    assert _kinds(findings) == ["shape-mismatch"]
    assert (
        "6 (Linear(in_features=6272" in findings[0].message
        and "receives 32768" in findings[0].message
    )
    assert (
        trace_shapes(
            DCGANDiscriminator(), torch.zeros(2, 1, 28, 28), show=False
        )
        == []
    )


def test_trace_shapes_prints_every_layer(capsys):
    trace_shapes(
        nn.Sequential(nn.Linear(3, 5), nn.ReLU()), torch.zeros(2, 3)
    )
    printed = capsys.readouterr().out
    assert (
        "(2, 3)" in printed and "Linear" in printed and "(2, 5)" in printed
    )


def _step(detach: bool):
    def discriminator_step(generator, discriminator, optimizer, real):
        fake = generator(torch.randn(real.shape[0], generator.latent_dim))
        optimizer.zero_grad()
        loss = bce_discriminator_loss(
            discriminator(real),
            discriminator(fake.detach() if detach else fake),
        )
        loss.backward()
        optimizer.step()

    return discriminator_step


def test_fakes_that_are_not_detached_reach_the_generator():
    generator, discriminator = (
        MLPGenerator(latent_dim=4),
        MLPDiscriminator(),
    )
    real = torch.randn(16, 2)
    assert _kinds(
        check_detached_fakes(
            _step(detach=False), generator, discriminator, real
        )
    ) == ["fakes-not-detached"]
    assert (
        check_detached_fakes(
            _step(detach=True), generator, discriminator, real
        )
        == []
    )
    assert all(
        parameter.grad is None for parameter in generator.parameters()
    )  # the caller's networks are untouched


def _penalty_at(points: str):
    def penalty(critic, real, fake):
        if points == "real":
            x = real.clone().requires_grad_(True)
        elif points == "midpoint":
            x = (0.5 * real + 0.5 * fake).requires_grad_(True)
        else:  # one epsilon for the whole batch
            epsilon = torch.rand(1)
            x = (epsilon * real + (1 - epsilon) * fake).requires_grad_(True)
        (gradients,) = torch.autograd.grad(
            critic(x).sum(), x, create_graph=True
        )
        return ((gradients.flatten(1).norm(dim=1) - 1) ** 2).mean()

    return penalty


def test_gradient_penalty_at_the_wrong_points():
    assert check_penalty_points(gradient_penalty) == []
    assert (
        "at the real examples"
        in check_penalty_points(_penalty_at("real"))[0].message
    )
    assert (
        "midpoints"
        in check_penalty_points(_penalty_at("midpoint"))[0].message
    )

    def whole_batch_norm(critic, real, fake):
        real = real.requires_grad_(True)
        (gradient,) = torch.autograd.grad(critic(real).sum(), real)
        return (gradient.norm() - 1) ** 2

    assert _kinds(check_penalty_points(whole_batch_norm)) == [
        "penalty-points"
    ]


def test_report_prints_each_finding(capsys):
    findings = find_sigmoid_output(
        nn.Sequential(nn.Linear(2, 1), nn.Sigmoid()), torch.zeros(3, 2)
    )
    assert report(findings) is False
    assert capsys.readouterr().out.startswith(
        "[sigmoid-output] your discriminator ends in nn.Sigmoid"
    )


def test_check_critic_catches_batch_norm_over_flat_features():
    """BatchNorm1d cannot score one example alone in training mode: the check must still run and report it."""
    from torch import nn

    from gan_teach.instruments.mistakes import check_critic

    critic = nn.Sequential(
        nn.Linear(2, 16),
        nn.BatchNorm1d(16),
        nn.LeakyReLU(0.2),
        nn.Linear(16, 1),
    )
    findings = check_critic(critic, torch.randn(8, 2))
    assert [finding.mistake for finding in findings] == [
        "critic-batch-dependence"
    ]
    assert "BatchNorm1d" in findings[0].message
