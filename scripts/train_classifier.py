"""Train the small feature classifier behind ``gan_teach.metrics.classifier_fid`` and ship its weights.

Writes ``{out}/{dataset}-classifier.pt`` (a float32 state_dict, under 1 MB) and updates the dataset's
entry in ``{out}/classifiers.json``: SHA-256, test accuracy, the exact command, wall-clock time, and
the FID floor measured with the new weights. Run it from the repository root, one dataset at a time:

    python scripts/train_classifier.py --dataset mnist --epochs 5 --seed 0
    python scripts/train_classifier.py --dataset fashion-mnist --epochs 5 --seed 0

``--held-out`` trains a second classifier for measuring the floor itself: it never sees the
``HELD_OUT_NUM_IMAGES`` training images of :func:`gan_teach.metrics.held_out_indices`, so their features are
out-of-sample, like a generator's (the shipped classifier saw every training image). It is written as
``{dataset}-classifier-held-out.pt`` in float16 (half the size), recorded under ``"{dataset}-held-out"``:

    python scripts/train_classifier.py --dataset mnist --epochs 5 --seed 0 --held-out
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import shlex
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from gan_teach.data import IMAGE_DATASETS, load_images
from gan_teach.metrics import (
    HELD_OUT_NUM_IMAGES,
    WEIGHTS_DIR,
    FeatureClassifier,
    classifier_fid_floor,
    held_out_indices,
    load_feature_classifier,
    sha256_of,
)
from gan_teach.models import count_parameters
from gan_teach.utils import seed_everything


@torch.no_grad()
def accuracy(
    classifier: FeatureClassifier,
    images: torch.Tensor,
    labels: torch.Tensor,
    batch_size: int = 1000,
) -> float:
    """Share of ``images`` ``(N, 1, 28, 28)`` whose predicted class equals ``labels`` ``(N,)``."""
    was_training = classifier.training
    classifier.eval()
    correct = sum(
        (
            classifier(images[start : start + batch_size]).argmax(1)
            == labels[start : start + batch_size]
        )
        .sum()
        .item()
        for start in range(0, images.shape[0], batch_size)
    )
    classifier.train(was_training)
    return correct / images.shape[0]


def train_classifier(
    train_images: torch.Tensor,
    train_labels: torch.Tensor,
    *,
    num_epochs: int,
    batch_size: int,
    learning_rate: float,
) -> FeatureClassifier:
    """Adam with a cosine learning-rate decay on in-memory tensors; no augmentation (it is not needed here).

    Args:
        train_images: ``(N, 1, 28, 28)`` in ``[-1, 1]``.
        train_labels: ``(N,)`` class indices.
        num_epochs: passes over the data.
        batch_size: images per step.
        learning_rate: Adam's initial step size.

    Returns:
        The trained classifier, in eval mode.
    """
    classifier = FeatureClassifier()
    optimizer = torch.optim.Adam(classifier.parameters(), lr=learning_rate)
    steps_per_epoch = math.ceil(train_images.shape[0] / batch_size)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimizer, T_max=num_epochs * steps_per_epoch
    )
    classifier.train()
    for epoch in range(num_epochs):
        order = torch.randperm(train_images.shape[0])
        total_loss = 0.0
        for start in range(0, train_images.shape[0], batch_size):
            chosen = order[start : start + batch_size]
            loss = F.cross_entropy(
                classifier(train_images[chosen]), train_labels[chosen]
            )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            total_loss += loss.item() * chosen.shape[0]
        print(
            f"epoch {epoch + 1}/{num_epochs}: train loss {total_loss / train_images.shape[0]:.4f}",
            flush=True,
        )
    return classifier.eval()


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, train, evaluate, save the weights and update ``classifiers.json``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dataset", choices=sorted(IMAGE_DATASETS), required=True
    )
    parser.add_argument(
        "--data-root",
        default=None,
        help="data folder (default: $GAN_TEACH_DATA or ~/.cache/gan_teach/data)",
    )
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument(
        "--threads",
        type=int,
        default=2,
        help="CPU threads; the reference machine has 2 cores",
    )
    parser.add_argument(
        "--held-out",
        action="store_true",
        help=f"train on all but the {HELD_OUT_NUM_IMAGES:,} training images of gan_teach.metrics.held_out_indices; writes DATASET-classifier-held-out.pt (float16)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=WEIGHTS_DIR,
        help="folder for the .pt file and classifiers.json; the FID floor is measured only for the package's own folder",
    )
    args = parser.parse_args(argv)

    torch.set_num_threads(
        args.threads
    )  # more threads than free cores only thrash
    seed_everything(args.seed)
    train_images, train_labels = load_images(
        args.dataset, args.data_root, train=True, with_labels=True
    )
    test_images, test_labels = load_images(
        args.dataset, args.data_root, train=False, with_labels=True
    )
    if (
        args.held_out
    ):  # keep out the images whose features must stay out-of-sample
        kept = torch.ones(train_images.shape[0], dtype=torch.bool)
        kept[held_out_indices(args.dataset)] = False
        train_images, train_labels = (
            train_images[kept],
            train_labels[kept],
        )  # (60000 - held out, 1, 28, 28), (...,)

    started = time.perf_counter()
    classifier = train_classifier(
        train_images,
        train_labels,
        num_epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
    )
    train_seconds = time.perf_counter() - started
    test_accuracy = accuracy(classifier, test_images, test_labels)
    print(
        f"{args.dataset}: test accuracy {test_accuracy:.4f} after {train_seconds:.0f} s",
        flush=True,
    )

    args.out.mkdir(parents=True, exist_ok=True)
    name = f"{args.dataset}-held-out" if args.held_out else args.dataset
    weights_path = args.out / (
        f"{args.dataset}-classifier-held-out.pt"
        if args.held_out
        else f"{args.dataset}-classifier.pt"
    )
    dtype = (
        torch.float16 if args.held_out else torch.float32
    )  # the measuring classifier ships at half the size
    torch.save(
        {
            key: tensor.to(dtype).contiguous()
            for key, tensor in classifier.state_dict().items()
        },
        weights_path,
    )
    records_path = args.out / "classifiers.json"
    records = (
        json.loads(records_path.read_text())
        if records_path.exists()
        else {}
    )
    record = {
        "file": weights_path.name,
        "sha256": sha256_of(weights_path),
        "file_size_bytes": weights_path.stat().st_size,
        "num_parameters": count_parameters(classifier),
        "dtype": str(dtype).removeprefix("torch."),
        "train_images": train_images.shape[0],
        "test_accuracy": round(test_accuracy, 4),
        "command": shlex.join(
            [
                "python",
                *(
                    sys.argv
                    if argv is None
                    else ["scripts/train_classifier.py", *argv]
                ),
            ]
        ),
        "epochs": args.epochs,
        "seed": args.seed,
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "train_seconds": round(train_seconds, 1),
        "machine": "2-core CPU",
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
    }
    if args.held_out:
        record["dataset"] = args.dataset
        record["held_out"] = (
            f"gan_teach.metrics.held_out_indices({args.dataset!r}): {HELD_OUT_NUM_IMAGES:,} training images never trained on"
        )
    records[name] = record
    records_path.write_text(
        json.dumps(records, indent=2, sort_keys=True) + "\n"
    )

    if (
        args.out.resolve() == WEIGHTS_DIR.resolve() and not args.held_out
    ):  # the floor is defined with the shipped weights
        load_feature_classifier.cache_clear()  # forget weights loaded before this run
        floor = classifier_fid_floor(
            args.dataset, root=args.data_root, num_samples=10_000, seed=0
        )
        record["fid_floor"] = round(floor, 4)
        record["fid_floor_command"] = (
            f"gan_teach.metrics.classifier_fid_floor({args.dataset!r}, num_samples=10_000, seed=0)"
        )
        records_path.write_text(
            json.dumps(records, indent=2, sort_keys=True) + "\n"
        )
        print(
            f"{args.dataset}: FID floor (10k random train vs 10k test) {floor:.4f}"
        )
    print(
        f"wrote {weights_path} ({record['file_size_bytes']:,} bytes) and {records_path}"
    )


if __name__ == "__main__":
    main()
