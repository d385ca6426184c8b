"""Pairwise distances: cdist's direct (difference-based) p-norm, forward and backward."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

import numpy as np

from minigrad.autograd.engine import Context, Primitive

if TYPE_CHECKING:
    from minigrad.tensor import Tensor

# the differences are taken of arrays (forward, backward) and of Tensors (create_graph=True)
_ArrayOrTensor = TypeVar("_ArrayOrTensor", np.ndarray, "Tensor")


def _differences(x1: _ArrayOrTensor, x2: _ArrayOrTensor) -> _ArrayOrTensor:
    """(..., P, M) and (..., R, M) -> (..., P, R, M) differences x1[p] - x2[r]."""
    return x1[..., :, None, :] - x2[..., None, :, :]


def _norm(diff: np.ndarray, p: float) -> np.ndarray:
    absolute = np.abs(diff)
    if p == 0:
        return (diff != 0).sum(-1).astype(diff.dtype)
    if p == 1:
        return absolute.sum(-1)
    if p == 2:
        return np.sqrt((diff * diff).sum(-1))
    if np.isinf(p):
        if diff.shape[-1] == 0:
            return np.zeros(diff.shape[:-1], diff.dtype)
        return absolute.max(-1)
    return (absolute**p).sum(-1) ** (1.0 / p)


class Cdist(Primitive):
    """(..., P, M), (..., R, M) -> (..., P, R): the p-norm of every difference x1[p] - x2[r].

    The backward follows PyTorch's rules where the norm has no derivative: a zero distance
    gives a zero gradient (p > 0), p = 0 gives none, p < 1 gives none to equal coordinates,
    and p = inf sends the full gradient to every coordinate that attains the maximum."""

    @staticmethod
    def forward(ctx: Context, x1: np.ndarray, x2: np.ndarray, p: float) -> np.ndarray:
        dist = _norm(_differences(x1, x2), p)
        ctx.save_for_backward(x1, x2, dist)
        ctx.p = p
        return dist

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        if not isinstance(grad, np.ndarray):  # create_graph=True
            return _cdist_backward_on_tensors(ctx, grad)
        x1, x2, dist = ctx.saved
        p = ctx.p
        diff = _differences(x1, x2)
        g, d = grad[..., None], dist[..., None]
        with np.errstate(divide="ignore", invalid="ignore"):
            if p == 0:
                pair = np.zeros_like(diff)
            elif p == 1:
                pair = np.sign(diff) * g
            elif p == 2:
                pair = np.where(d == 0, 0.0, diff * g / d)
            elif np.isinf(p):
                pair = np.sign(diff) * (np.abs(diff) == d) * g
            else:
                absolute = np.abs(diff)
                if p < 2:
                    pair = np.sign(diff) * absolute ** (p - 1) * g / d ** (p - 1)
                    pair = np.where((d == 0) | ((diff == 0) & (p < 1)), 0.0, pair)
                else:
                    pair = np.where(d == 0, 0.0, diff * absolute ** (p - 2) * g / d ** (p - 1))
        pair = pair.astype(diff.dtype, copy=False)
        grad1 = pair.sum(-2) if ctx.needs_input_grad[0] else None
        grad2 = -pair.sum(-3) if ctx.needs_input_grad[1] else None
        return grad1, grad2


def _cdist_backward_on_tensors(ctx: Context, grad: Tensor) -> tuple[Tensor | None, ...]:
    """Cdist's backward on Tensors: the same per-pair formulas as graph ops, the masks (zero
    distances, equal coordinates, the coordinates attaining an inf-norm) as constants, and
    every value a masked branch could divide by replaced by 1 there so that no NaN enters the
    second derivative. Where a coordinate of x1 and x2 agree exactly the second derivative
    there is taken as 0 (for 1 < p < 2 it is infinite)."""
    from minigrad.tensor import _wrap, where

    x1: Tensor
    x2: Tensor
    x1, x2 = ctx.graph_inputs[:2]
    dist: Tensor = ctx.saved[2]  # the output, as a graph Tensor
    p = ctx.p
    diff = _differences(x1, x2)
    diff_array = diff._data
    g, d = grad.unsqueeze(-1), dist.unsqueeze(-1)
    zero_distance = d._data == 0
    safe_d = where(zero_distance, 1.0, d)
    if p == 0:
        pair = _wrap(np.zeros_like(diff_array))
    elif p == 1:
        pair = _wrap(np.sign(diff_array)) * g
    elif p == 2:
        pair = where(zero_distance, 0.0, diff * g / safe_d)
    elif np.isinf(p):
        attains = np.abs(diff_array) == d._data
        pair = _wrap((np.sign(diff_array) * attains).astype(diff_array.dtype)) * g
    else:
        equal = diff_array == 0
        absolute = where(equal, 1.0, diff.abs())
        if p < 2:
            pair = _wrap(np.sign(diff_array)) * absolute ** (p - 1) * g / safe_d ** (p - 1)
        else:
            pair = diff * absolute ** (p - 2) * g / safe_d ** (p - 1)
        pair = where(zero_distance | equal, 0.0, pair)
    grad1 = pair.sum(-2) if ctx.needs_input_grad[0] else None
    grad2 = -pair.sum(-3) if ctx.needs_input_grad[1] else None
    return grad1, grad2
