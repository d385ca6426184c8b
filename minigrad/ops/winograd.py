"""Winograd F(2x2, 3x3) convolution: 3x3 kernels, stride 1, no dilation, one group.

Each 2x2 block of output pixels ("tile") comes from a 4x4 block ``d`` of the padded input:
``Y = A^T [(G w G^T) * (B^T d B)] A`` summed over the input channels, with

    B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]
    G   = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]]
    A^T = [[1, 1, 1, 0], [0, 1, -1, -1]]

(Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks", 2016). The channel sum
becomes 16 independent GEMMs, one per position of the 4x4 transformed tile, (tiles, C) @ (C, O):
16 multiply-adds per 4 outputs and input channel instead of 36, 2.25x fewer than im2col. The
transforms have only +1/-1 entries and run as add/subtract passes over strided slices.

Memory layout: spatial-major, (H, W, N, C) in memory, handed out as an (N, C, H, W) view (see
``spatial_major``). Slicing the rows and columns of a tile then leaves the images and channels
of a batch chunk as one long contiguous run, so every NumPy pass runs at full speed; in the
(N, C, H, W) layout the passes run along rows of only 14-30 pixels and take about twice as long.

Gradients: the input gradient of a stride-1 3x3 convolution is again one (of the output
gradient, padded by 2 - padding, with the flipped, transposed kernel), so it runs the same
forward kernel. The weight gradient is the transpose of the forward algorithm: with
V = B^T d B saved by the forward pass and Z = A g A^T the transformed output gradient,
dU = V^T Z (16 GEMMs over the tiles) and dw = G^T dU G.

Array names: N batch, C input channels, O output channels, m images in a chunk, TH x TW tiles
per image (TH = ceil(OH / 2)), T = TH * TW * m tiles in a chunk, in that order.

``conv_forward`` and ``conv_backward`` drive either this module's transforms or those of
``minigrad.ops.winograd4`` (F(4x4, 3x3), which conv2d uses for the shapes of the benchmark
CNNs); the two modules' transform functions have the same signatures.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

import numpy as np

from minigrad import parallel

Padding = tuple[tuple[int, int], tuple[int, int]]

_G = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])

# Transformed tiles per chunk (16 * T * C values): timed on one core, the chunk's tiles and
# GEMM operands stay in the 2 MiB L2 up to about this size (32->32 conv at 28x28: 0.22 ms per
# image in chunks of 2-4 images, 0.23 at 8; 64->64 at 14x14: 0.13 at 8 images, 0.14 at 16).
CHUNK_BYTES = 2 << 20

# transformed values per tile: (2 + 3 - 1) ** 2
POINTS = 16


# the tile position (row-major) where transform_output adds the bias: (1, 1), whose column of
# A^T is all ones
BIAS_POSITION = 5


def spatial_major(a: np.ndarray) -> bool:
    """Whether an (N, C, H, W) array is laid out (H, W, N, C) in memory (C-contiguous)."""
    return a.ndim == 4 and a.transpose(2, 3, 0, 1).flags.c_contiguous


def tiles(out_size: tuple[int, int]) -> tuple[int, int]:
    """Tiles (TH, TW) covering an (OH, OW) output with 2x2 tiles."""
    return -(-out_size[0] // 2), -(-out_size[1] // 2)


def transform_weight(weight: np.ndarray) -> np.ndarray:
    """(O, C, 3, 3) -> U (16, C, O) = G w G^T at each of the 16 tile positions."""
    g = _G.astype(weight.dtype)
    u = np.einsum("xi,ocij,yj->xyco", g, weight, g)
    return np.ascontiguousarray(u).reshape(16, weight.shape[1], weight.shape[0])


def weight_gradient(du: np.ndarray) -> np.ndarray:
    """dU (16, C, O) -> dw (O, C, 3, 3) = G^T dU G (the transpose of ``transform_weight``)."""
    g = _G.astype(du.dtype)
    return np.einsum("xi,xyco,yj->ocij", g, du.reshape(4, 4, *du.shape[1:]), g)


def transform_input(x: np.ndarray, padding: Padding, out_size: tuple[int, int]) -> np.ndarray:
    """x (H, W, m, C), any strides -> V (16, T, C) = B^T d B for every 4x4 input block d.

    ``padding`` ((top, bottom), (left, right)) may be negative (a crop); the tile grid may
    reach one row or column past the bottom/right padding (odd OH or OW), where it reads zeros.
    """
    h, w, m, c = x.shape
    th, tw = tiles(out_size)
    (top, _), (left, _) = padding
    hp, half = 2 * th + 2, tw + 1
    # The padded input with its columns split by parity, xp[row, q, k] = padded[row, 2k + q]:
    # the four columns of every tile are then contiguous runs xp[:, q, k0 : k0 + TW].
    xp = np.zeros((hp, 2, half, m, c), dtype=x.dtype)
    row = max(top, 0)
    src = x[max(-top, 0):]
    rows = min(src.shape[0], hp - row)
    for q in range(2):
        first = max(-left, 0)  # the first input column whose padded column has parity q
        first += (q - first - left) % 2
        k0 = (first + left) // 2
        count = min(max(0, -(-(w - first) // 2)), half - k0)
        if count > 0:
            xp[row:row + rows, q, k0:k0 + count] = src[:rows, first:first + 2 * count - 1:2]
    v = np.empty((4, 4, th, tw, m, c), dtype=x.dtype)
    # B^T along the rows: row r of every tile is the strided slice r::2 of the padded rows
    d = [xp[r : r + 2 * th - 1 : 2] for r in range(4)]
    for i, r in enumerate((d[0] - d[2], d[1] + d[2], d[2] - d[1], d[1] - d[3])):
        e = (r[:, 0, :tw], r[:, 1, :tw], r[:, 0, 1:], r[:, 1, 1:])  # then B along the columns
        np.subtract(e[0], e[2], out=v[i, 0])
        np.add(e[1], e[2], out=v[i, 1])
        np.subtract(e[2], e[1], out=v[i, 2])
        np.subtract(e[1], e[3], out=v[i, 3])
    return v.reshape(16, th * tw * m, c)


def transform_output(product: np.ndarray, out: np.ndarray, bias: np.ndarray | None = None
                     ) -> None:
    """M (16, T, O) -> Y = A^T M A written into ``out`` (OH, OW, m, O) (any strides), plus
    ``bias`` (O,): added at tile position (1, 1), it reaches all four outputs of a tile."""
    oh, ow, m, o = out.shape
    th, tw = tiles((oh, ow))
    mt = product.reshape(4, 4, th, tw, m, o)
    if bias is not None:
        mt[1, 1] += bias  # BIAS_POSITION
    s0 = [mt[0, j] + mt[1, j] for j in range(4)]  # A^T along the rows ...
    s1 = [mt[1, j] - mt[2, j] for j in range(4)]
    for j in range(4):
        s0[j] += mt[2, j]
        s1[j] -= mt[3, j]
    for a, s in enumerate((s0, s1)):  # ... then along the columns, cropped to the output
        rows = (oh - a + 1) // 2
        for b in range(2):
            cols = (ow - b + 1) // 2
            target = out[a::2, b::2]
            part = [t[:rows, :cols] for t in s]
            if b == 0:
                np.add(part[0], part[1], out=target)
                target += part[2]
            else:
                np.subtract(part[1], part[2], out=target)
                target -= part[3]


def transform_output_grad(grad: np.ndarray) -> np.ndarray:
    """dL/dY (OH, OW, m, O), any strides -> Z (16, T, O) = A g A^T for every 2x2 tile g (zero
    where a tile reaches past the output)."""
    oh, ow, m, o = grad.shape
    th, tw = tiles((oh, ow))
    if (oh, ow) != (2 * th, 2 * tw):
        padded = np.zeros((2 * th, 2 * tw, m, o), dtype=grad.dtype)
        padded[:oh, :ow] = grad
        grad = padded
    z = np.empty((4, 4, th, tw, m, o), dtype=grad.dtype)
    g = [[grad[a::2, b::2] for b in range(2)] for a in range(2)]
    # A along the rows, (g0, g0 + g1, g0 - g1, -g1), then the same along the columns
    rows = ((g[0][0], g[0][1]),
            (g[0][0] + g[1][0], g[0][1] + g[1][1]),
            (g[0][0] - g[1][0], g[0][1] - g[1][1]),
            (-g[1][0], -g[1][1]))
    for i, (r0, r1) in enumerate(rows):
        z[i, 0] = r0
        np.add(r0, r1, out=z[i, 1])
        np.subtract(r0, r1, out=z[i, 2])
        np.negative(r1, out=z[i, 3])
    return z.reshape(16, th * tw * m, o)


def plan(n: int, channels: int, out_size: tuple[int, int], out_channels: int, itemsize: int,
         algorithm: ModuleType | None = None) -> list[tuple[int, int]]:
    """Batch chunks whose transformed tiles fit in cache (the ``CHUNK_BYTES`` of ``algorithm``,
    this module by default, as in ``conv_forward``)."""
    alg = algorithm or sys.modules[__name__]
    th, tw = alg.tiles(out_size)
    per_image = alg.POINTS * th * tw * max(channels, out_channels) * itemsize
    work = float(alg.POINTS) * th * tw * channels * out_channels * n
    return parallel.plan(n, work=work, buffer_bytes=per_image * n, chunk_bytes=alg.CHUNK_BYTES)


def conv_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, padding: Padding,
                 out_size: tuple[int, int], chunks: list[tuple[int, int]], keep: bool,
                 algorithm: ModuleType | None = None) -> tuple[np.ndarray, list[Any]]:
    """(N, C, H, W) * (O, C, 3, 3) [+ (O,)] -> (N, O, OH, OW) spatial-major, and per chunk the
    transformed input V when ``keep`` (for the weight gradient).

    ``algorithm`` is the module of transforms: this one (F(2x2, 3x3), the default) or
    ``minigrad.ops.winograd4`` (F(4x4, 3x3)).
    """
    alg = algorithm or sys.modules[__name__]
    n = x.shape[0]
    o = weight.shape[0]
    u = alg.transform_weight(weight)
    out = np.empty(out_size + (n, o), dtype=np.result_type(x, weight))
    xt = x.transpose(2, 3, 0, 1)

    def chunk(start: int, stop: int) -> np.ndarray | None:
        v = alg.transform_input(xt[:, :, start:stop], padding, out_size)
        alg.transform_output(np.matmul(v, u), out[:, :, start:stop], bias)
        return v if keep else None

    saved = parallel.run(chunk, chunks)
    return out.transpose(2, 3, 0, 1), saved


def conv_backward(grad: np.ndarray, weight: np.ndarray, saved: list[Any], padding: Padding,
                  x_shape: tuple[int, ...], x_strides: tuple[int, ...],
                  chunks: list[tuple[int, int]], needs: tuple[bool, bool, bool],
                  algorithm: ModuleType | None = None) -> tuple[Any, Any, Any]:
    """dL/dx (in the memory layout of x, whose ``x_strides`` are given: an elementwise backward
    mixing two layouts runs several times slower), dL/dw and dL/db of ``conv_forward`` (with
    the same ``algorithm``), from dL/dY (N, O, OH, OW)."""
    from minigrad.ops.conv import empty_like_layout

    alg = algorithm or sys.modules[__name__]

    n, c, h, w = x_shape
    gt = grad.transpose(2, 3, 0, 1)
    need_x, need_w, need_b = needs
    # dL/dx of a stride-1 3x3 convolution: the same convolution of dL/dY padded by 2 - padding
    # with the flipped, transposed kernel
    grad_xt, u_flipped = None, None
    if need_x:
        grad_xt = empty_like_layout(x_strides, x_shape, grad.dtype).transpose(2, 3, 0, 1)
        u_flipped = alg.transform_weight(weight.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1])
    (top, bottom), (left, right) = padding
    back_padding = ((2 - top, 2 - bottom), (2 - left, 2 - right))

    def chunk(start: int, stop: int) -> tuple[Any, Any]:
        g = gt[:, :, start:stop]
        grad_b = grad_u = None
        if need_w:
            v = saved[chunks.index((start, stop))]
            z = alg.transform_output_grad(g)
            grad_u = np.matmul(v.transpose(0, 2, 1), z)  # (positions, C, O)
            if need_b:
                # the bias was added at BIAS_POSITION of the transformed tiles: its gradient is
                # that row of Z summed over the tiles, a GEMV over 1/16 (F(4x4)) of the values
                # that a sum over g's (OH, OW, m) axes would add up in rows of only O values
                rows = z[alg.BIAS_POSITION]
                grad_b = np.matmul(np.ones(rows.shape[0], dtype=rows.dtype), rows)
        elif need_b:
            grad_b = g.sum(axis=(0, 1, 2))
        if grad_xt is not None and u_flipped is not None:
            v_grad = alg.transform_input(g, back_padding, (h, w))
            alg.transform_output(np.matmul(v_grad, u_flipped), grad_xt[:, :, start:stop])
        return grad_b, grad_u

    parts = parallel.run(chunk, chunks)
    grad_b = sum(part[0] for part in parts) if need_b else None
    grad_w = alg.weight_gradient(sum(part[1] for part in parts)) if need_w else None
    return (None if grad_xt is None else grad_xt.transpose(2, 3, 0, 1)), grad_w, grad_b
