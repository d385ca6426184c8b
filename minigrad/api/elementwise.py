"""Elementwise ops: math functions, arithmetic with rounding, bitwise and logical ops,
tests of values (isinf, isclose, ...). Each declaration gives the method, the torch-level
function and, where PyTorch has one, the in-place variant; operators (``2 // x``, ``x << 1``,
``x &= m``) are set here too."""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np

from minigrad import promotion
from minigrad.autograd.engine import Primitive
from minigrad.declare import attach, op
from minigrad.errors import OpError
from minigrad.ops import binary, special, unary
from minigrad.ops import elementwise as ew
from minigrad.tensor import Tensor, _wrap

# ---------------------------------------------------------------------------- helpers


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _default_float() -> np.dtype:
    return sys.modules["minigrad.tensor"].DEFAULT_FLOAT  # set_default_dtype rebinds it


def _floating(x: Tensor) -> Tensor:
    """Integer and bool inputs of float math become the default float dtype, as in PyTorch."""
    return x if x._data.dtype.kind == "f" else x.to(_default_float())


def _pair(input: Any, other: Any, op_name: str) -> tuple[Tensor, Tensor]:
    """Both operands promoted to one dtype (either may be a Python number)."""
    if isinstance(input, Tensor):
        return input._operands(other, op_name)
    if isinstance(other, Tensor):
        b, a = other._operands(input, op_name)
        return a, b
    return Tensor(input)._operands(other, op_name)


def _float_pair(input: Any, other: Any, op_name: str) -> tuple[Tensor, Tensor]:
    a, b = _pair(input, other, op_name)
    if a._data.dtype.kind != "f":
        a, b = _floating(a), _floating(b)
    return a, b


def _only_float(x: Tensor, op_name: str) -> None:
    if x._data.dtype.kind != "f":
        raise NotImplementedError(
            f"{op_name}: not implemented for dtype {x.dtype}; convert first, e.g. x.float()"
        )


def _no_bool(x: Tensor, op_name: str, hint: str) -> None:
    if x._data.dtype == np.bool_:
        raise RuntimeError(f"{op_name}: on a bool tensor is not supported; {hint}")


# ---------------------------------------------------------------------------- float math

_FLOAT_UNARY = {
    ("asin", "arcsin"): unary.Asin,
    ("acos", "arccos"): unary.Acos,
    ("atan", "arctan"): unary.Atan,
    ("sinh",): unary.Sinh,
    ("cosh",): unary.Cosh,
    ("tan",): unary.Tan,
    ("asinh", "arcsinh"): unary.Asinh,
    ("acosh", "arccosh"): unary.Acosh,
    ("atanh", "arctanh"): unary.Atanh,
    ("log2",): unary.Log2,
    ("log10",): unary.Log10,
    ("log1p",): unary.Log1p,
    ("exp2",): unary.Exp2,
    ("expm1",): unary.Expm1,
    ("sinc",): unary.Sinc,
    ("erf",): special.Erf,
    ("erfc",): special.Erfc,
    ("erfinv",): special.Erfinv,
}


def _declare_float_unary(names: tuple[str, ...], primitive: type[Primitive]) -> None:
    def fn(input: Tensor) -> Tensor:
        return primitive.apply(_floating(input))

    fn.__name__ = fn.__qualname__ = names[0]
    fn.__doc__ = f"{names[0]}(x) elementwise, any shape; integer inputs give the default float."
    op(*names, inplace=True)(fn)


for _names, _primitive in _FLOAT_UNARY.items():
    _declare_float_unary(_names, _primitive)


@op(inplace=True)
def deg2rad(input: Tensor) -> Tensor:
    """Degrees to radians, any shape."""
    return _floating(input) * (math.pi / 180.0)


@op(inplace=True)
def rad2deg(input: Tensor) -> Tensor:
    """Radians to degrees, any shape."""
    return _floating(input) * (180.0 / math.pi)


@op(inplace=True)
def logit(input: Tensor, eps: float | None = None) -> Tensor:
    """log(p / (1 - p)); with ``eps``, p is clamped to [eps, 1 - eps] first."""
    return unary.Logit.apply(_floating(input), eps=eps)


@op(inplace=True)
def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Tensor:
    """nan -> ``nan``, inf -> ``posinf`` (default: the dtype's largest), -inf -> ``neginf``."""
    if input._data.dtype.kind != "f":
        return input.clone()
    return unary.NanToNum.apply(input, nan=nan, posinf=posinf, neginf=neginf)


# ---------------------------------------------------------------------------- rounding


def _rounding(input: Tensor, primitive: type[Primitive], fn: Any) -> Tensor:
    if input._data.dtype == np.bool_:
        raise NotImplementedError(
            f"{fn.__name__}: not implemented for bool tensors; convert first, e.g. x.long()")
    if input._data.dtype.kind in "iu":
        return input.clone()  # integers are already whole, as in PyTorch
    return primitive.apply(input, fn=fn)


@op("trunc", "fix", inplace=True)
def trunc(input: Tensor) -> Tensor:
    """Round toward zero; gradient 0."""
    return _rounding(input, unary.Trunc, np.trunc)


@op(inplace=True)
def frac(input: Tensor) -> Tensor:
    """x - trunc(x) (the sign of x); gradient 1."""
    _only_float(input, "frac")
    return unary.Frac.apply(input)


@op("round", inplace=True)
def round(input: Tensor, *, decimals: int = 0) -> Tensor:  # noqa: A001 - PyTorch's name
    """Round half to even (to ``decimals`` places); gradient 0."""
    if decimals == 0:
        return _rounding(input, unary.Round, np.round)
    if input._data.dtype.kind in "iub":
        raise NotImplementedError("round: decimals is only supported for floating point inputs")
    return unary.Round.apply(input, fn=lambda a: np.round(a, decimals))


@op(inplace=True)
def floor(input: Tensor) -> Tensor:
    """Round toward -inf; gradient 0."""
    return _rounding(input, unary.Floor, np.floor)


@op(inplace=True)
def ceil(input: Tensor) -> Tensor:
    """Round toward +inf; gradient 0."""
    return _rounding(input, unary.Ceil, np.ceil)


@op(inplace=True)
def sign(input: Tensor) -> Tensor:
    """-1, 0 or 1 (False/True for bool); gradient 0."""
    if input._data.dtype == np.bool_:
        return input.clone()
    return unary.Sign.apply(input, fn=_sign)


def _sign(a: np.ndarray) -> np.ndarray:
    out = np.sign(a)
    return np.where(np.isnan(a), np.zeros((), a.dtype), out) if a.dtype.kind == "f" else out


@op(inplace=True)
def sgn(input: Tensor) -> Tensor:
    """sign(x) for real tensors."""
    return sign(input)


@op("abs", "absolute", inplace=True)
def abs(input: Tensor) -> Tensor:  # noqa: A001 - PyTorch's name
    """``|x|``; the gradient is sign(x) (0 at 0)."""
    if input._data.dtype == np.bool_:
        raise NotImplementedError("abs: not implemented for bool tensors; use x.long().abs()")
    return ew.Abs.apply(input)


@op("neg", "negative", inplace=True)
def neg(input: Tensor) -> Tensor:
    """-x."""
    _no_bool(input, "neg: negation, the `-` operator,",
             "to invert a mask use the `~` or `logical_not()` operator instead")
    return ew.Neg.apply(input)


@op()
def positive(input: Tensor) -> Tensor:
    """+x: the input itself."""
    _no_bool(input, "positive: the `+` operator,", "use the tensor itself")
    return input


@op(inplace=True)
def square(input: Tensor) -> Tensor:
    """x * x (bool gives int64, as in PyTorch)."""
    if input._data.dtype == np.bool_:
        input = input.to(np.int64)
    return ew.PowScalar.apply(input, exponent=2)


@op(inplace=True)
def rsqrt(input: Tensor) -> Tensor:
    """1 / sqrt(x)."""
    return 1.0 / ew.Sqrt.apply(_floating(input))


@op(inplace=True)
def reciprocal(input: Tensor) -> Tensor:
    """1 / x (integers give the default float)."""
    return 1.0 / _floating(input)


# ---------------------------------------------------------------------------- clamping


def _bound_dtype(input: Tensor, bound: Any) -> Tensor:
    target = promotion.result_type((input, bound), _default_float(), "clamp")
    return input if target == input._data.dtype else input.to(target)


@op(inplace=True)
def clamp_min(input: Tensor, min: Any) -> Tensor:  # noqa: A002 - PyTorch's name
    """max(x, min) (an integer tensor with a float bound gives the default float)."""
    return _bound_dtype(input, min).clamp(min=min)


@op(inplace=True)
def clamp_max(input: Tensor, max: Any) -> Tensor:  # noqa: A002 - PyTorch's name
    """min(x, max) (an integer tensor with a float bound gives the default float)."""
    return _bound_dtype(input, max).clamp(max=max)


# ---------------------------------------------------------------------------- power


@op(number_first="tensor")
def float_power(input: Any, exponent: Any) -> Tensor:
    """input ** exponent computed in float64 (the result is float64)."""
    base = _as_tensor(input).to(np.float64)
    if isinstance(exponent, Tensor):
        return base ** exponent.to(np.float64)
    return base ** exponent


def float_power_(input: Tensor, exponent: Any) -> Tensor:
    """In-place float_power: the tensor must be float64 (the result's dtype)."""
    if input._data.dtype != np.float64:
        raise OpError(
            f"float_power_: the base given to float_power_ has dtype {input.dtype} but the "
            "operation's result requires dtype float64; use x = x.double() first"
        )
    return input._inplace_result("float_power_", lambda alias: float_power(alias, exponent))


attach("float_power_", float_power_)

# ---------------------------------------------------------------------------- division


def _div(input: Tensor, other: Any, rounding_mode: str | None, op_name: str) -> Tensor:
    if rounding_mode is None:
        return input / other
    if rounding_mode not in ("trunc", "floor"):
        raise OpError(
            f"{op_name}: expected rounding_mode to be one of None, 'trunc', or 'floor' but "
            f"found {rounding_mode!r}"
        )
    a, b = _not_bool(*_pair(input, other, op_name), f"{op_name}(rounding_mode={rounding_mode!r})")
    return binary.RoundedDiv.apply(a, b, mode=rounding_mode)


@op("div", "divide", number_first="any")
def div(input: Tensor, other: Any, *, rounding_mode: str | None = None) -> Tensor:
    """input / other: true division, or rounded with rounding_mode='trunc' | 'floor'
    (then the gradient is 0, as in PyTorch)."""
    return _div(input, other, rounding_mode, "div")


@op(number_first="any")
def true_divide(input: Tensor, other: Any) -> Tensor:
    """input / other (integers give the default float)."""
    return input / other


@op(inplace=True, number_first="any")
def floor_divide(input: Tensor, other: Any) -> Tensor:
    """input / other rounded toward -inf (like Python's //); not differentiable, as in
    PyTorch: backward through it raises."""
    a, b = _not_bool(*_pair(input, other, "floor_divide"), "floor_divide")
    return unary.NotDifferentiable.apply(a, b, fn=binary.floor_divide, name="floor_divide")


@op(inplace=True, number_first="tensor")
def remainder(input: Any, other: Any) -> Tensor:
    """input - floor(input / other) * other: the sign of ``other`` (Python's %)."""
    a, b = _pair(input, other, "remainder")
    return binary.Remainder.apply(*_not_bool(a, b, "remainder"))


@op(inplace=True)
def fmod(input: Tensor, other: Any) -> Tensor:
    """input - trunc(input / other) * other: the sign of ``input`` (C's fmod)."""
    a, b = _pair(input, other, "fmod")
    return binary.Fmod.apply(*_not_bool(a, b, "fmod"))


def _not_bool(a: Tensor, b: Tensor, op_name: str = "this op") -> tuple[Tensor, Tensor]:
    if a._data.dtype == np.bool_:
        raise NotImplementedError(
            f"{op_name}: not implemented for bool tensors; convert first, e.g. x.long()")
    return a, b


# ---------------------------------------------------------------------------- binary math


@op("atan2", "arctan2", inplace=True)
def atan2(input: Tensor, other: Any) -> Tensor:
    """The angle of (other, input) in (-pi, pi]."""
    return binary.Atan2.apply(*_float_pair(input, other, "atan2"))


@op(inplace=True)
def hypot(input: Tensor, other: Any) -> Tensor:
    """sqrt(input^2 + other^2) without overflow."""
    a, b = _pair(input, other, "hypot")
    _only_float(a, "hypot")
    return binary.Hypot.apply(a, b)


@op(inplace=True)
def copysign(input: Tensor, other: Any) -> Tensor:
    """``|input|`` with the sign of other (integers give the default float)."""
    return binary.Copysign.apply(*_float_pair(input, other, "copysign"))


@op()
def logaddexp(input: Tensor, other: Any) -> Tensor:
    """log(exp(input) + exp(other)) without overflow."""
    a, b = _pair(input, other, "logaddexp")
    _only_float(a, "logaddexp")
    return binary.LogAddExp.apply(a, b, base2=False)


@op()
def logaddexp2(input: Tensor, other: Any) -> Tensor:
    """log2(2**input + 2**other) without overflow."""
    a, b = _pair(input, other, "logaddexp2")
    _only_float(a, "logaddexp2")
    return binary.LogAddExp.apply(a, b, base2=True)


@op(inplace=True, number_first="tensor")
def xlogy(input: Any, other: Any) -> Tensor:
    """input * log(other), 0 where input == 0 (unless other is nan)."""
    return binary.Xlogy.apply(*_float_pair(input, other, "xlogy"))


@op(inplace=True)
def lerp(input: Tensor, end: Tensor, weight: Any) -> Tensor:
    """input + weight * (end - input), exact at weight 0 and 1 (PyTorch's two formulas)."""
    _only_float(input, "lerp")
    end = _as_tensor(end)
    if end._data.dtype != input._data.dtype:
        raise OpError(
            f"lerp: expected dtype {input.dtype} for `end` but got dtype {end.dtype}"
        )
    if isinstance(weight, Tensor):
        w = weight if weight._data.dtype == input._data.dtype else weight.to(input._data.dtype)
    else:
        w = _wrap(np.asarray(weight, dtype=input._data.dtype))
    return binary.Lerp.apply(input, end, w)


@op(inplace=True)
def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
    """input + value * tensor1 * tensor2."""
    product = tensor1 * tensor2
    return input + (product * value if value != 1 else product)


@op(inplace=True)
def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
    """input + value * tensor1 / tensor2 (floating point only, as in PyTorch)."""
    if tensor1._data.dtype.kind != "f" and tensor2._data.dtype.kind != "f":
        raise OpError(
            "addcdiv: integer division with addcdiv is not supported; convert tensor1 or "
            "tensor2 to a floating point dtype first"
        )
    quotient = tensor1 / tensor2
    return input + (quotient * value if value != 1 else quotient)


@op(inplace=True)
def heaviside(input: Tensor, values: Tensor) -> Tensor:
    """0 where input < 0, ``values`` where input == 0, 1 where input > 0 (not differentiable,
    as in PyTorch)."""
    values = _as_tensor(values)
    if values._data.dtype != input._data.dtype:
        raise OpError(
            f"heaviside is not yet implemented for tensors with different dtypes ({input.dtype} "
            f"and {values.dtype}); convert one of them first"
        )
    return unary.NotDifferentiable.apply(input, values, fn=_heaviside, name="heaviside")


def _heaviside(a: np.ndarray, values: np.ndarray) -> np.ndarray:
    # nan counts as "not positive" (0), as in PyTorch; np.heaviside would give nan
    return np.where(a == 0, values, (a > 0).astype(a.dtype))


# ---------------------------------------------------------------------------- bitwise, logical


def _integral_pair(input: Any, other: Any, op_name: str) -> tuple[Tensor, Tensor]:
    a, b = _pair(input, other, op_name)
    if a._data.dtype.kind not in "iub":
        raise NotImplementedError(
            f"{op_name}: not implemented for dtype {a.dtype}; bitwise ops take integer or bool "
            "tensors (use logical_and/logical_or for masks of floats)"
        )
    return a, b


def _bitwise(op_name: str, ufunc: np.ufunc, *names: str) -> Any:
    def fn(input: Tensor, other: Any) -> Tensor:
        a, b = _integral_pair(input, other, op_name)
        return _wrap(np.asarray(ufunc(a._data, b._data)))

    fn.__name__ = fn.__qualname__ = op_name
    fn.__doc__ = f"{op_name} of integer or bool tensors (broadcast)."
    return op(*names, inplace=True, number_first="tensor")(fn)


bitwise_and = _bitwise("bitwise_and", np.bitwise_and, "bitwise_and")
bitwise_or = _bitwise("bitwise_or", np.bitwise_or, "bitwise_or")
bitwise_xor = _bitwise("bitwise_xor", np.bitwise_xor, "bitwise_xor")


def _shift(ufunc: np.ufunc, left: bool) -> Any:
    def shifted(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if a.dtype == np.bool_:
            raise NotImplementedError("bit shifts are not implemented for bool tensors; use "
                                      "x.long() first")
        bits = a.dtype.itemsize * 8
        # shifts by the width or more are defined as in PyTorch: 0, or the sign for >>
        out = ufunc(a, np.minimum(b, bits - 1))
        return np.where(b >= bits, (np.zeros((), a.dtype) if left else out), out)

    return shifted


bitwise_left_shift = _bitwise("bitwise_left_shift", _shift(np.left_shift, True),
                              "bitwise_left_shift")
bitwise_right_shift = _bitwise("bitwise_right_shift", _shift(np.right_shift, False),
                               "bitwise_right_shift")


@op(inplace=True)
def bitwise_not(input: Tensor) -> Tensor:
    """~x of an integer or bool tensor."""
    if input._data.dtype.kind not in "iub":
        raise NotImplementedError(
            f"bitwise_not: not implemented for dtype {input.dtype}; use an integer or bool tensor"
        )
    return _wrap(np.invert(input._data))


def _logical(op_name: str, ufunc: np.ufunc) -> Any:
    def fn(input: Tensor, other: Any) -> Tensor:
        b = other._data if isinstance(other, Tensor) else np.asarray(other)
        return _wrap(np.asarray(ufunc(input._data, b)))

    fn.__name__ = fn.__qualname__ = op_name
    fn.__doc__ = f"{op_name}: elementwise truth values (nonzero is True), a bool tensor."
    return op(op_name, inplace=True)(fn)


logical_and = _logical("logical_and", np.logical_and)
logical_or = _logical("logical_or", np.logical_or)
logical_xor = _logical("logical_xor", np.logical_xor)


# ---------------------------------------------------------------------------- tests of values


@op()
def isinf(input: Tensor) -> Tensor:
    """Elementwise test for +inf or -inf: a bool tensor of the input's shape."""
    return _wrap(np.isinf(input._data))


@op()
def isposinf(input: Tensor) -> Tensor:
    """Elementwise test for +inf: a bool tensor of the input's shape."""
    return _wrap(np.isposinf(input._data))


@op()
def isneginf(input: Tensor) -> Tensor:
    """Elementwise test for -inf: a bool tensor of the input's shape."""
    return _wrap(np.isneginf(input._data))


@op()
def isnan(input: Tensor) -> Tensor:
    """Elementwise test for NaN: a bool tensor of the input's shape."""
    return _wrap(np.isnan(input._data))


@op()
def isfinite(input: Tensor) -> Tensor:
    """Elementwise test for a finite value (not inf, not NaN): a bool tensor."""
    return _wrap(np.isfinite(input._data))


@op()
def isreal(input: Tensor) -> Tensor:
    """All True: minigrad tensors are real."""
    return _wrap(np.ones(input.shape, dtype=bool))


@op()
def signbit(input: Tensor) -> Tensor:
    """True where the sign bit is set (also for -0.0)."""
    data = input._data
    return _wrap(np.signbit(data) if data.dtype != np.bool_ else np.zeros(data.shape, bool))


def _close(input: Tensor, other: Tensor, rtol: float, atol: float, equal_nan: bool,
           op_name: str) -> np.ndarray:
    other = _as_tensor(other)
    if input._data.dtype != other._data.dtype:
        raise OpError(
            f"{op_name}: {input.dtype} did not match {other.dtype}; both tensors need the same "
            "dtype"
        )
    if rtol < 0 or atol < 0:
        raise OpError(f"{op_name}: rtol ({rtol}) and atol ({atol}) must be non-negative")
    a, b = input._data, other._data
    with np.errstate(all="ignore"):
        return np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)


@op()
def isclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    """``|input - other| <= atol + rtol * |other|``, elementwise (infinities equal themselves)."""
    return _wrap(np.asarray(_close(input, other, rtol, atol, equal_nan, "isclose")))


@op(out=False)
def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """isclose(...).all() as a Python bool."""
    return bool(np.all(_close(input, other, rtol, atol, equal_nan, "allclose")))


@op(out=False)
def equal(input: Tensor, other: Tensor) -> bool:
    """True if both have the same shape and elements."""
    other = _as_tensor(other)
    return input.shape == other.shape and bool(np.array_equal(input._data, other._data))


# ---------------------------------------------------------------------------- operators


def _wrapped_number(value: Any, op_name: str) -> Any:
    """A Python number stays a number (weakly typed in promotion); others become tensors."""
    promotion.scalar_dtype(value, _default_float(), op_name)  # validates, raises for complex
    return value


def _number_first(fn: Any, op_name: str) -> Any:
    """``number (op) tensor``: the number keeps its weak type in promotion."""

    def method(self: Tensor, other: Any) -> Tensor:
        a, b = _pair(_wrapped_number(other, op_name), self, op_name)
        return fn(a, b)

    return method


def _install_operators() -> None:
    operators = {
        "__floordiv__": floor_divide,
        "__mod__": remainder,
        "__and__": bitwise_and,
        "__or__": bitwise_or,
        "__xor__": bitwise_xor,
        "__lshift__": bitwise_left_shift,
        "__rshift__": bitwise_right_shift,
        "__invert__": bitwise_not,
    }
    for name, fn in operators.items():
        attach(name, fn)
    for name, fn in (("__rfloordiv__", floor_divide), ("__rmod__", remainder),
                     ("__rand__", bitwise_and), ("__ror__", bitwise_or),
                     ("__rxor__", bitwise_xor), ("__rlshift__", bitwise_left_shift),
                     ("__rrshift__", bitwise_right_shift)):
        attach(name, _number_first(fn, name.strip("_")))
    for name, inplace in (("__ifloordiv__", "floor_divide_"), ("__imod__", "remainder_"),
                          ("__iand__", "bitwise_and_"), ("__ior__", "bitwise_or_"),
                          ("__ixor__", "bitwise_xor_"), ("__ilshift__", "bitwise_left_shift_"),
                          ("__irshift__", "bitwise_right_shift_"), ("__ipow__", "pow_")):
        attach(name, getattr(Tensor, inplace))
    attach("__pos__", positive)
    attach("__abs__", abs)
    attach("__neg__", neg)


_install_operators()
