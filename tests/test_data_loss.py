"""Nothing is lost: a failed, interrupted, killed or mistaken command leaves every file as it was.

Each test makes the failure really happen (a diverging update, a kill -9, a full disk, a second
run in the same folder) and then checks the bytes on disk, not a mock of the code under test.
"""

import errno
import hashlib
import importlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import pytest
import torch

from gan_teach import (
    TrainConfig,
    TrainingDivergedError,
    create_state,
    load_toy,
    pretrained,
    save_checkpoint,
    train,
)
from gan_teach.checkpoints import CheckpointError, read_checkpoint
from gan_teach.cli import main
from gan_teach.course.cli import main as course_main
from gan_teach.data import load_images
from gan_teach.files import LOCK_NAME, lock_folder, write_atomically
from gan_teach.metrics import WEIGHTS_DIR

TINY = dict(dataset="ring", width=8, batch_size=32)
TOY_RUN = ["--dataset", "ring", "--width", "8", "--no-progress"]


def snapshot(folder):
    """Every file under ``folder``: relative path -> SHA-256 of its bytes."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(
            path.read_bytes()
        ).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def one_line_error(capsys):
    """The stderr of a command that failed: exactly one line, no traceback."""
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "Traceback" not in error, error
    return error


def train_toy(out, *extra):
    return main(["train", *TOY_RUN, "--out", str(out), *extra])


# --- gan-teach export ------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_mnist_checkpoint(tmp_path_factory):
    """A two-epoch MNIST-shaped run on random pixels: small and fast to export."""
    out = tmp_path_factory.mktemp("tiny-run")
    config = TrainConfig(
        dataset="mnist", width=4, latent_dim=8, batch_size=32, epochs=2
    )
    images = torch.rand(64, 1, 28, 28) * 2 - 1
    train(config, data=images, out_dir=out, progress=False)
    return out / "checkpoint.pt"


@pytest.fixture
def weights_dir(tmp_path, monkeypatch):
    """A weights folder holding a copy of a shipped generator and its card."""
    folder = tmp_path / "weights"
    folder.mkdir()
    card = json.loads((WEIGHTS_DIR / "pretrained.json").read_text())
    shutil.copy2(WEIGHTS_DIR / card["mnist-dcgan"]["file"], folder)
    (folder / "pretrained.json").write_text(
        json.dumps({"mnist-dcgan": card["mnist-dcgan"]}, indent=2)
    )
    monkeypatch.setattr(pretrained, "WEIGHTS_DIR", folder)
    return folder


def export(checkpoint, weights_dir, *extra):
    """The exit status of ``gan-teach export``; a usage error (argparse) is 2."""
    try:
        return main(
            [
                "export",
                "--checkpoint",
                str(checkpoint),
                "--weights-dir",
                str(weights_dir),
                "--num-samples",
                "200",
                *extra,
            ]
        )
    except SystemExit as exit:
        return exit.code


def test_export_refuses_a_shipped_name_and_a_path(
    tiny_mnist_checkpoint, weights_dir, tmp_path, capsys
):
    before = snapshot(tmp_path)
    assert export(
        tiny_mnist_checkpoint, weights_dir, "--name", "mnist-dcgan"
    )
    assert "already ships a generator called 'mnist-dcgan'" in (
        one_line_error(capsys)
    )
    for name in ("../../x", "sub/x", "..", ".hidden", "a\\b"):
        assert export(tiny_mnist_checkpoint, weights_dir, "--name", name)
        assert "plain file name" in one_line_error(capsys)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("failure", ["one sample", "no data", "ctrl-c"])
def test_a_failed_export_leaves_the_shipped_pair_byte_identical(
    failure, tiny_mnist_checkpoint, weights_dir, monkeypatch, capsys
):
    before = snapshot(weights_dir)
    extra = ["--name", "mnist-dcgan", "--overwrite"]
    if failure == "one sample":
        extra += ["--num-samples", "1"]
    elif failure == "no data":
        import torchvision

        # no download either: the only mirror refuses at once
        monkeypatch.setattr(
            torchvision.datasets.MNIST, "mirrors", ["http://127.0.0.1:9/"]
        )
        extra += ["--data-root", str(weights_dir.parent / "none")]
    else:

        def interrupted_fid(*args, **kwargs):
            raise KeyboardInterrupt

        monkeypatch.setattr(pretrained, "evaluate_images", interrupted_fid)
    status = export(tiny_mnist_checkpoint, weights_dir, *extra)
    # too few samples for a FID is refused while parsing (2), the rest at run time
    expected = {"one sample": 2, "no data": 1, "ctrl-c": 130}[failure]
    assert status == expected
    capsys.readouterr()
    assert snapshot(weights_dir) == before
    assert pretrained.load_generator("mnist-dcgan") is not None


def test_an_overwriting_export_switches_weights_and_card_together(
    tiny_mnist_checkpoint, weights_dir, capsys
):
    old_file = pretrained.model_card("mnist-dcgan")["file"]
    assert (
        export(
            tiny_mnist_checkpoint,
            weights_dir,
            "--name",
            "mnist-dcgan",
            "--overwrite",
        )
        == 0
    )
    card = pretrained.model_card("mnist-dcgan")
    # NAME.pt was the file in use: the new weights took another name
    assert card["file"] != old_file and card["latent_dim"] == 8
    assert sorted(p.name for p in weights_dir.iterdir()) == sorted(
        [card["file"], "pretrained.json"]
    )
    generator = pretrained.load_generator("mnist-dcgan")
    assert generator(torch.randn(2, 8)).shape == (2, 1, 28, 28)


def test_a_crash_between_weights_and_card_keeps_the_old_pair(
    tiny_mnist_checkpoint, weights_dir
):
    """kill -9 right after the new weights are written, before the card switches to them."""
    before = snapshot(weights_dir)
    script = textwrap.dedent(
        f"""
        import os, sys
        from gan_teach import pretrained
        real = pretrained.write_atomically
        def crash_before_the_card(path, write):
            if path.name == "pretrained.json":
                os.kill(os.getpid(), 9)
            return real(path, write)
        pretrained.write_atomically = crash_before_the_card
        pretrained.export_generator(
            {str(tiny_mnist_checkpoint)!r}, "mnist-dcgan",
            weights_dir={str(weights_dir)!r}, num_samples=200,
            overwrite=True,
        )
        """
    )
    result = subprocess.run([sys.executable, "-c", script])
    assert result.returncode == -signal.SIGKILL
    after = snapshot(weights_dir)
    # The old pair is untouched; the new weights lie there, pointed at by no card.
    assert {name: after[name] for name in before} == before
    assert pretrained.load_generator("mnist-dcgan") is not None
    # The next export tidies the orphan away.
    pretrained.export_generator(
        tiny_mnist_checkpoint,
        "mnist-dcgan",
        weights_dir=weights_dir,
        num_samples=200,
        overwrite=True,
    )
    card = pretrained.model_card("mnist-dcgan")
    assert sorted(p.name for p in weights_dir.iterdir()) == sorted(
        [card["file"], "pretrained.json"]
    )


# --- gan-teach-course student-edition --------------------------------------


@pytest.fixture
def book(tmp_path):
    """A one-chapter book with one solution block."""
    folder = tmp_path / "book"
    folder.mkdir()
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("Exercise: write 42."),
        nbformat.v4.new_markdown_cell(
            "```{solution-start} ex-a\n:class: dropdown\n```"
        ),
        nbformat.v4.new_code_cell("answer = 42"),
        nbformat.v4.new_markdown_cell("```{solution-end}\n```"),
    ]
    nbformat.write(notebook, folder / "chapter.ipynb")
    return folder


def test_student_edition_refuses_its_own_book(book, tmp_path, capsys):
    link = tmp_path / "link-to-book"
    link.symlink_to(book)
    before = snapshot(tmp_path)
    for book_arg, out in (
        (book, book),
        (book, book / "student"),
        (book, link),  # the book again, through a symbolic link
        (book, tmp_path),  # the book lies inside --out
    ):
        status = course_main(
            ["student-edition", "--book", str(book_arg), "--out", str(out)]
        )
        assert status == 1
        assert "--out" in one_line_error(capsys)
    assert snapshot(tmp_path) == before
    assert not (book / "student").exists()
    assert (
        course_main(
            [
                "student-edition",
                "--book",
                str(book),
                "--out",
                str(tmp_path / "s"),
            ]
        )
        == 0
        and "1 solutions removed" in capsys.readouterr().out
    )


# --- gan-teach train: an occupied or locked folder --------------------------


def test_train_refuses_a_folder_that_holds_another_runs_checkpoint(
    tmp_path, capsys
):
    out = tmp_path / "run"
    assert train_toy(out, "--steps", "8") == 0
    before = snapshot(out)
    capsys.readouterr()
    assert train_toy(out, "--steps", "8", "--seed", "1") == 1
    assert "already exists" in one_line_error(capsys)
    assert snapshot(out) == before
    # Resuming that very checkpoint, or saying --overwrite, is allowed.
    checkpoint = out / "checkpoint.pt"
    assert (
        main(["train", "--resume", str(checkpoint), "--out", str(out)]) == 1
    )  # it already has its 8 steps
    assert "--steps 8 asks for no more" in one_line_error(capsys)
    resume = ["train", "--resume", str(checkpoint), "--out", str(out)]
    assert main([*resume, "--steps", "5"]) == 1
    assert (
        "at step 8, and --steps 5 asks for no more: pass --steps above 8"
        in (one_line_error(capsys))
    )
    assert snapshot(out) == before
    assert train_toy(out, "--steps", "4", "--overwrite") == 0
    assert read_checkpoint(checkpoint)["step"] == 4


def test_a_second_run_in_a_folder_refuses_and_ctrl_c_frees_it(
    tmp_path, capsys
):
    out = tmp_path / "run"
    first = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gan_teach",
            "train",
            *TOY_RUN,
            "--steps",
            "1000000",
            "--out",
            str(out),
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    lock = out / LOCK_NAME
    deadline = time.monotonic() + 120
    while not lock.exists() and time.monotonic() < deadline:
        assert first.poll() is None, first.stderr.read()
        time.sleep(0.2)
    assert lock.read_text().split()[0] == str(first.pid)
    assert train_toy(out, "--steps", "4", "--overwrite") == 1
    error = one_line_error(capsys)
    assert f"in use: process {first.pid} is training there" in error
    first.send_signal(signal.SIGINT)  # Ctrl-C
    assert first.wait(timeout=120) == 130
    assert not lock.exists()
    assert train_toy(out, "--steps", "4", "--overwrite") == 0


def test_a_stale_lock_of_a_dead_process_is_taken_over(tmp_path, capsys):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # its number now belongs to no running process
    out = tmp_path / "run"
    out.mkdir()
    (out / LOCK_NAME).write_text(f"{dead.pid} {socket.gethostname()}\n")
    assert train_toy(out, "--steps", "4") == 0
    assert f"its process ({dead.pid}) no longer runs" in (
        capsys.readouterr().err
    )
    assert not (out / LOCK_NAME).exists()


def test_the_lock_is_released_when_the_block_raises(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with lock_folder(tmp_path):
            assert (tmp_path / LOCK_NAME).exists()
            raise KeyboardInterrupt
    assert not (tmp_path / LOCK_NAME).exists()


# --- the divergence guard ----------------------------------------------------


@pytest.mark.parametrize(
    "network", ["generator", "discriminator", "ema_generator"]
)
def test_a_non_finite_update_never_replaces_the_last_good_checkpoint(
    network, tmp_path, monkeypatch
):
    """The last step of epoch 2 writes NaN into a weight after its loss was computed."""
    # the module, not the function gan_teach.train that shadows it
    training = importlib.import_module("gan_teach.train")
    real_step = training.train_step

    def step_then_poison(state, *args):
        metrics = real_step(state, *args)
        if state.step == 7:  # 4 steps an epoch: the last step of epoch 2
            module = getattr(state, network)
            with torch.no_grad():
                next(module.parameters()).fill_(float("nan"))
        return metrics

    monkeypatch.setattr(training, "train_step", step_then_poison)
    with pytest.raises(TrainingDivergedError) as caught:
        train(
            TrainConfig(**TINY, epochs=3, ema_decay=0.9),
            data=load_toy("ring", 32 * 4),
            out_dir=tmp_path,
            progress=False,
        )
    message = str(caught.value)
    assert message.startswith(f"{network}.") and "by step 8 (epoch 2)" in (
        message
    )
    assert "the last good checkpoint" in message
    saved = read_checkpoint(tmp_path / "checkpoint.pt")
    assert saved["epoch"] == 1 and saved["step"] == 4


def test_a_diverging_learning_rate_stops_before_saving(tmp_path):
    """At lr 1e4 Adam's moments overflow in epoch 1 while every loss is still finite."""
    with pytest.raises(
        TrainingDivergedError,
        match=r"optimizer.state.* became NaN or infinite by step 4 .*"
        "nothing was saved",
    ):
        train(
            TrainConfig(
                **TINY, epochs=20, lr_generator=1e4, lr_discriminator=1e4
            ),
            data=load_toy("ring", 32 * 4),
            out_dir=tmp_path,
            progress=False,
        )
    assert not (tmp_path / "checkpoint.pt").exists()


def test_save_refuses_nan_and_sample_refuses_a_nan_generator(
    tmp_path, capsys
):
    state = create_state(TrainConfig(**TINY, steps=1))
    good = save_checkpoint(state, tmp_path / "checkpoint.pt")
    before = snapshot(tmp_path)
    with torch.no_grad():
        for parameter in state.generator.parameters():
            parameter.fill_(float("nan"))
    with pytest.raises(TrainingDivergedError, match="kept as it was"):
        save_checkpoint(state, good)
    assert snapshot(tmp_path) == before
    # A file saved around the guard: sample refuses it in one line.
    checkpoint = torch.load(good, weights_only=True)
    for value in checkpoint["generator"].values():
        if value.is_floating_point():
            value.fill_(float("nan"))
    nan_file = tmp_path / "nan.pt"
    torch.save(checkpoint, nan_file)
    status = main(
        [
            "sample",
            "--checkpoint",
            str(nan_file),
            "--out",
            str(tmp_path / "x.png"),
        ]
    )
    assert status == 1 and "NaN or infinite weights" in one_line_error(
        capsys
    )
    assert not (tmp_path / "x.png").exists()


# --- kill -9 and a full disk during a save -----------------------------------


def test_kill_9_during_saves_leaves_a_loadable_checkpoint(tmp_path):
    path = tmp_path / "checkpoint.pt"
    script = textwrap.dedent(
        f"""
        from gan_teach import TrainConfig, create_state, save_checkpoint
        state = create_state(TrainConfig(dataset="ring", width=512))
        save_checkpoint(state, {str(path)!r})
        print("saved", flush=True)
        while True:  # save after save: a kill lands in one
            state.step += 1
            save_checkpoint(state, {str(path)!r})
        """
    )
    killed_mid_write = 0
    for _ in range(2):
        saver = subprocess.Popen(
            [sys.executable, "-c", script],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert saver.stdout.readline() == "saved\n"
        # kill -9 as soon as a save is under way
        while not any(tmp_path.glob(".checkpoint.pt.*.tmp")):
            assert saver.poll() is None  # still saving
            time.sleep(0.001)
        saver.kill()
        saver.wait()
        killed_mid_write += any(tmp_path.glob(".checkpoint.pt.*.tmp"))
        assert read_checkpoint(path)["format"] == "gan-teach-checkpoint"
    assert killed_mid_write  # at least one kill hit a half-written file
    # The next save removes the temporary files the killed writers left.
    save_checkpoint(create_state(TrainConfig(**TINY, steps=1)), path)
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]


@pytest.mark.parametrize(
    "disk_full",
    [
        OSError(errno.ENOSPC, "No space left on device"),
        RuntimeError(
            "[enforce fail at inline_container.cc] unexpected pos"
        ),
    ],
    ids=["OSError", "torch's RuntimeError"],
)
def test_a_full_disk_keeps_the_previous_checkpoint(
    disk_full, tmp_path, monkeypatch, capsys
):
    out = tmp_path / "run"
    assert train_toy(out, "--steps", "4") == 0
    before = snapshot(out)
    capsys.readouterr()
    real_save = torch.save

    def save_until_the_disk_is_full(obj, file, *args, **kwargs):
        file.write(b"PK\x03\x04 half a checkpoint")
        raise disk_full

    monkeypatch.setattr(torch, "save", save_until_the_disk_is_full)
    checkpoint = str(out / "checkpoint.pt")
    status = main(
        ["train", "--resume", checkpoint, "--out", str(out), "--steps", "8"]
    )
    monkeypatch.setattr(torch, "save", real_save)
    assert status == 1
    error = one_line_error(capsys)
    assert "could not be written" in error and "as it was before" in error
    assert snapshot(out) == before  # no half file, no .tmp left
    assert read_checkpoint(checkpoint)["step"] == 4


@pytest.mark.parametrize("suffix", [".npy", ".png"])
def test_a_full_disk_while_sampling_leaves_no_half_file(
    suffix, tmp_path, monkeypatch, capsys
):
    out = tmp_path / "run"
    assert train_toy(out, "--steps", "2") == 0
    samples = tmp_path / f"samples{suffix}"
    samples.write_bytes(b"the previous samples")
    before = snapshot(tmp_path)
    capsys.readouterr()
    import numpy
    from matplotlib.figure import Figure

    def write_until_the_disk_is_full(file, *args, **kwargs):
        file.write(b"half a file")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(numpy, "save", write_until_the_disk_is_full)
    monkeypatch.setattr(
        Figure,
        "savefig",
        lambda self, file, **kw: write_until_the_disk_is_full(file),
    )
    status = main(
        [
            "sample",
            "--checkpoint",
            str(out / "checkpoint.pt"),
            "--out",
            str(samples),
        ]
    )
    assert status == 1
    assert "could not be written" in one_line_error(capsys)
    assert snapshot(tmp_path) == before  # the old file whole, no .tmp


def test_new_files_get_the_umasks_mode(tmp_path):
    previous = os.umask(0o022)
    try:
        path = save_checkpoint(
            create_state(TrainConfig(**TINY, steps=1)), tmp_path / "a.pt"
        )
        assert path.stat().st_mode & 0o777 == 0o644
        os.umask(0o077)
        path = write_atomically(tmp_path / "b", lambda f: f.write(b"x"))
        assert path.stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(previous)


# --- damaged files are called damaged ------------------------------------------


def test_damage_is_reported_as_damage(tmp_path):
    path = save_checkpoint(
        create_state(TrainConfig(**TINY, steps=1)), tmp_path / "c.pt"
    )
    flipped = bytearray(path.read_bytes())
    flipped[len(flipped) // 2] ^= 0x01  # one bit, inside a weight
    (tmp_path / "flipped.pt").write_bytes(bytes(flipped))
    with pytest.raises(CheckpointError, match="is damaged: its record"):
        read_checkpoint(tmp_path / "flipped.pt")
    (tmp_path / "random.pt").write_bytes(os.urandom(4096))
    with pytest.raises(CheckpointError) as caught:
        read_checkpoint(tmp_path / "random.pt")
    assert "is not a checkpoint: torch.save writes a zip" in str(
        caught.value
    )
    assert "pickled" not in str(caught.value)

    raw = tmp_path / "data" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    name = "train-labels-idx1-ubyte.gz"
    original = Path(os.environ["GAN_TEACH_DATA"]) / "MNIST" / "raw" / name
    damaged = bytearray(original.read_bytes())
    damaged[100] ^= 0xFF
    (raw / name).write_bytes(bytes(damaged))
    with pytest.raises(ValueError, match="is damaged: its MD5"):
        load_images("mnist", tmp_path / "data")
