"""Fold (col2im) and Unfold (im2col)."""

from __future__ import annotations

from typing import Any

import minigrad.functional as F
from minigrad.ops.windows import ntuple
from minigrad.tensor import Tensor
from nn.module import Module

__all__ = [
    "Fold",
    "Unfold",
]


def _check(layer: str, kernel_size: Any, dilation: Any, padding: Any, stride: Any) -> None:
    ntuple(kernel_size, 2, "kernel_size", layer)
    ntuple(dilation, 2, "dilation", layer)
    ntuple(padding, 2, "padding", layer, minimum=0)
    ntuple(stride, 2, "stride", layer)


class Fold(Module):
    """col2im: ``(N, C*KH*KW, L) -> (N, C, *output_size)``, summing overlapping windows."""

    def __init__(self, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
                 stride: Any = 1) -> None:
        super().__init__()
        _check(type(self).__name__, kernel_size, dilation, padding, stride)
        ntuple(output_size, 2, "output_size", type(self).__name__)
        self.output_size = output_size
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input: Tensor) -> Tensor:
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                      self.stride)

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
                f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}")


class Unfold(Module):
    """im2col: ``(N, C, H, W) -> (N, C*KH*KW, L)``, one column per window."""

    def __init__(self, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1
                 ) -> None:
        super().__init__()
        _check(type(self).__name__, kernel_size, dilation, padding, stride)
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input: Tensor) -> Tensor:
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")
