"""Dropout layers: Dropout, Dropout1d/2d/3d (whole channels), AlphaDropout and
FeatureAlphaDropout (for SELU networks). All are the identity in eval mode."""

from __future__ import annotations

from collections.abc import Callable

import minigrad.functional as F
from minigrad.tensor import Tensor
from nn.module import Module


class _DropoutNd(Module):
    _functional: Callable[..., Tensor]

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return type(self)._functional(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """While training, zero each element with probability ``p`` and scale the rest by
    ``1 / (1 - p)``; the identity in eval mode.

    Example::

        >>> import minigrad as mg
        >>> import nn
        >>> dropout = nn.Dropout(0.5)
        >>> _ = mg.manual_seed(0)
        >>> sorted(set(dropout(mg.ones(1000)).tolist()))
        [0.0, 2.0]
        >>> dropout.eval()(mg.ones(3)).tolist()
        [1.0, 1.0, 1.0]"""

    _functional = staticmethod(F.dropout)


class Dropout1d(_DropoutNd):
    """Zero whole channels of ``(N, C, L)`` or ``(C, L)`` while training."""

    _functional = staticmethod(F.dropout1d)


class Dropout2d(_DropoutNd):
    """Zero whole channels of ``(N, C, H, W)`` while training."""

    _functional = staticmethod(F.dropout2d)


class Dropout3d(_DropoutNd):
    """Zero whole channels of ``(N, C, D, H, W)`` or ``(C, D, H, W)`` while training."""

    _functional = staticmethod(F.dropout3d)


class AlphaDropout(_DropoutNd):
    """Dropout that keeps SELU activations at zero mean and unit variance."""

    _functional = staticmethod(F.alpha_dropout)


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels of ``(N, C, *)``."""

    _functional = staticmethod(F.feature_alpha_dropout)
