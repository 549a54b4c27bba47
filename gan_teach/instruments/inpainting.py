"""Inpainting with a trained generator: search the latent space for a ``z`` whose image fits the visible pixels.

Semantic inpainting in the style of Yeh et al. (2017): keep the generator fixed, and find

``z* = argmin_z  mean_{visible j} (G(z)_j - x_j)^2  +  prior_weight * |z|^2``

by gradient descent; then ``G(z*)`` fills the hidden pixels. The first term makes the generated image
agree with what we can see; the second keeps ``z`` where the generator was trained (a Gaussian prior),
so the search cannot wander to a ``z`` that fits the visible pixels with an image the generator never
learned to make. A mask is ``1`` where a pixel is visible (known) and ``0`` where it is hidden.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

__all__ = [
    "InpaintingResult",
    "half_mask",
    "masked_reconstruction_loss",
    "hidden_pixel_error",
    "inpaint_by_latent_search",
]


def half_mask(images: torch.Tensor, visible: str = "top") -> torch.Tensor:
    """A mask that shows one half of every image and hides the other.

    Args:
        images: ``(B, C, H, W)``; only the shape, dtype and device are used.
        visible: which half stays visible: ``"top"``, ``"bottom"``, ``"left"`` or ``"right"``.

    Returns:
        ``(B, C, H, W)`` of ones (visible) and zeros (hidden), like ``images``.

    >>> half_mask(torch.zeros(1, 1, 4, 4))[0, 0]
    tensor([[1., 1., 1., 1.],
            [1., 1., 1., 1.],
            [0., 0., 0., 0.],
            [0., 0., 0., 0.]])
    """
    if images.dim() != 4:
        raise ValueError(
            f"half_mask expects images of shape (B, C, H, W), got {tuple(images.shape)}"
        )
    mask = torch.zeros_like(images)
    height, width = images.shape[-2:]
    regions = {
        "top": (slice(None, height // 2), slice(None)),
        "bottom": (slice(height // 2, None), slice(None)),
        "left": (slice(None), slice(None, width // 2)),
        "right": (slice(None), slice(width // 2, None)),
    }
    if visible not in regions:
        raise ValueError(
            f"visible must be one of {', '.join(regions)}, got {visible!r}"
        )
    rows, columns = regions[visible]
    mask[..., rows, columns] = 1.0
    return mask


def _check_mask(
    images: torch.Tensor, target: torch.Tensor, mask: torch.Tensor
) -> None:
    if images.shape != target.shape or mask.shape != target.shape:
        raise ValueError(
            "images, target and mask must have the same shape (B, C, H, W), got "
            f"{tuple(images.shape)}, {tuple(target.shape)} and {tuple(mask.shape)}. "
            "Build the mask with half_mask(target) or torch.ones_like(target)."
        )
    if target.dim() < 2:
        raise ValueError(
            f"expected a batch of images (B, ...), got shape {tuple(target.shape)}"
        )


def masked_reconstruction_loss(
    images: torch.Tensor, target: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """Mean squared error over the visible pixels of each image.

    ``loss_b = sum_j mask_bj (images_bj - target_bj)^2 / sum_j mask_bj``: a mean, so that images with
    more visible pixels do not weigh more, and hidden pixels (``mask == 0``) do not count at all.

    Args:
        images: ``(B, C, H, W)``, e.g. ``G(z)``.
        target: ``(B, C, H, W)``, the images to match; their hidden pixels may hold anything.
        mask: ``(B, C, H, W)``, 1 where a pixel is visible, 0 where it is hidden; every image needs at
            least one visible pixel.

    Returns:
        ``(B,)``, one loss per image.

    >>> target = torch.zeros(1, 1, 2, 2)
    >>> images = torch.tensor([[[[1.0, 1.0], [5.0, 5.0]]]])  # wrong by 1 on top, by 5 below
    >>> masked_reconstruction_loss(images, target, half_mask(target))  # only the top row is visible
    tensor([1.])
    """
    _check_mask(images, target, mask)
    visible_count = mask.flatten(1).sum(dim=1)  # (B,)
    if bool((visible_count <= 0).any()):
        raise ValueError(
            "every image needs at least one visible pixel (mask == 1); an all-hidden image has no loss"
        )
    squared_error = (
        (mask * (images - target) ** 2).flatten(1).sum(dim=1)
    )  # (B,)
    return squared_error / visible_count


def hidden_pixel_error(
    images: torch.Tensor, target: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """Mean squared error over the *hidden* pixels of each image: how well the gaps were filled.

    Args:
        images, target, mask: as in :func:`masked_reconstruction_loss`.

    Returns:
        ``(B,)``, one error per image.
    """
    return masked_reconstruction_loss(images, target, 1.0 - mask)


@dataclass
class InpaintingResult:
    """What :func:`inpaint_by_latent_search` found.

    Attributes:
        filled: ``(B, C, H, W)``, the visible pixels of the target with ``G(z*)`` in the hidden ones.
        generated: ``(B, C, H, W)``, ``G(z*)`` itself.
        latents: ``(B, latent_dim)``, the best ``z*`` of each image over the restarts.
        visible_loss: ``(B,)``, the masked reconstruction loss of ``G(z*)``.
    """

    filled: torch.Tensor
    generated: torch.Tensor
    latents: torch.Tensor
    visible_loss: torch.Tensor


def inpaint_by_latent_search(
    generator: nn.Module,
    target: torch.Tensor,
    mask: torch.Tensor,
    *,
    steps: int = 300,
    lr: float = 0.05,
    prior_weight: float = 1e-3,
    num_restarts: int = 4,
    seed: int = 0,
) -> InpaintingResult:
    """Fill in hidden pixels by latent search (Yeh et al. 2017).

    Minimises ``masked_reconstruction_loss(G(z), target, mask)`` plus
    ``prior_weight * |z|^2`` with Adam, from ``num_restarts`` random starts
    per image, and keeps the start whose final visible loss is lowest (the
    objective is not convex in ``z``; one start often ends in a poor local
    minimum). The generator is used in eval mode and is not changed.

    Args:
        generator: a trained generator with a ``latent_dim`` attribute,
            mapping ``(N, latent_dim)`` to images.
        target: ``(B, C, H, W)`` images in the generator's range
            (``[-1, 1]``).
        mask: ``(B, C, H, W)``, 1 where a pixel is visible, 0 where it is
            hidden.
        steps: Adam steps.
        lr: Adam's learning rate for ``z``.
        prior_weight: weight of ``|z|^2``, the negative log-density of the
            Gaussian prior up to a factor 2.
        num_restarts: random starting points per image.
        seed: seeds the starting points.

    Returns:
        An :class:`InpaintingResult` on the CPU.
    """
    if not hasattr(generator, "latent_dim"):
        raise ValueError(
            "the generator needs a latent_dim attribute, "
            "like gan_teach's generators"
        )
    if steps < 1 or num_restarts < 1:
        raise ValueError(
            "steps and num_restarts must be at least 1, "
            f"got {steps} and {num_restarts}"
        )
    if prior_weight < 0:
        raise ValueError(
            f"prior_weight must be non-negative, got {prior_weight}"
        )
    _check_mask(target, target, mask)
    device = next(generator.parameters()).device
    batch_size = target.shape[0]
    was_training = generator.training
    # batch norm uses its running statistics: each image's search is
    # independent of the others
    generator.eval()
    parameters_required = [
        parameter.requires_grad for parameter in generator.parameters()
    ]
    generator.requires_grad_(False)

    repeated_target = target.to(device).repeat(
        num_restarts, 1, 1, 1
    )  # (R * B, C, H, W), restart r is block r
    repeated_mask = mask.to(device).repeat(
        num_restarts, 1, 1, 1
    )  # (R * B, C, H, W)
    start = torch.randn(
        num_restarts * batch_size,
        generator.latent_dim,
        generator=torch.Generator().manual_seed(seed),
    )
    latents = start.to(device).requires_grad_(True)  # (R * B, latent_dim)
    optimizer = torch.optim.Adam([latents], lr=lr)
    try:
        for _ in range(steps):
            optimizer.zero_grad()
            fit = masked_reconstruction_loss(
                generator(latents), repeated_target, repeated_mask
            )  # (R * B,)
            prior = prior_weight * (latents**2).sum(dim=1)  # (R * B,)
            # Summed, not averaged, over the batch: every image's z gets the
            # gradient of its own objective.
            (fit + prior).sum().backward()
            optimizer.step()
        with torch.no_grad():
            generated = generator(latents)  # (R * B, C, H, W)
            final_loss = masked_reconstruction_loss(
                generated, repeated_target, repeated_mask
            )  # (R * B,)
    finally:
        generator.train(was_training)
        for parameter, required in zip(
            generator.parameters(), parameters_required
        ):
            parameter.requires_grad_(required)

    best_restart = final_loss.view(num_restarts, batch_size).argmin(
        dim=0
    )  # (B,)
    chosen = best_restart * batch_size + torch.arange(
        batch_size, device=best_restart.device
    )  # index into R * B
    generated = generated[chosen].float().cpu()  # (B, C, H, W)
    target_cpu, mask_cpu = target.float().cpu(), mask.float().cpu()
    return InpaintingResult(
        filled=mask_cpu * target_cpu + (1 - mask_cpu) * generated,
        generated=generated,
        latents=latents.detach()[chosen].cpu(),
        visible_loss=final_loss[chosen].cpu(),
    )
