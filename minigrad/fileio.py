"""Atomic file writes: a temporary file in the target's folder, flushed to disk, then renamed
over the target, so that a reader (or a crash) sees the old file or the new one, never half of
one. Checkpoints, downloaded data sets and the examples' plots all go through here.

The temporary file is ``.<name>.<pid>.<random>.tmp`` next to the target. A process killed in
the middle of a write (``kill -9``, a power cut) leaves it behind; the next write to the same
target removes every such file whose process is gone, so at most one stale temporary file per
target exists between a crash and the next successful save. (A pid that has been reused by a
live process keeps its file until that process ends.)
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = ["atomic_open", "atomic_write", "remove_stale_temporaries"]


def _temporary_prefix(target: Path) -> str:
    return f".{target.name}."


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True  # another thread of this process may be writing it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    except OSError:
        return True
    return True


def remove_stale_temporaries(target: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporary files that killed writes to ``target`` left; returns them."""
    target = Path(target)
    prefix = _temporary_prefix(target)
    removed: list[Path] = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    for entry in entries:
        if not (entry.name.startswith(prefix) and entry.name.endswith(".tmp")):
            continue
        fields = entry.name[len(prefix) : -len(".tmp")].split(".")
        if len(fields) != 2 or not fields[0].isdigit() or _pid_alive(int(fields[0])):
            continue
        with contextlib.suppress(OSError):
            os.unlink(entry.path)
            removed.append(Path(entry.path))
    return removed


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """A binary stream that becomes ``path`` when the block ends without an exception.

    A symlink at ``path`` is written through (its target is replaced), as ``open`` would.
    Errors from the file system (a full disk, a read-only folder) are raised as the same
    OSError subclass, naming ``path``.
    """
    target = Path(os.path.realpath(path))
    try:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except FileExistsError:  # a file where a folder on the way should be
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR)) from None
        remove_stale_temporaries(target)
        tmp_name, fd = _create_temporary(target)
    except OSError as error:
        raise _naming(error, path) from error
    try:
        with os.fdopen(fd, "wb") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp_name, target)
    except BaseException as error:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        if isinstance(error, OSError):
            raise _naming(error, path) from error
        raise
    _sync_directory(target.parent)


def _create_temporary(target: Path) -> tuple[str, int]:
    for _ in range(100):
        token = secrets.token_hex(4)
        name = str(target.parent / f"{_temporary_prefix(target)}{os.getpid()}.{token}.tmp")
        try:
            # 0o666 less the umask, like open(): mkstemp's 0600 is stricter than a normal file
            return name, os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary file name", str(target))


def _naming(error: OSError, path: str | os.PathLike[str]) -> OSError:
    """The same kind of OSError (errno picks the subclass), naming the file being written."""
    if error.errno is None:
        return OSError(f"cannot write {os.fspath(path)!r}: {error}")
    return OSError(error.errno, error.strerror or str(error), os.fspath(path))


def atomic_write(path: str | os.PathLike[str], payload: bytes) -> Path:
    """Write ``payload`` to ``path`` atomically, creating its folder; returns the path."""
    with atomic_open(path) as stream:
        stream.write(payload)
    return Path(path)


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX); harmless where directories can't be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
