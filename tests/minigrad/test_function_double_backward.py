"""Custom ``autograd.Function``s differentiated twice (create_graph=True), against PyTorch."""

import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd import Function, once_differentiable

torch = pytest.importorskip("torch")


class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 3 * x**2 * grad


class TorchCube(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 3 * x**2 * grad


class ExpSavingOutput(Function):
    """Saves its output: the second derivative must see the graph output, not a constant."""

    @staticmethod
    def forward(ctx, x, scale):
        y = (x * scale).exp()
        ctx.scale = scale
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y * ctx.scale, None


class CubeOnce(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 3 * x**2 * grad


class Split(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2, x * 3

    @staticmethod
    def backward(ctx, ga, gb):
        return ga * 2 + gb * 3


VALUES = [0.5, -1.25, 2.0, 0.1]


def _pair():
    x = mg.tensor(VALUES, dtype=mg.float64, requires_grad=True)
    tx = torch.tensor(VALUES, dtype=torch.float64, requires_grad=True)
    return x, tx


def test_custom_cube_second_derivative_matches_torch():
    x, tx = _pair()
    (g,) = mg.autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
    (tg,) = torch.autograd.grad(TorchCube.apply(tx).sum(), tx, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), tg.detach().numpy(), rtol=1e-12)
    assert g.requires_grad
    (g * g.sin()).sum().backward()
    (tg * tg.sin()).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
    # and by hand: d/dx [g sin g] with g = 3x^2 is (sin g + g cos g) 6x
    xs = np.array(VALUES)
    gs = 3 * xs**2
    np.testing.assert_allclose(x.grad.numpy(), (np.sin(gs) + gs * np.cos(gs)) * 6 * xs)


def test_custom_function_third_derivative_matches_torch():
    x, tx = _pair()
    (g,) = mg.autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
    (h,) = mg.autograd.grad(g.sum(), x, create_graph=True)
    (t,) = mg.autograd.grad(h.sum(), x)
    (tg,) = torch.autograd.grad(TorchCube.apply(tx).sum(), tx, create_graph=True)
    (th,) = torch.autograd.grad(tg.sum(), tx, create_graph=True)
    (tt,) = torch.autograd.grad(th.sum(), tx)
    np.testing.assert_allclose(h.detach().numpy(), th.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(t.numpy(), tt.numpy(), rtol=1e-12)


def test_custom_function_saving_its_output_differentiates_twice():
    x, _ = _pair()
    (g,) = mg.autograd.grad(ExpSavingOutput.apply(x, 0.7).sum(), x, create_graph=True)
    g.sum().backward()
    xs = np.array(VALUES)
    np.testing.assert_allclose(g.detach().numpy(), 0.7 * np.exp(0.7 * xs), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), 0.49 * np.exp(0.7 * xs), rtol=1e-12)


def test_custom_function_passes_gradgradcheck():
    x = mg.tensor(VALUES, dtype=mg.float64, requires_grad=True)
    assert mg.gradgradcheck(lambda t: Cube.apply(t), (x,))


def test_first_order_backward_unchanged_and_grad_mode_off_inside():
    seen = []

    class Probe(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            seen.append(mg.is_grad_enabled())
            return grad * 2

    x, _ = _pair()
    Probe.apply(x).sum().backward()
    mg.autograd.grad(Probe.apply(x).sum(), x, create_graph=True)
    assert seen == [False, True]
    np.testing.assert_array_equal(x.grad.numpy(), np.full(4, 2.0))


def test_once_differentiable_raises_under_create_graph_naming_the_function():
    x, _ = _pair()
    y = CubeOnce.apply(x)
    with pytest.raises(RuntimeError, match="CubeOnce.*once_differentiable"):
        mg.autograd.grad(y.sum(), x, create_graph=True)
    # a plain backward still works
    CubeOnce.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * np.array(VALUES) ** 2)


def test_several_outputs_under_create_graph_raise_naming_the_function():
    x, _ = _pair()
    a, b = Split.apply(x)
    with pytest.raises(RuntimeError, match="Split.*several outputs"):
        mg.autograd.grad((a + b).sum(), x, create_graph=True)
