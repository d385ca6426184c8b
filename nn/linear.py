"""Linear and Identity."""

from __future__ import annotations

from typing import Any

import numpy as np

import minigrad.functional as F
from minigrad.errors import OpError
from minigrad.tensor import Tensor
from nn import init
from nn.module import Module, factory_dtype
from nn.parameter import Parameter


class Identity(Module):
    """Returns its input unchanged; a placeholder where a layer is optional."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Linear(Module):
    """``y = x W^T + b``: ``(*, in_features) -> (*, out_features)``.

    ``weight`` is ``(out_features, in_features)``, initialised like PyTorch: kaiming uniform
    with a=sqrt(5), i.e. U(±1/sqrt(in_features)), and the bias U(±1/sqrt(in_features)).

    Example::

        >>> import minigrad as mg
        >>> import nn
        >>> layer = nn.Linear(3, 2)
        >>> layer(mg.ones(5, 3)).shape
        minigrad.Size([5, 2])
        >>> layer.weight.shape, layer.bias.shape
        (minigrad.Size([2, 3]), minigrad.Size([2]))
    """

    weight: Parameter
    bias: Parameter | None

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        dtype = factory_dtype(device, dtype, "Linear")
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 0:
                raise (TypeError if not isinstance(value, (int, np.integer)) else OpError)(
                    f"Linear: {name} must be a non-negative integer, got {value!r}"
                )
        self.in_features = in_features
        self.out_features = out_features
        add_weight_and_bias(self, (out_features, in_features), bias, dtype)

    def reset_parameters(self) -> None:
        """Initialise the parameters again, as the constructor does (PyTorch's scheme)."""
        init.default_weight_and_bias_(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


def add_weight_and_bias(module: Module, weight_shape: tuple[int, ...], bias: bool,
                        dtype: np.dtype, bias_size: int | None = None) -> None:
    """Register ``weight`` (and ``bias`` of size ``bias_size``, by default weight_shape[0], or
    None) on ``module`` and initialise them with ``module.reset_parameters()``."""
    module.weight = Parameter(np.empty(weight_shape, dtype=dtype))
    if bias:
        size = weight_shape[0] if bias_size is None else bias_size
        module.bias = Parameter(np.empty((size,), dtype=dtype))
    else:
        module.register_parameter("bias", None)
    module.reset_parameters()
