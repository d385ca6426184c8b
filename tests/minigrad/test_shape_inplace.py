"""In-place shape methods (t_, transpose_, swapaxes_, swapdims_, squeeze_, unsqueeze_,
resize_) against PyTorch and numerical gradients."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import assert_grad_matches_numeric

torch = pytest.importorskip("torch")

CASES = [
    ("t_", (), (2, 3)),
    ("t_", (), (4,)),
    ("transpose_", (0, 2), (2, 3, 1)),
    ("transpose_", (-1, 1), (2, 3, 4)),
    ("swapaxes_", (0, 1), (2, 3)),
    ("swapdims_", (2, 0), (2, 1, 3)),
    ("squeeze_", (), (2, 1, 3, 1)),
    ("squeeze_", (1,), (2, 1, 3, 1)),
    ("squeeze_", (0,), (2, 1, 3)),
    ("squeeze_", ((1, 3),), (2, 1, 3, 1)),
    ("unsqueeze_", (0,), (2, 3)),
    ("unsqueeze_", (-1,), (2, 3)),
]


@pytest.mark.parametrize("name, args, shape", CASES)
def test_shape_inplace_matches_torch_on_graph_tensors(name, args, shape):
    x_np = np.random.default_rng(0).normal(size=shape)
    x = mg.tensor(x_np, requires_grad=True)
    tx = torch.tensor(x_np, requires_grad=True)
    y, ty = x * 2, tx * 2
    used_before, tused_before = y.exp(), ty.exp()  # saved its output, not y
    version, tversion = y._version.value, ty._version
    assert getattr(y, name)(*args) is y
    assert getattr(ty, name)(*args) is ty
    assert y.shape == tuple(ty.shape) and y.dtype == mg.float64
    assert y._version.value - version == ty._version - tversion == 1
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    weights = np.arange(y.numel(), dtype=np.float64).reshape(y.shape)
    ((y * mg.tensor(weights)).sum() + used_before.sum()).backward()
    ((ty * torch.tensor(weights)).sum() + tused_before.sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("name, args, shape", CASES)
def test_shape_inplace_plain_tensors_share_memory(name, args, shape):
    x_np = np.random.default_rng(1).normal(size=shape)
    x, tx = mg.tensor(x_np), torch.tensor(x_np)
    base = x.detach()  # shares the array
    getattr(x, name)(*args)
    getattr(tx, name)(*args)
    assert x.shape == tuple(tx.shape) and base.shape == shape
    np.testing.assert_array_equal(x.numpy(), tx.numpy())
    x.mul_(0)
    assert not base.numpy().any()


@pytest.mark.parametrize("name, args, shape", CASES)
def test_shape_inplace_refuses_leaf_requiring_grad(name, args, shape):
    x = mg.zeros(*shape, dtype=mg.float64, requires_grad=True)
    with pytest.raises(RuntimeError):
        getattr(torch.zeros(*shape, requires_grad=True), name)(*args)
    with pytest.raises(RuntimeError, match=f"{name}: a leaf tensor"):
        getattr(x, name)(*args)
    with mg.no_grad():
        getattr(x, name)(*args)
    with torch.no_grad():
        expected = getattr(torch.zeros(*shape, requires_grad=True), name)(*args).shape
    assert x.shape == tuple(expected) and x.is_leaf and x.requires_grad


def test_shape_inplace_then_value_inplace_records_both():
    x_np = np.random.default_rng(2).normal(size=(2, 3))
    x, tx = mg.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    for a, _lib in ((x, mg), (tx, torch)):
        y = a * 2
        y.t_()
        y.add_(1)
        y.unsqueeze_(0)
        y.mul_(3)
        (y * y).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


def test_shape_inplace_of_a_view_keeps_backward_to_the_base():
    x_np = np.random.default_rng(3).normal(size=(2, 3, 1))
    x, tx = mg.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    v, tv = (x * 2)[0], (tx * 2)[0]
    v.t_()
    tv.t_()
    assert v.shape == tuple(tv.shape)
    (v * mg.tensor([[1.0, 2.0, 3.0]])).sum().backward()
    (tv * torch.tensor([[1.0, 2.0, 3.0]], dtype=torch.float64)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())


def test_shape_inplace_saved_tensor_version_check_like_torch():
    x = mg.randn(2, 3, requires_grad=True, dtype=mg.float64)
    y = x * 2
    product = y * x  # saves y
    y.unsqueeze_(0)
    with pytest.raises(RuntimeError, match="modified in place"):
        product.sum().backward()


@settings(deadline=None, max_examples=10)
@given(st.sampled_from(CASES), st.integers(0, 1000))
def test_shape_inplace_grad_matches_numeric(case, seed):
    name, args, shape = case
    x_np = np.random.default_rng(seed).normal(size=shape)

    def fn(x):
        y = x * 1.5
        getattr(y, name)(*args)
        return (y * y).sum(dim=0)

    assert_grad_matches_numeric(fn, x_np)


def test_shape_inplace_errors_like_torch():
    for fn in (lambda lib: lib.zeros(2, 3, 4).t_(),):
        with pytest.raises(RuntimeError, match="t_\\(\\) expects a tensor with <= 2"):
            fn(torch)
        with pytest.raises(RuntimeError, match="t_\\(\\) expects a tensor with <= 2"):
            fn(mg)
    for name, args in (("transpose_", (0, 2)), ("squeeze_", (5,)), ("unsqueeze_", (3,)),
                       ("swapdims_", (-3, 0))):
        with pytest.raises(IndexError):
            getattr(torch.zeros(2, 3), name)(*args)
        with pytest.raises(IndexError, match=name.rstrip("_")):
            getattr(mg.zeros(2, 3), name)(*args)


def test_resize_matches_torch_where_defined():
    x_np = np.arange(6.0).reshape(2, 3)
    for sizes in ((3, 2), ((6,),), (2, 2), (1, 1, 1)):
        x, tx = mg.tensor(x_np), torch.tensor(x_np)
        version = x._version.value
        assert x.resize_(*sizes) is x
        tx.resize_(*sizes)
        assert x.shape == tuple(tx.shape) and x._version.value == version + 1
        np.testing.assert_array_equal(x.numpy(), tx.numpy())
    grown = mg.tensor(x_np).resize_(3, 3)
    assert grown.shape == (3, 3)
    np.testing.assert_array_equal(grown.numpy().reshape(-1)[:6], x_np.reshape(-1))
    transposed = mg.tensor(x_np).t()
    tt = torch.tensor(x_np).t()
    np.testing.assert_array_equal(transposed.resize_(6).numpy(), tt.resize_(6).numpy())
    with pytest.raises(RuntimeError, match="cannot resize variables that require grad"):
        mg.zeros(2, requires_grad=True).resize_(3)
    with pytest.raises(RuntimeError, match="negative dimension"):
        mg.zeros(2).resize_(-1)
