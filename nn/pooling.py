"""Pooling layers: max, average, adaptive max/average, max-unpool and power-average pools of
1, 2 and 3 spatial dimensions.

Each layer keeps its arguments as PyTorch does (so that ``repr`` matches), checks them once
when built (``minigrad.ops.windows.ntuple``: an error names the layer and the argument) and
calls its functional op.
"""

from __future__ import annotations

from typing import Any

import minigrad.functional as F
from minigrad.ops.windows import ntuple
from minigrad.tensor import Tensor
from nn.module import Module

__all__ = [
    "MaxPool1d",
    "MaxPool2d",
    "MaxPool3d",
    "AvgPool1d",
    "AvgPool2d",
    "AvgPool3d",
    "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d",
    "AdaptiveMaxPool3d",
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AdaptiveAvgPool3d",
    "MaxUnpool1d",
    "MaxUnpool2d",
    "MaxUnpool3d",
    "LPPool1d",
    "LPPool2d",
    "LPPool3d",
    "FractionalMaxPool2d",
    "FractionalMaxPool3d",
]


def _check(layer: str, dims: int, kernel_size: Any, stride: Any = None, padding: Any = 0,
           dilation: Any = 1) -> None:
    ntuple(kernel_size, dims, "kernel_size", layer)
    if stride is not None:
        ntuple(stride, dims, "stride", layer)
    ntuple(padding, dims, "padding", layer, minimum=0)
    ntuple(dilation, dims, "dilation", layer)


class _MaxPoolNd(Module):
    _dims = 2
    _op: Any = None

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 dilation: Any = 1, return_indices: bool = False, ceil_mode: bool = False
                 ) -> None:
        super().__init__()
        _check(type(self).__name__, self._dims, kernel_size, stride, padding, dilation)
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input: Tensor) -> Any:
        return type(self)._op(input, self.kernel_size, self.stride, self.padding, self.dilation,
                              ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """Max over windows: ``(N, C, L) -> (N, C, OL)``; ``stride`` defaults to ``kernel_size``."""

    _dims = 1
    _op = staticmethod(F.max_pool1d)


class MaxPool2d(_MaxPoolNd):
    """Max over ``kernel_size`` windows: ``(N, C, H, W) -> (N, C, OH, OW)``;
    ``stride`` defaults to ``kernel_size``.

    Example::

        >>> import minigrad as mg
        >>> import nn
        >>> nn.MaxPool2d(2)(mg.ones(1, 3, 8, 8)).shape
        minigrad.Size([1, 3, 4, 4])"""

    _dims = 2
    _op = staticmethod(F.max_pool2d)


class MaxPool3d(_MaxPoolNd):
    """Max over windows: ``(N, C, D, H, W) -> (N, C, OD, OH, OW)``."""

    _dims = 3
    _op = staticmethod(F.max_pool3d)


class AvgPool1d(Module):
    """Mean over windows: ``(N, C, L) -> (N, C, OL)``."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True) -> None:
        super().__init__()
        layer = type(self).__name__
        self.kernel_size = ntuple(kernel_size, 1, "kernel_size", layer)
        self.stride = ntuple(stride if stride is not None else kernel_size, 1, "stride", layer)
        self.padding = ntuple(padding, 1, "padding", layer, minimum=0)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input: Tensor) -> Tensor:
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _AvgPoolNd(Module):
    _dims = 2
    _op: Any = None

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None) -> None:
        super().__init__()
        _check(type(self).__name__, self._dims, kernel_size, stride, padding)
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return type(self)._op(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                              self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(_AvgPoolNd):
    """Mean over ``kernel_size`` windows: ``(N, C, H, W) -> (N, C, OH, OW)``;
    ``stride`` defaults to ``kernel_size``."""

    _dims = 2
    _op = staticmethod(F.avg_pool2d)


class AvgPool3d(_AvgPoolNd):
    """Mean over windows: ``(N, C, D, H, W) -> (N, C, OD, OH, OW)``."""

    _dims = 3
    _op = staticmethod(F.avg_pool3d)


class _AdaptivePool(Module):
    _op: Any = None

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Any:
        return type(self)._op(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class _AdaptiveMaxPool(_AdaptivePool):
    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input: Tensor) -> Any:
        return type(self)._op(input, self.output_size, self.return_indices)


class AdaptiveMaxPool1d(_AdaptiveMaxPool):
    """Max over PyTorch's adaptive windows: ``(N, C, L) -> (N, C, output_size)``."""

    _op = staticmethod(F.adaptive_max_pool1d)


class AdaptiveMaxPool2d(_AdaptiveMaxPool):
    """Max over PyTorch's adaptive windows: ``(N, C, H, W) -> (N, C, *output_size)``."""

    _op = staticmethod(F.adaptive_max_pool2d)


class AdaptiveMaxPool3d(_AdaptiveMaxPool):
    """Max over PyTorch's adaptive windows: ``(N, C, D, H, W) -> (N, C, *output_size)``."""

    _op = staticmethod(F.adaptive_max_pool3d)


class AdaptiveAvgPool1d(_AdaptivePool):
    """Average-pool to a fixed ``output_size``: ``(N, C, L) -> (N, C, output_size)``."""

    _op = staticmethod(F.adaptive_avg_pool1d)


class AdaptiveAvgPool2d(_AdaptivePool):
    """Average-pool to a fixed ``output_size``: ``(N, C, H, W) -> (N, C, *output_size)``."""

    _op = staticmethod(F.adaptive_avg_pool2d)


class AdaptiveAvgPool3d(_AdaptivePool):
    """Average-pool to a fixed ``output_size``: ``(N, C, D, H, W) -> (N, C, *output_size)``."""

    _op = staticmethod(F.adaptive_avg_pool3d)


class _MaxUnpoolNd(Module):
    _dims = 2
    _op: Any = None

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> None:
        super().__init__()
        layer, dims = type(self).__name__, self._dims
        self.kernel_size = ntuple(kernel_size, dims, "kernel_size", layer)
        self.stride = ntuple(stride if stride is not None else kernel_size, dims, "stride",
                             layer)
        self.padding = ntuple(padding, dims, "padding", layer, minimum=0)

    def forward(self, input: Tensor, indices: Tensor, output_size: Any = None) -> Tensor:
        return type(self)._op(input, indices, self.kernel_size, self.stride, self.padding,
                              output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """The partial inverse of MaxPool1d: ``(N, C, L), indices -> (N, C, OL)``."""

    _dims = 1
    _op = staticmethod(F.max_unpool1d)


class MaxUnpool2d(_MaxUnpoolNd):
    """The partial inverse of MaxPool2d: ``(N, C, H, W), indices -> (N, C, OH, OW)``."""

    _dims = 2
    _op = staticmethod(F.max_unpool2d)


class MaxUnpool3d(_MaxUnpoolNd):
    """The partial inverse of MaxPool3d: ``(N, C, D, H, W), indices -> (N, C, OD, OH, OW)``."""

    _dims = 3
    _op = staticmethod(F.max_unpool3d)


class _LPPoolNd(Module):
    _dims = 2
    _op: Any = None

    def __init__(self, norm_type: float, kernel_size: Any, stride: Any = None,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        _check(type(self).__name__, self._dims, kernel_size, stride)
        self.norm_type = norm_type
        self.kernel_size = kernel_size
        self.stride = stride
        self.ceil_mode = ceil_mode

    def forward(self, input: Tensor) -> Tensor:
        return type(self)._op(input, float(self.norm_type), self.kernel_size, self.stride,
                              self.ceil_mode)

    def extra_repr(self) -> str:
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPoolNd):
    """Power-average pool: ``(sum over each window of x**p) ** (1/p)``, ``(N, C, L)``."""

    _dims = 1
    _op = staticmethod(F.lp_pool1d)


class LPPool2d(_LPPoolNd):
    """Power-average pool over ``(N, C, H, W)``."""

    _dims = 2
    _op = staticmethod(F.lp_pool2d)


class LPPool3d(_LPPoolNd):
    """Power-average pool over ``(N, C, D, H, W)``."""

    _dims = 3
    _op = staticmethod(F.lp_pool3d)


class _FractionalMaxPoolNd(Module):
    _dims = 2
    _op: Any = None

    def __init__(self, kernel_size: Any, output_size: Any = None, output_ratio: Any = None,
                 return_indices: bool = False, _random_samples: Any = None) -> None:
        super().__init__()
        layer, dims = type(self).__name__, self._dims
        self.kernel_size = ntuple(kernel_size, dims, "kernel_size", layer)
        self.return_indices = return_indices
        self.register_buffer("_random_samples", _random_samples)
        self.output_size = (ntuple(output_size, dims, "output_size", layer)
                            if output_size is not None else None)
        if output_ratio is not None:
            ratios = tuple(output_ratio) if isinstance(output_ratio, (tuple, list)) else (
                output_ratio,) * dims
            self.output_ratio: Any = ratios * dims if len(ratios) == 1 else ratios
        else:
            self.output_ratio = None
        if output_size is None and output_ratio is None:
            raise ValueError(f"{layer} requires specifying either an output size, or a pooling "
                             "ratio")
        if output_size is not None and output_ratio is not None:
            raise ValueError("only one of output_size and output_ratio may be specified")
        if self.output_ratio is not None and not all(0 < r < 1 for r in self.output_ratio):
            raise ValueError(f"output_ratio must be between 0 and 1 (got {output_ratio})")

    def forward(self, input: Tensor) -> Any:
        return type(self)._op(input, self.kernel_size, self.output_size, self.output_ratio,
                              self.return_indices, _random_samples=self._random_samples)


class FractionalMaxPool2d(_FractionalMaxPoolNd):
    """Max over pseudo-random windows of ``kernel_size``: ``(N, C, H, W) -> (N, C, *out)``."""

    _dims = 2
    _op = staticmethod(F.fractional_max_pool2d)


class FractionalMaxPool3d(_FractionalMaxPoolNd):
    """Max over pseudo-random windows: ``(N, C, T, H, W) -> (N, C, *out)``."""

    _dims = 3
    _op = staticmethod(F.fractional_max_pool3d)
