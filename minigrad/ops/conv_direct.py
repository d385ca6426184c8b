"""Direct stride-1 convolutions for layers with few channels, as generated compiled loops.

im2col + GEMM spends most of its time on the column copy and on GEMMs of a handful of rows
(LeNet-5's first layer: a (6, 26) @ (26, 784) product per image) that no BLAS runs fast. Here
each image's channel planes are copied once into a zero-padded buffer of rows ``Wp = OW + KW -
1`` wide that stays in L1, and every output channel is summed on "wide" rows of ``OH * Wp``
values: the tap (i, j) of channel c adds ``w[o, c, i, j]`` times the buffer shifted by ``i * Wp
+ j``, one contiguous run per tap, so the innermost loop is a long unit-stride loop that the
compiler vectorizes. The ``Wp - OW`` extra values of each wide row are dropped when the rows
are copied out. The loop over a kernel row's KW taps is unrolled, and ``ROWS[KW]`` output
channels share each load of the buffer, in source text generated per kernel width (the
taps' weights and the channels' sums then live in registers). Indices are unsigned: a signed
index keeps a wraparound test per element that blocked vectorization.

The same kernel gives the input gradient (a stride-1 convolution of the output gradient with
the flipped, transposed weight), and a second one the weight and bias gradients (one sum per
tap and channel over each image's wide rows). Sums run in another order than the GEMM's, so
results agree with im2col to rounding, not bit for bit.

The kernels alone, batch 128, one thread, ms, im2col + GEMM -> direct: LeNet-5's 1->6 5x5 at
28x28 forward 1.13 -> 0.54 (55 GFLOP/s), weight gradient 1.09 -> 0.61. Which layers take
them is conv.use_direct's choice, by measurement. Compiled on first use per kernel width and
dtype (about a second each), cached on disk like minigrad.jit's kernels.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad import jit, parallel

__all__ = ["fits", "input_fits", "forward", "weight_grad", "input_grad"]

DIRECT = True
MAX_KERNEL_WIDTH = 7
# output channels per pass over the buffer, by kernel width: KW * ROWS weights and ROWS sums
# stay in registers (measured on LeNet-5's 5x5 first layer: 2 rows 0.58 ms, 3 rows 0.54, 6
# rows 0.61; SimpleCNN's 3x3 at 14x14: 2 rows 1.13, 4 rows 1.00)
ROWS = {1: 4, 2: 4, 3: 4, 4: 3, 5: 3, 6: 2, 7: 2}
_FASTMATH_FORWARD = frozenset({"contract"})
# the weight gradient's per-tap sums are reductions: vectorized only when they may be
# reassociated (lanes summed apart, then together)
_FASTMATH_REDUCE = frozenset({"contract", "reassoc"})


def _header(lines: list[str], name: str, args: str, kw: int, o_array: str, g: str) -> None:
    lines += [
        f"def {name}({args}):",
        "    m, C, H, W = x.shape",
        f"    KH, OPAD = {o_array}.shape[2], {o_array}.shape[0]",
        f"    OH, OW = {g}.shape[2], {g}.shape[3]",
        f"    hp, wp = OH + KH - 1, OW + {kw - 1}",
        "    rows, cols = min(H, hp - top), min(W, wp - left)",
        "    run = OH * wp",
        # the taps of the last rows read up to KW - 1 values past the planes
        "    plane = np.zeros(C * hp * wp + wp, dtype=x.dtype)",
    ]


def _plane_copy(lines: list[str]) -> None:
    """Source lines copying image n's channel planes into the zero-padded buffer."""
    lines += [
        "        for c in range(C):",
        "            for y in range(rows):",
        "                src = x[n, c, y]",
        "                at = c * hp * wp + (y + top) * wp + left",
        "                dst = plane[at:at + cols]",
        "                for t in range(cols):",
        "                    dst[t] = src[t]",
    ]


def _forward_source(name: str, kw: int, ob: int) -> str:
    """out[n, o] = bias[o] + sum over c, i, j of w[o, c, i, j] * padded x[n, c] shifted."""
    lines: list[str] = []
    _header(lines, name, "x, w, bias, out, top, left", kw, "w", "out")
    lines += [
        "    O = out.shape[1]",
        "    wide = np.empty((OPAD, run), dtype=out.dtype)",
        "    for n in range(m):",
    ]
    _plane_copy(lines)
    lines.append(f"        for o in range(0, OPAD, {ob}):")
    for r in range(ob):
        lines += [f"            a{r} = wide[o + {r}]", f"            z{r} = bias[o + {r}]"]
    lines.append("            for t in range(run):")
    lines += [f"                a{r}[t] = z{r}" for r in range(ob)]
    lines += ["            for c in range(C):", "                for i in range(KH):",
              "                    base = np.uint64(c * hp * wp + i * wp)"]
    lines += [f"                    w{r}_{j} = w[o + {r}, c, i, {j}]"
              for r in range(ob) for j in range(kw)]
    lines += [f"                    s{j} = base + np.uint64({j})" for j in range(kw)]
    lines.append("                    for t in range(np.uint64(run)):")
    lines += [f"                        q{r} = a{r}[t]" for r in range(ob)]
    for j in range(kw):
        lines.append(f"                        v = plane[s{j} + t]")
        lines += [f"                        q{r} += w{r}_{j} * v" for r in range(ob)]
    lines += [f"                        a{r}[t] = q{r}" for r in range(ob)]
    lines += [
        "        for o in range(O):",
        "            for y in range(OH):",
        "                src, dst = wide[o, y * wp:y * wp + OW], out[n, o, y]",
        "                for t in range(OW):",
        "                    dst[t] = src[t]",
    ]
    return "\n".join(lines) + "\n"


def _weight_grad_source(name: str, kw: int, ob: int) -> str:
    """gw[o, c, i, j] += sum over n, y, x of g[n, o, y, x] * padded x[n, c, y + i, x + j];
    gb[o] += the sum of g[n, o]."""
    lines: list[str] = []
    _header(lines, name, "x, g, gw, gb, top, left", kw, "gw", "g")
    lines += [
        "    O = g.shape[1]",
        "    wide = np.zeros((OPAD, run), dtype=g.dtype)",  # zeros in the Wp - OW extra columns
        "    zero = np.zeros(1, g.dtype)[0]",
        "    for n in range(m):",
    ]
    _plane_copy(lines)
    lines += [
        "        for o in range(O):",
        "            total = zero",
        "            for y in range(OH):",
        "                src, dst = g[n, o, y], wide[o, y * wp:y * wp + OW]",
        "                for t in range(OW):",
        "                    dst[t] = src[t]",
        "                    total += src[t]",
        "            gb[o] += total",
        f"        for o in range(0, OPAD, {ob}):",
    ]
    lines += [f"            g{r} = wide[o + {r}]" for r in range(ob)]
    lines += ["            for c in range(C):", "                for i in range(KH):",
              "                    base = np.uint64(c * hp * wp + i * wp)"]
    lines += [f"                    s{j} = base + np.uint64({j})" for j in range(kw)]
    lines += [f"                    q{r}_{j} = zero" for r in range(ob) for j in range(kw)]
    lines.append("                    for t in range(np.uint64(run)):")
    lines += [f"                        u{r} = g{r}[t]" for r in range(ob)]
    for j in range(kw):
        lines.append(f"                        v = plane[s{j} + t]")
        lines += [f"                        q{r}_{j} += u{r} * v" for r in range(ob)]
    lines += [f"                    gw[o + {r}, c, i, {j}] += q{r}_{j}"
              for r in range(ob) for j in range(kw)]
    return "\n".join(lines) + "\n"


_KERNELS: dict[tuple[str, int], Any] = {}


def _kernel(kind: str, kw: int) -> Any:
    """The compiled ``kind`` ("forward" or "weight_grad") kernel for kernels ``kw`` wide."""
    key = (kind, kw)
    if key not in _KERNELS:
        ob = ROWS[kw]
        name = f"_direct_{kind}_kw{kw}_r{ob}"  # unique: Numba's cache keys on it
        make, flags = ((_forward_source, _FASTMATH_FORWARD) if kind == "forward"
                       else (_weight_grad_source, _FASTMATH_REDUCE))
        _KERNELS[key] = jit.generated(make(name, kw, ob), name, __name__, __file__, flags)
    return _KERNELS[key]


def fits(x: np.ndarray, weight: np.ndarray, stride: tuple[int, int], padding: Any,
         dilation: tuple[int, int], groups: int) -> bool:
    """Whether this module's kernels take the convolution: stride 1, dilation 1, one group,
    no negative padding, a kernel at most MAX_KERNEL_WIDTH wide, float32/float64."""
    return (DIRECT and stride == (1, 1) and dilation == (1, 1) and groups == 1
            and min(min(padding)) >= 0 and weight.shape[3] <= MAX_KERNEL_WIDTH
            and x.ndim == 4 and jit.takes(x, weight))


def _padded_rows(a: np.ndarray, rows: int) -> np.ndarray:
    """``a`` with zero entries appended along the first axis up to a multiple of ``rows``."""
    extra = -a.shape[0] % rows
    if not extra:
        return np.ascontiguousarray(a)
    return np.concatenate([a, np.zeros((extra,) + a.shape[1:], dtype=a.dtype)])


def forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, padding: Any,
            out_size: tuple[int, int], chunks: list[tuple[int, int]],
            out: np.ndarray | None = None) -> np.ndarray:
    """conv2d of x (N, C, H, W) with weight (O, C, KH, KW) [+ bias], stride 1, into ``out``
    (N, O, OH, OW; a new C-contiguous array when None), chunks of images over the threads."""
    n = x.shape[0]
    o, _, _, kw = weight.shape
    rows = ROWS[kw]
    if out is None:
        out = np.empty((n, o) + tuple(out_size), dtype=x.dtype)
    w = _padded_rows(weight, rows)
    b = np.zeros(w.shape[0], dtype=x.dtype)
    if bias is not None:
        b[:o] = bias
    (top, _), (left, _) = padding
    kernel = _kernel("forward", kw)
    parallel.run(lambda start, stop: kernel(x[start:stop], w, b, out[start:stop], top, left),
                 chunks)
    return out


def weight_grad(x: np.ndarray, grad: np.ndarray, kernel_size: tuple[int, int], padding: Any,
                chunks: list[tuple[int, int]]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per chunk of images, (dL/dbias (O,), dL/dweight (O, C, KH, KW)) of ``forward``."""
    o, c = grad.shape[1], x.shape[1]
    kh, kw = kernel_size
    rows = ROWS[kw]
    opad = o + (-o % rows)
    (top, _), (left, _) = padding
    kernel = _kernel("weight_grad", kw)

    def chunk(start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        gw = np.zeros((opad, c, kh, kw), dtype=grad.dtype)
        gb = np.zeros(opad, dtype=grad.dtype)
        kernel(x[start:stop], grad[start:stop], gw, gb, top, left)
        return gb[:o], gw[:o]

    return parallel.run(chunk, chunks)


def input_fits(kernel_size: tuple[int, int], padding: Any) -> bool:
    """Whether ``input_grad`` takes this padding: at most KH - 1 rows and KW - 1 columns."""
    (top, bottom), (left, right) = padding
    return max(top, bottom) < kernel_size[0] and max(left, right) < kernel_size[1]


def input_grad(grad: np.ndarray, weight: np.ndarray, padding: Any,
               chunks: list[tuple[int, int]], out: np.ndarray) -> np.ndarray:
    """dL/dx of ``forward`` into ``out`` (N, C, H, W): the stride-1 convolution of the output
    gradient, padded by KH - 1 - top rows and KW - 1 - left columns, with the flipped weight
    transposed to (C, O, KH, KW)."""
    kh, kw = weight.shape[2:]
    (top, _), (left, _) = padding
    flipped = np.ascontiguousarray(weight[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))
    full = ((kh - 1 - top, 0), (kw - 1 - left, 0))
    return forward(grad, flipped, None, full, out.shape[2:], chunks, out)
