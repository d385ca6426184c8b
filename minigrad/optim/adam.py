"""Adam and AdamW (decoupled weight decay), with optional AMSGrad."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from minigrad import parallel
from minigrad.optim._scratch import scratch
from minigrad.optim.optimizer import (
    Optimizer,
    _increment_step,
    _scalar_tensor,
    _zeros_like,
)


class Adam(Optimizer):
    """PyTorch's Adam, the same operations in the same order::

        g = grad + weight_decay * p     (decoupled_weight_decay: p = p * (1 - lr * wd) instead)
        m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g
        p = p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

    with ``v`` replaced by its running maximum under ``amsgrad``.

    Example::

        >>> import minigrad as mg
        >>> import minigrad.optim as optim
        >>> w = mg.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = optim.Adam([w], lr=0.1)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> [round(v, 4) for v in w.tolist()]
        [0.9, -1.9]
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
    ) -> None:
        lr, betas = self._check_adam_hyperparameters(lr, eps, betas, weight_decay)
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            foreach=foreach,
            capturable=capturable,
            differentiable=differentiable,
            fused=fused,
            decoupled_weight_decay=decoupled_weight_decay,
        )
        super().__init__(params, defaults)

    def _init_state(self, state: dict[str, Any], p: np.ndarray, group: dict[str, Any]) -> None:
        state["step"] = _scalar_tensor(0.0)
        state["exp_avg"] = _zeros_like(p)
        state["exp_avg_sq"] = _zeros_like(p)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = _zeros_like(p)

    def _update(
        self, p: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        # PyTorch's operations in its order, each written into one of two scratch arrays
        # reused from step to step (``_scratch``): no temporaries; the same numbers, bit for
        # bit, as the expressions in the class docstring evaluated one by one. A large
        # parameter goes through all of them one cache-sized block at a time (elementwise:
        # the same numbers again).
        lr, eps = group["lr"], group["eps"]
        beta1, beta2 = group["betas"]
        step = _increment_step(state)
        if grad.dtype != p.dtype:
            grad = grad.astype(p.dtype)
        if group["amsgrad"] and "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = _zeros_like(p)  # amsgrad switched on after the first step
        weight_decay = group["weight_decay"]
        decoupled = group["decoupled_weight_decay"]
        bias_correction1 = 1 - beta1**step
        bias_correction2_sqrt = (1 - beta2**step) ** 0.5
        arrays = [p, grad, state["exp_avg"]._data, state["exp_avg_sq"]._data, *scratch(self, p, 2)]
        if group["amsgrad"]:
            arrays.append(state["max_exp_avg_sq"]._data)

        def block(p: np.ndarray, grad: np.ndarray, exp_avg: np.ndarray, exp_avg_sq: np.ndarray,
                  first: np.ndarray, second: np.ndarray, *max_exp_avg_sq: np.ndarray) -> None:
            if weight_decay != 0:
                if decoupled:
                    np.multiply(p, 1 - lr * weight_decay, out=p)
                else:
                    np.multiply(p, weight_decay, out=second)  # g = grad + weight_decay * p
                    grad = np.add(grad, second, out=second)
            _lerp_into(exp_avg, grad, 1 - beta1, first)
            np.multiply(exp_avg_sq, beta2, out=exp_avg_sq)  # v = beta2 v + (1 - beta2) g g
            np.multiply(grad, 1 - beta2, out=first)
            np.multiply(first, grad, out=first)
            np.add(exp_avg_sq, first, out=exp_avg_sq)
            second_moment = exp_avg_sq
            if max_exp_avg_sq:
                second_moment = np.maximum(max_exp_avg_sq[0], exp_avg_sq, out=max_exp_avg_sq[0])
            denom = np.sqrt(second_moment, out=second)  # grad (in ``second``) is used up
            np.divide(denom, bias_correction2_sqrt, out=denom)
            np.add(denom, eps, out=denom)
            np.multiply(exp_avg, -(lr / bias_correction1), out=first)
            np.divide(first, denom, out=first)
            np.add(p, first, out=p)

        _blockwise(block, arrays)


# Elements per block of an optimizer step: every array's block stays in the core's cache
# through the step's dozen passes. Adam's step over ExampleNet's parameters (1.2 M, float32),
# CPU ms on one thread: 6.2 in one piece, 4.7 in blocks of 2**15, 4.5 of 2**16, 4.9 of 2**17
# (on two threads the blocks spread over the pool gained nothing more).
BLOCK_ELEMENTS = 1 << 16


def _blockwise(fn: Callable[..., None], arrays: list[np.ndarray]) -> None:
    """``fn(*arrays)`` one block of elements at a time where every array is C-contiguous; in
    one piece otherwise. For elementwise ``fn`` only (the blocks give the same numbers)."""
    size = arrays[0].size
    if size <= BLOCK_ELEMENTS or not all(a.flags.c_contiguous for a in arrays):
        fn(*arrays)
        return
    flat = [a.reshape(-1) for a in arrays]
    for start, stop in parallel.split(size, -(-size // BLOCK_ELEMENTS)):
        fn(*(a[start:stop] for a in flat))


def _lerp_into(start: np.ndarray, end: np.ndarray, weight: float, scratch: np.ndarray) -> None:
    """``optimizer._lerp_`` (PyTorch's two-sided lerp, in place on ``start``) through
    ``scratch`` instead of temporaries."""
    np.subtract(end, start, out=scratch)
    if abs(weight) < 0.5:
        np.multiply(scratch, weight, out=scratch)  # start += weight * (end - start)
        np.add(start, scratch, out=start)
    else:
        np.multiply(scratch, 1 - weight, out=scratch)  # start = end - (end - start) * (1 - w)
        np.subtract(end, scratch, out=start)


class AdamW(Adam):
    """Adam with decoupled weight decay: ``p *= 1 - lr * weight_decay`` before the Adam step."""

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            foreach=foreach,
            maximize=maximize,
            capturable=capturable,
            differentiable=differentiable,
            fused=fused,
            decoupled_weight_decay=True,
        )

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        for group in self.param_groups:  # AdamW always decouples, whatever was saved
            group["decoupled_weight_decay"] = True
