"""Pools of 1, 2 and 3 spatial dimensions with PyTorch's arguments: max, average, adaptive
max/average, max-unpool and power-average (lp) pools.

1-D and 2-D max/average pools run on the threaded 2-D kernels of ``minigrad.ops.conv`` when
those cover the arguments (a 1-D pool is a 2-D one of height 1); 3-D pools, empty batches,
``divisor_override`` and the adaptive max pools run on the N-d window mechanism of
``minigrad.ops.windows``. Max pools return flat indices into each (N, C) plane of the input,
as PyTorch does, and their backward adds the gradient at those indices.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from minigrad.autograd.engine import Context, Primitive
from minigrad.errors import OpError
from minigrad.ops import conv as conv2d_ops
from minigrad.ops import pool2x2
from minigrad.ops.windows import Ints, check_rank, ntuple, offset_slices, pad_nd, window_extent

if TYPE_CHECKING:
    from minigrad.tensor import Tensor

__all__ = [
    "max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d",
    "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
    "max_unpool1d", "max_unpool2d", "max_unpool3d", "lp_pool1d", "lp_pool2d", "lp_pool3d",
]


# --------------------------------------------------------------------------- geometry


def _lowest(dtype: np.dtype) -> Any:
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def pool_out_size(size: int, kernel: int, stride: int, padding: int, dilation: int,
                  ceil_mode: bool) -> int:
    """PyTorch's pooling output length; in ceil mode the last window must start in the input
    or the leading padding."""
    span = size + 2 * padding - window_extent(kernel, dilation)
    out = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


class PoolGeometry:
    """The windows of one pool call: kernel, stride, padding, dilation and output sizes."""

    def __init__(self, op: str, shape: tuple[int, ...], dims: int, kernel_size: Any,
                 stride: Any, padding: Any, dilation: Any, ceil_mode: bool) -> None:
        self.batched = check_rank(op, shape, dims)
        if any(s == 0 for s in shape[-dims - 1:]):
            raise OpError(f"{op}: Expected input with non-zero sizes except the batch "
                          f"dimension, got input of size {list(shape)}")
        self.kernel = ntuple(kernel_size, dims, "kernel_size", op)
        self.stride = self.kernel if stride is None or (
            isinstance(stride, (list, tuple)) and len(stride) == 0) else ntuple(
            stride, dims, "stride", op)
        self.padding = ntuple(padding, dims, "padding", op, minimum=0)
        self.dilation = ntuple(dilation, dims, "dilation", op)
        self.size: Ints = tuple(shape[-dims:])
        if any(p > k // 2 for k, p in zip(self.kernel, self.padding, strict=True)):
            raise OpError(
                f"{op}: pad should be at most half of kernel size, but got "
                f"padding={self.padding} and kernel_size={self.kernel}"
            )
        self.out: Ints = tuple(pool_out_size(s, k, st, p, d, ceil_mode) for s, k, st, p, d in zip(
            self.size, self.kernel, self.stride, self.padding, self.dilation, strict=True))
        if min(self.out) < 1:
            raise OpError(
                f"{op}: Given input size: ({'x'.join(map(str, shape[-dims - 1:]))}). Calculated "
                f"output size: ({'x'.join(map(str, (shape[-dims - 1], *self.out)))}). Output "
                f"size is too small (kernel_size={self.kernel}, padding={self.padding}, "
                f"dilation={self.dilation})"
            )
        # pad the trailing side as far as the last window reaches (ceil mode may reach past
        # the usual padding)
        self.pads = tuple(
            (p, max(0, (o - 1) * st + window_extent(k, d) - s - p))
            for s, k, st, p, d, o in zip(self.size, self.kernel, self.stride, self.padding,
                                         self.dilation, self.out, strict=True))

    def padding_only_window(self) -> bool:
        """Whether some window holds no input element (possible with dilation)."""
        for s, k, st, p, d, o in zip(self.size, self.kernel, self.stride, self.padding,
                                     self.dilation, self.out, strict=True):
            position = (np.arange(o) * st - p)[:, None] + np.arange(k) * d
            if not np.all(((position >= 0) & (position < s)).any(axis=1)):
                return True
        return False

    def offsets(self) -> list[tuple[Ints, tuple[slice, ...]]]:
        return offset_slices(self.kernel, self.stride, self.dilation, self.out)


def _flat_index(positions: list[np.ndarray], size: Ints) -> np.ndarray:
    """Row-major flat index into ``size`` of per-axis positions (broadcast together)."""
    flat = np.zeros((), dtype=np.int64)
    for pos, s in zip(positions, size, strict=True):
        flat = flat * s + pos
    return flat


def _scatter_planes(grad: np.ndarray, indices: np.ndarray, planes: tuple[int, ...],
                    size: int) -> np.ndarray:
    """Add grad (*planes, ...) into a zero (*planes, size) array at flat ``indices``."""
    rows = math.prod(planes)
    if rows == 0:
        return np.zeros((*planes, size), dtype=grad.dtype)
    g = grad.reshape(rows, grad.size // rows)
    flat = (np.arange(rows)[:, None] * size + indices.reshape(rows, -1)).ravel()
    summed = np.bincount(flat, weights=g.ravel(), minlength=rows * size)
    return summed.astype(grad.dtype, copy=False).reshape(*planes, size)


class IndexedMax(Primitive):
    """The maximum of windows given as flat input indices: (N, C, *S) -> (N, C, *O).

    ``windows(x)`` returns (values (N, C, *O, K), flat indices (N, C, *O, K) or (*O, K) of
    each window element, -1 for padding, and the (*O) index PyTorch reports for a window that
    holds only padding, or None); the first maximum of each window wins, NaN propagates. A
    window of padding only gives -inf and passes no gradient."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, *, windows: Any,
                sink: list[np.ndarray] | None = None) -> np.ndarray:
        values, flat, fallback = windows(x)
        best = np.argmax(values, axis=-1)[..., None]
        out = np.take_along_axis(values, best, axis=-1)[..., 0]
        if values.dtype.kind == "f" and np.isnan(out).any():
            holds_nan, last = conv2d_ops.last_nan(values, -1)
            best = np.where(holds_nan[..., None], last[..., None], best)
        index = np.take_along_axis(np.broadcast_to(flat, values.shape), best, axis=-1)[..., 0]
        inside = None if fallback is None else index >= 0
        if sink is not None:
            sink.append(index if inside is None else np.where(inside, index, fallback))
        if ctx.needs_input_grad and ctx.needs_input_grad[0]:
            ctx.save_for_backward(index if inside is None else np.maximum(index, 0), inside)
            ctx.x_shape = x.shape
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray]:
        if not isinstance(grad, np.ndarray):  # create_graph=True: the adjoint of a pick
            from minigrad.autograd.higher_order import linear_backward

            return (linear_backward(IndexedMax, ctx, grad, _pick_flat),)
        index, inside = ctx.saved
        n, c, *size = ctx.x_shape
        if inside is not None:
            grad = grad * inside
        return (_scatter_planes(grad, index, (n, c), math.prod(size)).reshape(ctx.x_shape),)


def _pick_flat(ctx: Context, x: np.ndarray) -> np.ndarray:
    """x at IndexedMax's flat indices: the map its backward transposes."""
    index, inside = ctx.saved
    n, c = x.shape[:2]  # index: (N, C, *O), flat into each (N, C) plane
    picked = np.take_along_axis(x.reshape(n, c, -1), index.reshape(n, c, -1), axis=2).reshape(
        index.shape)
    return picked if inside is None else picked * inside


def _sliding_windows(geometry: PoolGeometry) -> Any:
    """For IndexedMax: every window of the padded input and its flat input indices."""
    dims = len(geometry.kernel)

    def windows(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        xp = pad_nd(x, geometry.pads, _lowest(x.dtype))
        parts, positions = [], []
        for offset, slices in geometry.offsets():
            parts.append(xp[(slice(None), slice(None)) + slices])
            axis_positions = [
                (np.arange(o) * st - p + i * d).reshape((-1,) + (1,) * (dims - 1 - axis))
                for axis, (o, st, p, i, d) in enumerate(zip(
                    geometry.out, geometry.stride, geometry.padding, offset, geometry.dilation))]
            inside = np.ones((1,) * dims, dtype=bool)
            for pos, size in zip(axis_positions, geometry.size):
                inside = inside & (pos >= 0) & (pos < size)
            positions.append(np.where(inside, _flat_index(axis_positions, geometry.size), -1))
        # PyTorch reports a window of padding only by its first start inside the input
        starts = []
        for axis, (o, st, p, d) in enumerate(zip(geometry.out, geometry.stride,
                                                 geometry.padding, geometry.dilation)):
            start = np.arange(o) * st - p
            start = np.where(start < 0, start + (-start + d - 1) // d * d, start)
            starts.append(start.reshape((-1,) + (1,) * (dims - 1 - axis)))
        fallback = np.broadcast_to(_flat_index(starts, geometry.size), geometry.out)
        return np.stack(parts, axis=-1), np.stack(positions, axis=-1), fallback

    return windows


def _adaptive_bounds(size: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    start = (np.arange(out) * size) // out
    end = -((-(np.arange(out) + 1) * size) // out)  # ceil((i + 1) * size / out)
    return start, end


def _adaptive_windows(size: Ints, out: Ints) -> Any:
    """For IndexedMax: PyTorch's adaptive windows, padded to the largest window by repeating
    each window's last element (which changes neither its maximum nor the first maximum)."""
    dims = len(size)
    axis_positions = []
    for s, o in zip(size, out, strict=True):
        start, end = _adaptive_bounds(s, o)
        largest = int((end - start).max())
        axis_positions.append(np.minimum(start[:, None] + np.arange(largest), end[:, None] - 1))
    # (O_0, K_0) ... -> positions broadcast to (*O, *K)
    shaped = []
    for axis, pos in enumerate(axis_positions):
        shape = [1] * (2 * dims)
        shape[axis], shape[dims + axis] = pos.shape
        shaped.append(pos.reshape(shape))
    flat = _flat_index(shaped, size).reshape(*out, -1)

    def windows(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, None]:
        planes = x.reshape(*x.shape[:2], math.prod(x.shape[2:]))
        return planes[:, :, flat], flat, None

    return windows


# --------------------------------------------------------------------------- max pool


def _unbatch(result: Any, batched: bool) -> Any:
    if batched:
        return result
    if isinstance(result, tuple):
        return tuple(r.squeeze(0) for r in result)
    return result.squeeze(0)


def _indices_tensor(array: np.ndarray) -> Tensor:
    from minigrad.tensor import _wrap

    return _wrap(np.ascontiguousarray(array, dtype=np.int64))


def _max_pool(op: str, dims: int, input: Tensor, kernel_size: Any, stride: Any, padding: Any,
              dilation: Any, ceil_mode: bool, return_indices: bool) -> Any:
    geometry = PoolGeometry(op, input.shape, dims, kernel_size, stride, padding, dilation,
                            ceil_mode)
    x = input if geometry.batched else input.unsqueeze(0)
    if dims == 2 and not return_indices and pool2x2.fits(
            x._data, geometry.kernel, geometry.stride, geometry.padding, geometry.dilation,
            geometry.out):
        return _unbatch(pool2x2.MaxPool2x2.apply(x), geometry.batched)
    if dims <= 2 and x.shape[0] > 0 and not geometry.padding_only_window():
        lift = (lambda v: (1, *v)) if dims == 1 else (lambda v: v)
        lift0 = (lambda v: (0, *v)) if dims == 1 else (lambda v: v)
        result = conv2d_ops.max_pool2d(
            x.unsqueeze(2) if dims == 1 else x, lift(geometry.kernel), lift(geometry.stride),
            lift0(geometry.padding), lift(geometry.dilation), ceil_mode, return_indices)
        if dims == 1:  # a tuple exactly when return_indices
            if isinstance(result, tuple):
                result = (result[0].squeeze(2), result[1].squeeze(2))
            else:
                result = result.squeeze(2)
        return _unbatch(result, geometry.batched)
    sink: list[np.ndarray] | None = [] if return_indices else None
    out = IndexedMax.apply(x, windows=_sliding_windows(geometry), sink=sink)
    result = (out, _indices_tensor(sink[0])) if sink is not None else out
    return _unbatch(result, geometry.batched)


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """Max over windows: (N, C, L) -> (N, C, OL) [, int64 indices into L]."""
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """Max over windows: (N, C, H, W) -> (N, C, OH, OW) (or (C, H, W) -> (C, OH, OW)); with
    ``return_indices=True`` also the int64 flat indices into H * W of each maximum. ``stride``
    defaults to ``kernel_size``.

    Example::

        >>> import minigrad as mg
        >>> import nn.functional as F
        >>> x = mg.arange(16.0).reshape(1, 1, 4, 4)
        >>> F.max_pool2d(x, 2).tolist()
        [[[[5.0, 7.0], [13.0, 15.0]]]]
        >>> F.max_pool2d(x, 3, stride=1).shape
        minigrad.Size([1, 1, 2, 2])
    """
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool3d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """Max over windows: (N, C, D, H, W) -> (N, C, OD, OH, OW) [, flat indices into D*H*W]."""
    return _max_pool("max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


# --------------------------------------------------------------------------- average pool


def _divisor(geometry: PoolGeometry, count_include_pad: bool, dtype: np.dtype) -> np.ndarray:
    """Per output position, what PyTorch divides each window's sum by."""
    dims = len(geometry.kernel)
    divisor = np.ones((1,) * dims, dtype=np.int64)
    for axis, (s, k, st, p, o) in enumerate(zip(geometry.size, geometry.kernel, geometry.stride,
                                                geometry.padding, geometry.out, strict=True)):
        start = np.arange(o) * st - p
        end = np.minimum(start + k, s + p)
        counts = end - start if count_include_pad else np.minimum(end, s) - np.maximum(start, 0)
        divisor = divisor * counts.reshape((-1,) + (1,) * (dims - 1 - axis))
    return divisor.astype(dtype)


class AvgPoolNd(Primitive):
    """(N, C, *S) -> (N, C, *O), each window's sum over ``divisor`` (one per position)."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, *, geometry: PoolGeometry, divisor: np.ndarray
                ) -> np.ndarray:
        xp = pad_nd(x, geometry.pads)
        total = np.zeros(x.shape[:2] + geometry.out, dtype=x.dtype)
        for _, slices in geometry.offsets():
            total += xp[(slice(None), slice(None)) + slices]
        ctx.geometry, ctx.divisor, ctx.x_shape = geometry, divisor, x.shape
        return total / divisor

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray]:
        if not isinstance(grad, np.ndarray):  # create_graph=True: the adjoint of the pool
            from minigrad.autograd.higher_order import linear_backward

            return (linear_backward(AvgPoolNd, ctx, grad, lambda c, x: AvgPoolNd.forward(
                Context(), x, geometry=c.geometry, divisor=c.divisor)),)
        geometry = ctx.geometry
        share = grad / ctx.divisor
        padded = tuple(s + a + b for s, (a, b) in zip(geometry.size, geometry.pads))
        image = np.zeros(ctx.x_shape[:2] + padded, dtype=grad.dtype)
        for _, slices in geometry.offsets():
            image[(slice(None), slice(None)) + slices] += share
        crop = tuple(slice(a, a + s) for s, (a, _) in zip(geometry.size, geometry.pads))
        return (np.ascontiguousarray(image[(slice(None), slice(None)) + crop]),)


def _avg_pool(op: str, dims: int, input: Tensor, kernel_size: Any, stride: Any, padding: Any,
              ceil_mode: bool, count_include_pad: bool, divisor_override: Any) -> Tensor:
    geometry = PoolGeometry(op, input.shape, dims, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None and (
            not isinstance(divisor_override, (int, np.integer)) or divisor_override == 0):
        raise OpError(f"{op}: divisor must be not zero (a non-zero int), got divisor_override="
                      f"{divisor_override!r}")
    x = input if geometry.batched else input.unsqueeze(0)
    if dims <= 2 and x.shape[0] > 0 and divisor_override is None:
        lift = (lambda v: (1, *v)) if dims == 1 else (lambda v: v)
        lift0 = (lambda v: (0, *v)) if dims == 1 else (lambda v: v)
        out = conv2d_ops.avg_pool2d(
            x.unsqueeze(2) if dims == 1 else x, lift(geometry.kernel), lift(geometry.stride),
            lift0(geometry.padding), ceil_mode, count_include_pad)
        out = out.squeeze(2) if dims == 1 else out
    else:
        if divisor_override is not None:
            divisor = np.asarray(divisor_override, dtype=input.dtype)
        else:
            divisor = _divisor(geometry, count_include_pad, np.dtype(input.dtype))
        out = AvgPoolNd.apply(x, geometry=geometry, divisor=divisor)
    return _unbatch(out, geometry.batched)


def avg_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True) -> Tensor:
    """Mean over windows: (N, C, L) -> (N, C, OL)."""
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, None)


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """Mean over windows: (N, C, H, W) -> (N, C, OH, OW)."""
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


def avg_pool3d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """Mean over windows: (N, C, D, H, W) -> (N, C, OD, OH, OW)."""
    return _avg_pool("avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


# --------------------------------------------------------------------------- adaptive pools


def _adaptive_size(op: str, output_size: Any, size: Ints) -> Ints:
    dims = len(size)
    if output_size is None or isinstance(output_size, (int, np.integer)):
        output_size = (output_size,) * dims
    if not isinstance(output_size, (tuple, list)):
        raise TypeError(f"{op}: output_size must be an int or a tuple of {dims} ints (None "
                        f"keeps the input size), got {output_size!r}")
    if len(output_size) not in (1, dims):
        raise OpError(f"{op}: output_size must be {dims} (an int or a tuple of {dims} ints, "
                      f"None keeping the input size), got {output_size!r}")
    if len(output_size) == 1:
        output_size = tuple(output_size) * dims
    filled = tuple(s if o is None else o for o, s in zip(output_size, size, strict=True))
    out = ntuple(filled, dims, "output_size", op, minimum=0)
    return out


def _adaptive_input(op: str, input: Tensor, dims: int) -> tuple[Tensor, bool]:
    batched = check_rank(op, input.shape, dims)
    if any(s == 0 for s in input.shape[-dims - 1:]):
        raise OpError(f"{op}: Expected input with non-zero sizes except the batch dimension, "
                      f"got input of size {list(input.shape)}")
    return (input if batched else input.unsqueeze(0)), batched


def _adaptive_max(op: str, dims: int, input: Tensor, output_size: Any, return_indices: bool
                  ) -> Any:
    x, batched = _adaptive_input(op, input, dims)
    out = _adaptive_size(op, output_size, tuple(x.shape[2:]))
    if min(out) == 0:
        raise OpError(f"{op}: output_size must be positive, got {out}")
    sink: list[np.ndarray] | None = [] if return_indices else None
    y = IndexedMax.apply(x, windows=_adaptive_windows(tuple(x.shape[2:]), out), sink=sink)
    result = (y, _indices_tensor(sink[0])) if sink is not None else y
    return _unbatch(result, batched)


def adaptive_max_pool1d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Max over PyTorch's adaptive windows: (N, C, L) -> (N, C, output_size)."""
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Max over PyTorch's adaptive windows: ``(N, C, H, W) -> (N, C, *output_size)``."""
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, return_indices)


def adaptive_max_pool3d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Max over PyTorch's adaptive windows: ``(N, C, D, H, W) -> (N, C, *output_size)``."""
    return _adaptive_max("adaptive_max_pool3d", 3, input, output_size, return_indices)


def _averaging_matrix(size: int, out: int, dtype: np.dtype) -> np.ndarray:
    """(out, size) matrix whose row i averages PyTorch's adaptive window i."""
    start, end = _adaptive_bounds(size, out)
    position = np.arange(size)
    inside = (position >= start[:, None]) & (position < end[:, None])
    return (inside / np.maximum(end - start, 1)[:, None]).astype(dtype)


def apply_per_axis(x: np.ndarray, matrices: list[np.ndarray], first_axis: int) -> np.ndarray:
    """Multiply axis first_axis + i of x by matrices[i] (out_i, in_i), last axis first."""
    for i in reversed(range(len(matrices))):
        axis = first_axis + i
        x = np.moveaxis(np.tensordot(x, matrices[i], axes=([axis], [1])), -1, axis)
    return np.ascontiguousarray(x)


class SeparableLinear(Primitive):
    """(N, C, *S) -> (N, C, *O): a linear map given by one (O_i, S_i) matrix per axis."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, *, matrices: list[np.ndarray]) -> np.ndarray:
        ctx.matrices = matrices
        return apply_per_axis(x, matrices, 2)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray]:
        if not isinstance(grad, np.ndarray):  # create_graph=True: the adjoint as a graph op
            from minigrad.autograd.higher_order import linear_backward

            return (linear_backward(SeparableLinear, ctx, grad,
                                    lambda c, x: apply_per_axis(x, c.matrices, 2)),)
        return (apply_per_axis(grad, [m.T for m in ctx.matrices], 2),)


def _adaptive_avg(op: str, dims: int, input: Tensor, output_size: Any) -> Tensor:
    x, batched = _adaptive_input(op, input, dims)
    out = _adaptive_size(op, output_size, tuple(x.shape[2:]))
    if dims == 2 and x.shape[0] > 0 and min(out) > 0:
        return _unbatch(conv2d_ops.adaptive_avg_pool2d(x, out), batched)
    dtype = np.dtype(x.dtype)
    matrices = [_averaging_matrix(s, o, dtype) for s, o in zip(x.shape[2:], out, strict=True)]
    return _unbatch(SeparableLinear.apply(x, matrices=matrices), batched)


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:
    """Mean over PyTorch's adaptive windows: (N, C, L) -> (N, C, output_size)."""
    return _adaptive_avg("adaptive_avg_pool1d", 1, input, output_size)


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:
    """Mean over PyTorch's adaptive windows: ``(N, C, H, W) -> (N, C, *output_size)``."""
    return _adaptive_avg("adaptive_avg_pool2d", 2, input, output_size)


def adaptive_avg_pool3d(input: Tensor, output_size: Any) -> Tensor:
    """Mean over PyTorch's adaptive windows: ``(N, C, D, H, W) -> (N, C, *output_size)``."""
    return _adaptive_avg("adaptive_avg_pool3d", 3, input, output_size)


# --------------------------------------------------------------------------- max unpool


class MaxUnpool(Primitive):
    """(N, C, *S) values and flat indices -> (N, C, *size), zero except at the indices."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, *, indices: np.ndarray, size: Ints) -> np.ndarray:
        n, c = x.shape[:2]
        out = np.zeros((n * c, math.prod(size)), dtype=x.dtype)
        flat = indices.reshape(n * c, math.prod(x.shape[2:]))
        np.put_along_axis(out, flat, x.reshape(n * c, -1), axis=1)
        ctx.flat, ctx.x_shape, ctx.indices, ctx.size = flat, x.shape, indices, size
        return out.reshape(n, c, *size)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray]:
        if not isinstance(grad, np.ndarray):  # create_graph=True: the adjoint of the unpool
            from minigrad.autograd.higher_order import linear_backward

            return (linear_backward(MaxUnpool, ctx, grad, lambda c, x: MaxUnpool.forward(
                Context(), x, indices=c.indices, size=c.size)),)
        n, c = ctx.x_shape[:2]
        picked = np.take_along_axis(grad.reshape(n * c, grad[0, 0].size if n * c else 0),
                                    ctx.flat, axis=1)
        return (picked.reshape(ctx.x_shape),)


def _max_unpool(op: str, dims: int, input: Tensor, indices: Tensor, kernel_size: Any,
                stride: Any, padding: Any, output_size: Any) -> Tensor:
    batched = check_rank(op, input.shape, dims)
    kernel = ntuple(kernel_size, dims, "kernel_size", op)
    stride = kernel if stride is None else ntuple(stride, dims, "stride", op)
    padding = ntuple(padding, dims, "padding", op, minimum=0)
    if tuple(indices.shape) != tuple(input.shape):
        raise OpError(f"{op}: Expected shape of indices to be same as that of the input tensor "
                      f"({list(input.shape)}) but got indices tensor with shape "
                      f"{list(indices.shape)}")
    index = np.asarray(indices._data)
    if index.dtype.kind not in "iu":
        raise TypeError(f"{op}: indices must be an int64 tensor, got dtype {index.dtype}")
    x = input if batched else input.unsqueeze(0)
    default = tuple((s - 1) * st - 2 * p + k for s, st, p, k in zip(
        x.shape[2:], stride, padding, kernel, strict=True))
    if output_size is None:
        size = default
    else:
        sizes = [int(s) for s in output_size]
        if len(sizes) == dims + 2 or len(sizes) == dims + 1:
            sizes = sizes[-dims:]
        if len(sizes) != dims:
            raise OpError(f"{op}: output_size should be a sequence containing {dims} or "
                          f"{dims + 2} elements, but it has a length of '{len(output_size)}'")
        for axis, (s, d, st) in enumerate(zip(sizes, default, stride, strict=True)):
            if not d - st < s < d + st:
                raise OpError(f"{op}: invalid output_size {tuple(sizes)} (dim {axis} must be "
                              f"between {d - st + 1} and {d + st - 1})")
        size = tuple(sizes)
    if index.size and (index.min() < 0 or index.max() >= math.prod(size)):
        bad = int(index.max() if index.max() >= math.prod(size) else index.min())
        raise OpError(f"{op}: Found an invalid max index: {bad} (output volumes are of size "
                      f"{'x'.join(map(str, size))})")
    idx = index if batched else index[None]
    return _unbatch(MaxUnpool.apply(x, indices=idx.astype(np.int64, copy=False), size=size),
                    batched)


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None,
                 padding: Any = 0, output_size: Any = None) -> Tensor:
    """The partial inverse of max_pool1d: values placed at their indices, zeros elsewhere."""
    return _max_unpool("max_unpool1d", 1, input, indices, kernel_size, stride, padding,
                       output_size)


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None,
                 padding: Any = 0, output_size: Any = None) -> Tensor:
    """The partial inverse of max_pool2d: values placed at their indices, zeros elsewhere."""
    return _max_unpool("max_unpool2d", 2, input, indices, kernel_size, stride, padding,
                       output_size)


def max_unpool3d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None,
                 padding: Any = 0, output_size: Any = None) -> Tensor:
    """The partial inverse of max_pool3d: values placed at their indices, zeros elsewhere."""
    return _max_unpool("max_unpool3d", 3, input, indices, kernel_size, stride, padding,
                       output_size)


# --------------------------------------------------------------------------- power-average


def _lp_pool(dims: int, input: Tensor, norm_type: float, kernel_size: Any, stride: Any,
             ceil_mode: bool) -> Tensor:
    op = f"lp_pool{dims}d"
    kernel = ntuple(kernel_size, dims, "kernel_size", op)
    pool = (avg_pool1d, avg_pool2d, avg_pool3d)[dims - 1]
    out = pool(input.pow(norm_type), kernel, stride, 0, ceil_mode)
    return (out.sign() * out.abs().relu()).mul(float(math.prod(kernel))).pow(1.0 / norm_type)


def lp_pool1d(input: Tensor, norm_type: float, kernel_size: Any, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:
    """(sum over each window of x**p) ** (1/p): (N, C, L) -> (N, C, OL)."""
    return _lp_pool(1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input: Tensor, norm_type: float, kernel_size: Any, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:
    """(sum over each window of x**p) ** (1/p): (N, C, H, W) -> (N, C, OH, OW)."""
    return _lp_pool(2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input: Tensor, norm_type: float, kernel_size: Any, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:
    """(sum over each window of x**p) ** (1/p): (N, C, D, H, W) -> (N, C, OD, OH, OW)."""
    return _lp_pool(3, input, norm_type, kernel_size, stride, ceil_mode)


__all__ += ["PoolGeometry", "IndexedMax", "AvgPoolNd", "SeparableLinear", "MaxUnpool",
            "apply_per_axis", "pool_out_size"]


def _with_indices(pool: Any) -> Any:
    """F.<pool>_with_indices: the pool with return_indices=True, always (values, indices)."""

    def with_indices(input: Tensor, *args: Any, **kwargs: Any) -> Any:
        kwargs.pop("return_indices", None)
        return pool(input, *args, **kwargs, return_indices=True)

    with_indices.__name__ = with_indices.__qualname__ = f"{pool.__name__}_with_indices"
    with_indices.__doc__ = f"``{pool.__name__}(..., return_indices=True)``: (values, indices)."
    return with_indices


max_pool1d_with_indices = _with_indices(max_pool1d)
max_pool2d_with_indices = _with_indices(max_pool2d)
max_pool3d_with_indices = _with_indices(max_pool3d)
adaptive_max_pool1d_with_indices = _with_indices(adaptive_max_pool1d)
adaptive_max_pool2d_with_indices = _with_indices(adaptive_max_pool2d)
adaptive_max_pool3d_with_indices = _with_indices(adaptive_max_pool3d)
__all__ += ["max_pool1d_with_indices", "max_pool2d_with_indices", "max_pool3d_with_indices",
            "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
            "adaptive_max_pool3d_with_indices"]


# --------------------------------------------------------------------------- fractional max


def _fractional_starts(samples: np.ndarray, size: int, out: int, kernel: int,
                       dtype: np.dtype) -> np.ndarray:
    """PyTorch's pseudo-random window starts along one axis, per (N, C) plane: (N, C, out)."""
    starts = np.empty(samples.shape + (out,), dtype=np.int64)
    if out > 1:
        alpha = dtype.type(size - kernel) / dtype.type(out - 1)
        i = np.arange(out - 1, dtype=dtype)
        sample = samples.astype(dtype)[..., None]
        starts[..., :-1] = ((i + sample) * alpha).astype(np.int64) - (sample * alpha).astype(
            np.int64)
    starts[..., -1] = size - kernel
    return starts


def _fractional_max(op: str, dims: int, input: Tensor, kernel_size: Any, output_size: Any,
                    output_ratio: Any, return_indices: bool, random_samples: Any) -> Any:
    from minigrad.random import generator
    from minigrad.tensor import Tensor as TensorType

    batched = check_rank(op, input.shape, dims)
    kernel = ntuple(kernel_size, dims, "kernel_size", op)
    x = input if batched else input.unsqueeze(0)
    n, c, *size = x.shape
    if output_size is None and output_ratio is None:
        raise ValueError(f"{op} requires specifying either an output_size or an output_ratio")
    if output_size is None:
        if isinstance(output_ratio, (tuple, list)) and len(output_ratio) > dims:
            raise ValueError(f"{op} requires output_ratio to either be a single Int or tuple of "
                             "Ints.")
        ratios = tuple(output_ratio) if isinstance(output_ratio, (tuple, list)) else (
            output_ratio,) * dims
        ratios = ratios * dims if len(ratios) == 1 else ratios
        output_size = tuple(int(s * r) for s, r in zip(size, ratios, strict=True))
    out = ntuple(output_size, dims, "output_size", op)
    names = ("height", "width") if dims == 2 else ("time", "height", "width")
    for name, s, k, o in zip(names, size, kernel, out, strict=True):
        # PyTorch's 3-D check is strict where its 2-D one is not
        if o + k - 1 > s or (dims == 3 and o + k - 1 == s):
            raise OpError(f"{op}: pool {name} {k} too large relative to input {name} {s} "
                          f"(output_size {out}); use a smaller kernel or output size")
    dtype = np.dtype(x._data.dtype)
    if random_samples is None:
        samples = generator().random((n, c, dims)).astype(dtype)
    else:
        samples = np.asarray(random_samples._data if isinstance(random_samples, TensorType)
                             else random_samples)
        if samples.shape != (n, c, dims):
            raise OpError(f"{op}: expected _random_samples of shape {[n, c, dims]}, got "
                          f"{list(samples.shape)}")
    # PyTorch's sample order: (W, H) for two dims, (T, H, W) for three
    order = [1, 0] if dims == 2 else list(range(dims))
    positions = []
    for axis in range(dims):
        starts = _fractional_starts(samples[..., order[axis]], size[axis], out[axis],
                                    kernel[axis], dtype)
        pos = starts[..., None] + np.arange(kernel[axis])  # (N, C, O_a, K_a)
        shape = [n, c] + [1] * (2 * dims)
        shape[2 + axis], shape[2 + dims + axis] = out[axis], kernel[axis]
        positions.append(pos.reshape(shape))
    flat = _flat_index(positions, tuple(size)).reshape(n, c, *out, -1)

    def windows(array: np.ndarray) -> tuple[np.ndarray, np.ndarray, None]:
        planes = array.reshape(n, c, math.prod(size))
        values = np.take_along_axis(planes, flat.reshape(n, c, -1), axis=2).reshape(flat.shape)
        return values, flat, None

    sink: list[np.ndarray] | None = [] if return_indices else None
    y = IndexedMax.apply(x, windows=windows, sink=sink)
    result = (y, _indices_tensor(sink[0])) if sink is not None else y
    return _unbatch(result, batched)


def fractional_max_pool2d(input: Tensor, kernel_size: Any, output_size: Any = None,
                          output_ratio: Any = None, return_indices: bool = False,
                          _random_samples: Any = None) -> Any:
    """Max over pseudo-random windows: ``(N, C, H, W) -> (N, C, *output_size)``; the window
    starts follow PyTorch's formula from ``_random_samples`` (N, C, 2), uniform in [0, 1)."""
    return _fractional_max("fractional_max_pool2d", 2, input, kernel_size, output_size,
                           output_ratio, return_indices, _random_samples)


def fractional_max_pool3d(input: Tensor, kernel_size: Any, output_size: Any = None,
                          output_ratio: Any = None, return_indices: bool = False,
                          _random_samples: Any = None) -> Any:
    """Max over pseudo-random windows: ``(N, C, T, H, W) -> (N, C, *output_size)``."""
    return _fractional_max("fractional_max_pool3d", 3, input, kernel_size, output_size,
                           output_ratio, return_indices, _random_samples)


fractional_max_pool2d_with_indices = _with_indices(fractional_max_pool2d)
fractional_max_pool3d_with_indices = _with_indices(fractional_max_pool3d)
__all__ += ["fractional_max_pool2d", "fractional_max_pool3d",
            "fractional_max_pool2d_with_indices", "fractional_max_pool3d_with_indices"]
