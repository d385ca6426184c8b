"""Elementwise math primitives of one input, each a forward and its derivative side by side.

``derivative(x, out)`` is d out / d x from the input and the output; backward multiplies the
incoming gradient by it. NumPy's RuntimeWarnings are silenced inside: log(0), asin(2) and
exp(1000) give PyTorch's -inf, nan and inf, without a warning (PyTorch is silent too).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from minigrad.autograd.engine import Context, Primitive

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)


def _unary(name: str, forward: Callable[[np.ndarray], np.ndarray],
           derivative: Callable[[np.ndarray, np.ndarray], np.ndarray], doc: str) -> type:
    def fwd(ctx: Context, a: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            out = forward(a)
        ctx.save_for_backward(a, out)
        return out

    def bwd(ctx: Context, grad: np.ndarray) -> np.ndarray:
        a, out = ctx.saved
        with np.errstate(all="ignore"):
            return grad * derivative(a, out)

    return type(name, (Primitive,), {"forward": staticmethod(fwd), "backward": staticmethod(bwd),
                                     "__doc__": doc, "__module__": __name__})


def _sinc(x: np.ndarray) -> np.ndarray:
    return np.sinc(x)  # sin(pi x) / (pi x), 1 at 0


def _sinc_derivative(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    px = math.pi * x
    safe = np.where(x == 0, 1, x)
    return np.where(x == 0, 0, (np.cos(px) - out) / safe)


Asin = _unary("Asin", np.arcsin, lambda x, y: 1 / np.sqrt(1 - x * x), "asin: 1 / sqrt(1 - x^2)")
Acos = _unary("Acos", np.arccos, lambda x, y: -1 / np.sqrt(1 - x * x), "acos: -1 / sqrt(1 - x^2)")
Atan = _unary("Atan", np.arctan, lambda x, y: 1 / (1 + x * x), "atan: 1 / (1 + x^2)")
Sinh = _unary("Sinh", np.sinh, lambda x, y: np.cosh(x), "sinh: cosh x")
Cosh = _unary("Cosh", np.cosh, lambda x, y: np.sinh(x), "cosh: sinh x")
Tan = _unary("Tan", np.tan, lambda x, y: 1 + y * y, "tan: 1 + tan^2 x")
Asinh = _unary("Asinh", np.arcsinh, lambda x, y: 1 / np.sqrt(x * x + 1), "asinh: 1/sqrt(x^2+1)")
Acosh = _unary("Acosh", np.arccosh, lambda x, y: 1 / np.sqrt(x * x - 1), "acosh: 1/sqrt(x^2-1)")
Atanh = _unary("Atanh", np.arctanh, lambda x, y: 1 / (1 - x * x), "atanh: 1 / (1 - x^2)")
Log2 = _unary("Log2", np.log2, lambda x, y: 1 / (x * _LN2), "log2: 1 / (x ln 2)")
Log10 = _unary("Log10", np.log10, lambda x, y: 1 / (x * _LN10), "log10: 1 / (x ln 10)")
Log1p = _unary("Log1p", np.log1p, lambda x, y: 1 / (x + 1), "log1p: 1 / (1 + x)")
Exp2 = _unary("Exp2", np.exp2, lambda x, y: y * _LN2, "exp2: 2^x ln 2")
Expm1 = _unary("Expm1", np.expm1, lambda x, y: y + 1, "expm1: exp(x)")
Sinc = _unary("Sinc", _sinc, _sinc_derivative, "sinc: (cos(pi x) - sinc x) / x, 0 at 0")


class ZeroGrad(Primitive):
    """A piecewise-constant op (sign, floor, ceil, round, trunc): gradient 0 everywhere, as
    PyTorch defines it (also at the jumps)."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, fn: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        ctx.fn_name = getattr(fn, "__name__", "op")
        return fn(a)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        return np.zeros_like(grad)


class Sign(ZeroGrad):
    """``sign``: a zero gradient."""


class Floor(ZeroGrad):
    """``floor``: a zero gradient."""


class Ceil(ZeroGrad):
    """``ceil``: a zero gradient."""


class Round(ZeroGrad):
    """``round``: a zero gradient."""


class Trunc(ZeroGrad):
    """``trunc``: a zero gradient."""


class Frac(Primitive):
    """x - trunc(x); gradient 1."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return a - np.trunc(a)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        return grad


class Logit(Primitive):
    """log(x / (1 - x)), x clamped to [eps, 1 - eps] when eps is given (gradient 0 outside)."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, eps: float | None) -> np.ndarray:
        ctx.eps = eps
        ctx.save_for_backward(a)
        x = a if eps is None else np.clip(a, eps, 1 - eps)
        with np.errstate(all="ignore"):
            return np.log(x / (1 - x))

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        (a,) = ctx.saved
        with np.errstate(all="ignore"):
            g = grad / (a * (1 - a))
        if ctx.eps is None:
            # PyTorch: nan outside [0, 1], grad * inf at 0 and 1 (whatever the sign of zero)
            with np.errstate(all="ignore"):
                g = np.where((a == 0) | (a == 1), grad * np.inf, g)
            return np.where((a < 0) | (a > 1), np.nan, g)
        return np.where((a < ctx.eps) | (a > 1 - ctx.eps), 0, g)


class NanToNum(Primitive):
    """nan, +inf and -inf replaced by numbers; gradient 1 at finite inputs, 0 elsewhere."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, nan: float, posinf: float | None,
                neginf: float | None) -> np.ndarray:
        ctx.save_for_backward(a)
        return np.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        (a,) = ctx.saved
        return grad * np.isfinite(a)


class NotDifferentiable(Primitive):
    """An op whose derivative PyTorch does not implement: backward through it raises."""

    @staticmethod
    def forward(ctx: Context, *arrays: np.ndarray, fn: Callable[..., np.ndarray], name: str
                ) -> np.ndarray:
        ctx.op_name = name
        return fn(*arrays)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        raise RuntimeError(f"the derivative for '{ctx.op_name}' is not implemented")
