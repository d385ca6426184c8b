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


def _split(base):
    class Split(base):
        """Two outputs, x^2 and exp(x), from one node."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x, x.exp()

        @staticmethod
        def backward(ctx, grad_square, grad_exp):
            (x,) = ctx.saved_tensors
            return grad_square * 2 * x + grad_exp * x.exp()

    return Split


Split, TorchSplit = _split(Function), _split(torch.autograd.Function)


def _split_saving_outputs(base):
    class SplitSavingOutputs(base):
        """x^2 and exp(x), saving both outputs for backward."""

        @staticmethod
        def forward(ctx, x):
            square, exp = x * x, x.exp()
            ctx.save_for_backward(x, square, exp)
            return square, exp

        @staticmethod
        def backward(ctx, grad_square, grad_exp):
            x, square, exp = ctx.saved_tensors
            return grad_square * square * 2 / x + grad_exp * exp

    return SplitSavingOutputs


SavingOutputs = _split_saving_outputs(Function)
TorchSavingOutputs = _split_saving_outputs(torch.autograd.Function)


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


def test_function_with_several_outputs_differentiates_twice_like_torch():
    x, tx = _pair()
    a, b = Split.apply(x)
    ta, tb = TorchSplit.apply(tx)
    # a is used twice (its gradients add up slot by slot), b once
    (g,) = mg.autograd.grad((a * 3 + b * a).sum(), x, create_graph=True)
    (tg,) = torch.autograd.grad((ta * 3 + tb * ta).sum(), tx, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), tg.detach().numpy(), rtol=1e-12)
    (g**2).sum().backward()
    (tg**2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


def test_unused_output_gets_zeros_or_none_under_create_graph():
    x, tx = _pair()
    _, b = Split.apply(x)
    _, tb = TorchSplit.apply(tx)
    (g,) = mg.autograd.grad(b.sum(), x, create_graph=True)
    (tg,) = torch.autograd.grad(tb.sum(), tx, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), tg.detach().numpy(), rtol=1e-12)
    (h,) = mg.autograd.grad(g.sum(), x)
    (th,) = torch.autograd.grad(tg.sum(), tx)
    np.testing.assert_allclose(h.numpy(), th.numpy(), rtol=1e-12)

    seen = []

    class NoMaterialize(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, ga, gb):
            seen.append((ga is None, gb is None))
            return gb * 3

    _, second = NoMaterialize.apply(x)
    mg.autograd.grad(second.sum(), x, create_graph=True)
    assert seen == [(True, False)]


def test_function_with_several_outputs_saving_them_differentiates_twice_like_torch():
    x, tx = _pair()
    a, b = SavingOutputs.apply(x)
    ta, tb = TorchSavingOutputs.apply(tx)
    (g,) = mg.autograd.grad((a * b).sum(), x, create_graph=True)
    (tg,) = torch.autograd.grad((ta * tb).sum(), tx, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), tg.detach().numpy(), rtol=1e-12)
    (g.sin()).sum().backward()
    (tg.sin()).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


def test_autograd_namespace_has_both_checks():
    assert mg.autograd.gradcheck is mg.gradcheck
    assert mg.autograd.gradgradcheck is mg.gradgradcheck
    x = mg.tensor(VALUES, dtype=mg.float64, requires_grad=True)
    assert mg.autograd.gradgradcheck(Cube.apply, (x,))
