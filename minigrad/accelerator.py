"""``minigrad.accelerator``: no accelerator, as ``torch.accelerator`` on a CPU-only machine."""

from __future__ import annotations


def is_available() -> bool:
    return False


def current_accelerator(check_available: bool = False) -> None:
    return None


def device_count() -> int:
    return 0
