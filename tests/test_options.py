import argparse
import dataclasses

import pytest

from gan_teach import TrainConfig
from gan_teach.cli import build_parser
from gan_teach.options import (
    FLAGS,
    add_config_options,
    config_arguments,
    given_settings,
    train_command,
)


def _parse(arguments: list[str]) -> TrainConfig:
    parser = argparse.ArgumentParser()
    add_config_options(parser)
    return TrainConfig(
        **given_settings(parser.parse_args(arguments))
    ).resolve()


CONFIGS = [
    TrainConfig(),
    TrainConfig(
        dataset="grid",
        loss="wgan-gp",
        steps=300,
        d_steps=3,
        lr_decay=False,
        seed=4,
    ),
    TrainConfig(
        dataset="mnist",
        model="conditional",
        loss="hinge",
        spectral_norm=True,
        width=64,
        epochs=16,
        ema_decay=0.999,
    ),
    TrainConfig(
        dataset="mnist",
        epochs=100,
        r1_gamma=1.0,
        r1_start_epoch=70,
        cpu_bfloat16=True,
        amp=False,
    ),
    TrainConfig(
        dataset="fashion-mnist",
        batch_size=64,
        lr_generator=1e-4,
        beta1=0.0,
        beta2=0.99,
        num_fixed_samples=100,
        data_root="/data",
        device="cpu",
    ),
    TrainConfig(
        dataset="ring",
        minibatch_std=True,
        generator_batch_norm=False,
        latent_dim=2,
        width=8,
        steps=7,
    ),
]


@pytest.mark.parametrize("config", CONFIGS, ids=range(len(CONFIGS)))
def test_config_to_command_to_config_is_the_identity(config):
    assert _parse(config_arguments(config)) == config.resolve()


def test_every_config_field_has_a_flag_with_its_comment_as_help():
    train_parser = (
        build_parser()._subparsers._group_actions[0].choices["train"]
    )
    actions = {action.dest: action for action in train_parser._actions}
    for field in dataclasses.fields(TrainConfig):
        assert field.name in actions, (
            f"TrainConfig.{field.name} has no flag"
        )
        assert FLAGS[field.name] in actions[field.name].option_strings
        assert actions[field.name].help, (
            f"{FLAGS[field.name]} has no help: comment the field in config.py"
        )
    assert (
        "R1 penalty" in actions["r1_gamma"].help
    )  # the field's own comment


def test_recorded_command_says_no_amp_when_amp_is_off():
    assert "--no-amp" in train_command(
        TrainConfig(dataset="mnist", epochs=3, amp=False)
    )
    assert "amp" not in train_command(
        TrainConfig(dataset="mnist", epochs=3)
    )


def test_recorded_command_leaves_out_the_machine():
    command = train_command(
        TrainConfig(dataset="ring", data_root="/somewhere", device="cuda:1")
    )
    assert (
        command == "gan-teach train --dataset ring --steps 6000 --out OUT"
    )


def test_shipped_cards_commands_rebuild_their_configs():
    """The three shipped model cards' commands parse back to the configs their commands name."""
    from gan_teach.pretrained import available, model_card

    for name in available():
        command = model_card(name)["command"].split()
        assert command[:2] == ["gan-teach", "train"] and command[-2:] == [
            "--out",
            "OUT",
        ]
        config = _parse(command[2:-2])
        assert _parse(config_arguments(config)) == config


def test_train_command_names_what_differs_from_the_recipe():
    config = TrainConfig(
        dataset="mnist",
        model="conditional",
        loss="hinge",
        spectral_norm=True,
        width=64,
        epochs=16,
        ema_decay=0.999,
    )
    assert train_command(config) == (
        "gan-teach train --dataset mnist --model conditional --loss hinge --epochs 16 "
        "--width 64 --spectral-norm --ema-decay 0.999 --out OUT"
    )
    cpu_run = TrainConfig(
        dataset="mnist",
        width=64,
        epochs=120,
        ema_decay=0.999,
        cpu_bfloat16=True,
    )
    assert train_command(
        cpu_run
    ) == (  # the moving average is the MNIST recipe's
        "gan-teach train --dataset mnist --epochs 120 --width 64 --cpu-bf16 --out OUT"
    )
    late_r1 = TrainConfig(
        dataset="mnist", epochs=90, r1_gamma=1.0, r1_start_epoch=70
    )
    assert (
        train_command(late_r1)
        == "gan-teach train --dataset mnist --epochs 90 --r1-gamma 1.0 --r1-start-epoch 70 --out OUT"
    )
