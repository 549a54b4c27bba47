"""The feature classifier behind the classifier FID and the diversity metrics.

A small CNN trained on MNIST or Fashion-MNIST (``scripts/train_classifier.py``), shipped in
``gan_teach/weights`` with its SHA-256 checked on load; its 128-d penultimate layer gives the features that
:mod:`gan_teach.metrics` (the FID and its floor) and :mod:`gan_teach.diversity` (precision, recall,
density, coverage, KID) compare. The held-out classifiers were trained without 20,000 training images, so
those images' features are out-of-sample for them (:func:`held_out_indices`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .data import IMAGE_DATASETS
from .models import generate

__all__ = [
    "FeatureClassifier",
    "load_feature_classifier",
    "feature_statistics",
    "held_out_indices",
    "read_classifier_records",
    "sha256_of",
    "DamagedFileError",
    "check_sha256",
    "read_json_record",
    "check_images",
    "check_image_dataset",
    "as_images",
    "WEIGHTS_DIR",
]

#: The shipped weights and model cards, ``gan_teach/weights`` inside the installed package.
#:
#: :meta hide-value:
WEIGHTS_DIR = Path(__file__).with_name("weights")


NUM_TRAINING_IMAGES = 60_000  # both MNIST and Fashion-MNIST


HELD_OUT_NUM_IMAGES = 20_000  # training images the held-out classifier never saw: room for two disjoint 10k samples


class FeatureClassifier(nn.Module):
    """A small CNN for ``(N, 1, 28, 28)`` images in ``[-1, 1]``: 10 class logits, and 128-d features for FID.

    ``(N, 1, 28, 28)`` -> ``(N, 16, 14, 14)`` -> ``(N, 32, 7, 7)`` -> ``(N, 128)`` features -> ``(N, 10)`` logits.

    Args:
        feature_dim: width of the penultimate layer, the features FID compares.
        num_classes: number of classes.

    >>> FeatureClassifier().features(torch.zeros(3, 1, 28, 28)).shape
    torch.Size([3, 128])
    """

    def __init__(
        self, feature_dim: int = 128, num_classes: int = 10
    ) -> None:
        super().__init__()
        self.feature_dim = feature_dim
        self.convolutions = nn.Sequential(
            nn.Conv2d(
                1, 16, 4, stride=2, padding=1
            ),  # (N, 1, 28, 28) -> (N, 16, 14, 14)
            nn.ReLU(),
            nn.Conv2d(
                16, 32, 4, stride=2, padding=1
            ),  # (N, 16, 14, 14) -> (N, 32, 7, 7)
            nn.ReLU(),
        )  # strided convolutions instead of conv + max-pool: about half the training time on a CPU
        self.embed = nn.Sequential(
            nn.Linear(32 * 7 * 7, feature_dim), nn.ReLU()
        )  # (N, 1568) -> (N, feature_dim)
        self.classify = nn.Linear(
            feature_dim, num_classes
        )  # (N, feature_dim) -> (N, num_classes)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """The penultimate layer's activations, ``(N, feature_dim)``: what FID compares."""
        if images.dim() != 4 or tuple(images.shape[1:]) != (1, 28, 28):
            raise ValueError(
                f"FeatureClassifier expects images of shape (N, 1, 28, 28), got {tuple(images.shape)}. "
                "A batch of grey 28x28 images needs the channel axis: images.unsqueeze(1) adds it."
            )
        return self.embed(
            self.convolutions(images).flatten(1)
        )  # (N, 32, 7, 7) -> (N, 1568) -> (N, feature_dim)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.classify(
            self.features(images)
        )  # (N, num_classes) logits


def check_image_dataset(dataset: str) -> None:
    """Raise a ``ValueError`` unless a shipped classifier covers ``dataset``."""
    if dataset not in IMAGE_DATASETS:
        raise ValueError(
            f"the shipped feature classifiers cover {', '.join(IMAGE_DATASETS)}, got {dataset!r}. "
            "For the toy distributions use toy_metrics(samples, name) instead."
        )


class DamagedFileError(RuntimeError):
    """A shipped file does not match the SHA-256 its record holds, or the record is unreadable."""


def read_classifier_records() -> dict:
    """The training records of the shipped classifiers (sha256, accuracy, command, FID floor), by dataset."""
    path = WEIGHTS_DIR / "classifiers.json"
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing; rebuild it with scripts/train_classifier.py --dataset mnist"
        )
    return read_json_record(
        path, remedy="Reinstall gan-teach to restore it."
    )


def sha256_of(path: str | os.PathLike) -> str:
    """The hex SHA-256 digest of a file."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def check_sha256(
    path: str | os.PathLike,
    expected: str | None,
    *,
    record: str,
    remedy: str,
) -> None:
    """Refuse a file whose SHA-256 is not the one its record holds.

    Args:
        path: the file, e.g. a shipped ``.pt``.
        expected: the hex digest the record holds (``None``: it holds none).
        record: the record's name for the message, e.g. ``"its model card"``.
        remedy: what to do, e.g. ``"Reinstall gan-teach."``.

    Raises:
        DamagedFileError: in one line: which file, both digests, the remedy.
    """
    digest = sha256_of(path)
    if digest != expected:
        raise DamagedFileError(
            f"{path} has SHA-256 {digest}, but {record} records {expected}: "
            f"the file was changed or damaged. {remedy}"
        )


def read_json_record(path: str | os.PathLike, *, remedy: str) -> dict:
    """A JSON object from ``path``; DamagedFileError (which file, ``remedy``) if it is not one."""
    try:
        record = json.loads(Path(path).read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DamagedFileError(
            f"{path} is damaged: it is not valid JSON ({error}). {remedy}"
        ) from None
    if not isinstance(record, dict):
        raise DamagedFileError(
            f"{path} is damaged: it holds a JSON {type(record).__name__}, "
            f"not the object of records it should. {remedy}"
        )
    return record


def held_out_indices(dataset: str) -> torch.Tensor:
    """The 20,000 training images (a seeded random subset) that the held-out classifier never saw.

    The shipped classifier was trained on all 60,000 training images, so their features are *in-sample*;
    ``load_feature_classifier(dataset, held_out=True)`` was trained on the other 40,000 only, so the features
    of these images are out-of-sample for it, as a generator's images are. The first 10,000 are the
    training images that ``classifier_fid_floor(dataset, seed=0)`` scores.

    Returns:
        ``(20000,)`` int64 indices into ``load_images(dataset, train=True)``.

    >>> held_out_indices("mnist").shape
    torch.Size([20000])
    """
    check_image_dataset(dataset)
    return torch.randperm(
        NUM_TRAINING_IMAGES, generator=torch.Generator().manual_seed(0)
    )[:HELD_OUT_NUM_IMAGES]


@functools.cache
def load_feature_classifier(
    dataset: str, *, held_out: bool = False
) -> FeatureClassifier:
    """The shipped classifier for ``dataset``, checked against its recorded SHA-256, in eval mode.

    Args:
        dataset: ``"mnist"`` or ``"fashion-mnist"``.
        held_out: the classifier behind every FID (``False``, trained on all 60,000 training images), or the
            one that never saw :func:`held_out_indices` (``True``, trained on the other 40,000; float16 on disk;
            for measuring the floor itself, not for scoring generators).

    Returns:
        A frozen :class:`FeatureClassifier` on the CPU, shared by every caller: do not train it.
    """
    check_image_dataset(dataset)
    name = (
        f"{dataset}-held-out" if held_out else dataset
    )  # its key in classifiers.json
    path = WEIGHTS_DIR / (
        f"{dataset}-classifier-held-out.pt"
        if held_out
        else f"{dataset}-classifier.pt"
    )
    rebuild = f"python scripts/train_classifier.py --dataset {dataset}" + (
        " --held-out" if held_out else ""
    )
    if not path.exists():
        raise FileNotFoundError(
            f"the {name} classifier's weights are missing from {path}. "
            f"Reinstall gan-teach, or rebuild them with: {rebuild}"
        )
    record = read_classifier_records().get(name, {})
    check_sha256(
        path,
        record.get("sha256"),
        record="classifiers.json",
        remedy=f"Reinstall gan-teach, or retrain with {rebuild}, which "
        "writes both.",
    )
    classifier = FeatureClassifier()
    weights = torch.load(path, map_location="cpu", weights_only=True)
    classifier.load_state_dict(
        {key: value.float() for key, value in weights.items()}
    )  # the held-out one is float16
    return classifier.eval().requires_grad_(False)


def check_images(images: torch.Tensor) -> None:
    """Images must be ``(N, 1, 28, 28)`` finite values in ``[-1, 1]``, the range of the data and of a tanh."""
    if (
        not isinstance(images, torch.Tensor)
        or images.dim() != 4
        or tuple(images.shape[1:]) != (1, 28, 28)
    ):
        shape = (
            tuple(images.shape)
            if isinstance(images, torch.Tensor)
            else type(images).__name__
        )
        raise ValueError(
            f"expected images of shape (N, 1, 28, 28), got {shape}"
        )
    if images.shape[0] < 2:
        raise ValueError(
            f"a covariance needs at least 2 images, got {images.shape[0]}"
        )
    if not torch.isfinite(images).all():
        raise ValueError(
            "the images contain NaN or inf: the generator has probably diverged; check its losses"
        )
    low, high = images.min().item(), images.max().item()
    if high > 1.0 + 1e-3 or low < -1.0 - 1e-3:
        advice = (
            "Pixels in [0, 255] become [-1, 1] with images / 127.5 - 1."
        )
    elif (
        low >= 0.0
    ):  # real digits and tanh outputs have a black (-1) background
        advice = "They have no negative value, like [0, 1] data, whose background reads as grey: use images * 2 - 1."
    else:
        return
    raise ValueError(
        f"images must lie in [-1, 1] like gan_teach's data, got values in [{low:.3g}, {high:.3g}]. {advice}"
    )


@torch.no_grad()
def feature_statistics(
    images: torch.Tensor,
    dataset: str,
    batch_size: int = 1000,
    *,
    held_out: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of the shipped classifier's features over ``images``.

    Args:
        images: ``(N, 1, 28, 28)`` in ``[-1, 1]``, ``N >= 2``.
        dataset: which classifier reads them, ``"mnist"`` or ``"fashion-mnist"``.
        batch_size: images per forward pass.
        held_out: read them with the held-out classifier instead (see :func:`load_feature_classifier`).

    Returns:
        ``mu`` of shape ``(feature_dim,)`` and ``sigma`` of shape ``(feature_dim, feature_dim)``, float64.
    """
    classifier = load_feature_classifier(dataset, held_out=held_out)
    check_images(images)
    features = (
        torch.cat(
            [
                classifier.features(
                    images[start : start + batch_size].to(
                        "cpu", torch.float32
                    )
                )
                for start in range(0, images.shape[0], batch_size)
            ]
        )
        .double()
        .numpy()
    )  # (N, feature_dim)
    return features.mean(axis=0), np.cov(features, rowvar=False)


def as_images(
    images_or_generator: torch.Tensor | nn.Module,
    num_samples: int,
    seed: int,
) -> torch.Tensor:
    """Images as given, or ``num_samples`` drawn from a generator with ``seed``.

    Args:
        images_or_generator: images ``(N, 1, 28, 28)``, or a generator with a
            ``latent_dim`` attribute.
        num_samples: how many images to draw from a generator.
        seed: the seed of the generator's noise.

    Returns:
        The tensor itself, or ``(num_samples, 1, 28, 28)`` drawn images.
    """
    if isinstance(images_or_generator, nn.Module):
        if not hasattr(images_or_generator, "latent_dim"):
            raise ValueError(
                "a generator passed to the metrics needs a latent_dim attribute, like gan_teach's generators"
            )
        return generate(images_or_generator, num_samples, seed=seed)
    return images_or_generator
