"""Hypothesis strategies and assertions for property-based gradient tests.

Requires the ``test`` extra (hypothesis). Typical use::

    from hypothesis import given
    from minigrad.testing import arrays, assert_grad_matches_numeric, broadcastable_shapes

    @given(broadcastable_shapes(2).flatmap(lambda s: st.tuples(arrays(s[0]), arrays(s[1]))))
    def test_mul_grad(pair):
        assert_grad_matches_numeric(lambda a, b: a * b, *pair)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from minigrad.gradcheck import gradcheck
from minigrad.tensor import Tensor

__all__ = [
    "shapes",
    "broadcastable_shapes",
    "arrays",
    "tensors",
    "away_from",
    "classification_cases",
    "assert_grad_matches_numeric",
    "assert_not_mutated",
]


def shapes(
    min_dims: int = 0, max_dims: int = 4, min_side: int = 1, max_side: int = 5
) -> st.SearchStrategy[tuple[int, ...]]:
    """Array shapes, small enough for numerical differentiation."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def broadcastable_shapes(
    num_shapes: int = 2, min_dims: int = 0, max_dims: int = 4, min_side: int = 1,
    max_side: int = 5,
) -> st.SearchStrategy[tuple[tuple[int, ...], ...]]:
    """Tuples of ``num_shapes`` shapes that broadcast together (sizes of 1 included)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, min_side=min_side,
        max_side=max_side,
    ).map(lambda result: result.input_shapes)


def _elements(min_value: float, max_value: float, avoid: Sequence[float], margin: float
              ) -> st.SearchStrategy[float]:
    values = st.floats(min_value, max_value, allow_nan=False, allow_infinity=False)
    if avoid:
        values = values.filter(lambda x: all(abs(x - a) > margin for a in avoid))
    return values


def away_from(*points: float, margin: float = 1e-2, min_value: float = -3.0,
              max_value: float = 3.0) -> st.SearchStrategy[float]:
    """Floats in [min_value, max_value] at least ``margin`` from each kink in ``points``."""
    return _elements(min_value, max_value, points, margin)


def arrays(
    shape: Any,
    dtype: Any = np.float64,
    elements: st.SearchStrategy[Any] | None = None,
    min_value: float = -3.0,
    max_value: float = 3.0,
    unique: bool = False,
) -> st.SearchStrategy[np.ndarray]:
    """ndarrays of ``shape`` (a tuple or a strategy of tuples) with finite elements."""
    kind = np.dtype(dtype).kind
    if elements is None and kind == "f":
        elements = st.floats(min_value, max_value, allow_nan=False, allow_infinity=False,
                             width=8 * np.dtype(dtype).itemsize)
    elif elements is None and kind in "iu":
        elements = st.integers(max(int(np.ceil(min_value)), np.iinfo(dtype).min),
                               int(np.floor(max_value)))
    return hnp.arrays(dtype, shape, elements=elements, unique=unique)


def tensors(
    shape: Any = None,
    dtype: Any = np.float64,
    elements: st.SearchStrategy[Any] | None = None,
    min_value: float = -3.0,
    max_value: float = 3.0,
    requires_grad: bool = True,
) -> st.SearchStrategy[Tensor]:
    """minigrad Tensors; float64 and requiring grad by default, ready for gradcheck."""
    shape = shapes() if shape is None else shape
    floating = np.dtype(dtype).kind == "f"
    return arrays(shape, dtype, elements, min_value, max_value).map(
        lambda a: Tensor(a, requires_grad=requires_grad and floating)
    )


def assert_not_mutated(fn: Callable[..., Any], *arrays_in: np.ndarray) -> Any:
    """Call ``fn`` on tensors of copies of the arrays and fail if any input array changed."""
    before = [np.array(a, copy=True) for a in arrays_in]
    result = fn(*[Tensor(a) for a in arrays_in])
    for i, (a, b) in enumerate(zip(arrays_in, before)):
        np.testing.assert_array_equal(a, b, err_msg=f"input {i} was mutated")
    return result


def assert_grad_matches_numeric(
    fn: Callable[..., Tensor],
    *arrays_in: np.ndarray,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    reference: Callable[..., np.ndarray] | None = None,
) -> None:
    """Assert that backward of ``fn`` matches central differences in float64.

    Each array becomes a float64 Tensor that requires grad. The arrays must come back
    unchanged (ops never mutate their inputs). With ``reference``, the forward result must
    also match ``reference(*arrays)`` computed in NumPy.
    """
    originals = [np.array(a, dtype=np.float64, copy=True) for a in arrays_in]
    inputs = [Tensor(np.array(a, copy=True), requires_grad=True) for a in originals]
    if reference is not None:
        out = fn(*inputs)
        np.testing.assert_allclose(out._data, reference(*originals), rtol=1e-7, atol=1e-10,
                                   err_msg="forward differs from the reference")
    gradcheck(fn, inputs, eps=eps, atol=atol, rtol=rtol)
    for i, (t, a) in enumerate(zip(inputs, originals)):
        np.testing.assert_array_equal(t._data, a, err_msg=f"input {i} was mutated by fn")


def classification_cases(max_batch: int = 5, max_classes: int = 5
                         ) -> st.SearchStrategy[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(logits (N, C), int64 targets (N,), positive class weights (C,)) for loss tests."""
    return st.tuples(st.integers(1, max_batch), st.integers(2, max_classes)).flatmap(
        lambda nc: st.tuples(
            arrays(nc, min_value=-5, max_value=5),
            arrays((nc[0],), dtype=np.int64, elements=st.integers(0, nc[1] - 1)),
            arrays((nc[1],), elements=st.floats(0.1, 2.0)),
        )
    )
