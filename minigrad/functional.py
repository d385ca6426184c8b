"""Functional API (``nn.functional`` is this module): activations, losses, dropout, conv, pools.

Everything here except the conv/pool primitives is composed from Tensor operations and has no
backward rule of its own.
"""

from __future__ import annotations

import numpy as np

from minigrad import tensor as _tensor_module
from minigrad.errors import OpError
from minigrad.ops import elementwise as ew
from minigrad.ops import reduce, special
from minigrad.ops.convnd import (  # noqa: F401  (re-exported: F.conv2d, F.conv3d, ...)
    conv1d,
    conv2d,
    conv3d,
    conv_tbc,
    conv_transpose1d,
    conv_transpose2d,
    conv_transpose3d,
    fold,
    unfold,
)
from minigrad.ops.gridsample import affine_grid, grid_sample  # noqa: F401  (re-exported)
from minigrad.ops.linear import Linear
from minigrad.ops.poolnd import (  # noqa: F401  (re-exported: F.max_pool2d, ...)
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_avg_pool3d,
    adaptive_max_pool1d,
    adaptive_max_pool1d_with_indices,
    adaptive_max_pool2d,
    adaptive_max_pool2d_with_indices,
    adaptive_max_pool3d,
    adaptive_max_pool3d_with_indices,
    avg_pool1d,
    avg_pool2d,
    avg_pool3d,
    fractional_max_pool2d,
    fractional_max_pool2d_with_indices,
    fractional_max_pool3d,
    fractional_max_pool3d_with_indices,
    lp_pool1d,
    lp_pool2d,
    lp_pool3d,
    max_pool1d,
    max_pool1d_with_indices,
    max_pool2d,
    max_pool2d_with_indices,
    max_pool3d,
    max_pool3d_with_indices,
    max_unpool1d,
    max_unpool2d,
    max_unpool3d,
)
from minigrad.ops.resample import (  # noqa: F401  (re-exported: F.interpolate, ...)
    channel_shuffle,
    interpolate,
    pixel_shuffle,
    pixel_unshuffle,
    upsample,
    upsample_bilinear,
    upsample_nearest,
)
from minigrad.random import generator
from minigrad.tensor import DEFAULT_FLOAT, Tensor, _wrap, pad, where  # noqa: F401

__all__ = [
    "relu", "leaky_relu", "gelu", "sigmoid", "tanh", "linear", "mse_loss", "l1_loss", "nll_loss",
    "cross_entropy",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "one_hot", "dropout", "pad",
    "conv2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "unfold", "fold",
    "conv1d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
    "max_pool1d", "max_pool3d", "avg_pool1d", "avg_pool3d", "adaptive_max_pool1d",
    "adaptive_max_pool2d", "adaptive_max_pool3d", "adaptive_avg_pool1d", "adaptive_avg_pool3d",
    "max_unpool1d", "max_unpool2d", "max_unpool3d", "lp_pool1d", "lp_pool2d", "lp_pool3d",
    "interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "pixel_shuffle",
    "pixel_unshuffle", "channel_shuffle", "native_channel_shuffle", "conv_tbc",
    "max_pool1d_with_indices", "max_pool2d_with_indices", "max_pool3d_with_indices",
    "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
    "adaptive_max_pool3d_with_indices", "affine_grid", "grid_sample",
    "fractional_max_pool2d", "fractional_max_pool3d", "fractional_max_pool2d_with_indices",
    "fractional_max_pool3d_with_indices",
]

native_channel_shuffle = channel_shuffle


# ---------------------------------------------------------------------- activations


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0), any shape; ``inplace=True`` overwrites ``input``.

    Example::

        >>> import minigrad as mg
        >>> import nn.functional as F
        >>> F.relu(mg.tensor([-1.0, 0.0, 2.0])).tolist()
        [0.0, 0.0, 2.0]
    """
    return input.relu_() if inplace else ew.Relu.apply(input)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x for x > 0, negative_slope * x otherwise."""
    return ew.LeakyRelu.apply(input, negative_slope=negative_slope)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x) with the exact normal CDF (erf), or its tanh approximation with
    approximate='tanh', as in PyTorch."""
    if approximate == "tanh":
        inner = (input + 0.044715 * input**3) * float(np.sqrt(2.0 / np.pi))
        return 0.5 * input * (1.0 + inner.tanh())
    if approximate != "none":
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    # Phi(x) = erfc(-x / sqrt 2) / 2: no cancellation for negative x, unlike (1 + erf) / 2
    return input * special.Erfc.apply(input * float(-1 / np.sqrt(2.0))) * 0.5


def sigmoid(input: Tensor) -> Tensor:
    """1 / (1 + exp(-x)), any shape (:meth:`Tensor.sigmoid`)."""
    return input.sigmoid()


def tanh(input: Tensor) -> Tensor:
    """Hyperbolic tangent, any shape (:meth:`Tensor.tanh`)."""
    return input.tanh()


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """(..., in) @ (out, in).T + (out,) -> (..., out)."""
    if input.shape[-1:] != weight.shape[-1:]:
        raise OpError(
            f"linear: input of shape {input.shape} has {input.shape[-1] if input.ndim else 0} "
            f"features but weight of shape {weight.shape} expects {weight.shape[-1]}"
        )
    if _linear_fast(input, weight, bias):
        return Linear.apply(input, weight) if bias is None else Linear.apply(input, weight, bias)
    out = input @ weight.t()
    return out + bias if bias is not None else out


def _linear_fast(input: Tensor, weight: Tensor, bias: Tensor | None) -> bool:
    """Whether ``linear`` can run as one fused primitive: a matrix weight, one float dtype,
    a bias of shape (out,)."""
    dtype = weight._data.dtype
    return (weight.ndim == 2 and input.ndim >= 1 and dtype.kind == "f"
            and input._data.dtype == dtype
            and (bias is None or (bias._data.dtype == dtype and bias.shape == weight.shape[:1])))


# ---------------------------------------------------------------------- losses


def _reduce(loss: Tensor, reduction: str, op: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _same_shape(input: Tensor, target: Tensor, op: str) -> None:
    if input.shape != target.shape:
        raise ValueError(
            f"{op}: input shape {input.shape} and target shape {target.shape} differ; "
            "they must be equal (reshape one of them)"
        )


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Mean squared error over all elements."""
    target = target if isinstance(target, Tensor) else Tensor(target, dtype=input.dtype)
    _same_shape(input, target, "mse_loss")
    diff = input - target
    return _reduce(diff * diff, reduction, "mse_loss")


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    target = target if isinstance(target, Tensor) else Tensor(target, dtype=input.dtype)
    _same_shape(input, target, "l1_loss")
    return _reduce((input - target).abs(), reduction, "l1_loss")


def binary_cross_entropy(
    input: Tensor, target: Tensor, weight: Tensor | None = None, reduction: str = "mean"
) -> Tensor:
    """-(t log p + (1 - t) log(1 - p)), with logs clamped at -100 like PyTorch."""
    target = target if isinstance(target, Tensor) else Tensor(target, dtype=input.dtype)
    _same_shape(input, target, "binary_cross_entropy")
    log_p = input.log().clamp(min=-100.0)
    log_q = (1.0 - input).log().clamp(min=-100.0)
    loss = -(target * log_p + (1.0 - target) * log_q)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(
    input: Tensor, target: Tensor, weight: Tensor | None = None, reduction: str = "mean"
) -> Tensor:
    """Sigmoid + binary cross entropy in one stable expression."""
    target = target if isinstance(target, Tensor) else Tensor(target, dtype=input.dtype)
    _same_shape(input, target, "binary_cross_entropy_with_logits")
    # log(1 + exp(-|x|)) + max(x, 0) - x * t never overflows
    loss = input.relu() - input * target + ((-input.abs()).exp() + 1.0).log()
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "binary_cross_entropy_with_logits")


def _class_scores(input: Tensor, target: Tensor, op: str) -> tuple[Tensor, np.ndarray]:
    """Bring (N, C, d1, ...) scores to (M, C) and the targets to (M,)."""
    if input.ndim == 1:
        input = input.unsqueeze(0)
        target_array = np.asarray(target._data).reshape(1)
    else:
        target_array = np.asarray(target._data)
    if input.ndim > 2:
        classes = input.shape[1]
        input = input.permute(0, *range(2, input.ndim), 1).reshape(-1, classes)
        target_array = target_array.reshape(-1)
    if target_array.dtype.kind not in "iu":
        raise TypeError(
            f"{op}: target must hold integer class indices (int64), got dtype "
            f"{target_array.dtype}; use target.long()"
        )
    if target_array.shape != input.shape[:1]:
        raise ValueError(
            f"{op}: input of shape {input.shape} needs a target of shape {input.shape[:1]} "
            f"(one class index per row), got {target_array.shape}"
        )
    return input, target_array


def _nll_from_log_probs(
    log_probs: Tensor,
    target_array: np.ndarray,
    weight: Tensor | None,
    ignore_index: int,
    reduction: str,
    label_smoothing: float,
    op: str,
) -> Tensor:
    classes = log_probs.shape[1]
    keep = target_array != ignore_index
    bad = keep & ((target_array < 0) | (target_array >= classes))
    if bad.any():
        raise IndexError(
            f"{op}: target {int(target_array[bad][0])} is out of bounds for {classes} classes "
            f"(valid: 0 to {classes - 1})"
        )
    safe_target = np.where(keep, target_array, 0)
    row_weight = keep.astype(log_probs.dtype)
    if weight is not None:
        row_weight = row_weight * weight._data.astype(log_probs.dtype)[safe_target]
    picked = reduce.Gather.apply(log_probs, index=safe_target[:, None], axis=1).squeeze(1)
    loss = -picked * _wrap(row_weight)
    if label_smoothing > 0.0:
        class_weight = (
            log_probs if weight is None else log_probs * weight.to(log_probs.dtype)
        )
        smooth = -class_weight.sum(dim=1) * _wrap(keep.astype(log_probs.dtype)) * (1 / classes)
        loss = loss * (1.0 - label_smoothing) + smooth * label_smoothing
    if reduction == "mean":
        return loss.sum() * (1.0 / row_weight.sum())
    return _reduce(loss, reduction, op)


def nll_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    """-input[n, target[n]] for log-probabilities (N, C) and class indices (N,)."""
    scores, target_array = _class_scores(input, target, "nll_loss")
    return _nll_from_log_probs(
        scores, target_array, weight, ignore_index, reduction, 0.0, "nll_loss"
    )


def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """log_softmax + nll_loss on logits (N, C) and class indices (N,) or class probabilities.

    Stable for logits of any size (a fused log_softmax); ``label_smoothing`` mixes the one-hot
    target with the uniform distribution, as in PyTorch.
    """
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    target = target if isinstance(target, Tensor) else Tensor(target)
    if target.is_floating_point() and target.shape == input.shape:
        log_probs = input.log_softmax(1 if input.ndim > 1 else 0)
        classes = input.shape[1] if input.ndim > 1 else input.shape[0]
        soft = target * (1.0 - label_smoothing) + label_smoothing / classes
        return _reduce(-(soft * log_probs).sum(dim=1 if input.ndim > 1 else 0), reduction,
                       "cross_entropy")
    scores, target_array = _class_scores(input, target, "cross_entropy")
    return _nll_from_log_probs(
        scores.log_softmax(1), target_array, weight, ignore_index, reduction, label_smoothing,
        "cross_entropy",
    )


# ---------------------------------------------------------------------- misc


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """(…) int64 class indices -> (…, num_classes) int64 one-hot."""
    labels = np.asarray(tensor._data if isinstance(tensor, Tensor) else tensor)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expects integer class indices, got dtype {labels.dtype}")
    if num_classes < 0:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"one_hot: class values must be in [0, {num_classes}), got range "
            f"[{labels.min()}, {labels.max()}]"
        )
    return _wrap((labels[..., None] == np.arange(num_classes)).astype(np.int64))


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1-p) while training."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability must be between 0 and 1, got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    dtype = input.dtype if input.is_floating_point() else _tensor_module.DEFAULT_FLOAT
    # 16 random bits per element, kept when >= p * 2**16: a third of the cost of a float32
    # draw, and p is honoured to within 2**-17. The mask is laid out like the input (a product
    # of two layouts runs several times slower) and made in one pass, keep * 1/(1-p).
    data = input._data
    order = sorted(range(data.ndim), key=lambda axis: -data.strides[axis])
    bits = np.frombuffer(generator().bytes(2 * data.size), dtype=np.uint16)
    keep = bits.reshape(tuple(data.shape[a] for a in order)) >= round(p * 65536)
    mask = np.multiply(keep, np.asarray(1.0 / (1.0 - p), dtype), dtype=dtype)
    return input * _wrap(mask.transpose(np.argsort(order)))


# Layer functionals live in their own modules; re-exported here as F.<name> (relu6, elu, silu,
# softplus, softmax and log_softmax come from functional_activation).
from minigrad.functional_attention import *  # noqa: E402, F401, F403
from minigrad.functional_attention import __all__ as _attention_names  # noqa: E402
from minigrad.functional_dropout import *  # noqa: E402, F401, F403
from minigrad.functional_dropout import __all__ as _dropout_names  # noqa: E402
from minigrad.functional_embedding import *  # noqa: E402, F401, F403
from minigrad.functional_embedding import __all__ as _embedding_names  # noqa: E402
from minigrad.functional_norm import *  # noqa: E402, F401, F403
from minigrad.functional_norm import __all__ as _norm_names  # noqa: E402

__all__ += [*_attention_names, *_dropout_names, *_embedding_names, *_norm_names]
from minigrad.functional_activation import *  # noqa: E402, F401, F403
from minigrad.functional_activation import __all__ as _activation_names  # noqa: E402
from minigrad.functional_loss import *  # noqa: E402, F401, F403
from minigrad.functional_loss import __all__ as _loss_names  # noqa: E402

__all__ += [n for n in [*_activation_names, *_loss_names] if n not in __all__]
