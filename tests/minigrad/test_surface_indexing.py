"""Indexing, selection and ordering against PyTorch (values, dtypes, gradients, errors) and
their primitives against numerical gradients."""

from __future__ import annotations

import numpy as np
import pytest
from _torch_compare import compare
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import arrays, assert_grad_matches_numeric, shapes

torch = pytest.importorskip("torch")

distinct = st.integers(-200, 200).map(lambda k: k / 16)


# --------------------------------------------------------------- __getitem__ / __setitem__


@st.composite
def index_expressions(draw, unique_arrays=False):
    """(shape, index parts) mixing ints, slices, None, Ellipsis, integer and bool tensors, in
    the forms PyTorch accepts (positive slice steps, at most one Ellipsis)."""
    shape = draw(shapes(min_dims=1, max_dims=5, min_side=1, max_side=4))
    parts, dim = [], 0
    length = draw(st.integers(1, 3))  # all integer tensors share a length: they broadcast
    used_ellipsis = False
    while dim < len(shape):
        kind = draw(st.sampled_from(["int", "slice", "array", "array", "none", "ellipsis",
                                     "mask"]))
        n = shape[dim]
        if kind == "int":
            parts.append(("int", draw(st.integers(-n, n - 1))))
        elif kind == "slice":
            start = draw(st.none() | st.integers(-n, n))
            stop = draw(st.none() | st.integers(-n, n))
            parts.append(("slice", slice(start, stop, draw(st.none() | st.integers(1, 3)))))
        elif kind == "array":
            if any(p[0] == "mask" for p in parts):
                continue
            if unique_arrays and not any(p[0] == "array" for p in parts):
                size = min(length, n)
                length = size
                values = draw(st.permutations(range(n)))[:size]
            else:
                values = draw(st.lists(st.integers(-n, n - 1), min_size=length,
                                       max_size=length))
            parts.append(("array", values))
        elif kind == "mask":
            if unique_arrays or any(p[0] in ("array", "mask") for p in parts):
                continue  # one mask alone: its nonzero count need not broadcast with arrays
            parts.append(("mask", draw(st.lists(st.booleans(), min_size=n, max_size=n))))
        elif kind == "none":
            parts.append(("none", None))
            continue
        else:
            if used_ellipsis:
                continue
            used_ellipsis = True
            parts.append(("ellipsis", Ellipsis))
            # the parts after it index the last dims: all of them, so no early stop below
            dim = len(shape) - draw(st.integers(0, len(shape) - dim))
            continue
        dim += 1
        if not used_ellipsis and draw(st.integers(0, 4)) == 0:
            break  # leave trailing dims unindexed
    return shape, parts


def build(parts, lib):
    out = []
    for kind, value in parts:
        if kind == "array":
            out.append(lib.tensor(value, dtype=lib.int64))
        elif kind == "mask":
            out.append(lib.tensor(value, dtype=lib.bool))
        else:
            out.append(value)
    return tuple(out)


@settings(max_examples=40, deadline=None)
@given(index_expressions())
def test_getitem_matches_torch(case):
    shape, parts = case
    a = np.arange(np.prod(shape), dtype=np.float64).reshape(shape) / 7
    compare(lambda x: x[build(parts, mg)], lambda x: x[build(parts, torch)], a)


@settings(max_examples=40, deadline=None)
@given(index_expressions(unique_arrays=True), st.sampled_from(["full", "scalar", "row"]))
def test_setitem_matches_torch(case, value_kind):
    shape, parts = case
    a = np.arange(np.prod(shape), dtype=np.float64).reshape(shape) / 7
    target = torch.tensor(a)[build(parts, torch)].shape
    if value_kind == "scalar" or len(target) == 0:
        v = np.array(2.5)
    elif value_kind == "row":
        v = np.linspace(-1, 1, target[-1])
    else:
        v = np.linspace(-1, 1, int(np.prod(target))).reshape(target)

    def assign(lib):
        def fn(x, value):
            y = x * 1  # a non-leaf copy to assign into
            y[build(parts, lib)] = value
            return y

        return fn

    compare(assign(mg), assign(torch), a, v)


def test_advanced_index_after_int_and_slice_keeps_place_like_torch():
    a = np.arange(3 * 3 * 12 * 5 * 4, dtype=np.float64).reshape(3, 3, 12, 5, 4)
    idx = [0, 2, 1]
    index = lambda lib: (1, slice(None), slice(3, 11, 2), lib.tensor(idx), slice(0, 2))  # noqa
    out = compare(lambda x: x[index(mg)], lambda x: x[index(torch)], a)
    assert out[0].shape == (3, 4, 3, 2)  # NumPy's rule would give (3, 3, 4, 2)
    compare(lambda x: x[:, mg.tensor(1), mg.tensor(idx)],
            lambda x: x[:, torch.tensor(1), torch.tensor(idx)], a)


def test_indexing_errors_name_the_op():
    x = mg.zeros(3, 4)
    with pytest.raises(IndexError, match="getitem: index 5 is out of bounds"):
        x[5]
    with pytest.raises(IndexError, match="setitem: index 5 is out of bounds"):
        x[5] = 1.0
    with pytest.raises(IndexError, match="setitem"):
        x[:, mg.tensor([7])] = 1.0
    with pytest.raises(RuntimeError, match=r"setitem: shape mismatch: a value of shape \(3,\)"):
        x[0] = mg.ones(3)
    with pytest.raises(IndexError, match="size: dim 5 is out of range"):
        x.size(5)


# --------------------------------------------------------------- gather / scatter


@st.composite
def gather_cases(draw, index_like_src=False, allow_larger_src=False):
    """(input, dim, index, src): index no larger than input apart from dim (smaller sizes
    included), every entry in range."""
    shape = draw(shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    axis = dim % len(shape)
    index_shape = tuple(draw(st.integers(1, n)) if d != axis else draw(st.integers(1, 5))
                        for d, n in enumerate(shape))
    if index_like_src:  # scatter: index positions along dim must be distinct for replace
        index_shape = tuple(min(n, shape[axis]) if d == axis else n
                            for d, n in enumerate(index_shape))
        order = draw(st.permutations(range(shape[axis])))
        base = np.array(order[:index_shape[axis]])
        view = [1] * len(shape)
        view[axis] = index_shape[axis]
        index = np.broadcast_to(base.reshape(view), index_shape).copy()
    else:
        index = draw(arrays(index_shape, dtype=np.int64,
                            elements=st.integers(0, shape[axis] - 1)))
    # src may be larger than index (values only: PyTorch's own backward rejects that case)
    larger = draw(st.booleans()) if allow_larger_src else False
    src_shape = tuple(n + draw(st.integers(0, 1)) if larger else n for n in index_shape)
    return (draw(arrays(shape, elements=distinct, unique=True)), dim, index,
            draw(arrays(src_shape, elements=distinct)))


@settings(max_examples=25, deadline=None)
@given(gather_cases())
def test_gather_matches_torch(case):
    a, dim, index, _ = case
    compare(lambda x: x.gather(dim, mg.tensor(index)), lambda x: x.gather(
        dim, torch.tensor(index)), a)
    compare(lambda x: mg.gather(x, dim, mg.tensor(index)), lambda x: torch.gather(
        x, dim, torch.tensor(index)), a)


@given(gather_cases())
def test_gather_grad_matches_numeric(case):
    a, dim, index, _ = case
    assert_grad_matches_numeric(lambda x: x.gather(dim, mg.tensor(index)), a)


@settings(max_examples=25, deadline=None)
@given(gather_cases(index_like_src=True, allow_larger_src=True))
def test_scatter_matches_torch(case):
    a, dim, index, src = case
    grad = src.shape == index.shape
    compare(lambda x, s: x.scatter(dim, mg.tensor(index), s),
            lambda x, s: x.scatter(dim, torch.tensor(index), s), a, src, grad=grad)
    compare(lambda x: x.scatter(dim, mg.tensor(index), 1.5),
            lambda x: x.scatter(dim, torch.tensor(index), 1.5), a)
    compare(lambda x, s: (x * 1).scatter_(dim, mg.tensor(index), s),
            lambda x, s: (x * 1).scatter_(dim, torch.tensor(index), s), a, src, grad=grad)


@pytest.mark.filterwarnings("ignore:The reduce argument of torch.scatter")
@settings(max_examples=25, deadline=None)
@given(gather_cases(allow_larger_src=True), st.sampled_from(["sum", "prod", "mean", "amax",
                                                             "amin"]), st.booleans())
def test_scatter_add_and_reduce_match_torch(case, reduce, include_self):
    a, dim, index, src = case
    idx = lambda lib: lib.tensor(index)  # noqa: E731
    grad = src.shape == index.shape
    # PyTorch counts an excluded self value that equals an amax/amin result as a tie (its
    # gradients then sum to less than the incoming one); minigrad does not (numerical check)
    grad_reduce = grad and (include_self or reduce not in ("amax", "amin"))
    compare(lambda x, s: x.scatter_add(dim, idx(mg), s),
            lambda x, s: x.scatter_add(dim, idx(torch), s), a, src, grad=grad)
    compare(lambda x, s: x.scatter_reduce(dim, idx(mg), s, reduce, include_self=include_self),
            lambda x, s: x.scatter_reduce(dim, idx(torch), s, reduce,
                                          include_self=include_self), a, src, rtol=1e-5,
            grad=grad_reduce)
    compare(lambda x, s: (x * 1).scatter_reduce_(dim, idx(mg), s, reduce),
            lambda x, s: (x * 1).scatter_reduce_(dim, idx(torch), s, reduce), a, src, rtol=1e-5,
            grad=grad)
    mode = {"sum": "add", "prod": "multiply"}.get(reduce)
    if mode:
        compare(lambda x, s: x.scatter(dim, idx(mg), s, reduce=mode),
                lambda x, s: x.scatter(dim, idx(torch), s, reduce=mode), a, src, grad=False)


def test_scatter_reduce_ties_and_zeros_match_torch():
    a = np.array([3.0, 0.0, 2.0, 5.0])
    src = np.array([3.0, 1.0, 0.0, 3.0, 0.0, 4.0])
    index = torch.tensor([0, 0, 1, 0, 2, 2])
    for reduce in ("amax", "amin", "prod", "mean", "sum"):
        for include_self in (True, False):
            compare(lambda x, s: x.scatter_reduce(0, mg.tensor(index.numpy()), s, reduce,
                                                  include_self=include_self),
                    lambda x, s: x.scatter_reduce(0, index, s, reduce,
                                                  include_self=include_self), a, src,
                    grad=include_self or reduce not in ("amax", "amin"))
    # the case where PyTorch's gradient loses mass: minigrad's sums to the incoming gradient
    x = mg.tensor(a, requires_grad=True)
    s = mg.tensor(src, requires_grad=True)
    x.scatter_reduce(0, mg.tensor(index.numpy()), s, "amax", include_self=False).sum().backward()
    np.testing.assert_allclose(x.grad._data.sum() + s.grad._data.sum(), 4.0)
    ints = np.array([5, 5, 5])
    for include_self in (True, False):
        compare(lambda x, s: x.scatter_reduce(0, mg.tensor([0, 0, 1]), s, "mean",
                                              include_self=include_self),
                lambda x, s: x.scatter_reduce(0, torch.tensor([0, 0, 1]), s, "mean",
                                              include_self=include_self),
                ints, np.array([1, 2, 4]))


@given(gather_cases(), st.sampled_from(["sum", "prod", "mean", "amax", "amin"]), st.booleans(),
       st.integers(0, 2))
def test_scatter_reduce_grad_matches_numeric(case, reduce, include_self, zeros):
    a, dim, index, src = case
    if reduce == "prod":  # a polynomial: exact at zeros, one or two of them
        src = src.copy()
        src.reshape(-1)[:zeros] = 0
    assert_grad_matches_numeric(
        lambda x, s: x.scatter_reduce(dim, mg.tensor(index), s, reduce,
                                      include_self=include_self), a, src)


@given(gather_cases(index_like_src=True))
def test_scatter_grad_matches_numeric(case):
    a, dim, index, src = case
    assert_grad_matches_numeric(lambda x, s: x.scatter(dim, mg.tensor(index), s), a, src)


def test_index_validation_errors_name_op_value_and_range():
    x = mg.zeros(3, 4)
    with pytest.raises(RuntimeError, match=r"gather: index -1 is out of bounds for dimension 0 "
                                           r"with size 3; valid indices: 0 to 2"):
        mg.zeros(3).gather(0, mg.tensor([-1]))
    with pytest.raises(RuntimeError, match="gather: index 3 is out of bounds"):
        mg.zeros(3).gather(0, mg.tensor([3]))
    with pytest.raises(RuntimeError, match="gather: size does not match at dimension 0"):
        x.gather(1, mg.zeros(4, 2, dtype=mg.int64))
    with pytest.raises(RuntimeError, match="gather: expected an int64 or int32 index"):
        x.gather(1, mg.zeros(3, 2))
    with pytest.raises(RuntimeError, match="scatter: index 5 is out of bounds for dimension 1"):
        x.scatter(1, mg.full((3, 1), 5), 1.0)
    with pytest.raises(RuntimeError, match="scatter_add: index -1 is out of bounds"):
        x.scatter_add(1, mg.full((3, 1), -1), x)
    with pytest.raises(RuntimeError, match="scatter_reduce: index 4"):
        x.scatter_reduce(1, mg.full((3, 1), 4), x, "sum")
    with pytest.raises(RuntimeError, match="index_select: index -1 is out of bounds"):
        x.index_select(1, mg.tensor([-1]))
    with pytest.raises(IndexError, match="index_select: index is supposed to be a vector"):
        x.index_select(1, mg.tensor([[0]]))
    with pytest.raises(RuntimeError, match="index_add: index 5 is out of bounds"):
        x.index_add(1, mg.tensor([5]), mg.ones(3, 1))
    with pytest.raises(IndexError, match="index_copy: index 5 is out of bounds"):
        x.index_copy(1, mg.tensor([5]), mg.ones(3, 1))
    with pytest.raises(IndexError, match="index_fill: index 4 is out of bounds"):
        x.index_fill(1, mg.tensor([4]), 2.0)
    with pytest.raises(IndexError, match="take: index 12 is out of range for a tensor of 12"):
        x.take(mg.tensor([12]))
    with pytest.raises(RuntimeError, match="gather: index 5 is out of bounds"):
        x.take_along_dim(mg.full((3, 1), 5), 1)
    with pytest.raises(RuntimeError, match="scatter: expected self.dtype to be equal"):
        x.scatter(1, mg.zeros(3, 1, dtype=mg.int64), mg.ones(3, 1, dtype=mg.float64))
    with pytest.raises(IndexError, match="select: index 3 out of range"):
        x.select(0, 3)


# --------------------------------------------------------------- index_* and masks


@st.composite
def index_cases(draw, unique=False):
    shape = draw(shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    n = shape[dim % len(shape)]
    if unique:
        index = list(draw(st.permutations(range(n))))[:draw(st.integers(1, n))]
    else:
        index = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=5))
    source_shape = list(shape)
    source_shape[dim % len(shape)] = len(index)
    return (draw(arrays(shape, elements=distinct)), dim, np.array(index),
            draw(arrays(tuple(source_shape), elements=distinct)))


@settings(max_examples=25, deadline=None)
@given(index_cases())
def test_index_select_add_fill_match_torch(case):
    a, dim, index, source = case
    i = lambda lib: lib.tensor(index)  # noqa: E731
    compare(lambda x: x.index_select(dim, i(mg)), lambda x: x.index_select(dim, i(torch)), a)
    compare(lambda x, s: x.index_add(dim, i(mg), s, alpha=2.0),
            lambda x, s: x.index_add(dim, i(torch), s, alpha=2.0), a, source)
    compare(lambda x: x.index_fill(dim, i(mg), -1.5), lambda x: x.index_fill(
        dim, i(torch), -1.5), a)
    compare(lambda x, v: x.index_fill(dim, i(mg), v.sum()),
            lambda x, v: x.index_fill(dim, i(torch), v.sum()), a, np.array([0.5, 1.0]))
    compare(lambda x, s: (x * 1).index_add_(dim, i(mg), s),
            lambda x, s: (x * 1).index_add_(dim, i(torch), s), a, source)


@settings(max_examples=25, deadline=None)
@given(index_cases(unique=True))
def test_index_copy_matches_torch(case):
    a, dim, index, source = case
    compare(lambda x, s: x.index_copy(dim, mg.tensor(index), s),
            lambda x, s: x.index_copy(dim, torch.tensor(index), s), a, source)
    compare(lambda x, s: (x * 1).index_copy_(dim, mg.tensor(index), s),
            lambda x, s: (x * 1).index_copy_(dim, torch.tensor(index), s), a, source)


@given(index_cases())
def test_index_ops_grad_matches_numeric(case):
    a, dim, index, source = case
    i = mg.tensor(index)
    assert_grad_matches_numeric(lambda x: x.index_select(dim, i), a)
    assert_grad_matches_numeric(lambda x, s: x.index_add(dim, i, s, alpha=-0.5), a, source)


@settings(max_examples=25, deadline=None)
@given(shapes(min_dims=1, max_dims=3, max_side=4).flatmap(lambda s: st.tuples(
    arrays(s, elements=distinct), arrays(s, dtype=np.bool_, elements=st.booleans()))))
def test_masked_ops_match_torch(case):
    a, mask = case
    m = lambda lib: lib.tensor(mask)  # noqa: E731
    source = np.linspace(-2, 2, a.size + 1)
    compare(lambda x: x.masked_select(m(mg)), lambda x: x.masked_select(m(torch)), a)
    compare(lambda x: x.masked_fill(m(mg), 0.25), lambda x: x.masked_fill(m(torch), 0.25), a)
    compare(lambda x, v: x.masked_fill(m(mg), v.sum()),
            lambda x, v: x.masked_fill(m(torch), v.sum()), a, np.array([0.5, 2.0]))
    compare(lambda x, s: x.masked_scatter(m(mg), s),
            lambda x, s: x.masked_scatter(m(torch), s), a, source)
    compare(lambda x: (x * 1).masked_fill_(m(mg), -1.0),
            lambda x: (x * 1).masked_fill_(m(torch), -1.0), a)
    compare(lambda x, s: (x * 1).masked_scatter_(m(mg), s),
            lambda x, s: (x * 1).masked_scatter_(m(torch), s), a, source)
    compare(lambda x: x.masked_select(m(mg)[..., :1]), lambda x: x.masked_select(
        m(torch)[..., :1]), a)  # the mask broadcasts
    compare(lambda x: x.nonzero(), lambda x: x.nonzero(), mask)
    compare(lambda x: x.nonzero(as_tuple=True), lambda x: x.nonzero(as_tuple=True), mask)
    compare(lambda x: mg.argwhere(x), lambda x: torch.argwhere(x), mask)
    compare(lambda x: mg.where(x), lambda x: torch.where(x), mask)
    compare(lambda x: mg.where(m(mg), x, 2.0), lambda x: torch.where(m(torch), x, 2.0), a)
    compare(lambda x: mg.where(m(mg), -1, x), lambda x: torch.where(m(torch), -1, x), a)
    compare(lambda x: x.where(m(mg), 0.5), lambda x: x.where(m(torch), 0.5), a)


def test_mask_and_value_rules_match_torch():
    ints = np.array([[1, 2], [3, 4]])
    mask = np.array([True, False])
    compare(lambda x: x.masked_fill(mg.tensor(mask), 2.7),
            lambda x: x.masked_fill(torch.tensor(mask), 2.7), ints)
    compare(lambda x: x.masked_fill(mg.tensor(mask), True),
            lambda x: x.masked_fill(torch.tensor(mask), True), ints.astype(bool))
    with pytest.raises(RuntimeError, match="masked_fill: expected a boolean mask"):
        mg.tensor(ints).masked_fill(mg.tensor([1, 0]), 0)
    with pytest.raises(RuntimeError, match="0-dimensional value tensor"):
        mg.tensor(ints).masked_fill(mg.tensor(mask), mg.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="masked_scatter: the mask has 2 True elements"):
        mg.zeros(2).masked_scatter(mg.tensor([True, True]), mg.ones(1))
    compare(lambda x: x.nonzero(), lambda x: x.nonzero(), np.array(3.0))
    compare(lambda x: x.nonzero(as_tuple=True), lambda x: x.nonzero(as_tuple=True),
            np.array(0.0))


@given(shapes(min_dims=1, max_dims=3, max_side=4).flatmap(lambda s: st.tuples(
    arrays(s), arrays(s, dtype=np.bool_, elements=st.booleans()))))
def test_masked_ops_grad_matches_numeric(case):
    a, mask = case
    m = mg.tensor(mask)
    source = np.linspace(-2, 2, a.size)
    assert_grad_matches_numeric(lambda x: x.masked_select(m), a)
    assert_grad_matches_numeric(lambda x, s: x.masked_scatter(m, s), a, source)
    assert_grad_matches_numeric(lambda x, v: x.masked_fill(m, v.sum()), a, np.array([1.0]))


# --------------------------------------------------------------- take, put, select


@settings(max_examples=25, deadline=None)
@given(shapes(min_dims=0, max_dims=3, max_side=4).flatmap(lambda s: st.tuples(
    arrays(s, elements=distinct),
    st.lists(st.integers(-max(int(np.prod(s)), 1), max(int(np.prod(s)), 1) - 1), min_size=1,
             max_size=6))))
def test_take_and_put_match_torch(case):
    a, index = case
    idx = np.array(index).reshape(-1, 1)
    compare(lambda x: x.take(mg.tensor(idx)), lambda x: x.take(torch.tensor(idx)), a)
    src = np.linspace(-1, 1, idx.size).reshape(idx.shape)
    compare(lambda x, s: x.put(mg.tensor(idx), s, accumulate=True),
            lambda x, s: x.put(torch.tensor(idx), s, accumulate=True), a, src)
    unique = np.unique(np.where(idx < 0, idx + a.size, idx))
    compare(lambda x, s: x.clone().put_(mg.tensor(unique), s),
            lambda x, s: x.clone().put_(torch.tensor(unique), s), a,
            np.linspace(-1, 1, unique.size))


@settings(max_examples=25, deadline=None)
@given(gather_cases(), st.booleans())
def test_take_along_dim_matches_torch(case, flat):
    a, dim, index, _ = case
    if flat:
        idx = index.reshape(-1) % a.size
        compare(lambda x: x.take_along_dim(mg.tensor(idx)),
                lambda x: x.take_along_dim(torch.tensor(idx)), a)
        return
    broadcast = index[tuple(slice(0, 1) if d != dim % a.ndim else slice(None)
                            for d in range(a.ndim))]  # size 1 apart from dim: broadcasts
    compare(lambda x: mg.take_along_dim(x, mg.tensor(broadcast), dim=dim),
            lambda x: torch.take_along_dim(x, torch.tensor(broadcast), dim=dim), a)


def test_select_matches_torch():
    a = np.arange(24.0).reshape(2, 3, 4)
    for dim, index in ((0, 1), (1, -1), (-1, 2)):
        compare(lambda x: x.select(dim, index), lambda x: x.select(dim, index), a)
        compare(lambda x: mg.select(x, dim, index), lambda x: torch.select(x, dim, index), a)


# --------------------------------------------------------------- ordering


@settings(max_examples=25, deadline=None)
@given(shapes(min_dims=1, max_dims=3, max_side=5).flatmap(lambda s: st.tuples(
    arrays(s, elements=st.integers(-3, 3).map(float)), st.integers(-len(s), len(s) - 1))),
    st.booleans())
def test_sort_argsort_msort_match_torch_with_ties(case, descending):
    a, dim = case  # many ties: the order must be stable, as PyTorch's CPU sort is
    compare(lambda x: x.sort(dim, descending), lambda x: x.sort(dim, descending), a)
    compare(lambda x: x.sort(dim=dim, descending=descending, stable=True),
            lambda x: x.sort(dim=dim, descending=descending, stable=True), a)
    compare(lambda x: x.argsort(dim, descending), lambda x: x.argsort(dim, descending), a)
    compare(lambda x: mg.msort(x), lambda x: torch.msort(x), a)
    for dtype in (np.int64, np.uint8, np.bool_):
        compare(lambda x: x.sort(dim, descending), lambda x: x.sort(dim, descending),
                (a > 0) if dtype == np.bool_ else np.abs(a).astype(dtype))


@settings(max_examples=25, deadline=None)
@given(shapes(min_dims=1, max_dims=3, max_side=5).flatmap(lambda s: st.tuples(
    arrays(s, elements=distinct, unique=True), st.integers(-len(s), len(s) - 1))),
    st.booleans(), st.data())
def test_topk_matches_torch(case, largest, data):
    a, dim = case
    k = data.draw(st.integers(0, a.shape[dim]))
    compare(lambda x: x.topk(k, dim, largest), lambda x: x.topk(k, dim, largest), a)
    compare(lambda x: mg.topk(x, k, axis=dim, largest=largest, sorted=True),
            lambda x: torch.topk(x, k, axis=dim, largest=largest, sorted=True), a)
    compare(lambda x: x.topk(k, dim), lambda x: x.topk(k, dim), a.astype(np.int64) * 0 + a.argsort(
        axis=dim))


@given(shapes(min_dims=1, max_dims=3, max_side=5).flatmap(lambda s: st.tuples(
    arrays(s, elements=distinct, unique=True), st.integers(-len(s), len(s) - 1))))
def test_sort_topk_grad_matches_numeric(case):
    a, dim = case
    assert_grad_matches_numeric(lambda x: x.sort(dim, descending=True).values, a)
    assert_grad_matches_numeric(lambda x: x.topk(1, dim).values, a,
                                reference=lambda x: np.max(x, axis=dim, keepdims=True))


def test_sort_nan_and_errors_match_torch():
    a = np.array([1.0, np.nan, 2.0, 0.0, np.nan])
    compare(lambda x: x.sort(), lambda x: x.sort(), a)
    compare(lambda x: x.sort(descending=True), lambda x: x.sort(descending=True), a)
    compare(lambda x: x.topk(2), lambda x: x.topk(2), a)
    with pytest.raises(RuntimeError, match="topk: k = 6 is out of range"):
        mg.tensor(a).topk(6)
    with pytest.raises(RuntimeError, match="topk: does not support bool"):
        mg.tensor([True]).topk(1)


@settings(max_examples=25, deadline=None)
@given(shapes(min_dims=1, max_dims=3, max_side=4).flatmap(lambda s: st.tuples(
    arrays(s, dtype=np.int64, elements=st.integers(0, 2)), st.integers(-len(s), len(s) - 1))),
    st.booleans(), st.booleans())
def test_unique_and_unique_consecutive_match_torch(case, inverse, counts):
    a, dim = case
    kwargs = {"return_inverse": inverse, "return_counts": counts}
    compare(lambda x: x.unique(**kwargs), lambda x: x.unique(**kwargs), a)
    compare(lambda x: mg.unique(x, sorted=True, dim=dim, **kwargs),
            lambda x: torch.unique(x, sorted=True, dim=dim, **kwargs), a)
    compare(lambda x: x.unique_consecutive(**kwargs), lambda x: x.unique_consecutive(**kwargs),
            a)
    compare(lambda x: mg.unique_consecutive(x, dim=dim, **kwargs),
            lambda x: torch.unique_consecutive(x, dim=dim, **kwargs), a)
    compare(lambda x: x.unique(), lambda x: x.unique(), a.astype(np.float32) / 2, grad=False)
    compare(lambda x: x.unique(return_counts=True), lambda x: x.unique(return_counts=True),
            a > 0)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 3), st.integers(1, 6), st.integers(1, 4), st.booleans(), st.data())
def test_searchsorted_and_bucketize_match_torch(rows, n, m, right, data):
    boundaries = np.sort(data.draw(arrays((rows, n), elements=st.integers(-4, 4).map(float))),
                         axis=-1)
    values = data.draw(arrays((rows, m), elements=st.integers(-5, 5).map(float)))
    side = "right" if right else "left"
    for seq, vals in ((boundaries, values), (boundaries[0], values), (boundaries[0], values[0])):
        compare(lambda s, v: mg.searchsorted(s, v, right=right),
                lambda s, v: torch.searchsorted(s, v, right=right), seq, vals, grad=False)
        compare(lambda s, v: mg.searchsorted(s, v, side=side, out_int32=True),
                lambda s, v: torch.searchsorted(s, v, side=side, out_int32=True), seq, vals,
                grad=False)
    compare(lambda v, b: mg.bucketize(v, b, right=right),
            lambda v, b: torch.bucketize(v, b, right=right), values, boundaries[0], grad=False)
    shuffled = boundaries[0][::-1].copy()
    sorter = np.argsort(shuffled, kind="stable")
    compare(lambda s, v: mg.searchsorted(s, v, sorter=mg.tensor(sorter)),
            lambda s, v: torch.searchsorted(s, v, sorter=torch.tensor(sorter)), shuffled,
            values[0], grad=False)
    assert mg.searchsorted(mg.tensor(boundaries[0]), 0.5).shape == torch.searchsorted(
        torch.tensor(boundaries[0]), 0.5).shape


BAD_CALLS = [
    "x.gather(1, L([0, 1]))", "x.gather(2, L([[0]]))", "x.scatter(1, L([[0]]), L([[1, 2]]))",
    "x.scatter(1, L([[0]]), 1., reduce='max')", "x.scatter_reduce(1, L([[0]]), x, 'foo')",
    "x.index_select(2, L([0]))", "x.index_select(0, L([0.5]))", "x.index_add(0, L([0]), x)",
    "x.index_add(0, L([[0]]), x)", "x.index_copy(0, L([0, 1]), x[:1])",
    "x.index_copy(0, L([[0]]), x)", "x.index_fill(0, L([[0]]), 1.)",
    "x.masked_fill(L([True, False]), 1.)", "x.masked_select(L([1, 0, 1]))",
    "x.masked_scatter(L([True, True, True]), x[:1, :2])", "x.take(L([0.5]))",
    "x.take_along_dim(L([[0]]), 2)", "x.take_along_dim(L([0]), 1)", "x.select(2, 0)",
    "x.sort(2)", "x.topk(4)", "x.topk(-1)", "x.unique(dim=3)",
    "lib.searchsorted(L([[1., 2]]), L([1.]))", "lib.bucketize(x, L([[1.]]))", "x[5]", "x[:, 5]",
    "x[L([3])]", "x[L([0.5])]", "x.__setitem__((L([5]),), 1.)", "x.__setitem__(0, L([1., 2]))",
    "x.size(5)", "x.put(L([6]), L([1.]))", "x.put(L([0, 1]), L([1.]))",
]


@pytest.mark.parametrize("call", BAD_CALLS)
def test_bad_calls_raise_torchs_exception_type_naming_the_op(call):
    a = np.array([[1.0, 5.0, 2.0], [4.0, 0.0, 3.0]])
    with pytest.raises(Exception) as expected:
        eval(call, {"x": torch.tensor(a), "lib": torch, "L": torch.tensor})
    with pytest.raises(Exception) as got:
        eval(call, {"x": mg.tensor(a), "lib": mg, "L": mg.tensor})
    assert isinstance(got.value, expected.type), (got.type, expected.type, got.value)
    op_name = call.split("(")[0].split(".")[-1].strip("_")
    names = {"__setitem__": "setitem", "": "getitem"}
    if "[" in call.split("(")[0] or call.startswith("x["):
        op_name = "getitem"
    op_name = names.get(op_name, op_name)
    assert str(got.value).startswith(op_name) or "indices must be integer" in str(got.value)


def test_scatter_reduce_accepts_torchs_max_and_min_aliases():
    a, src = np.array([1.0, 5.0, 2.0]), np.array([9.0, -9.0])
    for alias in ("max", "min"):
        compare(lambda x, s: x.scatter_reduce(0, mg.tensor([0, 1]), s, alias),
                lambda x, s: x.scatter_reduce(0, torch.tensor([0, 1]), s, alias), a, src,
                grad=False)  # PyTorch's backward refuses its own aliases
    assert_grad_matches_numeric(
        lambda x, s: x.scatter_reduce(0, mg.tensor([0, 1]), s, "max"), a, src)


@settings(max_examples=25, deadline=None)
@given(shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), st.data())
def test_index_put_matches_torch(shape, data):
    a = np.arange(np.prod(shape), dtype=np.float64).reshape(shape) / 3
    count = data.draw(st.integers(1, len(shape)))
    length = data.draw(st.integers(1, 4))
    index = [np.array(data.draw(st.lists(st.integers(-n, n - 1), min_size=length,
                                         max_size=length))) for n in shape[:count]]
    selection = torch.tensor(a)[tuple(torch.tensor(i) for i in index)].shape
    values = np.linspace(-1, 1, int(np.prod(selection))).reshape(selection)
    mg_index = tuple(mg.tensor(i) for i in index)
    torch_index = tuple(torch.tensor(i) for i in index)
    compare(lambda x, v: x.index_put(mg_index, v, accumulate=True),
            lambda x, v: x.index_put(torch_index, v, accumulate=True), a, values)
    compare(lambda x, v: x.clone().index_put_(mg_index, v.sum(), accumulate=True),
            lambda x, v: x.clone().index_put_(torch_index, v.sum(), accumulate=True), a, values)
    first = np.unique(index[0] % shape[0], return_index=True)[1]  # distinct positions only
    unique_index = tuple(i[first] for i in index)
    compare(lambda x: mg.index_put(x, tuple(mg.tensor(i) for i in unique_index),
                                   mg.tensor(-2.0, dtype=mg.float64)),
            lambda x: torch.index_put(x, tuple(torch.tensor(i) for i in unique_index),
                                      torch.tensor(-2.0, dtype=torch.float64)), a)


@given(shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), st.data())
def test_index_put_accumulate_grad_matches_numeric(shape, data):
    a = data.draw(arrays(shape))
    index = (mg.tensor(data.draw(st.lists(st.integers(0, shape[0] - 1), min_size=1,
                                          max_size=4))),)
    selection = a[index[0]._data].shape
    values = data.draw(arrays(selection))
    assert_grad_matches_numeric(lambda x, v: x.index_put(index, v, accumulate=True), a, values)


@pytest.mark.filterwarnings("ignore:index_reduce\\(\\) is in beta")
@settings(max_examples=25, deadline=None)
@given(index_cases(), st.sampled_from(["prod", "mean", "amax", "amin"]), st.booleans())
def test_index_reduce_matches_torch(case, reduce, include_self):
    a, dim, index, source = case
    grad = include_self or reduce not in ("amax", "amin")  # PyTorch's excluded-self ties
    compare(lambda x, s: x.index_reduce(dim, mg.tensor(index), s, reduce,
                                        include_self=include_self),
            lambda x, s: x.index_reduce(dim, torch.tensor(index), s, reduce,
                                        include_self=include_self), a, source, grad=grad)
    compare(lambda x, s: x.clone().index_reduce_(dim, mg.tensor(index), s, reduce),
            lambda x, s: x.clone().index_reduce_(dim, torch.tensor(index), s, reduce), a,
            source)


@pytest.mark.parametrize("index_shape", [(2, 0), (0, 3), (0, 0)])
def test_empty_index_fits_any_input_like_torch(index_shape):
    index = np.zeros(index_shape, np.int64)
    a = np.array([[1.5]])
    compare(lambda x: x.gather(1, mg.tensor(index)), lambda x: x.gather(1, torch.tensor(index)),
            a)
    compare(lambda x, s: x.scatter_add(1, mg.tensor(index), s),
            lambda x, s: x.scatter_add(1, torch.tensor(index), s), a, np.ones(index_shape))
