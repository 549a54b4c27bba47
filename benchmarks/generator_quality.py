"""FID and class balance of checkpoints or shipped generators, the numbers the long-run tables report.

For each checkpoint (its moving-average generator when it has one) or shipped generator name: the FID on
10,000 samples (noise seed 0) with its floor, and the share of each class as the FID's classifier reads
the same samples, beside the training set's own shares. Issue 16 asks for class balance "within 10 % of
uniform"; MNIST itself is not uniform (11.24 % 1s, 9.04 % 5s), so both deviations are printed:

    GAN_TEACH_DATA=path/to/data python benchmarks/generator_quality.py runs/long-A/checkpoint.pt mnist-dcgan

It takes seconds per generator on a CPU (the test-set statistics are cached after the first).
"""

from __future__ import annotations

import argparse
import time

import torch

from gan_teach import generate, load_images
from gan_teach.checkpoints import load_checkpoint_generator
from gan_teach.metrics import class_shares, evaluate_images
from gan_teach.pretrained import available, load_generator, model_card


def load(source: str) -> tuple[torch.nn.Module, str]:
    """A generator and its dataset, from a shipped name or a checkpoint path."""
    if source in available():
        return load_generator(source), model_card(source)["dataset"]
    generator, config = load_checkpoint_generator(source)
    return generator, config.dataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "sources",
        nargs="+",
        help="checkpoint paths or shipped generator names",
    )
    parser.add_argument("--num-samples", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    training_shares = {}
    for source in args.sources:
        started = time.perf_counter()
        generator, dataset = load(source)
        if dataset not in training_shares:
            _, labels = load_images(dataset, with_labels=True)
            training_shares[dataset] = torch.bincount(
                labels, minlength=10
            ).double() / len(labels)
        images = generate(generator, args.num_samples, seed=args.seed)
        scores = evaluate_images(images, dataset)
        shares = class_shares(images, dataset)
        off_uniform = (shares * 10 - 1).abs().max().item()
        off_data = (
            (shares / training_shares[dataset] - 1).abs().max().item()
        )
        print(
            f"{source}: FID {scores['fid']:.2f} (floor {scores['fid_floor']:.2f}, "
            f"{scores['num_samples']:,} samples)\n"
            f"  class shares {' '.join(f'{share:.1%}' for share in shares.tolist())}\n"
            f"  largest deviation: {off_uniform:.1%} from uniform, {off_data:.1%} from the training "
            f"set's shares ({time.perf_counter() - started:.0f} s)",
            flush=True,
        )


if __name__ == "__main__":
    main()
