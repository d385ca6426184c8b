"""The fully connected layer as one primitive: ``y = x @ W.T + b``.

Composed from ``matmul``, ``t`` and ``add`` the layer's weight gradient comes out of the
transpose's backward as a column-major (out, in) array: every elementwise pass over it then
reads across the rows (an optimizer step over such a gradient of 128 x 9216 took 8.5 ms
instead of 1.3 ms). Here the weight gradient is computed as ``g.T @ x``, row-major like the
weight, the bias is added into the GEMM's output in place, and the large GEMMs are split over
minigrad's threads (BLAS itself runs on one thread, see ``minigrad.parallel``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad import parallel
from minigrad.autograd.engine import Context, Primitive

__all__ = ["Linear", "linear_arrays"]


# multiply-adds per thread below which a GEMM stays in one piece: LeNet-5's 400->120 layer at
# batch 128 (6M) runs as before, on one thread; StrongCNN's 3136->128 (51M) and the example
# Net's 9216->128 (151M) are split
MIN_MACS_PER_THREAD = 1e7


def _chunks(rows: int, macs: int) -> list[tuple[int, int]]:
    """Row ranges of a GEMM output for ``parallel.run`` (one piece when the GEMM is small)."""
    return parallel.plan(rows, work=macs, min_work=MIN_MACS_PER_THREAD)


def linear_arrays(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """(..., in) @ (out, in).T + (out,) -> (..., out) on ndarrays, threaded over the rows."""
    features = weight.shape[0]
    x2 = x.reshape(-1, x.shape[-1])
    out = np.empty((x2.shape[0], features), dtype=np.result_type(x, weight))
    weight_t = weight.T

    def part(start: int, stop: int) -> None:
        block = out[start:stop]
        np.matmul(x2[start:stop], weight_t, out=block)
        if bias is not None:
            np.add(block, bias, out=block)

    chunks = _chunks(x2.shape[0], x2.size * features)
    if chunks:
        parallel.run(part, chunks)
    return out.reshape(*x.shape[:-1], features)


class Linear(Primitive):
    """(..., in), (out, in)[, (out,)] -> (..., out): ``x @ weight.T + bias``."""

    differentiable_backward = True  # its Tensor branch below is made of differentiable ops

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, weight: np.ndarray,
                bias: np.ndarray | None = None) -> np.ndarray:
        ctx.save_for_backward(x, weight)
        return linear_arrays(x, weight, bias)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, ...]:
        x, weight = ctx.saved
        needs = ctx.needs_input_grad
        if not isinstance(grad, np.ndarray):  # create_graph=True: the same formulas, recorded
            return _backward_on_tensors(x, weight, grad, needs)
        features, in_features = weight.shape
        g2 = grad.reshape(-1, features)
        x2 = x.reshape(-1, in_features)
        macs = g2.shape[0] * features * in_features
        grad_x = grad_w = grad_b = None
        if needs[0]:
            gx = np.empty(x2.shape, dtype=grad.dtype)

            def input_part(start: int, stop: int) -> None:
                np.matmul(g2[start:stop], weight, out=gx[start:stop])

            parallel.run(input_part, _chunks(g2.shape[0], macs))
            grad_x = gx.reshape(x.shape)
        if needs[1]:
            gw = np.empty(weight.shape, dtype=grad.dtype)
            g2_t = g2.T

            def weight_part(start: int, stop: int) -> None:
                # row-major (out, in), like the weight itself
                np.matmul(g2_t[start:stop], x2, out=gw[start:stop])

            parallel.run(weight_part, _chunks(features, macs))
            grad_w = gw
        if len(needs) > 2 and needs[2]:
            grad_b = g2.sum(axis=0)
        return (grad_x, grad_w) if len(needs) == 2 else (grad_x, grad_w, grad_b)


def _backward_on_tensors(x: Any, weight: Any, grad: Any, needs: tuple[bool, ...]
                         ) -> tuple[Any, ...]:
    """``Linear.backward`` on Tensors (create_graph=True), from matmul, reshape and sum."""
    features, in_features = weight.shape
    g2 = grad.reshape(-1, features)
    grad_x = (g2 @ weight).reshape(x.shape) if needs[0] else None
    grad_w = g2.transpose(0, 1) @ x.reshape(-1, in_features) if needs[1] else None
    if len(needs) == 2:
        return grad_x, grad_w
    return grad_x, grad_w, g2.sum(0) if needs[2] else None
