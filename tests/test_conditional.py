"""The conditional DCGAN: shapes, label checks, the projection term, and training through the library loop."""

import pytest
import torch

from gan_teach import TrainConfig, generate, train
from gan_teach.conditional import (
    ConditionalDCGANDiscriminator,
    ConditionalDCGANGenerator,
)
from gan_teach.config import build_models
from gan_teach.models import DCGANGenerator


def test_generator_makes_images_for_each_label():
    generator = ConditionalDCGANGenerator(
        latent_dim=8, base_channels=8
    ).eval()
    z = torch.randn(1, 8).repeat(3, 1)  # one style, three classes
    images = generator(z, torch.tensor([0, 1, 2]))  # (3, 1, 28, 28)
    assert images.shape == (3, 1, 28, 28)
    assert images.abs().max() <= 1
    assert not torch.allclose(images[0], images[1]), (
        "the label must change the picture"
    )


def test_discriminator_score_depends_on_the_label_through_the_projection():
    discriminator = ConditionalDCGANDiscriminator(base_channels=8).eval()
    images = torch.randn(2, 1, 28, 28)
    same = discriminator(images, torch.tensor([3, 3]))
    other = discriminator(images, torch.tensor([4, 4]))
    features = discriminator.body.features(images).flatten(1)
    expected_difference = (
        (
            discriminator.label_embedding.weight[3]
            - discriminator.label_embedding.weight[4]
        )
        * features
    ).sum(1)
    assert torch.allclose(same - other, expected_difference, atol=1e-5)


@pytest.mark.parametrize(
    "labels, message",
    [
        (torch.tensor([0, 10]), "labels 0 to 9"),
        (torch.tensor([0.0, 1.0]), "integer tensor"),
        (torch.tensor([0, 1, 2]), r"shape \(2,\)"),
    ],
)
def test_bad_labels_are_explained(labels, message):
    generator = ConditionalDCGANGenerator(latent_dim=4, base_channels=4)
    with pytest.raises(ValueError, match=message):
        generator(torch.randn(2, 4), labels)


def test_config_builds_conditional_models_and_refuses_toy_data():
    generator, discriminator = build_models(
        TrainConfig(dataset="mnist", model="conditional", width=8).resolve()
    )
    assert isinstance(generator, ConditionalDCGANGenerator) and isinstance(
        discriminator, ConditionalDCGANDiscriminator
    )
    with pytest.raises(ValueError, match="no class labels"):
        TrainConfig(dataset="ring", model="conditional").resolve()


@pytest.mark.parametrize(
    "loss, spectral_norm",
    [("non-saturating", False), ("hinge", True), ("wgan-gp", False)],
)
def test_conditional_training_runs_and_uses_the_labels(loss, spectral_norm):
    images = (
        torch.rand(160, 1, 28, 28) * 2 - 1
    )  # enough for k = 5 critic batches of 16 (WGAN-GP)
    labels = torch.arange(160) % 10
    config = TrainConfig(
        dataset="mnist",
        model="conditional",
        loss=loss,
        spectral_norm=spectral_norm,
        width=4,
        latent_dim=8,
        batch_size=16,
        steps=3,
        ema_decay=0.9,
    )
    state = train(config, data=images, labels=labels, progress=False)
    assert len(state.history["d_loss"]) == 3
    assert state.fixed_labels[:12].tolist() == [
        0,
        1,
        2,
        3,
        4,
        5,
        6,
        7,
        8,
        9,
        0,
        1,
    ]
    assert state.samples[-1][1].shape == (64, 1, 28, 28)
    assert generate(state.sampling_generator, 5, seed=0).shape == (
        5,
        1,
        28,
        28,
    )


def test_conditional_training_without_labels_is_explained():
    config = TrainConfig(
        dataset="mnist",
        model="conditional",
        width=4,
        latent_dim=8,
        batch_size=16,
        steps=1,
    )
    with pytest.raises(ValueError, match="one class label per example"):
        train(config, data=torch.zeros(32, 1, 28, 28), progress=False)


def test_generate_balances_classes_and_takes_labels():
    generator = ConditionalDCGANGenerator(latent_dim=4, base_channels=4)
    by_default = generate(generator, 20, seed=0)
    assert torch.equal(
        by_default,
        generate(generator, 20, seed=0, labels=torch.arange(20) % 10),
    )
    assert not torch.equal(
        by_default,
        generate(
            generator, 20, seed=0, labels=torch.zeros(20, dtype=torch.long)
        ),
    )
    with pytest.raises(ValueError, match="not a conditional"):
        generate(
            DCGANGenerator(latent_dim=4, base_channels=4),
            2,
            labels=torch.zeros(2, dtype=torch.long),
        )


def test_the_single_steps_need_labels_exactly_for_a_conditional_model():
    from gan_teach import create_state, discriminator_step, generator_step

    state = create_state(
        TrainConfig(
            dataset="mnist",
            model="conditional",
            width=4,
            latent_dim=8,
            steps=1,
        )
    )
    with pytest.raises(ValueError, match="needs the class labels"):
        discriminator_step(state, torch.zeros(4, 1, 28, 28))
    metrics = generator_step(
        state, 4
    )  # the generator's own update draws its classes at random
    assert set(metrics) == {"g_loss", "g_grad_norm"}
    plain = create_state(
        TrainConfig(dataset="mnist", width=4, latent_dim=8, steps=1)
    )
    with pytest.raises(ValueError, match="not conditional"):
        generator_step(plain, 4, labels=torch.zeros(4, dtype=torch.long))
