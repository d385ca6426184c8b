"""Normalisation primitive: ``(x - mean) / sqrt(var + eps)`` over some axes, in one node.

Composed from Tensor operations the same expression records about eight nodes, each with its
own pass over the data forward and backward; layer_norm on (64, 128, 256) float32 went from
134 ms to about half of that with this primitive (forward and backward, one thread). The
affine ``* weight + bias`` of the layers stays composed (two cheap broadcasts).
"""

from __future__ import annotations

import numpy as np

from minigrad.autograd.engine import Context, Primitive


class Normalize(Primitive):
    """x -> (x - mean(x)) / sqrt(var(x) + eps), mean and biased variance over ``axes``."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, axes: tuple[int, ...], eps: float) -> np.ndarray:
        mean = x.mean(axis=axes, keepdims=True)
        centered = x - mean
        var = np.mean(np.square(centered), axis=axes, keepdims=True)
        inv_std = 1.0 / np.sqrt(var + np.asarray(eps, dtype=x.dtype))
        out = centered
        out *= inv_std
        ctx.axes, ctx.eps = axes, eps
        ctx.save_for_backward(out, inv_std)
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        out, inv_std = ctx.saved
        axes = ctx.axes
        if not isinstance(grad, np.ndarray):  # create_graph=True: 1/std as a function of x
            x = ctx.graph_inputs[0]
            centered = x - x.mean(dim=axes, keepdim=True)
            inv_std = ((centered * centered).mean(dim=axes, keepdim=True) + ctx.eps).rsqrt()
        # d/dx of x̂: (g - mean(g) - x̂ * mean(g * x̂)) / std
        mean_grad = grad.mean(axis=axes, keepdims=True)
        mean_projection = np.mean(grad * out, axis=axes, keepdims=True)
        result = grad - mean_grad
        result -= out * mean_projection
        result *= inv_std
        return result
