"""A training run's folder and its continuation: ``gan-teach train`` never replaces a run by accident.

``gan-teach train --out DIR`` writes ``DIR/checkpoint.pt``. Before it starts, :func:`check_output_folder`
refuses a folder that another running process trains into (its lock, :func:`gan_teach.files.lock_folder`)
or that already holds a checkpoint, unless that checkpoint is the one being resumed or ``--overwrite``
says to replace it. :func:`resume_overrides` turns the options of ``--resume`` into the few
settings a resumed run may change, and :func:`check_more_to_train` refuses a resume that would
train no step.
"""

from __future__ import annotations

import os
from pathlib import Path

from .checkpoints import read_checkpoint
from .config import TrainConfig
from .files import refuse_if_locked
from .options import CAN_CHANGE_ON_RESUME, FLAGS
from .state import TrainState

__all__ = [
    "CHECKPOINT_NAME",
    "check_output_folder",
    "resume_overrides",
    "check_more_to_train",
]

CHECKPOINT_NAME = "checkpoint.pt"


def check_output_folder(
    out: str | os.PathLike,
    *,
    resume: str | os.PathLike | None = None,
    overwrite: bool = False,
) -> None:
    """Refuse ``out`` if a running process trains there, or if it holds another run's checkpoint.

    Args:
        out: the folder ``train`` will write ``checkpoint.pt`` into.
        resume: the checkpoint being continued; ``out/checkpoint.pt`` may be that one.
        overwrite: replace a checkpoint already in ``out``.

    Raises:
        FolderInUseError: another running process holds the folder's lock.
        FileExistsError: ``out`` holds a checkpoint that is not the one resumed.
    """
    out = Path(out)
    refuse_if_locked(out)
    existing = out / CHECKPOINT_NAME
    if overwrite or not existing.exists():
        return
    if resume is not None and not Path(resume).is_file():
        return  # loading it will say that it is missing
    if resume is not None and os.path.samefile(resume, existing):
        return
    raise FileExistsError(
        f"{existing} already exists and would be replaced. Continue that run "
        f"with --resume {existing}, replace it with --overwrite, or choose "
        "another --out"
    )


def resume_overrides(checkpoint: str | os.PathLike, given: dict) -> dict:
    """The settings a resumed run takes from the command line; ValueError if one changes the run.

    Repeating a saved setting with its saved value is fine; ``--epochs``, ``--steps``,
    ``--data-root`` and ``--device`` may change; any other change is refused.
    """
    # read as today's fields, so that an older file's implicit settings compare too
    saved = TrainConfig.from_dict(
        read_checkpoint(checkpoint)["config"]
    ).to_dict()
    changed = sorted(
        name
        for name, value in given.items()
        if name not in CAN_CHANGE_ON_RESUME and saved.get(name) != value
    )
    if changed:
        settings = ", ".join(
            f"{FLAGS[name]} (saved: {saved.get(name)!r})"
            for name in changed
        )
        raise ValueError(
            "--resume continues the saved run with its own settings; only --epochs, --steps, --data-root and "
            f"--device may change, not {settings}"
        )
    overrides = {
        name: given[name]
        for name in ("data_root", "device")
        if name in given
    }
    overrides.update(
        TrainConfig(
            **{
                name: given[name]
                for name in ("epochs", "steps")
                if name in given
            }
        ).length_overrides()
    )
    return overrides


def check_more_to_train(
    state: TrainState, checkpoint: str | os.PathLike
) -> None:
    """Refuse to resume a run whose length is already reached (it would write nothing).

    Raises:
        ValueError: saying where the run stands and which ``--steps`` or ``--epochs`` go further.
    """
    config = state.config
    if config.steps is not None and state.step >= config.steps:
        raise ValueError(
            f"the run in {checkpoint} is at step {state.step}, and --steps "
            f"{config.steps} asks for no more: pass --steps above "
            f"{state.step} to train longer"
        )
    if config.steps is None and state.epoch >= config.epochs:
        raise ValueError(
            f"the run in {checkpoint} has finished epoch {state.epoch}, and "
            f"--epochs {config.epochs} asks for no more: pass --epochs above "
            f"{state.epoch} (or --steps above {state.step}) to train longer"
        )
