"""``assert_close`` with PyTorch's dtype-based tolerances, and ``make_tensor``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from minigrad.tensor import Tensor

# PyTorch's defaults for assert_close: (rtol, atol) by dtype; exact for integers and bools
_TOLERANCES = {
    np.dtype(np.float16): (1e-3, 1e-5),
    np.dtype(np.float32): (1.3e-6, 1e-5),
    np.dtype(np.float64): (1e-7, 1e-7),
}


def _as_array(value: Any) -> np.ndarray:
    if isinstance(value, Tensor):
        return value._data
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor
        return value.detach().cpu().numpy()
    return np.asarray(value)


def assert_close(
    actual: Any,
    expected: Any,
    *,
    allow_subclasses: bool = True,
    rtol: float | None = None,
    atol: float | None = None,
    equal_nan: bool = False,
    check_device: bool = True,
    check_dtype: bool = True,
    check_layout: bool = True,
    check_stride: bool = False,
    msg: str | None = None,
) -> None:
    """Assert ``actual`` and ``expected`` are close, as ``torch.testing.assert_close``: equal
    shapes and dtypes, and ``|actual - expected| <= atol + rtol * |expected|`` elementwise with
    tolerances chosen by dtype unless given. Sequences and mappings compare item by item.

    Example::

        >>> import minigrad as mg
        >>> from minigrad.testing import assert_close
        >>> assert_close(mg.tensor([1.0, 2.0]), mg.tensor([1.0, 2.0 + 1e-7]))
        >>> assert_close(mg.tensor([1.0, 2.0]), mg.tensor([1.0, 2.1]))
        Traceback (most recent call last):
            ...
        AssertionError: Tensor-likes are not close!
        ...
    """
    if (rtol is None) != (atol is None):
        raise ValueError("assert_close: both 'rtol' and 'atol' must be given, or neither")
    if isinstance(actual, Mapping) and isinstance(expected, Mapping):
        if set(actual) != set(expected):
            raise AssertionError(
                f"The keys of the mappings do not match: {sorted(map(str, actual))} != "
                f"{sorted(map(str, expected))}"
            )
        for key in actual:
            assert_close(actual[key], expected[key], rtol=rtol, atol=atol, equal_nan=equal_nan,
                         check_dtype=check_dtype, msg=msg)
        return
    if (isinstance(actual, Sequence) and not isinstance(actual, str)
            and isinstance(expected, Sequence) and not isinstance(expected, str)):
        if len(actual) != len(expected):
            raise AssertionError(
                f"The length of the sequences mismatch: {len(actual)} != {len(expected)}"
            )
        for a, e in zip(actual, expected):
            assert_close(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan,
                         check_dtype=check_dtype, msg=msg)
        return
    scalars = not isinstance(actual, (Tensor, np.ndarray)) and not hasattr(actual, "numpy")
    a, e = _as_array(actual), _as_array(expected)
    if a.shape != e.shape:
        raise AssertionError(msg or f"The values for attribute 'shape' do not match: {a.shape} "
                             f"!= {e.shape}.")
    if check_dtype and not scalars and a.dtype != e.dtype:
        raise AssertionError(msg or f"The values for attribute 'dtype' do not match: {a.dtype} "
                             f"!= {e.dtype}.")
    if rtol is None:
        rtol, atol = _TOLERANCES.get(np.promote_types(a.dtype, e.dtype)
                                     if a.dtype.kind == e.dtype.kind == "f" else a.dtype,
                                     (0.0, 0.0))
        if scalars and a.dtype.kind == "f":
            rtol, atol = _TOLERANCES[np.dtype(np.float64)]
    a64 = a.astype(np.float64) if a.dtype.kind != "b" else a
    e64 = e.astype(np.float64) if e.dtype.kind != "b" else e
    if a.dtype.kind == "b" or e.dtype.kind == "b":
        ok = a64 == e64
    else:
        with np.errstate(invalid="ignore", over="ignore"):
            diff = np.abs(a64 - e64)
            ok = (diff <= atol + rtol * np.abs(e64)) | (a64 == e64)
        if equal_nan:
            ok |= np.isnan(a64) & np.isnan(e64)
    if not np.all(ok):
        bad = np.argwhere(~np.asarray(ok))
        total = a.size
        first = tuple(int(i) for i in bad[0]) if bad.size else ()
        lines = [
            msg or "Tensor-likes are not close!",
            "",
            f"Mismatched elements: {len(bad)} / {total} ({100.0 * len(bad) / max(total, 1):.1f}%)",
        ]
        if a.dtype.kind != "b":
            with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
                abs_diff = np.where(ok, 0.0, np.abs(a64 - e64))
                worst = np.unravel_index(np.nanargmax(abs_diff), a.shape) if a.size else ()
                rel = abs_diff / np.abs(e64)
            lines.append(
                f"Greatest absolute difference: {abs_diff[worst]} at index {tuple(map(int, worst))}"
                f" (up to {atol} allowed)"
            )
            lines.append(f"Greatest relative difference: {np.nanmax(rel)} (up to {rtol} allowed)")
        lines.append(f"First mismatch at index {first}: actual {a[first]!r}, expected "
                     f"{e[first]!r}")
        raise AssertionError("\n".join(lines))


def assert_allclose(actual: Any, expected: Any, rtol: float | None = None,
                    atol: float | None = None, equal_nan: bool = True, msg: str = "") -> None:
    """The older spelling: like ``assert_close`` without the dtype check."""
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan,
                 check_dtype=False, msg=msg or None)


def make_tensor(
    *shape: Any,
    dtype: Any,
    device: Any = None,
    low: float | None = None,
    high: float | None = None,
    requires_grad: bool = False,
    noncontiguous: bool = False,
    exclude_zero: bool = False,
) -> Tensor:
    """A tensor of ``shape`` filled with uniform values in [low, high), as
    ``torch.testing.make_tensor`` (defaults: [-9, 9) for floats and ints, [0, 10) unsigned)."""
    from minigrad.creation import _sizes
    from minigrad.device import check_device
    from minigrad.random import generator
    from minigrad.tensor import _as_dtype, _wrap

    check_device(device, "make_tensor()")
    size = _sizes("make_tensor", shape)
    d = _as_dtype(dtype)
    rng = generator()
    lo: float
    hi: float
    if d.kind == "b":
        array = rng.random(size) < 0.5
    elif d.kind in "iu":
        lo = int(0 if d.kind == "u" else -9) if low is None else int(np.ceil(low))
        hi = 10 if high is None else int(np.ceil(high))
        array = rng.integers(lo, hi, size=size).astype(d)
    else:
        lo = -9.0 if low is None else low
        hi = 9.0 if high is None else high
        array = rng.uniform(lo, hi, size=size).astype(d)
    if exclude_zero:
        tiny = 1 if d.kind in "iub" else np.finfo(d).tiny
        array = np.where(array == 0, np.asarray(tiny, d), array)
    t = _wrap(np.ascontiguousarray(array))
    if requires_grad:
        t.requires_grad_(True)
    return t
