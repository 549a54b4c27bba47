"""Plots for watching a GAN train: sample grids and D's view of the plane (curves: :mod:`.curves`).

Every function draws on an ``ax`` you pass (or on a new figure) and returns what it drew on, so the
chapters can place plots side by side and tests can inspect them. Nothing here calls ``plt.show()``.
Animations are built on figures that pyplot does not track, so a notebook shows them only once, as the
HTML player that :func:`~gan_teach.animation.animation_html` returns.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from torch import nn

from .data import ToyDistribution
from .fonts import use_cjk_font
from .utils import evaluating

use_cjk_font()  # figures labelled in Chinese (book/zh) draw their glyphs when a CJK font is installed

__all__ = [
    "image_grid",
    "plot_toy",
    "save_figure",
    "discriminator_scores",
    "default_bounds",
    "to_cpu",
    "new_axes",
]

Bounds = Sequence[
    float
]  # (x_min, x_max) for 1-D data, (x_min, x_max, y_min, y_max) for 2-D data
REAL_COLOR, GENERATED_COLOR, DISCRIMINATOR_COLOR = (
    "black",
    "tab:orange",
    "tab:blue",
)


def new_axes(
    ax: Axes | None, figsize: tuple[float, float] = (5, 4)
) -> Axes:
    """``ax`` itself, or the axes of a new pyplot figure (so that a notebook shows it)."""
    if ax is not None:
        return ax
    _, ax = plt.subplots(figsize=figsize)
    return ax


def to_cpu(tensor: torch.Tensor | np.ndarray) -> torch.Tensor:
    """A detached float32 CPU copy of a tensor or array."""
    return torch.as_tensor(tensor).detach().float().cpu()


# ----------------------------------------------------------------------------------- images


def image_grid(
    images: torch.Tensor,
    nrow: int | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Show a batch of images in ``[-1, 1]`` as one grid, grey for one channel.

    Args:
        images: ``(N, C, H, W)`` with ``C`` 1 or 3, values in ``[-1, 1]`` (what a ``tanh`` generator makes).
        nrow: images per row; default: a square-ish grid, ``ceil(sqrt(N))``.
        ax: where to draw; default: a new figure.
        title: an optional axes title.

    Returns:
        The axes, holding one image of the grid.

    >>> from matplotlib.figure import Figure
    >>> ax = image_grid(torch.zeros(4, 1, 28, 28), ax=Figure().subplots())
    >>> ax.images[0].get_array().shape  # 2 x 2 tiles of 28 pixels, 2 pixels of padding around each
    (62, 62)
    """
    from torchvision.utils import make_grid

    images = to_cpu(images)
    if images.dim() != 4 or images.shape[1] not in (1, 3):
        hint = "A single image needs images[None]; flat vectors need .view(-1, 1, 28, 28)."
        raise ValueError(
            f"image_grid expects images of shape (N, C, H, W) with C = 1 or 3, got {tuple(images.shape)}. {hint}"
        )
    if nrow is None:
        nrow = math.ceil(math.sqrt(len(images)))
    grid = make_grid(
        images, nrow=nrow, normalize=True, value_range=(-1, 1)
    )  # (3, H', W') in [0, 1]
    ax = new_axes(ax, figsize=(4, 4))
    if images.shape[1] == 1:
        # make_grid repeats one channel three times; "nearest" keeps pixels sharp and frames compressible
        ax.imshow(
            grid[0].numpy(),
            cmap="gray",
            vmin=0.0,
            vmax=1.0,
            interpolation="nearest",
        )
    else:
        ax.imshow(
            grid.permute(1, 2, 0).numpy(), interpolation="nearest"
        )  # (3, H', W') -> (H', W', 3)
    ax.set_axis_off()
    if title is not None:
        ax.set_title(title)
    return ax


# --------------------------------------------------------------------------------- toy data


def _check_points(
    points: torch.Tensor, distribution: ToyDistribution | None
) -> None:
    if points.dim() != 2 or points.shape[1] not in (1, 2):
        hint = " For images use image_grid." if points.dim() == 4 else ""
        raise ValueError(
            f"plot_toy expects points of shape (N, 2) or (N, 1), got {tuple(points.shape)}.{hint}"
        )
    if distribution is not None and distribution.dim != points.shape[1]:
        raise ValueError(
            f"the points have {points.shape[1]} coordinate(s) but the {distribution.name!r} distribution "
            f"has {distribution.dim}; pass the distribution the generator was trained on"
        )


def default_bounds(
    points: torch.Tensor, distribution: ToyDistribution | None
) -> list[float]:
    """Per coordinate (low, high), flattened: the samples and the real modes with a margin."""
    extent = [points]
    if distribution is not None:
        centers = distribution.centers_tensor()
        extent += [
            centers - 4 * distribution.std,
            centers + 4 * distribution.std,
        ]
    everything = torch.cat(extent)  # (M, dim)
    low, high = everything.min(0).values, everything.max(0).values
    margin = 0.1 * (high - low) + 0.1
    return [
        value
        for pair in zip((low - margin).tolist(), (high + margin).tolist())
        for value in pair
    ]


@torch.no_grad()
def discriminator_scores(
    discriminator: nn.Module, points: torch.Tensor, sigmoid: bool
) -> np.ndarray:
    """D on ``points`` ``(N, dim)`` in eval mode, without gradients; the training flag is restored after."""
    parameter = next(discriminator.parameters(), None)
    device = (
        parameter.device if parameter is not None else torch.device("cpu")
    )
    with evaluating(discriminator):
        scores = discriminator(points.to(device)).float().cpu()  # (N,)
    return (torch.sigmoid(scores) if sigmoid else scores).numpy()


def plot_toy(
    samples: torch.Tensor,
    distribution: ToyDistribution | None = None,
    discriminator: nn.Module | None = None,
    ax: Axes | None = None,
    bounds: Bounds | None = None,
    resolution: int = 200,
    sigmoid: bool = True,
) -> Axes:
    """Generated toy points over the discriminator's view of the space.

    In 2-D: a scatter of the samples (and of real points and the mode centers), over a heat map of D
    on a ``resolution x resolution`` grid. In 1-D: a histogram of the samples, the true density, and
    D(x) on a second y axis, as in Figure 1 of Goodfellow et al. (2014).

    Args:
        samples: generated points, ``(N, 2)`` or ``(N, 1)``.
        distribution: the real distribution, to draw its points (2-D) or density (1-D).
        discriminator: a network scoring ``(M, dim)`` points with ``(M,)`` logits. The grid is scored
            as one batch: with minibatch standard deviation, the map is D for the grid's spread.
        ax: where to draw; default: a new figure.
        bounds: ``(x_min, x_max, y_min, y_max)`` in 2-D, ``(x_min, x_max)`` in 1-D; default: fit the
            samples and the real modes.
        resolution: grid points per axis at which D is evaluated.
        sigmoid: show ``sigmoid(D)`` in ``[0, 1]``; False shows the raw score (for critics).

    Returns:
        The axes of the scatter (2-D) or histogram (1-D).
    """
    points = to_cpu(samples)
    _check_points(points, distribution)
    if resolution < 2:
        raise ValueError(
            f"resolution must be at least 2 grid points per axis, got {resolution}"
        )
    dim = points.shape[1]
    bounds = (
        list(bounds)
        if bounds is not None
        else default_bounds(points, distribution)
    )
    if len(bounds) != 2 * dim:
        expected = (
            "(x_min, x_max, y_min, y_max)" if dim == 2 else "(x_min, x_max)"
        )
        raise ValueError(
            f"bounds for {dim}-D points are {expected}, got {tuple(bounds)}"
        )
    ax = new_axes(ax)
    score_label = "D(x)" if sigmoid else "score"
    if dim == 1:
        return _plot_toy_1d(
            ax,
            points,
            distribution,
            discriminator,
            bounds,
            resolution,
            sigmoid,
            score_label,
        )

    if discriminator is not None:
        xs = torch.linspace(bounds[0], bounds[1], resolution)
        ys = torch.linspace(bounds[2], bounds[3], resolution)
        grid_y, grid_x = torch.meshgrid(
            ys, xs, indexing="ij"
        )  # (R, R) each; row i is y = ys[i]
        grid = torch.stack(
            [grid_x.reshape(-1), grid_y.reshape(-1)], dim=1
        )  # (R * R, 2)
        scores = discriminator_scores(discriminator, grid, sigmoid).reshape(
            resolution, resolution
        )
        image = ax.imshow(
            scores,
            origin="lower",
            extent=tuple(bounds),
            cmap="RdBu_r",
            vmin=0.0 if sigmoid else None,
            vmax=1.0 if sigmoid else None,
            alpha=0.85,
        )
        ax.figure.colorbar(image, ax=ax, label=score_label)
    if distribution is not None:
        real = distribution.sample(
            1000, generator=torch.Generator().manual_seed(0)
        )  # the same points every call
        ax.scatter(
            real[:, 0],
            real[:, 1],
            s=2,
            color=REAL_COLOR,
            alpha=0.3,
            label="real",
        )
        centers = distribution.centers_tensor()
        ax.scatter(
            centers[:, 0],
            centers[:, 1],
            s=40,
            marker="x",
            color=REAL_COLOR,
            label="modes",
        )
    ax.scatter(
        points[:, 0],
        points[:, 1],
        s=6,
        color=GENERATED_COLOR,
        edgecolors="none",
        label="generated",
    )
    ax.set_xlim(bounds[0], bounds[1])
    ax.set_ylim(bounds[2], bounds[3])
    ax.set_aspect("equal")  # circles stay circles
    ax.legend(loc="upper right", fontsize="small", markerscale=2)
    return ax


def _plot_toy_1d(
    ax: Axes,
    points: torch.Tensor,
    distribution: ToyDistribution | None,
    discriminator: nn.Module | None,
    bounds: list[float],
    resolution: int,
    sigmoid: bool,
    score_label: str,
) -> Axes:
    """The 1-D case of :func:`plot_toy`: histogram, true density, and D(x) on a twin axis."""
    xs = torch.linspace(bounds[0], bounds[1], resolution)[:, None]  # (R, 1)
    bins = np.linspace(
        bounds[0], bounds[1], 51
    )  # fixed bins, so that animation frames compare
    ax.hist(
        points[:, 0].numpy(),
        bins=bins,
        density=True,
        color=GENERATED_COLOR,
        alpha=0.5,
        label="generated",
    )
    if distribution is not None:
        density = distribution.log_density(xs).exp()  # (R,)
        ax.plot(
            xs[:, 0],
            density,
            color=REAL_COLOR,
            linestyle=":",
            label="real density",
        )
    ax.set_xlim(bounds[0], bounds[1])
    ax.set_xlabel("x")
    ax.set_ylabel("density")
    handles, labels = ax.get_legend_handles_labels()
    if discriminator is not None:
        twin = ax.twinx()
        twin.plot(
            xs[:, 0],
            discriminator_scores(discriminator, xs, sigmoid),
            color=DISCRIMINATOR_COLOR,
            linestyle="--",
            label=score_label,
        )
        if sigmoid:
            twin.set_ylim(-0.02, 1.02)
        twin.set_ylabel(score_label)
        more_handles, more_labels = twin.get_legend_handles_labels()
        handles, labels = handles + more_handles, labels + more_labels
    ax.legend(handles, labels, loc="upper right", fontsize="small")
    return ax


def save_figure(
    figure: Figure, path: str | os.PathLike, dpi: int = 150
) -> Path:
    """Save ``figure`` to ``path`` (the format from the suffix), creating folders; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=dpi, bbox_inches="tight")
    return path
