"""conv1d/conv3d, transposed convolutions and the shared window-argument validator: against
slow loop references, numerical gradients (float64) and PyTorch."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.functional as F
from minigrad.errors import OpError
from minigrad.ops.windows import ntuple
from minigrad.tensor import Tensor
from minigrad.testing import assert_grad_matches_numeric

# --------------------------------------------------------------------------- slow references


def conv_reference(x, weight, bias, stride, padding, dilation, groups):
    """N-d cross-correlation, one output element at a time, straight from the definition."""
    dims = x.ndim - 2
    n, c = x.shape[:2]
    o, cg = weight.shape[:2]
    kernel = weight.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple((p, p) for p in padding))
    out_size = [(xp.shape[2 + a] - dilation[a] * (kernel[a] - 1) - 1) // stride[a] + 1
                for a in range(dims)]
    og = o // groups
    out = np.zeros((n, o, *out_size))
    for b, oc in itertools.product(range(n), range(o)):
        first = (oc // og) * cg
        for pos in itertools.product(*(range(s) for s in out_size)):
            total = 0.0 if bias is None else bias[oc]
            for ic in range(cg):
                for k in itertools.product(*(range(s) for s in kernel)):
                    at = tuple(pos[a] * stride[a] + k[a] * dilation[a] for a in range(dims))
                    total += xp[(b, first + ic) + at] * weight[(oc, ic) + k]
            out[(b, oc) + pos] = total
    return out


def conv_transpose_reference(x, weight, bias, stride, padding, output_padding, dilation,
                             groups):
    """Each input element scatters weight * value into the output (the textbook definition)."""
    dims = x.ndim - 2
    n, c = x.shape[:2]
    og = weight.shape[1]
    kernel = weight.shape[2:]
    cg = c // groups
    size = [(x.shape[2 + a] - 1) * stride[a] - 2 * padding[a] + dilation[a] * (kernel[a] - 1)
            + output_padding[a] + 1 for a in range(dims)]
    full = [s + 2 * p for s, p in zip(size, padding)]
    out = np.zeros((n, og * groups, *full))
    for b, ic in itertools.product(range(n), range(c)):
        group = ic // cg
        for pos in itertools.product(*(range(s) for s in x.shape[2:])):
            for oc in range(og):
                for k in itertools.product(*(range(s) for s in kernel)):
                    at = tuple(pos[a] * stride[a] + k[a] * dilation[a] for a in range(dims))
                    out[(b, group * og + oc) + at] += x[(b, ic) + pos] * weight[(ic, oc) + k]
    crop = tuple(slice(p, p + s) for p, s in zip(padding, size))
    out = out[(slice(None), slice(None)) + crop]
    if bias is not None:
        out = out + bias.reshape((-1,) + (1,) * dims)
    return out


# --------------------------------------------------------------------------- strategies


@st.composite
def conv_cases(draw, dims, transposed=False):
    groups = draw(st.integers(1, 2))
    c = groups * draw(st.integers(1, 2))
    o = groups * draw(st.integers(1, 2))
    n = draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    stride = tuple(draw(st.integers(1, 2)) for _ in range(dims))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(dims))
    padding = tuple(draw(st.integers(0, 1)) for _ in range(dims))
    small = 4 if dims < 3 else 3
    if transposed:
        size = tuple(draw(st.integers(1, small - 1)) for _ in range(dims))
        output_padding = tuple(draw(st.integers(0, max(s, d) - 1))
                               for s, d in zip(stride, dilation))
        # the output must not be empty
        if any((s - 1) * st_ - 2 * p + d * (k - 1) + op + 1 < 1 for s, st_, p, d, k, op in zip(
                size, stride, padding, dilation, kernel, output_padding)):
            padding = (0,) * dims
        weight_shape = (c, o // groups, *kernel)
    else:
        lowest = [max(1, d * (k - 1) + 1 - 2 * p) for k, d, p in zip(kernel, dilation, padding)]
        size = tuple(draw(st.integers(low, max(low, small))) for low in lowest)
        output_padding = None
        weight_shape = (o, c // groups, *kernel)
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    x = rng.standard_normal((n, c, *size))
    weight = rng.standard_normal(weight_shape)
    bias = rng.standard_normal(o) if draw(st.booleans()) else None
    return x, weight, bias, stride, padding, dilation, groups, output_padding


# --------------------------------------------------------------------------- properties


@settings(max_examples=12)
@given(st.sampled_from([1, 2, 3]).flatmap(conv_cases))
def test_convnd_matches_reference_and_numeric_gradients(case):
    x, weight, bias, stride, padding, dilation, groups, _ = case
    dims = x.ndim - 2
    conv = (F.conv1d, F.conv2d, F.conv3d)[dims - 1]
    expected = conv_reference(x, weight, bias, stride, padding, dilation, groups)
    arrays = (x, weight) if bias is None else (x, weight, bias)

    def fn(*tensors):
        return conv(*tensors[:2], tensors[2] if len(tensors) > 2 else None, stride, padding,
                    dilation, groups)

    assert_grad_matches_numeric(fn, *arrays, reference=lambda *a: expected)


@settings(max_examples=12)
@given(st.sampled_from([1, 2, 3]).flatmap(lambda d: conv_cases(d, transposed=True)))
def test_conv_transposend_matches_reference_and_numeric_gradients(case):
    x, weight, bias, stride, padding, dilation, groups, output_padding = case
    dims = x.ndim - 2
    conv_t = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[dims - 1]
    expected = conv_transpose_reference(x, weight, bias, stride, padding, output_padding,
                                        dilation, groups)
    arrays = (x, weight) if bias is None else (x, weight, bias)

    def fn(*tensors):
        return conv_t(*tensors[:2], tensors[2] if len(tensors) > 2 else None, stride, padding,
                      output_padding, groups, dilation)

    assert_grad_matches_numeric(fn, *arrays, reference=lambda *a: expected)


def test_conv_transpose_is_the_input_gradient_of_conv():
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((2, 4, 7, 6)), requires_grad=True)
    weight = Tensor(rng.standard_normal((6, 2, 3, 2)))
    y = F.conv2d(x, weight, stride=2, padding=1, dilation=(1, 2), groups=2)
    g = rng.standard_normal(y.shape)
    y.backward(Tensor(g))
    transposed = F.conv_transpose2d(Tensor(g), weight, stride=2, padding=1,
                                    output_padding=(0, 1), groups=2, dilation=(1, 2))
    np.testing.assert_allclose(transposed.numpy(), x.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize("op, dims", [(F.conv1d, 1), (F.conv2d, 2), (F.conv3d, 3)])
def test_same_padding_keeps_the_size_with_the_odd_pixel_after(op, dims):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 2) + (5,) * dims)
    weight = rng.standard_normal((3, 2) + (4,) * dims)
    out = op(Tensor(x), Tensor(weight), padding="same", dilation=1)
    assert out.shape == (1, 3) + (5,) * dims
    expected = conv_reference(np.pad(x, ((0, 0), (0, 0)) + ((1, 2),) * dims), weight, None,
                              (1,) * dims, (0,) * dims, (1,) * dims, 1)
    np.testing.assert_allclose(out.numpy(), expected, atol=1e-12)


@pytest.mark.parametrize("op, dims", [(F.conv1d, 1), (F.conv2d, 2), (F.conv3d, 3),
                                      (F.conv_transpose1d, 1), (F.conv_transpose2d, 2),
                                      (F.conv_transpose3d, 3)])
def test_empty_batch_and_unbatched_inputs(op, dims):
    rng = np.random.default_rng(2)
    weight = Tensor(rng.standard_normal((2, 2) + (2,) * dims), requires_grad=True)
    empty = Tensor(np.zeros((0, 2) + (4,) * dims), requires_grad=True)
    out = op(empty, weight)
    assert out.shape[0] == 0 and out.shape[1] == 2
    out.sum().backward()
    assert empty.grad.shape == empty.shape
    np.testing.assert_array_equal(weight.grad.numpy(), 0)
    single = rng.standard_normal((2,) + (4,) * dims)
    unbatched = op(Tensor(single), weight.detach())
    batched = op(Tensor(single[None]), weight.detach())
    np.testing.assert_allclose(unbatched.numpy(), batched.numpy()[0])


# --------------------------------------------------------------------------- validation


def test_ntuple_validates_kind_and_minimum_naming_op_and_argument():
    assert ntuple(3, 2, "kernel_size", "op") == (3, 3)
    assert ntuple((1, 2, 3), 3, "stride", "op") == (1, 2, 3)
    assert ntuple([2], 3, "stride", "op") == (2, 2, 2)
    with pytest.raises(TypeError, match=r"Conv2d: kernel_size must be an int or a tuple of 2"):
        ntuple(2.5, 2, "kernel_size", "Conv2d")
    with pytest.raises(TypeError, match="tuple of 3 ints"):
        ntuple((1, 2), 3, "stride", "op")
    with pytest.raises(TypeError):
        ntuple(True, 1, "stride", "op")
    with pytest.raises(OpError, match=r"conv3d: stride must be positive, got 0"):
        ntuple(0, 3, "stride", "conv3d")
    with pytest.raises(OpError, match=r"padding must be non-negative"):
        ntuple((1, -1), 2, "padding", "op", minimum=0)


@pytest.mark.parametrize("op", [F.conv1d, F.conv2d, F.conv3d, F.conv_transpose1d,
                                F.conv_transpose2d, F.conv_transpose3d])
def test_conv_functionals_reject_bad_window_arguments(op):
    dims = int(op.__name__[-2])
    x = Tensor(np.zeros((1, 2) + (5,) * dims))
    weight = Tensor(np.zeros((2, 2) + (2,) * dims))
    for name, value in (("stride", 0), ("dilation", 0), ("padding", -1)):
        with pytest.raises(OpError, match=rf"{op.__name__}: {name} must be"):
            op(x, weight, **{name: value})
    with pytest.raises(TypeError, match=rf"{op.__name__}: stride must be an int"):
        op(x, weight, stride=1.5)
    with pytest.raises(OpError, match=rf"Expected {dims + 1}D \(unbatched\) or {dims + 2}D"):
        op(Tensor(np.zeros((1,) * (dims + 3))), weight)
    with pytest.raises(OpError, match="kernel size should be greater than zero"):
        op(x, Tensor(np.zeros((2, 2) + (0,) * dims)))


def test_conv_errors_name_channels_bias_size_and_dtype():
    x = Tensor(np.zeros((1, 3, 5, 5, 5)))
    with pytest.raises(OpError, match=r"conv3d: .*expected input\[1, 3, 5, 5, 5\] to have 2 "
                                      r"channels, but got 3"):
        F.conv3d(x, Tensor(np.zeros((4, 2, 2, 2, 2))))
    with pytest.raises(OpError, match=r"expected bias to be 1-dimensional with 4 elements"):
        F.conv3d(x, Tensor(np.zeros((4, 3, 2, 2, 2))), Tensor(np.zeros(3)))
    with pytest.raises(OpError, match=r"Kernel size can't be greater than actual input size"):
        F.conv3d(x, Tensor(np.zeros((4, 3, 6, 2, 2))))
    with pytest.raises(OpError, match=r"must have the same dtype"):
        F.conv1d(Tensor(np.zeros((1, 3, 5), np.float32)), Tensor(np.zeros((4, 3, 2))))
    with pytest.raises(OpError, match=r"padding='same' is not supported for strided"):
        F.conv1d(Tensor(np.zeros((1, 3, 5))), Tensor(np.zeros((4, 3, 2))), stride=2,
                 padding="same")
    with pytest.raises(OpError, match=r"output padding must be smaller than either stride or "
                                      r"dilation"):
        F.conv_transpose2d(Tensor(np.zeros((1, 3, 4, 4))), Tensor(np.zeros((3, 2, 2, 2))),
                           stride=2, output_padding=2)
    with pytest.raises(OpError, match=r"Output size is too small"):
        F.conv_transpose2d(Tensor(np.zeros((1, 3, 2, 2))), Tensor(np.zeros((3, 2, 2, 2))),
                           padding=3)
    with pytest.raises(OpError, match=r"conv_transpose1d: .*to have 4 channels, but got 3"):
        F.conv_transpose1d(Tensor(np.zeros((1, 3, 5))), Tensor(np.zeros((4, 2, 2))))


def test_torch_level_spellings_exist():
    x = mg.randn(1, 2, 6)
    w = mg.randn(3, 2, 2)
    np.testing.assert_allclose(mg.conv1d(x, w).numpy(), F.conv1d(x, w).numpy())
    assert mg.conv_transpose3d is not None and mg.conv3d is not None
    values, indices = mg.adaptive_max_pool1d(x, 2)
    assert values.shape == indices.shape == (1, 2, 2)


# --------------------------------------------------------------------------- PyTorch


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", [
    ("conv1d", (2, 4, 9), (6, 2, 3), dict(stride=2, padding=1, dilation=2, groups=2)),
    ("conv1d", (4, 7), (6, 4, 4), dict(padding="same", dilation=1)),
    ("conv2d", (2, 4, 6, 7), (6, 2, 3, 2), dict(padding="same", groups=2)),
    ("conv2d", (0, 4, 6, 7), (6, 4, 3, 2), dict(padding=(1, 0))),
    ("conv3d", (2, 4, 5, 6, 7), (6, 2, 3, 2, 3),
     dict(stride=(1, 2, 3), padding=(1, 0, 2), dilation=(2, 1, 1), groups=2)),
    ("conv3d", (2, 5, 4, 6), (4, 2, 2, 2, 3), dict(padding="valid")),
    ("conv3d", (1, 2, 4, 5, 6), (4, 2, 2, 3, 2), dict(padding="same", dilation=(1, 2, 1))),
    ("conv_transpose1d", (2, 4, 5), (4, 3, 3), dict(stride=3, padding=1, output_padding=2)),
    ("conv_transpose2d", (2, 4, 5, 6), (4, 3, 3, 2),
     dict(stride=(2, 3), padding=(1, 0), output_padding=(1, 2), groups=2, dilation=(1, 2))),
    ("conv_transpose2d", (4, 5, 6), (4, 3, 3, 2), dict(dilation=2, output_padding=1)),
    ("conv_transpose3d", (2, 4, 3, 4, 2), (4, 3, 2, 3, 2),
     dict(stride=2, padding=1, output_padding=(0, 1, 1), groups=2)),
])
def test_convs_match_torch_values_gradients_and_dtypes(case, dtype):
    torch = pytest.importorskip("torch")
    name, x_shape, w_shape, kwargs = case
    rng = np.random.default_rng(3)
    x = rng.standard_normal(x_shape).astype(dtype)
    weight = rng.standard_normal(w_shape).astype(dtype)
    channels = w_shape[1] * kwargs.get("groups", 1) if "transpose" in name else w_shape[0]
    bias = rng.standard_normal(channels).astype(dtype)
    ours = [Tensor(a, requires_grad=True) for a in (x, weight, bias)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, weight, bias)]
    out = getattr(F, name)(*ours, **kwargs)
    expected = getattr(torch.nn.functional, name)(*theirs, **kwargs)
    assert out.shape == tuple(expected.shape)
    assert out.dtype == mg.float32 if dtype == np.float32 else out.dtype == mg.float64
    tol = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=tol,
                               atol=tol)
    g = rng.standard_normal(out.shape).astype(dtype)
    (out * Tensor(g)).sum().backward()
    (expected * torch.tensor(g)).sum().backward()
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=tol, atol=tol)


def test_torch_convolution_and_conv_tbc_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(17)
    x = rng.standard_normal((2, 4, 5, 6))
    for weight, transposed in ((rng.standard_normal((6, 2, 3, 2)), False),
                               (rng.standard_normal((4, 3, 3, 2)), True)):
        args = (None, (2, 1), (1, 0), (1, 2), transposed, (1, 0) if transposed else (0, 0), 2)
        ours = mg.convolution(Tensor(x), Tensor(weight), *args)
        theirs = torch.convolution(torch.tensor(x), torch.tensor(weight), *args)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-12)
    seq, weight, bias = (rng.standard_normal(s) for s in ((7, 2, 3), (3, 3, 4), (4,)))
    expected = torch.conv_tbc(torch.tensor(seq), torch.tensor(weight), torch.tensor(bias), 1)
    ours = F.conv_tbc(Tensor(seq), Tensor(weight), Tensor(bias), 1)
    np.testing.assert_allclose(ours.numpy(), expected.numpy(), atol=1e-12)
    assert mg.conv_tbc is not None
