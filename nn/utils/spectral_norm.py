"""``nn.utils.spectral_norm`` / ``remove_spectral_norm``: PyTorch's forward-pre-hook spectral
normalisation (parameter ``weight_orig``, buffers ``weight_u`` and ``weight_v``), the weight
divided by its largest singular value estimated by power iteration."""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.autograd.engine import no_grad
from minigrad.tensor import Tensor, _wrap
from nn.module import Module
from nn.parameter import Parameter

__all__ = ["SpectralNorm", "remove_spectral_norm", "spectral_norm"]


def _normalize(x: np.ndarray, eps: float) -> np.ndarray:
    """x / max(||x||, eps) (F.normalize of a vector)."""
    return x / max(float(np.sqrt(np.sum(x * x))), eps)


def _matrix(weight: Tensor, dim: int) -> Tensor:
    """``weight`` as (size of dim ``dim``, everything else)."""
    if dim != 0:
        weight = weight.permute(dim, *[d for d in range(weight.ndim) if d != dim])
    return weight.reshape(weight.shape[0], -1)


class SpectralNorm:
    """The forward pre-hook that sets ``weight = weight_orig / sigma``, with one power
    iteration step per training-mode forward."""

    _version = 1

    def __init__(self, name: str = "weight", n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12) -> None:
        self.name = name
        self.dim = dim
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.n_power_iterations = n_power_iterations
        self.eps = eps

    def reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        return _matrix(weight, self.dim)

    def compute_weight(self, module: Module, do_power_iteration: bool) -> Tensor:
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        weight_mat = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            mat = weight_mat._data
            for _ in range(self.n_power_iterations):
                np.copyto(v._data, _normalize(mat.T @ u._data, self.eps))
                np.copyto(u._data, _normalize(mat @ v._data, self.eps))
            u._version.value += 1
            v._version.value += 1
            # the graph keeps copies: the next step updates the buffers in place
            u, v = _wrap(u._data.copy()), _wrap(v._data.copy())
        sigma = (u * (weight_mat @ v)).sum()
        return weight / sigma

    def remove(self, module: Module) -> None:
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        delattr(module, self.name)
        delattr(module, self.name + "_u")
        delattr(module, self.name + "_v")
        delattr(module, self.name + "_orig")
        module.register_parameter(self.name, Parameter(weight.detach()._data))

    def __call__(self, module: Module, inputs: Any) -> None:
        setattr(module, self.name,
                self.compute_weight(module, do_power_iteration=module.training))

    @staticmethod
    def apply(module: Module, name: str, n_power_iterations: int, dim: int,
              eps: float) -> SpectralNorm:
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise RuntimeError(
                    f"Cannot register two spectral_norm hooks on the same parameter {name}")
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        weight = module._parameters[name]
        if weight is None:
            raise ValueError(f"spectral_norm: {type(module).__name__}.{name} is None; "
                             "pass the name of a parameter that holds a tensor")
        from minigrad.random import generator

        height, width = fn.reshape_weight_to_matrix(weight).shape
        dtype = weight._data.dtype
        u = _normalize(generator().normal(0.0, 1.0, height).astype(dtype), fn.eps)
        v = _normalize(generator().normal(0.0, 1.0, width).astype(dtype), fn.eps)
        delattr(module, fn.name)
        module.register_parameter(fn.name + "_orig", weight)
        setattr(module, fn.name, weight.detach())
        module.register_buffer(fn.name + "_u", _wrap(u.astype(dtype)))
        module.register_buffer(fn.name + "_v", _wrap(v.astype(dtype)))
        module.register_forward_pre_hook(fn)
        return fn


def _default_dim(module: Module) -> int:
    from nn.conv import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d

    return 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)) else 0


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Module:
    """Divide ``module.<name>`` by its spectral norm before every forward (dim 1 of a
    transposed convolution's weight, dim 0 otherwise, is the output dim)."""
    if dim is None:
        dim = _default_dim(module)
    SpectralNorm.apply(module, name, n_power_iterations, dim, eps)
    return module


def remove_spectral_norm(module: Module, name: str = "weight") -> Module:
    """Make ``module.<name>`` a plain parameter again (the current normalised weight)."""
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, SpectralNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"spectral_norm of '{name}' not found in {module}")
