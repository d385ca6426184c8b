"""Rprop: resilient backpropagation, per-coordinate step sizes from gradient signs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from minigrad.optim.optimizer import Optimizer, _increment_step, _scalar_tensor, _zeros_like
from minigrad.tensor import Tensor


class Rprop(Optimizer):
    """PyTorch's Rprop::

        s = g * g_prev;  f = etaplus where s > 0, etaminus where s < 0, 1 where s == 0
        step_size = clamp(step_size * f, *step_sizes)
        g = 0 where s < 0;  p = p - sign(g) * step_size;  g_prev = g

    Each step size starts at ``lr``.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        etas: tuple[float, float] = (0.5, 1.2),
        step_sizes: tuple[float, float] = (1e-6, 50),
        *,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        lr = self._check_at_least("learning rate", lr)
        eta_minus, eta_plus = self._pair("etas", etas)
        etas = (eta_minus, eta_plus)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(
                f"Rprop: invalid eta values: {etas[0]}, {etas[1]}; need 0 < etaminus < 1 < "
                "etaplus"
            )
        step_min, step_max = self._pair("step_sizes", step_sizes)
        step_sizes = (step_min, step_max)
        defaults = dict(
            lr=lr,
            etas=etas,
            step_sizes=step_sizes,
            foreach=foreach,
            maximize=maximize,
            differentiable=differentiable,
            capturable=capturable,
        )
        super().__init__(params, defaults)

    def _pair(self, what: str, values: Any) -> list[float]:
        if not isinstance(values, (tuple, list)) or len(values) != 2:
            raise ValueError(f"Rprop: invalid {what}: {values!r}; pass two numbers")
        return [self._number(what, value) for value in values]

    def _init_state(self, state: dict[str, Any], p: np.ndarray, group: dict[str, Any]) -> None:
        state["step"] = _scalar_tensor(0.0)
        state["prev"] = _zeros_like(p)
        state["step_size"] = Tensor(np.full_like(p, group["lr"]))

    def _update(
        self, p: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        etaminus, etaplus = group["etas"]
        step_size_min, step_size_max = group["step_sizes"]
        _increment_step(state)
        prev = state["prev"]._data
        step_size = state["step_size"]._data
        sign = np.sign(grad * prev)
        sign[sign > 0] = etaplus
        sign[sign < 0] = etaminus
        sign[sign == 0] = 1
        step_size *= sign
        np.clip(step_size, step_size_min, step_size_max, out=step_size)
        grad = np.array(grad, copy=True)
        grad[sign == etaminus] = 0
        p += -1 * np.sign(grad) * step_size
        prev[...] = grad
