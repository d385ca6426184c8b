"""Atomic writes: the target is the old file or the new one, never a partial one."""

from __future__ import annotations

import errno
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from minigrad.fileio import atomic_open, atomic_write, remove_stale_temporaries


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


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_temporary_files_are_named_after_target_and_pid(tmp_path: Path, monkeypatch) -> None:
    seen = []
    real_replace = os.replace

    def spy(source, destination):
        seen.append(Path(source).name)
        real_replace(source, destination)

    monkeypatch.setattr(os, "replace", spy)
    atomic_write(tmp_path / "model.npz", b"x")
    assert re.fullmatch(rf"\.model\.npz\.{os.getpid()}\.[0-9a-f]{{8}}\.tmp", seen[0]), seen


def test_next_write_removes_temporaries_of_dead_processes_only(tmp_path: Path) -> None:
    target = tmp_path / "model.npz"
    dead = tmp_path / f".model.npz.{_dead_pid()}.0badcafe.tmp"
    alive = tmp_path / f".model.npz.{os.getppid()}.00000000.tmp"  # a live process's write
    other = tmp_path / f".other.npz.{_dead_pid()}.0badcafe.tmp"  # another target's
    unrelated = tmp_path / ".model.npz.notes.tmp"
    for path in (dead, alive, other, unrelated):
        path.write_bytes(b"partial")
    assert remove_stale_temporaries(target) == [dead]
    dead.write_bytes(b"partial")
    atomic_write(target, b"new")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [target.name, alive.name, other.name, unrelated.name]
    )


def test_writing_to_a_symlink_writes_through_it(tmp_path: Path) -> None:
    real = tmp_path / "real" / "checkpoint.npz"
    real.parent.mkdir()
    real.write_bytes(b"old")
    link = tmp_path / "latest.npz"
    link.symlink_to(real)
    atomic_write(link, b"new")
    assert link.is_symlink() and real.read_bytes() == b"new"
    dangling = tmp_path / "dangling.npz"
    dangling.symlink_to(tmp_path / "real" / "future.npz")
    atomic_write(dangling, b"made")
    assert (tmp_path / "real" / "future.npz").read_bytes() == b"made"
    assert not [p for p in real.parent.iterdir() if p.name.endswith(".tmp")]


def test_full_disk_raises_an_error_naming_the_file(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "checkpoint.npz"
    target.write_bytes(b"old")

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError, match="No space left on device") as info:
        atomic_write(target, b"new")
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(target)
    assert str(target) in str(info.value)
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == [target.name]


def test_unwritable_folder_raises_an_error_naming_the_file(tmp_path: Path, monkeypatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"")
    with pytest.raises(NotADirectoryError) as info:
        atomic_write(blocker / "checkpoint.npz", b"x")
    assert info.value.filename == str(blocker / "checkpoint.npz")

    real_open = os.open

    def read_only(path, flags, mode=0o777, **kwargs):
        if flags & os.O_CREAT:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)
        return real_open(path, flags, mode, **kwargs)

    monkeypatch.setattr(os, "open", read_only)  # root ignores chmod, so refuse the create
    with pytest.raises(PermissionError, match="Permission denied") as info:
        atomic_write(tmp_path / "model.npz", b"x")
    assert info.value.filename == str(tmp_path / "model.npz")


def test_checkpoint_save_errors_name_the_file(tmp_path: Path) -> None:
    import minigrad as mg

    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"")
    with pytest.raises(OSError, match="checkpoint.npz"):
        mg.save({"w": mg.ones(2)}, blocker / "checkpoint.npz")
