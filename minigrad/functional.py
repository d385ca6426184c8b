"""Functional API (``nn.functional`` is this module): activations, losses, dropout, conv, pools.

Everything here except the conv/pool primitives is composed from Tensor operations and has no
backward rule of its own.
"""

from __future__ import annotations

import numpy as np

import minigrad.tensor as _tensor_module
from minigrad.errors import OpError
from minigrad.functional_loss import (  # the losses; more of them are star-imported below
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    l1_loss,
    mse_loss,
    nll_loss,
)
from minigrad.ops import elementwise as ew
from minigrad.ops import special
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
    # 16 random bits per element, kept when >= p * 2**16: p is honoured to within 2**-17, and
    # the bit generator's raw 64-bit words, four elements each, cost a third of
    # Generator.bytes (which draws bounded integers and copies them twice) and a fifth of a
    # float32 draw. The mask is laid out like the input (a product of two layouts runs
    # several times slower) and made in one pass, keep * 1/(1-p).
    data = input._data
    order = sorted(range(data.ndim), key=lambda axis: -data.strides[axis])
    words = generator().bit_generator.random_raw(-(-data.size // 4))
    bits = words.view(np.uint16)[: data.size]
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
