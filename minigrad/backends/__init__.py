"""``minigrad.backends``: the flags scripts set (``cudnn.benchmark``) and the availability
checks they make (``mps.is_available()``), answered for a CPU-only machine."""

from __future__ import annotations

from minigrad.backends import cudnn, mps

__all__ = ["cudnn", "mps"]
