"""``pad`` with PyTorch's modes (constant, reflect, replicate, circular) and negative amounts.

A constant pad crops the negative amounts with a slice and pads the rest with one ``np.pad``;
the other modes read every output position from an input position along each padded axis
(``IndexAxes``: one ``np.take`` per axis forward, one scatter-add per axis backward).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from minigrad.autograd.engine import Context, Primitive
from minigrad.errors import OpError
from minigrad.ops.windows import gather_axis, scatter_add_axis

if TYPE_CHECKING:
    from minigrad.tensor import Tensor

__all__ = ["pad", "IndexAxes", "source_positions"]

MODES = ("constant", "reflect", "replicate", "circular")


class IndexAxes(Primitive):
    """x with each listed axis replaced by x.take(index, axis); ``indices`` is a tuple of
    (axis, 1-D int index array). Repeated indices accumulate gradient."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, *, indices: tuple[tuple[int, np.ndarray], ...]
                ) -> np.ndarray:
        sizes = []
        for axis, index in indices:
            sizes.append(x.shape[axis])
            x = gather_axis(x, index, axis)
        ctx.indices, ctx.sizes = indices, sizes
        return x

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray]:
        if not isinstance(grad, np.ndarray):  # create_graph=True: the adjoint as a graph op
            from minigrad.autograd.higher_order import linear_backward

            return (linear_backward(IndexAxes, ctx, grad, lambda c, x: IndexAxes.forward(
                Context(), x, indices=c.indices)),)
        for (axis, index), size in zip(reversed(ctx.indices), reversed(ctx.sizes)):
            grad = scatter_add_axis(grad, index, axis, size)
        return (grad,)


def source_positions(size: int, before: int, after: int, mode: str) -> np.ndarray:
    """For a padded axis, the input position each output position reads."""
    if mode == "circular":
        # PyTorch crops the negative amounts first and wraps around what is left
        start = max(-before, 0)
        kept = size - start - max(-after, 0)
        return start + np.arange(-max(before, 0), kept + max(after, 0)) % kept
    position = np.arange(-before, size + after)
    if mode == "reflect":
        position = np.abs(position)
        return np.where(position >= size, 2 * (size - 1) - position, position)
    if mode == "replicate":
        return np.clip(position, 0, size - 1)
    return position


def _amounts(op: str, pad: Any) -> tuple[int, ...]:
    if not isinstance(pad, (tuple, list)) and not (
            hasattr(pad, "shape") and len(getattr(pad, "shape", ())) == 1):
        raise TypeError(f"{op}(): argument 'pad' must be a tuple of ints, got "
                        f"{type(pad).__name__}")
    amounts = []
    for i, p in enumerate(pad):
        value = p.item() if hasattr(p, "item") else p
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
            raise TypeError(f"{op}(): argument 'pad' must be a tuple of ints, but found "
                            f"element of type {type(value).__name__} at pos {i}")
        amounts.append(int(value))
    return tuple(amounts)


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant",
        value: float | None = None) -> Tensor:
    """Pad the last len(pad)//2 dimensions, PyTorch's order: (left, right) of the last
    dimension, then (top, bottom) of the one before, ...; negative amounts crop."""
    op = "pad"
    amounts = _amounts(op, pad)
    if len(amounts) % 2:
        raise OpError(f"{op}: Padding length must be divisible by 2, got {amounts}")
    ndim = input.ndim
    padded = len(amounts) // 2
    if padded > ndim:
        raise OpError(
            f"{op}: Padding length should be less than or equal to two times the input "
            f"dimension but got padding length {len(amounts)} and input of dimension {ndim}"
        )
    if mode not in MODES:
        raise NotImplementedError(f"{op}: Unrecognised padding mode {mode}; use one of "
                                  f"{', '.join(MODES)}")
    widths = [(amounts[2 * i], amounts[2 * i + 1]) for i in range(padded)]
    axes = [ndim - 1 - i for i in range(padded)]
    for axis, (before, after) in zip(axes, widths):
        if input.shape[axis] + before + after < 0:
            raise OpError(
                f"{op}: padding {amounts} makes dimension {axis} of input of size "
                f"{list(input.shape)} negative ({input.shape[axis]} + {before} + {after})"
            )
    if mode == "constant":
        return _constant(input, axes, widths, 0.0 if value is None else value)
    if value is not None:
        raise OpError(f'{op}: Padding mode "{mode}" doesn\'t take in value argument')
    if padded not in (1, 2, 3) or ndim not in (padded + 1, padded + 2):
        raise NotImplementedError(
            f"{op}: Padding size {len(amounts)} is not supported for {ndim}D input tensor. "
            "Supported combinations for non-constant padding: 2D or 3D input: padding size = "
            "2 (pads last dimension); 3D or 4D input: padding size = 4 (pads last 2 "
            "dimensions); 4D or 5D input: padding size = 6 (pads last 3 dimensions)"
        )
    if any(s == 0 for s in input.shape[ndim - padded - 1:]):
        raise OpError(
            f"{op}: mode {mode!r} expects a tensor with possibly 0 batch size and other "
            f"non-zero dimensions, but got input of size {list(input.shape)}"
        )
    for axis, (before, after) in zip(axes, widths):
        size = input.shape[axis]
        if mode == "reflect" and (before >= size or after >= size):
            raise OpError(
                f"{op}: Padding size should be less than the corresponding input dimension, "
                f"but got: padding ({before}, {after}) at dimension {axis} of input "
                f"{list(input.shape)} (mode 'reflect')"
            )
        kept = size - max(-before, 0) - max(-after, 0)
        if mode == "circular" and (before > kept or after > kept):
            raise OpError(
                f"{op}: Padding value causes wrapping around more than once: padding "
                f"({before}, {after}) at dimension {axis} of input {list(input.shape)}"
            )
    indices = tuple((axis, source_positions(input.shape[axis], before, after, mode))
                    for axis, (before, after) in zip(axes, widths))
    return IndexAxes.apply(input, indices=indices)


def _constant(input: Tensor, axes: list[int], widths: list[tuple[int, int]], value: Any
              ) -> Tensor:
    from minigrad.ops import shape

    crop = [slice(None)] * input.ndim
    for axis, (before, after) in zip(axes, widths):
        size = input.shape[axis]
        crop[axis] = slice(max(-before, 0), size - max(-after, 0))
    x = input[tuple(crop)] if any(min(w) < 0 for w in widths) else input
    pad_width = [(0, 0)] * input.ndim
    for axis, (before, after) in zip(axes, widths):
        pad_width[axis] = (max(before, 0), max(after, 0))
    if all(w == (0, 0) for w in pad_width):
        return x if x is not input else x.clone()
    return shape.Pad.apply(x, pad_width=tuple(pad_width), value=value)
