"""``minigrad.cuda``: answers as ``torch.cuda`` does on a machine with no GPU."""

from __future__ import annotations

from typing import Any

from minigrad.errors import DeviceError

__all__ = [
    "current_device", "device_count", "empty_cache", "get_device_name", "is_available",
    "is_initialized", "manual_seed", "manual_seed_all", "set_device", "synchronize",
]


def is_available() -> bool:
    """Whether a CUDA device can be used: always ``False``."""
    return False


def device_count() -> int:
    """The number of CUDA devices: always 0."""
    return 0


def is_initialized() -> bool:
    """Whether CUDA has been initialised: always ``False``."""
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
    call.__doc__ = f"Raises ``DeviceError``, as ``torch.cuda.{name}`` does with no GPU."
    return call


current_device = _unavailable("current_device")
synchronize = _unavailable("synchronize")
get_device_name = _unavailable("get_device_name")
set_device = _unavailable("set_device")
