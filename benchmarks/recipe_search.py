"""Recipe search: FID against wall-clock training time for candidate MNIST recipes, one after another.

Each candidate is ``LABEL:field=value,field=value`` with ``TrainConfig`` fields (values as Python
literals; strings quoted), on top of ``TrainConfig(dataset="mnist")``. It trains with the library's
``train_step`` on MNIST held in memory, for ``--minutes`` of training time, and at each checkpoint
(evaluation time not counted) records:

- ``fid``: the classifier FID (10,000 samples) of the generator the library samples from (the moving
  average when ``ema_decay`` is set, with the batch-norm statistics ``update_ema`` copies from G);
- ``raw_fid``: the live generator's, and ``recalibrated_fid``: the moving average's after
  ``gan_teach.engine.recalibrate_batch_norm`` (when there is a moving average);
- ``class_shares``: the share of each digit among 10,000 samples, as the feature classifier reads them,
  and ``worst_class_gap``: the largest relative distance of a share from 1/10;
- the steps, the images seen, the CPU seconds of this process (about 2x the wall time on 2 idle cores:
  less means other jobs took the cores), and a sample grid in ``--images`` (seed 1).

One JSON line per candidate is appended to ``--out``. Run on an otherwise idle machine, e.g.:

    python benchmarks/recipe_search.py "nodnorm:batch_size=64,lr_generator=2e-3,lr_discriminator=2e-3,\
beta1=0.0,ema_decay=0.999,discriminator_norm='none'" --minutes 5 --checkpoints 1,2,3,4,5
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import os
import time
from pathlib import Path

import torch
from torchvision.utils import save_image

from gan_teach import TrainConfig, classifier_fid, create_state, load_images
from gan_teach.engine import recalibrate_batch_norm, set_learning_rates
from gan_teach.metrics import class_shares
from gan_teach.models import generate
from gan_teach.train import train_step

HERE = Path(__file__).resolve().parent


def parse_candidate(text: str) -> tuple[str, dict]:
    """``"label:a=1,b='x'"`` -> ``("label", {"a": 1, "b": "x"})``.

    >>> parse_candidate("fast:batch_size=64,discriminator_norm='none',lr_decay=True")
    ('fast', {'batch_size': 64, 'discriminator_norm': 'none', 'lr_decay': True})
    """
    label, _, settings = text.partition(":")
    overrides = {}
    for pair in filter(None, settings.split(",")):
        key, _, value = pair.partition("=")
        overrides[key.strip()] = ast.literal_eval(value.strip())
    return label, overrides


def measure(state, train_seconds: float, cpu_seconds: float) -> dict:
    """The scores of one checkpoint (see the module's docstring)."""
    shares = class_shares(
        state.sampling_generator, "mnist", seed=3
    ).tolist()
    entry = {
        "train_seconds": round(train_seconds, 1),
        "cpu_seconds": round(cpu_seconds, 1),
        "steps": state.step,
        "images": state.step
        * state.config.batch_size
        * state.config.d_steps,
        "fid": round(classifier_fid(state.sampling_generator, "mnist"), 2),
        "class_shares": [round(share, 3) for share in shares],
        "worst_class_gap": round(
            max(abs(s - 0.1) for s in shares) / 0.1, 3
        ),
    }
    if state.ema_generator is not None:
        entry["raw_fid"] = round(
            classifier_fid(state.generator, "mnist"), 2
        )
        recalibrated = copy.copy(state)
        recalibrated.ema_generator = copy.deepcopy(state.ema_generator)
        recalibrate_batch_norm(recalibrated)
        entry["recalibrated_fid"] = round(
            classifier_fid(recalibrated.ema_generator, "mnist"), 2
        )
    return entry


def run(label: str, overrides: dict, args) -> dict:
    """Train one candidate for ``args.minutes``; its scores at each checkpoint."""
    config = TrainConfig(
        dataset="mnist", device="cpu", **overrides
    ).resolve()
    state = create_state(config)
    data = load_images("mnist")  # (60000, 1, 28, 28) in [-1, 1], in memory
    shuffle = torch.Generator().manual_seed(config.seed)
    order, position = torch.randperm(len(data), generator=shuffle), 0
    budget = args.minutes * 60
    marks = [float(m) * 60 for m in args.checkpoints.split(",")]
    train_seconds = cpu_seconds = 0.0
    series = []
    load_at_start = os.getloadavg()[0]
    for mark in marks:
        start, cpu_start = time.perf_counter(), time.process_time()
        while train_seconds + time.perf_counter() - start < mark:
            batches = []
            for _ in range(config.d_steps):
                if position + config.batch_size > len(order):
                    order = torch.randperm(len(data), generator=shuffle)
                    position = 0
                batches.append(
                    data[order[position : position + config.batch_size]]
                )
                position += config.batch_size
            if config.lr_decay:  # linear to 0 over the time budget
                elapsed = train_seconds + time.perf_counter() - start
                set_learning_rates(state, max(0.0, 1 - elapsed / budget))
            train_step(state, batches)
            state.step += 1
        train_seconds += time.perf_counter() - start
        cpu_seconds += time.process_time() - cpu_start
        entry = {
            "minutes": mark / 60,
            **measure(state, train_seconds, cpu_seconds),
        }
        print(label, entry, flush=True)
        series.append(entry)
        if args.images:
            args.images.mkdir(parents=True, exist_ok=True)
            samples = generate(state.sampling_generator, 64, seed=1)
            save_image(
                samples * 0.5 + 0.5,
                args.images / f"{label}-{mark / 60:g}min.png",
                nrow=8,
            )
    return {
        "label": label,
        "overrides": overrides,
        "series": series,
        "threads": torch.get_num_threads(),
        "load_average": [load_at_start, os.getloadavg()[0]],
        "torch": torch.__version__,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "candidates", nargs="+", help="LABEL:field=value,..."
    )
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument(
        "--checkpoints",
        default="1,2,3,4,5",
        help="minutes, comma-separated",
    )
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument(
        "--out", type=Path, default=HERE / "recipe_search.jsonl"
    )
    parser.add_argument(
        "--images",
        type=Path,
        default=None,
        help="a folder for sample grids",
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    for text in args.candidates:
        label, overrides = parse_candidate(text)
        result = run(label, overrides, args)
        with args.out.open("a", encoding="utf-8") as file:
            file.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
