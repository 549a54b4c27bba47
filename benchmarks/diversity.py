"""Measure precision, recall, density, coverage and KID of the shipped generators, and of real images.

For each dataset: real training images against the test set (``gan_teach.diversity.diversity_floor``,
the analogue of the FID floor), then every shipped generator of that dataset
(``gan_teach.diversity.diversity_metrics``), all at the same sample size, with seeded random subsets.
The FID and its floor at the same N are printed beside them. Times are wall-clock seconds per call;
the test-set reference (features and k-NN radii) is computed once per dataset before the timed calls.

Run from the repository root (see benchmarks/README.md):

    GAN_TEACH_DATA=/work/shared/data python benchmarks/diversity.py                 # 10,000 samples
    GAN_TEACH_DATA=/work/shared/data python benchmarks/diversity.py --num-samples 1000 --out /tmp/quick.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import torch

from gan_teach import classifier_fid_floor, evaluate_images
from gan_teach.data import resolve_data_root
from gan_teach.diversity import (
    _reference,
    diversity_floor,
    diversity_metrics,
)
from gan_teach.pretrained import available, load_generator

HERE = Path(__file__).resolve().parent


def _row(name: str, metrics: dict, fid: dict, seconds: float) -> dict:
    row = {
        "name": name,
        **metrics,
        "fid": fid["fid"],
        "fid_floor": fid["fid_floor"],
        "seconds": round(seconds, 1),
    }
    print(
        f"{name:<22} precision {row['precision']:.3f}  recall {row['recall']:.3f}  density {row['density']:.3f}  "
        f"coverage {row['coverage']:.3f}  KID {row['kid']:.2f} +/- {row['kid_std']:.2f}  FID {row['fid']:.2f} "
        f"(floor {row['fid_floor']:.2f})  {seconds:.0f} s",
        flush=True,
    )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-samples", type=int, default=10_000)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="the generators' noise seed and the training subset's",
    )
    parser.add_argument(
        "--out", type=Path, default=HERE / "diversity_results.json"
    )
    args = parser.parse_args()

    root = str(resolve_data_root(None))
    generators = {
        name: card["config"]["dataset"]
        for name, card in sorted(available().items())
    }
    results = {
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "load_average_start": os.getloadavg(),
        },
        "settings": {
            "num_samples": args.num_samples,
            "k": args.k,
            "seed": args.seed,
            "kid_subsets": 100,
            "kid_subset_size": min(1000, args.num_samples // 2),
        },
        "reference_seconds": {},
        "rows": [],
    }
    for dataset in ("mnist", "fashion-mnist"):
        start = time.perf_counter()
        _reference(
            dataset, root, args.num_samples, args.k
        )  # test-set features and radii, cached for the calls below
        results["reference_seconds"][dataset] = round(
            time.perf_counter() - start, 1
        )
        start = time.perf_counter()
        floor = diversity_floor(
            dataset, num_samples=args.num_samples, k=args.k, seed=args.seed
        )
        seconds = time.perf_counter() - start
        fid_floor = classifier_fid_floor(
            dataset, num_samples=args.num_samples
        )  # real training images: FID = its floor
        results["rows"].append(
            _row(
                f"real ({dataset})",
                floor,
                {"fid": fid_floor, "fid_floor": fid_floor},
                seconds,
            )
        )
        for name in (
            name for name, of in generators.items() if of == dataset
        ):
            generator = load_generator(name)
            start = time.perf_counter()
            metrics = diversity_metrics(
                generator,
                dataset,
                num_samples=args.num_samples,
                k=args.k,
                seed=args.seed,
            )
            seconds = time.perf_counter() - start
            fid = evaluate_images(
                generator,
                dataset,
                num_samples=args.num_samples,
                seed=args.seed,
            )
            results["rows"].append(_row(name, metrics, fid, seconds))
    results["machine"]["load_average_end"] = os.getloadavg()
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
