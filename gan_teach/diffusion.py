"""Denoising diffusion (DDPM, Ho et al. 2020): schedule, noising, loss, samplers.

A diffusion model learns to undo a fixed noising process. The *forward*
process adds a little Gaussian noise at each of ``T`` steps::

    q(x_t | x_{t-1}) = N(sqrt(alpha_t) x_{t-1}, beta_t I),  alpha_t = 1 - beta_t,

and because a sum of Gaussians is Gaussian, any step has a closed form::

    q(x_t | x_0) = N(sqrt(alpha_bar_t) x_0, (1 - alpha_bar_t) I),
    alpha_bar_t = alpha_1 * alpha_2 * ... * alpha_t.

A network ``denoiser(x_t, t)`` is trained to predict the noise ``epsilon``
in ``x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) epsilon``
(:func:`diffusion_loss`, Ho et al.'s simplified loss). Sampling runs the
process backwards from pure noise: :func:`ddpm_sample` takes all ``T``
ancestral steps, one network pass each; :func:`ddim_sample` (Song et al.
2021, eta = 0) takes a few deterministic steps that skip most of the
timesteps. A GAN draws an image in one pass; a sampler's
:class:`SamplingResult` says how many passes each sample cost.

Timesteps are 0-based in code: ``t = 0`` is the first, least noisy step
(the paper's t = 1) and ``t = T - 1`` the last.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from .utils import evaluating, is_positive_int

__all__ = [
    "SCHEDULES",
    "NoiseSchedule",
    "noise_schedule",
    "q_sample",
    "noising_step",
    "diffusion_loss",
    "GaussianNoiseOracle",
    "SamplingResult",
    "ddim_timesteps",
    "ddpm_sample",
    "ddim_sample",
]

#: The noise schedules :func:`noise_schedule` knows.
SCHEDULES = ("cosine", "linear")
# beta never reaches 1: a step that destroys all signal cannot be inverted
# (Nichol & Dhariwal 2021 clip at 0.999 for the same reason).
MAX_BETA = 0.999

Denoiser = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class NoiseSchedule:
    """The variances ``beta_t`` of the forward process and what follows.

    Attributes:
        kind: ``"cosine"`` or ``"linear"``.
        betas: ``(T,)`` float64, the variance added at each step.
    """

    kind: str
    betas: torch.Tensor

    @property
    def num_steps(self) -> int:
        """``T``, the number of noising steps."""
        return len(self.betas)

    @property
    def alphas(self) -> torch.Tensor:
        """The signal each step keeps, ``alpha_t = 1 - beta_t``, ``(T,)``."""
        return 1.0 - self.betas

    @property
    def alpha_bars(self) -> torch.Tensor:
        """The signal's share of the variance at each step, ``(T,)``.

        Decreasing from near 1 (``t = 0``) to near 0 (``t = T - 1``).
        """
        return torch.cumprod(self.alphas, dim=0)


def noise_schedule(
    num_steps: int = 1000, kind: str = "cosine"
) -> NoiseSchedule:
    """The ``beta_t`` of a linear or cosine schedule over ``num_steps``.

    ``"linear"`` is Ho et al.'s: beta from 1e-4 to 0.02 over T = 1000,
    both ends scaled by ``1000 / T`` for other lengths (as in Nichol &
    Dhariwal's code). ``"cosine"`` is Nichol & Dhariwal's (2021):
    ``alpha_bar(t) = cos^2((t/T + s) / (1 + s) * pi/2)``, s = 0.008. The
    cosine schedule is the default here because on 28x28 images and on
    short schedules the linear one drives alpha_bar to nearly 0 long
    before T, so the last stretch of steps is almost pure noise and
    teaches the network little; the cosine one lowers alpha_bar evenly
    (their Figure 3) and leaves few-step samplers better steps to skip to.

    Args:
        num_steps: ``T``, at least 1.
        kind: ``"cosine"`` or ``"linear"``.

    Returns:
        The schedule; ``alpha_bars`` is strictly decreasing, in (0, 1).

    >>> noise_schedule(1000, "linear").betas[[0, -1]].tolist()
    [0.0001, 0.02]
    """
    if not is_positive_int(num_steps):
        raise ValueError(
            f"num_steps must be a positive integer (T, e.g. 1000), got "
            f"{num_steps!r}"
        )
    if kind not in SCHEDULES:
        raise ValueError(
            f"unknown noise schedule {kind!r}; choose one of: "
            f"{', '.join(SCHEDULES)}"
        )
    if kind == "linear":
        scale = 1000 / num_steps
        betas = torch.linspace(
            scale * 1e-4, scale * 0.02, num_steps, dtype=torch.float64
        )
    else:
        offset = 0.008  # s: keeps beta_1 from being vanishingly small
        grid = torch.arange(num_steps + 1, dtype=torch.float64)
        angles = (grid / num_steps + offset) / (1 + offset) * math.pi / 2
        alpha_bar = torch.cos(angles) ** 2  # (T + 1,)
        betas = 1 - alpha_bar[1:] / alpha_bar[:-1]
    return NoiseSchedule(kind, betas.clamp(max=MAX_BETA))


def _coefficient(
    values: torch.Tensor, t: torch.Tensor, like: torch.Tensor
) -> torch.Tensor:
    """``values[t]`` shaped to broadcast over ``like``: (B,) -> (B, 1, ...)."""
    picked = values.to(like.device)[t.to(like.device)].to(like.dtype)
    return picked.view(-1, *([1] * (like.dim() - 1)))


def _check_timesteps(
    schedule: NoiseSchedule, t: torch.Tensor, batch: int
) -> None:
    if (
        not isinstance(t, torch.Tensor)
        or t.dtype.is_floating_point
        or t.shape != (batch,)
    ):
        got = (
            f"{t.dtype} of shape {tuple(t.shape)}"
            if isinstance(t, torch.Tensor)
            else type(t).__name__
        )
        raise ValueError(
            f"t must be an integer tensor of shape ({batch},), one "
            f"timestep per example, got {got}. Use e.g. "
            f"torch.full(({batch},), step)"
        )
    if len(t) and (t.min() < 0 or t.max() >= schedule.num_steps):
        raise ValueError(
            f"timesteps run from 0 to T - 1 = {schedule.num_steps - 1}; "
            f"got values from {int(t.min())} to {int(t.max())}"
        )


def q_sample(
    schedule: NoiseSchedule,
    x0: torch.Tensor,
    t: torch.Tensor,
    noise: torch.Tensor | None = None,
) -> torch.Tensor:
    """Jump from clean data to step ``t`` in one go: a draw of q(x_t | x_0).

    ``x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) epsilon``.

    Args:
        schedule: the noise schedule.
        x0: clean examples ``(B, ...)``.
        t: ``(B,)`` integer timesteps in ``[0, T)``.
        noise: ``epsilon``, shaped like ``x0``; default: fresh ``randn``.

    Returns:
        ``x_t``, shaped like ``x0``.
    """
    _check_timesteps(schedule, t, len(x0))
    if noise is None:
        noise = torch.randn_like(x0)
    elif noise.shape != x0.shape:
        raise ValueError(
            f"noise must have the shape of x0, {tuple(x0.shape)}, got "
            f"{tuple(noise.shape)}"
        )
    alpha_bar = _coefficient(schedule.alpha_bars, t, x0)  # (B, 1, ...)
    return alpha_bar.sqrt() * x0 + (1 - alpha_bar).sqrt() * noise


def noising_step(
    schedule: NoiseSchedule,
    x_previous: torch.Tensor,
    t: torch.Tensor,
    noise: torch.Tensor | None = None,
) -> torch.Tensor:
    """One step of the forward process: a draw of q(x_t | x_{t-1}).

    ``x_t = sqrt(alpha_t) x_{t-1} + sqrt(beta_t) epsilon``. Applying it
    for ``t = 0, 1, ..., k`` gives the distribution :func:`q_sample`
    gives at step ``k`` (a test checks it).

    Args:
        schedule: the noise schedule.
        x_previous: ``x_{t-1}``, ``(B, ...)`` (for ``t = 0``, clean data).
        t: ``(B,)`` integer timesteps in ``[0, T)``.
        noise: shaped like ``x_previous``; default: fresh ``randn``.

    Returns:
        ``x_t``, shaped like ``x_previous``.
    """
    _check_timesteps(schedule, t, len(x_previous))
    if noise is None:
        noise = torch.randn_like(x_previous)
    alpha = _coefficient(schedule.alphas, t, x_previous)  # (B, 1, ...)
    return alpha.sqrt() * x_previous + (1 - alpha).sqrt() * noise


def diffusion_loss(
    denoiser: Denoiser,
    schedule: NoiseSchedule,
    x0: torch.Tensor,
    *,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Ho et al.'s simplified loss: ``E |epsilon - denoiser(x_t, t)|^2``.

    ``t`` is drawn uniformly from ``[0, T)`` per example and ``epsilon``
    from N(0, I); the squared error is averaged over every number, so the
    zero predictor scores exactly ``E[epsilon^2] = 1`` on average.

    Args:
        denoiser: ``(x_t (B, ...), t (B,)) -> predicted noise (B, ...)``.
        schedule: the noise schedule.
        x0: a batch of clean examples ``(B, ...)``.
        generator: a CPU ``torch.Generator`` for reproducible ``t`` and
            noise; ``None``: the global RNG on ``x0``'s device.

    Returns:
        The scalar loss, with a graph back into ``denoiser``.
    """
    batch = len(x0)
    if generator is None:
        t = torch.randint(schedule.num_steps, (batch,), device=x0.device)
        noise = torch.randn_like(x0)
    else:
        t = torch.randint(
            schedule.num_steps, (batch,), generator=generator
        ).to(x0.device)
        noise = torch.randn(
            x0.shape, generator=generator, dtype=x0.dtype
        ).to(x0.device)
    x_t = q_sample(schedule, x0, t, noise)  # (B, ...)
    predicted = _predict(denoiser, x_t, t)  # (B, ...)
    return torch.mean((predicted - noise) ** 2)


def _predict(
    denoiser: Denoiser, x_t: torch.Tensor, t: torch.Tensor
) -> torch.Tensor:
    predicted = denoiser(x_t, t)
    if predicted.shape != x_t.shape:
        raise ValueError(
            f"the denoiser must return noise shaped like its input "
            f"{tuple(x_t.shape)}, got {tuple(predicted.shape)}: its last "
            "layer should map back to the data's shape"
        )
    return predicted


class GaussianNoiseOracle(nn.Module):
    """The best possible noise predictor when the data are N(mean, std^2 I).

    Then ``x_t`` is Gaussian too, and the noise's conditional mean is
    known in closed form (a Gaussian regression)::

        E[epsilon | x_t] = sqrt(1 - ab) (x_t - sqrt(ab) mean)
                           / (ab std^2 + 1 - ab),   ab = alpha_bar_t.

    It minimises :func:`diffusion_loss`, and the samplers given it should
    return N(mean, std^2): the tests use it to check the samplers without
    training anything.

    Args:
        mean: the data's mean (one number, every coordinate).
        std: the data's standard deviation, > 0.
        schedule: the schedule it will be asked about.
        sample_shape: the shape of one example, e.g. ``(1,)``.
    """

    def __init__(
        self,
        mean: float,
        std: float,
        schedule: NoiseSchedule,
        sample_shape: tuple[int, ...] = (1,),
    ) -> None:
        super().__init__()
        if not std > 0:
            raise ValueError(f"std must be positive, got {std!r}")
        self.mean, self.std, self.schedule = (
            float(mean),
            float(std),
            schedule,
        )
        self.sample_shape = tuple(sample_shape)

    def forward(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        _check_timesteps(self.schedule, t, len(x_t))
        ab = _coefficient(self.schedule.alpha_bars, t, x_t)  # (B, 1, ...)
        variance = ab * self.std**2 + 1 - ab  # of x_t, per coordinate
        return (1 - ab).sqrt() * (x_t - ab.sqrt() * self.mean) / variance


@dataclass
class SamplingResult:
    """What a sampler drew and what it cost.

    Attributes:
        samples: ``(N, ...)`` on the CPU.
        forward_passes_per_sample: network evaluations each sample went
            through, counted as they ran (a GAN's is 1; DDPM's is T).
        sampler: ``"ddpm"`` or ``"ddim"``.
    """

    samples: torch.Tensor
    forward_passes_per_sample: float
    sampler: str


def ddim_timesteps(num_steps: int, sampling_steps: int) -> torch.Tensor:
    """The timesteps a ``sampling_steps``-step DDIM visits, evenly spaced.

    Returns:
        ``(sampling_steps,)`` increasing, ending at ``T - 1``.

    >>> ddim_timesteps(1000, 4).tolist()
    [249, 499, 749, 999]
    """
    if not is_positive_int(sampling_steps) or sampling_steps > num_steps:
        raise ValueError(
            f"sampling_steps must be an integer from 1 to T = {num_steps}, "
            f"got {sampling_steps!r}"
        )
    ends = torch.arange(1, sampling_steps + 1, dtype=torch.float64)
    return (ends * num_steps / sampling_steps).round().long() - 1


@torch.no_grad()
def ddpm_sample(
    denoiser: Denoiser,
    schedule: NoiseSchedule,
    num_samples: int,
    *,
    seed: int | None = None,
    clip: float | None = None,
    batch_size: int = 1000,
    sample_shape: tuple[int, ...] | None = None,
) -> SamplingResult:
    """Ancestral sampling (Ho et al.'s Algorithm 2): T steps from noise.

    Each step predicts the clean example from the noise estimate,
    ``x0 = (x_t - sqrt(1 - ab_t) eps) / sqrt(ab_t)``, and draws ``x_{t-1}``
    from the forward process's posterior q(x_{t-1} | x_t, x0), whose
    variance is ``beta_t (1 - ab_{t-1}) / (1 - ab_t)`` (0 at the last
    step). Without ``clip`` this is exactly Ho et al.'s update.

    Args:
        denoiser: the noise predictor (in eval mode while sampling).
        schedule: the schedule it was trained with.
        num_samples: how many samples.
        seed: fixes all the noise (its own RNG); ``None``: the global RNG.
            The noise of each step is drawn batch by batch, so the same
            seed with another ``batch_size`` gives other samples.
        clip: clamp each ``x0`` estimate to ``[-clip, clip]`` (1 for
            images in [-1, 1]); ``None``: no clamping (toy data).
        batch_size: samples per network pass.
        sample_shape: one sample's shape; default: the denoiser's
            ``sample_shape`` attribute.

    Returns:
        The samples and ``forward_passes_per_sample`` (T).
    """
    return _sample(
        "ddpm",
        denoiser,
        schedule,
        torch.arange(schedule.num_steps),
        num_samples,
        seed,
        clip,
        batch_size,
        sample_shape,
    )


@torch.no_grad()
def ddim_sample(
    denoiser: Denoiser,
    schedule: NoiseSchedule,
    num_samples: int,
    sampling_steps: int = 50,
    *,
    seed: int | None = None,
    clip: float | None = None,
    batch_size: int = 1000,
    sample_shape: tuple[int, ...] | None = None,
) -> SamplingResult:
    """Deterministic DDIM sampling (Song et al. 2021, eta = 0).

    From ``x_t`` it estimates ``x0`` and ``eps``, then jumps to the next
    visited step ``s < t`` with no fresh noise:
    ``x_s = sqrt(ab_s) x0 + sqrt(1 - ab_s) eps``. Same trained network,
    ``sampling_steps`` passes instead of T.

    Clamp ``x0`` (``clip``) to the data's range: the first step divides
    the network's error by ``sqrt(alpha_bar)`` at ``T - 1``, about 5e-5
    for the cosine schedule at T = 1000, and a deterministic sampler
    never corrects it. On the ring, after 30 s of training, DDIM with 10
    steps covered 0 of 8 modes unclamped and 8 of 8 clamped to [-3, 3]
    (measured; DDPM's noisy steps recover on their own).

    Args:
        denoiser: the noise predictor.
        schedule: the schedule it was trained with.
        num_samples: how many samples.
        sampling_steps: network passes per sample, 1 to T.
        seed: fixes the starting noise; ``None``: the global RNG.
        clip: clamp each ``x0`` estimate to ``[-clip, clip]``; ``None``: no.
        batch_size: samples per network pass.
        sample_shape: one sample's shape; default: ``denoiser.sample_shape``.

    Returns:
        The samples and ``forward_passes_per_sample`` (``sampling_steps``).
    """
    visited = ddim_timesteps(schedule.num_steps, sampling_steps)
    return _sample(
        "ddim",
        denoiser,
        schedule,
        visited,
        num_samples,
        seed,
        clip,
        batch_size,
        sample_shape,
    )


def _sample(
    sampler: str,
    denoiser: Denoiser,
    schedule: NoiseSchedule,
    visited: torch.Tensor,
    num_samples: int,
    seed: int | None,
    clip: float | None,
    batch_size: int,
    sample_shape: tuple[int, ...] | None,
) -> SamplingResult:
    for name, value in (
        ("num_samples", num_samples),
        ("batch_size", batch_size),
    ):
        if not is_positive_int(value):
            raise ValueError(
                f"{name} must be a positive integer, got {value!r}"
            )
    if clip is not None and not clip > 0:
        raise ValueError(f"clip must be positive or None, got {clip!r}")
    if sample_shape is None:
        sample_shape = getattr(denoiser, "sample_shape", None)
        if sample_shape is None:
            raise ValueError(
                "pass sample_shape, one sample's shape such as (2,) or "
                "(1, 28, 28): this denoiser has no sample_shape attribute"
            )
    parameter = next(iter(getattr(denoiser, "parameters", list)()), None)
    device = parameter.device if parameter is not None else "cpu"
    rng = torch.Generator().manual_seed(seed) if seed is not None else None
    passes = 0  # sum over network calls of the samples in the call

    def counted(x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        nonlocal passes
        passes += len(x_t)
        return _predict(denoiser, x_t, t)

    pieces = []
    module = denoiser if isinstance(denoiser, nn.Module) else nn.Identity()
    # All the starting noise at once, on the CPU: DDIM's samples depend
    # neither on the device nor on batch_size.
    start_noise = torch.randn(num_samples, *sample_shape, generator=rng)
    loop = _ddpm_loop if sampler == "ddpm" else _ddim_loop
    with evaluating(module):
        for x in start_noise.split(batch_size):  # (b, ...) each
            x = loop(counted, schedule, visited, x.to(device), clip, rng)
            pieces.append(x.cpu())
    return SamplingResult(torch.cat(pieces), passes / num_samples, sampler)


def _x0_and_noise(
    denoiser: Denoiser,
    schedule: NoiseSchedule,
    x: torch.Tensor,
    t: int,
    clip: float | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The estimates of x0 and eps at step ``t``, x0 clamped if asked."""
    timesteps = torch.full((len(x),), t, device=x.device)  # (B,)
    noise = denoiser(x, timesteps)  # (B, ...)
    alpha_bar = float(schedule.alpha_bars[t])
    x0 = (x - math.sqrt(1 - alpha_bar) * noise) / math.sqrt(alpha_bar)
    if clip is not None:
        x0 = x0.clamp(-clip, clip)
        # the noise that, with the clamped x0, gives back x_t
        noise = (x - math.sqrt(alpha_bar) * x0) / math.sqrt(1 - alpha_bar)
    return x0, noise


def _ddpm_loop(
    denoiser: Denoiser,
    schedule: NoiseSchedule,
    visited: torch.Tensor,
    x: torch.Tensor,
    clip: float | None,
    rng: torch.Generator | None,
) -> torch.Tensor:
    """All T ancestral steps on one batch of noise ``x`` (B, ...)."""
    betas, alpha_bars = schedule.betas, schedule.alpha_bars
    for t in reversed(visited.tolist()):
        x0, _ = _x0_and_noise(denoiser, schedule, x, t, clip)
        alpha_bar = float(alpha_bars[t])
        previous = float(alpha_bars[t - 1]) if t > 0 else 1.0
        beta = float(betas[t])
        # the mean of q(x_{t-1} | x_t, x0) (Ho et al., equation 7)
        mean = (
            math.sqrt(previous) * beta / (1 - alpha_bar) * x0
            + math.sqrt(1 - beta) * (1 - previous) / (1 - alpha_bar) * x
        )
        variance = beta * (1 - previous) / (1 - alpha_bar)
        if t > 0:
            fresh = torch.randn(x.shape, generator=rng).to(x.device)
            x = mean + math.sqrt(variance) * fresh
        else:
            x = mean  # the last step adds no noise
    return x


def _ddim_loop(
    denoiser: Denoiser,
    schedule: NoiseSchedule,
    visited: torch.Tensor,
    x: torch.Tensor,
    clip: float | None,
    rng: torch.Generator | None,
) -> torch.Tensor:
    """The deterministic DDIM jumps through ``visited`` on one batch."""
    steps = visited.tolist()
    for index in reversed(range(len(steps))):
        x0, noise = _x0_and_noise(denoiser, schedule, x, steps[index], clip)
        # the next visited step's alpha_bar; 1 after the last: clean data
        previous = (
            float(schedule.alpha_bars[steps[index - 1]]) if index else 1.0
        )
        x = math.sqrt(previous) * x0 + math.sqrt(1 - previous) * noise
    return x
