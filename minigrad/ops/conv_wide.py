"""The input gradient of a stride-1 per-image convolution, accumulated on full-width rows.

col2im adds the (KH, KW) kernel offsets' columns back into the padded image one strided slice
at a time, and each slice is a run of OW elements per output row: for small images (SimpleCNN's
14x14) NumPy spends more on its inner loops than on the additions. Here the gradient is first
widened to the padded image's width Wp (zeros in the Wp - OW extra columns of every row), so
the GEMM gives columns of OH * Wp values per image and channel, and the contribution of kernel
offset (i, j) to the padded image is then one contiguous run shifted by ``i * dh * Wp + j * dw``
in the flattened image plane. The extra columns carry zeros, and a valid column ``x < OW`` plus
``j * dw`` stays below ``Wp``, so no row wraps into the next one with a non-zero value.

Timed on SimpleCNN's 8 -> 16 3x3 (14x14, padding 1, half a batch of 128, one thread, CPU time):
GEMM plus col2im 1.57 -> 1.23 ms, for 16/14 of the GEMM work.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from minigrad import jit, parallel
from minigrad.autograd.engine import Context

__all__ = ["input_grad_wide", "fits", "fits_batch_inner", "input_grad_batch_inner",
           "accumulate_batch_inner", "use_batch_inner", "forward_batch_inner",
           "backward_batch_inner"]

# Stride-1 per-image convolutions with output rows of at most MAX_WIDTH pixels and at least
# MIN_COLUMNS columns per output pixel (C/G * KH * KW) take the wide route. Backward at batch
# 128, one thread, CPU time, col2im -> wide: SimpleCNN's 8->16 3x3 at 14x14 4.25 -> 3.51 ms,
# LeNet-5's 1->6 5x5 at 28x28 4.61 -> 3.88, 4->8 3x3 at 28x28 7.07 -> 6.27, 8->16 3x3 at
# 28x28 17.2 -> 15.2, 4->8 3x3 at 7x7 0.73 -> 0.56; even at 32x32 (3->8 5x5, 17.5 -> 17.6),
# slower for a single input channel with a 3x3 kernel (1->8 at 28x28 1.74 -> 2.02: nine
# offsets leave col2im few inner loops to save).
MAX_WIDTH = 28
MIN_COLUMNS = 25


def fits(stride: tuple[int, int], out_size: tuple[int, int], columns: int) -> bool:
    """Whether the per-image input gradient of this geometry goes through ``input_grad_wide``
    (``columns``: C/G * KH * KW)."""
    return stride == (1, 1) and out_size[1] <= MAX_WIDTH and columns >= MIN_COLUMNS


# With the compiled kernels on (minigrad.jit), the additions of the kernel offsets' runs and
# the crop to the unpadded image run as one loop per image and channel: each padded plane is
# summed in a buffer that stays in L1 and its (H, W) block written straight into dL/dx, where
# NumPy made KH * KW passes of short inner loops over the chunk and a crop copy. SimpleCNN's
# 8->16 3x3 at 14x14, batch 128, one thread: 1.51 -> 0.25 ms. The sums are added in the same
# order (kernel offsets row-major), so the results are the NumPy passes' bit for bit.
ACCUMULATE_COMPILED = True


def input_grad_wide(g: np.ndarray, w_mat: np.ndarray, kernel: tuple[int, int],
                    dilation: tuple[int, int], out_size: tuple[int, int],
                    padded_size: tuple[int, int], padding: Any = None,
                    out: np.ndarray | None = None) -> np.ndarray | None:
    """dL/dx of the padded input, (m, C, Hp, Wp), of a stride-1 convolution; with ``padding``
    and ``out`` (m, C, H, W), its unpadded block written into ``out`` instead (None returned).

    Args:
        g: the output gradient of ``m`` images, (m, G, O/G, OH * OW).
        w_mat: the weight as (G, O/G, C/G * KH * KW).
        kernel: (KH, KW); dilation: (dh, dw); out_size: (OH, OW); padded_size: (Hp, Wp).
    """
    m, groups, og, _ = g.shape
    kh, kw = kernel
    dh, dw = dilation
    oh, ow = out_size
    hp, wp = padded_size
    columns = w_mat.shape[2]
    c = groups * columns // (kh * kw)
    wide = np.empty((m, groups, og, oh, wp), dtype=g.dtype)
    wide[..., :ow] = g.reshape(m, groups, og, oh, ow)
    wide[..., ow:] = 0
    cols = np.matmul(w_mat.transpose(0, 2, 1), wide.reshape(m, groups, og, oh * wp))
    cols = cols.reshape(m, c, kh * kw, oh * wp)  # (G, C/G) merge into C
    if out is not None and ACCUMULATE_COMPILED and jit.takes(cols, out):
        (top, _), (left, _) = padding
        _accumulate_wide(cols, kh, kw, dh, dw, hp, wp, top, left, out)
        return None
    run = oh * wp
    # the last offset's run reaches (KW - 1) * dw past the plane (zeros from the extra columns)
    image = np.zeros((m, c, hp * wp + (kw - 1) * dw), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            start = i * dh * wp + j * dw
            image[:, :, start : start + run] += cols[:, :, i * kw + j]
    return image[:, :, : hp * wp].reshape(m, c, hp, wp)


# Stride-1 channel-major convolutions whose input gradient goes through col2im, with output
# rows of at most BATCH_INNER_MAX_WIDTH pixels, accumulate with the batch innermost
# (``input_grad_batch_inner``). LeNet-5's 6->16 5x5 at 10x10 (batch 128, one thread, CPU
# time): GEMM plus col2im 2.99 -> 2.13 ms, its whole backward 4.77 -> 3.70 ms; 6->16 5x5 at
# 12x12 with padding 2 6.62 -> 5.10, 12->24 3x3 at 14x14 7.20 -> 6.54, 6->16 5x5 at 24x24
# 24.7 -> 22.1.
BATCH_INNER_MAX_WIDTH = 24


def fits_batch_inner(stride: tuple[int, int], out_size: tuple[int, int]) -> bool:
    """Whether a channel-major col2im input gradient goes through ``input_grad_batch_inner``."""
    return stride == (1, 1) and out_size[1] <= BATCH_INNER_MAX_WIDTH


def input_grad_batch_inner(g: np.ndarray, w_mat: np.ndarray, m: int, kernel: tuple[int, int],
                           dilation: tuple[int, int], out_size: tuple[int, int],
                           padded_size: tuple[int, int], padding: Any = None,
                           out: np.ndarray | None = None) -> np.ndarray | None:
    """dL/dx of the padded input of a stride-1 convolution, (C, Hp, Wp, m): the batch innermost.

    With the ``m`` images innermost, kernel offset (i, j) adds to every padded row
    ``y + i * dh`` one contiguous run of OW * m values starting at column ``j * dw``, where
    col2im on (C, m, Hp, Wp) adds OW values at a time; the price is one transpose of the
    gradient (O values per output pixel) before the GEMM.

    Args:
        g: the output gradient, (G, O/G, m * OH * OW), images outermost.
        w_mat: the weight as (G, O/G, C/G * KH * KW).
        m: the number of images; kernel: (KH, KW); dilation: (dh, dw); out_size: (OH, OW);
            padded_size: (Hp, Wp).
    """
    groups, og, _ = g.shape
    oh, ow = out_size
    inner = np.ascontiguousarray(g.reshape(groups, og, m, oh, ow).transpose(0, 1, 3, 4, 2))
    return accumulate_batch_inner(inner.reshape(groups, og, oh * ow * m), w_mat, m, kernel,
                                  dilation, out_size, padded_size, padding, out)


def accumulate_batch_inner(inner: np.ndarray, w_mat: np.ndarray, m: int,
                           kernel: tuple[int, int], dilation: tuple[int, int],
                           out_size: tuple[int, int], padded_size: tuple[int, int],
                           padding: Any = None, out: np.ndarray | None = None
                           ) -> np.ndarray | None:
    """``input_grad_batch_inner`` from a gradient already batch-innermost, (G, O/G, OH*OW*m);
    with ``padding`` and ``out`` (m, C, H, W), the unpadded block written into ``out`` in its
    layout instead (None returned, compiled kernels on; the (C, Hp, Wp, m) image otherwise)."""
    groups, og, _ = inner.shape
    kh, kw = kernel
    dh, dw = dilation
    oh, ow = out_size
    hp, wp = padded_size
    c = groups * w_mat.shape[2] // (kh * kw)
    cols = np.matmul(w_mat.transpose(0, 2, 1), inner)
    cols = cols.reshape(c, kh, kw, oh, ow * m)
    if out is not None and ACCUMULATE_COMPILED and jit.takes(cols, out):
        (top, _), (left, _) = padding
        _accumulate_batch_inner(cols, m, dh, dw, hp, wp, top, left, out)
        return None
    image = np.zeros((c, hp, wp * m), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            row, col = i * dh, j * dw * m
            image[:, row : row + oh, col : col + ow * m] += cols[:, i, j]
    return image.reshape(c, hp, wp, m)


# --------------------------------------------------------------------------- batch innermost

# Stride-1 channel-major convolutions (one group) that fit ``fits_batch_inner`` and have more
# output than input channels (so that their input gradient is col2im's) run entirely with the
# batch innermost: (C, Hp, Wp, m) padded input, im2col rows of OW * m contiguous values, an
# (O, OH, OW, N) output returned as an (N, O, OH, OW) view; the input gradient is written in
# the input's layout. LeNet-5's 6->16 5x5 at 14x14 (batch 128, one thread, CPU time): im2col
# 1.00 -> 0.43 ms.
BATCH_INNER_CONV = True
# Per-image convolutions (see conv.py) may take the same path with this flag; it does not pay
# at batch 128, one thread, CPU time: LeNet-5's 1->6 5x5 at 28x28 took its training step from
# 16.5 to 18.4 ms, SimpleCNN's 8->16 3x3 at 14x14 alone 15.9 -> 15.6 (within the noise).
BATCH_INNER_PER_IMAGE = False
# The input gradient in (C, H, W, N) memory instead of the input's layout: LeNet-5's training
# step (batch 128) 15.00 -> 15.20 ms on one thread, 10.58 -> 10.69 ms on two (its first pool
# then copies the gradient into its own layout).
GRAD_X_BATCH_INNER = False


def use_batch_inner(x_shape: tuple[int, ...], weight_shape: tuple[int, ...],
                    stride: tuple[int, int], groups: int, out_size: tuple[int, int]) -> bool:
    """Whether a channel-major convolution runs batch-innermost (``forward_batch_inner``)."""
    return (BATCH_INNER_CONV and groups == 1 and weight_shape[0] > x_shape[1]
            and fits_batch_inner(stride, out_size))


def _padded_batch_inner(x: np.ndarray, padding: tuple[tuple[int, int], tuple[int, int]]
                        ) -> np.ndarray:
    """(m, C, H, W) -> (C, Hp, Wp, m), zero-padded (non-negative padding)."""
    (top, bottom), (left, right) = padding
    m, c, h, w = x.shape
    out = np.zeros((c, h + top + bottom, w + left + right, m), dtype=x.dtype)
    out[:, top : top + h, left : left + w] = x.transpose(1, 2, 3, 0)
    return out


def forward_batch_inner(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None,
                        padding: tuple[tuple[int, int], tuple[int, int]],
                        dilation: tuple[int, int], out_size: tuple[int, int],
                        chunks: list[tuple[int, int]], keep_cols: bool
                        ) -> tuple[np.ndarray, list[np.ndarray | None]]:
    """(N, C, H, W) * (O, C, KH, KW) -> (N, O, OH, OW) in (O, OH, OW, N) memory, stride 1, and
    each chunk's (C*KH*KW, OH*OW*m) columns (None unless ``keep_cols``)."""
    n, c = x.shape[:2]
    o, _, kh, kw = weight.shape
    dh, dw = dilation
    oh, ow = out_size
    w_mat = weight.reshape(o, c * kh * kw)
    out = np.empty((o, oh, ow, n), dtype=np.result_type(x, weight))

    def chunk(start: int, stop: int) -> np.ndarray | None:
        m = stop - start
        xp = _padded_batch_inner(x[start:stop], padding)
        s = xp.strides
        view = as_strided(xp, shape=(c, kh, kw, oh, ow * m),
                          strides=(s[0], s[1] * dh, s[2] * dw, s[1], s[3]))
        cols = np.ascontiguousarray(view).reshape(c * kh * kw, oh * ow * m)
        if m == n:
            result = out.reshape(o, oh * ow * n)
            np.matmul(w_mat, cols, out=result)
        else:
            result = np.matmul(w_mat, cols)
        if bias is not None:
            result += bias.reshape(o, 1)
        if m != n:
            out[..., start:stop] = result.reshape(o, oh, ow, m)
        return cols if keep_cols else None

    cols = parallel.run(chunk, chunks)
    return out.transpose(3, 0, 1, 2), cols


def backward_batch_inner(ctx: Context, grad: np.ndarray, weight: np.ndarray | None,
                         need_bias: bool) -> tuple[np.ndarray | None, list[Any]]:
    """dL/dx (N, C, H, W) in x's memory layout and per chunk (dL/dbias, dL/dweight (O,
    C*KH*KW)) of ``forward_batch_inner``."""
    n, o, oh, ow = grad.shape
    c, h, w = ctx.x_shape[1:]
    kh, kw = ctx.kernel
    (top, _), (left, _) = ctx.padding
    from minigrad.ops.conv import empty_like_layout

    needs = ctx.needs_input_grad
    grad_x = None
    if needs[0]:
        # in x's memory layout, like every input gradient (an elementwise op or a pool that
        # mixes two layouts runs about twice as slow), unless GRAD_X_BATCH_INNER
        strides = (1, 4, 3, 2) if GRAD_X_BATCH_INNER else ctx.x_strides
        grad_x = empty_like_layout(strides, (n, c, h, w), grad.dtype)
    # the weight is saved only when the input gradient is needed
    w_mat = None if grad_x is None or weight is None else weight.reshape(1, o, c * kh * kw)

    def chunk(start: int, stop: int) -> tuple[Any, Any]:
        m = stop - start
        g = np.ascontiguousarray(grad[start:stop].transpose(1, 2, 3, 0)).reshape(o, -1)
        grad_b = g.sum(axis=1) if need_bias else None
        grad_w = None
        if needs[1]:
            cols = ctx.cols[ctx.chunks.index((start, stop))]
            grad_w = np.matmul(cols, g.T).T  # OpenBLAS prefers cols @ g.T (conv.py)
        if grad_x is not None and w_mat is not None:
            target = grad_x[start:stop]
            image = accumulate_batch_inner(g.reshape(1, o, -1), w_mat, m, (kh, kw),
                                           ctx.dilation, (oh, ow), ctx.padded_size,
                                           ctx.padding, target)
            if image is not None:
                target[...] = image[:, top : top + h, left : left + w].transpose(3, 0, 1, 2)
        return grad_b, grad_w

    parts = parallel.run(chunk, ctx.chunks)
    return grad_x, parts


@jit.kernel
def _accumulate_wide(cols: Any, kh: int, kw: int, dh: int, dw: int, hp: int, wp: int,
                     top: int, left: int, out: Any) -> None:
    """out (m, C, H, W) = the (H, W) block at (top, left) of the padded planes (Hp, Wp) that
    are the sums of cols (m, C, KH*KW, OH*Wp) shifted by i * dh * Wp + j * dw."""
    m, c, _, run = cols.shape
    h, w = out.shape[2], out.shape[3]
    plane = np.empty(hp * wp + (kw - 1) * dw, dtype=out.dtype)
    zero = np.zeros(1, out.dtype)[0]
    for n in range(m):
        for ci in range(c):
            for t in range(plane.size):
                plane[t] = zero
            for i in range(kh):
                for j in range(kw):
                    start = i * dh * wp + j * dw
                    dst, src = plane[start:start + run], cols[n, ci, i * kw + j]
                    for t in range(run):
                        dst[t] += src[t]
            for y in range(h):
                src, dst = plane[(y + top) * wp + left:(y + top) * wp + left + w], out[n, ci, y]
                for x in range(w):
                    dst[x] = src[x]


@jit.kernel
def _accumulate_batch_inner(cols: Any, m: int, dh: int, dw: int, hp: int, wp: int, top: int,
                            left: int, out: Any) -> None:
    """out (m, C, H, W) = the (H, W) block at (top, left) of the padded images (Hp, Wp, m),
    channel by channel, that are the sums of cols (C, KH, KW, OH, OW*m) at row offset i * dh
    and column offset j * dw."""
    c, kh, kw, oh, run = cols.shape
    h, w = out.shape[2], out.shape[3]
    plane = np.empty((hp, wp * m), dtype=out.dtype)
    zero = np.zeros(1, out.dtype)[0]
    for ci in range(c):
        for y in range(hp):
            row = plane[y]
            for t in range(wp * m):
                row[t] = zero
        for i in range(kh):
            for j in range(kw):
                for y in range(oh):
                    dst = plane[y + i * dh, j * dw * m:j * dw * m + run]
                    src = cols[ci, i, j, y]
                    for t in range(run):
                        dst[t] += src[t]
        for n in range(m):
            for y in range(h):
                src, dst = plane[y + top], out[n, ci, y]
                for x in range(w):
                    dst[x] = src[(x + left) * m + n]


# --------------------------------------------------------------------------- compiled im2col

# With the compiled kernels on, the per-image im2col of a stride-1 convolution with no negative
# padding copies each image's channel plane into a zero-padded buffer that stays in L1, then
# every (kernel offset, output row) run of OW values from it into the columns: NumPy's copy of
# the 6-D window view ran inner loops of OW values through its iterator. Per batch of 128, one
# thread, padding and copy: SimpleCNN's 8->16 3x3 at 14x14 0.93 -> 0.70 ms, its 1->8 at 28x28
# 0.36 -> 0.19, LeNet-5's 1->6 5x5 at 28x28 0.86 -> 0.45. The same values are copied.
IM2COL_COMPILED = True


def im2col_compiles(x: np.ndarray, stride: tuple[int, int], padding: Any,
                    dilation: tuple[int, int]) -> bool:
    """Whether ``im2col_compiled`` runs the compiled kernel for x (m, C, H, W) and this
    geometry: stride 1, dilation 1, no negative padding, a dtype of ``jit.DTYPES``."""
    return (IM2COL_COMPILED and stride == (1, 1) and dilation == (1, 1)
            and min(min(padding)) >= 0 and jit.takes(x))


def im2col_compiled(x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int],
                    padding: Any, dilation: tuple[int, int], out_size: tuple[int, int],
                    cols: np.ndarray) -> bool:
    """Write the im2col columns of x (m, C, H, W) into the first C*KH*KW rows of cols (m,
    rows, OH*OW) when the compiled kernel takes this geometry; whether it did."""
    if not (im2col_compiles(x, stride, padding, dilation) and cols.dtype == x.dtype):
        return False
    (top, _), (left, _) = padding
    _im2col(x, kernel[0], kernel[1], top, left, out_size[0], out_size[1], cols)
    return True


@jit.kernel
def _im2col(x: Any, kh: int, kw: int, top: int, left: int, oh: int, ow: int, cols: Any
            ) -> None:
    """cols[n, (c*KH + i)*KW + j, y*OW + x] = the padded x[n, c] at (y + i, x + j).

    (Dilation stays with NumPy: the kernel with its multiples in the copy's indices ran 1.7x
    slower for every layer.)"""
    m, c, h, w = x.shape
    plane = np.zeros((oh + kh - 1, ow + kw - 1), dtype=cols.dtype)
    rows, cols_ = min(h, plane.shape[0] - top), min(w, plane.shape[1] - left)
    for n in range(m):
        for ci in range(c):
            for y in range(rows):
                src, dst = x[n, ci, y], plane[y + top, left:left + cols_]
                for t in range(cols_):
                    dst[t] = src[t]
            for i in range(kh):
                for j in range(kw):
                    out = cols[n, (ci * kh + i) * kw + j]
                    for y in range(oh):
                        src, dst = plane[y + i, j:j + ow], out[y * ow:y * ow + ow]
                        for t in range(ow):
                            dst[t] = src[t]
