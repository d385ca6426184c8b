"""Stochastic gradient descent with momentum, dampening, weight decay and Nesterov."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from minigrad.optim._scratch import scratch
from minigrad.optim.optimizer import Optimizer, _weight_decay
from minigrad.tensor import Tensor


class SGD(Optimizer):
    """PyTorch's SGD, the same operations in the same order::

        g = grad + weight_decay * p
        b = g (first step), else b = momentum * b + (1 - dampening) * g
        g = g + momentum * b (nesterov), else g = b
        p = p - lr * g

    for each parameter ``p`` with gradient ``grad``.

    Example::

        >>> import minigrad as mg
        >>> import minigrad.optim as optim
        >>> w = mg.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = optim.SGD([w], lr=0.1)
        >>> opt.zero_grad()
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> [round(v, 4) for v in w.tolist()]
        [0.8, -1.6]
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        lr = self._check_at_least("learning rate", lr)
        self._check_at_least("momentum value", momentum)
        self._number("dampening", dampening)
        self._check_at_least("weight_decay value", weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
            foreach=foreach,
            differentiable=differentiable,
            fused=fused,
        )
        super().__init__(params, defaults)

    def _update(
        self, p: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        # In place, one NumPy pass per operation: no temporaries beyond the step's one scaled
        # copy, and the buffer in the parameter's own layout (a gradient in another layout
        # would make every pass a strided transpose).
        momentum = group["momentum"]
        grad = _weight_decay(p, grad, group)
        if momentum != 0:
            buffer = state.get("momentum_buffer")
            if buffer is None:
                buf = np.empty_like(p)
                np.copyto(buf, grad, casting="unsafe")
                state["momentum_buffer"] = Tensor(buf)
            else:
                buf = buffer._data
                np.multiply(buf, momentum, out=buf)
                dampening = group["dampening"]
                if dampening == 0:
                    np.add(buf, grad, out=buf, casting="unsafe")
                else:
                    np.add(buf, np.multiply(grad, 1 - dampening), out=buf, casting="unsafe")
            if group["nesterov"] and grad.dtype == p.dtype:
                # g + momentum * b and the step in one scratch array reused between steps
                (work,) = scratch(self, p, 1)
                np.multiply(buf, momentum, out=work)
                np.add(grad, work, out=work)
                np.multiply(work, -group["lr"], out=work)
                np.add(p, work, out=p)
                return
            grad = grad + momentum * buf if group["nesterov"] else buf
        step = np.multiply(grad, -group["lr"], dtype=p.dtype)
        np.add(p, step, out=p)

