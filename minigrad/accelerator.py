"""``minigrad.accelerator``: no accelerator, as ``torch.accelerator`` on a CPU-only machine."""

from __future__ import annotations

__all__ = ["current_accelerator", "device_count", "is_available"]


def is_available() -> bool:
    """Whether an accelerator can be used: always ``False``."""
    return False


def current_accelerator(check_available: bool = False) -> None:
    """The accelerator device in use: always ``None`` (the CPU is no accelerator)."""
    return None


def device_count() -> int:
    """The number of accelerator devices: always 0."""
    return 0
