"""What the live lab in the HTML book needs from the library: its settings, and runs to check its trainer against.

The lab chapter's page carries a small JavaScript trainer (``book/_ext/live_lab/gan_lab_engine.js``) that
trains the lab's GAN in the reader's browser. It holds no numbers of its own: :func:`page_data` gathers
every setting (the toy distributions, the losses with their Adam betas, the lab's defaults, the network's
depth) from the library, and the book's ``live_lab`` Sphinx extension writes it into the page at build time.

:func:`record_lab_run` is the other half of the promise that the page teaches the same algorithm: it
drives a :class:`~gan_teach.instruments.lab.session.LabSession` (so :func:`~gan_teach.train.discriminator_step`,
:func:`~gan_teach.train.generator_step` and :func:`~gan_teach.train.train_step`, unchanged) and records
everything random that went in (the initial weights, each real batch, each noise draw) and everything
that came out (the metrics and the weights after every update, and the lab's pictures at the end).
``tests/test_lab_js_parity.py`` replays the record in the page's trainer under Node and compares.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import json
from collections.abc import Iterator, Sequence

import torch
from torch import nn

from ...config import build_models
from ...data import toy_distribution
from ...losses import LOSSES
from ...metrics import toy_metrics
from .pictures import (
    LAYERS,
    capture_frame,
    discriminator_heatmap,
    draw_plane,
    generator_gradients,
    generator_manifold,
    lab_bounds,
)
from .session import LAB_DATASETS, OPTIMIZERS, LabSession, LabSettings

__all__ = [
    "ACTIONS",
    "page_data",
    "page_data_script",
    "record_lab_run",
    "network_parameters",
]

#: The lab's buttons D step, G step and Step.
ACTIONS = (
    "discriminator",
    "generator",
    "step",
)


def _network_shape(settings: LabSettings) -> dict:
    """The depth and activations of the lab's MLPs, read off the networks the library builds."""
    config = settings.to_config()
    generator, discriminator = build_models(config)
    generator_linears = [
        m for m in generator.modules() if isinstance(m, nn.Linear)
    ]
    discriminator_linears = [
        m for m in discriminator.modules() if isinstance(m, nn.Linear)
    ]
    leaky = [
        m.negative_slope
        for m in discriminator.modules()
        if isinstance(m, nn.LeakyReLU)
    ]
    if any(isinstance(m, nn.BatchNorm1d) for m in generator.modules()):
        raise ValueError(
            "the live lab's trainer has no batch norm, but the lab's generator has some: "
            "keep generator_batch_norm=False in LabSettings.to_config or teach the trainer batch norm"
        )
    if len(set(leaky)) != 1 or len(generator_linears) != len(
        discriminator_linears
    ):
        raise ValueError(
            f"the live lab expects one LeakyReLU slope and equally deep networks, got slopes {leaky}, "
            f"{len(generator_linears)} and {len(discriminator_linears)} linear layers"
        )
    return {
        "num_hidden": len(generator_linears) - 1,
        "leaky_slope": leaky[0],
        "generator_batch_norm": bool(config.generator_batch_norm),
    }


def _defaults(function) -> dict:
    """A function's keyword defaults: the lab's picture settings, read where the Python lab defines them."""
    return {
        name: parameter.default
        for name, parameter in inspect.signature(
            function
        ).parameters.items()
        if parameter.default is not inspect.Parameter.empty
        and name not in ("layers",)
    }


def page_data() -> dict:
    """Everything the in-page lab needs to know, from the library: plain JSON-able data.

    >>> page_data()["network"]  # the lab's MLPs: three hidden layers, no batch norm in the generator
    {'num_hidden': 3, 'leaky_slope': 0.2, 'generator_batch_norm': False}

    Returns:
        One dictionary with the keys ``datasets`` (name -> ``{centers, std, bounds, num_modes}``),
        ``losses`` (name -> ``{uses_sigmoid, gradient_penalty_weight, beta1, beta2}``),
        ``defaults`` (:class:`~gan_teach.instruments.lab.session.LabSettings`' fields),
        ``optimizers``, ``layers``, ``network`` (``{num_hidden, leaky_slope, generator_batch_norm}``),
        ``num_fixed_samples``, ``quality_every`` and ``pictures`` (the defaults of
        :func:`~gan_teach.instruments.lab.pictures.capture_frame`,
        :func:`~gan_teach.instruments.lab.pictures.generator_manifold` and
        :func:`~gan_teach.instruments.lab.pictures.draw_plane`).
    """
    defaults = LabSettings()
    datasets = {}
    for name in LAB_DATASETS:
        distribution = toy_distribution(name)
        datasets[name] = {
            "centers": [list(center) for center in distribution.centers],
            "std": distribution.std,
            "bounds": list(lab_bounds(name)),
            "num_modes": distribution.num_modes,
        }
    losses = {}
    for name, loss in LOSSES.items():
        config = dataclasses.replace(
            defaults, loss=name
        ).to_config()  # the recipe's betas for this loss
        losses[name] = {
            "uses_sigmoid": loss.uses_sigmoid,
            "gradient_penalty_weight": loss.gradient_penalty_weight,
            "beta1": config.beta1,
            "beta2": config.beta2,
        }
    quality_every = (
        inspect.signature(LabSession).parameters["quality_every"].default
    )
    return {
        "datasets": datasets,
        "losses": losses,
        "defaults": dataclasses.asdict(defaults),
        "optimizers": list(OPTIMIZERS),
        "layers": list(LAYERS),
        "network": _network_shape(defaults),
        "num_fixed_samples": defaults.to_config().num_fixed_samples,
        "quality_every": quality_every,
        "pictures": {
            **_defaults(capture_frame),
            **_defaults(generator_manifold),
            **_defaults(draw_plane),
        },
    }


def page_data_script() -> str:
    """:func:`page_data` as a classic script (``window.GAN_LAB_DATA = {...};``): pages opened from file:// load it."""
    return (
        "// Written by gan_teach.instruments.lab.page.page_data() when the book is built; do not edit.\n"
        f"window.GAN_LAB_DATA = {json.dumps(page_data(), indent=1)};\n"
    )


def network_parameters(module: nn.Module) -> list[list[float]]:
    """Every parameter tensor of ``module``, flattened, in ``module.parameters()`` order (weights are (out, in))."""
    return [
        parameter.detach().double().flatten().tolist()
        for parameter in module.parameters()
    ]


@contextlib.contextmanager
def _recorded_noise() -> Iterator[list[tuple[str, torch.Tensor]]]:
    """Record every ``torch.randn`` / ``torch.rand`` draw from the global RNG (the training noise) in order.

    Draws with their own ``generator=`` (the real batches, the fixed noise) are not training noise and are skipped.
    """
    draws: list[tuple[str, torch.Tensor]] = []
    originals = {"randn": torch.randn, "rand": torch.rand}

    def recording(kind):
        def draw(*args, **kwargs):
            values = originals[kind](*args, **kwargs)
            if kwargs.get("generator") is None:
                draws.append((kind, values.detach().clone()))
            return values

        return draw

    torch.randn, torch.rand = recording("randn"), recording("rand")
    try:
        yield draws
    finally:
        torch.randn, torch.rand = originals["randn"], originals["rand"]


def _group_noise(draws: list[tuple[str, torch.Tensor]]) -> list[dict]:
    """One entry per update of a network: ``{"z": ...}`` from a ``randn``, plus ``"epsilon"`` from a following ``rand``."""
    groups: list[dict] = []
    for kind, values in draws:
        if kind == "randn":
            groups.append({"z": values.double().flatten().tolist()})
        else:  # WGAN-GP's mixing weights belong to the discriminator update that drew z just before
            groups[-1]["epsilon"] = values.double().flatten().tolist()
    return groups


@contextlib.contextmanager
def _default_dtype(dtype: torch.dtype) -> Iterator[None]:
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


def record_lab_run(
    settings: LabSettings,
    actions: Sequence[str],
    resolution: int = 12,
    num_arrows: int = 16,
    dtype: torch.dtype = torch.float32,
) -> dict:
    """Run the lab with ``settings`` through ``actions`` and record what a replay needs and what it must reproduce.

    Args:
        settings: the lab's settings (small widths keep the record small).
        actions: each one of :data:`ACTIONS`: a D step, a G step, or a full step (k D steps, then a G step).
        resolution: heat-map grid points per axis for the recorded picture.
        num_arrows: how many fixed fakes get a recorded gradient arrow.
        dtype: ``torch.float32`` (how the lab trains) or ``torch.float64``: the networks, the noise and the real
            batches in double precision, for a replay that must agree to float64's rounding. The library
            still computes each loss in float32 (``.float()`` in ``discriminator_step``, there for mixed
            precision), and it casts WGAN-GP's penalty inputs to float32, which a float64 network rejects.

    Returns:
        JSON-able data, ``settings`` (with the resolved betas and the loss's penalty weight), ``initial``
        and per-update ``parameters`` (``{"generator": [...], "discriminator": [...]}``), and per update its
        ``action``, ``real_batches``, ``noise`` and ``metrics``; and, for float32, the pictures at the end:
        ``fixed_noise``, ``heatmap``, ``manifold``, ``arrow_tails`` and ``arrow_gradients``, and the
        ``toy_metrics`` of the fixed fakes.
    """
    unknown = sorted(set(actions) - set(ACTIONS))
    if unknown:
        raise ValueError(
            f"unknown lab actions {unknown}; each action is one of {', '.join(ACTIONS)}"
        )
    if dtype not in (torch.float32, torch.float64):
        raise ValueError(
            f"dtype must be torch.float32 or torch.float64, got {dtype}"
        )
    if (
        dtype == torch.float64
        and LOSSES[settings.loss].gradient_penalty_weight
    ):
        raise ValueError(
            f"loss {settings.loss!r} cannot be recorded in float64: gan_teach.train computes its "
            "gradient penalty on float32 inputs (real.float()); record it with dtype=torch.float32"
        )
    with _default_dtype(
        dtype
    ):  # the networks, the fixed noise and every noise draw in this precision
        return _record(settings, actions, resolution, num_arrows, dtype)


def _record(
    settings: LabSettings,
    actions: Sequence[str],
    resolution: int,
    num_arrows: int,
    dtype: torch.dtype,
) -> dict:
    session = LabSession(settings)
    state = session.state
    config = state.config
    record: dict = {
        "settings": {
            **dataclasses.asdict(session.settings),
            "beta1": config.beta1,
            "beta2": config.beta2,
            "gradient_penalty_weight": state.loss.gradient_penalty_weight,
            "uses_sigmoid": state.loss.uses_sigmoid,
            **_network_shape(session.settings),
        },
        "initial": {
            "generator": network_parameters(state.generator),
            "discriminator": network_parameters(state.discriminator),
        },
        "updates": [],
    }
    drawn_batches: list[torch.Tensor] = []
    draw_real_batch = session.real_batch

    def recorded_real_batch() -> torch.Tensor:
        batch = draw_real_batch().to(
            dtype
        )  # the toy distributions sample in float32
        drawn_batches.append(batch)
        return batch

    session.real_batch = recorded_real_batch  # the session's own stream of real batches, recorded as it is drawn
    for action in actions:
        drawn_batches.clear()
        with _recorded_noise() as draws:
            if action == "discriminator":
                metrics = session.d_step()
            elif action == "generator":
                metrics = session.g_step()
            else:
                metrics = session.full_step()
        record["updates"].append(
            {
                "action": action,
                "real_batches": [
                    batch.double().flatten().tolist()
                    for batch in drawn_batches
                ],
                "noise": _group_noise(draws),
                "metrics": {
                    key: float(value) for key, value in metrics.items()
                },
                "parameters": {
                    "generator": network_parameters(state.generator),
                    "discriminator": network_parameters(
                        state.discriminator
                    ),
                },
            }
        )
    if (
        dtype == torch.float32
    ):  # the lab's pictures run in float32 (they call .float() on the points)
        record.update(_pictures(session, resolution, num_arrows))
    return record


def _pictures(
    session: LabSession, resolution: int, num_arrows: int
) -> dict:
    """The lab's pictures of the session now: heat map, manifold, arrows, and the fixed fakes' toy metrics."""
    state = session.state
    bounds = lab_bounds(session.settings.dataset)
    fixed_fakes = session.fixed_fakes()  # (512, 2)
    rows, columns = generator_manifold(state)
    return {
        "fixed_noise": state.fixed_noise.double().flatten().tolist(),
        "bounds": list(bounds),
        "resolution": resolution,
        "heatmap": discriminator_heatmap(state, bounds, resolution)
        .flatten()
        .tolist(),
        "manifold": {
            "rows": rows.reshape(-1).tolist(),
            "columns": columns.reshape(-1).tolist(),
            "num_lines": rows.shape[0],
            "points_per_line": rows.shape[1],
            "latent_range": _defaults(generator_manifold)["latent_range"],
        },
        "arrow_tails": fixed_fakes[:num_arrows].double().flatten().tolist(),
        "arrow_gradients": generator_gradients(
            state, fixed_fakes[:num_arrows]
        )
        .double()
        .flatten()
        .tolist(),
        "toy_metrics": toy_metrics(fixed_fakes, session.distribution),
        "centers": [
            list(center) for center in session.distribution.centers
        ],
        "std": session.distribution.std,
    }
