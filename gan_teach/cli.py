"""The learner's command line: ``gan-teach train | sample | evaluate | export`` (or ``python -m gan_teach``).

A thin layer over the library: each command parses its options, calls the same functions the
book uses, and turns a user error (missing data, unknown dataset, bad checkpoint, bad option) into
one clear line on stderr and a non-zero exit, without a traceback; a bug keeps its traceback. The
rule, the argparse types and the checks of the outputs before any work are in
:mod:`gan_teach.cli_support`. ``train``'s options come from
:class:`~gan_teach.config.TrainConfig`'s fields (:mod:`gan_teach.options`). The instructors'
commands (student edition, grading) are ``gan-teach-course`` (:mod:`gan_teach.course.cli`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch.distributed as dist
from matplotlib.figure import Figure
from torchvision.utils import save_image

from .checkpoints import (
    load_checkpoint,
    load_checkpoint_generator,
)
from .cli_support import (
    check_learner_outputs,
    device_argument,
    fid_sample_count,
    run,
    sample_count,
    seed_argument,
)
from .config import TrainConfig
from .data import is_image_dataset, toy_distribution
from .diversity import diversity_metrics
from .engine import rank
from .files import write_atomically
from .metrics import evaluate_images, toy_metrics
from .models import generate, is_conditional
from .options import add_config_options, given_settings
from .pretrained import export_generator
from .runs import check_more_to_train, check_output_folder, resume_overrides
from .train import train
from .viz import plot_toy

__all__ = ["main", "build_parser", "run"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the learner's commands."""
    parser = argparse.ArgumentParser(
        prog="gan-teach", description="Train, sample and evaluate GANs."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    train_parser = commands.add_parser(
        "train", help="train a GAN and write checkpoints into --out"
    )
    train_parser.add_argument(
        "--out",
        required=True,
        type=Path,
        help="folder for checkpoint.pt and sample images",
    )
    train_parser.add_argument(
        "--resume",
        type=Path,
        metavar="CKPT",
        help="continue the run saved in CKPT",
    )
    train_parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace a checkpoint.pt already in --out (another run's)",
    )
    train_parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar (default: when the terminal is interactive)",
    )
    add_config_options(
        train_parser.add_argument_group(
            "settings (default: the dataset's recipe)"
        ),
        types={"seed": seed_argument, "device": device_argument},
    )

    sample_parser = commands.add_parser(
        "sample",
        help="draw samples from a checkpoint into a .png grid or a .npy array",
    )
    sample_parser.add_argument("--checkpoint", required=True, type=Path)
    sample_parser.add_argument(
        "--n",
        type=sample_count,
        default=64,
        help="number of samples (default: 64)",
    )
    sample_parser.add_argument(
        "--out",
        required=True,
        type=Path,
        help="FILE.png (a grid or scatter) or FILE.npy (raw samples)",
    )
    sample_parser.add_argument("--seed", type=seed_argument, default=0)
    sample_parser.add_argument("--device", type=device_argument)

    evaluate_parser = commands.add_parser(
        "evaluate", help="print the metrics of a checkpoint on its dataset"
    )
    evaluate_parser.add_argument("--checkpoint", required=True, type=Path)
    evaluate_parser.add_argument(
        "--num-samples",
        type=fid_sample_count,
        default=10_000,
        help="samples drawn (default: 10000; at most 60000, the training "
        "images the FID's floor draws from)",
    )
    evaluate_parser.add_argument("--data-root")
    evaluate_parser.add_argument("--seed", type=seed_argument, default=0)
    evaluate_parser.add_argument("--device", type=device_argument)

    export_parser = commands.add_parser(
        "export",
        help="ship a checkpoint's generator as float16 weights with a model card",
    )
    export_parser.add_argument("--checkpoint", required=True, type=Path)
    export_parser.add_argument(
        "--format",
        choices=("pt", "web"),
        default="pt",
        help="pt: NAME.pt and a model card (default); web: one .js file for the book's live latent page",
    )
    export_parser.add_argument(
        "--name",
        help="e.g. mnist-dcgan; writes NAME.pt and its card in pretrained.json (web: the name shown)",
    )
    export_parser.add_argument(
        "--out",
        type=Path,
        help="with --format web: the .js file to write, e.g. my-generator.js",
    )
    export_parser.add_argument(
        "--weights-dir",
        type=Path,
        help="default: the package's weights folder",
    )
    export_parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the generator already shipped under --name",
    )
    export_parser.add_argument(
        "--num-samples",
        type=fid_sample_count,
        default=10_000,
        help="samples for the FID (default: 10000)",
    )
    export_parser.add_argument("--data-root")
    export_parser.add_argument(
        "--notes",
        help="a sentence for the card: what its numbers don't say",
    )
    return parser


def _train(args: argparse.Namespace) -> None:
    given = given_settings(args)
    first = rank() == 0 and _launch_rank() == 0
    if first:  # under torchrun, process 0 alone writes into --out
        check_output_folder(
            args.out, resume=args.resume, overwrite=args.overwrite
        )
    if args.resume is not None:
        state = load_checkpoint(
            args.resume,
            config_overrides=resume_overrides(args.resume, given),
        )
        check_more_to_train(state, args.resume)
        if first:
            print(
                f"resuming {args.resume} at epoch {state.epoch}, step {state.step}"
            )
        state = train(state=state, out_dir=args.out, progress=args.progress)
    else:
        config = TrainConfig(**given).resolve()
        length = (
            f"{config.steps} steps"
            if config.steps is not None
            else f"{config.epochs} epochs"
        )
        if first:
            print(
                f"training a {config.model} GAN on {config.dataset} with the {config.loss} loss for {length}"
            )
        state = train(config, out_dir=args.out, progress=args.progress)
    if (
        dist.is_initialized()
    ):  # under torchrun: process 0 alone reports and writes files
        process = dist.get_rank()
        dist.destroy_process_group()
        if process != 0:
            return
    print(
        f"wrote {args.out / 'checkpoint.pt'} (epoch {state.epoch}, step {state.step})"
    )
    _sample_file(
        state.sampling_generator,
        state.config,
        64,
        args.out / "samples.png",
        seed=0,
    )
    print(f"wrote {args.out / 'samples.png'}")
    if not is_image_dataset(state.config.dataset):
        _print_metrics(
            _toy_report(
                state.sampling_generator, state.config, 10_000, seed=0
            )
        )


def _launch_rank() -> int:
    """torchrun's process number, read before the process group exists (0 otherwise)."""
    return int(os.environ.get("RANK", "0"))


def _sample_file(
    generator, config: TrainConfig, count: int, path: Path, seed: int
) -> None:
    """Write ``count`` samples to a .png picture or a .npy array."""
    suffix = path.suffix.lower()
    if suffix not in (".png", ".npy"):
        raise ValueError(
            f"--out must end in .png (a picture) or .npy (the raw samples), got {path.name!r}"
        )
    samples = generate(generator, count, seed=seed)
    if not samples.isfinite().all():
        raise ValueError(
            "the generator drew NaN or infinite samples: its run diverged; "
            "sample an earlier checkpoint"
        )
    if suffix == ".npy":

        def write(file) -> None:
            np.save(file, samples.numpy())

    elif is_image_dataset(config.dataset):
        # A conditional generator's samples cycle through the classes: one
        # column per class.
        columns = (
            generator.num_classes
            if is_conditional(generator)
            else max(1, int(count**0.5))
        )

        def write(file) -> None:
            save_image(
                samples,
                file,
                format="png",
                nrow=columns,
                normalize=True,
                value_range=(-1, 1),
            )

    else:
        axes = plot_toy(
            samples,
            toy_distribution(config.dataset),
            ax=Figure().add_subplot(),
        )

        def write(file) -> None:
            axes.figure.savefig(
                file, format="png", dpi=100, bbox_inches="tight"
            )

    # all or nothing: a full disk or Ctrl-C never leaves half a file at --out
    write_atomically(path, write)


def _toy_report(
    generator, config: TrainConfig, count: int, seed: int
) -> dict:
    return toy_metrics(
        generate(generator, count, seed=seed),
        toy_distribution(config.dataset),
    )


def _print_metrics(metrics: dict) -> None:
    for key, value in metrics.items():
        print(
            f"{key}: {value:.4f}"
            if isinstance(value, float)
            else f"{key}: {value}"
        )


def _sample(args: argparse.Namespace) -> None:
    generator, config = load_checkpoint_generator(
        args.checkpoint, device=args.device
    )
    _sample_file(generator, config, args.n, args.out, seed=args.seed)
    print(f"wrote {args.n} samples to {args.out}")


def _evaluate(args: argparse.Namespace) -> None:
    generator, config = load_checkpoint_generator(
        args.checkpoint, device=args.device
    )
    print(f"dataset: {config.dataset}")
    if is_image_dataset(config.dataset):
        root = (
            args.data_root
            if args.data_root is not None
            else config.data_root
        )
        # one set of samples for every metric
        images = generate(generator, args.num_samples, seed=args.seed)
        _print_metrics(
            evaluate_images(
                images,
                config.dataset,
                num_samples=args.num_samples,
                root=root,
                seed=args.seed,
            )
        )
        print(
            "note: the floor is real training images against the test set at the same N, a reference and not "
            "a bound; read fid_minus_floor (help(gan_teach.classifier_fid_floor) says why)"
        )
        # k-NN metrics compare at most 10,000 samples with as many test images
        scores = diversity_metrics(
            images[:10_000], config.dataset, root=root, seed=args.seed
        )
        print(
            f"diversity: precision {scores['precision']:.3f}, "
            f"recall {scores['recall']:.3f}, "
            f"density {scores['density']:.3f}, coverage {scores['coverage']:.3f}, "
            f"KID {scores['kid']:.2f} +/- {scores['kid_std']:.2f} "
            f"({scores['num_samples']:,} samples, k = {scores['k']}; "
            "help(gan_teach.diversity_metrics) says what each measures)"
        )
    else:
        _print_metrics(
            _toy_report(generator, config, args.num_samples, seed=args.seed)
        )


def _export(args: argparse.Namespace) -> None:
    if args.format == "web":
        from .instruments.webexport import export_web_checkpoint

        if args.out is None:
            raise ValueError(
                "--format web needs --out FILE.js, the file to drop onto the book's latent-space page"
            )
        payload = export_web_checkpoint(
            args.checkpoint, args.out, name=args.name
        )
        print(
            f"wrote {args.out} ({args.out.stat().st_size:,} bytes): {payload['name']}, {payload['model']}, "
            f"{len(payload['layers'])} layers, {payload['seeds']['count']} seeds; open the book's latent-space page "
            "and pick or drop this file"
        )
        return
    if args.name is None:
        raise ValueError(
            "export needs --name NAME (the weights are written as NAME.pt)"
        )
    options = (
        {"weights_dir": args.weights_dir}
        if args.weights_dir is not None
        else {}
    )
    card = export_generator(
        args.checkpoint,
        args.name,
        num_samples=args.num_samples,
        root=args.data_root,
        notes=args.notes,
        overwrite=args.overwrite,
        **options,
    )
    print(
        f"wrote {card['file']} ({card['file_size_bytes']:,} bytes, sha256 {card['sha256'][:12]}...)"
    )
    keys = (
        "command",
        "epochs",
        "train_seconds",
        "machine",
        "fid",
        "fid_floor",
        "fid_minus_floor",
    )
    _print_metrics({key: card[key] for key in keys})


COMMANDS = {
    "train": _train,
    "sample": _sample,
    "evaluate": _evaluate,
    "export": _export,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the learner's command line; returns the exit status (0 on success)."""
    checks = dict.fromkeys(COMMANDS, check_learner_outputs)
    return run("gan-teach", build_parser(), COMMANDS, argv, checks)


if __name__ == "__main__":
    sys.exit(main())
