"""The forensics tools: a detector that learns an obvious difference, and exact nearest-neighbour distances."""

import pytest
import torch

from gan_teach.instruments.forensics import (
    balanced_accuracy,
    build_detector,
    detection_report,
    fake_probability,
    nearest_neighbour_distances,
    train_detector,
)


def _digits(count: int, seed: int) -> torch.Tensor:
    return (
        torch.rand(
            count, 1, 28, 28, generator=torch.Generator().manual_seed(seed)
        )
        * 2
        - 1
    )  # (count, 1, 28, 28)


def _with_checkerboard(images: torch.Tensor) -> torch.Tensor:
    marked = images.clone()
    marked[:, :, ::2, ::2] = (
        1.0  # a bright checkerboard, like a transposed convolution's artefacts
    )
    return marked


def test_detector_learns_an_obvious_artefact():
    # "real" images never have bright pixels; "generated" ones carry a checkerboard
    real, fake = (
        _digits(256, 0).clamp(max=0.5),
        _with_checkerboard(_digits(256, 1)),
    )
    detector = train_detector(real, fake, epochs=3, batch_size=64)
    report = detection_report(
        detector,
        _digits(100, 2).clamp(max=0.5),
        _with_checkerboard(_digits(100, 3)),
    )
    assert report["balanced_accuracy"] > 0.95
    assert set(report) == {
        "balanced_accuracy",
        "real_called_real",
        "fake_called_fake",
    }
    assert not detector.training


def test_training_is_seeded_and_leaves_the_global_rng_alone():
    real, fake = _digits(64, 0), _digits(64, 1)
    state = torch.get_rng_state()
    first = train_detector(real, fake, epochs=1, seed=3)
    assert torch.equal(torch.get_rng_state(), state)
    second = train_detector(real, fake, epochs=1, seed=3)
    assert torch.equal(
        fake_probability(first, real), fake_probability(second, real)
    )


def test_fake_probability_shape_and_range():
    probabilities = fake_probability(
        build_detector(), _digits(5, 0), batch_size=2
    )
    assert probabilities.shape == (5,) and bool(
        ((probabilities >= 0) & (probabilities <= 1)).all()
    )


def test_detector_rejects_flat_images():
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\)"):
        train_detector(torch.zeros(4, 784), _digits(4, 0))


def test_balanced_accuracy_ignores_class_imbalance():
    labels = torch.tensor([0] + [1] * 9)
    assert (
        balanced_accuracy(torch.ones(10, dtype=torch.long), labels) == 0.5
    )
    assert balanced_accuracy(labels, labels) == 1.0
    with pytest.raises(ValueError, match="both classes"):
        balanced_accuracy(torch.ones(3), torch.ones(3))


def test_nearest_neighbour_distances_match_brute_force():
    queries, references = _digits(40, 0), _digits(300, 1)
    distances, indices = nearest_neighbour_distances(
        queries, references, batch_size=7
    )
    brute = torch.cdist(  # exact pairwise distances, (40, 300)
        queries.flatten(1).double(),
        references.flatten(1).double(),
        compute_mode="donot_use_mm_for_euclid_dist",
    )
    assert torch.equal(indices, brute.argmin(dim=1))
    assert torch.allclose(
        distances.double(), brute.min(dim=1).values, atol=1e-4
    )


def test_an_exact_copy_has_distance_exactly_zero():
    references = _digits(300, 1)
    copies = references[[5, 17, 299]]
    distances, indices = nearest_neighbour_distances(copies, references)
    assert distances.tolist() == [0.0, 0.0, 0.0] and indices.tolist() == [
        5,
        17,
        299,
    ]


def test_same_set_skips_only_the_image_itself():
    images = _digits(50, 0)
    images[30] = images[10]  # an exact duplicate
    distances, indices = nearest_neighbour_distances(
        images, images, same_set=True, batch_size=16
    )
    assert bool((indices != torch.arange(50)).all())
    assert (
        distances[10] == 0
        and distances[30] == 0
        and indices[10] == 30
        and indices[30] == 10
    )
    assert bool(
        (distances[[i for i in range(50) if i not in (10, 30)]] > 0).all()
    )


def test_nearest_neighbour_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="one shape"):
        nearest_neighbour_distances(_digits(3, 0), torch.zeros(3, 784))
    with pytest.raises(ValueError, match="same images"):
        nearest_neighbour_distances(
            _digits(3, 0), _digits(4, 0), same_set=True
        )
