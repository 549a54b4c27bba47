"""What the FID floor is made of: real images against real images, on the shipped and the held-out classifier.

The tools chapter runs this measurement for MNIST; this script runs it for either dataset, so that the
Fashion-MNIST figures quoted in ``classifier_fid_floor``'s docstring can be reproduced:

    GAN_TEACH_DATA=path/to/data python benchmarks/fid_floors.py --dataset fashion-mnist --draws 20

Rows (each the mean and standard deviation over ``--draws`` random subsets):

1. 10,000 training images that both classifiers trained on, against the full test set;
2. 10,000 of the 20,000 ``held_out_indices`` images against the test set (in-sample for the shipped
   classifier, out-of-sample for the held-out one): ``classifier_fid_floor(..., held_out=True)``;
3. those 10,000 against the other 10,000 held-out images: pure sampling bias at N = 10,000;
4. a random half of the test set against the other half (5,000 each): ``fid_between_test_halves``.

Then the shipped generator(s) of the dataset, 10,000 samples per noise seed, with FID minus floor.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from gan_teach import frechet_distance, generate, load_images
from gan_teach.data import IMAGE_DATASETS
from gan_teach.metrics import held_out_indices, load_feature_classifier
from gan_teach.pretrained import available, load_generator

ROWS = (
    "10k seen training images vs the test set",
    "10k held-out training images vs the test set",
    "10k held-out vs 10k other held-out images",
    "a random test half vs the other (5k vs 5k)",
)


@torch.no_grad()
def read_features(
    images: torch.Tensor, dataset: str, held_out: bool
) -> np.ndarray:
    """Features ``(N, 128)`` of ``images`` ``(N, 1, 28, 28)`` from the shipped or the held-out classifier, float64."""
    reader = load_feature_classifier(dataset, held_out=held_out)
    return (
        torch.cat([reader.features(batch) for batch in images.split(1000)])
        .double()
        .numpy()
    )


def fid_of_features(first: np.ndarray, second: np.ndarray) -> float:
    """FID between two feature sets ``(N1, D)`` and ``(N2, D)``."""
    return frechet_distance(
        first.mean(axis=0),
        np.cov(first, rowvar=False),
        second.mean(axis=0),
        np.cov(second, rowvar=False),
    )


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, measure the four references and the shipped generators, print two tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dataset", choices=sorted(IMAGE_DATASETS), default="mnist"
    )
    parser.add_argument("--data-root", default=None)
    parser.add_argument(
        "--draws", type=int, default=20, help="random subsets per reference"
    )
    parser.add_argument(
        "--generator-seeds",
        type=int,
        default=5,
        help="noise seeds per shipped generator",
    )
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    train_images = load_images(
        args.dataset, args.data_root, train=True
    )  # (60000, 1, 28, 28)
    test_images = load_images(
        args.dataset, args.data_root, train=False
    )  # (10000, 1, 28, 28)
    held_out = held_out_indices(args.dataset)  # (20000,)
    is_seen = torch.ones(len(train_images), dtype=torch.bool)
    is_seen[held_out] = False
    seen = is_seen.nonzero().squeeze(1)  # (40000,)
    train_features = {
        held: read_features(train_images, args.dataset, held)
        for held in (False, True)
    }
    test_features = {
        held: read_features(test_images, args.dataset, held)
        for held in (False, True)
    }

    results = {row: {False: [], True: []} for row in ROWS}
    for seed in range(args.draws):
        seen_sample = seen[
            torch.randperm(
                len(seen), generator=torch.Generator().manual_seed(seed)
            )[:10_000]
        ]
        held_order = held_out[
            torch.randperm(
                len(held_out), generator=torch.Generator().manual_seed(seed)
            )
        ]
        test_order = torch.randperm(
            len(test_images), generator=torch.Generator().manual_seed(seed)
        )
        for held in (False, True):
            train, test = train_features[held], test_features[held]
            results[ROWS[0]][held].append(
                fid_of_features(train[seen_sample], test)
            )
            results[ROWS[1]][held].append(
                fid_of_features(train[held_order[:10_000]], test)
            )
            results[ROWS[2]][held].append(
                fid_of_features(
                    train[held_order[:10_000]], train[held_order[10_000:]]
                )
            )
            results[ROWS[3]][held].append(
                fid_of_features(
                    test[test_order[:5000]], test[test_order[5000:]]
                )
            )

    print(
        f"{args.dataset}: real images, N vs N, mean ± std over {args.draws} draws"
    )
    print(f"{'':<46}{'shipped classifier':>20}{'held-out classifier':>21}")
    for row, by_classifier in results.items():
        cells = [
            f"{np.mean(by_classifier[held]):.3f} ± {np.std(by_classifier[held]):.3f}"
            for held in (False, True)
        ]
        print(f"{row:<46}{cells[0]:>20}{cells[1]:>21}")

    # The floor of each classifier: training images it trained on (shipped), or never saw (held-out).
    floors = {
        False: np.mean(results[ROWS[0]][False]),
        True: np.mean(results[ROWS[1]][True]),
    }
    names = sorted(
        name
        for name, card in available().items()
        if card["dataset"] == args.dataset
    )
    print(
        f"\n{'generator':<21}{'classifier':<11}{'FID':>16}{'floor':>8}{'FID - floor':>13}"
    )
    for name in names:
        generator = load_generator(name)
        fids = {False: [], True: []}
        for seed in range(args.generator_seeds):
            samples = generate(
                generator, 10_000, seed=seed
            )  # (10000, 1, 28, 28)
            for held in (False, True):
                fids[held].append(
                    fid_of_features(
                        read_features(samples, args.dataset, held),
                        test_features[held],
                    )
                )
        for held in (False, True):
            fid = np.mean(fids[held])
            print(
                f"{name:<21}{'held-out' if held else 'shipped':<11}{fid:8.3f} ± {np.std(fids[held]):.3f}"
                f"{floors[held]:8.3f}{fid - floors[held]:13.3f}"
            )


if __name__ == "__main__":
    main()
