"""Winograd F(4x4, 3x3) convolutions (minigrad/ops/winograd4.py) against the im2col path,
numerical gradients, the definition on one tile, and PyTorch at the benchmark layers' sizes."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from _conv_cases import arrays, conv_and_grads, conv_cases, memory_order, torch_conv_and_grads
from hypothesis import given, settings
from hypothesis import strategies as st

from minigrad.ops import conv as conv_ops
from minigrad.ops import winograd4
from minigrad.ops.conv import conv2d
from minigrad.tensor import Tensor
from minigrad.testing import assert_grad_matches_numeric


@contextlib.contextmanager
def path(kind: str) -> Iterator[None]:
    """Every 3x3 stride-1 convolution takes F(4x4, 3x3) ("f4") or im2col ("im2col")."""
    names = ("WINOGRAD_MIN_CHANNELS", "WINOGRAD4_MIN_SIZE")
    previous = [getattr(conv_ops, name) for name in names]
    for name, value in zip(names, (1, 1) if kind == "f4" else (10**9, 10**9), strict=True):
        setattr(conv_ops, name, value)
    try:
        yield
    finally:
        for name, value in zip(names, previous, strict=True):
            setattr(conv_ops, name, value)


@settings(deadline=None, max_examples=40)
@given(conv_cases(), st.booleans())
def test_f4_matches_the_im2col_path(case: tuple[Any, ...], small_chunks: bool) -> None:
    # odd sizes (tiles reaching past the output), padding 0-3 (3: a negative padding of the
    # input gradient), every layout, and chunks that do not divide the batch
    x, weight, b = arrays(case)
    padding = case[5]
    with path("im2col"):
        expected = conv_and_grads(x, weight, b, padding)
    chunk_bytes = winograd4.CHUNK_BYTES
    winograd4.CHUNK_BYTES = 1 if small_chunks else chunk_bytes
    try:
        with path("f4"):
            assert conv_ops.winograd_algorithm(x.shape, weight.shape, (1, 1), (1, 1), 1,
                                               expected[0].shape[2:]) is winograd4
            got = conv_and_grads(x, weight, b, padding)
    finally:
        winograd4.CHUNK_BYTES = chunk_bytes
    for name, a, e in zip(("output", "grad x", "grad weight", "grad bias"), got, expected,
                          strict=True):
        if e is not None:
            assert a is not None and a.dtype == e.dtype
            np.testing.assert_allclose(a, e, rtol=1e-9, atol=1e-10 * max(1.0, np.abs(e).max()),
                                       err_msg=name)
    assert got[1] is not None and memory_order(got[1]) == memory_order(x)


@settings(deadline=None, max_examples=10)
@given(conv_cases(max_side=6))
def test_f4_grad_matches_numeric(case: tuple[Any, ...]) -> None:
    x, weight, b = arrays(case)
    x = np.ascontiguousarray(x)  # gradcheck perturbs (N, C, H, W) memory; layouts: above
    padding = case[5]
    with path("f4"):
        if b is None:
            assert_grad_matches_numeric(lambda x, w: conv2d(x, w, padding=padding), x, weight)
        else:
            assert_grad_matches_numeric(lambda x, w, b: conv2d(x, w, b, padding=padding),
                                        x, weight, b)


def test_f4_transforms_are_exact_on_one_tile() -> None:
    # one 6x6 input block and a 3x3 kernel: the 4x4 output by the definition
    rng = np.random.default_rng(0)
    d = rng.standard_normal((6, 6))
    w = rng.standard_normal((3, 3))
    expected = np.array([[np.sum(d[i:i + 3, j:j + 3] * w) for j in range(4)] for i in range(4)])
    v = winograd4.transform_input(d.reshape(6, 6, 1, 1), ((0, 0), (0, 0)), (4, 4))
    u = winograd4.transform_weight(w.reshape(1, 1, 3, 3))
    out = np.empty((4, 4, 1, 1))
    winograd4.transform_output(np.matmul(v, u), out)
    np.testing.assert_allclose(out[:, :, 0, 0], expected, rtol=1e-12, atol=1e-12)


def test_f4_weight_gradient_is_the_transpose_of_the_weight_transform() -> None:
    rng = np.random.default_rng(0)
    w = rng.standard_normal((3, 2, 3, 3))
    du = rng.standard_normal((36, 2, 3))
    # <transform_weight(w), du> == <w, weight_gradient(du)>
    np.testing.assert_allclose(np.sum(winograd4.transform_weight(w) * du),
                               np.sum(w * winograd4.weight_gradient(du)), rtol=1e-12)


# the benchmark CNNs' layers: (N, C, O, H, padding)
LAYERS = [(2, 32, 32, 28, 1), (2, 32, 64, 14, 1), (2, 64, 64, 14, 1), (2, 32, 64, 26, 0)]


@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_f4_matches_torch_at_the_benchmark_layers(layer: tuple[int, ...], dtype: Any) -> None:
    pytest.importorskip("torch")
    n, c, o, h, padding = layer
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, h, h)).astype(dtype)
    w = (rng.standard_normal((o, c, 3, 3)) * np.sqrt(2 / (9 * c))).astype(dtype)
    b = rng.standard_normal(o).astype(dtype)
    assert conv_ops.winograd_algorithm(x.shape, w.shape, (1, 1), (1, 1), 1,
                                       (h + 2 * padding - 2,) * 2) is winograd4
    got = conv_and_grads(x, w, b, padding)
    for a, expected in zip(got, torch_conv_and_grads(x, w, b, padding), strict=True):
        assert a is not None and a.dtype == dtype and expected is not None
        # measured at these sizes in float32: at most 6e-6 of the largest value (im2col and
        # PyTorch: about 5e-7)
        scale = np.abs(expected).max()
        error = np.abs(a - expected).max() / scale
        assert error < (2e-5 if dtype == np.float32 else 1e-12)


# --------------------------------------------------------------------------- folded bias


@contextlib.contextmanager
def fold_bias(enabled: bool) -> Iterator[None]:
    previous = conv_ops.FOLD_BIAS
    conv_ops.FOLD_BIAS = enabled
    try:
        yield
    finally:
        conv_ops.FOLD_BIAS = previous


@st.composite
def narrow_cases(draw: Any) -> tuple[Any, ...]:
    # per-image convolutions (C/G * KH * KW <= PER_IMAGE_MAX_COLUMNS), groups included
    groups = draw(st.sampled_from([1, 1, 2]))
    c = groups * draw(st.integers(1, 2))
    o = groups * draw(st.integers(1, 3))
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    size = [max(1, dilation[a] * (kernel[a] - 1) + 1 - 2 * padding[a]) for a in range(2)]
    h = draw(st.integers(size[0], size[0] + 5))
    w = draw(st.integers(size[1], size[1] + 5))
    n = draw(st.integers(1, 5))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    seed = draw(st.integers(0, 2**16))
    return n, c, o, h, w, kernel, stride, dilation, padding, groups, dtype, seed


def narrow_arrays(case: tuple[Any, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                   dict[str, Any]]:
    n, c, o, h, w, kernel, stride, dilation, padding, groups, dtype, seed = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    weight = rng.standard_normal((o, c // groups, *kernel)).astype(dtype)
    b = rng.standard_normal(o).astype(dtype)
    return x, weight, b, {"stride": stride, "dilation": dilation, "padding": padding,
                          "groups": groups}


def narrow_conv_and_grads(x: np.ndarray, weight: np.ndarray, b: np.ndarray,
                          geometry: dict[str, Any], need_x: bool) -> list[np.ndarray | None]:
    xt = Tensor(x, requires_grad=need_x)
    wt, bt = Tensor(weight, requires_grad=True), Tensor(b, requires_grad=True)
    out = conv2d(xt, wt, bt, **geometry)
    out.backward(Tensor(np.random.default_rng(1).standard_normal(out.shape).astype(x.dtype)))
    assert wt.grad is not None and bt.grad is not None
    return [out._data, None if xt.grad is None else xt.grad._data, wt.grad._data,
            bt.grad._data]


@settings(deadline=None, max_examples=40)
@given(narrow_cases(), st.booleans())
def test_folded_bias_matches_the_bias_pass(case: tuple[Any, ...], need_x: bool) -> None:
    x, weight, b, geometry = narrow_arrays(case)
    assert weight.shape[1] * weight.shape[2] * weight.shape[3] <= conv_ops.PER_IMAGE_MAX_COLUMNS
    with fold_bias(False):
        expected = narrow_conv_and_grads(x, weight, b, geometry, need_x)
    with fold_bias(True):
        got = narrow_conv_and_grads(x, weight, b, geometry, need_x)
    tol = 1e-5 if x.dtype == np.float32 else 1e-12
    for name, a, e in zip(("output", "grad x", "grad weight", "grad bias"), got, expected,
                          strict=True):
        if e is None:
            assert a is None
            continue
        assert a is not None and a.dtype == x.dtype and a.shape == e.shape
        np.testing.assert_allclose(a, e, rtol=tol, atol=tol * max(1.0, np.abs(e).max()),
                                   err_msg=name)


@settings(deadline=None, max_examples=10)
@given(narrow_cases())
def test_folded_bias_grad_matches_numeric(case: tuple[Any, ...]) -> None:
    x, weight, b, geometry = narrow_arrays(case)
    x, weight, b = (a.astype(np.float64) for a in (x, weight, b))
    with fold_bias(True):
        assert_grad_matches_numeric(lambda x, w, b: conv2d(x, w, b, **geometry), x, weight, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("padding", [0, 1])
def test_first_layer_matches_torch(dtype: Any, padding: int) -> None:
    # the benchmark CNNs' first layer (1 -> 32, 3x3), an odd batch, the input needing no grad
    pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 1, 28, 28)).astype(dtype)
    w = (rng.standard_normal((32, 1, 3, 3)) / 3).astype(dtype)
    b = rng.standard_normal(32).astype(dtype)
    got = narrow_conv_and_grads(x, w, b, {"padding": padding}, need_x=False)
    reference = torch_conv_and_grads(x, w, b, padding, need_x=False)
    tol = {"rtol": 1e-5, "atol": 1e-5} if dtype == np.float32 else {"rtol": 1e-12,
                                                                       "atol": 1e-12}
    for index in (0, 2, 3):
        a, expected = got[index], reference[index]
        assert a is not None and a.dtype == dtype and expected is not None
        np.testing.assert_allclose(a, expected, rtol=tol["rtol"],
                                   atol=tol["atol"] * np.abs(expected).max())


def test_float16_convolutions_stay_on_im2col() -> None:
    # F(4x4, 3x3) in float16 would be off by about 1% of the output's scale
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 32, 14, 14))
    w = rng.standard_normal((32, 32, 3, 3)) * 0.06
    exact = conv2d(Tensor(x), Tensor(w), padding=1)._data
    half = conv2d(Tensor(x.astype(np.float16)), Tensor(w.astype(np.float16)), padding=1)._data
    assert half.dtype == np.float16
    assert np.abs(half - exact).max() < 2e-3 * np.abs(exact).max()
