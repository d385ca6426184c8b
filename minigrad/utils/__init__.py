"""``minigrad.utils``: ``minigrad.utils.data`` is ``minigrad.data`` (as ``torch.utils.data``)."""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["data"]


def __getattr__(name: str) -> Any:
    if name == "data":
        return importlib.import_module("minigrad.utils.data")
    raise AttributeError(f"module 'minigrad.utils' has no attribute {name!r}")
