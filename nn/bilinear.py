"""Bilinear: ``y = x1^T W x2 + b``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from minigrad import functional_activation as FA
from minigrad.tensor import Tensor
from nn import init
from nn.module import Module, factory_dtype
from nn.parameter import Parameter


class Bilinear(Module):
    """``(*, in1_features), (*, in2_features) -> (*, out_features)``; weight
    ``(out_features, in1_features, in2_features)``, weight and bias U(±1/sqrt(in1_features))
    as in PyTorch."""

    def __init__(self, in1_features: int, in2_features: int, out_features: int,
                 bias: bool = True, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        resolved = factory_dtype(device, dtype, "Bilinear")
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        self.weight = Parameter(np.empty((out_features, in1_features, in2_features), resolved))
        if bias:
            self.bias = Parameter(np.empty(out_features, resolved))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Initialise the parameters again, as the constructor does (PyTorch's scheme)."""
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return FA.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
            f"out_features={self.out_features}, bias={self.bias is not None}"
        )
