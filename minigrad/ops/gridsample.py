"""``affine_grid`` and ``grid_sample`` (bilinear/trilinear, nearest and bicubic; zeros, border
and reflection padding), composed from Tensor ops.

A sample point's coordinates are computed from the grid with differentiable Tensor ops
(unnormalise, reflect, clip), its corner indices are constants (floor or round), and the
input values at the corners are gathered (``Tensor.gather``, whose backward scatter-adds): so
gradients reach both the input and the grid with no backward rule of their own. The only
Python loop runs over the 2**dims corners.
"""

from __future__ import annotations

import itertools
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from minigrad.errors import OpError

if TYPE_CHECKING:
    from minigrad.tensor import Tensor

__all__ = ["affine_grid", "grid_sample"]

_ALIGN_WARNING = ("Default grid_sample and affine_grid behavior has changed to "
                  "align_corners=False since 1.3.0. Please specify align_corners=True if the old "
                  "behavior is desired. See the documentation of grid_sample for details.")


def _base_coordinates(steps: int, align_corners: bool, dtype: np.dtype) -> np.ndarray:
    """PyTorch's normalised coordinates of ``steps`` pixel centres in [-1, 1]."""
    if steps <= 1:
        return np.zeros(steps, dtype=dtype)
    coords = np.linspace(-1.0, 1.0, steps)
    if not align_corners:
        coords = coords * (steps - 1) / steps
    return coords.astype(dtype)


def affine_grid(theta: Tensor, size: Any, align_corners: bool | None = None) -> Tensor:
    """(N, 2, 3) affine matrices and size (N, C, H, W) -> sampling grid (N, H, W, 2); or
    (N, 3, 4) and (N, C, D, H, W) -> (N, D, H, W, 3). Coordinates are (x, y[, z])."""
    from minigrad.tensor import _wrap

    op = "affine_grid"
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    if not theta.is_floating_point():
        raise OpError(f"{op}: Expected theta to have floating point type, but got "
                      f"{theta.dtype}")
    size = [int(s) for s in size]
    if len(size) not in (4, 5):
        raise NotImplementedError(f"{op}: affine_grid only supports 4D and 5D sizes, for 2D and "
                                  f"3D affine transforms, respectively. Got size {size}.")
    dims = len(size) - 2
    if tuple(theta.shape) != (size[0], dims, dims + 1):
        raise OpError(
            f"{op}: Expected a batch of {dims}D affine matrices of shape Nx{dims}x{dims + 1} "
            f"for size {size}. Got {list(theta.shape)}.")
    if min(size[2:]) <= 0:
        raise OpError(f"{op}: Expected non-zero, positive output size. Got {size}")
    dtype = np.dtype(theta._data.dtype)
    spatial = size[2:]  # (D,) H, W; the grid's last axis is (x, y[, z])
    axes = [_base_coordinates(s, align_corners, dtype) for s in spatial]
    mesh = np.meshgrid(*axes, indexing="ij")
    base = np.stack([*reversed(mesh), np.ones(spatial, dtype=dtype)], axis=-1)
    base = base.reshape(1, -1, dims + 1)
    grid = _wrap(np.ascontiguousarray(base)) @ theta.transpose(1, 2)
    return grid.reshape(size[0], *spatial, dims)


def _unnormalize(coord: Tensor, size: int, align_corners: bool) -> Tensor:
    if align_corners:
        return (coord + 1.0) * ((size - 1) / 2)
    return ((coord + 1.0) * size - 1.0) * 0.5


def _reflect(coord: Tensor, twice_low: int, twice_high: int) -> Tensor:
    """Reflect into [twice_low/2, twice_high/2], as many times as needed."""
    from minigrad.tensor import _wrap, where

    if twice_low == twice_high:
        return coord * 0.0
    low = twice_low / 2
    span = (twice_high - twice_low) / 2
    distance = (coord - low).abs()
    flips = np.floor(distance._data / span)
    extra = distance - _wrap((flips * span).astype(distance._data.dtype))
    return where(flips % 2 == 0, extra + low, (extra * -1.0) + (span + low))


def _source(coord: Tensor, size: int, padding_mode: str, align_corners: bool) -> Tensor:
    """Grid coordinates in [-1, 1] -> input positions, after the padding mode."""
    position = _unnormalize(coord, size, align_corners)
    if padding_mode == "border":
        return position.clamp(0, size - 1)
    if padding_mode == "reflection":
        if align_corners:
            position = _reflect(position, 0, 2 * (size - 1))
        else:
            position = _reflect(position, -1, 2 * size - 1)
        return position.clamp(0, size - 1)
    return position


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear",
                padding_mode: str = "zeros", align_corners: bool | None = None) -> Tensor:
    """Sample (N, C, H, W) at grid (N, Ho, Wo, 2) -> (N, C, Ho, Wo); 5-D input and
    (N, Do, Ho, Wo, 3) grids too. Grid coordinates are (x, y[, z]) in [-1, 1]."""
    from minigrad.tensor import _wrap

    op = "grid_sample"
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"{op}: nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"{op}: nn.functional.grid_sample(): expected padding_mode to be "
                         f"'zeros', 'border', or 'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    if input.ndim not in (4, 5):
        raise OpError(f"{op}: grid_sampler(): expected 4D or 5D input and grid with same "
                      f"number of dimensions, but got input with sizes {list(input.shape)} and "
                      f"grid with sizes {list(grid.shape)}")
    dims = input.ndim - 2
    if grid.ndim != input.ndim or grid.shape[0] != input.shape[0] or grid.shape[-1] != dims:
        raise OpError(
            f"{op}: expected grid of shape (N, *out, {dims}) with N = {input.shape[0]} for an "
            f"input of size {list(input.shape)}, but got grid with sizes {list(grid.shape)}")
    if mode == "bicubic" and dims != 2:
        raise OpError(f"{op}: bicubic interpolation only supports 4D input")
    if input.dtype != grid.dtype:
        raise OpError(f"{op}: expected input and grid to have the same dtype, but input has "
                      f"{input.dtype} and grid has {grid.dtype}")
    n, c, *size = input.shape
    out = grid.shape[1:-1]
    points = int(np.prod(out))
    # grid axis -1 is (x, y[, z]): x indexes the last input axis
    sources = [_source(grid[..., dims - 1 - axis], size[axis], padding_mode, align_corners)
               for axis in range(dims)]
    planes = input.reshape(n, c, int(np.prod(size)))
    dtype = np.dtype(input._data.dtype)

    def gather(indices: list[np.ndarray]) -> tuple[Tensor, np.ndarray]:
        inside = np.ones((n, *out), dtype=bool)
        flat = np.zeros((n, *out), dtype=np.int64)
        for axis, index in enumerate(indices):
            inside &= (index >= 0) & (index < size[axis])
            flat = flat * size[axis] + np.clip(index, 0, size[axis] - 1)
        index = np.ascontiguousarray(np.broadcast_to(flat.reshape(n, 1, points),
                                                     (n, c, points)))
        values = planes.gather(2, _wrap(index)).reshape(n, c, *out)
        return values, inside

    if mode == "bicubic":
        return _bicubic(grid, size, padding_mode, align_corners, gather, dtype)
    if mode == "nearest":
        nearest = [np.rint(s._data).astype(np.int64) for s in sources]
        values, inside = gather(nearest)
        return values * _wrap(inside[:, None].astype(dtype))
    low = [np.floor(s._data).astype(np.int64) for s in sources]
    upper_weight = [s - _wrap(i.astype(dtype)) for s, i in zip(sources, low)]
    result: Tensor | None = None
    for corner in itertools.product((0, 1), repeat=dims):
        values, inside = gather([i + k for i, k in zip(low, corner)])
        weight = _wrap(inside.astype(dtype))
        for w, k in zip(upper_weight, corner):
            weight = weight * (w if k else (w * -1.0 + 1.0))
        term = values * weight.unsqueeze(1)
        result = term if result is None else result + term
    assert result is not None  # the product of the taps is never empty
    return result


def _integer_positions(position: np.ndarray, size: int, padding_mode: str,
                       align_corners: bool) -> np.ndarray:
    """Bicubic taps through the padding mode (PyTorch's compute_coordinates on integers)."""
    if padding_mode == "border":
        return np.clip(position, 0, size - 1)
    if padding_mode == "reflection":
        low, span = (0.0, size - 1.0) if align_corners else (-0.5, float(size))
        if span <= 0:
            return np.zeros_like(position)
        distance = np.abs(position - low)
        flips = np.floor(distance / span)
        extra = distance - flips * span
        reflected = np.where(flips % 2 == 0, extra + low, span - extra + low)
        return np.clip(np.rint(reflected), 0, size - 1).astype(np.int64)
    return position


def _bicubic(grid: Tensor, size: list[int], padding_mode: str, align_corners: bool,
             gather: Any, dtype: np.dtype) -> Tensor:
    """4x4 taps around each point with PyTorch's cubic convolution weights (A = -0.75); the
    padding mode applies to each tap, the weights to the unpadded coordinate."""
    from minigrad.tensor import _wrap

    a = -0.75

    def near(v: Tensor) -> Tensor:  # |v| <= 1
        return ((v * (a + 2) - (a + 3)) * v) * v + 1.0

    def far(v: Tensor) -> Tensor:  # 1 < |v| < 2
        return ((v * a - 5 * a) * v + 8 * a) * v - 4 * a

    weights, lows = [], []
    for axis in range(2):
        position = _unnormalize(grid[..., 1 - axis], size[axis], align_corners)
        low = np.floor(position._data).astype(np.int64)
        t = position - _wrap(low.astype(dtype))
        weights.append([far(t + 1.0), near(t), near(t * -1.0 + 1.0), far(t * -1.0 + 2.0)])
        lows.append(low)
    result: Tensor | None = None
    for i, j in itertools.product(range(4), range(4)):
        rows = _integer_positions(lows[0] - 1 + i, size[0], padding_mode, align_corners)
        cols = _integer_positions(lows[1] - 1 + j, size[1], padding_mode, align_corners)
        values, inside = gather([rows, cols])
        weight = weights[0][i] * weights[1][j] * _wrap(inside.astype(dtype))
        term = values * weight.unsqueeze(1)
        result = term if result is None else result + term
    assert result is not None  # the product of the taps is never empty
    return result
