"""Tensor methods and torch-level functions of the square-matrix ops of minigrad.linalg."""

from __future__ import annotations

from minigrad.declare import op
from minigrad.tensor import Tensor


@op()
def det(input: Tensor) -> Tensor:
    """The determinant of each square matrix: (*, n, n) -> (*) (minigrad.linalg.det)."""
    from minigrad.linalg import det as linalg_det

    return linalg_det(input)


@op()
def inverse(input: Tensor) -> Tensor:
    """The inverse of each square matrix (minigrad.linalg.inv)."""
    from minigrad.linalg import inv

    return inv(input)
