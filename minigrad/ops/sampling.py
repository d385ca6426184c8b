"""Random sampling ops whose result depends on tensors (bernoulli(p), normal(mean, std)).

As in PyTorch, the samples are not reparameterized: the result is part of the graph, and its
gradient with respect to the distribution's parameters is zero.
"""

from __future__ import annotations

import numpy as np

from minigrad.autograd.engine import Context, Primitive


class Sampled(Primitive):
    """Returns the samples drawn outside; every input gets a zero gradient."""

    @staticmethod
    def forward(ctx: Context, *inputs: np.ndarray, samples: np.ndarray) -> np.ndarray:
        ctx.count = len(inputs)
        return samples

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        zero = grad * 0  # arrays and, under create_graph, Tensors alike
        return (zero,) * ctx.count


class Bernoulli(Sampled):
    """Samples of ``bernoulli``, zero gradients."""


class Normal(Sampled):
    """Samples of ``normal``, zero gradients."""
