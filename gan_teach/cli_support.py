"""What the two command lines share: one clear line per user error, a traceback per bug.

``gan-teach`` (:mod:`gan_teach.cli`) and ``gan-teach-course``
(:mod:`gan_teach.course.cli`) both run their commands through :func:`run`,
which keeps this rule:

- A mistake in the command line itself (an unknown option, a value of the
  wrong form, a device this machine lacks, a seed beyond 64 bits, too many
  samples) is caught while parsing: one line on stderr, exit status 2.
- An error found while running that the user can fix is one line on stderr,
  ``PROG COMMAND: error: ...``, exit status 1. These are: ``ValueError``
  (the library's exception for bad input, :class:`~gan_teach.checkpoints.CheckpointError`
  included), every ``OSError`` (a missing, unwritable or read-only path, a
  full disk; :class:`~gan_teach.data.DataNotFoundError` included),
  :class:`~gan_teach.engine.TrainingDivergedError`,
  :class:`~gan_teach.features.DamagedFileError` (a shipped file that fails
  its SHA-256 check), running out of memory, and PyTorch's failed write of a
  file ("unexpected pos": the disk is full).
- Ctrl-C prints ``interrupted``, exit status 130.
- Anything else is a bug in gan-teach, not a mistake of the user's: the
  traceback, then a line asking for a report, exit status 70 (``EX_SOFTWARE``).

Before a long command starts, :func:`check_writable_folder` and
:func:`check_writable_file` make sure its outputs can be written, so that a
read-only or misspelt ``--out`` fails in a second, not after an hour.
"""

from __future__ import annotations

import argparse
import errno
import os
import re
import sys
import tempfile
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from .engine import TrainingDivergedError
from .features import NUM_TRAINING_IMAGES, WEIGHTS_DIR, DamagedFileError
from .files import DISK_FULL_ERRNOS, disk_full_message
from .pretrained import CARDS_FILE, available
from .utils import MAX_SEED, get_device

__all__ = [
    "MAX_SAMPLES",
    "MAX_GRID_SAMPLES",
    "ISSUES_URL",
    "sample_count",
    "fid_sample_count",
    "seed_argument",
    "device_argument",
    "check_writable_folder",
    "check_writable_file",
    "check_learner_outputs",
    "user_error_line",
    "run",
]

# The most samples one command draws: 100,000 MNIST images take 314 MB as
# float32 (10,000 are enough for an FID); far more exhausts a laptop's memory.
MAX_SAMPLES = 100_000
# The most images in one .png grid: 100 x 100 tiles, a 3,000-pixel square.
MAX_GRID_SAMPLES = 10_000
ISSUES_URL = "https://github.com/gan-teach/gan-teach/issues"
USER_ERRORS = (
    ValueError,
    OSError,
    TrainingDivergedError,
    DamagedFileError,
    MemoryError,
)
# PyTorch's messages when the file it writes stops growing (a full disk).
FAILED_WRITE = re.compile(
    r"unexpected pos \d+ vs \d+|PytorchStreamWriter failed writing"
)
# numpy's message when a write stops short.
SHORT_WRITE = re.compile(r"\d+ requested and \d+ written")
OUT_OF_MEMORY = re.compile(
    r"can't allocate memory|out of memory", re.IGNORECASE
)


def sample_count(text: str) -> int:
    """An argparse type: a number of samples in ``[1, MAX_SAMPLES]``."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a whole number of samples, got {text!r}"
        ) from None
    if not 1 <= value <= MAX_SAMPLES:
        raise argparse.ArgumentTypeError(
            f"must be between 1 and {MAX_SAMPLES:,} samples, got {value:,}"
        )
    return value


def fid_sample_count(text: str) -> int:
    """An argparse type: samples for an FID and its floor, ``[2, 60,000]``.

    The floor draws as many real training images as there are samples, and
    MNIST and Fashion-MNIST have 60,000.
    """
    value = sample_count(text)
    if not 2 <= value <= NUM_TRAINING_IMAGES:
        raise argparse.ArgumentTypeError(
            f"must be between 2 and {NUM_TRAINING_IMAGES:,} (the training "
            f"images the FID's floor draws from), got {value:,}"
        )
    return value


def seed_argument(text: str) -> int:
    """An argparse type: a seed in ``[0, 2**64)``, what PyTorch accepts."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a whole number, got {text!r}"
        ) from None
    if not 0 <= value < MAX_SEED:
        raise argparse.ArgumentTypeError(
            f"must be in [0, 2**64) (PyTorch's seeds are 64-bit), got {text}"
        )
    return value


def device_argument(text: str) -> str:
    """An argparse type: a device this machine has (``cpu``, ``cuda:0``, ...)."""
    try:
        get_device(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def _nearest_existing(path: Path) -> Path:
    """``path`` itself, or the closest of its parents that exists."""
    path = Path(os.path.abspath(path))
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _check_can_create_in(folder: Path, path: Path, flag: str) -> None:
    """ValueError unless files can be created in ``folder`` (for ``path``)."""
    existing = _nearest_existing(folder)
    if existing.exists() and not existing.is_dir():
        raise ValueError(
            f"{flag} {path} cannot be written: {existing} is a file, not a "
            "folder; choose a path whose folders are folders"
        )
    try:  # a nameless file, gone when closed: nothing is left behind
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        raise ValueError(
            f"{flag} {path} cannot be written: {existing} is not writable "
            f"({error.strerror or error}); choose a folder you can write to"
        ) from None


def check_writable_folder(
    path: str | os.PathLike, *, flag: str, files: Sequence[str] = ()
) -> None:
    """Refuse an output folder that cannot be written, before any work.

    Nothing is created: the folder's nearest existing parent is probed.

    Args:
        path: the folder a command will write into.
        flag: its option, for the message, e.g. ``"--out"``.
        files: the names the command will write inside it; a folder with one
            of these names is in the way.

    Raises:
        ValueError: ``path`` is a file, lies under a file, is not writable,
            or holds a folder where a file will go.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(
            f"{flag} {path} is a file, but a folder is needed here; give a "
            "folder's name (it is created if missing)"
        )
    _check_can_create_in(path, path, flag)
    for name in files:
        if (path / name).is_dir():
            raise ValueError(
                f"{path / name} is a folder, but this command writes a file "
                f"of that name; move the folder away or choose another {flag}"
            )


def check_writable_file(
    path: str | os.PathLike, *, flag: str, example: str = "out"
) -> None:
    """Refuse an output file that cannot be written, before any work.

    Args:
        path: the file a command will write.
        flag: its option, for the message, e.g. ``"--out"``.
        example: a file name to suggest when ``path`` is a folder.

    Raises:
        ValueError: ``path`` is a folder, lies under a file, or cannot be
            written (a read-only file or folder).
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(
            f"{flag} {path} is a folder; give the name of a file to write, "
            f"e.g. {path / example}"
        )
    if path.exists() and not os.access(path, os.W_OK):
        raise ValueError(
            f"{flag} {path} exists and is read-only; choose another name"
        )
    _check_can_create_in(path.parent, path, flag)


# errno -> what it means and what to do.
ADVICE = {
    errno.EROFS: "that file system is read-only: choose another place",
    errno.EACCES: "permission denied: choose a place you can write to",
    errno.EPERM: "not permitted: choose a place you can write to",
    errno.EISDIR: "it is a folder: give a file's name",
    errno.ENOTDIR: "part of that path is a file, not a folder",
    errno.EEXIST: "something of that name is in the way",
}


def check_learner_outputs(args: argparse.Namespace) -> None:
    """``gan-teach``'s outputs, checked before any work (``args`` as parsed).

    ``train --out`` is a folder for checkpoint.pt and samples.png;
    ``sample --out`` a file (a .png grid of at most ``MAX_GRID_SAMPLES``);
    ``export`` writes ``--out`` (web) or into ``--weights-dir``, whose
    pretrained.json must be readable.
    """
    if args.command == "train":
        check_writable_folder(
            args.out, flag="--out", files=("checkpoint.pt", "samples.png")
        )
    elif args.command == "sample":
        check_writable_file(args.out, flag="--out", example="samples.png")
        if args.out.suffix.lower() == ".png" and args.n > MAX_GRID_SAMPLES:
            raise ValueError(
                f"a .png grid holds at most {MAX_GRID_SAMPLES:,} samples, "
                f"got --n {args.n:,}; write a .npy file for more"
            )
    elif args.command == "export" and args.format == "web":
        if args.out is not None:
            check_writable_file(
                args.out, flag="--out", example="generator.js"
            )
    elif args.command == "export":
        names = [CARDS_FILE] + ([f"{args.name}.pt"] if args.name else [])
        check_writable_folder(
            args.weights_dir or WEIGHTS_DIR,
            flag="--weights-dir",
            files=names,
        )
        available(args.weights_dir)  # a damaged pretrained.json: now


def _os_error_line(error: OSError) -> str:
    """An OSError in one line: the path, what went wrong, what to do."""
    where = " -> ".join(
        str(name) for name in (error.filename, error.filename2) if name
    )
    if error.errno is None or error.strerror is None:
        text = str(error)  # the library's own message, one argument
        if SHORT_WRITE.fullmatch(text):  # numpy's short write
            return disk_full_message("a file", text)
        return text
    if error.errno in DISK_FULL_ERRNOS:
        return disk_full_message(where or "a file", error.strerror)
    line = f"{where}: {error.strerror}" if where else error.strerror
    extra = ADVICE.get(error.errno)
    return f"{line} ({extra})" if extra else line


def user_error_line(error: BaseException) -> str | None:
    """The one line that reports ``error`` to a user, or None for a bug.

    >>> user_error_line(ValueError("--n must be positive"))
    '--n must be positive'
    >>> user_error_line(KeyError("layer")) is None
    True
    """
    if isinstance(error, OSError):
        line = _os_error_line(error)
    elif isinstance(error, USER_ERRORS):
        line = str(error) or type(error).__name__
        if isinstance(error, MemoryError):
            line = f"out of memory ({line}); ask for fewer samples"
    elif isinstance(error, RuntimeError) and FAILED_WRITE.search(
        str(error)
    ):
        detail = FAILED_WRITE.search(str(error)).group()
        line = disk_full_message("a file", f"PyTorch: {detail}")
    elif isinstance(error, RuntimeError) and OUT_OF_MEMORY.search(
        str(error)
    ):
        first = str(error).strip().splitlines()[0]
        line = (
            f"out of memory ({first}); ask for fewer samples or a smaller "
            "--batch-size"
        )
    else:
        return None
    return " ".join(line.split())  # one line, whatever the message held


def _one_line_usage(parser: argparse.ArgumentParser) -> None:
    """Make ``parser`` and its subcommands report a usage error in one line."""

    def error(message: str) -> None:
        parser.exit(
            2,
            f"{parser.prog}: error: {' '.join(message.split())} "
            f"(see {parser.prog} --help)\n",
        )

    parser.error = error
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for subparser in action.choices.values():
                _one_line_usage(subparser)


def run(
    program: str,
    parser: argparse.ArgumentParser,
    commands: dict[str, Callable[[argparse.Namespace], None]],
    argv: Sequence[str] | None,
    checks: dict[str, Callable[[argparse.Namespace], None]] | None = None,
) -> int:
    """Parse ``argv``, check the command's outputs, run it; the module's rule for errors.

    Args:
        program: the program's name, e.g. ``"gan-teach"``.
        parser: its parser; ``parser.parse_args`` must set ``command``.
        commands: command name -> the function that runs it.
        argv: the arguments (``None``: ``sys.argv[1:]``).
        checks: command name -> a check that raises before any long work.

    Returns:
        The exit status, 0, 1 (a user error), 130 (Ctrl-C) or 70 (a bug);
        a usage error exits with 2 while parsing.
    """
    _one_line_usage(parser)
    args = parser.parse_args(argv)
    name = f"{program} {args.command}"
    try:
        check = (checks or {}).get(args.command)
        if check is not None:
            check(args)
        commands[args.command](args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001 - sorted below: user error or bug
        line = user_error_line(error)
        if line is None:
            traceback.print_exc()
            print(
                f"{name}: this is a bug in gan-teach, not a mistake in your "
                f"command; please report it with the traceback above at "
                f"{ISSUES_URL}",
                file=sys.stderr,
            )
            return 70
        print(f"{name}: error: {line}", file=sys.stderr)
        return 1
    return 0
