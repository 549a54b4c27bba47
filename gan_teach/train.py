"""The training loop: one readable ``train_step`` and a plain ``train`` loop around it.

``train_step`` is Algorithm 1 of Goodfellow et al. (2014): ``k`` discriminator updates, each on a
fresh real batch and fresh noise, then one generator update. ``train`` feeds it shuffled batches,
records a history, draws a fixed-noise sample after every epoch, saves checkpoints, and runs
unchanged on one CPU, one GPU, or under ``torchrun`` on several processes.
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DistributedSampler

from .config import TrainConfig, build_models
from .data import is_image_dataset, load_dataset, load_images
from .losses import GANLoss, get_loss, gradient_penalty, r1_penalty
from .utils import get_device, seed_everything

__all__ = [
    "TrainState", "TrainingDivergedError", "create_state", "discriminator_step", "generator_step", "train_step", "train",
    "update_ema", "unwrap",
]


class TrainingDivergedError(FloatingPointError):
    """A loss became NaN or infinite; the message names the step and the last good checkpoint."""


@dataclass
class TrainState:
    """Everything a training run changes, so that it can be saved and resumed exactly.

    Attributes:
        config: the resolved configuration.
        generator, discriminator: the two networks (wrapped in DistributedDataParallel when distributed).
        generator_optimizer, discriminator_optimizer: their Adam optimizers.
        loss: the pair of losses in use.
        device: where the networks live.
        ema_generator: the moving average of the generator's weights, or None.
        step: generator updates done so far.
        epoch: epochs completed so far.
        epoch_step: generator updates done in the current, unfinished epoch.
        history: per-step values (``d_loss``, ``g_loss``, ``d_real``, ``d_fake``, ...), lists of floats.
        fixed_noise: the latent batch behind every progress sample.
        fixed_labels: for a conditional GAN, the class of each progress sample (0, 1, ..., 9, 0, 1, ...); else None.
        train_seconds: wall-clock seconds spent in :func:`train` so far, over every resumed part of the run.
        samples: ``(step, samples)`` pairs, the fixed noise pushed through the generator as training went.
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
        """The generator to draw samples from: the EMA copy if there is one."""
        return self.ema_generator if self.ema_generator is not None else unwrap(self.generator)


def unwrap(module: nn.Module) -> nn.Module:
    """The plain module inside a DistributedDataParallel wrapper (or the module itself)."""
    return module.module if isinstance(module, nn.parallel.DistributedDataParallel) else module


def create_state(
    config: TrainConfig, generator: nn.Module | None = None, discriminator: nn.Module | None = None
) -> TrainState:
    """Seed everything, then build the networks, optimizers and AMP scalers that ``config`` describes.

    Args:
        config: the run's configuration (resolved here if needed).
        generator, discriminator: your own networks instead of the configured ones.
    """
    config = config.resolve()
    seed_everything(config.seed + _rank())
    device = get_device(config.device)
    if device.type == "cuda" and dist.is_initialized():
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        torch.cuda.set_device(device)
    built_generator, built_discriminator = build_models(config)
    generator = (generator or built_generator).to(device)
    discriminator = (discriminator or built_discriminator).to(device)
    betas = (config.beta1, config.beta2)
    amp_dtype = None
    if config.amp and device.type == "cuda":
        amp_dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    elif config.cpu_bfloat16 and device.type == "cpu":
        amp_dtype = torch.bfloat16  # opt-in: fast only where the CPU has bfloat16 units (AMX, AVX512-BF16)
    needs_scaler = amp_dtype == torch.float16  # bfloat16 has float32's range: no loss scaling needed
    fixed_noise = torch.randn(
        config.num_fixed_samples, unwrap(generator).latent_dim, generator=torch.Generator().manual_seed(config.seed)
    ).to(device)  # its own RNG, so that drawing progress samples never changes the training noise
    fixed_labels = None
    if config.model == "conditional":
        num_classes = unwrap(generator).num_classes
        fixed_labels = torch.arange(config.num_fixed_samples, device=device) % num_classes  # (num_fixed,) 0..9, 0..9, ...
    return TrainState(
        config=config,
        generator=generator,
        discriminator=discriminator,
        generator_optimizer=torch.optim.Adam(generator.parameters(), lr=config.lr_generator, betas=betas),
        discriminator_optimizer=torch.optim.Adam(discriminator.parameters(), lr=config.lr_discriminator, betas=betas),
        loss=get_loss(config.loss),
        device=device,
        ema_generator=copy.deepcopy(unwrap(generator)).eval().requires_grad_(False) if config.ema_decay else None,
        generator_scaler=torch.amp.GradScaler("cuda", enabled=needs_scaler) if device.type == "cuda" else None,
        discriminator_scaler=torch.amp.GradScaler("cuda", enabled=needs_scaler) if device.type == "cuda" else None,
        amp_dtype=amp_dtype,
        fixed_noise=fixed_noise,
        fixed_labels=fixed_labels,
    )


def _autocast(state: TrainState):
    if state.amp_dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=state.device.type, dtype=state.amp_dtype)


def _gradient_norm(module: nn.Module) -> torch.Tensor:
    """The L2 norm of all of a module's gradients together."""
    norms = [p.grad.detach().norm(2) for p in module.parameters() if p.grad is not None]
    return torch.stack(norms).norm(2) if norms else torch.zeros(())


def _optimizer_step(loss: torch.Tensor, module: nn.Module, optimizer, scaler) -> torch.Tensor:
    """Backpropagate ``loss``, step ``optimizer`` (through the AMP scaler if any); return the gradient norm."""
    optimizer.zero_grad(set_to_none=True)
    if scaler is None:
        loss.backward()
        norm = _gradient_norm(module)
        optimizer.step()
        return norm
    scaler.scale(loss).backward()
    scaler.unscale_(optimizer)  # so that the recorded norm is the true one
    norm = _gradient_norm(module)
    scaler.step(optimizer)
    scaler.update()
    return norm


def update_ema(ema_generator: nn.Module, generator: nn.Module, decay: float) -> None:
    """``ema <- decay * ema + (1 - decay) * weights``; buffers (batch-norm statistics) are copied."""
    with torch.no_grad():
        for ema_parameter, parameter in zip(ema_generator.parameters(), generator.parameters()):
            ema_parameter.lerp_(parameter, 1 - decay)
        for ema_buffer, buffer in zip(ema_generator.buffers(), generator.buffers()):
            ema_buffer.copy_(buffer)


def _conditioned(network: nn.Module, labels: torch.Tensor | None) -> Callable[[torch.Tensor], torch.Tensor]:
    """``network`` as a function of its first input alone: ``x -> network(x, labels)`` for a conditional GAN."""
    if labels is None:
        return network
    return lambda inputs: network(inputs, labels)


def _check_labels_given(state: TrainState, labels: torch.Tensor | None) -> None:
    """A ValueError unless labels are given exactly when the model is conditional."""
    conditional = state.config.model == "conditional"
    if conditional and labels is None:
        raise ValueError("a conditional GAN needs the class labels of each real batch (real_labels=...)")
    if not conditional and labels is not None:
        raise ValueError(f"labels were given, but model {state.config.model!r} is not conditional")


def discriminator_step(state: TrainState, real: torch.Tensor, labels: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """Block (1) of Algorithm 1 once: one discriminator update on one real batch; G does not change.

    Args:
        state: the networks, optimizers and loss; D's weights and optimizer change in place.
        real: a batch of real examples on ``state.device``.
        labels: for a conditional GAN, the class of each real example ``(B,)``; the fakes are made for the same classes.

    Returns:
        Detached scalars ``d_loss``, ``d_real`` and ``d_fake`` (the mean of sigmoid(D(.)) on real and fake
        examples), ``real_score`` and ``fake_score`` (the mean raw scores), ``d_grad_norm``, and
        ``gradient_penalty`` / ``r1_penalty`` when used.
    """
    _check_labels_given(state, labels)
    generator, loss = state.generator, state.loss
    critic = _conditioned(state.discriminator, labels)  # x -> D(x) or D(x, y)
    metrics: dict[str, torch.Tensor] = {}
    # (1) Update D: maximise log D(x) + log(1 - D(G(z))), i.e. minimise loss.discriminator_loss,
    #     with fresh noise. G is held fixed: its output is made without a graph.
    z = torch.randn(real.shape[0], unwrap(generator).latent_dim, device=state.device)  # (B, latent_dim)
    with _autocast(state):
        with torch.no_grad():
            fake = _conditioned(generator, labels)(z)  # same shape as `real`
        real_logits = critic(real)  # (B,)
        fake_logits = critic(fake)  # (B,)
        d_loss = loss.discriminator_loss(real_logits.float(), fake_logits.float())
    if loss.gradient_penalty_weight:
        penalty = gradient_penalty(critic, real.float(), fake.float())  # in float32, outside autocast
        d_loss = d_loss + loss.gradient_penalty_weight * penalty
        metrics["gradient_penalty"] = penalty.detach()
    if state.config.r1_gamma and state.epoch >= state.config.r1_start_epoch:
        r1 = r1_penalty(critic, real.float())
        d_loss = d_loss + state.config.r1_gamma / 2 * r1
        metrics["r1_penalty"] = r1.detach()
    d_grad_norm = _optimizer_step(d_loss, state.discriminator, state.discriminator_optimizer, state.discriminator_scaler)
    metrics.update(
        d_loss=d_loss.detach(),
        d_real=torch.sigmoid(real_logits.detach().float()).mean(),
        d_fake=torch.sigmoid(fake_logits.detach().float()).mean(),
        real_score=real_logits.detach().float().mean(),
        fake_score=fake_logits.detach().float().mean(),
        d_grad_norm=d_grad_norm,
    )
    return metrics


def generator_step(state: TrainState, batch_size: int, labels: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """Block (2) of Algorithm 1: one generator update on fresh noise; D does not change.

    Args:
        state: G's weights, its optimizer and the EMA copy (if any) change in place; ``state.step`` is not counted.
        batch_size: how many noise vectors.
        labels: for a conditional GAN, the classes to draw ``(batch_size,)``; default: uniformly at random.

    Returns:
        Detached scalars ``g_loss`` and ``g_grad_norm``.
    """
    generator, discriminator = state.generator, state.discriminator
    conditional = state.config.model == "conditional"
    z = torch.randn(batch_size, unwrap(generator).latent_dim, device=state.device)  # (B, latent_dim)
    if conditional and labels is None:
        labels = torch.randint(unwrap(generator).num_classes, (batch_size,), device=state.device)
    elif not conditional and labels is not None:
        raise ValueError(f"labels were given, but model {state.config.model!r} is not conditional")
    # (2) Update G: minimise loss.generator_loss, e.g. maximise log D(G(z)) (non-saturating)
    #     or minimise log(1 - D(G(z))) (minimax). D's gradients from this pass are discarded at its next update.
    with _autocast(state):
        generated_logits = _conditioned(discriminator, labels)(_conditioned(generator, labels)(z))  # (B,)
        g_loss = state.loss.generator_loss(generated_logits.float())
    g_grad_norm = _optimizer_step(g_loss, generator, state.generator_optimizer, state.generator_scaler)
    if state.ema_generator is not None:
        update_ema(state.ema_generator, unwrap(generator), state.config.ema_decay)
    return {"g_loss": g_loss.detach(), "g_grad_norm": g_grad_norm}


def train_step(
    state: TrainState, real_batches: Sequence[torch.Tensor], real_labels: Sequence[torch.Tensor] | None = None
) -> dict[str, torch.Tensor]:
    """One generator update after ``len(real_batches)`` discriminator updates (Algorithm 1).

    Args:
        state: the networks, optimizers and loss; changed in place.
        real_batches: ``k`` batches of real examples on ``state.device``, one per discriminator update.
        real_labels: for a conditional GAN, the class labels of each real batch, ``k`` tensors of shape ``(B,)``.
            The discriminator sees fakes made for the same labels as the reals; the generator's update
            draws its labels uniformly at random.

    Returns:
        The last :func:`discriminator_step`'s metrics and the :func:`generator_step`'s, in one dictionary.
    """
    if real_labels is None:
        real_labels = [None] * len(real_batches)
    elif len(real_labels) != len(real_batches):
        raise ValueError(f"got {len(real_batches)} real batches but {len(real_labels)} label batches")
    for real, labels in zip(real_batches, real_labels):  # (1) k discriminator updates, each on a fresh real batch
        metrics = discriminator_step(state, real, labels)  # checks that labels come exactly with a conditional model
    metrics.update(generator_step(state, real_batches[-1].shape[0]))  # (2) one generator update
    return metrics


def _rank() -> int:
    return dist.get_rank() if dist.is_initialized() else 0


def _world_size() -> int:
    return dist.get_world_size() if dist.is_initialized() else 1


def init_distributed() -> bool:
    """Join the process group when launched by ``torchrun`` (``WORLD_SIZE`` > 1); True if distributed."""
    if dist.is_initialized():
        return True
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return False
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    dist.init_process_group(backend=backend)
    return True


@torch.no_grad()
def _draw_fixed_samples(state: TrainState) -> torch.Tensor:
    """The fixed noise through the sampling generator, in eval mode; returns a CPU tensor."""
    generator = state.sampling_generator
    was_training = generator.training
    generator.eval()
    samples = _conditioned(generator, state.fixed_labels)(state.fixed_noise).float().cpu()
    generator.train(was_training)
    return samples


def _flush(state: TrainState, pending: list[dict[str, torch.Tensor]], first_step: int, checkpoint: Path | None) -> None:
    """Move pending metrics to the history (one device sync) and stop if any loss is not finite."""
    if not pending:
        return
    keys = list(pending[0])
    values = torch.stack([torch.stack([m[k].float() for k in keys]) for m in pending]).cpu()  # (steps, keys)
    for row_index, row in enumerate(values.tolist()):
        for key, value in zip(keys, row):
            if key in ("d_loss", "g_loss") and not math.isfinite(value):
                step = first_step + row_index + 1
                where = f"the last good checkpoint is {checkpoint}" if checkpoint and checkpoint.exists() else "no checkpoint was written"
                raise TrainingDivergedError(
                    f"{key} became {value} at step {step} (epoch {state.epoch + 1}); {where}. "
                    "Lower the learning rates, or try loss 'non-saturating' or 'wgan-gp'."
                )
            state.history.setdefault(key, []).append(value)
    pending.clear()


def train(
    config: TrainConfig | None = None,
    *,
    state: TrainState | None = None,
    data: torch.Tensor | None = None,
    labels: torch.Tensor | None = None,
    out_dir: str | os.PathLike | None = None,
    resume: str | os.PathLike | None = None,
    callback: Callable[[TrainState], None] | None = None,
    progress: bool | None = None,
) -> TrainState:
    """Train a GAN; return its state (networks, history, samples).

    Args:
        config: the run's configuration; ignored when ``state`` or ``resume`` is given.
        state: continue training this state (e.g. one made by :func:`create_state` with your own networks).
        data: the real examples, ``(N, ...)``; default: ``load_dataset(config.dataset)``.
        labels: for a conditional GAN, the class of each example, ``(N,)``; default: the dataset's labels.
        out_dir: if set, ``checkpoint.pt`` is written there after every epoch and at the end, and for
            images ``samples/epoch_NNN.png``; only process 0 writes.
        resume: a checkpoint to continue from, exactly where it stopped. With ``config``, its ``epochs`` or
            ``steps`` extend the run (with ``lr_decay`` the schedule then stretches to the new length).
        callback: called with the state after every epoch (and at the end).
        progress: show a progress bar; ``None``: only when the output is interactive.

    Returns:
        The final :class:`TrainState`.
    """
    from .checkpoints import load_checkpoint, save_checkpoint  # imported here: checkpoints imports this module

    distributed = init_distributed()
    if resume is not None:
        state = load_checkpoint(resume, config_overrides=_length_overrides(config))
    elif state is None:
        if config is None:
            raise ValueError("pass a TrainConfig, a state, or a checkpoint to resume")
        state = create_state(config)
    config = state.config
    if distributed and not isinstance(state.generator, nn.parallel.DistributedDataParallel):
        device_ids = [state.device.index] if state.device.type == "cuda" else None
        state.generator = nn.parallel.DistributedDataParallel(state.generator, device_ids=device_ids)
        state.discriminator = nn.parallel.DistributedDataParallel(state.discriminator, device_ids=device_ids)

    conditional = config.model == "conditional"
    if data is None:
        if conditional:
            data, labels = load_images(config.dataset, config.data_root, with_labels=True)
        else:
            data = load_dataset(config.dataset, config.data_root)
    if conditional and (labels is None or labels.shape != data.shape[:1]):
        got = "none" if labels is None else f"shape {tuple(labels.shape)}"
        raise ValueError(f"a conditional GAN needs one class label per example: {len(data)} examples, labels {got}")
    data = data.to(state.device)
    labels = labels.to(state.device) if conditional else None
    rank, world_size = _rank(), _world_size()
    # DistributedSampler also serves a single process: its shuffle depends only on (seed, epoch), which makes resuming exact.
    sampler = DistributedSampler(data, num_replicas=world_size, rank=rank, shuffle=True, seed=config.seed, drop_last=True)
    steps_per_epoch = len(sampler) // (config.batch_size * config.d_steps)
    if steps_per_epoch == 0:
        raise ValueError(
            f"the dataset has {len(data)} examples, too few for one step of batch_size {config.batch_size} "
            f"x d_steps {config.d_steps} x {world_size} process(es)"
        )
    total_steps = config.steps if config.steps is not None else config.epochs * steps_per_epoch

    writer = rank == 0 and out_dir is not None
    checkpoint_path = Path(out_dir) / "checkpoint.pt" if out_dir is not None else None
    if writer:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
    if not state.samples:
        state.samples.append((state.step, _draw_fixed_samples(state)))

    from tqdm.auto import tqdm

    if rank != 0:
        hide_bar = True
    else:
        hide_bar = None if progress is None else not progress  # None: tqdm hides it when stderr is not a terminal
    bar = tqdm(total=total_steps, initial=state.step, disable=hide_bar, desc=f"{config.dataset} {config.loss}",
               unit="step", leave=False)
    sync_every = 1 if state.device.type == "cpu" else 50  # one GPU-to-CPU copy per 50 steps
    pending: list[dict[str, torch.Tensor]] = []
    state.generator.train()
    state.discriminator.train()
    started, seconds_before = time.perf_counter(), state.train_seconds
    while state.step < total_steps:
        sampler.set_epoch(state.epoch)
        order = torch.tensor(list(sampler), device=state.device)  # this process's shuffled indices
        batches = order[: steps_per_epoch * config.d_steps * config.batch_size].view(
            steps_per_epoch, config.d_steps, config.batch_size
        )  # (steps, k, B)
        for indices in batches[state.epoch_step:]:
            if config.lr_decay:
                _set_learning_rates(state, fraction=1 - state.step / total_steps)
            label_batches = [labels[i] for i in indices] if conditional else None
            pending.append(train_step(state, [data[i] for i in indices], label_batches))
            state.step += 1
            state.epoch_step += 1
            bar.update(1)
            if len(pending) >= sync_every:
                _flush(state, pending, state.step - len(pending), checkpoint_path)
            if state.step >= total_steps:
                break
        _flush(state, pending, state.step - len(pending), checkpoint_path)
        if state.epoch_step == steps_per_epoch:
            state.epoch += 1
            state.epoch_step = 0
        state.samples.append((state.step, _draw_fixed_samples(state)))
        state.train_seconds = seconds_before + time.perf_counter() - started
        if writer:
            save_checkpoint(state, checkpoint_path)
            if is_image_dataset(config.dataset):
                _save_grid(state.samples[-1][1], Path(out_dir) / "samples" / f"epoch_{state.epoch:03d}.png")
        if callback is not None:
            callback(state)
    bar.close()
    return state


def _set_learning_rates(state: TrainState, fraction: float) -> None:
    """Scale both optimizers' learning rates to ``fraction`` of the configured ones (a function of the step only)."""
    for optimizer, base in ((state.generator_optimizer, state.config.lr_generator),
                            (state.discriminator_optimizer, state.config.lr_discriminator)):
        for group in optimizer.param_groups:
            group["lr"] = base * fraction


def _length_overrides(config: TrainConfig | None) -> dict:
    """When resuming, a config passed alongside may extend the run: take its epochs or steps."""
    if config is None:
        return {}
    if config.steps is not None:
        return {"steps": config.steps, "epochs": None}
    if config.epochs is not None:
        return {"epochs": config.epochs, "steps": None}
    return {}


def _save_grid(images: torch.Tensor, path: Path) -> None:
    from torchvision.utils import save_image

    path.parent.mkdir(parents=True, exist_ok=True)
    save_image(images, path, nrow=int(math.sqrt(len(images))) or 1, normalize=True, value_range=(-1, 1))
