"""Elementwise primitives. Broadcasting is the engine's business: backward returns gradients
of the broadcast shape and the engine sums them back to each input's shape."""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad import jit, parallel
from minigrad.autograd.engine import Context, Primitive
from minigrad.ops.shape import memory_order


class Add(Primitive):
    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a + b

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        return grad, grad


class Sub(Primitive):
    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a - b

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        return grad, (-grad if ctx.needs_input_grad[1] else None)


class Mul(Primitive):
    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        a, b = ctx.saved
        need_a, need_b = ctx.needs_input_grad
        free = getattr(ctx, "grad_is_free", False)
        # the last use of a gradient that nothing else sees writes its product into it
        # (a dropout's backward makes no new array)
        grad_b = None
        if need_b:
            last = free and not need_a and np.result_type(grad, a) == grad.dtype
            grad_b = np.multiply(grad, a, out=grad) if last else grad * a
        grad_a = None
        if need_a:
            last = free and np.result_type(grad, b) == grad.dtype
            grad_a = np.multiply(grad, b, out=grad) if last else grad * b
        return grad_a, grad_b


class Div(Primitive):
    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(a, b)
        with np.errstate(divide="ignore", invalid="ignore"):
            return a / b

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        a, b = ctx.saved
        need_a, need_b = ctx.needs_input_grad
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            grad_a = grad / b if need_a else None
            grad_b = -grad * a / (b * b) if need_b else None
        return grad_a, grad_b


class Neg(Primitive):
    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        return -a

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        return -grad


class Pow(Primitive):
    """a ** b for two tensors, with PyTorch's gradients at the edges: d/da is 0 where b == 0
    (also at a == 0); d/db = a**b * log(a), 0 where a == 0 and b >= 0, nan for a < 0."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            out = a**b
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        a, b, out = ctx.saved
        need_a, need_b = ctx.needs_input_grad
        grad_a = grad_b = None
        zero = np.zeros((), grad.dtype)
        with np.errstate(all="ignore"):
            if need_a:
                grad_a = np.where(b == 0, zero, grad * (b * a ** (b - 1)))
            if need_b:
                grad_b = grad * np.where((a == 0) & (b >= 0), zero, out * np.log(a))
        return grad_a, grad_b


class PowScalar(Primitive):
    """a ** exponent for a Python number exponent; the gradient of a ** 0 is 0 everywhere."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, exponent: float) -> np.ndarray:
        ctx.save_for_backward(a)
        ctx.exponent = exponent
        if exponent == 2:
            return a * a
        with np.errstate(all="ignore"):
            return a**exponent

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        (a,) = ctx.saved
        exponent = ctx.exponent
        if exponent == 0:
            return np.zeros_like(grad)
        if exponent == 2:
            return grad * (a + a)
        with np.errstate(all="ignore"):
            return grad * (exponent * a ** (exponent - 1))


class Exp(Primitive):
    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            out = np.exp(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        (out,) = ctx.saved
        return grad * out


class Log(Primitive):
    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(a)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(a)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        (a,) = ctx.saved
        with np.errstate(divide="ignore", invalid="ignore"):
            return grad / a


class Sqrt(Primitive):
    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            out = np.sqrt(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        (out,) = ctx.saved
        with np.errstate(divide="ignore", invalid="ignore"):
            return grad / (out + out)


class Sin(Primitive):
    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(a)
        return np.sin(a)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        (a,) = ctx.saved
        return grad * np.cos(a)


class Cos(Primitive):
    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(a)
        return np.cos(a)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        (a,) = ctx.saved
        return -grad * np.sin(a)


class Tanh(Primitive):
    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        out = np.tanh(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        (out,) = ctx.saved
        return grad * (1 - out * out)


class Sigmoid(Primitive):
    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        # exp(-a) overflows to inf for very negative a, and 1 / (1 + inf) is the exact limit 0;
        # three ufunc passes, several times faster than branching with np.where
        with np.errstate(over="ignore"):
            out = 1 / (1 + np.exp(-a))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        (out,) = ctx.saved
        return grad * out * (1 - out)


RELU_IN_PLACE = True


class Relu(Primitive):
    """max(a, 0); large activations are split over threads along their outermost memory axis
    (``parallel.blocks``), the result in the input's layout."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        if a.ndim == 0:
            out = np.maximum(a, 0)
        else:
            out = np.empty_like(a)
            parallel.blocks(lambda index: np.maximum(a[index], 0, out=out[index]), out)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        (out,) = ctx.saved
        if grad.ndim == 0 or grad.shape != out.shape or not isinstance(grad, np.ndarray):
            return grad * (out > 0)
        # into the incoming gradient where nothing else can see it: no new array to fill
        # (StrongCNN's (128, 32, 28, 28) ReLU backward: 2.4 -> 1.9 ms CPU)
        free = getattr(ctx, "grad_is_free", False) and RELU_IN_PLACE
        if grad.strides != out.strides and _flat(out) is not None:
            # one copy into the output's layout, then the in-place pass: the gradient of a
            # flatten after a batch-innermost pool, (128, 16, 5, 5) float32: 0.14 -> 0.05 ms
            same = np.empty_like(out)
            np.copyto(same, grad)
            grad, free = same, True
        result = grad if free else np.empty_like(grad)
        if _relu_backward_compiled(grad, out, result):
            return result

        def chunk(index: tuple[slice, ...]) -> None:
            np.multiply(grad[index], out[index] > 0, out=result[index])

        parallel.blocks(chunk, result)
        return result


# ReLU's backward of float32/float64 arrays that share one contiguous memory layout runs as
# one compiled loop (minigrad.jit), ``0 if out <= 0 else grad``, which is PyTorch's
# threshold_backward: a NaN gradient where the output is <= 0 gives 0 and a NaN output passes
# the gradient, as in PyTorch (NumPy's grad * (out > 0) gives NaN and 0 there, and -0 for a
# negative gradient). It reads each array once with no boolean mask in between: (128, 32, 28,
# 28) float32, one thread 3.65 -> 2.74 ms; on two threads both are bound by memory bandwidth
# (1.52 -> 1.46 ms in the op; training steps within 2%: SimpleCNN 9.35 / 9.74 ms, StrongCNN
# 104 / 105 ms without / with). In place (the engine's free gradient) it has a kernel of its
# own that stores only the zeros: written as one select over an aliased array, the loop ran
# unvectorized and SimpleCNN's step took 12.6 ms.
RELU_COMPILED = True


def _flat(a: np.ndarray) -> np.ndarray | None:
    """A 1-D view of ``a``'s elements in memory order, when they fill one contiguous block."""
    view = a.transpose(memory_order(a))
    return view.reshape(-1) if view.flags.c_contiguous else None


def _relu_backward_compiled(grad: np.ndarray, out: np.ndarray, result: np.ndarray) -> bool:
    """result = 0 where out <= 0, else grad, as one compiled pass when it can be; whether it
    ran."""
    if not (RELU_COMPILED and grad.strides == out.strides == result.strides
            and jit.takes(grad, out)):
        return False
    flat_g, flat_o, flat_r = _flat(grad), _flat(out), _flat(result)
    if flat_g is None or flat_o is None or flat_r is None:
        return False
    if result is grad:  # in place: a kernel of its own, so the compiler sees no aliasing
        parallel.rows(lambda start, stop: _relu_backward_in_place(flat_g, flat_o, start, stop),
                      flat_g)
    else:
        parallel.rows(lambda start, stop: _relu_backward_kernel(flat_g, flat_o, flat_r, start,
                                                                stop), flat_g)
    return True


# The kernels loop over slices of [start, stop) from 0: indices that cannot be negative let the
# compiler vectorize (a range(start, stop) index keeps a negative-index check per element), and
# an if that replaces the value compiles to a select where a conditional expression compiled to
# a branch: 600K float32 elements on one thread, 4.06 -> 0.25 ms.
@jit.kernel
def _relu_backward_kernel(grad: Any, out: Any, result: Any, start: int, stop: int) -> None:
    g, o, r = grad[start:stop], out[start:stop], result[start:stop]
    zero = np.zeros(1, result.dtype)[0]
    for i in range(g.size):
        value = g[i]
        if o[i] <= 0:
            value = zero
        r[i] = value


@jit.kernel
def _relu_backward_in_place(grad: Any, out: Any, start: int, stop: int) -> None:
    g, o = grad[start:stop], out[start:stop]
    zero = np.zeros(1, grad.dtype)[0]
    for i in range(g.size):
        if o[i] <= 0:
            g[i] = zero


class LeakyRelu(Primitive):
    @staticmethod
    def forward(ctx: Context, a: np.ndarray, negative_slope: float) -> np.ndarray:
        # slope per element (1 or negative_slope), by arithmetic: np.where is far slower here
        slope = (a > 0).astype(a.dtype)
        slope *= np.asarray(1 - negative_slope, a.dtype)
        slope += np.asarray(negative_slope, a.dtype)
        ctx.save_for_backward(slope)
        return a * slope

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        (slope,) = ctx.saved
        return grad * slope


class Abs(Primitive):
    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(a)
        return np.abs(a)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        (a,) = ctx.saved
        sign = np.sign(a)
        if a.dtype.kind == "f":  # PyTorch: the gradient of |x| at nan is 0
            sign = np.where(np.isnan(a), np.zeros((), a.dtype), sign)
        return grad * sign


class Clamp(Primitive):
    """Clamp to [min, max]; the gradient flows where the input was inside (bounds included)."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, min: float | None, max: float | None) -> np.ndarray:
        inside = np.ones(a.shape, dtype=bool)
        out = a
        if min is not None:
            inside &= a >= min
            out = np.maximum(out, np.asarray(min, a.dtype))
        if max is not None:
            inside &= a <= max
            out = np.minimum(out, np.asarray(max, a.dtype))
        ctx.save_for_backward(inside)
        return out if out is not a else a.copy()

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        (inside,) = ctx.saved
        return grad * inside


class Maximum(Primitive):
    """Elementwise maximum; on ties the gradient is split evenly, as PyTorch does."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(a, b)
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        a, b = ctx.saved
        share_a = (a > b) + 0.5 * (a == b)
        return grad * share_a.astype(grad.dtype), grad * (1 - share_a).astype(grad.dtype)


class Minimum(Primitive):
    """Elementwise minimum; on ties the gradient is split evenly, as PyTorch does."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(a, b)
        return np.minimum(a, b)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        a, b = ctx.saved
        share_a = (a < b) + 0.5 * (a == b)
        return grad * share_a.astype(grad.dtype), grad * (1 - share_a).astype(grad.dtype)


class Where(Primitive):
    """where(condition, a, b); condition is a bool attribute, not a differentiable input."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray, condition: np.ndarray) -> np.ndarray:
        ctx.condition = condition
        return np.where(condition, a, b)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        cond = ctx.condition
        zero = np.zeros((), grad.dtype)
        need_a, need_b = ctx.needs_input_grad
        return (
            np.where(cond, grad, zero) if need_a else None,
            np.where(cond, zero, grad) if need_b else None,
        )
