"""Sliding-window primitives on NCHW arrays: conv2d, unfold (im2col), fold (col2im), max_pool2d,
avg_pool2d and adaptive_avg_pool2d.

Shape names: N batch, C input channels, O output channels, G groups, H/W input size, KH/KW
kernel size, OH/OW output size, P = OH * OW output pixels.

Everything goes through one idea: pad once, take a strided window view of shape
(N, C, KH, KW, OH, OW), copy it into a contiguous im2col buffer and hand that to one BLAS
GEMM. The reverse, col2im, adds the columns back with one strided slice per kernel offset,
so the only Python loops run over the KH * KW kernel offsets.

The pools copy the same window view into one contiguous (KH*KW, N, C, OH, OW) array and reduce
over its first axis. Their backward writes the window gradients back through that view when
windows do not overlap, and through col2im when they do.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from minigrad import parallel
from minigrad.autograd.engine import Context, Primitive
from minigrad.errors import OpError
from minigrad.ops import conv_direct, conv_wide, winograd, winograd4

if TYPE_CHECKING:
    from minigrad.tensor import Tensor

IntPair = tuple[int, int]
Padding = tuple[IntPair, IntPair]  # ((top, bottom), (left, right))
# a size argument of the public functions: an int or ints (checked there to be a pair)
IntArg = int | tuple[int, ...]

__all__ = [
    "conv2d", "unfold", "fold", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d",
    "Conv2d", "Unfold", "Fold", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d",
]


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


def channel_major(a: np.ndarray) -> bool:
    """Whether a 4-D array is laid out (C, N, H, W) in memory, as conv2d's wide outputs are."""
    return a.ndim == 4 and a.shape[0] > 1 and a.strides[0] < a.strides[1]


def empty_like_layout(strides: tuple[int, ...], shape: tuple[int, ...], dtype: Any,
                      zeros: bool = False) -> np.ndarray:
    """An array of ``shape`` whose axes are laid out in memory in the order of ``strides``
    (another array's): a pool's output and gradient keep their input's layout."""
    order = sorted(range(len(shape)), key=lambda axis: -strides[axis])
    make = np.zeros if zeros else np.empty
    memory = make(tuple(shape[axis] for axis in order), dtype=dtype)
    return memory.transpose(np.argsort(order))


def empty_4d(shape: tuple[int, ...], dtype: np.dtype, channel_major_layout: bool,
             zeros: bool = False) -> np.ndarray:
    """An (N, C, H, W) array, in (C, N, H, W) memory order when asked. Gradients are made in
    their input's layout: an elementwise op mixing two layouts runs about twice as slow."""
    make = np.zeros if zeros else np.empty
    if channel_major_layout:
        n, c = shape[:2]
        return make((c, n) + tuple(shape[2:]), dtype=dtype).transpose(1, 0, 2, 3)
    return make(shape, dtype=dtype)


def window_view(
    xp: np.ndarray,
    kernel: IntPair,
    stride: IntPair,
    dilation: IntPair,
    out: IntPair,
    writeable: bool = False,
) -> np.ndarray:
    """View (A, B, KH, KW, OH, OW) of the sliding windows of a 4-D (A, B, H, W) array.

    Writeable only when asked for, and only sensible when the windows do not overlap.
    """
    sa, sb, sh, sw = xp.strides
    return as_strided(
        xp,
        shape=(xp.shape[0], xp.shape[1], kernel[0], kernel[1], out[0], out[1]),
        strides=(sa, sb, sh * dilation[0], sw * dilation[1], sh * stride[0], sw * stride[1]),
        writeable=writeable,
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


class Conv2d(Primitive):
    """(N, C, H, W) * (O, C/G, KH, KW) [+ (O,)] -> (N, O, OH, OW), cross-correlation.

    The batch is cut into chunks (minigrad.parallel), one or more per thread; each chunk builds
    its own im2col buffer and writes its slice of the output, and backward reuses the same
    chunks. Narrow convolutions run per image, wide ones channel-major (PER_IMAGE_MAX_COLUMNS).
    """

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
        padded = (h + sum(padding[0]), w + sum(padding[1]))
        oh = _out_size(padded[0], kh, stride[0], dilation[0])
        ow = _out_size(padded[1], kw, stride[1], dilation[1])
        p = oh * ow
        keep_cols = bool(ctx.needs_input_grad) and ctx.needs_input_grad[1]
        # Winograd's transforms round more than im2col: float32 and float64 only (float16
        # F(4x4, 3x3) outputs would be off by about 1% of their scale)
        algorithm = winograd_algorithm(x.shape, weight.shape, stride, dilation, groups,
                                       (oh, ow)) if x.dtype in _WINOGRAD_DTYPES else None
        if algorithm is not None:
            chunks = winograd.plan(n, c, (oh, ow), o, x.itemsize, algorithm)
            out, saved = winograd.conv_forward(x, weight, bias, padding, (oh, ow), chunks,
                                               keep_cols, algorithm)
            if any(ctx.needs_input_grad):
                ctx.save_for_backward(weight if ctx.needs_input_grad[0] else None)
                ctx.winograd, ctx.cols, ctx.chunks = algorithm, saved, chunks
                _save_geometry(ctx, x, (oh, ow), stride, padding, dilation, groups)
            return out
        if use_direct(x, weight, stride, padding, dilation, groups):
            chunks = parallel.plan(n, work=float(o) * cg * kh * kw * n * p)
            out = conv_direct.forward(x, weight, bias, padding, (oh, ow), chunks)
            needs = ctx.needs_input_grad
            if any(needs):
                ctx.save_for_backward(weight if needs[0] else None, x if needs[1] else None)
                ctx.direct, ctx.chunks, ctx.kernel = True, chunks, (kh, kw)
                _save_geometry(ctx, x, (oh, ow), stride, padding, dilation, groups)
            return out
        per_image = cg * kh * kw <= PER_IMAGE_MAX_COLUMNS
        chunks = parallel.plan(n, work=float(o) * cg * kh * kw * n * p,
                               buffer_bytes=float(c) * kh * kw * n * p * x.itemsize,
                               chunk_bytes=_per_image_chunk_bytes(ctx) if per_image else None)
        geometry = (stride, padding, dilation, groups, (oh, ow))
        batch_inner = ((not per_image or conv_wide.BATCH_INNER_PER_IMAGE)
                       and min(min(padding)) >= 0
                       and conv_wide.use_batch_inner(x.shape, weight.shape, stride, groups,
                                                     (oh, ow)))
        recompute = per_image and keep_cols and _recomputes_columns(x, (kh, kw), geometry)
        if batch_inner:  # (O, OH, OW, N) memory (conv_wide.py)
            out, cols = conv_wide.forward_batch_inner(x, weight, bias, padding, dilation,
                                                      (oh, ow), chunks, keep_cols)
        elif per_image:
            out, cols = _forward_per_image(x, weight, bias, geometry, chunks,
                                           keep_cols and not recompute)
        else:
            out, cols = _forward_channel_major(x, weight, bias, geometry, chunks, keep_cols)
        needs = ctx.needs_input_grad
        if any(needs):
            # the input is saved (and its version checked) when the columns are made again
            ctx.save_for_backward(weight if needs[0] else None, x if recompute else None)
            ctx.recompute_cols, ctx.fold_bias = recompute, _folds_bias(bias, groups)
            ctx.cols, ctx.chunks, ctx.kernel, ctx.per_image = cols, chunks, (kh, kw), per_image
            ctx.batch_inner, ctx.weight_shape = batch_inner, weight.shape
            ctx.x_channel_major, ctx.padded_size = channel_major(x), padded
            _save_geometry(ctx, x, (oh, ow), stride, padding, dilation, groups)
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        if not isinstance(grad, np.ndarray):  # create_graph=True: the products as graph ops
            from minigrad.ops import conv_graph

            return conv_graph.conv2d_backward(ctx, grad)
        weight = ctx.saved[0]
        needs = ctx.needs_input_grad
        need_bias = len(needs) > 2 and needs[2]
        if getattr(ctx, "direct", False):
            return _backward_direct(ctx, grad, weight, need_bias)
        if getattr(ctx, "winograd", None) is not None:
            grad_x, grad_w, grad_b = winograd.conv_backward(
                grad, weight, ctx.cols, ctx.padding, ctx.x_shape, ctx.x_strides, ctx.chunks,
                (needs[0], needs[1], need_bias), ctx.winograd)
            return (grad_x, grad_w, grad_b) if len(needs) > 2 else (grad_x, grad_w)
        backward_chunks = _backward_per_image if ctx.per_image else _backward_channel_major
        if ctx.batch_inner:
            backward_chunks = conv_wide.backward_batch_inner
        grad_x, parts = backward_chunks(ctx, grad, weight, need_bias)
        o, c = ctx.weight_shape[0], ctx.x_shape[1]
        grad_b = sum(part[0] for part in parts) if need_bias else None
        grad_w = None
        if needs[1]:
            grad_w = sum(part[1] for part in parts).reshape(o, c // ctx.groups, *ctx.kernel)
        if len(needs) > 2:
            return grad_x, grad_w, grad_b
        return grad_x, grad_w


def _save_geometry(ctx: Context, x: np.ndarray, out_size: IntPair, stride: IntPair,
                   padding: Padding, dilation: IntPair, groups: int) -> None:
    """What every Conv2d backward reads of the forward's geometry (conv_graph's too)."""
    ctx.x_shape, ctx.x_strides, ctx.out_size = x.shape, x.strides, out_size
    ctx.stride, ctx.padding, ctx.dilation, ctx.groups = stride, padding, dilation, groups


def _backward_direct(ctx: Context, grad: np.ndarray, weight: np.ndarray, need_bias: bool
                     ) -> tuple[np.ndarray | None, ...]:
    """Conv2d's backward for a forward that ran in conv_direct."""
    needs = ctx.needs_input_grad
    grad_x: np.ndarray | None = None
    grad_w: Any = None
    grad_b: Any = None
    if needs[0]:
        grad_x = conv_direct.input_grad(
            grad, weight, ctx.padding, ctx.chunks,
            empty_like_layout(ctx.x_strides, ctx.x_shape, grad.dtype))
    if needs[1] or need_bias:
        x = ctx.saved[1]
        if x is None:  # no weight gradient: the bias gradient alone
            grad_b = grad.sum(axis=(0, 2, 3))
        else:
            parts = conv_direct.weight_grad(x, grad, ctx.kernel, ctx.padding, ctx.chunks)
            grad_b = sum(part[0] for part in parts) if need_bias else None
            grad_w = sum(part[1] for part in parts) if needs[1] else None
    return (grad_x, grad_w, grad_b) if len(needs) > 2 else (grad_x, grad_w)


# Stride-1 convolutions with few input channels run as direct loops (conv_direct.py), where
# im2col's column copy and the GEMMs of a few rows cost most: kernels at least
# DIRECT_MIN_WIDTH wide with at most DIRECT_WIDE_COLUMNS columns per output pixel (C * KH *
# KW), and narrower ones with at least two input channels, at most DIRECT_COLUMNS columns and
# output rows of at least DIRECT_MIN_OUT pixels; at most DIRECT_MAX_CHANNELS output channels.
# Forward + backward at batch 128, one thread (ms), im2col -> direct: LeNet-5's 1->6 5x5 at
# 28x28 2.43 -> 1.41; 4->8 3x3 at 28x28 5.97 -> 3.89, 8->16 3x3 at 28x28 16.4 -> 13.3, 3->16
# 3x3 at 32x32 11.4 -> 8.0. Slower, so left to im2col: 8->16 3x3 at 14x14 3.76 -> 3.94, LeNet-5's
# 6->16 5x5 at 14x14 (150 columns) 5.17 -> 6.41, one input channel with a 3x3 kernel (1->8
# at 28x28 1.04 -> 1.07, 1->32 2.57 -> 4.22: the sums of few taps are bound by their loads).
DIRECT_MIN_WIDTH = 5
DIRECT_WIDE_COLUMNS = 50
DIRECT_COLUMNS = 100
DIRECT_MIN_OUT = 20
DIRECT_MAX_CHANNELS = 32


def use_direct(x: np.ndarray, weight: np.ndarray, stride: IntPair, padding: Padding,
               dilation: IntPair, groups: int) -> bool:
    """Whether Conv2d runs this convolution in conv_direct."""
    o, c, kh, kw = weight.shape
    columns = c * kh * kw
    if kw >= DIRECT_MIN_WIDTH:
        pays = columns <= DIRECT_WIDE_COLUMNS
    else:
        out_width = x.shape[3] + sum(padding[1]) - kw + 1
        pays = c >= 2 and columns <= DIRECT_COLUMNS and out_width >= DIRECT_MIN_OUT
    return (pays and o <= DIRECT_MAX_CHANNELS
            and conv_direct.fits(x, weight, stride, padding, dilation, groups)
            and conv_direct.input_fits((kh, kw), padding))


# 3x3 stride-1 convolutions with at least WINOGRAD_MIN_CHANNELS input channels and between
# WINOGRAD_MIN_SIZE and WINOGRAD_MAX_SIZE output pixels per side run as Winograd F(2x2, 3x3)
# (minigrad/ops/winograd.py). Forward + backward at batch 128, one thread, CPU time, Winograd
# vs im2col: 64->64 at 14x14 1.29x, 32->64 at 14x14 1.05x, 16->32 at 14x14 1.06x, 32->32 at
# 28x28 0.94x, 64->128 at 7x7 0.96x (tiles waste a row and a column), 32->64 at 24x24 0.93x;
# on two threads the large images lose more (ExampleNet's 32->64 at 24x24 took its training
# from 983 to 865 samples/s at batch 64), so only the 10..16-pixel layers take it. Both
# Winograd paths need WINOGRAD_MIN_CHANNELS input channels: F(4x4, 3x3) (below) wins from
# FastCNN's 24 up (24->48 at 14x14 1.20x) and is even on SimpleCNN's 8->16 (1.05x, a
# slower forward, a faster backward).
WINOGRAD_MIN_CHANNELS = 16
WINOGRAD_MIN_SIZE = 10
WINOGRAD_MAX_SIZE = 16


# Outputs of at least WINOGRAD4_MIN_SIZE pixels per side (and WINOGRAD_MIN_CHANNELS input
# channels) run as Winograd F(4x4, 3x3) (minigrad/ops/winograd4.py), whose transforms are BLAS
# GEMMs, instead of F(2x2, 3x3). Forward + backward at batch 128, one thread, CPU time
# (benchmarks/conv_variants.py --cpu), F(4x4) against the previous choice: 32->32 at 28x28
# 150 -> 77 ms (im2col before), 32->64 at 24x24 152 -> 92 (im2col), 32->64 at 14x14 46 -> 35
# (F(2x2)), 64->64 at 14x14 68 -> 51 (F(2x2)); 14x14 wastes a row and a column of 4x4 tiles
# and still wins. FastCNN's 48->96 at 7x7 (2x2 tiles for 7x7 pixels): 24 -> 16 ms (1.53x, was
# im2col); its 24->48 at 14x14 31 -> 26 (1.20x, was im2col: 24 < the previous 32 channels).
# F(2x2, 3x3) runs only with WINOGRAD4_MIN_SIZE set above WINOGRAD_MIN_SIZE.
WINOGRAD4_MIN_SIZE = 7


_WINOGRAD_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def winograd_algorithm(x_shape: tuple[int, ...], weight_shape: tuple[int, ...],
                       stride: IntPair, dilation: IntPair, groups: int, out_size: IntPair
                       ) -> ModuleType | None:
    """The Winograd transforms conv2d uses for these shapes (``minigrad.ops.winograd`` for
    F(2x2, 3x3), ``minigrad.ops.winograd4`` for F(4x4, 3x3)), or None for im2col."""
    if not (tuple(weight_shape[2:]) == (3, 3) and stride == (1, 1) and dilation == (1, 1)
            and groups == 1 and x_shape[1] >= WINOGRAD_MIN_CHANNELS):
        return None
    if min(out_size) >= WINOGRAD4_MIN_SIZE:
        return winograd4
    if WINOGRAD_MIN_SIZE <= min(out_size) and max(out_size) <= WINOGRAD_MAX_SIZE:
        return winograd
    return None


def use_winograd(x_shape: tuple[int, ...], weight_shape: tuple[int, ...], stride: IntPair,
                 dilation: IntPair, groups: int, out_size: IntPair) -> bool:
    """Whether conv2d takes a Winograd path for these shapes (see ``winograd_algorithm``)."""
    return winograd_algorithm(x_shape, weight_shape, stride, dilation, groups,
                              out_size) is not None


# The per-image convolutions with one group add their bias through the GEMM: a row of ones
# after the im2col columns, the bias as an extra weight column; the weight-gradient GEMM then
# gives the bias gradient as its last column (no pass over the output or the gradient for it).
FOLD_BIAS = True

# Convolutions with at most this many columns per output pixel (C/G * KH * KW) run per image:
# batched (O, CKK) @ (CKK, P) GEMMs on an (N, C, KH, KW, OH, OW) im2col buffer, NCHW output.
# Wider ones run channel-major: one (O, CKK) @ (CKK, chunk * P) GEMM per chunk. Timed at half
# a batch of 128 on one core, per image wins for the first layers of the example models
# (LeNet-5's 1->6 5x5 forward 0.68 -> 0.15 ms, weight gradient 0.53 -> 0.15 ms) and for
# SimpleCNN's 8->16 3x3 (72 columns); channel-major wins from LeNet-5's 6->16 5x5 (150) up.
PER_IMAGE_MAX_COLUMNS = 100

# The per-image convolutions cut the batch so that each chunk's im2col buffer stays under
# PER_IMAGE_CHUNK_BYTES (parallel.CHUNK_BYTES, 4 MiB, for the others): their small GEMMs then
# read the columns from L2. Training step at batch 128, 1 MiB against 4 MiB: one thread (CPU
# time) LeNet-5 15.08 -> 14.57 ms, SimpleCNN 15.79 -> 14.98; two threads (wall) 16.88 -> 16.10
# and 16.20 -> 15.24; 512 KiB is no better than 1 MiB.
PER_IMAGE_CHUNK_BYTES: int | None = 1 << 20

# Without a gradient to compute the columns are dropped as soon as their GEMM has read them, and
# fewer, larger chunks win: inference at batch 128, two threads (wall), 1 MiB against 8 MiB:
# LeNet-5 3.63 -> 3.34 ms, SimpleCNN 3.14 -> 3.04 ms; ExampleNet and StrongCNN unchanged. Each
# image's GEMM is the same whatever the chunk, so the results are unchanged bit for bit.
PER_IMAGE_INFERENCE_CHUNK_BYTES: int | None = 8 << 20


def _per_image_chunk_bytes(ctx: Context) -> int | None:
    """The chunk size of a per-image convolution: larger when no input needs a gradient."""
    if ctx.needs_input_grad and any(ctx.needs_input_grad):
        return PER_IMAGE_CHUNK_BYTES
    return PER_IMAGE_INFERENCE_CHUNK_BYTES

ConvGeometry = tuple[IntPair, Padding, IntPair, int, IntPair]  # stride, padding, dilation, G, out


def _forward_per_image(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None,
                       geometry: ConvGeometry, chunks: list[IntPair], keep_cols: bool
                       ) -> tuple[np.ndarray, list[Any]]:
    """Output (N, O, OH, OW), C-contiguous, and each chunk's (m, G, C/G*KH*KW, P) columns."""
    stride, padding, dilation, groups, (oh, ow) = geometry
    n = x.shape[0]
    o, cg, kh, kw = weight.shape
    p = oh * ow
    columns = cg * kh * kw
    w_mat = weight.reshape(groups, o // groups, columns)
    out = np.empty((n, groups, o // groups, p), dtype=np.result_type(x, weight))
    bias4 = None if bias is None else bias.reshape(1, groups, o // groups, 1)
    fold = _folds_bias(bias, groups)
    if fold and bias is not None:
        w_mat = np.concatenate([w_mat, bias.reshape(1, o, 1)], axis=2)

    def forward_chunk(start: int, stop: int) -> np.ndarray | None:
        cols = _per_image_columns(x[start:stop], (kh, kw), geometry, fold)
        part = out[start:stop]
        np.matmul(w_mat, cols, out=part)
        if bias4 is not None and not fold:
            part += bias4
        return cols if keep_cols else None

    cols = parallel.run(forward_chunk, chunks)
    return out.reshape(n, o, oh, ow), cols


# Per-image convolutions with kernels of at least RECOMPUTE_MIN_TAPS taps whose im2col the
# compiled kernel takes (conv_wide.im2col_compiled) do not keep their columns for the weight
# gradient: each backward chunk makes them again from the input. Kept, they went out to memory
# between the passes (KH*KW copies of the input: 10 MB for LeNet-5's first layer at batch
# 128) and were read back from it; made again, each chunk's columns stay in cache from the
# copy to the GEMM in both passes. Training step at batch 128, two threads, kept -> made again
# (four runs each): LeNet-5 (5x5) 8.18-8.30 -> 7.81-8.06 ms; SimpleCNN (3x3) 7.12-7.23 ->
# 7.25-7.40 ms, so 3x3 kernels keep theirs. The columns are the same, so are the gradients,
# bit for bit. The input is saved instead, and modifying it in place before the backward is
# an error, as for any saved tensor.
RECOMPUTE_COLUMNS = True
RECOMPUTE_MIN_TAPS = 25


def _recomputes_columns(x: np.ndarray, kernel: IntPair, geometry: ConvGeometry) -> bool:
    stride, padding, dilation, _, _ = geometry
    return (RECOMPUTE_COLUMNS and kernel[0] * kernel[1] >= RECOMPUTE_MIN_TAPS
            and conv_wide.im2col_compiles(x, stride, padding, dilation))


def _folds_bias(bias: np.ndarray | None, groups: int) -> bool:
    """Whether a per-image convolution carries its bias through the GEMM (``FOLD_BIAS``)."""
    return bias is not None and groups == 1 and FOLD_BIAS


def _per_image_columns(x: np.ndarray, kernel: IntPair, geometry: ConvGeometry, fold: bool
                       ) -> np.ndarray:
    """The (m, G, C/G*KH*KW [+ 1], P) im2col columns of m images (a last row of ones when
    ``fold``: the bias through the GEMM, one group)."""
    stride, padding, dilation, groups, (oh, ow) = geometry
    m, c = x.shape[:2]
    kh, kw = kernel
    columns, p = c // groups * kh * kw, oh * ow
    cols = np.empty((m, 1, columns + 1, p) if fold else (m, groups, columns, p), dtype=x.dtype)
    if not conv_wide.im2col_compiled(x, kernel, stride, padding, dilation, (oh, ow),
                                     cols.reshape(m, -1, p)):
        view = window_view(pad2d(x, padding), kernel, stride, dilation, (oh, ow))
        np.copyto(cols[:, 0, :columns].reshape(view.shape) if fold
                  else cols.reshape(view.shape), view)
    if fold:
        cols[:, 0, columns] = 1
    return cols


def _backward_per_image(ctx: Context, grad: np.ndarray, weight: np.ndarray, need_bias: bool
                        ) -> tuple[np.ndarray | None, list[Any]]:
    """dL/dx (N, C, H, W) and per chunk (dL/dbias, dL/dweight) for the per-image layout."""
    groups = ctx.groups
    x = ctx.saved[1]
    geometry = (ctx.stride, ctx.padding, ctx.dilation, groups, ctx.out_size)
    n, o, oh, ow = grad.shape
    c, h, w = ctx.x_shape[1:]
    _, cg, kh, kw = ctx.weight_shape
    p = oh * ow
    needs = ctx.needs_input_grad
    grad_x = empty_4d((n, c, h, w), grad.dtype, ctx.x_channel_major) if needs[0] else None
    # col2im on full-width rows (conv_wide.py)
    wide = conv_wide.fits(ctx.stride, (oh, ow), cg * kh * kw)

    def backward_chunk(start: int, stop: int) -> tuple[Any, Any]:
        m = stop - start
        g = grad[start:stop].reshape(m, groups, o // groups, p)
        grad_b = grad_w = None
        if needs[1]:
            if ctx.recompute_cols:
                cols = _per_image_columns(x[start:stop], (kh, kw), geometry, ctx.fold_bias)
            else:
                cols = ctx.cols[ctx.chunks.index((start, stop))]
            grad_w = np.matmul(g, cols.transpose(0, 1, 3, 2)).sum(axis=0)  # (G, O/G, CKK[+1])
            if cols.shape[2] > cg * kh * kw:  # the bias row of ones: its column is dL/dbias
                grad_b = grad_w[0, :, -1] if need_bias else None
                grad_w = grad_w[:, :, :-1]
        if need_bias and grad_b is None:
            grad_b = g.sum(axis=(0, 3)).reshape(o)
        if grad_x is not None and wide:
            w_mat = weight.reshape(groups, o // groups, cg * kh * kw)
            target = grad_x[start:stop]
            image = conv_wide.input_grad_wide(g, w_mat, (kh, kw), ctx.dilation, (oh, ow),
                                              ctx.padded_size, ctx.padding, target)
            if image is not None:
                target[...] = crop2d(image, ctx.padding, (h, w))
        elif grad_x is not None:
            w_mat = weight.reshape(groups, o // groups, cg * kh * kw)
            grad_cols = np.matmul(w_mat.transpose(0, 2, 1), g)  # (m, G, C/G*KH*KW, P)
            grad_cols = grad_cols.reshape(m, c, kh, kw, oh, ow)
            image = col2im(grad_cols, ctx.padded_size, ctx.stride, ctx.dilation)
            grad_x[start:stop] = crop2d(image, ctx.padding, (h, w))
        return grad_b, grad_w

    return grad_x, parallel.run(backward_chunk, ctx.chunks)


def channel_major_columns(x: np.ndarray, kernel: IntPair, geometry: ConvGeometry
                          ) -> np.ndarray:
    """im2col of m images: (m, C, H, W) -> (G, C/G*KH*KW, m*P), the rows channel-major."""
    stride, padding, dilation, groups, out_size = geometry
    m, c = x.shape[:2]
    view = window_view(pad2d(x, padding), kernel, stride, dilation, out_size)
    cols = np.ascontiguousarray(view.transpose(1, 2, 3, 0, 4, 5))
    return cols.reshape(groups, c // groups * kernel[0] * kernel[1],
                        m * out_size[0] * out_size[1])


def _forward_channel_major(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None,
                           geometry: ConvGeometry, chunks: list[IntPair], keep_cols: bool
                           ) -> tuple[np.ndarray, list[Any]]:
    """Output (N, O, OH, OW) as a view of channel-major memory, and each chunk's
    (G, C/G*KH*KW, m*P) columns."""
    stride, padding, dilation, groups, (oh, ow) = geometry
    n = x.shape[0]
    o, cg, kh, kw = weight.shape
    p = oh * ow
    w_mat = weight.reshape(groups, o // groups, cg * kh * kw)
    bias_col = None if bias is None else bias.reshape(groups, o // groups, 1)
    # Channel-major (G, O/G, N*P) output: each chunk's GEMM writes a contiguous run of every
    # row, (O/G, C/G*KH*KW) @ (C/G*KH*KW, chunk*P), one GEMM per group per chunk.
    out = np.empty((groups, o // groups, n * p), dtype=np.result_type(x, weight))

    def forward_chunk(start: int, stop: int) -> np.ndarray | None:
        cols = channel_major_columns(x[start:stop], (kh, kw), geometry)
        part = out[:, :, start * p : stop * p]
        np.matmul(w_mat, cols, out=part)
        if bias_col is not None:
            part += bias_col
        return cols if keep_cols else None

    cols = parallel.run(forward_chunk, chunks)
    # The GEMMs leave the result channel-major (O, N, P). Returning it as an (N, O, OH, OW)
    # view saves a full copy, and every consumer (ufuncs, the next conv's im2col, the pools'
    # window copy) reads any strides.
    return out.reshape(o, n, oh, ow).transpose(1, 0, 2, 3), cols


def _backward_channel_major(ctx: Context, grad: np.ndarray, weight: np.ndarray,
                            need_bias: bool) -> tuple[np.ndarray | None, list[Any]]:
    """dL/dx (N, C, H, W) and per chunk (dL/dbias, dL/dweight) for the channel-major layout."""
    groups = ctx.groups
    n, o, oh, ow = grad.shape
    c, h, w = ctx.x_shape[1:]
    p = oh * ow
    needs = ctx.needs_input_grad
    # (C, N, H, W) memory like the columns when x has it: each chunk's GEMM then writes its
    # slice in place; for an (N, C, H, W) x each chunk transposes its result into place
    in_place = ctx.x_channel_major
    grad_x = empty_4d((n, c, h, w), grad.dtype, in_place) if needs[0] else None

    def backward_chunk(start: int, stop: int) -> tuple[Any, Any]:
        m = stop - start
        # (G, O/G, m*P), the layout both GEMMs want: a free view when grad is channel-major
        # like this conv's own output (ReLU's gradient usually is), else one copy
        g = grad[start:stop].reshape(m, o, p).transpose(1, 0, 2)
        g = g.reshape(groups, o // groups, m * p)
        grad_b = g.reshape(o, -1).sum(axis=1) if need_bias else None
        grad_w = None
        if needs[1]:
            cols = ctx.cols[ctx.chunks.index((start, stop))]
            # (G, O/G, C/G*KH*KW), computed transposed: OpenBLAS is 1.1-1.9x faster on
            # cols @ g.T than on g @ cols.T for every conv shape of the example models
            grad_w = np.matmul(cols, g.transpose(0, 2, 1)).transpose(0, 2, 1)
        if grad_x is not None:
            if in_place:
                # this chunk's images in every channel row: (G, C/G, m*H*W), a strided view
                target = grad_x.transpose(1, 0, 2, 3).reshape(groups, c // groups, n * h * w)
                _conv_input_grad(ctx, g, weight, m, target[:, :, start * h * w : stop * h * w])
            else:
                part = np.empty((groups, c // groups, m * h * w), dtype=grad.dtype)
                _conv_input_grad(ctx, g, weight, m, part)
                grad_x[start:stop] = part.reshape(c, m, h, w).transpose(1, 0, 2, 3)
        return grad_b, grad_w

    parts = parallel.run(backward_chunk, ctx.chunks)
    return grad_x, parts


def _conv_input_grad(ctx: Context, g: np.ndarray, weight: np.ndarray, m: int,
                     out: np.ndarray) -> None:
    """Write dL/dx of ``m`` images into ``out`` (G, C/G, m*H*W) from g (G, O/G, m*P), by the
    cheaper of two equivalent methods.

    Both do the same GEMM work and differ in the big buffer they fill: col2im's columns hold
    C*KH*KW*m*P values and are then added back with one strided pass per kernel offset; the
    transposed convolution's hold O*KH*KW*m*H*W and need nothing afterwards. Timed on two
    cores (batch 128, 3x3), the transposed convolution wins while O <= C, col2im beyond; with
    stride > 1 the transposed convolution would waste stride**2 of its work on zeros.
    """
    o, cg = weight.shape[:2]
    if ctx.stride == (1, 1) and o <= cg * ctx.groups:
        _input_grad_transposed(ctx, g, weight, m, out)
    else:
        _input_grad_col2im(ctx, g, weight, m, out)


def _input_grad_col2im(ctx: Context, g: np.ndarray, weight: np.ndarray, m: int,
                       out: np.ndarray) -> None:
    """dL/dx from g (G, O/G, m*P): one GEMM to columns, then col2im over the kernel offsets."""
    c, h, w = ctx.x_shape[1:]
    o, cg, kh, kw = weight.shape
    groups = ctx.groups
    oh, ow = ctx.out_size
    w_mat = weight.reshape(groups, o // groups, cg * kh * kw)
    if conv_wide.fits_batch_inner(ctx.stride, (oh, ow)):  # (C, Hp, Wp, m), conv_wide.py
        target = out.reshape(c, m, h, w).transpose(1, 0, 2, 3)
        inner = conv_wide.input_grad_batch_inner(g, w_mat, m, (kh, kw), ctx.dilation,
                                                 (oh, ow), ctx.padded_size, ctx.padding, target)
        if inner is not None:
            target[...] = crop2d(inner.transpose(3, 0, 1, 2), ctx.padding, (h, w))
        return
    grad_cols = np.matmul(w_mat.transpose(0, 2, 1), g)  # (G, C/G*KH*KW, m*P)
    # accumulate channel-major, in the columns' own memory order
    grad_cols = grad_cols.reshape(c, kh, kw, m, oh, ow).transpose(0, 3, 1, 2, 4, 5)
    grad_xp = col2im(grad_cols, ctx.padded_size, ctx.stride, ctx.dilation)
    out.reshape(c, m, h, w)[...] = crop2d(grad_xp, ctx.padding, (h, w))


def _input_grad_transposed(ctx: Context, g: np.ndarray, weight: np.ndarray, m: int,
                           out: np.ndarray) -> None:
    """dL/dx for stride 1 as a convolution of the padded g with the flipped, transposed weight."""
    c, h, w = ctx.x_shape[1:]
    o, cg, kh, kw = weight.shape
    groups = ctx.groups
    oh, ow = ctx.out_size
    (top, bottom), (left, right) = ctx.padding
    dh, dw = ctx.dilation
    reach_h, reach_w = dh * (kh - 1), dw * (kw - 1)
    g4 = g.reshape(o, m, oh, ow)
    gp = pad2d(g4, ((reach_h - top, reach_h - bottom), (reach_w - left, reach_w - right)))
    view = window_view(gp, (kh, kw), (1, 1), ctx.dilation, (h, w)).transpose(0, 2, 3, 1, 4, 5)
    og = o // groups
    g_cols = np.ascontiguousarray(view).reshape(groups, og * kh * kw, m * h * w)
    w_t = weight[:, :, ::-1, ::-1].reshape(groups, og, cg, kh, kw).transpose(0, 2, 1, 3, 4)
    w_t = np.ascontiguousarray(w_t).reshape(groups, cg, og * kh * kw)
    np.matmul(w_t, g_cols, out=out)


# --------------------------------------------------------------------------- unfold / fold


class Unfold(Primitive):
    """im2col: (N, C, H, W) -> (N, C*KH*KW, L), one column per window, as torch's unfold."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, *, kernel: IntPair, stride: IntPair,
                padding: Padding, dilation: IntPair) -> np.ndarray:
        n, c = x.shape[:2]
        xp = pad2d(x, padding)
        out = (_out_size(xp.shape[2], kernel[0], stride[0], dilation[0]),
               _out_size(xp.shape[3], kernel[1], stride[1], dilation[1]))
        view = window_view(xp, kernel, stride, dilation, out)
        ctx.x_shape, ctx.padded_size, ctx.out_size = x.shape, xp.shape[2:], out
        ctx.kernel, ctx.stride, ctx.padding, ctx.dilation = kernel, stride, padding, dilation
        return np.ascontiguousarray(view).reshape(n, c * kernel[0] * kernel[1], out[0] * out[1])

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray]:
        if not isinstance(grad, np.ndarray):  # create_graph=True: the adjoint of im2col
            from minigrad.autograd.higher_order import linear_backward

            return (linear_backward(Unfold, ctx, grad, lambda c, x: Unfold.forward(
                Context(), x, kernel=c.kernel, stride=c.stride, padding=c.padding,
                dilation=c.dilation)),)
        n, c, h, w = ctx.x_shape
        cols = grad.reshape(n, c, *ctx.kernel, *ctx.out_size)
        image = col2im(cols, ctx.padded_size, ctx.stride, ctx.dilation)
        return (crop2d(image, ctx.padding, (h, w)),)


class Fold(Primitive):
    """col2im: (N, C*KH*KW, L) -> (N, C, H, W), summing overlapping windows, as torch's fold."""

    @staticmethod
    def forward(ctx: Context, cols: np.ndarray, *, output_size: IntPair, kernel: IntPair,
                stride: IntPair, padding: Padding, dilation: IntPair, blocks: IntPair
                ) -> np.ndarray:
        n = cols.shape[0]
        c = cols.shape[1] // (kernel[0] * kernel[1])
        padded = (output_size[0] + padding[0][0] + padding[0][1],
                  output_size[1] + padding[1][0] + padding[1][1])
        image = col2im(cols.reshape(n, c, *kernel, *blocks), padded, stride, dilation)
        ctx.padded_shape = image.shape
        ctx.kernel, ctx.stride, ctx.padding, ctx.dilation = kernel, stride, padding, dilation
        ctx.blocks = blocks
        return np.ascontiguousarray(crop2d(image, padding, output_size))

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray]:
        if not isinstance(grad, np.ndarray):  # create_graph=True: the adjoint of col2im
            from minigrad.autograd.higher_order import linear_backward

            return (linear_backward(Fold, ctx, grad, lambda c, x: Fold.forward(
                Context(), x, output_size=tuple(grad.shape[2:]), kernel=c.kernel,
                stride=c.stride, padding=c.padding, dilation=c.dilation, blocks=c.blocks)),)
        gp = pad2d(grad, ctx.padding)
        view = window_view(gp, ctx.kernel, ctx.stride, ctx.dilation, ctx.blocks)
        n, c = grad.shape[:2]
        blocks = ctx.blocks[0] * ctx.blocks[1]
        return (np.ascontiguousarray(view).reshape(n, c * ctx.kernel[0] * ctx.kernel[1], blocks),)


# --------------------------------------------------------------------------- public API


def _same_padding(kernel: IntPair, dilation: IntPair) -> Padding:
    """PyTorch's padding='same': total d*(k-1) per axis, the odd pixel on the bottom/right."""
    totals = [d * (k - 1) for k, d in zip(kernel, dilation, strict=True)]
    return ((totals[0] // 2, totals[0] - totals[0] // 2),
            (totals[1] // 2, totals[1] - totals[1] // 2))


def _symmetric(padding: IntPair) -> Padding:
    return ((padding[0], padding[0]), (padding[1], padding[1]))


def _check_fits(op: str, x_shape: tuple[int, ...], kernel: IntPair, padding: Padding,
                dilation: IntPair) -> None:
    padded = (x_shape[2] + sum(padding[0]), x_shape[3] + sum(padding[1]))
    extent = (_window_extent(kernel[0], dilation[0]), _window_extent(kernel[1], dilation[1]))
    if extent[0] > padded[0] or extent[1] > padded[1]:
        raise ValueError(
            f"{op}: kernel {kernel[0]}x{kernel[1]} (spanning {extent[0]}x{extent[1]} with "
            f"dilation {dilation}) is larger than the padded input {padded[0]}x{padded[1]} "
            f"(input shape {tuple(x_shape)}, padding {padding}); the kernel must fit inside "
            "the padded input"
        )


def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: IntArg = 1,
    padding: IntArg | str = 0,
    dilation: IntArg = 1,
    groups: int = 1,
) -> Tensor:
    """2-D cross-correlation: (N, C, H, W) * (O, C/groups, KH, KW) + (O,) -> (N, O, OH, OW)."""
    op = "conv2d"
    _check_4d(op, "input", input.shape, "(N, C, H, W)")
    _check_4d(op, "weight", weight.shape, "(O, C/groups, KH, KW)")
    stride = _pair(stride, "stride", op, 1)
    dilation = _pair(dilation, "dilation", op, 1)
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    n, c, h, w = input.shape
    o, cg, kh, kw = weight.shape
    if c % groups or o % groups:
        raise ValueError(
            f"{op}: groups={groups} must divide both the input channels ({c}, input shape "
            f"{input.shape}) and the output channels ({o}, weight shape {weight.shape})"
        )
    if cg * groups != c:
        raise ValueError(
            f"{op}: input of shape {input.shape} has {c} channels but weight of shape "
            f"{weight.shape} with groups={groups} expects {cg * groups} "
            f"(weight.shape[1] * groups must equal C)"
        )
    if isinstance(padding, str):
        if padding == "valid":
            pads = _symmetric((0, 0))
        elif padding == "same":
            if stride != (1, 1):
                raise ValueError(
                    f"{op}: padding='same' needs stride 1, got stride {stride}; pad explicitly"
                )
            pads = _same_padding((kh, kw), dilation)
        else:
            raise ValueError(f"{op}: padding must be 'same', 'valid', an int or a pair, got "
                             f"{padding!r}")
    else:
        pads = _symmetric(_pair(padding, "padding", op, 0))
    _check_fits(op, input.shape, (kh, kw), pads, dilation)
    if input.dtype != weight.dtype or (bias is not None and bias.dtype != input.dtype):
        raise TypeError(
            f"{op}: input ({input.dtype}), weight ({weight.dtype})"
            + (f" and bias ({bias.dtype})" if bias is not None else "")
            + " must have the same dtype; convert with .float() or .double()"
        )
    if bias is not None:
        if bias.shape != (o,):
            raise ValueError(
                f"{op}: bias of shape {bias.shape} does not match weight of shape "
                f"{weight.shape}; expected shape ({o},), one value per output channel"
            )
        return Conv2d.apply(input, weight, bias, stride=stride, padding=pads,
                            dilation=dilation, groups=int(groups))
    return Conv2d.apply(input, weight, stride=stride, padding=pads, dilation=dilation,
                        groups=int(groups))


def unfold(
    input: Tensor,
    kernel_size: IntArg,
    dilation: IntArg = 1,
    padding: IntArg = 0,
    stride: IntArg = 1,
) -> Tensor:
    """im2col: (N, C, H, W) -> (N, C*KH*KW, L) with L the number of windows."""
    op = "unfold"
    _check_4d(op, "input", input.shape, "(N, C, H, W)")
    kernel = _pair(kernel_size, "kernel_size", op, 1)
    dilation = _pair(dilation, "dilation", op, 1)
    pads = _symmetric(_pair(padding, "padding", op, 0))
    stride = _pair(stride, "stride", op, 1)
    _check_fits(op, input.shape, kernel, pads, dilation)
    return Unfold.apply(input, kernel=kernel, stride=stride, padding=pads, dilation=dilation)


def fold(
    input: Tensor,
    output_size: IntArg,
    kernel_size: IntArg,
    dilation: IntArg = 1,
    padding: IntArg = 0,
    stride: IntArg = 1,
) -> Tensor:
    """col2im: (N, C*KH*KW, L) -> (N, C, *output_size), summing overlapping windows."""
    op = "fold"
    if len(input.shape) != 3:
        raise ValueError(f"fold: expected a 3-D input (N, C*KH*KW, L), got shape {input.shape}")
    size = _pair(output_size, "output_size", op, 1)
    kernel = _pair(kernel_size, "kernel_size", op, 1)
    dilation = _pair(dilation, "dilation", op, 1)
    pads = _symmetric(_pair(padding, "padding", op, 0))
    stride = _pair(stride, "stride", op, 1)
    _check_fits(op, (1, 1) + size, kernel, pads, dilation)
    blocks = (_out_size(size[0] + sum(pads[0]), kernel[0], stride[0], dilation[0]),
              _out_size(size[1] + sum(pads[1]), kernel[1], stride[1], dilation[1]))
    n, rows, length = input.shape
    if rows % (kernel[0] * kernel[1]) or length != blocks[0] * blocks[1]:
        raise ValueError(
            f"fold: input of shape {input.shape} does not fit output_size {size} with kernel "
            f"{kernel}: dimension 1 must be a multiple of {kernel[0] * kernel[1]} and "
            f"dimension 2 must equal the number of windows {blocks[0]}*{blocks[1]}"
        )
    return Fold.apply(input, output_size=size, kernel=kernel, stride=stride, padding=pads,
                      dilation=dilation, blocks=blocks)


# --------------------------------------------------------------------------- pooling geometry


def _pool_out_size(size: int, kernel: int, stride: int, padding: int, dilation: int,
                   ceil_mode: bool) -> int:
    """PyTorch's pooling output length; in ceil mode the last window must start in the input."""
    span = size + 2 * padding - _window_extent(kernel, dilation)
    out = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


class _Geometry:
    """Everything a pool needs to know about its windows, computed once per call."""

    def __init__(self, op: str, shape: tuple[int, ...], kernel_size: Any, stride: Any,
                 padding: Any, dilation: Any, ceil_mode: bool) -> None:
        _check_4d(op, "input", shape, "(N, C, H, W)")
        self.kernel = _pair(kernel_size, "kernel_size", op, 1)
        self.stride = self.kernel if stride is None or stride == [] else _pair(
            stride, "stride", op, 1)
        self.padding = _pair(padding, "padding", op, 0)
        self.dilation = _pair(dilation, "dilation", op, 1)
        self.size = (shape[2], shape[3])
        extent = (_window_extent(self.kernel[0], self.dilation[0]),
                  _window_extent(self.kernel[1], self.dilation[1]))
        padded = (self.size[0] + 2 * self.padding[0], self.size[1] + 2 * self.padding[1])
        if self.padding[0] > self.kernel[0] // 2 or self.padding[1] > self.kernel[1] // 2:
            raise ValueError(
                f"{op}: padding {self.padding} must be at most half of kernel_size "
                f"{self.kernel} (every window must still overlap the input)"
            )
        out, trailing = [], []
        for axis in range(2):
            size, stride, pad = self.size[axis], self.stride[axis], self.padding[axis]
            out.append(_pool_out_size(size, self.kernel[axis], stride, pad, self.dilation[axis],
                                      ceil_mode))
        if min(out) < 1:
            # as PyTorch: a window larger than the padded input is fine while ceil_mode still
            # gives an output (the last window then reaches past the input)
            raise OpError(
                f"{op}: kernel_size {self.kernel} (window {extent[0]}x{extent[1]} with "
                f"dilation {self.dilation}) is larger than the padded input "
                f"{padded[0]}x{padded[1]} of input shape {tuple(shape)}, so the output would "
                f"be {out[0]}x{out[1]}; use a smaller kernel, more padding or ceil_mode=True"
            )
        for axis in range(2):
            size, stride, pad = self.size[axis], self.stride[axis], self.padding[axis]
            # the trailing side is padded as far as the last window reaches (ceil mode may
            # reach past the usual padding)
            trailing.append(max(0, (out[axis] - 1) * stride + extent[axis] - size - pad))
        self.out: IntPair = (out[0], out[1])
        self.pads: Padding = ((self.padding[0], trailing[0]), (self.padding[1], trailing[1]))
        self.padded_size = (self.size[0] + self.padding[0] + trailing[0],
                            self.size[1] + self.padding[1] + trailing[1])
        self.overlapping = any(st < e for st, e in zip(self.stride, extent, strict=True))
        # windows that tile the input without padding: each offset is a strided slice of x
        self.tiling = (self.stride == self.kernel and self.padding == (0, 0)
                       and self.dilation == (1, 1)
                       and all(o * k <= n for o, k, n in zip(self.out, self.kernel, self.size,
                                                               strict=True)))

    def offsets(self, x: np.ndarray) -> list[np.ndarray]:
        """For tiling windows: the (N, C, OH, OW) strided view of each window offset, row-major.
        In a spatial-major or channels-last layout each is a run of long contiguous rows."""
        (kh, kw), (oh, ow) = self.kernel, self.out
        return [x[:, :, i : i + kh * oh : kh, j : j + kw * ow : kw]
                for i in range(kh) for j in range(kw)]

    def windows(self, x: np.ndarray, fill: float) -> np.ndarray:
        """Every window of ``x`` padded with ``fill``: (KH*KW, N, C, OH, OW), contiguous, so
        that reductions over the window run along the first axis at full speed."""
        xp = pad2d(x, self.pads, fill)
        view = window_view(xp, self.kernel, self.stride, self.dilation, self.out)
        return np.ascontiguousarray(view.transpose(2, 3, 0, 1, 4, 5)).reshape(
            self.kernel[0] * self.kernel[1], *x.shape[:2], *self.out)

    def scatter(self, parts: np.ndarray, x_shape: tuple[int, ...]) -> np.ndarray:
        """The reverse of ``windows``: sum (KH*KW, N, C, OH, OW) into the (N, C, H, W) input."""
        parts = parts.reshape(*self.kernel, *x_shape[:2], *self.out).transpose(2, 3, 0, 1, 4, 5)
        if self.overlapping:
            image = col2im(parts, self.padded_size, self.stride, self.dilation)
        else:  # each input pixel is in at most one window: place instead of add
            image = np.zeros(x_shape[:2] + self.padded_size, dtype=parts.dtype)
            view = window_view(image, self.kernel, self.stride, self.dilation, self.out,
                               writeable=True)
            np.copyto(view, parts)
        return crop2d(image, self.pads, self.size)


# --------------------------------------------------------------------------- max pool


def _lowest(dtype: np.dtype) -> Any:
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


class MaxPool2d(Primitive):
    """(N, C, H, W) -> (N, C, OH, OW), the maximum of each window; ties go to the first."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, *, geometry: _Geometry,
                indices: list[np.ndarray] | None = None) -> np.ndarray:
        kernel = geometry.kernel[0] * geometry.kernel[1]
        # strided views pay only when the image rows are not the innermost axis: in the
        # spatial-major layout of Winograd convolutions they are twice as fast as the window
        # copy, in (N, C, H, W) or (C, N, H, W) memory no faster (timed on one core)
        tiling = geometry.tiling and x.strides[3] > min(x.strides[0], x.strides[1])
        if tiling:
            out = empty_like_layout(x.strides, x.shape[:2] + geometry.out, x.dtype)
            argmax = empty_like_layout(x.strides, out.shape, np.min_scalar_type(kernel - 1))
        else:
            out = np.empty(x.shape[:2] + geometry.out, dtype=x.dtype)
            argmax = np.empty(out.shape, dtype=np.min_scalar_type(kernel - 1))

        def tiling_chunk(start: int, stop: int) -> None:
            # a running maximum over the offsets' strided views; an offset takes the index only
            # when strictly greater, so ties keep the first, or when NaN (NaN wins, as in
            # PyTorch). Offsets come in increasing order: max(first, wins * k) sets k where it wins
            views = geometry.offsets(x[start:stop])
            best, first = out[start:stop], argmax[start:stop]
            np.copyto(best, views[0])
            first.fill(0)
            for k in range(1, kernel):
                wins = np.greater(views[k], best)
                if x.dtype.kind == "f":
                    wins |= np.isnan(views[k])
                np.maximum(first, np.multiply(wins, first.dtype.type(k), dtype=first.dtype),
                           out=first)
                np.maximum(best, views[k], out=best)

        def chunk(start: int, stop: int) -> None:
            windows = geometry.windows(x[start:stop], _lowest(x.dtype))
            best = windows.max(axis=0, out=out[start:stop])  # a NaN propagates, as in PyTorch
            # The window offset of the FIRST maximum: count the offsets before it. A mask
            # `windows == out` would split the gradient between tied elements (MNIST borders
            # are full of tied zeros); PyTorch sends all of it to one.
            first = argmax[start:stop]
            first.fill(0)
            before_max = np.ones(best.shape, dtype=bool)
            for k in range(kernel - 1):
                before_max &= windows[k] != best
                first += before_max
            if x.dtype.kind == "f" and np.isnan(best).any():
                holds_nan, last = last_nan(windows, 0)
                np.copyto(first, last, where=holds_nan, casting="unsafe")

        parallel.rows(tiling_chunk if tiling else chunk, x)
        if indices is not None:
            indices.append(_flat_indices(argmax, geometry))
        if ctx.needs_input_grad and ctx.needs_input_grad[0]:
            ctx.save_for_backward(argmax)
            ctx.geometry = geometry
            ctx.x_shape = x.shape
            ctx.x_channel_major = channel_major(x)
            ctx.x_strides, ctx.tiling = x.strides, tiling
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray]:
        if not isinstance(grad, np.ndarray):  # create_graph=True: this scatter as a graph op
            from minigrad.ops import conv_graph

            return conv_graph.max_pool2d_backward(ctx, grad)
        (argmax,) = ctx.saved
        geometry = ctx.geometry
        kernel = geometry.kernel[0] * geometry.kernel[1]
        if geometry.overlapping:
            offsets = np.arange(kernel, dtype=argmax.dtype).reshape(-1, 1, 1, 1, 1)
            return (geometry.scatter((argmax == offsets) * grad, ctx.x_shape),)
        if ctx.tiling:  # each offset's share into its strided view, in x's layout
            if grad.strides != argmax.strides[:0] + tuple(
                    st * grad.itemsize // argmax.itemsize for st in argmax.strides):
                # e.g. (N, C, H, W) from a flatten: one copy into the layout of the indices
                # costs less than mixing two layouts in each of the KH*KW passes below
                same = empty_like_layout(argmax.strides, grad.shape, grad.dtype)
                np.copyto(same, grad)
                grad = same
            image = empty_like_layout(ctx.x_strides, ctx.x_shape, grad.dtype,
                                      zeros=geometry.out[0] * geometry.kernel[0] < ctx.x_shape[2]
                                      or geometry.out[1] * geometry.kernel[1] < ctx.x_shape[3])

            def tiling_chunk(start: int, stop: int) -> None:
                for k, view in enumerate(geometry.offsets(image[start:stop])):
                    np.multiply(grad[start:stop], argmax[start:stop] == k, out=view)

            parallel.rows(tiling_chunk, image)
            return (image,)
        # windows do not overlap: write each offset's share straight into its strided slice
        # of the image, one pass per offset and no (KH*KW, ...) intermediate
        image = empty_4d(ctx.x_shape[:2] + geometry.padded_size, grad.dtype,
                         ctx.x_channel_major, zeros=True)

        def chunk(start: int, stop: int) -> None:
            view = window_view(image[start:stop], geometry.kernel, geometry.stride,
                               geometry.dilation, geometry.out, writeable=True)
            for k in range(kernel):
                np.multiply(grad[start:stop], argmax[start:stop] == k,
                            out=view[:, :, k // geometry.kernel[1], k % geometry.kernel[1]])

        parallel.rows(chunk, image)
        return (crop2d(image, geometry.pads, geometry.size),)


def last_nan(values: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """Along ``axis`` (a pool's window offsets): where a window holds a NaN, and the offset
    of its last NaN, the element PyTorch's max-pools pass the gradient to (their scan takes
    ``val > max || isnan(val)``; np.argmax would give the first)."""
    nan = np.isnan(values)
    last = values.shape[axis] - 1 - np.argmax(np.flip(nan, axis), axis=axis)
    return nan.any(axis=axis), last


def _flat_indices(argmax: np.ndarray, geometry: _Geometry) -> np.ndarray:
    """Window offsets -> flat indices into the unpadded H * W plane, as PyTorch returns them."""
    kw = geometry.kernel[1]
    row0 = np.arange(geometry.out[0]) * geometry.stride[0] - geometry.padding[0]
    col0 = np.arange(geometry.out[1]) * geometry.stride[1] - geometry.padding[1]
    rows = row0[:, None] + (argmax // kw).astype(np.int64) * geometry.dilation[0]
    cols = col0[None, :] + (argmax % kw).astype(np.int64) * geometry.dilation[1]
    return rows * geometry.size[1] + cols


# --------------------------------------------------------------------------- average pool


def _window_counts(size: int, kernel: int, stride: int, padding: int, out: int,
                   count_include_pad: bool) -> np.ndarray:
    """Per output position along one axis, how many elements PyTorch divides by."""
    start = np.arange(out) * stride - padding
    end = np.minimum(start + kernel, size + padding)
    if count_include_pad:
        return end - start
    return np.minimum(end, size) - np.maximum(start, 0)


class AvgPool2d(Primitive):
    """(N, C, H, W) -> (N, C, OH, OW), the mean of each window."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, *, geometry: _Geometry,
                count_include_pad: bool) -> np.ndarray:
        out = geometry.windows(x, 0.0).sum(axis=0)
        counts = [
            _window_counts(s, k, st, p, o, count_include_pad)
            for s, k, st, p, o in zip(geometry.size, geometry.kernel, geometry.stride,
                                      geometry.padding, geometry.out, strict=True)
        ]
        divisor = (counts[0][:, None] * counts[1][None, :]).astype(x.dtype)
        if np.all(divisor == divisor.flat[0]):
            divisor = divisor.flat[0]
        out /= divisor
        if ctx.needs_input_grad and ctx.needs_input_grad[0]:
            ctx.divisor = divisor
            ctx.geometry = geometry
            ctx.x_shape = x.shape
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray]:
        if not isinstance(grad, np.ndarray):  # create_graph=True: this spread as a graph op
            from minigrad.ops import conv_graph

            return conv_graph.avg_pool2d_backward(ctx, grad)
        geometry = ctx.geometry
        share = grad / ctx.divisor
        kernel = geometry.kernel[0] * geometry.kernel[1]
        return (geometry.scatter(np.broadcast_to(share, (kernel, *share.shape)), ctx.x_shape),)


def _averaging_matrix(size: int, out: int, dtype: np.dtype) -> np.ndarray:
    """(out, size) matrix whose row i averages PyTorch's adaptive window i."""
    start = (np.arange(out) * size) // out
    end = -((-(np.arange(out) + 1) * size) // out)  # ceil((i + 1) * size / out)
    position = np.arange(size)
    inside = (position >= start[:, None]) & (position < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


class AdaptiveAvgPool2d(Primitive):
    """(N, C, H, W) -> (N, C, OH, OW), averaging PyTorch's adaptive windows: A_h @ x @ A_w.T."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, *, output_size: IntPair) -> np.ndarray:
        rows = _averaging_matrix(x.shape[2], output_size[0], x.dtype)
        cols = _averaging_matrix(x.shape[3], output_size[1], x.dtype)
        ctx.rows, ctx.cols = rows, cols
        return np.matmul(np.matmul(rows, x), cols.T)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray]:
        if not isinstance(grad, np.ndarray):  # create_graph=True: the adjoint as a graph op
            from minigrad.ops import conv_graph

            return conv_graph.adaptive_avg_pool2d_backward(ctx, grad)
        return (np.matmul(np.matmul(ctx.rows.T, grad), ctx.cols),)


# --------------------------------------------------------------------------- pooling API


def max_pool2d(
    input: Tensor,
    kernel_size: IntArg,
    stride: IntArg | None = None,
    padding: IntArg = 0,
    dilation: IntArg = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """Max over windows: (N, C, H, W) -> (N, C, OH, OW) [, int64 flat indices into H * W]."""
    from minigrad.tensor import Tensor

    geometry = _Geometry("max_pool2d", input.shape, kernel_size, stride, padding, dilation,
                         ceil_mode)
    if not return_indices:
        return MaxPool2d.apply(input, geometry=geometry)
    sink: list[np.ndarray] = []
    out = MaxPool2d.apply(input, geometry=geometry, indices=sink)
    return out, Tensor(sink[0])


def avg_pool2d(
    input: Tensor,
    kernel_size: IntArg,
    stride: IntArg | None = None,
    padding: IntArg = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """Mean over windows: (N, C, H, W) -> (N, C, OH, OW)."""
    geometry = _Geometry("avg_pool2d", input.shape, kernel_size, stride, padding, 1, ceil_mode)
    return AvgPool2d.apply(input, geometry=geometry, count_include_pad=count_include_pad)


def adaptive_avg_pool2d(input: Tensor, output_size: int | tuple[int | None, ...]
                        ) -> Tensor:
    """Mean over PyTorch's adaptive windows: (N, C, H, W) -> (N, C, *output_size)."""
    _check_4d("adaptive_avg_pool2d", "input", input.shape, "(N, C, H, W)")
    if isinstance(output_size, (int, np.integer)):
        output_size = (output_size, output_size)
    size = tuple(
        input.shape[2 + axis] if output_size[axis] is None else output_size[axis]
        for axis in range(2)
    )
    out = _pair(size, "output_size", "adaptive_avg_pool2d", 1)
    return AdaptiveAvgPool2d.apply(input, output_size=out)
