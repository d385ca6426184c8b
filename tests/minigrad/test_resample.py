"""pad (all modes, negative amounts), interpolate (every mode) and pixel_shuffle/unshuffle:
against slow references, numerical gradients (float64) and PyTorch."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.functional as F
from minigrad.errors import OpError
from minigrad.tensor import Tensor
from minigrad.testing import assert_grad_matches_numeric

NUMPY_MODE = {"constant": "constant", "reflect": "reflect", "replicate": "edge",
              "circular": "wrap"}

# --------------------------------------------------------------------------- pad


def pad_reference(x, amounts, mode):
    """np.pad for the positive amounts and slicing for the negative ones; circular crops
    first and wraps around what is left, as PyTorch does."""
    widths = [(0, 0)] * x.ndim
    crop = [slice(None)] * x.ndim
    for i in range(len(amounts) // 2):
        axis = x.ndim - 1 - i
        before, after = amounts[2 * i], amounts[2 * i + 1]
        widths[axis] = (max(before, 0), max(after, 0))
        crop[axis] = slice(max(-before, 0), x.shape[axis] - max(-after, 0))
    if mode == "circular":
        return np.pad(x[tuple(crop)], widths, mode="wrap")
    padded = np.pad(x, widths, mode=NUMPY_MODE[mode])
    for i in range(len(amounts) // 2):
        axis = x.ndim - 1 - i
        before, after = amounts[2 * i], amounts[2 * i + 1]
        keep = [slice(None)] * x.ndim
        keep[axis] = slice(max(-before, 0), padded.shape[axis] - max(-after, 0))
        padded = padded[tuple(keep)]
    return padded


@st.composite
def pad_cases(draw):
    mode = draw(st.sampled_from(list(NUMPY_MODE)))
    padded_dims = draw(st.integers(1, 3))
    ndim = padded_dims + draw(st.integers(1, 2)) if mode != "constant" else draw(
        st.integers(padded_dims, 4))
    shape = tuple(draw(st.integers(2, 4)) for _ in range(ndim))
    amounts = []
    for i in range(padded_dims):
        size = shape[ndim - 1 - i]
        low = -(size // 2)
        high = size - 1 if mode == "reflect" else size // 2 + 1
        before, after = draw(st.integers(low, high)), draw(st.integers(low, high))
        if mode == "circular":  # at most one wrap around what the crop leaves
            kept = size - max(-before, 0) - max(-after, 0)
            before, after = min(before, kept), min(after, kept)
        amounts += [before, after]
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    return rng.standard_normal(shape), tuple(amounts), mode


@settings(max_examples=30)
@given(pad_cases())
def test_pad_matches_numpy_and_numeric_gradients(case):
    x, amounts, mode = case
    expected = pad_reference(x, amounts, mode)
    assert_grad_matches_numeric(lambda t: F.pad(t, amounts, mode), x,
                                reference=lambda a: expected)


def test_pad_constant_value_any_rank_and_dtype():
    x = np.arange(6).reshape(2, 3)
    out = F.pad(Tensor(x), (1, -1, 2, 0), value=7)
    np.testing.assert_array_equal(out.numpy(), np.pad(x[:, :2], ((2, 0), (1, 0)),
                                                      constant_values=7))
    assert out.dtype == mg.int64
    np.testing.assert_array_equal(F.pad(Tensor(x), (1, 1), mode="reflect").numpy(),
                                  np.pad(x, ((0, 0), (1, 1)), mode="reflect"))
    assert mg.pad is F.pad or mg.pad(Tensor(x), (1, 1)).shape == (2, 5)


def test_pad_errors_like_pytorch():
    x = Tensor(np.zeros((1, 2, 3, 5)))
    with pytest.raises(OpError, match="Padding length must be divisible by 2"):
        F.pad(x, (1,))
    with pytest.raises(OpError, match="less than or equal to two times the input dimension"):
        F.pad(x, (1,) * 10)
    with pytest.raises(NotImplementedError, match="Padding size 2 is not supported for 4D"):
        F.pad(x, (1, 1), mode="reflect")
    with pytest.raises(OpError, match=r"Padding mode \"reflect\" doesn't take in value"):
        F.pad(x, (1, 1, 1, 1), mode="reflect", value=1.0)
    with pytest.raises(OpError, match="less than the corresponding input dimension"):
        F.pad(x, (5, 0, 0, 0), mode="reflect")
    with pytest.raises(OpError, match="wrapping around more than once"):
        F.pad(x, (6, 0, 0, 0), mode="circular")
    with pytest.raises(NotImplementedError, match="Unrecognised padding mode foo"):
        F.pad(x, (1, 1), mode="foo")
    with pytest.raises(TypeError, match="must be a tuple of ints"):
        F.pad(x, (1.5, 1))


# --------------------------------------------------------------------------- interpolate


def source_index(dst, in_size, out_size, align_corners, scale):
    """PyTorch's documented source coordinate of output position ``dst``."""
    if align_corners:
        return dst * (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
    ratio = 1.0 / scale if scale else in_size / out_size
    return ratio * (dst + 0.5) - 0.5


def axis_weights(in_size, out_size, mode, align_corners, scale):
    """(out_size, in_size) matrix of one axis, built element by element."""
    m = np.zeros((out_size, in_size))
    for dst in range(out_size):
        if mode in ("nearest", "nearest-exact"):
            ratio = 1.0 / scale if scale else in_size / out_size
            shift = 0.5 if mode == "nearest-exact" else 0.0
            m[dst, min(int(math.floor((dst + shift) * ratio)), in_size - 1)] = 1
        elif mode == "linear":
            if in_size == out_size:
                m[dst, dst] = 1
                continue
            src = max(source_index(dst, in_size, out_size, align_corners, scale), 0.0)
            low = min(int(math.floor(src)), in_size - 1)
            frac = min(src - low, 1.0)
            m[dst, low] += 1 - frac
            m[dst, min(low + 1, in_size - 1)] += frac
        else:  # cubic convolution with A = -0.75, edges repeated
            src = source_index(dst, in_size, out_size, align_corners, scale)
            low = math.floor(src)
            t = src - low
            for k in range(-1, 3):
                d = abs(t - k)
                w = (1.25 * d - 2.25) * d * d + 1 if d <= 1 else (
                    ((-0.75 * d + 3.75) * d - 6) * d + 3)
                m[dst, min(max(low + k, 0), in_size - 1)] += w
    return m


def interpolate_reference(x, size, mode, align_corners=False, scales=None):
    dims = x.ndim - 2
    kind = {"bilinear": "linear", "trilinear": "linear", "bicubic": "cubic"}.get(mode, mode)
    scales = scales or [None] * dims
    matrices = [axis_weights(x.shape[2 + a], size[a], kind, align_corners, scales[a])
                for a in range(dims)]
    out = np.zeros(x.shape[:2] + tuple(size))
    for pos in itertools.product(*(range(s) for s in size)):
        weight = matrices[0][pos[0]]
        for a in range(1, dims):
            weight = np.multiply.outer(weight, matrices[a][pos[a]])
        out[(slice(None), slice(None)) + pos] = (x * weight).reshape(*x.shape[:2], -1).sum(-1)
    return out


MODE_DIMS = {"nearest": (1, 2, 3), "nearest-exact": (1, 2, 3), "linear": (1,),
             "bilinear": (2,), "bicubic": (2,), "trilinear": (3,)}


@st.composite
def interpolate_cases(draw):
    mode = draw(st.sampled_from(list(MODE_DIMS)))
    dims = draw(st.sampled_from(MODE_DIMS[mode]))
    shape = (1, 2) + tuple(draw(st.integers(1, 4)) for _ in range(dims))
    size = [draw(st.integers(1, 6)) for _ in range(dims)]
    align = draw(st.booleans()) if mode not in ("nearest", "nearest-exact") else None
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    return rng.standard_normal(shape), size, mode, align


@settings(max_examples=30)
@given(interpolate_cases())
def test_interpolate_matches_reference_and_numeric_gradients(case):
    x, size, mode, align = case
    expected = interpolate_reference(x, size, mode, bool(align))
    assert_grad_matches_numeric(
        lambda t: F.interpolate(t, size=size, mode=mode, align_corners=align), x,
        reference=lambda a: expected)


def test_interpolate_scale_factor_sets_the_size_and_the_source_coordinates():
    x = np.random.default_rng(9).standard_normal((1, 1, 5))
    out = F.interpolate(Tensor(x), scale_factor=1.7, mode="linear")
    assert out.shape == (1, 1, 8)
    np.testing.assert_allclose(out.numpy(), interpolate_reference(x, [8], "linear",
                                                                  scales=[1.7]))
    recomputed = F.interpolate(Tensor(x), scale_factor=1.7, mode="linear",
                               recompute_scale_factor=True)
    np.testing.assert_allclose(recomputed.numpy(), interpolate_reference(x, [8], "linear"))
    area = F.interpolate(Tensor(x), size=2, mode="area")
    np.testing.assert_allclose(area.numpy(), F.adaptive_avg_pool1d(Tensor(x), 2).numpy())
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        np.testing.assert_allclose(F.upsample(Tensor(x), size=8).numpy(),
                                   F.interpolate(Tensor(x), size=8).numpy())


def test_interpolate_errors_like_pytorch():
    x = Tensor(np.zeros((1, 1, 4, 4)))
    with pytest.raises(ValueError, match="only one of size or scale_factor"):
        F.interpolate(x, size=2, scale_factor=2)
    with pytest.raises(ValueError, match="either size or scale_factor should be defined"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="align_corners option can only be set"):
        F.interpolate(x, size=2, align_corners=True)
    with pytest.raises(NotImplementedError, match="Got 4D input, but linear mode needs 3D"):
        F.interpolate(x, size=2, mode="linear")
    with pytest.raises(NotImplementedError, match="Got 4D input, but trilinear mode needs 5D"):
        F.interpolate(x, size=2, mode="trilinear")
    with pytest.raises(ValueError, match="same number of spatial dimensions"):
        F.interpolate(x, size=(2, 2, 2))
    with pytest.raises(ValueError, match="recompute_scale_factor is not meaningful"):
        F.interpolate(x, size=2, recompute_scale_factor=True)
    with pytest.raises(OpError, match="sizes should be greater than 0"):
        F.interpolate(x, scale_factor=0.1)
    with pytest.raises(NotImplementedError, match="antialias"):
        F.interpolate(x, size=2, mode="bilinear", antialias=True)


# --------------------------------------------------------------------------- pixel shuffle


def test_pixel_shuffle_places_channel_blocks_and_unshuffle_inverts_it():
    rng = np.random.default_rng(10)
    x = rng.standard_normal((2, 3 * 4, 2, 3))
    out = F.pixel_shuffle(Tensor(x), 2)
    expected = np.zeros((2, 3, 4, 6))
    for c, i, j, a, b in itertools.product(range(3), range(2), range(3), range(2), range(2)):
        expected[:, c, 2 * i + a, 2 * j + b] = x[:, c * 4 + a * 2 + b, i, j]
    np.testing.assert_array_equal(out.numpy(), expected)
    np.testing.assert_array_equal(F.pixel_unshuffle(out, 2).numpy(), x)
    assert_grad_matches_numeric(lambda t: F.pixel_shuffle(t, 2), x[:1])
    with pytest.raises(OpError, match="divisible by the square of upscale_factor"):
        F.pixel_shuffle(Tensor(np.zeros((1, 5, 2, 2))), 2)
    with pytest.raises(OpError, match="at least 3 dimensions"):
        F.pixel_unshuffle(Tensor(np.zeros((4, 4))), 2)


# --------------------------------------------------------------------------- PyTorch


INTERPOLATE_CASES = [
    ((2, 3, 5), dict(size=9, mode="nearest")),
    ((2, 3, 5), dict(scale_factor=2.3, mode="nearest")),
    ((2, 3, 7), dict(scale_factor=0.6, mode="nearest-exact")),
    ((2, 3, 5), dict(scale_factor=1.7, mode="linear")),
    ((2, 3, 5), dict(size=3, mode="linear", align_corners=True)),
    ((2, 3, 5, 6), dict(scale_factor=(1.5, 0.7), mode="bilinear")),
    ((2, 3, 5, 6), dict(size=(7, 4), mode="bilinear", align_corners=True)),
    ((2, 3, 5, 6), dict(scale_factor=2.3, mode="bicubic")),
    ((2, 3, 5, 6), dict(size=(3, 9), mode="bicubic", align_corners=True)),
    ((2, 3, 4, 5), dict(size=(7, 3), mode="nearest")),
    ((1, 2, 3, 4, 5), dict(scale_factor=(1.5, 2, 0.6), mode="trilinear")),
    ((1, 2, 3, 4, 5), dict(size=(5, 3, 7), mode="trilinear", align_corners=True)),
    ((1, 2, 3, 4, 5), dict(scale_factor=1.7, mode="nearest-exact",
                           recompute_scale_factor=True)),
    ((1, 2, 3, 4, 5), dict(size=(2, 3, 3), mode="area")),
    ((2, 3, 6, 5), dict(scale_factor=0.5, mode="area")),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, kwargs", INTERPOLATE_CASES)
def test_interpolate_matches_torch_values_gradients_and_dtypes(shape, kwargs, dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    x = rng.standard_normal(shape).astype(dtype)
    ours = Tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    out = F.interpolate(ours, **kwargs)
    expected = torch.nn.functional.interpolate(theirs, **kwargs)
    assert out.shape == tuple(expected.shape)
    assert str(out.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=tol,
                               atol=tol)
    g = rng.standard_normal(out.shape).astype(dtype)
    (out * Tensor(g)).sum().backward()
    (expected * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=tol * 10,
                               atol=tol * 10)


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("amounts", [(1, 2), (2, -1, 1, 0), (-1, -2, 3, 1), (1, 1, 1, 1, 1, 2),
                                     (3, 0, -1, 2)])
def test_pad_matches_torch_values_and_gradients(mode, amounts):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(12).standard_normal((2, 3, 5, 7))
    for shape in ((2, 3, 5, 7), (3, 5, 7), (1, 2, 3, 5, 7)):
        data = x.reshape(-1)[:math.prod(shape)].reshape(shape)
        theirs = torch.tensor(data, requires_grad=True)
        try:
            expected = torch.nn.functional.pad(theirs, amounts, mode=mode)
        except (RuntimeError, NotImplementedError) as error:
            with pytest.raises(type(error)):
                F.pad(Tensor(data), amounts, mode=mode)
            continue
        ours = Tensor(data, requires_grad=True)
        out = F.pad(ours, amounts, mode=mode)
        np.testing.assert_array_equal(out.detach().numpy(), expected.detach().numpy())
        g = np.random.default_rng(13).standard_normal(out.shape)
        (out * Tensor(g)).sum().backward()
        (expected * torch.tensor(g)).sum().backward()
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), atol=1e-12)


def test_pixel_shuffle_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(14).standard_normal((2, 3, 18, 2, 3)).astype(np.float32)
    np.testing.assert_array_equal(F.pixel_shuffle(Tensor(x), 3).numpy(),
                                  torch.nn.functional.pixel_shuffle(torch.tensor(x), 3).numpy())
    y = x.reshape(2, 3, 9, 4, 3)[:, :, :, :, :2]
    np.testing.assert_array_equal(
        F.pixel_unshuffle(Tensor(y), 2).numpy(),
        torch.nn.functional.pixel_unshuffle(torch.tensor(y), 2).numpy())


def test_channel_shuffle_matches_torch_and_numeric_gradients():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(19).standard_normal((2, 6, 3, 2))
    np.testing.assert_array_equal(
        F.channel_shuffle(Tensor(x), 3).numpy(),
        torch.nn.functional.channel_shuffle(torch.tensor(x), 3).numpy())
    np.testing.assert_array_equal(F.native_channel_shuffle(Tensor(x[:, :, 0]), 2).numpy(),
                                  torch.native_channel_shuffle(torch.tensor(x[:, :, 0]), 2))
    assert_grad_matches_numeric(lambda t: F.channel_shuffle(t, 2), x[:1, :, :1])
    with pytest.raises(OpError, match="Number of channels must be divisible by groups"):
        F.channel_shuffle(Tensor(x), 4)
    with pytest.raises(OpError, match="expects input with > 2 dims"):
        mg.channel_shuffle(Tensor(x[0, 0]), 2)


# --------------------------------------------------------------------------- grid sampling


def grid_sample_reference(x, grid, mode, padding_mode, align_corners):
    """Each output point read from its corners one at a time (2-D input)."""
    n, c, h, w = x.shape
    out = np.zeros((n, c) + grid.shape[1:3])

    def position(coord, size):
        p = (coord + 1) / 2 * (size - 1) if align_corners else ((coord + 1) * size - 1) / 2
        if padding_mode == "reflection":
            low, high = (0, size - 1) if align_corners else (-0.5, size - 0.5)
            span = high - low
            if span == 0:
                return 0.0
            d = abs(p - low) % (2 * span)
            p = low + (d if d <= span else 2 * span - d)
        if padding_mode in ("border", "reflection"):
            p = min(max(p, 0), size - 1)
        return p

    for b, i, j in itertools.product(range(n), range(grid.shape[1]), range(grid.shape[2])):
        px, py = position(grid[b, i, j, 0], w), position(grid[b, i, j, 1], h)
        if mode == "nearest":
            corners = [(int(np.rint(py)), int(np.rint(px)), 1.0)]
        else:
            x0, y0 = math.floor(px), math.floor(py)
            fx, fy = px - x0, py - y0
            corners = [(y0 + a, x0 + e, (fy if a else 1 - fy) * (fx if e else 1 - fx))
                       for a in (0, 1) for e in (0, 1)]
        for y, xx, weight in corners:
            if 0 <= y < h and 0 <= xx < w:
                out[b, :, i, j] += weight * x[b, :, y, xx]
    return out


@settings(max_examples=10)
@given(st.sampled_from(["bilinear", "nearest", "bicubic"]),
       st.sampled_from(["zeros", "border", "reflection"]), st.booleans(), st.integers(0, 2**31))
def test_grid_sample_matches_reference_and_numeric_gradients(mode, padding_mode, align, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 2, 3, 4))
    grid = rng.uniform(-1.3, 1.3, (2, 2, 3, 2))
    reference = None
    if mode != "bicubic":  # bicubic is compared with PyTorch below
        expected = grid_sample_reference(x, grid, mode, padding_mode, align)
        reference = lambda a: expected  # noqa: E731
    assert_grad_matches_numeric(lambda t: F.grid_sample(t, Tensor(grid), mode, padding_mode,
                                                        align), x, reference=reference)
    if mode != "nearest":
        assert_grad_matches_numeric(
            lambda g: F.grid_sample(Tensor(x), g, mode, padding_mode, align), grid)


@pytest.mark.parametrize("dims", [2, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_grid_sample_and_affine_grid_match_torch(dims, dtype):
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    rng = np.random.default_rng(20)
    shape = (2, 3, 4, 5) if dims == 2 else (2, 3, 3, 4, 5)
    x = rng.standard_normal(shape).astype(dtype)
    theta = (np.eye(dims, dims + 1) + 0.3 * rng.standard_normal((2, dims, dims + 1))).astype(
        dtype)
    tol = 1e-4 if dtype == np.float32 else 1e-10
    for align in (False, True):
        out_size = (2, 3) + (3,) * dims
        grid = F.affine_grid(Tensor(theta), out_size, align)
        their_grid = tf.affine_grid(torch.tensor(theta), out_size, align)
        np.testing.assert_allclose(grid.numpy(), their_grid.numpy(), atol=tol)
        modes = ("bilinear", "nearest", "bicubic") if dims == 2 else ("bilinear", "nearest")
        for mode, padding_mode in itertools.product(modes, ("zeros", "border", "reflection")):
            ours_x, ours_t = Tensor(x, requires_grad=True), Tensor(theta, requires_grad=True)
            theirs_x = torch.tensor(x, requires_grad=True)
            theirs_t = torch.tensor(theta, requires_grad=True)
            out = F.grid_sample(ours_x, F.affine_grid(ours_t, out_size, align), mode,
                                padding_mode, align)
            expected = tf.grid_sample(theirs_x, tf.affine_grid(theirs_t, out_size, align), mode,
                                      padding_mode, align)
            np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(),
                                       rtol=tol, atol=tol)
            g = rng.standard_normal(out.shape).astype(dtype)
            (out * Tensor(g)).sum().backward()
            (expected * torch.tensor(g)).sum().backward()
            np.testing.assert_allclose(ours_x.grad.numpy(), theirs_x.grad.numpy(), rtol=tol,
                                       atol=tol)
            their_theta_grad = theirs_t.grad.numpy()
            our_theta_grad = (np.zeros_like(their_theta_grad) if ours_t.grad is None
                              else ours_t.grad.numpy())
            np.testing.assert_allclose(our_theta_grad, their_theta_grad, rtol=tol * 10,
                                       atol=tol * 10)


def test_grid_sample_errors():
    x = Tensor(np.zeros((1, 1, 3, 3)))
    with pytest.raises(ValueError, match="expected mode to be 'bilinear'"):
        F.grid_sample(x, Tensor(np.zeros((1, 2, 2, 2))), mode="cubic", align_corners=False)
    with pytest.raises(ValueError, match="expected padding_mode"):
        F.grid_sample(x, Tensor(np.zeros((1, 2, 2, 2))), padding_mode="wrap",
                      align_corners=False)
    with pytest.raises(OpError, match="expected grid of shape"):
        F.grid_sample(x, Tensor(np.zeros((1, 2, 2, 3))), align_corners=False)
    with pytest.raises(OpError, match="Nx2x3"):
        F.affine_grid(Tensor(np.zeros((1, 3, 3))), (1, 1, 2, 2), align_corners=False)
    with pytest.warns(UserWarning, match="align_corners=False"):
        F.affine_grid(Tensor(np.zeros((1, 2, 3))), (1, 1, 2, 2))
