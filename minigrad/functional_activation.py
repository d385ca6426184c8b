"""Activation functionals of ``nn.functional`` (PyTorch's names, arguments and defaults).

Composites of Tensor ops, except hardtanh, softplus, logsigmoid and the ELU family, whose
primitives are in ``minigrad.ops.activation``. ``inplace=True`` is accepted everywhere: the
result is written into the input (through the generic in-place machinery, which keeps
gradients right) and the input is returned, as in PyTorch.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from minigrad.errors import OpError
from minigrad.ops import activation as act
from minigrad.random import generator
from minigrad.tensor import Tensor, _wrap, where

__all__ = [
    "threshold", "hardtanh", "relu6", "elu", "selu", "celu", "hardswish", "hardsigmoid",
    "silu", "mish", "softplus", "logsigmoid", "softsign", "softshrink", "hardshrink",
    "tanhshrink", "glu", "prelu", "rrelu", "softmin", "softmax", "log_softmax", "normalize",
    "cosine_similarity", "pairwise_distance", "bilinear",
]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _maybe_inplace(input: Tensor, result: Tensor, inplace: bool) -> Tensor:
    if not inplace:
        return result
    return input._inplace_result("inplace", lambda alias: result if alias is input else result)


def _float_input(input: Tensor, op: str) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be a Tensor, not {type(input).__name__}")
    if input._data.dtype.kind not in "fc":
        raise OpError(
            f"{op}: expected a floating point tensor, got dtype {input.dtype}; convert it first, "
            "e.g. x.float()"
        )
    return input


def _apply(input: Tensor, inplace: bool, compute: Any) -> Tensor:
    """``compute(input)``, or the same written into ``input`` for inplace=True."""
    if inplace:
        return input._inplace_result("inplace", compute)
    return compute(input)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """x where x > threshold, else value."""
    return _apply(input, inplace, lambda x: where(x._data > threshold, x, value))


def hardtanh(
    input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False
) -> Tensor:
    """clip(x, min_val, max_val); gradient 1 strictly between them."""
    _float_input(input, "hardtanh")
    if min_val > max_val:
        raise OpError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")
    return _apply(input, inplace, lambda x: act.Hardtanh.apply(x, min_val=min_val,
                                                               max_val=max_val))


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6) (hardtanh(x, 0, 6))."""
    return hardtanh(input, 0.0, 6.0, inplace)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""
    _float_input(input, "elu")
    return _apply(input, inplace, lambda x: act.Elu.apply(x, alpha=alpha, scale=1.0,
                                                          input_scale=1.0))


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale * elu(x, alpha) with the self-normalising constants."""
    _float_input(input, "selu")
    return _apply(input, inplace, lambda x: act.Elu.apply(
        x, alpha=_SELU_ALPHA, scale=_SELU_SCALE, input_scale=1.0))


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    _float_input(input, "celu")
    if alpha == 0:
        raise OpError("celu: ZeroDivisionError, alpha cannot be 0")
    return _apply(input, inplace, lambda x: act.Elu.apply(x, alpha=alpha, scale=1.0,
                                                          input_scale=1.0 / alpha))


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """relu6(x + 3) / 6."""
    _float_input(input, "hardsigmoid")
    return _apply(input, inplace, lambda x: act.Hardtanh.apply(x + 3.0, min_val=0.0,
                                                               max_val=6.0) * (1.0 / 6.0))


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * relu6(x + 3) / 6."""
    _float_input(input, "hardswish")
    return _apply(input, inplace, lambda x: x * act.Hardtanh.apply(
        x + 3.0, min_val=0.0, max_val=6.0) * (1.0 / 6.0))


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x * sigmoid(x)."""
    return _apply(input, inplace, lambda x: x * x.sigmoid())


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta x)) / beta; x itself where beta x > threshold."""
    _float_input(input, "softplus")
    return act.Softplus.apply(input, beta=beta, threshold=threshold)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * tanh(softplus(x))."""
    _float_input(input, "mish")
    return _apply(input, inplace, lambda x: x * act.Softplus.apply(
        x, beta=1.0, threshold=20.0).tanh())


def logsigmoid(input: Tensor) -> Tensor:
    """log(1 / (1 + exp(-x))), stable for large ``|x|``."""
    _float_input(input, "logsigmoid")
    return act.LogSigmoid.apply(input)


def softsign(input: Tensor) -> Tensor:
    """``x / (1 + |x|)``."""
    return input / (input.abs() + 1.0)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x - lambd above lambd, x + lambd below -lambd, 0 between."""
    if lambd < 0:
        raise OpError(
            f"softshrink: lambda must be greater or equal to 0, but found to be {lambd}."
        )
    data = input._data
    return where(data > lambd, input - lambd, where(data < -lambd, input + lambd, 0.0))


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x where ``|x| > lambd``, else 0."""
    return where(np.abs(input._data) > lambd, input, 0.0)


def tanhshrink(input: Tensor) -> Tensor:
    """x - tanh(x)."""
    return input - input.tanh()


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """a * sigmoid(b) for the two halves a, b of ``input`` along ``dim``."""
    if input.ndim == 0:
        raise OpError("glu: glu does not support scalars because halving size must be even")
    size = input.shape[dim]
    if size % 2:
        raise OpError(
            f"glu: Halving dimension must be even, but dimension {dim % input.ndim} is size "
            f"{size}"
        )
    first, second = input.chunk(2, dim)
    return first * second.sigmoid()


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x for x > 0, weight * x otherwise; weight has 1 or C (= input.shape[1]) entries."""
    channels = input.shape[1] if input.ndim >= 2 else 1
    if weight.numel() != 1 and weight.numel() != channels:
        raise OpError(
            f"prelu: Mismatch of parameter numbers and input channel size. Found parameter "
            f"numbers = {weight.numel()} and channel size = {channels}."
        )
    if weight.numel() != 1 and input.ndim >= 2:
        weight = weight.reshape(channels, *([1] * (input.ndim - 2)))
    elif weight.ndim != 0:
        weight = weight.reshape(())
    return where(input._data > 0, input, input * weight)


def rrelu(
    input: Tensor,
    lower: float = 1.0 / 8,
    upper: float = 1.0 / 3,
    training: bool = False,
    inplace: bool = False,
) -> Tensor:
    """Leaky ReLU whose negative slope is drawn from U(lower, upper) per element in training,
    and is (lower + upper) / 2 in evaluation."""
    _float_input(input, "rrelu")
    if training:
        slopes = generator().uniform(lower, upper, input.shape).astype(input._data.dtype)
        slope: Any = _wrap(np.where(input._data >= 0, 1, slopes).astype(input._data.dtype))
    else:
        slope = (lower + upper) / 2
    return _apply(input, inplace, lambda x: where(x._data >= 0, x, x * slope))


def _softmax_dim(ndim: int, op: str) -> int:
    warnings.warn(
        f"Implicit dimension choice for {op} has been deprecated. Change the call to include "
        "dim=X as an argument.",
        UserWarning,
        stacklevel=3,
    )
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype: Any = None) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim`` (computed in ``dtype`` when given); shape kept.

    Example::

        >>> import minigrad as mg
        >>> import nn.functional as F
        >>> [round(p, 4) for p in F.softmax(mg.tensor([0.0, 1.0, 2.0]), dim=0).tolist()]
        [0.09, 0.2447, 0.6652]
    """
    if dim is None:
        dim = _softmax_dim(input.ndim, "softmax")
    if dtype is not None:
        input = input.to(dtype)
    return input.softmax(dim)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype: Any = None) -> Tensor:
    """softmax(-x) along ``dim``."""
    if dim is None:
        dim = _softmax_dim(input.ndim, "softmin")
    if dtype is not None:
        input = input.to(dtype)
    return (-input).softmax(dim)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
                dtype: Any = None) -> Tensor:
    """log(softmax(x)) along ``dim``, stably (computed in ``dtype`` when given)."""
    if dim is None:
        dim = _softmax_dim(input.ndim, "log_softmax")
    if dtype is not None:
        input = input.to(dtype)
    return input.log_softmax(dim)


def _vector_norm(x: Tensor, p: float, dim: int, keepdim: bool) -> Tensor:
    if p == 2:
        return (x * x).sum(dim, keepdim=keepdim).sqrt()
    if p == 1:
        return x.abs().sum(dim, keepdim=keepdim)
    if p == float("inf"):
        return x.abs().amax(dim, keepdim=keepdim)
    if p == float("-inf"):
        return x.abs().amin(dim, keepdim=keepdim)
    if p == 0:
        return _wrap((x._data != 0).sum(axis=dim, keepdims=keepdim).astype(x._data.dtype))
    return (x.abs() ** p).sum(dim, keepdim=keepdim) ** (1.0 / p)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,
              out: Tensor | None = None) -> Tensor:
    """x / max(||x||_p, eps) along ``dim``."""
    result = input / _vector_norm(input, p, dim, True).clamp(min=eps)
    if out is not None:
        from minigrad.declare import write_out

        return write_out("normalize", result, out)
    return result


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """x1 . x2 / (max(||x1||, eps) * max(||x2||, eps)) along ``dim`` (inputs broadcast)."""
    try:
        shape = np.broadcast_shapes(x1.shape, x2.shape)
    except ValueError:
        raise OpError(
            f"cosine_similarity: shapes {x1.shape} and {x2.shape} cannot be broadcast together"
        ) from None
    if not -len(shape) <= dim < max(len(shape), 1):
        raise IndexError(
            f"cosine_similarity: dim {dim} is out of range for inputs of {len(shape)} dims"
        )
    n1 = _vector_norm(x1, 2, dim, True).clamp(min=eps)
    n2 = _vector_norm(x2, 2, dim, True).clamp(min=eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """||x1 - x2 + eps||_p over the last dimension."""
    ndim = max(x1.ndim, x2.ndim)
    if ndim == 0:
        raise OpError("pairwise_distance: inputs must have at least one dimension")
    return _vector_norm(x1 - x2 + eps, p, -1, keepdim)


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None
             ) -> Tensor:
    """``y_k = x1^T W_k x2 + b_k``: ``(*, in1)``, ``(*, in2)``, W ``(out, in1, in2)``
    -> ``(*, out)``."""
    if weight.ndim != 3:
        raise OpError(f"bilinear: weight must be 3-D (out, in1, in2), got shape {weight.shape}")
    if input1.shape[-1] != weight.shape[1] or input2.shape[-1] != weight.shape[2]:
        raise OpError(
            f"bilinear: input1 {input1.shape} and input2 {input2.shape} do not match weight "
            f"{weight.shape}; expected last dims {weight.shape[1]} and {weight.shape[2]}"
        )
    if input1.shape[:-1] != input2.shape[:-1]:
        raise OpError(
            f"bilinear: input1 {input1.shape} and input2 {input2.shape} must have the same "
            "leading (batch) dimensions"
        )
    out_features, in1, in2 = weight.shape
    # (*, in1) @ (in1, out*in2) -> (*, out, in2), then contract with x2 over in2
    left = input1 @ weight.permute(1, 0, 2).reshape(in1, out_features * in2)
    left = left.reshape(*input1.shape[:-1], out_features, in2)
    out = (left * input2.unsqueeze(-2)).sum(-1)
    return out + bias if bias is not None else out
