"""Small helpers every other module uses: seeding, device choice, fast mode, eval mode for a block."""

from __future__ import annotations

import contextlib
import os
import random
from collections.abc import Iterator

import numpy as np
import torch
from torch import nn

__all__ = [
    "seed_everything",
    "get_device",
    "fast_mode",
    "evaluating",
    "unwrap",
]


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, NumPy and PyTorch (CPU and every CUDA device).

    Args:
        seed: any non-negative integer; the same seed gives the same run on the same machine.
    """
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device


def get_device(preferred: str | None = None) -> torch.device:
    """Pick the fastest available device: CUDA, then Apple's MPS, then the CPU.

    Args:
        preferred: force a device such as ``"cpu"`` or ``"cuda:1"``; ``None`` chooses automatically.

    Returns:
        The chosen ``torch.device``.
    """
    if preferred is not None:
        device = torch.device(preferred)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(
                f"device {preferred!r} was requested, but PyTorch sees no CUDA GPU here; use 'cpu'"
            )
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def fast_mode() -> bool:
    """True when notebooks and examples should shrink their training to run in CI.

    Set by ``CI=true`` (what CI services export) or ``GAN_TEACH_FAST=1``; ``GAN_TEACH_FAST=0`` forces
    the full version even on CI.
    """
    explicit = os.environ.get("GAN_TEACH_FAST")
    if explicit is not None:
        return explicit.strip().lower() not in ("", "0", "false", "no")
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


@contextlib.contextmanager
def evaluating(module: nn.Module) -> Iterator[nn.Module]:
    """Eval mode inside the block; the module's previous mode afterwards, even after an error.

    >>> layer = nn.BatchNorm1d(3)
    >>> with evaluating(layer):
    ...     layer.training
    False
    >>> layer.training
    True
    """
    was_training = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(was_training)


def unwrap(module: nn.Module) -> nn.Module:
    """The plain module inside a DistributedDataParallel wrapper (or the module itself)."""
    if isinstance(module, nn.parallel.DistributedDataParallel):
        return module.module
    return module
