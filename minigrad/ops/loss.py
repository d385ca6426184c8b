"""Loss primitives: binary cross entropy, whose PyTorch gradient (x - t) / max(x (1 - x),
1e-12) stays finite at probabilities of exactly 0 and 1 where the composite's would not."""

from __future__ import annotations

import numpy as np

from minigrad.autograd.engine import Context, Primitive


class BinaryCrossEntropy(Primitive):
    """-(t log x + (1 - t) log(1 - x)) elementwise, each log clamped at -100 like PyTorch."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore"):
            log_x = np.maximum(np.log(x), -100)
            log_1mx = np.maximum(np.log1p(-x), -100)
        ctx.save_for_backward(x, t)
        ctx.logs = (log_x, log_1mx)
        return -(t * log_x + (1 - t) * log_1mx)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        x, t = ctx.saved
        need_x, need_t = ctx.needs_input_grad
        grad_x = grad_t = None
        if need_x:
            grad_x = grad * (x - t) / np.maximum((1 - x) * x, 1e-12)
        if need_t:
            log_x, log_1mx = ctx.logs
            if not isinstance(grad, np.ndarray):  # create_graph=True: the logs as ops of x
                log_x, log_1mx = np.maximum(np.log(x), -100), np.maximum(np.log1p(-x), -100)
            grad_t = grad * (log_1mx - log_x)
        return grad_x, grad_t
