"""Devices: minigrad runs on the CPU, and says so clearly when a script asks for another.

``minigrad.device("cpu")`` behaves as ``torch.device("cpu")``; ``minigrad.cuda``,
``minigrad.backends.mps`` and ``minigrad.accelerator`` answer as PyTorch does on a machine with
no accelerator, so ``device = "cuda" if torch.cuda.is_available() else "cpu"`` picks the CPU.
"""

from __future__ import annotations

from typing import Any

from minigrad.errors import DeviceError

_CPU_ONLY = (
    "minigrad runs on the CPU only, but {what} asked for device {name!r}. Let the script pick "
    "the CPU when no accelerator is there, e.g. device = torch.device('cuda' if "
    "torch.cuda.is_available() else 'cpu') (minigrad.cuda.is_available() is False), or pass "
    "device='cpu'"
)
_KNOWN = {"cpu", "cuda", "mps", "xpu", "xla", "meta", "hip", "mtia", "privateuseone", "ipu",
          "hpu", "vulkan", "mkldnn", "opengl", "opencl", "ideep", "fpga", "maia", "ve", "lazy"}


class device:  # noqa: N801 - PyTorch's name
    """``device("cpu")``, ``device("cpu", 0)``, ``device("cpu:0")``; any other type raises."""

    __slots__ = ("type", "index")
    type: str
    index: int | None

    def __init__(self, type: Any, index: int | None = None) -> None:  # noqa: A002
        if isinstance(type, device):
            self.type, self.index = type.type, type.index
            return
        if isinstance(type, int) and not isinstance(type, bool):
            raise DeviceError(_CPU_ONLY.format(what="device()", name=type))
        if not isinstance(type, str):
            raise TypeError(
                f"device(): expected a string such as 'cpu', got {type.__class__.__name__}"
            )
        name, _, idx = type.partition(":")
        if name not in _KNOWN:
            raise RuntimeError(
                f"device(): expected one of cpu, cuda, mps, … device type at start of device "
                f"string: {type!r}"
            )
        if name != "cpu":
            raise DeviceError(_CPU_ONLY.format(what="device()", name=type))
        if idx:
            if index is not None:
                raise RuntimeError(f"device(): type (string) must not include an index: {type!r}")
            if not idx.isdigit():
                raise RuntimeError(f"device(): invalid device string {type!r}")
            index = int(idx)
        self.type, self.index = "cpu", index

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except (RuntimeError, TypeError):
                return False
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __enter__(self) -> device:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


CPU = device("cpu")


def check_device(dev: Any, what: str) -> None:
    """Raise DeviceError unless ``dev`` (None, a string, an int or a device) means the CPU."""
    if dev is None or isinstance(dev, device):  # a device object can only be the CPU
        return
    if isinstance(dev, str):
        name = dev.partition(":")[0]
        if name == "cpu":
            return
        raise DeviceError(_CPU_ONLY.format(what=what, name=dev))
    if isinstance(dev, int) and not isinstance(dev, bool):
        raise DeviceError(_CPU_ONLY.format(what=what, name=dev))
    raise TypeError(f"{what}: expected a device such as 'cpu', got {type(dev).__name__}")


_default_device = CPU


def set_default_device(dev: Any) -> None:
    """Only the CPU (or None) is accepted."""
    check_device(dev, "set_default_device()")


def get_default_device() -> device:
    """The device new tensors are made on: always the CPU."""
    return _default_device
