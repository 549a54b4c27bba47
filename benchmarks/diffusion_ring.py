"""GAN vs diffusion on the ring, on the same CPU budget.

The GAN trains with the ring recipe (``TrainConfig(dataset="ring")``:
6,000 steps); its training time becomes the diffusion model's budget
(``DiffusionConfig(max_seconds=...)``). Both are then measured the same
way: 5,000 samples, ``toy_metrics`` (modes covered, high-quality share),
the network passes each sample cost and the seconds sampling took. The
diffusion model is sampled three ways from the same network: DDPM (T
passes), DDIM with 50 and with 10 passes, each estimate of the clean
point clamped to the training data's range (``run.clip``).

What this shows: which method gets closer to the ring's 8 sharp modes
for the same training time on this CPU, and what sampling costs. What it
does not show: images (the ring is 2-D), tuned recipes for both (the
GAN's recipe was tuned for the ring, the DDPM's width and learning rate
were not), several seeds, or any other machine: both runs share the
CPU with whatever else runs (the load average is recorded).

Run from the repository root:

    python benchmarks/diffusion_ring.py                 # seed 0, 1 thread
    python benchmarks/diffusion_ring.py --seed 1 --out /tmp/ring.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import torch

from gan_teach import TrainConfig, generate, toy_metrics, train
from gan_teach.diffusion import ddim_sample, ddpm_sample
from gan_teach.diffusion_train import DiffusionConfig, train_diffusion

HERE = Path(__file__).resolve().parent
NUM_SAMPLES = 5000


def _measured(samples: torch.Tensor, passes: float, seconds: float) -> dict:
    metrics = toy_metrics(samples, "ring")
    return {
        "modes_covered": metrics["modes_covered"],
        "high_quality_share": round(metrics["high_quality_share"], 4),
        "forward_passes_per_sample": passes,
        "sampling_seconds": round(seconds, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=str(HERE / "diffusion_ring.json"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    result = {
        "machine": platform.processor() or platform.machine(),
        "threads": args.threads,
        "seed": args.seed,
        "load_average_before": os.getloadavg(),
    }

    state = train(
        TrainConfig(dataset="ring", seed=args.seed), progress=False
    )
    budget = state.train_seconds
    started = time.perf_counter()
    samples = generate(state.sampling_generator, NUM_SAMPLES, seed=1)
    gan = _measured(samples, 1, time.perf_counter() - started)
    result["gan"] = {
        "steps": state.step,
        "train_seconds": round(budget, 1),
        **gan,
    }
    print("GAN", result["gan"], flush=True)

    run = train_diffusion(
        DiffusionConfig(max_seconds=budget, seed=args.seed)
    )
    result["diffusion"] = {
        "steps": run.step,
        "train_seconds": round(run.train_seconds, 1),
        "num_timesteps": run.schedule.num_steps,
        "schedule": run.schedule.kind,
        "clip": run.clip,
    }
    for name, sampler in (
        (
            "ddpm",
            lambda d: ddpm_sample(
                d, run.schedule, NUM_SAMPLES, seed=1, clip=run.clip
            ),
        ),
        (
            "ddim_50",
            lambda d: ddim_sample(
                d, run.schedule, NUM_SAMPLES, 50, seed=1, clip=run.clip
            ),
        ),
        (
            "ddim_10",
            lambda d: ddim_sample(
                d, run.schedule, NUM_SAMPLES, 10, seed=1, clip=run.clip
            ),
        ),
    ):
        started = time.perf_counter()
        drawn = sampler(run.sampling_denoiser)
        seconds = time.perf_counter() - started
        result["diffusion"][name] = _measured(
            drawn.samples, drawn.forward_passes_per_sample, seconds
        )
        print(name, result["diffusion"][name], flush=True)
    result["load_average_after"] = os.getloadavg()
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print("wrote", args.out)


if __name__ == "__main__":
    main()
