"""One N-d sliding-window mechanism for 1-, 2- and 3-D convolution and pooling.

Shape names: N batch, C channels, S = (D, H, W) the spatial sizes (any number of them),
K the kernel sizes, O the output sizes (one window per output position), P = prod(O).

- ``ntuple`` is the one argument validator every conv/pool layer and functional uses:
  kernel_size, stride, padding, dilation, output_padding are ints or tuples of ints, checked
  against a minimum, with an error naming the op and the argument.
- ``pad_nd`` pads (or, for negative amounts, crops) the last axes once; ``window_view`` is the
  strided (N, C, *K, *O) view of every window; ``col2im`` adds such windows back with one
  strided slice per kernel offset, so the only Python loops run over kernel offsets.
- ``conv_forward``, ``conv_input_grad`` and ``conv_weight_grad`` are the three products of a
  convolution (im2col + one batched GEMM each). ``ConvNd`` is a convolution; ``ConvTransposeNd``
  is the gradient of a convolution with respect to its input, so its forward is
  ``conv_input_grad`` and its backward is ``conv_forward`` and ``conv_weight_grad``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from minigrad.autograd.engine import Context, Primitive
from minigrad.errors import OpError

Ints = tuple[int, ...]
Pads = tuple[tuple[int, int], ...]  # (before, after) per spatial axis

__all__ = [
    "ntuple", "check_rank", "pad_nd", "crop_nd", "window_view", "col2im", "out_size",
    "conv_forward", "conv_input_grad", "conv_weight_grad", "ConvNd", "ConvTransposeNd",
    "gather_axis", "scatter_add_axis",
]

_MINIMUM_TEXT = {0: "non-negative", 1: "positive"}


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def ntuple(value: Any, n: int, name: str, op: str, minimum: int = 1) -> Ints:
    """``value`` (an int, or a sequence of ``n`` ints or of one int) as ``n`` ints, each at
    least ``minimum``; anything else raises naming ``op`` and ``name``."""
    if _is_int(value):
        values: Ints = (int(value),) * n
    elif isinstance(value, (tuple, list)) and len(value) in (1, n) and all(
            _is_int(v) for v in value):
        values = tuple(int(v) for v in value) * (n if len(value) == 1 else 1)
    else:
        raise TypeError(
            f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}"
            + (f" ({type(value).__name__})" if not isinstance(value, (tuple, list)) else "")
        )
    if min(values, default=minimum) < minimum:
        raise OpError(
            f"{op}: {name} must be {_MINIMUM_TEXT.get(minimum, f'at least {minimum}')}, "
            f"got {value!r}"
        )
    return values


def check_rank(op: str, shape: Sequence[int], spatial: int, unbatched: bool = True) -> bool:
    """Check a (C, *S) or (N, C, *S) input; return whether it has a batch dimension."""
    ndim = len(shape)
    if ndim == spatial + 2 or (unbatched and ndim == spatial + 1):
        return ndim == spatial + 2
    expected = (f"{spatial + 1}D (unbatched) or {spatial + 2}D (batched)" if unbatched
                else f"{spatial + 2}D (batched)")
    raise OpError(
        f"{op}: Expected {expected} input to {op}, but got input of size: {list(shape)}"
        + ("; add a batch dimension with x.unsqueeze(0)" if ndim == spatial + 1 else "")
    )


def window_extent(kernel: int, dilation: int) -> int:
    """How many input positions one window spans."""
    return dilation * (kernel - 1) + 1


def out_size(padded: int, kernel: int, stride: int, dilation: int) -> int:
    """Number of windows along an axis of ``padded`` positions: (S + 2P - E) // stride + 1."""
    return (padded - window_extent(kernel, dilation)) // stride + 1


# --------------------------------------------------------------------------- array kernels


def pad_nd(x: np.ndarray, pads: Pads, value: float = 0.0) -> np.ndarray:
    """Pad (or, for negative amounts, crop) the last len(pads) axes with a constant."""
    if all(before == after == 0 for before, after in pads):
        return x
    lead = x.ndim - len(pads)
    src = x[(slice(None),) * lead + tuple(
        slice(max(-before, 0), size - max(-after, 0))
        for (before, after), size in zip(pads, x.shape[lead:], strict=True))]
    shape = x.shape[:lead] + tuple(max(size + before + after, 0) for (before, after), size
                                   in zip(pads, x.shape[lead:], strict=True))
    out = np.full(shape, value, dtype=x.dtype) if value != 0 else np.zeros(shape, x.dtype)
    out[(slice(None),) * lead + tuple(slice(max(before, 0), max(before, 0) + n)
                                      for (before, _), n in zip(pads, src.shape[lead:]))] = src
    return out


def crop_nd(x: np.ndarray, pads: Pads, size: Ints) -> np.ndarray:
    """Undo ``pad_nd`` with non-negative pads: the ``size`` block of the last axes, a view."""
    lead = x.ndim - len(pads)
    return x[(slice(None),) * lead + tuple(
        slice(before, before + n) for (before, _), n in zip(pads, size, strict=True))]


def window_view(xp: np.ndarray, kernel: Ints, stride: Ints, dilation: Ints, out: Ints,
                writeable: bool = False) -> np.ndarray:
    """View (A, B, *K, *O) of the sliding windows of an (A, B, *S) array."""
    spatial = xp.strides[2:]
    return as_strided(
        xp,
        shape=xp.shape[:2] + tuple(kernel) + tuple(out),
        strides=xp.strides[:2] + tuple(s * d for s, d in zip(spatial, dilation))
        + tuple(s * st for s, st in zip(spatial, stride)),
        writeable=writeable,
    )


def offset_slices(kernel: Ints, stride: Ints, dilation: Ints, out: Ints
                  ) -> list[tuple[Ints, tuple[slice, ...]]]:
    """For each kernel offset (row-major), the offset and the strided slices it reads."""
    result = []
    for offset in itertools.product(*(range(k) for k in kernel)):
        slices = tuple(slice(i * d, i * d + s * (o - 1) + 1, s)
                       for i, s, d, o in zip(offset, stride, dilation, out, strict=True))
        result.append((offset, slices))
    return result


def col2im(cols: np.ndarray, padded: Ints, stride: Ints, dilation: Ints) -> np.ndarray:
    """Sum windows (A, B, *K, *O) back into a zero (A, B, *padded) image."""
    spatial = (cols.ndim - 2) // 2
    kernel, out = cols.shape[2:2 + spatial], cols.shape[2 + spatial:]
    image = np.zeros(cols.shape[:2] + tuple(padded), dtype=cols.dtype)
    if 0 in out:
        return image
    for offset, slices in offset_slices(kernel, stride, dilation, out):
        image[(slice(None), slice(None)) + slices] += cols[(slice(None), slice(None)) + offset]
    return image


def gather_axis(x: np.ndarray, index: np.ndarray, axis: int) -> np.ndarray:
    """x with ``axis`` replaced by x.take(index) (index a 1-D int array)."""
    return np.take(x, index, axis=axis)


def scatter_add_axis(g: np.ndarray, index: np.ndarray, axis: int, size: int) -> np.ndarray:
    """The adjoint of ``gather_axis``: add g's slices along ``axis`` into positions ``index``
    of a zero array with ``size`` positions there (repeated indices accumulate)."""
    moved = np.moveaxis(g, axis, -1)
    lead = moved.shape[:-1]
    rows = int(np.prod(lead, dtype=np.int64))
    flat = (np.arange(rows)[:, None] * size + index[None, :]).ravel()
    summed = np.bincount(flat, weights=moved.reshape(rows, index.size).ravel(),
                         minlength=rows * size)
    return np.moveaxis(summed.reshape(*lead, size).astype(g.dtype, copy=False), -1, axis)


# --------------------------------------------------------------------------- convolution


def conv_forward(x: np.ndarray, weight: np.ndarray, stride: Ints, pads: Pads, dilation: Ints,
                 groups: int, out: Ints) -> tuple[np.ndarray, np.ndarray]:
    """(N, C, *S) * (O, C/G, *K) -> (N, O, *out) with ``out`` windows per axis, and the
    (N, G, C/G*prod(K), P) im2col columns."""
    n = x.shape[0]
    o, cg, *kernel = weight.shape
    view = window_view(pad_nd(x, pads), tuple(kernel), stride, dilation, out)
    columns = cg * math.prod(kernel)
    cols = np.ascontiguousarray(view).reshape(n, groups, columns, math.prod(out))
    y = np.matmul(weight.reshape(groups, o // groups, columns), cols)
    return y.reshape(n, o, *out), cols


def conv_input_grad(g: np.ndarray, weight: np.ndarray, stride: Ints, pads: Pads,
                    dilation: Ints, groups: int, size: Ints) -> np.ndarray:
    """The adjoint of ``conv_forward`` in x: (N, O, *out) -> (N, C, *size) (col2im)."""
    n, o, *out = g.shape
    _, cg, *kernel = weight.shape
    columns = cg * math.prod(kernel)
    w_mat = weight.reshape(groups, o // groups, columns).transpose(0, 2, 1)
    grad_cols = np.matmul(w_mat, g.reshape(n, groups, o // groups, math.prod(out)))
    grad_cols = grad_cols.reshape(n, groups * cg, *kernel, *out)
    padded = tuple(s + before + after for s, (before, after) in zip(size, pads, strict=True))
    return np.ascontiguousarray(crop_nd(col2im(grad_cols, padded, stride, dilation), pads, size))


def conv_weight_grad(cols: np.ndarray, g: np.ndarray, weight_shape: Ints) -> np.ndarray:
    """The adjoint of ``conv_forward`` in the weight, from its columns and dL/dy."""
    n, groups, columns, p = cols.shape
    o = weight_shape[0]
    gm = g.reshape(n, groups, o // groups, p)
    # (G, O/G, N*P) @ (G, N*P, C/G*K): one GEMM per group over the whole batch
    lhs = gm.transpose(1, 2, 0, 3).reshape(groups, o // groups, n * p)
    rhs = cols.transpose(1, 0, 3, 2).reshape(groups, n * p, columns)
    return np.matmul(lhs, rhs).reshape(weight_shape)


class ConvNd(Primitive):
    """(N, C, *S) * (O, C/G, *K) [+ (O,)] -> (N, O, *O), cross-correlation, any number of
    spatial axes."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None,
                *, stride: Ints, pads: Pads, dilation: Ints, groups: int) -> np.ndarray:
        out = tuple(out_size(s + a + b, k, st, d) for s, (a, b), k, st, d in zip(
            x.shape[2:], pads, weight.shape[2:], stride, dilation, strict=True))
        y, cols = conv_forward(x, weight, stride, pads, dilation, groups, out)
        if bias is not None:
            y += bias.reshape((-1,) + (1,) * len(out))
        needs = ctx.needs_input_grad
        if needs:
            ctx.save_for_backward(weight if needs[0] else None, cols if needs[1] else None)
            ctx.geometry = (stride, pads, dilation, groups)
            ctx.size, ctx.weight_shape = x.shape[2:], weight.shape
        return y

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        if not isinstance(grad, np.ndarray):  # create_graph=True: the products as graph ops
            from minigrad.ops import conv_graph

            return conv_graph.convnd_backward(ctx, grad)
        weight, cols = ctx.saved
        stride, pads, dilation, groups = ctx.geometry
        needs = ctx.needs_input_grad
        grad_x = conv_input_grad(grad, weight, stride, pads, dilation, groups, ctx.size) \
            if needs[0] else None
        grad_w = conv_weight_grad(cols, grad, ctx.weight_shape) if needs[1] else None
        if len(needs) > 2:
            grad_b = grad.sum(axis=(0, *range(2, grad.ndim))) if needs[2] else None
            return grad_x, grad_w, grad_b
        return grad_x, grad_w


class ConvTransposeNd(Primitive):
    """(N, C, *S) * (C, O/G, *K) [+ (O,)] -> (N, O, *size): the gradient of a convolution
    (weight (C, O/G, *K), from (N, O, *size) to (N, C, *S)) with respect to its input."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None,
                *, stride: Ints, pads: Pads, dilation: Ints, groups: int, size: Ints
                ) -> np.ndarray:
        y = conv_input_grad(x, weight, stride, pads, dilation, groups, size)
        if bias is not None:
            y += bias.reshape((-1,) + (1,) * len(size))
        needs = ctx.needs_input_grad
        if needs:
            ctx.save_for_backward(weight, x if needs[1] else None)
            ctx.geometry = (stride, pads, dilation, groups)
            ctx.in_size = x.shape[2:]
        return y

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        if not isinstance(grad, np.ndarray):  # create_graph=True: the products as graph ops
            from minigrad.ops import conv_graph

            return conv_graph.conv_transposend_backward(ctx, grad)
        weight, x = ctx.saved
        stride, pads, dilation, groups = ctx.geometry
        needs = ctx.needs_input_grad
        # x is the output gradient of the underlying convolution, grad its input
        grad_x, cols = conv_forward(grad, weight, stride, pads, dilation, groups, ctx.in_size)
        grad_w = conv_weight_grad(cols, x, weight.shape) if needs[1] else None
        result = (grad_x if needs[0] else None, grad_w)
        if len(needs) > 2:
            return (*result, grad.sum(axis=(0, *range(2, grad.ndim))) if needs[2] else None)
        return result

