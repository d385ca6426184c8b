"""minigrad.linalg: norms (norm, vector_norm, matrix_norm, svdvals), inv, det and solve."""

from __future__ import annotations

import numpy as np

from minigrad.api.reductions import linalg_norm as norm
from minigrad.api.reductions import matrix_norm, vector_norm
from minigrad.errors import OpError
from minigrad.ops.decomposition import Determinant, Inverse, Solve
from minigrad.ops.norms import SingularValues
from minigrad.tensor import Tensor

__all__ = ["norm", "vector_norm", "matrix_norm", "svdvals", "inv", "det", "solve"]


def svdvals(A: Tensor) -> Tensor:
    """Singular values of the last two dims, descending: (..., m, n) -> (..., min(m, n))."""
    if A.ndim < 2 or A._data.dtype.kind != "f":
        raise ValueError(
            f"linalg.svdvals: expected a floating point tensor of at least 2 dimensions, got "
            f"shape {A.shape} and dtype {A._data.dtype}"
        )
    return SingularValues.apply(A)


def _square(A: Tensor, op_name: str) -> None:
    if A.ndim < 2 or A.shape[-1] != A.shape[-2] or A._data.dtype.kind != "f":
        raise OpError(
            f"linalg.{op_name}: A must be a batch of square floating point matrices (shape "
            f"(*, n, n)), got shape {tuple(A.shape)} and dtype {A._data.dtype}"
        )


def inv(A: Tensor) -> Tensor:
    """The inverse of each square matrix: (*, n, n) -> (*, n, n); singular matrices raise."""
    _square(A, "inv")
    try:
        return Inverse.apply(A)
    except np.linalg.LinAlgError:
        raise OpError(
            "linalg.inv: the matrix is singular (not invertible); check it, or use "
            "linalg.pinv-style least squares instead"
        ) from None


def det(A: Tensor) -> Tensor:
    """The determinant of each square matrix: (*, n, n) -> (*); differentiable for singular
    matrices too."""
    _square(A, "det")
    return Determinant.apply(A)


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """X with A X = B (``left=False``: X A = B); A ``(*, n, n)``, B ``(*, n, k)`` or a batch of
    vectors ``(*, n)`` (when B is 1-D or B.shape == A.shape[:-1])."""
    _square(A, "solve")
    if not left:
        return solve(A.mT, B.mT).mT
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    rhs = B.unsqueeze(-1) if vector else B
    if rhs.shape[-2] != A.shape[-1]:
        raise OpError(
            f"linalg.solve: A of shape {tuple(A.shape)} and B of shape {tuple(B.shape)} do not "
            f"fit: B needs {A.shape[-1]} rows"
        )
    A_, rhs = A._operands(rhs, "linalg.solve")
    batch = np.broadcast_shapes(A_.shape[:-2], rhs.shape[:-2])
    A_ = A_.broadcast_to(batch + tuple(A_.shape[-2:]))
    rhs = rhs.broadcast_to(batch + tuple(rhs.shape[-2:]))
    try:
        out = Solve.apply(A_, rhs)
    except np.linalg.LinAlgError:
        raise OpError("linalg.solve: the matrix A is singular; the system has no unique "
                      "solution") from None
    return out.squeeze(-1) if vector else out
