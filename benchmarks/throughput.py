"""Benchmark: gan_teach's MNIST recipe against its previous recipe and pytorch/examples' DCGAN, in one run.

Three contenders: ``ours`` (``TrainConfig(dataset="mnist")``, the recipe as shipped), ``previous`` (the
recipe before it, spelled out in :data:`PREVIOUS_RECIPE`) and ``reference`` (pytorch/examples'
``dcgan/main.py``, see ``reference_dcgan.py``). Three measurements:

1. Throughput: real images consumed per second of training, after a warm-up, over ``--repeats``
   rounds in rotating order (the median is reported, with the ratios ours / reference and ours / previous).
2. How close to the hardware ours runs: its floating-point operations per image (forward and backward
   of one training step, counted by ``torch.utils.flop_counter``) times its images per second, beside
   the CPU's peak (cores x clock x FLOPs per cycle of its widest FMA units: an upper bound).
3. FID against wall-clock time: each model trains for ``--minutes`` of training time, and is scored
   with ``gan_teach.metrics.classifier_fid`` after every ``--minutes / --checkpoints``; evaluation time
   is not counted. The FID floor (real training images against the test set) is reported beside it.

Run from the repository root (see benchmarks/README.md):

    python benchmarks/throughput.py --quick          # smoke run, about a minute
    python benchmarks/throughput.py --minutes 8      # the real run, on an otherwise idle machine
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from reference_dcgan import (  # this script's own folder
    DownsampledGenerator,
    ReferenceDCGAN,
    resize_to_64,
)
from torch import nn

from gan_teach import (
    TrainConfig,
    count_parameters,
    create_state,
    load_images,
    seed_everything,
    train_step,
)

HERE = Path(__file__).resolve().parent
#: The MNIST recipe before the time-to-quality work (issue 16), for the comparison.
PREVIOUS_RECIPE = dict(
    width=32,
    batch_size=128,
    lr_generator=2e-4,
    lr_discriminator=2e-4,
    beta1=0.5,
    beta2=0.999,
    discriminator_norm="batch",
    minibatch_std=False,
    ema_decay=0.0,
)
# --quick replaces these settings: a few steps, 500-sample FID, a data subset (no 1 GB 64x64 copy).
QUICK_SETTINGS = dict(
    warmup_steps=1,
    steps=2,
    seconds=20.0,
    repeats=1,
    minutes=0.05,
    checkpoints=2,
    fid_samples=500,
    num_images=2048,
)


@dataclass
class Contender:
    """One model under test, reduced to what the benchmark needs."""

    name: str
    images: torch.Tensor  # its training set, in memory on the device: (N, 1, 28, 28) or (N, 1, 64, 64)
    batch_size: int  # real images per discriminator update
    batches_per_step: int  # discriminator updates per generator update (k)
    step: Callable[
        [list[torch.Tensor]], object
    ]  # one training update on k real batches
    fid_generator: (
        nn.Module
    )  # z (N, latent_dim) -> (N, 1, 28, 28) in [-1, 1], for the metrics
    details: dict  # what the results file records about it

    @property
    def images_per_step(self) -> int:
        return self.batch_size * self.batches_per_step


def build_ours(
    images: torch.Tensor,
    device: torch.device,
    seed: int,
    name: str = "gan_teach",
    **overrides,
) -> Contender:
    """gan_teach's DCGAN with the MNIST recipe of ``TrainConfig`` (changed by ``overrides``), trained by
    the library's ``train_step``."""
    state = create_state(
        TrainConfig(
            dataset="mnist", device=str(device), seed=seed, **overrides
        )
    )
    config = state.config
    return Contender(
        name=name,
        images=images.to(device),
        batch_size=config.batch_size,
        batches_per_step=config.d_steps,
        step=lambda real_batches: train_step(state, real_batches),
        fid_generator=state.sampling_generator,
        details={
            "image_size": 28,
            "latent_dim": config.latent_dim,
            "width": config.width,
            "batch_size": config.batch_size,
            "d_steps": config.d_steps,
            "loss": config.loss,
            "lr_generator": config.lr_generator,
            "lr_discriminator": config.lr_discriminator,
            "betas": [config.beta1, config.beta2],
            "ema_decay": config.ema_decay,
            "mixed_precision": str(state.amp_dtype),
            "generator_parameters": count_parameters(state.generator),
            "discriminator_parameters": count_parameters(
                state.discriminator
            ),
        },
    )


def build_reference(
    images_64: torch.Tensor, device: torch.device, seed: int
) -> Contender:
    """The pytorch/examples DCGAN (see reference_dcgan.py) on MNIST resized to 64x64."""
    seed_everything(seed)
    reference = ReferenceDCGAN(device)
    return Contender(
        name="pytorch/examples dcgan",
        images=images_64.to(device),
        batch_size=reference.batch_size,
        batches_per_step=1,
        step=lambda real_batches: reference.train_step(real_batches[0]),
        fid_generator=DownsampledGenerator(reference.generator),
        details={
            "image_size": 64,
            "latent_dim": 100,
            "width": 64,
            "batch_size": reference.batch_size,
            "d_steps": 1,
            "loss": "BCELoss on a sigmoid",
            "mixed_precision": "None",
            "generator_parameters": count_parameters(reference.generator),
            "discriminator_parameters": count_parameters(
                reference.discriminator
            ),
        },
    )


def batch_indices(
    num_images: int, contender: Contender, seed: int
) -> Iterator[torch.Tensor]:
    """Endless shuffled epochs of indices, ``(k, B)`` per training step."""
    if num_images < contender.images_per_step:
        raise ValueError(
            f"{contender.name} needs at least {contender.images_per_step} images per step, got {num_images}"
        )
    random = torch.Generator().manual_seed(seed)
    while True:
        order = torch.randperm(num_images, generator=random)  # (N,)
        for start in range(
            0,
            num_images - contender.images_per_step + 1,
            contender.images_per_step,
        ):
            yield order[start : start + contender.images_per_step].view(
                contender.batches_per_step, contender.batch_size
            )


def one_step(contender: Contender, indices: Iterator[torch.Tensor]) -> None:
    contender.step(
        [contender.images[batch] for batch in next(indices)]
    )  # k batches of (B, 1, S, S)


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work, so that the clock measures it; nothing to wait for on a CPU."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure_throughput(
    contender: Contender,
    indices: Iterator[torch.Tensor],
    args,
    device: torch.device,
) -> dict:
    """Images per second over ``args.steps`` steps (or ``args.seconds``, whichever ends first), after a warm-up."""
    for _ in range(args.warmup_steps):
        one_step(contender, indices)
    synchronize(device)
    start, steps = time.perf_counter(), 0
    while steps < args.steps and time.perf_counter() - start < args.seconds:
        one_step(contender, indices)
        steps += 1
    synchronize(device)
    seconds = time.perf_counter() - start
    return {
        "steps": steps,
        "seconds": seconds,
        "images_per_second": steps * contender.images_per_step / seconds,
    }


def fid_against_time(
    contender: Contender,
    indices: Iterator[torch.Tensor],
    args,
    device: torch.device,
) -> list[dict]:
    """Train for ``args.minutes`` of training time; score the FID at ``args.checkpoints`` evenly spaced times."""
    from gan_teach.metrics import (
        classifier_fid,  # imported late: the throughput part does not need it
    )

    budget = args.minutes * 60.0
    series, train_seconds, steps = [], 0.0, 0
    for checkpoint in range(1, args.checkpoints + 1):
        deadline = budget * checkpoint / args.checkpoints
        start = time.perf_counter()
        while train_seconds + time.perf_counter() - start < deadline:
            one_step(contender, indices)
            synchronize(
                device
            )  # so that the deadline is checked against finished work
            steps += 1
        train_seconds += time.perf_counter() - start
        evaluation_start = (
            time.perf_counter()
        )  # from here on the training clock is stopped
        fid = classifier_fid(
            contender.fid_generator,
            "mnist",
            num_samples=args.fid_samples,
            root=args.data_root,
            seed=args.seed,
        )
        series.append(
            {
                "train_seconds": round(train_seconds, 2),
                "steps": steps,
                "images_seen": steps * contender.images_per_step,
                "fid": fid,
                "evaluation_seconds": round(
                    time.perf_counter() - evaluation_start, 2
                ),
            }
        )
        print(
            f"  {contender.name:<24} {train_seconds:8.1f} s  step {steps:6d}  FID {fid:8.2f}",
            flush=True,
        )
    return series


def flops_per_image(
    contender: Contender, indices: Iterator[torch.Tensor]
) -> float:
    """Floating-point operations of one training step (all forward and backward passes), per real image.

    ``torch.utils.flop_counter`` counts the matrix products and convolutions (2 per multiply-add), which
    are nearly all of a DCGAN's arithmetic; element-wise work (activations, batch norm, Adam) is left out.
    """
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        one_step(contender, indices)
    return counter.get_total_flops() / contender.images_per_step


def cpu_peak_flops(threads: int) -> dict:
    """The CPU's peak float32 FLOP/s on ``threads`` cores: cores x clock x FLOPs per cycle (an upper bound).

    FLOPs per cycle per core from the widest fused multiply-add the CPU reports: AVX-512 16 lanes,
    AVX2 8, SSE 4, times 2 (a multiply and an add) times 2 FMA units. Some CPUs have one 512-bit unit or
    split 512-bit work in two halves, which halves the true peak: the figure is what the hardware could
    at most do, so the fraction of it reached is a lower bound.
    """
    flags, megahertz = set(), None
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as file:
            for line in file:
                key, _, value = line.partition(":")
                if key.strip() == "flags" and not flags:
                    flags = set(value.split())
                elif key.strip() == "cpu MHz" and megahertz is None:
                    megahertz = float(value)
    except OSError:
        return {"known": False}
    lanes = (
        16
        if "avx512f" in flags
        else 8
        if "avx2" in flags and "fma" in flags
        else 4
    )
    if megahertz is None:
        return {"known": False, "float32_lanes": lanes}
    per_cycle = lanes * 2 * 2  # multiply-add = 2 FLOPs, 2 FMA units
    return {
        "known": True,
        "cores": threads,
        "clock_ghz": round(megahertz / 1000, 3),
        "float32_lanes": lanes,
        "flops_per_cycle_per_core": per_cycle,
        "peak_flops": threads * megahertz * 1e6 * per_cycle,
    }


def machine_info(device: torch.device) -> dict:
    info = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "usable_cpus": usable_cpu_count(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "device": str(device),
        "load_average_at_start": os.getloadavg()
        if hasattr(os, "getloadavg")
        else None,
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def usable_cpu_count() -> int:
    """The cores this process may run on (a container can allow fewer than ``os.cpu_count()``)."""
    return (
        len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count() or 1
    )


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke run; replaces {', '.join(QUICK_SETTINGS)}",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=usable_cpu_count(),
        help="torch threads, both models (default: all cores)",
    )
    parser.add_argument(
        "--device",
        default="cpu",
        help="cpu (default) or cuda; both models run there",
    )
    parser.add_argument(
        "--warmup-steps",
        type=int,
        default=5,
        help="untimed steps before each throughput round",
    )
    parser.add_argument(
        "--steps",
        type=int,
        default=100,
        help="timed steps per throughput round",
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=120.0,
        help="a throughput round also ends after this long",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="throughput rounds per model, alternating the order",
    )
    parser.add_argument(
        "--minutes",
        type=float,
        default=8.0,
        help="training-time budget per model for FID against time",
    )
    parser.add_argument(
        "--checkpoints",
        type=int,
        default=4,
        help="FID evaluations per model, evenly spaced in time",
    )
    parser.add_argument(
        "--fid-samples",
        type=int,
        default=10_000,
        help="generated images per FID",
    )
    parser.add_argument(
        "--num-images",
        type=int,
        default=None,
        help="use only the first N training images (default: all)",
    )
    parser.add_argument(
        "--skip-fid",
        action="store_true",
        help="measure throughput only (no gan_teach.metrics needed)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--data-root",
        default=None,
        help="MNIST folder; default $GAN_TEACH_DATA",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="results JSON (default: benchmarks/results.json, or results_quick.json with --quick)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        vars(args).update(QUICK_SETTINGS)
    if args.out is None:
        args.out = HERE / (
            "results_quick.json" if args.quick else "results.json"
        )
    for name in ("threads", "steps", "repeats", "checkpoints"):
        if getattr(args, name) < 1:
            raise ValueError(
                f"--{name} must be at least 1, got {getattr(args, name)}"
            )
    if args.fid_samples < 2:
        raise ValueError(
            f"--fid-samples must be at least 2 (a covariance needs two samples), got {args.fid_samples}"
        )
    return args


def main(argv: list[str] | None = None) -> dict:
    args = parse_arguments(argv)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    images = load_images("mnist", args.data_root, train=True)[
        : args.num_images
    ]  # (N, 1, 28, 28) in [-1, 1]
    images_64 = resize_to_64(
        images
    )  # (N, 1, 64, 64): once, up front, held in memory
    results = {
        "machine": machine_info(device),
        "settings": vars(args),
        "num_training_images": len(images),
    }
    print(
        f"{len(images)} MNIST images, {args.threads} thread(s), device {device}, torch {torch.__version__}"
    )

    builders = {
        "ours": lambda: build_ours(images, device, args.seed),
        "previous": lambda: build_ours(
            images,
            device,
            args.seed,
            name="gan_teach, previous recipe",
            **PREVIOUS_RECIPE,
        ),
        "reference": lambda: build_reference(images_64, device, args.seed),
    }
    contenders = {key: build() for key, build in builders.items()}
    results["models"] = {
        key: {"name": c.name, **c.details} for key, c in contenders.items()
    }
    indices = {
        key: batch_indices(len(images), c, args.seed)
        for key, c in contenders.items()
    }
    rounds: dict[str, list[dict]] = {key: [] for key in contenders}
    print("\nThroughput (real images per second of training):")
    for repeat in range(args.repeats):
        keys = list(contenders)
        shift = repeat % len(keys)
        order = keys[shift:] + keys[:shift]  # none always goes first
        for key in order:
            measured = measure_throughput(
                contenders[key], indices[key], args, device
            )
            rounds[key].append(measured)
            print(
                f"  round {repeat + 1}  {contenders[key].name:<24} {measured['images_per_second']:9.1f} images/s"
                f"  ({measured['steps']} steps in {measured['seconds']:.1f} s)",
                flush=True,
            )
    medians = {
        key: statistics.median(r["images_per_second"] for r in rounds[key])
        for key in rounds
    }
    ratio = medians["ours"] / medians["reference"]
    ratio_previous = medians["ours"] / medians["previous"]
    results["throughput"] = {
        "rounds": rounds,
        "median_images_per_second": medians,
        "ratio_ours_over_reference": ratio,
        "ratio_ours_over_previous": ratio_previous,
    }
    print(
        f"  median: ours {medians['ours']:.1f}, previous {medians['previous']:.1f}, "
        f"reference {medians['reference']:.1f}; ours / reference = {ratio:.2f}x, "
        f"ours / previous = {ratio_previous:.2f}x"
    )
    flops = {
        key: flops_per_image(contenders[key], indices[key])
        for key in contenders
    }
    peak = cpu_peak_flops(args.threads) if device.type == "cpu" else {}
    achieved = flops["ours"] * medians["ours"]
    results["hardware"] = {
        "flops_per_image": flops,
        "ours_achieved_flops": achieved,
        "cpu_peak": peak,
        "ours_fraction_of_peak": achieved / peak["peak_flops"]
        if peak.get("known")
        else None,
    }
    print(
        "  FLOPs per image (one training step, forward and backward): "
        + ", ".join(
            f"{key} {value / 1e6:.1f} M" for key, value in flops.items()
        )
    )
    if peak.get("known"):
        print(
            f"  ours: {achieved / 1e9:.1f} GFLOP/s of a {peak['peak_flops'] / 1e9:.0f} GFLOP/s peak "
            f"({100 * achieved / peak['peak_flops']:.1f} %)"
        )

    if not args.skip_fid:
        from gan_teach.metrics import classifier_fid_floor

        print(
            f"\nFID ({args.fid_samples} samples) against training time, {args.minutes:g} min per model:"
        )
        results["fid_against_time"] = {}
        for (
            key,
            build,
        ) in (
            builders.items()
        ):  # fresh networks: the throughput rounds above trained the others
            contender = build()
            results["fid_against_time"][key] = fid_against_time(
                contender,
                batch_indices(len(images), contender, args.seed),
                args,
                device,
            )
        floor = classifier_fid_floor(
            "mnist",
            root=args.data_root,
            num_samples=args.fid_samples,
            seed=args.seed,
        )
        results["fid_floor"] = floor
        print(
            f"  FID floor (real training images, same sample size): {floor:.2f}"
        )

    results["machine"]["load_average_at_end"] = (
        os.getloadavg() if hasattr(os, "getloadavg") else None
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"\nwrote {args.out}")
    return results


if __name__ == "__main__":
    main()
