"""Every user error of both command lines is one line on stderr and a non-zero exit.

One row per bad input: ``(command line, a fragment of the one line[, how])``.
Each row asserts a non-zero exit, exactly one line on stderr, no traceback,
and that no file that existed before (the row's folder, the package's weights)
changed. Placeholders name what the fixture prepares: ``{ring}`` a tiny toy
checkpoint, ``{image}`` a tiny MNIST DCGAN checkpoint, ``{misfit}`` a
checkpoint whose weights do not fit its configuration, ``{file}`` a file,
``{folder}`` a folder holding a file, ``{empty}`` an empty folder,
``{pngdir}`` a folder holding a *folder* called samples.png, ``{ptdir}`` one
holding a folder called x.pt, ``{cards}`` a weights folder whose
pretrained.json is damaged, ``{book}`` a one-chapter book, ``{readonly}`` a
folder nobody here may write to, ``{no_cuda}`` a CUDA device this machine
lacks. ``how``: run in-process (default), ``subprocess`` (the real entry
point), ``disk-full`` (a subprocess whose files may not grow past 40 kB),
``damaged-classifier`` / ``damaged-cards`` (a shipped file is damaged).
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import torch

from gan_teach import TrainConfig, create_state, save_checkpoint
from gan_teach.cli import main as learner_main
from gan_teach.cli_support import run, user_error_line
from gan_teach.course.cli import main as course_main
from gan_teach.features import load_feature_classifier
from gan_teach.metrics import WEIGHTS_DIR

REPO = Path(__file__).resolve().parents[1]
BIG = str(2**64)
CHECKPOINTS = ("ring", "image", "misfit")
FOLDERS = ("file", "folder", "empty", "pngdir", "ptdir", "cards", "book")

ROWS = [
    # gan-teach train
    ("gan-teach train --steps 1 --out {file}", "is a file, but a folder"),
    ("gan-teach train --steps 1 --out {file}/run", "is a file, not a folder"),
    ("gan-teach train --steps 1 --out {pngdir}", "samples.png is a folder"),
    ("gan-teach train --steps 1 --out {readonly}/run", "is not writable"),
    ("gan-teach train --out {empty}/r --device gpu0", "unknown device 'gpu0'"),
    ("gan-teach train --out {empty}/r --device meta", "unknown device 'meta'"),
    ("gan-teach train --out {empty}/r --device mps", "MPS is not available"),
    ("gan-teach train --out {empty}/r --device {no_cuda}", "PyTorch sees"),
    (f"gan-teach train --out {{empty}}/r --seed {BIG}", "must be in [0, 2**64)"),
    ("gan-teach train --out {empty}/r --seed -1", "must be in [0, 2**64)"),
    ("gan-teach train --out {empty}/r --lr-generator nan", "lr_generator must be a finite"),
    ("gan-teach train --out {empty}/r --r1-gamma inf", "r1_gamma must be a finite"),
    ("gan-teach train --out {empty}/r --steps 0", "steps must be a positive"),
    ("gan-teach train --resume {misfit} --out {empty}/r", "do not fit"),
    ("gan-teach train --out {empty}/r --nonsense", "unrecognized arguments"),
    ("gan-teach train --dataset ring --steps 1 --width 8 --out {empty}/r", "File too large", "disk-full"),
    # gan-teach sample
    ("gan-teach sample --checkpoint {ring} --out {folder}", "is a folder; give the name"),
    ("gan-teach sample --checkpoint {ring} --out {file}/x.png", "is a file, not a folder"),
    ("gan-teach sample --checkpoint {ring} --out {readonly}/x.png", "is not writable"),
    ("gan-teach sample --checkpoint {ring} --out {empty}/x.npy --n 10000000000", "between 1 and 100,000"),
    ("gan-teach sample --checkpoint {ring} --out {empty}/x.png --n 20000", "a .png grid holds at most"),
    ("gan-teach sample --checkpoint {ring} --out {empty}/x.png --device gpu0", "unknown device"),
    ("gan-teach sample --checkpoint {ring} --out {empty}/x.png --device {no_cuda}", "PyTorch sees"),
    (f"gan-teach sample --checkpoint {{ring}} --out {{empty}}/x.png --seed {BIG}", "64-bit"),
    ("gan-teach sample --checkpoint {ring} --out {empty}/x.png --seed -5", "64-bit"),
    ("gan-teach sample --checkpoint {misfit} --out {empty}/x.npy", "layer"),
    ("gan-teach sample --checkpoint {ring} --out {empty}/x.npy --n 20000", "the disk is full", "disk-full"),
    ("gan-teach sample --checkpoint {image} --out {empty}/x.png --n 400", "the disk is full", "disk-full"),
    # gan-teach evaluate
    ("gan-teach evaluate --checkpoint {ring} --num-samples 100000000000", "between 1 and 100,000"),
    ("gan-teach evaluate --checkpoint {ring} --num-samples 70000", "between 2 and 60,000"),
    ("gan-teach evaluate --checkpoint {ring} --device meta", "unknown device"),
    (f"gan-teach evaluate --checkpoint {{ring}} --seed {BIG}", "64-bit"),
    ("gan-teach evaluate --checkpoint {misfit}", "do not fit the MLPGenerator"),
    ("gan-teach evaluate --checkpoint {image} --num-samples 2", "Reinstall gan-teach", "damaged-classifier"),
    # gan-teach export
    ("gan-teach export --checkpoint {image} --name x --weights-dir {file}", "is a file, but a folder"),
    ("gan-teach export --checkpoint {image} --name x --weights-dir {file}/w", "is a file, not a folder"),
    ("gan-teach export --checkpoint {image} --name x --weights-dir {readonly}/w", "is not writable"),
    ("gan-teach export --checkpoint {image} --name x --weights-dir {ptdir}", "x.pt is a folder"),
    ("gan-teach export --checkpoint {image} --name x --weights-dir {cards}", "pretrained.json is damaged"),
    ("gan-teach export --checkpoint {image} --name x", "Reinstall gan-teach", "damaged-cards"),
    ("gan-teach export --checkpoint {image} --name x --num-samples 1", "between 2 and 60,000"),
    ("gan-teach export --checkpoint {image} --name x --num-samples 99999", "between 2 and 60,000"),
    ("gan-teach export --checkpoint {image} --format web --out {folder}", "is a folder"),
    ("gan-teach export --checkpoint {misfit} --format web --out {empty}/g.js", "do not fit"),
    # the real entry points, in a fresh process
    ("gan-teach sample --checkpoint {ring} --out {empty}/x.png --device meta", "unknown device", "subprocess"),
    ("gan-teach train --steps 1 --out {file}", "is a file", "subprocess"),
    ("gan-teach sample --checkpoint {misfit} --out {empty}/x.npy", "do not fit", "subprocess"),
    ("gan-teach-course student-edition --book {book} --out {file}", "in the way", "subprocess"),
    ("gan-teach train --dataset cifar --out {empty}/r", "invalid choice: 'cifar'", "subprocess"),
    ("gan-teach train --steps 0 --out {empty}/r", "steps must be a positive integer, got 0", "subprocess"),
    # gan-teach-course
    ("gan-teach-course student-edition --book {book} --out {file}", "in the way"),
    ("gan-teach-course student-edition --book {book} --out {readonly}/s", "choose a place you can write to"),
    ("gan-teach-course student-edition --book {empty} --out {folder}/s", "no notebooks"),
    ("gan-teach-course grade {empty} --out {empty}/g.csv", "no notebooks"),
    ("gan-teach-course grade {empty} --out {empty}/g.csv --timeout x", "argument --timeout"),
    ("gan-teach-course nonsense", "invalid choice"),
]  # fmt: skip


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """The files every row starts from, built once."""
    root = tmp_path_factory.mktemp("template")
    ring = TrainConfig(dataset="ring", width=8, steps=1)
    save_checkpoint(create_state(ring), root / "ring.pt")
    image = TrainConfig(dataset="mnist", width=8, epochs=1)
    save_checkpoint(create_state(image), root / "image.pt")
    misfit = torch.load(root / "ring.pt", weights_only=True)
    misfit["config"]["width"] = 16  # the weights are width 8
    torch.save(misfit, root / "misfit.pt")
    (root / "file").write_text("a file where a folder should be\n")
    (root / "folder").mkdir()
    (root / "folder" / "keep.txt").write_text("keep me\n")
    (root / "empty").mkdir()
    (root / "pngdir" / "samples.png").mkdir(parents=True)
    (root / "ptdir" / "x.pt").mkdir(parents=True)
    (root / "cards").mkdir()
    (root / "cards" / "pretrained.json").write_text('{"mnist-dcgan": {')
    (root / "book").mkdir()
    shutil.copy(REPO / "book" / "algorithm.ipynb", root / "book")
    return root


def readonly_folder(tmp_path: Path) -> Path:
    """A folder this process cannot write to: chmod for a user; for root
    (who ignores permissions) a read-only system folder."""
    if os.geteuid() != 0:
        folder = tmp_path / "readonly"
        folder.mkdir()
        folder.chmod(0o555)
        return folder
    try:
        with tempfile.TemporaryFile(dir="/sys"):
            pass
    except OSError:
        return Path("/sys")
    pytest.skip("no read-only folder here: running as root without /sys")


def no_cuda() -> str:
    """A CUDA device this machine lacks."""
    if not torch.cuda.is_available():
        return "cuda"
    return f"cuda:{torch.cuda.device_count()}"


def snapshot(*folders: Path) -> dict[str, tuple[str, int]]:
    """Every file under ``folders``: its SHA-256 and mode."""
    files = {}
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                files[str(path)] = (digest, path.stat().st_mode)
    return files


def damage_a_shipped_file(how: str, tmp_path: Path, monkeypatch) -> Path:
    """A copy of the package's weights with one file damaged, in its place."""
    copy = tmp_path / "weights"
    shutil.copytree(WEIGHTS_DIR, copy)
    if how == "damaged-classifier":
        weights = copy / "mnist-classifier.pt"
        data = bytearray(weights.read_bytes())
        data[len(data) // 2] ^= 0xFF  # one flipped byte
        weights.write_bytes(bytes(data))
    else:
        (copy / "pretrained.json").write_text("{ not json")
    for module in ("features", "pretrained", "cli_support"):
        monkeypatch.setattr(f"gan_teach.{module}.WEIGHTS_DIR", copy)
    load_feature_classifier.cache_clear()  # checked again on the next load
    return copy


def run_in_process(argv: list[str], capsys) -> tuple[int, str]:
    main = learner_main if argv[0] == "gan-teach" else course_main
    try:
        status = main(argv[1:])
    except SystemExit as exit:  # argparse's usage errors
        status = exit.code
    return status, capsys.readouterr().err


DISK_FULL = """
import resource, signal, sys
from gan_teach.cli import main
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a kill
resource.setrlimit(resource.RLIMIT_FSIZE, (40_000, resource.RLIM_INFINITY))
sys.exit(main(sys.argv[1:]))
"""


def run_in_subprocess(
    argv: list[str], cwd: Path, disk_full: bool
) -> tuple[int, str]:
    module = {
        "gan-teach": "gan_teach",
        "gan-teach-course": "gan_teach.course",
    }
    start = ["-c", DISK_FULL] if disk_full else ["-m", module[argv[0]]]
    environment = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(
            [str(REPO), os.environ.get("PYTHONPATH", "")]
        ),
    )
    result = subprocess.run(
        [sys.executable, *start, *argv[1:]],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment,
    )
    return result.returncode, result.stderr


@pytest.mark.parametrize(
    "row",
    ROWS,
    ids=[f"{index}-{row[0].split()[1]}" for index, row in enumerate(ROWS)],
)
def test_a_user_error_is_one_line(
    row, template, tmp_path, monkeypatch, capsys
):
    line, fragment, how = (*row, "")[:3]
    place = tmp_path / "place"
    shutil.copytree(template, place)
    if "MPS" in fragment and "mps" in torch.backends.__dict__:
        if torch.backends.mps.is_available():
            pytest.skip("this machine has MPS")
    names = {name: str(place / name) for name in FOLDERS}
    names.update({name: str(place / f"{name}.pt") for name in CHECKPOINTS})
    if "{readonly}" in line:
        names["readonly"] = str(readonly_folder(tmp_path))
    names["no_cuda"] = no_cuda()
    argv = [part.format(**names) for part in shlex.split(line)]
    watched = [place, WEIGHTS_DIR]
    if how.startswith("damaged"):
        watched.append(damage_a_shipped_file(how, tmp_path, monkeypatch))
    before = snapshot(*watched)
    monkeypatch.chdir(place)
    if how in ("subprocess", "disk-full"):
        status, stderr = run_in_subprocess(
            argv, place, disk_full=how == "disk-full"
        )
    else:
        status, stderr = run_in_process(argv, capsys)
    # A usage error exits 2 (as argparse does), any other user error 1.
    usage = any(
        words in stderr
        for words in (
            "invalid choice",
            "unrecognized arguments",
            "argument -",
        )
    )
    assert status == (2 if usage else 1), (status, stderr)
    assert "Traceback" not in stderr, stderr
    assert len(stderr.strip().splitlines()) == 1, stderr
    assert fragment in stderr, stderr
    after = snapshot(*watched)
    assert {path: after.get(path) for path in before} == before


def test_a_bug_shows_its_traceback_and_asks_for_a_report(capsys):
    def broken(args):
        return {}["a key our code forgot"]

    parser = __import__("argparse").ArgumentParser(prog="demo")
    parser.add_subparsers(dest="command").add_parser("go")
    assert run("demo", parser, {"go": broken}, ["go"]) == 70
    stderr = capsys.readouterr().err
    assert "Traceback" in stderr and "KeyError" in stderr
    assert "this is a bug in gan-teach" in stderr.splitlines()[-1]


@pytest.mark.parametrize(
    "error, fragment",
    [
        (RuntimeError("[enforce fail] . unexpected pos 704 vs 598"), "disk is full"),
        (OSError(28, "No space left on device", "x.pt"), "the disk is full (or a file-size limit was reached): x.pt could not"),
        (OSError("100000 requested and 12484 written"), "disk is full"),
        (RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 68719476736 bytes"), "out of memory"),
        (MemoryError(), "out of memory"),
        (ValueError("first line\nsecond line"), "first line second line"),
    ],
)  # fmt: skip
def test_known_errors_become_one_line(error, fragment):
    line = user_error_line(error)
    assert fragment in line and "\n" not in line


@pytest.mark.parametrize(
    "error", [KeyError("x"), TypeError("bad"), RuntimeError("a bug")]
)
def test_other_errors_are_bugs(error):
    assert user_error_line(error) is None
