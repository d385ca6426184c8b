"""PyTorch's type promotion, on NumPy dtypes (``torch.result_type``, ``torch.promote_types``).

Operands fall in three priority groups: tensors with dimensions, 0-d tensors and Python
numbers. Within a group dtypes promote as ``promote_types`` does; a lower group only
matters when it is of a higher category (bool < integer < floating point): ``int32 tensor +
5`` stays int32, ``int32 tensor + 2.5`` is the default float dtype, ``int64 tensor * 0-d
float64 tensor`` is float64, ``float32 tensor * 0-d float64 tensor`` stays float32.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from minigrad.errors import OpError

_BAREBONES_UNSIGNED = frozenset(np.dtype(t) for t in (np.uint16, np.uint32, np.uint64))
_BOOL = np.dtype(np.bool_)
_INT64 = np.dtype(np.int64)


def promote_types(a: np.dtype, b: np.dtype) -> np.dtype:
    """The smallest dtype both ``a`` and ``b`` convert to, by PyTorch's table (an integer
    with a float gives the float: int64 with float16 is float16, not NumPy's float64)."""
    if a == b:
        return a
    fa, fb = a.kind == "f", b.kind == "f"
    if fa and fb:
        return np.promote_types(a, b)
    if fa:
        return a
    if fb:
        return b
    if a in _BAREBONES_UNSIGNED or b in _BAREBONES_UNSIGNED:
        raise OpError(
            f"Promotion for uint16, uint32, uint64 types is not supported, attempted to "
            f"promote {a} and {b}; convert one operand first, e.g. x.long()"
        )
    if a == _BOOL:
        return b
    if b == _BOOL:
        return a
    return np.promote_types(a, b)


def _combine(higher: np.dtype | None, lower: np.dtype | None) -> np.dtype | None:
    """A higher-priority group's dtype, raised to the lower group's category if that is
    higher (the lower group's width matters only when the higher group is bool)."""
    if higher is None:
        return lower
    if lower is None or higher.kind == "f":
        return higher
    if higher == _BOOL or lower.kind == "f":
        return promote_types(higher, lower)
    return higher


def scalar_dtype(value: Any, default_float: np.dtype, op: str) -> np.dtype:
    """The dtype a Python (or NumPy) number takes part in promotion with."""
    if isinstance(value, (builtins.bool, np.bool_)):
        return _BOOL
    if isinstance(value, (builtins.int, np.integer)):
        return _INT64
    if isinstance(value, (builtins.float, np.floating)):
        return default_float
    if isinstance(value, (builtins.complex, np.complexfloating)):
        raise TypeError(
            f"{op}: complex number {value!r}: minigrad has no complex support; use real "
            "tensors (e.g. separate real and imaginary parts)"
        )
    raise TypeError(
        f"{op}: unsupported operand of type {type(value).__name__}; use a Tensor or a number"
    )


def result_type(operands: tuple[Any, ...], default_float: np.dtype, op: str) -> np.dtype:
    """``torch.result_type`` of tensors (anything with ``_data``) and Python numbers."""
    dim = zero = wrapped = None
    for x in operands:
        data = getattr(x, "_data", None)
        if data is None:
            d = scalar_dtype(x, default_float, op)
            wrapped = d if wrapped is None else promote_types(wrapped, d)
        elif data.ndim:
            dim = data.dtype if dim is None else promote_types(dim, data.dtype)
        else:
            zero = data.dtype if zero is None else promote_types(zero, data.dtype)
    result = _combine(dim, _combine(zero, wrapped))
    assert result is not None, "result_type needs at least one operand"
    return result
