"""Reductions and the fused softmax family."""

from __future__ import annotations

import numpy as np

from minigrad.autograd.engine import Context, Primitive


def _expand_reduced(grad: np.ndarray, axis: tuple[int, ...] | None, keepdims: bool) -> np.ndarray:
    """Give a reduced gradient back its reduced axes (as size 1) so it broadcasts."""
    if axis is None or keepdims:
        return grad
    return np.expand_dims(grad, axis)


class Sum(Primitive):
    @staticmethod
    def forward(
        ctx: Context, a: np.ndarray, axis: tuple[int, ...] | None, keepdims: bool
    ) -> np.ndarray:
        ctx.shape, ctx.axis, ctx.keepdims = a.shape, axis, keepdims
        return np.asarray(a.sum(axis=axis, keepdims=keepdims))

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        return np.broadcast_to(_expand_reduced(grad, ctx.axis, ctx.keepdims), ctx.shape)


class MaxAll(Primitive):
    """Maximum of all elements; tied maxima share the gradient evenly, as in PyTorch."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        out = np.asarray(a.max())
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        a, out = ctx.saved
        mask = a == out
        return mask * (grad / mask.sum()).astype(a.dtype)


def along_axis_index(index: np.ndarray, axis: int) -> tuple[np.ndarray, ...]:
    """The fancy index that selects ``index`` along ``axis`` (as take_along_axis does)."""
    grids = list(np.ogrid[tuple(slice(n) for n in index.shape)])
    grids[axis] = index
    return tuple(grids)


class Gather(Primitive):
    """out[..., i, ...] = a[..., index[..., i, ...], ...] along ``axis`` (torch.gather)."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, index: np.ndarray, axis: int) -> np.ndarray:
        ctx.shape, ctx.index, ctx.axis = a.shape, index, axis
        return np.take_along_axis(a, index, axis=axis)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        out = np.zeros(ctx.shape, dtype=grad.dtype)
        if ctx.index.shape[ctx.axis] == 1:  # one pick per slice: no duplicates to accumulate
            np.put_along_axis(out, ctx.index, grad, axis=ctx.axis)
            return out
        # add.at, not assignment: an index may appear twice and both gradients must count
        np.add.at(out, along_axis_index(ctx.index, ctx.axis), grad)
        return out


class LogSoftmax(Primitive):
    """log_softmax along ``axis``, fused for numerical stability (logits of +-1e4 are fine)."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, axis: int) -> np.ndarray:
        shifted = a - a.max(axis=axis, keepdims=True)
        out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        (out,) = ctx.saved
        return grad - np.exp(out) * grad.sum(axis=ctx.axis, keepdims=True)


class Softmax(Primitive):
    """softmax along ``axis``, shifted by the maximum so large logits do not overflow."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, axis: int) -> np.ndarray:
        e = np.exp(a - a.max(axis=axis, keepdims=True))
        out = e / e.sum(axis=axis, keepdims=True)
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        (out,) = ctx.saved
        return out * (grad - (grad * out).sum(axis=ctx.axis, keepdims=True))
