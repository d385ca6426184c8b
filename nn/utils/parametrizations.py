"""``nn.utils.parametrizations``: weight norm and spectral norm as parametrizations
(``nn.utils.parametrize``), with PyTorch's state_dict keys
(``parametrizations.weight.original0``/``original1``; ``parametrizations.weight.original``
and the power-iteration vectors ``parametrizations.weight.0._u``/``_v``)."""

from __future__ import annotations

import numpy as np

from minigrad import functional as F
from minigrad.autograd.engine import no_grad
from minigrad.tensor import Tensor, _wrap
from nn.module import Module
from nn.utils import parametrize
from nn.utils.spectral_norm import _default_dim, _matrix, _normalize
from nn.utils.weight_norm import _weight_norm, norm_except_dim

__all__ = ["spectral_norm", "weight_norm"]


class _WeightNorm(Module):
    """(g, v) -> v * g / ||v|| (norm over every dim but ``dim``; ``dim=None``: all)."""

    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight: Tensor) -> tuple[Tensor, Tensor]:
        return norm_except_dim(weight, 2, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Parametrize ``module.<name>`` as ``g * v / ||v||`` with ``original0`` = g and
    ``original1`` = v."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module


class _SpectralNorm(Module):
    """W -> W / sigma(W), sigma estimated by power iteration on the buffers ``_u``/``_v``
    (one step of ``n_power_iterations`` per training-mode evaluation)."""

    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12) -> None:
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError("Dimension out of range (expected to be in range of "
                             f"[-{ndim}, {ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            from minigrad.random import generator

            self.n_power_iterations = n_power_iterations
            height, width = _matrix(weight, self.dim).shape
            dtype = weight._data.dtype
            u = generator().normal(0.0, 1.0, height).astype(dtype)
            v = generator().normal(0.0, 1.0, width).astype(dtype)
            self.register_buffer("_u", _wrap(_normalize(u, eps).astype(dtype)))
            self.register_buffer("_v", _wrap(_normalize(v, eps).astype(dtype)))
            self._power_method(_matrix(weight, self.dim), 15)

    def _power_method(self, weight_mat: Tensor, n_power_iterations: int) -> None:
        mat = weight_mat._data
        for _ in range(n_power_iterations):
            np.copyto(self._u._data, _normalize(mat @ self._v._data, self.eps))
            np.copyto(self._v._data, _normalize(mat.conj().T @ self._u._data, self.eps))
        self._u._version.value += 1
        self._v._version.value += 1

    def forward(self, weight: Tensor) -> Tensor:
        if weight.ndim == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        weight_mat = _matrix(weight, self.dim)
        if self.training:
            with no_grad():
                self._power_method(weight_mat, self.n_power_iterations)
        # copies: the next training step updates the buffers in place
        u = _wrap(self._u._data.copy())
        v = _wrap(self._v._data.copy())
        sigma = (u * (weight_mat @ v)).sum()
        return weight / sigma

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Module:
    """Parametrize ``module.<name>`` as W / sigma(W) (spectral norm by power iteration; dim 1
    of a transposed convolution's weight, dim 0 otherwise, is the output dim)."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = _default_dim(module)
    parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module

