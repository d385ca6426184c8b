"""minigrad.testing: the strategies produce what they promise; the helpers catch faults."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.autograd.engine import Context, Primitive
from minigrad.testing import (
    arrays,
    assert_grad_matches_numeric,
    assert_not_mutated,
    away_from,
    broadcastable_shapes,
    classification_cases,
    shapes,
    tensors,
)


@given(shapes(min_dims=1, max_dims=3, min_side=2, max_side=4))
def test_shapes_are_in_range(shape):
    assert 1 <= len(shape) <= 3
    assert all(2 <= n <= 4 for n in shape)


@given(st.integers(1, 4).flatmap(lambda n: st.tuples(st.just(n), broadcastable_shapes(n))))
def test_broadcastable_shapes_broadcast(case):
    n, result = case
    assert len(result) == n
    np.broadcast_shapes(*result)  # raises if they do not
    assert all(len(s) <= 4 and all(1 <= k <= 5 for k in s) for s in result)


@given(away_from(0.0, 1.0, margin=0.1))
def test_away_from_keeps_margin(x):
    assert -3.0 <= x <= 3.0
    assert abs(x) > 0.1 and abs(x - 1.0) > 0.1


@given(arrays((2, 3), min_value=-1.0, max_value=1.0))
def test_arrays_shape_dtype_and_bounds(a):
    assert a.shape == (2, 3) and a.dtype == np.float64
    assert np.all(np.isfinite(a)) and np.all(np.abs(a) <= 1.0)


@given(arrays((3,), dtype=np.int64, min_value=-2, max_value=2), arrays((2,), dtype=np.bool_))
def test_arrays_of_integer_and_bool_dtypes(ints, bools):
    assert ints.dtype == np.int64 and np.all(np.abs(ints) <= 2)
    assert bools.dtype == np.bool_


@given(tensors((2, 2)), tensors(dtype=np.float32, requires_grad=False),
       tensors((3,), dtype=np.int64))
def test_tensors_dtype_and_requires_grad(t64, t32, ti):
    assert isinstance(t64, mg.Tensor) and t64.dtype == np.float64 and t64.requires_grad
    assert t64.shape == (2, 2)
    assert t32.dtype == np.float32 and not t32.requires_grad
    assert ti.dtype == np.int64 and not ti.requires_grad


class MutatingDouble(Primitive):
    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        a *= 1.0000001
        return 2 * a

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        return 2 * grad


def test_assert_not_mutated_catches_mutation():
    with pytest.raises(AssertionError, match="input 0 was mutated"):
        assert_not_mutated(MutatingDouble.apply, np.ones(3))
    assert assert_not_mutated(lambda t: t * 2, np.ones(3)).shape == (3,)


def test_assert_grad_matches_numeric_catches_mutation_and_wrong_forward():
    # the mutation breaks either the numerical gradient or the final mutation check
    with pytest.raises(AssertionError):
        assert_grad_matches_numeric(MutatingDouble.apply, np.ones(3), atol=1e-3)
    with pytest.raises(AssertionError, match="reference"):
        assert_grad_matches_numeric(lambda t: t * 2, np.ones(3), reference=lambda a: a * 3)
    assert_grad_matches_numeric(lambda t: t * 2, np.ones(3), reference=lambda a: a * 2)


@given(classification_cases(max_batch=4, max_classes=6))
def test_classification_cases_are_consistent(case):
    logits, targets, weights = case
    n, c = logits.shape
    assert 1 <= n <= 4 and 2 <= c <= 6
    assert targets.shape == (n,) and targets.dtype == np.int64
    assert ((targets >= 0) & (targets < c)).all()
    assert weights.shape == (c,) and (weights > 0).all()
