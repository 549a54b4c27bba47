"""``gan-teach train``'s options, generated from :class:`~gan_teach.config.TrainConfig`'s fields.

One flag per field, ``--field-name`` (``cpu_bfloat16`` keeps its short ``--cpu-bf16``), its
help text the field's own comment in ``config.py``, so that a new field is on the command line
without a second edit and the help cannot drift from the dataclass. :func:`config_arguments` goes
the other way, config to flags: ``gan-teach train`` with them rebuilds the same configuration
(a test checks the round trip), and :func:`train_command` is what a model card records.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import re
from collections.abc import Callable
from typing import Any

from .config import DISCRIMINATOR_NORMS, MODELS, TrainConfig
from .data import DATASETS
from .losses import LOSSES

__all__ = [
    "FLAGS",
    "CAN_CHANGE_ON_RESUME",
    "add_config_options",
    "given_settings",
    "config_arguments",
    "train_command",
]

FIELDS = dataclasses.fields(TrainConfig)
#: TrainConfig field name -> its flag, ``--field-name``. The recorded commands of the shipped
#: generators say ``--cpu-bf16``.
#:
#: :meta hide-value:
FLAGS = {
    field.name: "--cpu-bf16"
    if field.name == "cpu_bfloat16"
    else "--" + field.name.replace("_", "-")
    for field in FIELDS
}
CHOICES = {
    "dataset": DATASETS,
    "model": MODELS,
    "loss": tuple(LOSSES),
    "discriminator_norm": DISCRIMINATOR_NORMS,
}
#: What a resumed run may change; every other setting belongs to the saved run.
CAN_CHANGE_ON_RESUME = ("epochs", "steps", "data_root", "device")
# Settings of the machine, not of the recipe: a model card's command leaves them out.
MACHINE_SETTINGS = ("data_root", "device")


def _field_comments() -> dict[str, str]:
    """Each field's end-of-line comment in TrainConfig's source: its help text."""
    pattern = re.compile(r"^\s+(\w+): [^=]+=[^#]*#\s*(.+)$")
    comments = {}
    for line in inspect.getsource(TrainConfig).splitlines():
        match = pattern.match(line)
        if match:
            comments[match.group(1)] = match.group(2).strip()
    return comments


def _value_type(field: dataclasses.Field) -> str:
    """``"str"``, ``"int"``, ``"float"`` or ``"bool"``: the annotation without ``| None``."""
    return str(field.type).split("|")[0].strip()


def add_config_options(
    parser: argparse.ArgumentParser,
    types: dict[str, Callable[[str], Any]] | None = None,
) -> None:
    """Add one option per TrainConfig field; a setting not given parses as None.

    Args:
        parser: the parser (or argument group) to add the options to.
        types: field name -> an argparse type that checks the value while
            parsing (e.g. ``{"device": device_argument}``); the others are
            parsed as their field's ``str``, ``int`` or ``float``.
    """
    comments = _field_comments()
    length = parser.add_mutually_exclusive_group()
    for field in FIELDS:
        kind = _value_type(field)
        help_text = comments.get(field.name, "").replace("%", "%%")
        options: dict = {
            "dest": field.name,
            "default": None,
            "help": help_text,
        }
        if kind == "bool":
            options["action"] = argparse.BooleanOptionalAction
        else:
            options["type"] = (types or {}).get(
                field.name, {"str": str, "int": int, "float": float}[kind]
            )
            options["metavar"] = field.name.upper()
        if field.name in CHOICES:
            options["choices"] = CHOICES[field.name]
            options.pop("metavar")
        target = length if field.name in ("epochs", "steps") else parser
        target.add_argument(FLAGS[field.name], **options)


def given_settings(args: argparse.Namespace) -> dict:
    """The TrainConfig fields set on the command line (those not given are left out)."""
    values = {
        field.name: getattr(args, field.name, None) for field in FIELDS
    }
    return {
        name: value for name, value in values.items() if value is not None
    }


def config_arguments(
    config: TrainConfig, machine: bool = True
) -> list[str]:
    """The ``gan-teach train`` flags that rebuild ``config``: what differs from its recipe.

    Args:
        config: any configuration (resolved here).
        machine: include ``--data-root`` and ``--device`` when they are set.

    Returns:
        Flags and values, e.g. ``["--dataset", "mnist", "--epochs", "20"]``; the run's
        length and dataset are always there.
    """
    resolved = config.resolve()
    recipe = TrainConfig(
        dataset=resolved.dataset,
        loss=resolved.loss,
        model=resolved.model,
        epochs=resolved.epochs,
        steps=resolved.steps,
    ).resolve()
    default_model = TrainConfig(dataset=resolved.dataset).resolve().model
    arguments = ["--dataset", resolved.dataset]
    if resolved.model != default_model:
        arguments += [FLAGS["model"], resolved.model]
    if resolved.loss != TrainConfig.loss:
        arguments += [FLAGS["loss"], resolved.loss]
    if resolved.steps is not None:
        arguments += [FLAGS["steps"], str(resolved.steps)]
    else:
        arguments += [FLAGS["epochs"], str(resolved.epochs)]
    skipped = {"dataset", "model", "loss", "epochs", "steps"}
    if not machine:
        skipped.update(MACHINE_SETTINGS)
    for field in FIELDS:
        value = getattr(resolved, field.name)
        if field.name in skipped or value == getattr(recipe, field.name):
            continue
        flag = FLAGS[field.name]
        if _value_type(field) == "bool":
            arguments.append(flag if value else "--no-" + flag[2:])
        else:
            arguments += [flag, str(value)]
    return arguments


def train_command(config: TrainConfig) -> str:
    """The ``gan-teach train`` command that reproduces ``config``, for a model card.

    >>> train_command(TrainConfig(dataset="mnist", width=64, epochs=20, ema_decay=0.9995))
    'gan-teach train --dataset mnist --epochs 20 --width 64 --ema-decay 0.9995 --out OUT'
    >>> train_command(TrainConfig(dataset="ring", amp=False))
    'gan-teach train --dataset ring --steps 6000 --no-amp --out OUT'
    """
    return " ".join(
        [
            "gan-teach",
            "train",
            *config_arguments(config, machine=False),
            "--out",
            "OUT",
        ]
    )
