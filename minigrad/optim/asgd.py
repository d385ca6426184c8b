"""ASGD: averaged stochastic gradient descent."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from minigrad.optim.optimizer import (
    Optimizer,
    _increment_step,
    _scalar_dtype,
    _scalar_tensor,
    _weight_decay,
    _zeros_like,
)


class ASGD(Optimizer):
    """PyTorch's ASGD::

        g = grad + weight_decay * p
        p = p * (1 - lambd * eta) - eta * g
        ax = ax + (p - ax) * mu   (ax = p while mu == 1)
        eta = lr / (1 + lambd * lr * t) ** alpha;  mu = 1 / max(1, t - t0)

    ``eta`` and ``mu`` are kept, as in PyTorch, in the scalar dtype (float32 unless the default
    dtype is float64); the average ``ax`` is ``state['ax']``.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        lambd: float = 1e-4,
        alpha: float = 0.75,
        t0: float = 1e6,
        weight_decay: float = 0.0,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        lr = self._check_at_least("learning rate", lr)
        self._check_at_least("weight_decay value", weight_decay)
        for what, value in (("lambd", lambd), ("alpha", alpha), ("t0", t0)):
            self._number(what, value)
        defaults = dict(
            lr=lr,
            lambd=lambd,
            alpha=alpha,
            t0=t0,
            weight_decay=weight_decay,
            foreach=foreach,
            maximize=maximize,
            differentiable=differentiable,
            capturable=capturable,
        )
        super().__init__(params, defaults)

    def _init_state(self, state: dict[str, Any], p: np.ndarray, group: dict[str, Any]) -> None:
        state["step"] = _scalar_tensor(0.0)
        state["eta"] = _scalar_tensor(group["lr"])
        state["mu"] = _scalar_tensor(1.0)
        state["ax"] = _zeros_like(p)

    def _update(
        self, p: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        lr, lambd, alpha = group["lr"], group["lambd"], group["alpha"]
        step = _increment_step(state)
        grad = _weight_decay(p, grad, group)
        eta = float(state["eta"]._data)
        p *= 1 - lambd * eta
        p += -eta * grad
        ax = state["ax"]._data
        mu = float(state["mu"]._data)
        if mu != 1:
            ax += (p - ax) * mu
        else:
            ax[...] = p
        dtype = _scalar_dtype()
        state["eta"]._data[...] = np.asarray(lr / ((1 + lambd * lr * step) ** alpha), dtype=dtype)
        state["mu"]._data[...] = np.asarray(1 / max(1, step - group["t0"]), dtype=dtype)
