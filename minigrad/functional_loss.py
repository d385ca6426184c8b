"""Loss functionals of ``nn.functional``, with PyTorch's names, arguments, defaults, shapes
and checks. Composites of Tensor ops (binary_cross_entropy has a primitive for PyTorch's
finite gradient at 0 and 1). ``size_average``/``reduce`` are PyTorch's deprecated spellings
of ``reduction`` and are honoured the same way."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from minigrad.errors import OpError
from minigrad.functional_activation import _vector_norm, pairwise_distance
from minigrad.functional_ctc import ctc_loss
from minigrad.ops import activation as act
from minigrad.ops.loss import BinaryCrossEntropy, CrossEntropyIndices
from minigrad.tensor import Tensor, _wrap, where

__all__ = [
    "l1_loss", "mse_loss", "smooth_l1_loss", "huber_loss", "kl_div", "nll_loss",
    "cross_entropy", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "poisson_nll_loss", "gaussian_nll_loss", "cosine_embedding_loss", "margin_ranking_loss",
    "hinge_embedding_loss", "soft_margin_loss", "multilabel_soft_margin_loss",
    "multi_margin_loss", "triplet_margin_loss", "multilabel_margin_loss", "ctc_loss",
]


def _reduction(size_average: Any, reduce: Any, reduction: str, op: str) -> str:
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "none" if not reduce else ("mean" if size_average else "sum")
        warnings.warn(
            f"{op}: size_average and reduce args will be deprecated, please use "
            f"reduction='{reduction}' instead.",
            UserWarning,
            stacklevel=3,
        )
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{op}: {reduction} is not a valid value for reduction")
    return reduction


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _as_tensor(value: Any, like: Tensor) -> Tensor:
    return value if isinstance(value, Tensor) else Tensor(value, dtype=like.dtype)


def _pointwise_pair(input: Tensor, target: Any, op: str) -> tuple[Tensor, Tensor]:
    """input and target of the same float dtype; a different (broadcastable) shape warns as
    in PyTorch."""
    target = _as_tensor(target, input)
    if target.shape != input.shape:
        warnings.warn(
            f"{op}: Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}). This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.",
            UserWarning,
            stacklevel=3,
        )
        try:
            np.broadcast_shapes(input.shape, target.shape)
        except ValueError:
            raise OpError(
                f"{op}: input shape {input.shape} and target shape {target.shape} do not "
                "broadcast; they must be equal (reshape one of them)"
            ) from None
    if target.dtype != input.dtype and target.is_floating_point():
        dtype = np.result_type(input._data.dtype, target._data.dtype)
        input, target = input.to(dtype), target.to(dtype)
    return input, target


def l1_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """``|input - target|``."""
    reduction = _reduction(size_average, reduce, reduction, "l1_loss")
    input, target = _pointwise_pair(input, target, "l1_loss")
    loss = (input - target).abs()
    return _reduce(loss * weight if weight is not None else loss, reduction)


def mse_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """(input - target)^2."""
    reduction = _reduction(size_average, reduce, reduction, "mse_loss")
    input, target = _pointwise_pair(input, target, "mse_loss")
    diff = input - target
    loss = diff * diff
    return _reduce(loss * weight if weight is not None else loss, reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """``0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta`` (``d = input - target``)."""
    reduction = _reduction(size_average, reduce, reduction, "smooth_l1_loss")
    if beta < 0:
        raise OpError("smooth_l1_loss does not support negative values for beta.")
    input, target = _pointwise_pair(input, target, "smooth_l1_loss")
    diff = input - target
    if beta == 0:
        return _reduce(diff.abs(), reduction)
    small = np.abs(diff._data) < beta
    loss = where(small, diff * diff * (0.5 / beta), diff.abs() - 0.5 * beta)
    return _reduce(loss, reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """``0.5 d^2`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)``."""
    reduction = _reduction(None, None, reduction, "huber_loss")
    if delta <= 0:
        raise OpError(f"huber_loss does not support non-positive values for delta, got {delta}")
    input, target = _pointwise_pair(input, target, "huber_loss")
    diff = input - target
    small = np.abs(diff._data) < delta
    loss = where(small, diff * diff * 0.5, (diff.abs() - 0.5 * delta) * delta)
    return _reduce(loss * weight if weight is not None else loss, reduction)


def kl_div(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """target * (log target - input) for log-probabilities ``input``; ``batchmean`` divides
    the sum by the batch size (the true KL divergence)."""
    if reduction == "batchmean":
        reduction_used = "batchmean"
    else:
        reduction_used = _reduction(size_average, reduce, reduction, "kl_div")
        if reduction_used == "mean":
            warnings.warn(
                "reduction: 'mean' divides the total loss by both the batch size and the support "
                "size.'batchmean' divides only by the batch size, and aligns with the KL div "
                "math definition.'mean' will be changed to behave the same as 'batchmean' in "
                "the next major release.",
                UserWarning,
                stacklevel=2,
            )
    target = _as_tensor(target, input)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        positive = target._data > 0
        safe = where(positive, target, 1.0)
        loss = where(positive, target * safe.log(), 0.0) - target * input
    if reduction_used == "batchmean":
        if input.ndim == 0:
            return loss.sum()
        return loss.sum() / input.shape[0]
    return _reduce(loss, reduction_used)


# ---------------------------------------------------------------------- classification


def _check_weight(weight: Tensor | None, classes: int, op: str) -> None:
    if weight is not None and (weight.ndim != 1 or weight.shape[0] != classes):
        raise OpError(
            f"{op}: weight tensor should be defined either for all {classes} classes or no "
            f"classes but got weight tensor of shape: {list(weight.shape)}"
        )


def _class_target(input: Tensor, target: Any, op: str) -> np.ndarray:
    """The integer target as an ndarray of input's shape without the class dim."""
    array = np.asarray(target._data if isinstance(target, Tensor) else target)
    if array.dtype.kind not in "iu":
        raise TypeError(
            f"{op}: target must hold integer class indices (int64), got dtype {array.dtype}; "
            "use target.long()"
        )
    if input.ndim == 0:
        raise OpError(f"{op}: input must have at least 1 dimension (C,) or (N, C, ...)")
    expected = input.shape[:1] + input.shape[2:] if input.ndim >= 2 else ()
    if array.shape != expected:
        if input.ndim == 2 and array.ndim == 1:
            raise OpError(
                f"{op}: Expected input batch_size ({input.shape[0]}) to match target "
                f"batch_size ({array.shape[0]})."
            )
        raise OpError(
            f"{op}: input of shape {input.shape} needs a target of shape {expected} (one class "
            f"index per sample and position), got {array.shape}"
        )
    return array


# (N, C) logits at class indices with no class weights and no label smoothing (the common
# case) take one primitive, ops.loss.CrossEntropyIndices, equal bit for bit to the composite
FUSED_CROSS_ENTROPY = True


def _checked_keep(target_array: np.ndarray, classes: int, ignore_index: int, op: str
                  ) -> np.ndarray:
    """Where the target is not ``ignore_index``; an IndexError for a target out of range."""
    keep = target_array != ignore_index
    bad = keep & ((target_array < 0) | (target_array >= classes))
    if bad.any():
        raise IndexError(
            f"{op}: target {int(target_array[bad].flat[0])} is out of bounds (there are "
            f"{classes} classes: 0 to {classes - 1})."
        )
    return keep


def _nll(log_probs: Tensor, target_array: np.ndarray, weight: Tensor | None,
         ignore_index: int, reduction: str, label_smoothing: float, op: str) -> Tensor:
    """Weighted negative log-likelihood of ``log_probs`` (C,) or (N, C, ...) at the targets."""
    class_dim = 0 if log_probs.ndim == 1 else 1
    classes = log_probs.shape[class_dim]
    _check_weight(weight, classes, op)
    keep = _checked_keep(target_array, classes, ignore_index, op)
    safe_target = np.where(keep, target_array, 0)
    dtype = log_probs._data.dtype
    sample_weight = keep.astype(dtype)
    weight_data = None
    if weight is not None:
        weight_data = weight._data.astype(dtype)
        sample_weight = sample_weight * weight_data[safe_target]
    index = np.expand_dims(safe_target, class_dim)
    picked = log_probs.gather(class_dim, _wrap(index)).squeeze(class_dim)
    loss = -picked * _wrap(sample_weight)
    if label_smoothing > 0.0:
        scaled = log_probs
        if weight_data is not None:
            shape = [1] * log_probs.ndim
            shape[class_dim] = classes
            scaled = log_probs * _wrap(weight_data.reshape(shape))
        smooth = -scaled.sum(dim=class_dim) * _wrap(keep.astype(dtype))
        loss = loss * (1.0 - label_smoothing) + smooth * (label_smoothing / classes)
    if reduction == "mean":
        with np.errstate(invalid="ignore", divide="ignore"):
            return loss.sum() / _wrap(np.asarray(sample_weight.sum(), dtype=dtype))
    return _reduce(loss, reduction)


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
             size_average: Any = None, ignore_index: int = -100, reduce: Any = None,
             reduction: str = "mean") -> Tensor:
    """-input[n, target[n], d...] for log-probabilities ``(N, C, d...)`` (or ``(C,)``) and
    class indices ``(N, d...)``; 'none' keeps the shape ``(N, d...)``."""
    reduction = _reduction(size_average, reduce, reduction, "nll_loss")
    target_array = _class_target(input, target, "nll_loss")
    return _nll(input, target_array, weight, ignore_index, reduction, 0.0, "nll_loss")


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                  size_average: Any = None, ignore_index: int = -100, reduce: Any = None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """log_softmax over the class dim + nll_loss: logits ``(N, C, d...)`` (or ``(C,)``) and
    class indices ``(N, d...)`` or class probabilities of the logits' shape -> a scalar
    (``reduction="mean"`` or ``"sum"``) or ``(N, d...)`` (``"none"``). Stable for logits of
    any size. ``size_average`` and ``reduce`` are PyTorch's deprecated spellings of
    ``reduction``.

    Example::

        >>> import minigrad as mg
        >>> import nn.functional as F
        >>> logits = mg.tensor([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
        >>> round(F.cross_entropy(logits, mg.tensor([0, 2])).item(), 4)
        0.6691
        >>> F.cross_entropy(logits, mg.tensor([0, 2]), reduction="none").shape
        minigrad.Size([2])
    """
    reduction = _reduction(size_average, reduce, reduction, "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise OpError(
            f"cross_entropy: label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}"
        )
    target = target if isinstance(target, Tensor) else Tensor(target)
    class_dim = 0 if input.ndim == 1 else 1
    index_shape = input.shape[:1] + input.shape[2:] if input.ndim >= 2 else ()
    if target.is_floating_point() and target.shape not in (input.shape, index_shape):
        raise OpError(
            f"cross_entropy: a floating-point target holds class probabilities and must have the "
            f"input's shape {tuple(input.shape)}, got {tuple(target.shape)}; for class indices "
            "pass an int64 target of shape (N, d1, ...)"
        )
    if target.is_floating_point() and target.shape == input.shape:
        classes = input.shape[class_dim]
        _check_weight(weight, classes, "cross_entropy")
        log_probs = input.log_softmax(class_dim)
        soft = target.to(log_probs.dtype)
        if label_smoothing > 0:
            soft = soft * (1.0 - label_smoothing) + label_smoothing / classes
        terms = soft * log_probs
        if weight is not None:
            shape = [1] * input.ndim
            shape[class_dim] = classes
            terms = terms * weight.to(log_probs.dtype).reshape(*shape)
        loss = -terms.sum(dim=class_dim)
        if reduction == "mean":
            count = max(1, int(np.prod(loss.shape)))
            return loss.sum() / count if input.ndim > 1 else loss
        return _reduce(loss, reduction)
    target_array = _class_target(input, target, "cross_entropy")
    if (FUSED_CROSS_ENTROPY and input.ndim == 2 and weight is None and label_smoothing == 0.0
            and input.is_floating_point()):
        keep = _checked_keep(target_array, input.shape[1], ignore_index, "cross_entropy")
        return CrossEntropyIndices.apply(input, target=np.where(keep, target_array, 0),
                                         keep=keep, reduction=reduction)
    return _nll(input.log_softmax(class_dim), target_array, weight, ignore_index, reduction,
                label_smoothing, "cross_entropy")


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average: Any = None, reduce: Any = None,
                         reduction: str = "mean") -> Tensor:
    """-(t log p + (1 - t) log(1 - p)) for probabilities p in [0, 1], logs clamped at -100."""
    reduction = _reduction(size_average, reduce, reduction, "binary_cross_entropy")
    target = _as_tensor(target, input)
    if target.shape != input.shape:
        raise OpError(
            f"binary_cross_entropy: Using a target size ({target.shape}) that is different to "
            f"the input size ({input.shape}) is deprecated. Please ensure they have the same "
            "size."
        )
    data = input._data
    if data.size and not ((data >= 0) & (data <= 1)).all():
        raise OpError(
            "binary_cross_entropy: all elements of input should be between 0 and 1, got values "
            f"from {data.min()} to {data.max()}; pass probabilities (apply sigmoid first), or "
            "use binary_cross_entropy_with_logits on the logits"
        )
    if target.dtype != input.dtype:
        target = target.to(input.dtype)
    loss = BinaryCrossEntropy.apply(input, target)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,
                                     weight: Tensor | None = None, size_average: Any = None,
                                     reduce: Any = None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """sigmoid + binary cross entropy in one stable expression; ``pos_weight`` weighs the
    positive term (broadcast along the last dim, one entry per class)."""
    reduction = _reduction(size_average, reduce, reduction, "binary_cross_entropy_with_logits")
    target = _as_tensor(target, input)
    if target.shape != input.shape:
        raise OpError(
            f"binary_cross_entropy_with_logits: Target size ({target.shape}) must be the same "
            f"as input size ({input.shape})"
        )
    if target.dtype != input.dtype:
        target = target.to(input.dtype)
    log_sigmoid = act.LogSigmoid.apply(input)
    if pos_weight is not None:
        coefficient = (pos_weight - 1.0) * target + 1.0
        loss = (1.0 - target) * input - coefficient * log_sigmoid
    else:
        loss = (1.0 - target) * input - log_sigmoid
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


# ---------------------------------------------------------------------- regression


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average: Any = None, eps: float = 1e-8, reduce: Any = None,
                     reduction: str = "mean") -> Tensor:
    """exp(x) - t x (log_input) or x - t log(x + eps); ``full`` adds Stirling's term."""
    reduction = _reduction(size_average, reduce, reduction, "poisson_nll_loss")
    target = _as_tensor(target, input)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        t = target._data
        safe = np.where(t > 1, t, 1)
        stirling = safe * np.log(safe) - safe + 0.5 * np.log(2 * math.pi * safe)
        loss = loss + _wrap(np.where(t > 1, stirling, 0).astype(loss._data.dtype))
    return _reduce(loss, reduction)


def gaussian_nll_loss(input: Tensor, target: Tensor, var: Any, full: bool = False,
                      eps: float = 1e-6, reduction: str = "mean") -> Tensor:
    """0.5 (log var + (input - target)^2 / var) (+ 0.5 log 2 pi with ``full``); var is
    clamped to eps for the value only, as PyTorch does."""
    reduction = _reduction(None, None, reduction, "gaussian_nll_loss")
    target = _as_tensor(target, input)
    if not isinstance(var, Tensor):
        var = Tensor(np.full(input.shape, var, dtype=input._data.dtype))
    if var.shape != input.shape:
        if input.shape[:-1] == var.shape:
            var = var.unsqueeze(-1)
        elif not (input.shape[:-1] == var.shape[:-1] and var.shape[-1:] == (1,)):
            raise ValueError("var is of incorrect size")
    if (var._data < 0).any():
        raise ValueError("var has negative entry/entries")
    # the value is clamped, the gradient passes unchanged (PyTorch clamps in place under no_grad)
    var = var + _wrap(np.maximum(var._data, eps) - var._data)
    diff = input - target
    loss = (var.log() + diff * diff / var) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


# ---------------------------------------------------------------------- embeddings and margins


def _sign_target(target: Any, like: Tensor) -> Tensor:
    return _as_tensor(target, like)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                          size_average: Any = None, reduce: Any = None,
                          reduction: str = "mean") -> Tensor:
    """1 - cos(x1, x2) where target is 1; max(0, cos(x1, x2) - margin) where it is -1."""
    reduction = _reduction(size_average, reduce, reduction, "cosine_embedding_loss")
    if input1.ndim not in (1, 2) or input1.shape != input2.shape:
        raise OpError(
            f"cosine_embedding_loss: expected 1-D or 2-D inputs of the same shape, got "
            f"{input1.shape} and {input2.shape}"
        )
    dim = input1.ndim - 1
    epsilon = 1e-12
    product = (input1 * input2).sum(dim)
    magnitude1 = (input1 * input1).sum(dim) + epsilon
    magnitude2 = (input2 * input2).sum(dim) + epsilon
    cos = product / (magnitude1 * magnitude2).sqrt()
    y = _sign_target(target, cos)._data
    loss = where(y == 1, 1.0 - cos, 0.0) + where(y == -1, (cos - margin).clamp(min=0.0), 0.0)
    return _reduce(loss, reduction)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                        size_average: Any = None, reduce: Any = None,
                        reduction: str = "mean") -> Tensor:
    """max(0, -target (x1 - x2) + margin)."""
    reduction = _reduction(size_average, reduce, reduction, "margin_ranking_loss")
    if input1.ndim != input2.ndim or input1.ndim != _sign_target(target, input1).ndim:
        raise OpError(
            f"margin_ranking_loss: All input tensors should have same dimension but got sizes: "
            f"input1: {input1.shape}, input2: {input2.shape}, target: {np.shape(target)} "
        )
    y = _sign_target(target, input1)
    return _reduce((-y * (input1 - input2) + margin).clamp(min=0.0), reduction)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0,
                         size_average: Any = None, reduce: Any = None,
                         reduction: str = "mean") -> Tensor:
    """x where target is 1, max(0, margin - x) where it is -1."""
    reduction = _reduction(size_average, reduce, reduction, "hinge_embedding_loss")
    y = np.asarray(_sign_target(target, input)._data)
    loss = where(y != 1, (margin - input).clamp(min=0.0), 0.0) + where(y != -1, input, 0.0)
    return _reduce(loss, reduction)


def soft_margin_loss(input: Tensor, target: Tensor, size_average: Any = None,
                     reduce: Any = None, reduction: str = "mean") -> Tensor:
    """log(1 + exp(-target x)) elementwise."""
    reduction = _reduction(size_average, reduce, reduction, "soft_margin_loss")
    y = _sign_target(target, input)
    return _reduce(-act.LogSigmoid.apply(y * input), reduction)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                size_average: Any = None, reduce: Any = None,
                                reduction: str = "mean") -> Tensor:
    """Per-class logistic loss ``(N, C)`` averaged over the classes."""
    reduction = _reduction(size_average, reduce, reduction, "multilabel_soft_margin_loss")
    target = _as_tensor(target, input).to(input.dtype)
    loss = -(target * act.LogSigmoid.apply(input) + (1.0 - target) * act.LogSigmoid.apply(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.ndim - 1
    loss = loss.sum(dim=class_dim) / input.shape[class_dim]
    return _reduce(loss, reduction)


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0,
                      weight: Tensor | None = None, size_average: Any = None,
                      reduce: Any = None, reduction: str = "mean") -> Tensor:
    """sum over i != y of max(0, margin - x[y] + x[i])^p / C, per sample ``(N, C)``."""
    reduction = _reduction(size_average, reduce, reduction, "multi_margin_loss")
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if input.ndim not in (1, 2):
        raise OpError(f"multi_margin_loss: expected (C,) or (N, C) input, got {input.shape}")
    scores = input if input.ndim == 2 else input.unsqueeze(0)
    labels = np.asarray(target._data if isinstance(target, Tensor) else target).reshape(-1)
    classes = scores.shape[1]
    if labels.shape[0] != scores.shape[0]:
        raise OpError(
            f"multi_margin_loss: inconsistent target size: {labels.shape} for input of size: "
            f"{input.shape}"
        )
    if ((labels < 0) | (labels >= classes)).any():
        raise IndexError(
            f"multi_margin_loss: target {int(labels[(labels < 0) | (labels >= classes)][0])} "
            f"is out of range for {classes} classes"
        )
    _check_weight(weight, classes, "multi_margin_loss")
    picked = scores.gather(1, _wrap(labels[:, None].astype(np.int64)))
    terms = (scores - picked + margin).clamp(min=0.0)
    if p == 2:
        terms = terms * terms
    if weight is not None:
        terms = terms * _wrap(weight._data.astype(input._data.dtype)[labels][:, None])
    others = labels[:, None] != np.arange(classes)[None, :]
    loss = where(others, terms, 0.0).sum(dim=1) / classes
    if input.ndim == 1:
        loss = loss.squeeze(0)
    return _reduce(loss, reduction)


def multilabel_margin_loss(input: Tensor, target: Tensor, size_average: Any = None,
                           reduce: Any = None, reduction: str = "mean") -> Tensor:
    """sum over target labels j and non-target classes i of max(0, 1 - (x[j] - x[i])) / C per
    sample ``(C,)`` or ``(N, C)``; each target row lists labels up to its first -1."""
    reduction = _reduction(size_average, reduce, reduction, "multilabel_margin_loss")
    if not isinstance(target, Tensor) or target._data.dtype != np.int64:
        found = target.dtype if isinstance(target, Tensor) else type(target).__name__
        raise OpError(f"multilabel_margin_loss: expected scalar type Long but found {found}; "
                      "pass target.long()")
    if input.ndim > 2 or (input.ndim == 2 and input.shape[1] == 0) or (
            input.ndim == 1 and input.shape[0] == 0):
        raise OpError(
            "multilabel_margin_loss: Expected non-empty vector or matrix with optional 0-dim "
            f"batch size, but got: {list(input.shape)}"
        )
    if target.shape != input.shape:
        raise OpError(f"multilabel_margin_loss: inconsistent target size: {list(target.shape)} "
                      f"for input of size: {list(input.shape)}")
    scores = input.reshape(-1, 1 if input.ndim == 0 else input.shape[-1])
    labels = target._data.reshape(scores.shape)
    classes = scores.shape[1]
    # each row's labels stop at its first -1
    valid = np.cumprod(labels != -1, axis=1).astype(bool)
    if ((labels < 0) | (labels >= classes))[valid].any():
        raise OpError(f"multilabel_margin_loss: argument #2 'target' is out of range: labels "
                      f"must be in 0 .. {classes - 1} (or -1 to end a row)")
    picked_labels = np.where(valid, labels, 0)
    rows = np.arange(scores.shape[0])[:, None]
    is_target = np.zeros(scores.shape, dtype=bool)
    is_target[np.broadcast_to(rows, labels.shape)[valid], labels[valid]] = True
    picked = scores.gather(1, _wrap(picked_labels))  # (N, S): x[y_j]
    hinge = (1.0 - picked.unsqueeze(2) + scores.unsqueeze(1)).clamp(min=0.0)  # (N, S, C)
    counted = valid[:, :, None] & ~is_target[:, None, :]
    loss = where(counted, hinge, 0.0).sum(dim=(1, 2)) / classes
    if input.ndim < 2:
        loss = loss.squeeze(0)
    if reduction == "mean" and loss.numel() == 0:
        return loss.sum()  # PyTorch's mean over an empty batch is 0
    return _reduce(loss, reduction)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0,
                        p: float = 2, eps: float = 1e-6, swap: bool = False,
                        size_average: Any = None, reduce: Any = None,
                        reduction: str = "mean") -> Tensor:
    """max(0, margin + d(a, p) - d(a, n)) with d the pairwise p-norm distance."""
    reduction = _reduction(size_average, reduce, reduction, "triplet_margin_loss")
    if not (anchor.ndim == positive.ndim == negative.ndim):
        raise OpError(
            "triplet_margin_loss: The anchor, positive, and negative tensors are expected to "
            f"have the same number of dimensions, but got: anchor {anchor.ndim}D, positive "
            f"{positive.ndim}D, and negative {negative.ndim}D inputs"
        )
    distance_positive = pairwise_distance(anchor, positive, p, eps)
    distance_negative = pairwise_distance(anchor, negative, p, eps)
    if swap:
        distance_swap = pairwise_distance(positive, negative, p, eps)
        distance_negative = distance_negative.minimum(distance_swap)
    loss = (distance_positive - distance_negative + margin).clamp(min=0.0)
    return _reduce(loss, reduction)


del _vector_norm
