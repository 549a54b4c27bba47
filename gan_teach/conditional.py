"""A conditional DCGAN: the generator is told which class to draw, the discriminator judges image and class.

Mirza and Osindero (2014) condition both players on a label ``y``: the game becomes
``min_G max_D E_{x,y}[log D(x, y)] + E_{z,y}[log(1 - D(G(z, y), y))]``. Here the generator appends a
learned embedding of ``y`` to the noise, and the discriminator is a *projection* discriminator
(Miyato and Koyama 2018): ``D(x, y) = w . phi(x) + b + embed(y) . phi(x)``, which scores "is this a real
image?" and "is it a real image *of class y*?" with one inner product. Both reuse the DCGAN layers of
:mod:`gan_teach.models`, so an unconditional and a conditional run differ only in the label.
"""

from __future__ import annotations

import torch
from torch import nn

from .models import (
    DCGANDiscriminator,
    DCGANGenerator,
    check_shape,
    maybe_spectral_norm,
)

__all__ = [
    "ConditionalDCGANGenerator",
    "ConditionalDCGANDiscriminator",
    "check_labels",
]


def check_labels(
    module: nn.Module, labels: torch.Tensor, batch_size: int
) -> None:
    """Raise a ValueError unless ``labels`` is ``(batch_size,)`` integers in ``[0, module.num_classes)``."""
    if not isinstance(labels, torch.Tensor) or labels.dtype not in (
        torch.int64,
        torch.int32,
        torch.int16,
        torch.uint8,
    ):
        got = (
            labels.dtype
            if isinstance(labels, torch.Tensor)
            else type(labels).__name__
        )
        raise ValueError(
            f"{type(module).__name__} expects class labels as an integer tensor, got {got}. "
            "Use torch.tensor([3, 1, ...]) or torch.randint(num_classes, (N,))."
        )
    check_shape(
        module,
        labels,
        (batch_size,),
        "labels",
        "Give one class label per example.",
    )
    # The range is checked on the CPU only: on a GPU, reading min and max would wait for the device at every
    # step, and an out-of-range label stops the embedding there anyway (a device-side assertion).
    if (
        labels.device.type == "cpu"
        and labels.numel()
        and (
            int(labels.min()) < 0 or int(labels.max()) >= module.num_classes
        )
    ):
        raise ValueError(
            f"{type(module).__name__} has {module.num_classes} classes (labels 0 to {module.num_classes - 1}), "
            f"got labels from {int(labels.min())} to {int(labels.max())}"
        )


class ConditionalDCGANGenerator(nn.Module):
    """Maps noise ``(N, latent_dim)`` and class labels ``(N,)`` to images ``(N, channels, size, size)`` in [-1, 1].

    The label is embedded (``(N,) -> (N, label_dim)``) and appended to the noise, and the DCGAN generator
    takes it from there: ``(N, latent_dim + label_dim) -> (N, 2w, 7, 7) -> (N, w, 14, 14) -> (N, 1, 28, 28)``.

    Args:
        latent_dim: size of the noise vector z.
        num_classes: number of classes (10 for MNIST).
        image_size: 28, 32 or 64.
        channels: 1 for grey images, 3 for RGB.
        base_channels: as in :class:`~gan_teach.models.DCGANGenerator`.
        label_dim: size of the learned label embedding.

    >>> generator = ConditionalDCGANGenerator(latent_dim=8, base_channels=8)
    >>> generator(torch.randn(3, 8), torch.tensor([0, 5, 9])).shape
    torch.Size([3, 1, 28, 28])
    """

    def __init__(
        self,
        latent_dim: int = 64,
        num_classes: int = 10,
        image_size: int = 28,
        channels: int = 1,
        base_channels: int = 64,
        label_dim: int = 16,
    ) -> None:
        super().__init__()
        if num_classes < 2:
            raise ValueError(
                f"num_classes must be at least 2, got {num_classes}"
            )
        self.latent_dim, self.num_classes, self.label_dim = (
            latent_dim,
            num_classes,
            label_dim,
        )
        self.image_size, self.channels = image_size, channels
        self.label_embedding = nn.Embedding(
            num_classes, label_dim
        )  # (N,) -> (N, label_dim)
        self.body = DCGANGenerator(
            latent_dim + label_dim, image_size, channels, base_channels
        )

    def forward(
        self, z: torch.Tensor, labels: torch.Tensor
    ) -> torch.Tensor:
        check_shape(
            self,
            z,
            (None, self.latent_dim),
            "latent vectors",
            "Sample z with torch.randn(N, generator.latent_dim).",
        )
        check_labels(self, labels, z.shape[0])
        conditioned = torch.cat(
            [z, self.label_embedding(labels).to(z.dtype)], dim=1
        )  # (N, latent_dim + label_dim)
        return self.body(conditioned)


class ConditionalDCGANDiscriminator(nn.Module):
    """A projection discriminator: one logit per (image, label) pair, shape ``(N,)``.

    ``phi(x)`` are the DCGAN discriminator's features ``(N, F)``; the score is
    ``classify(phi(x)) + <embed(y), phi(x)>``, the second term large when the image looks like class ``y``.

    Args:
        num_classes: number of classes.
        image_size, channels, base_channels, normalization, spectral_norm: as in
            :class:`~gan_teach.models.DCGANDiscriminator` (spectral norm also constrains the embedding).

    >>> discriminator = ConditionalDCGANDiscriminator(base_channels=8)
    >>> discriminator(torch.randn(3, 1, 28, 28), torch.tensor([0, 5, 9])).shape
    torch.Size([3])
    """

    def __init__(
        self,
        num_classes: int = 10,
        image_size: int = 28,
        channels: int = 1,
        base_channels: int = 64,
        normalization: str = "batch",
        spectral_norm: bool = False,
    ) -> None:
        super().__init__()
        if num_classes < 2:
            raise ValueError(
                f"num_classes must be at least 2, got {num_classes}"
            )
        self.num_classes, self.image_size, self.channels = (
            num_classes,
            image_size,
            channels,
        )
        self.body = DCGANDiscriminator(
            image_size,
            channels,
            base_channels,
            normalization,
            spectral_norm,
        )
        feature_size = self.body.classify.in_features  # F = w * s * s
        embedding = nn.Embedding(
            num_classes, feature_size
        )  # (N,) -> (N, F)
        nn.init.normal_(embedding.weight, 0.0, 0.02)
        self.label_embedding = maybe_spectral_norm(embedding, spectral_norm)

    def forward(
        self, images: torch.Tensor, labels: torch.Tensor
    ) -> torch.Tensor:
        expected = (None, self.channels, self.image_size, self.image_size)
        check_shape(
            self,
            images,
            expected,
            "images",
            "Give images at the size this discriminator was built for.",
        )
        check_labels(self, labels, images.shape[0])
        features = self.body.features(images).flatten(
            1
        )  # (N, w, s, s) -> (N, F)
        unconditional = self.body.classify(features).squeeze(1)  # (N,)
        projection = (
            self.label_embedding(labels).to(features.dtype) * features
        ).sum(dim=1)  # (N, F) . (N, F) -> (N,)
        return unconditional + projection
