"""Gradient clipping: ``clip_grad_norm_`` and ``clip_grad_value_`` (as ``torch.nn.utils``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from minigrad.tensor import Tensor, _wrap

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]


def _tensors(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def _norm(array: np.ndarray, norm_type: float) -> np.floating:
    flat = np.abs(array.reshape(-1)).astype(np.float64 if array.dtype == np.float64 else
                                            array.dtype)
    if norm_type == float("inf"):
        return flat.max() if flat.size else flat.dtype.type(0)
    if norm_type == float("-inf"):
        return flat.min() if flat.size else flat.dtype.type(0)
    if norm_type == 0:
        return flat.dtype.type(np.count_nonzero(flat))
    if norm_type == 2:
        return np.sqrt(np.dot(flat, flat))
    return (flat**norm_type).sum() ** (1.0 / norm_type)


def get_total_norm(tensors: Tensor | Iterable[Tensor], norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach: Any = None) -> Tensor:
    """The norm of the norms of ``tensors`` (as if all were concatenated into one vector)."""
    arrays = [t._data for t in _tensors(tensors) if t is not None]
    norm_type = float(norm_type)
    if not arrays:
        return _wrap(np.asarray(0.0, dtype=np.float32))
    norms = np.array([_norm(a, norm_type) for a in arrays])
    dtype = np.result_type(*[a.dtype for a in arrays])
    total = _norm(norms, norm_type).astype(dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            "non-finite, so it cannot be clipped. To disable this error and scale the "
            "gradients by the non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    return _wrap(np.asarray(total))


def clip_grads_with_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                          total_norm: Tensor, foreach: Any = None) -> None:
    """Scale the gradients by max_norm / (total_norm + 1e-6) where that is below 1."""
    coefficient = float(max_norm) / (float(total_norm._data) + 1e-6)
    if coefficient >= 1.0:
        return
    for p in _tensors(parameters):
        if p.grad is not None:
            # a non-finite norm scales by 0 and turns infinities into NaN, as in PyTorch
            with np.errstate(invalid="ignore"):
                p.grad._data *= np.asarray(coefficient, dtype=p.grad._data.dtype)
            p.grad._version.value += 1


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach: Any = None) -> Tensor:
    """Scale all gradients together so that their total ``norm_type`` norm is at most
    ``max_norm``; returns the total norm before clipping."""
    params = _tensors(parameters)
    grads = [p.grad for p in params if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    clip_grads_with_norm_(params, max_norm, total)
    return total


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float,
                     foreach: Any = None) -> None:
    """Clamp every gradient element into [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    for p in _tensors(parameters):
        if p.grad is not None:
            np.clip(p.grad._data, -clip_value, clip_value, out=p.grad._data)
            p.grad._version.value += 1
