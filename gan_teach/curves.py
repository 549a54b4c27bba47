"""Training curves: the losses, D's mean outputs and the gradient norms a run records.

Each function takes a :class:`~gan_teach.state.TrainState` or its ``history`` dict, draws on an
``ax`` you pass (or on a new figure) and returns what it drew on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

# A real import, not under TYPE_CHECKING: the API reference evaluates the annotations.
from .state import TrainState
from .viz import new_axes

__all__ = [
    "plot_history",
    "plot_discriminator_outputs",
    "plot_gradient_norms",
    "plot_training",
]

History = Mapping[str, Sequence[float]]


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
        raise ValueError(
            f"the history's {key!r} is empty: train for at least one step first"
        )
    return values


def _moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over ``window`` values; the result is ``window - 1`` shorter.

    >>> _moving_average(np.array([1.0, 2.0, 3.0, 4.0]), 2)
    array([1.5, 2.5, 3.5])
    """
    cumulative = np.cumsum(np.insert(values, 0, 0.0))
    return (cumulative[window:] - cumulative[:-window]) / window


def _plot_series(
    ax: Axes,
    history: History,
    keys: Sequence[str],
    labels: Sequence[str],
    smooth: int | None,
) -> None:
    """Each series against the step: faint raw values under a bold moving average (or the raw values alone)."""
    for key, label in zip(keys, labels):
        values = _values(history, key)
        steps = np.arange(
            1, len(values) + 1
        )  # history[key][i] was recorded after generator update i + 1
        window = max(1, len(values) // 50) if smooth is None else smooth
        if window < 1:
            raise ValueError(
                f"smooth must be a window of at least 1 step (1: no smoothing), got {smooth}"
            )
        window = min(window, len(values))
        if window == 1:
            ax.plot(steps, values, label=label)
            continue
        (raw,) = ax.plot(steps, values, alpha=0.25, linewidth=0.8)
        ax.plot(
            steps[window - 1 :],
            _moving_average(values, window),
            color=raw.get_color(),
            label=label,
        )
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
    ax = new_axes(ax)
    _plot_series(ax, history, keys, keys, smooth)
    if all(key.endswith("loss") for key in keys):
        ax.set_ylabel("loss")
    ax.legend()
    return ax


def plot_discriminator_outputs(
    history: TrainState | History,
    ax: Axes | None = None,
    smooth: int | None = None,
    raw_scores: bool = False,
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
    ax = new_axes(ax)
    if raw_scores:
        _plot_series(
            ax,
            history,
            ("real_score", "fake_score"),
            ("real", "generated"),
            smooth,
        )
        ax.set_ylabel("mean score")
    else:
        _plot_series(
            ax, history, ("d_real", "d_fake"), ("D(x)", "D(G(z))"), smooth
        )
        # at the equilibrium p_g = p_data, and the best D outputs 1/2 everywhere
        ax.axhline(
            0.5,
            color="grey",
            linestyle="--",
            linewidth=1,
            label="equilibrium",
        )
        ax.set_ylim(-0.02, 1.02)
        ax.set_ylabel("mean D output")
    ax.legend()
    return ax


def plot_gradient_norms(
    history: TrainState | History,
    ax: Axes | None = None,
    smooth: int | None = None,
) -> Axes:
    """Plot the gradient norms of D and G on a log scale: spikes and collapse to zero show up here first.

    Args:
        history: a TrainState or its ``.history``.
        ax: where to draw; default: a new figure.
        smooth: as in :func:`plot_history`.

    Returns:
        The axes.
    """
    history = _as_history(history)
    ax = new_axes(ax)
    _plot_series(
        ax, history, ("d_grad_norm", "g_grad_norm"), ("D", "G"), smooth
    )
    ax.set_yscale("log")
    ax.set_ylabel("gradient norm")
    ax.legend()
    return ax


def plot_training(
    state_or_history: TrainState | History, smooth: int | None = None
) -> Figure:
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
    figure, (loss_ax, output_ax, norm_ax) = plt.subplots(
        1, 3, figsize=(14, 3.6), layout="constrained"
    )
    plot_history(history, ax=loss_ax, smooth=smooth)
    plot_discriminator_outputs(
        history, ax=output_ax, smooth=smooth, raw_scores=raw_scores
    )
    plot_gradient_norms(history, ax=norm_ax, smooth=smooth)
    return figure
