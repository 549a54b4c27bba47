"""Generators and discriminators: MLPs for toy data and DCGANs for images.

Every discriminator returns raw scores (logits), one per example, shape ``(N,)``: the losses in
:mod:`gan_teach.losses` apply the sigmoid themselves, in a numerically stable way, and the
Wasserstein critic must not have one at all. Every model checks the shape of what it is given
and says what it expected, instead of failing deep inside a matrix multiplication.
"""

from __future__ import annotations

import torch
from torch import nn

from .utils import evaluating

__all__ = [
    "MLPGenerator",
    "MLPDiscriminator",
    "DCGANGenerator",
    "DCGANDiscriminator",
    "dcgan_init_",
    "count_parameters",
    "generate",
    "is_conditional",
    "balanced_labels",
    "check_shape",
    "maybe_spectral_norm",
]

# Output size -> (side of the first feature map, number of 2x upsamplings): 7 -> 14 -> 28, 4 -> 8 -> 16 -> 32 ...
_IMAGE_PLANS = {28: (7, 2), 32: (4, 3), 64: (4, 4)}


def check_shape(
    module: nn.Module,
    tensor: torch.Tensor,
    expected: tuple[int | None, ...],
    what: str,
    hint: str,
) -> None:
    """Raise a ValueError naming the expected and the received shape (``None`` matches any size)."""
    shape = tuple(tensor.shape)
    if len(shape) != len(expected) or any(
        e is not None and e != s for e, s in zip(expected, shape)
    ):
        wanted = (
            "("
            + ", ".join("N" if e is None else str(e) for e in expected)
            + ("," if len(expected) == 1 else "")
            + ")"
        )
        raise ValueError(
            f"{type(module).__name__} expects {what} of shape {wanted}, got {shape}. {hint}"
        )


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def dcgan_init_(module: nn.Module) -> None:
    """DCGAN's initialisation: weights N(0, 0.02) (Radford et al. 2015).

    Biases start at zero. Batch norm's scales are drawn from N(1, 0.02)
    and its shifts set to zero as in PyTorch's DCGAN example
    (pytorch/examples), which this follows; the paper itself specifies
    only the N(0, 0.02) weights.
    """
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(layer.weight, 0.0, 0.02)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
        elif isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.normal_(layer.weight, 1.0, 0.02)
            nn.init.zeros_(layer.bias)


def maybe_spectral_norm(layer: nn.Module, spectral_norm: bool) -> nn.Module:
    """``layer`` with spectral normalisation of its weight if ``spectral_norm``, else as it is."""
    return (
        nn.utils.parametrizations.spectral_norm(layer)
        if spectral_norm
        else layer
    )


class MLPGenerator(nn.Module):
    """Maps latent vectors ``(N, latent_dim)`` to points ``(N, data_dim)``.

    Args:
        latent_dim: size of the noise vector z.
        data_dim: size of a data point (2 for the plane, 1 for a line).
        hidden_dim: width of each hidden layer.
        num_layers: number of hidden layers.
        batch_norm: batch-normalise each hidden layer. It keeps the hidden features of a batch spread
            out, which on multi-modal toy data (the ring) markedly reduces mode collapse.

    >>> MLPGenerator(latent_dim=8, data_dim=2)(torch.randn(5, 8)).shape
    torch.Size([5, 2])
    """

    def __init__(
        self,
        latent_dim: int = 16,
        data_dim: int = 2,
        hidden_dim: int = 128,
        num_layers: int = 3,
        batch_norm: bool = False,
    ) -> None:
        super().__init__()
        self.latent_dim, self.data_dim = latent_dim, data_dim
        layers: list[nn.Module] = []
        width_in = latent_dim
        for _ in range(num_layers):
            layers.append(
                nn.Linear(width_in, hidden_dim)
            )  # (N, width_in) -> (N, hidden_dim)
            if batch_norm:
                layers.append(nn.BatchNorm1d(hidden_dim))
            layers.append(nn.ReLU())
            width_in = hidden_dim
        layers.append(
            nn.Linear(width_in, data_dim)
        )  # (N, hidden_dim) -> (N, data_dim); no tanh: the plane is unbounded
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        check_shape(
            self,
            z,
            (None, self.latent_dim),
            "latent vectors",
            "Sample z with torch.randn(N, generator.latent_dim).",
        )
        return self.net(z)


class MLPDiscriminator(nn.Module):
    """Scores points ``(N, data_dim)`` with one logit each, ``(N,)``.

    Args:
        data_dim: size of a data point.
        hidden_dim: width of each hidden layer.
        num_layers: number of hidden layers.
        spectral_norm: constrain each layer's spectral norm to 1 (Miyato et al. 2018).

    >>> MLPDiscriminator(data_dim=2)(torch.randn(5, 2)).shape
    torch.Size([5])
    """

    def __init__(
        self,
        data_dim: int = 2,
        hidden_dim: int = 128,
        num_layers: int = 3,
        spectral_norm: bool = False,
        minibatch_std: bool = False,
    ) -> None:
        super().__init__()
        self.data_dim, self.minibatch_std = data_dim, minibatch_std
        layers: list[nn.Module] = []
        width_in = data_dim
        for _ in range(num_layers):
            layers += [
                maybe_spectral_norm(
                    nn.Linear(width_in, hidden_dim), spectral_norm
                ),
                nn.LeakyReLU(0.2),
            ]
            width_in = hidden_dim
        self.hidden = nn.Sequential(*layers)
        # (N, hidden_dim [+ 1]) -> (N, 1): a logit, no sigmoid
        self.classify = maybe_spectral_norm(
            nn.Linear(width_in + int(minibatch_std), 1), spectral_norm
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_shape(
            self,
            x,
            (None, self.data_dim),
            "points",
            f"Each point has {self.data_dim} coordinate(s).",
        )
        features = self.hidden(x)  # (N, hidden_dim)
        if self.minibatch_std:
            features = _append_minibatch_std(
                features
            )  # (N, hidden_dim + 1)
        return self.classify(features).squeeze(1)  # (N, 1) -> (N,)


def _append_minibatch_std(features: torch.Tensor) -> torch.Tensor:
    """Append how varied the batch is, one number shared by all examples (Karras et al. 2018).

    A collapsed generator makes batches with almost no variation, which the discriminator can then
    see and punish: ``(N, F) -> (N, F + 1)``. The square root is of the variance plus 1e-8, as in
    Karras et al.: a feature that is the same for the whole batch (the blank border of every real
    digit) has standard deviation 0, where the square root's slope is infinite, and R1's second
    derivative through it would be NaN.
    """
    spread = (
        features.var(dim=0, unbiased=False).add(1e-8).sqrt().mean()
        if len(features) > 1
        else features.new_zeros(())
    )
    return torch.cat([features, spread.expand(len(features), 1)], dim=1)


class DCGANGenerator(nn.Module):
    """A DCGAN generator: a linear projection, then transposed convolutions.

    The architecture of Radford et al. (2015). For 28x28 images with
    ``base_channels=64``: z ``(N, latent_dim)`` -> ``(N, 128, 7, 7)`` ->
    ``(N, 64, 14, 14)`` -> ``(N, channels, 28, 28)``; a ``tanh`` maps the
    output to ``[-1, 1]``.

    Args:
        latent_dim: size of the noise vector z.
        image_size: 28, 32 or 64.
        channels: 1 for grey images, 3 for RGB.
        base_channels: width of the last hidden layer; each earlier layer
            doubles it.

    >>> DCGANGenerator(latent_dim=64)(torch.randn(2, 64)).shape
    torch.Size([2, 1, 28, 28])
    """

    def __init__(
        self,
        latent_dim: int = 64,
        image_size: int = 28,
        channels: int = 1,
        base_channels: int = 64,
    ) -> None:
        super().__init__()
        if image_size not in _IMAGE_PLANS:
            raise ValueError(
                f"image_size must be one of {sorted(_IMAGE_PLANS)}, "
                f"got {image_size}"
            )
        self.latent_dim, self.image_size, self.channels = (
            latent_dim,
            image_size,
            channels,
        )
        start, num_upsamplings = _IMAGE_PLANS[image_size]
        width = base_channels * 2 ** (num_upsamplings - 1)
        self.start_shape = (width, start, start)
        self.project = nn.Sequential(
            nn.Linear(
                latent_dim, width * start * start, bias=False
            ),  # (N, latent_dim) -> (N, width * start * start)
        )
        self.start_norm = nn.Sequential(nn.BatchNorm2d(width), nn.ReLU())
        blocks: list[nn.Module] = []
        for _ in range(num_upsamplings - 1):
            blocks += [
                nn.ConvTranspose2d(
                    width, width // 2, 4, stride=2, padding=1, bias=False
                ),  # (N, w, s, s) -> (N, w/2, 2s, 2s)
                nn.BatchNorm2d(width // 2),
                nn.ReLU(),
            ]
            width //= 2
        blocks += [
            nn.ConvTranspose2d(width, channels, 4, stride=2, padding=1),
            nn.Tanh(),
        ]  # -> (N, channels, size, size)
        self.blocks = nn.Sequential(*blocks)
        dcgan_init_(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        check_shape(
            self,
            z,
            (None, self.latent_dim),
            "latent vectors",
            "Sample z with torch.randn(N, generator.latent_dim); a 4-D "
            "(N, latent_dim, 1, 1) tensor needs .flatten(1).",
        )
        features = self.project(z).view(
            -1, *self.start_shape
        )  # (N, width * s * s) -> (N, width, s, s)
        return self.blocks(self.start_norm(features))


class DCGANDiscriminator(nn.Module):
    """A DCGAN discriminator: strided convolutions, one logit per image.

    For 28x28 images with ``base_channels=64``: ``(N, 1, 28, 28)`` ->
    ``(N, 64, 14, 14)`` -> ``(N, 128, 7, 7)`` -> flatten ``(N, 6272)`` ->
    ``(N,)``. The linear layer's input size is computed from the feature
    map, so it cannot disagree with it (the bug that crashes the source
    article's code).

    Args:
        image_size: 28, 32 or 64.
        channels: 1 for grey images, 3 for RGB.
        base_channels: width of the first layer; each later layer doubles
            it.
        normalization: ``"batch"`` (DCGAN), ``"layer"`` or ``"none"``. A
            WGAN-GP critic must not use batch norm: the gradient penalty is
            defined per example, and batch norm mixes examples.
        spectral_norm: constrain each layer's spectral norm to 1 (Miyato et
            al. 2018).
        minibatch_std: the last layer also sees how varied the batch is, one
            number shared by its examples (Karras et al. 2018), so that a
            generator that drops kinds of images is seen doing it.

    >>> DCGANDiscriminator()(torch.randn(2, 1, 28, 28)).shape
    torch.Size([2])
    """

    def __init__(
        self,
        image_size: int = 28,
        channels: int = 1,
        base_channels: int = 64,
        normalization: str = "batch",
        spectral_norm: bool = False,
        minibatch_std: bool = False,
    ) -> None:
        super().__init__()
        if image_size not in _IMAGE_PLANS:
            raise ValueError(
                f"image_size must be one of {sorted(_IMAGE_PLANS)}, "
                f"got {image_size}"
            )
        if normalization not in ("batch", "layer", "none"):
            raise ValueError(
                "normalization must be 'batch', 'layer' or 'none', "
                f"got {normalization!r}"
            )
        self.image_size, self.channels = image_size, channels
        start, num_downsamplings = _IMAGE_PLANS[image_size]
        width, side = base_channels, image_size // 2
        layers: list[nn.Module] = [
            maybe_spectral_norm(
                nn.Conv2d(channels, width, 4, stride=2, padding=1),
                spectral_norm,
            ),  # (N, C, s, s) -> (N, w, s/2, s/2)
            nn.LeakyReLU(
                0.2
            ),  # no normalisation on the first layer, as in DCGAN
        ]
        for _ in range(num_downsamplings - 1):
            side //= 2
            layers.append(
                maybe_spectral_norm(
                    nn.Conv2d(width, width * 2, 4, stride=2, padding=1),
                    spectral_norm,
                )
            )  # halves the side
            if normalization == "batch":
                layers.append(nn.BatchNorm2d(width * 2))
            elif normalization == "layer":
                layers.append(
                    nn.GroupNorm(1, width * 2)
                )  # one group = layer norm over (C, H, W), per example
            layers.append(nn.LeakyReLU(0.2))
            width *= 2
        assert side == start, (side, start)
        self.features = nn.Sequential(*layers)
        self.minibatch_std = minibatch_std
        self.classify = maybe_spectral_norm(
            nn.Linear(width * side * side + int(minibatch_std), 1),
            spectral_norm,
        )  # (N, w * s * s [+ 1]) -> (N, 1)
        dcgan_init_(self)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        expected = (None, self.channels, self.image_size, self.image_size)
        check_shape(
            self,
            images,
            expected,
            "images",
            "Resize or generate images at the size this discriminator was "
            "built for (its image_size and channels).",
        )
        features = self.features(images).flatten(
            1
        )  # (N, w, s, s) -> (N, w * s * s)
        if self.minibatch_std:
            features = _append_minibatch_std(features)  # (N, w * s * s + 1)
        return self.classify(features).squeeze(1)  # (N, 1) -> (N,)


@torch.no_grad()
def generate(
    generator: nn.Module,
    num_samples: int,
    *,
    seed: int | None = None,
    batch_size: int = 1000,
    truncation: float | None = None,
    labels: torch.Tensor | None = None,
) -> torch.Tensor:
    """Draw ``num_samples`` samples from ``generator`` in eval mode, in batches; returns a CPU tensor.

    Args:
        generator: any generator with a ``latent_dim`` attribute.
        num_samples: how many samples.
        seed: fixes the noise (with its own RNG, leaving the global one untouched); ``None``: global RNG.
        batch_size: samples per forward pass.
        truncation: if set, every noise entry is clamped to ``[-truncation, truncation]`` (a crude stand-in for
            BigGAN's truncation trick, which resamples the entries beyond the threshold instead).
        labels: for a conditional generator (one with ``num_classes``), the class of each sample,
            ``(num_samples,)``; default: every class equally often (0, 1, ..., 9, 0, 1, ...).

    Returns:
        Samples, e.g. ``(num_samples, 1, 28, 28)`` in ``[-1, 1]`` for a DCGAN.
    """
    if num_samples < 1:
        raise ValueError(
            f"num_samples must be at least 1, got {num_samples}"
        )
    if truncation is not None and not truncation >= 0:
        # clamp(-t, t) with t < 0 sets every entry to t: identical samples.
        raise ValueError(
            "truncation must be a bound >= 0 (each noise entry is clamped "
            f"to [-truncation, truncation]), got {truncation!r}"
        )
    device = next(generator.parameters()).device
    rng = torch.Generator().manual_seed(seed) if seed is not None else None
    # All the noise at once, on the CPU: the samples do not depend on batch_size or the device.
    z = torch.randn(
        num_samples, generator.latent_dim, generator=rng
    )  # (num_samples, latent_dim)
    if truncation is not None:
        z = z.clamp(-truncation, truncation)
    conditional = is_conditional(generator)
    if labels is not None and not conditional:
        raise ValueError(
            f"labels were given, but {type(generator).__name__} is not a conditional generator"
        )
    if conditional:
        labels = (
            balanced_labels(num_samples, generator.num_classes)
            if labels is None
            else torch.as_tensor(labels)
        )
        if labels.shape != (num_samples,):
            raise ValueError(
                f"labels must have shape ({num_samples},), one per sample, got {tuple(labels.shape)}"
            )
        batches = list(zip(z.split(batch_size), labels.split(batch_size)))
    else:
        batches = [(batch,) for batch in z.split(batch_size)]
    with evaluating(generator):
        chunks = [
            generator(*(part.to(device) for part in batch)).float().cpu()
            for batch in batches
        ]
    return torch.cat(chunks)


def is_conditional(generator: nn.Module) -> bool:
    """True for a class-conditional generator: one that takes ``(z, labels)`` and has ``num_classes``."""
    return hasattr(generator, "num_classes")


def balanced_labels(
    num_samples: int,
    num_classes: int,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Every class equally often, in order: ``0, 1, ..., num_classes - 1, 0, 1, ...``, shape ``(num_samples,)``.

    >>> balanced_labels(5, 3).tolist()
    [0, 1, 2, 0, 1]
    """
    return torch.arange(num_samples, device=device) % num_classes
