"""Primitives on square matrices (the last two dims): inverse, determinant, solve."""

from __future__ import annotations

import numpy as np

from minigrad.autograd.engine import Context, Primitive
from minigrad.ops.reduce import _products_of_others


def _transpose(a: np.ndarray) -> np.ndarray:
    return np.swapaxes(a, -1, -2)


class Inverse(Primitive):
    """A^-1; d(A^-1) = -A^-1 dA A^-1, so grad_A = -A^-T grad A^-T."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        out = np.linalg.inv(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        (inverse,) = ctx.saved
        inverse_t = _transpose(inverse)
        return -(inverse_t @ grad @ inverse_t)


class Determinant(Primitive):
    """det(A); its gradient is the cofactor matrix, computed from the SVD (A = U S V^T gives
    cofactor = det(U) det(V) U diag(prod_{j != i} s_j) V^T), so it stays exact for singular
    matrices where det(A) A^-T would divide by zero."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(a)
        return np.asarray(np.linalg.det(a))

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        (a,) = ctx.saved
        u, s, vh = np.linalg.svd(a)
        signs = np.linalg.det(u) * np.linalg.det(vh)
        cofactor = (u * _products_of_others(s)[..., None, :]) @ vh
        return (np.asarray(grad * signs)[..., None, None] * cofactor).astype(a.dtype)


class Solve(Primitive):
    """X = A^-1 B for (..., n, n) A and (..., n, k) B; grad_B = A^-T grad, grad_A = -grad_B X^T."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        out = np.linalg.solve(a, b)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        a, out = ctx.saved
        grad_b = np.linalg.solve(_transpose(a), grad)
        grad_a = -(grad_b @ _transpose(out)) if ctx.needs_input_grad[0] else None
        return grad_a, grad_b
