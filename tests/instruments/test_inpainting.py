import pytest
import torch
from torch import nn

from gan_teach.instruments.inpainting import (
    half_mask,
    hidden_pixel_error,
    inpaint_by_latent_search,
    masked_reconstruction_loss,
)


class LinearGenerator(nn.Module):
    """G(z) = W z as a (1, 4, 4) image: the latent search is then a convex least-squares problem."""

    def __init__(self, latent_dim: int = 3) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.linear = nn.Linear(latent_dim, 16, bias=False)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.linear(z).view(
            -1, 1, 4, 4
        )  # (N, latent_dim) -> (N, 1, 4, 4)


@pytest.mark.parametrize("visible", ["top", "bottom", "left", "right"])
def test_half_mask_shows_half_of_every_image(visible):
    mask = half_mask(torch.zeros(2, 3, 6, 6), visible)
    assert mask.shape == (2, 3, 6, 6)
    assert mask.sum().item() == 2 * 3 * 18


def test_half_mask_rejects_unknown_side():
    with pytest.raises(ValueError, match="visible must be one of"):
        half_mask(torch.zeros(1, 1, 4, 4), "middle")


def test_masked_loss_ignores_hidden_pixels_and_averages_visible_ones():
    target = torch.zeros(2, 1, 4, 4)
    images = torch.ones(2, 1, 4, 4)
    images[:, :, 2:] = 100.0  # hidden below
    mask = half_mask(target)
    mask[1, :, 1] = 0.0  # the second image shows one row only
    assert torch.allclose(
        masked_reconstruction_loss(images, target, mask),
        torch.tensor([1.0, 1.0]),
    )
    assert torch.allclose(
        hidden_pixel_error(images, target, mask),
        torch.tensor([1e4, (2 * 1e4 + 1) / 3]),
    )


def test_masked_loss_explains_bad_masks():
    target = torch.zeros(2, 1, 4, 4)
    with pytest.raises(ValueError, match="same shape"):
        masked_reconstruction_loss(target, target, torch.ones(2, 4, 4))
    with pytest.raises(ValueError, match="at least one visible pixel"):
        masked_reconstruction_loss(target, target, torch.zeros_like(target))


def test_latent_search_recovers_hidden_pixels_of_a_linear_generator():
    torch.manual_seed(0)
    generator = LinearGenerator()
    true_latents = torch.randn(5, 3)
    with torch.no_grad():
        target = generator(true_latents)  # (5, 1, 4, 4)
    mask = half_mask(target)  # 8 visible pixels determine 3 latent numbers
    result = inpaint_by_latent_search(
        generator,
        target,
        mask,
        steps=400,
        lr=0.1,
        prior_weight=0.0,
        num_restarts=2,
    )
    assert result.filled.shape == target.shape and result.latents.shape == (
        5,
        3,
    )
    assert (
        hidden_pixel_error(result.filled, target, mask).max().item() < 1e-4
    )
    assert torch.equal(
        result.filled * mask, target * mask
    )  # visible pixels are kept as they were


def test_latent_search_leaves_the_generator_unchanged():
    generator = LinearGenerator().train()
    before = generator.linear.weight.clone()
    target = torch.zeros(2, 1, 4, 4)
    inpaint_by_latent_search(generator, target, half_mask(target), steps=5)
    assert torch.equal(before, generator.linear.weight)
    assert generator.training and generator.linear.weight.requires_grad


def test_prior_pulls_latents_towards_zero():
    generator = LinearGenerator()
    target = torch.full((2, 1, 4, 4), 3.0)
    free = inpaint_by_latent_search(
        generator, target, half_mask(target), steps=200, prior_weight=0.0
    )
    shrunk = inpaint_by_latent_search(
        generator, target, half_mask(target), steps=200, prior_weight=10.0
    )
    assert shrunk.latents.norm() < free.latents.norm()


def test_latent_search_rejects_bad_arguments():
    target = torch.zeros(1, 1, 4, 4)
    with pytest.raises(ValueError, match="latent_dim"):
        inpaint_by_latent_search(nn.Identity(), target, half_mask(target))
    with pytest.raises(ValueError, match="at least 1"):
        inpaint_by_latent_search(
            LinearGenerator(), target, half_mask(target), steps=0
        )
