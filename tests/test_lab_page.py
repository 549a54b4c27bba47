"""gan_teach.instruments.lab.page: the live lab's settings come from the library, and its runs record what a replay needs."""

from __future__ import annotations

import json

import pytest

from gan_teach.data import toy_distribution
from gan_teach.instruments.lab import LAB_DATASETS, LabSettings, lab_bounds
from gan_teach.instruments.lab.page import (
    page_data,
    page_data_script,
    record_lab_run,
)
from gan_teach.losses import LOSSES


def test_page_data_is_the_library_settings():
    data = page_data()
    assert list(data["datasets"]) == list(LAB_DATASETS)
    for name, dataset in data["datasets"].items():
        distribution = toy_distribution(name)
        assert dataset["centers"] == [
            list(center) for center in distribution.centers
        ]
        assert dataset["std"] == distribution.std and dataset[
            "bounds"
        ] == list(lab_bounds(name))
    assert list(data["losses"]) == list(LOSSES)
    for name, loss in data["losses"].items():
        config = LabSettings(loss=name).to_config()
        assert (loss["beta1"], loss["beta2"]) == (
            config.beta1,
            config.beta2,
        )
        assert loss["uses_sigmoid"] == LOSSES[name].uses_sigmoid
    assert data["losses"]["wgan-gp"]["gradient_penalty_weight"] == 10.0
    assert data["network"] == {
        "num_hidden": 3,
        "leaky_slope": 0.2,
        "generator_batch_norm": False,
    }
    assert data["defaults"]["width"] == LabSettings().width
    assert (
        data["pictures"]["resolution"] == 40
        and data["pictures"]["num_arrows"] == 64
    )


def test_page_data_script_is_a_classic_script():
    script = page_data_script()
    prefix = "window.GAN_LAB_DATA = "
    body = script[script.index(prefix) + len(prefix) :].rstrip().rstrip(";")
    assert json.loads(body) == json.loads(json.dumps(page_data()))


def test_record_groups_the_noise_by_update():
    record = record_lab_run(
        LabSettings(loss="wgan-gp", d_steps=2, width=8, batch_size=4),
        ("step", "discriminator", "generator"),
    )
    step, discriminator, generator = record["updates"]
    assert [sorted(noise) for noise in step["noise"]] == [
        ["epsilon", "z"],
        ["epsilon", "z"],
        ["z"],
    ]
    assert (
        len(step["real_batches"]) == 2
        and len(step["real_batches"][0]) == 4 * 2
    )  # k batches of (B, 2)
    assert [sorted(noise) for noise in discriminator["noise"]] == [
        ["epsilon", "z"]
    ]
    assert [sorted(noise) for noise in generator["noise"]] == [
        ["z"]
    ] and generator["real_batches"] == []
    assert len(step["noise"][0]["z"]) == 4 * 2  # (B, latent_dim 2)


def test_record_rejects_unknown_actions():
    with pytest.raises(ValueError, match="discriminator, generator, step"):
        record_lab_run(LabSettings(width=8), ("train",))
