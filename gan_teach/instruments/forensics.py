"""Image forensics for generated digits: a real-vs-generated detector, and a check for copied training images.

Two questions a generator's numbers do not answer. *Can its images be told apart from real ones?*
:func:`train_detector` trains a small CNN (the architecture of :class:`gan_teach.features.FeatureClassifier`,
with one output logit) to say "generated", and :func:`detection_report` measures it on held-out images.
*Did it copy its training set?* A generator that returns training images scores as well as real data
on FID; :func:`nearest_neighbour_distances` finds, for each image, the closest training image, and a
distance of (almost) zero gives the copy away.

Labels follow one convention everywhere: ``1`` means generated ("fake"), ``0`` means real.
"""

from __future__ import annotations

import torch
from torch import nn

from ..metrics import FeatureClassifier
from ..utils import evaluating

__all__ = [
    "build_detector",
    "train_detector",
    "fake_probability",
    "balanced_accuracy",
    "detection_report",
    "nearest_neighbour_distances",
]


def _check_digit_images(images: torch.Tensor, name: str) -> None:
    """Detector inputs are ``(N, 1, 28, 28)`` tensors in ``[-1, 1]``, like gan_teach's data and generators."""
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
            f"{name} must be images of shape (N, 1, 28, 28) in [-1, 1], got {shape}. "
            "Draw generated ones with gan_teach.generate(generator, N) and real ones with gan_teach.load_images."
        )
    if images.shape[0] == 0:
        raise ValueError(
            f"{name} is empty: the detector needs at least one image of each kind"
        )


def build_detector(seed: int = 0) -> FeatureClassifier:
    """A fresh detector: :class:`~gan_teach.features.FeatureClassifier`'s small CNN with one logit, ``> 0`` meaning "generated".

    Args:
        seed: seeds the initial weights (with a private RNG: the global one is left untouched).

    Returns:
        An untrained ``FeatureClassifier(num_classes=1)``: ``(N, 1, 28, 28)`` -> ``(N, 1)`` logits.

    >>> build_detector()(torch.zeros(2, 1, 28, 28)).shape
    torch.Size([2, 1])
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return FeatureClassifier(num_classes=1)


def train_detector(
    real_images: torch.Tensor,
    fake_images: torch.Tensor,
    *,
    epochs: int = 2,
    batch_size: int = 128,
    learning_rate: float = 1e-3,
    seed: int = 0,
) -> FeatureClassifier:
    """Train a detector to tell ``fake_images`` (label 1) from ``real_images`` (label 0), on the CPU.

    Binary cross-entropy on one logit, Adam, shuffled mini-batches that mix both kinds. Use about as
    many images of each kind, and measure the detector on *other* images with :func:`detection_report`.

    Args:
        real_images: ``(N_real, 1, 28, 28)`` real digits in ``[-1, 1]``.
        fake_images: ``(N_fake, 1, 28, 28)`` generated digits in ``[-1, 1]``.
        epochs: passes over the two sets together.
        batch_size: images per update.
        learning_rate: Adam's learning rate.
        seed: seeds the weights and the shuffling (privately: the global RNG is left untouched).

    Returns:
        The trained detector, in eval mode.
    """
    _check_digit_images(real_images, "real_images")
    _check_digit_images(fake_images, "fake_images")
    if epochs < 1 or batch_size < 1:
        raise ValueError(
            f"epochs and batch_size must be positive integers, got {epochs} and {batch_size}"
        )
    images = (
        torch.cat([real_images, fake_images]).detach().float().cpu()
    )  # (N_real + N_fake, 1, 28, 28)
    labels = torch.cat(
        [torch.zeros(len(real_images)), torch.ones(len(fake_images))]
    )  # (N_real + N_fake,)
    detector = build_detector(seed)
    optimizer = torch.optim.Adam(detector.parameters(), lr=learning_rate)
    loss_function = nn.BCEWithLogitsLoss()
    shuffle = torch.Generator().manual_seed(seed)
    detector.train()
    for _ in range(epochs):
        order = torch.randperm(len(images), generator=shuffle)
        for batch in order.split(batch_size):
            logits = detector(images[batch]).squeeze(1)  # (B, 1) -> (B,)
            loss = loss_function(logits, labels[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return detector.eval()


@torch.no_grad()
def fake_probability(
    detector: nn.Module, images: torch.Tensor, batch_size: int = 1000
) -> torch.Tensor:
    """The detector's probability that each image is generated, ``(N,)`` on the CPU.

    Args:
        detector: a model made by :func:`build_detector` or :func:`train_detector`.
        images: ``(N, 1, 28, 28)`` in ``[-1, 1]``.
        batch_size: images per forward pass.

    Returns:
        ``sigmoid(logit)`` per image, in ``[0, 1]``.
    """
    _check_digit_images(images, "images")
    device = next(detector.parameters()).device
    with evaluating(detector):
        chunks = [
            torch.sigmoid(detector(batch.to(device)).squeeze(1))
            .float()
            .cpu()
            for batch in images.split(batch_size)
        ]
    return torch.cat(chunks)


def balanced_accuracy(
    predictions: torch.Tensor, labels: torch.Tensor
) -> float:
    """The mean of the accuracy on each class: 0.5 for a constant guess, however unequal the classes.

    Args:
        predictions: ``(N,)`` predicted labels, 0 (real) or 1 (generated).
        labels: ``(N,)`` true labels, with at least one of each.

    Returns:
        ``(accuracy on real + accuracy on generated) / 2``.

    >>> balanced_accuracy(torch.tensor([1, 1, 1, 1]), torch.tensor([0, 1, 1, 1]))  # plain accuracy: 0.75
    0.5
    """
    predictions, labels = (
        torch.as_tensor(predictions).flatten(),
        torch.as_tensor(labels).flatten(),
    )
    if predictions.shape != labels.shape:
        raise ValueError(
            f"predictions and labels must match: got {tuple(predictions.shape)} and {tuple(labels.shape)}"
        )
    per_class = []
    for label in (0, 1):
        members = labels == label
        if not bool(members.any()):
            raise ValueError(
                f"balanced accuracy needs examples of both classes; no label {label} among the labels"
            )
        per_class.append(
            (predictions[members] == label).double().mean().item()
        )
    return sum(per_class) / 2


def detection_report(
    detector: nn.Module,
    real_images: torch.Tensor,
    fake_images: torch.Tensor,
    threshold: float = 0.5,
) -> dict[str, float]:
    """How well ``detector`` separates held-out real and generated images.

    Args:
        detector: a trained detector.
        real_images, fake_images: ``(N, 1, 28, 28)`` images the detector was not trained on.
        threshold: "generated" when the probability exceeds it.

    Returns:
        ``{"balanced_accuracy", "real_called_real", "fake_called_fake"}``: the last two are the accuracy
        on each kind, the first their mean (chance is 0.5).
    """
    real_called_real = (
        (fake_probability(detector, real_images) <= threshold)
        .double()
        .mean()
        .item()
    )
    fake_called_fake = (
        (fake_probability(detector, fake_images) > threshold)
        .double()
        .mean()
        .item()
    )
    return {
        "balanced_accuracy": (real_called_real + fake_called_fake) / 2,
        "real_called_real": real_called_real,
        "fake_called_fake": fake_called_fake,
    }


@torch.no_grad()
def nearest_neighbour_distances(
    queries: torch.Tensor,
    references: torch.Tensor,
    *,
    same_set: bool = False,
    batch_size: int = 256,
) -> tuple[torch.Tensor, torch.Tensor]:
    """For each query, the Euclidean distance to the closest reference and that reference's index.

    Images are compared as flat vectors of pixels. The closest reference is found with the fast
    ``|q|^2 + |r|^2 - 2 q.r`` expansion, then its distance is recomputed exactly, so that an exact
    copy of a reference gets a distance of exactly 0 (the expansion alone leaves rounding noise).

    Args:
        queries: ``(Q, ...)``, e.g. generated images ``(Q, 1, 28, 28)``.
        references: ``(R, ...)`` with the same shape per item, e.g. the training images.
        same_set: ``queries`` and ``references`` are the same images: skip each image's own index
            (its distance to itself is 0 and says nothing), but not its exact duplicates elsewhere.
        batch_size: queries per block of the distance matrix (a block holds ``batch_size x R`` floats).

    Returns:
        ``distances`` ``(Q,)`` float32 and ``indices`` ``(Q,)`` int64 into ``references``.

    >>> points = torch.tensor([[0.0, 0.0], [3.0, 4.0], [3.0, 4.0]])
    >>> nearest_neighbour_distances(points[:2], points)[0]
    tensor([0., 0.])
    >>> nearest_neighbour_distances(points, points, same_set=True)[0]  # the two copies find each other
    tensor([5., 0., 0.])
    """
    if (
        queries.dim() < 2
        or references.dim() < 2
        or queries.shape[1:] != references.shape[1:]
    ):
        raise ValueError(
            "queries and references must be batches of items of one shape, (Q, ...) and (R, ...); "
            f"got {tuple(queries.shape)} and {tuple(references.shape)}"
        )
    if same_set and len(queries) != len(references):
        raise ValueError(
            f"same_set=True needs the same images twice, got {len(queries)} queries and {len(references)} references"
        )
    if len(references) < 1 + int(same_set):
        raise ValueError(
            f"need at least {1 + int(same_set)} reference(s), got {len(references)}"
        )
    flat_queries = queries.detach().flatten(1).float().cpu()  # (Q, D)
    flat_references = references.detach().flatten(1).float().cpu()  # (R, D)
    reference_norms = flat_references.pow(2).sum(dim=1)  # (R,)
    indices = []
    for start in range(0, len(flat_queries), batch_size):
        block = flat_queries[start : start + batch_size]  # (B, D)
        # |q - r|^2 up to the |q|^2 term, which does not change which r is closest: (B, R)
        scores = reference_norms[None, :] - 2 * block @ flat_references.T
        if same_set:
            rows = torch.arange(len(block))
            scores[rows, start + rows] = float(
                "inf"
            )  # an image is not its own neighbour
        indices.append(scores.argmin(dim=1))
    nearest = torch.cat(indices)  # (Q,)
    distances = (flat_queries - flat_references[nearest]).norm(
        dim=1
    )  # exact, (Q,)
    return distances, nearest
