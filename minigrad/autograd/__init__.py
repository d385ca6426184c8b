"""``minigrad.autograd``: as ``torch.autograd``.

- ``grad``, ``backward``: gradients of outputs with respect to inputs.
- ``Function``: write your own differentiable op whose ``forward`` and ``backward`` see Tensors
  (``minigrad.autograd.function``).
- grad mode: ``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``inference_mode``.

The engine underneath (``minigrad.autograd.engine``) runs minigrad's own primitives
(``Primitive`` subclasses, on NumPy arrays) and the backward pass.
"""

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
