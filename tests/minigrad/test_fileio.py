"""Atomic writes: the target is the old file or the new one, never a partial one."""

from __future__ import annotations

from pathlib import Path

import pytest

from minigrad.fileio import atomic_open, atomic_write


def test_atomic_write_creates_folders_and_writes(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "file.bin"
    assert atomic_write(target, b"payload") == target
    assert target.read_bytes() == b"payload"
    assert sorted(p.name for p in target.parent.iterdir()) == ["file.bin"]


def test_failed_write_keeps_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "checkpoint.npz"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="interrupted"):
        with atomic_open(target) as stream:
            stream.write(b"half of the new")
            raise RuntimeError("interrupted")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.npz"]
