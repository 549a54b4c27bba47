"""The GAN lab: watch Algorithm 1 one update at a time on 2-D toy data, after GAN Lab (Kahng et al. 2019).

Three layers, each usable alone:

1. **Stepping.** :class:`LabSettings` maps the lab's controls to a :class:`~gan_teach.config.TrainConfig`;
   :func:`create_lab_state` builds the networks with :func:`~gan_teach.train.create_state` (and swaps in
   plain SGD if asked). A full step is the library's :func:`~gan_teach.train.train_step`, unchanged.
   :func:`~gan_teach.train.discriminator_step` and :func:`~gan_teach.train.generator_step` are its two
   numbered blocks (``train_step`` calls them), so a student can move one player at a time, and ``k``
   discriminator steps then one generator step are exactly one ``train_step`` (a test checks it).
2. **Pictures.** :func:`discriminator_heatmap` (D over the plane), :func:`generator_manifold` (how G
   bends a grid of latent points), :func:`generator_gradients` (where the generator loss pushes each fake),
   gathered with the curves into a :class:`LabFrame` by :func:`capture_frame` and drawn by :func:`draw_frame`.
   :func:`lab_animation_html` turns frames into a player that works in the static book.
3. **The widget.** :class:`GANLab` is thin ipywidgets wiring over 1 and 2: buttons for one D step, one G
   step, one full step, run/pause (an ``ipywidgets.Play``), reset, and a checkbox per layer. The picture is
   a PNG from one reused matplotlib figure, shown in an ``ipywidgets.Image``.

Speed, measured with ``python -m gan_teach.lab`` (:func:`measure_speed`) on two CPU cores shared with other
jobs: with the defaults (width 64, batch 128, a 40 x 40 heat map) the widget ran 60 to 100 full steps per
second while redrawing every 10 steps, and 7 to 13 while redrawing after every step. Drawing dominates: a
step takes about 4 ms, a picture about 100 ms, most of it matplotlib's text. The Play button ticks every
200 ms, so that ticks do not queue up behind the pictures: 50 steps per second at 10 steps per frame; raise
"steps per frame" to go faster. The networks run on one thread (:func:`one_thread`): for networks this
small, two threads were 7 to 10 times slower.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import math
import time
from dataclasses import dataclass, field
from typing import Sequence

import matplotlib
import numpy as np
import torch
from matplotlib.animation import FuncAnimation
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .animation import offline_player
from .config import TrainConfig
from .data import TOY_DISTRIBUTIONS, toy_distribution
from .losses import LOSSES
from .metrics import toy_metrics
from .train import TrainState, create_state, discriminator_step, generator_step, train_step, unwrap
from .viz import DISCRIMINATOR_COLOR, GENERATED_COLOR, REAL_COLOR, _discriminator_output

__all__ = [
    "LAB_DATASETS", "OPTIMIZERS", "LAYERS", "LabSettings", "create_lab_state", "discriminator_step", "generator_step",
    "one_thread", "LabSession", "lab_bounds", "discriminator_heatmap", "generator_manifold", "generator_gradients",
    "LabFrame", "capture_frame", "draw_plane", "draw_curves", "draw_frame", "render_png", "new_lab_figure",
    "lab_animation_html", "GANLab", "measure_speed",
]

LAB_DATASETS = tuple(name for name, distribution in TOY_DISTRIBUTIONS.items() if distribution.dim == 2)
OPTIMIZERS = ("adam", "sgd")
# The layers of the picture, in drawing order; each has a checkbox in the widget.
LAYERS = ("heatmap", "manifold", "real", "fake", "gradients", "curves", "modes")


# --------------------------------------------------------------------------------- settings


@dataclass
class LabSettings:
    """The lab's controls. :meth:`to_config` turns them into the library's :class:`TrainConfig`."""

    dataset: str = "ring"  # a 2-D toy distribution: ring or grid
    loss: str = "non-saturating"  # minimax, non-saturating, lsgan, hinge or wgan-gp
    optimizer: str = "adam"  # "adam" (the library's) or "sgd" (plain gradient descent, no momentum)
    lr_generator: float = 1e-3  # learning rate of G
    lr_discriminator: float = 1e-3  # learning rate of D
    d_steps: int = 1  # k: discriminator updates per generator update
    width: int = 64  # hidden units per layer of both MLPs: small, so that the lab stays fast
    latent_dim: int = 2  # size of z; with 2 the manifold picture shows all of latent space, as in GAN Lab
    batch_size: int = 128  # points per update
    beta1: float | None = None  # Adam's betas; None: the library's recipe (0.5, 0.999; 0.0, 0.9 for wgan-gp)
    beta2: float | None = None
    seed: int = 0  # seeds the weights, the noise and the real batches

    def validate(self) -> "LabSettings":
        """Raise ``ValueError`` with the allowed choices if a setting is out of range; return self."""
        if self.dataset not in LAB_DATASETS:
            raise ValueError(f"the lab draws 2-D data: dataset must be one of {', '.join(LAB_DATASETS)}, "
                             f"got {self.dataset!r}")
        if self.loss not in LOSSES:
            raise ValueError(f"unknown loss {self.loss!r}; choose one of: {', '.join(LOSSES)}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        return self

    def to_config(self) -> TrainConfig:
        """The resolved :class:`TrainConfig` these settings describe (MLPs on the CPU, constant learning rates).

        >>> LabSettings(loss="wgan-gp").to_config().beta1  # the recipe's Adam betas for WGAN-GP
        0.0
        """
        self.validate()
        return TrainConfig(
            dataset=self.dataset, loss=self.loss, model="mlp", latent_dim=self.latent_dim, width=self.width,
            steps=1,  # TrainConfig needs a length; the lab steps by hand and never calls train()
            batch_size=self.batch_size, lr_generator=self.lr_generator, lr_discriminator=self.lr_discriminator,
            beta1=self.beta1, beta2=self.beta2, d_steps=self.d_steps,
            lr_decay=False,  # the rates stay what the sliders say
            generator_batch_norm=False,  # the drawn G is the trained G (batch norm's eval mode would differ)
            seed=self.seed,
            device="cpu",  # tiny networks: faster on the CPU than a GPU's kernel launches
            num_fixed_samples=512,  # the fakes that are drawn and scored for mode coverage
        ).resolve()


def create_lab_state(settings: LabSettings) -> TrainState:
    """:func:`create_state` for ``settings.to_config()``; with ``optimizer="sgd"`` both Adams become SGD.

    Args:
        settings: the lab's settings.

    Returns:
        A fresh :class:`TrainState` (seeded by ``settings.seed``).
    """
    state = create_state(settings.to_config())
    if settings.optimizer == "sgd":
        state.generator_optimizer = torch.optim.SGD(state.generator.parameters(), lr=settings.lr_generator)
        state.discriminator_optimizer = torch.optim.SGD(state.discriminator.parameters(), lr=settings.lr_discriminator)
    return state


# --------------------------------------------------------------------------------- stepping


@contextlib.contextmanager
def one_thread():
    """Run torch on one CPU thread inside the block, then restore the previous count.

    The lab's networks are tiny: with several threads, synchronising them costs more than the work.
    Measured on two busy cores: 4 ms a full step with one thread, 28 to 44 ms with two.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


class LabSession:
    """A lab run: the state, a stream of real batches, and a log of every update for the curves.

    Args:
        settings: the lab's settings (default :class:`LabSettings`).
        quality_every: score the fixed fakes with :func:`~gan_teach.metrics.toy_metrics` every this many updates.

    Attributes:
        settings, state, distribution: what is being trained, on what.
        updates: the number of button presses' worth of work so far: D steps, G steps and full steps each count 1.
        diverged: True once a loss became NaN or infinite (lower the learning rates and reset).
        log: ``{"update": [...], "d_loss": [...], ...}``: every metric, with NaN where an update did not compute it.
        quality: ``(update, modes_covered, high_quality_share)`` rows.
    """

    METRICS = ("d_loss", "g_loss", "d_real", "d_fake")

    def __init__(self, settings: LabSettings | None = None, *, quality_every: int = 10) -> None:
        self.quality_every = quality_every
        self.reset(settings or LabSettings())

    def reset(self, settings: LabSettings | None = None) -> None:
        """Start again with fresh networks (seeded), optionally with new settings."""
        self.settings = dataclasses.replace(settings or self.settings).validate()
        self.state = create_lab_state(self.settings)
        self.distribution = toy_distribution(self.settings.dataset)
        self._data_rng = torch.Generator().manual_seed(self.settings.seed + 1)  # real batches: their own RNG
        self.updates = 0
        self.diverged = False  # set once a loss is NaN or infinite
        self.log: dict[str, list[float]] = {key: [] for key in ("update",) + self.METRICS}
        self.quality: list[tuple[int, int, float]] = []
        self._record_quality()

    def real_batch(self) -> torch.Tensor:
        """A fresh batch of real points ``(batch_size, 2)``."""
        return self.distribution.sample(self.settings.batch_size, generator=self._data_rng).to(self.state.device)

    def set_learning_rates(self, lr_generator: float, lr_discriminator: float) -> None:
        """Change both learning rates now, without restarting."""
        self.settings = dataclasses.replace(self.settings, lr_generator=lr_generator, lr_discriminator=lr_discriminator)
        self.state.config = dataclasses.replace(self.state.config, lr_generator=lr_generator,
                                                lr_discriminator=lr_discriminator)
        for optimizer, rate in ((self.state.generator_optimizer, lr_generator),
                                (self.state.discriminator_optimizer, lr_discriminator)):
            for group in optimizer.param_groups:
                group["lr"] = rate

    def set_d_steps(self, d_steps: int) -> None:
        """Change k, the discriminator updates per full step, without restarting."""
        if not isinstance(d_steps, int) or d_steps < 1:
            raise ValueError(f"d_steps (k) must be a positive integer, got {d_steps!r}")
        self.settings = dataclasses.replace(self.settings, d_steps=d_steps)
        self.state.config = dataclasses.replace(self.state.config, d_steps=d_steps)

    def discriminator_step(self) -> dict[str, float]:
        """One D update (G frozen); returns its metrics as floats."""
        with one_thread():
            return self._record(discriminator_step(self.state, self.real_batch()))

    def generator_step(self) -> dict[str, float]:
        """One G update (D frozen); returns its metrics as floats."""
        with one_thread():
            metrics = generator_step(self.state, self.settings.batch_size)
            self.state.step += 1
            return self._record(metrics)

    def step(self, num_steps: int = 1) -> dict[str, float]:
        """``num_steps`` full steps of Algorithm 1 (``train_step``: k D updates, then one G update); the last metrics."""
        metrics: dict[str, float] = {}
        with one_thread():
            for _ in range(num_steps):
                real_batches = [self.real_batch() for _ in range(self.settings.d_steps)]  # k fresh batches
                metrics = self._record(train_step(self.state, real_batches))
                self.state.step += 1
        return metrics

    def fixed_fakes(self) -> torch.Tensor:
        """G (eval mode) on the fixed noise: the same latent points every frame, ``(512, 2)``."""
        generator = self.state.sampling_generator
        was_training = generator.training
        generator.eval()
        with torch.no_grad():
            fakes = generator(self.state.fixed_noise).float().cpu()
        generator.train(was_training)
        return fakes

    def _record(self, metrics: dict[str, torch.Tensor]) -> dict[str, float]:
        values = {key: float(value) for key, value in metrics.items()}
        if any(not math.isfinite(values[key]) for key in ("d_loss", "g_loss") if key in values):
            self.diverged = True
        self.updates += 1
        self.log["update"].append(self.updates)
        for key in self.METRICS:
            self.log[key].append(values.get(key, math.nan))
        if self.updates % self.quality_every == 0:
            self._record_quality()
        return values

    def _record_quality(self) -> None:
        scores = toy_metrics(self.fixed_fakes(), self.distribution)
        self.quality.append((self.updates, scores["modes_covered"], scores["high_quality_share"]))


# --------------------------------------------------------------------------------- pictures


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
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")  # (R, R) each; row i is y = ys[i]
    return torch.stack([grid_x.reshape(-1), grid_y.reshape(-1)], dim=1)


def discriminator_heatmap(state: TrainState, bounds: Sequence[float], resolution: int = 40) -> np.ndarray:
    """D over the plane: ``sigmoid(D)`` in [0, 1] for the BCE losses, the raw score for critics.

    Args:
        state: the lab's state (its ``loss.uses_sigmoid`` decides the scale).
        bounds: ``(x_min, x_max, y_min, y_max)``.
        resolution: grid points per axis.

    Returns:
        ``(resolution, resolution)``; row ``i`` is the ``i``-th y from the bottom (``imshow(origin="lower")``).
    """
    if resolution < 2:
        raise ValueError(f"resolution must be at least 2 grid points per axis, got {resolution}")
    scores = _discriminator_output(unwrap(state.discriminator), _plane_grid(bounds, resolution), state.loss.uses_sigmoid)
    return scores.reshape(resolution, resolution)


def generator_manifold(
    state: TrainState, num_lines: int = 11, points_per_line: int = 41, latent_range: float = 2.0
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
        raise ValueError(f"the manifold needs a latent space of at least 2 dimensions, got latent_dim={latent_dim}")
    line = torch.linspace(-latent_range, latent_range, points_per_line)  # (P,)
    across = torch.linspace(-latent_range, latent_range, num_lines)  # (L,)
    z = torch.zeros(2, num_lines, points_per_line, latent_dim)  # (2, L, P, latent_dim)
    z[0, :, :, 0], z[0, :, :, 1] = line[None, :], across[:, None]  # rows: z_1 fixed, z_0 varies
    z[1, :, :, 0], z[1, :, :, 1] = across[:, None], line[None, :]  # columns: z_0 fixed, z_1 varies
    generator = state.sampling_generator
    was_training = generator.training
    generator.eval()
    with torch.no_grad():
        images = generator(z.reshape(-1, latent_dim).to(state.device)).float().cpu()  # (2 * L * P, 2)
    generator.train(was_training)
    images = images.reshape(2, num_lines, points_per_line, -1).numpy()
    return images[0], images[1]


def generator_gradients(state: TrainState, points: torch.Tensor) -> torch.Tensor:
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
    was_training = discriminator.training
    discriminator.eval()
    with torch.enable_grad():
        scores = discriminator(points)  # (N,)
        # The batch loss is a mean over points, and each score depends on its own point only, so
        # N times its gradient holds every point's own gradient.
        batch_loss = state.loss.generator_loss(scores.float()) * len(points)
        (gradients,) = torch.autograd.grad(batch_loss, points)  # (N, 2)
    discriminator.train(was_training)
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
    heatmap_is_probability: bool  # sigmoid(D) in [0, 1], or a critic's raw score
    manifold: tuple[np.ndarray, np.ndarray]  # two families of lines, each (L, P, 2)
    arrow_tails: np.ndarray  # (A, 2) the fakes that get an arrow
    arrows: np.ndarray  # (A, 2) minus the generator-loss gradient at each
    log: dict[str, list[float]] = field(default_factory=dict)
    quality: list[tuple[int, int, float]] = field(default_factory=list)
    num_modes: int = 0


def capture_frame(session: LabSession, resolution: int = 40, num_arrows: int = 64, num_real: int = 256) -> LabFrame:
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


def _capture_frame(session: LabSession, resolution: int, num_arrows: int, num_real: int) -> LabFrame:
    bounds = lab_bounds(session.settings.dataset)
    fakes = session.fixed_fakes()  # (512, 2)
    real = session.distribution.sample(num_real, generator=torch.Generator().manual_seed(0))  # the same points every frame
    tails = fakes[:num_arrows]
    settings = session.settings
    return LabFrame(
        updates=session.updates,
        title=f"{settings.dataset}, {settings.loss}, k={settings.d_steps}: {session.updates} updates",
        bounds=bounds, real=real.numpy(), fake=fakes.numpy(),
        heatmap=discriminator_heatmap(session.state, bounds, resolution),
        heatmap_is_probability=session.state.loss.uses_sigmoid,
        manifold=generator_manifold(session.state),
        arrow_tails=tails.numpy(), arrows=(-generator_gradients(session.state, tails)).numpy(),
        log={key: list(values) for key, values in session.log.items()}, quality=list(session.quality),
        num_modes=session.distribution.num_modes,
    )


def _lab_axes(figure: Figure) -> dict:
    """The lab's layout: the plane on the left, the curves and the modes stacked on the right."""
    if not hasattr(figure, "_lab_axes"):  # fixed positions: a constrained layout would cost 5 times the drawing
        figure._lab_axes = {
            "plane": figure.add_axes((0.01, 0.08, 0.5, 0.84)),  # (left, bottom, width, height) in figure fractions
            "curves": figure.add_axes((0.58, 0.58, 0.4, 0.34)),
            "modes": figure.add_axes((0.58, 0.12, 0.4, 0.34)),
        }
    return figure._lab_axes


def _check_layers(layers: Sequence[str]) -> None:
    unknown = set(layers) - set(LAYERS)
    if unknown:
        raise ValueError(f"unknown layers {sorted(unknown)}; the layers are {', '.join(LAYERS)}")


def draw_plane(axis: Axes, frame: LabFrame, layers: Sequence[str] = LAYERS, arrow_scale: float = 0.5,
               max_arrow: float = 1.0) -> Axes:
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
        heatmap = np.nan_to_num(frame.heatmap, nan=0.5 if frame.heatmap_is_probability else 0.0)
        limit = float(np.abs(heatmap).max()) or 1.0  # a critic's scores: a symmetric colour scale around 0
        probability = frame.heatmap_is_probability
        axis.imshow(heatmap, origin="lower", extent=frame.bounds, cmap="RdBu_r", alpha=0.8, interpolation="nearest",
                    vmin=0.0 if probability else -limit, vmax=1.0 if probability else limit)
    if "manifold" in layers:
        lines = LineCollection(list(frame.manifold[0]) + list(frame.manifold[1]), colors=GENERATED_COLOR,
                               linewidths=0.5, alpha=0.5)  # one artist for all the grid lines: faster
        axis.add_collection(lines)
    if "real" in layers:
        axis.scatter(frame.real[:, 0], frame.real[:, 1], s=3, color=REAL_COLOR, alpha=0.5, label="real")
    if "fake" in layers:
        axis.scatter(frame.fake[:, 0], frame.fake[:, 1], s=4, color=GENERATED_COLOR, label="fake")
    if "gradients" in layers:
        arrows = np.nan_to_num(arrow_scale * frame.arrows)
        lengths = np.linalg.norm(arrows, axis=1, keepdims=True)
        arrows = arrows * np.minimum(1.0, max_arrow / np.maximum(lengths, 1e-12))
        axis.quiver(frame.arrow_tails[:, 0], frame.arrow_tails[:, 1], arrows[:, 0], arrows[:, 1], angles="xy",
                    scale_units="xy", scale=1.0, width=0.006, color="tab:purple")
    axis.set(xlim=frame.bounds[:2], ylim=frame.bounds[2:], aspect="equal", xticks=[], yticks=[])
    axis.set_title(frame.title, fontsize=8)
    scale = "D(x): blue 0 (fake) to red 1 (real)" if frame.heatmap_is_probability else "critic score: blue low, red high"
    axis.set_xlabel(scale, fontsize=7)
    return axis


def draw_curves(curves: Axes, modes: Axes, frame: LabFrame, layers: Sequence[str] = LAYERS) -> None:
    """The curves over updates: losses and D's mean outputs on ``curves``, mode coverage and quality on ``modes``."""
    _check_layers(layers)
    updates = np.asarray(frame.log.get("update", []))
    if "curves" in layers and len(updates):
        for key, color, label in (("d_real", REAL_COLOR, "D(x)"), ("d_fake", GENERATED_COLOR, "D(G(z))"),
                                  ("d_loss", DISCRIMINATOR_COLOR, "D loss"), ("g_loss", "tab:green", "G loss")):
            values = np.asarray(frame.log[key])
            present = np.isfinite(values)  # a D step has no G loss, a G step no D loss
            curves.plot(updates[present], values[present], color=color, linewidth=0.8, label=label)
        curves.legend(fontsize=6, loc="upper left", ncol=2)
    curves.set_title("losses and D's mean outputs", fontsize=8)
    if "modes" in layers and frame.quality:
        rows = np.asarray(frame.quality)  # (Q, 3): update, modes covered, high-quality share
        modes.plot(rows[:, 0], rows[:, 1] / max(frame.num_modes, 1), color=REAL_COLOR, label="modes covered")
        modes.plot(rows[:, 0], rows[:, 2], color=GENERATED_COLOR, label="high-quality share")
        modes.set_ylim(-0.05, 1.05)
    modes.set_title("share of modes covered (black), high-quality share (orange)", fontsize=7)
    modes.set_xlabel("updates", fontsize=7)
    for axis in (curves, modes):
        axis.tick_params(labelsize=6)
        axis.xaxis.set_major_locator(MaxNLocator(4))  # few tick labels: text is most of the drawing time
        axis.yaxis.set_major_locator(MaxNLocator(3))


def draw_frame(figure: Figure, frame: LabFrame, layers: Sequence[str] = LAYERS, **plane_options) -> None:
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


def lab_animation_html(frames: Sequence[LabFrame], layers: Sequence[str] = LAYERS, interval: int = 300,
                       dpi: int = 60, frame_format: str = "jpeg", **draw_options) -> str:
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
        raise ValueError("no frames to animate: capture some with capture_frame(session) while stepping")
    figure = new_lab_figure()
    figure.set_dpi(dpi)
    animation = FuncAnimation(figure, lambda frame: draw_frame(figure, frame, layers, **draw_options),
                              frames=list(frames), init_func=lambda: [], interval=interval, blit=False)
    with matplotlib.rc_context({"animation.frame_format": frame_format}):
        return offline_player(animation.to_jshtml(default_mode="once"))


# --------------------------------------------------------------------------------- the widget


class GANLab:
    """The lab as an ipywidgets panel: ``GANLab().widget`` in a notebook cell (with a running kernel).

    Every control is an attribute, so that tests (and curious students) can drive it from code:
    ``lab.step_button.click()``, ``lab.play.value += 1``, ``lab.layer_boxes["heatmap"].value = False``.

    Args:
        settings: the starting settings.
        steps_per_frame: full steps per tick of the Play button (the picture is redrawn once per tick).
        resolution: heat-map grid points per axis.
        dpi: resolution of the picture.
    """

    def __init__(self, settings: LabSettings | None = None, *, steps_per_frame: int = 10, resolution: int = 40,
                 dpi: int = 72) -> None:
        import ipywidgets as widgets

        self.session = LabSession(settings)
        self.resolution, self.dpi = resolution, dpi
        self.figure = new_lab_figure()
        s = self.session.settings
        style = {"description_width": "initial"}
        self.dataset = widgets.Dropdown(options=LAB_DATASETS, value=s.dataset, description="data")
        self.loss = widgets.Dropdown(options=tuple(LOSSES), value=s.loss, description="loss")
        self.optimizer = widgets.Dropdown(options=OPTIMIZERS, value=s.optimizer, description="optimizer")
        self.width = widgets.Dropdown(options=sorted({8, 16, 32, 64, 128, s.width}), value=s.width, description="width")
        self.lr_generator = widgets.FloatLogSlider(value=s.lr_generator, base=10, min=-5, max=0, description="G rate",
                                                   readout_format=".0e", style=style)
        self.lr_discriminator = widgets.FloatLogSlider(value=s.lr_discriminator, base=10, min=-5, max=0,
                                                       description="D rate", readout_format=".0e", style=style)
        self.d_steps = widgets.IntSlider(value=s.d_steps, min=1, max=10, description="k (D steps)", style=style)
        self.steps_per_frame = widgets.IntSlider(value=steps_per_frame, min=1, max=100, description="steps per frame",
                                                 style=style)
        self.d_button = widgets.Button(description="D step", tooltip="one discriminator update; G frozen")
        self.g_button = widgets.Button(description="G step", tooltip="one generator update; D frozen")
        self.step_button = widgets.Button(description="Step", tooltip="k D updates, then one G update (train_step)")
        self.reset_button = widgets.Button(description="Reset", tooltip="fresh networks with these settings")
        # A tick every 200 ms: a picture takes about 100 ms, and slower ticks than that do not queue up in the kernel.
        self.play = widgets.Play(value=0, min=0, max=10**9, step=1, interval=200, description="run / pause")
        self.layer_boxes = {name: widgets.Checkbox(value=True, description=name, indent=False,
                                                   layout=widgets.Layout(width="auto")) for name in LAYERS}
        self.image = widgets.Image(format="png")
        self.status = widgets.HTML()

        self.d_button.on_click(lambda _: self._act(self.session.discriminator_step))
        self.g_button.on_click(lambda _: self._act(self.session.generator_step))
        self.step_button.on_click(lambda _: self._act(self.session.step))
        self.reset_button.on_click(lambda _: self.reset())
        self.play.observe(self._on_tick, names="value")
        for control in (self.dataset, self.loss, self.optimizer, self.width):
            control.observe(lambda _: self.reset(), names="value")  # new networks: these change what is trained
        for control in (self.lr_generator, self.lr_discriminator):
            control.observe(lambda _: self.session.set_learning_rates(self.lr_generator.value,
                                                                      self.lr_discriminator.value), names="value")
        self.d_steps.observe(lambda change: self.session.set_d_steps(change["new"]), names="value")
        for box in self.layer_boxes.values():
            box.observe(lambda _: self.redraw(), names="value")

        self.widget = widgets.VBox([
            widgets.HBox([self.dataset, self.loss, self.optimizer, self.width]),
            widgets.HBox([self.lr_generator, self.lr_discriminator, self.d_steps]),
            widgets.HBox([self.d_button, self.g_button, self.step_button, self.play, self.steps_per_frame,
                          self.reset_button]),
            widgets.HBox(list(self.layer_boxes.values())),
            self.image, self.status,
        ])
        self.redraw()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    @property
    def layers(self) -> tuple[str, ...]:
        """The layers whose checkbox is ticked."""
        return tuple(name for name, box in self.layer_boxes.items() if box.value)

    def current_settings(self) -> LabSettings:
        """The settings the controls show now."""
        return dataclasses.replace(
            self.session.settings, dataset=self.dataset.value, loss=self.loss.value, optimizer=self.optimizer.value,
            width=self.width.value, lr_generator=self.lr_generator.value,
            lr_discriminator=self.lr_discriminator.value, d_steps=self.d_steps.value,
        )

    def reset(self) -> None:
        """Fresh networks with the settings the controls show; redraw."""
        self.session.reset(self.current_settings())
        self.redraw()

    def redraw(self) -> None:
        """Capture the session, draw it on the reused figure, and show the PNG."""
        frame = capture_frame(self.session, resolution=self.resolution)
        draw_frame(self.figure, frame, self.layers)
        self.image.value = render_png(self.figure, dpi=self.dpi)
        last = {key: values[-1] for key, values in self.session.log.items() if values and key != "update"}
        shown = ", ".join(f"{key} {value:.3f}" for key, value in last.items() if not math.isnan(value))
        self.status.value = f"<code>{self.session.updates} updates; {shown}</code>"
        if self.session.diverged:
            self.status.value += ("<br><b>The losses became NaN or infinite: the training diverged. "
                                  "Lower the learning rates and press Reset.</b>")

    def close(self) -> None:
        """Close the widgets (the figure is not pyplot's, so nothing else is left open)."""
        self.play.unobserve_all()
        self.widget.close()

    def _act(self, action) -> None:
        action()
        self.redraw()

    def _on_tick(self, change: dict) -> None:
        if change["new"] != change["old"]:
            self.session.step(self.steps_per_frame.value)
            self.redraw()


def measure_speed(num_frames: int = 20, steps_per_frame: int = 10, settings: LabSettings | None = None) -> float:
    """Full steps per second of the widget, drawing after every ``steps_per_frame`` steps (as Play does).

    Returns:
        Steps per second, counting the drawing time.
    """
    lab = GANLab(settings, steps_per_frame=steps_per_frame)
    start = time.perf_counter()
    for _ in range(num_frames):
        lab.play.value += 1
    elapsed = time.perf_counter() - start
    lab.close()
    return num_frames * steps_per_frame / elapsed


if __name__ == "__main__":  # python -m gan_teach.lab: the speed quoted in this module's docstring
    for steps_per_frame in (1, 10):
        print(f"{measure_speed(steps_per_frame=steps_per_frame):.0f} steps/s drawing every {steps_per_frame} steps")
