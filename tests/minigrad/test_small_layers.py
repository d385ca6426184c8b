"""The small-layer paths of the benchmark CNNs (minigrad/ops/conv_wide.py): the full-width
input gradient of stride-1 per-image convolutions and the batch-innermost one of channel-major
convolutions, against col2im, numerical gradients, and PyTorch at SimpleCNN's and LeNet-5's
layer sizes."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from _conv_cases import memory_order, torch_conv_and_grads
from hypothesis import given, settings
from hypothesis import strategies as st

from minigrad.ops import conv as conv_ops
from minigrad.ops import conv_wide
from minigrad.ops.conv import conv2d
from minigrad.tensor import Tensor
from minigrad.testing import assert_grad_matches_numeric


@contextlib.contextmanager
def wide(enabled: bool) -> Iterator[None]:
    """Every stride-1 per-image input gradient takes the wide route, or none does."""
    previous = conv_wide.MAX_WIDTH, conv_wide.MIN_COLUMNS
    conv_wide.MAX_WIDTH, conv_wide.MIN_COLUMNS = (10**9, 0) if enabled else (-1, 10**9)
    try:
        yield
    finally:
        conv_wide.MAX_WIDTH, conv_wide.MIN_COLUMNS = previous


@st.composite
def cases(draw: Any, max_side: int = 9) -> dict[str, Any]:
    groups = draw(st.sampled_from([1, 1, 2]))
    c = groups * draw(st.integers(1, 3))
    o = groups * draw(st.integers(1, 3))
    kernel = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    reach = [d * (k - 1) + 1 for d, k in zip(dilation, kernel, strict=True)]
    low = [max(1, r - 2 * p) for r, p in zip(reach, padding, strict=True)]
    h = draw(st.integers(low[0], max(low[0], max_side)))
    w = draw(st.integers(low[1], max(low[1], max_side)))
    return {"n": draw(st.integers(1, 4)), "c": c, "o": o, "h": h, "w": w, "kernel": kernel,
            "dilation": dilation, "padding": padding, "groups": groups,
            "bias": draw(st.booleans()), "channel_major": draw(st.booleans()),
            "seed": draw(st.integers(0, 2**16))}


def arrays(case: dict[str, Any], dtype: Any = np.float64
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal((case["n"], case["c"], case["h"], case["w"])).astype(dtype)
    if case["channel_major"]:  # the (C, N, H, W) memory the channel-major convs leave
        x = np.ascontiguousarray(x.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)
    weight = rng.standard_normal((case["o"], case["c"] // case["groups"], *case["kernel"]))
    b = rng.standard_normal(case["o"]).astype(dtype) if case["bias"] else None
    return x, weight.astype(dtype), b


def conv_and_grads(x: np.ndarray, weight: np.ndarray, b: np.ndarray | None,
                   case: dict[str, Any]) -> list[np.ndarray | None]:
    if not case.get("input_grad", True):  # a first layer: no input gradient
        wt = Tensor(weight, requires_grad=True)
        out = conv2d(Tensor(x), wt, padding=case["padding"], dilation=case["dilation"],
                     groups=case["groups"])
        out.backward(Tensor(np.random.default_rng(1).standard_normal(out.shape)
                            .astype(x.dtype)))
        assert wt.grad is not None
        return [out._data, None, wt.grad._data, None]
    xt, wt = Tensor(x, requires_grad=True), Tensor(weight, requires_grad=True)
    bt = None if b is None else Tensor(b, requires_grad=True)
    out = conv2d(xt, wt, bt, padding=case["padding"], dilation=case["dilation"],
                 groups=case["groups"])
    g = np.random.default_rng(1).standard_normal(out.shape).astype(x.dtype)
    out.backward(Tensor(g))
    assert xt.grad is not None and wt.grad is not None
    return [out._data, xt.grad._data, wt.grad._data,
            None if bt is None or bt.grad is None else bt.grad._data]


def per_image(case: dict[str, Any]) -> bool:
    columns = case["c"] // case["groups"] * case["kernel"][0] * case["kernel"][1]
    return columns <= conv_ops.PER_IMAGE_MAX_COLUMNS


@settings(deadline=None, max_examples=40)
@given(cases())
def test_wide_input_grad_matches_col2im(case: dict[str, Any]) -> None:
    assert per_image(case)
    x, weight, b = arrays(case)
    with wide(False):
        expected = conv_and_grads(x, weight, b, case)
    with wide(True):
        got = conv_and_grads(x, weight, b, case)
    for name, a, e in zip(("output", "grad x", "grad weight", "grad bias"), got, expected,
                          strict=True):
        if e is not None:
            assert a is not None and a.dtype == e.dtype and a.shape == e.shape
            np.testing.assert_allclose(a, e, rtol=1e-12, atol=1e-12 * max(1.0, np.abs(e).max()),
                                       err_msg=name)


@pytest.mark.parametrize("chunk_bytes", [1, 50_000])
def test_per_image_chunks_match_one_chunk(chunk_bytes: int) -> None:
    # per-image convolutions cut into chunks of PER_IMAGE_CHUNK_BYTES (1 byte: one image each)
    case = {"n": 7, "c": 2, "o": 3, "h": 9, "w": 8, "kernel": (3, 3), "dilation": (1, 1),
            "padding": (1, 1), "groups": 1, "bias": True, "channel_major": False, "seed": 3}
    assert per_image(case)
    x, weight, b = arrays(case)
    previous = conv_ops.PER_IMAGE_CHUNK_BYTES
    try:
        conv_ops.PER_IMAGE_CHUNK_BYTES = 10**12
        expected = conv_and_grads(x, weight, b, case)
        conv_ops.PER_IMAGE_CHUNK_BYTES = chunk_bytes
        got = conv_and_grads(x, weight, b, case)
    finally:
        conv_ops.PER_IMAGE_CHUNK_BYTES = previous
    for a, e in zip(got, expected, strict=True):
        assert a is not None and e is not None and a.dtype == e.dtype
        np.testing.assert_allclose(a, e, rtol=1e-12, atol=1e-12)


def test_batch_inner_chunks_match_one_chunk() -> None:
    # the batch-innermost convolution in chunks of one image (CHUNK_BYTES of 1 byte)
    from minigrad import parallel

    case = {"n": 5, "c": 6, "o": 8, "h": 9, "w": 9, "kernel": (5, 5), "dilation": (1, 1),
            "padding": (1, 2), "groups": 1, "bias": True, "channel_major": True, "seed": 4}
    x, weight, b = arrays(case)
    assert conv_wide.use_batch_inner(x.shape, weight.shape, (1, 1), 1, (7, 9))
    expected = conv_and_grads(x, weight, b, case)
    previous = parallel.get_num_threads(), parallel.CHUNK_BYTES
    try:
        parallel.set_num_threads(2)
        parallel.CHUNK_BYTES = 1
        got = conv_and_grads(x, weight, b, case)
    finally:
        parallel.set_num_threads(previous[0])
        parallel.CHUNK_BYTES = previous[1]
    for a, e in zip(got, expected, strict=True):
        assert a is not None and e is not None and a.dtype == e.dtype
        np.testing.assert_allclose(a, e, rtol=1e-12, atol=1e-12)


def test_wide_input_grad_direct_matches_col2im() -> None:
    # the helper alone on padded images: (m, G, O/G, P) gradient to the (m, C, Hp, Wp) image
    rng = np.random.default_rng(0)
    m, groups, og, cg, kh, kw, oh, ow = 3, 2, 2, 3, 2, 3, 4, 5
    dh, dw = 2, 1
    hp, wp = oh + dh * (kh - 1), ow + dw * (kw - 1)
    g = rng.standard_normal((m, groups, og, oh * ow))
    w_mat = rng.standard_normal((groups, og, cg * kh * kw))
    got = conv_wide.input_grad_wide(g, w_mat, (kh, kw), (dh, dw), (oh, ow), (hp, wp))
    cols = np.matmul(w_mat.transpose(0, 2, 1), g).reshape(m, groups * cg, kh, kw, oh, ow)
    expected = conv_ops.col2im(cols, (hp, wp), (1, 1), (dh, dw))
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@contextlib.contextmanager
def batch_inner(enabled: bool, whole_conv: bool = False) -> Iterator[None]:
    """Every stride-1 channel-major col2im input gradient runs with the batch innermost, or
    none does; with ``whole_conv`` the convolutions that may run batch-innermost do."""
    previous = conv_wide.BATCH_INNER_MAX_WIDTH, conv_wide.BATCH_INNER_CONV
    conv_wide.BATCH_INNER_MAX_WIDTH = 10**9 if enabled else -1
    conv_wide.BATCH_INNER_CONV = whole_conv
    try:
        yield
    finally:
        conv_wide.BATCH_INNER_MAX_WIDTH, conv_wide.BATCH_INNER_CONV = previous


@st.composite
def channel_major_cases(draw: Any, max_side: int = 9) -> dict[str, Any]:
    # wider than PER_IMAGE_MAX_COLUMNS and O > C/G * G: col2im, not the transposed conv
    case = draw(cases(max_side))
    groups = case["groups"]
    case["c"] = groups * draw(st.integers(6, 8))
    case["o"] = case["c"] + groups * draw(st.integers(1, 2))
    case["kernel"] = (draw(st.integers(4, 5)), 5)
    case["dilation"] = (draw(st.integers(1, 2)), 1)
    case["input_grad"] = draw(st.booleans())
    reach = [d * (k - 1) + 1 for d, k in zip(case["dilation"], case["kernel"], strict=True)]
    case["h"] = max(case["h"], reach[0] - 2 * case["padding"][0])
    case["w"] = max(case["w"], reach[1] - 2 * case["padding"][1])
    return case


@settings(deadline=None, max_examples=25)
@given(channel_major_cases(), st.booleans())
def test_batch_inner_matches_col2im(case: dict[str, Any], whole_conv: bool) -> None:
    assert not per_image(case)
    x, weight, b = arrays(case)
    with batch_inner(False):
        expected = conv_and_grads(x, weight, b, case)
    with batch_inner(True, whole_conv):
        got = conv_and_grads(x, weight, b, case)
        inner = whole_conv and conv_wide.use_batch_inner(x.shape, weight.shape, (1, 1),
                                                         case["groups"], (1, 1))
    for name, a, e in zip(("output", "grad x", "grad weight", "grad bias"), got, expected,
                          strict=True):
        if e is not None:
            assert a is not None and a.dtype == e.dtype and a.shape == e.shape
            if not inner:  # the input gradient alone: the same memory layout
                assert a.strides == e.strides, name
            np.testing.assert_allclose(a, e, rtol=1e-12, atol=1e-12 * max(1.0, np.abs(e).max()),
                                       err_msg=name)
    if inner:  # (O, OH, OW, N) output; the input gradient in the input's layout
        out = got[0]
        assert out is not None
        assert memory_order(out) == [axis for axis in (1, 2, 3, 0) if out.shape[axis] > 1]
    if case["input_grad"]:
        assert got[1] is not None and memory_order(got[1]) == memory_order(x)


@settings(deadline=None, max_examples=5)
@given(channel_major_cases(max_side=6))
def test_batch_inner_grad_matches_numeric(case: dict[str, Any]) -> None:
    x, weight, b = arrays(case)
    x = np.ascontiguousarray(x)
    kw = {"padding": case["padding"], "dilation": case["dilation"], "groups": case["groups"]}
    with batch_inner(True, whole_conv=True):
        if b is None:
            assert_grad_matches_numeric(lambda x, w: conv2d(x, w, **kw), x, weight)
        else:
            assert_grad_matches_numeric(lambda x, w, b: conv2d(x, w, b, **kw), x, weight, b)


@settings(deadline=None, max_examples=10)
@given(cases(max_side=6))
def test_wide_grad_matches_numeric(case: dict[str, Any]) -> None:
    x, weight, b = arrays(case)
    x = np.ascontiguousarray(x)  # gradcheck perturbs (N, C, H, W) memory; layouts: above
    kw = {"padding": case["padding"], "dilation": case["dilation"], "groups": case["groups"]}
    with wide(True):
        if b is None:
            assert_grad_matches_numeric(lambda x, w: conv2d(x, w, **kw), x, weight)
        else:
            assert_grad_matches_numeric(lambda x, w, b: conv2d(x, w, b, **kw), x, weight, b)


# SimpleCNN's and LeNet-5's layers with an input gradient, and two more of the same paths:
# (C, O, H, kernel, padding)
LAYERS = [(8, 16, 14, 3, 1), (6, 16, 14, 5, 0), (1, 6, 28, 5, 2), (4, 8, 7, 3, 1)]


@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_wide_matches_torch_at_the_benchmark_layers(layer: tuple[int, ...], dtype: Any) -> None:
    pytest.importorskip("torch")
    c, o, h, k, padding = layer
    case = {"padding": (padding, padding), "dilation": (1, 1), "groups": 1}
    out_size = (h + 2 * padding - k + 1,) * 2
    if c * k * k <= conv_ops.PER_IMAGE_MAX_COLUMNS:
        assert conv_wide.fits((1, 1), out_size, c * k * k)
    else:
        assert o > c and conv_wide.fits_batch_inner((1, 1), out_size)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, c, h, h)).astype(dtype)
    w = (rng.standard_normal((o, c, k, k)) / k).astype(dtype)
    b = rng.standard_normal(o).astype(dtype)
    got = conv_and_grads(x, w, b, case)
    for a, expected in zip(got, torch_conv_and_grads(x, w, b, padding), strict=True):
        assert a is not None and a.dtype == dtype and expected is not None
        assert a.shape == expected.shape
        error = np.abs(a - expected).max() / np.abs(expected).max()
        assert error < (1e-5 if dtype == np.float32 else 1e-12)
