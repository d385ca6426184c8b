"""Matrix multiplication with PyTorch's (and NumPy's) rules for 1-D, 2-D and batched inputs."""

from __future__ import annotations

import numpy as np

from minigrad.autograd.engine import Context, Primitive


class MatMul(Primitive):
    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(a, b)
        return np.asarray(np.matmul(a, b))

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        a, b = ctx.saved
        need_a, need_b = ctx.needs_input_grad
        # treat 1-D operands as the matrices matmul promoted them to
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g = grad
        # b's axis first: for vector @ vector the gradient is 0-d and needs both axes back
        if b.ndim == 1:
            g = np.expand_dims(g, -1)
        if a.ndim == 1:
            g = np.expand_dims(g, -2)
        grad_a = grad_b = None
        if need_a:
            grad_a = np.matmul(g, np.swapaxes(b2, -1, -2))
            if a.ndim == 1:
                grad_a = grad_a.reshape(-1, a.shape[0]).sum(axis=0)
        if need_b:
            grad_b = np.matmul(np.swapaxes(a2, -1, -2), g)
            if b.ndim == 1:
                grad_b = grad_b.reshape(-1, b.shape[0]).sum(axis=0)
        return grad_a, grad_b
