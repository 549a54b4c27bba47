"""The command line: ``gan-teach train | sample | evaluate | export | student-edition | grade`` (also ``python -m gan_teach``).

A thin layer over the library: each command parses its options, calls the same functions the
book uses, and turns a user error (missing data, unknown dataset, bad checkpoint, bad option) into
one clear line on stderr and a non-zero exit, without a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Sequence

from .checkpoints import CheckpointError, load_generator
from .config import MODELS, TrainConfig
from .data import DATASETS, DataNotFoundError, is_image_dataset, toy_distribution
from .losses import LOSSES
from .train import TrainingDivergedError, train

__all__ = ["main", "build_parser"]

# Options of `train` that map one-to-one onto TrainConfig fields (flag name -> field name).
_CONFIG_OPTIONS = {
    "dataset": "dataset", "model": "model", "loss": "loss", "epochs": "epochs", "steps": "steps",
    "batch_size": "batch_size", "seed": "seed", "data_root": "data_root", "latent_dim": "latent_dim",
    "width": "width", "lr_generator": "lr_generator", "lr_discriminator": "lr_discriminator",
    "d_steps": "d_steps", "ema_decay": "ema_decay", "device": "device", "r1_gamma": "r1_gamma", "lr_decay": "lr_decay",
    "r1_start_epoch": "r1_start_epoch",
}
_CAN_CHANGE_ON_RESUME = {"epochs", "steps", "data_root", "device"}


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of all subcommands."""
    parser = argparse.ArgumentParser(prog="gan-teach", description="Train, sample and evaluate GANs.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{train,sample,evaluate,export,student-edition,grade}")

    train_parser = commands.add_parser("train", help="train a GAN and write checkpoints into --out")
    train_parser.add_argument("--dataset", choices=DATASETS, help="what to learn (default: ring)")
    train_parser.add_argument("--out", required=True, type=Path, help="folder for checkpoint.pt and sample images")
    train_parser.add_argument("--model", choices=MODELS,
                              help="default: mlp for toy data, dcgan for images; conditional: a class-conditional DCGAN")
    train_parser.add_argument("--loss", choices=tuple(LOSSES), help="default: non-saturating")
    length = train_parser.add_mutually_exclusive_group()
    length.add_argument("--epochs", type=_positive_int, help="passes over the data")
    length.add_argument("--steps", type=_positive_int, help="generator updates in all")
    train_parser.add_argument("--batch-size", type=_positive_int)
    train_parser.add_argument("--seed", type=int)
    train_parser.add_argument("--resume", type=Path, metavar="CKPT", help="continue the run saved in CKPT")
    train_parser.add_argument("--data-root", help="folder with MNIST/raw and FashionMNIST/raw (default: $GAN_TEACH_DATA)")
    train_parser.add_argument("--latent-dim", type=_positive_int)
    train_parser.add_argument("--width", type=_positive_int, help="hidden units (MLP) or base channels (DCGAN)")
    train_parser.add_argument("--lr-generator", type=float)
    train_parser.add_argument("--lr-discriminator", type=float)
    train_parser.add_argument("--d-steps", type=_positive_int, help="discriminator updates per generator update")
    train_parser.add_argument("--ema-decay", type=float, help="keep an EMA of the generator's weights, e.g. 0.999")
    train_parser.add_argument("--spectral-norm", action="store_true", help="spectral norm in the discriminator")
    train_parser.add_argument("--r1-gamma", type=float, help="weight of the R1 penalty on real data (default: off)")
    train_parser.add_argument("--r1-start-epoch", type=int, help="switch the R1 penalty on from this epoch, 0-based (default: 0)")
    train_parser.add_argument("--lr-decay", action=argparse.BooleanOptionalAction, default=None,
                              help="decay the learning rates linearly to 0 (default: on for toy data, off for images)")
    train_parser.add_argument("--no-amp", action="store_true", help="full precision on CUDA")
    train_parser.add_argument("--cpu-bf16", action="store_true",
                              help="bfloat16 autocast on the CPU (faster on CPUs with AMX, e.g. recent Xeons; slower on most laptops)")
    train_parser.add_argument("--device", help="cpu, cuda, cuda:1, mps (default: the fastest available)")
    train_parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                              help="show a progress bar (default: when the terminal is interactive)")

    sample_parser = commands.add_parser("sample", help="draw samples from a checkpoint into a .png grid or a .npy array")
    sample_parser.add_argument("--checkpoint", required=True, type=Path)
    sample_parser.add_argument("--n", type=_positive_int, default=64, help="number of samples (default: 64)")
    sample_parser.add_argument("--out", required=True, type=Path, help="FILE.png (a grid or scatter) or FILE.npy (raw samples)")
    sample_parser.add_argument("--seed", type=int, default=0)
    sample_parser.add_argument("--device")

    evaluate_parser = commands.add_parser("evaluate", help="print the metrics of a checkpoint on its dataset")
    evaluate_parser.add_argument("--checkpoint", required=True, type=Path)
    evaluate_parser.add_argument("--num-samples", type=_positive_int, default=10_000)
    evaluate_parser.add_argument("--data-root")
    evaluate_parser.add_argument("--seed", type=int, default=0)
    evaluate_parser.add_argument("--device")

    export_parser = commands.add_parser("export", help="ship a checkpoint's generator as float16 weights with a model card")
    export_parser.add_argument("--checkpoint", required=True, type=Path)
    export_parser.add_argument("--format", choices=("pt", "web"), default="pt",
                               help="pt: NAME.pt and a model card (default); web: one .js file for the book's live latent page")
    export_parser.add_argument("--name", help="e.g. mnist-dcgan; writes NAME.pt and its card in pretrained.json (web: the name shown)")
    export_parser.add_argument("--out", type=Path, help="with --format web: the .js file to write, e.g. my-generator.js")
    export_parser.add_argument("--weights-dir", type=Path, help="default: the package's weights folder")
    export_parser.add_argument("--num-samples", type=_positive_int, default=10_000, help="samples for the FID (default: 10000)")
    export_parser.add_argument("--data-root")
    export_parser.add_argument("--notes", help="a sentence for the card: what its numbers don't say")

    student_parser = commands.add_parser("student-edition", help="write the book's notebooks without their solutions")
    student_parser.add_argument("--book", type=Path, default=Path("book"), help="the chapters' folder (default: book)")
    student_parser.add_argument("--out", type=Path, default=Path("_build/student"), help="default: _build/student")

    grade_parser = commands.add_parser("grade", help="run submitted notebooks, check their exercises, write a CSV")
    grade_parser.add_argument("folder", type=Path, help="the folder of submitted notebooks (searched recursively)")
    grade_parser.add_argument("--out", type=Path, default=Path("grades.csv"), help="the CSV to write (default: grades.csv)")
    grade_parser.add_argument("--timeout", type=_positive_int, default=300, help="seconds per cell (default: 300)")
    grade_parser.add_argument("--full", action="store_true", help="full training runs (default: the fast mode of CI)")
    return parser


def _is_first_process() -> bool:
    """True unless this is one of torchrun's other processes (read before the process group exists)."""
    return os.environ.get("RANK", "0") == "0"


def _train(args: argparse.Namespace) -> None:
    given = {field: getattr(args, flag) for flag, field in _CONFIG_OPTIONS.items() if getattr(args, flag) is not None}
    if args.spectral_norm:
        given["spectral_norm"] = True
    if args.no_amp:
        given["amp"] = False
    if args.cpu_bf16:
        given["cpu_bfloat16"] = True
    if args.resume is not None:
        fixed = sorted(set(given) - _CAN_CHANGE_ON_RESUME)
        if fixed:
            raise ValueError(
                f"--resume continues the saved run with its own settings; only --epochs, --steps, --data-root and "
                f"--device may change, not --{', --'.join(name.replace('_', '-') for name in fixed)}"
            )
        from .checkpoints import load_checkpoint

        overrides = {key: given[key] for key in ("data_root", "device") if key in given}
        if "epochs" in given:
            overrides.update(epochs=given["epochs"], steps=None)
        if "steps" in given:
            overrides.update(steps=given["steps"], epochs=None)
        state = load_checkpoint(args.resume, config_overrides=overrides)
        if _is_first_process():
            print(f"resuming {args.resume} at epoch {state.epoch}, step {state.step}")
        state = train(state=state, out_dir=args.out, progress=args.progress)
    else:
        config = TrainConfig(**given).resolve()
        length = f"{config.steps} steps" if config.steps is not None else f"{config.epochs} epochs"
        if _is_first_process():
            print(f"training a {config.model} GAN on {config.dataset} with the {config.loss} loss for {length}")
        state = train(config, out_dir=args.out, progress=args.progress)
    import torch.distributed as dist

    if dist.is_initialized():  # under torchrun: process 0 alone reports and writes files
        rank = dist.get_rank()
        dist.destroy_process_group()
        if rank != 0:
            return
    print(f"wrote {args.out / 'checkpoint.pt'} (epoch {state.epoch}, step {state.step})")
    _sample_file(state.sampling_generator, state.config, 64, args.out / "samples.png", seed=0)
    print(f"wrote {args.out / 'samples.png'}")
    if not is_image_dataset(state.config.dataset):
        _print_metrics(_toy_report(state.sampling_generator, state.config, 10_000, seed=0))


def _sample_file(generator, config: TrainConfig, count: int, path: Path, seed: int) -> None:
    """Write ``count`` samples to a .png picture or a .npy array."""
    import numpy as np

    from .models import generate

    suffix = path.suffix.lower()
    if suffix not in (".png", ".npy"):
        raise ValueError(f"--out must end in .png (a picture) or .npy (the raw samples), got {path.name!r}")
    samples = generate(generator, count, seed=seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".npy":
        np.save(path, samples.numpy())
        return
    if is_image_dataset(config.dataset):
        from torchvision.utils import save_image

        # A conditional generator's samples cycle through the classes: one column per class.
        columns = getattr(generator, "num_classes", None) or max(1, int(count**0.5))
        save_image(samples, path, nrow=columns, normalize=True, value_range=(-1, 1))
        return
    import matplotlib

    matplotlib.use("Agg")
    from .viz import plot_toy

    axes = plot_toy(samples, toy_distribution(config.dataset))
    axes.figure.savefig(path, dpi=100, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(axes.figure)


def _toy_report(generator, config: TrainConfig, count: int, seed: int) -> dict:
    from .metrics import toy_metrics
    from .models import generate

    return toy_metrics(generate(generator, count, seed=seed), toy_distribution(config.dataset))


def _print_metrics(metrics: dict) -> None:
    for key, value in metrics.items():
        print(f"{key}: {value:.4f}" if isinstance(value, float) else f"{key}: {value}")


def _sample(args: argparse.Namespace) -> None:
    generator, config = load_generator(args.checkpoint, device=args.device)
    _sample_file(generator, config, args.n, args.out, seed=args.seed)
    print(f"wrote {args.n} samples to {args.out}")


def _evaluate(args: argparse.Namespace) -> None:
    generator, config = load_generator(args.checkpoint, device=args.device)
    print(f"dataset: {config.dataset}")
    if is_image_dataset(config.dataset):
        from .metrics import evaluate_images

        root = args.data_root if args.data_root is not None else config.data_root
        _print_metrics(evaluate_images(generator, config.dataset, num_samples=args.num_samples, root=root, seed=args.seed))
        print("note: the floor is real training images against the test set at the same N, a reference and not "
              "a bound; read fid_minus_floor (help(gan_teach.classifier_fid_floor) says why)")
    else:
        _print_metrics(_toy_report(generator, config, args.num_samples, seed=args.seed))


def _export(args: argparse.Namespace) -> None:
    from .pretrained import export_generator

    if args.format == "web":
        from .webexport import export_web_checkpoint

        if args.out is None:
            raise ValueError("--format web needs --out FILE.js, the file to drop onto the book's latent-space page")
        payload = export_web_checkpoint(args.checkpoint, args.out, name=args.name)
        print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes): {payload['name']}, {payload['model']}, "
              f"{len(payload['layers'])} layers, {payload['seeds']['count']} seeds; open the book's latent-space page "
              "and pick or drop this file")
        return
    if args.name is None:
        raise ValueError("export needs --name NAME (the weights are written as NAME.pt)")
    options = {"weights_dir": args.weights_dir} if args.weights_dir is not None else {}
    card = export_generator(args.checkpoint, args.name, num_samples=args.num_samples, root=args.data_root,
                            notes=args.notes, **options)
    print(f"wrote {card['file']} ({card['file_size_bytes']:,} bytes, sha256 {card['sha256'][:12]}...)")
    _print_metrics({key: card[key] for key in ("command", "epochs", "train_seconds", "machine", "fid", "fid_floor", "fid_minus_floor")})


def _student_edition(args: argparse.Namespace) -> None:
    from .exercises.student import make_student_edition

    removed = make_student_edition(args.book, args.out)
    print(f"wrote {len(removed)} notebooks to {args.out}, {sum(removed.values())} solutions removed")


def _grade(args: argparse.Namespace) -> None:
    from .exercises.grading import grade_folder, write_csv

    grades = grade_folder(args.folder, timeout=args.timeout, full=args.full)
    write_csv(grades, args.out, root=args.folder)
    print(f"wrote {args.out}: {len(grades)} notebooks, {sum(g.score for g in grades)} of "
          f"{sum(g.max_score for g in grades)} checks passed")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 on success)."""
    args = build_parser().parse_args(argv)
    commands = {"train": _train, "sample": _sample, "evaluate": _evaluate, "export": _export,
                "student-edition": _student_edition, "grade": _grade}
    try:
        commands[args.command](args)
    except (ValueError, FileNotFoundError, CheckpointError, DataNotFoundError, TrainingDivergedError) as error:
        print(f"gan-teach {args.command}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
