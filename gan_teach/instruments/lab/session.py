"""The lab's stepping: its settings, the state they build, and a session that moves one player at a time.

:class:`LabSettings` maps the lab's controls to a :class:`~gan_teach.config.TrainConfig`;
:func:`create_lab_state` builds the networks with :func:`~gan_teach.state.create_state` (and swaps in
plain SGD if asked). A full step is the library's :func:`~gan_teach.train.train_step`, unchanged;
:func:`~gan_teach.train.discriminator_step` and :func:`~gan_teach.train.generator_step` are its two
numbered blocks, so a student can move one player at a time, and ``k`` D steps then one G step are
exactly one ``train_step`` (a test checks it).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from dataclasses import dataclass

import torch

from ...config import TrainConfig
from ...data import TOY_DISTRIBUTIONS, toy_distribution
from ...losses import LOSSES
from ...metrics import toy_metrics
from ...state import TrainState, create_state
from ...train import discriminator_step, generator_step, train_step

__all__ = [
    "LAB_DATASETS",
    "OPTIMIZERS",
    "LabSettings",
    "create_lab_state",
    "one_thread",
    "LabSession",
]

#: The 2-D toy distributions, the ones the lab can draw on the plane.
LAB_DATASETS = tuple(
    name
    for name, distribution in TOY_DISTRIBUTIONS.items()
    if distribution.dim == 2
)
#: The optimizers the lab offers for both players.
OPTIMIZERS = ("adam", "sgd")


@dataclass
class LabSettings:
    """The lab's controls. :meth:`to_config` turns them into the library's :class:`~gan_teach.config.TrainConfig`."""

    dataset: str = "ring"  # a 2-D toy distribution: ring or grid
    loss: str = (
        "non-saturating"  # minimax, non-saturating, lsgan, hinge or wgan-gp
    )
    optimizer: str = "adam"  # "adam" (the library's) or "sgd" (plain gradient descent, no momentum)
    lr_generator: float = 1e-3  # learning rate of G
    lr_discriminator: float = 1e-3  # learning rate of D
    d_steps: int = 1  # k: discriminator updates per generator update
    width: int = 64  # hidden units per layer of both MLPs: small, so that the lab stays fast
    latent_dim: int = 2  # size of z; with 2 the manifold picture shows all of latent space, as in GAN Lab
    batch_size: int = 128  # points per update
    beta1: float | None = (
        None  # Adam's betas; None: the library's recipe (0.5, 0.999; 0.0, 0.9 for wgan-gp)
    )
    beta2: float | None = None
    seed: int = 0  # seeds the weights, the noise and the real batches

    def validate(self) -> LabSettings:
        """Raise ``ValueError`` with the allowed choices if a setting is out of range; return self."""
        if self.dataset not in LAB_DATASETS:
            raise ValueError(
                f"the lab draws 2-D data: dataset must be one of {', '.join(LAB_DATASETS)}, "
                f"got {self.dataset!r}"
            )
        if self.loss not in LOSSES:
            raise ValueError(
                f"unknown loss {self.loss!r}; choose one of: {', '.join(LOSSES)}"
            )
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(
                f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}"
            )
        return self

    def to_config(self) -> TrainConfig:
        """The resolved :class:`~gan_teach.config.TrainConfig` these settings describe (MLPs on the CPU, constant learning rates).

        >>> LabSettings(loss="wgan-gp").to_config().beta1  # the recipe's Adam betas for WGAN-GP
        0.0
        """
        self.validate()
        return TrainConfig(
            dataset=self.dataset,
            loss=self.loss,
            model="mlp",
            latent_dim=self.latent_dim,
            width=self.width,
            steps=1,  # TrainConfig needs a length; the lab steps by hand and never calls train()
            batch_size=self.batch_size,
            lr_generator=self.lr_generator,
            lr_discriminator=self.lr_discriminator,
            beta1=self.beta1,
            beta2=self.beta2,
            d_steps=self.d_steps,
            lr_decay=False,  # the rates stay what the sliders say
            generator_batch_norm=False,  # the drawn G is the trained G (batch norm's eval mode would differ)
            seed=self.seed,
            device="cpu",  # tiny networks: faster on the CPU than a GPU's kernel launches
            num_fixed_samples=512,  # the fakes that are drawn and scored for mode coverage
        ).resolve()


def create_lab_state(settings: LabSettings) -> TrainState:
    """:func:`~gan_teach.state.create_state` for ``settings.to_config()``; with ``optimizer="sgd"`` both Adams become SGD.

    Args:
        settings: the lab's settings.

    Returns:
        A fresh :class:`~gan_teach.state.TrainState` (seeded by ``settings.seed``).
    """
    state = create_state(settings.to_config())
    if settings.optimizer == "sgd":
        state.generator_optimizer = torch.optim.SGD(
            state.generator.parameters(), lr=settings.lr_generator
        )
        state.discriminator_optimizer = torch.optim.SGD(
            state.discriminator.parameters(), lr=settings.lr_discriminator
        )
    return state


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

    def __init__(
        self,
        settings: LabSettings | None = None,
        *,
        quality_every: int = 10,
    ) -> None:
        self.quality_every = quality_every
        self.reset(settings or LabSettings())

    def reset(self, settings: LabSettings | None = None) -> None:
        """Start again with fresh networks (seeded), optionally with new settings."""
        self.settings = dataclasses.replace(
            settings or self.settings
        ).validate()
        self.state = create_lab_state(self.settings)
        self.distribution = toy_distribution(self.settings.dataset)
        self._data_rng = torch.Generator().manual_seed(
            self.settings.seed + 1
        )  # real batches: their own RNG
        self.updates = 0
        self.diverged = False  # set once a loss is NaN or infinite
        self.log: dict[str, list[float]] = {
            key: [] for key in ("update",) + self.METRICS
        }
        self.quality: list[tuple[int, int, float]] = []
        self._record_quality()

    def real_batch(self) -> torch.Tensor:
        """A fresh batch of real points ``(batch_size, 2)``."""
        return self.distribution.sample(
            self.settings.batch_size, generator=self._data_rng
        ).to(self.state.device)

    def set_learning_rates(
        self, lr_generator: float, lr_discriminator: float
    ) -> None:
        """Change both learning rates now, without restarting."""
        self.settings = dataclasses.replace(
            self.settings,
            lr_generator=lr_generator,
            lr_discriminator=lr_discriminator,
        )
        self.state.config = dataclasses.replace(
            self.state.config,
            lr_generator=lr_generator,
            lr_discriminator=lr_discriminator,
        )
        for optimizer, rate in (
            (self.state.generator_optimizer, lr_generator),
            (self.state.discriminator_optimizer, lr_discriminator),
        ):
            for group in optimizer.param_groups:
                group["lr"] = rate

    def set_d_steps(self, d_steps: int) -> None:
        """Change k, the discriminator updates per full step, without restarting."""
        if not isinstance(d_steps, int) or d_steps < 1:
            raise ValueError(
                f"d_steps (k) must be a positive integer, got {d_steps!r}"
            )
        self.settings = dataclasses.replace(self.settings, d_steps=d_steps)
        self.state.config = dataclasses.replace(
            self.state.config, d_steps=d_steps
        )

    def d_step(self) -> dict[str, float]:
        """One D update (G frozen); returns its metrics as floats."""
        with one_thread():
            return self._record(
                discriminator_step(self.state, self.real_batch())
            )

    def g_step(self) -> dict[str, float]:
        """One G update (D frozen); returns its metrics as floats."""
        with one_thread():
            metrics = generator_step(self.state, self.settings.batch_size)
            self.state.step += 1
            return self._record(metrics)

    def full_step(self, num_steps: int = 1) -> dict[str, float]:
        """``num_steps`` full steps of Algorithm 1 (``train_step``: k D updates, then one G update); the last metrics."""
        metrics: dict[str, float] = {}
        with one_thread():
            for _ in range(num_steps):
                real_batches = [
                    self.real_batch() for _ in range(self.settings.d_steps)
                ]  # k fresh batches
                metrics = self._record(train_step(self.state, real_batches))
                self.state.step += 1
        return metrics

    def fixed_fakes(self) -> torch.Tensor:
        """G (eval mode) on the fixed noise: the same latent points every frame, ``(512, 2)``."""
        return self.state.fixed_samples()

    def _record(self, metrics: dict[str, torch.Tensor]) -> dict[str, float]:
        values = {key: float(value) for key, value in metrics.items()}
        if any(
            not math.isfinite(values[key])
            for key in ("d_loss", "g_loss")
            if key in values
        ):
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
        self.quality.append(
            (
                self.updates,
                scores["modes_covered"],
                scores["high_quality_share"],
            )
        )
