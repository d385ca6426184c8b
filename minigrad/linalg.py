"""minigrad.linalg: the norms of torch.linalg (norm, vector_norm, matrix_norm, svdvals)."""

from __future__ import annotations

from minigrad.api.reductions import linalg_norm as norm
from minigrad.api.reductions import matrix_norm, vector_norm
from minigrad.ops.norms import SingularValues
from minigrad.tensor import Tensor

__all__ = ["norm", "vector_norm", "matrix_norm", "svdvals"]


def svdvals(A: Tensor) -> Tensor:
    """Singular values of the last two dims, descending: (..., m, n) -> (..., min(m, n))."""
    if A.ndim < 2 or A._data.dtype.kind != "f":
        raise ValueError(
            f"linalg.svdvals: expected a floating point tensor of at least 2 dimensions, got "
            f"shape {A.shape} and dtype {A._data.dtype}"
        )
    return SingularValues.apply(A)
