"""Elementwise primitives: backward against numerical gradients, forward against NumPy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import (
    arrays,
    assert_grad_matches_numeric,
    away_from,
    broadcastable_shapes,
    shapes,
)

SMALL = {"max_dims": 3, "max_side": 4}


def one_array(elements: st.SearchStrategy[float] | None = None) -> st.SearchStrategy:
    return shapes(**SMALL).flatmap(lambda s: arrays(s, elements=elements))


def two_arrays(
    first: st.SearchStrategy[float] | None = None, second: st.SearchStrategy[float] | None = None
) -> st.SearchStrategy:
    """Two float64 arrays whose shapes broadcast together."""
    return broadcastable_shapes(2, **SMALL).flatmap(
        lambda s: st.tuples(arrays(s[0], elements=first), arrays(s[1], elements=second))
    )


positive = st.floats(0.2, 3.0)
# two disjoint grids: an element of one never ties with (or comes near) one of the other
grid = st.integers(-6, 6).map(lambda k: k / 2)
offset_grid = st.integers(-6, 6).map(lambda k: k / 2 + 0.25)


# ---------------------------------------------------------------------- binary, broadcasting


@given(two_arrays())
def test_add_grad_matches_numeric(pair):
    assert_grad_matches_numeric(lambda a, b: a + b, *pair, reference=np.add)


@given(two_arrays())
def test_sub_grad_matches_numeric(pair):
    assert_grad_matches_numeric(lambda a, b: a - b, *pair, reference=np.subtract)


@given(two_arrays())
def test_mul_grad_matches_numeric(pair):
    assert_grad_matches_numeric(lambda a, b: a * b, *pair, reference=np.multiply)


@given(two_arrays(second=away_from(0.0, margin=0.3)))
def test_div_grad_matches_numeric(pair):
    assert_grad_matches_numeric(lambda a, b: a / b, *pair, reference=np.divide)


@given(two_arrays(first=positive, second=st.floats(-2.0, 2.0)))
def test_pow_tensor_exponent_grad_matches_numeric(pair):
    assert_grad_matches_numeric(lambda a, b: a**b, *pair, reference=np.power)


@given(two_arrays(first=grid, second=offset_grid))
def test_maximum_grad_matches_numeric(pair):
    assert_grad_matches_numeric(mg.maximum, *pair, reference=np.maximum)


@given(two_arrays(first=grid, second=offset_grid))
def test_minimum_grad_matches_numeric(pair):
    assert_grad_matches_numeric(mg.minimum, *pair, reference=np.minimum)


@given(
    broadcastable_shapes(3, **SMALL).flatmap(
        lambda s: st.tuples(arrays(s[0], dtype=np.bool_), arrays(s[1]), arrays(s[2]))
    )
)
def test_where_grad_matches_numeric(triple):
    condition, a, b = triple
    assert_grad_matches_numeric(
        lambda x, y: mg.where(condition, x, y), a, b,
        reference=lambda x, y: np.where(condition, x, y),
    )


def test_maximum_and_minimum_split_ties_evenly():
    a = mg.tensor([1.0, 2.0, 5.0], requires_grad=True)
    b = mg.tensor([1.0, 3.0, 4.0], requires_grad=True)
    mg.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.detach().numpy(), [0.5, 0.0, 1.0])
    np.testing.assert_array_equal(b.grad.detach().numpy(), [0.5, 1.0, 0.0])
    a.grad = b.grad = None
    mg.minimum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.detach().numpy(), [0.5, 1.0, 0.0])
    np.testing.assert_array_equal(b.grad.detach().numpy(), [0.5, 0.0, 1.0])


@pytest.mark.parametrize("op", ["add", "sub", "mul", "truediv", "pow"])
def test_binary_op_broadcast_failure_names_op_and_shapes(op):
    a, b = mg.ones(3, 2), mg.ones(4)
    with pytest.raises(ValueError) as info:
        getattr(a, f"__{op}__")(b)
    message = str(info.value)
    assert message.startswith(op.replace("truediv", "div") + ":")
    assert "(3, 2)" in message and "(4,)" in message
    assert "broadcast" in message


def test_maximum_and_where_broadcast_failures_name_the_op():
    with pytest.raises(ValueError, match=r"^maximum: .*\(2, 3\).*\(4,\)"):
        mg.maximum(mg.ones(2, 3), mg.ones(4))
    with pytest.raises(ValueError, match=r"^where: "):
        mg.where(np.ones((2, 3), bool), mg.ones(2, 3), mg.ones(5))


# ---------------------------------------------------------------------- unary


@pytest.mark.parametrize(
    "name, elements, reference",
    [
        ("neg", None, np.negative),
        ("exp", None, np.exp),
        ("log", positive, np.log),
        ("sqrt", positive, np.sqrt),
        ("sin", None, np.sin),
        ("cos", None, np.cos),
        ("tanh", None, np.tanh),
        ("sigmoid", None, lambda a: 1 / (1 + np.exp(-a))),
        ("relu", away_from(0.0), lambda a: np.maximum(a, 0)),
        ("abs", away_from(0.0), np.abs),
    ],
)
@given(data=st.data())
def test_unary_grad_matches_numeric(name, elements, reference, data):
    a = data.draw(one_array(elements))
    assert_grad_matches_numeric(lambda x: getattr(x, name)(), a, reference=reference)


@given(one_array(away_from(0.0)), st.sampled_from([0.01, 0.2, 1.5]))
def test_leaky_relu_grad_matches_numeric(a, slope):
    assert_grad_matches_numeric(
        lambda x: mg.functional.leaky_relu(x, slope), a,
        reference=lambda x: np.where(x > 0, x, slope * x),
    )


@given(one_array(positive), st.sampled_from([2, 3, -1, 0.5, 1.5, -2.5, 0]))
def test_pow_scalar_grad_matches_numeric(a, exponent):
    assert_grad_matches_numeric(lambda x: x**exponent, a, reference=lambda x: x**exponent)


@given(one_array(), st.sampled_from([2, 3]))
def test_pow_integer_exponent_negative_base_grad_matches_numeric(a, exponent):
    assert_grad_matches_numeric(lambda x: x**exponent, a, reference=lambda x: x**exponent)


@pytest.mark.parametrize("low, high", [(-1.0, 1.0), (-0.5, None), (None, 0.5)])
@given(data=st.data())
def test_clamp_grad_matches_numeric(low, high, data):
    kinks = [v for v in (low, high) if v is not None]
    a = data.draw(one_array(away_from(*kinks)))
    assert_grad_matches_numeric(
        lambda x: x.clamp(low, high), a, reference=lambda x: np.clip(x, low, high)
    )


def test_clamp_with_tensor_bounds_is_differentiable_in_the_bounds():
    x = mg.tensor([-2.0, 0.0, 2.0], dtype=mg.float64, requires_grad=True)
    low = mg.tensor([-1.0, -1.0, -1.0], dtype=mg.float64, requires_grad=True)
    out = x.clamp(min=low, max=1.0)
    np.testing.assert_array_equal(out.detach().numpy(), [-1.0, 0.0, 1.0])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.detach().numpy(), [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(low.grad.detach().numpy(), [1.0, 0.0, 0.0])


def test_clamp_output_does_not_alias_input():
    x = mg.tensor([0.0, 0.5])
    out = x.clamp(-1.0, 1.0)
    out._data[0] = 7.0
    assert x.detach().numpy()[0] == 0.0


def test_abs_and_relu_gradient_at_zero_is_zero_like_pytorch():
    x = mg.tensor([0.0, 0.0], requires_grad=True)
    (x.abs() + x.relu()).sum().backward()
    np.testing.assert_array_equal(x.grad.detach().numpy(), [0.0, 0.0])


def test_sigmoid_is_stable_for_large_inputs():
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = mg.tensor([-1000.0, 0.0, 1000.0]).sigmoid()
    np.testing.assert_allclose(out.detach().numpy(), [0.0, 0.5, 1.0])
    assert out.dtype == np.float32


def test_unary_math_on_int_tensor_gives_float32():
    x = mg.tensor([1, 2, 3])
    for name in ("exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid"):
        assert getattr(x, name)().dtype == np.float32, name


def test_elementwise_ops_keep_float32():
    x = mg.randn(3, 4)
    y = mg.randn(4)
    for out in (x + y, x - y, x * y, x / (y.abs() + 1), x.exp(), x.tanh(), x**2, -x, x.relu(),
                mg.maximum(x, y), mg.where(x.detach().numpy() > 0, x, y)):
        assert out.dtype == np.float32
