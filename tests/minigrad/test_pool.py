"""max_pool2d, avg_pool2d, adaptive_avg_pool2d: loop references, ties, exact cases, gradients."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minigrad.ops.conv import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from minigrad.tensor import Tensor
from minigrad.testing import assert_grad_matches_numeric

# --------------------------------------------------------------------------- slow references


def pool_out_size(size, kernel, stride, padding, dilation, ceil_mode):
    """PyTorch's documented formula; in ceil mode the last window must start inside."""
    span = (size + 2 * padding - dilation * (kernel - 1) - 1) / stride
    out = (math.ceil(span) if ceil_mode else math.floor(span)) + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def max_pool_reference(x, kernel, stride, padding, dilation, ceil_mode):
    """Values, flat indices of the first maximum, and the gradient of sum(out * g) ignoring g."""
    n, c, h, w = x.shape
    oh = pool_out_size(h, kernel[0], stride[0], padding[0], dilation[0], ceil_mode)
    ow = pool_out_size(w, kernel[1], stride[1], padding[1], dilation[1], ceil_mode)
    out = np.full((n, c, oh, ow), -np.inf)
    index = np.zeros((n, c, oh, ow), dtype=np.int64)
    for b in range(n):
        for ch in range(c):
            for i in range(oh):
                for j in range(ow):
                    for u in range(kernel[0]):
                        for v in range(kernel[1]):
                            row = i * stride[0] - padding[0] + u * dilation[0]
                            col = j * stride[1] - padding[1] + v * dilation[1]
                            if 0 <= row < h and 0 <= col < w and x[b, ch, row, col] > out[
                                    b, ch, i, j]:
                                out[b, ch, i, j] = x[b, ch, row, col]
                                index[b, ch, i, j] = row * w + col
    return out, index


def avg_pool_reference(x, kernel, stride, padding, ceil_mode, count_include_pad):
    n, c, h, w = x.shape
    oh = pool_out_size(h, kernel[0], stride[0], padding[0], 1, ceil_mode)
    ow = pool_out_size(w, kernel[1], stride[1], padding[1], 1, ceil_mode)
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            top, left = i * stride[0] - padding[0], j * stride[1] - padding[1]
            # a window is clipped to the padded input, then to the input itself
            bottom = min(top + kernel[0], h + padding[0])
            right = min(left + kernel[1], w + padding[1])
            padded_count = (bottom - top) * (right - left)
            top, left, bottom, right = max(top, 0), max(left, 0), min(bottom, h), min(right, w)
            total = x[:, :, top:bottom, left:right].sum(axis=(2, 3))
            count = padded_count if count_include_pad else (bottom - top) * (right - left)
            out[:, :, i, j] = total / count
    return out


def adaptive_reference(x, out_size):
    n, c, h, w = x.shape
    out = np.zeros((n, c, *out_size))
    for i in range(out_size[0]):
        for j in range(out_size[1]):
            rows = slice(i * h // out_size[0], -(-(i + 1) * h // out_size[0]))
            cols = slice(j * w // out_size[1], -(-(j + 1) * w // out_size[1]))
            out[:, :, i, j] = x[:, :, rows, cols].mean(axis=(2, 3))
    return out


# --------------------------------------------------------------------------- strategies


@st.composite
def pool_configs(draw, dilation=True, max_side=7):
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dil = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if dilation else (1, 1)
    padding = (draw(st.integers(0, kernel[0] // 2)), draw(st.integers(0, kernel[1] // 2)))
    size = []
    for axis in range(2):
        # every window must reach the input: keep the input at least as big as the window
        smallest = dil[axis] * (kernel[axis] - 1) + 1
        size.append(draw(st.integers(smallest, max(smallest, max_side))))
    return {
        "n": draw(st.integers(1, 2)), "c": draw(st.integers(1, 2)), "size": tuple(size),
        "kernel": kernel, "stride": stride, "padding": padding, "dilation": dil,
        "ceil_mode": draw(st.booleans()), "count_include_pad": draw(st.booleans()),
        "seed": draw(st.integers(0, 2**32 - 1)),
    }


def distinct_values(shape, seed):
    """Values at least 0.1 apart: no ties, and no maximum changes under a 1e-6 nudge."""
    rng = np.random.default_rng(seed)
    return (rng.permutation(math.prod(shape)) * 0.1 - 1.0).reshape(shape)


def run_max(cfg, x, **kwargs):
    return max_pool2d(x, cfg["kernel"], cfg["stride"], cfg["padding"], cfg["dilation"],
                      cfg["ceil_mode"], **kwargs)


def run_avg(cfg, x):
    return avg_pool2d(x, cfg["kernel"], cfg["stride"], cfg["padding"], cfg["ceil_mode"],
                      cfg["count_include_pad"])


# --------------------------------------------------------------------------- max pool


@given(pool_configs())
def test_max_pool2d_matches_loop_reference_with_ties(cfg):
    rng = np.random.default_rng(cfg["seed"])
    x = rng.integers(-2, 3, (cfg["n"], cfg["c"], *cfg["size"])).astype(np.float64)
    out, index = run_max(cfg, Tensor(x), return_indices=True)
    expected, expected_index = max_pool_reference(x, cfg["kernel"], cfg["stride"],
                                                  cfg["padding"], cfg["dilation"],
                                                  cfg["ceil_mode"])
    np.testing.assert_array_equal(out._data, expected)
    np.testing.assert_array_equal(index._data, expected_index)
    assert index.dtype == np.int64


@given(pool_configs())
def test_max_pool2d_ties_send_each_window_gradient_to_its_first_maximum(cfg):
    rng = np.random.default_rng(cfg["seed"])
    x = Tensor(rng.integers(-1, 2, (cfg["n"], cfg["c"], *cfg["size"])).astype(np.float64),
               requires_grad=True)
    out = run_max(cfg, x)
    grad = rng.standard_normal(out.shape)
    out.backward(grad)
    _, index = max_pool_reference(x._data, cfg["kernel"], cfg["stride"], cfg["padding"],
                                  cfg["dilation"], cfg["ceil_mode"])
    expected = np.zeros(x.shape).reshape(cfg["n"], cfg["c"], -1)
    for b in range(cfg["n"]):
        for ch in range(cfg["c"]):
            np.add.at(expected[b, ch], index[b, ch].ravel(), grad[b, ch].ravel())
    np.testing.assert_allclose(x.grad._data, expected.reshape(x.shape), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(x.grad._data.sum(), grad.sum(), rtol=1e-9, atol=1e-9)


def test_max_pool2d_all_zero_borders_give_one_gradient_per_window():
    # an MNIST-like image: zeros everywhere but a bright centre, so most windows are all ties
    image = np.zeros((1, 1, 8, 8), np.float32)
    image[0, 0, 2:4, 2:4] = [[0.5, 1.0], [1.0, 0.25]]
    x = Tensor(image, requires_grad=True)
    out = max_pool2d(x, 2)
    out.sum().backward()
    grad = x.grad._data[0, 0]
    windows = grad.reshape(4, 2, 4, 2).transpose(0, 2, 1, 3).reshape(16, 4)
    np.testing.assert_array_equal((windows != 0).sum(axis=1), np.ones(16))
    assert grad.sum() == 16
    # all-zero windows send the gradient to their top-left element, the first maximum
    assert grad[0, 0] == 1 and grad[0, 1] == 0 and grad[1, 0] == 0
    # the bright window's maximum 1.0 appears twice; the first one (row-major) gets it all
    np.testing.assert_array_equal(grad[2:4, 2:4], [[0, 1], [0, 0]])


def test_max_pool2d_overlapping_windows_accumulate():
    x = Tensor(np.array([[[[0.0, 1.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]]]),
               requires_grad=True)
    out = max_pool2d(x, 2, stride=1)
    np.testing.assert_array_equal(out._data, [[[[1.0, 1.0], [0.0, 0.0]]]])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad._data, [[[[0, 2, 0], [1, 1, 0], [0, 0, 0]]]])


@given(pool_configs(max_side=5))
def test_max_pool2d_grad_matches_numeric(cfg):
    x = distinct_values((cfg["n"], cfg["c"], *cfg["size"]), cfg["seed"])
    assert_grad_matches_numeric(lambda t: run_max(cfg, t), x)


def test_max_pool2d_nan_propagates():
    x = np.arange(16, dtype=np.float64).reshape(1, 1, 4, 4)
    x[0, 0, 1, 1] = np.nan
    out = max_pool2d(Tensor(x), 2)._data
    assert np.isnan(out[0, 0, 0, 0]) and not np.isnan(out[0, 0, 1, 1])


# --------------------------------------------------------------------------- average pool


@given(pool_configs(dilation=False))
def test_avg_pool2d_matches_loop_reference(cfg):
    x = np.random.default_rng(cfg["seed"]).standard_normal((cfg["n"], cfg["c"], *cfg["size"]))
    out = run_avg(cfg, Tensor(x))
    expected = avg_pool_reference(x, cfg["kernel"], cfg["stride"], cfg["padding"],
                                  cfg["ceil_mode"], cfg["count_include_pad"])
    np.testing.assert_allclose(out._data, expected, rtol=1e-12, atol=1e-12)


@given(pool_configs(dilation=False, max_side=5))
def test_avg_pool2d_grad_matches_numeric(cfg):
    x = np.random.default_rng(cfg["seed"]).standard_normal((cfg["n"], cfg["c"], *cfg["size"]))
    assert_grad_matches_numeric(lambda t: run_avg(cfg, t), x)


def test_avg_pool2d_padding_counts_exactly():
    ones = Tensor(np.ones((1, 1, 4, 4)))
    include = avg_pool2d(ones, 3, stride=1, padding=1)._data[0, 0]
    # a corner window holds 4 real pixels out of 9, an edge window 6, an inner window 9
    np.testing.assert_allclose(include, np.array([[4, 6, 6, 4], [6, 9, 9, 6], [6, 9, 9, 6],
                                                  [4, 6, 6, 4]]) / 9)
    exclude = avg_pool2d(ones, 3, stride=1, padding=1, count_include_pad=False)._data
    np.testing.assert_allclose(exclude, np.ones((1, 1, 4, 4)))


def test_avg_pool2d_ceil_mode_divides_partial_windows_by_their_size():
    x = Tensor(np.arange(25, dtype=np.float64).reshape(1, 1, 5, 5))
    out = avg_pool2d(x, 2, ceil_mode=True)._data[0, 0]
    assert out.shape == (3, 3)
    assert out[0, 0] == (0 + 1 + 5 + 6) / 4
    assert out[0, 2] == (4 + 9) / 2  # the last column window holds one column
    assert out[2, 2] == 24.0


# --------------------------------------------------------------------------- adaptive


@given(st.integers(1, 6), st.integers(1, 6), st.integers(1, 4), st.integers(1, 4),
       st.integers(0, 2**32 - 1))
def test_adaptive_avg_pool2d_matches_loop_reference_and_grad(h, w, oh, ow, seed):
    x = np.random.default_rng(seed).standard_normal((2, 2, h, w))
    out = adaptive_avg_pool2d(Tensor(x), (oh, ow))
    np.testing.assert_allclose(out._data, adaptive_reference(x, (oh, ow)), rtol=1e-12,
                               atol=1e-12)
    assert_grad_matches_numeric(lambda t: adaptive_avg_pool2d(t, (oh, ow)), x)


def test_adaptive_avg_pool2d_divisible_is_avg_pool_and_global_is_mean():
    x = np.random.default_rng(5).standard_normal((2, 3, 8, 6)).astype(np.float32)
    out = adaptive_avg_pool2d(Tensor(x), (4, 2))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out._data, avg_pool2d(Tensor(x), (2, 3))._data, rtol=1e-6)
    np.testing.assert_allclose(adaptive_avg_pool2d(Tensor(x), 1)._data,
                               x.mean(axis=(2, 3), keepdims=True), rtol=1e-5)
    assert adaptive_avg_pool2d(Tensor(x), (None, 3)).shape == (2, 3, 8, 3)


# --------------------------------------------------------------------------- dtypes, errors


def test_pools_keep_float32():
    x = Tensor(np.random.default_rng(6).standard_normal((2, 3, 6, 6)).astype(np.float32),
               requires_grad=True)
    for out in (max_pool2d(x, 2), max_pool2d(x, 3, 1, 1), avg_pool2d(x, 3, 2, 1, True, False)):
        assert out.dtype == np.float32
        x.grad = None
        out.sum().backward()
        assert x.grad.dtype == np.float32


def test_pool_errors_name_the_op_the_shapes_and_the_rule():
    x = Tensor(np.zeros((2, 3, 4, 4)))
    with pytest.raises(ValueError, match=r"max_pool2d: expected a 4-D input.*\(3, 4, 4\)"):
        max_pool2d(Tensor(np.zeros((3, 4, 4))), 2)
    with pytest.raises(ValueError, match=r"max_pool2d: kernel_size \(5, 5\).*larger than the "
                                         r"padded input 4x4 of input shape \(2, 3, 4, 4\)"):
        max_pool2d(x, 5)
    with pytest.raises(ValueError, match=r"avg_pool2d: padding \(2, 2\) must be at most half"):
        avg_pool2d(x, 3, padding=2)
    with pytest.raises(ValueError, match=r"adaptive_avg_pool2d: expected a 4-D input"):
        adaptive_avg_pool2d(Tensor(np.zeros((4, 4))), 2)
    with pytest.raises(ValueError, match=r"max_pool2d: stride must be at least 1"):
        max_pool2d(x, 2, stride=0)


# --------------------------------------------------------------------------- PyTorch


@given(pool_configs())
def test_pools_match_torch(cfg):
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    x = distinct_values((cfg["n"], cfg["c"], *cfg["size"]), cfg["seed"])
    grad_rng = np.random.default_rng(cfg["seed"] + 1)

    def compare(mine_fn, torch_fn, indices=False):
        mine_x = Tensor(x, requires_grad=True)
        torch_x = torch.tensor(x, requires_grad=True)
        mine, theirs = mine_fn(mine_x), torch_fn(torch_x)
        if indices:
            (mine, mine_index), (theirs, theirs_index) = mine, theirs
            np.testing.assert_array_equal(mine_index._data, theirs_index.detach().numpy())
        grad = grad_rng.standard_normal(mine.shape)
        mine.backward(grad)
        theirs.backward(torch.tensor(grad))
        np.testing.assert_allclose(mine._data, theirs.detach().numpy(), rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(mine_x.grad._data, torch_x.grad.detach().numpy(), rtol=1e-6,
                                   atol=1e-6)

    k, s, p, d, ceil = (cfg["kernel"], cfg["stride"], cfg["padding"], cfg["dilation"],
                        cfg["ceil_mode"])
    compare(lambda t: max_pool2d(t, k, s, p, d, ceil, return_indices=True),
            lambda t: functional.max_pool2d(t, k, s, p, d, ceil, return_indices=True),
            indices=True)
    compare(lambda t: avg_pool2d(t, k, s, p, ceil, cfg["count_include_pad"]),
            lambda t: functional.avg_pool2d(t, k, s, p, ceil, cfg["count_include_pad"]))
    out_size = (max(1, cfg["size"][0] - 1), cfg["size"][1])
    compare(lambda t: adaptive_avg_pool2d(t, out_size),
            lambda t: functional.adaptive_avg_pool2d(t, out_size))


# --------------------------------------------------------------------------- NaN in a window


def _nan_pool_grad_reference(x, kernel, stride):
    """dL/dx of sum(max_pool(x)) over the last axis windows: a window holding a NaN passes its
    gradient to its LAST NaN (PyTorch's loop takes ``val > max || isnan(val)``), any other to
    its first maximum."""
    grad = np.zeros_like(x)
    n_out = (x.shape[-1] - kernel) // stride + 1
    for index in np.ndindex(x.shape[:-1]):
        row = x[index]
        for o in range(n_out):
            window = row[o * stride : o * stride + kernel]
            nan = np.flatnonzero(np.isnan(window))
            pick = nan[-1] if nan.size else int(np.argmax(window))
            grad[index + (o * stride + pick,)] += 1
    return grad


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("kernel,stride", [(2, 2), (3, 3), (2, 1), (3, 1), (4, 2)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_pool_gradient_goes_to_the_last_nan(dims, kernel, stride, dtype):
    import minigrad.functional as F

    rng = np.random.default_rng(kernel * 10 + stride + dims)
    values = np.array([np.nan, 1.0, 2.0, -1.0, 0.0, np.inf, -np.inf], dtype=dtype)
    shape = (2, 3) + (1,) * (dims - 1) + (9,)
    x = rng.choice(values, size=shape)
    t = Tensor(x, requires_grad=True)
    pool = getattr(F, f"max_pool{dims}d")
    size = (1,) * (dims - 1) + (kernel,)
    steps = (1,) * (dims - 1) + (stride,)
    out = pool(t, size, steps)
    out.sum().backward()
    np.testing.assert_array_equal(t.grad._data, _nan_pool_grad_reference(x, kernel, stride))


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("kernel,stride", [(2, None), (3, None), (2, 1), (3, 2)])
def test_max_pool_nan_matches_torch(dims, kernel, stride):
    torch = pytest.importorskip("torch")
    import minigrad.functional as F

    rng = np.random.default_rng(dims * 7 + kernel)
    values = np.array([np.nan, 1.0, 2.0, -1.0, 0.0, np.inf, -np.inf], dtype=np.float32)
    x = rng.choice(values, size=(2, 3) + (6,) * dims)
    theirs = torch.tensor(x, requires_grad=True)
    their_out = getattr(torch, f"max_pool{dims}d")(theirs, kernel, stride)
    g = rng.standard_normal(tuple(their_out.shape)).astype(np.float32)
    their_out.backward(torch.tensor(g))
    ours = Tensor(x, requires_grad=True)
    our_out = getattr(F, f"max_pool{dims}d")(ours, kernel, stride)
    our_out.backward(Tensor(g))
    np.testing.assert_array_equal(our_out._data, their_out.detach().numpy())
    np.testing.assert_allclose(ours.grad._data, theirs.grad.numpy(), rtol=1e-6, atol=1e-6)
