"""Strided views that overlap: ``Tensor.unfold`` (sliding windows along one dim)."""

from __future__ import annotations

import numpy as np

from minigrad.autograd.engine import Context, Primitive


class UnfoldWindows(Primitive):
    """Windows of ``size`` every ``step`` along ``dim``: that dim becomes the window count and
    a last dim of length ``size`` is appended (a writeable view, as in PyTorch). Elements in
    several windows receive the sum of their gradients."""

    is_view = True

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, dim: int, size: int, step: int) -> np.ndarray:
        ctx.shape, ctx.dim, ctx.size, ctx.step = a.shape, dim, size, step
        windows = np.lib.stride_tricks.sliding_window_view(a, size, axis=dim, writeable=True)
        return windows[(slice(None),) * dim + (slice(None, None, step),)]

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        if not isinstance(grad, np.ndarray):  # create_graph=True: the adjoint of the windows
            from minigrad.autograd.higher_order import linear_backward

            return linear_backward(UnfoldWindows, ctx, grad, lambda c, x: np.ascontiguousarray(
                UnfoldWindows.forward(Context(), x, c.dim, c.size, c.step)))
        dim, size, step = ctx.dim, ctx.size, ctx.step
        out = np.zeros(ctx.shape, grad.dtype)
        count = grad.shape[dim]
        prefix = (slice(None),) * dim
        for offset in range(size):  # one strided add per window offset
            target = prefix + (slice(offset, offset + step * (count - 1) + 1, step),)
            out[target] += grad[..., offset]
        return out
