"""NAdam: Adam with Nesterov momentum and a momentum-decay schedule."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from minigrad.optim.optimizer import (
    Optimizer,
    _adam_moments_,
    _increment_step,
    _scalar_tensor,
    _weight_decay,
    _zeros_like,
)


class NAdam(Optimizer):
    """PyTorch's NAdam::

        g = grad + weight_decay * p       (decoupled_weight_decay: p = p * (1 - lr * wd) instead)
        mu_t = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay));  P = P * mu_t
        m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g
        denom = sqrt(v / (1 - beta2**t)) + eps
        p = p - lr (1 - mu_t) / (1 - P) * g / denom - lr mu_{t+1} / (1 - P mu_{t+1}) * m / denom

    The running product ``mu_product`` is kept, as in PyTorch, in the scalar dtype (float32
    unless the default dtype is float64).
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ) -> None:
        lr, betas = self._check_adam_hyperparameters(lr, eps, betas, weight_decay)
        self._check_at_least("momentum_decay value", momentum_decay)
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            momentum_decay=momentum_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize,
            foreach=foreach,
            capturable=capturable,
            differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def _init_state(self, state: dict[str, Any], p: np.ndarray, group: dict[str, Any]) -> None:
        state["step"] = _scalar_tensor(0.0)
        state["mu_product"] = _scalar_tensor(1.0)
        state["exp_avg"] = _zeros_like(p)
        state["exp_avg_sq"] = _zeros_like(p)

    def _update(
        self, p: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        lr = group["lr"]
        momentum_decay = group["momentum_decay"]
        beta1, beta2 = group["betas"]
        step = _increment_step(state)
        bias_correction2 = 1 - beta2**step
        grad = _weight_decay(p, grad, group, group["decoupled_weight_decay"])
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
        mu_product_array = state["mu_product"]._data
        mu_product_array *= mu
        mu_product = float(mu_product_array)
        exp_avg = state["exp_avg"]._data
        exp_avg_sq = state["exp_avg_sq"]._data
        _adam_moments_(exp_avg, exp_avg_sq, grad, beta1, beta2)
        denom = np.sqrt(exp_avg_sq / bias_correction2)
        denom += group["eps"]
        mu_product_next = mu_product * mu_next
        p += (-lr * (1.0 - mu) / (1.0 - mu_product)) * grad / denom
        p += ((-lr * mu_next) / (1.0 - mu_product_next)) * exp_avg / denom
