"""N-d pools (max, average, adaptive, unpool, lp): against slow loop references, numerical
gradients (float64) and PyTorch."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.functional as F
from minigrad.errors import OpError
from minigrad.tensor import Tensor
from minigrad.testing import assert_grad_matches_numeric

# --------------------------------------------------------------------------- slow references


def out_length(size, kernel, stride, padding, dilation, ceil_mode):
    """PyTorch's documented pooling output size."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    out = (math.ceil if ceil_mode else math.floor)(span / stride) + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def pool_reference(x, kind, kernel, stride, padding, dilation, ceil_mode, count_include_pad=True,
                   divisor_override=None):
    """Max (value, flat index) or average over each window, one window at a time."""
    dims = x.ndim - 2
    size = x.shape[2:]
    out_size = [out_length(size[a], kernel[a], stride[a], padding[a], dilation[a], ceil_mode)
                for a in range(dims)]
    out = np.zeros(x.shape[:2] + tuple(out_size))
    index = np.zeros(out.shape, dtype=np.int64)
    for b, c in itertools.product(range(x.shape[0]), range(x.shape[1])):
        for pos in itertools.product(*(range(s) for s in out_size)):
            best, best_at, total, inside, counted = -np.inf, -1, 0.0, 0, 1
            for a in range(dims):
                start = pos[a] * stride[a] - padding[a]
                end = min(start + kernel[a], size[a] + padding[a])
                counted *= end - start
            for k in itertools.product(*(range(s) for s in kernel)):
                at = [pos[a] * stride[a] - padding[a] + k[a] * dilation[a] for a in range(dims)]
                if all(0 <= at[a] < size[a] for a in range(dims)):
                    value = x[(b, c) + tuple(at)]
                    inside += 1
                    total += value
                    if value > best:
                        best, best_at = value, int(np.ravel_multi_index(at, size))
            if kind == "max" and best_at < 0:  # only padding: PyTorch names its first start
                first = []                           # inside the input
                for a in range(dims):
                    start = pos[a] * stride[a] - padding[a]
                    while start < 0:
                        start += dilation[a]
                    first.append(start)
                best_at = sum(f * int(np.prod(size[a + 1:])) for a, f in enumerate(first))
            if kind == "max":
                out[(b, c) + pos], index[(b, c) + pos] = best, best_at
            else:
                divisor = divisor_override or (counted if count_include_pad else inside)
                out[(b, c) + pos] = total / divisor
    return (out, index) if kind == "max" else out


def adaptive_reference(x, output_size, kind):
    dims = x.ndim - 2
    out = np.zeros(x.shape[:2] + tuple(output_size))
    for pos in itertools.product(*(range(s) for s in output_size)):
        window = [slice((pos[a] * x.shape[2 + a]) // output_size[a],
                        -((-(pos[a] + 1) * x.shape[2 + a]) // output_size[a]))
                  for a in range(dims)]
        block = x[(slice(None), slice(None)) + tuple(window)].reshape(*x.shape[:2], -1)
        out[(slice(None), slice(None)) + pos] = block.max(-1) if kind == "max" else block.mean(-1)
    return out


# --------------------------------------------------------------------------- strategies


@st.composite
def pool_cases(draw, dims, max_pool):
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(dims)) if max_pool else (1,) * dims
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    ceil_mode = draw(st.booleans())
    lowest = [max(1, d * (k - 1) + 1 - 2 * p) for k, d, p in zip(kernel, dilation, padding)]
    size = tuple(draw(st.integers(low, max(low, 5 if dims < 3 else 4))) for low in lowest)
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    # distinct values, so that every window has one maximum and the gradient is smooth
    x = rng.permutation(np.prod((2, 2) + size)).reshape((2, 2) + size) * 0.1
    return x, kernel, stride, padding, dilation, ceil_mode


@settings(max_examples=15)
@given(st.sampled_from([1, 2, 3]).flatmap(lambda d: pool_cases(d, max_pool=True)))
def test_max_poolnd_matches_reference_indices_and_numeric_gradients(case):
    x, kernel, stride, padding, dilation, ceil_mode = case
    op = (F.max_pool1d, F.max_pool2d, F.max_pool3d)[x.ndim - 3]
    expected, expected_index = pool_reference(x, "max", kernel, stride, padding, dilation,
                                              ceil_mode)
    out, index = op(Tensor(x), kernel, stride, padding, dilation, ceil_mode, True)
    np.testing.assert_array_equal(index.numpy(), expected_index)
    assert index.dtype == mg.int64
    if np.isinf(expected).any():  # a window of padding only: -inf, and no gradient from it
        np.testing.assert_array_equal(out.numpy(), expected)
        return
    assert_grad_matches_numeric(lambda t: op(t, kernel, stride, padding, dilation, ceil_mode),
                                x, reference=lambda a: expected)


@settings(max_examples=15)
@given(st.sampled_from([1, 2, 3]).flatmap(lambda d: pool_cases(d, max_pool=False)),
       st.booleans(), st.sampled_from([None, 3]))
def test_avg_poolnd_matches_reference_and_numeric_gradients(case, count_include_pad, divisor):
    x, kernel, stride, padding, _, ceil_mode = case
    dims = x.ndim - 2
    op = (F.avg_pool1d, F.avg_pool2d, F.avg_pool3d)[dims - 1]
    extra = () if dims == 1 else (divisor,)
    divisor = None if dims == 1 else divisor
    expected = pool_reference(x, "avg", kernel, stride, padding, (1,) * dims, ceil_mode,
                              count_include_pad, divisor)
    assert_grad_matches_numeric(
        lambda t: op(t, kernel, stride, padding, ceil_mode, count_include_pad, *extra), x,
        reference=lambda a: expected)


@settings(max_examples=15)
@given(st.sampled_from([1, 2, 3]).flatmap(
    lambda d: st.tuples(st.lists(st.integers(1, 5), min_size=d, max_size=d),
                        st.lists(st.integers(1, 4), min_size=d, max_size=d))),
       st.integers(0, 2**31))
def test_adaptive_pools_match_reference_and_numeric_gradients(sizes, seed):
    size, output_size = sizes
    dims = len(size)
    rng = np.random.default_rng(seed)
    x = rng.permutation(np.prod([1, 2, *size])).reshape(1, 2, *size) * 0.1
    max_op = (F.adaptive_max_pool1d, F.adaptive_max_pool2d, F.adaptive_max_pool3d)[dims - 1]
    avg_op = (F.adaptive_avg_pool1d, F.adaptive_avg_pool2d, F.adaptive_avg_pool3d)[dims - 1]
    assert_grad_matches_numeric(lambda t: max_op(t, output_size), x,
                                reference=lambda a: adaptive_reference(a, output_size, "max"))
    assert_grad_matches_numeric(lambda t: avg_op(t, output_size), x,
                                reference=lambda a: adaptive_reference(a, output_size, "avg"))


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_max_unpool_places_values_at_indices_and_gathers_the_gradient(dims):
    rng = np.random.default_rng(4)
    x = rng.permutation(2 * 2 * 4**dims).reshape((2, 2) + (4,) * dims) * 1.0
    pool = (F.max_pool1d, F.max_pool2d, F.max_pool3d)[dims - 1]
    unpool = (F.max_unpool1d, F.max_unpool2d, F.max_unpool3d)[dims - 1]
    values, indices = pool(Tensor(x), 2, return_indices=True)
    restored = unpool(values, indices, 2).numpy().reshape(2, 2, -1)
    flat = indices.numpy().reshape(2, 2, -1)
    expected = np.zeros_like(restored)
    for b, c in itertools.product(range(2), range(2)):
        expected[b, c, flat[b, c]] = values.numpy().reshape(2, 2, -1)[b, c]
    np.testing.assert_array_equal(restored, expected)
    np.testing.assert_array_equal(np.take_along_axis(x.reshape(2, 2, -1), flat, -1),
                                  values.numpy().reshape(2, 2, -1))
    assert_grad_matches_numeric(lambda v: unpool(v, indices, 2), values.numpy())


def test_lp_pool_matches_its_definition():
    rng = np.random.default_rng(5)
    x = np.abs(rng.standard_normal((1, 2, 6, 5))) + 0.1
    expected = np.zeros((1, 2, 3, 2))
    for i, j in itertools.product(range(3), range(2)):
        window = x[:, :, 2 * i:2 * i + 2, 2 * j:2 * j + 2]
        expected[:, :, i, j] = (window**3).sum(axis=(2, 3)) ** (1 / 3)
    assert_grad_matches_numeric(lambda t: F.lp_pool2d(t, 3, 2), x, reference=lambda a: expected)
    out = F.lp_pool1d(Tensor(x[:, :, 0]), 2, 3, stride=1)
    np.testing.assert_allclose(out.numpy(), np.sqrt(
        np.stack([(x[:, :, 0, i:i + 3] ** 2).sum(-1) for i in range(3)], -1)))


@pytest.mark.parametrize("op, dims", [
    (F.max_pool1d, 1), (F.max_pool2d, 2), (F.max_pool3d, 3),
    (F.avg_pool1d, 1), (F.avg_pool2d, 2), (F.avg_pool3d, 3)])
def test_pools_take_empty_and_unbatched_inputs(op, dims):
    empty = Tensor(np.zeros((0, 2) + (4,) * dims), requires_grad=True)
    out = op(empty, 2)
    assert out.shape == (0, 2) + (2,) * dims
    out.sum().backward()
    assert empty.grad.shape == empty.shape
    x = np.random.default_rng(6).standard_normal((2,) + (4,) * dims)
    np.testing.assert_allclose(op(Tensor(x), 2).numpy(), op(Tensor(x[None]), 2).numpy()[0])


@pytest.mark.parametrize("op", [F.max_pool1d, F.max_pool2d, F.max_pool3d, F.avg_pool1d,
                                F.avg_pool2d, F.avg_pool3d])
def test_pools_reject_bad_arguments_naming_op_and_argument(op):
    dims = int(op.__name__[-2])
    x = Tensor(np.zeros((1, 2) + (4,) * dims))
    with pytest.raises(OpError, match=rf"{op.__name__}: kernel_size must be positive"):
        op(x, 0)
    with pytest.raises(TypeError, match=rf"{op.__name__}: kernel_size must be an int"):
        op(x, 2.5)
    with pytest.raises(OpError, match=rf"{op.__name__}: stride must be positive"):
        op(x, 2, 0)
    with pytest.raises(OpError, match=rf"{op.__name__}: padding must be non-negative"):
        op(x, 2, 1, -1)
    with pytest.raises(OpError, match=r"pad should be at most half"):
        op(x, 2, 1, 2)
    with pytest.raises(OpError, match=rf"Expected {dims + 1}D \(unbatched\) or {dims + 2}D"):
        op(Tensor(np.zeros((1,) * (dims + 3))), 2)
    with pytest.raises(OpError, match=r"Output size is too small"):
        op(Tensor(np.zeros((1, 2) + (1,) * dims)), 3, 1, 0)


def test_unpool_and_adaptive_errors():
    x = Tensor(np.zeros((1, 2, 3, 3)))
    with pytest.raises(OpError, match=r"Found an invalid max index: 40"):
        F.max_unpool2d(x, Tensor(np.full((1, 2, 3, 3), 40)), 2)
    with pytest.raises(OpError, match=r"shape of indices to be same"):
        F.max_unpool2d(x, Tensor(np.zeros((1, 2, 3), np.int64)), 2)
    with pytest.raises(OpError, match=r"adaptive_avg_pool3d: output_size must be 3"):
        F.adaptive_avg_pool3d(Tensor(np.zeros((1, 1, 2, 2, 2))), (1, 2))
    with pytest.raises(OpError, match=r"divisor must be not zero"):
        F.avg_pool2d(x, 2, divisor_override=0)


# --------------------------------------------------------------------------- PyTorch


CASES = [
    ("max_pool1d", (2, 3, 9), dict(kernel_size=3, stride=2, padding=1, dilation=2,
                                   ceil_mode=True, return_indices=True)),
    ("max_pool1d", (3, 9), dict(kernel_size=2, padding=1, dilation=3, ceil_mode=True)),
    ("max_pool2d", (2, 3, 7, 6), dict(kernel_size=3, stride=2, padding=1, dilation=2,
                                      return_indices=True)),
    ("max_pool3d", (2, 3, 5, 6, 7), dict(kernel_size=(2, 3, 2), stride=(1, 2, 2),
                                         padding=(1, 1, 0), dilation=(2, 1, 1),
                                         ceil_mode=True, return_indices=True)),
    ("max_pool3d", (1, 2, 1, 1, 2), dict(kernel_size=(1, 1, 2), stride=1, padding=(0, 0, 1),
                                         dilation=(1, 1, 2), return_indices=True)),
    ("avg_pool1d", (2, 3, 9), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                                   count_include_pad=False)),
    ("avg_pool2d", (2, 3, 7, 6), dict(kernel_size=(3, 2), stride=(2, 3), padding=1,
                                      ceil_mode=True, divisor_override=5)),
    ("avg_pool3d", (2, 3, 5, 6, 7), dict(kernel_size=(2, 3, 2), stride=(1, 2, 3),
                                         padding=(1, 1, 0), ceil_mode=True,
                                         count_include_pad=False)),
    ("avg_pool3d", (3, 5, 6, 7), dict(kernel_size=2, divisor_override=3)),
    ("adaptive_max_pool1d", (2, 3, 9), dict(output_size=4, return_indices=True)),
    ("adaptive_max_pool2d", (2, 3, 7, 6), dict(output_size=(4, None), return_indices=True)),
    ("adaptive_max_pool3d", (2, 3, 5, 6, 7), dict(output_size=(3, 4, 5))),
    ("adaptive_avg_pool1d", (3, 9), dict(output_size=4)),
    ("adaptive_avg_pool2d", (2, 3, 7, 6), dict(output_size=(3, 4))),
    ("adaptive_avg_pool3d", (2, 3, 5, 6, 7), dict(output_size=(3, None, 5))),
    ("lp_pool1d", (2, 3, 9), dict(norm_type=2, kernel_size=3, stride=2)),
    ("lp_pool2d", (2, 3, 7, 6), dict(norm_type=3, kernel_size=(2, 3), ceil_mode=True)),
    ("lp_pool3d", (2, 3, 5, 6, 7), dict(norm_type=1.5, kernel_size=2)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, shape, kwargs", CASES)
def test_pools_match_torch_values_indices_gradients_and_dtypes(name, shape, kwargs, dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    x = rng.standard_normal(shape).astype(dtype)
    if name.startswith("lp"):
        x = np.abs(x) + 0.1
    ours = Tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    out = getattr(F, name)(ours, **kwargs)
    expected = getattr(torch.nn.functional, name)(theirs, **kwargs)
    if kwargs.get("return_indices"):
        np.testing.assert_array_equal(out[1].numpy(), expected[1].numpy())
        assert out[1].dtype == mg.int64
        out, expected = out[0], expected[0]
    assert out.shape == tuple(expected.shape)
    assert str(out.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=tol,
                               atol=tol)
    g = rng.standard_normal(out.shape).astype(dtype)
    (out * Tensor(g)).sum().backward()
    (expected * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_max_unpool_matches_torch(dims):
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    x = torch.tensor(np.random.default_rng(8).standard_normal((2, 3) + (5,) * dims))
    pool, unpool = getattr(tf, f"max_pool{dims}d"), getattr(tf, f"max_unpool{dims}d")
    values, indices = pool(x, 3, 2, 1, return_indices=True)
    for size in (None, (6,) * dims, (2, 3) + (6,) * dims):
        expected = unpool(values, indices, 3, 2, 1, output_size=size)
        ours = getattr(F, f"max_unpool{dims}d")(Tensor(values.numpy()), Tensor(indices.numpy()),
                                                3, 2, 1, output_size=size)
        np.testing.assert_array_equal(ours.numpy(), expected.numpy())


def test_with_indices_spellings_always_return_values_and_indices():
    x = Tensor(np.random.default_rng(18).standard_normal((1, 2, 4, 4, 4)))
    for dims in (1, 2, 3):
        data = x[(0,) * (3 - dims)] if dims < 3 else x
        values, indices = getattr(F, f"max_pool{dims}d_with_indices")(data, 2)
        expected = getattr(F, f"max_pool{dims}d")(data, 2, return_indices=True)
        np.testing.assert_array_equal(indices.numpy(), expected[1].numpy())
        values, indices = getattr(F, f"adaptive_max_pool{dims}d_with_indices")(data, 3)
        np.testing.assert_array_equal(values.numpy(),
                                      getattr(F, f"adaptive_max_pool{dims}d")(data, 3).numpy())
    values, indices = mg.max_pool1d_with_indices(x[0, 0, 0], 2)
    assert indices.dtype == mg.int64


# --------------------------------------------------------------------------- fractional


def fractional_reference(x, kernel, output_size, samples):
    """PyTorch's documented pseudo-random intervals, one window at a time (float64 input)."""
    dims = x.ndim - 2
    order = [1, 0] if dims == 2 else list(range(dims))
    out = np.zeros(x.shape[:2] + tuple(output_size))
    for b, c in itertools.product(range(x.shape[0]), range(x.shape[1])):
        starts = []
        for axis in range(dims):
            size, k, o = x.shape[2 + axis], kernel[axis], output_size[axis]
            u = samples[b, c, order[axis]]
            alpha = (size - k) / (o - 1) if o > 1 else 0.0
            starts.append([int((i + u) * alpha) - int(u * alpha) for i in range(o - 1)]
                          + [size - k])
        for pos in itertools.product(*(range(o) for o in output_size)):
            window = tuple(slice(starts[a][pos[a]], starts[a][pos[a]] + kernel[a])
                           for a in range(dims))
            out[(b, c) + pos] = x[(b, c) + window].max()
    return out


@settings(max_examples=10)
@given(st.sampled_from([2, 3]), st.integers(0, 2**31))
def test_fractional_max_pool_matches_reference_and_numeric_gradients(dims, seed):
    rng = np.random.default_rng(seed)
    size = tuple(int(s) for s in rng.integers(3, 6, dims))
    kernel = tuple(int(k) for k in rng.integers(1, 3, dims))
    out = tuple(int(rng.integers(1, s - k + (2 if dims == 2 else 1))) for s, k in
                zip(size, kernel))
    x = rng.permutation(np.prod((1, 2) + size)).reshape((1, 2) + size) * 0.1
    samples = rng.random((1, 2, dims))
    op = F.fractional_max_pool2d if dims == 2 else F.fractional_max_pool3d
    expected = fractional_reference(x, kernel, out, samples)
    assert_grad_matches_numeric(lambda t: op(t, kernel, out, _random_samples=Tensor(samples)),
                                x, reference=lambda a: expected)


@pytest.mark.parametrize("dims", [2, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fractional_max_pool_matches_torch(dims, dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(21)
    x = rng.standard_normal((2, 3) + (7,) * dims).astype(dtype)
    samples = rng.random((2, 3, dims)).astype(dtype)
    name = f"fractional_max_pool{dims}d"
    for kwargs in (dict(output_size=(4,) * dims), dict(output_ratio=(0.5,) * dims)):
        ours = Tensor(x, requires_grad=True)
        theirs = torch.tensor(x, requires_grad=True)
        out, index = getattr(F, name)(ours, 2, return_indices=True,
                                      _random_samples=Tensor(samples), **kwargs)
        expected, their_index = getattr(torch.nn.functional, name)(
            theirs, 2, return_indices=True, _random_samples=torch.tensor(samples), **kwargs)
        np.testing.assert_array_equal(out.detach().numpy(), expected.detach().numpy())
        np.testing.assert_array_equal(index.numpy(), their_index.numpy())
        out.sum().backward()
        expected.sum().backward()
        np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())
    with pytest.raises(OpError, match="too large relative to input"):
        getattr(F, name)(Tensor(x), 3, (6,) * dims)
    drawn = getattr(F, name)(Tensor(x), 2, (3,) * dims)
    assert drawn.shape == (2, 3) + (3,) * dims
