"""Primitives on matrices (the last two dims): inverse, determinant, solve, and the SVD's
factors (for second derivatives of the ops whose gradient is written from them)."""

from __future__ import annotations

from typing import Any

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
        if not isinstance(grad, (np.ndarray, np.generic)):  # create_graph=True
            return _determinant_backward_on_tensors(a, grad)
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
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        a, out = ctx.saved
        if not isinstance(grad, np.ndarray):  # create_graph=True: the same solve, as an op
            grad_b = Solve.apply(a.transpose(-1, -2), grad)
            return (-(grad_b @ out.transpose(-1, -2)) if ctx.needs_input_grad[0] else None,
                    grad_b)
        grad_b = np.linalg.solve(_transpose(a), grad)
        grad_a = -(grad_b @ _transpose(out)) if ctx.needs_input_grad[0] else None
        return grad_a, grad_b


class SVDFactors(Primitive):
    """(..., m, n) -> U (..., m, k), S (..., k), Vh (..., k, n) of the reduced SVD (k =
    min(m, n)), packed side by side in one last dim (``svd_factors`` unpacks them). The
    gradient is the reduced SVD's (as PyTorch's), well defined for distinct singular values
    (and non-zero ones when m != n) and for losses that do not depend on the signs of the
    singular vectors. Its backward runs on ndarrays only: it gives the second derivatives of
    the ops whose gradients are written from U, S and V (svdvals, det)."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        u, s, vh = np.linalg.svd(a, full_matrices=False)
        ctx.save_for_backward(u, s, vh)
        batch = a.shape[:-2]
        return np.concatenate([u.reshape(batch + (-1,)), s, vh.reshape(batch + (-1,))], -1)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        u, s, vh = ctx.saved
        (m, k), n = u.shape[-2:], vh.shape[-1]
        batch = u.shape[:-2]
        grad_u = grad[..., : m * k].reshape(batch + (m, k))
        grad_s = grad[..., m * k : m * k + k]
        grad_vh = grad[..., m * k + k :].reshape(batch + (k, n))
        u_t, v = _transpose(u), _transpose(vh)
        uhgu = u_t @ grad_u
        uhgu = uhgu - _transpose(uhgu)
        vhgv = vh @ _transpose(grad_vh)
        vhgv = vhgv - _transpose(vhgv)
        squares = s * s
        gaps = squares[..., None, :] - squares[..., :, None]  # s_j^2 - s_i^2
        eye = np.eye(k, dtype=bool)
        gaps = np.where(eye, 1, gaps)
        inner = (uhgu * s[..., None, :] + s[..., :, None] * vhgv) / gaps
        inner = inner + np.where(eye, grad_s[..., :, None], 0)
        if m > k:  # the part of grad_u outside U's span
            scaled = grad_u / s[..., None, :]
            return (u @ inner + scaled - u @ (u_t @ scaled)) @ vh
        if n > k:
            scaled = grad_vh / s[..., :, None]
            return u @ (inner @ vh + scaled - (scaled @ v) @ vh)
        return u @ inner @ vh


def svd_factors(a: Any) -> tuple[Any, Any, Any]:
    """U, S, Vh of a Tensor (..., m, n) as graph Tensors (slices of one SVDFactors node)."""
    m, n = a.shape[-2:]
    k = min(m, n)
    batch = tuple(a.shape[:-2])
    packed = SVDFactors.apply(a)
    return (packed[..., : m * k].reshape(batch + (m, k)), packed[..., m * k : m * k + k],
            packed[..., m * k + k :].reshape(batch + (k, n)))


def _determinant_backward_on_tensors(a: Any, grad: Any) -> Any:
    """Determinant's backward on Tensors: the cofactor matrix from the SVD factors of the
    input as graph Tensors (the signs det(U) det(V) are locally constant)."""
    from minigrad.ops.reduce import _products_of_others_on_tensors
    from minigrad.tensor import _wrap

    u, s, vh = svd_factors(a)
    signs = np.linalg.det(u._data) * np.linalg.det(vh._data)
    cofactor = (u * _products_of_others_on_tensors(s).unsqueeze(-2)) @ vh
    return (grad * _wrap(np.asarray(signs, dtype=a._data.dtype))).unsqueeze(-1).unsqueeze(
        -1) * cofactor
