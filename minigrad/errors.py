"""minigrad's exceptions.

PyTorch raises ``RuntimeError`` for shape mismatches and bad arguments, where Python code
usually raises ``ValueError``. minigrad's errors are both, so ported code that catches either
keeps working: ``except RuntimeError`` and ``except ValueError`` both catch ``OpError``.
"""

from __future__ import annotations

__all__ = ["DeviceError", "OpError"]


class OpError(ValueError, RuntimeError):
    """An op was given shapes, values or arguments it cannot work with; the message says which
    op, what it got and how to fix it."""


class DeviceError(RuntimeError):
    """A device other than the CPU was asked for; minigrad runs on the CPU only."""
