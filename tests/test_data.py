import os

import pytest
import torch

from gan_teach import (
    DataNotFoundError,
    load_dataset,
    load_images,
    load_toy,
    resolve_data_root,
    toy_distribution,
)
from gan_teach.data import TOY_DISTRIBUTIONS


def test_data_root_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_TEACH_DATA", str(tmp_path / "from-env"))
    assert resolve_data_root(tmp_path / "given") == tmp_path / "given"
    assert resolve_data_root() == tmp_path / "from-env"
    monkeypatch.delenv("GAN_TEACH_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert resolve_data_root() == tmp_path / "cache" / "gan_teach" / "data"


@pytest.mark.parametrize(
    "name,label_count", [("mnist", 10), ("fashion-mnist", 10)]
)
def test_image_datasets_scaled_to_tanh_range(name, label_count):
    images, labels = load_images(name, train=False, with_labels=True)
    assert (
        images.shape == (10_000, 1, 28, 28)
        and images.dtype == torch.float32
    )
    assert images.min().item() == -1.0 and images.max().item() == 1.0
    assert (
        labels.shape == (10_000,) and labels.unique().numel() == label_count
    )
    assert load_dataset(name, train=False) is images  # held in memory once


def test_read_only_root_is_extracted_into_the_cache(monkeypatch, tmp_path):
    """A read-only folder with only the .gz files still works: they are linked into a writable cache."""
    import gan_teach.data as data_module

    source = resolve_data_root() / "MNIST" / "raw"
    root = tmp_path / "readonly"
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in (
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
    ):
        (raw / name).symlink_to((source / name).resolve())
    real_access = os.access
    # Root may write anywhere, so the read-only mount is simulated where the library asks about it.
    monkeypatch.setattr(
        data_module.os,
        "access",
        lambda path, mode: (
            False
            if mode == os.W_OK and str(root) in str(path)
            else real_access(path, mode)
        ),
    )
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    images = load_images("mnist", root=root, train=False)
    assert images.shape == (10_000, 1, 28, 28)
    assert any((tmp_path / "cache").rglob("t10k-images-idx3-ubyte"))
    assert not (
        raw / "t10k-images-idx3-ubyte"
    ).exists()  # nothing was written into the read-only folder


def test_missing_data_without_network_says_where_to_put_it(
    monkeypatch, tmp_path
):
    import torchvision

    # An address that refuses at once: this is what "no network" looks like to torchvision.
    monkeypatch.setattr(
        torchvision.datasets.FashionMNIST,
        "mirrors",
        ["http://127.0.0.1:9/"],
    )
    with pytest.raises(DataNotFoundError) as error:
        load_images("fashion-mnist", root=tmp_path / "empty")
    message = str(error.value)
    assert str(tmp_path / "empty" / "FashionMNIST" / "raw") in message
    assert (
        "train-images-idx3-ubyte.gz" in message
        and "GAN_TEACH_DATA" in message
    )


def test_unknown_dataset_lists_choices():
    with pytest.raises(
        ValueError, match="mnist, fashion-mnist, ring, grid"
    ):
        load_dataset("cifar10")


def test_ring_is_the_standard_eight_gaussians():
    ring = toy_distribution("ring")
    centers = ring.centers_tensor()
    assert ring.num_modes == 8 and ring.std == 0.02
    assert torch.allclose(centers.norm(dim=1), torch.full((8,), 2.0))
    angles = (
        torch.atan2(centers[:, 1], centers[:, 0])
        .remainder(2 * torch.pi)
        .sort()
        .values
    )
    assert torch.allclose(
        angles.diff(), torch.full((7,), torch.pi / 4), atol=1e-6
    )


def test_toy_samples_match_their_distribution():
    for name, distribution in TOY_DISTRIBUTIONS.items():
        points = distribution.sample(
            20_000, generator=torch.Generator().manual_seed(0)
        )
        assert points.shape == (20_000, distribution.dim)
        distances = (
            torch.cdist(points, distribution.centers_tensor())
            .min(dim=1)
            .values
        )
        # Each coordinate's offset from its center has the mixture's std.
        nearest = distribution.centers_tensor()[
            torch.cdist(points, distribution.centers_tensor()).argmin(1)
        ]
        assert (points - nearest).std().item() == pytest.approx(
            distribution.std, rel=0.05
        ), name
        assert distances.max() < 6 * distribution.std, name


def test_toy_log_density_integrates_to_one():
    grid = torch.linspace(-8, 10, 20_001).unsqueeze(1)
    for name in ("mixture-1d", "gaussian-1d"):
        density = toy_distribution(name).log_density(grid).exp()
        assert torch.trapezoid(
            density.squeeze(), grid.squeeze()
        ).item() == pytest.approx(1.0, abs=1e-4)


def test_load_toy_is_fixed_and_split():
    assert torch.equal(load_toy("grid", 100), load_toy("grid", 100))
    assert not torch.equal(
        load_toy("grid", 100), load_toy("grid", 100, train=False)
    )
