"""Norm primitives: vector p-norms and singular values (for matrix 2-norms and nuclear norms)."""

from __future__ import annotations

import numpy as np

from minigrad.autograd.engine import Context, Primitive
from minigrad.ops.reduce import _expand_reduced


class VectorNorm(Primitive):
    """(sum |a|^ord)^(1/ord) over ``axis`` (None: all); ord inf/-inf is max/min |a|, ord 0
    counts non-zeros. The gradient at a zero norm is 0, as in PyTorch; tied extremes of the
    inf-norms share it evenly."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, ord: float, axis: tuple[int, ...] | None,
                keepdims: bool) -> np.ndarray:
        magnitude = np.abs(a)
        if ord == np.inf:
            out = magnitude.max(axis=axis, keepdims=True)
        elif ord == -np.inf:
            out = magnitude.min(axis=axis, keepdims=True)
        elif ord == 0:
            out = (magnitude != 0).sum(axis=axis, keepdims=True).astype(a.dtype)
        elif ord == 1:
            out = magnitude.sum(axis=axis, keepdims=True)
        elif ord == 2:
            out = np.sqrt((magnitude * magnitude).sum(axis=axis, keepdims=True))
        else:
            with np.errstate(divide="ignore"):
                out = ((magnitude**ord).sum(axis=axis, keepdims=True)) ** (1.0 / ord)
        ctx.save_for_backward(a, out)
        ctx.ord, ctx.axis, ctx.keepdims = ord, axis, keepdims
        if keepdims:
            return out
        return out.reshape(()) if axis is None else np.squeeze(out, axis)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        a, out = ctx.saved
        ord = ctx.ord
        g = _expand_reduced(grad, ctx.axis, ctx.keepdims)
        if ord == 0:
            return np.zeros_like(a)
        sign = np.sign(a)
        if ord in (np.inf, -np.inf):
            mask = np.abs(a) == out
            return (sign * mask * (g / mask.sum(axis=ctx.axis, keepdims=True))).astype(a.dtype)
        if ord == 1:
            return (sign * g).astype(a.dtype)
        with np.errstate(divide="ignore", invalid="ignore"):
            if ord == 2:
                scaled = a / out
            else:
                scaled = sign * (np.abs(a) / out) ** (ord - 1)
        return np.where((out == 0) | (a == 0), 0, scaled * g).astype(a.dtype)


class SingularValues(Primitive):
    """Singular values of the last two dims, descending (torch.linalg.svdvals); the gradient
    is U diag(g) V^T (well defined where the singular values are distinct)."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        u, s, vh = np.linalg.svd(a, full_matrices=False)
        ctx.save_for_backward(u, vh)
        return s

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        if not isinstance(grad, np.ndarray):  # create_graph=True: U, V recomputed from A
            from minigrad.ops.decomposition import svd_factors

            u, _, vh = svd_factors(ctx.graph_inputs[0])
            return (u * grad.unsqueeze(-2)) @ vh
        u, vh = ctx.saved
        return (u * grad[..., None, :]) @ vh
