"""minigrad.autograd.Function: PyTorch-style custom ops whose forward and backward see Tensors."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd import Function, FunctionCtx


class MyReLU(Function):
    """PyTorch's tutorial example, unchanged."""

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[input < 0] = 0
        return grad_input


class LegendrePolynomial3(Function):
    """PyTorch's tutorial example: P3(x) = (5x^3 - 3x) / 2."""

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input**3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input**2 - 1)


class ScaleShift(Function):
    """Non-tensor arguments: a float and a keyword-free flag; their gradient is None."""

    @staticmethod
    def forward(ctx, x, scale, shift, negate):
        ctx.scale, ctx.negate = scale, negate
        ctx.seen_needs = ctx.needs_input_grad
        out = x * scale + shift
        return -out if negate else out

    @staticmethod
    def backward(ctx, grad):
        g = grad * ctx.scale
        grad_shift = grad if ctx.needs_input_grad[2] else None
        return (-g if ctx.negate else g), None, grad_shift, None


class SortWithIndices(Function):
    """Two outputs, one of them integer and marked non-differentiable."""

    @staticmethod
    def forward(ctx, x):
        order = np.argsort(x.detach().numpy(), axis=-1)
        indices = mg.tensor(order)
        ctx.mark_non_differentiable(indices)
        ctx.save_for_backward(indices)
        return x.gather(-1, indices), indices

    @staticmethod
    def backward(ctx, grad_values, grad_indices):
        (indices,) = ctx.saved_tensors
        assert grad_indices is not None  # materialised as zeros
        grad = np.zeros(grad_values.shape)
        np.put_along_axis(grad, indices.numpy(), grad_values.numpy(), axis=-1)
        return mg.tensor(grad)


class TwoOutputs(Function):
    """x*y and x+y: each output's gradient reaches backward."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y, x + y

    @staticmethod
    def backward(ctx, grad_prod, grad_sum):
        x, y = ctx.saved_tensors
        ctx.received = (grad_prod, grad_sum)
        return grad_prod * y + grad_sum, grad_prod * x + grad_sum


def test_tutorial_relu_matches_relu():
    x = mg.tensor([-2.0, -0.5, 0.5, 3.0], requires_grad=True)
    weights = mg.tensor([1.0, 2.0, 3.0, 4.0])
    y = MyReLU.apply(x)
    assert y.grad_fn is not None and y.grad_fn.name() == "MyReLUBackward"
    (y * weights).sum().backward()
    np.testing.assert_array_equal(y.detach().numpy(), [0.0, 0.0, 0.5, 3.0])
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 3.0, 4.0])


def test_tutorial_legendre_gradcheck():
    x = mg.tensor(np.linspace(-0.9, 0.9, 7), dtype=mg.float64, requires_grad=True)
    assert mg.gradcheck(LegendrePolynomial3.apply, (x,))


def test_tutorial_relu_against_torch():
    torch = pytest.importorskip("torch")

    class TorchReLU(torch.autograd.Function):
        forward = MyReLU.forward
        backward = MyReLU.backward

    data = np.random.default_rng(0).normal(size=(3, 4))
    x = mg.tensor(data, requires_grad=True)
    xt = torch.tensor(data, requires_grad=True)
    (MyReLU.apply(x) ** 2).sum().backward()
    (TorchReLU.apply(xt) ** 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12)


def test_non_tensor_arguments_and_needs_input_grad():
    x = mg.tensor([1.0, -2.0], dtype=mg.float64, requires_grad=True)
    shift = mg.tensor([0.5, 0.5], dtype=mg.float64)  # no grad
    y = ScaleShift.apply(x, 3.0, shift, True)
    np.testing.assert_array_equal(y.detach().numpy(), [-3.5, 5.5])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [-3.0, -3.0])
    assert mg.gradcheck(lambda t: ScaleShift.apply(t, 2.5, shift, False), (x,))


def test_needs_input_grad_is_per_argument():
    x = mg.tensor([1.0], requires_grad=True)
    shift = mg.tensor([0.5], requires_grad=True)
    y = ScaleShift.apply(x, 2.0, shift, False)
    ctx = y.grad_fn.ctx.fn_ctx
    assert ctx.seen_needs == (True, False, True, False)
    assert isinstance(ctx, FunctionCtx)
    y.sum().backward()
    np.testing.assert_array_equal(shift.grad.numpy(), [1.0])


def test_no_graph_when_nothing_requires_grad():
    y = MyReLU.apply(mg.tensor([-1.0, 1.0]))
    assert not y.requires_grad and y.grad_fn is None
    with mg.no_grad():
        z = MyReLU.apply(mg.tensor([-1.0, 1.0], requires_grad=True))
    assert not z.requires_grad


def test_multiple_outputs_each_get_their_gradient():
    x = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True)
    y = mg.tensor([3.0, -1.0], dtype=mg.float64, requires_grad=True)
    prod, total = TwoOutputs.apply(x, y)
    assert prod.grad_fn.name() == total.grad_fn.name() == "TwoOutputsBackward"
    (2 * prod + 5 * total).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * y.detach().numpy() + 5)
    np.testing.assert_allclose(y.grad.numpy(), 2 * x.detach().numpy() + 5)
    assert mg.gradcheck(lambda a, b: TwoOutputs.apply(a, b), (x.detach().requires_grad_(),
                                                              y.detach().requires_grad_()))


def test_unused_output_gradient_is_zeros_or_none():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = mg.tensor([3.0, 4.0], requires_grad=True)
    prod, _ = TwoOutputs.apply(x, y)
    ctx = prod.grad_fn.inputs[0].grad_fn.ctx.fn_ctx
    prod.sum().backward()
    np.testing.assert_array_equal(ctx.received[1].numpy(), [0.0, 0.0])

    class Unmaterialised(TwoOutputs):
        @staticmethod
        def forward(ctx, x, y):
            ctx.set_materialize_grads(False)
            return TwoOutputs.forward(ctx, x, y)

        @staticmethod
        def backward(ctx, grad_prod, grad_sum):
            assert grad_sum is None
            x, y = ctx.saved_tensors
            return grad_prod * y, grad_prod * x

    x.grad = None
    prod, _ = Unmaterialised.apply(x, y)
    prod.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])


def test_mark_non_differentiable_and_integer_outputs():
    x = mg.tensor([[3.0, 1.0, 2.0]], dtype=mg.float64, requires_grad=True)
    values, indices = SortWithIndices.apply(x)
    assert values.requires_grad and not indices.requires_grad
    assert indices.dtype == mg.int64
    np.testing.assert_array_equal(values.detach().numpy(), [[1.0, 2.0, 3.0]])
    (values * mg.tensor([[1.0, 10.0, 100.0]], dtype=mg.float64)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[100.0, 1.0, 10.0]])


def test_setup_context_style():
    class Cube(Function):
        @staticmethod
        def forward(x, power):
            return x**power

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, power = inputs
            ctx.power = power
            ctx.save_for_backward(x)

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * ctx.power * x ** (ctx.power - 1), None

    x = mg.tensor([0.5, -1.5, 2.0], dtype=mg.float64, requires_grad=True)
    assert mg.gradcheck(lambda t: Cube.apply(t, 3), (x,))


def test_wrong_number_of_gradients_is_an_error():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * y

        @staticmethod
        def backward(ctx, grad):
            return grad

    x = mg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        Bad.apply(x, x).sum().backward()


def test_gradient_for_non_tensor_argument_is_an_error():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x, k):
            return x * k

        @staticmethod
        def backward(ctx, grad):
            return grad, grad

    with pytest.raises(RuntimeError, match="was not a Tensor"):
        Bad.apply(mg.tensor([1.0], requires_grad=True), 2).sum().backward()


def test_gradient_of_wrong_shape_is_an_error():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return mg.ones(3)

    with pytest.raises(RuntimeError, match="invalid gradient at index 0"):
        Bad.apply(mg.tensor([1.0, 2.0], requires_grad=True)).sum().backward()


def test_forward_errors_pass_through_unchanged():
    class Fails(Function):
        @staticmethod
        def forward(ctx, x, y):
            raise ValueError("custom message")

        @staticmethod
        def backward(ctx, grad):
            return grad, grad

    with pytest.raises(ValueError, match="custom message"):
        Fails.apply(mg.ones(2, requires_grad=True), mg.ones(3))


def test_in_place_change_of_saved_input_is_detected():
    x = mg.tensor([1.0, -1.0], requires_grad=True)
    h = x * 1.0
    y = MyReLU.apply(h)
    with mg.no_grad():
        h.add_(1.0)
    with pytest.raises(RuntimeError, match="modified in place"):
        y.sum().backward()


def test_second_backward_needs_retain_graph():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = MyReLU.apply(x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_backward_runs_without_recording():
    class Probe(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.forward_mode = mg.is_grad_enabled()
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            ctx.backward_mode = mg.is_grad_enabled()
            return grad * 2

    y = Probe.apply(mg.tensor([1.0], requires_grad=True))
    ctx = y.grad_fn.ctx.fn_ctx
    y.sum().backward()
    assert ctx.forward_mode is False and ctx.backward_mode is False


def test_returning_an_input_shares_its_version_counter():
    class Identity(Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad

    h = mg.tensor([1.0], requires_grad=True) * 1.0
    y = Identity.apply(h)
    assert y._version is h._version


def test_function_is_not_instantiated():
    with pytest.raises(RuntimeError, match="apply"):
        MyReLU()


def test_save_for_backward_refuses_non_tensors():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x, 3)
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad

    with pytest.raises(TypeError, match="only save tensors"):
        Bad.apply(mg.ones(1, requires_grad=True))


def test_used_inside_a_module_trains():
    nn = pytest.importorskip("nn")
    layer = nn.Linear(3, 2)
    x = mg.randn(4, 3)
    MyReLU.apply(layer(x)).sum().backward()
    assert layer.weight.grad is not None and layer.weight.grad.shape == (2, 3)
