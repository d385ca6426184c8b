"""Winograd F(4x4, 3x3) transforms: 3x3 kernels, stride 1, no dilation, one group.

Each 4x4 block of output pixels ("tile") comes from a 6x6 block ``d`` of the padded input:
``Y = A^T [(G w G^T) * (B^T d B)] A`` summed over the input channels (Lavin and Gray, "Fast
Algorithms for Convolutional Neural Networks", 2016, with the interpolation points 0, 1, -1, 2,
-2 and infinity), so that the channel sum becomes 36 independent GEMMs (tiles, C) @ (C, O):
36 multiply-adds per 16 outputs and input channel instead of 144, 4x fewer than im2col and
1.8x fewer than F(2x2, 3x3) (``minigrad.ops.winograd``).

With the compiled kernels on (``minigrad.jit``, the default) the three data transforms are
loops over the tiles with B^T's, A^T's and A's few additions and small multiples (see
"compiled transforms" below). Without them they are small dense matrices applied to all tiles
at once as BLAS GEMMs: the 36 positions of every 6x6 input tile are gathered by 36
strided-slice copies into a (36, T*C) matrix, and ``B^T d B`` for all of them is one (36, 36) @
(36, T*C) product with the Kronecker matrix of B^T; the output transform is one (16, 36) @ (36,
T*O) product, scattered back with 16 strided-slice copies. NumPy's elementwise passes run at
2-4 values per nanosecond on one core, BLAS at 40+ multiply-adds: timed on one core for
StrongCNN's 32->32 conv at 28x28 (batch 128), the input transform takes 8 ms as a GEMM and
about 19 ms as NumPy slice arithmetic.

Rounding: the entries of G (1/4, 1/6, 1/12, 1/24) and A (up to 8) make F(4x4, 3x3) less exact
than im2col; in float32 the relative error of an output, against the exact float64 result, is
about 1e-5 of the output's scale at 32-64 channels (tests/minigrad/test_conv_kernels.py checks
it), against about 1e-6 for im2col. PyTorch's CPU convolutions also use Winograd kernels where
oneDNN picks them.

The functions have the signatures of their F(2x2, 3x3) namesakes in ``minigrad.ops.winograd``,
whose ``conv_forward`` and ``conv_backward`` run either algorithm. Layout: spatial-major,
(H, W, m, C), as there. Array names: m images in a chunk, TH x TW tiles per image
(TH = ceil(OH / 4)), T = TH * TW * m tiles in a chunk.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad import jit

Padding = tuple[tuple[int, int], tuple[int, int]]

TILE = 4  # output pixels per tile side
# the tile position (row-major) where transform_output adds the bias: (1, 1), whose column of
# A^T is all ones
BIAS_POSITION = 7

_BT = np.array([[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
                [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]], dtype=float)
_G = np.array([[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6],
               [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]])
_AT = np.array([[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0],
                [0, 1, -1, 8, -8, 1]], dtype=float)
# Kronecker products: row (x, y) of B_KRON maps the 36 values d[i, j] of a tile to V[x, y]
_KRON = {"b": np.kron(_BT, _BT), "a": np.kron(_AT, _AT), "g": np.kron(_G, _G)}
_BY_DTYPE: dict[Any, dict[str, np.ndarray]] = {}

# Transformed tiles per chunk (36 * T * max(C, O) values). StrongCNN's 32->32 conv at 28x28,
# one core: 15.6 / 15.1 / 15.4 ms per batch of 128 (forward) in chunks of 4 / 8 / 16 images.
CHUNK_BYTES = 2 << 20

# transformed values per tile: (4 + 3 - 1) ** 2
POINTS = 36


def _matrix(name: str, dtype: Any) -> np.ndarray:
    """The Kronecker transform matrix ``name`` ("a", "b" or "g") in ``dtype``."""
    key = np.dtype(dtype)
    if key not in _BY_DTYPE:
        _BY_DTYPE[key] = {k: v.astype(key) for k, v in _KRON.items()}
    return _BY_DTYPE[key][name]


def tiles(out_size: tuple[int, int]) -> tuple[int, int]:
    """Tiles (TH, TW) covering an (OH, OW) output with 4x4 tiles."""
    return -(-out_size[0] // TILE), -(-out_size[1] // TILE)


def transform_weight(weight: np.ndarray) -> np.ndarray:
    """(O, C, 3, 3) -> U (36, C, O) = G w G^T at each of the 36 tile positions."""
    o, c = weight.shape[:2]
    w9 = weight.transpose(2, 3, 1, 0).reshape(9, c * o)
    return np.matmul(_matrix("g", weight.dtype), w9).reshape(36, c, o)


def weight_gradient(du: np.ndarray) -> np.ndarray:
    """dU (36, C, O) -> dw (O, C, 3, 3) = G^T dU G (the transpose of ``transform_weight``)."""
    c, o = du.shape[1:]
    dw9 = np.matmul(_matrix("g", du.dtype).T, du.reshape(36, c * o))
    return np.ascontiguousarray(dw9.reshape(3, 3, c, o).transpose(3, 2, 0, 1))


def _padded(x: np.ndarray, padding: Padding, size: tuple[int, int]) -> np.ndarray:
    """x (H, W, m, C), any strides -> (size[0], size[1], m, C) C-contiguous: x shifted by the
    (top, left) padding, zeros around it, cropped where a padding is negative or ``size`` ends
    inside x."""
    h, w = x.shape[:2]
    (top, _), (left, _) = padding
    out = np.empty(size + x.shape[2:], dtype=x.dtype)
    row, col = max(top, 0), max(left, 0)
    src_row, src_col = max(-top, 0), max(-left, 0)
    rows = max(0, min(h - src_row, size[0] - row))
    cols = max(0, min(w - src_col, size[1] - col))
    out[:row] = 0
    out[row + rows:] = 0
    out[row:row + rows, :col] = 0
    out[row:row + rows, col + cols:] = 0
    out[row:row + rows, col:col + cols] = x[src_row:src_row + rows, src_col:src_col + cols]
    return out


def transform_input(x: np.ndarray, padding: Padding, out_size: tuple[int, int]) -> np.ndarray:
    """x (H, W, m, C), any strides -> V (36, T, C) = B^T d B for every 6x6 input block d.

    ``padding`` ((top, bottom), (left, right)) may be negative (a crop); the tile grid may reach
    past the bottom/right padding (OH or OW not a multiple of 4), where it reads zeros.
    """
    m, c = x.shape[2:]
    th, tw = tiles(out_size)
    xp = _padded(x, padding, (TILE * th + 2, TILE * tw + 2))
    if compiled(xp):
        v = np.empty((POINTS, th * tw * m, c), dtype=x.dtype)
        _input_kernel(xp, th, tw, v)
        return v
    d = np.empty((6, 6, th, tw, m, c), dtype=x.dtype)
    for i in range(6):
        for j in range(6):
            d[i, j] = xp[i : i + TILE * (th - 1) + 1 : TILE, j : j + TILE * (tw - 1) + 1 : TILE]
    v = np.matmul(_matrix("b", x.dtype), d.reshape(36, -1))
    return v.reshape(36, th * tw * m, c)


def transform_output(product: np.ndarray, out: np.ndarray, bias: np.ndarray | None = None
                     ) -> None:
    """M (36, T, O) -> Y = A^T M A written into ``out`` (OH, OW, m, O) (any strides), plus
    ``bias`` (O,): added at tile position (1, 1), whose column of A^T is all ones, it reaches
    all 16 outputs of a tile."""
    oh, ow, m, o = out.shape
    th, tw = tiles((oh, ow))
    operands = (product, out) if bias is None else (product, out, bias)
    if compiled(*operands):
        _output_kernel(product, th, tw, np.zeros(o, product.dtype) if bias is None else bias,
                       out)
        return
    if bias is not None:
        product[BIAS_POSITION] += bias
    y = np.matmul(_matrix("a", product.dtype), product.reshape(36, -1))
    y = y.reshape(TILE, TILE, th, tw, m, o)
    for a in range(TILE):
        for b in range(TILE):
            out[a::TILE, b::TILE] = y[a, b, : (oh - a + TILE - 1) // TILE,
                                      : (ow - b + TILE - 1) // TILE]


def transform_output_grad(grad: np.ndarray) -> np.ndarray:
    """dL/dY (OH, OW, m, O), any strides -> Z (36, T, O) = A g A^T for every 4x4 tile g (zero
    where a tile reaches past the output): the transpose of ``transform_output``."""
    oh, ow, m, o = grad.shape
    th, tw = tiles((oh, ow))
    if (oh, ow) != (TILE * th, TILE * tw):
        grad = _padded(grad, ((0, 0), (0, 0)), (TILE * th, TILE * tw))
    if compiled(grad):
        z = np.empty((POINTS, th * tw * m, o), dtype=grad.dtype)
        _output_grad_kernel(grad, th, tw, z)
        return z
    g16 = np.ascontiguousarray(
        grad.reshape(th, TILE, tw, TILE, m, o).transpose(1, 3, 0, 2, 4, 5)).reshape(16, -1)
    return np.matmul(_matrix("a", grad.dtype).T, g16).reshape(36, th * tw * m, o)


# --------------------------------------------------------------------------- compiled transforms

# With the compiled kernels on (minigrad.jit), the three data transforms of float32/float64 run
# as loops over the tiles that apply B^T, A^T or A with their few additions and small multiples
# (in the arrays' dtype), the channels innermost: the input transform reads each tile's 6x6
# block of the padded input and writes its 36 rows of V, the output transform adds the bias and
# writes each tile's 4x4 pixels straight into the output (no (16, T*O) GEMM result, no 16
# strided copies), and the output-gradient transform reads each 4x4 tile of dL/dY once (no
# (16, T*O) transposed copy). The arithmetic is the same linear maps as the Kronecker GEMMs in
# another order of additions: the results agree to rounding. Per chunk of 8 images, one thread
# (ms), GEMM -> compiled: input 32 channels at 28x28 0.58 -> 0.36, 64 at 14x14 0.40 -> 0.23;
# output 32->32 at 28x28 0.46 -> 0.12, 64->64 at 14x14 0.30 -> 0.06; output gradient 32 at
# 28x28 0.29 -> 0.16, 64 at 14x14 0.22 -> 0.13. (The multiples are typed: an integer literal
# times a float32 is a float64 in the compiled code, which halves the vector width; an earlier
# version with literals measured the input and output-gradient kernels no faster than the
# GEMMs.)
USE_JIT = True


def compiled(*arrays: np.ndarray) -> bool:
    """Whether the compiled transforms take these arrays (one dtype of ``jit.DTYPES``, the
    kernels on)."""
    return USE_JIT and jit.takes(*arrays)


@jit.kernel
def _output_kernel(product: Any, th: int, tw: int, bias: Any, out: Any) -> None:
    """out (OH, OW, m, O) = A^T M A + bias (O,) of every tile of M (36, T, O), cropped to the
    output."""
    oh, ow, m, o = out.shape
    r = np.empty((4, 6, o), dtype=product.dtype)
    two, four, _, eight = _multiples(product)
    for ty in range(th):
        for tx in range(tw):
            for mi in range(m):
                t = (ty * tw + tx) * m + mi
                for j in range(6):  # A^T down each column of the tile
                    for k in range(o):
                        m0, m1, m2 = product[j, t, k], product[6 + j, t, k], product[12 + j, t, k]
                        m3, m4 = product[18 + j, t, k], product[24 + j, t, k]
                        m5 = product[30 + j, t, k]
                        r[0, j, k] = m0 + m1 + m2 + m3 + m4
                        r[1, j, k] = m1 - m2 + two * (m3 - m4)
                        r[2, j, k] = m1 + m2 + four * (m3 + m4)
                        r[3, j, k] = m1 - m2 + eight * (m3 - m4) + m5
                for a in range(4):  # then along each row, into the output
                    y = 4 * ty + a
                    if y >= oh:
                        break
                    x0 = 4 * tx
                    for k in range(o):
                        e0, e1, e2 = r[a, 0, k], r[a, 1, k], r[a, 2, k]
                        e3, e4, e5 = r[a, 3, k], r[a, 4, k], r[a, 5, k]
                        # the bias as a float64: one rounding of the float32 sum, so the
                        # same bits as a float32 add, and the loop measured faster this way
                        b = float(bias[k])
                        out[y, x0, mi, k] = e0 + e1 + e2 + e3 + e4 + b
                        if x0 + 1 < ow:
                            out[y, x0 + 1, mi, k] = e1 - e2 + two * (e3 - e4) + b
                        if x0 + 2 < ow:
                            out[y, x0 + 2, mi, k] = e1 + e2 + four * (e3 + e4) + b
                        if x0 + 3 < ow:
                            out[y, x0 + 3, mi, k] = e1 - e2 + eight * (e3 - e4) + e5 + b


@jit.kernel
def _multiples(a: Any) -> tuple[Any, Any, Any, Any]:
    """2, 4, 5 and 8 in the dtype of ``a``."""
    one = np.ones(1, a.dtype)[0]
    two = one + one
    four = two + two
    return two, four, four + one, four + four


@jit.kernel
def _bt(d0: Any, d1: Any, d2: Any, d3: Any, d4: Any, d5: Any, four: Any, five: Any,
        two: Any) -> tuple[Any, Any, Any, Any, Any, Any]:
    """B^T (d0, ..., d5)."""
    return (four * d0 - five * d2 + d4, (d3 + d4) - four * (d1 + d2),
            (d4 - d3) + four * (d1 - d2), (d4 - d2) + two * (d3 - d1),
            (d4 - d2) - two * (d3 - d1), four * d1 - five * d3 + d5)


@jit.kernel
def _input_kernel(xp: Any, th: int, tw: int, v: Any) -> None:
    """v (36, T, C) = B^T d B of every 6x6 block d of the padded input xp (4 TH + 2, 4 TW + 2,
    m, C)."""
    m, c = xp.shape[2], xp.shape[3]
    two, four, five, _ = _multiples(xp)
    t = np.empty((6, 6, c), dtype=xp.dtype)
    for ty in range(th):
        for tx in range(tw):
            y0, x0 = 4 * ty, 4 * tx
            for mi in range(m):
                tile = (ty * tw + tx) * m + mi
                for j in range(6):  # B^T down each column of the block
                    for k in range(c):
                        r0, r1, r2, r3, r4, r5 = _bt(
                            xp[y0, x0 + j, mi, k], xp[y0 + 1, x0 + j, mi, k],
                            xp[y0 + 2, x0 + j, mi, k], xp[y0 + 3, x0 + j, mi, k],
                            xp[y0 + 4, x0 + j, mi, k], xp[y0 + 5, x0 + j, mi, k], four, five, two)
                        t[0, j, k], t[1, j, k], t[2, j, k] = r0, r1, r2
                        t[3, j, k], t[4, j, k], t[5, j, k] = r3, r4, r5
                for a in range(6):  # then along each row
                    for k in range(c):
                        r0, r1, r2, r3, r4, r5 = _bt(t[a, 0, k], t[a, 1, k], t[a, 2, k],
                                                     t[a, 3, k], t[a, 4, k], t[a, 5, k],
                                                     four, five, two)
                        v[6 * a, tile, k], v[6 * a + 1, tile, k] = r0, r1
                        v[6 * a + 2, tile, k], v[6 * a + 3, tile, k] = r2, r3
                        v[6 * a + 4, tile, k], v[6 * a + 5, tile, k] = r4, r5


@jit.kernel
def _a(g0: Any, g1: Any, g2: Any, g3: Any, two: Any, four: Any, eight: Any
       ) -> tuple[Any, Any, Any, Any, Any, Any]:
    """A (g0, ..., g3), A = (A^T)^T."""
    return (g0, g0 + g1 + g2 + g3, g0 - g1 + g2 - g3, g0 + two * g1 + four * g2 + eight * g3,
            g0 - two * g1 + four * g2 - eight * g3, g3)


@jit.kernel
def _output_grad_kernel(grad: Any, th: int, tw: int, z: Any) -> None:
    """z (36, T, O) = A g A^T of every 4x4 tile g of grad (4 TH, 4 TW, m, O)."""
    m, o = grad.shape[2], grad.shape[3]
    two, four, _, eight = _multiples(grad)
    t = np.empty((4, 6, o), dtype=grad.dtype)
    for ty in range(th):
        for tx in range(tw):
            y0, x0 = 4 * ty, 4 * tx
            for mi in range(m):
                tile = (ty * tw + tx) * m + mi
                for a in range(4):  # A along each row of the tile
                    y = y0 + a
                    for k in range(o):
                        r0, r1, r2, r3, r4, r5 = _a(grad[y, x0, mi, k], grad[y, x0 + 1, mi, k],
                                                    grad[y, x0 + 2, mi, k],
                                                    grad[y, x0 + 3, mi, k], two, four, eight)
                        t[a, 0, k], t[a, 1, k], t[a, 2, k] = r0, r1, r2
                        t[a, 3, k], t[a, 4, k], t[a, 5, k] = r3, r4, r5
                for b in range(6):  # then down each column
                    for k in range(o):
                        r0, r1, r2, r3, r4, r5 = _a(t[0, b, k], t[1, b, k], t[2, b, k],
                                                    t[3, b, k], two, four, eight)
                        z[b, tile, k], z[6 + b, tile, k], z[12 + b, tile, k] = r0, r1, r2
                        z[18 + b, tile, k], z[24 + b, tile, k], z[30 + b, tile, k] = r3, r4, r5
