"""The machinery around the algorithm that the book does not show.

:mod:`gan_teach.train` reads like the paper because the engineering sits here, behind one call each:

- :func:`players`: G and D as plain functions of their input, with the class labels bound for a
  conditional GAN and mixed precision (autocast) inside; they return float32.
- :func:`penalties`: WGAN-GP's gradient penalty and R1, computed in float32 outside autocast.
- :func:`update`: zero the gradients, backpropagate (through the AMP loss scaler if any), record the
  gradient norm, step the optimizer, and for the generator update its moving average.
- distributed training (:func:`init_distributed`, :func:`wrap_distributed`, :func:`rank`), the
  shuffled index blocks of an epoch (:func:`epoch_batches`), and the deferred NaN check
  (:func:`flush_metrics`), which moves the metrics to the CPU once every few steps.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DistributedSampler
from torchvision.utils import save_image

from .losses import gradient_penalty, r1_penalty
from .state import TrainState
from .utils import unwrap

__all__ = [
    "TrainingDivergedError",
    "players",
    "conditioned",
    "penalties",
    "score_metrics",
    "update",
    "update_ema",
    "ema_decay_at",
    "recalibrate_batch_norm",
    "gradient_norm",
    "set_learning_rates",
    "init_distributed",
    "wrap_distributed",
    "rank",
    "world_size",
    "epoch_sampler",
    "epoch_batches",
    "flush_metrics",
    "non_finite",
    "saved_tensors",
    "check_finite",
    "save_grid",
]

Network = Callable[[torch.Tensor], torch.Tensor]


class TrainingDivergedError(FloatingPointError):
    """A loss or a weight became NaN or infinite; the message names the step and the last good checkpoint."""


def conditioned(network: nn.Module, labels: torch.Tensor | None) -> Network:
    """``network`` as a function of its first input: ``x -> network(x, labels)`` if labels."""
    if labels is None:
        return network
    return lambda inputs: network(inputs, labels)


def players(
    state: TrainState,
    labels: torch.Tensor | None = None,
    *,
    draw_labels: int = 0,
) -> tuple[Network, Network]:
    """G and D as functions of ``z`` and ``x``: labels bound, autocast inside, float32 out.

    Args:
        state: the run (its networks, its autocast dtype).
        labels: for a conditional GAN, the class of each example ``(B,)``.
        draw_labels: for a conditional GAN given no labels, draw this many uniformly at
            random instead (the generator's update does); 0: labels are required.

    Returns:
        ``(generator, discriminator)``.
    """
    if state.conditional and labels is None:
        if not draw_labels:
            raise ValueError(
                "a conditional GAN needs the class labels of each real batch (real_labels=...)"
            )
        num_classes = unwrap(state.generator).num_classes
        labels = torch.randint(
            num_classes, (draw_labels,), device=state.device
        )
    if not state.conditional and labels is not None:
        raise ValueError(
            f"labels were given, but model {state.config.model!r} is not conditional"
        )

    def play(network: nn.Module) -> Network:
        def forward(inputs: torch.Tensor) -> torch.Tensor:
            with _autocast(state):
                outputs = conditioned(network, labels)(inputs)
            # mixed precision computes in float16/bfloat16: the losses
            # want float32; float32 and float64 networks keep their dtype
            low = outputs.dtype in (torch.float16, torch.bfloat16)
            return outputs.float() if low else outputs

        return forward

    return play(state.generator), play(state.discriminator)


def _autocast(state: TrainState) -> contextlib.AbstractContextManager:
    if state.amp_dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(
        device_type=state.device.type, dtype=state.amp_dtype
    )


def penalties(
    state: TrainState,
    real: torch.Tensor,
    fake: torch.Tensor,
    labels: torch.Tensor | None = None,
) -> tuple[torch.Tensor | float, dict[str, torch.Tensor]]:
    """The discriminator's penalties in use (WGAN-GP, R1), weighted and summed; 0.0 if none.

    Returns:
        ``(total, metrics)``; ``metrics`` holds ``gradient_penalty`` / ``r1_penalty`` unweighted.
    """
    critic = conditioned(
        state.discriminator, labels
    )  # in float32, outside autocast
    total: torch.Tensor | float = 0.0
    metrics: dict[str, torch.Tensor] = {}
    weight = state.loss.gradient_penalty_weight
    if weight:
        penalty = gradient_penalty(critic, real.float(), fake.float())
        total = total + weight * penalty
        metrics["gradient_penalty"] = penalty.detach()
    config = state.config
    if config.r1_gamma and state.epoch >= config.r1_start_epoch:
        r1 = r1_penalty(critic, real.float())
        total = total + config.r1_gamma / 2 * r1
        metrics["r1_penalty"] = r1.detach()
    return total, metrics


def score_metrics(
    d_loss: torch.Tensor,
    real_logits: torch.Tensor,
    fake_logits: torch.Tensor,
    d_grad_norm: torch.Tensor,
) -> dict[str, torch.Tensor]:
    """What a discriminator step records: its loss, D's mean outputs and raw scores, its norm."""
    real_logits, fake_logits = real_logits.detach(), fake_logits.detach()
    return {
        "d_loss": d_loss.detach(),
        "d_real": torch.sigmoid(real_logits).mean(),
        "d_fake": torch.sigmoid(fake_logits).mean(),
        "real_score": real_logits.mean(),
        "fake_score": fake_logits.mean(),
        "d_grad_norm": d_grad_norm,
    }


def update(
    state: TrainState, player: str, loss: torch.Tensor
) -> torch.Tensor:
    """One optimizer step of ``player`` ("generator" or "discriminator") on ``loss``.

    Zeroes the gradients, backpropagates (through the float16 loss scaler if any), steps the
    optimizer, and for the generator updates its moving average.

    Returns:
        The L2 norm of the player's gradients (unscaled).
    """
    if player not in ("generator", "discriminator"):
        raise ValueError(
            f"player must be 'generator' or 'discriminator', got {player!r}"
        )
    module = getattr(state, player)
    optimizer = getattr(state, f"{player}_optimizer")
    scaler = getattr(state, f"{player}_scaler")
    optimizer.zero_grad(set_to_none=True)
    if scaler is None:
        loss.backward()
        norm = gradient_norm(module)
        optimizer.step()
    else:
        scaler.scale(loss).backward()
        scaler.unscale_(
            optimizer
        )  # so that the recorded norm is the true one
        norm = gradient_norm(module)
        scaler.step(optimizer)
        scaler.update()
    if player == "generator" and state.ema_generator is not None:
        update_ema(
            state.ema_generator,
            unwrap(module),
            ema_decay_at(state.config.ema_decay, state.step),
        )
    return norm


@torch.no_grad()
def recalibrate_batch_norm(
    state: TrainState, batches: int = 10, batch_size: int = 512
) -> None:
    """Re-estimate the batch-norm statistics of the moving-average generator from its own samples.

    :func:`update_ema` copies the live generator's running statistics, but the averaged weights
    produce other activations than the live ones: sampled in eval mode, the average would be
    normalised with other means and variances. On MNIST this cost 6 to 30 FID points after a minute of
    training, when the average lags the live weights most, and nothing from the third minute on, where the
    copied statistics were as good or up to 3 points better (benchmarks/README.md), so ``train`` does not
    call it: call it before sampling from a short run's average. This runs the average in training
    mode on ``batches`` batches of
    fresh noise (its own random stream: the run's noise is untouched) and keeps the cumulative mean.
    Does nothing without a moving average or without batch norm.
    """
    generator = state.ema_generator
    if generator is None:
        return
    norms = [
        module
        for module in generator.modules()
        if isinstance(module, nn.modules.batchnorm._BatchNorm)
    ]
    if not norms:
        return
    momenta = [norm.momentum for norm in norms]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # a cumulative average over the batches below
    random = torch.Generator().manual_seed(state.config.seed + state.step)
    was_training = generator.training
    generator.train()
    for _ in range(batches):
        z = torch.randn(batch_size, state.latent_dim, generator=random)
        inputs = [z.to(state.device)]
        if state.conditional:
            classes = torch.randint(
                unwrap(state.generator).num_classes,
                (batch_size,),
                generator=random,
            )
            inputs.append(classes.to(state.device))
        generator(*inputs)
    generator.train(was_training)
    for norm, momentum in zip(norms, momenta):
        norm.momentum = momentum


def gradient_norm(module: nn.Module) -> torch.Tensor:
    """The L2 norm of all of a module's gradients together."""
    norms = [
        p.grad.detach().norm(2)
        for p in module.parameters()
        if p.grad is not None
    ]
    return torch.stack(norms).norm(2) if norms else torch.zeros(())


def ema_decay_at(decay: float, step: int) -> float:
    """The moving average's decay at generator update ``step`` (0 for the first): ``decay``, but at most
    ``(1 + step) / (10 + step)``.

    An average that starts as the untrained generator forgets it slowly: with 0.999, 63 % of it is still the
    starting weights after 468 updates. Capping the decay early (as TensorFlow's ExponentialMovingAverage
    does) makes the average span about a ninth of the updates so far (at most ``1 / (1 - decay)``), so a
    short run samples from a trained average; with 0.999 the cap stops mattering at update 8,990.

    >>> [round(ema_decay_at(0.999, step), 4) for step in (0, 90, 990, 8990, 20000)]
    [0.1, 0.91, 0.991, 0.999, 0.999]
    """
    return min(decay, (1 + step) / (10 + step))


def update_ema(
    ema_generator: nn.Module, generator: nn.Module, decay: float
) -> None:
    """``ema <- decay * ema + (1 - decay) * weights``; buffers (batch norm's) are copied."""
    with torch.no_grad():
        for ema_parameter, parameter in zip(
            ema_generator.parameters(), generator.parameters()
        ):
            ema_parameter.lerp_(parameter, 1 - decay)
        for ema_buffer, buffer in zip(
            ema_generator.buffers(), generator.buffers()
        ):
            ema_buffer.copy_(buffer)


def set_learning_rates(state: TrainState, fraction: float) -> None:
    """Both optimizers' learning rates at ``fraction`` of the configured ones."""
    config = state.config
    for optimizer, base in (
        (state.generator_optimizer, config.lr_generator),
        (state.discriminator_optimizer, config.lr_discriminator),
    ):
        for group in optimizer.param_groups:
            group["lr"] = base * fraction


def rank() -> int:
    """This process's number under ``torchrun`` (0 when not distributed)."""
    return dist.get_rank() if dist.is_initialized() else 0


def world_size() -> int:
    """The number of processes under ``torchrun`` (1 when not distributed)."""
    return dist.get_world_size() if dist.is_initialized() else 1


def init_distributed() -> bool:
    """Join the process group when launched by ``torchrun`` (``WORLD_SIZE`` > 1)."""
    if dist.is_initialized():
        return True
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return False
    dist.init_process_group(
        backend="nccl" if torch.cuda.is_available() else "gloo"
    )
    return True


def wrap_distributed(state: TrainState) -> None:
    """Wrap both networks in DistributedDataParallel (once), so gradients are averaged."""
    if isinstance(state.generator, nn.parallel.DistributedDataParallel):
        return
    device_ids = (
        [state.device.index] if state.device.type == "cuda" else None
    )
    DDP = nn.parallel.DistributedDataParallel
    state.generator = DDP(state.generator, device_ids=device_ids)
    state.discriminator = DDP(state.discriminator, device_ids=device_ids)


def epoch_sampler(data: torch.Tensor, seed: int) -> DistributedSampler:
    """This process's share of each epoch's shuffle.

    A DistributedSampler also serves a single process: its shuffle depends only on
    ``(seed, epoch)``, which makes resuming exact.
    """
    return DistributedSampler(
        data,
        num_replicas=world_size(),
        rank=rank(),
        shuffle=True,
        seed=seed,
        drop_last=True,
    )


def epoch_batches(
    sampler: DistributedSampler,
    epoch: int,
    steps: int,
    d_steps: int,
    batch_size: int,
    device: torch.device,
) -> torch.Tensor:
    """The epoch's shuffled example indices, one block of ``d_steps`` batches per step.

    Returns:
        ``(steps, d_steps, batch_size)`` indices.
    """
    sampler.set_epoch(epoch)
    order = torch.tensor(
        list(sampler), device=device
    )  # this process's shuffled indices
    return order[: steps * d_steps * batch_size].view(
        steps, d_steps, batch_size
    )


def flush_metrics(
    state: TrainState,
    pending: list[dict[str, torch.Tensor]],
    checkpoint: Path | None,
) -> None:
    """Move pending metrics to the history (one device sync); stop if a loss is not finite."""
    if not pending:
        return
    first_step = state.step - len(pending)
    keys = list(pending[0])
    # (steps, keys)
    values = torch.stack(
        [torch.stack([m[k].float() for k in keys]) for m in pending]
    ).cpu()
    for row_index, row in enumerate(values.tolist()):
        for key, value in zip(keys, row):
            if key in ("d_loss", "g_loss") and not math.isfinite(value):
                step = first_step + row_index + 1
                if checkpoint and checkpoint.exists():
                    where = f"the last good checkpoint is {checkpoint}"
                else:
                    where = "no checkpoint was written"
                raise TrainingDivergedError(
                    f"{key} became {value} at step {step} (epoch {state.epoch + 1}); "
                    f"{where}. Lower the learning rates, or try loss 'non-saturating' "
                    "or 'wgan-gp'."
                )
            state.history.setdefault(key, []).append(value)
    pending.clear()


def non_finite(tensors: dict[str, torch.Tensor]) -> list[str]:
    """The names of the floating-point tensors that hold a NaN or an infinity.

    One device sync per device, however many tensors.

    >>> non_finite({"a": torch.ones(2), "b": torch.tensor([1.0, float("nan")])})
    ['b']
    """
    by_device: dict[torch.device, list[tuple[str, torch.Tensor]]] = {}
    for name, tensor in tensors.items():
        if (
            torch.is_tensor(tensor)
            and tensor.is_floating_point()
            and tensor.numel()
        ):
            by_device.setdefault(tensor.device, []).append((name, tensor))
    found = []
    for named in by_device.values():
        # min and max carry a NaN through, and are far cheaper than isfinite
        extremes = torch.stack(
            [torch.stack(torch.aminmax(t.detach())) for _, t in named]
        )  # (tensors, 2)
        finite = torch.isfinite(extremes).all(dim=1)
        found += [
            name for (name, _), ok in zip(named, finite.tolist()) if not ok
        ]
    return found


def saved_tensors(state: TrainState) -> dict[str, torch.Tensor]:
    """Every tensor a checkpoint of ``state`` holds that training changes.

    The parameters and buffers of G, D and the EMA generator, and the optimizers' states
    (Adam's moment estimates), each under a name like ``generator.main.0.weight``.
    """
    tensors = {}
    modules = (
        ("generator", unwrap(state.generator)),
        ("discriminator", unwrap(state.discriminator)),
        ("ema_generator", state.ema_generator),
    )
    for prefix, module in modules:
        if module is not None:
            for name, tensor in module.state_dict().items():
                tensors[f"{prefix}.{name}"] = tensor
    optimizers = (
        ("generator_optimizer", state.generator_optimizer),
        ("discriminator_optimizer", state.discriminator_optimizer),
    )
    for prefix, optimizer in optimizers:
        for index, values in optimizer.state_dict()["state"].items():
            for name, tensor in values.items():
                tensors[f"{prefix}.state.{index}.{name}"] = tensor
    return tensors


def check_finite(state: TrainState, checkpoint: Path | None) -> None:
    """Stop if a weight, a buffer or an optimizer state is NaN or infinite.

    ``train`` calls it before every save, so that a diverged run never replaces the last good
    checkpoint (the losses are checked too, but the last step's update is saved before any loss
    has seen it).

    Raises:
        TrainingDivergedError: naming the first such tensor and the last good checkpoint.
    """
    found = non_finite(saved_tensors(state))
    if not found:
        return
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    # the epoch of the last step: the next one's if it is under way
    epoch = state.epoch + (1 if state.epoch_step else 0)
    if checkpoint is not None and checkpoint.exists():
        where = f"the last good checkpoint, {checkpoint}, is kept as it was"
    else:
        where = "nothing was saved"
    raise TrainingDivergedError(
        f"{found[0]}{more} became NaN or infinite by step {state.step} "
        f"(epoch {epoch}); {where}. Lower the learning rates, "
        "or try loss 'non-saturating' or 'wgan-gp'."
    )


def save_grid(images: torch.Tensor, path: Path) -> None:
    """Save images in [-1, 1] as one square PNG grid."""
    path.parent.mkdir(parents=True, exist_ok=True)
    nrow = int(math.sqrt(len(images))) or 1
    save_image(images, path, nrow=nrow, normalize=True, value_range=(-1, 1))
