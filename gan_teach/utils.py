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
    "MAX_SEED",
    "seed_everything",
    "get_device",
    "available_devices",
    "fast_mode",
    "evaluating",
    "unwrap",
]

# PyTorch's generators take 64-bit seeds; a larger one overflows.
MAX_SEED = 2**64


def is_positive_int(value: object) -> bool:
    """An ``int`` of at least 1 and not a ``bool`` (``True`` is an int to Python): a count.

    >>> is_positive_int(3), is_positive_int(0), is_positive_int(True), is_positive_int(2.0)
    (True, False, False, False)
    """
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and value >= 1
    )


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, NumPy and PyTorch (CPU and every CUDA device).

    Args:
        seed: an integer in ``[0, 2**64)``; the same seed gives the same run on the same machine.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    if seed >= MAX_SEED:
        raise ValueError(
            f"seed must be below 2**64 = {MAX_SEED:,} (PyTorch's seeds are "
            f"64-bit), got {seed:,}"
        )
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device


def available_devices() -> list[str]:
    """The devices this machine can run on, as ``torch.device`` strings.

    ``"cpu"`` always; ``"cuda"`` and ``"cuda:0"``, ``"cuda:1"``, ... for each
    CUDA GPU PyTorch sees; ``"mps"`` on a Mac with Apple's Metal.
    """
    devices = ["cpu"]
    if torch.cuda.is_available():
        count = torch.cuda.device_count()
        devices += ["cuda"] + [f"cuda:{index}" for index in range(count)]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        devices.append("mps")
    return devices


def get_device(preferred: str | None = None) -> torch.device:
    """Pick the fastest available device: CUDA, then Apple's MPS, then the CPU.

    Args:
        preferred: force a device such as ``"cpu"`` or ``"cuda:1"``; ``None`` chooses automatically.

    Returns:
        The chosen ``torch.device``.

    Raises:
        ValueError: ``preferred`` is not a device name (``"gpu0"``), not one
            that computes (``"meta"``), or not on this machine (``"cuda"``
            without a GPU); the message lists :func:`available_devices`.
    """
    if preferred is not None:
        return _checked_device(preferred)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def _checked_device(name: str) -> torch.device:
    """``torch.device(name)`` if this machine has it; ValueError otherwise."""
    here = ", ".join(available_devices())
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError):
        device = None
    if device is None or device.type not in ("cpu", "cuda", "mps"):
        raise ValueError(
            f"unknown device {name!r}: expected cpu, cuda, cuda:N or mps; "
            f"this machine has {here}"
        )
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device {name!r} was requested, but PyTorch sees no CUDA GPU "
            f"here; this machine has {here}"
        )
    if device.type == "cuda" and device.index is not None:
        if device.index >= torch.cuda.device_count():
            raise ValueError(
                f"device {name!r} was requested, but PyTorch sees "
                f"{torch.cuda.device_count()} CUDA GPU(s); this machine "
                f"has {here}"
            )
    if device.type == "mps" and "mps" not in available_devices():
        raise ValueError(
            f"device {name!r} was requested, but Apple's MPS is not "
            f"available here; this machine has {here}"
        )
    return device


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
