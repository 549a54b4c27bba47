"""Noise predictors for diffusion: an MLP for 2-D points, a tiny U-Net for 28x28.

A denoiser takes a noisy example and its timestep, ``(x_t (B, ...), t
(B,))``, and returns its estimate of the noise, shaped like ``x_t`` (see
:mod:`gan_teach.diffusion`). One network serves every timestep, so it
must be told which one: ``t`` enters as a sinusoidal embedding (the
Transformer's position code, used by Ho et al. 2020), turned by a small MLP
into features that are added inside every block.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .models import check_shape

__all__ = [
    "timestep_embedding",
    "TimeEmbedding",
    "MLPDenoiser",
    "UNetDenoiser",
]


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sines and cosines of ``t`` at ``dim / 2`` frequencies.

    Frequencies run geometrically from 1 to 1/10,000, so nearby steps get
    nearby codes and far ones different codes.

    Args:
        t: ``(B,)`` timesteps (integers or floats).
        dim: the embedding's size, even.

    Returns:
        ``(B, dim)`` float32.

    >>> timestep_embedding(torch.tensor([0, 999]), 8).shape
    torch.Size([2, 8])
    """
    if dim < 2 or dim % 2:
        raise ValueError(f"dim must be even and >= 2, got {dim!r}")
    half = dim // 2
    exponents = torch.arange(half, device=t.device) / half  # (dim/2,)
    frequencies = torch.exp(-math.log(10_000) * exponents)  # (dim/2,)
    angles = t.float()[:, None] * frequencies[None]  # (B, dim/2)
    return torch.cat([angles.sin(), angles.cos()], dim=1)  # (B, dim)


class TimeEmbedding(nn.Module):
    """``t`` -> sinusoidal code -> a two-layer MLP: ``(B,) -> (B, dim)``."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim
        self.net = nn.Sequential(
            nn.Linear(dim, dim),  # (B, dim) -> (B, dim)
            nn.SiLU(),
            nn.Linear(dim, dim),  # (B, dim) -> (B, dim)
        )

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        return self.net(timestep_embedding(t, self.dim))


def _check_timesteps(
    module: nn.Module, t: torch.Tensor, batch: int
) -> None:
    check_shape(
        module,
        t,
        (batch,),
        "timesteps",
        "Pass one timestep per example, e.g. torch.full((B,), step).",
    )


class _ResidualMLPBlock(nn.Module):
    """``h + MLP(h + time features)``: (B, hidden) -> (B, hidden)."""

    def __init__(self, hidden_dim: int) -> None:
        super().__init__()
        self.time = nn.Linear(hidden_dim, hidden_dim)
        self.net = nn.Sequential(
            nn.SiLU(),
            nn.Linear(hidden_dim, hidden_dim),  # (B, hidden) -> (B, hidden)
            nn.SiLU(),
            nn.Linear(hidden_dim, hidden_dim),  # (B, hidden) -> (B, hidden)
        )

    def forward(self, h: torch.Tensor, time: torch.Tensor) -> torch.Tensor:
        return h + self.net(h + self.time(time))


class MLPDenoiser(nn.Module):
    """Predicts the noise in points: ``(x_t (B, data_dim), t (B,))``.

    Args:
        data_dim: size of a point (2 for the plane, 1 for a line).
        hidden_dim: width of every layer (and of the time embedding).
        num_blocks: residual blocks, each told the time.

    >>> denoiser = MLPDenoiser(data_dim=2, hidden_dim=32)
    >>> denoiser(torch.randn(5, 2), torch.arange(5)).shape
    torch.Size([5, 2])
    """

    def __init__(
        self, data_dim: int = 2, hidden_dim: int = 128, num_blocks: int = 3
    ) -> None:
        super().__init__()
        self.data_dim = data_dim
        self.sample_shape = (data_dim,)
        self.time_embedding = TimeEmbedding(hidden_dim)
        # (B, data_dim) -> (B, hidden)
        self.input = nn.Linear(data_dim, hidden_dim)
        self.blocks = nn.ModuleList(
            _ResidualMLPBlock(hidden_dim) for _ in range(num_blocks)
        )
        self.output = nn.Sequential(
            nn.SiLU(),
            nn.Linear(hidden_dim, data_dim),  # (B, hidden) -> (B, data_dim)
        )

    def forward(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        check_shape(
            self,
            x_t,
            (None, self.data_dim),
            "noisy points",
            "Toy points have shape (N, 2); a line's (N, 1).",
        )
        _check_timesteps(self, t, len(x_t))
        time = self.time_embedding(t)  # (B, hidden)
        h = self.input(x_t)  # (B, hidden)
        for block in self.blocks:
            h = block(h, time)  # (B, hidden)
        return self.output(h)  # (B, data_dim)


def _group_norm(channels: int) -> nn.GroupNorm:
    # 8 groups where the channels allow: per-example statistics, unlike
    # batch norm, so a sample does not depend on the rest of its batch.
    return nn.GroupNorm(math.gcd(8, channels), channels)


class _ResidualConvBlock(nn.Module):
    """Two 3x3 convolutions, the time added between them, and a skip.

    (B, in, H, W) -> (B, out, H, W).
    """

    def __init__(self, in_channels: int, out_channels: int, time_dim: int):
        super().__init__()
        self.first = nn.Sequential(
            _group_norm(in_channels),
            nn.SiLU(),
            nn.Conv2d(in_channels, out_channels, 3, padding=1),
        )
        self.time = nn.Linear(time_dim, out_channels)
        self.second = nn.Sequential(
            _group_norm(out_channels),
            nn.SiLU(),
            nn.Conv2d(out_channels, out_channels, 3, padding=1),
        )
        self.skip = (
            nn.Conv2d(in_channels, out_channels, 1)
            if in_channels != out_channels
            else nn.Identity()
        )

    def forward(self, x: torch.Tensor, time: torch.Tensor) -> torch.Tensor:
        h = self.first(x)  # (B, out, H, W)
        h = h + self.time(time)[:, :, None, None]  # (B, out, 1, 1) added
        return self.skip(x) + self.second(h)  # (B, out, H, W)


class UNetDenoiser(nn.Module):
    """A tiny U-Net: predicts the noise in images ``(B, C, H, W)``.

    Two resolutions down and back up (28 -> 14 -> 7 -> 14 -> 28 for
    MNIST), each joined to its mirror by a skip connection, a residual
    block at each level, the time added in every block. About 0.5 M
    parameters at ``base_channels=32``, far smaller than Ho et al.'s
    35.7 M, yet 0.25 GFLOP per image per pass: 65 times the 28x28 DCGAN
    generator at width 32 (0.0038 GFLOP, both counted by
    ``torch.utils.flop_counter``), before multiplying by the sampler's
    passes. ``base_channels=16`` costs a quarter (0.062 GFLOP).

    Args:
        channels: image channels (1 for MNIST).
        image_size: side of the square image, divisible by 4.
        base_channels: channels at full resolution; 2x at the lower two.

    >>> denoiser = UNetDenoiser(base_channels=8)
    >>> denoiser(torch.randn(2, 1, 28, 28), torch.tensor([0, 9])).shape
    torch.Size([2, 1, 28, 28])
    """

    def __init__(
        self,
        channels: int = 1,
        image_size: int = 28,
        base_channels: int = 32,
    ) -> None:
        super().__init__()
        if image_size % 4:
            raise ValueError(
                "image_size must be divisible by 4 (the U-Net halves it "
                f"twice), got {image_size!r}"
            )
        self.channels, self.image_size = channels, image_size
        self.sample_shape = (channels, image_size, image_size)
        width, time_dim = base_channels, 4 * base_channels
        self.time_embedding = TimeEmbedding(time_dim)
        # (B, C, 28, 28) -> (B, w, 28, 28)
        self.stem = nn.Conv2d(channels, width, 3, padding=1)
        self.down_full = _ResidualConvBlock(width, width, time_dim)
        # (B, w, 28, 28) -> (B, w, 14, 14)
        self.downsample_full = nn.Conv2d(width, width, 3, 2, 1)
        self.down_half = _ResidualConvBlock(width, 2 * width, time_dim)
        # (B, 2w, 14, 14) -> (B, 2w, 7, 7)
        self.downsample_half = nn.Conv2d(2 * width, 2 * width, 3, 2, 1)
        self.middle = _ResidualConvBlock(2 * width, 2 * width, time_dim)
        # (B, 2w, 7, 7) -> (B, 2w, 14, 14)
        self.upsample_half = nn.Sequential(
            nn.Upsample(scale_factor=2, mode="nearest"),
            nn.Conv2d(2 * width, 2 * width, 3, padding=1),
        )
        # skip joined: (B, 4w, 14, 14) -> (B, 2w, 14, 14)
        self.up_half = _ResidualConvBlock(4 * width, 2 * width, time_dim)
        # (B, 2w, 14, 14) -> (B, 2w, 28, 28)
        self.upsample_full = nn.Sequential(
            nn.Upsample(scale_factor=2, mode="nearest"),
            nn.Conv2d(2 * width, 2 * width, 3, padding=1),
        )
        # skip joined: (B, 3w, 28, 28) -> (B, w, 28, 28)
        self.up_full = _ResidualConvBlock(3 * width, width, time_dim)
        self.output = nn.Sequential(
            _group_norm(width),
            nn.SiLU(),
            nn.Conv2d(width, channels, 3, padding=1),  # -> (B, C, 28, 28)
        )

    def forward(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        check_shape(
            self,
            x_t,
            (None, *self.sample_shape),
            "noisy images",
            "MNIST batches have shape (N, 1, 28, 28).",
        )
        _check_timesteps(self, t, len(x_t))
        time = self.time_embedding(t)  # (B, 4w)
        h = self.stem(x_t)  # (B, w, 28, 28)
        full = self.down_full(h, time)  # (B, w, 28, 28)
        half = self.down_half(self.downsample_full(full), time)  # 14x14
        h = self.middle(self.downsample_half(half), time)  # (B, 2w, 7, 7)
        h = torch.cat(
            [self.upsample_half(h), half], dim=1
        )  # (B, 4w, 14, 14)
        h = self.up_half(h, time)  # (B, 2w, 14, 14)
        h = torch.cat(
            [self.upsample_full(h), full], dim=1
        )  # (B, 3w, 28, 28)
        h = self.up_full(h, time)  # (B, w, 28, 28)
        return self.output(h)  # (B, C, 28, 28)
