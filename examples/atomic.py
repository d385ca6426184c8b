"""Atomic file writes for the example's outputs (minigrad.fileio underneath), so a reader (or a
crash) never sees a half-written plot or history."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from minigrad.fileio import atomic_write

__all__ = ["write_bytes", "write_json", "write_text"]


def write_bytes(path: str | os.PathLike, payload: bytes) -> Path:
    """Writes ``payload`` to ``path`` atomically, creating its folder; returns the path."""
    return atomic_write(path, payload)


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Writes UTF-8 ``text`` to ``path`` atomically."""
    return write_bytes(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Writes ``obj`` as indented JSON to ``path`` atomically."""
    return write_text(path, json.dumps(obj, indent=2) + "\n")
