"""The engine: graph recording, order, accumulation, freeing, grad mode, in-place safety."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd.engine import Context, Primitive, unbroadcast


def leaf(values, dtype=mg.float64):
    return mg.tensor(values, dtype=dtype, requires_grad=True)


# ---------------------------------------------------------------------- graph shapes


def test_long_chain_backpropagates_without_recursion_error():
    x = leaf([1.0])
    y = x
    for _ in range(100_000):
        y = y + 0.0
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.detach().numpy(), [1.0])


def test_diamond_graph_sums_gradients_of_every_use():
    x = leaf([2.0, -1.0])
    a = x * 3.0
    b = x * x
    c = a + b + x  # x used three times, directly and through two branches
    c.sum().backward()
    np.testing.assert_allclose(x.grad.detach().numpy(), 3.0 + 2 * x.detach().numpy() + 1.0)


def test_tensor_used_many_times_in_one_op_chain():
    x = leaf([1.5])
    y = x
    for _ in range(50):
        y = y + x
    y.backward(mg.ones(1, dtype=mg.float64))
    np.testing.assert_array_equal(x.grad.detach().numpy(), [51.0])


def test_same_tensor_as_both_inputs():
    x = leaf([3.0])
    (x * x).backward(mg.ones(1, dtype=mg.float64))
    np.testing.assert_array_equal(x.grad.detach().numpy(), [6.0])


def test_grad_accumulates_across_backward_calls():
    x = leaf([1.0, 2.0])
    (x * 2.0).sum().backward()
    (x * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad.detach().numpy(), [5.0, 5.0])


def test_accumulated_grad_does_not_alias_other_arrays():
    x = leaf([1.0, 2.0])
    y = x + 0.0
    y.retain_grad()
    y.sum().backward()
    first = x.grad.detach().numpy().copy()
    (x * 1.0).sum().backward()
    # not changed by the second pass
    np.testing.assert_array_equal(y.grad.detach().numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(x.grad.detach().numpy(), first * 2)


def test_grad_only_written_to_leaves_unless_retained():
    x = leaf([1.0, 2.0])
    hidden = x * 2.0
    kept = x * 3.0
    kept.retain_grad()
    (hidden + kept).sum().backward()
    assert hidden.grad is None
    np.testing.assert_array_equal(kept.grad.detach().numpy(), [1.0, 1.0])
    assert x.is_leaf and not hidden.is_leaf


def test_broadcast_gradients_are_unbroadcast_to_input_shape():
    x = leaf(np.ones((3, 1)))
    y = leaf(np.ones(4))
    (x * y).sum().backward()
    assert x.grad.shape == (3, 1) and y.grad.shape == (4,)
    np.testing.assert_array_equal(x.grad.detach().numpy(), np.full((3, 1), 4.0))
    np.testing.assert_array_equal(y.grad.detach().numpy(), np.full(4, 3.0))


def test_unbroadcast_sums_leading_and_size_one_axes():
    grad = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(unbroadcast(grad, (3, 1)), grad.sum(axis=(0, 2))[:, None])
    np.testing.assert_array_equal(unbroadcast(grad, ()), grad.sum())
    assert unbroadcast(grad, (2, 3, 4)) is grad


def test_gradient_dtype_matches_input_dtype():
    x = mg.randn(3, requires_grad=True)
    (x.double() * 2.0).sum().backward()
    assert x.grad.dtype == np.float32


# ---------------------------------------------------------------------- freeing


class _SaveInput(Primitive):
    """y = 2 * x, saving x (a fresh copy) so a test can watch when the graph lets go of it."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(a.copy())
        return 2 * a

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        (saved,) = ctx.saved
        assert saved.shape == grad.shape
        return 2 * grad


def test_saved_array_is_freed_after_backward():
    x = leaf([1.0, 2.0])
    y = x.exp()
    ref = weakref.ref(y._node.ctx.saved[0])  # Exp saves its output, y's own array
    y.sum().backward()
    del y
    gc.collect()
    assert ref() is None
    np.testing.assert_allclose(x.grad.detach().numpy(), np.exp([1.0, 2.0]))


def test_intermediate_arrays_are_freed_while_the_loss_is_alive():
    x = leaf([1.0, 2.0])
    y = x.exp()
    ref = weakref.ref(y._node.ctx.saved[0])
    z = _SaveInput.apply(x)
    ref_copy = weakref.ref(z._node.ctx.saved[0])
    # y's own data is the array Exp saved: keep only the graph's reference by dropping y's data
    loss = y.sum()
    del y
    gc.collect()
    assert ref() is not None  # still needed: backward has not run
    loss.backward()
    z.sum().backward()
    gc.collect()
    assert ref() is None
    assert ref_copy() is None
    np.testing.assert_allclose(x.grad.detach().numpy(), np.exp([1.0, 2.0]) + 2.0)


def test_retain_graph_keeps_saved_arrays():
    x = leaf([1.0])
    z = _SaveInput.apply(x)
    ref = weakref.ref(z._node.ctx.saved[0])
    z.sum().backward(retain_graph=True)
    gc.collect()
    assert ref() is not None


def test_second_backward_through_freed_graph_raises():
    x = leaf([1.0, 2.0])
    loss = (x * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        loss.backward()


def test_retain_graph_allows_second_backward():
    x = leaf([1.0, 2.0])
    loss = (x * x).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    np.testing.assert_array_equal(x.grad.detach().numpy(), 4 * x.detach().numpy())


# ---------------------------------------------------------------------- backward() arguments


def test_backward_on_non_scalar_without_gradient_raises():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"scalar.*\(2,\)"):
        (x * 2.0).backward()


def test_backward_with_explicit_gradient():
    x = leaf([1.0, 2.0])
    (x * 3.0).backward(mg.tensor([1.0, 10.0], dtype=mg.float64))
    np.testing.assert_array_equal(x.grad.detach().numpy(), [3.0, 30.0])


def test_backward_with_wrong_gradient_shape_raises():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"\(3,\).*\(2,\)"):
        (x * 3.0).backward(mg.ones(3))


def test_backward_on_tensor_without_graph_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.ones(1).backward()


def test_backward_returning_wrong_number_of_gradients_raises():
    class Bad(Primitive):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, grad):
            return grad

    with pytest.raises(RuntimeError, match="BadBackward.*1 gradients for 2 inputs"):
        Bad.apply(leaf([1.0]), leaf([2.0])).sum().backward()


def test_needs_input_grad_reflects_inputs():
    seen = []

    class Probe(Primitive):
        @staticmethod
        def forward(ctx, a, b):
            seen.append(ctx.needs_input_grad)
            return a * b

        @staticmethod
        def backward(ctx, grad):
            return grad, grad

    Probe.apply(leaf([1.0]), mg.tensor([2.0], dtype=mg.float64))
    Probe.apply(mg.tensor([1.0]), mg.tensor([2.0]))
    assert seen == [(True, False), (False, False)]


# ---------------------------------------------------------------------- grad mode


def test_no_grad_context_records_nothing():
    x = leaf([1.0])
    with mg.no_grad():
        assert not mg.is_grad_enabled()
        y = x * 2.0
    assert mg.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf


def test_no_grad_decorator_and_enable_grad_inside():
    x = leaf([1.0])

    @mg.no_grad()
    def f():
        inner = x * 2.0
        with mg.enable_grad():
            assert mg.is_grad_enabled()
            recorded = x * 2.0
        return inner, recorded, mg.is_grad_enabled()

    inner, recorded, mode = f()
    assert not inner.requires_grad and recorded.requires_grad and mode is False
    assert mg.is_grad_enabled()


def test_enable_grad_decorator_inside_no_grad():
    @mg.enable_grad()
    def f(t):
        return t * 2.0

    with mg.no_grad():
        y = f(leaf([1.0]))
        assert not mg.is_grad_enabled()
    assert y.requires_grad


def test_grad_mode_restored_after_exception():
    with pytest.raises(KeyError), mg.no_grad():
        raise KeyError("inside no_grad")
    assert mg.is_grad_enabled()


def test_set_grad_enabled():
    with mg.set_grad_enabled(False):
        assert not mg.is_grad_enabled()
    assert mg.is_grad_enabled()


def test_detach_cuts_the_graph_and_shares_data():
    x = leaf([1.0, 2.0])
    d = (x * 2.0).detach()
    assert not d.requires_grad and d.grad_fn is None
    y = x * 1.0
    assert np.shares_memory(y.detach().numpy(), y.detach().numpy())


# ---------------------------------------------------------------------- mg.grad


def test_grad_function_returns_gradients_without_touching_dot_grad():
    x = leaf([1.0, 2.0])
    w = leaf([3.0, 4.0])
    out = x * w
    gx, gw = mg.grad(out, [x, w], grad_outputs=mg.tensor([1.0, -1.0], dtype=mg.float64))
    np.testing.assert_array_equal(gx.detach().numpy(), [3.0, -4.0])
    np.testing.assert_array_equal(gw.detach().numpy(), [1.0, -2.0])
    assert x.grad is None and w.grad is None


def test_grad_function_of_intermediate_and_unused_inputs():
    x = leaf([2.0])
    h = x * x
    unused = leaf([1.0])
    (gh,) = mg.grad((h * 3.0).sum(), h, retain_graph=True)
    np.testing.assert_array_equal(gh.detach().numpy(), [3.0])
    with pytest.raises(RuntimeError, match="allow_unused"):
        mg.grad((h * 3.0).sum(), [x, unused], retain_graph=True)
    gx, gu = mg.grad((h * 3.0).sum(), [x, unused], allow_unused=True)
    np.testing.assert_array_equal(gx.detach().numpy(), [12.0])
    assert gu is None


def test_grad_function_rejects_inputs_without_requires_grad():
    x = mg.tensor([1.0])
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.grad((leaf([1.0]) * x).sum(), x)


# ---------------------------------------------------------------------- in-place and versions


@pytest.mark.parametrize(
    "mutate",
    [
        lambda t: t.add_(1.0),
        lambda t: t.mul_(2.0),
        lambda t: t.__setitem__(0, 5.0),
        lambda t: t.__iadd__(1.0),
        lambda t: t[1:].mul_(2.0),  # through a view
        lambda t: t.reshape(1, 2).__setitem__((0, 0), 1.0),  # through a reshape view
    ],
    ids=["add_", "mul_", "setitem", "iadd", "view_mul_", "view_setitem"],
)
def test_modifying_a_saved_tensor_in_place_raises_at_backward(mutate):
    x = leaf([1.0, 2.0])
    with mg.no_grad():
        saved = mg.tensor([3.0, 4.0], dtype=mg.float64)
    out = x * saved  # Mul saves both operands
    with mg.no_grad():
        mutate(saved)
    with pytest.raises(RuntimeError, match="modified in place"):
        out.sum().backward()


def test_modifying_a_saved_non_leaf_in_place_raises_at_backward():
    x = leaf([1.0, 2.0])
    y = x.exp()  # Exp saves its output
    y.mul_(2.0)
    with pytest.raises(RuntimeError, match="ExpBackward.*modified in place"):
        y.sum().backward()


def test_in_place_on_leaf_requiring_grad_raises():
    x = leaf([1.0, 2.0])
    for mutate in (lambda: x.add_(1.0), lambda: x.__setitem__(0, 1.0), lambda: x.mul_(2.0)):
        with pytest.raises(RuntimeError, match="leaf"):
            mutate()
    with mg.no_grad():
        x.add_(1.0)
    np.testing.assert_array_equal(x.detach().numpy(), [2.0, 3.0])


def test_in_place_on_non_leaf_gives_out_of_place_gradient():
    def run(in_place):
        x = leaf([1.0, -2.0, 3.0])
        w = leaf([0.5, 0.25, 2.0])
        y = x * 2.0
        if in_place:
            y.mul_(w)
            y.add_(x)
            y[1] = w[0] * 4.0
            y.relu_()
        else:
            y = y * w + x
            y = mg.where(np.array([False, True, False]), w[0] * 4.0, y)
            y = y.relu()
        (y * y).sum().backward()
        return x.grad.detach().numpy(), w.grad.detach().numpy()

    for got, want in zip(run(True), run(False), strict=True):
        np.testing.assert_allclose(got, want)


def test_uses_of_a_tensor_before_an_in_place_change_keep_the_old_gradient():
    x = leaf([1.0, 2.0])
    y = x * 1.0
    before = y + 1.0  # Add saves nothing: only the graph order protects it
    y.mul_(3.0)
    after = y + 0.0
    before.sum().backward(retain_graph=True)
    np.testing.assert_array_equal(x.grad.detach().numpy(), [1.0, 1.0])
    x.grad = None
    after.sum().backward()
    np.testing.assert_array_equal(x.grad.detach().numpy(), [3.0, 3.0])


def test_setitem_with_a_grad_value_into_a_plain_tensor():
    w = leaf([2.0])
    buf = mg.zeros(3, dtype=mg.float64)
    early = buf * 1.0 + w  # uses the old content of buf
    buf[1] = w[0] * 5.0
    (buf.sum() + early.sum()).backward()
    np.testing.assert_array_equal(w.grad.detach().numpy(), [5.0 + 3.0])


def test_in_place_on_a_view_of_a_graph_tensor_raises_clearly():
    x = leaf([1.0, 2.0, 3.0])
    y = x * 1.0
    with pytest.raises(RuntimeError, match="view"):
        y[0:2].mul_(2.0)


def test_integer_and_bool_tensors_cannot_require_grad():
    for dtype in (mg.int64, mg.int32, mg.bool):
        with pytest.raises(RuntimeError, match="floating point"):
            mg.zeros(2, dtype=dtype, requires_grad=True)
        with pytest.raises(RuntimeError, match="floating point"):
            mg.zeros(2, dtype=dtype).requires_grad_()
    with pytest.raises(RuntimeError, match="floating point"):
        mg.tensor([1, 2], requires_grad=True)


def test_cast_to_int_leaves_the_graph():
    x = leaf([1.5, 2.5])
    assert not x.long().requires_grad


def test_iter_graph_names_nodes():
    from minigrad.autograd.engine import iter_graph

    x = leaf([1.0])
    names = [n.name() for n in iter_graph((x.exp() * 2.0).sum())]
    assert names == ["SumBackward", "MulBackward", "ExpBackward"]
