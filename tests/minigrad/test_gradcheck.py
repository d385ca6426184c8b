"""gradcheck: passes correct backward rules, reports the worst element of wrong ones."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd.engine import Context, Primitive
from minigrad.gradcheck import GradcheckError


class WrongSquare(Primitive):
    """x**2 whose backward is off by +1 at flat element 2 only."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(a)
        return a * a

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        (a,) = ctx.saved
        out = 2 * a * grad
        out.reshape(-1)[2] += 1.0
        return out


def test_gradcheck_passes_correct_ops():
    x = mg.tensor(np.linspace(-1, 1, 6).reshape(2, 3), dtype=mg.float64, requires_grad=True)
    w = mg.tensor(np.linspace(0.5, 2, 3), dtype=mg.float64, requires_grad=True)
    assert mg.gradcheck(lambda a, b: (a * b).tanh() @ b, (x, w))


def test_gradcheck_reports_worst_element_of_wrong_backward():
    x = mg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    with pytest.raises(GradcheckError) as info:
        mg.gradcheck(lambda a: WrongSquare.apply(a), (x,))
    message = str(info.value)
    assert "input 0 (shape (2, 3)) element (0, 2)" in message
    assert "analytical" in message and "numerical" in message


def test_gradcheck_without_raise_returns_false():
    x = mg.tensor([1.0, 2.0, 3.0], dtype=mg.float64, requires_grad=True)
    assert mg.gradcheck(WrongSquare.apply, x, raise_exception=False) is False


def test_gradcheck_catches_a_wrong_gradient_of_the_second_input():
    class WrongSecond(Primitive):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, grad):
            a, b = ctx.saved
            return grad * b, grad * a * 1.01

    a = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True)
    b = mg.tensor([3.0, 4.0], dtype=mg.float64, requires_grad=True)
    with pytest.raises(GradcheckError, match="input 1"):
        mg.gradcheck(WrongSecond.apply, (a, b))


def test_gradcheck_restores_inputs():
    x = mg.tensor([0.3, -0.7], dtype=mg.float64, requires_grad=True)
    before = x.detach().numpy().copy()
    mg.gradcheck(lambda a: a.exp(), x)
    np.testing.assert_array_equal(x.detach().numpy(), before)


def test_gradcheck_rejects_float32_and_no_grad_inputs():
    with pytest.raises(TypeError, match="float64"):
        mg.gradcheck(lambda a: a * 2, mg.ones(2, requires_grad=True))
    with pytest.raises(ValueError, match="no input requires grad"):
        mg.gradcheck(lambda a: a * 2, mg.ones(2, dtype=mg.float64))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_gradcheck_non_finite_gradient_fails():
    x = mg.tensor([0.0, 1.0], dtype=mg.float64, requires_grad=True)
    assert not mg.gradcheck(lambda a: a.sqrt(), x, raise_exception=False)
