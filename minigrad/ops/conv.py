"""Convolution primitives on NCHW arrays: conv2d, unfold (im2col) and fold (col2im).

Shape names: N batch, C input channels, O output channels, G groups, H/W input size, KH/KW
kernel size, OH/OW output size, P = OH * OW output pixels.

Everything goes through one idea: pad once, take a strided window view of shape
(N, C, KH, KW, OH, OW), copy it into a contiguous im2col buffer and hand that to one BLAS
GEMM. The reverse, col2im, adds the columns back with one strided slice per kernel offset,
so the only Python loops run over the KH * KW kernel offsets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from minigrad.autograd import Context, Function

if TYPE_CHECKING:
    from minigrad.tensor import Tensor

IntPair = tuple[int, int]
Padding = tuple[IntPair, IntPair]  # ((top, bottom), (left, right))

__all__ = ["conv2d", "unfold", "fold", "Conv2d", "Unfold", "Fold"]


# --------------------------------------------------------------------------- argument helpers


def _pair(value: Any, name: str, op: str, minimum: int) -> IntPair:
    """An int or a pair of ints, each at least ``minimum``, as a pair."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        pair = (int(value), int(value))
    elif (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value)
    ):
        pair = (int(value[0]), int(value[1]))
    else:
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if min(pair) < minimum:
        raise ValueError(f"{op}: {name} must be at least {minimum}, got {value!r}")
    return pair


def _check_4d(op: str, name: str, shape: tuple[int, ...], layout: str) -> None:
    if len(shape) != 4:
        raise ValueError(
            f"{op}: expected a 4-D {name} {layout}, got shape {tuple(shape)} "
            f"({len(shape)}-D); add a batch dimension with x.unsqueeze(0) for a single image"
            if len(shape) == 3 and name == "input"
            else f"{op}: expected a 4-D {name} {layout}, got shape {tuple(shape)} "
            f"({len(shape)}-D)"
        )


def _window_extent(kernel: int, dilation: int) -> int:
    """How many input pixels one window spans."""
    return dilation * (kernel - 1) + 1


def _out_size(padded: int, kernel: int, stride: int, dilation: int) -> int:
    """Output length of a sliding window over ``padded`` pixels: (N + 2P - F) // S + 1."""
    return (padded - _window_extent(kernel, dilation)) // stride + 1


# --------------------------------------------------------------------------- array kernels


def pad2d(x: np.ndarray, padding: Padding, value: float = 0.0) -> np.ndarray:
    """Pad (or, for negative amounts, crop) the last two axes of a 4-D array."""
    (top, bottom), (left, right) = padding
    if top == bottom == left == right == 0:
        return x
    a, b, h, w = x.shape
    src = x[:, :, max(-top, 0) : h - max(-bottom, 0), max(-left, 0) : w - max(-right, 0)]
    out_h = h + top + bottom
    out_w = w + left + right
    if value == 0:
        out = np.zeros((a, b, out_h, out_w), dtype=x.dtype)
    else:
        out = np.full((a, b, out_h, out_w), value, dtype=x.dtype)
    row, col = max(top, 0), max(left, 0)
    out[:, :, row : row + src.shape[2], col : col + src.shape[3]] = src
    return out


def crop2d(x: np.ndarray, padding: Padding, size: IntPair) -> np.ndarray:
    """Undo ``pad2d``: the (H, W) block of a padded 4-D array, as a view."""
    (top, _), (left, _) = padding
    return x[:, :, top : top + size[0], left : left + size[1]]


def window_view(
    xp: np.ndarray, kernel: IntPair, stride: IntPair, dilation: IntPair, out: IntPair
) -> np.ndarray:
    """Read-only view (A, B, KH, KW, OH, OW) of the sliding windows of a 4-D (A, B, H, W) array."""
    sa, sb, sh, sw = xp.strides
    return as_strided(
        xp,
        shape=(xp.shape[0], xp.shape[1], kernel[0], kernel[1], out[0], out[1]),
        strides=(sa, sb, sh * dilation[0], sw * dilation[1], sh * stride[0], sw * stride[1]),
        writeable=False,
    )


def offset_slices(
    kernel: IntPair, stride: IntPair, dilation: IntPair, out: IntPair
) -> list[tuple[slice, slice]]:
    """For each kernel offset (row-major), the strided (rows, cols) slices it reads."""
    slices = []
    for i in range(kernel[0]):
        rows = slice(i * dilation[0], i * dilation[0] + stride[0] * (out[0] - 1) + 1, stride[0])
        for j in range(kernel[1]):
            cols = slice(j * dilation[1], j * dilation[1] + stride[1] * (out[1] - 1) + 1, stride[1])
            slices.append((rows, cols))
    return slices


def col2im(
    cols: np.ndarray,
    padded_size: IntPair,
    stride: IntPair,
    dilation: IntPair,
) -> np.ndarray:
    """Sum windows (A, B, KH, KW, OH, OW) back into a zero (A, B, Hp, Wp) image."""
    a, b, kh, kw, oh, ow = cols.shape
    image = np.zeros((a, b) + tuple(padded_size), dtype=cols.dtype)
    for k, (rows, columns) in enumerate(offset_slices((kh, kw), stride, dilation, (oh, ow))):
        image[:, :, rows, columns] += cols[:, :, k // kw, k % kw]
    return image


# --------------------------------------------------------------------------- conv2d


class Conv2d(Function):
    """(N, C, H, W) * (O, C/G, KH, KW) [+ (O,)] -> (N, O, OH, OW), cross-correlation."""

    @staticmethod
    def forward(
        ctx: Context,
        x: np.ndarray,
        weight: np.ndarray,
        bias: np.ndarray | None = None,
        *,
        stride: IntPair,
        padding: Padding,
        dilation: IntPair,
        groups: int,
    ) -> np.ndarray:
        n, c, h, w = x.shape
        o, cg, kh, kw = weight.shape
        xp = pad2d(x, padding)
        oh = _out_size(xp.shape[2], kh, stride[0], dilation[0])
        ow = _out_size(xp.shape[3], kw, stride[1], dilation[1])
        # Channel-major columns (C, KH, KW, N, OH, OW): the whole batch is one GEMM per group,
        # (O/G, C/G*KH*KW) @ (C/G*KH*KW, N*OH*OW), faster than one small GEMM per image.
        view = window_view(xp, (kh, kw), stride, dilation, (oh, ow)).transpose(1, 2, 3, 0, 4, 5)
        cols = np.ascontiguousarray(view).reshape(groups, cg * kh * kw, n * oh * ow)
        w_mat = weight.reshape(groups, o // groups, cg * kh * kw)
        out = np.matmul(w_mat, cols).reshape(o, n, oh * ow)
        if bias is not None:
            out += bias.reshape(o, 1, 1)
        needs = ctx.needs_input_grad
        if any(needs):
            ctx.save_for_backward(cols if needs[1] else None, weight if needs[0] else None)
            ctx.kernel = (kh, kw)
            ctx.x_shape, ctx.padded_size, ctx.out_size = x.shape, xp.shape[2:], (oh, ow)
            ctx.stride, ctx.padding, ctx.dilation, ctx.groups = stride, padding, dilation, groups
        return np.ascontiguousarray(out.transpose(1, 0, 2)).reshape(n, o, oh, ow)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        cols, weight = ctx.saved
        groups = ctx.groups
        n, o, oh, ow = grad.shape
        # (G, O/G, N*P): the layout both GEMMs want; one transposing copy serves all three grads.
        g = np.ascontiguousarray(grad.reshape(n, o, oh * ow).transpose(1, 0, 2))
        g = g.reshape(groups, o // groups, n * oh * ow)
        needs = ctx.needs_input_grad
        grad_x = grad_w = grad_b = None
        if len(needs) > 2 and needs[2]:
            grad_b = g.reshape(o, -1).sum(axis=1)
        if needs[1]:
            grad_w = np.matmul(g, cols.transpose(0, 2, 1))  # (G, O/G, C/G*KH*KW)
            grad_w = grad_w.reshape(o, ctx.x_shape[1] // groups, *ctx.kernel)
        if needs[0]:
            grad_x = CONV_INPUT_GRAD[0](ctx, g, weight)
        if len(needs) > 2:
            return grad_x, grad_w, grad_b
        return grad_x, grad_w


def _input_grad_col2im(ctx: Context, g: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """dL/dx from g (G, O/G, N*P): one GEMM to columns, then col2im over the kernel offsets."""
    n, c, h, w = ctx.x_shape
    o, cg, kh, kw = weight.shape
    groups = ctx.groups
    oh, ow = ctx.out_size
    w_mat = weight.reshape(groups, o // groups, cg * kh * kw)
    grad_cols = np.matmul(w_mat.transpose(0, 2, 1), g)  # (G, C/G*KH*KW, N*P)
    grad_cols = grad_cols.reshape(c, kh, kw, n, oh, ow).transpose(3, 0, 1, 2, 4, 5)
    grad_xp = col2im(grad_cols, ctx.padded_size, ctx.stride, ctx.dilation)
    return crop2d(grad_xp, ctx.padding, (h, w))


def _input_grad_transposed(ctx: Context, g: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """dL/dx for stride 1 as a convolution of the padded g with the flipped, transposed weight."""
    n, c, h, w = ctx.x_shape
    o, cg, kh, kw = weight.shape
    groups = ctx.groups
    oh, ow = ctx.out_size
    (top, bottom), (left, right) = ctx.padding
    dh, dw = ctx.dilation
    reach_h, reach_w = dh * (kh - 1), dw * (kw - 1)
    g4 = g.reshape(o, n, oh, ow)
    gp = pad2d(g4, ((reach_h - top, reach_h - bottom), (reach_w - left, reach_w - right)))
    view = window_view(gp, (kh, kw), (1, 1), ctx.dilation, (h, w)).transpose(0, 2, 3, 1, 4, 5)
    og = o // groups
    g_cols = np.ascontiguousarray(view).reshape(groups, og * kh * kw, n * h * w)
    w_t = weight[:, :, ::-1, ::-1].reshape(groups, og, cg, kh, kw).transpose(0, 2, 1, 3, 4)
    w_t = np.ascontiguousarray(w_t).reshape(groups, cg, og * kh * kw)
    grad_x = np.matmul(w_t, g_cols).reshape(c, n, h, w)
    return grad_x.transpose(1, 0, 2, 3)


CONV_INPUT_GRAD = [_input_grad_col2im]
