"""Training a diffusion model on the GANs' data, by steps or by wall time.

:func:`train_diffusion` is to a DDPM what :func:`gan_teach.train.train` is
to a GAN: the same in-memory tensors from :mod:`gan_teach.data`, the same
shuffled batches (:func:`gan_teach.engine.epoch_batches`), the same
moving average of the weights (:func:`gan_teach.engine.update_ema`). One
network and one loss replace the two players: each step draws a timestep
and noise per example and regresses the noise (Ho et al.'s Algorithm 1).
A time budget (``max_seconds``) makes the "same CPU budget" comparison
with a GAN direct.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from .data import DATASETS, IMAGE_DATASETS, load_dataset, toy_distribution
from .denoisers import MLPDenoiser, UNetDenoiser
from .diffusion import (
    SCHEDULES,
    NoiseSchedule,
    diffusion_loss,
    noise_schedule,
)
from .engine import epoch_batches, epoch_sampler, update_ema
from .utils import (
    MAX_SEED,
    get_device,
    is_positive_int,
    seed_everything,
)

__all__ = [
    "DIFFUSION_MODELS",
    "DiffusionConfig",
    "DiffusionRun",
    "build_denoiser",
    "train_diffusion",
]

#: The networks ``DiffusionConfig.model`` may name.
DIFFUSION_MODELS = ("mlp", "unet")


@dataclass
class DiffusionConfig:
    """A diffusion run. ``None`` means "the recipe's value" (see :meth:`resolve`)."""

    # fmt: off
    dataset: str = "ring"  # mnist, fashion-mnist, ring, grid, mixture-1d or gaussian-1d
    model: str | None = None  # "mlp" for toy data, "unet" for images
    width: int | None = None  # hidden units of the MLP (128), or the U-Net's base channels (16)
    num_timesteps: int = 1000  # T, the noising steps (Ho et al. 2020 use 1000)
    schedule: str = "cosine"  # "cosine" (Nichol & Dhariwal 2021) or "linear" (Ho et al.)
    steps: int | None = None  # optimizer updates in all; None: until max_seconds
    max_seconds: float | None = None  # stop after this much training time; None: after `steps`
    batch_size: int | None = None  # examples per update: 512 for toy data, 64 for images
    lr: float | None = None  # Adam's learning rate: 1e-3
    ema_decay: float | None = 0.995  # moving average of the weights, sampled from; None: off
    seed: int = 0  # seeds the weights, the timesteps, the noise and the data order
    data_root: str | None = None  # where MNIST lives; None: $GAN_TEACH_DATA or ~/.cache/gan_teach/data
    device: str | None = None  # None: cuda, then mps, then cpu
    # fmt: on

    def resolve(self) -> DiffusionConfig:
        """A copy with each ``None`` filled from the recipe, validated.

        >>> DiffusionConfig(steps=10).resolve().model
        'mlp'
        """
        if self.dataset not in DATASETS:
            raise ValueError(
                f"unknown dataset {self.dataset!r}; choose one of: "
                f"{', '.join(DATASETS)}"
            )
        images = self.dataset in IMAGE_DATASETS
        # Images: sized for a CPU budget of minutes, not Ho et al.'s 35.7 M
        # parameters, batches of 128 and lr 2e-4 over 800k steps. A
        # 16-channel U-Net costs a quarter of a 32-channel one per pass;
        # batches of 64 give twice the updates for the same images; in a
        # pilot (300 updates of batch 64, width 16, one thread) lr 2e-4,
        # 1e-3 and 3e-3 ended at a noise-regression loss of 0.115, 0.072
        # and 0.066: 1e-3 is most of the gain with a safety margin.
        recipe = {
            "model": "unet" if images else "mlp",
            "width": 16 if images else 128,
            "batch_size": 64 if images else 512,
            "lr": 1e-3,
        }
        values = dataclasses.asdict(self)
        for key, default in recipe.items():
            if values[key] is None:
                values[key] = default
        resolved = DiffusionConfig(**values)
        resolved._validate()
        return resolved

    def _validate(self) -> None:
        if self.model not in DIFFUSION_MODELS:
            raise ValueError(
                f"unknown model {self.model!r}; choose one of: "
                f"{', '.join(DIFFUSION_MODELS)}"
            )
        images = self.dataset in IMAGE_DATASETS
        if (self.model == "unet") != images:
            wanted = "unet" if images else "mlp"
            raise ValueError(
                f"model {self.model!r} does not fit dataset "
                f"{self.dataset!r}; use model {wanted!r} (or None)"
            )
        if self.schedule not in SCHEDULES:
            raise ValueError(
                f"unknown schedule {self.schedule!r}; choose one of: "
                f"{', '.join(SCHEDULES)}"
            )
        if self.steps is None and self.max_seconds is None:
            raise ValueError(
                "set steps, max_seconds or both: a run needs an end"
            )
        for name in ("width", "num_timesteps", "steps", "batch_size"):
            value = getattr(self, name)
            if value is not None and not is_positive_int(value):
                raise ValueError(
                    f"{name} must be a positive integer, got {value!r}"
                )
        for name in ("max_seconds", "lr"):
            value = getattr(self, name)
            if value is not None and not (
                isinstance(value, (int, float))
                and not isinstance(value, bool)
                and math.isfinite(value)
                and value > 0
            ):
                raise ValueError(
                    f"{name} must be a positive number, got {value!r}"
                )
        if self.ema_decay is not None and not 0 < self.ema_decay < 1:
            raise ValueError(
                f"ema_decay must be in (0, 1) or None, got {self.ema_decay!r}"
            )
        if not isinstance(self.seed, int) or not 0 <= self.seed < MAX_SEED:
            raise ValueError(
                f"seed must be an integer in [0, 2**64), got {self.seed!r}"
            )

    def to_dict(self) -> dict[str, Any]:
        """Plain data for logs and checkpoints."""
        return dataclasses.asdict(self)


def build_denoiser(config: DiffusionConfig) -> nn.Module:
    """The noise predictor ``config`` names (resolve it first).

    >>> type(build_denoiser(DiffusionConfig(steps=1).resolve())).__name__
    'MLPDenoiser'
    """
    if config.model == "mlp":
        data_dim = toy_distribution(config.dataset).dim
        return MLPDenoiser(data_dim, hidden_dim=config.width)
    return UNetDenoiser(
        channels=1, image_size=28, base_channels=config.width
    )


@dataclass
class DiffusionRun:
    """A trained diffusion model and how it got there.

    Attributes:
        config: the resolved configuration.
        denoiser: the trained noise predictor.
        ema_denoiser: the moving average of its weights, or None.
        schedule: the noise schedule it was trained with.
        step: optimizer updates done.
        train_seconds: wall time spent in the training loop.
        history: ``{"step": [...], "loss": [...]}``, one entry per update.
        clip: the largest absolute value in the training data (1 for
            images in [-1, 1]); pass it as the samplers' ``clip``.
    """

    config: DiffusionConfig
    denoiser: nn.Module
    ema_denoiser: nn.Module | None
    schedule: NoiseSchedule
    step: int = 0
    train_seconds: float = 0.0
    history: dict[str, list[float]] = field(
        default_factory=lambda: {"step": [], "loss": []}
    )
    clip: float | None = None

    @property
    def sampling_denoiser(self) -> nn.Module:
        """The network to sample from, the EMA copy if there is one."""
        if self.ema_denoiser is not None:
            return self.ema_denoiser
        return self.denoiser


def train_diffusion(
    config: DiffusionConfig,
    *,
    data: torch.Tensor | None = None,
    callback: Callable[[DiffusionRun], None] | None = None,
    every: int = 100,
) -> DiffusionRun:
    """Train a denoiser until ``config.steps`` updates or ``max_seconds``.

    Each update (Ho et al.'s Algorithm 1): a batch ``x0`` of real
    examples, a timestep ``t`` and noise ``epsilon`` per example, one
    Adam step on ``|epsilon - denoiser(x_t, t)|^2``, then the moving
    average. The clock is read after every update, so a run stops within
    one update of its budget.

    Args:
        config: the run's configuration (resolved here).
        data: the real examples ``(N, ...)``; default:
            ``load_dataset(config.dataset)``, the GANs' tensors.
        callback: called with the run every ``every`` updates.
        every: how often ``callback`` is called.

    Returns:
        The :class:`DiffusionRun`, its networks in eval mode.

    Raises:
        ValueError: the data's shape does not fit the network, or there
            are fewer examples than one batch.
    """
    config = config.resolve()
    if not is_positive_int(every):
        raise ValueError(f"every must be a positive integer, got {every!r}")
    seed_everything(config.seed)
    device = get_device(config.device)
    denoiser = build_denoiser(config).to(device)
    if data is None:
        data = load_dataset(config.dataset, config.data_root)
    expected = tuple(denoiser.sample_shape)
    if tuple(data.shape[1:]) != expected or len(data) < config.batch_size:
        raise ValueError(
            f"{config.dataset} needs at least batch_size = "
            f"{config.batch_size} examples of shape {expected}; got data "
            f"of shape {tuple(data.shape)}"
        )
    data = data.to(device)
    run = DiffusionRun(
        config=config,
        denoiser=denoiser,
        ema_denoiser=(
            copy.deepcopy(denoiser).requires_grad_(False)
            if config.ema_decay is not None
            else None
        ),
        schedule=noise_schedule(config.num_timesteps, config.schedule),
        clip=float(data.abs().max()),  # the box the data live in
    )
    optimizer = torch.optim.Adam(denoiser.parameters(), lr=config.lr)
    sampler = epoch_sampler(data, config.seed)
    steps_per_epoch = len(sampler) // config.batch_size
    denoiser.train()
    started = time.perf_counter()
    epoch = 0
    while not _finished(run, started):
        # (steps, 1, B) shuffled indices, the GAN loop's batches
        batches = epoch_batches(
            sampler, epoch, steps_per_epoch, 1, config.batch_size, device
        )
        for indices in batches:
            x0 = data[indices[0]]  # (B, ...)
            loss = diffusion_loss(denoiser, run.schedule, x0)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if run.ema_denoiser is not None:
                update_ema(run.ema_denoiser, denoiser, config.ema_decay)
            run.step += 1
            run.history["step"].append(run.step)
            run.history["loss"].append(loss.item())
            if not math.isfinite(run.history["loss"][-1]):
                raise FloatingPointError(
                    f"the diffusion loss became {loss.item()} at step "
                    f"{run.step}; lower lr (now {config.lr})"
                )
            if callback is not None and run.step % every == 0:
                callback(run)
            if _finished(run, started):
                break
        epoch += 1
    run.train_seconds = time.perf_counter() - started
    denoiser.eval()
    return run


def _finished(run: DiffusionRun, started: float) -> bool:
    config = run.config
    if config.steps is not None and run.step >= config.steps:
        return True
    budget = config.max_seconds
    return budget is not None and time.perf_counter() - started >= budget
