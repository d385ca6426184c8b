"""``nn.functional.ctc_loss``: the connectionist temporal classification loss with PyTorch's
arguments, checks, reductions and gradient (the recursions are in ``minigrad/ops/ctc.py``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.errors import OpError
from minigrad.ops.ctc import CTCNegLogLikelihood
from minigrad.tensor import Tensor, _wrap

__all__ = ["ctc_loss"]

_WHERE = "(while checking arguments for ctc_loss)"


def _lengths(value: Any, name: str) -> np.ndarray:
    if isinstance(value, Tensor):
        if value._data.dtype.kind not in "iu":
            raise OpError(f"ctc_loss: {name} must be integral, got dtype {value.dtype}; pass "
                          f"{name}.long() or a tuple of ints")
        return value._data.reshape(-1).astype(np.int64)
    try:
        lengths = np.asarray(list(value))
    except TypeError:
        raise TypeError(f"ctc_loss(): {name} must be a Tensor or a tuple of ints, not "
                        f"{type(value).__name__}") from None
    if lengths.size and lengths.dtype.kind not in "iu":
        raise TypeError(f"ctc_loss(): {name} must be a tuple of ints, got {list(value)}")
    return lengths.astype(np.int64).reshape(-1)


def _padded_labels(targets: np.ndarray, target_lengths: np.ndarray, batch: int) -> np.ndarray:
    """(N, max target length) labels from padded (N, S) or concatenated 1-D targets; the
    positions past each target's length are left for the caller to mask."""
    longest = int(target_lengths.max()) if batch else 0
    if targets.ndim == 1:
        total = int(target_lengths.sum())
        if targets.shape[0] != total:
            raise OpError(
                f"Expected tensor to have size {total} at dimension 0, but got size "
                f"{targets.shape[0]} for argument #2 'targets' {_WHERE}: concatenated targets "
                "hold sum(target_lengths) labels"
            )
        offsets = np.concatenate([[0], np.cumsum(target_lengths)[:-1]]).astype(np.int64)
        index = offsets[:, None] + np.arange(longest)[None, :]
        return targets[np.minimum(index, max(total - 1, 0))] if total else np.zeros(
            (batch, longest), dtype=np.int64)
    if targets.ndim != 2 or targets.shape[0] != batch:
        raise OpError(f"ctc_loss: targets must be (N, S) padded or 1-D concatenated with N = "
                      f"{batch}, got shape {tuple(targets.shape)}")
    if targets.shape[1] < longest:
        raise OpError(
            f"Expected tensor to have size at least {longest} at dimension 1, but got size "
            f"{targets.shape[1]} for argument #2 'targets' {_WHERE}"
        )
    return targets[:, :longest]


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths: Any, target_lengths: Any,
             blank: int = 0, reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """CTC loss of log-probabilities ``(T, N, C)`` (or unbatched ``(T, C)``) against targets
    ``(N, S)`` padded or 1-D concatenated; ``reduction='mean'`` divides each loss by its
    target length (at least 1) and averages over the batch."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if not isinstance(log_probs, Tensor) or not isinstance(targets, Tensor):
        raise TypeError("ctc_loss(): log_probs and targets must be Tensors")
    if isinstance(input_lengths, Tensor) != isinstance(target_lengths, Tensor):
        raise TypeError(
            "ctc_loss(): input_lengths and target_lengths must both be Tensors or both be "
            f"tuples of ints, got {type(input_lengths).__name__} and "
            f"{type(target_lengths).__name__}"
        )
    if log_probs._data.dtype.kind != "f":
        raise OpError(f"ctc_loss: log_probs must be a floating-point tensor, got "
                      f"{log_probs.dtype}")
    batched = log_probs.ndim == 3
    lp = log_probs if batched else log_probs.unsqueeze(1)
    if lp.ndim != 3:
        raise OpError(
            f"Expected 3-dimensional tensor, but got {lp.ndim}-dimensional tensor for "
            f"argument #1 'log_probs' {_WHERE}: log_probs is (T, N, C) or unbatched (T, C)"
        )
    steps, batch, classes = lp.shape
    if not 0 <= blank < classes:
        raise OpError(f"ctc_loss: blank must be in label range: blank {blank} for "
                      f"{classes} classes")
    in_lengths = _lengths(input_lengths, "input_lengths")
    tgt_lengths = _lengths(target_lengths, "target_lengths")
    if in_lengths.shape[0] != batch:
        raise OpError(f"ctc_loss: input_lengths must be of size batch_size ({batch}), got "
                      f"{in_lengths.shape[0]}")
    if tgt_lengths.shape[0] != batch:
        raise OpError(f"ctc_loss: target_lengths must be of size batch_size ({batch}), got "
                      f"{tgt_lengths.shape[0]}")
    for name, lengths in (("target_lengths", tgt_lengths), ("input_lengths", in_lengths)):
        if batch and lengths.min() < 0:
            raise OpError(f"Expected {name} to have value at least 0, but got value "
                          f"{int(lengths.min())} {_WHERE}")
    if batch and in_lengths.max() > steps:
        raise OpError(f"Expected input_lengths to have value at most {steps}, but got value "
                      f"{int(in_lengths.max())} {_WHERE}")
    target_array = targets._data
    if target_array.dtype.kind not in "iuf" or target_array.dtype.kind == "f" and (
            target_array != np.trunc(target_array)).any():
        raise OpError(f"ctc_loss: targets must hold integer labels, got dtype {targets.dtype}")
    labels = _padded_labels(target_array.astype(np.int64), tgt_lengths, batch)
    used = np.arange(labels.shape[1])[None, :] < tgt_lengths[:, None]
    if ((labels < 0) | (labels >= classes))[used].any():
        bad = labels[used & ((labels < 0) | (labels >= classes))][0]
        raise OpError(f"ctc_loss: target label {int(bad)} is out of range for {classes} "
                      f"classes (labels are 0 .. {classes - 1})")
    labels = np.where(used, labels, blank)
    loss = CTCNegLogLikelihood.apply(lp, labels=labels, input_lengths=in_lengths,
                                     target_lengths=tgt_lengths, blank=int(blank),
                                     zero_infinity=bool(zero_infinity))
    if reduction == "mean":
        divisor = np.maximum(tgt_lengths, 1).astype(lp._data.dtype)
        return (loss / _wrap(divisor)).mean()
    if reduction == "sum":
        return loss.sum()
    return loss if batched else loss.squeeze(0)
