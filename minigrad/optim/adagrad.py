"""Adagrad: per-coordinate step sizes from the sum of squared gradients."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from minigrad.optim.optimizer import Optimizer, _increment_step, _scalar_tensor, _weight_decay
from minigrad.tensor import Tensor


class Adagrad(Optimizer):
    """PyTorch's Adagrad::

        g = grad + weight_decay * p
        clr = lr / (1 + (t - 1) * lr_decay)
        s = s + g * g                       (s starts at initial_accumulator_value)
        p = p - clr * g / (sqrt(s) + eps)

    As in PyTorch the state is created when the optimizer is, for every parameter.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        lr = self._check_at_least("learning rate", lr)
        self._check_at_least("lr_decay value", lr_decay)
        self._check_at_least("weight_decay value", weight_decay)
        self._check_at_least("initial_accumulator_value value", initial_accumulator_value)
        self._check_at_least("epsilon value", eps)
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            eps=eps,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            foreach=foreach,
            maximize=maximize,
            differentiable=differentiable,
            fused=fused,
        )
        super().__init__(params, defaults)
        for group in self.param_groups:
            for param in group["params"]:
                state: dict[str, Any] = {}
                self._init_state(state, param._data, group)
                self.state[param] = state

    def _init_state(self, state: dict[str, Any], p: np.ndarray, group: dict[str, Any]) -> None:
        state["step"] = _scalar_tensor(0.0)
        state["sum"] = Tensor(np.full_like(p, group["initial_accumulator_value"]))

    def _update(
        self, p: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        step = _increment_step(state)
        grad = _weight_decay(p, grad, group)
        clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        state_sum = state["sum"]._data
        state_sum += grad * grad
        std = np.sqrt(state_sum)
        std += group["eps"]
        p += -clr * grad / std
