"""Full backward hooks of a Module, built on ``minigrad.autograd.Function``.

The positional tensor inputs and the tensor outputs of one call go through an identity
Function each. Backward reaches the outputs' identity first: that is when the gradients of
the outputs are known (backward pre-hooks run there, and may replace them); it reaches the
inputs' identity last, with the gradients of the inputs (backward hooks run there, and may
replace those).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from minigrad.autograd.engine import _GradMode
from minigrad.autograd.function import Function
from minigrad.tensor import Tensor, _wrap


class BackwardHookFunction(Function):
    """Returns its tensors unchanged; backward hands their gradients to ``callback``."""

    @staticmethod
    def forward(ctx: Any, callback: Callable[..., Any], *tensors: Tensor) -> tuple[Any, ...]:
        ctx.callback = callback
        ctx.set_materialize_grads(False)
        # as in PyTorch: a tensor that needs no gradient stays so (its grad_input is zeros)
        ctx.mark_non_differentiable(*[t for t in tensors if not t.requires_grad])
        return tensors

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> tuple[Any, ...]:
        return (None, *ctx.callback(grads))


def _replace(grads: tuple[Any, ...], result: Any, what: str) -> tuple[Any, ...]:
    if result is None:
        return grads
    result = tuple(result) if isinstance(result, (tuple, list)) else (result,)
    if len(result) != len(grads):
        raise RuntimeError(
            f"Backward hook returned an invalid number of {what} (expected {len(grads)}, got "
            f"{len(result)})"
        )
    return result


class BackwardHookState:
    """The hooks' view of one call of a module."""

    def __init__(self, module: Any) -> None:
        from nn import module as module_mod

        self.module = module
        self.global_hooks = module_mod._global_backward_hooks
        self.global_pre_hooks = module_mod._global_backward_pre_hooks
        self.grad_output: tuple[Any, ...] = ()
        self.input_shapes: list[tuple[tuple[int, ...], np.dtype]] = []
        self.inputs_wrapped = False

    def wrap_inputs(self, args: tuple[Any, ...]) -> tuple[Any, ...]:
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        self.input_shapes = [(args[i].shape, args[i].dtype) for i in positions]
        if not _GradMode.enabled or not any(args[i].requires_grad for i in positions):
            return args
        self.inputs_wrapped = True
        wrapped = BackwardHookFunction.apply(self._on_input_grads, *[args[i] for i in positions])
        new_args = list(args)
        for i, tensor in zip(positions, wrapped):
            new_args[i] = tensor
        return tuple(new_args)

    def wrap_outputs(self, output: Any) -> Any:
        if not _GradMode.enabled:
            return output
        if isinstance(output, Tensor):
            if not output.requires_grad:
                return output
            (wrapped,) = BackwardHookFunction.apply(self._on_output_grads, output)
            return wrapped
        if isinstance(output, (tuple, list)):
            positions = [i for i, o in enumerate(output) if isinstance(o, Tensor)]
            if not any(output[i].requires_grad for i in positions):
                return output
            wrapped = BackwardHookFunction.apply(
                self._on_output_grads, *[output[i] for i in positions]
            )
            items = list(output)
            for i, tensor in zip(positions, wrapped):
                items[i] = tensor
            return type(output)(items) if not hasattr(output, "_fields") else type(output)(*items)
        return output

    def _hooks(self) -> list[Callable[..., Any]]:
        return [*self.global_hooks.values(), *self.module._backward_hooks.values()]

    def _on_output_grads(self, grads: tuple[Any, ...]) -> tuple[Any, ...]:
        for hook in [*self.global_pre_hooks.values(), *self.module._backward_pre_hooks.values()]:
            grads = _replace(grads, hook(self.module, grads), "grad_output")
        self.grad_output = grads
        if not self.inputs_wrapped:
            grad_input = tuple(None for _ in self.input_shapes) or (None,)
            for hook in self._hooks():
                result = hook(self.module, grad_input, grads)
                if result is not None and any(r is not None for r in _as_tuple(result)):
                    raise RuntimeError(
                        "Backward hook for Modules where no input requires gradient should "
                        "always return None or None for all gradients."
                    )
        return grads

    def _on_input_grads(self, grads: tuple[Any, ...]) -> tuple[Any, ...]:
        grads = tuple(
            _wrap(np.zeros(shape, dtype=dtype)) if g is None else g
            for g, (shape, dtype) in zip(grads, self.input_shapes)
        )
        for hook in self._hooks():
            grads = _replace(grads, hook(self.module, grads, self.grad_output), "grad_input")
        return grads


def _as_tuple(value: Any) -> tuple[Any, ...]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)
