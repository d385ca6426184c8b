"""Elementwise ops: gradients against numerical differences (float64), and values, gradients,
dtypes and errors against PyTorch (type promotion, pow at its edges, erf, gelu, rounding)."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
import minigrad.functional as F
from minigrad.ops import special
from minigrad.testing import arrays, assert_grad_matches_numeric, broadcastable_shapes, shapes

torch = pytest.importorskip("torch")

SMALL = {"max_dims": 3, "max_side": 3}


def one(lo: float, hi: float) -> st.SearchStrategy:
    return shapes(**SMALL).flatmap(lambda s: arrays(s, elements=st.floats(lo, hi)))


def two(first: st.SearchStrategy, second: st.SearchStrategy) -> st.SearchStrategy:
    return broadcastable_shapes(2, **SMALL).flatmap(
        lambda s: st.tuples(arrays(s[0], elements=first), arrays(s[1], elements=second)))


# name -> (domain low, domain high) away from poles and kinks
UNARY_DOMAINS = {
    "asin": (-0.9, 0.9), "acos": (-0.9, 0.9), "atan": (-3, 3), "sinh": (-3, 3),
    "cosh": (-3, 3), "tan": (-1.2, 1.2), "asinh": (-3, 3), "acosh": (1.1, 4),
    "atanh": (-0.9, 0.9), "log2": (0.2, 4), "log10": (0.2, 4), "log1p": (-0.8, 3),
    "exp2": (-3, 3), "expm1": (-3, 3), "sinc": (-2, 2), "erf": (-3, 3), "erfc": (-3, 3),
    "erfinv": (-0.95, 0.95), "deg2rad": (-3, 3), "rad2deg": (-3, 3), "logit": (0.05, 0.95),
    "frac": (0.1, 0.9), "rsqrt": (0.2, 4), "square": (-3, 3), "reciprocal": (0.3, 3),
    "abs": (0.1, 3), "neg": (-3, 3), "nan_to_num": (-3, 3), "sigmoid": (-3, 3),
}


@pytest.mark.parametrize("name", sorted(UNARY_DOMAINS))
def test_unary_grad_matches_numeric(name):
    lo, hi = UNARY_DOMAINS[name]
    fn = getattr(mg, name)

    @given(one(lo, hi))
    def check(x):
        assert_grad_matches_numeric(fn, x)

    check()


BINARY = {
    "atan2": (lambda a, b: mg.atan2(a, b), (-3, 3), (0.3, 3)),
    "hypot": (lambda a, b: mg.hypot(a, b), (0.2, 3), (0.2, 3)),
    "copysign": (lambda a, b: mg.copysign(a, b), (0.2, 3), (0.2, 3)),
    "logaddexp": (lambda a, b: mg.logaddexp(a, b), (-3, 3), (-3, 3)),
    "logaddexp2": (lambda a, b: mg.logaddexp2(a, b), (-3, 3), (-3, 3)),
    "xlogy": (lambda a, b: mg.xlogy(a, b), (-3, 3), (0.2, 3)),
    "remainder": (lambda a, b: mg.remainder(a, b), (0.1, 0.9), (1.1, 3)),
    "fmod": (lambda a, b: mg.fmod(a, b), (0.1, 0.9), (1.1, 3)),
    "float_power": (lambda a, b: mg.float_power(a, b), (0.3, 3), (-2, 2)),
    "pow": (lambda a, b: a**b, (0.3, 3), (-2, 2)),
}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_grad_matches_numeric(name):
    fn, (a_lo, a_hi), (b_lo, b_hi) = BINARY[name]

    @given(two(st.floats(a_lo, a_hi), st.floats(b_lo, b_hi)))
    def check(pair):
        assert_grad_matches_numeric(fn, *pair)

    check()


@given(broadcastable_shapes(3, **SMALL).flatmap(lambda s: st.tuples(
    *[arrays(shape, elements=st.floats(-2, 2)) for shape in s])))
def test_lerp_addcmul_addcdiv_grads_match_numeric(triple):
    a, b, w = triple
    assert_grad_matches_numeric(lambda x, y, z: mg.lerp(x, y, z), a, b, w)
    assert_grad_matches_numeric(lambda x, y, z: mg.addcmul(x, y, z, value=0.5), a, b, w)
    assert_grad_matches_numeric(lambda x, y, z: mg.addcdiv(x, y, z * z + 1, value=2), a, b, w)


# ---------------------------------------------------------------------- against torch


def _both(values, dtype=None, requires_grad=False):
    array = np.asarray(values, dtype=dtype)
    m = mg.tensor(array, requires_grad=requires_grad)
    t = torch.tensor(array, requires_grad=requires_grad)
    return m, t


def _assert_same(m, t, rtol=1e-6, atol=1e-12):
    assert str(m.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], (m.dtype, t.dtype)
    assert tuple(m.shape) == tuple(t.shape)
    np.testing.assert_allclose(m.detach().numpy().astype(np.float64),
                               t.detach().numpy().astype(np.float64), rtol=rtol, atol=atol,
                               equal_nan=True)


FLOAT_VALUES = [-2.7, -1.0, -0.5, -0.0, 0.0, 0.3, 0.5, 1.0, 2.5, 4.0]
UNARY_TORCH = ["asin", "acos", "atan", "sinh", "cosh", "tan", "asinh", "acosh", "atanh",
               "log2", "log10", "log1p", "exp2", "expm1", "sinc", "erf", "erfc", "erfinv",
               "deg2rad", "rad2deg", "logit", "frac", "trunc", "fix", "floor", "ceil", "round",
               "sign", "sgn", "rsqrt", "square", "reciprocal", "abs", "absolute", "neg",
               "negative", "positive", "sigmoid", "nan_to_num", "signbit", "isinf", "isnan",
               "isfinite", "isposinf", "isneginf", "isreal", "exp", "log", "sqrt"]


@pytest.mark.parametrize("name", UNARY_TORCH)
def test_unary_matches_torch_values_grads_dtypes(name):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NumPy RuntimeWarning where torch is silent
        m, t = _both(FLOAT_VALUES + [np.inf, -np.inf, np.nan], np.float64, requires_grad=True)
        out_m, out_t = getattr(mg, name)(m), getattr(torch, name)(t)
        _assert_same(out_m, out_t, rtol=1e-12)
        if out_t.requires_grad:
            grad = np.linspace(0.5, 1.5, m.shape[0])
            (gm,) = mg.autograd.grad(out_m, m, mg.tensor(grad))
            (gt,) = torch.autograd.grad(out_t, t, torch.tensor(grad))
            expected = np.zeros(gm.shape) if gt._is_zerotensor() else gt.numpy()
            np.testing.assert_allclose(gm.numpy(), expected, rtol=1e-10, equal_nan=True)
        for dtype in (np.int64, np.int32, np.bool_, np.float32):
            values = [0, 1, 2, 3] if dtype != np.bool_ else [True, False]
            mi, ti = _both(values, dtype)
            try:
                expected = getattr(torch, name)(ti)
            except (RuntimeError, NotImplementedError) as e:
                with pytest.raises(type(e)):
                    getattr(mg, name)(mi)
                continue
            _assert_same(getattr(mg, name)(mi), expected, rtol=1e-6)
            # the method and the in-place spelling agree with the function
            _assert_same(getattr(mi, name)(), expected, rtol=1e-6)


def test_inplace_spellings_match_torch():
    for name in ["asin", "erf", "trunc", "frac", "logit", "clamp_min", "sign", "floor"]:
        args = (0.1,) if name == "clamp_min" else ()
        m, t = _both([0.2, -0.4, 0.7], np.float32)
        assert getattr(m, name + "_")(*args) is m
        getattr(t, name + "_")(*args)
        _assert_same(m, t)


def test_rounding_ops_have_zero_grad_and_frac_one():
    for name in ["sign", "floor", "ceil", "round", "trunc", "frac"]:
        m, t = _both([-1.5, -0.5, 0.0, 0.5, 2.0], np.float64, requires_grad=True)
        getattr(mg, name)(m).sum().backward()
        getattr(torch, name)(t).sum().backward()
        np.testing.assert_array_equal(m.grad.numpy(), t.grad.numpy())
    m, t = _both([1.25, -2.35, 0.125], np.float64)
    _assert_same(mg.round(m, decimals=1), torch.round(t, decimals=1))


def test_erf_family_is_float64_accurate():
    x = np.concatenate([np.linspace(-7, 7, 2801), [-30, 27, 26.5, 1e-300, -1e-20]])
    for name in ("erf", "erfc"):
        ours = getattr(special, name)(x)
        expected = np.array([getattr(math, name)(v) for v in x])
        np.testing.assert_allclose(ours, expected, rtol=1e-14, atol=0)
    y = np.concatenate([np.linspace(-0.999999, 0.999999, 2001), [1 - 1e-15, -1 + 1e-12]])
    np.testing.assert_allclose(special.erfinv(y), torch.special.erfinv(torch.tensor(y)).numpy(),
                               rtol=1e-13)
    np.testing.assert_array_equal(special.erfinv(np.array([1.0, -1.0, 1.5, np.nan])),
                                  [np.inf, -np.inf, np.nan, np.nan])


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_matches_torch(approximate):
    values = np.linspace(-6, 6, 49)
    for dtype in (np.float32, np.float64):
        m, t = _both(values, dtype, requires_grad=True)
        out_m = F.gelu(m, approximate=approximate)
        out_t = torch.nn.functional.gelu(t, approximate=approximate)
        # float32: PyTorch's (1 + erf) / 2 loses digits to cancellation for x << 0
        atol = 2e-6 if dtype == np.float32 else 1e-15
        rtol = 1e-5 if dtype == np.float32 else (1e-12 if approximate == "none" else 1e-7)
        _assert_same(out_m, out_t, rtol=rtol, atol=atol)
        out_m.sum().backward()
        out_t.sum().backward()
        np.testing.assert_allclose(m.grad.numpy(), t.grad.numpy(), rtol=rtol, atol=atol)


# ---------------------------------------------------------------------- type promotion

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]


def _operand(kind, dtype):
    if kind == "scalar":
        return {"bool": True, "int64": 3, "float32": 2.5}[dtype]
    shape = (2,) if kind == "tensor" else ()
    array = np.ones(shape, dtype=dtype)
    return mg.tensor(array), torch.tensor(array)


def test_operands_follow_torch_result_type_on_a_grid():
    kinds = ["tensor", "0d"]
    for (da, db), (ka, kb) in itertools.product(itertools.product(DTYPES, DTYPES),
                                                itertools.product(kinds, kinds)):
        ma, ta = _operand(ka, da)
        mb, tb = _operand(kb, db)
        x, y = ma._operands(mb, "test")
        expected = str(torch.result_type(ta, tb)).split(".")[-1]
        assert str(x.dtype).split(".")[-1] == expected == str(y.dtype).split(".")[-1], (
            da, db, ka, kb)
    for da, scalar in itertools.product(DTYPES, ["bool", "int64", "float32"]):
        for kind in kinds:
            ma, ta = _operand(kind, da)
            value = _operand("scalar", scalar)
            x, _ = ma._operands(value, "test")
            assert x.dtype == str(torch.result_type(ta, value)).split(".")[-1], (da, scalar)


def test_binary_ops_promote_like_torch():
    b_m, b_t = _both([True, False])
    i_m, i_t = _both([3, -4], np.int32)
    u_m, u_t = _both([3, 4], np.uint8)
    s_m, s_t = _both([1, 2], np.int8)
    _assert_same(mg.maximum(b_m, i_m), torch.maximum(b_t, i_t))
    _assert_same(b_m + b_m, b_t + b_t)
    _assert_same(b_m * b_m, b_t * b_t)
    _assert_same(i_m + 2.5, i_t + 2.5)
    _assert_same(u_m + s_m, u_t + s_t)
    _assert_same(mg.tensor(2.5, dtype=mg.float64) * i_m, torch.tensor(2.5, dtype=torch.float64)
                 * i_t)
    _assert_same(mg.tensor(True) + i_m, torch.tensor(True) + i_t)
    with pytest.raises(RuntimeError, match="bool"):
        b_m - b_m
    with pytest.raises(RuntimeError, match="bool"):
        _ = -b_m


def test_complex_is_refused_at_the_boundary():
    with pytest.raises(TypeError, match="complex"):
        mg.tensor([1 + 2j])
    with pytest.raises(TypeError, match="complex"):
        mg.ones(2) * 1j


# ---------------------------------------------------------------------- pow at its edges


def test_pow_grads_at_edges_match_torch():
    base = [0.0, 0.0, 0.0, -2.0, -2.0, 2.0, 0.0, 1.5]
    expo = [0.0, 2.0, -1.0, 0.5, 2.0, 0.0, 0.5, -0.5]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a_m, a_t = _both(base, np.float64, requires_grad=True)
        e_m, e_t = _both(expo, np.float64, requires_grad=True)
        out_m, out_t = a_m**e_m, a_t**e_t
        _assert_same(out_m, out_t)
        out_m.sum().backward()
        out_t.sum().backward()
        np.testing.assert_allclose(a_m.grad.numpy(), a_t.grad.numpy(), rtol=1e-15)
        np.testing.assert_allclose(e_m.grad.numpy(), e_t.grad.numpy(), rtol=1e-15)
        for exponent in (0, 0.5, -1, 2, 3.0):
            x_m, x_t = _both([0.0, -1.5, 2.0], np.float64, requires_grad=True)
            (x_m**exponent).sum().backward()
            (x_t**exponent).sum().backward()
            np.testing.assert_allclose(x_m.grad.numpy(), x_t.grad.numpy(), rtol=1e-15)
        for base_number in (2.0, 0.0):
            x_m, x_t = _both([0.0, -1.5, 2.0], np.float64, requires_grad=True)
            (base_number**x_m).sum().backward()
            (base_number**x_t).sum().backward()
            np.testing.assert_allclose(x_m.grad.numpy(), x_t.grad.numpy(), rtol=1e-15)
    i_m, i_t = _both([2, 3])
    _assert_same(i_m**2, i_t**2)
    _assert_same(2**i_m, 2**i_t)
    _assert_same(i_m**2.5, i_t**2.5)
    _assert_same(mg.tensor([True]) ** 2, torch.tensor([True]) ** 2)
    with pytest.raises(RuntimeError, match="negative integer powers"):
        i_m**-1


def test_no_numpy_warnings_where_torch_is_silent():
    ops = [lambda z: z.log(), lambda z: 1 / z, lambda z: z / z, lambda z: z.sqrt(),
           lambda z: z.exp(), lambda z: z**0.5, lambda z: z**-1, mg.log2, mg.atanh, mg.acosh,
           lambda z: mg.xlogy(z, z), mg.logit, mg.rsqrt, mg.erfinv, lambda z: z**z,
           lambda z: mg.fmod(z, z), lambda z: mg.remainder(z, z), mg.asin]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for fn in ops:
            z = mg.tensor([0.0, -1.0, 1000.0], requires_grad=True)
            fn(z).sum().backward()


# ---------------------------------------------------------------------- arithmetic vs torch

INT_A, INT_B = [7, -7, 7, -7, 0, 5], [2, 2, -2, -2, 3, 5]
FLOAT_A, FLOAT_B = [7.5, -7.5, 7.5, -7.5, 0.0, 5.0, 1e-3], [2.0, 2.0, -2.0, -2.0, 3.0, 5.0, 0.1]


@pytest.mark.parametrize("name", ["div_trunc", "div_floor", "floor_divide", "remainder",
                                  "fmod", "copysign", "hypot", "atan2", "logaddexp",
                                  "logaddexp2", "xlogy", "float_power", "bitwise_and",
                                  "bitwise_or", "bitwise_xor", "bitwise_left_shift",
                                  "bitwise_right_shift", "logical_and", "logical_or",
                                  "logical_xor", "heaviside", "isclose", "maximum", "minimum"])
def test_binary_matches_torch(name):
    def call(lib, a, b):
        if name.startswith("div_"):
            return lib.div(a, b, rounding_mode=name[4:])
        return getattr(lib, name)(a, b)

    cases = [(FLOAT_A, FLOAT_B, np.float64), (FLOAT_A, FLOAT_B, np.float32),
             (INT_A, [abs(b) for b in INT_B], np.int64), (INT_A, INT_B, np.int32),
             ([True, False, True], [True, True, False], np.bool_)]
    for a, b, dtype in cases:
        ma, ta = _both(a[: len(b)], dtype)
        mb, tb = _both(b, dtype)
        if name == "isclose":
            mb, tb = ma + 0, ta + 0
        try:
            expected = call(torch, ta, tb)
        except (RuntimeError, NotImplementedError) as e:
            with pytest.raises(type(e)):
                call(mg, ma, mb)
            continue
        _assert_same(call(mg, ma, mb), expected, rtol=1e-6)
        # with a Python number as the second operand
        number = b[1] if dtype != np.bool_ else True
        try:
            expected = call(torch, ta, number)
        except (RuntimeError, NotImplementedError, TypeError):
            continue
        _assert_same(call(mg, ma, number), expected, rtol=1e-6)


def test_binary_grads_match_torch():
    for name in ["remainder", "fmod", "copysign", "hypot", "atan2", "logaddexp", "xlogy",
                 "div_floor"]:
        a_m, a_t = _both(FLOAT_A, np.float64, requires_grad=True)
        b_m, b_t = _both(FLOAT_B, np.float64, requires_grad=True)
        if name == "div_floor":
            out_m = mg.div(a_m, b_m, rounding_mode="floor")
            out_t = torch.div(a_t, b_t, rounding_mode="floor")
        else:
            out_m, out_t = getattr(mg, name)(a_m, b_m), getattr(torch, name)(a_t, b_t)
        out_m.sum().backward()
        out_t.sum().backward()
        np.testing.assert_allclose(a_m.grad.numpy(), a_t.grad.numpy(), rtol=1e-12)
        np.testing.assert_allclose(b_m.grad.numpy(), b_t.grad.numpy(), rtol=1e-12)
    x_m, x_t = _both([1.0, 2.0], np.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="floor_divide"):
        (x_m // 2).sum().backward()


def test_lerp_uses_both_formulas_like_torch():
    start = np.array([1e8, -3.0, 0.1, 2.0], np.float32)
    end = np.array([1.0, 5.0, 0.3, -7.0], np.float32)
    for weight in (0.0, 0.3, 0.5, 0.7, 1.0, -0.6, 1.6):
        s_m, s_t = _both(start, requires_grad=True)
        e_m, e_t = _both(end, requires_grad=True)
        out_m, out_t = mg.lerp(s_m, e_m, weight), torch.lerp(s_t, e_t, weight)
        # PyTorch may round through a fused multiply-add: one ulp apart at most
        np.testing.assert_allclose(out_m.detach().numpy(), out_t.detach().numpy(), rtol=1e-6)
        if weight in (0.0, 1.0):  # exact at both ends
            np.testing.assert_array_equal(out_m.detach().numpy(), start if weight == 0 else end)
        out_m.sum().backward()
        out_t.sum().backward()
        np.testing.assert_allclose(s_m.grad.numpy(), s_t.grad.numpy())
    w_m, w_t = _both([0.2, 0.8, 0.5, 1.0], np.float32)
    _assert_same(mg.lerp(mg.tensor(start), mg.tensor(end), w_m),
                 torch.lerp(torch.tensor(start), torch.tensor(end), w_t))


def test_addcmul_addcdiv_match_torch():
    a_m, a_t = _both([1.0, 2.0], np.float32)
    b_m, b_t = _both([3.0, -4.0], np.float32)
    c_m, c_t = _both([0.5, 2.0], np.float32)
    _assert_same(mg.addcmul(a_m, b_m, c_m, value=2), torch.addcmul(a_t, b_t, c_t, value=2))
    _assert_same(mg.addcdiv(a_m, b_m, c_m, value=-1), torch.addcdiv(a_t, b_t, c_t, value=-1))
    a_m.addcmul_(b_m, c_m, value=0.5)
    a_t.addcmul_(b_t, c_t, value=0.5)
    _assert_same(a_m, a_t)
    i = mg.tensor([1, 2])
    with pytest.raises(RuntimeError, match="addcdiv"):
        mg.addcdiv(i, i, i)


def test_number_on_the_left_and_inplace_operators_match_torch():
    i_m, i_t = _both([3, -4, 5])
    f_m, f_t = _both([1.5, -2.0, 4.0], np.float32)
    _assert_same(2 % i_m, 2 % i_t)
    _assert_same(2 // i_m, 2 // i_t)
    _assert_same(5.0 % f_m, 5.0 % f_t)
    _assert_same(5.0 // f_m, 5.0 // f_t)
    _assert_same(1 & i_m, 1 & i_t)
    _assert_same(6 | i_m, 6 | i_t)
    _assert_same(6 ^ i_m, 6 ^ i_t)
    _assert_same(1 << i_m.abs(), 1 << i_t.abs())
    _assert_same(64 >> i_m.abs(), 64 >> i_t.abs())
    _assert_same(2**i_m.abs(), 2**i_t.abs())
    _assert_same(2.5**f_m, 2.5**f_t)
    _assert_same(~i_m, ~i_t)
    _assert_same(~mg.tensor([True, False]), ~torch.tensor([True, False]))
    for op in ("__iand__", "__ior__", "__ixor__", "__ilshift__", "__irshift__", "__imod__",
               "__ifloordiv__"):
        m, t = _both([12, 7, 9])
        same = getattr(m, op)(2)
        getattr(t, op)(2)
        assert same is m
        _assert_same(m, t)
    with pytest.raises(NotImplementedError, match="bitwise_and"):
        f_m & f_m
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        i_m // 0
    big_m, big_t = _both([1, -8], np.int64)
    _assert_same(big_m << 64, big_t << 64)
    _assert_same(big_m >> 70, big_t >> 70)


def test_clamp_min_max_nan_to_num_and_closeness_match_torch():
    m, t = _both([np.nan, np.inf, -np.inf, 1.0, -2.0], np.float32, requires_grad=True)
    _assert_same(mg.nan_to_num(m), torch.nan_to_num(t))
    _assert_same(mg.nan_to_num(m, nan=1.0, posinf=2.0, neginf=-3.0),
                 torch.nan_to_num(t, nan=1.0, posinf=2.0, neginf=-3.0))
    x_m, x_t = _both([1, 5, 9])
    _assert_same(mg.clamp_min(x_m, 2.5), torch.clamp_min(x_t, 2.5))
    _assert_same(mg.clamp_max(x_m, 4), torch.clamp_max(x_t, 4))
    a_m, a_t = _both([1.0, np.nan, np.inf, 2.0])
    b_m, b_t = _both([1.0 + 1e-9, np.nan, np.inf, 2.1])
    _assert_same(mg.isclose(a_m, b_m), torch.isclose(a_t, b_t))
    _assert_same(mg.isclose(a_m, b_m, equal_nan=True), torch.isclose(a_t, b_t, equal_nan=True))
    assert mg.allclose(a_m, a_m, equal_nan=True) == torch.allclose(a_t, a_t, equal_nan=True)
    assert mg.allclose(a_m, b_m) == torch.allclose(a_t, b_t)
    assert mg.equal(a_m[:1], a_m[:1]) and not mg.equal(a_m, b_m)
    with pytest.raises(RuntimeError, match="did not match"):
        mg.isclose(mg.tensor([1]), mg.tensor([1.0]))
