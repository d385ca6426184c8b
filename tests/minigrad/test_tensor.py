"""Tensor: creation, dtype rules, attributes, conversions, repr and error messages."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg


def test_tensor_dtype_inference_follows_pytorch():
    assert mg.tensor([1.0, 2.0]).dtype == np.float32
    assert mg.tensor(2.5).dtype == np.float32
    assert mg.tensor([1, 2]).dtype == np.int64
    assert mg.tensor([True, False]).dtype == np.bool_
    assert mg.tensor(np.zeros(2, np.float64)).dtype == np.float64
    assert mg.tensor(np.zeros(2, np.int32)).dtype == np.int32
    assert mg.tensor([1, 2], dtype=mg.float64).dtype == np.float64
    assert mg.tensor([1.5], dtype=float).dtype == np.float32


def test_tensor_copies_but_from_numpy_shares():
    a = np.zeros(3)
    t = mg.tensor(a)
    a[0] = 1.0
    assert t.detach().numpy()[0] == 0.0
    shared = mg.from_numpy(a)
    a[1] = 2.0
    assert shared.detach().numpy()[1] == 2.0
    with pytest.raises(TypeError, match="from_numpy"):
        mg.from_numpy([1.0])


def test_tensor_rejects_non_numeric_data():
    with pytest.raises(TypeError, match="tensor: cannot make a tensor"):
        mg.tensor(["a", "b"])
    with pytest.raises(TypeError, match="not a dtype"):
        mg.tensor([1.0], dtype="nonsense")


@pytest.mark.parametrize("scalar", [2.5, 2, True, np.float64(2.5)])
def test_python_scalars_never_change_float_dtype(scalar):
    for dtype in (mg.float32, mg.float64):
        x = mg.ones(3, dtype=dtype)
        # a bool on either side of `-` raises, as in PyTorch
        minus = [] if isinstance(scalar, bool) else [scalar - x]
        for out in (x * scalar, scalar * x, x + scalar, *minus, x / scalar, x**scalar):
            assert out.dtype == dtype


def test_int_tensor_with_float_scalar_becomes_float32():
    x = mg.tensor([1, 2])
    assert (x * 2.5).dtype == np.float32
    assert (x + 1).dtype == np.int64
    assert (x / 2).dtype == np.float32
    assert (x ** 0.5).dtype == np.float32
    np.testing.assert_allclose((x * 2.5).detach().numpy(), [2.5, 5.0])


def test_tensor_tensor_promotion():
    f32, f64, i64 = mg.ones(2), mg.ones(2, dtype=mg.float64), mg.ones(2, dtype=mg.int64)
    assert (f32 + f64).dtype == np.float64
    assert (f32 + i64).dtype == np.float32
    assert (i64 + mg.tensor(1.5, dtype=mg.float64)).dtype == np.float64
    assert (f32 + mg.tensor(1.5, dtype=mg.float64)).dtype == np.float32  # 0-d does not upcast


def test_creation_functions():
    assert mg.zeros(2, 3).shape == (2, 3) and mg.zeros((2, 3)).dtype == np.float32
    assert mg.ones(4, dtype=mg.int64).dtype == np.int64
    np.testing.assert_array_equal(mg.full((2,), 7).detach().numpy(), [7, 7])
    assert mg.full((2,), 7).dtype == np.int64
    assert mg.arange(5).dtype == np.int64 and mg.arange(0.0, 1.0, 0.5).dtype == np.float32
    np.testing.assert_array_equal(mg.arange(2, 8, 3).detach().numpy(), [2, 5])
    np.testing.assert_array_equal(mg.eye(2).detach().numpy(), np.eye(2))
    assert mg.linspace(0, 1, 5).shape == (5,)
    x = mg.randn(3, 2, requires_grad=True)
    assert x.requires_grad and x.is_leaf and x.dtype == np.float32
    assert mg.zeros_like(x).shape == (3, 2) and not mg.zeros_like(x).requires_grad
    assert mg.ones_like(x, dtype=mg.float64).dtype == np.float64
    assert mg.rand(5).detach().numpy().min() >= 0
    r = mg.randint(0, 3, (100,))
    assert r.dtype == np.int64 and set(np.unique(r.detach().numpy())) <= {0, 1, 2}
    assert sorted(mg.randperm(5).tolist()) == [0, 1, 2, 3, 4]


def test_manual_seed_makes_random_reproducible():
    mg.manual_seed(3)
    a = mg.randn(4).detach().numpy().copy()
    mg.manual_seed(3)
    np.testing.assert_array_equal(mg.randn(4).detach().numpy(), a)


def test_attributes():
    x = mg.zeros(2, 3, 4)
    assert x.shape == (2, 3, 4) and x.size() == (2, 3, 4) and x.size(1) == 3
    assert x.ndim == 3 and x.dim() == 3 and x.numel() == 24 and len(x) == 2
    assert x.element_size() == 4 and x.device == "cpu" and x.is_floating_point()
    assert not mg.zeros(2, dtype=mg.int64).is_floating_point()
    assert x.grad is None and x.grad_fn is None


def test_conversions():
    x = mg.tensor([[1.5, 2.0]])
    assert x.tolist() == [[1.5, 2.0]]
    assert mg.tensor([3.5]).item() == 3.5 and float(mg.tensor(2.0)) == 2.0
    assert int(mg.tensor(7)) == 7 and [10, 20, 30][mg.tensor(1)] == 20
    with pytest.raises(RuntimeError, match=r"item: .*\(1, 2\)"):
        x.item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(x)
    assert bool(mg.tensor([1.0]))
    with pytest.raises(TypeError):
        len(mg.tensor(1.0))
    np.testing.assert_array_equal(np.asarray(x), x.detach().numpy())
    assert [row.shape for row in mg.zeros(3, 2)] == [(2,)] * 3


def test_dtype_conversion_methods():
    x = mg.tensor([1.7, -2.2])
    assert x.double().dtype == np.float64 and x.half().dtype == np.float16
    np.testing.assert_array_equal(x.long().detach().numpy(), [1, -2])
    assert x.int().dtype == np.int32 and x.bool().dtype == np.bool_
    assert x.to(mg.float64).dtype == np.float64 and x.to("cpu") is x
    assert x.type_as(mg.zeros(1, dtype=mg.float64)).dtype == np.float64
    assert x.float() is x


def test_repr():
    assert repr(mg.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(mg.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(mg.tensor([1.0], dtype=mg.float64)) == "tensor([1.], dtype=minigrad.float64)"
    assert repr(mg.tensor([1.0], requires_grad=True)) == "tensor([1.], requires_grad=True)"
    assert repr(mg.tensor([1.0], requires_grad=True) * 2) == "tensor([2.], grad_fn=<MulBackward>)"


def test_comparisons_and_logic_return_bool_tensors_without_graph():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    mask = x > 1.5
    assert mask.dtype == np.bool_ and not mask.requires_grad
    np.testing.assert_array_equal(mask.detach().numpy(), [False, True, True])
    np.testing.assert_array_equal((mask & (x < 3)).detach().numpy(), [False, True, False])
    np.testing.assert_array_equal((~mask).detach().numpy(), [True, False, False])
    assert (x == x).all().item() and x.equal(x.detach()) and x.allclose(x.detach().numpy() + 1e-9)


def test_masked_fill_and_where_gradients():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.masked_fill(x > 1.5, 0.0)
    np.testing.assert_array_equal(y.detach().numpy(), [1.0, 0.0, 0.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.detach().numpy(), [1.0, 0.0, 0.0])


def test_floor_div_mod_and_piecewise_constant_ops():
    x = mg.tensor([7, -7])
    np.testing.assert_array_equal((x // 2).detach().numpy(), [3, -4])
    np.testing.assert_array_equal((x % 3).detach().numpy(), [1, 2])
    f = mg.tensor([-1.5, 2.5], requires_grad=True)
    # as in PyTorch: differentiable, with gradient 0
    (f.sign() + f.floor()).sum().backward()
    np.testing.assert_array_equal(f.grad.numpy(), [0.0, 0.0])


def test_unsupported_operand_names_the_op():
    with pytest.raises(TypeError, match="mul: unsupported operand of type str"):
        mg.ones(2) * "a"


def test_requires_grad_on_non_leaf_cannot_be_switched_off():
    y = mg.ones(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)
    z = mg.ones(2)
    assert z.requires_grad_() is z and z.requires_grad


def test_in_place_without_graph_updates_data_and_version():
    x = mg.ones(3)
    version = x._version.value
    x.add_(1.0).mul_(3.0)
    x -= 1.0
    x /= 5.0
    np.testing.assert_allclose(x.detach().numpy(), [1.0, 1.0, 1.0])
    assert x._version.value == version + 4
    x.zero_()
    assert (x.detach().numpy() == 0).all()
    with pytest.raises(RuntimeError, match="add_: "):
        x.add_(mg.ones(4))
    i = mg.tensor([1, 2])
    with pytest.raises(RuntimeError, match="mul_: .*can't be cast"):
        i.mul_(1.5)


def test_module_level_functions_call_methods():
    x = mg.tensor([[1.0, -2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(mg.abs(x).detach().numpy(), np.abs(x.detach().numpy()))
    np.testing.assert_array_equal(mg.sum(x, 0).detach().numpy(), [4.0, 2.0])
    assert mg.max(x).item() == 4.0
    assert mg.flatten(x).shape == (4,)
