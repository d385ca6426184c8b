"""Resampling: ``interpolate`` (nearest, nearest-exact, linear, bilinear, bicubic, trilinear,
area), its ``upsample`` aliases, and ``pixel_shuffle`` / ``pixel_unshuffle``.

Every interpolation mode is separable: along each spatial axis an output position reads a few
input positions (1 for nearest, 2 for linear, 4 for cubic) with weights, computed here with
PyTorch's source-index formulas. ``Interpolate`` applies the axes last to first (the order of
PyTorch's CPU kernels, so float32 results round alike) as ``np.take`` and a weighted sum; its
backward scatter-adds the weighted gradient back, axis by axis.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from minigrad.autograd.engine import Context, Primitive
from minigrad.errors import OpError
from minigrad.ops.windows import gather_axis, scatter_add_axis

if TYPE_CHECKING:
    from minigrad.tensor import Tensor

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear",
           "pixel_shuffle", "pixel_unshuffle", "channel_shuffle", "Interpolate"]

Taps = list[tuple[np.ndarray, np.ndarray | None]]  # (input index, weight) per tap

_LINEAR_MODES = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")


class Interpolate(Primitive):
    """(N, C, *S) -> (N, C, *O): along axis 2 + i, output j is sum_t w_t[j] * x[index_t[j]]."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, *, taps: list[Taps]) -> np.ndarray:
        sizes = list(x.shape[2:])
        for i in reversed(range(len(taps))):
            x = _apply_axis(x, taps[i], 2 + i)
        ctx.taps, ctx.sizes = taps, sizes
        return x

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray]:
        if not isinstance(grad, np.ndarray):  # create_graph=True: the adjoint as a graph op
            from minigrad.autograd.higher_order import linear_backward

            return (linear_backward(Interpolate, ctx, grad, lambda c, x: Interpolate.forward(
                Context(), x, taps=c.taps)),)
        for i, (axis_taps, size) in enumerate(zip(ctx.taps, ctx.sizes)):
            axis = 2 + i
            shape = [1] * grad.ndim
            shape[axis] = -1
            total: np.ndarray | None = None
            for index, weight in axis_taps:
                g = grad if weight is None else grad * weight.astype(grad.dtype).reshape(shape)
                part = scatter_add_axis(g, index, axis, size)
                total = part if total is None else total + part
            assert total is not None  # every axis has at least one tap
            grad = total
        return (grad,)


def _apply_axis(x: np.ndarray, axis_taps: Taps, axis: int) -> np.ndarray:
    shape = [1] * x.ndim
    shape[axis] = -1
    out: np.ndarray | None = None
    for index, weight in axis_taps:
        part = gather_axis(x, index, axis)
        if weight is not None:
            part = part * weight.reshape(shape)
        out = part if out is None else out + part
    assert out is not None  # every axis has at least one tap
    return out


# --------------------------------------------------------------------------- source indices


def _scale(in_size: int, out_size: int, align_corners: bool, scale: float | None,
           dtype: Any) -> Any:
    """PyTorch's area_pixel_compute_scale, in the op's compute dtype."""
    if align_corners:
        return dtype((in_size - 1) / (out_size - 1)) if out_size > 1 else dtype(0)
    if scale is not None and scale > 0:
        return dtype(1.0 / scale)
    return dtype(in_size) / dtype(out_size)


def _nearest_taps(in_size: int, out_size: int, scale: float | None, exact: bool) -> Taps:
    dst = np.arange(out_size)
    factor = _scale(in_size, out_size, False, scale, np.float32)
    if exact:
        real = (dst.astype(np.float64) + 0.5) * np.float64(factor)
        src = np.floor(real.astype(np.float32)).astype(np.int64)
    else:
        src = np.floor(dst.astype(np.float32) * factor).astype(np.int64)
    return [(np.minimum(src, in_size - 1), None)]


def _linear_taps(in_size: int, out_size: int, align_corners: bool, scale: float | None,
                 dtype: Any) -> Taps:
    if in_size == out_size:  # PyTorch copies such an axis whatever the scale factor
        return [(np.arange(out_size), None)]
    factor = _scale(in_size, out_size, align_corners, scale, dtype)
    dst = np.arange(out_size, dtype=dtype)
    if align_corners:
        real = factor * dst
    else:
        real = np.maximum(factor * (dst + dtype(0.5)) - dtype(0.5), dtype(0))
    index = np.minimum(np.floor(real).astype(np.int64), in_size - 1)
    lam = np.clip(real - index.astype(dtype), dtype(0), dtype(1)).astype(dtype)
    upper = index + (index < in_size - 1)
    return [(index, (dtype(1) - lam).astype(dtype)), (upper, lam)]


def _cubic_taps(in_size: int, out_size: int, align_corners: bool, scale: float | None,
                dtype: Any) -> Taps:
    factor = _scale(in_size, out_size, align_corners, scale, dtype)
    dst = np.arange(out_size, dtype=dtype)
    real = factor * dst if align_corners else factor * (dst + dtype(0.5)) - dtype(0.5)
    index = np.minimum(np.floor(real).astype(np.int64), in_size - 1)
    t = np.clip(real - index.astype(dtype), dtype(0), dtype(1)).astype(dtype)
    a = dtype(-0.75)

    def near(v: np.ndarray) -> np.ndarray:  # |v| <= 1
        return ((a + 2) * v - (a + 3)) * v * v + 1

    def far(v: np.ndarray) -> np.ndarray:  # 1 < |v| < 2
        return ((a * v - 5 * a) * v + 8 * a) * v - 4 * a

    weights = [far(t + 1), near(t), near(1 - t), far(2 - t)]
    return [(np.clip(index - 1 + k, 0, in_size - 1), w.astype(dtype))
            for k, w in enumerate(weights)]


# --------------------------------------------------------------------------- interpolate


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def interpolate(input: Tensor, size: Any = None, scale_factor: Any = None,
                mode: str = "nearest", align_corners: bool | None = None,
                recompute_scale_factor: bool | None = None, antialias: bool = False) -> Tensor:
    """Resample ``(N, C, *S)`` to ``(N, C, *size)`` or ``(N, C, *floor(S * scale_factor))``."""
    op = "interpolate"
    if mode not in _MODES:
        raise NotImplementedError(
            f"{op}: Input Error: Only 3D, 4D and 5D input Tensors supported (got "
            f"{input.ndim}D) for the modes: nearest | linear | bilinear | bicubic | trilinear "
            f"| area | nearest-exact (got {mode})")
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError(f"{op}: align_corners option can only be set with the "
                             "interpolating modes: linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    dims = input.ndim - 2
    if size is not None and scale_factor is not None:
        raise ValueError(f"{op}: only one of size or scale_factor should be defined")
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != dims:
                raise ValueError(
                    f"{op}: Input and output must have the same number of spatial dimensions, "
                    f"but got input with spatial dimensions of {list(input.shape[2:])} and "
                    f"output size of {size}. Please provide input tensor in (N, C, d1, d2, "
                    "...,dK) format and output size in (o1, o2, ...,oK) format.")
            if not all(_is_int(s) for s in size):
                raise TypeError(f"{op}: expected size to be one of int or Tuple[int] or "
                                "Tuple[int, int] or Tuple[int, int, int], but got size with "
                                f"types {[type(s) for s in size]}")
            output_size = [int(s) for s in size]
        elif _is_int(size):
            output_size = [int(size)] * dims
        else:
            raise TypeError(f"{op}: expected size to be an int or a tuple of ints, got {size!r}")
        scales: list[float | None] = [None] * dims
    elif scale_factor is not None:
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != dims:
                raise ValueError(
                    f"{op}: Input and scale_factor must have the same number of spatial "
                    f"dimensions, but got input with spatial dimensions of "
                    f"{list(input.shape[2:])} and scale_factor of shape {scale_factor}. Please "
                    "provide input tensor in (N, C, d1, d2, ...,dK) format and scale_factor "
                    "in (s1, s2, ...,sK) format.")
            scales = [float(s) for s in scale_factor]
        else:
            scales = [float(scale_factor)] * dims
        output_size = [int(s * f) for s, f in zip(input.shape[2:], scales)]
    else:
        raise ValueError(f"{op}: either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ValueError(f"{op}: recompute_scale_factor is not meaningful with an explicit "
                         "size.")
    if recompute_scale_factor or mode == "area":
        scales = [None] * dims
    if antialias:
        if not (mode in ("bilinear", "bicubic") and input.ndim == 4):
            raise ValueError(f"{op}: Anti-alias option is restricted to bilinear and bicubic "
                             "modes and requires a 4-D tensor as input")
        raise NotImplementedError(f"{op}: antialias=True is not supported by minigrad; "
                                  "resample without it")
    if not 1 <= dims <= 3:
        raise NotImplementedError(
            f"{op}: Input Error: Only 3D, 4D and 5D input Tensors supported (got "
            f"{input.ndim}D) for the modes: nearest | linear | bilinear | bicubic | trilinear "
            f"| area | nearest-exact (got {mode})")
    if mode in _LINEAR_MODES and _LINEAR_MODES[mode] != dims:
        needs = _LINEAR_MODES[mode] + 2
        if mode == "bicubic":
            raise NotImplementedError(f"{op}: Got {input.ndim}D input, but bicubic mode needs "
                                      "4D input")
        raise NotImplementedError(f"{op}: Got {input.ndim}D input, but {mode} mode needs "
                                  f"{needs}D input")
    spatial = list(input.shape[2:])
    if min(spatial) <= 0 or min(output_size) <= 0:
        raise OpError(f"{op}: Input and output sizes should be greater than 0, but got input "
                      f"{tuple(spatial)} output {tuple(output_size)}")
    if mode == "area":
        from minigrad.ops import poolnd

        pool = (poolnd.adaptive_avg_pool1d, poolnd.adaptive_avg_pool2d,
                poolnd.adaptive_avg_pool3d)[dims - 1]
        return pool(input, tuple(output_size))
    if not input.is_floating_point() and mode != "nearest" and mode != "nearest-exact":
        raise OpError(f'{op}: "{mode}" mode is not implemented for {input.dtype} input; '
                      "convert it with .float()")
    dtype = np.dtype(input.dtype).type if input.is_floating_point() else np.float32
    taps = []
    for s, o, f in zip(spatial, output_size, scales, strict=True):
        if mode in ("nearest", "nearest-exact"):
            taps.append(_nearest_taps(s, o, f, exact=mode == "nearest-exact"))
        elif mode == "bicubic":
            taps.append(_cubic_taps(s, o, bool(align_corners), f, dtype))
        else:
            taps.append(_linear_taps(s, o, bool(align_corners), f, dtype))
    return Interpolate.apply(input, taps=taps)


def upsample(input: Tensor, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
             align_corners: bool | None = None) -> Tensor:
    """Deprecated alias of ``interpolate`` (warns, as PyTorch does)."""
    warnings.warn("nn.functional.upsample is deprecated. Use nn.functional.interpolate "
                  "instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:
    """Deprecated: ``interpolate(..., mode='nearest')``."""
    warnings.warn("nn.functional.upsample_nearest is deprecated. Use "
                  "nn.functional.interpolate instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:
    """Deprecated: ``interpolate(..., mode='bilinear', align_corners=True)``."""
    warnings.warn("nn.functional.upsample_bilinear is deprecated. Use "
                  "nn.functional.interpolate instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# --------------------------------------------------------------------------- pixel shuffle


def _factor(op: str, name: str, factor: Any) -> int:
    if not _is_int(factor):
        raise TypeError(f"{op}: {name} must be an int, got {factor!r}")
    if factor <= 0:
        raise OpError(f"{op} expects a positive {name}, but got {factor}")
    return int(factor)


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C*r*r, H, W) -> (*, C, H*r, W*r)."""
    op = "pixel_shuffle"
    r = _factor(op, "upscale_factor", upscale_factor)
    if input.ndim < 3:
        raise OpError(f"{op} expects input to have at least 3 dimensions, but got input with "
                      f"{input.ndim} dimension(s)")
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise OpError(f"{op} expects its input's 'channel' dimension to be divisible by the "
                      f"square of upscale_factor, but input.size(-3)={c} is not divisible by "
                      f"{r * r}")
    k = len(lead)
    x = input.reshape(*lead, c // (r * r), r, r, h, w)
    x = x.permute(*range(k), k, k + 3, k + 1, k + 4, k + 2)
    return x.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H*r, W*r) -> (*, C*r*r, H, W)."""
    op = "pixel_unshuffle"
    r = _factor(op, "downscale_factor", downscale_factor)
    if input.ndim < 3:
        raise OpError(f"{op} expects input to have at least 3 dimensions, but got input with "
                      f"{input.ndim} dimension(s)")
    *lead, c, h, w = input.shape
    if h % r or w % r:
        which = "height" if h % r else "width"
        size = h if h % r else w
        raise OpError(f"{op} expects {which} to be divisible by downscale_factor, but "
                      f"input.size({-2 if h % r else -1})={size} is not divisible by {r}")
    k = len(lead)
    x = input.reshape(*lead, c, h // r, r, w // r, r)
    x = x.permute(*range(k), k, k + 2, k + 4, k + 1, k + 3)
    return x.reshape(*lead, c * r * r, h // r, w // r)




def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """``(N, C, *) -> (N, C, *)`` with channel ``g*(C/groups) + i`` moved to ``i*groups + g``."""
    op = "channel_shuffle"
    groups = _factor(op, "groups", groups)
    if input.ndim <= 2:
        raise OpError(f"{op} expects input with > 2 dims, but got input with sizes "
                      f"{list(input.shape)}")
    n, c, *rest = input.shape
    if c % groups:
        raise OpError(f"{op}: Number of channels must be divisible by groups. Got {c} channels "
                      f"and {groups} groups.")
    x = input.reshape(n, groups, c // groups, *rest).transpose(1, 2)
    return x.reshape(n, c, *rest)
