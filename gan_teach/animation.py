"""Animations of training progress that play in a static HTML page (matplotlib's ``to_jshtml``).

A notebook's widgets need a running kernel; the rendered book has none. These players embed every
frame in the page, so the book shows training unfold without Python behind it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.animation import FuncAnimation
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .data import ToyDistribution
from .viz import Bounds, default_bounds, image_grid, plot_toy, to_cpu

__all__ = [
    "progress_animation",
    "animation_html",
    "html_player",
    "offline_player",
]

# matplotlib's player draws its buttons with Font Awesome icons loaded from a CDN: offline, or in a book
# that must not depend on the network, the buttons would be blank. Plain characters need no font file.
_BUTTON_SYMBOLS = {
    "fa fa-minus": "&minus;",
    "fa fa-plus": "+",
    "fa fa-fast-backward": "|&#9664;&#9664;",
    "fa fa-step-backward": "|&#9664;",
    "fa fa-play fa-flip-horizontal": "&#9664;",
    "fa fa-pause": "||",
    "fa fa-play": "&#9654;",
    "fa fa-step-forward": "&#9654;|",
    "fa fa-fast-forward": "&#9654;&#9654;|",
}
_ICON = re.compile(r'<i class="(fa [^"]+)"></i>')
_REMOTE_STYLESHEET = re.compile(
    r'<link rel="stylesheet"\s+href="https?://[^"]*"\s*/?>'
)


def offline_player(html: str) -> str:
    """matplotlib's ``to_jshtml`` player without its one remote file: text buttons instead of CDN icons.

    >>> offline_player('<link rel="stylesheet"\\nhref="https://cdn.example/fa.css"><i class="fa fa-play"></i>')
    '&#9654;'
    """
    html = _REMOTE_STYLESHEET.sub("", html)
    return _ICON.sub(
        lambda match: _BUTTON_SYMBOLS.get(match.group(1), match.group(0)),
        html,
    )


def _check_progress(samples: Sequence[tuple[int, torch.Tensor]]) -> None:
    if len(samples) == 0:
        raise ValueError(
            "there are no samples to animate: train first (a TrainState's .samples gains one per epoch)"
        )
    first = samples[0]
    if not (
        isinstance(first, (tuple, list))
        and len(first) == 2
        and torch.is_tensor(first[1])
    ):
        raise ValueError(
            "expected a list of (step, tensor) pairs, like a TrainState's .samples, "
            f"got a list of {type(first).__name__}"
        )
    shape = tuple(first[1].shape)
    if len(shape) != 4 and not (len(shape) == 2 and shape[1] in (1, 2)):
        raise ValueError(
            f"each sample tensor must be images (N, C, H, W) or points (N, 2) / (N, 1), got {shape}"
        )


def _frame_indices(count: int, max_frames: int) -> list[int]:
    """At most ``max_frames`` indices from ``range(count)``, evenly spread, first and last included.

    >>> _frame_indices(100, 4)
    [0, 33, 66, 99]
    """
    if max_frames < 1:
        raise ValueError(f"max_frames must be at least 1, got {max_frames}")
    if count <= max_frames:
        return list(range(count))
    return (
        np.linspace(0, count - 1, max_frames).round().astype(int).tolist()
    )  # spacing > 1: all distinct


def progress_animation(
    samples: Sequence[tuple[int, torch.Tensor]],
    distribution: ToyDistribution | None = None,
    interval: int = 200,
    max_frames: int = 40,
    bounds: Bounds | None = None,
    nrow: int | None = None,
    ax: Axes | None = None,
    figsize: tuple[float, float] = (4.0, 4.0),
    dpi: int = 72,
) -> FuncAnimation:
    """Animate the fixed-noise samples as training went: image grids or toy scatters, titled by step.

    Args:
        samples: ``(step, tensor)`` pairs, e.g. a TrainState's ``.samples``; tensors are images
            ``(N, C, H, W)`` in ``[-1, 1]`` or points ``(N, 2)`` / ``(N, 1)``.
        distribution: for points, the real distribution to draw underneath.
        interval: milliseconds between frames.
        max_frames: at most this many frames, evenly spread over the samples (first and last kept).
        bounds: for points, the fixed view (see :func:`~gan_teach.viz.plot_toy`); default: fit every frame.
        nrow: for images, images per row of the grid.
        ax: where to draw; default: a new figure that pyplot does not track.
        figsize, dpi: size of a new figure; a small dpi keeps embedded HTML small.

    Returns:
        The animation; in a notebook, show it with ``IPython.display.HTML(animation_html(samples))``.
    """
    _check_progress(samples)
    frames = [
        (int(step), to_cpu(tensor))
        for step, tensor in (
            samples[i] for i in _frame_indices(len(samples), max_frames)
        )
    ]
    is_images = frames[0][1].dim() == 4
    if (
        not is_images and bounds is None
    ):  # one view for every frame, so that movement is visible
        bounds = default_bounds(
            torch.cat([points for _, points in frames]), distribution
        )
    if ax is None:
        figure = Figure(
            figsize=figsize, dpi=dpi, layout="constrained"
        )  # untracked by pyplot: no stray static copy
        ax = figure.subplots()

    def draw(frame: tuple[int, torch.Tensor]) -> list:
        step, tensor = frame
        ax.clear()
        if is_images:
            image_grid(tensor, nrow=nrow, ax=ax)
        else:
            plot_toy(tensor, distribution, ax=ax, bounds=bounds)
        ax.set_title(f"step {step}")
        return []

    return FuncAnimation(
        ax.figure,
        draw,
        frames=frames,
        init_func=lambda: [],
        interval=interval,
        blit=False,
    )


def animation_html(
    samples: Sequence[tuple[int, torch.Tensor]],
    distribution: ToyDistribution | None = None,
    frame_format: str | None = None,
    **options: Any,
) -> str:
    """The progress animation as a self-contained HTML player, for a static book or a notebook.

    Args:
        samples: ``(step, tensor)`` pairs, as for :func:`progress_animation`.
        distribution: as for :func:`progress_animation`.
        frame_format: ``"png"`` or ``"jpeg"``; default: JPEG for images (early, noisy samples are
            about 4 times smaller than as PNG), PNG for points (sharp markers).
        **options: any other argument of :func:`progress_animation` (``interval``, ``max_frames``, ...).

    Returns:
        HTML with a ``<script>`` and every frame embedded as an image; it loads nothing from the network.
    """
    _check_progress(samples)
    if frame_format is None:
        frame_format = "jpeg" if samples[0][1].dim() == 4 else "png"
    if frame_format not in ("png", "jpeg"):
        raise ValueError(
            f"frame_format must be 'png' or 'jpeg', got {frame_format!r}"
        )
    animation = progress_animation(samples, distribution, **options)
    html = html_player(animation, frame_format)
    if options.get("ax") is not None:
        plt.close(
            options["ax"].figure
        )  # a pyplot figure would otherwise also show as a still
    return html


def html_player(
    animation: FuncAnimation, frame_format: str = "jpeg", mode: str = "once"
) -> str:
    """Any matplotlib animation as a self-contained HTML player: every frame embedded, no network.

    Args:
        animation: the animation (its figure is drawn once per frame here).
        frame_format: ``"jpeg"`` (small) or ``"png"`` (sharp points and lines).
        mode: what the player does at the last frame: ``"once"`` (stop), ``"loop"`` or ``"reflect"``.

    Returns:
        HTML for a static page; see :func:`offline_player`.
    """
    with matplotlib.rc_context({"animation.frame_format": frame_format}):
        return offline_player(animation.to_jshtml(default_mode=mode))
