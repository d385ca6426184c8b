"""Convolution layers: Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d,
ConvTranspose3d.

One base class holds what PyTorch's ``_ConvNd`` holds (the arguments as tuples, ``weight`` and
``bias``, the default initialisation and ``extra_repr``); each layer names its functional op.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import minigrad.functional as F
from minigrad.ops.convnd import conv_transpose_output_padding, same_padding
from minigrad.ops.windows import ntuple
from minigrad.tensor import Tensor
from nn import init
from nn.linear import add_weight_and_bias
from nn.module import Module
from nn.module import factory_dtype as module_factory_dtype
from nn.parameter import Parameter

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")

__all__ = [
    "Conv1d",
    "Conv2d",
    "Conv3d",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "ConvTranspose3d",
]


def factory_dtype(layer: str, device: Any, dtype: Any) -> np.dtype:
    """``nn.module.factory_dtype`` with the layer's name first, as the layers here call it."""
    return module_factory_dtype(device, dtype, layer)


def _positive_int(layer: str, name: str, value: Any) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
        raise TypeError(f"{layer}: {name} must be an int, got {value!r}")
    return int(value)


class _ConvNd(Module):
    """What every convolution layer shares; subclasses set ``_dims`` and ``_transposed``."""

    weight: Parameter
    bias: Parameter | None
    _dims = 2
    _transposed = False

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any,
                 padding: Any, dilation: Any, groups: int, bias: bool, padding_mode: str,
                 output_padding: Any = 0, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        name, dims = type(self).__name__, self._dims
        in_channels = _positive_int(name, "in_channels", in_channels)
        out_channels = _positive_int(name, "out_channels", out_channels)
        groups = _positive_int(name, "groups", groups)
        if groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups}")
        if in_channels % groups != 0:
            raise ValueError(f"{name}: in_channels ({in_channels}) must be divisible by groups "
                             f"({groups})")
        if out_channels % groups != 0:
            raise ValueError(f"{name}: out_channels ({out_channels}) must be divisible by "
                             f"groups ({groups})")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {list(_PADDING_MODES)}, but "
                             f"got padding_mode={padding_mode!r}")
        if self._transposed and padding_mode != "zeros":
            raise ValueError(f'{name}: Only "zeros" padding mode is supported for {name}')
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = ntuple(kernel_size, dims, "kernel_size", name)
        self.stride = ntuple(stride, dims, "stride", name)
        self.dilation = ntuple(dilation, dims, "dilation", name)
        if isinstance(padding, str):
            if self._transposed:
                raise TypeError(f"{name}: padding must be an int or a tuple of {dims} ints, "
                                f"got {padding!r}")
            if padding not in ("same", "valid"):
                raise ValueError(f"{name}: Invalid padding string {padding!r}, should be one "
                                 "of ['valid', 'same']")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided "
                                 "convolutions")
            self.padding: Any = padding
            pads = same_padding(self.kernel_size, self.dilation) if padding == "same" else (
                ((0, 0),) * dims)
        else:
            self.padding = ntuple(padding, dims, "padding", name, minimum=0)
            pads = tuple((p, p) for p in self.padding)
        # F.pad's order: the last dimension first
        self._reversed_padding_repeated_twice = [p for pair in reversed(pads) for p in pair]
        self.output_padding = ntuple(output_padding, dims, "output_padding", name, minimum=0)
        self.transposed = self._transposed
        self.groups = groups
        self.padding_mode = padding_mode
        if self._transposed:
            shape = (in_channels, out_channels // groups, *self.kernel_size)
        else:
            shape = (out_channels, in_channels // groups, *self.kernel_size)
        bias_size = out_channels if self._transposed else None
        add_weight_and_bias(self, shape, bias, factory_dtype(name, device, dtype), bias_size)

    def reset_parameters(self) -> None:
        init.default_weight_and_bias_(self.weight, self.bias)

    def extra_repr(self) -> str:
        dims = self._dims
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0,) * dims:
            text += f", padding={self.padding}"
        if self.dilation != (1,) * dims:
            text += f", dilation={self.dilation}"
        if self.output_padding != (0,) * dims:
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text


class _Conv(_ConvNd):
    _op: Any = None

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, 0, device, dtype)

    def forward(self, input: Tensor) -> Tensor:
        conv = type(self)._op
        if self.padding_mode != "zeros":
            padded = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return conv(padded, self.weight, self.bias, self.stride, 0, self.dilation,
                        self.groups)
        return conv(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                    self.groups)


class Conv1d(_Conv):
    """1-D convolution: ``(N, C_in, L) -> (N, C_out, OL)``; weight (C_out, C_in/groups, K)."""

    _dims = 1
    _op = staticmethod(F.conv1d)


class Conv2d(_Conv):
    """2-D convolution: ``(N, C_in, H, W) -> (N, C_out, OH, OW)``.

    ``weight`` is ``(out_channels, in_channels // groups, kH, kW)``; padding is an int, a
    pair, ``'valid'`` (no padding) or ``'same'`` (output as large as the input; stride 1);
    ``padding_mode`` is 'zeros', 'reflect', 'replicate' or 'circular'. Initialised like
    PyTorch: kaiming uniform with a=sqrt(5), bias U(±1/sqrt(fan_in)).

    Example::

        >>> import minigrad as mg
        >>> import nn
        >>> conv = nn.Conv2d(3, 8, kernel_size=3, stride=2, padding=1)
        >>> conv(mg.ones(2, 3, 16, 16)).shape
        minigrad.Size([2, 8, 8, 8])
        >>> conv.weight.shape
        minigrad.Size([8, 3, 3, 3])
    """

    _dims = 2
    _op = staticmethod(F.conv2d)


class Conv3d(_Conv):
    """3-D convolution: ``(N, C_in, D, H, W) -> (N, C_out, OD, OH, OW)``."""

    _dims = 3
    _op = staticmethod(F.conv3d)


class _ConvTranspose(_ConvNd):
    _transposed = True
    _op: Any = None

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, output_padding: Any = 0, groups: int = 1, bias: bool = True,
                 dilation: Any = 1, padding_mode: str = "zeros", device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, output_padding, device, dtype)

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:
        output_padding = self.output_padding
        if output_size is not None:
            batched = input.ndim == self._dims + 2
            output_padding = conv_transpose_output_padding(
                type(self).__name__, tuple(input.shape[2 if batched else 1:]), output_size,
                self.kernel_size, self.stride, self.padding, self.dilation)
        return type(self)._op(input, self.weight, self.bias, self.stride, self.padding,
                              output_padding, self.groups, self.dilation)


class ConvTranspose1d(_ConvTranspose):
    """Transposed 1-D convolution (the gradient of conv1d): ``(N, C_in, L) -> (N, C_out, OL)``;
    weight (C_in, C_out/groups, K)."""

    _dims = 1
    _op = staticmethod(F.conv_transpose1d)


class ConvTranspose2d(_ConvTranspose):
    """Transposed 2-D convolution: ``(N, C_in, H, W) -> (N, C_out, OH, OW)``."""

    _dims = 2
    _op = staticmethod(F.conv_transpose2d)


class ConvTranspose3d(_ConvTranspose):
    """Transposed 3-D convolution: ``(N, C_in, D, H, W) -> (N, C_out, OD, OH, OW)``."""

    _dims = 3
    _op = staticmethod(F.conv_transpose3d)
