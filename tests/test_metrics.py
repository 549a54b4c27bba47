"""Tests for gan_teach.metrics: the Fréchet distance, the shipped classifiers, FID and its floor, toy metrics."""

from __future__ import annotations

import math
import os
import sys
import types

import numpy as np
import pytest
import torch

from gan_teach.data import load_images, load_toy, toy_distribution
from gan_teach.metrics import (
    WEIGHTS_DIR,
    FeatureClassifier,
    class_shares,
    classifier_fid,
    classifier_fid_floor,
    evaluate_images,
    feature_statistics,
    fid_between_test_halves,
    frechet_distance,
    held_out_indices,
    inception_fid,
    load_feature_classifier,
    read_classifier_records,
    sha256_of,
    toy_metrics,
)
from gan_teach.models import DCGANGenerator, generate

ROOT = os.environ.get(
    "GAN_TEACH_DATA"
)  # the tests run with GAN_TEACH_DATA=/work/shared/data or a copy of it
IMAGE_DATASETS = ["mnist", "fashion-mnist"]
SMALL = (
    2000  # enough samples where the point is not FID's small-sample bias
)
# Measured floors (10k random train images vs the test set): mnist 3.39, fashion-mnist 0.41. Train and test
# MNIST digits come from different writers, which the classifier's features notice.
FLOOR_BOUNDS = {"mnist": 5.0, "fashion-mnist": 1.0}


def random_covariance(
    rng: np.random.Generator, dim: int, rank: int | None = None
) -> np.ndarray:
    """A random symmetric positive semi-definite ``(dim, dim)`` matrix of the given rank."""
    factor = rng.normal(size=(dim, rank or dim))
    return factor @ factor.T / dim


# --- the Fréchet distance ---------------------------------------------------------------------------


def test_frechet_distance_matches_closed_form_for_diagonal_covariances():
    rng = np.random.default_rng(0)
    mu1, mu2 = rng.normal(size=6), rng.normal(size=6)
    a, b = rng.uniform(0.1, 3.0, size=6), rng.uniform(0.1, 3.0, size=6)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum(
        (np.sqrt(a) - np.sqrt(b)) ** 2
    )
    assert frechet_distance(
        mu1, np.diag(a), mu2, np.diag(b)
    ) == pytest.approx(expected, rel=1e-10)


def test_frechet_distance_matches_closed_form_for_commuting_covariances():
    rng = np.random.default_rng(1)
    rotation, _ = np.linalg.qr(
        rng.normal(size=(5, 5))
    )  # a random orthogonal matrix
    a, b = rng.uniform(0.1, 3.0, size=5), rng.uniform(0.1, 3.0, size=5)
    sigma1, sigma2 = (
        rotation @ np.diag(a) @ rotation.T,
        rotation @ np.diag(b) @ rotation.T,
    )
    expected = np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert frechet_distance(
        np.zeros(5), sigma1, np.zeros(5), sigma2
    ) == pytest.approx(expected, rel=1e-9)


def test_frechet_distance_is_symmetric_zero_on_itself_and_non_negative():
    rng = np.random.default_rng(2)
    for trial in range(20):
        dim = int(rng.integers(1, 40))
        rank = (
            dim if trial % 2 else max(1, dim // 3)
        )  # half of them singular, like features with dead units
        mu1, mu2 = rng.normal(size=dim), rng.normal(size=dim)
        sigma1, sigma2 = (
            random_covariance(rng, dim, rank),
            random_covariance(rng, dim),
        )
        forward, backward = (
            frechet_distance(mu1, sigma1, mu2, sigma2),
            frechet_distance(mu2, sigma2, mu1, sigma1),
        )
        assert forward >= 0.0
        assert forward == pytest.approx(backward, rel=1e-7, abs=1e-9)
        assert frechet_distance(mu1, sigma1, mu1, sigma1) == pytest.approx(
            0.0, abs=1e-8
        )


def test_frechet_distance_takes_tensors_and_computes_in_float64():
    rng = np.random.default_rng(3)
    mu, sigma = rng.normal(size=128), random_covariance(rng, 128)
    shifted = mu + 1e-5  # a difference float32 sums would blur: 128 * 1e-10
    from_numpy = frechet_distance(mu, sigma, shifted, sigma)
    from_tensors = frechet_distance(
        torch.from_numpy(mu),
        torch.from_numpy(sigma),
        torch.from_numpy(shifted),
        torch.from_numpy(sigma),
    )
    assert isinstance(from_tensors, float)
    assert from_tensors == pytest.approx(from_numpy, rel=1e-12)
    assert from_numpy == pytest.approx(128 * 1e-10, rel=1e-3)


def test_frechet_distance_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"\(D,\).*\(D, D\)"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))
    with pytest.raises(ValueError, match="sigma1"):
        frechet_distance(np.zeros(3), np.eye(2), np.zeros(3), np.eye(3))


# --- the shipped classifiers ------------------------------------------------------------------------


def test_feature_classifier_shapes_and_size():
    classifier = FeatureClassifier()
    images = torch.zeros(4, 1, 28, 28)
    assert classifier.features(images).shape == (4, 128)
    assert classifier(images).shape == (4, 10)
    state_bytes = sum(
        tensor.numel() * 4 for tensor in classifier.state_dict().values()
    )  # float32
    assert state_bytes < 1_000_000
    with pytest.raises(
        ValueError, match=r"\(N, 1, 28, 28\), got \(4, 28, 28\).*unsqueeze"
    ):
        classifier(torch.zeros(4, 28, 28))


@pytest.mark.parametrize("dataset", IMAGE_DATASETS)
def test_shipped_weights_match_their_record(dataset):
    record = read_classifier_records()[dataset]
    path = WEIGHTS_DIR / f"{dataset}-classifier.pt"
    assert sha256_of(path) == record["sha256"]
    assert path.stat().st_size == record["file_size_bytes"] < 1_000_000
    for key in (
        "test_accuracy",
        "command",
        "epochs",
        "seed",
        "train_seconds",
        "machine",
        "fid_floor",
    ):
        assert key in record, key
    classifier = load_feature_classifier(dataset)
    assert not classifier.training
    assert load_feature_classifier(dataset) is classifier  # cached


@pytest.mark.parametrize("dataset", IMAGE_DATASETS)
def test_recorded_accuracy_holds_on_a_random_test_subset(dataset):
    images, labels = load_images(
        dataset, ROOT, train=False, with_labels=True
    )
    chosen = torch.randperm(
        images.shape[0], generator=torch.Generator().manual_seed(0)
    )[:SMALL]
    with torch.no_grad():
        predictions = load_feature_classifier(dataset)(
            images[chosen]
        ).argmax(1)
    accuracy = (predictions == labels[chosen]).double().mean().item()
    assert (
        abs(accuracy - read_classifier_records()[dataset]["test_accuracy"])
        < 0.01
    )


def test_unknown_dataset_points_to_toy_metrics():
    with pytest.raises(ValueError, match="toy_metrics"):
        load_feature_classifier("ring")


# --- class shares ------------------------------------------------------------------------------------


@pytest.mark.parametrize("dataset", IMAGE_DATASETS)
def test_class_shares_of_the_test_set_match_its_labels(dataset):
    images, labels = load_images(
        dataset, ROOT, train=False, with_labels=True
    )
    shares = class_shares(images, dataset)
    assert shares.shape == (10,) and shares.dtype == torch.float32
    assert shares.sum().item() == pytest.approx(1.0, abs=1e-6)
    label_shares = torch.bincount(labels, minlength=10) / len(labels)
    # 99 % (MNIST) and 90 % (Fashion-MNIST) accurate: the errors move little mass between classes
    tolerance = {"mnist": 0.002, "fashion-mnist": 0.015}[dataset]
    assert (shares - label_shares).abs().max().item() < tolerance


def test_class_shares_name_a_missing_class():
    images, labels = load_images(
        "mnist", ROOT, train=False, with_labels=True
    )
    without_sevens = images[labels != 7]
    shares = class_shares(without_sevens, "mnist")
    assert shares[7].item() < 0.005  # only the classifier's few mistakes
    assert shares.argmax().item() == 1  # ones are the commonest digit


def test_class_shares_of_a_generator_are_those_of_its_samples():
    torch.manual_seed(0)
    generator = DCGANGenerator(latent_dim=16, base_channels=8).eval()
    from_generator = class_shares(
        generator, "mnist", num_samples=500, seed=4
    )
    from_images = class_shares(generate(generator, 500, seed=4), "mnist")
    assert torch.equal(from_generator, from_images)


def test_class_shares_refuse_what_the_classifier_cannot_read():
    with pytest.raises(ValueError, match="toy_metrics"):
        class_shares(torch.zeros(4, 1, 28, 28), "ring")
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\)"):
        class_shares(torch.zeros(4, 28, 28), "mnist")


# --- FID and its floor ------------------------------------------------------------------------------


@pytest.mark.parametrize("dataset", IMAGE_DATASETS)
def test_fid_floor_is_reproducible_and_small(dataset):
    floor = classifier_fid_floor(dataset, root=ROOT)
    assert floor == pytest.approx(
        read_classifier_records()[dataset]["fid_floor"], rel=1e-3
    )
    assert 0.0 < floor < FLOOR_BOUNDS[dataset]
    assert classifier_fid_floor(dataset, root=ROOT) == floor  # cached


def test_fid_of_the_test_set_itself_is_zero():
    test_images = load_images("mnist", ROOT, train=False)
    assert classifier_fid(test_images, "mnist", root=ROOT) == pytest.approx(
        0.0, abs=1e-6
    )


def test_noise_scores_far_above_the_floor():
    noise = (
        torch.rand(
            SMALL, 1, 28, 28, generator=torch.Generator().manual_seed(0)
        )
        * 2
        - 1
    )
    with pytest.warns(UserWarning, match="biased upward"):
        noise_fid = classifier_fid(noise, "mnist", root=ROOT)
    assert noise_fid > 100 * classifier_fid_floor(
        "mnist", root=ROOT, num_samples=SMALL
    )


def test_generator_and_its_images_give_the_same_score():
    torch.manual_seed(0)
    generator = DCGANGenerator(latent_dim=16, base_channels=8)
    with pytest.warns(UserWarning, match="biased upward"):
        from_generator = evaluate_images(
            generator, "mnist", num_samples=SMALL, root=ROOT, seed=5
        )
    with pytest.warns(UserWarning, match="biased upward"):
        from_images = classifier_fid(
            generate(generator, SMALL, seed=5), "mnist", root=ROOT
        )
    assert from_generator["fid"] == pytest.approx(from_images, rel=1e-6)
    assert from_generator["num_samples"] == SMALL
    assert from_generator["fid_floor"] == classifier_fid_floor(
        "mnist", root=ROOT, num_samples=SMALL
    )
    assert from_generator["fid_minus_floor"] == pytest.approx(
        from_generator["fid"] - from_generator["fid_floor"]
    )
    assert (
        "fid_ratio" not in from_generator
    )  # the ratio is driven by the floor's size; the difference is the summary


# --- the floor measured without in-sample features ---------------------------------------------------


def test_held_out_indices_are_a_fixed_random_subset_that_holds_the_floors_images():
    indices = held_out_indices("mnist")
    assert indices.shape == (20_000,) and indices.unique().numel() == 20_000
    assert 0 <= indices.min() and indices.max() < 60_000
    assert (
        indices.min() < 1000 and indices.max() > 59_000
    )  # spread over the file, not its first images
    floor_subset = torch.randperm(
        60_000, generator=torch.Generator().manual_seed(0)
    )[:10_000]  # classifier_fid_floor, seed 0
    assert torch.equal(indices[:10_000], floor_subset)
    assert torch.equal(held_out_indices("fashion-mnist"), indices)


@pytest.mark.parametrize("dataset", IMAGE_DATASETS)
def test_held_out_classifier_never_saw_its_images_and_matches_its_record(
    dataset,
):
    record = read_classifier_records()[f"{dataset}-held-out"]
    path = WEIGHTS_DIR / record["file"]
    assert path.name == f"{dataset}-classifier-held-out.pt"
    assert (
        sha256_of(path) == record["sha256"]
        and path.stat().st_size == record["file_size_bytes"] < 500_000
    )
    assert record["dataset"] == dataset and record["dtype"] == "float16"
    assert (
        record["train_images"] == 60_000 - held_out_indices(dataset).numel()
        and "--held-out" in record["command"]
    )
    held_out = load_feature_classifier(dataset, held_out=True)
    assert (
        held_out is not load_feature_classifier(dataset)
        and not held_out.training
    )
    assert all(
        parameter.dtype == torch.float32
        for parameter in held_out.parameters()
    )  # used in float32
    images, labels = load_images(
        dataset, ROOT, train=False, with_labels=True
    )
    chosen = torch.randperm(
        images.shape[0], generator=torch.Generator().manual_seed(0)
    )[:SMALL]
    with torch.no_grad():
        accuracy = (
            (held_out(images[chosen]).argmax(1) == labels[chosen])
            .double()
            .mean()
            .item()
        )
    assert abs(accuracy - record["test_accuracy"]) < 0.01


def test_held_out_floor_is_reproducible_and_uses_only_unseen_images():
    floor = classifier_fid_floor("mnist", root=ROOT, held_out=True)
    assert floor == classifier_fid_floor(
        "mnist", root=ROOT, held_out=True, num_samples=10_000, seed=0
    )
    assert 0.0 < floor < FLOOR_BOUNDS["mnist"]
    assert floor != classifier_fid_floor(
        "mnist", root=ROOT
    )  # another network: other units
    # The held-out pool has 20,000 images: a larger subset cannot stay unseen, and the error says so.
    with pytest.raises(
        ValueError,
        match=r"between 2 and 20,000 \(the held-out images\), got 30,000",
    ):
        classifier_fid_floor(
            "mnist", root=ROOT, held_out=True, num_samples=30_000
        )
    with pytest.raises(
        ValueError, match=r"between 2 and 60,000 \(the training images\)"
    ):
        classifier_fid_floor("mnist", root=ROOT, num_samples=1)


def test_held_out_floor_is_the_fid_of_unseen_training_images_against_the_test_set():
    train_images = load_images("mnist", ROOT, train=True)
    pool = held_out_indices("mnist")
    chosen = pool[
        torch.randperm(
            pool.numel(), generator=torch.Generator().manual_seed(3)
        )[:SMALL]
    ]
    by_hand = frechet_distance(
        *feature_statistics(train_images[chosen], "mnist", held_out=True),
        *feature_statistics(
            load_images("mnist", ROOT, train=False), "mnist", held_out=True
        ),
    )
    assert classifier_fid_floor(
        "mnist", root=ROOT, held_out=True, num_samples=SMALL, seed=3
    ) == pytest.approx(by_hand)


@pytest.mark.parametrize("held_out", [False, True])
def test_fid_between_test_halves_is_sampling_noise_of_one_distribution(
    held_out,
):
    by_seed = [
        fid_between_test_halves(
            "mnist", root=ROOT, seed=seed, held_out=held_out
        )
        for seed in (0, 1)
    ]
    assert by_seed[0] == fid_between_test_halves(
        "mnist", root=ROOT, seed=0, held_out=held_out
    )  # seeded
    assert (
        by_seed[0] != by_seed[1]
    )  # other halves, another value: FID is a noisy estimate
    # 5,000 vs 5,000 images of one distribution: small (measured 2.1 to 3.8 on MNIST), far from noise images.
    assert all(0.5 < value < 6.0 for value in by_seed), by_seed


def test_fid_between_test_halves_splits_at_random_not_first_and_last():
    test_images = load_images("mnist", ROOT, train=False)
    first_and_last = frechet_distance(
        *feature_statistics(test_images[:5000], "mnist"),
        *feature_statistics(test_images[5000:], "mnist"),
    )
    # MNIST's first 5,000 test digits are cleaner than the last 5,000: a split by position is not random.
    assert first_and_last > fid_between_test_halves(
        "mnist", root=ROOT, seed=0
    )


def test_a_missing_held_out_classifier_says_how_to_train_it(
    monkeypatch, tmp_path
):
    from gan_teach import features

    monkeypatch.setattr(features, "WEIGHTS_DIR", tmp_path)
    load_feature_classifier.cache_clear()
    try:
        with pytest.raises(
            FileNotFoundError,
            match=r"train_classifier\.py --dataset fashion-mnist --held-out",
        ):
            load_feature_classifier("fashion-mnist", held_out=True)
    finally:
        load_feature_classifier.cache_clear()


def test_images_out_of_range_get_a_teaching_error():
    images = torch.rand(
        SMALL, 1, 28, 28, generator=torch.Generator().manual_seed(0)
    )  # [0, 1]
    with pytest.raises(ValueError, match=r"\[0, 1\].*images \* 2 - 1"):
        classifier_fid(images, "mnist", root=ROOT)
    with pytest.raises(ValueError, match=r"127\.5"):
        classifier_fid(images * 255, "mnist", root=ROOT)
    with pytest.raises(ValueError, match="NaN"):
        classifier_fid(
            torch.full((10, 1, 28, 28), float("nan")), "mnist", root=ROOT
        )
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\)"):
        classifier_fid(images[:, 0], "mnist", root=ROOT)
    with pytest.raises(ValueError, match="toy_metrics"):
        classifier_fid(images * 2 - 1, "ring", root=ROOT)


# --- toy metrics ------------------------------------------------------------------------------------


def test_exact_ring_samples_cover_every_mode_with_high_quality():
    result = toy_metrics(load_toy("ring", 10_000), "ring")
    assert result["modes_covered"] == result["num_modes"] == 8
    # In 2-D the distance to the center over std has a chi distribution with 2 degrees of freedom:
    # P(distance < 3 std) = 1 - exp(-9 / 2) = 0.9889, so even perfect samples score just under 0.99.
    assert result["high_quality_share"] == pytest.approx(
        1 - math.exp(-4.5), abs=0.003
    )
    assert sum(result["mode_counts"]) == round(
        result["high_quality_share"] * 10_000
    )


def test_exact_samples_of_the_other_toys():
    assert (
        toy_metrics(load_toy("grid", 10_000), "grid")["modes_covered"] == 25
    )
    result = toy_metrics(
        load_toy("mixture-1d", 10_000), toy_distribution("mixture-1d")
    )
    assert result["modes_covered"] == 2
    assert result["high_quality_share"] == pytest.approx(
        math.erf(3 / math.sqrt(2)), abs=0.003
    )  # 0.9973 in 1-D


def test_collapsed_and_far_away_samples():
    ring = toy_distribution("ring")
    collapsed = toy_metrics(ring.centers_tensor()[3].repeat(1000, 1), ring)
    assert collapsed["modes_covered"] == 1
    assert (
        collapsed["mode_counts"][3] == 1000
        and collapsed["high_quality_share"] == 1.0
    )
    far_away = toy_metrics(torch.full((100, 2), 50.0), ring)
    assert (
        far_away["high_quality_share"] == 0.0
        and far_away["modes_covered"] == 0
    )


def test_a_mode_needs_a_tenth_of_its_fair_share():
    centers = toy_distribution("ring").centers_tensor()
    for minority, covered in (
        (12, 1),
        (13, 2),
    ):  # fair share 1000 / 8 = 125; a tenth of it is 12.5
        samples = torch.cat(
            [
                centers[0].repeat(1000 - minority, 1),
                centers[1].repeat(minority, 1),
            ]
        )
        assert toy_metrics(samples, "ring")["modes_covered"] == covered


def test_toy_metrics_rejects_wrong_shapes():
    with pytest.raises(ValueError, match=r"\(N, 1\).*unsqueeze"):
        toy_metrics(torch.zeros(10), "mixture-1d")
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        toy_metrics(torch.zeros(10, 3), "ring")


# --- Inception FID ----------------------------------------------------------------------------------


def _fake_torchmetrics(monkeypatch, metric_class) -> None:
    """Install a stand-in ``torchmetrics.image.fid`` whose FrechetInceptionDistance is ``metric_class``."""
    modules = {
        name: types.ModuleType(name)
        for name in (
            "torchmetrics",
            "torchmetrics.image",
            "torchmetrics.image.fid",
        )
    }
    modules[
        "torchmetrics.image.fid"
    ].FrechetInceptionDistance = metric_class
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)


def test_inception_fid_without_torchmetrics_points_to_classifier_fid(
    monkeypatch,
):
    monkeypatch.setitem(
        sys.modules, "torchmetrics", None
    )  # makes the import fail even where it is installed
    images = torch.zeros(4, 1, 28, 28)
    with pytest.raises(RuntimeError, match=r"torchmetrics.*classifier_fid"):
        inception_fid(images, images)


def test_inception_fid_without_weights_points_to_classifier_fid(
    monkeypatch,
):
    def offline(**kwargs):
        raise OSError("no network")

    _fake_torchmetrics(monkeypatch, offline)
    images = torch.zeros(4, 1, 28, 28)
    with pytest.raises(RuntimeError, match=r"no network.*classifier_fid"):
        inception_fid(images, images)


def test_inception_fid_feeds_uint8_rgb_images(monkeypatch):
    seen = []

    class Recorder:
        def __init__(self, feature):
            assert feature == 2048

        def update(self, images, real):
            seen.append((images, real))

        def compute(self):
            return torch.tensor(1.5)

    _fake_torchmetrics(monkeypatch, Recorder)
    real, fake = -torch.ones(3, 1, 28, 28), torch.ones(2, 1, 28, 28)
    assert inception_fid(real, fake) == 1.5
    (real_seen, real_flag), (fake_seen, fake_flag) = seen
    assert real_flag and not fake_flag
    assert real_seen.dtype == torch.uint8 and real_seen.shape == (
        3,
        3,
        28,
        28,
    )
    assert real_seen.max() == 0 and fake_seen.min() == 255
