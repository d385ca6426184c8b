"""``minigrad.autograd``: as ``torch.autograd``.

- ``grad``, ``backward``: gradients of outputs with respect to inputs.
- ``Function``: write your own differentiable op whose ``forward`` and ``backward`` see Tensors
  (``minigrad.autograd.function``).
- grad mode: ``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``inference_mode``.

The engine underneath (``minigrad.autograd.engine``) runs minigrad's own primitives
(``Primitive`` subclasses, on NumPy arrays) and the backward pass.
"""

from typing import TYPE_CHECKING, Any

from minigrad.autograd.engine import (
    Context,
    Node,
    Primitive,
    backward,
    enable_grad,
    grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)

__all__ = [
    "Context",
    "Node",
    "Primitive",
    "backward",
    "enable_grad",
    "grad",
    "inference_mode",
    "is_grad_enabled",
    "is_inference_mode_enabled",
    "no_grad",
    "set_grad_enabled",
]

_LAZY = {"Function", "FunctionCtx", "once_differentiable", "function"}
__all__ += ["Function", "FunctionCtx", "once_differentiable"]


if TYPE_CHECKING:
    # the names __getattr__ below loads on first use
    import minigrad.gradcheck as _checks
    from minigrad.autograd import function as function
    from minigrad.autograd import functional as functional
    from minigrad.autograd import higher_order as higher_order
    from minigrad.autograd.function import Function as Function
    from minigrad.autograd.function import FunctionCtx as FunctionCtx
    from minigrad.autograd.function import once_differentiable as once_differentiable

    gradcheck = _checks.gradcheck
    gradgradcheck = _checks.gradgradcheck
else:

    def __getattr__(name: str) -> Any:
        # minigrad.autograd.function needs Tensor, whose module imports this package: load it late
        if name in _LAZY:
            import importlib

            module = importlib.import_module("minigrad.autograd.function")
            return module if name == "function" else getattr(module, name)
        if name in ("functional", "higher_order"):
            import importlib

            return importlib.import_module(f"minigrad.autograd.{name}")
        if name in ("gradcheck", "gradgradcheck"):
            import importlib

            # the module: minigrad.gradcheck, as an attribute of minigrad, is the function
            checks = importlib.import_module("minigrad.gradcheck")
            return getattr(checks, name)
        raise AttributeError(f"module 'minigrad.autograd' has no attribute {name!r}")
