import pytest
import torch

from gan_teach import (
    DCGANDiscriminator,
    DCGANGenerator,
    MLPDiscriminator,
    MLPGenerator,
    count_parameters,
    generate,
)


@pytest.mark.parametrize(
    "image_size,channels", [(28, 1), (32, 3), (64, 3), (64, 1)]
)
def test_dcgan_shapes_and_range(image_size, channels):
    generator = DCGANGenerator(
        latent_dim=16,
        image_size=image_size,
        channels=channels,
        base_channels=8,
    )
    discriminator = DCGANDiscriminator(
        image_size=image_size, channels=channels, base_channels=8
    )
    images = generator(torch.randn(3, 16))
    assert images.shape == (3, channels, image_size, image_size)
    assert images.min() >= -1 and images.max() <= 1  # tanh output
    logits = discriminator(images)
    assert logits.shape == (3,)
    assert (
        not torch.all((logits > 0) & (logits < 1)) or logits.abs().max() > 0
    )  # raw scores, not squashed


def test_discriminator_outputs_unbounded_logits():
    discriminator = DCGANDiscriminator(base_channels=8)
    with torch.no_grad():
        discriminator.classify.bias.fill_(
            5.0
        )  # a sigmoid would cap this below 1
    assert discriminator(torch.zeros(2, 1, 28, 28)).min() > 1


def test_default_mnist_architecture_matches_docstring():
    generator = DCGANGenerator()
    discriminator = DCGANDiscriminator()
    assert generator.start_shape == (128, 7, 7)
    assert discriminator.classify.in_features == 128 * 7 * 7
    assert (
        count_parameters(generator) > 0
        and count_parameters(discriminator) > 0
    )


def test_discriminator_shape_error_names_both_shapes():
    discriminator = DCGANDiscriminator(image_size=28, channels=1)
    with pytest.raises(
        ValueError,
        match=r"expects images of shape \(N, 1, 28, 28\), got \(4, 1, 32, 32\)",
    ):
        discriminator(torch.zeros(4, 1, 32, 32))


def test_generator_shape_error_explains_4d_noise():
    generator = DCGANGenerator(latent_dim=100)
    with pytest.raises(
        ValueError, match=r"\(N, 100\), got \(2, 100, 1, 1\).*flatten"
    ):
        generator(torch.zeros(2, 100, 1, 1))
    with pytest.raises(ValueError, match=r"\(N, 100\), got \(2, 64\)"):
        generator(torch.zeros(2, 64))


def test_unsupported_image_size_is_refused():
    with pytest.raises(ValueError, match="image_size must be one of"):
        DCGANGenerator(image_size=48)
    with pytest.raises(ValueError, match="normalization"):
        DCGANDiscriminator(normalization="instance")


def test_mlp_shapes_and_error():
    generator, discriminator = (
        MLPGenerator(latent_dim=4, data_dim=2),
        MLPDiscriminator(data_dim=2),
    )
    points = generator(torch.randn(7, 4))
    assert points.shape == (7, 2) and discriminator(points).shape == (7,)
    with pytest.raises(ValueError, match=r"\(N, 2\), got \(7, 3\)"):
        discriminator(torch.zeros(7, 3))


def test_minibatch_std_sees_collapse():
    """With the batch's spread as a feature, a collapsed batch and a varied one score differently."""
    discriminator = MLPDiscriminator(
        data_dim=2, hidden_dim=16, minibatch_std=True
    )
    with torch.no_grad():
        discriminator.classify.weight.zero_()
        discriminator.classify.weight[0, -1] = (
            1.0  # the score is the spread itself
        )
    collapsed = discriminator(torch.ones(8, 2))
    varied = discriminator(torch.randn(8, 2) * 3)
    # a collapsed batch's spread is the square root of the 1e-8 added to its variance
    assert torch.allclose(
        collapsed, discriminator.classify.bias + 1e-4, atol=1e-7
    )
    assert (varied > collapsed).all()


def test_r1_through_the_minibatch_spread_stays_finite():
    """A feature shared by the whole batch (every digit's blank border) has spread 0: R1's second
    derivative through a plain standard deviation there is NaN, through sqrt(var + 1e-8) it is finite."""
    from gan_teach.losses import r1_penalty

    torch.manual_seed(0)
    discriminator = DCGANDiscriminator(base_channels=8, minibatch_std=True)
    real = -torch.ones(16, 1, 28, 28)  # (16, 1, 28, 28): a blank border ...
    # ... around varied strokes
    real[:, :, 8:20, 8:20] = torch.rand(16, 1, 12, 12)
    penalty = r1_penalty(discriminator, real)
    penalty.backward()
    assert torch.isfinite(penalty)
    assert all(
        torch.isfinite(parameter.grad).all()
        for parameter in discriminator.parameters()
        if parameter.grad is not None
    )


def test_layer_norm_critic_treats_examples_independently():
    critic = DCGANDiscriminator(
        base_channels=8, normalization="layer"
    ).train()
    batch = torch.randn(4, 1, 28, 28)
    alone = critic(batch[:1])
    together = critic(batch)[:1]
    assert torch.allclose(alone, together, atol=1e-5)


def test_generate_is_reproducible_and_restores_mode():
    generator = MLPGenerator(latent_dim=3, data_dim=2).train()
    first = generate(generator, 10, seed=5, batch_size=4)
    again = generate(generator, 10, seed=5, batch_size=4)
    second = generate(generator, 10, seed=5)
    assert first.shape == (10, 2) and torch.equal(
        first, again
    )  # same seed, same batches: bit for bit
    # Other batches see the same noise; the matrix products may round differently (BLAS picks kernels by shape).
    assert torch.allclose(first, second, rtol=0, atol=1e-6)
    assert generator.training
    truncated = generate(generator, 10, seed=5, truncation=0.0)
    assert torch.allclose(
        truncated, truncated[:1].expand(10, 2)
    )  # all noise clamped to 0: one point
    # A negative bound would set every entry to it: identical samples.
    for bound in (-0.5, float("nan")):
        with pytest.raises(ValueError, match="truncation must be a bound"):
            generate(generator, 10, seed=5, truncation=bound)


def test_mlp_generator_batch_norm_option():
    plain = MLPGenerator(latent_dim=4, batch_norm=False)
    normed = MLPGenerator(latent_dim=4, batch_norm=True)
    assert not any(
        isinstance(m, torch.nn.BatchNorm1d) for m in plain.modules()
    )
    assert (
        sum(isinstance(m, torch.nn.BatchNorm1d) for m in normed.modules())
        == 3
    )
    assert normed(torch.randn(6, 4)).shape == (6, 2)
