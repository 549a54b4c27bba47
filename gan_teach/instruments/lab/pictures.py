"""The lab's pictures: what the networks look like on the plane, captured as plain arrays, then drawn.

:func:`discriminator_heatmap` (D over the plane), :func:`generator_manifold` (how G bends a grid of
latent points) and :func:`generator_gradients` (where the generator loss pushes each fake) are gathered
with the curves into a :class:`LabFrame` by :func:`capture_frame` and drawn by :func:`draw_frame`.
:func:`lab_animation_html` turns frames into a player that works in the static book.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from matplotlib.animation import FuncAnimation
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ...animation import html_player
from ...data import toy_distribution
from ...state import TrainState
from ...utils import evaluating, unwrap
from ...viz import (
    DISCRIMINATOR_COLOR,
    GENERATED_COLOR,
    REAL_COLOR,
    discriminator_scores,
)
from .session import LabSession, one_thread

__all__ = [
    "LAYERS",
    "lab_bounds",
    "discriminator_heatmap",
    "generator_manifold",
    "generator_gradients",
    "LabFrame",
    "capture_frame",
    "draw_plane",
    "draw_curves",
    "draw_frame",
    "render_png",
    "new_lab_figure",
    "lab_animation_html",
]

#: The layers of the picture, in drawing order; each has a checkbox in the widget.
LAYERS = (
    "heatmap",
    "manifold",
    "real",
    "fake",
    "gradients",
    "curves",
    "modes",
)


def lab_bounds(dataset: str) -> tuple[float, float, float, float]:
    """A fixed square view around a 2-D toy distribution's modes: ``(x_min, x_max, y_min, y_max)``.

    >>> lab_bounds("ring")
    (-3.0, 3.0, -3.0, 3.0)
    """
    centers = toy_distribution(dataset).centers_tensor()
    half = float(centers.abs().max()) * 1.5
    return (-half, half, -half, half)


def _plane_grid(bounds: Sequence[float], resolution: int) -> torch.Tensor:
    """Points of a ``resolution x resolution`` grid, row by row from the bottom: ``(R * R, 2)``."""
    xs = torch.linspace(bounds[0], bounds[1], resolution)
    ys = torch.linspace(bounds[2], bounds[3], resolution)
    grid_y, grid_x = torch.meshgrid(
        ys, xs, indexing="ij"
    )  # (R, R) each; row i is y = ys[i]
    return torch.stack([grid_x.reshape(-1), grid_y.reshape(-1)], dim=1)


def discriminator_heatmap(
    state: TrainState, bounds: Sequence[float], resolution: int = 40
) -> np.ndarray:
    """D over the plane: ``sigmoid(D)`` in [0, 1] for the BCE losses, the raw score for critics.

    Args:
        state: the lab's state (its ``loss.uses_sigmoid`` decides the scale).
        bounds: ``(x_min, x_max, y_min, y_max)``.
        resolution: grid points per axis.

    Returns:
        ``(resolution, resolution)``; row ``i`` is the ``i``-th y from the bottom (``imshow(origin="lower")``).
    """
    if resolution < 2:
        raise ValueError(
            f"resolution must be at least 2 grid points per axis, got {resolution}"
        )
    scores = discriminator_scores(
        unwrap(state.discriminator),
        _plane_grid(bounds, resolution),
        state.loss.uses_sigmoid,
    )
    return scores.reshape(resolution, resolution)


def generator_manifold(
    state: TrainState,
    num_lines: int = 11,
    points_per_line: int = 41,
    latent_range: float = 2.0,
) -> tuple[np.ndarray, np.ndarray]:
    """How G bends latent space: a square grid of latent points, mapped through G, as two families of lines.

    The grid lies in the plane of latent coordinates 0 and 1 (the others are 0), over
    ``[-latent_range, latent_range]^2``; with ``latent_dim = 2`` that is the whole of G's input.

    Args:
        state: the lab's state (G is run in eval mode).
        num_lines: lines per family.
        points_per_line: points along each line.
        latent_range: half the side of the latent square (2: two standard deviations of the noise).

    Returns:
        ``(rows, columns)``, each ``(num_lines, points_per_line, 2)``: the images of the lines of constant
        ``z_1`` and of constant ``z_0``.
    """
    latent_dim = unwrap(state.generator).latent_dim
    if latent_dim < 2:
        raise ValueError(
            f"the manifold needs a latent space of at least 2 dimensions, got latent_dim={latent_dim}"
        )
    line = torch.linspace(
        -latent_range, latent_range, points_per_line
    )  # (P,)
    across = torch.linspace(-latent_range, latent_range, num_lines)  # (L,)
    z = torch.zeros(
        2, num_lines, points_per_line, latent_dim
    )  # (2, L, P, latent_dim)
    z[0, :, :, 0], z[0, :, :, 1] = (
        line[None, :],
        across[:, None],
    )  # rows: z_1 fixed, z_0 varies
    z[1, :, :, 0], z[1, :, :, 1] = (
        across[:, None],
        line[None, :],
    )  # columns: z_0 fixed, z_1 varies
    with evaluating(state.sampling_generator) as generator, torch.no_grad():
        images = (
            generator(z.reshape(-1, latent_dim).to(state.device))
            .float()
            .cpu()
        )  # (2 * L * P, 2)
    images = images.reshape(2, num_lines, points_per_line, -1).numpy()
    return images[0], images[1]


def generator_gradients(
    state: TrainState, points: torch.Tensor
) -> torch.Tensor:
    """The gradient of the generator loss with respect to each generated point, ``(N, 2)``.

    Entry ``i`` is the gradient of point ``i``'s own loss, ``state.loss.generator_loss`` on its score
    alone (the batch loss is their mean, so this is N times the batch gradient). A generator step moves
    each fake along *minus* this gradient (through G's weights, so only approximately): the lab draws
    ``-gradient`` as arrows. D is not changed and its parameters get no gradient. The per-point reading
    assumes that D scores each point on its own (true for the lab's MLPs; not with ``minibatch_std``).

    Args:
        state: the lab's state.
        points: generated points ``(N, 2)``.

    Returns:
        ``(N, 2)`` on the CPU.
    """
    discriminator = unwrap(state.discriminator)
    points = points.detach().float().to(state.device).requires_grad_(True)
    with evaluating(discriminator), torch.enable_grad():
        scores = discriminator(points)  # (N,)
        # The batch loss is a mean over points, and each score depends on its own point only, so
        # N times its gradient holds every point's own gradient.
        batch_loss = state.loss.generator_loss(scores.float()) * len(points)
        (gradients,) = torch.autograd.grad(batch_loss, points)  # (N, 2)
    return gradients.cpu()


@dataclass
class LabFrame:
    """Everything one picture of the lab shows, captured from a session (plain arrays, no networks)."""

    updates: int
    title: str
    bounds: tuple[float, float, float, float]
    real: np.ndarray  # (N, 2) real points
    fake: np.ndarray  # (M, 2) G on the fixed noise
    heatmap: np.ndarray  # (R, R) D over the plane
    heatmap_is_probability: (
        bool  # sigmoid(D) in [0, 1], or a critic's raw score
    )
    manifold: tuple[
        np.ndarray, np.ndarray
    ]  # two families of lines, each (L, P, 2)
    arrow_tails: np.ndarray  # (A, 2) the fakes that get an arrow
    arrows: np.ndarray  # (A, 2) minus the generator-loss gradient at each
    log: dict[str, list[float]] = field(default_factory=dict)
    quality: list[tuple[int, int, float]] = field(default_factory=list)
    num_modes: int = 0


def capture_frame(
    session: LabSession,
    resolution: int = 40,
    num_arrows: int = 64,
    num_real: int = 256,
) -> LabFrame:
    """Compute every layer of the current picture: the networks' part of drawing (no matplotlib).

    Args:
        session: the lab run to picture.
        resolution: heat-map grid points per axis.
        num_arrows: how many of the fixed fakes get an arrow (the first ones, so the same every frame).
        num_real: how many real points to draw (a fixed sample, the same every frame).

    Returns:
        A :class:`LabFrame`, ready for :func:`draw_frame`, :func:`draw_plane` or :func:`lab_animation_html`.
    """
    with one_thread():
        return _capture_frame(session, resolution, num_arrows, num_real)


def _capture_frame(
    session: LabSession, resolution: int, num_arrows: int, num_real: int
) -> LabFrame:
    bounds = lab_bounds(session.settings.dataset)
    fakes = session.fixed_fakes()  # (512, 2)
    real = session.distribution.sample(
        num_real, generator=torch.Generator().manual_seed(0)
    )  # the same points every frame
    tails = fakes[:num_arrows]
    settings = session.settings
    return LabFrame(
        updates=session.updates,
        title=f"{settings.dataset}, {settings.loss}, k={settings.d_steps}: {session.updates} updates",
        bounds=bounds,
        real=real.numpy(),
        fake=fakes.numpy(),
        heatmap=discriminator_heatmap(session.state, bounds, resolution),
        heatmap_is_probability=session.state.loss.uses_sigmoid,
        manifold=generator_manifold(session.state),
        arrow_tails=tails.numpy(),
        arrows=(-generator_gradients(session.state, tails)).numpy(),
        log={key: list(values) for key, values in session.log.items()},
        quality=list(session.quality),
        num_modes=session.distribution.num_modes,
    )


def _lab_axes(figure: Figure) -> dict:
    """The lab's layout: the plane on the left, the curves and the modes stacked on the right."""
    if not hasattr(
        figure, "_lab_axes"
    ):  # fixed positions: a constrained layout would cost 5 times the drawing
        figure._lab_axes = {
            "plane": figure.add_axes(
                (0.01, 0.08, 0.5, 0.84)
            ),  # (left, bottom, width, height) in figure fractions
            "curves": figure.add_axes((0.58, 0.58, 0.4, 0.34)),
            "modes": figure.add_axes((0.58, 0.12, 0.4, 0.34)),
        }
    return figure._lab_axes


def _check_layers(layers: Sequence[str]) -> None:
    unknown = set(layers) - set(LAYERS)
    if unknown:
        raise ValueError(
            f"unknown layers {sorted(unknown)}; the layers are {', '.join(LAYERS)}"
        )


def draw_plane(
    axis: Axes,
    frame: LabFrame,
    layers: Sequence[str] = LAYERS,
    arrow_scale: float = 0.5,
    max_arrow: float = 1.0,
) -> Axes:
    """The plane: D's heat map, G's manifold, real and fake points, and the arrows; only the named ``layers``.

    Args:
        axis: where to draw (not cleared here).
        frame: what to draw (from :func:`capture_frame`).
        layers: any of :data:`LAYERS` (``curves`` and ``modes`` are ignored here).
        arrow_scale: an arrow is ``arrow_scale`` times minus the gradient, in data units...
        max_arrow: ...cut to at most this length, so that one huge gradient does not hide the rest.

    Returns:
        ``axis``.
    """
    _check_layers(layers)
    if "heatmap" in layers:
        heatmap = np.nan_to_num(
            frame.heatmap, nan=0.5 if frame.heatmap_is_probability else 0.0
        )
        limit = (
            float(np.abs(heatmap).max()) or 1.0
        )  # a critic's scores: a symmetric colour scale around 0
        probability = frame.heatmap_is_probability
        axis.imshow(
            heatmap,
            origin="lower",
            extent=frame.bounds,
            cmap="RdBu_r",
            alpha=0.8,
            interpolation="nearest",
            vmin=0.0 if probability else -limit,
            vmax=1.0 if probability else limit,
        )
    if "manifold" in layers:
        lines = LineCollection(
            list(frame.manifold[0]) + list(frame.manifold[1]),
            colors=GENERATED_COLOR,
            linewidths=0.5,
            alpha=0.5,
        )  # one artist for all the grid lines: faster
        axis.add_collection(lines)
    if "real" in layers:
        axis.scatter(
            frame.real[:, 0],
            frame.real[:, 1],
            s=3,
            color=REAL_COLOR,
            alpha=0.5,
            label="real",
        )
    if "fake" in layers:
        axis.scatter(
            frame.fake[:, 0],
            frame.fake[:, 1],
            s=4,
            color=GENERATED_COLOR,
            label="fake",
        )
    if "gradients" in layers:
        arrows = np.nan_to_num(arrow_scale * frame.arrows)
        lengths = np.linalg.norm(arrows, axis=1, keepdims=True)
        arrows = arrows * np.minimum(
            1.0, max_arrow / np.maximum(lengths, 1e-12)
        )
        axis.quiver(
            frame.arrow_tails[:, 0],
            frame.arrow_tails[:, 1],
            arrows[:, 0],
            arrows[:, 1],
            angles="xy",
            scale_units="xy",
            scale=1.0,
            width=0.006,
            color="tab:purple",
        )
    axis.set(
        xlim=frame.bounds[:2],
        ylim=frame.bounds[2:],
        aspect="equal",
        xticks=[],
        yticks=[],
    )
    axis.set_title(frame.title, fontsize=8)
    scale = (
        "D(x): blue 0 (fake) to red 1 (real)"
        if frame.heatmap_is_probability
        else "critic score: blue low, red high"
    )
    axis.set_xlabel(scale, fontsize=7)
    return axis


def draw_curves(
    curves: Axes,
    modes: Axes,
    frame: LabFrame,
    layers: Sequence[str] = LAYERS,
) -> None:
    """The curves over updates: losses and D's mean outputs on ``curves``, mode coverage and quality on ``modes``."""
    _check_layers(layers)
    updates = np.asarray(frame.log.get("update", []))
    if "curves" in layers and len(updates):
        for key, color, label in (
            ("d_real", REAL_COLOR, "D(x)"),
            ("d_fake", GENERATED_COLOR, "D(G(z))"),
            ("d_loss", DISCRIMINATOR_COLOR, "D loss"),
            ("g_loss", "tab:green", "G loss"),
        ):
            values = np.asarray(frame.log[key])
            present = np.isfinite(
                values
            )  # a D step has no G loss, a G step no D loss
            curves.plot(
                updates[present],
                values[present],
                color=color,
                linewidth=0.8,
                label=label,
            )
        curves.legend(fontsize=6, loc="upper left", ncol=2)
    curves.set_title("losses and D's mean outputs", fontsize=8)
    if "modes" in layers and frame.quality:
        rows = np.asarray(
            frame.quality
        )  # (Q, 3): update, modes covered, high-quality share
        modes.plot(
            rows[:, 0],
            rows[:, 1] / max(frame.num_modes, 1),
            color=REAL_COLOR,
            label="modes covered",
        )
        modes.plot(
            rows[:, 0],
            rows[:, 2],
            color=GENERATED_COLOR,
            label="high-quality share",
        )
        modes.set_ylim(-0.05, 1.05)
    modes.set_title(
        "share of modes covered (black), high-quality share (orange)",
        fontsize=7,
    )
    modes.set_xlabel("updates", fontsize=7)
    for axis in (curves, modes):
        axis.tick_params(labelsize=6)
        axis.xaxis.set_major_locator(
            MaxNLocator(4)
        )  # few tick labels: text is most of the drawing time
        axis.yaxis.set_major_locator(MaxNLocator(3))


def draw_frame(
    figure: Figure,
    frame: LabFrame,
    layers: Sequence[str] = LAYERS,
    **plane_options,
) -> None:
    """The whole lab picture on ``figure``: :func:`draw_plane` on the left, :func:`draw_curves` on the right.

    Args:
        figure: a figure; the lab's three axes are made on first use and cleared on every call.
        frame: what to draw (from :func:`capture_frame`).
        layers: any of :data:`LAYERS`.
        **plane_options: ``arrow_scale``, ``max_arrow`` of :func:`draw_plane`.
    """
    _check_layers(layers)
    axes = _lab_axes(figure)
    for axis in axes.values():
        axis.clear()
    draw_plane(axes["plane"], frame, layers, **plane_options)
    draw_curves(axes["curves"], axes["modes"], frame, layers)


def render_png(figure: Figure, dpi: int = 72) -> bytes:
    """The figure as PNG bytes (for an ``ipywidgets.Image``)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def new_lab_figure(figsize: tuple[float, float] = (7.0, 3.5)) -> Figure:
    """A figure that pyplot does not track: reused for every picture, never shown twice, never leaked."""
    return Figure(figsize=figsize)


def lab_animation_html(
    frames: Sequence[LabFrame],
    layers: Sequence[str] = LAYERS,
    interval: int = 300,
    dpi: int = 60,
    frame_format: str = "jpeg",
    **draw_options,
) -> str:
    """A self-contained HTML player of lab frames (for the static book): :func:`draw_frame` on each frame.

    Args:
        frames: captured frames, e.g. every 50 updates of a run.
        layers: the layers to show.
        interval: milliseconds between frames.
        dpi: resolution of the embedded images (small keeps the page small).
        frame_format: ``"jpeg"`` (26 KB a frame at dpi 60, measured) or ``"png"`` (59 KB: sharper points).
        **draw_options: passed to :func:`draw_frame`.

    Returns:
        HTML that loads nothing from the network.
    """
    if not frames:
        raise ValueError(
            "no frames to animate: capture some with capture_frame(session) while stepping"
        )
    figure = new_lab_figure()
    figure.set_dpi(dpi)
    animation = FuncAnimation(
        figure,
        lambda frame: draw_frame(figure, frame, layers, **draw_options),
        frames=list(frames),
        init_func=lambda: [],
        interval=interval,
        blit=False,
    )
    return html_player(animation, frame_format)
