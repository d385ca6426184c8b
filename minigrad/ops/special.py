"""The error function family in NumPy (no SciPy): erf, erfc, erfinv and their primitives.

erf and erfc are piecewise Chebyshev interpolants, fitted once at import to the standard
library's ``math.erf``/``math.erfc`` at a few hundred points:

- |x| <= 1: erf(x) / x as a polynomial in x * x (no cancellation near 0);
- 1 < |x| < 27: erfc(|x|) = exp(-x * x) * h(|x|), with the smooth h(x) = exp(x * x) erfc(x)
  interpolated on a few intervals in 1 / x; exp(-x * x) is evaluated as the product of two
  exponentials so that the rounding of x * x does not cost relative accuracy.

Both agree with ``math.erf``/``math.erfc`` to a few units in the last place (float64).
erfinv starts from a closed-form approximation and takes three Halley steps on erf (erfc in
the tails, where 1 - y is exact).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.polynomial import chebyshev

from minigrad.autograd.engine import Context, Primitive

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_ERFC_ZERO_AT = 27.3  # erfc(x) underflows to 0 in float64 beyond this

# erf(x) / x for |x| <= 1 as a power series in s = x * x (alternating, terms below 1)
_CORE = np.array([_TWO_OVER_SQRT_PI * (-1) ** n / (math.factorial(n) * (2 * n + 1))
                  for n in range(21)])
# h(x) = exp(x^2) erfc(x) on [lo, hi], interpolated in u = 1 / x mapped to [-1, 1]
_TAIL_INTERVALS = ((1.0, 1.5), (1.5, 2.2), (2.2, 3.2), (3.2, 4.8), (4.8, 8.0), (8.0, _ERFC_ZERO_AT))
_FIT_DEGREE = 20


def _scaled_erfc(x: float) -> float:
    """exp(x^2) erfc(x) in float64 for x >= 1 (import time): from the standard library, and
    from the asymptotic series where erfc(x) itself nears underflow."""
    if x >= 8.0:
        total, term = 1.0, 1.0
        for k in range(1, 24):
            term *= -(2 * k - 1) / (2 * x * x)
            total += term
        return total / (x * math.sqrt(math.pi))
    hi = math.floor(x * 16) / 16
    return math.erfc(x) * math.exp(hi * hi) * math.exp((x - hi) * (x + hi))


def _fit_tail(lo: float, hi: float) -> tuple[float, float, np.ndarray]:
    """Power-series coefficients of h(1 / u) in t = (2 u - (1/hi + 1/lo)) / (1/lo - 1/hi),
    from a Chebyshev interpolant truncated where its coefficients reach rounding level
    (the power coefficients stay below 1, so Horner's rule loses nothing)."""
    ulo, uhi = 1.0 / hi, 1.0 / lo
    values = np.vectorize(_scaled_erfc, otypes=[np.float64])  # import time, 31 points
    coef = chebyshev.chebinterpolate(
        lambda t: values(1.0 / (ulo + (t + 1) * (uhi - ulo) / 2)), _FIT_DEGREE)
    keep = int(np.nonzero(np.abs(coef) > 1e-17 * abs(coef[0]))[0].max()) + 1
    return (ulo + uhi) / (uhi - ulo), 2.0 / (uhi - ulo), chebyshev.cheb2poly(coef[:keep])


_TAILS = tuple((lo, hi) + _fit_tail(lo, hi) for lo, hi in _TAIL_INTERVALS)


def _horner(t: np.ndarray, coef: np.ndarray) -> np.ndarray:
    out = np.full_like(t, coef[-1])
    for c in coef[-2::-1]:
        out *= t
        out += c
    return out


def _exp_minus_square(x: np.ndarray) -> np.ndarray:
    """exp(-x * x) with x * x split into an exact part and a small remainder."""
    hi = np.floor(x * 16) / 16
    return np.exp(-hi * hi) * np.exp(-(x - hi) * (x + hi))


def _erf_core(x: np.ndarray) -> np.ndarray:
    return x * _horner(x * x, _CORE)


def _erfc_tail(ax: np.ndarray) -> np.ndarray:
    """erfc for 1 < ax (float64): 0 beyond the underflow point, nan stays nan."""
    out = np.where(np.isnan(ax), ax, 0.0)
    for lo, hi, shift, scale, coef in _TAILS:
        mask = (ax > lo) & (ax <= hi)
        if not mask.any():
            continue
        a = ax[mask]
        t = scale / a
        t -= shift
        out[mask] = _horner(t, coef) * _exp_minus_square(a)
    return out


def _as_float64(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def erf(x: np.ndarray) -> np.ndarray:
    """erf elementwise, in float64 (the caller casts back)."""
    x = _as_float64(x)
    ax = np.abs(x)
    core = ax <= 1.0
    if core.all():
        return _erf_core(x)
    out = np.empty_like(x)
    out[core] = _erf_core(x[core])
    rest = ~core
    outer = x[rest]
    out[rest] = np.copysign(1.0 - _erfc_tail(np.abs(outer)), outer)
    return out


def erfc(x: np.ndarray) -> np.ndarray:
    """erfc elementwise, in float64, accurate relative to its value in the tail."""
    x = _as_float64(x)
    ax = np.abs(x)
    core = ax <= 1.0
    if core.all():
        return 1.0 - _erf_core(x)
    out = np.empty_like(x)
    out[core] = 1.0 - _erf_core(x[core])
    rest = ~core
    outer = x[rest]
    tail = _erfc_tail(np.abs(outer))
    out[rest] = np.where(outer > 0, tail, 2.0 - tail)
    return out


def erfinv(y: np.ndarray) -> np.ndarray:
    """The inverse of erf on [-1, 1] (±inf at ±1, nan outside), in float64."""
    y = _as_float64(y)
    ay = np.abs(y)
    with np.errstate(invalid="ignore"):
        inside = ay < 1.0
    out = np.where(ay == 1.0, np.inf, np.nan)
    a = ay[inside]
    # a closed-form start, within about 2e-3 of the root
    log_term = np.log1p(-a * a)
    first = 2.0 / (math.pi * 0.147) + log_term / 2
    x = np.sqrt(np.sqrt(first * first - log_term / 0.147) - first)
    tail = a > 0.5
    for _ in range(3):
        # Halley's method on f(x) = erf(x) - a, written as (1 - a) - erfc(x) in the tail,
        # where 1 - a is exact; f' = 2/sqrt(pi) exp(-x^2), f''/f' = -2x
        residual = np.empty_like(x)
        residual[tail] = (1.0 - a[tail]) - erfc(x[tail])
        residual[~tail] = erf(x[~tail]) - a[~tail]
        step = residual / (_TWO_OVER_SQRT_PI * _exp_minus_square(x))
        x = x - step / (1.0 + x * step)
    out[inside] = x
    return np.copysign(out, y)


# ---------------------------------------------------------------------------- primitives


class Erf(Primitive):
    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(a)
        return erf(a).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        (a,) = ctx.saved
        return grad * (_TWO_OVER_SQRT_PI * np.exp(-a * a))


class Erfc(Primitive):
    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(a)
        return erfc(a).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        (a,) = ctx.saved
        return grad * (-_TWO_OVER_SQRT_PI * np.exp(-a * a))


class Erfinv(Primitive):
    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        out = erfinv(a).astype(a.dtype, copy=False)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        (out,) = ctx.saved
        with np.errstate(over="ignore"):
            return grad * (math.sqrt(math.pi) / 2 * np.exp(out * out))
