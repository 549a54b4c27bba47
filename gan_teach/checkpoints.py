"""Checkpoints: plain dictionaries of tensors and plain data, written atomically, read safely.

A checkpoint holds the ``generator`` and ``discriminator`` state_dicts, the optimizers' states, the
configuration as plain data, the epoch and step, the history and the random number generators'
states, so that a resumed run is bit-for-bit the run that was never interrupted (on the CPU).
It is read with ``torch.load(weights_only=True)``: a file that carries pickled code is refused and
never executed. That protection is PyTorch's restricted unpickler, which could be bypassed before
torch 2.6 (CVE-2025-32434); gan-teach requires torch 2.6 or later for this reason. It guards against
code in a file, not against weights that are wrong: load checkpoints you have reason to trust.
Reading also checks every record of the file against the CRC-32 that
``torch.save`` stored beside it, so that a damaged file (one flipped byte) is reported as
damaged, and refuses weights that are NaN or infinite. A checkpoint is written atomically
(:func:`gan_teach.files.write_atomically`) and never with non-finite weights: the previous
checkpoint stays until a good one replaces it.
"""

from __future__ import annotations

import os
import pickle
import random
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .config import TrainConfig, build_models
from .engine import check_finite, non_finite
from .files import write_atomically
from .state import TrainState, create_state
from .utils import get_device, unwrap

__all__ = [
    "CheckpointError",
    "save_checkpoint",
    "read_checkpoint",
    "load_checkpoint",
    "load_checkpoint_generator",
    "load_weights",
]

FORMAT = "gan-teach-checkpoint"
VERSION = 1
_REQUIRED = (
    "config",
    "generator",
    "discriminator",
    "generator_optimizer",
    "discriminator_optimizer",
    "epoch",
    "step",
    "rng",
)


class CheckpointError(ValueError):
    """The file is not a usable gan-teach checkpoint; the message says why."""


def _rng_states(device: torch.device) -> dict[str, Any]:
    numpy_state = np.random.get_state()
    python_version, python_state, python_gauss = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all()
        if device.type == "cuda"
        else [],
        "numpy": {
            "keys": torch.from_numpy(numpy_state[1].astype(np.int64)),
            "position": int(numpy_state[2]),
            "has_gauss": int(numpy_state[3]),
            "cached_gaussian": float(numpy_state[4]),
        },
        "python": {
            "version": python_version,
            "state": list(python_state),
            "gauss": python_gauss,
        },
    }


def _restore_rng_states(states: dict[str, Any]) -> None:
    torch.set_rng_state(states["torch"])
    if states["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])
    numpy_state = states["numpy"]
    np.random.set_state(
        (
            "MT19937",
            numpy_state["keys"].numpy().astype(np.uint32),
            numpy_state["position"],
            numpy_state["has_gauss"],
            numpy_state["cached_gaussian"],
        )
    )
    python_state = states["python"]
    random.setstate(
        (
            python_state["version"],
            tuple(python_state["state"]),
            python_state["gauss"],
        )
    )


def _device_name(device: torch.device) -> str:
    """What trained the run, for model cards: the GPU's name, or the CPU's core count."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return (
        f"{os.cpu_count()}-core CPU"
        if device.type == "cpu"
        else device.type
    )


def _state_dict_or_none(thing: Any) -> Any:
    return None if thing is None else thing.state_dict()


def save_checkpoint(state: TrainState, path: str | os.PathLike) -> Path:
    """Write ``state`` to ``path`` atomically: a crash mid-write never leaves a half-written checkpoint.

    Returns:
        The path written.

    Raises:
        TrainingDivergedError: a weight or an optimizer state is NaN or infinite; nothing is written.
        OSError: the disk is full or the folder cannot be written; ``path`` is unchanged.
    """
    path = Path(path)
    check_finite(state, path)
    checkpoint = {
        "format": FORMAT,
        "version": VERSION,
        "config": state.config.to_dict(),
        "generator": unwrap(state.generator).state_dict(),
        "discriminator": unwrap(state.discriminator).state_dict(),
        "ema_generator": _state_dict_or_none(state.ema_generator),
        "generator_optimizer": state.generator_optimizer.state_dict(),
        "discriminator_optimizer": state.discriminator_optimizer.state_dict(),
        "generator_scaler": _state_dict_or_none(state.generator_scaler),
        "discriminator_scaler": _state_dict_or_none(
            state.discriminator_scaler
        ),
        "epoch": state.epoch,
        "step": state.step,
        "epoch_step": state.epoch_step,
        "history": state.history,
        "fixed_noise": state.fixed_noise.cpu(),
        "train_seconds": float(state.train_seconds),
        "device_name": _device_name(state.device),
        "torch_version": str(
            torch.__version__
        ),  # a plain str: weights_only loading refuses TorchVersion objects
        "samples": [[step, samples] for step, samples in state.samples],
        "rng": _rng_states(state.device),
    }
    return write_atomically(path, lambda file: torch.save(checkpoint, file))


def _check_archive(path: Path) -> None:
    """Refuse a file that is not a complete zip archive (what torch.save writes) or is damaged."""
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as file:
            start = file.read(4)
        if not start:
            raise CheckpointError(
                f"{path} is empty (an interrupted copy, or a save that failed?)"
            )
        if start.startswith(b"PK"):
            raise CheckpointError(
                f"{path} is truncated or corrupt: it starts like a checkpoint "
                "(a zip archive) but its end is missing (an interrupted copy?)"
            )
        raise CheckpointError(
            f"{path} is not a checkpoint: torch.save writes a zip archive, "
            f"and this file is not one (it starts with {start!r})"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            damaged = archive.testzip()  # checks every record's CRC-32
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise CheckpointError(
            f"{path} is truncated or corrupt and cannot be read ({error})"
        ) from None
    if damaged is not None:
        raise CheckpointError(
            f"{path} is damaged: its record {damaged!r} does not match the "
            "checksum written with it (a disk or copy error changed the file "
            "after it was saved); use another copy of it"
        )


def _check_weights_finite(path: Path, checkpoint: dict[str, Any]) -> None:
    for network in ("generator", "discriminator", "ema_generator"):
        weights = checkpoint.get(network)
        found = non_finite(weights) if isinstance(weights, dict) else []
        if found:
            raise CheckpointError(
                f"{path} holds NaN or infinite weights ({network} "
                f"{found[0]}): the run had diverged when it was saved. Use an "
                "earlier checkpoint, or train again with lower learning rates"
            )


def read_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Load and validate a checkpoint's dictionary (tensors on the CPU), refusing pickled code.

    Raises:
        FileNotFoundError: no such file.
        CheckpointError: the file is truncated, damaged, foreign, carries code, or holds
            NaN or infinite weights.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"no checkpoint at {path}; training writes DIR/checkpoint.pt (see 'gan-teach train --out DIR')"
        )
    _check_archive(path)
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        if (
            "weights only" in str(error).lower()
            or "weights_only" in str(error).lower()
        ):
            raise CheckpointError(
                f"refused to load {path}: it contains pickled Python objects, which could run code when loaded. "
                "gan-teach checkpoints hold only tensors and plain data; re-save the weights as state_dicts."
            ) from None
        raise CheckpointError(
            f"{path} is not a PyTorch checkpoint, or it is corrupt ({error})"
        ) from None
    except Exception as error:  # noqa: BLE001 - torch raises many types for damaged files (RuntimeError, EOFError, KeyError, ...)
        raise CheckpointError(
            f"{path} is truncated or corrupt and cannot be read ({type(error).__name__}: {error})"
        ) from None
    if (
        not isinstance(checkpoint, dict)
        or checkpoint.get("format") != FORMAT
    ):
        found = (
            sorted(checkpoint)[:8]
            if isinstance(checkpoint, dict)
            else type(checkpoint).__name__
        )
        raise CheckpointError(
            f"{path} is a PyTorch file but not a gan-teach checkpoint (found {found})"
        )
    if checkpoint.get("version") != VERSION:
        raise CheckpointError(
            f"{path} has checkpoint format version {checkpoint.get('version')}; this gan_teach reads version {VERSION}"
        )
    missing = [key for key in _REQUIRED if key not in checkpoint]
    if missing:
        raise CheckpointError(
            f"{path} is an incomplete gan-teach checkpoint: missing {missing}"
        )
    _check_weights_finite(path, checkpoint)
    return checkpoint


def load_weights(
    module: nn.Module,
    weights: Any,
    *,
    source: str | os.PathLike,
    name: str = "generator",
) -> None:
    """``module.load_state_dict(weights)``, refusing weights that do not fit, in one line.

    ``load_state_dict`` lists every missing, unexpected and misshapen key
    (pages for a DCGAN); this names the first layer that does not fit and
    counts the rest.

    Args:
        module: the network the configuration builds.
        weights: a state_dict read from ``source``.
        source: the file, for the message.
        name: what the weights are, e.g. ``"discriminator"``.

    Raises:
        CheckpointError: the weights' layers or shapes are not the network's.
    """
    expected = module.state_dict()
    if not isinstance(weights, dict):
        raise CheckpointError(
            f"{source}: the {name} weights are a {type(weights).__name__}, "
            "not a state_dict; the file is damaged"
        )
    problems = [
        f"layer {key} is missing from the file"
        for key in expected
        if key not in weights
    ]
    problems += [
        f"layer {key} has shape {tuple(weights[key].shape)} in the file, "
        f"but the network's is {tuple(value.shape)}"
        for key, value in expected.items()
        if key in weights
        and tuple(getattr(weights[key], "shape", ())) != tuple(value.shape)
    ]
    problems += [
        f"the file has a layer {key} that the network lacks"
        for key in weights
        if key not in expected
    ]
    if problems:
        more = (
            f" ({len(problems) - 1} more layers do not fit)"
            if len(problems) > 1
            else ""
        )
        raise CheckpointError(
            f"{source}: the {name} weights do not fit the "
            f"{type(module).__name__} its configuration builds: "
            f"{problems[0]}{more}. The file was edited, damaged, or saved "
            "with another configuration"
        )
    module.load_state_dict(weights)


def load_checkpoint(
    path: str | os.PathLike,
    device: str | None = None,
    config_overrides: dict[str, Any] | None = None,
) -> TrainState:
    """Rebuild the full training state saved at ``path``, ready to continue training exactly.

    Args:
        path: a file written by :func:`save_checkpoint`.
        device: where to put the networks; ``None``: the saved configuration's choice.
        config_overrides: configuration fields to change, e.g. ``{"epochs": 10}`` to train longer.
    """
    checkpoint = read_checkpoint(path)
    values = dict(checkpoint["config"])
    values.update(config_overrides or {})
    if device is not None:
        values["device"] = device
    state = create_state(TrainConfig.from_dict(values))
    for module, key in (
        (unwrap(state.generator), "generator"),
        (unwrap(state.discriminator), "discriminator"),
        (state.ema_generator, "ema_generator"),
    ):
        weights = checkpoint.get(key)
        if module is None or (key == "ema_generator" and weights is None):
            continue  # no EMA in this run, or none saved yet
        load_weights(module, weights, source=path, name=key)
    state.generator_optimizer.load_state_dict(
        checkpoint["generator_optimizer"]
    )
    state.discriminator_optimizer.load_state_dict(
        checkpoint["discriminator_optimizer"]
    )
    for scaler, key in (
        (state.generator_scaler, "generator_scaler"),
        (state.discriminator_scaler, "discriminator_scaler"),
    ):
        if scaler is not None and checkpoint.get(key):
            scaler.load_state_dict(checkpoint[key])
    state.epoch, state.step = checkpoint["epoch"], checkpoint["step"]
    state.epoch_step = checkpoint.get("epoch_step", 0)
    state.history = {
        key: list(values)
        for key, values in checkpoint.get("history", {}).items()
    }
    state.samples = [
        (int(step), samples)
        for step, samples in checkpoint.get("samples", [])
    ]
    state.train_seconds = float(checkpoint.get("train_seconds", 0.0))
    if checkpoint.get("fixed_noise") is not None:
        state.fixed_noise = checkpoint["fixed_noise"].to(state.device)
    _restore_rng_states(checkpoint["rng"])
    return state


def load_checkpoint_generator(
    path: str | os.PathLike, device: str | None = None
) -> tuple[nn.Module, TrainConfig]:
    """The generator saved at ``path`` (its EMA weights if it has them), in eval mode, and its configuration.

    Only the generator is rebuilt: no optimizer, no data, nothing random is touched.
    """
    checkpoint = read_checkpoint(path)
    config = TrainConfig.from_dict(checkpoint["config"])
    generator, _ = build_models(config)
    key = (
        "ema_generator" if checkpoint.get("ema_generator") else "generator"
    )
    load_weights(generator, checkpoint[key], source=path, name=key)
    return generator.to(get_device(device)).eval(), config
