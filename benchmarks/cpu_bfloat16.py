"""Benchmark: one training step of the library's width-64 MNIST DCGAN on the CPU, float32 against bfloat16 autocast.

``TrainConfig(cpu_bfloat16=True)`` (``gan-teach train --cpu-bf16``) runs the networks under
``torch.autocast("cpu", dtype=torch.bfloat16)``; weights, gradients and Adam's state stay in float32.
Whether that pays depends on the CPU: with bfloat16 units (Intel AMX, AVX512-BF16) it is faster, without
them usually slower. Run it on an otherwise idle machine, from the repository root:

    python benchmarks/cpu_bfloat16.py             # about a minute
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from gan_teach import TrainConfig, create_state, train_step


def milliseconds_per_step(
    cpu_bfloat16: bool, width: int, steps: int, repeats: int
) -> float:
    """The median over ``repeats`` rounds of the mean time of one ``train_step`` (one D and one G update)."""
    config = TrainConfig(
        dataset="mnist",
        width=width,
        device="cpu",
        cpu_bfloat16=cpu_bfloat16,
        ema_decay=0.999,
    )
    state = create_state(config)
    real = (
        torch.rand(config.resolve().batch_size, 1, 28, 28) * 2 - 1
    )  # (128, 1, 28, 28): the speed, not the data
    for _ in range(
        3
    ):  # warm-up: oneDNN picks its kernels on the first calls
        train_step(state, [real])
    rounds = []
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(steps):
            train_step(state, [real])
        rounds.append((time.perf_counter() - started) / steps * 1000)
    return statistics.median(rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU capability "
        f"{torch.backends.cpu.get_cpu_capability()}"
    )
    results = {}
    for cpu_bfloat16 in (False, True):
        results[cpu_bfloat16] = milliseconds_per_step(
            cpu_bfloat16, args.width, args.steps, args.repeats
        )
        name = "bfloat16 autocast" if cpu_bfloat16 else "float32"
        print(
            f"width {args.width}, {name:>17}: {results[cpu_bfloat16]:6.1f} ms per step "
            f"({results[cpu_bfloat16] * 468 / 1000:5.1f} s per MNIST epoch of 468 steps)"
        )
    print(f"speed-up: {results[False] / results[True]:.2f}x")


if __name__ == "__main__":
    main()
