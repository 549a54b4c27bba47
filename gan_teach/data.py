"""Training data: MNIST and Fashion-MNIST held in memory, and toy distributions that need no download.

Every dataset comes back as one tensor: images ``(N, 1, 28, 28)`` scaled to ``[-1, 1]``, the range of
the DCGAN generator's ``tanh`` (data in ``[0, 1]`` would leave half of that range unused and make the
fakes easy to spot), and toy points ``(N, 2)`` or ``(N, 1)``. On two CPU cores one in-memory tensor is
several times faster than a ``DataLoader`` with worker processes.
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import torch

__all__ = [
    "IMAGE_DATASETS",
    "TOY_DISTRIBUTIONS",
    "DATASETS",
    "DataNotFoundError",
    "ToyDistribution",
    "resolve_data_root",
    "load_images",
    "load_toy",
    "load_dataset",
    "toy_distribution",
    "is_image_dataset",
]

#: Name -> torchvision class name; the class name is also torchvision's folder under the root.
IMAGE_DATASETS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}
_RAW_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


class DataNotFoundError(FileNotFoundError):
    """The dataset is not on disk and could not be downloaded."""


@dataclass(frozen=True)
class ToyDistribution:
    """A mixture of equal-weight isotropic Gaussians, simple enough to check a GAN against.

    Attributes:
        name: the registry name, e.g. ``"ring"``.
        centers: the mixture's means, a tuple of points (each a tuple of ``dim`` floats).
        std: the standard deviation of every component.
    """

    name: str
    centers: tuple[tuple[float, ...], ...]
    std: float

    @property
    def dim(self) -> int:
        """Dimension of a sample (1 or 2)."""
        return len(self.centers[0])

    @property
    def num_modes(self) -> int:
        """Number of mixture components."""
        return len(self.centers)

    def centers_tensor(self) -> torch.Tensor:
        """The means as a ``(num_modes, dim)`` float32 tensor."""
        return torch.tensor(self.centers, dtype=torch.float32)

    def sample(
        self, num_samples: int, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Draw points from the mixture.

        Args:
            num_samples: how many points.
            generator: a ``torch.Generator`` for reproducible draws; ``None`` uses the global RNG.

        Returns:
            A ``(num_samples, dim)`` float32 tensor.

        >>> toy_distribution("ring").sample(5).shape
        torch.Size([5, 2])
        """
        centers = self.centers_tensor()  # (K, dim)
        which = torch.randint(
            self.num_modes, (num_samples,), generator=generator
        )  # (N,)
        noise = (
            torch.randn(num_samples, self.dim, generator=generator)
            * self.std
        )  # (N, dim)
        return centers[which] + noise

    def log_density(self, points: torch.Tensor) -> torch.Tensor:
        """Log of the mixture's density at ``points`` of shape ``(N, dim)``; returns ``(N,)``."""
        centers = self.centers_tensor().to(points)  # (K, dim)
        squared = ((points[:, None, :] - centers[None]) ** 2).sum(
            -1
        )  # (N, K)
        log_component = -squared / (2 * self.std**2) - self.dim * math.log(
            self.std * math.sqrt(2 * math.pi)
        )
        return torch.logsumexp(log_component, dim=1) - math.log(
            self.num_modes
        )


def _ring(
    num_modes: int = 8, radius: float = 2.0
) -> tuple[tuple[float, float], ...]:
    angles = [2 * math.pi * k / num_modes for k in range(num_modes)]
    return tuple(
        (radius * math.cos(a), radius * math.sin(a)) for a in angles
    )


#: Name -> the toy distribution, ``ring`` (8 Gaussians on a circle), ``grid`` (5 x 5 Gaussians),
#: and on a line ``mixture-1d`` (two bumps) and ``gaussian-1d`` (one Gaussian).
#:
#: :meta hide-value:
TOY_DISTRIBUTIONS: dict[str, ToyDistribution] = {
    # 8 Gaussians on a circle of radius 2, std 0.02 (Metz et al. 2017, "Unrolled GANs").
    "ring": ToyDistribution("ring", _ring(8, 2.0), 0.02),
    # 5 x 5 Gaussians on the grid {-4, -2, 0, 2, 4}^2, std 0.05 (Srivastava et al. 2017, "VEEGAN").
    "grid": ToyDistribution(
        "grid",
        tuple(
            (float(x), float(y))
            for x in range(-4, 5, 2)
            for y in range(-4, 5, 2)
        ),
        0.05,
    ),
    # Two 1-D bumps: small enough to plot densities and D(x) on one axis.
    "mixture-1d": ToyDistribution("mixture-1d", ((-2.0,), (2.0,)), 0.5),
    # One 1-D Gaussian, the setting of Figure 1 in Goodfellow et al. 2014.
    "gaussian-1d": ToyDistribution("gaussian-1d", ((4.0,),), 1.0),
}

#: Every dataset name ``load_dataset`` and ``gan-teach train --dataset`` accept.
DATASETS = tuple(IMAGE_DATASETS) + tuple(TOY_DISTRIBUTIONS)


def is_image_dataset(name: str) -> bool:
    """True for ``mnist`` and ``fashion-mnist``, False for the toy distributions."""
    _check_name(name)
    return name in IMAGE_DATASETS


def _check_name(name: str) -> None:
    if name not in DATASETS:
        raise ValueError(
            f"unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}"
        )


def toy_distribution(name: str) -> ToyDistribution:
    """The toy distribution called ``name`` (``ring``, ``grid``, ``mixture-1d``, ``gaussian-1d``)."""
    if name not in TOY_DISTRIBUTIONS:
        raise ValueError(
            f"unknown toy distribution {name!r}; choose one of: {', '.join(TOY_DISTRIBUTIONS)}"
        )
    return TOY_DISTRIBUTIONS[name]


def _user_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(
        os.path.expanduser("~"), ".cache"
    )
    return Path(base) / "gan_teach"


def resolve_data_root(root: str | os.PathLike | None = None) -> Path:
    """Where datasets live: ``root`` if given, else ``$GAN_TEACH_DATA``, else ``~/.cache/gan_teach/data``.

    torchvision extracts the ``.gz`` files beside them, in ``ROOT/MNIST/raw/`` (about 55 MB for
    MNIST, 55 MB for Fashion-MNIST), and downloads the missing ones there: a root you can write
    into is written into. A read-only root is left untouched; its files are then extracted
    under ``~/.cache/gan_teach/extracted/``.
    """
    if root is not None:
        return Path(root).expanduser()
    from_environment = os.environ.get("GAN_TEACH_DATA")
    if from_environment:
        return Path(from_environment).expanduser()
    return _user_cache() / "data"


def _writable_root(root: Path, folder: str) -> Path:
    """A root torchvision can extract into. A read-only root's ``.gz`` files are linked into the cache."""
    raw = root / folder / "raw"
    extracted = [raw / name[: -len(".gz")] for name in _RAW_FILES]
    if all(path.exists() for path in extracted):
        return root  # already extracted: torchvision only reads
    if not raw.exists() or os.access(raw, os.W_OK):
        return root
    mirror = (
        _user_cache()
        / "extracted"
        / hashlib.sha1(str(root.resolve()).encode()).hexdigest()[:12]
        / folder
        / "raw"
    )
    mirror.mkdir(parents=True, exist_ok=True)
    for name in _RAW_FILES:
        source, target = raw / name, mirror / name
        if source.exists() and not target.exists():
            try:
                target.symlink_to(source.resolve())
            except OSError:
                shutil.copyfile(source, target)
    return mirror.parent.parent


def _check_archives(resources: list[tuple[str, str]], raw: Path) -> None:
    """Refuse a damaged ``.gz`` before torchvision takes it for a failed download.

    Args:
        resources: torchvision's ``(file name, MD5)`` of each original file.
        raw: the folder that holds them.
    """
    for name, expected in resources:
        path = raw / name
        if not path.exists() or (raw / name[: -len(".gz")]).exists():
            continue  # to be downloaded, or already extracted
        found = hashlib.md5(
            path.read_bytes(), usedforsecurity=False
        ).hexdigest()
        if found != expected:
            raise ValueError(
                f"{path} is damaged: its MD5 is {found}, the original's is "
                f"{expected} (an interrupted download or copy?). Delete it to "
                "download it again, or copy a good one there"
            )


@functools.lru_cache(maxsize=4)
def _load_images_cached(
    name: str, root: str, train: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    import torchvision

    folder = IMAGE_DATASETS[name]
    dataset_class = getattr(torchvision.datasets, folder)
    _check_archives(dataset_class.resources, Path(root) / folder / "raw")
    usable_root = _writable_root(Path(root), folder)
    try:
        dataset = dataset_class(
            str(usable_root), train=train, download=True
        )
    except (
        RuntimeError,
        OSError,
    ) as error:  # torchvision raises RuntimeError when every mirror fails
        files = ", ".join(_RAW_FILES)
        raise DataNotFoundError(
            f"{name} is not in {Path(root) / folder / 'raw'} and could not be downloaded ({error}). "
            f"Put the four original files ({files}) into that folder, or point GAN_TEACH_DATA "
            f"(or --data-root) at a folder that holds {folder}/raw/ with them."
        ) from None
    images = (
        dataset.data.unsqueeze(1).float().div_(127.5).sub_(1.0)
    )  # (N, 28, 28) uint8 -> (N, 1, 28, 28) in [-1, 1]
    return images, dataset.targets.clone()


def load_images(
    name: str,
    root: str | os.PathLike | None = None,
    train: bool = True,
    with_labels: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """MNIST or Fashion-MNIST as one in-memory tensor.

    Args:
        name: ``"mnist"`` or ``"fashion-mnist"``.
        root: the data folder (see :func:`resolve_data_root`); torchvision downloads there if the files are missing.
        train: the 60,000 training images, or the 10,000 test images.
        with_labels: also return the class labels.

    Returns:
        Images ``(N, 1, 28, 28)`` float32 in ``[-1, 1]``, and labels ``(N,)`` int64 if asked for.
        The tensors are shared by later calls: clone before changing them in place.
    """
    if name not in IMAGE_DATASETS:
        raise ValueError(
            f"unknown image dataset {name!r}; choose one of: {', '.join(IMAGE_DATASETS)}"
        )
    images, labels = _load_images_cached(
        name, str(resolve_data_root(root)), bool(train)
    )
    return (images, labels) if with_labels else images


def load_toy(
    name: str, num_samples: int = 65_536, train: bool = True
) -> torch.Tensor:
    """A fixed sample of a toy distribution: the same points on every call (seed 0 train, 1 test).

    Returns:
        A ``(num_samples, dim)`` float32 tensor.
    """
    generator = torch.Generator().manual_seed(0 if train else 1)
    return toy_distribution(name).sample(num_samples, generator=generator)


def load_dataset(
    name: str, root: str | os.PathLike | None = None, train: bool = True
) -> torch.Tensor:
    """Any dataset by name: images for ``mnist``/``fashion-mnist``, points for the toy distributions."""
    _check_name(name)
    return (
        load_images(name, root, train)
        if name in IMAGE_DATASETS
        else load_toy(name, train=train)
    )
