"""Fast paths of the training step: the fused Linear primitive, the 2x2 max pool and the fused
batch norm, each against numerical gradients in float64 and against PyTorch (values,
gradients, dtypes), including the cases that leave the fast path; dropout's kept elements,
scale and gradient."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
import minigrad.functional as F
from minigrad.ops import linear as linear_ops
from minigrad.testing import arrays, assert_grad_matches_numeric

# --------------------------------------------------------------------------- linear


@given(st.integers(1, 4), st.integers(1, 5), st.integers(1, 4), st.booleans(),
       st.sampled_from([(), (2,), (2, 1)]), st.data())
def test_linear_grad_matches_numeric(batch, in_features, out_features, with_bias, lead, data):
    x = data.draw(arrays((*lead, batch, in_features)))
    weight = data.draw(arrays((out_features, in_features)))
    bias = data.draw(arrays((out_features,)))
    if with_bias:
        assert_grad_matches_numeric(F.linear, x, weight, bias,
                                    reference=lambda x, w, b: x @ w.T + b)
    else:
        assert_grad_matches_numeric(F.linear, x, weight, reference=lambda x, w: x @ w.T)


def test_linear_weight_grad_is_row_major_like_the_weight():
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((6, 5)).astype(np.float32))
    layer_weight = mg.tensor(rng.standard_normal((3, 5)).astype(np.float32), requires_grad=True)
    F.linear(x, layer_weight).sum().backward()
    assert layer_weight.grad.numpy().flags.c_contiguous


def test_linear_second_derivative_matches_numeric():
    rng = np.random.default_rng(1)
    x = mg.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    weight = mg.tensor(rng.standard_normal((2, 4)), requires_grad=True)
    bias = mg.tensor(rng.standard_normal(2), requires_grad=True)
    assert mg.autograd.gradgradcheck(lambda x, w, b: F.linear(x, w, b).tanh(), (x, weight, bias))


@pytest.mark.parametrize("shape", [(7,), (5, 7), (2, 3, 7), (0, 7), (300, 7)])
@pytest.mark.parametrize("with_bias", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_linear_matches_torch(shape, with_bias, dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    arrays_in = [rng.standard_normal(shape), rng.standard_normal((4, 7)),
                 rng.standard_normal(4)]
    arrays_in = [a.astype(dtype) for a in arrays_in]
    ours = [mg.tensor(a, requires_grad=True) for a in arrays_in]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays_in]
    out = F.linear(ours[0], ours[1], ours[2] if with_bias else None)
    expected = torch.nn.functional.linear(theirs[0], theirs[1], theirs[2] if with_bias else None)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=tol,
                               atol=tol)
    assert out.dtype == getattr(mg, np.dtype(dtype).name)
    upstream = rng.standard_normal(expected.shape).astype(dtype)
    (out * mg.tensor(upstream)).sum().backward()
    (expected * torch.tensor(upstream)).sum().backward()
    for a, b in zip(ours if with_bias else ours[:2], theirs if with_bias else theirs[:2]):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=tol, atol=tol)
        assert a.grad.dtype == a.dtype


def test_linear_large_batch_split_over_threads_matches_one_gemm():
    rng = np.random.default_rng(3)
    # 256 * 800 * 128 multiply-adds: above the threshold for two threads
    x = rng.standard_normal((256, 800)).astype(np.float32)
    weight = rng.standard_normal((128, 800)).astype(np.float32)
    bias = rng.standard_normal(128).astype(np.float32)
    assert len(linear_ops._chunks(256, 256 * 800 * 128)) == min(2, mg.get_num_threads())
    ours = [mg.tensor(a, requires_grad=True) for a in (x, weight, bias)]
    out = F.linear(*ours)
    np.testing.assert_allclose(out.detach().numpy(), x @ weight.T + bias, rtol=1e-4, atol=1e-4)
    g = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(mg.tensor(g))
    np.testing.assert_allclose(ours[0].grad.numpy(), g @ weight, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(ours[1].grad.numpy(), g.T @ x, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(ours[2].grad.numpy(), g.sum(0), rtol=1e-4, atol=1e-4)


def test_linear_mixed_dtypes_and_odd_bias_leave_the_fast_path_as_before():
    x = mg.tensor(np.ones((2, 3), dtype=np.float32))
    weight = mg.tensor(np.ones((4, 3), dtype=np.float32))
    out = F.linear(x, weight, mg.tensor(np.ones((2, 4), dtype=np.float32)))  # broadcast bias
    np.testing.assert_array_equal(out.numpy(), np.full((2, 4), 4.0, dtype=np.float32))
    with pytest.raises((ValueError, RuntimeError, TypeError)):
        F.linear(x, mg.tensor(np.ones((4, 3))))


# --------------------------------------------------------------------------- 2x2 max pool


def _pool_node(out):
    return out._node.fn.__name__


@given(st.integers(1, 2), st.integers(1, 3), st.integers(2, 7), st.integers(2, 7), st.data())
def test_max_pool_2x2_grad_matches_numeric(batch, channels, height, width, data):
    shape = (batch, channels, height, width)
    size = batch * channels * height * width
    # distinct values a safe distance apart: no ties, so the numerical gradient is defined
    x = np.random.default_rng(data.draw(st.integers(0, 2**16))).permutation(size)
    x = (x.reshape(shape) * 0.1).astype(np.float64)
    assert _pool_node(F.max_pool2d(mg.tensor(x, requires_grad=True), 2)) == "MaxPool2x2"
    assert_grad_matches_numeric(lambda t: F.max_pool2d(t, 2), x)


@pytest.mark.parametrize("shape", [(2, 3, 4, 4), (2, 3, 5, 7), (1, 1, 2, 2), (3, 2, 6, 3),
                                   (4, 5, 9, 8)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kwargs", [{}, {"ceil_mode": True}, {"padding": 1}, {"stride": 1},
                                    {"dilation": 2}])
def test_max_pool_2x2_ties_match_torch(shape, dtype, kwargs):
    """Inputs of 0, 1 and 2 only: most windows hold ties, whose gradient goes to the first
    maximum in row-major order, as in PyTorch; the cases after the first leave the fast path
    or take it with a floor-mode crop (odd sizes)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x = rng.integers(0, 3, shape).astype(dtype)
    if kwargs.get("dilation") and min(shape[2:]) < 3:
        return
    ours = mg.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    out = F.max_pool2d(ours, 2, **kwargs)
    expected = torch.nn.functional.max_pool2d(theirs, 2, **kwargs)
    np.testing.assert_array_equal(out.detach().numpy(), expected.detach().numpy())
    assert out.dtype == ours.dtype
    g = rng.standard_normal(expected.shape).astype(dtype)
    (out * mg.tensor(g)).sum().backward()
    (expected * torch.tensor(g)).sum().backward()
    # overlapping windows add several shares in an order of their own: rounding only (a tie
    # sent to the wrong element would be off by a whole share)
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-6, atol=1e-6)
    assert ours.grad.dtype == ours.dtype


def test_max_pool_2x2_nan_and_inf_match_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(5).standard_normal((2, 2, 4, 6)).astype(np.float32)
    x[0, 0, 0, 1] = x[0, 0, 1, 0] = np.nan  # two NaNs in one window: the last one wins
    x[0, 1, 2, 2] = np.nan
    x[1, 0, 3, 3] = np.inf
    x[1, 1, 0:2, 0:2] = -np.inf
    ours = mg.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    out = F.max_pool2d(ours, 2)
    expected = torch.nn.functional.max_pool2d(theirs, 2)
    np.testing.assert_array_equal(out.detach().numpy(), expected.detach().numpy())
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


@pytest.mark.parametrize("memory_order", [(1, 0, 2, 3), (2, 3, 0, 1), (0, 2, 3, 1)])
@pytest.mark.parametrize("size", [(6, 6), (7, 5)])
def test_max_pool_2x2_other_layouts_match_torch(memory_order, size):
    """Channel-major, spatial-major (the layout of Winograd convolutions) and channels-last
    inputs, with ties: the same values and gradients as PyTorch, the gradient in x's layout."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    shape = (3, 4, *size)
    x = rng.integers(0, 3, shape).astype(np.float32)
    laid_out = np.ascontiguousarray(x.transpose(memory_order)).transpose(
        np.argsort(memory_order))
    ours = mg.tensor(laid_out, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    out = F.max_pool2d(ours, 2)
    expected = torch.nn.functional.max_pool2d(theirs, 2)
    assert _pool_node(out) == "MaxPool2x2"
    np.testing.assert_array_equal(out.detach().numpy(), expected.detach().numpy())
    g = rng.standard_normal(expected.shape).astype(np.float32)
    (out * mg.tensor(g)).sum().backward()
    (expected * torch.tensor(g)).sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())
    strides = ours.grad.numpy().strides
    assert sorted(range(4), key=lambda a: -strides[a]) == list(memory_order)


def test_max_pool_2x2_unbatched_and_module():
    torch = pytest.importorskip("torch")
    import nn

    x = np.random.default_rng(7).standard_normal((3, 6, 4)).astype(np.float32)
    out = nn.MaxPool2d(2)(mg.tensor(x))
    np.testing.assert_array_equal(out.numpy(),
                                  torch.nn.MaxPool2d(2)(torch.tensor(x)).numpy())


def test_max_pool_2x2_second_derivative():
    x = mg.tensor(np.random.default_rng(8).permutation(32).reshape(1, 2, 4, 4) * 0.1,
                  requires_grad=True)
    assert mg.autograd.gradgradcheck(lambda t: (F.max_pool2d(t, 2) ** 2), (x,))


# --------------------------------------------------------------------------- batch norm


@given(st.sampled_from([(4, 2), (3, 2, 5), (2, 3, 2, 3)]), st.booleans(), st.booleans(),
       st.data())
def test_batch_norm_grad_matches_numeric(shape, affine, training, data):
    x = data.draw(arrays(shape))
    x += np.arange(shape[0] * shape[1]).reshape(shape[:2] + (1,) * (len(shape) - 2))
    channels = shape[1]
    weight, bias = data.draw(arrays((channels,))), data.draw(arrays((channels,)))
    running_mean = data.draw(arrays((channels,)))
    running_var = data.draw(arrays((channels,), min_value=0.5, max_value=2.0))

    def fn(x, *params):
        return F.batch_norm(x, mg.tensor(running_mean.copy()), mg.tensor(running_var.copy()),
                            *params, training=training)

    out = fn(mg.tensor(x), *(mg.tensor(p) for p in (weight, bias) if affine))
    assert out._node is None or out._node.fn.__name__ == "BatchNorm"
    if affine:
        assert_grad_matches_numeric(fn, x, weight, bias)
    else:
        assert_grad_matches_numeric(fn, x)


@pytest.mark.parametrize("shape", [(8, 3, 5, 5), (6, 4), (5, 3, 7), (2, 3, 1, 1)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("center", [0.0, 40.0])
def test_batch_norm_matches_torch(shape, dtype, affine, training, center):
    """Against PyTorch in float64 on the same inputs. A mean of 40 against a spread of 0.05
    is the hard case for float32: a one-pass variance would lose most digits there."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(9)
    channels = shape[1]
    spread = 0.05 if center else 1.0
    inputs = [(rng.standard_normal(shape) * spread + center).astype(dtype),
              rng.standard_normal(channels).astype(dtype),
              rng.standard_normal(channels).astype(dtype)]
    running = [rng.standard_normal(channels).astype(dtype),
               (rng.random(channels) + 0.5).astype(dtype)]
    g = rng.standard_normal(shape).astype(dtype)
    ours = [mg.tensor(a, requires_grad=True) for a in inputs]
    theirs = [torch.tensor(a.astype(np.float64), requires_grad=True) for a in inputs]
    our_running = [mg.tensor(a) for a in running]
    their_running = [torch.tensor(a.astype(np.float64)) for a in running]

    def params(ts):
        return (ts[1], ts[2]) if affine else (None, None)

    out = F.batch_norm(ours[0], *our_running, *params(ours), training, 0.1, 1e-5)
    expected = torch.nn.functional.batch_norm(theirs[0], *their_running, *params(theirs),
                                              training, 0.1, 1e-5)
    (out * mg.tensor(g)).sum().backward()
    (expected * torch.tensor(g.astype(np.float64))).sum().backward()
    assert out.dtype == ours[0].dtype
    pairs = [(out.detach().numpy(), expected.detach().numpy())]
    pairs += [(a.numpy(), b.numpy()) for a, b in zip(our_running, their_running)]
    for a, b in zip(ours if affine else ours[:1], theirs if affine else theirs[:1]):
        assert a.grad.dtype == a.dtype
        pairs.append((a.grad.numpy(), b.grad.numpy()))
    relative = 1e-4 if dtype == np.float32 else 1e-10
    for actual, desired in pairs:
        np.testing.assert_allclose(actual, desired, rtol=relative,
                                   atol=relative * max(1.0, np.abs(desired).max()))


def test_batch_norm_second_derivative():
    rng = np.random.default_rng(10)
    x = mg.tensor(rng.standard_normal((4, 2, 3)), requires_grad=True)
    weight = mg.tensor(rng.standard_normal(2), requires_grad=True)
    bias = mg.tensor(rng.standard_normal(2), requires_grad=True)
    assert mg.autograd.gradgradcheck(
        lambda x, w, b: F.batch_norm(x, None, None, w, b, True), (x, weight, bias))
    mean, var = mg.tensor(rng.standard_normal(2)), mg.tensor(rng.random(2) + 0.5)
    assert mg.autograd.gradgradcheck(
        lambda x, w, b: F.batch_norm(x, mean, var, w, b, False).tanh(), (x, weight, bias))


def test_batch_norm_module_and_odd_parameters_match_torch():
    torch = pytest.importorskip("torch")
    import nn

    rng = np.random.default_rng(11)
    x = rng.standard_normal((4, 3, 2, 2)).astype(np.float32)
    ours, theirs = nn.BatchNorm2d(3), torch.nn.BatchNorm2d(3)
    for _ in range(2):
        out = ours(mg.tensor(x))
        expected = theirs(torch.tensor(x))
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-5,
                               atol=1e-5)
    np.testing.assert_allclose(ours.running_var.numpy(), theirs.running_var.numpy(), rtol=1e-6)
    ours.eval()
    theirs.eval()
    np.testing.assert_allclose(ours(mg.tensor(x)).detach().numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-5)
    # a float64 weight on a float32 input leaves the fused path (and promotes, as before)
    mixed = F.batch_norm(mg.tensor(x), None, None, mg.tensor(np.ones(3)), None, True)
    assert mixed.shape == x.shape


# --------------------------------------------------------------------------- dropout


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_keeps_scaled_elements_and_its_gradient_is_the_mask(dtype):
    mg.manual_seed(12)
    x = mg.tensor(np.random.default_rng(12).random((64, 3, 5, 5)).astype(dtype) + 1,
                  requires_grad=True)
    out = F.dropout(x, 0.25)
    assert out.dtype == x.dtype
    values, inputs = out.detach().numpy(), x.detach().numpy()
    kept = values != 0
    np.testing.assert_allclose(values[kept], inputs[kept] / 0.75, rtol=1e-6)
    assert abs(kept.mean() - 0.75) < 0.02
    g = np.random.default_rng(13).standard_normal(values.shape).astype(dtype)
    out.backward(mg.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), g * kept / 0.75, rtol=1e-6)


def test_dropout_grad_matches_numeric_with_a_fixed_mask():
    x = np.random.default_rng(14).standard_normal((6, 4))

    def fn(t):
        mg.manual_seed(15)  # the same mask at every evaluation
        return F.dropout(t, 0.4) * t

    assert_grad_matches_numeric(fn, x)
    mg.manual_seed(15)
    t = mg.tensor(x, requires_grad=True)
    assert mg.autograd.gradgradcheck(fn, (t,))


# --------------------------------------------------------------------------- SGD in place


@pytest.mark.parametrize("options", [dict(momentum=0.9), dict(momentum=0.9, nesterov=True),
                                     dict(momentum=0.8, dampening=0.3, weight_decay=0.01),
                                     dict(), dict(momentum=0.9, maximize=True)])
def test_sgd_in_place_matches_torch_in_float32(options):
    """Five steps on a float32 parameter whose gradient arrives column-major (as a transposed
    product leaves it): the buffer is made in the parameter's layout, the values as PyTorch's."""
    torch = pytest.importorskip("torch")
    import minigrad.optim as optim

    rng = np.random.default_rng(16)
    start = rng.standard_normal((6, 5)).astype(np.float32)
    ours = mg.tensor(start.copy(), requires_grad=True)
    theirs = torch.tensor(start.copy(), requires_grad=True)
    our_opt = optim.SGD([ours], lr=0.1, **options)
    their_opt = torch.optim.SGD([theirs], lr=0.1, **options)
    for _ in range(5):
        g = rng.standard_normal((5, 6)).astype(np.float32).T  # column-major
        ours.grad = mg.tensor(g)
        theirs.grad = torch.tensor(np.ascontiguousarray(g))
        our_opt.step()
        their_opt.step()
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-6,
                               atol=1e-6)
    assert ours.dtype == mg.float32
    if options.get("momentum"):
        buffer = our_opt.state[ours]["momentum_buffer"].numpy()
        assert buffer.flags.c_contiguous and buffer.dtype == np.float32
