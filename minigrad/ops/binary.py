"""Elementwise primitives of two or three inputs (after type promotion, so one dtype).

Broadcasting is the engine's business; NumPy's RuntimeWarnings are silenced inside, where
PyTorch returns inf/nan silently.
"""

from __future__ import annotations

import numpy as np

from minigrad.autograd.engine import Context, Primitive


def _zero_division_check(b: np.ndarray, op: str) -> None:
    if b.dtype.kind in "iub" and not np.all(b):
        raise RuntimeError(f"ZeroDivisionError: {op} of integer tensors by zero")


def trunc_divide(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a / b rounded toward zero (exact for integers)."""
    if a.dtype.kind in "iu":
        _zero_division_check(b, "div(rounding_mode='trunc')")
        q = np.floor_divide(a, b)
        # floor and trunc differ where the exact quotient is negative and not whole
        return q + ((q < 0) & (q * b != a)).astype(q.dtype)
    with np.errstate(all="ignore"):
        return np.trunc(a / b)


def floor_divide(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a / b rounded toward -inf (exact for integers)."""
    if a.dtype.kind in "iu":
        _zero_division_check(b, "div(rounding_mode='floor')")
        return np.floor_divide(a, b)
    with np.errstate(all="ignore"):
        # PyTorch's floor(a / b), not NumPy's (a - fmod(a, b)) / b: they differ by one ulp cases
        return np.floor(a / b)


class RoundedDiv(Primitive):
    """div(a, b, rounding_mode='trunc'|'floor'); PyTorch defines its gradient as 0."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray, mode: str) -> np.ndarray:
        return trunc_divide(a, b) if mode == "trunc" else floor_divide(a, b)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        zero = np.zeros_like(grad)
        return zero, zero


class Remainder(Primitive):
    """a - floor(a / b) * b, the sign of b (Python's %); d/da = 1, d/db = -floor(a / b)."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(a, b)
        if a.dtype.kind in "iu":
            _zero_division_check(b, "remainder")
            return np.mod(a, b)
        with np.errstate(all="ignore"):
            return np.mod(a, b)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        a, b = ctx.saved
        need_a, need_b = ctx.needs_input_grad
        return (grad if need_a else None), (-grad * floor_divide(a, b) if need_b else None)


class Fmod(Primitive):
    """a - trunc(a / b) * b, the sign of a (C's fmod); d/da = 1, d/db = -trunc(a / b)."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(a, b)
        if a.dtype.kind in "iu":
            _zero_division_check(b, "fmod")
        with np.errstate(all="ignore"):
            return np.fmod(a, b)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        a, b = ctx.saved
        need_a, need_b = ctx.needs_input_grad
        return (grad if need_a else None), (-grad * trunc_divide(a, b) if need_b else None)


class Atan2(Primitive):
    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(a, b)
        return np.arctan2(a, b)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        a, b = ctx.saved
        with np.errstate(all="ignore"):
            scale = grad / (a * a + b * b)
        return scale * b, -scale * a


class Hypot(Primitive):
    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        out = np.hypot(a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        a, b, out = ctx.saved
        with np.errstate(all="ignore"):
            scale = grad / out
        return scale * a, scale * b


class Copysign(Primitive):
    """|a| with the sign of b; d/da = out / a (0 where a == 0), d/db = 0."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        out = np.copysign(a, b)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        a, out = ctx.saved
        with np.errstate(all="ignore"):
            ratio = np.where(a == 0, 0, out / np.where(a == 0, 1, a))
        return grad * ratio, np.zeros_like(grad)


class LogAddExp(Primitive):
    """log(exp(a) + exp(b)) (base 2 with ``base2``), without overflow."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray, base2: bool) -> np.ndarray:
        with np.errstate(all="ignore"):
            out = np.logaddexp2(a, b) if base2 else np.logaddexp(a, b)
        ctx.save_for_backward(a, b)
        ctx.base2 = base2
        return out
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        a, b = ctx.saved
        power = np.exp2 if ctx.base2 else np.exp
        with np.errstate(all="ignore"):
            # PyTorch's formulas: nan where a and b are the same infinity
            return grad / (1 + power(b - a)), grad / (1 + power(a - b))


class Xlogy(Primitive):
    """x * log(y), 0 where x == 0 (unless y is nan)."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x, y)
        with np.errstate(all="ignore"):
            out = x * np.log(y)
        return np.where((x == 0) & ~np.isnan(y), np.zeros((), out.dtype), out)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        x, y = ctx.saved
        need_x, need_y = ctx.needs_input_grad
        grad_x = grad_y = None
        with np.errstate(all="ignore"):
            if need_x:
                # PyTorch: log(y), but 0 where x == 0 and y <= 0
                grad_x = grad * np.where((x == 0) & (y <= 0), 0, np.log(y))
            if need_y:
                grad_y = grad * x / y
        return grad_x, grad_y


class Lerp(Primitive):
    """start + weight * (end - start), computed as end - (end - start) * (1 - weight) where
    |weight| >= 0.5 (PyTorch's two formulas: exact at weight 0 and at weight 1)."""

    @staticmethod
    def forward(ctx: Context, start: np.ndarray, end: np.ndarray, weight: np.ndarray
                ) -> np.ndarray:
        ctx.save_for_backward(start, end, weight)
        diff = end - start
        with np.errstate(all="ignore"):
            return np.where(np.abs(weight) < 0.5, start + weight * diff,
                            end - diff * (1 - weight))

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        start, end, weight = ctx.saved
        need_start, need_end, need_weight = ctx.needs_input_grad
        return (
            grad * (1 - weight) if need_start else None,
            grad * weight if need_end else None,
            grad * (end - start) if need_weight else None,
        )
