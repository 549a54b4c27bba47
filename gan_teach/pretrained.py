"""Small pretrained generators shipped with the package, so that the latent space can be explored at once.

Each generator was trained by ``gan-teach train`` and exported by ``gan-teach export``; its model card
(``weights/pretrained.json``) records the training command, epochs, wall-clock time and machine, the
library's FID, its floor and FID minus floor (the summary), the seed, and the SHA-256 of the weights file,
which is checked on every load. Weights are stored in float16 (about half the size; the generators are used in float32).

An export never leaves a card that does not fit its weights. The FID is measured before anything is
written; the weights then go to a file that no card points at (``NAME.pt``, or ``NAME-SHA.pt`` while
``NAME.pt`` is the one in use), and the cards file is replaced in one rename, which is the moment
the new generator takes over. A failure, a Ctrl-C or a crash before that rename leaves the old
weights and card as they were; after it, the new pair is complete.

>>> sorted(available())
['fashion-mnist-dcgan', 'mnist-conditional', 'mnist-dcgan']
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import re
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .checkpoints import load_weights, read_checkpoint
from .config import TrainConfig, build_models
from .features import check_sha256, read_json_record
from .files import write_atomically
from .metrics import WEIGHTS_DIR, evaluate_images
from .options import train_command
from .utils import get_device

__all__ = [
    "available",
    "model_card",
    "load_generator",
    "export_generator",
    "CARDS_FILE",
]

#: The model cards of the shipped generators, in ``gan_teach/weights``.
CARDS_FILE = "pretrained.json"
# A name is a plain file name: no folder, no "..", nothing hidden.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _read_cards(
    weights_dir: Path | None = None,
) -> dict[str, dict[str, Any]]:
    shipped = weights_dir is None
    path = Path(WEIGHTS_DIR if shipped else weights_dir) / CARDS_FILE
    if not path.exists():
        return {}
    return read_json_record(
        path,
        remedy="Reinstall gan-teach to restore the shipped model cards."
        if shipped
        else "Restore it from a backup, or move it away and export again.",
    )


def available(
    weights_dir: str | os.PathLike | None = None,
) -> dict[str, dict[str, Any]]:
    """The shipped generators: name -> model card (a dictionary of plain data).

    Args:
        weights_dir: another folder written by ``gan-teach export
            --weights-dir``; default: the package's own.

    Raises:
        DamagedFileError: its ``pretrained.json`` is not valid JSON.
    """
    return _read_cards(weights_dir)


def model_card(name: str) -> dict[str, Any]:
    """The model card of the shipped generator ``name`` (see :func:`available` for the names)."""
    cards = _read_cards()
    if name not in cards:
        raise ValueError(
            f"no pretrained generator called {name!r}; the shipped ones are: {', '.join(sorted(cards))}"
        )
    return cards[name]


def load_generator(name: str, device: str | None = "cpu") -> nn.Module:
    """A shipped generator, in eval mode, with its weights checked against the model card's SHA-256.

    Args:
        name: ``"mnist-dcgan"``, ``"fashion-mnist-dcgan"`` or ``"mnist-conditional"``.
        device: where to put it; ``None``: the fastest available. The CPU is fast enough for exploring.

    Returns:
        The generator. ``generator(z)`` (or ``generator(z, labels)`` for a conditional one) maps
        ``z`` of shape ``(N, generator.latent_dim)`` to images ``(N, 1, 28, 28)`` in ``[-1, 1]``.
        A conditional generator has a ``num_classes`` attribute.
    """
    card = model_card(name)
    path = WEIGHTS_DIR / card["file"]
    if not path.exists():
        raise FileNotFoundError(
            f"the weights of {name!r} are missing from {path}; reinstall gan-teach"
        )
    check_sha256(
        path,
        card.get("sha256"),
        record=f"its model card in {CARDS_FILE}",
        remedy="Reinstall gan-teach, or re-export it with gan-teach export.",
    )
    generator, _ = build_models(TrainConfig.from_dict(card["config"]))
    weights = torch.load(path, map_location="cpu", weights_only=True)
    load_weights(
        generator,
        {
            key: value.float() if value.is_floating_point() else value
            for key, value in weights.items()
        },
        source=path,
    )
    generator.requires_grad_(False)
    return generator.to(get_device(device)).eval()


def export_generator(
    checkpoint: str | os.PathLike,
    name: str,
    *,
    weights_dir: str | os.PathLike | None = None,
    num_samples: int = 10_000,
    root: str | os.PathLike | None = None,
    seed: int = 0,
    notes: str | None = None,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Write the sampling generator of a training checkpoint as ``NAME.pt`` (float16) and its model card.

    The FID is measured on the float16 weights as shipped, with ``num_samples`` samples, beside the
    floor, before anything is written; then weights and card are written so that a crash leaves
    either the old pair or the new one (see the module's docstring).

    Args:
        checkpoint: a ``checkpoint.pt`` written by ``gan-teach train`` (its EMA weights are used if it has them).
        name: the name to ship it under, e.g. ``"mnist-dcgan"``: letters, digits, ``.``, ``_``, ``-``.
        weights_dir: where to write; the package's ``weights`` folder by default.
        num_samples, root, seed: for the FID (see :func:`gan_teach.metrics.evaluate_images`).
        notes: what a reader of the card should know that the numbers don't say (shared GPU, how the epoch was chosen).
        overwrite: replace a generator already shipped under ``name``.

    Returns:
        The model card, also written into ``weights_dir/pretrained.json``.

    Raises:
        ValueError: ``name`` is not a plain file name.
        FileExistsError: ``name`` is taken and ``overwrite`` is False.
    """
    weights_dir = Path(
        weights_dir if weights_dir is not None else WEIGHTS_DIR
    )
    cards = _read_cards(weights_dir)
    _check_free(name, weights_dir, cards, overwrite)
    saved = read_checkpoint(checkpoint)
    config = TrainConfig.from_dict(saved["config"])
    if (
        config.steps is None
        and not config.lr_decay
        and saved.get("epoch_step", 0) == 0
        and saved["epoch"] != config.epochs
    ):
        # A run stopped after epoch E of a longer plan: with constant learning rates, nothing before epoch E
        # depends on the plan's length, so these weights are those of the run `--epochs E`, and the card says so.
        config = dataclasses.replace(config, epochs=saved["epoch"])
    weights = saved.get("ema_generator") or saved["generator"]
    half = {
        key: value.half() if value.is_floating_point() else value
        for key, value in weights.items()
    }
    buffer = io.BytesIO()
    torch.save(half, buffer)
    content = buffer.getvalue()  # the bytes of NAME.pt, written last
    shipped = torch.load(io.BytesIO(content), weights_only=True)
    generator, _ = build_models(config)
    generator.load_state_dict(
        {key: value.float() for key, value in shipped.items()}
    )  # measure what is shipped
    metrics = evaluate_images(
        generator.eval(),
        config.dataset,
        num_samples=num_samples,
        root=root,
        seed=seed,
    )
    sha256 = hashlib.sha256(content).hexdigest()
    stored = dict(
        config.to_dict(), data_root=None, device=None
    )  # paths and devices of the training machine don't travel
    card = {
        "file": _free_file_name(name, sha256, cards),
        "sha256": sha256,
        "file_size_bytes": len(content),
        "dtype": "float16",
        "dataset": config.dataset,
        "model": config.model,
        "latent_dim": config.latent_dim,
        # Trainable weights only; batch norm's running statistics are buffers, counted apart.
        "num_parameters": sum(
            parameter.numel() for parameter in generator.parameters()
        ),
        "num_buffer_values": sum(
            buffer.numel()
            for buffer in generator.buffers()
            if buffer.is_floating_point()
        ),
        "command": train_command(config),
        "epochs": saved["epoch"],
        "steps": saved["step"],
        "seed": config.seed,
        "train_seconds": round(float(saved.get("train_seconds", 0.0)), 1),
        "machine": saved.get("device_name", "unknown"),
        "trained_with_torch": saved.get(
            "torch_version", "unknown"
        ),  # checkpoints before this key: unknown
        "fid_torch_version": torch.__version__,
        "fid": round(metrics["fid"], 2),
        "fid_floor": round(metrics["fid_floor"], 2),
        "fid_minus_floor": round(
            round(metrics["fid"], 2) - round(metrics["fid_floor"], 2), 2
        ),  # the card's two numbers' difference
        "fid_num_samples": metrics["num_samples"],
        "fid_command": f"gan_teach.metrics.evaluate_images(load_generator({name!r}), {config.dataset!r}, num_samples={num_samples}, seed={seed})",
        "config": stored,
    }
    if notes:
        card["notes"] = notes
    _ship(weights_dir, name, card, content)
    return card


def _check_free(
    name: str, weights_dir: Path, cards: dict, overwrite: bool
) -> None:
    """Refuse a name that is not a plain file name, or one in use unless told to overwrite."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(
            "the name must be a plain file name such as 'mnist-dcgan' "
            "(letters, digits, '.', '_', '-'; no folder, no '..', not "
            f"starting with '.'), got {name!r}"
        )
    if overwrite:
        return
    if name in cards:
        raise FileExistsError(
            f"{weights_dir} already ships a generator called {name!r} "
            f"({cards[name]['file']}); pass --overwrite (overwrite=True) to "
            "replace it, or choose another name"
        )
    if (weights_dir / f"{name}.pt").exists():
        raise FileExistsError(
            f"{weights_dir / f'{name}.pt'} already exists (a file without a "
            "model card); pass --overwrite (overwrite=True) to replace it, "
            "or choose another name"
        )


def _free_file_name(name: str, sha256: str, cards: dict) -> str:
    """``NAME.pt``, or ``NAME-SHA.pt`` while a card points at ``NAME.pt``."""
    in_use = {card.get("file") for card in cards.values()}
    plain = f"{name}.pt"
    return plain if plain not in in_use else f"{name}-{sha256[:12]}.pt"


def _ship(
    weights_dir: Path, name: str, card: dict[str, Any], content: bytes
) -> None:
    """Write the weights, then switch the cards file to them in one rename; then tidy up."""
    path = weights_dir / card["file"]
    cards = _read_cards(weights_dir)
    old_file = cards.get(name, {}).get("file")
    cards[name] = card
    text = json.dumps(cards, indent=2, sort_keys=True) + "\n"
    write_atomically(path, lambda file: file.write(content))
    try:
        # The moment the new generator takes over: one atomic rename.
        write_atomically(
            weights_dir / CARDS_FILE,
            lambda file: file.write(text.encode()),
        )
    except BaseException:
        path.unlink(missing_ok=True)  # no card points at it
        raise
    in_use = {entry.get("file") for entry in cards.values()}
    leftovers = re.compile(rf"{re.escape(name)}(-[0-9a-f]{{12}})?\.pt")
    for candidate in weights_dir.glob("*.pt"):
        if candidate.name not in in_use and (
            candidate.name == old_file
            or leftovers.fullmatch(candidate.name)
        ):
            candidate.unlink(missing_ok=True)
