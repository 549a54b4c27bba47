"""Measure how GANs fail: mode coverage during training, vanishing generator gradients, and critics.

The failures chapter (``book/failures.ipynb``) reproduces the classic failure modes with fixed seeds and
measures them with these helpers:

- :func:`mode_coverage_over_time` trains a toy GAN and records how many modes of the ring (or grid) its
  generator covers as training goes, to see mode collapse happen;
- :func:`generator_gradient_norms` compares the generator's gradient under several losses for the same
  discriminator and the same fakes, and :func:`train_discriminator_alone` makes a discriminator strong
  against a fixed generator, to see the minimax loss saturate;
- :func:`fit_critic` trains a Wasserstein critic alone against fixed fakes with a gradient penalty of
  your choice, and :func:`input_gradient_norms` measures its slope at any points, to see where a
  penalty actually constrains the critic;
- :func:`dirac_gan_animation_html` animates Dirac-GAN trajectories (:mod:`gan_teach.instruments.dynamics`) as an
  offline HTML player.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import torch
from matplotlib.animation import FuncAnimation
from matplotlib.figure import Figure
from torch import nn

from ..animation import html_player
from ..config import TrainConfig
from ..data import ToyDistribution, load_dataset, toy_distribution
from ..losses import get_loss
from ..metrics import toy_metrics
from ..models import generate
from ..state import TrainState, create_state
from ..train import train

__all__ = [
    "CoverageHistory",
    "mode_coverage_over_time",
    "modes_visited",
    "generator_gradient_norms",
    "train_discriminator_alone",
    "fit_critic",
    "input_gradient_norms",
    "dirac_gan_animation_html",
]


@dataclass
class CoverageHistory:
    """Mode coverage of a toy GAN, measured during training.

    Attributes:
        config: the resolved configuration that was trained.
        state: the final training state (networks, history, samples).
        steps: generator updates done at each measurement (the first is 0, before training).
        modes_covered: modes covered at each measurement (see :func:`gan_teach.metrics.toy_metrics`).
        high_quality_share: share of samples within 3 standard deviations of a mode, at each measurement.
    """

    config: TrainConfig
    state: TrainState
    steps: list[int] = field(default_factory=list)
    modes_covered: list[int] = field(default_factory=list)
    high_quality_share: list[float] = field(default_factory=list)

    @property
    def final(self) -> dict:
        """The last measurement, ``{"step", "modes_covered", "high_quality_share"}``."""
        return {
            "step": self.steps[-1],
            "modes_covered": self.modes_covered[-1],
            "high_quality_share": self.high_quality_share[-1],
        }


def mode_coverage_over_time(
    config: TrainConfig,
    *,
    every: int = 500,
    num_samples: int = 2000,
    sample_seed: int = 0,
    data: torch.Tensor | None = None,
) -> CoverageHistory:
    """Train a GAN on toy data; count modes covered every ``every`` steps.

    Measurements are taken at the end of an epoch (``train`` calls back once
    per epoch), so they fall on the first epoch boundary at least ``every``
    steps after the previous one, and always at the end. Each one draws
    ``num_samples`` points with a fixed seed (its own random generator, so
    measuring never changes the training) from the sampling generator, in
    eval mode.

    Args:
        config: a toy dataset's configuration, e.g.
            ``TrainConfig(dataset="ring", loss="minimax")``.
        every: generator updates between measurements, at least.
        num_samples: points drawn for each measurement.
        sample_seed: seed of the noise behind those points.
        data: the real points; default: ``load_dataset(config.dataset)``.

    Returns:
        A :class:`CoverageHistory`; ``history.final["modes_covered"]`` is
        the result at the end.
    """
    config = config.resolve()
    distribution = toy_distribution(
        config.dataset
    )  # raises for image datasets, with the known names
    if every < 1 or num_samples < 1:
        raise ValueError(
            "every and num_samples must be positive, "
            f"got every={every}, num_samples={num_samples}"
        )
    history = CoverageHistory(config=config, state=create_state(config))

    def measure(state: TrainState) -> None:
        metrics = toy_metrics(
            generate(
                state.sampling_generator, num_samples, seed=sample_seed
            ),
            distribution,
        )
        history.steps.append(state.step)
        history.modes_covered.append(metrics["modes_covered"])
        history.high_quality_share.append(metrics["high_quality_share"])

    def callback(state: TrainState) -> None:
        if state.step - history.steps[-1] >= every:
            measure(state)

    measure(history.state)
    data = data if data is not None else load_dataset(config.dataset)
    train(state=history.state, data=data, callback=callback, progress=False)
    if (
        history.steps[-1] != history.state.step
    ):  # the end, if the last epoch ended too soon after a measurement
        measure(history.state)
    return history


def modes_visited(
    samples: torch.Tensor,
    distribution: ToyDistribution | str,
    min_share: float = 0.1,
) -> int:
    """How many modes get at least ``min_share`` of their fair share of samples, however far the samples are.

    :func:`gan_teach.metrics.toy_metrics` counts a mode as covered only by samples within three standard
    deviations of it, so a blurry generator and a collapsed one can both score 0. This count assigns every
    sample to its nearest mode: a collapsed generator visits 1 mode, a blurry one that spreads over the
    whole ring visits them all.

    Args:
        samples: ``(N, dim)`` generated points.
        distribution: a toy distribution or its name, e.g. ``"ring"``.
        min_share: a mode is visited if at least ``min_share * N / num_modes`` samples are nearest to it.

    Returns:
        The number of visited modes.

    >>> modes_visited(torch.tensor([[2.5, 0.0], [2.4, 0.1], [0.0, -2.6]]), "ring")
    2
    """
    if isinstance(distribution, str):
        distribution = toy_distribution(distribution)
    samples = torch.as_tensor(samples).detach().cpu().double()
    if samples.dim() != 2 or samples.shape[1] != distribution.dim:
        raise ValueError(
            f"{distribution.name} points have shape (N, {distribution.dim}), got {tuple(samples.shape)}"
        )
    nearest_mode = torch.cdist(
        samples, distribution.centers_tensor().double()
    ).argmin(dim=1)  # (N,)
    counts = torch.bincount(
        nearest_mode, minlength=distribution.num_modes
    )  # (K,)
    return int(
        (
            counts >= min_share * samples.shape[0] / distribution.num_modes
        ).sum()
    )


def generator_gradient_norms(
    generator: nn.Module,
    discriminator: nn.Module,
    noise: torch.Tensor,
    losses: Sequence[str] = ("minimax", "non-saturating"),
) -> dict[str, float]:
    """The norm of the generator's gradient under each loss, for the same discriminator and the same fakes.

    Nothing is updated; the networks' ``.grad`` fields are left as they were, and both networks are run in
    the mode they are in.

    Args:
        generator: the generator, with a ``latent_dim`` matching ``noise``.
        discriminator: scores the fakes with one logit each, ``(N,)``.
        noise: ``(N, latent_dim)``, the same for every loss.
        losses: names from :data:`gan_teach.losses.LOSSES` whose generator losses to compare.

    Returns:
        ``{loss name: L2 norm of d(generator loss)/d(generator parameters)}``.
    """
    parameters = [
        parameter
        for parameter in generator.parameters()
        if parameter.requires_grad
    ]
    norms = {}
    for name in losses:
        fake_logits = discriminator(generator(noise))  # (N,)
        generator_loss = get_loss(name).generator_loss(fake_logits)
        gradients = torch.autograd.grad(
            generator_loss, parameters, allow_unused=True
        )
        squares = [
            gradient.pow(2).sum()
            for gradient in gradients
            if gradient is not None
        ]
        norms[name] = (
            float(torch.stack(squares).sum().sqrt()) if squares else 0.0
        )
    return norms


def train_discriminator_alone(
    state: TrainState,
    data: torch.Tensor,
    *,
    steps: int,
    every: int = 50,
    losses: Sequence[str] = ("minimax", "non-saturating"),
    num_probe: int = 512,
) -> dict[str, list[float]]:
    """Train only the discriminator, against the state's fixed generator; record how strong it gets.

    The discriminator minimises the state's discriminator loss (binary cross-entropy for both GAN losses)
    with its optimizer, on random real batches of ``state.config.batch_size``; the generator never changes.
    Every ``every`` steps, and before the first, it records on one fixed batch of noise: ``d_fake``, the
    mean ``sigmoid(D(G(z)))``, and the generator's gradient norm under each of ``losses``.

    Args:
        state: from :func:`gan_teach.state.create_state` (or a trained state); its discriminator is changed.
        data: real examples, ``(N, ...)``.
        steps: discriminator updates.
        every: updates between records.
        losses: generator losses to compare (see :func:`generator_gradient_norms`).
        num_probe: size of the fixed noise batch the records use.

    Returns:
        ``{"step": [...], "d_fake": [...], "<loss>": [...] for each loss}``, lists of equal length.
    """
    if steps < 1 or every < 1:
        raise ValueError(
            f"steps and every must be positive, got steps={steps}, every={every}"
        )
    generator, discriminator = state.generator, state.discriminator
    latent_dim = generator.latent_dim
    data = data.to(state.device)
    batch_size = state.config.batch_size
    rng = torch.Generator().manual_seed(state.config.seed)
    probe = torch.randn(num_probe, latent_dim, generator=rng).to(
        state.device
    )  # (P, latent_dim)
    records: dict[str, list[float]] = {
        "step": [],
        "d_fake": [],
        **{name: [] for name in losses},
    }

    def record(step: int) -> None:
        with torch.no_grad():
            d_fake = torch.sigmoid(discriminator(generator(probe))).mean()
        records["step"].append(step)
        records["d_fake"].append(float(d_fake))
        for name, norm in generator_gradient_norms(
            generator, discriminator, probe, losses
        ).items():
            records[name].append(norm)

    record(0)
    for step in range(1, steps + 1):
        real = data[
            torch.randint(len(data), (batch_size,), generator=rng).to(
                data.device
            )
        ]  # (B, ...)
        z = torch.randn(batch_size, latent_dim, generator=rng).to(
            state.device
        )  # (B, latent_dim)
        with torch.no_grad():
            fake = generator(z)  # G is fixed: no graph through it
        d_loss = state.loss.discriminator_loss(
            discriminator(real), discriminator(fake)
        )
        state.discriminator_optimizer.zero_grad(set_to_none=True)
        d_loss.backward()
        state.discriminator_optimizer.step()
        if step % every == 0 or step == steps:
            record(step)
    return records


PenaltyFunction = Callable[
    [nn.Module, torch.Tensor, torch.Tensor], torch.Tensor
]


def fit_critic(
    critic: nn.Module,
    real: torch.Tensor,
    fake: torch.Tensor,
    penalty: PenaltyFunction,
    *,
    steps: int = 500,
    penalty_weight: float = 10.0,
    batch_size: int = 256,
    learning_rate: float = 1e-3,
    seed: int = 0,
) -> list[float]:
    """Train a Wasserstein critic alone to tell fixed real points from fixed fake ones, with a penalty.

    The critic minimises ``E[critic(fake)] - E[critic(real)] + penalty_weight * penalty(critic, real, fake)``
    with Adam (betas 0.0, 0.9, as in WGAN-GP), on random batches of each.

    Args:
        critic: the network, ``(N, ...) -> (N,)``; changed in place.
        real, fake: the two sets of points, ``(N, ...)`` and ``(M, ...)``.
        penalty: ``f(critic, real_batch, fake_batch) -> scalar``, e.g. :func:`gan_teach.losses.gradient_penalty`.
        steps: critic updates.
        penalty_weight: lambda.
        batch_size: examples of each kind per update.
        learning_rate: Adam's step size.
        seed: seeds the batches (and anything random inside ``penalty``).

    Returns:
        The estimate ``E[critic(real)] - E[critic(fake)]`` on each batch, one per step.
    """
    optimizer = torch.optim.Adam(
        critic.parameters(), lr=learning_rate, betas=(0.0, 0.9)
    )
    rng = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    estimates = []
    for _ in range(steps):
        real_batch = real[
            torch.randint(len(real), (batch_size,), generator=rng)
        ]  # (B, ...)
        fake_batch = fake[
            torch.randint(len(fake), (batch_size,), generator=rng)
        ]  # (B, ...)
        gap = critic(real_batch).mean() - critic(fake_batch).mean()
        loss = -gap + penalty_weight * penalty(
            critic, real_batch, fake_batch
        )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        estimates.append(float(gap.detach()))
    return estimates


def input_gradient_norms(
    critic: nn.Module, points: torch.Tensor
) -> torch.Tensor:
    """``||grad_x critic(x)||`` at each point: the critic's slope there (1 where WGAN-GP wants it).

    Args:
        critic: ``(N, ...) -> (N,)``; it should score examples independently.
        points: ``(N, ...)``.

    Returns:
        ``(N,)`` norms, detached.
    """
    points = points.detach().clone().requires_grad_(True)
    (gradients,) = torch.autograd.grad(critic(points).sum(), points)
    return gradients.flatten(1).norm(dim=1).detach()


def dirac_gan_animation_html(
    trajectories: Mapping[str, torch.Tensor],
    *,
    max_frames: int = 60,
    interval: int = 100,
    limit: float | None = None,
    dpi: int = 60,
    frame_format: str = "jpeg",
) -> str:
    """Animate Dirac-GAN trajectories in the ``(theta, psi)`` plane as an HTML player that loads nothing.

    Args:
        trajectories: ``{label: (T, 2) tensor}`` of ``(theta, psi)`` points, e.g. from
            :func:`gan_teach.instruments.dynamics.dirac_gan_trajectory`; all of the same length ``T``.
        max_frames: frames at most (evenly spaced steps, the last included).
        interval: milliseconds between frames.
        limit: the axes show ``[-limit, limit]``; default: just beyond the largest coordinate.
        dpi: resolution of each frame; every frame is embedded in the HTML, so keep it small.
        frame_format: ``"jpeg"`` (about half the size of PNG for these frames) or ``"png"``.

    Returns:
        HTML for ``IPython.display.HTML``: matplotlib's ``to_jshtml`` player with offline buttons.
    """
    if frame_format not in ("png", "jpeg"):
        raise ValueError(
            f"frame_format must be 'png' or 'jpeg', got {frame_format!r}"
        )
    if not trajectories:
        raise ValueError(
            "pass at least one trajectory, e.g. {'simultaneous': dirac_gan_trajectory()}"
        )
    lengths = {len(path) for path in trajectories.values()}
    if len(lengths) != 1:
        raise ValueError(
            f"every trajectory must have the same number of points, got lengths {sorted(lengths)}"
        )
    length = lengths.pop()
    count = min(max_frames, length)
    frames = sorted(
        {round(i * (length - 1) / max(count - 1, 1)) for i in range(count)}
    )
    if limit is None:
        limit = 1.1 * max(
            float(path.abs().max()) for path in trajectories.values()
        )
    figure = Figure(
        figsize=(4.5, 4.5), dpi=dpi
    )  # not pyplot's: nothing shows twice, nothing leaks
    axis = figure.add_subplot()
    axis.set(
        xlim=(-limit, limit),
        ylim=(-limit, limit),
        xlabel=r"generator $\theta$",
        ylabel=r"discriminator $\psi$",
        aspect="equal",
    )
    axis.plot(
        [0],
        [0],
        marker="*",
        color="black",
        markersize=12,
        linestyle="none",
        label="equilibrium",
    )
    lines, heads = [], []
    for label, path in trajectories.items():
        (line,) = axis.plot([], [], linewidth=1.2, label=label)
        (head,) = axis.plot(
            [], [], marker="o", color=line.get_color(), linestyle="none"
        )
        lines.append((line, path.detach().cpu()))
        heads.append(head)
    axis.legend(loc="upper right", fontsize=8)
    figure.tight_layout()

    def draw(frame: int) -> list:
        for (line, path), head in zip(lines, heads):
            line.set_data(path[: frame + 1, 0], path[: frame + 1, 1])
            head.set_data(
                path[frame : frame + 1, 0], path[frame : frame + 1, 1]
            )
        axis.set_title(f"Dirac-GAN, step {frame}")
        return [line for line, _ in lines] + heads

    animation = FuncAnimation(
        figure, draw, frames=frames, interval=interval, blit=False
    )
    return html_player(animation, frame_format)
