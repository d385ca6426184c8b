"""dtypes that print as PyTorch's do (``minigrad.float32``) and work wherever NumPy wants one.

A ``dtype`` wraps a NumPy dtype: ``np.dtype(minigrad.float32)`` and ``np.zeros(3, minigrad.int64)``
work, ``t.dtype == minigrad.float32``, ``t.dtype == np.float32`` and ``t.dtype == "float32"`` are
all true for a float32 tensor, and NumPy's attributes (``kind``, ``itemsize``, …) pass through.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np


class dtype:  # noqa: N801 - PyTorch's name
    """A tensor element type."""

    __slots__ = ("name", "_np")

    def __init__(self, name: str, np_dtype: Any) -> None:
        self.name = name
        self._np = np.dtype(np_dtype)

    @property
    def dtype(self) -> np.dtype:  # NumPy's protocol: np.dtype(obj) reads obj.dtype
        """The NumPy dtype behind this one (``np.dtype(minigrad.float32)`` reads it)."""
        return self._np

    @property
    def is_floating_point(self) -> builtins.bool:
        """Whether this is a floating point type."""
        return self._np.kind == "f"

    @property
    def is_complex(self) -> builtins.bool:
        """Whether this is a complex type: always ``False``, minigrad has none."""
        return self._np.kind == "c"

    @property
    def is_signed(self) -> builtins.bool:
        """Whether values can be negative (floats and signed integers)."""
        return self._np.kind in "fci"

    @property
    def itemsize(self) -> builtins.int:
        """The size of one element in bytes."""
        return self._np.itemsize

    def __getattr__(self, attr: str) -> Any:  # kind, char, type, … of the NumPy dtype
        return getattr(self._np, attr)

    def __repr__(self) -> str:
        return f"minigrad.{self.name}"

    def __eq__(self, other: object) -> builtins.bool:
        if isinstance(other, dtype):
            return self._np == other._np
        if other is None:
            return False
        try:
            maybe_dtype: Any = other  # whatever NumPy reads as a dtype; others raise TypeError
            return builtins.bool(self._np == np.dtype(maybe_dtype))
        except TypeError:
            return False

    def __hash__(self) -> builtins.int:
        return hash(self._np)

    def __reduce__(self) -> Any:
        return (_by_name, (self.name,))


float16 = half = dtype("float16", np.float16)
float32 = float = dtype("float32", np.float32)  # noqa: A001
float64 = double = dtype("float64", np.float64)
int8 = dtype("int8", np.int8)
uint8 = dtype("uint8", np.uint8)
int16 = short = dtype("int16", np.int16)
int32 = int = dtype("int32", np.int32)  # noqa: A001
int64 = long = dtype("int64", np.int64)
uint16 = dtype("uint16", np.uint16)
uint32 = dtype("uint32", np.uint32)
uint64 = dtype("uint64", np.uint64)
bool = dtype("bool", np.bool_)  # noqa: A001

ALL = (float16, float32, float64, int8, uint8, int16, int32, int64, uint16, uint32, uint64, bool)
_FROM_NUMPY = {d._np: d for d in ALL}
_BY_NAME = {d.name: d for d in ALL}


def _by_name(name: str) -> dtype:
    return _BY_NAME[name]


def from_numpy_dtype(np_dtype: np.dtype) -> dtype:
    """The minigrad dtype of a NumPy dtype."""
    try:
        return _FROM_NUMPY[np_dtype]
    except KeyError:
        raise TypeError(
            f"minigrad has no dtype for NumPy's {np_dtype}; use one of "
            + ", ".join(d.name for d in ALL)
        ) from None
