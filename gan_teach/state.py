"""The state of a training run: the networks, their optimizers, and everything else that changes.

:func:`create_state` builds it from a :class:`~gan_teach.config.TrainConfig`;
:mod:`gan_teach.checkpoints` saves and restores it, so that a resumed run is the run that was never
interrupted; :mod:`gan_teach.train` changes it one update at a time.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field

import torch
import torch.distributed as dist
from torch import nn

from .config import TrainConfig, build_models
from .losses import GANLoss, get_loss
from .models import balanced_labels, is_conditional
from .utils import evaluating, get_device, seed_everything, unwrap

__all__ = ["TrainState", "create_state"]


@dataclass
class TrainState:
    """Everything a training run changes, so that it can be saved and resumed exactly.

    Attributes:
        config: the resolved configuration.
        generator, discriminator: the two networks (wrapped in DistributedDataParallel
            when distributed).
        generator_optimizer, discriminator_optimizer: their Adam optimizers.
        loss: the pair of losses in use.
        device: where the networks live.
        ema_generator: the moving average of the generator's weights, or None.
        generator_scaler, discriminator_scaler: float16 loss scalers on CUDA, else None.
        amp_dtype: the autocast dtype (float16 or bfloat16), None for full precision.
        step: generator updates done so far.
        epoch: epochs completed so far.
        epoch_step: generator updates done in the current, unfinished epoch.
        history: per-step values (``d_loss``, ``g_loss``, ``d_real``, ...), lists of floats.
        fixed_noise: the latent batch behind every progress sample.
        fixed_labels: for a conditional GAN, the class of each progress sample
            (0, 1, ..., 9, 0, 1, ...); else None.
        train_seconds: wall-clock seconds spent in :func:`~gan_teach.train.train` so far,
            over every resumed part of the run.
        samples: ``(step, samples)`` pairs, the fixed noise through the generator as
            training went.
    """

    config: TrainConfig
    generator: nn.Module
    discriminator: nn.Module
    generator_optimizer: torch.optim.Optimizer
    discriminator_optimizer: torch.optim.Optimizer
    loss: GANLoss
    device: torch.device
    ema_generator: nn.Module | None = None
    generator_scaler: torch.amp.GradScaler | None = None
    discriminator_scaler: torch.amp.GradScaler | None = None
    amp_dtype: torch.dtype | None = None  # None: full precision
    step: int = 0
    epoch: int = 0
    epoch_step: int = 0
    history: dict[str, list[float]] = field(default_factory=dict)
    fixed_noise: torch.Tensor | None = None
    fixed_labels: torch.Tensor | None = None
    train_seconds: float = 0.0
    samples: list[tuple[int, torch.Tensor]] = field(default_factory=list)

    @property
    def sampling_generator(self) -> nn.Module:
        """The generator to draw samples from, the EMA copy if there is one."""
        if self.ema_generator is not None:
            return self.ema_generator
        return unwrap(self.generator)

    @torch.no_grad()
    def fixed_samples(self) -> torch.Tensor:
        """The fixed noise through the sampling generator, in eval mode; on the CPU.

        ``train`` keeps one after every epoch in ``samples``; a callback can keep
        more: ``state.samples.append((state.step, state.fixed_samples()))``.
        """
        with evaluating(self.sampling_generator) as generator:
            if self.fixed_labels is None:
                samples = generator(self.fixed_noise)
            else:
                samples = generator(self.fixed_noise, self.fixed_labels)
        return samples.float().cpu()

    @property
    def latent_dim(self) -> int:
        """The size of the generator's input noise."""
        return unwrap(self.generator).latent_dim

    @property
    def conditional(self) -> bool:
        """True for a class-conditional GAN (the generator takes labels)."""
        return is_conditional(unwrap(self.generator))


def create_state(
    config: TrainConfig,
    generator: nn.Module | None = None,
    discriminator: nn.Module | None = None,
) -> TrainState:
    """Seed everything, then build the networks, optimizers and AMP scalers of ``config``.

    Args:
        config: the run's configuration (resolved here if needed).
        generator, discriminator: your own networks instead of the configured ones.
    """
    config = config.resolve()
    seed_everything(
        config.seed + (dist.get_rank() if dist.is_initialized() else 0)
    )
    device = get_device(config.device)
    if device.type == "cuda" and dist.is_initialized():
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        torch.cuda.set_device(device)
    built_generator, built_discriminator = build_models(config)
    generator = (generator or built_generator).to(device)
    discriminator = (discriminator or built_discriminator).to(device)
    betas = (config.beta1, config.beta2)
    amp_dtype = _autocast_dtype(config, device)
    # bfloat16 has float32's range: only float16 needs loss scaling.
    needs_scaler = amp_dtype == torch.float16
    # Its own RNG, so that drawing progress samples never changes the training noise.
    fixed_noise = torch.randn(
        config.num_fixed_samples,
        unwrap(generator).latent_dim,
        generator=torch.Generator().manual_seed(config.seed),
    ).to(device)
    fixed_labels = None
    if is_conditional(unwrap(generator)):
        num_classes = unwrap(generator).num_classes
        fixed_labels = balanced_labels(
            config.num_fixed_samples, num_classes, device
        )
    ema_generator = None
    if config.ema_decay:
        ema_generator = (
            copy.deepcopy(unwrap(generator)).eval().requires_grad_(False)
        )
    return TrainState(
        config=config,
        generator=generator,
        discriminator=discriminator,
        generator_optimizer=torch.optim.Adam(
            generator.parameters(), lr=config.lr_generator, betas=betas
        ),
        discriminator_optimizer=torch.optim.Adam(
            discriminator.parameters(),
            lr=config.lr_discriminator,
            betas=betas,
        ),
        loss=get_loss(config.loss),
        device=device,
        ema_generator=ema_generator,
        generator_scaler=_scaler(device, needs_scaler),
        discriminator_scaler=_scaler(device, needs_scaler),
        amp_dtype=amp_dtype,
        fixed_noise=fixed_noise,
        fixed_labels=fixed_labels,
    )


def _autocast_dtype(
    config: TrainConfig, device: torch.device
) -> torch.dtype | None:
    """float16 or bfloat16 on CUDA with ``amp``; bfloat16 on the CPU only if asked for."""
    if config.amp and device.type == "cuda":
        return (
            torch.bfloat16
            if torch.cuda.is_bf16_supported()
            else torch.float16
        )
    if config.cpu_bfloat16 and device.type == "cpu":
        # Opt-in: fast only where the CPU has bfloat16 units (AMX, AVX512-BF16).
        return torch.bfloat16
    return None


def _scaler(
    device: torch.device, enabled: bool
) -> torch.amp.GradScaler | None:
    return (
        torch.amp.GradScaler("cuda", enabled=enabled)
        if device.type == "cuda"
        else None
    )
