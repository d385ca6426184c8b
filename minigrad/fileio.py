"""Atomic file writes: a temporary file in the target's folder, flushed to disk, then renamed
over the target, so that a reader (or a crash) sees the old file or the new one, never half of
one. Checkpoints, downloaded data sets and the examples' plots all go through here."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = ["atomic_open", "atomic_write"]


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """A binary stream that becomes ``path`` when the block ends without an exception."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_name, 0o666 & ~umask)  # mkstemp's 0600 is stricter than a normal file
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    _sync_directory(target.parent)


def atomic_write(path: str | os.PathLike, payload: bytes) -> Path:
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
