"""The direct stride-1 convolutions (ops/conv_direct.py): loop reference, numerical gradients,
the im2col path, second derivatives, the layers that take them, and PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_conv import conv2d_reference

import minigrad as mg
import minigrad.functional as F
from minigrad import jit
from minigrad.ops import conv as conv_ops
from minigrad.ops import conv_direct
from minigrad.testing import assert_grad_matches_numeric

pytestmark = pytest.mark.skipif(not jit.enabled(), reason="the compiled kernels are off")


@st.composite
def geometries(draw: st.DrawFn) -> dict:
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, conv_direct.MAX_KERNEL_WIDTH))
    pads = tuple(draw(st.integers(0, k - 1)) for k in (kh, kh, kw, kw))
    h = draw(st.integers(max(1, kh - pads[0] - pads[1]), 9))
    w = draw(st.integers(max(1, kw - pads[2] - pads[3]), 9))
    return {"n": draw(st.integers(1, 3)), "c": draw(st.integers(1, 4)),
            "o": draw(st.integers(1, 7)), "size": (h, w), "kernel": (kh, kw),
            "padding": ((pads[0], pads[1]), (pads[2], pads[3])),
            "seed": draw(st.integers(0, 2**16)), "transposed": draw(st.booleans())}


def _arrays(g: dict, dtype: type) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(g["seed"])
    x = rng.standard_normal((g["n"], g["c"], *g["size"])).astype(dtype)
    if g["transposed"]:  # an input in another memory layout (C, H, W, N)
        x = np.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    weight = rng.standard_normal((g["o"], g["c"], *g["kernel"])).astype(dtype)
    bias = rng.standard_normal(g["o"]).astype(dtype)
    return x, weight, bias


def _out_size(g: dict) -> tuple[int, int]:
    (top, bottom), (left, right) = g["padding"]
    return (g["size"][0] + top + bottom - g["kernel"][0] + 1,
            g["size"][1] + left + right - g["kernel"][1] + 1)


@settings(deadline=None, max_examples=40)
@given(geometries(), st.sampled_from([np.float32, np.float64]))
def test_direct_kernels_match_the_loop_reference(g: dict, dtype: type) -> None:
    x, weight, bias = _arrays(g, dtype)
    n = g["n"]
    chunks = [(0, n)] if n == 1 else [(0, 1), (1, n)]
    out = conv_direct.forward(x, weight, bias, g["padding"], _out_size(g), chunks)
    x64, w64 = x.astype(np.float64), weight.astype(np.float64)
    expected = conv2d_reference(x64, w64, bias.astype(np.float64), padding=g["padding"])
    tol = 1e-4 if dtype == np.float32 else 1e-11
    assert out.dtype == dtype
    np.testing.assert_allclose(out, expected, rtol=tol, atol=tol)
    # gradients of sum(out * grad): the weight's and the bias's, and the input's
    grad = np.random.default_rng(g["seed"] + 1).standard_normal(out.shape).astype(dtype)
    parts = conv_direct.weight_grad(x, grad, g["kernel"], g["padding"], chunks)
    grad_b = sum(part[0] for part in parts)
    grad_w = sum(part[1] for part in parts)
    (top, _), (left, _) = g["padding"]
    kh, kw = g["kernel"]
    xp = np.zeros((n, g["c"], out.shape[2] + kh - 1, out.shape[3] + kw - 1))
    rows = min(g["size"][0], xp.shape[2] - top)
    cols = min(g["size"][1], xp.shape[3] - left)
    xp[:, :, top:top + rows, left:left + cols] = x64[:, :, :rows, :cols]
    windows = np.lib.stride_tricks.sliding_window_view(xp, g["kernel"], axis=(2, 3))
    np.testing.assert_allclose(grad_w, np.einsum("ncyxij,noyx->ocij", windows, grad),
                               rtol=tol, atol=tol * 10)
    np.testing.assert_allclose(grad_b, grad.astype(np.float64).sum(axis=(0, 2, 3)), rtol=tol,
                               atol=tol * 10)
    grad_x = conv_direct.input_grad(grad, weight, g["padding"], chunks, np.empty_like(x))
    full = np.einsum("noyx,ocij->ncyixj", grad.astype(np.float64), w64)
    expected_x = np.zeros_like(xp)
    for i in range(kh):
        for j in range(kw):
            expected_x[:, :, i:i + out.shape[2], j:j + out.shape[3]] += full[:, :, :, i, :, j]
    expected_x = expected_x[:, :, top:top + g["size"][0], left:left + g["size"][1]]
    np.testing.assert_allclose(grad_x, expected_x, rtol=tol, atol=tol * 10)


def _direct_layer(x: mg.Tensor, weight: mg.Tensor, bias: mg.Tensor, padding: int) -> mg.Tensor:
    out = F.conv2d(x, weight, bias, padding=padding)
    assert conv_ops.use_direct(x._data, weight._data, (1, 1), ((padding,) * 2,) * 2, (1, 1), 1)
    return out


@settings(deadline=None, max_examples=15)
@given(st.integers(0, 2**16), st.sampled_from([(1, 3, 5, 2), (2, 4, 3, 1), (2, 2, 5, 2)]))
def test_direct_conv2d_grads_match_numeric(seed: int, case: tuple[int, ...]) -> None:
    c, o, k, padding = case
    rng = np.random.default_rng(seed)
    size = 20 if k < conv_direct.MAX_KERNEL_WIDTH and k < 5 else 6
    x = rng.standard_normal((2, c, 6, size))
    weight = rng.standard_normal((o, c, k, k))
    bias = rng.standard_normal(o)
    assert_grad_matches_numeric(lambda a, b, d: _direct_layer(a, b, d, padding), x, weight,
                                bias)


@pytest.mark.parametrize("create_graph", [False, True])
def test_direct_conv2d_equals_im2col_and_its_second_derivative(create_graph: bool) -> None:
    rng = np.random.default_rng(5)
    x0 = rng.standard_normal((3, 2, 24, 24))
    w0 = rng.standard_normal((4, 2, 5, 5)) * 0.2
    results = []
    for direct in (True, False):
        conv_direct.DIRECT = direct
        try:
            x = mg.tensor(x0, requires_grad=True)
            w = mg.tensor(w0, requires_grad=True)
            out = F.conv2d(x, w, padding=2)
            loss = (out * out).sum()
            gx, gw = mg.autograd.grad(loss, (x, w), create_graph=create_graph)
            if create_graph:
                (gx.sum() + (gw * gw).sum()).backward()
                results.append((out._data, gx._data, gw._data, x.grad._data, w.grad._data))
            else:
                results.append((out._data, gx._data, gw._data))
        finally:
            conv_direct.DIRECT = True
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10)


def test_the_layers_that_run_direct() -> None:
    def takes(c: int, o: int, size: int, k: int, padding: int, stride: int = 1) -> bool:
        x = np.zeros((2, c, size, size), np.float32)
        w = np.zeros((o, c, k, k), np.float32)
        return conv_ops.use_direct(x, w, (stride, stride), ((padding,) * 2,) * 2, (1, 1), 1)

    assert takes(1, 6, 28, 5, 2)  # LeNet-5's first layer
    assert takes(3, 16, 32, 3, 1) and takes(8, 16, 28, 3, 1)
    assert not takes(6, 16, 14, 5, 0)  # LeNet-5's second layer: 150 columns
    assert not takes(1, 8, 28, 3, 1)  # one input channel, a 3x3 kernel
    assert not takes(8, 16, 14, 3, 1)  # rows of 14 pixels
    assert not takes(1, 6, 28, 5, 2, stride=2)
    assert not takes(1, 6, 28, 5, 5)  # padding beyond the kernel: im2col's input gradient


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_direct_conv2d_matches_torch(dtype: str) -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    x0 = rng.standard_normal((16, 3, 32, 32)).astype(dtype)
    w0 = (rng.standard_normal((16, 3, 3, 3)) * 0.3).astype(dtype)
    b0 = rng.standard_normal(16).astype(dtype)
    g0 = rng.standard_normal((16, 16, 32, 32)).astype(dtype)
    x, w, b = (mg.tensor(a, requires_grad=True) for a in (x0, w0, b0))
    out = _direct_layer(x, w, b, 1)
    out.backward(mg.tensor(g0))
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x0, w0, b0))
    their = torch.nn.functional.conv2d(tx, tw, tb, padding=1)
    their.backward(torch.tensor(g0))
    tol = 1e-4 if dtype == "float32" else 1e-10
    assert out.dtype == getattr(mg, dtype) and x.grad.dtype == getattr(mg, dtype)
    for ours, theirs in ((out, their), (x.grad, tx.grad), (w.grad, tw.grad), (b.grad, tb.grad)):
        scale = max(1.0, float(np.abs(theirs.detach().numpy()).max()))
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(),
                                   rtol=tol, atol=tol * scale)
