"""Normalization functionals: batch_norm, instance_norm, layer_norm, group_norm and
local_response_norm, with PyTorch's signatures.

All are composed from Tensor operations (their gradients come from those). Running statistics
are updated in place on the buffers' arrays, outside the graph, as PyTorch does.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from minigrad.errors import OpError
from minigrad.ops.batchnorm import BatchNorm
from minigrad.ops.normalization import Normalize
from minigrad.tensor import Tensor, pad

__all__ = [
    "batch_norm", "instance_norm", "layer_norm", "group_norm", "local_response_norm", "rms_norm",
]


def _update_running(running: Tensor | None, batch_value: np.ndarray | None,
                    momentum: float) -> None:
    """running = (1 - momentum) * running + momentum * batch_value, in place."""
    if running is None or batch_value is None:
        return
    running._data *= 1 - momentum
    running._data += (momentum * batch_value).astype(running._data.dtype, copy=False)
    running._version.value += 1


def _normalize(input: Tensor, axes: tuple[int, ...], eps: float) -> Tensor:
    """(x - mean) / sqrt(var + eps) over ``axes`` (biased variance), one primitive."""
    if not input.is_floating_point():
        raise TypeError(f"normalization: expected a floating point input, got {input.dtype}")
    return Normalize.apply(input, axes=axes, eps=eps)


def _check_values_per_channel(count: int, input: Tensor, op: str) -> None:
    if count <= 1:
        raise OpError(
            f"{op}: expected more than 1 value per channel when training, got input of shape "
            f"{input.shape}; use a larger batch (or spatial size) or call model.eval()"
        )


def _affine(out: Tensor, weight: Tensor | None, bias: Tensor | None,
            shape: tuple[int, ...]) -> Tensor:
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def _check_channel_vectors(op: str, channels: int, **vectors: Tensor | None) -> None:
    for name, t in vectors.items():
        if t is not None and t.numel() != channels:
            raise OpError(
                f"{op}: {name} of shape {t.shape} does not match the {channels} channels of "
                f"the input (dim 1); it needs {channels} elements"
            )


def _channel_shape(input: Tensor) -> tuple[int, ...]:
    """``(1, C, 1, ...)``: per-channel statistics shaped to broadcast against ``input``."""
    return (1, input.shape[1]) + (1,) * (input.ndim - 2)


def _normalize_running(input: Tensor, running_mean: Tensor, running_var: Tensor, eps: float,
                       stat_shape: tuple[int, ...]) -> Tensor:
    """``(x - running_mean) / sqrt(running_var + eps)`` per channel (no gradient to the
    statistics)."""
    mean = running_mean.detach().reshape(stat_shape).to(input.dtype)
    inv_std = (running_var.detach().reshape(stat_shape).to(input.dtype) + eps).rsqrt()
    return (input - mean) * inv_std


def _normalized_shape(op: str, normalized_shape: int | Sequence[int],
                      input: Tensor) -> tuple[int, ...]:
    """``normalized_shape`` as a tuple, checked to be the trailing dims of ``input``."""
    shape = (int(normalized_shape),) if isinstance(normalized_shape, (int, np.integer)) else (
        tuple(int(n) for n in normalized_shape))
    k = len(shape)
    if k == 0 or input.ndim < k or input.shape[input.ndim - k:] != shape:
        raise OpError(
            f"{op}: given normalized_shape={list(shape)}, expected input with shape "
            f"[*, {', '.join(map(str, shape))}], but got input of size {list(input.shape)}"
        )
    return shape


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each channel of ``(N, C, *)``: batch statistics when ``training`` (and
    ``running = (1 - momentum) * running + momentum * batch``, unbiased variance), the
    running statistics otherwise; then scale by ``weight`` and shift by ``bias``."""
    if input.ndim < 2:
        raise OpError(f"batch_norm: expected input of shape (N, C, *), got {input.shape}")
    channels = input.shape[1]
    _check_channel_vectors("batch_norm", channels, running_mean=running_mean,
                           running_var=running_var, weight=weight, bias=bias)
    stat_shape = _channel_shape(input)
    if training:
        count = input._data.size // channels if channels else 0
        _check_values_per_channel(count, input, "batch_norm")
    if _fused(input, weight, bias) and (training or (running_mean is not None
                                                     and running_var is not None)):
        return _batch_norm_fused(input, running_mean, running_var, weight, bias, training,
                                 momentum, eps)
    if training:
        axes = (0, *range(2, input.ndim))
        out = _normalize(input, axes, eps)
        if running_mean is not None or running_var is not None:
            batch_mean = input._data.mean(axis=axes)
            _update_running(running_mean, batch_mean, momentum)
            unbiased = input._data.var(axis=axes, ddof=1) if running_var is not None else None
            _update_running(running_var, unbiased, momentum)
    else:
        if running_mean is None or running_var is None:
            raise OpError(
                "batch_norm: running_mean and running_var are needed when not training; pass "
                "training=True to use the batch statistics"
            )
        out = _normalize_running(input, running_mean, running_var, eps, stat_shape)
    return _affine(out, weight, bias, stat_shape)


def _fused(input: Tensor, weight: Tensor | None, bias: Tensor | None) -> bool:
    """Whether batch_norm runs as the one fused primitive: a float input with at least one
    element, weight and bias (if any) of shape (C,) and the input's dtype."""
    dtype = input._data.dtype
    shape = input.shape[1:2]
    return dtype.kind == "f" and input._data.size > 0 and all(
        t is None or (t.shape == shape and t._data.dtype == dtype) for t in (weight, bias))


def _batch_norm_fused(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
                      weight: Tensor | None, bias: Tensor | None, training: bool,
                      momentum: float, eps: float) -> Tensor:
    """``batch_norm`` as one primitive (``minigrad.ops.batchnorm``), running stats in place."""
    params = [t for t in (weight, bias) if t is not None]
    affine = (weight is not None, bias is not None)
    if not training:
        assert running_mean is not None and running_var is not None
        stats = (running_mean._data.reshape(-1), running_var._data.reshape(-1))
        return BatchNorm.apply(input, *params, affine=affine, eps=eps, stats=stats)
    sink: list[np.ndarray] = []
    out = BatchNorm.apply(input, *params, affine=affine, eps=eps, sink=sink)
    batch_mean, biased_var = sink
    count = input._data.size // input.shape[1]
    _update_running(running_mean, batch_mean, momentum)
    if running_var is not None:
        _update_running(running_var, biased_var * (count / (count - 1)), momentum)
    return out


def instance_norm(
    input: Tensor,
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each (sample, channel) of ``(N, C, *)`` over its spatial positions; the running
    statistics (if given) move towards the batch average of the per-instance statistics."""
    if input.ndim < 3:
        raise OpError(
            f"instance_norm: expected input of shape (N, C, *spatial) with at least one spatial "
            f"dim, got {input.shape}"
        )
    channels = input.shape[1]
    _check_channel_vectors("instance_norm", channels, running_mean=running_mean,
                           running_var=running_var, weight=weight, bias=bias)
    stat_shape = _channel_shape(input)
    if use_input_stats:
        axes = tuple(range(2, input.ndim))
        count = int(np.prod(input.shape[2:]))
        if count <= 1:
            raise OpError(
                f"instance_norm: expected more than 1 spatial element when training, got input "
                f"of shape {input.shape}"
            )
        out = _normalize(input, axes, eps)
        if running_mean is not None:
            _update_running(running_mean, input._data.mean(axis=axes).mean(0), momentum)
        if running_var is not None:
            unbiased = input._data.var(axis=axes, ddof=1).mean(0)
            _update_running(running_var, unbiased, momentum)
    else:
        if running_mean is None or running_var is None:
            raise OpError(
                "instance_norm: running_mean and running_var are needed when use_input_stats is "
                "False"
            )
        out = _normalize_running(input, running_mean, running_var, eps, stat_shape)
    return _affine(out, weight, bias, stat_shape)


def layer_norm(
    input: Tensor,
    normalized_shape: int | Sequence[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise over the last ``len(normalized_shape)`` dims (biased variance), then
    ``* weight + bias`` (both of ``normalized_shape``)."""
    shape = _normalized_shape("layer_norm", normalized_shape, input)
    k = len(shape)
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.shape != shape:
            raise OpError(
                f"layer_norm: {name} of shape {t.shape} must have normalized_shape {shape}"
            )
    out = _normalize(input, tuple(range(input.ndim - k, input.ndim)), eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def group_norm(
    input: Tensor,
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Split the C channels of ``(N, C, *)`` into ``num_groups`` groups and normalise each
    (sample, group) over its channels and positions; then per-channel ``weight``/``bias``."""
    if input.ndim < 2:
        raise OpError(
            f"group_norm: expected at least 2 dimensions for input tensor but received "
            f"{input.ndim} (shape {input.shape})"
        )
    batch, channels = input.shape[:2]
    if num_groups <= 0 or channels % num_groups:
        raise OpError(
            f"group_norm: expected number of channels in input ({channels}) to be divisible by "
            f"num_groups ({num_groups})"
        )
    _check_channel_vectors("group_norm", channels, weight=weight, bias=bias)
    if batch * channels // num_groups * int(np.prod(input.shape[2:])) == 1:  # PyTorch's check
        raise ValueError(
            f"group_norm: expected more than 1 value per channel when training, got input of "
            f"shape {input.shape} with {num_groups} groups"
        )
    grouped = input.reshape(batch, num_groups, -1)
    out = _normalize(grouped, (2,), eps)
    out = out.reshape(input.shape)
    return _affine(out, weight, bias, _channel_shape(input))


def local_response_norm(
    input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0
) -> Tensor:
    """``x / (k + alpha / size * sum of x² over a window of `size` channels) ** beta`` on
    ``(N, C, *)``; the window is centred (size // 2 before) and zero-padded, as in PyTorch."""
    if input.ndim < 3:
        raise OpError(
            f"local_response_norm: expected 3D or higher dimensionality input (got {input.ndim} "
            f"dimensions, shape {input.shape})"
        )
    if input.numel() == 0:
        return input
    channels = input.shape[1]
    squared = input * input
    widths = [0, 0] * (input.ndim - 2) + [size // 2, (size - 1) // 2]
    padded = pad(squared, widths)
    window = padded[:, 0:channels]
    for offset in range(1, size):  # a loop over the window's offsets only
        window = window + padded[:, offset:offset + channels]
    div = (window * (alpha / size) + k) ** beta
    return input / div



def rms_norm(
    input: Tensor,
    normalized_shape: int | Sequence[int],
    weight: Tensor | None = None,
    eps: float | None = None,
) -> Tensor:
    """``x / sqrt(mean(x²) + eps)`` over the last ``len(normalized_shape)`` dims, then
    ``* weight``; ``eps=None`` is the machine epsilon of the input's dtype."""
    shape = _normalized_shape("rms_norm", normalized_shape, input)
    k = len(shape)
    if eps is None:
        eps = float(np.finfo(input.dtype).eps)
    axes = tuple(range(input.ndim - k, input.ndim))
    out = input * ((input * input).mean(dim=axes, keepdim=True) + eps).rsqrt()
    return out if weight is None else out * weight
