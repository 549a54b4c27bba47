"""GAN vs diffusion on MNIST, on the same CPU budget.

The GAN trains with the library's MNIST recipe (``TrainConfig(dataset="mnist")``,
what ``gan-teach train --dataset mnist`` runs: 10 epochs); its training time
becomes the diffusion model's budget (``DiffusionConfig(max_seconds=...)``,
the library's image recipe: a U-Net with 16 base channels, batches of 64).
Both see the same in-memory MNIST tensor, one thread each, one after the
other. Then both are measured on the project's classifier:

- FID on 10,000 samples, with the floor at the same sample size, for the
  GAN (one network pass per image) and for DDIM with 10 passes;
- FID on 1,000 samples for the GAN, DDIM-10 and DDIM-50 (50,000 more passes
  per 1,000 images would make DDIM-50 at 10,000 samples the longest part
  of the run), with the floor at 1,000: compare within a sample size only;
- DDPM's 1,000 passes per image: 64 samples for the figure and their cost,
  no FID (10,000 DDPM samples would cost 10 million network passes, hours
  on this CPU);
- seconds and network passes per sample for each sampler, and the sample
  grids side by side (``book/figures/future-gan-vs-diffusion-mnist.png``).

What this shows: which method makes better digits for the same small
training budget on a CPU, and what each sample costs. What it does not
show: what either method reaches with a GPU's budget (diffusion models
are far ahead there, Dhariwal & Nichol 2021), tuned recipes for both (the
GAN's was searched on this machine, the DDPM's width, batch and learning
rate come from one short pilot), several seeds, or any other machine.

Run from the repository root (about 30 minutes on one thread):

    python benchmarks/diffusion_mnist.py                 # seed 0, 1 thread
    python benchmarks/diffusion_mnist.py --seed 1 --out /tmp/mnist.json --figure /tmp/mnist.png
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import torch

from gan_teach import TrainConfig, evaluate_images, generate, train
from gan_teach.diffusion import ddim_sample, ddpm_sample
from gan_teach.diffusion_train import DiffusionConfig, train_diffusion

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
NUM_SAMPLES = 10_000  # for the FID the project reports
FEW_SAMPLES = 1_000  # for the samplers too slow for 10,000
GRID = 64  # images in each panel of the figure


def _scores(images: torch.Tensor) -> dict:
    scores = evaluate_images(images, "mnist")
    return {
        key: round(value, 2) if isinstance(value, float) else value
        for key, value in scores.items()
    }


def _timed(draw) -> tuple[torch.Tensor, float, float]:
    """``draw()``'s samples, its network passes per sample and its seconds per sample."""
    started = time.perf_counter()
    samples, passes = draw()
    seconds = time.perf_counter() - started
    return samples, passes, seconds / len(samples)


def save_figure(panels: dict[str, torch.Tensor], path: Path) -> None:
    """One 8x8 grid per sampler, titled with its name."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gan_teach.viz import image_grid

    figure, axes = plt.subplots(
        1, len(panels), figsize=(3.2 * len(panels), 3.6)
    )
    for ax, (title, images) in zip(axes, panels.items(), strict=True):
        image_grid(images[:GRID], nrow=8, ax=ax, title=title)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=str(HERE / "diffusion_mnist.json"))
    parser.add_argument(
        "--figure",
        default=str(
            ROOT / "book" / "figures" / "future-gan-vs-diffusion-mnist.png"
        ),
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    result = {
        "machine": platform.processor() or platform.machine(),
        "threads": args.threads,
        "seed": args.seed,
        "torch": torch.__version__,
        "load_average_before": os.getloadavg(),
    }

    state = train(
        TrainConfig(dataset="mnist", seed=args.seed, device="cpu"),
        progress=False,
    )
    budget = state.train_seconds
    gan_images, _, gan_seconds = _timed(
        lambda: (
            generate(state.sampling_generator, NUM_SAMPLES, seed=1),
            1,
        )
    )
    result["gan"] = {
        "steps": state.step,
        "train_seconds": round(budget, 1),
        "forward_passes_per_sample": 1,
        "seconds_per_sample": gan_seconds,
        "fid": _scores(gan_images),
        "fid_1000": _scores(gan_images[:FEW_SAMPLES]),
    }
    print("GAN", result["gan"], flush=True)

    run = train_diffusion(
        DiffusionConfig(
            dataset="mnist",
            max_seconds=budget,
            seed=args.seed,
            device="cpu",
        )
    )
    config = run.config
    result["diffusion"] = {
        "steps": run.step,
        "train_seconds": round(run.train_seconds, 1),
        "width": config.width,
        "batch_size": config.batch_size,
        "lr": config.lr,
        "num_timesteps": run.schedule.num_steps,
        "schedule": run.schedule.kind,
        "final_loss": round(sum(run.history["loss"][-100:]) / 100, 4),
    }
    denoiser = run.sampling_denoiser

    def ddim(num_samples: int, passes: int):
        drawn = ddim_sample(
            denoiser,
            run.schedule,
            num_samples,
            passes,
            seed=1,
            clip=run.clip,
        )
        return drawn.samples, drawn.forward_passes_per_sample

    panels = {"GAN (1 pass)": gan_images}
    for name, num_samples, passes in (
        ("ddim_10", NUM_SAMPLES, 10),
        ("ddim_50", FEW_SAMPLES, 50),
    ):
        images, per_sample, seconds = _timed(
            lambda n=num_samples, p=passes: ddim(n, p)
        )
        entry = {
            "forward_passes_per_sample": per_sample,
            "seconds_per_sample": seconds,
            "fid_1000": _scores(images[:FEW_SAMPLES]),
        }
        if num_samples == NUM_SAMPLES:
            entry["fid"] = _scores(images)
        result["diffusion"][name] = entry
        panels[f"DDIM ({passes} passes)"] = images
        print(name, entry, flush=True)

    def ddpm():
        drawn = ddpm_sample(
            denoiser, run.schedule, GRID, seed=1, clip=run.clip
        )
        return drawn.samples, drawn.forward_passes_per_sample

    images, per_sample, seconds = _timed(ddpm)
    result["diffusion"]["ddpm"] = {
        "forward_passes_per_sample": per_sample,
        "seconds_per_sample": seconds,
    }
    panels[f"DDPM ({run.schedule.num_steps} passes)"] = images
    print("ddpm", result["diffusion"]["ddpm"], flush=True)

    result["load_average_after"] = os.getloadavg()
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    save_figure(panels, Path(args.figure))
    print("wrote", args.out, "and", args.figure)


if __name__ == "__main__":
    main()
