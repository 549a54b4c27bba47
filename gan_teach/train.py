"""The training algorithm: the paper's two blocks, ``train_step``, and a plain loop around it.

``train_step`` is Algorithm 1 of Goodfellow et al. (2014): ``k`` discriminator updates, each on a
fresh real batch and fresh noise, then one generator update. ``train`` feeds it shuffled batches,
records a history, draws a fixed-noise sample after every epoch, saves checkpoints, calls back
every ``every`` steps, and runs unchanged on one CPU, one GPU, or under ``torchrun``. The
engineering the book does not show (mixed precision, penalties, DDP, the deferred NaN check)
lives in :mod:`gan_teach.engine`; the state in :mod:`gan_teach.state`.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from tqdm.auto import tqdm

from .checkpoints import load_checkpoint, save_checkpoint
from .config import TrainConfig
from .data import is_image_dataset, load_dataset, load_images
from .engine import (
    TrainingDivergedError,
    check_finite,
    epoch_batches,
    epoch_sampler,
    flush_metrics,
    init_distributed,
    penalties,
    players,
    rank,
    save_grid,
    score_metrics,
    set_learning_rates,
    update,
    world_size,
    wrap_distributed,
)
from .files import lock_folder
from .state import TrainState, create_state

__all__ = [
    "TrainingDivergedError",
    "discriminator_step",
    "generator_step",
    "train_step",
    "train",
]


def discriminator_step(
    state: TrainState,
    real: torch.Tensor,
    labels: torch.Tensor | None = None,
) -> dict[str, torch.Tensor]:
    """Block (1) of Algorithm 1 once: one D update on one real batch.

    Args:
        state: networks, optimizers, loss; D's weights and optimizer change.
        real: a batch of real examples on ``state.device``.
        labels: for a conditional GAN, the class of each example ``(B,)``.

    Returns:
        Detached scalars ``d_loss``; ``d_real`` and ``d_fake``, the mean
        sigmoid(D) on real and fake examples; the raw ``real_score`` and
        ``fake_score``; ``d_grad_norm``; and each penalty in use.
    """
    # (1) Update D: maximise log D(x) + log(1 - D(G(z))),
    #     i.e. minimise loss.discriminator_loss(D(x), D(G(z))).
    # G and D as plain functions: z -> G(z), x -> D(x)
    generator, discriminator = players(state, labels)
    # fresh noise, (B, latent_dim)
    z = torch.randn(len(real), state.latent_dim, device=state.device)
    with torch.no_grad():  # G is held fixed: no graph back into it
        fake = generator(z)  # like `real`
    real_logits = discriminator(real)  # (B,)
    fake_logits = discriminator(fake)  # (B,)
    d_loss = state.loss.discriminator_loss(real_logits, fake_logits)
    # WGAN-GP's gradient penalty and R1, when in use (else 0)
    penalty, penalty_metrics = penalties(state, real, fake, labels)
    d_loss = d_loss + penalty
    d_grad_norm = update(state, "discriminator", d_loss)  # backward, step D
    scores = score_metrics(d_loss, real_logits, fake_logits, d_grad_norm)
    return {**penalty_metrics, **scores}


def generator_step(
    state: TrainState, batch_size: int, labels: torch.Tensor | None = None
) -> dict[str, torch.Tensor]:
    """Block (2) of Algorithm 1: one generator update on fresh noise.

    Args:
        state: G's weights, its optimizer and its moving average change;
            ``state.step`` is not counted here.
        batch_size: how many noise vectors.
        labels: for a conditional GAN, the classes to draw, ``(B,)``;
            default: uniformly at random.

    Returns:
        Detached scalars ``g_loss`` and ``g_grad_norm``.
    """
    # (2) Update G: minimise loss.generator_loss(D(G(z))), e.g. maximise
    #     log D(G(z)) (non-saturating; minimax minimises log(1 - D(G(z)))).
    # fresh noise, (B, latent_dim)
    z = torch.randn(batch_size, state.latent_dim, device=state.device)
    generator, discriminator = players(state, labels, draw_labels=len(z))
    # (B,): this time with a graph back through G
    generated_logits = discriminator(generator(z))
    g_loss = state.loss.generator_loss(generated_logits)
    g_grad_norm = update(state, "generator", g_loss)  # backward, step G
    return {"g_loss": g_loss.detach(), "g_grad_norm": g_grad_norm}


def train_step(
    state: TrainState,
    real_batches: Sequence[torch.Tensor],
    real_labels: Sequence[torch.Tensor] | None = None,
) -> dict[str, torch.Tensor]:
    """One G update after ``len(real_batches)`` D updates (Algorithm 1).

    Args:
        state: the networks, optimizers and loss; changed in place.
        real_batches: ``k`` batches of real examples, one per D update.
        real_labels: for a conditional GAN, the labels of each real batch,
            ``k`` tensors ``(B,)``; the fakes for D get the same labels.

    Returns:
        The last D step's metrics and the G step's, in one dictionary.
    """
    if real_labels is None:
        real_labels = [None] * len(real_batches)
    elif len(real_labels) != len(real_batches):
        raise ValueError(
            f"got {len(real_batches)} real batches "
            f"but {len(real_labels)} label batches"
        )
    # (1) k discriminator updates, each on a fresh real batch
    for real, labels in zip(real_batches, real_labels):
        metrics = discriminator_step(state, real, labels)
    # (2) one generator update
    metrics.update(generator_step(state, real_batches[-1].shape[0]))
    return metrics


def train(
    config: TrainConfig | None = None,
    *,
    state: TrainState | None = None,
    data: torch.Tensor | None = None,
    labels: torch.Tensor | None = None,
    out_dir: str | os.PathLike | None = None,
    resume: str | os.PathLike | None = None,
    callback: Callable[[TrainState], None] | None = None,
    every: int | None = None,
    progress: bool | None = None,
) -> TrainState:
    """Train a GAN; return its state (networks, history, samples).

    Args:
        config: the run's configuration; ignored when ``state`` or ``resume`` is given.
        state: continue training this state (e.g. from :func:`~gan_teach.state.create_state`).
        data: the real examples, ``(N, ...)``; default: ``load_dataset(config.dataset)``.
        labels: for a conditional GAN, the class of each example, ``(N,)``;
            default: the dataset's labels.
        out_dir: if set, ``checkpoint.pt`` is written there after every epoch and at
            the end, and for images ``samples/epoch_NNN.png``; only process 0 writes,
            holding the folder's lock (``training.lock``) while it trains.
        resume: a checkpoint to continue from, exactly where it stopped. With
            ``config``, its ``epochs`` or ``steps`` extend the run.
        callback: called with the state after every epoch, or with ``every``,
            after every ``every``-th generator update (``state.step % every == 0``).
        every: call ``callback`` every this many steps instead of every epoch.
        progress: show a progress bar; ``None``: only when the output is interactive.

    Returns:
        The final :class:`~gan_teach.state.TrainState`.

    Raises:
        ~gan_teach.engine.TrainingDivergedError: a loss, a weight or an
            optimizer state became NaN or infinite; the last good checkpoint
            is left as it was.
        ~gan_teach.files.FolderInUseError: another running process trains
            into ``out_dir``.
    """
    if every is not None and (not isinstance(every, int) or every < 1):
        raise ValueError(
            f"every must be a positive number of steps, got {every!r}"
        )
    distributed = init_distributed()
    if resume is not None:
        overrides = config.length_overrides() if config is not None else {}
        state = load_checkpoint(resume, config_overrides=overrides)
    elif state is None:
        if config is None:
            raise ValueError(
                "pass a TrainConfig, a state, or a checkpoint to resume"
            )
        state = create_state(config)
    config = state.config
    if distributed:
        wrap_distributed(state)
    data, labels = _training_data(state, data, labels)
    sampler = epoch_sampler(data, config.seed)
    steps_per_epoch = len(sampler) // (config.batch_size * config.d_steps)
    if steps_per_epoch == 0:
        raise ValueError(
            f"the dataset has {len(data)} examples, too few for one step of batch_size "
            f"{config.batch_size} x d_steps {config.d_steps} x {world_size()} process(es)"
        )
    total_steps = (
        config.steps
        if config.steps is not None
        else config.epochs * steps_per_epoch
    )
    decay_start_step = config.lr_decay_start_epoch * steps_per_epoch
    if config.lr_decay and decay_start_step >= total_steps:
        raise ValueError(
            f"lr_decay_start_epoch={config.lr_decay_start_epoch} starts the decay at step "
            f"{decay_start_step}, but the run ends at step {total_steps}: start it earlier "
            "or train longer"
        )

    writer = rank() == 0 and out_dir is not None
    checkpoint_path = (
        Path(out_dir) / "checkpoint.pt" if out_dir is not None else None
    )
    if not state.samples:
        state.samples.append((state.step, state.fixed_samples()))
    # None: tqdm hides the bar when stderr is not a terminal
    hide_bar = (
        True
        if rank() != 0
        else (None if progress is None else not progress)
    )
    # One run at a time writes into out_dir: a second one refuses to start.
    with lock_folder(out_dir) if writer else contextlib.nullcontext():
        bar = tqdm(
            total=total_steps,
            initial=state.step,
            disable=hide_bar,
            unit="step",
            desc=f"{config.dataset} {config.loss}",
            leave=False,
        )
        sync_every = (
            1 if state.device.type == "cpu" else 50
        )  # one GPU-to-CPU copy per 50 steps
        pending: list[dict[str, torch.Tensor]] = []
        state.generator.train()
        state.discriminator.train()
        started, seconds_before = time.perf_counter(), state.train_seconds
        while state.step < total_steps:
            batches = epoch_batches(
                sampler,
                state.epoch,
                steps_per_epoch,
                config.d_steps,
                config.batch_size,
                state.device,
            )  # (steps, k, B)
            for indices in batches[state.epoch_step :]:
                if config.lr_decay:
                    # Full rates until decay_start_step, then a straight line down to 0 at total_steps.
                    decayed = max(state.step - decay_start_step, 0)
                    set_learning_rates(
                        state,
                        fraction=1
                        - decayed / (total_steps - decay_start_step),
                    )
                label_batches = (
                    [labels[i] for i in indices]
                    if labels is not None
                    else None
                )
                pending.append(
                    train_step(
                        state, [data[i] for i in indices], label_batches
                    )
                )
                state.step += 1
                state.epoch_step += 1
                bar.update(1)
                if len(pending) >= sync_every:
                    flush_metrics(state, pending, checkpoint_path)
                if (
                    callback is not None
                    and every is not None
                    and state.step % every == 0
                ):
                    flush_metrics(state, pending, checkpoint_path)
                    callback(state)
                if state.step >= total_steps:
                    break
            flush_metrics(state, pending, checkpoint_path)
            if state.epoch_step == steps_per_epoch:
                state.epoch += 1
                state.epoch_step = 0
            if (
                state.samples[-1][0] != state.step
            ):  # a callback may have drawn it
                state.samples.append((state.step, state.fixed_samples()))
            state.train_seconds = (
                seconds_before + time.perf_counter() - started
            )
            check_finite(state, checkpoint_path)
            if writer:
                save_checkpoint(state, checkpoint_path)
                if is_image_dataset(config.dataset):
                    path = (
                        Path(out_dir)
                        / "samples"
                        / f"epoch_{state.epoch:03d}.png"
                    )
                    save_grid(state.samples[-1][1], path)
            if callback is not None and every is None:
                callback(state)
        bar.close()
    return state


def _training_data(
    state: TrainState,
    data: torch.Tensor | None,
    labels: torch.Tensor | None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The examples (and a conditional GAN's labels) on the state's device."""
    config = state.config
    if data is None:
        if state.conditional:
            data, labels = load_images(
                config.dataset, config.data_root, with_labels=True
            )
        else:
            data = load_dataset(config.dataset, config.data_root)
    if not state.conditional:
        return data.to(state.device), None
    if labels is None or labels.shape != data.shape[:1]:
        got = "none" if labels is None else f"shape {tuple(labels.shape)}"
        raise ValueError(
            "a conditional GAN needs one class label per example: "
            f"{len(data)} examples, labels {got}"
        )
    return data.to(state.device), labels.to(state.device)
