"""Latent-space functions: directions, walks, interpolation, arithmetic, style grids, animations."""

import math

import pytest
import torch
from torch import nn

from gan_teach.conditional import ConditionalDCGANGenerator
from gan_teach.instruments import latent
from gan_teach.models import DCGANGenerator


class LinearImages(nn.Module):
    """A 'generator' whose images are a known linear function of z: image = tanh-free A z, reshaped."""

    def __init__(self, latent_dim: int = 6) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.weight = nn.Parameter(torch.zeros(784, latent_dim))
        with (
            torch.no_grad()
        ):  # z[0] moves the images 10 times more than any other coordinate
            self.weight[:, 0] = 0.05
            self.weight[:, 1:] = 0.005 * torch.randn(
                784,
                latent_dim - 1,
                generator=torch.Generator().manual_seed(0),
            )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return (z @ self.weight.T).view(-1, 1, 28, 28)


def test_principal_direction_finds_the_coordinate_that_moves_the_images_most():
    directions, explained = latent.principal_directions(
        LinearImages(), num_directions=2, num_samples=500
    )
    assert directions.shape == (2, 6)
    assert torch.allclose(directions.norm(dim=1), torch.ones(2), atol=1e-5)
    assert (
        abs(directions[0, 0]) > 0.99
    )  # the pull-back of the first image component is the first latent axis
    assert explained[0] > explained[1] > 0 and explained.sum() <= 1


def test_random_directions_are_orthonormal_and_seeded():
    first = latent.random_directions(16, 4, seed=3)
    assert torch.allclose(first @ first.T, torch.eye(4), atol=1e-5)
    assert torch.equal(first, latent.random_directions(16, 4, seed=3))
    with pytest.raises(ValueError, match="between 1 and latent_dim"):
        latent.random_directions(4, 5)


def test_walk_and_truncate():
    z, direction = torch.zeros(3), torch.tensor([1.0, 0.0, 0.0])
    assert torch.equal(
        latent.walk(z, direction, [-1, 0, 2]),
        torch.tensor([[-1.0, 0, 0], [0, 0, 0], [2, 0, 0]]),
    )
    assert torch.equal(
        latent.truncate(torch.ones(2), 0.5), torch.full((2,), 0.5)
    )
    with pytest.raises(ValueError, match="same size"):
        latent.walk(torch.zeros(3), torch.zeros(4), [1])


def test_slerp_keeps_norms_typical_and_lerp_dips():
    d = 64
    z0, z1 = latent.sample_latents(d, 2, seed=0)
    lerp_path = latent.interpolate(z0, z1, 9, "lerp")
    slerp_path = latent.interpolate(z0, z1, 9, "slerp")
    assert torch.allclose(slerp_path[0], z0, atol=1e-5) and torch.allclose(
        slerp_path[-1], z1, atol=1e-5
    )
    assert torch.allclose(lerp_path[4], (z0 + z1) / 2)
    # Independent Gaussians are nearly orthogonal: the lerp midpoint's norm is about sqrt(d / 2), slerp's about sqrt(d).
    assert lerp_path[4].norm() < 0.8 * math.sqrt(d)
    assert abs(slerp_path[4].norm() - (z0.norm() + z1.norm()) / 2) < 1e-4
    assert latent.norms_along(slerp_path).shape == (9,)
    with pytest.raises(ValueError, match="opposite directions"):
        latent.slerp(z0, -z0, 0.5)
    # A zero vector has no direction (it gave NaN before).
    with pytest.raises(ValueError, match="two non-zero vectors"):
        latent.slerp(torch.zeros(d), z1, 0.5)
    with pytest.raises(ValueError, match="use lerp"):
        latent.interpolate(z0, torch.zeros(d), 5)


def test_attribute_direction_increases_the_attribute():
    generator = LinearImages()
    ink = lambda images: images.mean(dim=(1, 2, 3))  # noqa: E731
    direction = latent.attribute_direction(generator, ink, num_samples=1000)
    z = latent.sample_latents(6, 50, seed=1)
    assert (
        ink(latent.render(generator, z + direction))
        > ink(latent.render(generator, z))
    ).all()
    assert torch.allclose(
        latent.latent_arithmetic(
            torch.ones(4, 6), torch.zeros(3, 6), torch.zeros(6)
        ),
        torch.ones(6),
    )


def test_render_and_style_grid_for_a_conditional_generator():
    generator = ConditionalDCGANGenerator(latent_dim=4, base_channels=4)
    z = torch.randn(2, 4)
    grid = latent.style_grid(generator, z)
    assert grid.shape == (20, 1, 28, 28)
    assert torch.allclose(
        grid[13], latent.render(generator, z[1], 3)[0], atol=1e-6
    )  # row 1, column 3
    with pytest.raises(ValueError, match="needs labels"):
        latent.render(generator, z)
    with pytest.raises(ValueError, match="conditional generator"):
        latent.style_grid(DCGANGenerator(latent_dim=4, base_channels=4), z)


def test_frames_html_is_an_offline_player():
    frames = [torch.rand(4, 1, 28, 28) * 2 - 1 for _ in range(3)]
    html = latent.frames_html(frames, ["a", "b", "c"], nrow=2)
    assert html.count("data:image/jpeg;base64") == 3
    assert "https://" not in html
    with pytest.raises(ValueError, match="one title per frame"):
        latent.frames_html(frames, ["a"])
