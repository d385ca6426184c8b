"""Winograd F(2x2, 3x3) convolutions and the strided-view max-pool against the im2col path, the
pixel-loop reference, numerical gradients and PyTorch, in every memory layout they meet."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
from _conv_cases import (
    arrays,
    conv_and_grads,
    conv_cases,
    in_layout,
    memory_order,
    torch_conv_and_grads,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from minigrad.ops import conv as conv_ops
from minigrad.ops import winograd
from minigrad.ops.conv import conv2d, max_pool2d
from minigrad.tensor import Tensor
from minigrad.testing import assert_grad_matches_numeric


@contextlib.contextmanager
def winograd_path(enabled: bool = True):
    """Every 3x3 stride-1 convolution takes (or, disabled, avoids) the F(2x2, 3x3) Winograd
    path (F(4x4, 3x3): tests/minigrad/test_conv_kernels.py)."""
    names = ("WINOGRAD_MIN_CHANNELS", "WINOGRAD_MIN_SIZE", "WINOGRAD_MAX_SIZE",
             "WINOGRAD4_MIN_SIZE")
    previous = [getattr(conv_ops, name) for name in names]
    for name, value in zip(names, (1, 1, 10**9, 10**9) if enabled else (10**9, 10**9, 0, 10**9)):
        setattr(conv_ops, name, value)
    try:
        yield
    finally:
        for name, value in zip(names, previous):
            setattr(conv_ops, name, value)


@settings(deadline=None)
@given(conv_cases(max_side=7, max_batch=3))
def test_winograd_matches_the_im2col_path_in_every_layout(case):
    x, weight, b = arrays(case)
    padding = case[5]
    with winograd_path(False):
        expected = conv_and_grads(x, weight, b, padding)
    with winograd_path():
        got = conv_and_grads(x, weight, b, padding)
    for name, a, e in zip(("output", "grad x", "grad weight", "grad bias"), got, expected):
        if e is not None:
            np.testing.assert_allclose(a, e, rtol=1e-10, atol=1e-11, err_msg=name)
    # the input gradient comes back in the input's memory layout
    assert memory_order(got[1]) == memory_order(x)


@settings(deadline=None, max_examples=15)
@given(conv_cases(max_side=5, max_batch=3))
def test_winograd_grad_matches_numeric(case):
    x, weight, b = arrays(case)
    x = np.ascontiguousarray(x)  # gradcheck perturbs (N, C, H, W) memory; layouts: above
    padding = case[5]
    with winograd_path():
        assert conv_ops.use_winograd(x.shape, weight.shape, (1, 1), (1, 1), 1, (1, 1))
        if b is None:
            assert_grad_matches_numeric(lambda x, w: conv2d(x, w, padding=padding), x, weight)
        else:
            assert_grad_matches_numeric(lambda x, w, b: conv2d(x, w, b, padding=padding),
                                        x, weight, b)


def test_winograd_transforms_are_exact_on_one_tile():
    # one 4x4 input block and a 3x3 kernel: the 2x2 output by the definition
    rng = np.random.default_rng(0)
    d = rng.standard_normal((4, 4))
    w = rng.standard_normal((3, 3))
    expected = np.array([[np.sum(d[i:i + 3, j:j + 3] * w) for j in range(2)] for i in range(2)])
    v = winograd.transform_input(d.reshape(4, 4, 1, 1), ((0, 0), (0, 0)), (2, 2))
    u = winograd.transform_weight(w.reshape(1, 1, 3, 3))
    out = np.empty((2, 2, 1, 1))
    winograd.transform_output(np.matmul(v, u), out)
    np.testing.assert_allclose(out[:, :, 0, 0], expected, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_winograd_matches_torch_on_a_strongcnn_layer(dtype):
    pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 64, 14, 14)).astype(dtype)
    w = (rng.standard_normal((64, 64, 3, 3)) * 0.05).astype(dtype)
    b = rng.standard_normal(64).astype(dtype)
    assert conv_ops.use_winograd(x.shape, w.shape, (1, 1), (1, 1), 1, (14, 14))
    got = conv_and_grads(x, w, b, 1)
    for a, expected in zip(got, torch_conv_and_grads(x, w, b, 1), strict=True):
        assert a is not None and a.dtype == dtype and expected is not None
        # F(4x4, 3x3) in float32: errors up to about 1e-5 of the largest value (see winograd4)
        scale = np.abs(expected).max()
        tol = ({"rtol": 1e-4, "atol": 3e-5 * scale} if dtype == np.float32
               else {"rtol": 1e-10, "atol": 1e-10 * scale})
        np.testing.assert_allclose(a, expected, **tol)


def test_winograd_runs_in_chunks_over_threads(monkeypatch):
    # many small chunks (as on a large batch) give the same result as one
    rng = np.random.default_rng(0)
    x = rng.standard_normal((9, 5, 6, 6))
    w = rng.standard_normal((3, 5, 3, 3))
    with winograd_path():
        whole = conv_and_grads(x, w, None, 1)
        monkeypatch.setattr(winograd, "CHUNK_BYTES", 1)
        chunked = conv_and_grads(x, w, None, 1)
    for a, e in zip(chunked[:3], whole[:3]):
        np.testing.assert_allclose(a, e, rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------- max-pool views


@st.composite
def pool_cases(draw):
    kernel = draw(st.integers(1, 3))
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    h, w = draw(st.integers(kernel, 8)), draw(st.integers(kernel, 8))
    layout = draw(st.sampled_from(["nchw", "cnhw", "hwnc"]))
    seed = draw(st.integers(0, 2**16))
    return kernel, (n, c, h, w), layout, seed


@settings(deadline=None)
@given(pool_cases())
def test_max_pool_in_every_layout_matches_torch_with_ties(case):
    torch = pytest.importorskip("torch")
    kernel, shape, layout, seed = case
    rng = np.random.default_rng(seed)
    base = np.round(rng.standard_normal(shape) * 2) / 2  # many ties
    x = Tensor(in_layout(base, layout), requires_grad=True)
    out = max_pool2d(x, kernel)
    g = rng.standard_normal(out.shape)
    out.backward(Tensor(g))
    xt = torch.tensor(base, requires_grad=True)
    expected = torch.nn.functional.max_pool2d(xt, kernel)
    expected.backward(torch.tensor(g))
    np.testing.assert_array_equal(out._data, expected.detach().numpy())
    np.testing.assert_allclose(x.grad._data, xt.grad.numpy(), rtol=1e-12, atol=1e-12)
    _, indices = max_pool2d(Tensor(in_layout(base, layout)), kernel, return_indices=True)
    _, expected_indices = torch.nn.functional.max_pool2d(torch.tensor(base), kernel,
                                                         return_indices=True)
    np.testing.assert_array_equal(indices._data, expected_indices.numpy())


def test_max_pool_views_propagate_nan_in_the_spatial_major_layout():
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 1, 1] = np.nan
    out = max_pool2d(Tensor(in_layout(x, "hwnc")), 2)._data
    assert np.isnan(out[0, 0, 0, 0]) and not np.isnan(out[0, 0, 1, 1])


def test_max_pool_gradient_from_another_layout_lands_in_the_input_layout():
    rng = np.random.default_rng(0)
    x = Tensor(in_layout(rng.standard_normal((2, 3, 6, 6)), "hwnc"), requires_grad=True)
    out = max_pool2d(x, 2)
    out.backward(Tensor(np.ones((2, 3, 3, 3))))  # (N, C, H, W) memory, as after a flatten
    assert memory_order(x.grad._data) == memory_order(x._data)
    assert x.grad._data.sum() == 2 * 3 * 9
