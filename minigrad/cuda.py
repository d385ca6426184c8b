"""``minigrad.cuda``: answers as ``torch.cuda`` does on a machine with no GPU."""

from __future__ import annotations

from typing import Any

from minigrad.errors import DeviceError


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def is_initialized() -> bool:
    return False


def manual_seed(seed: int) -> None:
    """Does nothing, as in PyTorch without a GPU."""


def manual_seed_all(seed: int) -> None:
    """Does nothing, as in PyTorch without a GPU."""


def empty_cache() -> None:
    """Does nothing: there is no GPU memory to release."""


def _unavailable(name: str) -> Any:
    def call(*args: Any, **kwargs: Any) -> Any:
        raise DeviceError(
            f"minigrad.cuda.{name}(): minigrad runs on the CPU only and has no CUDA device; "
            "guard the call with `if torch.cuda.is_available():`"
        )

    call.__name__ = name
    return call


current_device = _unavailable("current_device")
synchronize = _unavailable("synchronize")
get_device_name = _unavailable("get_device_name")
set_device = _unavailable("set_device")
