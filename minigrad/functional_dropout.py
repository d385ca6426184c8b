"""Channel dropout and alpha dropout: dropout1d/2d/3d, alpha_dropout, feature_alpha_dropout.

Each draws a keep mask (per element, or per (sample, channel) for the feature variants) and
multiplies; the mask is a constant of the graph. PyTorch's training-flag defaults are kept:
``training=True`` for dropoutNd, ``training=False`` for the two alpha variants.
"""

from __future__ import annotations

import warnings

import numpy as np

import minigrad.tensor as _tensor_module
from minigrad.errors import OpError
from minigrad.random import generator
from minigrad.tensor import Tensor, _wrap

__all__ = ["dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout"]

# -scale * alpha of SELU: the value SELU saturates to, which alpha dropout drops to
_SELU_NEG_SATURATION = 1.7580993408473766


def _check_p(p: float) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _float_dtype(input: Tensor) -> np.dtype:
    return input._data.dtype if input.is_floating_point() else np.dtype(
        _tensor_module.DEFAULT_FLOAT)


def _keep_mask(input: Tensor, p: float, feature: bool) -> np.ndarray:
    """1 where kept, 0 where dropped; shape (N, C, 1, ...) for feature dropout."""
    if feature:
        if input.ndim < 2:
            raise OpError(
                f"feature dropout requires at least 2 dimensions in the input, got shape "
                f"{input.shape}"
            )
        shape = input.shape[:2] + (1,) * (input.ndim - 2)
    else:
        shape = input.shape
    return (generator().random(shape) >= p).astype(_float_dtype(input))


def _apply(input: Tensor, scale: np.ndarray, shift: np.ndarray | None, inplace: bool) -> Tensor:
    if inplace:
        input.mul_(_wrap(scale))
        return input if shift is None else input.add_(_wrap(shift))
    out = input * _wrap(scale)
    return out if shift is None else out + _wrap(shift)


def _dropout_impl(input: Tensor, p: float, training: bool, inplace: bool, *, feature: bool,
                  alpha: bool) -> Tensor:
    _check_p(p)
    if not training or p == 0.0 or input.numel() == 0:
        return input
    if feature and input.ndim < 2:
        _keep_mask(input, p, feature)  # raises
    if p == 1.0:
        return _apply(input, np.zeros((), _float_dtype(input)), None, inplace)
    keep = _keep_mask(input, p, feature)
    if not alpha:
        return _apply(input, keep * np.asarray(1.0 / (1.0 - p), keep.dtype), None, inplace)
    # keep the mean and variance of SELU activations: a * (x * keep + alpha' * (1 - keep)) + b
    a = 1.0 / np.sqrt((_SELU_NEG_SATURATION**2 * p + 1) * (1 - p))
    shift = (keep - 1) * (_SELU_NEG_SATURATION * a) + _SELU_NEG_SATURATION * a * p
    return _apply(input, keep * np.asarray(a, keep.dtype), shift.astype(keep.dtype), inplace)


def _feature_dropout(input: Tensor, p: float, training: bool, inplace: bool,
                     batched: bool) -> Tensor:
    if batched:
        return _dropout_impl(input, p, training, inplace, feature=True, alpha=False)
    out = _dropout_impl(input.unsqueeze(0), p, training, False, feature=True, alpha=False)
    out = out.squeeze(0)
    if inplace and out is not input:
        input.copy_(out)
        return input
    return out


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of ``(N, C, L)`` or ``(C, L)`` with probability p; scale by 1/(1-p)."""
    _check_p(p)
    if input.ndim not in (2, 3):
        raise OpError(
            f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input. Note that "
            "dropout1d exists to provide channel-wise dropout on inputs with 1 spatial "
            "dimension, a channel dimension, and an optional batch dimension (i.e. 2D or 3D "
            "inputs)."
        )
    return _feature_dropout(input, p, training, inplace, batched=input.ndim == 3)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of ``(N, C, H, W)`` with probability p (a 3-D input is taken as
    ``(N, C, L)``, with PyTorch's warning)."""
    _check_p(p)
    if input.ndim not in (3, 4):
        warnings.warn(
            f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is deprecated and "
            "will result in an error in a future release. To retain the behavior and silence "
            "this warning, please use dropout instead.", stacklevel=2)
    if input.ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim. To maintain the 1D channel-wise dropout behavior, please switch "
            "to using dropout1d instead.", stacklevel=2)
    return _feature_dropout(input, p, training, inplace, batched=True)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of ``(N, C, D, H, W)`` or ``(C, D, H, W)`` with probability p."""
    _check_p(p)
    if input.ndim not in (4, 5):
        warnings.warn(
            f"dropout3d: Received a {input.ndim}-D input to dropout3d, which is deprecated and "
            "will result in an error in a future release. To retain the behavior and silence "
            "this warning, please use dropout instead.", stacklevel=2)
    return _feature_dropout(input, p, training, inplace, batched=input.ndim == 5)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                  inplace: bool = False) -> Tensor:
    """Dropout for SELU networks: dropped elements take SELU's saturation value, then an
    affine map restores zero mean and unit variance."""
    return _dropout_impl(input, p, training, inplace, feature=False, alpha=True)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                          inplace: bool = False) -> Tensor:
    """Alpha dropout of whole channels of ``(N, C, *)``."""
    return _dropout_impl(input, p, training, inplace, feature=True, alpha=True)
