"""embedding and embedding_bag with PyTorch's signatures (lookups of weight rows by index)."""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.errors import OpError
from minigrad.ops.embedding import EmbeddingBag, EmbeddingLookup
from minigrad.tensor import Tensor

__all__ = ["embedding", "embedding_bag"]


def _indices(input: Any, num_rows: int, op: str) -> np.ndarray:
    indices = np.asarray(input._data if isinstance(input, Tensor) else input)
    if indices.dtype.kind not in "iu":
        raise OpError(
            f"{op}: expected indices of dtype int64 or int32, got {indices.dtype}; use "
            "input.long()"
        )
    if indices.size and (indices.min() < 0 or indices.max() >= num_rows):
        bad = indices[(indices < 0) | (indices >= num_rows)].reshape(-1)[0]
        raise IndexError(
            f"{op}: index {int(bad)} is out of range for a weight of {num_rows} rows "
            f"(valid: 0 to {num_rows - 1})"
        )
    return indices.astype(np.intp, copy=False)


def _padding_index(padding_idx: int | None, num_rows: int, op: str) -> int:
    """PyTorch's normalisation: negative counts from the end; None becomes -1 (no padding)."""
    if padding_idx is None:
        return -1
    if not -num_rows <= padding_idx < num_rows:
        raise ValueError(
            f"{op}: padding_idx {padding_idx} must be within num_embeddings ({num_rows})"
        )
    return padding_idx + num_rows if padding_idx < 0 else padding_idx


def _check_weight(weight: Tensor, op: str) -> None:
    if weight.ndim != 2:
        raise ValueError(
            f"{op}: weight has to be a 2D Tensor (num_embeddings, embedding_dim), but got "
            f"shape {weight.shape}"
        )


def embedding_renorm_(weight: Tensor, indices: np.ndarray, max_norm: float,
                      norm_type: float) -> None:
    """Scale, in place and outside the graph, each referenced row whose ``norm_type``-norm
    exceeds ``max_norm`` down to norm ``max_norm`` (PyTorch's 1e-7 guard included)."""
    rows = np.unique(indices)
    data = weight._data
    norms = np.linalg.norm(data[rows].astype(np.float64), ord=norm_type, axis=1)
    over = norms > max_norm
    if over.any():
        scale = max_norm / (norms[over] + 1e-7)
        data[rows[over]] *= scale[:, None].astype(data.dtype)
        weight._version.value += 1


def embedding(
    input: Tensor,
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """Rows of ``weight`` (V, D) at integer ``input`` ``(*)`` -> ``(*, D)``. The row ``padding_idx``
    gets no gradient; ``max_norm`` renormalises the looked-up rows of weight in place."""
    _check_weight(weight, "embedding")
    indices = _indices(input, weight.shape[0], "embedding")
    padding = _padding_index(padding_idx, weight.shape[0], "embedding")
    if max_norm is not None:
        embedding_renorm_(weight, indices, max_norm, norm_type)
    return EmbeddingLookup.apply(weight, indices=indices, padding_idx=padding,
                                 scale_grad_by_freq=scale_grad_by_freq)


def embedding_bag(
    input: Tensor,
    weight: Tensor,
    offsets: Tensor | None = None,
    max_norm: float | None = None,
    norm_type: float = 2,
    scale_grad_by_freq: bool = False,
    mode: str = "mean",
    sparse: bool = False,
    per_sample_weights: Tensor | None = None,
    include_last_offset: bool = False,
    padding_idx: int | None = None,
) -> Tensor:
    """Sum, mean or max of the embeddings of each bag -> (B, D). Bags are the rows of a 2-D
    ``input`` (B, L), or the runs of a 1-D ``input`` starting at ``offsets`` (B,)."""
    _check_weight(weight, "embedding_bag")
    input_shape = tuple(np.shape(input._data if isinstance(input, Tensor) else input))
    if per_sample_weights is not None and per_sample_weights.shape != input_shape:
        raise ValueError(
            f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) is not None, "
            f"then it must have the same shape as the input ({input_shape})"
        )
    indices = _indices(input, weight.shape[0], "embedding_bag")
    if indices.ndim == 2:
        if offsets is not None:
            raise ValueError(
                "embedding_bag: if input is 2D, then offsets has to be None, as input is "
                "treated as a mini-batch of fixed length sequences"
            )
        num_bags, length = indices.shape
        bag_of = np.repeat(np.arange(num_bags), length)
        valid = np.ones(indices.size, dtype=bool)
        indices = indices.reshape(-1)
    elif indices.ndim == 1:
        if offsets is None:
            raise ValueError("embedding_bag: offsets has to be a 1D Tensor but got None")
        starts = np.asarray(offsets._data if isinstance(offsets, Tensor) else offsets)
        if starts.ndim != 1:
            raise ValueError(f"embedding_bag: offsets has to be a 1D Tensor, got {starts.shape}")
        if starts.size and starts[0] != 0:
            raise OpError(
                f"embedding_bag: offsets[0] has to be 0, i.e., the first sequence in the "
                f"mini-batch has to start from position 0. However, got {int(starts[0])}"
            )
        if np.any(np.diff(starts) < 0) or (starts.size and starts[-1] > indices.size):
            raise OpError(
                f"embedding_bag: offsets {starts.tolist()} must be non-decreasing and at most "
                f"the input size {indices.size}"
            )
        num_bags = starts.size - 1 if include_last_offset else starts.size
        bag_of = np.searchsorted(starts, np.arange(indices.size), side="right") - 1
        valid = np.ones(indices.size, dtype=bool)
        if include_last_offset and starts.size:
            valid &= np.arange(indices.size) < starts[-1]
        bag_of = np.minimum(bag_of, max(num_bags - 1, 0))
    else:
        raise ValueError(
            f"embedding_bag: input has to be 1D or 2D Tensor, but got Tensor of dimension "
            f"{indices.ndim}"
        )
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"embedding_bag: mode has to be one of sum, mean or max, got {mode!r}")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError(
            "embedding_bag: max mode does not support scaling the gradient by the frequency")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
            f"supported for mode='sum' (got mode='{mode}')"
        )
    padding = _padding_index(padding_idx, weight.shape[0], "embedding_bag")
    if padding >= 0:
        valid &= indices != padding
    if max_norm is not None:
        embedding_renorm_(weight, indices, max_norm, norm_type)
    extra = () if per_sample_weights is None else (per_sample_weights.reshape(-1),)
    return EmbeddingBag.apply(
        weight, *extra, indices=indices, bag_of=bag_of, valid=valid, num_bags=num_bags,
        mode=mode, scale_grad_by_freq=scale_grad_by_freq,
    )
