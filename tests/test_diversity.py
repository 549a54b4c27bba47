"""Tests for gan_teach.diversity: precision, recall, density, coverage and KID, on cases with known answers."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from gan_teach import diversity_metrics as reexported_diversity_metrics
from gan_teach.data import load_images
from gan_teach.diversity import (
    classifier_features,
    diversity_floor,
    diversity_metrics,
    kernel_distance,
    knn_radii,
    manifold_metrics,
    mmd_squared_unbiased,
    polynomial_kernel,
)

SMALL = 2000  # MNIST images per set: seconds, and enough for stable k-NN balls at k = 5


def gaussian(
    num_points: int, dim: int, seed: int, mean: float = 0.0
) -> torch.Tensor:
    """``num_points`` draws of ``N(mean * e_1, I)`` in ``dim`` dimensions, float64."""
    points = torch.randn(
        num_points,
        dim,
        generator=torch.Generator().manual_seed(seed),
        dtype=torch.float64,
    )
    points[:, 0] += mean
    return points


def expected_coverage_same_distribution(num_points: int, k: int) -> float:
    """Naeem et al. (2020): for two N-point samples of one continuous distribution, 1 - prod (N-j)/(2N-j), j = 1..k."""
    return 1 - math.prod(
        (num_points - j) / (2 * num_points - j) for j in range(1, k + 1)
    )


def cubic_kernel_mmd_shifted_gaussians(shift: float, dim: int) -> float:
    """The exact MMD^2 between N(shift * e_1, I) and N(0, I) for k(x, y) = (x . y / d + 1)^3.

    Expanding the cube, k(x, y) = sum_p C(3, p) (x . y)^p / d^p, so MMD^2 = sum_p C(3, p) |M_p(P) - M_p(Q)|^2 / d^p
    with M_p the p-th moment tensor: |mu|^2 for p = 1, |mu|^4 for p = 2, and for p = 3 (M_3(Q) = 0)
    |mu|^6 + 6 |mu|^4 + (3d + 6) |mu|^2 for unit variance.
    """
    m2 = shift**2  # |mu|^2
    return (
        3 * m2 / dim
        + 3 * m2**2 / dim**2
        + (m2**3 + 6 * m2**2 + (3 * dim + 6) * m2) / dim**3
    )


def blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """A Gaussian blur of ``(N, 1, 28, 28)`` images in [-1, 1], black (-1) beyond the border."""
    offsets = torch.arange(-6, 7, dtype=torch.float32)
    weights = torch.exp(-(offsets**2) / (2 * sigma**2))
    weights = weights / weights.sum()
    kernel = (weights[:, None] * weights[None, :])[
        None, None
    ]  # (1, 1, 13, 13), sums to 1
    return (
        F.conv2d(F.pad(images + 1, (6, 6, 6, 6)), kernel) - 1
    )  # (N, 1, 40, 40) -> (N, 1, 28, 28)


# --- k-NN radii and the four manifold metrics on synthetic points ----------------------------------


def test_knn_radii_match_a_brute_force_sort_and_do_not_depend_on_the_chunk_size():
    points = gaussian(300, 5, seed=0)
    brute_force = (
        torch.cdist(points, points).sort(dim=1).values[:, 3]
    )  # column 0 is each point itself
    assert torch.allclose(knn_radii(points, k=3), brute_force)
    # Matrix products round differently in chunks of other sizes, by about 1e-14, never more.
    in_small_chunks, in_one_chunk = (
        knn_radii(points, k=3, chunk_size=7),
        knn_radii(points, k=3, chunk_size=1000),
    )
    assert torch.allclose(in_small_chunks, in_one_chunk, rtol=1e-12, atol=0)


def test_a_set_against_itself_scores_one_and_density_k_plus_one_over_k():
    # Every point lies in its own ball and in the balls of the k points it is a nearest neighbour of...
    # counted from the balls' side: each ball holds its centre and its k nearest neighbours, k + 1 points.
    points = gaussian(500, 8, seed=1)
    for k in (1, 3, 5):
        scores = manifold_metrics(points, points.clone(), k=k)
        assert (
            scores["precision"]
            == scores["recall"]
            == scores["coverage"]
            == 1.0
        )
        assert scores["density"] == pytest.approx((k + 1) / k, abs=1e-12)


def test_two_samples_of_one_gaussian_have_density_near_one_and_the_expected_coverage():
    num_points, k = 2000, 5
    real, fake = (
        gaussian(num_points, 16, seed=2),
        gaussian(num_points, 16, seed=3),
    )
    scores = manifold_metrics(real, fake, k=k)
    assert scores["density"] == pytest.approx(
        1.0, abs=0.08
    )  # E[density] = 1 exactly, for any distribution
    assert scores["coverage"] == pytest.approx(
        expected_coverage_same_distribution(num_points, k), abs=0.02
    )  # 0.969
    # Precision and recall play symmetric roles here; in 16-D the k-NN balls leave gaps, so both stay below 1.
    assert 0.6 < scores["precision"] < 1.0 and 0.6 < scores["recall"] < 1.0
    assert scores["precision"] == pytest.approx(scores["recall"], abs=0.05)


def test_disjoint_gaussians_score_zero_and_a_large_kid():
    real, fake = (
        gaussian(1000, 4, seed=4),
        gaussian(1000, 4, seed=5, mean=20.0),
    )  # 20 standard deviations apart
    assert manifold_metrics(real, fake) == {
        "precision": 0.0,
        "recall": 0.0,
        "density": 0.0,
        "coverage": 0.0,
    }
    kid, _ = kernel_distance(real, fake, num_subsets=5, subset_size=500)
    assert kid == pytest.approx(
        cubic_kernel_mmd_shifted_gaussians(20.0, 4), rel=0.1
    )  # about 2,000


def test_a_generator_that_drops_half_the_modes_keeps_precision_and_halves_recall_and_coverage():
    centres = (
        torch.eye(8, dtype=torch.float64) * 30
    )  # 8 well-separated clusters in 8-D
    rng = torch.Generator().manual_seed(6)
    real = centres[torch.arange(2000) % 8] + torch.randn(
        2000, 8, generator=rng, dtype=torch.float64
    )
    fake = centres[torch.arange(2000) % 4] + torch.randn(
        2000, 8, generator=rng, dtype=torch.float64
    )  # clusters 0-3
    scores = manifold_metrics(real, fake)
    assert scores["precision"] > 0.6 and scores["density"] > 0.8
    assert scores["recall"] < 0.5 and scores["coverage"] == pytest.approx(
        0.5, abs=0.03
    )


def test_manifold_metrics_do_not_depend_on_the_order_of_the_samples():
    real, fake = (
        gaussian(800, 6, seed=7),
        gaussian(700, 6, seed=8, mean=0.5),
    )
    rng = torch.Generator().manual_seed(9)
    shuffled = manifold_metrics(
        real[torch.randperm(800, generator=rng)],
        fake[torch.randperm(700, generator=rng)],
    )
    assert shuffled == manifold_metrics(real, fake)
    assert manifold_metrics(real, fake, chunk_size=64) == manifold_metrics(
        real, fake
    )


# --- KID -----------------------------------------------------------------------------------------------


def test_polynomial_kernel_is_the_cube_of_the_scaled_dot_product_plus_one():
    x, y = gaussian(3, 5, seed=10), gaussian(4, 5, seed=11)
    expected = torch.tensor(
        [[(float(a @ b) / 5 + 1) ** 3 for b in y] for a in x],
        dtype=torch.float64,
    )
    assert torch.allclose(polynomial_kernel(x, y), expected)


def test_unbiased_mmd_averages_to_zero_for_one_distribution_and_can_be_negative():
    estimates = torch.tensor(
        [
            mmd_squared_unbiased(
                gaussian(50, 4, seed=2 * trial),
                gaussian(50, 4, seed=2 * trial + 1),
            )
            for trial in range(400)
        ]
    )
    standard_error = estimates.std() / math.sqrt(len(estimates))
    assert (
        abs(estimates.mean()) < 4 * standard_error
    )  # unbiased: 0 on average (a biased estimate would stay > 0)
    assert (
        estimates < 0
    ).sum() > 100  # single estimates fall on both sides of 0


def test_unbiased_mmd_matches_the_closed_form_for_shifted_gaussians():
    dim, shift = 4, 1.0
    estimates = torch.tensor(
        [
            mmd_squared_unbiased(
                gaussian(600, dim, seed=100 + 2 * trial, mean=shift),
                gaussian(600, dim, seed=101 + 2 * trial),
            )
            for trial in range(30)
        ]
    )
    exact = cubic_kernel_mmd_shifted_gaussians(shift, dim)  # 1.328
    assert float(estimates.mean()) == pytest.approx(
        exact, abs=4 * float(estimates.std()) / math.sqrt(30)
    )


def test_kernel_distance_is_seeded_and_order_free_when_one_subset_holds_everything():
    real, fake = (
        gaussian(300, 6, seed=12),
        gaussian(300, 6, seed=13, mean=0.3),
    )
    assert kernel_distance(
        real, fake, num_subsets=5, subset_size=100, seed=1
    ) == kernel_distance(real, fake, num_subsets=5, subset_size=100, seed=1)
    whole, spread = kernel_distance(
        real, fake, num_subsets=1, subset_size=300
    )
    assert spread == 0.0
    assert whole == pytest.approx(
        mmd_squared_unbiased(real, fake), rel=1e-9
    )
    assert whole == pytest.approx(
        mmd_squared_unbiased(real.flip(0), fake[torch.randperm(300)]),
        rel=1e-9,
    )


# --- errors that teach -------------------------------------------------------------------------------


def test_errors_say_what_was_expected():
    points = gaussian(10, 3, seed=14)
    with pytest.raises(ValueError, match="smaller k"):
        knn_radii(points, k=10)
    with pytest.raises(ValueError, match="smaller k"):
        manifold_metrics(gaussian(100, 3, seed=15), points, k=10)
    with pytest.raises(ValueError, match="same width D"):
        manifold_metrics(points, gaussian(10, 4, seed=16), k=2)
    with pytest.raises(ValueError, match="subset_size"):
        kernel_distance(points, gaussian(100, 3, seed=17), subset_size=50)
    with pytest.raises(ValueError, match="shape \\(N, D\\)"):
        knn_radii(torch.zeros(10), k=2)
    with pytest.raises(ValueError, match="NaN"):
        manifold_metrics(points, torch.full((10, 3), float("nan")), k=2)
    with pytest.raises(ValueError, match="real_radii"):
        manifold_metrics(points, points, k=2, real_radii=torch.ones(3))


def test_images_in_the_wrong_range_or_too_many_are_refused():
    with pytest.raises(ValueError, match="\\[-1, 1\\]"):
        diversity_metrics(
            torch.rand(20, 1, 28, 28), "mnist"
        )  # [0, 1] images
    with pytest.raises(ValueError, match="10,000"):
        diversity_metrics(
            load_images("mnist", train=True)[:10_001], "mnist", k=5
        )
    with pytest.raises(ValueError, match="toy_metrics"):
        diversity_metrics(torch.zeros(20, 1, 28, 28), "ring")


# --- on MNIST: real, mode-dropped and blurred images --------------------------------------------------


@pytest.fixture(scope="module")
def mnist():
    """A seeded random subset of the test set (the reference) and of the training set, with labels."""
    train_images, train_labels = load_images(
        "mnist", train=True, with_labels=True
    )
    test_images = load_images("mnist", train=False)
    rng = torch.Generator().manual_seed(0)
    reference = classifier_features(
        test_images[
            torch.randperm(len(test_images), generator=rng)[:SMALL]
        ],
        "mnist",
    )
    return reference, train_images, train_labels, rng


def test_real_training_images_against_the_test_set_score_like_one_distribution():
    train_images = load_images("mnist", train=True)
    chosen = torch.randperm(
        len(train_images), generator=torch.Generator().manual_seed(1)
    )[:SMALL]
    scores = diversity_metrics(
        train_images[chosen], "mnist", kid_subsets=20, kid_subset_size=500
    )
    assert reexported_diversity_metrics is diversity_metrics
    assert scores["num_samples"] == SMALL and scores["k"] == 5
    assert (
        min(scores["precision"], scores["recall"], scores["coverage"]) > 0.9
    )  # measured: 0.95 at 2,000
    assert scores["density"] == pytest.approx(1.0, abs=0.1)
    # Training and test digits come from different writers (the FID floor is not 0 either), so KID is
    # a little above 0 (measured 5 with these small subsets); five of ten digits score about 550 (below).
    assert abs(scores["kid"]) < 15


def test_only_five_of_ten_digits_keep_precision_and_halve_recall_and_coverage(
    mnist,
):
    reference, train_images, train_labels, rng = mnist
    low_digits = torch.nonzero(train_labels < 5).squeeze(1)  # 0, 1, 2, 3, 4
    chosen = low_digits[
        torch.randperm(len(low_digits), generator=rng)[:SMALL]
    ]
    fake_features = classifier_features(
        train_images[chosen], "mnist"
    )  # (2000, 128)
    scores = manifold_metrics(reference, fake_features)
    assert (
        scores["precision"] > 0.9 and scores["density"] > 0.85
    )  # every image is a real digit (measured 0.94, 0.96)
    assert (
        0.4 < scores["recall"] < 0.7 and 0.4 < scores["coverage"] < 0.65
    )  # half the digits (measured 0.58, 0.52)
    kid, _ = kernel_distance(
        reference, fake_features, num_subsets=10, subset_size=500
    )
    assert kid > 100


def test_blurred_digits_lose_recall_and_coverage_not_precision(mnist):
    # The classifier's features ignore how sharp a stroke is: blurred digits land among typical real digits
    # (precision stays high), but all the writers' variety is gone (recall and coverage collapse). Density,
    # the crowding around real points, falls only when the blur is strong.
    reference, train_images, _, rng = mnist
    real = train_images[
        torch.randperm(len(train_images), generator=rng)[:SMALL]
    ]
    sharp = manifold_metrics(reference, classifier_features(real, "mnist"))
    blurred = manifold_metrics(
        reference, classifier_features(blur(real, 1.5), "mnist")
    )
    very_blurred = manifold_metrics(
        reference, classifier_features(blur(real, 3.0), "mnist")
    )
    assert blurred["precision"] > 0.95 and very_blurred["precision"] > 0.95
    assert (
        blurred["recall"] < 0.1 < 0.9 < sharp["recall"]
    )  # measured 0.01 vs 0.95
    assert (
        blurred["coverage"] < 0.4 < 0.9 < sharp["coverage"]
    )  # measured 0.23 vs 0.95
    assert (
        very_blurred["density"] < 0.8 < sharp["density"]
    )  # measured 0.63 vs 0.97


def test_diversity_floor_is_cached_and_returns_a_copy():
    first = diversity_floor("mnist", num_samples=500, k=5)
    first["precision"] = -1.0
    second = diversity_floor("mnist", num_samples=500, k=5)
    assert 0.8 < second["precision"] <= 1.0 and second["num_samples"] == 500
