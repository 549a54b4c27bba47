"""Plots for watching a GAN train: sample grids, loss curves, D's view of the plane, and animations.

Every function draws on an ``ax`` you pass (or on a new figure) and returns what it drew on, so the
chapters can place plots side by side and tests can inspect them. Nothing here calls ``plt.show()``.
Animations are built on figures that pyplot does not track, so a notebook shows them only once, as the
HTML player that :func:`animation_html` returns.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from torch import nn

from .data import ToyDistribution
from .utils import evaluating

if TYPE_CHECKING:
    from .state import TrainState

__all__ = [
    "image_grid",
    "plot_history",
    "plot_discriminator_outputs",
    "plot_gradient_norms",
    "plot_training",
    "plot_toy",
    "save_figure",
    "discriminator_scores",
    "default_bounds",
    "to_cpu",
]

History = Mapping[str, Sequence[float]]
Bounds = Sequence[float]  # (x_min, x_max) for 1-D data, (x_min, x_max, y_min, y_max) for 2-D data
REAL_COLOR, GENERATED_COLOR, DISCRIMINATOR_COLOR = "black", "tab:orange", "tab:blue"


def _new_axes(ax: Axes | None, figsize: tuple[float, float] = (5, 4)) -> Axes:
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
    images: torch.Tensor, nrow: int | None = None, ax: Axes | None = None, title: str | None = None
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
    grid = make_grid(images, nrow=nrow, normalize=True, value_range=(-1, 1))  # (3, H', W') in [0, 1]
    ax = _new_axes(ax, figsize=(4, 4))
    if images.shape[1] == 1:
        # make_grid repeats one channel three times; "nearest" keeps pixels sharp and frames compressible
        ax.imshow(grid[0].numpy(), cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    else:
        ax.imshow(grid.permute(1, 2, 0).numpy(), interpolation="nearest")  # (3, H', W') -> (H', W', 3)
    ax.set_axis_off()
    if title is not None:
        ax.set_title(title)
    return ax


# ---------------------------------------------------------------------------------- history


def _as_history(state_or_history: TrainState | History) -> History:
    """The history dict of a TrainState, or the dict itself."""
    history = getattr(state_or_history, "history", state_or_history)
    if not isinstance(history, Mapping):
        raise ValueError(
            f"expected a TrainState or its .history dict (key -> list of floats), got {type(state_or_history).__name__}"
        )
    return history


def _values(history: History, key: str) -> np.ndarray:
    """One history series as an array, with an error that lists the keys there are."""
    if key not in history:
        raise ValueError(
            f"the history has no {key!r}; it has: {', '.join(history) or 'nothing'}. "
            "Pass the .history of a TrainState that has trained for at least one step."
        )
    values = np.asarray(history[key], dtype=float)
    if values.size == 0:
        raise ValueError(f"the history's {key!r} is empty: train for at least one step first")
    return values


def _moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over ``window`` values; the result is ``window - 1`` shorter.

    >>> _moving_average(np.array([1.0, 2.0, 3.0, 4.0]), 2)
    array([1.5, 2.5, 3.5])
    """
    cumulative = np.cumsum(np.insert(values, 0, 0.0))
    return (cumulative[window:] - cumulative[:-window]) / window


def _plot_series(ax: Axes, history: History, keys: Sequence[str], labels: Sequence[str], smooth: int | None) -> None:
    """Each series against the step: faint raw values under a bold moving average (or the raw values alone)."""
    for key, label in zip(keys, labels):
        values = _values(history, key)
        steps = np.arange(1, len(values) + 1)  # history[key][i] was recorded after generator update i + 1
        window = max(1, len(values) // 50) if smooth is None else smooth
        if window < 1:
            raise ValueError(f"smooth must be a window of at least 1 step (1: no smoothing), got {smooth}")
        window = min(window, len(values))
        if window == 1:
            ax.plot(steps, values, label=label)
            continue
        (raw,) = ax.plot(steps, values, alpha=0.25, linewidth=0.8)
        ax.plot(steps[window - 1 :], _moving_average(values, window), color=raw.get_color(), label=label)
    ax.set_xlabel("step")


def plot_history(
    history: TrainState | History,
    ax: Axes | None = None,
    keys: Sequence[str] = ("d_loss", "g_loss"),
    smooth: int | None = None,
) -> Axes:
    """Plot loss curves (or any recorded series) against the training step.

    Args:
        history: a TrainState or its ``.history``.
        ax: where to draw; default: a new figure.
        keys: which series to plot.
        smooth: moving-average window in steps; 1 plots the raw values only; ``None``: 1/50 of the run.
            With a window above 1 the raw values are drawn faintly underneath.

    Returns:
        The axes, with one labelled line per key.
    """
    history = _as_history(history)
    ax = _new_axes(ax)
    _plot_series(ax, history, keys, keys, smooth)
    if all(key.endswith("loss") for key in keys):
        ax.set_ylabel("loss")
    ax.legend()
    return ax


def plot_discriminator_outputs(
    history: TrainState | History, ax: Axes | None = None, smooth: int | None = None, raw_scores: bool = False
) -> Axes:
    """Plot D(x) on real and D(G(z)) on generated examples; at the equilibrium both are 0.5.

    Args:
        history: a TrainState or its ``.history``.
        ax: where to draw; default: a new figure.
        smooth: as in :func:`plot_history`.
        raw_scores: plot the mean raw scores (``real_score``, ``fake_score``) instead of the sigmoid
            outputs; use it for critics (WGAN, hinge, LSGAN), whose scores are not probabilities.

    Returns:
        The axes.
    """
    history = _as_history(history)
    ax = _new_axes(ax)
    if raw_scores:
        _plot_series(ax, history, ("real_score", "fake_score"), ("real", "generated"), smooth)
        ax.set_ylabel("mean score")
    else:
        _plot_series(ax, history, ("d_real", "d_fake"), ("D(x)", "D(G(z))"), smooth)
        # at the equilibrium p_g = p_data, and the best D outputs 1/2 everywhere
        ax.axhline(0.5, color="grey", linestyle="--", linewidth=1, label="equilibrium")
        ax.set_ylim(-0.02, 1.02)
        ax.set_ylabel("mean D output")
    ax.legend()
    return ax


def plot_gradient_norms(history: TrainState | History, ax: Axes | None = None, smooth: int | None = None) -> Axes:
    """Plot the gradient norms of D and G on a log scale: spikes and collapse to zero show up here first.

    Args:
        history: a TrainState or its ``.history``.
        ax: where to draw; default: a new figure.
        smooth: as in :func:`plot_history`.

    Returns:
        The axes.
    """
    history = _as_history(history)
    ax = _new_axes(ax)
    _plot_series(ax, history, ("d_grad_norm", "g_grad_norm"), ("D", "G"), smooth)
    ax.set_yscale("log")
    ax.set_ylabel("gradient norm")
    ax.legend()
    return ax


def plot_training(state_or_history: TrainState | History, smooth: int | None = None) -> Figure:
    """Losses, D's outputs and gradient norms side by side, in a new 1 x 3 figure.

    Args:
        state_or_history: a TrainState (a critic's raw scores are then plotted instead of sigmoid
            outputs) or a ``.history`` dict.
        smooth: as in :func:`plot_history`.

    Returns:
        The figure.
    """
    history = _as_history(state_or_history)
    loss = getattr(state_or_history, "loss", None)
    raw_scores = loss is not None and not loss.uses_sigmoid
    figure, (loss_ax, output_ax, norm_ax) = plt.subplots(1, 3, figsize=(14, 3.6), layout="constrained")
    plot_history(history, ax=loss_ax, smooth=smooth)
    plot_discriminator_outputs(history, ax=output_ax, smooth=smooth, raw_scores=raw_scores)
    plot_gradient_norms(history, ax=norm_ax, smooth=smooth)
    return figure


# --------------------------------------------------------------------------------- toy data


def _check_points(points: torch.Tensor, distribution: ToyDistribution | None) -> None:
    if points.dim() != 2 or points.shape[1] not in (1, 2):
        hint = " For images use image_grid." if points.dim() == 4 else ""
        raise ValueError(f"plot_toy expects points of shape (N, 2) or (N, 1), got {tuple(points.shape)}.{hint}")
    if distribution is not None and distribution.dim != points.shape[1]:
        raise ValueError(
            f"the points have {points.shape[1]} coordinate(s) but the {distribution.name!r} distribution "
            f"has {distribution.dim}; pass the distribution the generator was trained on"
        )


def default_bounds(points: torch.Tensor, distribution: ToyDistribution | None) -> list[float]:
    """Per coordinate (low, high), flattened: the samples and the real modes with a margin."""
    extent = [points]
    if distribution is not None:
        centers = distribution.centers_tensor()
        extent += [centers - 4 * distribution.std, centers + 4 * distribution.std]
    everything = torch.cat(extent)  # (M, dim)
    low, high = everything.min(0).values, everything.max(0).values
    margin = 0.1 * (high - low) + 0.1
    return [value for pair in zip((low - margin).tolist(), (high + margin).tolist()) for value in pair]


@torch.no_grad()
def discriminator_scores(discriminator: nn.Module, points: torch.Tensor, sigmoid: bool) -> np.ndarray:
    """D on ``points`` ``(N, dim)`` in eval mode, without gradients; the training flag is restored after."""
    parameter = next(discriminator.parameters(), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
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
        raise ValueError(f"resolution must be at least 2 grid points per axis, got {resolution}")
    dim = points.shape[1]
    bounds = list(bounds) if bounds is not None else default_bounds(points, distribution)
    if len(bounds) != 2 * dim:
        expected = "(x_min, x_max, y_min, y_max)" if dim == 2 else "(x_min, x_max)"
        raise ValueError(f"bounds for {dim}-D points are {expected}, got {tuple(bounds)}")
    ax = _new_axes(ax)
    score_label = "D(x)" if sigmoid else "score"
    if dim == 1:
        return _plot_toy_1d(ax, points, distribution, discriminator, bounds, resolution, sigmoid, score_label)

    if discriminator is not None:
        xs = torch.linspace(bounds[0], bounds[1], resolution)
        ys = torch.linspace(bounds[2], bounds[3], resolution)
        grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")  # (R, R) each; row i is y = ys[i]
        grid = torch.stack([grid_x.reshape(-1), grid_y.reshape(-1)], dim=1)  # (R * R, 2)
        scores = discriminator_scores(discriminator, grid, sigmoid).reshape(resolution, resolution)
        image = ax.imshow(
            scores, origin="lower", extent=tuple(bounds), cmap="RdBu_r",
            vmin=0.0 if sigmoid else None, vmax=1.0 if sigmoid else None, alpha=0.85,
        )
        ax.figure.colorbar(image, ax=ax, label=score_label)
    if distribution is not None:
        real = distribution.sample(1000, generator=torch.Generator().manual_seed(0))  # the same points every call
        ax.scatter(real[:, 0], real[:, 1], s=2, color=REAL_COLOR, alpha=0.3, label="real")
        centers = distribution.centers_tensor()
        ax.scatter(centers[:, 0], centers[:, 1], s=40, marker="x", color=REAL_COLOR, label="modes")
    ax.scatter(points[:, 0], points[:, 1], s=6, color=GENERATED_COLOR, edgecolors="none", label="generated")
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
    bins = np.linspace(bounds[0], bounds[1], 51)  # fixed bins, so that animation frames compare
    ax.hist(points[:, 0].numpy(), bins=bins, density=True, color=GENERATED_COLOR, alpha=0.5, label="generated")
    if distribution is not None:
        density = distribution.log_density(xs).exp()  # (R,)
        ax.plot(xs[:, 0], density, color=REAL_COLOR, linestyle=":", label="real density")
    ax.set_xlim(bounds[0], bounds[1])
    ax.set_xlabel("x")
    ax.set_ylabel("density")
    handles, labels = ax.get_legend_handles_labels()
    if discriminator is not None:
        twin = ax.twinx()
        twin.plot(xs[:, 0], discriminator_scores(discriminator, xs, sigmoid), color=DISCRIMINATOR_COLOR,
                  linestyle="--", label=score_label)
        if sigmoid:
            twin.set_ylim(-0.02, 1.02)
        twin.set_ylabel(score_label)
        more_handles, more_labels = twin.get_legend_handles_labels()
        handles, labels = handles + more_handles, labels + more_labels
    ax.legend(handles, labels, loc="upper right", fontsize="small")
    return ax


def save_figure(figure: Figure, path: str | os.PathLike, dpi: int = 150) -> Path:
    """Save ``figure`` to ``path`` (the format from the suffix), creating folders; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=dpi, bbox_inches="tight")
    return path
