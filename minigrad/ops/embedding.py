"""Embedding primitives: row lookup, and lookup followed by a sum/mean/max over bags.

The indices are attributes (integer arrays), not graph inputs: only the weight (and the
per-sample weights of a bag sum) get gradients. Gradients scatter into the rows with
``np.add.at``, so repeated indices accumulate.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.autograd.engine import Context, Primitive


def _frequency_scale(indices: np.ndarray, num_rows: int) -> np.ndarray:
    """1 / (how often each entry's index occurs in ``indices``), per entry."""
    counts = np.bincount(indices.reshape(-1), minlength=num_rows)
    return 1.0 / counts[indices.reshape(-1)]


def _lookup_adjoint(ctx: Context, weight: np.ndarray) -> np.ndarray:
    """The map EmbeddingLookup's backward transposes: the rows at the indices, 0 for the
    padding row. Not scaled by scale_grad_by_freq (as in PyTorch): the lookup's own backward
    scales already, and the second derivative must count the scale once to be exact."""
    rows = ctx.indices.reshape(-1)
    picked = weight[rows]
    if ctx.padding_idx >= 0:
        picked = np.where((rows == ctx.padding_idx)[:, None], 0, picked).astype(weight.dtype)
    return picked.reshape(ctx.indices.shape + weight.shape[1:])


class EmbeddingLookup(Primitive):
    """weight (V, D), indices (*) -> (*, D); no gradient to the row ``padding_idx``."""

    @staticmethod
    def forward(ctx: Context, weight: np.ndarray, indices: np.ndarray, padding_idx: int,
                scale_grad_by_freq: bool) -> np.ndarray:
        ctx.indices, ctx.padding_idx, ctx.scale = indices, padding_idx, scale_grad_by_freq
        ctx.weight_shape = weight.shape
        return weight[indices]

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        if not isinstance(grad, np.ndarray):  # create_graph=True: the adjoint of the lookup
            from minigrad.autograd.higher_order import linear_backward

            return linear_backward(EmbeddingLookup, ctx, grad, _lookup_adjoint)
        rows = ctx.indices.reshape(-1)
        grad_rows = grad.reshape(rows.size, -1)
        if ctx.scale:
            grad_rows = grad_rows * _frequency_scale(rows, ctx.weight_shape[0])[:, None].astype(
                grad.dtype)
        grad_weight = np.zeros(ctx.weight_shape, dtype=grad.dtype)
        np.add.at(grad_weight, rows, grad_rows)
        if ctx.padding_idx >= 0:
            grad_weight[ctx.padding_idx] = 0
        return grad_weight


class EmbeddingBag(Primitive):
    """weight (V, D) [, per_sample_weights (n,)] -> (B, D): the rows of ``indices`` (n,)
    reduced per bag ``bag_of`` (n,) (sorted bag numbers); entries equal to ``padding_idx``
    (or marked ``False`` in ``valid``) take no part; an empty bag gives zeros."""

    @staticmethod
    def forward(ctx: Context, weight: np.ndarray, *per_sample_weights: np.ndarray,
                indices: np.ndarray, bag_of: np.ndarray, valid: np.ndarray, num_bags: int,
                mode: str, scale_grad_by_freq: bool) -> np.ndarray:
        rows, bags = indices[valid], bag_of[valid]
        values = weight[rows]
        sample_weights = per_sample_weights[0][valid] if per_sample_weights else None
        if sample_weights is not None:
            values = values * sample_weights[:, None]
        counts = np.bincount(bags, minlength=num_bags)
        filled = counts > 0
        starts = np.searchsorted(bags, np.arange(num_bags))[filled]
        out = np.zeros((num_bags, weight.shape[1]), dtype=weight.dtype)
        ctx.rows, ctx.bags, ctx.valid, ctx.counts = rows, bags, valid, counts
        ctx.mode, ctx.weight_shape, ctx.scale = mode, weight.shape, scale_grad_by_freq
        ctx.all_indices = indices
        if rows.size == 0:
            ctx.save_for_backward(weight, sample_weights)
            return out
        if mode == "max":
            best = np.maximum.reduceat(values, starts, axis=0)
            out[filled] = best
            # the first position reaching the maximum, per (bag, column), as PyTorch picks
            positions = np.where(values == best[np.cumsum(filled)[bags] - 1],
                                 np.arange(rows.size)[:, None], rows.size)
            ctx.argmax = np.minimum.reduceat(positions, starts, axis=0)
            ctx.filled = filled
        else:
            out[filled] = np.add.reduceat(values, starts, axis=0)
            if mode == "mean":
                out[filled] /= counts[filled][:, None]
        ctx.save_for_backward(weight, sample_weights)
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray
                 ) -> np.ndarray | tuple[np.ndarray | None, ...] | None:
        if not isinstance(grad, np.ndarray):  # create_graph=True
            return _embedding_bag_backward_on_tensors(ctx, grad)
        weight, sample_weights = ctx.saved
        rows, bags = ctx.rows, ctx.bags
        grad_weight = np.zeros(ctx.weight_shape, dtype=grad.dtype)
        grads: list[np.ndarray | None]
        if rows.size == 0:
            grads = [grad_weight]
            if sample_weights is not None:
                grads.append(np.zeros(ctx.valid.shape, dtype=grad.dtype))
            return tuple(grads)
        if ctx.mode == "max":
            columns = np.broadcast_to(np.arange(grad.shape[1]), ctx.argmax.shape)
            np.add.at(grad_weight, (rows[ctx.argmax], columns), grad[ctx.filled])
            return grad_weight
        grad_values = grad[bags]
        if ctx.mode == "mean":
            grad_values = grad_values / ctx.counts[bags][:, None].astype(grad.dtype)
        grads = []
        grad_rows = grad_values if sample_weights is None else grad_values * sample_weights[:, None]
        if ctx.scale:
            scale = _frequency_scale(ctx.all_indices, ctx.weight_shape[0])[ctx.valid]
            grad_rows = grad_rows * scale[:, None].astype(grad.dtype)
        if ctx.needs_input_grad[0]:
            np.add.at(grad_weight, rows, grad_rows)
            grads.append(grad_weight)
        else:
            grads.append(None)
        if sample_weights is not None:
            grad_samples = np.zeros(ctx.valid.shape, dtype=grad.dtype)
            if ctx.needs_input_grad[1]:
                grad_samples[ctx.valid] = (grad_values * weight[rows]).sum(axis=1)
            grads.append(grad_samples)
        return tuple(grads) if len(grads) > 1 else grads[0]


def _embedding_bag_backward_on_tensors(ctx: Context, grad: Any) -> Any:
    """EmbeddingBag's backward on Tensors: the same scatters into the rows as graph ops, with
    the weight and the per-sample weights as the graph Tensors they are (so the gradient of
    the per-sample weights depends on the weight, and the other way round)."""
    from minigrad.autograd.higher_order import scatter_add_into
    from minigrad.tensor import _wrap

    if ctx.scale:
        # the scaled gradient is no derivative of the output; the lookup's trick (scaling on
        # one side of the second derivative only) is exact only without bags
        raise RuntimeError(
            "EmbeddingBagBackward: differentiating the gradient of embedding_bag with "
            "scale_grad_by_freq=True (create_graph=True) is not supported; pass "
            "scale_grad_by_freq=False, or use embedding() and reduce the bags yourself"
        )
    weight = ctx.graph_inputs[0]
    samples = ctx.graph_inputs[1] if len(ctx.graph_inputs) > 1 else None
    rows, bags, dtype = ctx.rows, ctx.bags, weight._data.dtype
    need_weight = ctx.needs_input_grad[0]
    need_samples = samples is not None and ctx.needs_input_grad[1]
    if rows.size == 0:
        grads = [_wrap(np.zeros(ctx.weight_shape, dtype))]
        if samples is not None:
            grads.append(_wrap(np.zeros(ctx.valid.shape, dtype)))
        return tuple(grads) if len(grads) > 1 else grads[0]
    if ctx.mode == "max":  # a scatter to each maximum: linear, the positions are constants
        columns = np.broadcast_to(np.arange(grad.shape[1]), ctx.argmax.shape)
        return scatter_add_into(ctx.weight_shape, (rows[ctx.argmax], columns), grad[ctx.filled])
    grad_values = grad[bags]
    if ctx.mode == "mean":
        grad_values = grad_values * _wrap((1 / ctx.counts[bags][:, None]).astype(dtype))
    grad_rows = grad_values
    if samples is not None:
        grad_rows = grad_rows * samples[ctx.valid].unsqueeze(-1)
    grad_weight = scatter_add_into(ctx.weight_shape, rows, grad_rows) if need_weight else None
    if samples is None:
        return grad_weight
    grad_samples = None
    if need_samples:
        grad_samples = scatter_add_into(ctx.valid.shape, np.flatnonzero(ctx.valid),
                                        (grad_values * weight[rows]).sum(1))
    return grad_weight, grad_samples
