"""Two CPU processes under torchrun (gloo): the same `train`, with DDP and a DistributedSampler."""

import os
import subprocess
import sys

import torch

from gan_teach import load_checkpoint


def test_torchrun_two_processes(tmp_path):
    out = tmp_path / "run"
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node=2",
        "--standalone",
        "-m",
        "gan_teach",
        "train",
        "--dataset",
        "ring",
        "--steps",
        "20",
        "--width",
        "16",
        "--batch-size",
        "64",
        "--out",
        str(out),
        "--no-progress",
    ]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        env=environment,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("wrote") >= 2  # rank 0 reports its files ...
    assert sorted(p.name for p in out.iterdir()) == [
        "checkpoint.pt",
        "samples.png",
    ]  # ... and only one copy exists
    state = load_checkpoint(out / "checkpoint.pt")
    assert state.step == 20 and len(state.history["d_loss"]) == 20
    assert all(torch.isfinite(torch.tensor(state.history["g_loss"])))
