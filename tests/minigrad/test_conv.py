"""conv2d, unfold and fold: loop references, exact cases, numerical gradients, errors, PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minigrad.ops import conv as conv_ops
from minigrad.ops.conv import conv2d, fold, max_pool2d, unfold
from minigrad.tensor import Tensor
from minigrad.testing import assert_grad_matches_numeric

# --------------------------------------------------------------------------- slow references


def conv2d_reference(x, weight, bias=None, stride=(1, 1), padding=((0, 0), (0, 0)),
                     dilation=(1, 1), groups=1):
    """Convolution written out pixel by pixel, straight from the definition."""
    n, c, h, w = x.shape
    o, cg, kh, kw = weight.shape
    (top, bottom), (left, right) = padding
    xp = np.zeros((n, c, h + top + bottom, w + left + right), dtype=x.dtype)
    xp[:, :, top:top + h, left:left + w] = x
    oh = (xp.shape[2] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (xp.shape[3] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    og = o // groups
    out = np.zeros((n, o, oh, ow), dtype=x.dtype)
    for b in range(n):
        for oc in range(o):
            first = (oc // og) * cg  # the input channels this output channel's group sees
            for i in range(oh):
                for j in range(ow):
                    total = 0.0
                    for ic in range(cg):
                        for u in range(kh):
                            for v in range(kw):
                                total += (xp[b, first + ic, i * stride[0] + u * dilation[0],
                                             j * stride[1] + v * dilation[1]]
                                          * weight[oc, ic, u, v])
                    out[b, oc, i, j] = total + (0.0 if bias is None else bias[oc])
    return out


def unfold_reference(x, kernel, dilation, padding, stride):
    """Columns (N, C*KH*KW, L), rows ordered (c, u, v), columns ordered (i, j), like PyTorch."""
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
    oh = (xp.shape[2] - dilation[0] * (kernel[0] - 1) - 1) // stride[0] + 1
    ow = (xp.shape[3] - dilation[1] * (kernel[1] - 1) - 1) // stride[1] + 1
    cols = np.zeros((n, c * kernel[0] * kernel[1], oh * ow), dtype=x.dtype)
    for ch in range(c):
        for u in range(kernel[0]):
            for v in range(kernel[1]):
                row = (ch * kernel[0] + u) * kernel[1] + v
                for i in range(oh):
                    for j in range(ow):
                        cols[:, row, i * ow + j] = xp[:, ch, i * stride[0] + u * dilation[0],
                                                     j * stride[1] + v * dilation[1]]
    return cols


# --------------------------------------------------------------------------- strategies


@st.composite
def conv_configs(draw, max_side=6):
    """Small random convolutions whose kernel fits the padded input."""
    groups = draw(st.integers(1, 3))
    c = groups * draw(st.integers(1, 2))
    o = groups * draw(st.integers(1, 2))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    size = []
    for axis in range(2):
        smallest = max(1, dilation[axis] * (kernel[axis] - 1) + 1 - 2 * padding[axis])
        size.append(draw(st.integers(smallest, max(smallest, max_side))))
    return {
        "n": draw(st.integers(1, 2)), "c": c, "o": o, "size": tuple(size), "kernel": kernel,
        "stride": stride, "padding": padding, "dilation": dilation, "groups": groups,
        "bias": draw(st.booleans()), "seed": draw(st.integers(0, 2**32 - 1)),
    }


def make_arrays(cfg, dtype=np.float64):
    rng = np.random.default_rng(cfg["seed"])
    x = rng.standard_normal((cfg["n"], cfg["c"], *cfg["size"])).astype(dtype)
    w = rng.standard_normal((cfg["o"], cfg["c"] // cfg["groups"], *cfg["kernel"])).astype(dtype)
    b = rng.standard_normal(cfg["o"]).astype(dtype) if cfg["bias"] else None
    return x, w, b


def run_conv(cfg, x, w, b=None):
    return conv2d(x, w, b, stride=cfg["stride"], padding=cfg["padding"],
                  dilation=cfg["dilation"], groups=cfg["groups"])


def symmetric(padding):
    return ((padding[0], padding[0]), (padding[1], padding[1]))


# --------------------------------------------------------------------------- forward


@given(conv_configs())
def test_conv2d_forward_matches_loop_reference(cfg):
    x, w, b = make_arrays(cfg)
    out = run_conv(cfg, Tensor(x), Tensor(w), None if b is None else Tensor(b))
    expected = conv2d_reference(x, w, b, cfg["stride"], symmetric(cfg["padding"]),
                                cfg["dilation"], cfg["groups"])
    assert out.shape == expected.shape
    np.testing.assert_allclose(out._data, expected, rtol=1e-10, atol=1e-12)


@given(conv_configs())
def test_conv2d_float32_stays_float32(cfg):
    x, w, b = make_arrays(cfg, np.float32)
    inputs = [Tensor(a, requires_grad=True) for a in (x, w) + ((b,) if b is not None else ())]
    out = run_conv(cfg, *inputs)
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape, np.float32))
    for t in inputs:
        assert t.grad.dtype == np.float32 and t.grad.shape == t.shape
    expected = conv2d_reference(x.astype(np.float64), w.astype(np.float64),
                                None if b is None else b.astype(np.float64), cfg["stride"],
                                symmetric(cfg["padding"]), cfg["dilation"], cfg["groups"])
    np.testing.assert_allclose(out._data, expected, rtol=1e-4, atol=1e-4)


def test_conv2d_notebook_4x4_example():
    # The image 1..16 grows by 1 to the right and by 4 downwards. A filter whose weights sum to
    # zero gives the same value in every window, so each filter below yields a constant map:
    #   vertical difference  (top-left minus the pixel below it):   1 - 5 = -4
    #   horizontal difference (right neighbour minus top-left):      2 - 1 = +1
    image = np.arange(1, 17, dtype=np.float64).reshape(1, 1, 4, 4)
    filters = np.zeros((2, 1, 3, 3))
    filters[0, 0, 0, 0], filters[0, 0, 1, 0] = 1.0, -1.0
    filters[1, 0, 0, 0], filters[1, 0, 0, 1] = -1.0, 1.0
    out = conv2d(Tensor(image), Tensor(filters))._data
    np.testing.assert_array_equal(out[0, 0], [[-4, -4], [-4, -4]])
    np.testing.assert_array_equal(out[0, 1], [[1, 1], [1, 1]])
    with_bias = conv2d(Tensor(image), Tensor(filters), Tensor(np.array([4.0, -1.0])))._data
    np.testing.assert_array_equal(with_bias, np.zeros((1, 2, 2, 2)))


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "padding", "expected"),
    [(144, 3, 1, 0, 142), (60, 3, 1, 0, 58), (20, 3, 2, 0, 9), (28, 3, 1, 1, 28),
     (28, 5, 2, 2, 14)],
)
def test_conv2d_output_size_formula(size, kernel, stride, padding, expected):
    assert (size + 2 * padding - kernel) // stride + 1 == expected
    x = Tensor(np.zeros((1, 1, size, size), np.float32))
    w = Tensor(np.zeros((2, 1, kernel, kernel), np.float32))
    assert conv2d(x, w, stride=stride, padding=padding).shape == (1, 2, expected, expected)


@pytest.mark.parametrize("kernel", [(3, 3), (2, 4), (1, 5)])
@pytest.mark.parametrize("dilation", [1, 2])
def test_conv2d_padding_same_keeps_size_and_valid_is_zero_padding(kernel, dilation):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 7, 10))
    w = rng.standard_normal((4, 3, *kernel))
    same = conv2d(Tensor(x), Tensor(w), padding="same", dilation=dilation)
    assert same.shape == (2, 4, 7, 10)
    # PyTorch's rule: total padding d*(k-1) per axis, the odd pixel at the bottom/right
    totals = [dilation * (k - 1) for k in kernel]
    pads = ((totals[0] // 2, totals[0] - totals[0] // 2),
            (totals[1] // 2, totals[1] - totals[1] // 2))
    expected = conv2d_reference(x, w, None, (1, 1), pads, (dilation, dilation))
    np.testing.assert_allclose(same._data, expected, rtol=1e-10, atol=1e-12)
    valid = conv2d(Tensor(x), Tensor(w), padding="valid", dilation=dilation)
    np.testing.assert_array_equal(valid._data,
                                  conv2d(Tensor(x), Tensor(w), dilation=dilation)._data)


# --------------------------------------------------------------------------- gradients


@given(conv_configs(max_side=5))
def test_conv2d_grad_matches_numeric(cfg):
    x, w, b = make_arrays(cfg)
    if b is None:
        assert_grad_matches_numeric(lambda x, w: run_conv(cfg, x, w), x, w)
    else:
        assert_grad_matches_numeric(lambda x, w, b: run_conv(cfg, x, w, b), x, w, b)


# thresholds that force each im2col layout whatever the shape
LAYOUTS = {"per_image": 10**9, "channel_major": 0}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@given(cfg=conv_configs(max_side=5))
def test_conv2d_each_layout_matches_reference_and_numeric(layout, cfg):
    previous = conv_ops.PER_IMAGE_MAX_COLUMNS
    conv_ops.PER_IMAGE_MAX_COLUMNS = LAYOUTS[layout]
    try:
        x, w, b = make_arrays(cfg)
        out = run_conv(cfg, Tensor(x), Tensor(w), None if b is None else Tensor(b))
        expected = conv2d_reference(x, w, b, cfg["stride"], symmetric(cfg["padding"]),
                                    cfg["dilation"], cfg["groups"])
        np.testing.assert_allclose(out._data, expected, rtol=1e-10, atol=1e-12)
        if b is None:
            assert_grad_matches_numeric(lambda x, w: run_conv(cfg, x, w), x, w)
        else:
            assert_grad_matches_numeric(lambda x, w, b: run_conv(cfg, x, w, b), x, w, b)
    finally:
        conv_ops.PER_IMAGE_MAX_COLUMNS = previous


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("pool", [True, False])
def test_conv_relu_pool_conv_chain_grads_match_numeric(layout, stride, pool):
    # a wide conv's channel-major output feeds ReLU, a pool and another conv: every backward
    # writes its gradient in its own input's memory layout, and the chain must stay exact
    previous = conv_ops.PER_IMAGE_MAX_COLUMNS
    conv_ops.PER_IMAGE_MAX_COLUMNS = LAYOUTS[layout]
    try:
        rng = np.random.default_rng(stride)
        x = rng.standard_normal((3, 2, 8, 8))
        w1, b1 = rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)
        w2 = rng.standard_normal((4, 3, 2, 2))

        def chain(x, w1, b1, w2):
            hidden = conv2d(x, w1, b1, padding=1).relu()
            return conv2d(max_pool2d(hidden, 2) if pool else hidden, w2, stride=stride)

        assert_grad_matches_numeric(chain, x, w1, b1, w2)
    finally:
        conv_ops.PER_IMAGE_MAX_COLUMNS = previous


def test_conv2d_grad_matches_numeric_same_padding_even_kernel():
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((2, 2, 5, 4)), rng.standard_normal((3, 2, 2, 4)), \
        rng.standard_normal(3)
    assert_grad_matches_numeric(lambda x, w, b: conv2d(x, w, b, padding="same"), x, w, b)


@pytest.mark.parametrize(("c", "o", "stride"), [(1, 5, 1), (4, 2, 1), (2, 3, 2), (2, 2, (1, 2))])
def test_conv2d_input_grad_methods_match_numeric(c, o, stride):
    # col2im (more output than input channels, or stride > 1) and the transposed
    # convolution (stride 1, O <= C) are both exercised here
    rng = np.random.default_rng(c * 10 + o)
    x, w = rng.standard_normal((2, c, 5, 6)), rng.standard_normal((o, c, 3, 2))
    assert_grad_matches_numeric(lambda x, w: conv2d(x, w, stride=stride, padding=1), x, w)


def test_conv2d_skips_input_grad_when_not_needed(monkeypatch):
    rng = np.random.default_rng(2)
    x = Tensor(rng.standard_normal((2, 1, 6, 6)))  # images: no gradient wanted
    w = Tensor(rng.standard_normal((3, 1, 3, 3)), requires_grad=True)

    def forbidden(*args, **kwargs):
        raise AssertionError("the input gradient was computed although nobody needs it")

    monkeypatch.setattr(conv_ops, "_conv_input_grad", forbidden)
    conv2d(x, w, padding=1).sum().backward()
    assert x.grad is None
    expected = np.array([[[[
        np.pad(x._data, ((0, 0), (0, 0), (1, 1), (1, 1)))[:, 0, u:u + 6, v:v + 6].sum()
        for v in range(3)] for u in range(3)]]] * 3)
    np.testing.assert_allclose(w.grad._data, expected, rtol=1e-12)


def test_conv2d_bias_only_and_input_only_grads():
    rng = np.random.default_rng(3)
    x = Tensor(rng.standard_normal((2, 2, 5, 5)), requires_grad=True)
    w = Tensor(rng.standard_normal((4, 2, 3, 3)))
    b = Tensor(rng.standard_normal(4), requires_grad=True)
    out = conv2d(x, w, b, stride=2)
    out.backward(np.ones(out.shape))
    np.testing.assert_allclose(b.grad._data, np.full(4, 2 * 2 * 2.0))
    assert w.grad is None and x.grad.shape == x.shape


# --------------------------------------------------------------------------- unfold / fold


@st.composite
def window_configs(draw):
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    size = tuple(
        draw(st.integers(max(1, dilation[a] * (kernel[a] - 1) + 1 - 2 * padding[a]), 6))
        for a in range(2)
    )
    return kernel, dilation, padding, stride, size, draw(st.integers(0, 2**32 - 1))


@given(window_configs())
def test_unfold_matches_loop_reference_and_fold_is_its_adjoint(config):
    kernel, dilation, padding, stride, size, seed = config
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 3, *size))
    cols = unfold(Tensor(x), kernel, dilation, padding, stride)
    np.testing.assert_array_equal(cols._data, unfold_reference(x, kernel, dilation, padding,
                                                              stride))
    y = rng.standard_normal(cols.shape)
    image = fold(Tensor(y), size, kernel, dilation, padding, stride)
    assert image.shape == x.shape
    # <unfold(x), y> == <x, fold(y)>: fold sums the windows back where unfold copied them out
    np.testing.assert_allclose(np.sum(cols._data * y), np.sum(x * image._data), rtol=1e-10)


@given(window_configs())
def test_unfold_and_fold_grads_match_numeric(config):
    kernel, dilation, padding, stride, size, seed = config
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((1, 2, *size))
    assert_grad_matches_numeric(lambda t: unfold(t, kernel, dilation, padding, stride), x)
    cols = unfold(Tensor(x), kernel, dilation, padding, stride)
    y = rng.standard_normal(cols.shape)
    assert_grad_matches_numeric(lambda t: fold(t, size, kernel, dilation, padding, stride), y)


def test_conv2d_equals_unfold_then_matmul():
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((4, 3, 3, 2))
    cols = unfold(Tensor(x), (3, 2), padding=1, stride=(2, 1))._data
    out = conv2d(Tensor(x), Tensor(w), padding=1, stride=(2, 1))._data
    np.testing.assert_allclose(out.reshape(2, 4, -1), w.reshape(4, -1) @ cols, rtol=1e-12)


# --------------------------------------------------------------------------- errors


def test_conv2d_errors_name_the_op_the_shapes_and_the_rule():
    x = Tensor(np.zeros((2, 3, 5, 5)))
    with pytest.raises(ValueError, match=r"conv2d: input of shape \(2, 3, 5, 5\) has 3 "
                                         r"channels.*\(4, 2, 3, 3\).*expects 2"):
        conv2d(x, Tensor(np.zeros((4, 2, 3, 3))))
    with pytest.raises(ValueError, match=r"conv2d: kernel 8x8.*larger than the padded input "
                                         r"7x7.*\(2, 3, 5, 5\)"):
        conv2d(x, Tensor(np.zeros((4, 3, 8, 8))), padding=1)
    with pytest.raises(ValueError, match=r"conv2d: groups=2 must divide.*input channels \(3"):
        conv2d(x, Tensor(np.zeros((4, 1, 3, 3))), groups=2)
    with pytest.raises(ValueError, match=r"conv2d: expected a 4-D input.*\(3, 5, 5\)"):
        conv2d(Tensor(np.zeros((3, 5, 5))), Tensor(np.zeros((4, 3, 3, 3))))
    with pytest.raises(ValueError, match=r"conv2d: expected a 4-D weight.*\(4, 3, 3\)"):
        conv2d(x, Tensor(np.zeros((4, 3, 3))))
    with pytest.raises(ValueError, match=r"conv2d: bias of shape \(3,\).*expected shape \(4,\)"):
        conv2d(x, Tensor(np.zeros((4, 3, 3, 3))), Tensor(np.zeros(3)))
    with pytest.raises(ValueError, match=r"conv2d: padding='same' needs stride 1"):
        conv2d(x, Tensor(np.zeros((4, 3, 3, 3))), stride=2, padding="same")
    with pytest.raises(ValueError, match=r"conv2d: stride must be at least 1"):
        conv2d(x, Tensor(np.zeros((4, 3, 3, 3))), stride=0)
    with pytest.raises(TypeError,
                       match=r"conv2d: input \(minigrad.float32\), weight \(minigrad.float64\)"):
        conv2d(Tensor(np.zeros((2, 3, 5, 5), np.float32)), Tensor(np.zeros((4, 3, 3, 3))))


# --------------------------------------------------------------------------- PyTorch


@given(conv_configs())
def test_conv2d_matches_torch(cfg):
    torch = pytest.importorskip("torch")
    x, w, b = make_arrays(cfg)
    inputs = [Tensor(a, requires_grad=True) for a in (x, w) + ((b,) if b is not None else ())]
    out = run_conv(cfg, *inputs)
    grad = np.random.default_rng(cfg["seed"] + 1).standard_normal(out.shape)
    out.backward(grad)
    ref_inputs = [torch.tensor(a, requires_grad=True)
                  for a in (x, w) + ((b,) if b is not None else ())]
    ref = torch.nn.functional.conv2d(
        ref_inputs[0], ref_inputs[1], ref_inputs[2] if b is not None else None,
        cfg["stride"], cfg["padding"], cfg["dilation"], cfg["groups"])
    ref.backward(torch.tensor(grad))
    np.testing.assert_allclose(out._data, ref.detach().numpy(), rtol=1e-6, atol=1e-6)
    for mine, theirs in zip(inputs, ref_inputs, strict=True):
        np.testing.assert_allclose(mine.grad._data, theirs.grad.detach().numpy(), rtol=1e-6,
                                   atol=1e-6)
