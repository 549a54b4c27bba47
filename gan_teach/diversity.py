"""Fidelity and diversity, separately: precision, recall, density, coverage and KID on the classifier's features.

FID folds two questions into one number: *are the generated images good?* (fidelity) and *do they
cover everything the real images do?* (diversity). The metrics here answer them one at a time, on the
same 128-d features of the shipped classifier that :func:`gan_teach.metrics.classifier_fid` uses.

- **Precision and recall** (Kynkäänniemi et al. 2019, "Improved Precision and Recall Metric for
  Assessing Generative Models"): the real manifold is estimated as the union of balls around real
  feature vectors, each with the radius to its k-th nearest real neighbour. Precision is the share of
  generated samples inside it; recall is the share of real samples inside the generated manifold.
- **Density and coverage** (Naeem et al. 2020, "Reliable Fidelity and Diversity Metrics for Generative
  Models"): density counts *how many* real balls contain each generated sample (robust to real
  outliers, whose large balls inflate precision); coverage is the share of real balls that contain at
  least one generated sample (robust to generated outliers, which inflate recall).
- **KID** (Bińkowski et al. 2018, "Demystifying MMD GANs"): the squared maximum mean discrepancy with the
  kernel ``k(x, y) = (x . y / d + 1)^3``, estimated without bias and averaged over random subsets.
  Unlike FID it has no small-sample bias: two samples of one distribution score 0 on average, and a
  single estimate can be negative.

The pairwise distances of 10,000 x 10,000 feature vectors take 800 MB in float64, so everything below
works on chunks of rows.
"""

from __future__ import annotations

import functools
import os

import numpy as np
import torch
from torch import nn

from . import metrics
from .data import load_images, resolve_data_root

__all__ = [
    "classifier_features",
    "knn_radii",
    "manifold_metrics",
    "polynomial_kernel",
    "mmd_squared_unbiased",
    "kernel_distance",
    "diversity_metrics",
    "diversity_floor",
]

CHUNK_SIZE = 1000  # rows of the distance matrix held at once: 1000 x 10,000 float64 = 80 MB
# A point exactly on a ball's boundary (a real point that is another's k-th neighbour) is inside, as "<=" says;
# matrix products round the same distance differently in different chunks (by about 1e-14), so allow 1e-9.
BOUNDARY_TOLERANCE = 1e-9
REFERENCE_SEED = 0  # picks the test images every generator is compared with, whatever its noise seed


def _as_features(
    features: torch.Tensor | np.ndarray, name: str
) -> torch.Tensor:
    """A float64 ``(N, D)`` tensor of finite values, or a ValueError that says what to pass instead."""
    features = torch.as_tensor(features).detach().cpu().double()
    if features.dim() != 2:
        raise ValueError(
            f"{name} must be feature vectors of shape (N, D), got shape {tuple(features.shape)}. "
            "For images, take their features first: classifier_features(images, dataset)."
        )
    if not torch.isfinite(features).all():
        raise ValueError(
            f"{name} contain NaN or inf: a diverged generator? Check its samples before measuring them."
        )
    return features


def _check_pair(
    real_features: torch.Tensor, fake_features: torch.Tensor
) -> None:
    if real_features.shape[1] != fake_features.shape[1]:
        raise ValueError(
            f"real and generated features must have the same width D, got {real_features.shape[1]} and "
            f"{fake_features.shape[1]}: take both from the same network (the same dataset's classifier)."
        )


@torch.no_grad()
def classifier_features(
    images: torch.Tensor, dataset: str, batch_size: int = 1000
) -> torch.Tensor:
    """The shipped classifier's 128-d features of ``images``, the ones the classifier FID compares.

    Args:
        images: ``(N, 1, 28, 28)`` in ``[-1, 1]``, ``N >= 2``.
        dataset: which classifier reads them, ``"mnist"`` or ``"fashion-mnist"``.
        batch_size: images per forward pass.

    Returns:
        A float32 ``(N, 128)`` tensor on the CPU.

    >>> classifier_features(torch.zeros(4, 1, 28, 28) - 1, "mnist").shape  # four black images
    torch.Size([4, 128])
    """
    classifier = metrics.load_feature_classifier(dataset)
    metrics.check_images(images)
    return torch.cat(
        [
            classifier.features(
                images[start : start + batch_size].to("cpu", torch.float32)
            )  # (B, 128)
            for start in range(0, images.shape[0], batch_size)
        ]
    )


def _check_k(k: int, num_points: int, name: str) -> None:
    if not 1 <= k < num_points:
        raise ValueError(
            f"k must be at least 1 and smaller than the number of {name} ({num_points}), got k = {k}: each "
            f"point's radius is the distance to its k-th nearest *other* point. Use more samples or a smaller k "
            "(5 is the usual choice, with thousands of samples)."
        )


def knn_radii(
    features: torch.Tensor | np.ndarray,
    k: int = 5,
    *,
    chunk_size: int = CHUNK_SIZE,
) -> torch.Tensor:
    """The distance from each point to its k-th nearest neighbour in the same set (itself excluded).

    Kynkäänniemi et al. (2019) estimate the manifold of a sample ``{x_1, ..., x_N}`` as the union of the
    balls ``B(x_i, NND_k(x_i))``, where ``NND_k(x_i)`` is this radius.

    Args:
        features: ``(N, D)`` points.
        k: which neighbour; ``1 <= k < N``.
        chunk_size: rows of the ``(N, N)`` distance matrix computed at once.

    Returns:
        ``(N,)`` float64 radii.

    >>> knn_radii(torch.tensor([[0.0], [1.0], [3.0]]), k=1)  # nearest other point: 1, 1, 2 away
    tensor([1., 1., 2.], dtype=torch.float64)
    """
    features = _as_features(features, "features")
    _check_k(k, features.shape[0], "points")
    radii = []
    for chunk in features.split(chunk_size):
        distances = torch.cdist(
            chunk, features
        )  # (C, N); each point's own distance 0 is among the k + 1 smallest
        radii.append(
            distances.topk(k + 1, dim=1, largest=False).values[:, k]
        )  # (C,)
    return torch.cat(radii)


def _balls_hit(
    queries: torch.Tensor,
    centers: torch.Tensor,
    radii: torch.Tensor,
    chunk_size: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """How many balls ``B(center_i, radius_i)`` hold each query ``(Q,)``; whether each ball holds one ``(C,)``."""
    balls_per_query, ball_is_hit = (
        [],
        torch.zeros(centers.shape[0], dtype=torch.bool),
    )
    for chunk in queries.split(chunk_size):
        inside = torch.cdist(chunk, centers) <= radii * (
            1 + BOUNDARY_TOLERANCE
        )  # (Q_chunk, C): query j in ball i
        balls_per_query.append(inside.sum(dim=1))  # (Q_chunk,)
        ball_is_hit |= inside.any(dim=0)  # (C,)
    return torch.cat(balls_per_query), ball_is_hit


def manifold_metrics(
    real_features: torch.Tensor | np.ndarray,
    fake_features: torch.Tensor | np.ndarray,
    *,
    k: int = 5,
    real_radii: torch.Tensor | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> dict[str, float]:
    """Precision and recall (Kynkäänniemi et al. 2019), density and coverage (Naeem et al. 2020).

    With real points ``x_1..x_N``, generated points ``y_1..y_M`` and ``r_i = NND_k(x_i)``, ``s_j = NND_k(y_j)``:

    - precision ``= (1/M) sum_j 1[y_j in some B(x_i, r_i)]``: the share of generated samples that look real;
    - recall ``= (1/N) sum_i 1[x_i in some B(y_j, s_j)]``: the share of real samples the generator could have made;
    - density ``= 1/(k M) sum_j sum_i 1[y_j in B(x_i, r_i)]``: about 1 when both sets come from one distribution
      (exactly 1 in expectation), above 1 when samples crowd where real data are dense;
    - coverage ``= (1/N) sum_i 1[some y_j in B(x_i, r_i)]``: the share of real neighbourhoods that receive a sample;
      for one distribution and ``M = N`` its expectation is ``1 - prod_{l=1..k} (N - l) / (2N - l)``,
      about ``1 - 2^-k``.

    Args:
        real_features: ``(N, D)``.
        fake_features: ``(M, D)``, the same ``D``.
        k: the neighbour that sets each ball's radius; ``1 <= k < min(N, M)``.
        real_radii: the real radii ``(N,)`` if already computed (:func:`knn_radii` with the same ``k``).
        chunk_size: rows of each distance matrix computed at once.

    Returns:
        ``{"precision", "recall", "density", "coverage"}``, floats; all but density lie in ``[0, 1]``.

    >>> real = torch.tensor([[0.0], [1.0], [2.0]])
    >>> manifold_metrics(real, real + 10, k=1)  # two far-apart sets: nothing of one near the other
    {'precision': 0.0, 'recall': 0.0, 'density': 0.0, 'coverage': 0.0}
    """
    real_features = _as_features(
        real_features, "real_features"
    )  # (N, D) float64
    fake_features = _as_features(
        fake_features, "fake_features"
    )  # (M, D) float64
    _check_pair(real_features, fake_features)
    _check_k(k, fake_features.shape[0], "generated samples")
    if real_radii is None:
        real_radii = knn_radii(
            real_features, k, chunk_size=chunk_size
        )  # (N,)
    elif real_radii.shape != (real_features.shape[0],):
        raise ValueError(
            f"real_radii must have shape ({real_features.shape[0]},), one per real point, "
            f"got {tuple(real_radii.shape)}: pass knn_radii(real_features, k) or nothing"
        )
    fake_radii = knn_radii(fake_features, k, chunk_size=chunk_size)  # (M,)
    real_balls_per_fake, real_ball_is_hit = _balls_hit(
        fake_features, real_features, real_radii.double(), chunk_size
    )
    fake_balls_per_real, _ = _balls_hit(
        real_features, fake_features, fake_radii, chunk_size
    )
    return {
        "precision": float((real_balls_per_fake > 0).double().mean()),
        "recall": float((fake_balls_per_real > 0).double().mean()),
        "density": float(
            real_balls_per_fake.double().sum()
            / (k * fake_features.shape[0])
        ),
        "coverage": float(real_ball_is_hit.double().mean()),
    }


def polynomial_kernel(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """KID's kernel ``k(x, y) = (x . y / d + 1)^3`` for each row of ``x (N, d)`` and of ``y (M, d)``: ``(N, M)``.

    >>> polynomial_kernel(torch.ones(1, 4), torch.ones(2, 4))  # (4/4 + 1)^3
    tensor([[8., 8.]])
    """
    return (x @ y.T / x.shape[1] + 1) ** 3


def mmd_squared_unbiased(x: torch.Tensor, y: torch.Tensor) -> float:
    """The unbiased estimate of ``MMD^2 = E k(x, x') + E k(y, y') - 2 E k(x, y)`` with :func:`polynomial_kernel`.

    ``1/(m(m-1)) sum_{i != j} k(x_i, x_j) + 1/(n(n-1)) sum_{i != j} k(y_i, y_j) - 2/(mn) sum_{i,j} k(x_i, y_j)``:
    leaving out the diagonal ``k(x_i, x_i)`` (a point compared with itself) removes the bias, so the
    estimate averages to the true ``MMD^2`` and, for two samples of one distribution, to 0, sometimes below.

    Args:
        x: ``(m, d)``, ``m >= 2``.
        y: ``(n, d)``, ``n >= 2``.

    Returns:
        The estimate, a float (it can be negative).

    >>> mmd_squared_unbiased(torch.zeros(3, 2), torch.ones(3, 2))  # k(0,0) + k(1,1) - 2 k(0,1) = 1 + 8 - 2
    7.0
    """
    m, n = x.shape[0], y.shape[0]
    if m < 2 or n < 2:
        raise ValueError(
            f"the unbiased MMD needs at least 2 points on each side, got {m} and {n}"
        )
    kernel_xx, kernel_yy = (
        polynomial_kernel(x, x),
        polynomial_kernel(y, y),
    )  # (m, m), (n, n)
    within_x = (kernel_xx.sum() - kernel_xx.diagonal().sum()) / (
        m * (m - 1)
    )
    within_y = (kernel_yy.sum() - kernel_yy.diagonal().sum()) / (
        n * (n - 1)
    )
    between = polynomial_kernel(x, y).mean()  # (m, n) -> scalar
    return float(within_x + within_y - 2 * between)


def kernel_distance(
    real_features: torch.Tensor | np.ndarray,
    fake_features: torch.Tensor | np.ndarray,
    *,
    num_subsets: int = 100,
    subset_size: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """KID (Bińkowski et al. 2018): :func:`mmd_squared_unbiased` averaged over random subsets.

    Each of ``num_subsets`` rounds draws ``subset_size`` real and ``subset_size`` generated feature
    vectors without replacement and estimates ``MMD^2`` on them; the subsets keep the cost at
    ``num_subsets * subset_size^2`` kernel values instead of ``N^2``.

    Args:
        real_features: ``(N, D)``.
        fake_features: ``(M, D)``, the same ``D``.
        num_subsets: how many subset pairs.
        subset_size: points per subset, ``2 <= subset_size <= min(N, M)``.
        seed: picks the subsets.

    Returns:
        ``(mean, standard deviation)`` over the subsets; report e.g. ``KID 0.012 +/- 0.001``. The
        standard deviation is the spread of one subset's estimate; the mean's standard error is
        ``std / sqrt(num_subsets)``. With ``subset_size`` equal to both set sizes every subset is the
        whole set, and the spread is 0.
    """
    real_features = _as_features(
        real_features, "real_features"
    )  # (N, D) float64
    fake_features = _as_features(
        fake_features, "fake_features"
    )  # (M, D) float64
    _check_pair(real_features, fake_features)
    smallest = min(real_features.shape[0], fake_features.shape[0])
    if not 2 <= subset_size <= smallest:
        raise ValueError(
            f"KID draws subsets of subset_size points from each set without replacement, so it needs "
            f"2 <= subset_size <= {smallest} (the smaller set), got subset_size = {subset_size}. "
            f"Pass subset_size={min(max(smallest, 2), 1000)} or draw more samples."
        )
    if num_subsets < 1:
        raise ValueError(
            f"num_subsets must be at least 1, got {num_subsets}"
        )
    rng = torch.Generator().manual_seed(seed)
    estimates = torch.tensor(
        [
            mmd_squared_unbiased(
                real_features[
                    torch.randperm(real_features.shape[0], generator=rng)[
                        :subset_size
                    ]
                ],  # (subset_size, D)
                fake_features[
                    torch.randperm(fake_features.shape[0], generator=rng)[
                        :subset_size
                    ]
                ],
            )
            for _ in range(num_subsets)
        ],
        dtype=torch.float64,
    )
    spread = float(estimates.std()) if num_subsets > 1 else 0.0
    return float(estimates.mean()), spread


# --- on images, against a dataset's test set --------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _test_features(dataset: str, root: str) -> torch.Tensor:
    """The classifier features of the whole test set ``(10000, 128)``, computed once per (dataset, root)."""
    return classifier_features(
        load_images(dataset, root, train=False), dataset
    )


@functools.lru_cache(maxsize=8)
def _reference(
    dataset: str, root: str, num_samples: int, k: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """A seeded random subset of ``num_samples`` test features and their k-NN radii, cached."""
    test_features = _test_features(dataset, root)
    if num_samples > test_features.shape[0]:
        raise ValueError(
            f"the metrics compare the samples with as many real test images, and {dataset}'s test set has "
            f"{test_features.shape[0]:,}; got {num_samples:,} samples. Use num_samples <= {test_features.shape[0]:,}: "
            "k-NN radii shrink as N grows, so precision and recall are only comparable between equal-sized sets."
        )
    # Not the first N images: the test file's first 5,000 MNIST digits are easier than its last 5,000.
    seeded = torch.Generator().manual_seed(REFERENCE_SEED)
    chosen = torch.randperm(test_features.shape[0], generator=seeded)[
        :num_samples
    ]
    features = test_features[chosen]  # (num_samples, 128)
    return features, knn_radii(features, k)


def _metrics_against_test_set(
    images: torch.Tensor,
    dataset: str,
    root: str | os.PathLike | None,
    k: int,
    kid_subsets: int,
    kid_subset_size: int,
) -> dict[str, float | int]:
    metrics.check_image_dataset(dataset)
    metrics.check_images(images)
    num_samples = int(images.shape[0])
    _check_k(k, num_samples, "samples")
    real_features, real_radii = _reference(
        dataset, str(resolve_data_root(root)), num_samples, int(k)
    )
    fake_features = classifier_features(images, dataset)  # (N, 128)
    results: dict[str, float | int] = manifold_metrics(
        real_features, fake_features, k=k, real_radii=real_radii
    )
    subset_size = max(
        2, min(kid_subset_size, num_samples // 2)
    )  # at most half: subsets of all N would all be equal
    results["kid"], results["kid_std"] = kernel_distance(
        real_features,
        fake_features,
        num_subsets=kid_subsets,
        subset_size=subset_size,
    )
    results.update(num_samples=num_samples, k=int(k))
    return results


def diversity_metrics(
    generator_or_images: torch.Tensor | nn.Module,
    dataset: str,
    *,
    num_samples: int = 10_000,
    k: int = 5,
    root: str | os.PathLike | None = None,
    seed: int = 0,
    kid_subsets: int = 100,
    kid_subset_size: int = 1000,
) -> dict[str, float | int]:
    """Precision, recall, density, coverage and KID of a generator (or images) against the test set.

    The reference is a random subset of the test set (fixed seed, the same for every generator) of the
    same size as the sample, ``N``: k-NN radii shrink as ``N`` grows, so these metrics compare equal-sized
    sets. Read them beside :func:`diversity_floor`, real training images scored the same way.

    Args:
        generator_or_images: images ``(N, 1, 28, 28)`` in ``[-1, 1]`` (all N are used, N at most 10,000), or
            a generator with a ``latent_dim`` attribute, from which ``num_samples`` images are drawn.
        dataset: ``"mnist"`` or ``"fashion-mnist"``: picks the classifier and the test images.
        num_samples: how many images to draw from a generator (at most the 10,000 test images).
        k: the neighbour that sets the radii (Kynkäänniemi et al. and Naeem et al. use 3 to 5).
        root: the data folder (see :func:`gan_teach.data.resolve_data_root`).
        seed: the noise seed for a generator's samples.
        kid_subsets, kid_subset_size: KID's subsets (Bińkowski et al.: 100 subsets of 1,000); the
            subset size is capped at ``N / 2``, so that the subsets differ and their spread means something.

    Returns:
        ``{"precision", "recall", "density", "coverage", "kid", "kid_std", "num_samples", "k"}``.
    """
    images = metrics.as_images(generator_or_images, num_samples, seed)
    return _metrics_against_test_set(
        images, dataset, root, k, kid_subsets, kid_subset_size
    )


@functools.lru_cache(maxsize=8)
def _diversity_floor(
    dataset: str, root: str, num_samples: int, k: int, seed: int
) -> dict[str, float | int]:
    train_images = load_images(dataset, root, train=True)
    chosen = torch.randperm(
        train_images.shape[0], generator=torch.Generator().manual_seed(seed)
    )[:num_samples]
    return _metrics_against_test_set(
        train_images[chosen], dataset, root, k, 100, 1000
    )


def diversity_floor(
    dataset: str,
    *,
    num_samples: int = 10_000,
    k: int = 5,
    root: str | os.PathLike | None = None,
    seed: int = 0,
) -> dict[str, float | int]:
    """:func:`diversity_metrics` of ``num_samples`` random *training* images: what real data scores.

    The analogue of :func:`gan_teach.metrics.classifier_fid_floor`: what a perfect generator would
    score, so a generator's numbers are read against these. Precision or density *above* the real
    images' is no better: it means samples crowd into typical regions (blurred digits do that).

    Args:
        dataset: ``"mnist"`` or ``"fashion-mnist"``.
        num_samples: size of the random training subset; match the generator's.
        k: as in :func:`diversity_metrics`.
        root: the data folder.
        seed: picks the training subset.

    Returns:
        The same keys as :func:`diversity_metrics`, cached per arguments (a copy: change it freely).
    """
    metrics.check_image_dataset(dataset)
    return dict(
        _diversity_floor(
            dataset,
            str(resolve_data_root(root)),
            int(num_samples),
            int(k),
            int(seed),
        )
    )
