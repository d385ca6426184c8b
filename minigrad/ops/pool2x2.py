"""The 2x2, stride-2 max pool of CNNs, in two pairwise passes over strided views.

Each window's maximum is taken in two steps: across the column pairs of every row (``x[..., 0::2]``
against ``x[..., 1::2]``, one long run over the whole array), then across the row pairs of that
result. Each step keeps a boolean mask of where the second element of the pair won (strictly
greater, or NaN), which is exactly the choice of PyTorch's kernel: its scan over the window in
row-major order takes a new element only when it is greater or NaN, so ties go to the first
element and a NaN to the last NaN. The backward routes the gradient through the same two
masks, row pairs first, then column pairs: four elementwise passes and no window copy, where
the general kernel copies every window (ExampleNet's (128, 64, 24, 24) pool, one thread, CPU
time: forward 11.4 -> 7.9 ms, backward 11.3 -> 9.5 ms).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad import jit, parallel
from minigrad.autograd.engine import Context, Primitive
from minigrad.autograd.higher_order import linear_backward
from minigrad.ops.conv import empty_like_layout

__all__ = ["MaxPool2x2", "fits"]


def fits(x: np.ndarray, kernel: tuple[int, ...], stride: tuple[int, ...],
         padding: tuple[int, ...], dilation: tuple[int, ...], out: tuple[int, ...]) -> bool:
    """Whether a max pool of these arguments over ``x`` (N, C, H, W) is this primitive's."""
    return (kernel == (2, 2) and stride == (2, 2) and padding == (0, 0)
            and dilation == (1, 1) and x.ndim == 4 and x.dtype.kind == "f"
            and out == (x.shape[2] // 2, x.shape[3] // 2) and x.shape[0] > 0)


def _same_order(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether the axes of ``a`` and ``b`` lie in memory in the same order."""
    def order(strides: tuple[int, ...]) -> list[int]:
        return sorted(range(len(strides)), key=lambda axis: -strides[axis])

    return order(a.strides) == order(b.strides)


class MaxPool2x2(Primitive):
    """(N, C, H, W) -> (N, C, H // 2, W // 2), the maximum of each 2x2 window; ties go to
    the first element in row-major order, NaN wins (PyTorch's choice of the element)."""

    differentiable_backward = True  # its Tensor branch is the adjoint of a pick

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        n, c, h, w = x.shape
        oh, ow = h // 2, w // 2
        x = x[:, :, : 2 * oh, : 2 * ow]  # floor mode drops an odd last row and column
        need_grad = bool(ctx.needs_input_grad and ctx.needs_input_grad[0])
        order = _memory_order(x) if USE_JIT and jit.takes(x) else None
        if order is not None:
            return _forward_compiled(ctx, x, order, need_grad, (n, c, h, w))
        # every array in x's memory layout (N, C, H, W; C, N, H, W; or the spatial-major
        # H, W, N, C of Winograd convolutions, where each pass runs over runs of N * C): a pass
        # that mixed two layouts would be a strided transpose
        layout = x.strides
        out = empty_like_layout(layout, (n, c, oh, ow), x.dtype)
        if not need_grad and layout[3] != min(layout):
            _max_by_offset(x, out)
            return out
        cols = empty_like_layout(layout, (n, c, 2 * oh, ow), x.dtype)  # column-pair maxima
        right = empty_like_layout(layout, cols.shape, bool) if need_grad else None
        lower = empty_like_layout(layout, out.shape, bool) if need_grad else None

        def chunk(start: int, stop: int) -> None:
            left_x, right_x = x[start:stop, :, :, 0::2], x[start:stop, :, :, 1::2]
            best = cols[start:stop]
            np.maximum(left_x, right_x, out=best)
            upper_c, lower_c = best[:, :, 0::2], best[:, :, 1::2]
            np.maximum(upper_c, lower_c, out=out[start:stop])
            if right is None or lower is None:
                return
            # where PyTorch's scan takes the second of a pair: greater, or NaN (a NaN anywhere
            # reaches the output, so the output tells whether the NaN test is needed)
            np.greater(right_x, left_x, out=right[start:stop])
            np.greater(lower_c, upper_c, out=lower[start:stop])
            if np.isnan(out[start:stop].min()):
                right[start:stop] |= np.isnan(right_x)
                lower[start:stop] |= np.isnan(lower_c)

        parallel.rows(chunk, x)
        if need_grad:
            ctx.save_for_backward(right, lower)
            ctx.x_shape, ctx.x_strides = (n, c, h, w), x.strides
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any]:
        if not isinstance(grad, np.ndarray):  # create_graph=True: the adjoint of the pick
            return (linear_backward(MaxPool2x2, ctx, grad, _pick),)
        if getattr(ctx, "compiled", False):
            return (_backward_compiled(ctx, grad),)
        right, lower = ctx.saved
        n, c, h, w = ctx.x_shape
        oh, ow = grad.shape[2:]
        uneven = h != 2 * oh or w != 2 * ow
        layout = ctx.x_strides
        if not _same_order(grad, lower):  # one copy into the masks' layout: cheaper than mixing
            same = empty_like_layout(layout, grad.shape, grad.dtype)
            np.copyto(same, grad)
            grad = same
        image = empty_like_layout(layout, ctx.x_shape, grad.dtype, zeros=uneven)
        cols = empty_like_layout(layout, (n, c, 2 * oh, ow), grad.dtype)

        def chunk(start: int, stop: int) -> None:
            g, part = grad[start:stop], cols[start:stop]
            target = image[start:stop, :, : 2 * oh, : 2 * ow]
            _route(g, lower[start:stop], part[:, :, 0::2], part[:, :, 1::2])
            _route(part, right[start:stop], target[..., 0::2], target[..., 1::2])

        def by_offset(start: int, stop: int) -> None:
            # one pass per window offset, each into its strided view of the image: when the
            # image rows are not innermost in memory (spatial-major), each view is a run of
            # long contiguous blocks and this beats the two-level route
            g, down = grad[start:stop], lower[start:stop]
            top, bottom = right[start:stop, :, 0::2], right[start:stop, :, 1::2]
            target = image[start:stop]
            np.multiply(g, ~(down | top), out=target[:, :, 0 : 2 * oh : 2, 0 : 2 * ow : 2])
            np.multiply(g, np.greater(top, down), out=target[:, :, 0 : 2 * oh : 2, 1 : 2 * ow : 2])
            np.multiply(g, np.greater(down, bottom),
                        out=target[:, :, 1 : 2 * oh : 2, 0 : 2 * ow : 2])
            np.multiply(g, down & bottom, out=target[:, :, 1 : 2 * oh : 2, 1 : 2 * ow : 2])

        rows_inner = layout[3] == min(layout)
        parallel.rows(chunk if rows_inner else by_offset, image)
        return (image,)


def _max_by_offset(x: np.ndarray, out: np.ndarray) -> None:
    """``out`` (N, C, OH, OW) = the maximum of the four window offsets of ``x`` (N, C, 2 OH,
    2 OW), taken in row-major order without masks (no gradient to route).

    Where image rows are not innermost in memory (spatial-major), each offset's view is a run of
    long contiguous blocks and three passes into ``out`` beat the two-level pairs and their
    (N, C, 2 OH, OW) intermediate (StrongCNN's (128, 32, 28, 28) pool, two threads: 1.11 -> 0.96
    ms; (128, 64, 14, 14): 0.45 -> 0.34 ms). ``np.maximum`` returns a NaN argument and settles
    every tie the same way, so each output is the element (and the sign of a zero) that the
    pairwise passes choose.
    """
    def chunk(start: int, stop: int) -> None:
        part, window = out[start:stop], x[start:stop]
        np.maximum(window[:, :, 0::2, 0::2], window[:, :, 0::2, 1::2], out=part)
        np.maximum(part, window[:, :, 1::2, 0::2], out=part)
        np.maximum(part, window[:, :, 1::2, 1::2], out=part)

    parallel.rows(chunk, x)


def _route(grad: np.ndarray, second: np.ndarray, first_out: np.ndarray,
           second_out: np.ndarray) -> None:
    """``grad`` to the second of each pair where ``second``, else to the first; 0 to the other."""
    np.multiply(grad, second, out=second_out)
    np.multiply(grad, ~second, out=first_out)


def _pick(arrays: Context, x: np.ndarray) -> np.ndarray:
    """The map the backward transposes: each window's chosen element of ``x``."""
    if getattr(arrays, "compiled", False):
        (offset,) = arrays.saved
        oh, ow = offset.shape[2:]
        x = x[:, :, : 2 * oh, : 2 * ow]
        corners = (x[:, :, 0::2, 0::2], x[:, :, 0::2, 1::2], x[:, :, 1::2, 0::2],
                   x[:, :, 1::2, 1::2])
        return np.choose(offset, corners)
    right, lower = arrays.saved
    oh, ow = lower.shape[2:]
    x = x[:, :, : 2 * oh, : 2 * ow]
    cols = np.where(right, x[..., 1::2], x[..., 0::2])
    return np.where(lower, cols[:, :, 1::2], cols[:, :, 0::2])


# --------------------------------------------------------------------------- compiled kernels

# The 2x2 pool in float32 or float64 of an input whose image rows are innermost in memory
# ((N, C, H, W) or (C, N, H, W) order), outermost (the spatial-major (H, W, N, C) of
# Winograd convolutions) or in the middle (channels-last, or the (C, H, W, N) of the
# batch-innermost convolutions: LeNet-5's second pool, forward / backward 0.28 / 0.36 -> 0.10 /
# 0.18 ms at batch 128) runs as compiled loops (minigrad.jit): the forward reads each window
# once and writes its maximum and the window offset (0-3, int8) of PyTorch's choice; the
# backward writes every input element once, the gradient at the saved offset and 0 elsewhere.
# Batch 128, two threads, forward / backward (ms), masks -> compiled: SimpleCNN's (128, 8,
# 28, 28) 0.66 / 0.96 -> 0.51 / 0.59, (128, 16, 14, 14) 0.47 / 0.59 -> 0.33 / 0.38, an
# (N, C, H, W) (128, 64, 24, 24) 3.39 / 5.43 -> 2.20 / 3.02.
USE_JIT = True


def _memory_order(a: np.ndarray) -> tuple[int, ...] | None:
    """The axes of ``a`` (N, C, H, W) from outermost to innermost in memory, when the image
    rows are innermost (``(N|C, C|N, H, W)``), the pixels outermost (``(H, W, N|C, C|N)``) or
    in the middle (``(N|C, H, W, C|N)``, the batch-innermost output of a channel-major
    convolution), with unit-stride innermost elements; None for any other layout."""
    order = tuple(sorted(range(4), key=lambda axis: -a.strides[axis]))
    if a.strides[order[3]] != a.itemsize or min(a.strides) <= 0:
        return None
    if (2, 3) in (order[2:], order[:2], order[1:3]):
        return order
    return None


def _kind(order: tuple[int, ...]) -> str:
    """Which kernels take this memory order: "planes", "pixels" or "middle"."""
    return "planes" if order[2:] == (2, 3) else "pixels" if order[:2] == (2, 3) else "middle"


def _in_order(shape: tuple[int, ...], order: tuple[int, ...], dtype: Any
              ) -> tuple[np.ndarray, np.ndarray]:
    """A new C-contiguous array of ``shape`` permuted to ``order``, and its view as ``shape``."""
    memory = np.empty(tuple(shape[axis] for axis in order), dtype=dtype)
    return memory, memory.transpose(np.argsort(order))


def _forward_compiled(ctx: Context, x: np.ndarray, order: tuple[int, ...], need_grad: bool,
                      x_shape: tuple[int, int, int, int]) -> np.ndarray:
    n, c, h, w = x.shape  # even (cropped)
    shape = (n, c, h // 2, w // 2)
    xm = x.transpose(order)
    out_m, out = _in_order(shape, order, x.dtype)
    kind = _kind(order)
    # chunks of the outermost memory axis: planes, or output rows (two input rows each)
    chunks = parallel.plan(shape[2] if kind == "pixels" else xm.shape[0], work=x.size,
                           min_work=parallel.ELEMENTS_PER_THREAD)
    # planes that fill one contiguous block (no odd row or column cropped) take the flat
    # kernels: their loops run over whole planes instead of rows of OW windows
    flat = FLAT_PLANES and kind == "planes" and xm.flags.c_contiguous
    if flat:
        planes = xm.shape[1]
        xf, out_f = xm.reshape(-1), out_m.reshape(-1)
    if need_grad:
        offset_m, offset = _in_order(shape, order, np.int8)
        if flat:
            off_f = offset_m.reshape(-1)
            parallel.run(lambda start, stop: _max_offset_flat(
                xf, out_f, off_f, start * planes, stop * planes, shape[2], shape[3]), chunks)
        else:
            fn = _MAX_OFFSET[kind]
            parallel.run(lambda start, stop: fn(xm, out_m, offset_m, start, stop), chunks)
        ctx.save_for_backward(offset)
        ctx.x_shape, ctx.compiled, ctx.x_order = x_shape, True, order
    elif flat:
        parallel.run(lambda start, stop: _max_flat(xf, out_f, start * planes, stop * planes,
                                                   shape[2], shape[3]), chunks)
    else:
        fn = _MAX[kind]
        parallel.run(lambda start, stop: fn(xm, out_m, start, stop), chunks)
    return out


def _backward_compiled(ctx: Context, grad: np.ndarray) -> np.ndarray:
    (offset,) = ctx.saved
    order = ctx.x_order
    offset_m, grad_m = offset.transpose(order), grad.transpose(order)
    if not grad_m.flags.c_contiguous:  # one copy into the offsets' layout
        grad_m = np.ascontiguousarray(grad_m)
    image_m, image = _in_order(ctx.x_shape, order, grad.dtype)
    kind = _kind(order)
    chunks = parallel.plan(offset.shape[2] if kind == "pixels" else image_m.shape[0],
                           work=image.size, min_work=parallel.ELEMENTS_PER_THREAD)
    fn = _ROUTE[kind]
    parallel.run(lambda start, stop: fn(grad_m, offset_m, image_m, start, stop), chunks)
    return image


# Planes whose rows are short (OW windows: 14 for a 28x28 image) leave the row loops of the
# "planes" kernels too few iterations to vectorize. The flat kernels take each contiguous
# (H, W) plane in two passes over whole-plane runs: the column pairs of all its rows (one loop
# of H * OW pairs), then the row pairs of that result (one loop over it shifted by a row, the
# odd rows' values computed and dropped), then the even rows copied out. Each pass takes the
# second of a pair only when greater or NaN, so the window's choice is its row-major scan's
# (PyTorch's) bit for bit. Forward with offsets, one thread: (128, 6, 28, 28) float32 0.50 ->
# 0.22 ms, (128, 24, 28, 28) 2.02 -> 0.96, (128, 16, 14, 14) 0.37 -> 0.25. A flat backward
# (the same passes reversed) was slower than the row loops: 0.26 -> 0.29 ms.
FLAT_PLANES = True


@jit.kernel
def _max_offset_flat(xf: Any, out: Any, offset: Any, p0: int, p1: int, oh: int, ow: int
                     ) -> None:
    """out, offset (flat, OH * OW per plane) of the flat planes p0 .. p1 - 1 of xf (2OH x 2OW
    each): each window's maximum and its place (0-3, row-major)."""
    half = 2 * oh * ow
    pairs = np.empty(half, xf.dtype)  # the column pairs' maxima, (2OH, OW)
    right = np.empty(half, np.int8)  # ... and whether the right one won
    best = np.empty(half - ow, xf.dtype)  # the row pairs' maxima (odd rows dropped)
    place = np.empty(half - ow, np.int8)
    two = np.int8(2)
    for p in range(p0, p1):
        plane = xf[p * 2 * half:(p + 1) * 2 * half]
        for t in range(half):
            left_v, right_v = plane[2 * t], plane[2 * t + 1]
            take = (right_v > left_v) | (right_v != right_v)
            value = left_v
            if take:
                value = right_v
            pairs[t] = value
            right[t] = np.int8(take)
        upper, lower = pairs[:half - ow], pairs[ow:]
        upper_k, lower_k = right[:half - ow], right[ow:]
        for t in range(half - ow):
            top, bottom = upper[t], lower[t]
            take = (bottom > top) | (bottom != bottom)
            value, k = top, upper_k[t]
            if take:
                value, k = bottom, lower_k[t] + two
            best[t] = value
            place[t] = k
        dst, dst_k = out[p * oh * ow:(p + 1) * oh * ow], offset[p * oh * ow:(p + 1) * oh * ow]
        for r in range(oh):
            src, src_k = best[2 * r * ow:2 * r * ow + ow], place[2 * r * ow:2 * r * ow + ow]
            row, row_k = dst[r * ow:r * ow + ow], dst_k[r * ow:r * ow + ow]
            for q in range(ow):
                row[q] = src[q]
                row_k[q] = src_k[q]


@jit.kernel
def _max_flat(xf: Any, out: Any, p0: int, p1: int, oh: int, ow: int) -> None:
    """``_max_offset_flat`` without the offsets (no gradient to route)."""
    half = 2 * oh * ow
    pairs = np.empty(half, xf.dtype)
    best = np.empty(half - ow, xf.dtype)
    for p in range(p0, p1):
        plane = xf[p * 2 * half:(p + 1) * 2 * half]
        for t in range(half):
            left_v, right_v = plane[2 * t], plane[2 * t + 1]
            value = left_v
            if (right_v > left_v) | (right_v != right_v):
                value = right_v
            pairs[t] = value
        upper, lower = pairs[:half - ow], pairs[ow:]
        for t in range(half - ow):
            top, bottom = upper[t], lower[t]
            value = top
            if (bottom > top) | (bottom != bottom):
                value = bottom
            best[t] = value
        dst = out[p * oh * ow:(p + 1) * oh * ow]
        for r in range(oh):
            src, row = best[2 * r * ow:2 * r * ow + ow], dst[r * ow:r * ow + ow]
            for q in range(ow):
                row[q] = src[q]


# The loops. ``x`` and ``image`` are (A, B, H, W) for the "planes" kernels (chunks of A) and
# (H, W, A, B) for the "pixels" kernels (chunks of output rows); ``out``, ``offset`` and
# ``grad`` are the same with (OH, OW). A later element of a window is taken only when it is
# greater than the maximum so far or NaN: PyTorch's scan, so ties go to the first element and
# a NaN to the last NaN.

@jit.kernel
def _window(v0: Any, v1: Any, v2: Any, v3: Any) -> tuple[Any, Any]:
    """The maximum of a window's four elements in row-major order and its place (0-3)."""
    m = v0
    take1 = (v1 > m) | (v1 != v1)
    m = v1 if take1 else m
    take2 = (v2 > m) | (v2 != v2)
    m = v2 if take2 else m
    take3 = (v3 > m) | (v3 != v3)
    m = v3 if take3 else m
    k = np.int8(take1)
    k += np.int8(take2) * (2 - k)
    k += np.int8(take3) * (3 - k)
    return m, k


@jit.kernel
def _max_offset_planes(x: Any, out: Any, offset: Any, start: int, stop: int) -> None:
    """out = each window's maximum, offset = its place in the window (0-3, row-major)."""
    _, nb, oh, ow = out.shape
    for a in range(start, stop):
        for b in range(nb):
            for r in range(oh):
                for q in range(ow):
                    out[a, b, r, q], offset[a, b, r, q] = _window(
                        x[a, b, 2 * r, 2 * q], x[a, b, 2 * r, 2 * q + 1],
                        x[a, b, 2 * r + 1, 2 * q], x[a, b, 2 * r + 1, 2 * q + 1])


@jit.kernel
def _max_planes(x: Any, out: Any, start: int, stop: int) -> None:
    """``_max_offset_planes`` without the offsets (no gradient to route)."""
    _, nb, oh, ow = out.shape
    for a in range(start, stop):
        for b in range(nb):
            for r in range(oh):
                for q in range(ow):
                    out[a, b, r, q] = _window(
                        x[a, b, 2 * r, 2 * q], x[a, b, 2 * r, 2 * q + 1],
                        x[a, b, 2 * r + 1, 2 * q], x[a, b, 2 * r + 1, 2 * q + 1])[0]


@jit.kernel
def _route_planes(grad: Any, offset: Any, image: Any, start: int, stop: int) -> None:
    """image = grad at each window's saved offset, 0 elsewhere and in an odd last row or
    column."""
    _, nb, oh, ow = grad.shape
    h, w = image.shape[2], image.shape[3]
    for a in range(start, stop):
        for b in range(nb):
            for r in range(oh):
                for q in range(ow):
                    k, v = offset[a, b, r, q], grad[a, b, r, q]
                    image[a, b, 2 * r, 2 * q] = v if k == 0 else 0
                    image[a, b, 2 * r, 2 * q + 1] = v if k == 1 else 0
                    image[a, b, 2 * r + 1, 2 * q] = v if k == 2 else 0
                    image[a, b, 2 * r + 1, 2 * q + 1] = v if k == 3 else 0
                if w > 2 * ow:
                    image[a, b, 2 * r, w - 1] = 0
                    image[a, b, 2 * r + 1, w - 1] = 0
            for y in range(2 * oh, h):
                for q in range(w):
                    image[a, b, y, q] = 0


@jit.kernel
def _max_offset_pixels(x: Any, out: Any, offset: Any, start: int, stop: int) -> None:
    """``_max_offset_planes`` for (H, W, A, B) memory, output rows [start, stop)."""
    _, ow, na, nb = out.shape
    for r in range(start, stop):
        for q in range(ow):
            for a in range(na):
                for b in range(nb):
                    out[r, q, a, b], offset[r, q, a, b] = _window(
                        x[2 * r, 2 * q, a, b], x[2 * r, 2 * q + 1, a, b],
                        x[2 * r + 1, 2 * q, a, b], x[2 * r + 1, 2 * q + 1, a, b])


@jit.kernel
def _max_pixels(x: Any, out: Any, start: int, stop: int) -> None:
    """``_max_planes`` for (H, W, A, B) memory, output rows [start, stop)."""
    _, ow, na, nb = out.shape
    for r in range(start, stop):
        for q in range(ow):
            for a in range(na):
                for b in range(nb):
                    out[r, q, a, b] = _window(
                        x[2 * r, 2 * q, a, b], x[2 * r, 2 * q + 1, a, b],
                        x[2 * r + 1, 2 * q, a, b], x[2 * r + 1, 2 * q + 1, a, b])[0]


@jit.kernel
def _route_pixels(grad: Any, offset: Any, image: Any, start: int, stop: int) -> None:
    """``_route_planes`` for (H, W, A, B) memory, output rows [start, stop) (the odd last
    image row goes with the last output row)."""
    oh, ow, na, nb = grad.shape
    h, w = image.shape[0], image.shape[1]
    for r in range(start, stop):
        for dy in range(2):
            for q in range(ow):
                for dx in range(2):
                    want = 2 * dy + dx
                    for a in range(na):
                        for b in range(nb):
                            v = grad[r, q, a, b]
                            image[2 * r + dy, 2 * q + dx, a, b] = (
                                v if offset[r, q, a, b] == want else 0)
            if w > 2 * ow:
                image[2 * r + dy, w - 1] = 0
        if r == oh - 1 and h > 2 * oh:
            image[h - 1] = 0


@jit.kernel
def _max_offset_middle(x: Any, out: Any, offset: Any, start: int, stop: int) -> None:
    """``_max_offset_planes`` for (A, H, W, B) memory, chunks of A."""
    _, oh, ow, nb = out.shape
    for a in range(start, stop):
        for r in range(oh):
            for q in range(ow):
                for b in range(nb):
                    out[a, r, q, b], offset[a, r, q, b] = _window(
                        x[a, 2 * r, 2 * q, b], x[a, 2 * r, 2 * q + 1, b],
                        x[a, 2 * r + 1, 2 * q, b], x[a, 2 * r + 1, 2 * q + 1, b])


@jit.kernel
def _max_middle(x: Any, out: Any, start: int, stop: int) -> None:
    """``_max_planes`` for (A, H, W, B) memory, chunks of A."""
    _, oh, ow, nb = out.shape
    for a in range(start, stop):
        for r in range(oh):
            for q in range(ow):
                for b in range(nb):
                    out[a, r, q, b] = _window(
                        x[a, 2 * r, 2 * q, b], x[a, 2 * r, 2 * q + 1, b],
                        x[a, 2 * r + 1, 2 * q, b], x[a, 2 * r + 1, 2 * q + 1, b])[0]


@jit.kernel
def _route_middle(grad: Any, offset: Any, image: Any, start: int, stop: int) -> None:
    """``_route_planes`` for (A, H, W, B) memory, chunks of A."""
    _, oh, ow, nb = grad.shape
    h, w = image.shape[1], image.shape[2]
    for a in range(start, stop):
        for r in range(oh):
            for dy in range(2):
                for q in range(ow):
                    for dx in range(2):
                        want = 2 * dy + dx
                        for b in range(nb):
                            v = grad[a, r, q, b]
                            image[a, 2 * r + dy, 2 * q + dx, b] = (
                                v if offset[a, r, q, b] == want else 0)
                if w > 2 * ow:
                    image[a, 2 * r + dy, w - 1] = 0
        for y in range(2 * oh, h):
            image[a, y] = 0


_MAX_OFFSET = {"planes": _max_offset_planes, "pixels": _max_offset_pixels,
               "middle": _max_offset_middle}
_MAX = {"planes": _max_planes, "pixels": _max_pixels, "middle": _max_middle}
_ROUTE = {"planes": _route_planes, "pixels": _route_pixels, "middle": _route_middle}
