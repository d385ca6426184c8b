"""Higher-order gradients: create_graph, autograd.functional and gradgradcheck, against PyTorch
in float64."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd import functional as AF
from minigrad.autograd.engine import Context, Primitive

RNG = np.random.default_rng(0)


def t64(array, requires_grad=True):
    return mg.tensor(np.array(array, dtype=np.float64), requires_grad=requires_grad)


def test_grad_with_create_graph_is_a_graph_tensor_and_retains_the_graph():
    x = t64([0.5, 1.0, 2.0])
    y = (x**3).sum()
    (g,) = mg.grad(y, x, create_graph=True)
    assert g.requires_grad and g.grad_fn is not None
    np.testing.assert_allclose(g.detach().numpy(), 3 * np.array([0.5, 1.0, 2.0]) ** 2)
    (h,) = mg.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), 6 * np.array([0.5, 1.0, 2.0]))
    (again,) = mg.grad(y, x)  # retain_graph defaulted to create_graph=True
    np.testing.assert_allclose(again.numpy(), g.detach().numpy())


def test_backward_with_create_graph_leaves_grads_with_a_graph():
    x = t64([0.3, -0.7])
    (x.sin() * x).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    g = x.grad
    x.grad = None
    g.sum().backward()
    a = np.array([0.3, -0.7])
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.cos(a) - a * np.sin(a))


def test_gradient_penalty_through_an_mlp_matches_pytorch():
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((5, 4))
    w1, b1 = RNG.standard_normal((4, 6)), RNG.standard_normal(6)
    w2 = RNG.standard_normal((6, 1))

    def run(lib, tensor):
        xs = tensor(x, requires_grad=True)
        params = [tensor(p, requires_grad=True) for p in (w1, b1, w2)]
        out = ((xs @ params[0] + params[1]).tanh() @ params[2]).sigmoid().sum()
        (gx,) = lib.autograd.grad(out, xs, create_graph=True)
        penalty = ((gx**2).sum(dim=1).sqrt() - 1) ** 2
        penalty.mean().backward()
        return [p.grad.detach().numpy() for p in params]

    ours = run(mg, lambda a, requires_grad: mg.tensor(a, requires_grad=requires_grad))
    theirs = run(torch, lambda a, requires_grad: torch.tensor(a, requires_grad=requires_grad))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def _mlp_loss(lib):
    x = lib.tensor(RNG.standard_normal((6, 3)))
    y = lib.tensor(RNG.standard_normal((6, 2)))

    def loss(w1, b1, w2):
        hidden = (x @ w1 + b1).tanh()
        return ((hidden @ w2 - y) ** 2).mean()

    return loss


@pytest.fixture(scope="module")
def mlp_params():
    return [RNG.standard_normal(s) for s in ((3, 4), (4,), (4, 2))]


def test_hessian_of_an_mlp_loss_matches_pytorch(mlp_params):
    torch = pytest.importorskip("torch")
    state = RNG.bit_generator.state
    ours = AF.hessian(_mlp_loss(mg), tuple(t64(p, False) for p in mlp_params))
    RNG.bit_generator.state = state
    theirs = torch.autograd.functional.hessian(_mlp_loss(torch),
                                               tuple(torch.tensor(p) for p in mlp_params))
    for row_ours, row_theirs in zip(ours, theirs):
        for a, b in zip(row_ours, row_theirs):
            assert tuple(a.shape) == tuple(b.shape)
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ["hvp", "vhp"])
def test_hessian_vector_products_match_pytorch(mlp_params, name):
    torch = pytest.importorskip("torch")
    vs = [RNG.standard_normal(p.shape) for p in mlp_params]
    state = RNG.bit_generator.state
    out, ours = getattr(AF, name)(_mlp_loss(mg), tuple(t64(p, False) for p in mlp_params),
                                  tuple(t64(v, False) for v in vs))
    RNG.bit_generator.state = state
    t_out, theirs = getattr(torch.autograd.functional, name)(
        _mlp_loss(torch), tuple(torch.tensor(p) for p in mlp_params),
        tuple(torch.tensor(v) for v in vs))
    np.testing.assert_allclose(out.numpy(), t_out.numpy(), rtol=1e-12)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-9, atol=1e-12)
        assert not a.requires_grad


def _two_in_two_out(lib):
    def f(a, b):
        return (a * b).sin(), (a.exp() @ b.reshape(3, 1)).tanh()
    return f


def test_jacobian_vjp_and_jvp_of_a_two_input_two_output_function_match_pytorch():
    torch = pytest.importorskip("torch")
    a, b = RNG.standard_normal(3), RNG.standard_normal(3)
    ours_in = (t64(a, False), t64(b, False))
    theirs_in = (torch.tensor(a), torch.tensor(b))
    ours = AF.jacobian(_two_in_two_out(mg), ours_in)
    theirs = torch.autograd.functional.jacobian(_two_in_two_out(torch), theirs_in)
    for row_o, row_t in zip(ours, theirs):
        for x, y in zip(row_o, row_t):
            assert tuple(x.shape) == tuple(y.shape)
            np.testing.assert_allclose(x.numpy(), y.numpy(), rtol=1e-10, atol=1e-12)
    v_out = (RNG.standard_normal(3), RNG.standard_normal((1,)))
    _, ours_vjp = AF.vjp(_two_in_two_out(mg), ours_in, tuple(t64(v, False) for v in v_out))
    _, theirs_vjp = torch.autograd.functional.vjp(_two_in_two_out(torch), theirs_in,
                                                   tuple(torch.tensor(v) for v in v_out))
    v_in = (RNG.standard_normal(3), RNG.standard_normal(3))
    _, ours_jvp = AF.jvp(_two_in_two_out(mg), ours_in, tuple(t64(v, False) for v in v_in))
    _, theirs_jvp = torch.autograd.functional.jvp(_two_in_two_out(torch), theirs_in,
                                                   tuple(torch.tensor(v) for v in v_in))
    for x, y in [*zip(ours_vjp, theirs_vjp), *zip(ours_jvp, theirs_jvp)]:
        np.testing.assert_allclose(x.numpy(), y.numpy(), rtol=1e-10, atol=1e-12)


def test_single_tensor_inputs_and_outputs_are_not_wrapped_in_tuples():
    x = t64([0.1, 0.2], False)
    jac = AF.jacobian(lambda a: a.exp(), x)
    assert isinstance(jac, mg.Tensor) and jac.shape == (2, 2)
    hess = AF.hessian(lambda a: (a**4).sum(), x)
    np.testing.assert_allclose(hess.numpy(), np.diag(12 * np.array([0.1, 0.2]) ** 2))
    out, g = AF.vjp(lambda a: (a**2).sum(), x)
    assert isinstance(g, mg.Tensor) and out.shape == ()


def test_create_graph_makes_functional_results_differentiable():
    x = t64([0.4, 0.9], True)
    jac = AF.jacobian(lambda a: a.sin() * a, x, create_graph=True)
    assert jac.requires_grad
    jac.sum().backward()
    a = np.array([0.4, 0.9])
    np.testing.assert_allclose(x.grad.numpy(), -a * np.sin(a) + 2 * np.cos(a))


def test_strict_mode_rejects_an_output_independent_of_an_input():
    torch = pytest.importorskip("torch")

    def f(a, b):
        return a * 2

    ours_in = (t64([1.0], False), t64([2.0], False))
    with pytest.raises(RuntimeError, match="independent of input 1"):
        AF.jacobian(f, ours_in, strict=True)
    with pytest.raises(RuntimeError):
        torch.autograd.functional.jacobian(f, (torch.ones(1), torch.ones(1)), strict=True)
    jac = AF.jacobian(f, ours_in)
    np.testing.assert_array_equal(jac[1].numpy(), [[0.0]])


def test_gradgradcheck_passes_on_correct_ops():
    x = t64(RNG.uniform(1.5, 2.5, (2, 3)))
    w = t64(RNG.standard_normal((3, 2)))
    assert mg.gradgradcheck(lambda a, b: (a @ b).tanh().exp(), [x, w])
    assert mg.gradgradcheck(lambda a: a.log().sqrt() * a.sigmoid(), [x])
    assert mg.gradgradcheck(lambda a: a.softmax(dim=1).log(), [x])


class CubeSavingSquare(Primitive):
    """x**3 whose backward uses a square saved in forward: exact to first order, but that
    intermediate is a constant to the recorded backward, so its second derivative is wrong."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx: Context, a):
        square = a * a
        ctx.save_for_backward(square)
        return square * a

    @staticmethod
    def backward(ctx: Context, grad):
        (square,) = ctx.saved
        return 3 * grad * square


def test_gradgradcheck_catches_a_wrong_double_backward_rule():
    x = t64([0.5, 1.5, -0.8])
    assert mg.gradcheck(lambda a: CubeSavingSquare.apply(a), [x])
    with pytest.raises(mg.GradcheckError):
        mg.gradgradcheck(lambda a: CubeSavingSquare.apply(a), [x])


class OnlyFirstOrder(Primitive):
    @staticmethod
    def forward(ctx: Context, a):
        ctx.save_for_backward(a)
        return a * a

    @staticmethod
    def backward(ctx: Context, grad):
        (a,) = ctx.saved
        return 2 * grad * a


def test_a_primitive_not_checked_for_double_backward_raises_naming_it():
    x = t64([1.0, 2.0])
    y = OnlyFirstOrder.apply(x).sum()
    with pytest.raises(RuntimeError, match="OnlyFirstOrderBackward.*create_graph"):
        mg.grad(y, x, create_graph=True)
    (g,) = mg.grad(OnlyFirstOrder.apply(x).sum(), x)  # first order still works
    np.testing.assert_allclose(g.numpy(), [2.0, 4.0])


def test_numpy_calls_without_a_tensor_meaning_raise_inside_a_recorded_backward():
    class UsesAddAt(Primitive):
        differentiable_backward = True

        @staticmethod
        def forward(ctx: Context, a):
            return a.copy()

        @staticmethod
        def backward(ctx: Context, grad):
            out = np.zeros(grad.shape)
            np.add.at(out, (slice(None),), grad)
            return out

    x = t64([1.0, 2.0])
    with pytest.raises(TypeError, match="add.at|graph"):
        mg.grad(UsesAddAt.apply(x).sum(), x, create_graph=True)


def test_first_order_results_are_unchanged_by_the_dispatch():
    # ndarray (op) Tensor still gives a Tensor, and NumPy functions on tensors outside a
    # recorded backward still compute on the arrays
    t = mg.tensor([1.0, 2.0])
    assert isinstance(np.ones(2) * t, mg.Tensor)
    assert isinstance(np.exp(t), mg.Tensor)
    assert isinstance(np.concatenate([t, t]), np.ndarray)
    np.testing.assert_allclose(np.mean(t), 1.5)
