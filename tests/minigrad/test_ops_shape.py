"""Shape primitives: reshape, permute, expand, getitem, setitem, cat, pad, cast, clone."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from minigrad.testing import arrays, assert_grad_matches_numeric, broadcastable_shapes, shapes

SMALL = {"max_dims": 3, "max_side": 4}


def one_array(min_dims: int = 0) -> st.SearchStrategy:
    return shapes(min_dims=min_dims, **SMALL).flatmap(arrays)


@given(one_array(), st.data())
def test_reshape_grad_matches_numeric(a, data):
    order = data.draw(st.permutations(a.shape)) if a.ndim else []
    new_shape = tuple(order) + (1,) if data.draw(st.booleans()) else (-1,)
    assert_grad_matches_numeric(lambda x: x.reshape(new_shape), a,
                                reference=lambda x: x.reshape(new_shape))


@given(one_array(), st.data())
def test_permute_grad_matches_numeric(a, data):
    dims = tuple(data.draw(st.permutations(range(a.ndim))))
    assert_grad_matches_numeric(lambda x: x.permute(*dims), a,
                                reference=lambda x: x.transpose(dims))


@given(broadcastable_shapes(2, **SMALL), st.data())
def test_expand_grad_matches_numeric(pair, data):
    source, other = pair
    target = np.broadcast_shapes(source, other)
    a = data.draw(arrays(source))
    assert_grad_matches_numeric(lambda x: x.expand(*target), a,
                                reference=lambda x: np.broadcast_to(x, target))


@given(shapes(**SMALL).flatmap(lambda s: st.tuples(
    arrays(s), hnp.basic_indices(s, min_dims=0, allow_newaxis=True, allow_ellipsis=True))))
def test_getitem_basic_grad_matches_numeric(case):
    a, index = case
    assert_grad_matches_numeric(lambda x: x[index], a, reference=lambda x: x[index])


@given(shapes(min_dims=1, **SMALL).flatmap(
    lambda s: st.tuples(arrays(s), hnp.integer_array_indices(s, result_shape=shapes(max_dims=2)))))
def test_getitem_integer_arrays_with_repeats_grad_matches_numeric(case):
    a, index = case
    tensor_index = tuple(mg.tensor(i.astype(np.int64)) for i in index)
    assert_grad_matches_numeric(lambda x: x[tensor_index], a, reference=lambda x: x[index])


@given(shapes(min_dims=1, **SMALL).flatmap(
    lambda s: st.tuples(arrays(s), arrays(s, dtype=np.bool_))))
def test_getitem_boolean_mask_grad_matches_numeric(case):
    a, mask = case
    assert_grad_matches_numeric(lambda x: x[mg.tensor(mask)], a, reference=lambda x: x[mask])


def test_getitem_repeated_indices_accumulate():
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad.detach().numpy(), [[3.0, 3.0], [0.0, 0.0], [1.0, 1.0]])
    x.grad = None
    x[mg.tensor([1, 1]), mg.tensor([0, 0])].sum().backward()
    np.testing.assert_array_equal(x.grad.detach().numpy(), [[0.0, 0.0], [2.0, 0.0], [0.0, 0.0]])


def test_getitem_mixed_slice_ellipsis_none():
    a = np.arange(24.0).reshape(2, 3, 4)
    x = mg.tensor(a)
    for index in [(..., 1), (None, 0, slice(None, None, 2)), (1, ..., None), (slice(1, None), -1)]:
        np.testing.assert_array_equal(x[index].detach().numpy(), a[index])


def test_getitem_errors_name_the_shape():
    with pytest.raises(IndexError, match=r"getitem: .*\(2, 3\)"):
        mg.ones(2, 3)[5]
    with pytest.raises(IndexError, match="integer or bool"):
        mg.ones(2, 3)[mg.tensor([0.5])]


@given(shapes(min_dims=1, **SMALL).flatmap(lambda s: st.tuples(
    arrays(s), hnp.basic_indices(s, min_dims=0, allow_ellipsis=True), st.booleans())))
def test_setitem_grad_matches_numeric(case):
    a, index, broadcast_value = case
    target_shape = a[index].shape
    value_shape = (1,) * min(len(target_shape), 1) if broadcast_value else target_shape
    value = np.linspace(-1.0, 1.0, int(np.prod(value_shape))).reshape(value_shape)

    def fn(x, v):
        y = x * 1.0
        y[index] = v
        return y

    def reference(x, v):
        y = x.copy()
        y[index] = v
        return y

    assert_grad_matches_numeric(fn, a, value, reference=reference)


def test_setitem_boolean_mask_grad():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    v = mg.tensor([7.0], requires_grad=True)
    y = x * 2.0
    y[mg.tensor([True, False, True])] = v
    (y * mg.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(y.detach().numpy(), [7.0, 4.0, 7.0])
    np.testing.assert_array_equal(x.grad.detach().numpy(), [0.0, 4.0, 0.0])
    np.testing.assert_array_equal(v.grad.detach().numpy(), [4.0])


@given(shapes(min_dims=1, **SMALL), st.data())
def test_cat_grad_matches_numeric(shape, data):
    axis = data.draw(st.integers(0, len(shape) - 1))
    parts = []
    for _ in range(data.draw(st.integers(1, 3))):
        part_shape = list(shape)
        part_shape[axis] = data.draw(st.integers(1, 3))
        parts.append(data.draw(arrays(tuple(part_shape))))
    assert_grad_matches_numeric(lambda *xs: mg.cat(list(xs), dim=axis), *parts,
                                reference=lambda *xs: np.concatenate(xs, axis=axis))


def test_cat_mismatched_shapes_names_shapes():
    with pytest.raises(ValueError, match=r"cat: tensor 1 has shape \(2, 3\).*\(3, 4\)"):
        mg.cat([mg.ones(3, 4), mg.ones(2, 3)])


@given(one_array(min_dims=1), st.data())
def test_pad_grad_matches_numeric(a, data):
    widths = data.draw(st.lists(st.integers(0, 2), min_size=0, max_size=2 * a.ndim)
                       .filter(lambda w: len(w) % 2 == 0))
    value = data.draw(st.sampled_from([0.0, -1.5]))
    np_widths = [(0, 0)] * a.ndim
    for i in range(len(widths) // 2):
        np_widths[a.ndim - 1 - i] = (widths[2 * i], widths[2 * i + 1])
    assert_grad_matches_numeric(
        lambda x: mg.pad(x, widths, value=value), a,
        reference=lambda x: np.pad(x, np_widths, constant_values=value),
    )


def test_pad_errors():
    with pytest.raises(ValueError, match="pad: "):
        mg.pad(mg.ones(2), (1,))
    with pytest.raises(ValueError, match="negative"):
        mg.pad(mg.ones(2), (-3, 0))


@given(one_array())
def test_cast_grad_matches_numeric_at_float32_precision(a):
    assert_grad_matches_numeric(lambda x: (x.float() * 2.0).double(), a, eps=1e-2, atol=1e-3,
                                rtol=1e-2)


def test_cast_gradient_comes_back_in_the_input_dtype():
    x = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True)
    y = x.float()
    assert y.dtype == np.float32 and y.requires_grad
    (y * 3.0).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad.detach().numpy(), [3.0, 3.0])


@given(one_array())
def test_clone_grad_matches_numeric_and_copies(a):
    assert_grad_matches_numeric(lambda x: x.clone() * 1.0, a, reference=lambda x: x)
    t = mg.tensor(a)
    assert not np.shares_memory(t.clone().detach().numpy(), t.detach().numpy()) or a.size == 0


# ---------------------------------------------------------------------- composite shape ops


@given(one_array(min_dims=1), st.data())
def test_split_chunk_stack_roundtrip_grad(a, data):
    dim = data.draw(st.integers(-a.ndim, a.ndim - 1))
    size = data.draw(st.integers(1, 4))
    weights = [np.float64(i + 1) for i in range(a.shape[dim] + 1)]

    def fn(x):
        pieces = x.split(size, dim)
        return mg.cat([p * w for p, w in zip(pieces, weights, strict=False)], dim)

    def reference(x):
        axis = dim % x.ndim
        pieces = np.split(x, range(size, x.shape[axis], size), axis=axis)
        return np.concatenate([p * w for p, w in zip(pieces, weights, strict=False)], axis=axis)

    assert_grad_matches_numeric(fn, a, reference=reference)
    chunks = mg.tensor(a).chunk(size, dim)
    assert sum(c.shape[dim] for c in chunks) == a.shape[dim]
    assert len(chunks) <= size


def test_split_sections_and_stack():
    x = mg.arange(10.0)
    parts = x.split([3, 7])
    assert [p.shape for p in parts] == [(3,), (7,)]
    with pytest.raises(ValueError, match="split: .*sum exactly to 10.*split_sizes=\\[3, 6\\]"):
        x.split([3, 6])
    s = mg.stack([mg.ones(2, 3), mg.zeros(2, 3)], dim=1)
    assert s.shape == (2, 2, 3)
    np.testing.assert_array_equal(s.detach().numpy()[:, 0], np.ones((2, 3)))
    with pytest.raises(ValueError, match="stack: "):
        mg.stack([mg.ones(2), mg.ones(3)])


@given(one_array(), st.data())
def test_flatten_squeeze_unsqueeze_transpose_grad(a, data):
    dim = data.draw(st.integers(-a.ndim - 1, a.ndim))

    def fn(x):
        y = x.unsqueeze(dim).flatten().unsqueeze(0).T.squeeze()
        return y * mg.arange(float(y.numel()), dtype=mg.float64).reshape(y.shape)

    def reference(x):
        y = x.reshape(-1)
        return y * np.arange(float(y.size)).reshape(y.shape)

    assert_grad_matches_numeric(fn, a, reference=reference)


@given(shapes(min_dims=2, **SMALL).flatmap(arrays), st.data())
def test_transpose_mT_and_flip_grad(a, data):
    d0, d1 = data.draw(st.integers(0, a.ndim - 1)), data.draw(st.integers(-a.ndim, -1))
    flip_dims = tuple(data.draw(st.lists(st.integers(0, a.ndim - 1), unique=True)))
    w = np.arange(a.size, dtype=np.float64).reshape(a.shape)
    assert_grad_matches_numeric(
        lambda x: (x * mg.tensor(w)).transpose(d0, d1).mT.flip(flip_dims), a,
        reference=lambda x: np.flip(np.swapaxes(np.swapaxes(x * w, d0, d1), -1, -2), flip_dims),
    )


@given(one_array(), st.data())
def test_repeat_grad_matches_numeric(a, data):
    reps = tuple(data.draw(st.lists(st.integers(1, 3), min_size=a.ndim, max_size=a.ndim + 1)))
    assert_grad_matches_numeric(lambda x: x.repeat(reps), a,
                                reference=lambda x: np.tile(x, reps))


def test_squeeze_dim_and_unsqueeze_errors():
    x = mg.ones(1, 3, 1)
    assert x.squeeze(0).shape == (3, 1)
    assert x.squeeze(1).shape == (1, 3, 1)
    assert x.squeeze().shape == (3,)
    with pytest.raises(IndexError, match="unsqueeze"):
        x.unsqueeze(5)


def test_reshape_invalid_names_shapes():
    with pytest.raises(RuntimeError, match=r"reshape: shape \(5,\) is invalid .*\(3, 4\)"):
        mg.ones(3, 4).reshape(5)
    with pytest.raises(RuntimeError, match="reshape: only one dimension can be inferred"):
        mg.ones(3, 4).reshape(-1, -1)
    assert mg.ones(3, 4).view(-1, 2).shape == (6, 2)


def test_expand_and_permute_errors():
    with pytest.raises(ValueError, match=r"expand: .*\[4, 3\].*\[2, 3\]"):
        mg.ones(2, 3).expand(4, 3)
    with pytest.raises(ValueError, match="permute: "):
        mg.ones(2, 3).permute(0, 0)
    assert mg.ones(3, 1).expand(-1, 4).shape == (3, 4)


def test_views_share_memory_and_version():
    x = mg.zeros(2, 3)
    v = x[0]
    with mg.no_grad():
        v.add_(1.0)
    np.testing.assert_array_equal(x.detach().numpy()[0], [1.0, 1.0, 1.0])
    assert x._version.value == v._version.value == 1
