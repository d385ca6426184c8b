"""Reductions and the softmax family: sum, max/min, gather, mean, var, std, logsumexp."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import arrays, assert_grad_matches_numeric, shapes

SMALL = {"max_dims": 3, "max_side": 4}
# well-separated distinct values: no ties for max/min, differences far above eps
distinct = st.integers(-200, 200).map(lambda k: k / 16)


def array_and_dims(min_dims: int = 0, elements=None, unique: bool = False) -> st.SearchStrategy:
    """An array and a (possibly empty or None) tuple of distinct dims, negative ones included."""

    def with_dims(shape):
        ndim = len(shape)
        dims = st.none() if ndim == 0 else st.one_of(
            st.none(),
            st.lists(st.integers(-ndim, ndim - 1), unique_by=lambda d: d % ndim, max_size=ndim)
            .map(tuple),
        )
        return st.tuples(arrays(shape, elements=elements, unique=unique), dims, st.booleans())

    return shapes(min_dims=min_dims, **SMALL).flatmap(with_dims)


def array_and_dim(min_dims: int = 1, elements=None, unique: bool = False) -> st.SearchStrategy:
    def with_dim(shape):
        ndim = len(shape)
        return st.tuples(arrays(shape, elements=elements, unique=unique),
                         st.integers(-ndim, ndim - 1), st.booleans())

    return shapes(min_dims=min_dims, **SMALL).flatmap(with_dim)


def np_axis(dims, ndim):
    # PyTorch reduces every dim for dim=() (NumPy would reduce none)
    return None if not dims else tuple(d % ndim for d in dims)


@given(array_and_dims())
def test_sum_grad_matches_numeric(case):
    a, dims, keepdim = case
    assert_grad_matches_numeric(
        lambda x: x.sum(dim=dims, keepdim=keepdim), a,
        reference=lambda x: np.sum(x, axis=np_axis(dims, a.ndim), keepdims=keepdim),
    )


@given(shapes(**SMALL).flatmap(lambda s: arrays(s, elements=distinct, unique=True)))
def test_max_all_and_min_all_grad_matches_numeric(a):
    assert_grad_matches_numeric(lambda x: x.max(), a, reference=np.max)
    assert_grad_matches_numeric(lambda x: x.min(), a, reference=np.min)


def test_max_all_splits_gradient_among_ties():
    x = mg.tensor([1.0, 3.0, 3.0, 0.0], requires_grad=True)
    x.max().backward()
    np.testing.assert_array_equal(x.grad.detach().numpy(), [0.0, 0.5, 0.5, 0.0])


@given(array_and_dim(elements=distinct, unique=True))
def test_max_min_with_dim_values_indices_and_grad(case):
    a, dim, keepdim = case
    axis = dim % a.ndim
    for name, np_fn, np_arg in (("max", np.max, np.argmax), ("min", np.min, np.argmin)):
        values, indices = getattr(mg.tensor(a), name)(dim, keepdim)
        np.testing.assert_array_equal(values.detach().numpy(),
                                      np_fn(a, axis=axis, keepdims=keepdim))
        np.testing.assert_array_equal(indices.detach().numpy(),
                                      np_arg(a, axis=axis, keepdims=keepdim))
        assert indices.dtype == np.int64
        assert_grad_matches_numeric(
            lambda x, name=name: getattr(x, name)(dim, keepdim).values, a,
            reference=lambda x, f=np_fn: f(x, axis=axis, keepdims=keepdim),
        )


@given(shapes(min_dims=1, **SMALL).flatmap(
    lambda s: st.tuples(arrays(s), st.integers(0, len(s) - 1), st.data())))
def test_gather_with_repeated_indices_grad_matches_numeric(case):
    a, axis, data = case
    index_shape = list(a.shape)
    index_shape[axis] = data.draw(st.integers(1, 5))
    index = data.draw(arrays(tuple(index_shape), dtype=np.int64,
                             elements=st.integers(0, a.shape[axis] - 1)))
    assert_grad_matches_numeric(
        lambda x: x.gather(axis, mg.tensor(index)), a,
        reference=lambda x: np.take_along_axis(x, index, axis=axis),
    )


def test_gather_accumulates_repeated_indices():
    x = mg.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    x.gather(1, mg.tensor([[2, 2, 0, 2]])).sum().backward()
    np.testing.assert_array_equal(x.grad.detach().numpy(), [[1.0, 0.0, 3.0]])


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@given(data=st.data())
def test_softmax_family_grad_matches_numeric(name, data):
    a, dim, _ = data.draw(array_and_dim())
    axis = dim % a.ndim

    def reference(x):
        shifted = x - x.max(axis=axis, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        return log_p if name == "log_softmax" else np.exp(log_p)

    assert_grad_matches_numeric(lambda x: getattr(x, name)(dim), a, reference=reference)


def test_softmax_family_is_stable_for_huge_logits():
    x = mg.tensor([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]], dtype=mg.float64)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        p = x.softmax(1).detach().numpy()
        log_p = x.log_softmax(1).detach().numpy()
    np.testing.assert_allclose(p, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]], atol=1e-12)
    np.testing.assert_allclose(log_p, [[0.0, -2e4, -1e4], [-np.log(3)] * 3], rtol=1e-12)


@given(array_and_dims())
def test_mean_grad_matches_numeric(case):
    a, dims, keepdim = case
    assert_grad_matches_numeric(
        lambda x: x.mean(dim=dims, keepdim=keepdim), a,
        reference=lambda x: np.mean(x, axis=np_axis(dims, a.ndim), keepdims=keepdim),
    )


@given(array_and_dims(min_dims=1), st.sampled_from([0, 1]))
def test_var_and_std_grad_match_numeric(case, correction):
    a, dims, keepdim = case
    axis = np_axis(dims, a.ndim)
    count = a.size if axis is None else int(np.prod([a.shape[d] for d in axis]))
    if count - correction <= 0:
        return
    ref_var = np.var(a, axis=axis, keepdims=keepdim, ddof=correction)
    if np.min(ref_var) < 1e-3:  # std's gradient blows up at zero variance
        return
    assert_grad_matches_numeric(
        lambda x: x.var(dims, keepdim=keepdim, correction=correction), a,
        reference=lambda x: np.var(x, axis=axis, keepdims=keepdim, ddof=correction),
    )
    assert_grad_matches_numeric(
        lambda x: x.std(dims, keepdim=keepdim, correction=correction), a,
        reference=lambda x: np.std(x, axis=axis, keepdims=keepdim, ddof=correction),
    )


def test_var_defaults_to_unbiased_and_accepts_unbiased_false():
    a = np.array([1.0, 2.0, 4.0, 7.0])
    x = mg.tensor(a)
    np.testing.assert_allclose(x.var().item(), np.var(a, ddof=1), rtol=1e-6)
    np.testing.assert_allclose(x.var(unbiased=False).item(), np.var(a), rtol=1e-6)
    np.testing.assert_allclose(x.std().item(), np.std(a, ddof=1), rtol=1e-6)


@given(array_and_dims(min_dims=1, elements=st.floats(-30, 30)))
def test_logsumexp_grad_matches_numeric(case):
    a, dims, keepdim = case
    dims = dims if dims is not None else tuple(range(a.ndim))

    def reference(x):
        axis = np_axis(dims, x.ndim)
        m = x.max(axis=axis, keepdims=True)
        out = np.log(np.exp(x - m).sum(axis=axis, keepdims=True)) + m
        return out if keepdim else np.squeeze(out, axis=axis)

    assert_grad_matches_numeric(lambda x: x.logsumexp(dims, keepdim), a, reference=reference)


def test_logsumexp_of_huge_values_is_finite():
    x = mg.tensor([1e4, 1e4], dtype=mg.float64)
    np.testing.assert_allclose(x.logsumexp(0).item(), 1e4 + np.log(2))


def test_reductions_of_bool_and_int():
    assert mg.tensor([True, True, False]).sum().item() == 2
    assert mg.tensor([1, 2, 3]).sum().dtype == np.int64
    with pytest.raises(RuntimeError, match="mean: .*floating point"):
        mg.tensor([1, 2]).mean()


def test_reduction_dim_out_of_range_names_op():
    with pytest.raises(IndexError, match=r"sum: dim 2 is out of range"):
        mg.ones(2, 3).sum(2)
    with pytest.raises(RuntimeError, match="max: the input is empty"):
        mg.zeros(0).max()


def test_argmax_argmin():
    a = np.array([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    x = mg.tensor(a)
    assert x.argmax().item() == 3
    np.testing.assert_array_equal(x.argmax(1).detach().numpy(), [1, 0])
    np.testing.assert_array_equal(x.argmin(0, keepdim=True).detach().numpy(), [[0, 1, 0]])
