"""Activation primitives whose composite form would be unstable or have PyTorch's gradient
wrong at the edges: hardtanh (zero gradient at the clip points), softplus, log-sigmoid and the
ELU family (exp(x) - 1 without cancellation)."""

from __future__ import annotations

import numpy as np

from minigrad.autograd.engine import Context, Primitive


def _scalar(value: float, like: np.ndarray) -> np.ndarray:
    return np.asarray(value, dtype=like.dtype)


class Hardtanh(Primitive):
    """clip(x, min_val, max_val); the gradient is 1 strictly inside, 0 at and beyond the ends."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, min_val: float, max_val: float) -> np.ndarray:
        ctx.save_for_backward(x)
        ctx.bounds = (min_val, max_val)
        return np.clip(x, _scalar(min_val, x), _scalar(max_val, x))

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        (x,) = ctx.saved
        low, high = ctx.bounds
        return grad * ((x > low) & (x < high))


def _log1p_exp(z: np.ndarray) -> np.ndarray:
    """log(1 + exp(z)) for any z, without overflow."""
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


class Softplus(Primitive):
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold (PyTorch's rule)."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, beta: float, threshold: float) -> np.ndarray:
        z = x * _scalar(beta, x)
        ctx.save_for_backward(z)
        ctx.threshold, ctx.beta = threshold, beta
        return np.where(z > threshold, x, _log1p_exp(z) / _scalar(beta, x))

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        (z,) = ctx.saved
        if not isinstance(grad, np.ndarray):  # create_graph=True: z as a function of x
            z = ctx.graph_inputs[0] * ctx.beta
        return grad * np.where(z > ctx.threshold, 1, _sigmoid(z)).astype(grad.dtype)


class LogSigmoid(Primitive):
    """log(sigmoid(x)) = min(x, 0) - log(1 + exp(-|x|)); gradient sigmoid(-x)."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        (x,) = ctx.saved
        return grad * _sigmoid(-x)


class Elu(Primitive):
    """PyTorch's elu kernel: scale * x for x > 0, else scale * alpha * (exp(input_scale x) - 1);
    ELU, SELU and CELU are its three settings."""

    @staticmethod
    def forward(
        ctx: Context, x: np.ndarray, alpha: float, scale: float, input_scale: float
    ) -> np.ndarray:
        ctx.save_for_backward(x)
        ctx.params = (alpha, scale, input_scale)
        negative = np.expm1(np.minimum(x, 0) * _scalar(input_scale, x)) * _scalar(alpha, x)
        return np.where(x > 0, x, negative) * _scalar(scale, x)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        (x,) = ctx.saved
        alpha, scale, input_scale = ctx.params
        negative = np.exp(np.minimum(x, 0) * _scalar(input_scale, x)) * _scalar(
            alpha * input_scale, x
        )
        return grad * np.where(x > 0, 1, negative) * _scalar(scale, x)
