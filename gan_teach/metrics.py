"""Measuring a generator: FID on a small shipped classifier's features, its floor, and toy mode coverage.

The Fréchet distance compares two Gaussians fitted to features of real and generated images. The
standard FID uses Inception-v3 features (a 100 MB download, slow on a CPU); here the features come
from a 210k-parameter MNIST/Fashion-MNIST classifier shipped with the package, so a score takes
seconds. Its numbers are *not* comparable to published Inception FIDs: report every score beside
:func:`classifier_fid_floor`, the FID of real training images against the test set at the same N, and
summarise with FID minus floor. The floor is a reference, not a bound: a perfect generator scores about
the same (sampling noise can put it below). The shipped classifier saw those training images while it
trained, so their features are in-sample; the held-out classifiers (:func:`~.features.held_out_indices`) and
:func:`fid_between_test_halves` measure the floor without that.
"""

from __future__ import annotations

import functools
import os
import warnings

import numpy as np
import torch
from torch import nn

from .data import (
    ToyDistribution,
    load_images,
    resolve_data_root,
    toy_distribution,
)
from .features import (
    NUM_TRAINING_IMAGES,
    WEIGHTS_DIR,
    FeatureClassifier,
    as_images,
    check_image_dataset,
    check_images,
    feature_statistics,
    held_out_indices,
    load_feature_classifier,
    read_classifier_records,
    sha256_of,
)

__all__ = [
    "FeatureClassifier",
    "load_feature_classifier",
    "frechet_distance",
    "feature_statistics",
    "classifier_fid",
    "classifier_fid_floor",
    "held_out_indices",
    "fid_between_test_halves",
    "evaluate_images",
    "class_shares",
    "toy_metrics",
    "inception_fid",
    "read_classifier_records",
    "sha256_of",
    "WEIGHTS_DIR",
]

RECOMMENDED_NUM_SAMPLES = (
    10_000  # FID is biased upward at small N; 10k is the usual minimum
)


def _to_float64(array: np.ndarray | torch.Tensor) -> np.ndarray:
    if isinstance(array, torch.Tensor):
        array = array.detach().cpu().double().numpy()
    return np.asarray(array, dtype=np.float64)


def frechet_distance(
    mu1: np.ndarray | torch.Tensor,
    sigma1: np.ndarray | torch.Tensor,
    mu2: np.ndarray | torch.Tensor,
    sigma2: np.ndarray | torch.Tensor,
) -> float:
    """Squared Fréchet (2-Wasserstein) distance of two Gaussians (float64).

    Between N(mu1, sigma1) and N(mu2, sigma2) it is::

        |mu1 - mu2|^2 + tr(sigma1) + tr(sigma2)
            - 2 tr((sigma1^1/2 sigma2 sigma1^1/2)^1/2)

    Both square roots come from symmetric eigendecompositions, which stay
    real and stable where a general matrix square root
    (``scipy.linalg.sqrtm``) can return complex noise.

    Args:
        mu1, mu2: means, shape ``(D,)``; NumPy arrays or tensors.
        sigma1, sigma2: covariances, shape ``(D, D)``, symmetric positive
            semi-definite.

    Returns:
        The distance, a non-negative Python float.

    >>> # |(1, 1)|^2 + 2 * (2 - 1)^2 = 4
    >>> frechet_distance(np.zeros(2), np.eye(2), np.ones(2), 4 * np.eye(2))
    4.0
    """
    mu1, sigma1, mu2, sigma2 = (
        _to_float64(a) for a in (mu1, sigma1, mu2, sigma2)
    )
    dim = mu1.shape[0] if mu1.ndim == 1 else -1
    if (
        mu2.shape != (dim,)
        or sigma1.shape != (dim, dim)
        or sigma2.shape != (dim, dim)
    ):
        raise ValueError(
            "frechet_distance expects means of shape (D,) and covariances "
            "of shape (D, D), one D for all four; got "
            f"mu1 {mu1.shape}, sigma1 {sigma1.shape}, "
            f"mu2 {mu2.shape}, sigma2 {sigma2.shape}."
        )
    eigenvalues, eigenvectors = np.linalg.eigh(
        sigma1
    )  # sigma1 = V diag(w) V^T
    sqrt_sigma1 = (
        eigenvectors * np.sqrt(np.clip(eigenvalues, 0, None))
    ) @ eigenvectors.T  # (D, D)
    middle = (
        sqrt_sigma1 @ sigma2 @ sqrt_sigma1
    )  # symmetric PSD, same eigenvalues as sigma1 @ sigma2
    middle = (
        middle + middle.T
    ) / 2  # remove rounding asymmetry before eigvalsh
    trace_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh(middle), 0, None)).sum()
    difference = mu1 - mu2
    distance = (
        difference @ difference
        + np.trace(sigma1)
        + np.trace(sigma2)
        - 2 * trace_sqrt
    )
    return float(
        max(distance, 0.0)
    )  # rounding can turn an exact 0 into -1e-13


@functools.lru_cache(maxsize=8)
def _test_statistics(
    dataset: str, root: str, held_out: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """The reference: statistics of the full 10,000-image test set, computed once per (dataset, root, classifier)."""
    return feature_statistics(
        load_images(dataset, root, train=False), dataset, held_out=held_out
    )


def _fid_of_images(
    images: torch.Tensor, dataset: str, root: str | os.PathLike | None
) -> float:
    check_image_dataset(dataset)
    check_images(images)
    if images.shape[0] < RECOMMENDED_NUM_SAMPLES:
        warnings.warn(
            f"FID from {images.shape[0]} samples is biased upward (it shrinks as N grows); compare scores "
            f"only at equal N, with the floor at that N, and use {RECOMMENDED_NUM_SAMPLES:,} for reported numbers.",
            UserWarning,
            stacklevel=3,
        )
    reference = _test_statistics(dataset, str(resolve_data_root(root)))
    return frechet_distance(
        *feature_statistics(images, dataset), *reference
    )


def classifier_fid(
    images_or_generator: torch.Tensor | nn.Module,
    dataset: str,
    *,
    num_samples: int = 10_000,
    root: str | os.PathLike | None = None,
    seed: int = 0,
) -> float:
    """FID on the shipped classifier's features, against the full test set of ``dataset``.

    Args:
        images_or_generator: images ``(N, 1, 28, 28)`` in ``[-1, 1]`` (all N are used), or a generator
            with a ``latent_dim`` attribute, from which ``num_samples`` images are drawn.
        dataset: ``"mnist"`` or ``"fashion-mnist"``: picks the classifier and the reference images.
        num_samples: how many images to draw from a generator; warns below 10,000.
        root: the data folder (see :func:`gan_teach.data.resolve_data_root`).
        seed: the noise seed for a generator's samples.

    Returns:
        The FID, a float; lower is better. Read it as FID minus :func:`classifier_fid_floor` at the same N.
    """
    images = as_images(images_or_generator, num_samples, seed)
    return _fid_of_images(images, dataset, root)


@functools.lru_cache(maxsize=16)
def _floor(
    dataset: str, root: str, num_samples: int, seed: int, held_out: bool
) -> float:
    train_images = load_images(dataset, root, train=True)
    pool = (
        held_out_indices(dataset)
        if held_out
        else torch.arange(train_images.shape[0])
    )  # where the subset is drawn
    if not 2 <= num_samples <= pool.shape[0]:
        raise ValueError(
            f"num_samples must be between 2 and {pool.shape[0]:,} (the {'held-out' if held_out else 'training'} "
            f"images), got {num_samples:,}. Use the number of generated images you compare with."
        )
    # A seeded random subset: the first N images of a dataset file are not a fair sample of it.
    chosen = pool[
        torch.randperm(
            pool.shape[0], generator=torch.Generator().manual_seed(seed)
        )[:num_samples]
    ]
    statistics = feature_statistics(
        train_images[chosen], dataset, held_out=held_out
    )
    return frechet_distance(
        *statistics, *_test_statistics(dataset, root, held_out)
    )


def classifier_fid_floor(
    dataset: str,
    *,
    root: str | os.PathLike | None = None,
    num_samples: int = 10_000,
    seed: int = 0,
    held_out: bool = False,
) -> float:
    """FID of ``num_samples`` random real training images against the test set: a reference, not a bound.

    A generator that drew perfect, fresh samples of the training distribution would score about this,
    not 0: FID is biased upward at finite N, and training and test images differ a little (MNIST's come
    from different writers). It is not a lower bound: another random subset (``seed``) moves the floor by
    a few tenths on MNIST at N = 10,000, a perfect generator's FID moves the same way, so a generator can
    score below it. Report FID minus floor at the same N, not FID / floor: a ratio is driven by the
    floor's size (Fashion-MNIST's floor, 0.41, makes every ratio huge).

    The default classifier was trained on all 60,000 training images, so their features are *in-sample*,
    while a generator's images are new to it. ``held_out=True`` measures the floor without that: images
    from :func:`~.features.held_out_indices`, read by the classifier that never saw them (another network, so its
    FIDs are in other units). Measured over 20 random draws (the tools chapter for MNIST,
    ``benchmarks/fid_floors.py`` for both datasets), training images the held-out classifier saw and
    images it never saw score alike, as alike as two sets of seen images do on the shipped classifier:
    neither floor holds a measurable in-sample effect. :func:`fid_between_test_halves` is a third
    reference: half the test set against the other half.

    Args:
        dataset: ``"mnist"`` or ``"fashion-mnist"``.
        root: the data folder.
        num_samples: size of the random training subset; match the number of generated samples.
        seed: picks the subset.
        held_out: use the held-out classifier and its 20,000 unseen training images.

    Returns:
        The floor, a float, cached per arguments.
    """
    check_image_dataset(dataset)
    return _floor(
        dataset,
        str(resolve_data_root(root)),
        int(num_samples),
        int(seed),
        bool(held_out),
    )


def fid_between_test_halves(
    dataset: str,
    *,
    root: str | os.PathLike | None = None,
    seed: int = 0,
    held_out: bool = False,
) -> float:
    """FID of a random half of the test set (5,000 images) against the other half.

    Both halves are new to both classifiers and come from one distribution, so every bit of this FID is
    sampling noise at N = 5,000 against 5,000: what a perfect generator's 5,000 samples would score
    against 5,000 test images. Under FID's ``1/N`` bias, twice as many images on both sides halve it.

    Args:
        dataset: ``"mnist"`` or ``"fashion-mnist"``.
        root: the data folder.
        seed: picks the random halves (never the first and last 5,000: MNIST's first 5,000 test digits are
            cleaner and easier than the last 5,000).
        held_out: read the images with the held-out classifier (see :func:`~.features.load_feature_classifier`).

    Returns:
        The FID between the two halves, a float.
    """
    check_image_dataset(dataset)
    test_images = load_images(
        dataset, root, train=False
    )  # (10000, 1, 28, 28)
    order = torch.randperm(
        test_images.shape[0], generator=torch.Generator().manual_seed(seed)
    )
    first, second = order.chunk(
        2
    )  # two disjoint random halves, (5000,) each
    return frechet_distance(
        *feature_statistics(test_images[first], dataset, held_out=held_out),
        *feature_statistics(
            test_images[second], dataset, held_out=held_out
        ),
    )


def evaluate_images(
    generator_or_images: torch.Tensor | nn.Module,
    dataset: str,
    *,
    num_samples: int = 10_000,
    root: str | os.PathLike | None = None,
    seed: int = 0,
) -> dict[str, float | int]:
    """The FID, the floor at the same sample size, and FID minus floor, in one dictionary.

    Args:
        generator_or_images: images ``(N, 1, 28, 28)`` in ``[-1, 1]``, or a generator to draw ``num_samples`` from.
        dataset, num_samples, root, seed: as in :func:`classifier_fid`.

    Returns:
        ``{"fid", "fid_floor", "fid_minus_floor", "num_samples"}``; the floor is taken at the same N (subset
        seed 0). FID minus floor is the summary: how far the samples are from the test set beyond where real
        training images are. Near 0 (even a little below: both numbers are noisy) means "as close as
        real images", and calls for a check that the generator does not copy its training images.
    """
    if isinstance(generator_or_images, nn.Module) and not (
        2 <= num_samples <= NUM_TRAINING_IMAGES
    ):
        # The floor draws as many training images: refuse before generating.
        raise ValueError(
            f"num_samples must be between 2 and {NUM_TRAINING_IMAGES:,} (the "
            "training images the floor draws from at the same N), got "
            f"{num_samples:,}"
        )
    images = as_images(generator_or_images, num_samples, seed)
    fid = _fid_of_images(images, dataset, root)
    floor = classifier_fid_floor(
        dataset, root=root, num_samples=images.shape[0]
    )
    return {
        "fid": fid,
        "fid_floor": floor,
        "fid_minus_floor": fid - floor,
        "num_samples": int(images.shape[0]),
    }


@torch.no_grad()
def class_shares(
    generator_or_images: torch.Tensor | nn.Module,
    dataset: str,
    *,
    num_samples: int = 10_000,
    seed: int = 0,
) -> torch.Tensor:
    """The share of each class among the images, as the dataset's FID classifier reads them.

    A generator that drops a class, or makes too much of one, shows here by name, where FID only grows.
    Compare with the training set's own shares, not only with uniform: MNIST has 11.2 % ones and 9.0 %
    fives. The classifier reads real test images right 99 % of the time (Fashion-MNIST: 90 %), so a
    share is exact to about that; a malformed sample is still read as *some* class.

    Args:
        generator_or_images: images ``(N, 1, 28, 28)`` in ``[-1, 1]``, or an unconditional generator to
            draw ``num_samples`` from with noise ``seed``.
        dataset: ``"mnist"`` or ``"fashion-mnist"``: whose classifier reads them.

    Returns:
        ``(10,)`` float32 shares that sum to 1, class 0 first. On MNIST's test set they are within 0.1
        percentage points of its labels' shares (9.8 % zeros, 11.3 % ones, ...).
    """
    check_image_dataset(dataset)
    images = as_images(generator_or_images, num_samples, seed)
    check_images(images)
    classifier = load_feature_classifier(dataset)
    predicted = torch.cat(
        [classifier(batch).argmax(dim=1) for batch in images.split(1000)]
    )  # (N,) the class each image is read as
    return torch.bincount(predicted, minlength=10).float() / len(predicted)


def toy_metrics(
    samples: torch.Tensor | np.ndarray, distribution: ToyDistribution | str
) -> dict:
    """Mode coverage and sample quality of points drawn for a toy mixture of Gaussians.

    Each sample goes to its nearest mode center; it is *high quality* if that center is closer than
    ``3 * distribution.std``. A mode is *covered* if at least a tenth of its fair share of *all* the
    samples are high-quality samples there: ``count >= 0.1 * N / num_modes``, with ``N`` counting every
    sample, blurry ones included.

    Args:
        samples: ``(N, dim)`` points.
        distribution: a :class:`gan_teach.data.ToyDistribution` or its name, e.g. ``"ring"``.

    Returns:
        ``{"modes_covered": int, "num_modes": int, "high_quality_share": float, "mode_counts": list[int]}``,
        where ``mode_counts[k]`` is the number of high-quality samples nearest to center ``k``.

    >>> toy_metrics(torch.tensor([[2.0, 0.0], [2.01, 0.0], [9.0, 9.0]]), "ring")["mode_counts"]
    [2, 0, 0, 0, 0, 0, 0, 0]
    """
    if isinstance(distribution, str):
        distribution = toy_distribution(distribution)
    samples = torch.as_tensor(samples).detach().cpu().double()
    if (
        samples.dim() != 2
        or samples.shape[1] != distribution.dim
        or samples.shape[0] == 0
    ):
        raise ValueError(
            f"{distribution.name} points have shape (N, {distribution.dim}), got {tuple(samples.shape)}"
            + (
                ". A 1-D batch of N numbers needs samples.unsqueeze(1)."
                if samples.dim() == 1
                else "."
            )
        )
    centers = distribution.centers_tensor().double()  # (K, dim)
    distances = torch.cdist(
        samples, centers
    )  # (N, K); in 1-D this is the absolute difference
    nearest_distance, nearest_mode = distances.min(dim=1)  # (N,), (N,)
    high_quality = nearest_distance < 3 * distribution.std  # (N,)
    counts = torch.bincount(
        nearest_mode[high_quality], minlength=distribution.num_modes
    )  # (K,)
    fair_share = samples.shape[0] / distribution.num_modes
    return {
        "modes_covered": int((counts >= 0.1 * fair_share).sum()),
        "num_modes": distribution.num_modes,
        "high_quality_share": float(high_quality.double().mean()),
        "mode_counts": [int(count) for count in counts],
    }


def _to_uint8_rgb(images: torch.Tensor, name: str) -> torch.Tensor:
    if images.dim() != 4 or images.shape[1] not in (1, 3):
        raise ValueError(
            f"{name} must have shape (N, 1 or 3, H, W), got {tuple(images.shape)}"
        )
    pixels = (
        ((images.detach().float().cpu() + 1) * 127.5)
        .round()
        .clamp(0, 255)
        .to(torch.uint8)
    )  # [-1, 1] -> {0..255}
    return (
        pixels.repeat(1, 3, 1, 1) if pixels.shape[1] == 1 else pixels
    )  # grey (N, 1, H, W) -> (N, 3, H, W)


def inception_fid(
    real_images: torch.Tensor,
    fake_images: torch.Tensor,
    batch_size: int = 250,
) -> float:
    """The standard FID on Inception-v3 features, through ``torchmetrics``, for comparison with papers.

    Args:
        real_images, fake_images: ``(N, 1 or 3, H, W)`` in ``[-1, 1]``; grey images are repeated to RGB.
        batch_size: images per forward pass.

    Returns:
        The FID, a float.

    Raises:
        RuntimeError: if ``torchmetrics`` is not installed or Inception's weights cannot be downloaded.
    """
    real, fake = (
        _to_uint8_rgb(real_images, "real_images"),
        _to_uint8_rgb(fake_images, "fake_images"),
    )
    advice = (
        "Use gan_teach.metrics.classifier_fid instead: it runs offline on a CPU, on a classifier "
        "shipped with the package (its values are not comparable to Inception FIDs)."
    )
    try:
        from torchmetrics.image.fid import FrechetInceptionDistance
    except ImportError:
        raise RuntimeError(
            f"inception_fid needs torchmetrics with its image extras: pip install 'torchmetrics[image]'. {advice}"
        ) from None
    try:
        metric = FrechetInceptionDistance(feature=2048)
    except Exception as error:  # missing torch-fidelity, or no network for the ~100 MB Inception weights
        raise RuntimeError(
            f"torchmetrics could not load Inception-v3 ({error}). {advice}"
        ) from error
    with torch.no_grad():
        for images, is_real in ((real, True), (fake, False)):
            for start in range(0, images.shape[0], batch_size):
                metric.update(
                    images[start : start + batch_size], real=is_real
                )
        return float(metric.compute())
