"""Reductions and scans against PyTorch (values, dtypes, gradients, ties, errors) and their
primitives against numerical gradients."""

from __future__ import annotations

import numpy as np
import pytest
from _torch_compare import compare, dtype_name
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import arrays, assert_grad_matches_numeric, shapes

torch = pytest.importorskip("torch")

SMALL = {"min_dims": 1, "max_dims": 3, "max_side": 4}
SMALL_SHAPES = shapes(**SMALL)
distinct = st.integers(-200, 200).map(lambda k: k / 16)
moderate = st.integers(-300, 300).map(lambda k: k / 64)  # no denormals
INT_DTYPES = [np.int64, np.int32, np.int16, np.int8, np.uint8]


def with_dim(shape_strategy=SMALL_SHAPES, elements=None, unique=False):
    """(array, dim, keepdim) with dim in [-ndim, ndim)."""
    return shape_strategy.flatmap(lambda s: st.tuples(
        arrays(s, elements=elements, unique=unique), st.integers(-len(s), len(s) - 1),
        st.booleans()))


def with_dims(shape_strategy=SMALL_SHAPES, elements=None, unique=False):
    """(array, dims (None, an int or a tuple of distinct dims), keepdim)."""
    def dims(s):
        n = len(s)
        choice = st.one_of(
            st.none(), st.integers(-n, n - 1),
            st.lists(st.integers(-n, n - 1), unique_by=lambda d: d % n, min_size=1,
                     max_size=n).map(tuple))
        return st.tuples(arrays(s, elements=elements, unique=unique), choice, st.booleans())

    return shape_strategy.flatmap(dims)


# --------------------------------------------------------------- A: silently wrong before


@pytest.mark.parametrize("values, dtype", [
    ([0, -2**31], np.int32), (list(range(6)), np.uint8), ([True, False, True], np.bool_),
    ([False, False], np.bool_), ([3, -7, 5], np.int8), ([2**63 - 1, -2**63], np.int64),
    ([200, 3, 255], np.uint8),
])
def test_min_max_of_integers_and_bools_match_torch(values, dtype):
    a = np.array(values, dtype=dtype)
    for name in ("min", "max", "amin", "amax"):
        compare(lambda x: getattr(x, name)(), lambda x: getattr(x, name)(), a)
        compare(lambda x: getattr(x, name)(0), lambda x: getattr(x, name)(0), a)
    compare(lambda x: mg.aminmax(x), lambda x: torch.aminmax(x), a)
    compare(lambda x: x.reshape(1, -1).max(1, keepdim=True),
            lambda x: x.reshape(1, -1).max(1, keepdim=True), a)


ZERO_D_OPS = [
    ("sum", {}), ("mean", {}), ("prod", {}), ("amax", {}), ("amin", {}), ("max", {}),
    ("min", {}), ("argmax", {}), ("argmin", {}), ("logsumexp", {}), ("nansum", {}),
    ("nanmean", {}), ("std", {"correction": 0}), ("var", {"correction": 0}), ("all", {}),
    ("any", {}), ("median", {}), ("nanmedian", {}), ("mode", {}), ("count_nonzero", None),
    ("cumsum", None), ("cumprod", None), ("cummax", None), ("cummin", None),
    ("logcumsumexp", None), ("sort", None), ("argsort", None), ("norm", "norm"),
]


@pytest.mark.parametrize("name, kwargs", ZERO_D_OPS)
@pytest.mark.parametrize("dim", [0, -1])
def test_reductions_over_dim_of_0d_tensor_match_torch(name, kwargs, dim):
    a = np.array(2.5)
    if kwargs is None:  # no keepdim
        compare(lambda x: getattr(x, name)(dim), lambda x: getattr(x, name)(dim), a)
    elif kwargs == "norm":
        compare(lambda x: x.norm(dim=dim), lambda x: x.norm(dim=dim), a)
    else:
        for keepdim in (False, True):
            compare(lambda x: getattr(x, name)(dim, keepdim=keepdim, **kwargs),
                    lambda x: getattr(x, name)(dim, keepdim=keepdim, **kwargs), a)


def test_topk_kthvalue_of_0d_tensor_match_torch():
    a = np.array(-1.5)
    compare(lambda x: x.topk(1, 0), lambda x: x.topk(1, 0), a)
    compare(lambda x: x.kthvalue(1, -1), lambda x: x.kthvalue(1, -1), a)


# --------------------------------------------------------------- sums, means, products


@settings(max_examples=25, deadline=None)
@given(with_dims(elements=moderate),
       st.sampled_from(["sum", "mean", "nansum", "nanmean", "amax", "amin"]))
def test_dim_tuple_reductions_match_torch(case, name):
    a, dims, keepdim = case
    if name in ("amax", "amin") and dims is None:
        compare(lambda x: getattr(x, name)(), lambda x: getattr(x, name)(), a)
        return
    compare(lambda x: getattr(x, name)(dims, keepdim), lambda x: getattr(x, name)(dims, keepdim),
            a)
    compare(lambda x: getattr(mg, name)(x, axis=dims, keepdim=keepdim),
            lambda x: getattr(torch, name)(x, axis=dims, keepdim=keepdim), a)


@pytest.mark.parametrize("dtype", INT_DTYPES + [np.bool_, np.float32])
def test_sum_prod_cumsum_cumprod_dtypes_match_torch(dtype):
    a = (np.arange(6).reshape(2, 3) % 3).astype(dtype)
    for name in ("sum", "prod", "nansum"):
        compare(lambda x: getattr(x, name)(), lambda x: getattr(x, name)(), a)
        compare(lambda x: getattr(x, name)(1, keepdim=True),
                lambda x: getattr(x, name)(1, keepdim=True), a)
    for name in ("cumsum", "cumprod"):
        compare(lambda x: getattr(x, name)(1), lambda x: getattr(x, name)(1), a)
        compare(lambda x: getattr(x, name)(0, dtype=mg.float64),
                lambda x: getattr(x, name)(0, dtype=torch.float64), a)
    compare(lambda x: x.sum(dtype=mg.float32), lambda x: x.sum(dtype=torch.float32), a)
    # (PyTorch refuses the backward of a float reduced into an integer dtype: values only)
    compare(lambda x: x.sum(0, dtype=mg.int32), lambda x: x.sum(0, dtype=torch.int32), a,
            grad=False)
    compare(lambda x: x.prod(dtype=mg.int16), lambda x: x.prod(dtype=torch.int16), a,
            grad=False)
    compare(lambda x: x.cumsum(1, dtype=mg.int32), lambda x: x.cumsum(1, dtype=torch.int32), a,
            grad=False)
    compare(lambda x: x.cumprod(1, dtype=mg.int8), lambda x: x.cumprod(1, dtype=torch.int8), a,
            grad=False)
    compare(lambda x: x.mean(dtype=mg.float64), lambda x: x.mean(dtype=torch.float64), a)
    compare(lambda x: x.count_nonzero((0, 1)), lambda x: x.count_nonzero((0, 1)), a)
    compare(lambda x: x.count_nonzero(0), lambda x: x.count_nonzero(0), a)


@pytest.mark.parametrize("dtype", [np.int64, np.uint8, np.bool_, np.float32])
def test_all_any_match_torch(dtype):
    a = np.array([[1, 0, 2], [3, 4, 5]]).astype(dtype)
    for name in ("all", "any"):
        for dim in (None, 0, -1, (0, 1), (1,)):
            for keepdim in (False, True):
                kwargs = {} if dim is None else {"dim": dim}
                compare(lambda x: getattr(x, name)(keepdim=keepdim, **kwargs),
                        lambda x: getattr(x, name)(keepdim=keepdim, **kwargs), a)


def test_mean_of_integers_raises_like_torch():
    with pytest.raises(RuntimeError, match="mean: .*floating point"):
        mg.tensor([1, 2]).mean()
    with pytest.raises(RuntimeError, match="nanmean"):
        mg.tensor([1, 2]).nanmean()
    with pytest.raises(RuntimeError, match="var"):
        mg.tensor([1, 2]).var()


@settings(max_examples=25, deadline=None)
@given(with_dim(elements=moderate), st.integers(0, 3))
def test_prod_with_zeros_matches_torch(case, zeros):
    a, dim, keepdim = case
    a = a.copy()
    a.reshape(-1)[:zeros] = 0  # zeros: the gradient is the product of the other elements
    compare(lambda x: x.prod(dim, keepdim), lambda x: x.prod(dim, keepdim), a)
    compare(lambda x: x.prod(), lambda x: x.prod(), a)
    compare(lambda x: x.prod(axis=dim, dtype=mg.float64),
            lambda x: x.prod(axis=dim, dtype=torch.float64), a)


@settings(max_examples=25, deadline=None)
@given(with_dim(elements=moderate), st.integers(0, 3))
def test_prod_grad_matches_numeric(case, zeros):
    a, dim, keepdim = case
    a = a.copy()
    a.reshape(-1)[:zeros] = 0  # prod is a polynomial: central differences are exact at zeros
    assert_grad_matches_numeric(lambda x: x.prod(dim, keepdim), a,
                                reference=lambda x: np.prod(x, axis=dim % a.ndim,
                                                            keepdims=keepdim))
    assert_grad_matches_numeric(lambda x: x.prod(), a, reference=np.prod)


# --------------------------------------------------------------- variance


@settings(max_examples=25, deadline=None)
@given(with_dims(shapes(min_dims=1, max_dims=3, min_side=2, max_side=4), elements=moderate),
       st.sampled_from([None, 0, 1, 2]), st.sampled_from([None, True, False]))
def test_var_std_and_their_means_match_torch(case, correction, unbiased):
    a, dims, keepdim = case
    reduced = a.size if dims is None else np.prod([a.shape[d] for d in np.atleast_1d(dims)])
    if correction is not None and reduced <= correction:
        return  # no degrees of freedom left: PyTorch's gradients are inf where ours are NaN
    if correction is not None and unbiased is not None:
        unbiased = None
    kwargs = {"keepdim": keepdim}
    if correction is not None:
        kwargs["correction"] = correction
    if unbiased is not None:
        kwargs["unbiased"] = unbiased
    for name in ("var", "std"):
        compare(lambda x: getattr(x, name)(dims, **kwargs),
                lambda x: getattr(x, name)(dims, **kwargs), a, rtol=1e-5)
    for name in ("var_mean", "std_mean"):
        compare(lambda x: getattr(mg, name)(x, dims, **kwargs),
                lambda x: getattr(torch, name)(x, dims, **kwargs), a, rtol=1e-5)


@pytest.mark.filterwarnings("ignore:.*degrees of freedom")
def test_var_positional_unbiased_and_degenerate_counts_match_torch():
    a = np.array([1.0, 2.0, 4.0])
    compare(lambda x: mg.var(x, 0, False), lambda x: torch.var(x, 0, False), a)
    compare(lambda x: x.var(False), lambda x: x.var(False), a)
    compare(lambda x: x[:1].var(), lambda x: x[:1].var(), a, grad=False)
    compare(lambda x: x.std(correction=3), lambda x: x.std(correction=3), a, grad=False)
    with pytest.warns(UserWarning, match="var: degrees of freedom is <= 0"):
        mg.tensor(a)[:1].var()


@settings(max_examples=25, deadline=None)
@given(with_dims(shapes(min_dims=1, max_dims=3, min_side=2, max_side=4)), st.integers(0, 1))
def test_var_grad_matches_numeric(case, correction):
    a, dims, keepdim = case
    assert_grad_matches_numeric(lambda x: x.var(dims, keepdim=keepdim, correction=correction),
                                a)


# --------------------------------------------------------------- extremes and ties


def test_tied_extremes_share_the_gradient_like_torch():
    a = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.5]])
    compare(lambda x: x.max(), lambda x: x.max(), a)
    compare(lambda x: x.min(), lambda x: x.min(), a)
    compare(lambda x: x.amax(1), lambda x: x.amax(1), a)
    compare(lambda x: x.amax((0, 1)), lambda x: x.amax((0, 1)), a)
    compare(lambda x: x.amin(0, True), lambda x: x.amin(0, True), a)
    compare(lambda x: x.max(1), lambda x: x.max(1), a)  # the gradient goes to the index
    compare(lambda x: x.min(0), lambda x: x.min(0), a)
    compare(lambda x: x.median(), lambda x: x.median(), np.array([1.0, 3.0, 3.0, 3.0]))
    compare(lambda x: mg.aminmax(x, dim=1), lambda x: torch.aminmax(x, dim=1), a)
    compare(lambda x: x.cummax(1), lambda x: x.cummax(1), a)
    compare(lambda x: x.cummin(0), lambda x: x.cummin(0), a)
    compare(lambda x: x.mode(1), lambda x: x.mode(1), a)
    compare(lambda x: x.argmax(1), lambda x: x.argmax(1), a)
    compare(lambda x: x.argmin(), lambda x: x.argmin(), a)
    compare(lambda x: x.argmax(keepdim=True), lambda x: x.argmax(keepdim=True), a)


@given(shapes(**SMALL).flatmap(lambda s: arrays(s, elements=distinct, unique=True)))
def test_extreme_grad_matches_numeric(a):
    assert_grad_matches_numeric(lambda x: x.amax(), a, reference=np.max)
    assert_grad_matches_numeric(lambda x: x.amin(-1, True), a,
                                reference=lambda x: np.min(x, axis=-1, keepdims=True))
    assert_grad_matches_numeric(lambda x: x.max(0).values, a,
                                reference=lambda x: np.max(x, axis=0))


def test_nan_propagates_through_extremes_like_torch():
    a = np.array([[1.0, np.nan, 3.0], [0.0, 2.0, -1.0]])
    for fn in (lambda x: x.max(), lambda x: x.amax(1), lambda x: x.max(1), lambda x: x.min(1),
               lambda x: x.cummax(1), lambda x: x.cummin(1), lambda x: x.argmax(1),
               lambda x: x.median(1), lambda x: x.nanmedian(1), lambda x: x.median(),
               lambda x: x.nanmedian(), lambda x: x.sort(1), lambda x: x.nansum(1),
               lambda x: x.nanmean(0)):
        compare(fn, fn, a)


def test_empty_reductions_raise_like_torch():
    with pytest.raises(RuntimeError, match="max: the input is empty"):
        mg.zeros(0).max()
    with pytest.raises(RuntimeError, match="amax"):
        mg.zeros(0).amax()
    with pytest.raises(IndexError, match="max: expected reduction dim 0 to have non-zero size"):
        mg.zeros(0, 3).max(0)
    with pytest.raises(IndexError, match="median"):
        mg.zeros(0, 3).median(0)
    compare(lambda x: x.max(1), lambda x: x.max(1), np.zeros((0, 3)))
    compare(lambda x: x.prod(), lambda x: x.prod(), np.zeros(0))
    compare(lambda x: x.logsumexp(0), lambda x: x.logsumexp(0), np.zeros(0))
    compare(lambda x: x.median(), lambda x: x.median(), np.zeros(0), grad=False)
    compare(lambda x: x.nanmedian(), lambda x: x.nanmedian(), np.zeros(0), grad=False)
    compare(lambda x: x.sort(0), lambda x: x.sort(0), np.zeros((0, 3)))


def test_dim_type_errors_name_the_op():
    with pytest.raises(TypeError, match="prod: argument 'dim' must be int"):
        mg.ones(2, 3).prod(dim=(0, 1))
    with pytest.raises(IndexError, match="cumsum: dim 2 is out of range"):
        mg.ones(2, 3).cumsum(2)
    with pytest.raises(RuntimeError, match="appears more than once"):
        mg.ones(2, 3).sum((1, -1))
    with pytest.raises(TypeError, match="dim= and its alias axis="):
        mg.ones(2, 3).sum(dim=0, axis=0)
    with pytest.raises(RuntimeError, match="argmax: does not support bool"):
        mg.tensor([True]).argmax()


# --------------------------------------------------------------- order statistics


@settings(max_examples=25, deadline=None)
@given(with_dim(elements=distinct, unique=True))
def test_median_kthvalue_mode_match_torch(case):
    a, dim, keepdim = case
    compare(lambda x: x.median(dim, keepdim), lambda x: x.median(dim, keepdim), a)
    compare(lambda x: x.nanmedian(dim, keepdim), lambda x: x.nanmedian(dim, keepdim), a)
    compare(lambda x: x.median(), lambda x: x.median(), a)
    k = 1 + a.shape[dim] // 2
    compare(lambda x: x.kthvalue(k, dim, keepdim), lambda x: x.kthvalue(k, dim, keepdim), a)
    compare(lambda x: mg.kthvalue(x, k, axis=dim), lambda x: torch.kthvalue(x, k, axis=dim), a)


@settings(max_examples=25, deadline=None)
@given(with_dim(elements=st.integers(-2, 2).map(float)))
def test_mode_with_many_ties_matches_torch(case):
    a, dim, keepdim = case  # ties: the smallest most frequent value, at its last index
    compare(lambda x: x.mode(dim, keepdim), lambda x: x.mode(dim, keepdim), a)
    b = a.astype(np.int64)
    compare(lambda x: x.mode(dim), lambda x: x.mode(dim), b)


def test_median_values_with_ties_match_torch():
    a = np.array([[1.0, 3.0, 3.0, 2.0, 1.0, 5.0, 1.0, 3.0], [2.0, 1.0, 2.0, 1.0, 0.0, 0.0, 0, 4]])
    got = mg.tensor(a).median(1).values
    np.testing.assert_array_equal(got._data, torch.tensor(a).median(1).values.numpy())
    got = mg.tensor(a).kthvalue(3, 1).values
    np.testing.assert_array_equal(got._data, torch.tensor(a).kthvalue(3, 1).values.numpy())
    with pytest.raises(RuntimeError, match="kthvalue: k = 9 is out of range"):
        mg.tensor(a).kthvalue(9, 1)


@given(with_dim(elements=distinct, unique=True))
def test_order_statistics_grad_matches_numeric(case):
    a, dim, keepdim = case
    assert_grad_matches_numeric(lambda x: x.median(dim, keepdim).values, a)
    assert_grad_matches_numeric(lambda x: x.median(), a, reference=lambda x: np.sort(
        x.reshape(-1))[(x.size - 1) // 2])
    assert_grad_matches_numeric(lambda x: x.kthvalue(1, dim).values, a,
                                reference=lambda x: np.min(x, axis=dim))


# --------------------------------------------------------------- scans


@settings(max_examples=25, deadline=None)
@given(with_dim(elements=moderate), st.integers(0, 2))
def test_scans_match_torch(case, zeros):
    a, dim, _ = case
    a = a.copy()
    a.reshape(-1)[:zeros] = 0
    for name in ("cumsum", "cumprod", "logcumsumexp", "cummax", "cummin"):
        compare(lambda x: getattr(x, name)(dim), lambda x: getattr(x, name)(dim), a)
        compare(lambda x: getattr(mg, name)(x, axis=dim), lambda x: getattr(torch, name)(
            x, axis=dim), a)


@settings(max_examples=25, deadline=None)
@given(with_dim(elements=moderate), st.integers(0, 3))
def test_cumsum_cumprod_grad_matches_numeric(case, zeros):
    a, dim, _ = case
    a = a.copy()
    a.reshape(-1)[:zeros] = 0  # cumprod is a polynomial: exact at zeros (two zeros included)
    assert_grad_matches_numeric(lambda x: x.cumsum(dim), a,
                                reference=lambda x: np.cumsum(x, axis=dim))
    assert_grad_matches_numeric(lambda x: x.cumprod(dim), a,
                                reference=lambda x: np.cumprod(x, axis=dim))


@given(with_dim(), st.sampled_from([1.0, 50.0]))
def test_logcumsumexp_grad_matches_numeric(case, scale):
    a, dim, _ = case
    assert_grad_matches_numeric(lambda x: x.logcumsumexp(dim), a * scale,
                                reference=lambda x: np.logaddexp.accumulate(x, axis=dim))


def test_logcumsumexp_is_stable_for_large_inputs():
    a = np.array([1000.0, -1000.0, 1000.0, 0.0])
    compare(lambda x: x.logcumsumexp(0), lambda x: x.logcumsumexp(0), a)


@given(with_dim(elements=distinct, unique=True))
def test_cummax_grad_matches_numeric(case):
    a, dim, _ = case
    assert_grad_matches_numeric(lambda x: x.cummax(dim).values, a,
                                reference=lambda x: np.maximum.accumulate(x, axis=dim))
    assert_grad_matches_numeric(lambda x: x.cummin(dim).values, a,
                                reference=lambda x: np.minimum.accumulate(x, axis=dim))


def test_inplace_scans_match_torch():
    a = np.array([[1.0, 2.0, 0.0], [3.0, -1.0, 2.0]])
    compare(lambda x: (x * 1).cumsum_(1), lambda x: (x * 1).cumsum_(1), a)
    compare(lambda x: (x * 1).cumprod_(0), lambda x: (x * 1).cumprod_(0), a)
    out = mg.zeros(2, 3, dtype=mg.float64)
    mg.cumsum(mg.tensor(a), 1, out=out)
    np.testing.assert_allclose(out._data, np.cumsum(a, 1))


# --------------------------------------------------------------- norms


NORM_CASES = [
    ({}, {}), ({"p": 1}, {"p": 1}), ({"p": 3}, {"p": 3}), ({"p": float("inf")}, None),
    ({"p": -float("inf")}, None), ({"p": 0}, None), ({"p": 2, "dim": 1}, None),
    ({"p": "fro", "dim": (0, 1)}, None), ({"p": "fro", "dim": 0, "keepdim": True}, None),
    ({"p": 1.5, "dim": -1, "keepdim": True}, None), ({"p": "nuc"}, None),
    ({"p": 2, "dim": (0, 1)}, None),
]


@pytest.mark.parametrize("mg_kwargs, torch_kwargs", NORM_CASES)
def test_norm_matches_torch(mg_kwargs, torch_kwargs):
    a = np.array([[1.0, -5.0, 2.0], [4.0, 0.5, -3.0]])
    torch_kwargs = mg_kwargs if torch_kwargs is None else torch_kwargs
    compare(lambda x: x.norm(**mg_kwargs), lambda x: x.norm(**torch_kwargs), a, rtol=1e-5)
    compare(lambda x: mg.norm(x, **mg_kwargs), lambda x: torch.norm(x, **torch_kwargs), a,
            rtol=1e-5)


@pytest.mark.parametrize("ord", ["fro", "nuc", 1, -1, 2, -2, float("inf"), -float("inf")])
@pytest.mark.parametrize("keepdim", [False, True])
def test_matrix_norm_matches_torch(ord, keepdim):
    rng = np.random.default_rng(3)
    a = rng.standard_normal((2, 3, 4))
    compare(lambda x: mg.linalg.matrix_norm(x, ord, keepdim=keepdim),
            lambda x: torch.linalg.matrix_norm(x, ord, keepdim=keepdim), a, rtol=1e-5)
    compare(lambda x: mg.linalg.matrix_norm(x, ord, dim=(0, 2)),
            lambda x: torch.linalg.matrix_norm(x, ord, dim=(0, 2)), a, rtol=1e-5)
    compare(lambda x: mg.linalg.norm(x[0], ord), lambda x: torch.linalg.norm(x[0], ord), a,
            rtol=1e-5)


@pytest.mark.parametrize("ord", [2, 1, 0, 3, 0.5, float("inf"), -float("inf"), -1])
def test_vector_norm_matches_torch(ord):
    rng = np.random.default_rng(4)
    a = rng.standard_normal((3, 4))
    for dim in (None, 0, (0, 1), -1):
        compare(lambda x: mg.linalg.vector_norm(x, ord, dim=dim),
                lambda x: torch.linalg.vector_norm(x, ord, dim=dim), a, rtol=1e-5)
    compare(lambda x: mg.linalg.norm(x, ord, dim=1, keepdim=True),
            lambda x: torch.linalg.norm(x, ord, dim=1, keepdim=True), a, rtol=1e-5)
    compare(lambda x: mg.linalg.norm(x[0], ord), lambda x: torch.linalg.norm(x[0], ord), a,
            rtol=1e-5)


def test_norm_of_zeros_has_zero_gradient_like_torch():
    for ord in (2, 1, 3, float("inf")):
        compare(lambda x: mg.linalg.vector_norm(x, ord), lambda x: torch.linalg.vector_norm(
            x, ord), np.zeros(3))
    with pytest.raises(RuntimeError, match="floating point"):
        mg.linalg.vector_norm(mg.tensor([3, 4]))
    with pytest.raises(RuntimeError, match="must be 1D or 2D"):
        mg.linalg.norm(mg.zeros(2, 2, 2), 1)


@given(with_dims(elements=st.floats(0.2, 3.0)), st.sampled_from([2.0, 1.0, 3.0, 1.5]))
def test_vector_norm_grad_matches_numeric(case, ord):
    a, dims, keepdim = case
    signs = np.where(np.arange(a.size).reshape(a.shape) % 2, -1.0, 1.0)
    assert_grad_matches_numeric(
        lambda x: mg.linalg.vector_norm(x, ord, dim=dims, keepdim=keepdim), a * signs)


@given(st.tuples(st.integers(1, 3), st.integers(2, 4), st.integers(2, 4)).flatmap(
    lambda s: arrays(s)))
def test_singular_values_grad_matches_numeric(a):
    s = np.linalg.svd(a, compute_uv=False)
    if np.min(np.abs(np.diff(s, axis=-1)), initial=1.0) < 1e-2 or s.min() < 1e-2:
        return  # repeated or zero singular values: the derivative is not defined there
    assert_grad_matches_numeric(lambda x: mg.linalg.svdvals(x), a,
                                reference=lambda x: np.linalg.svd(x, compute_uv=False))
    assert_grad_matches_numeric(lambda x: mg.linalg.matrix_norm(x, "nuc"), a)


# --------------------------------------------------------------- logsumexp and spellings


def test_logsumexp_matches_torch():
    a = np.array([[1.0, 500.0, -2.0], [-np.inf, -np.inf, -np.inf]])
    compare(lambda x: x.logsumexp(1), lambda x: x.logsumexp(1), a, grad=False)
    compare(lambda x: x[:1].logsumexp((0, 1), keepdim=True),
            lambda x: x[:1].logsumexp((0, 1), keepdim=True), a)
    compare(lambda x: mg.logsumexp(x, axis=0), lambda x: torch.logsumexp(x, axis=0), a,
            grad=False)
    compare(lambda x: x.logsumexp(0), lambda x: x.logsumexp(0), np.array([1, 2]))


def test_function_spellings_and_out_match_torch():
    a = np.array([[1.0, 5.0, 2.0], [4.0, 0.0, 3.0]])
    compare(lambda x: mg.max(x, 1, keepdim=True), lambda x: torch.max(x, 1, keepdim=True), a)
    compare(lambda x: mg.max(x, x.flip(0)), lambda x: torch.max(x, x.flip(0)), a)
    compare(lambda x: mg.min(x, x.flip(0)), lambda x: torch.min(x, x.flip(0)), a)
    compare(lambda x: mg.sum(x, axis=0), lambda x: torch.sum(x, axis=0), a)
    values, indices = mg.zeros(3, dtype=mg.float64), mg.zeros(3, dtype=mg.int64)
    mg.max(mg.tensor(a), 0, out=(values, indices))
    np.testing.assert_array_equal(values._data, a.max(0))
    np.testing.assert_array_equal(indices._data, a.argmax(0))
    assert dtype_name(mg.tensor(a).max(0).indices) == "int64"
    assert mg.tensor(a).max(0).values.shape == (3,)


# --------------------------------------------------------------- quantiles and counts


@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "midpoint", "nearest"])
@pytest.mark.parametrize("name", ["quantile", "nanquantile"])
def test_quantile_matches_torch(interpolation, name):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 4, 5))
    fns = getattr(mg, name), getattr(torch, name)
    for dim in (None, 0, -1):
        for keepdim in (False, True):
            for q in (0.3, [0.0, 0.25, 0.5, 1.0], 0.7):
                qs = [lib.tensor(q, dtype=lib.float64) if isinstance(q, list) else q
                      for lib in (mg, torch)]
                compare(lambda x: fns[0](x, qs[0], dim, keepdim, interpolation=interpolation),
                        lambda x: fns[1](x, qs[1], dim, keepdim, interpolation=interpolation),
                        a)
    compare(lambda x: fns[0](x, 0.5), lambda x: fns[1](x, 0.5), np.array(3.0))


def test_quantile_with_nan_and_errors_match_torch():
    rng = np.random.default_rng(1)
    b = rng.standard_normal((3, 4))
    b[0, 1] = np.nan
    b[2] = np.nan
    for name in ("quantile", "nanquantile"):
        for dim in (None, 1, 0):
            # values only: which of several NaNs gets the gradient is PyTorch's sort order
            compare(lambda x: getattr(mg, name)(x, 0.4, dim),
                    lambda x: getattr(torch, name)(x, 0.4, dim), b, grad=False)
    with pytest.raises(RuntimeError, match=r"quantile: q must be in the range \[0, 1\]"):
        mg.quantile(mg.tensor(b), 1.5)
    with pytest.raises(RuntimeError, match="quantile: input tensor must be either float"):
        mg.quantile(mg.tensor([1, 2]), 0.5)


@given(shapes(min_dims=1, max_dims=3, max_side=4).flatmap(
    lambda s: arrays(s, elements=distinct, unique=True)), st.floats(0, 1))
def test_quantile_grad_matches_numeric(a, q):
    assert_grad_matches_numeric(lambda x: mg.quantile(x, q, -1), a,
                                reference=lambda x: np.quantile(x, q, axis=-1))
    assert_grad_matches_numeric(lambda x: mg.quantile(x, q, interpolation="midpoint"), a)


def test_bincount_and_histc_match_torch():
    ints = np.array([0, 3, 3, 1])
    compare(lambda x: mg.bincount(x), lambda x: torch.bincount(x), ints)
    compare(lambda x: x.bincount(minlength=6), lambda x: x.bincount(minlength=6), ints)
    for dtype in (np.float32, np.float64, np.int64):
        weights = np.array([0.5, 1, 2, 3]).astype(dtype)
        compare(lambda x, w: mg.bincount(x, w), lambda x, w: torch.bincount(x, w), ints,
                weights, grad=False)
    compare(lambda x: x.bincount(), lambda x: x.bincount(), np.zeros(0, np.int64))
    with pytest.raises(RuntimeError, match="bincount: only supports 1-d non-negative"):
        mg.tensor([-1]).bincount()
    data = np.array([1.0, 2, 1, 4, 3.5, -7])
    for args in ((4,), (4, 0, 2), (3, 1, 1), (5, -10, 10)):
        compare(lambda x: x.histc(*args), lambda x: x.histc(*args), data, grad=False)
        compare(lambda x: mg.histc(x, *args), lambda x: torch.histc(x, *args),
                data.astype(np.float32), grad=False)
    compare(lambda x: x.histc(3), lambda x: x.histc(3), np.array([1.0, 1.0]), grad=False)
