"""``parameters_to_vector`` and ``vector_to_parameters`` (as ``torch.nn.utils``)."""

from __future__ import annotations

from collections.abc import Iterable

import minigrad
from minigrad.errors import OpError
from minigrad.tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and concatenated into one 1-D tensor (differentiable)."""
    return minigrad.cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of ``vec`` into the parameters, in place."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected Tensor, but got: {type(vec).__name__}")
    params = list(parameters)
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.shape[0] != total:
        raise OpError(
            f"vector_to_parameters: vec of shape {vec.shape} must be 1-D with {total} elements "
            "(the parameters' total)"
        )
    offset = 0
    for p in params:
        n = p.numel()
        p._data[...] = vec._data[offset:offset + n].reshape(p.shape)
        p._version.value += 1
        offset += n
