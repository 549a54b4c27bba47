"""The live lab's JavaScript trainer does what gan_teach.train does, number for number.

``gan_teach.instruments.lab.page.record_lab_run`` drives the Python lab (``LabSession``, hence the library's
``discriminator_step`` / ``generator_step`` / ``train_step``) and records the initial weights, every real
batch and every noise draw. ``tests/lab_js_replay.js`` replays that record under Node in
``book/_ext/live_lab/gan_lab_engine.js``, the file the book's page loads. Every parameter after every
update, every metric, and the lab's pictures (heat map, manifold, arrows, mode coverage) must agree.

The lab trains in float32 and the page in float64, so they agree to float32's rounding: the tolerance is
1e-5 (the largest difference measured is printed with ``pytest -s``; it is about 1e-7).

Recorded in float64 (networks, noise and batches in double precision), the hinge loss agrees to float64's
rounding (about 1e-16). The other losses agree to about 2e-9, no better: ``discriminator_step`` and
``generator_step`` compute every loss in float32 (``logits.float()``, there for mixed precision), so the
gradient that reaches the float64 networks carries float32's rounding (1e-7 relative), times the learning
rate. The float64 tolerance is therefore 1e-8, and 1e-12 for hinge, whose gradient (plus or minus 1/B) is
exact in float32. WGAN-GP cannot run in float64 at all: the library casts the penalty's inputs to float32.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from gan_teach.instruments.lab import LabSettings
from gan_teach.instruments.lab.page import record_lab_run
from gan_teach.losses import LOSSES

REPO = Path(__file__).resolve().parents[1]
ENGINE = REPO / "book" / "_ext" / "live_lab" / "gan_lab_engine.js"
REPLAY = REPO / "tests" / "lab_js_replay.js"
TOLERANCE = 1e-5  # float32 (PyTorch) against float64 (the page)
TOLERANCE_FLOAT64 = 1e-8  # float64 networks, but the library's loss gradients are float32 (see above)
TOLERANCE_FLOAT64_EXACT_LOSS = (
    1e-12  # hinge: its loss gradient is exact in float32
)
# D steps, G steps and full steps (k D steps and one G step each), in an order that mixes them.
ACTIONS = (
    "discriminator",
    "generator",
    "step",
    "step",
    "discriminator",
    "step",
    "generator",
    "step",
)


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail(
            "Node.js is needed to run the live lab's JavaScript trainer in this test: install it "
            "(Debian: apt-get install nodejs) so that `node --version` works"
        )
    version = subprocess.run(
        [node, "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    major = int(re.match(r"v(\d+)", version).group(1))
    if major < 14:
        pytest.fail(
            f"the parity test needs Node 14 or newer, found {version}"
        )
    return node


def _replay(record: dict, tmp_path: Path) -> dict:
    fixture = tmp_path / "record.json"
    fixture.write_text(json.dumps(record), encoding="utf-8")
    done = subprocess.run(
        [_node(), str(REPLAY), str(ENGINE), str(fixture)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, (
        f"the JavaScript replay failed:\n{done.stderr}"
    )
    return json.loads(done.stdout)


def _largest_difference(python: dict, javascript: dict) -> float:
    """The largest absolute difference over every parameter of both networks."""
    largest = 0.0
    for network in ("generator", "discriminator"):
        assert len(python[network]) == len(javascript[network]), network
        for expected, got in zip(python[network], javascript[network]):
            largest = max(
                largest,
                float(
                    np.max(np.abs(np.asarray(expected) - np.asarray(got)))
                ),
            )
    return largest


def _check_replay(
    record: dict, replay: dict, tolerance: float = TOLERANCE
) -> float:
    """Assert that the replay matches the record everywhere; return the largest parameter difference."""
    largest = 0.0
    for number, (expected, got) in enumerate(
        zip(record["updates"], replay["updates"]), start=1
    ):
        difference = _largest_difference(
            expected["parameters"], got["parameters"]
        )
        assert difference < tolerance, (
            f"update {number} ({expected['action']}): parameters differ by {difference:.3g}"
        )
        largest = max(largest, difference)
        for key, value in expected["metrics"].items():
            if key.endswith("grad_norm"):
                continue  # the page does not compute gradient norms
            # The library's loss values and D's mean outputs are float32 numbers, whatever the networks' precision.
            assert got["metrics"][key] == pytest.approx(
                value, rel=TOLERANCE, abs=TOLERANCE
            ), (number, key)
    assert len(replay["updates"]) == len(record["updates"])
    if "heatmap" not in record:
        return largest
    np.testing.assert_allclose(
        replay["heatmap"], record["heatmap"], atol=TOLERANCE
    )
    for family in ("rows", "columns"):
        np.testing.assert_allclose(
            replay["manifold"][family],
            record["manifold"][family],
            atol=TOLERANCE,
        )
    np.testing.assert_allclose(
        replay["arrow_gradients"],
        record["arrow_gradients"],
        atol=10 * TOLERANCE,
        rtol=TOLERANCE,
    )
    assert (
        replay["toy_metrics"]["mode_counts"]
        == record["toy_metrics"]["mode_counts"]
    )
    assert (
        replay["toy_metrics"]["modes_covered"]
        == record["toy_metrics"]["modes_covered"]
    )
    assert replay["toy_metrics"]["high_quality_share"] == pytest.approx(
        record["toy_metrics"]["high_quality_share"]
    )
    return largest


@pytest.mark.parametrize("optimizer, rate", [("adam", 5e-3), ("sgd", 5e-2)])
@pytest.mark.parametrize(
    "loss", list(LOSSES)
)  # a loss added to the library fails here until the page has it too
def test_page_trainer_matches_the_library(loss, optimizer, rate, tmp_path):
    settings = LabSettings(
        loss=loss,
        optimizer=optimizer,
        lr_generator=rate,
        lr_discriminator=rate,
        d_steps=3,
        width=16,
        batch_size=32,
        seed=1,
    )
    record = record_lab_run(settings, ACTIONS)
    if (
        loss == "wgan-gp"
    ):  # the penalty's mixing weights were recorded with each discriminator update
        for update in record["updates"]:
            discriminator_updates = {
                "discriminator": 1,
                "generator": 0,
                "step": settings.d_steps,
            }[update["action"]]
            assert ["epsilon" in noise for noise in update["noise"]] == [
                True
            ] * discriminator_updates + [False] * (
                len(update["noise"]) - discriminator_updates
            )
    largest = _check_replay(record, _replay(record, tmp_path))
    print(
        f"{loss} {optimizer}: largest parameter difference {largest:.2e} after {len(ACTIONS)} updates"
    )


@pytest.mark.parametrize("optimizer, rate", [("adam", 5e-3), ("sgd", 5e-2)])
@pytest.mark.parametrize(
    "loss",
    [
        name
        for name, loss in LOSSES.items()
        if not loss.gradient_penalty_weight
    ],
)
def test_page_trainer_matches_the_library_in_float64(
    loss, optimizer, rate, tmp_path
):
    settings = LabSettings(
        loss=loss,
        optimizer=optimizer,
        lr_generator=rate,
        lr_discriminator=rate,
        d_steps=3,
        width=16,
        batch_size=32,
        seed=2,
    )
    record = record_lab_run(settings, ACTIONS, dtype=torch.float64)
    tolerance = (
        TOLERANCE_FLOAT64_EXACT_LOSS
        if loss == "hinge"
        else TOLERANCE_FLOAT64
    )
    largest = _check_replay(
        record, _replay(record, tmp_path), tolerance=tolerance
    )
    print(
        f"{loss} {optimizer} float64: largest parameter difference {largest:.2e} after {len(ACTIONS)} updates"
    )


def test_wgan_gp_cannot_be_recorded_in_float64():
    with pytest.raises(ValueError, match="float32"):
        record_lab_run(
            LabSettings(loss="wgan-gp", width=8),
            ("step",),
            dtype=torch.float64,
        )


def test_page_trainer_matches_at_the_page_defaults(tmp_path):
    """The lab's own defaults (width 64, batch 128, Adam at 1e-3, the ring), grid data, and k = 2."""
    settings = LabSettings(dataset="grid", d_steps=2)
    record = record_lab_run(
        settings, ("step",) * 4 + ("discriminator", "generator")
    )
    assert (
        record["settings"]["width"] == 64
        and record["settings"]["batch_size"] == 128
    )
    largest = _check_replay(record, _replay(record, tmp_path))
    print(f"defaults on grid: largest parameter difference {largest:.2e}")


def test_replay_notices_a_changed_weight(tmp_path):
    """The comparison has teeth: one weight changed in the starting point shows up after the first update."""
    record = record_lab_run(LabSettings(width=8, batch_size=16), ("step",))
    record["initial"]["discriminator"][0][0] += 1e-3
    replay = _replay(record, tmp_path)
    difference = _largest_difference(
        record["updates"][0]["parameters"],
        replay["updates"][0]["parameters"],
    )
    assert difference > TOLERANCE
