"""Files that are never half-written and folders that two runs never share.

:func:`write_atomically` writes into a temporary file beside the target and renames it over the
target only once it is complete and on disk: a crash, a Ctrl-C or a full disk leaves the old file
as it was. The temporary file carries the writer's process number in its name, so that the
leftovers of a killed writer are recognised and removed by the next write, and never those of a
writer still at work. :func:`lock_folder` marks a folder as in use by one process (a lock file
created with ``O_EXCL`` that holds the process number), so that a second run refuses to start
there instead of overwriting the first one's checkpoint.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import secrets
import shutil
import socket
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = [
    "LOCK_NAME",
    "FolderInUseError",
    "write_atomically",
    "remove_stale_temporaries",
    "lock_folder",
    "lock_owner",
    "refuse_if_locked",
    "DISK_FULL_ERRNOS",
    "disk_full_message",
]

LOCK_NAME = "training.lock"
#: The error numbers of a write that ran out of room (a full disk, a full quota, a file-size limit set by ``ulimit -f``).
DISK_FULL_ERRNOS = (
    errno.ENOSPC,
    getattr(errno, "EDQUOT", errno.ENOSPC),
    errno.EFBIG,
)
# A lock file still empty after this many seconds was left by a process that died while making it.
_EMPTY_LOCK_SECONDS = 10.0


class FolderInUseError(FileExistsError):
    """Another running process holds the folder's lock; the message names it."""


def _process_is_running(pid: int, host: str) -> bool:
    """Whether process ``pid`` of machine ``host`` still runs (True when it cannot be told)."""
    if host != socket.gethostname() or os.name != "posix":
        return True  # another machine's process (a shared disk), or no os.kill probe
    try:
        os.kill(
            pid, 0
        )  # signal 0: nothing is sent, only the existence is checked
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it runs, under another user
    return True


def _temporary_path(path: Path) -> Path:
    """``.NAME.PID.RANDOM.tmp`` beside ``path``: same folder, so the final rename stays atomic."""
    token = secrets.token_hex(4)
    return path.with_name(f".{path.name}.{os.getpid()}.{token}.tmp")


def remove_stale_temporaries(path: str | os.PathLike) -> list[Path]:
    """Delete the temporary files that killed writers of ``path`` left beside it.

    Only files of processes that no longer run are removed; a write in progress is left alone.

    Returns:
        The files removed.
    """
    path = Path(path)
    removed = []
    pattern = f".{glob.escape(path.name)}.*.tmp"
    for candidate in path.parent.glob(pattern):
        pid = candidate.name[len(path.name) + 2 :].split(".")[0]
        if pid.isdigit() and not _process_is_running(
            int(pid), socket.gethostname()
        ):
            candidate.unlink(missing_ok=True)
            removed.append(candidate)
    return removed


def _sync_folder(folder: Path) -> None:
    """Flush a folder's entries (a rename) to disk, where the system allows it."""
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def write_atomically(
    path: str | os.PathLike, write: Callable[[BinaryIO], None]
) -> Path:
    """Write ``path`` with ``write(file)``, all or nothing.

    The bytes go to a temporary file beside ``path``, are flushed to disk, and the temporary
    file is renamed over ``path`` (atomic on POSIX and Windows). The new file gets the usual
    permissions (0o666 less the umask), like any file the user creates.

    Args:
        path: the file to write; its folder is created if needed.
        write: writes the content into the open binary file it is given.

    Returns:
        The path written.

    Raises:
        OSError: the write failed (a full disk, a read-only folder); ``path`` is unchanged and
            no temporary file is left.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    temporary = _temporary_path(path)
    flags = (
        os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    )
    try:
        descriptor = os.open(temporary, flags, 0o666)
        with os.fdopen(descriptor, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException as error:
        temporary.unlink(missing_ok=True)
        # torch.save reports a full disk as a RuntimeError ("unexpected pos ...")
        if isinstance(error, (OSError, RuntimeError)):
            raise _write_error(path, error) from error
        raise
    _sync_folder(path.parent)
    return path


def disk_full_message(
    what: str, detail: str, advice: str = "free some space and run again"
) -> str:
    """The one wording of a write that ran out of room, in the library's errors and the CLI's.

    >>> disk_full_message("x.pt", "No space left on device")  # doctest: +NORMALIZE_WHITESPACE
    'the disk is full (or a file-size limit was reached): x.pt could not be
    written (No space left on device); free some space and run again'
    """
    return (
        "the disk is full (or a file-size limit was reached): "
        f"{what} could not be written ({detail}); {advice}"
    )


def _write_error(path: Path, error: BaseException) -> OSError:
    """One line on what failed, what is left, and the free space."""
    lines = str(error).splitlines() or [type(error).__name__]
    reason = getattr(error, "strerror", None) or lines[0]
    before = (
        f"{path.name} is as it was before"
        if path.exists()
        else "nothing was written"
    )
    code = getattr(error, "errno", None)
    # torch.save's RuntimeError does not say why; a full disk is the usual cause
    # (numpy's short write "N requested and M written" has no errno either)
    if code in DISK_FULL_ERRNOS or code is None:
        free = (
            shutil.disk_usage(path.parent).free
            if path.parent.exists()
            else 0
        )
        message = disk_full_message(
            str(path),
            f"{reason}; {before}",
            f"{free / 2**20:,.1f} MiB are free there: free some space, "
            "or choose another folder",
        )
    else:
        message = (
            f"could not write {path} ({reason}); {before}. "
            "Choose a folder you can write into"
        )
    failure = OSError(message)
    failure.errno = code or errno.EIO
    return failure


def _read_lock(lock: Path) -> tuple[str, int | None, str]:
    """The lock file's text, its process number and host (None, '' if unreadable)."""
    try:
        text = lock.read_text()
    except OSError:
        return "", None, ""
    fields = text.split()
    if len(fields) >= 1 and fields[0].isdigit():
        host = fields[1] if len(fields) > 1 else socket.gethostname()
        return text, int(fields[0]), host
    return text, None, ""


def lock_owner(folder: str | os.PathLike) -> int | None:
    """The process number of the running process that holds ``folder``'s lock, else None."""
    lock = Path(folder) / LOCK_NAME
    if not lock.exists():
        return None
    text, pid, host = _read_lock(lock)
    if pid is None:
        young = _age(lock) < _EMPTY_LOCK_SECONDS
        return -1 if young and lock.exists() else None
    return pid if _process_is_running(pid, host) else None


def _age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return 0.0


def _take_over(lock: Path, stale_text: str) -> None:
    """Remove a stale lock, unless another process replaced it meanwhile."""
    aside = lock.with_name(f"{lock.name}.{os.getpid()}.stale")
    try:
        os.replace(lock, aside)
    except FileNotFoundError:
        return  # another process took it over first
    if aside.read_text() != stale_text:
        # We moved the fresh lock of a process that took over first: put it back.
        with contextlib.suppress(FileExistsError):
            os.link(aside, lock)
    aside.unlink(missing_ok=True)


@contextlib.contextmanager
def lock_folder(folder: str | os.PathLike) -> Iterator[Path]:
    """Hold ``folder``'s lock while the ``with`` block runs; removed at exit, Ctrl-C included.

    The lock is the file ``training.lock``, created with ``O_EXCL`` (exactly one process can
    create it) and holding this process's number and host. A lock whose process no longer
    runs (a run killed with ``kill -9``) is taken over, with a message on stderr.

    Raises:
        FolderInUseError: a running process holds the lock.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    lock = folder / LOCK_NAME
    mine = f"{os.getpid()} {socket.gethostname()}\n"
    while True:
        try:
            descriptor = os.open(
                lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666
            )
        except FileExistsError:
            text, pid, _ = _read_lock(lock)
            refuse_if_locked(folder)
            print(
                f"taking over {lock}: its process ({pid or 'unknown'}) "
                "no longer runs",
                file=sys.stderr,
            )
            _take_over(lock, text)
            continue
        with os.fdopen(descriptor, "w") as file:
            file.write(mine)
        break
    try:
        yield lock
    finally:
        if _read_lock(lock)[0] == mine:
            lock.unlink(missing_ok=True)


def refuse_if_locked(folder: str | os.PathLike) -> None:
    """Raise :class:`FolderInUseError` if a running process holds ``folder``'s lock."""
    owner = lock_owner(folder)
    if owner is None:
        return
    who = "another process" if owner < 0 else f"process {owner}"
    raise FolderInUseError(
        f"{folder} is in use: {who} is training there (lock file "
        f"{Path(folder) / LOCK_NAME}); wait for it to finish, or choose "
        "another --out"
    )
