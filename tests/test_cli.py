import subprocess
import sys

import numpy as np
import pytest
import torch

from gan_teach import save_checkpoint
from gan_teach.cli import main


def test_train_sample_evaluate_on_toy_data(tmp_path, capsys):
    out = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "--dataset",
                "grid",
                "--out",
                str(out),
                "--steps",
                "30",
                "--width",
                "32",
                "--no-progress",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert (out / "checkpoint.pt").exists() and (
        out / "samples.png"
    ).exists()
    assert "modes_covered" in printed and "high_quality_share" in printed

    assert (
        main(
            [
                "sample",
                "--checkpoint",
                str(out / "checkpoint.pt"),
                "--n",
                "50",
                "--out",
                str(tmp_path / "points.npy"),
            ]
        )
        == 0
    )
    points = np.load(tmp_path / "points.npy")
    assert points.shape == (50, 2) and points.dtype == np.float32

    assert (
        main(
            [
                "evaluate",
                "--checkpoint",
                str(out / "checkpoint.pt"),
                "--num-samples",
                "500",
            ]
        )
        == 0
    )
    assert "num_modes: 25" in capsys.readouterr().out


def test_resume_extends_a_run(tmp_path, capsys):
    out = tmp_path / "run"
    main(
        [
            "train",
            "--dataset",
            "ring",
            "--out",
            str(out),
            "--steps",
            "10",
            "--width",
            "16",
            "--no-progress",
        ]
    )
    assert (
        main(
            [
                "train",
                "--resume",
                str(out / "checkpoint.pt"),
                "--out",
                str(out),
                "--steps",
                "20",
                "--no-progress",
            ]
        )
        == 0
    )
    assert "resuming" in capsys.readouterr().out
    assert (
        torch.load(out / "checkpoint.pt", weights_only=True)["step"] == 20
    )
    assert (
        main(
            [
                "train",
                "--resume",
                str(out / "checkpoint.pt"),
                "--out",
                str(out),
                "--loss",
                "hinge",
            ]
        )
        == 1
    )
    error = capsys.readouterr().err
    assert (
        "only --epochs, --steps" in error
        and "--loss (saved: 'non-saturating')" in error
    )


def test_resume_accepts_the_settings_the_run_already_has(tmp_path, capsys):
    out = tmp_path / "run"
    first = [
        "--dataset",
        "ring",
        "--steps",
        "10",
        "--width",
        "16",
        "--no-progress",
    ]
    assert main(["train", *first, "--out", str(out)]) == 0
    again = [
        "--dataset",
        "ring",
        "--steps",
        "20",
        "--width",
        "16",
        "--loss",
        "non-saturating",
        "--lr-decay",
    ]
    assert (
        main(
            [
                "train",
                "--resume",
                str(out / "checkpoint.pt"),
                "--out",
                str(out),
                *again,
                "--no-progress",
            ]
        )
        == 0
    )
    assert (
        torch.load(out / "checkpoint.pt", weights_only=True)["step"] == 20
    )
    capsys.readouterr()
    changed = ["--dataset", "ring", "--width", "32"]
    assert (
        main(
            [
                "train",
                "--resume",
                str(out / "checkpoint.pt"),
                "--out",
                str(out),
                *changed,
            ]
        )
        == 1
    )
    error = capsys.readouterr().err
    assert (
        "--width (saved: 16)" in error
        and "--dataset" not in error.split("not ")[-1]
    )


def test_sample_png_and_npy_for_images(tmp_path):
    from gan_teach import TrainConfig, create_state

    state = create_state(
        TrainConfig(dataset="mnist", width=4, latent_dim=8, epochs=1)
    )
    checkpoint = save_checkpoint(state, tmp_path / "checkpoint.pt")
    assert (
        main(
            [
                "sample",
                "--checkpoint",
                str(checkpoint),
                "--n",
                "9",
                "--out",
                str(tmp_path / "grid.png"),
            ]
        )
        == 0
    )
    assert (tmp_path / "grid.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (
        main(
            [
                "sample",
                "--checkpoint",
                str(checkpoint),
                "--n",
                "9",
                "--out",
                str(tmp_path / "images.npy"),
            ]
        )
        == 0
    )
    images = np.load(tmp_path / "images.npy")
    assert (
        images.shape == (9, 1, 28, 28)
        and images.min() >= -1
        and images.max() <= 1
    )


def test_evaluate_prints_fid_floor_and_their_difference_for_images(
    tmp_path, capsys
):
    from gan_teach import TrainConfig, create_state

    state = create_state(
        TrainConfig(dataset="mnist", width=4, latent_dim=8, epochs=1)
    )
    checkpoint = save_checkpoint(state, tmp_path / "checkpoint.pt")
    with pytest.warns(UserWarning, match="biased upward"):
        assert (
            main(
                [
                    "evaluate",
                    "--checkpoint",
                    str(checkpoint),
                    "--num-samples",
                    "200",
                ]
            )
            == 0
        )
    printed = dict(
        line.split(": ", 1) for line in capsys.readouterr().out.splitlines()
    )
    fid, floor = float(printed["fid"]), float(printed["fid_floor"])
    assert float(printed["fid_minus_floor"]) == pytest.approx(
        fid - floor, abs=2e-4
    )
    assert printed["num_samples"] == "200" and "fid_ratio" not in printed
    assert "a reference and not a bound" in printed["note"]
    # precision, recall, density, coverage and KID on the same 200 samples
    diversity = printed["diversity"]
    for name in ("precision", "recall", "density", "coverage", "KID"):
        assert f"{name} " in diversity
    assert "(200 samples, k = 5;" in diversity


@pytest.mark.parametrize(
    "arguments,message",
    [
        (
            ["sample", "--checkpoint", "missing.pt", "--out", "x.png"],
            "no checkpoint at missing.pt",
        ),
        (
            [
                "train",
                "--dataset",
                "mnist",
                "--model",
                "mlp",
                "--out",
                "run",
            ],
            "model 'mlp' is for the toy datasets",
        ),
        (
            ["sample", "--checkpoint", "{bad}", "--out", "x.png"],
            "not a gan-teach checkpoint",
        ),
        (
            ["sample", "--checkpoint", "{good}", "--out", "x.jpg"],
            "must end in .png",
        ),
    ],
)
def test_user_errors_print_one_line_without_traceback(
    tmp_path, arguments, message
):
    bad = tmp_path / "bad.pt"
    torch.save({"weights": torch.zeros(1)}, bad)
    from gan_teach import TrainConfig, create_state

    good = save_checkpoint(
        create_state(TrainConfig(dataset="ring", width=8, steps=1)),
        tmp_path / "good.pt",
    )
    arguments = [a.format(bad=bad, good=good) for a in arguments]
    result = subprocess.run(
        [sys.executable, "-m", "gan_teach", *arguments],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode != 0
    assert message in result.stderr
    assert (
        "Traceback" not in result.stderr
        and len(result.stderr.strip().splitlines()) == 1
    )


def test_missing_dataset_is_one_clear_line(tmp_path):
    env_script = (
        "import sys, torchvision; torchvision.datasets.MNIST.mirrors = ['http://127.0.0.1:9/'];"
        "from gan_teach.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            env_script,
            "train",
            "--dataset",
            "mnist",
            "--data-root",
            str(tmp_path / "none"),
            "--out",
            str(tmp_path / "run"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert (
        "mnist is not in" in result.stderr
        and "Traceback" not in result.stderr
    )
