"""The layout-aware fast paths: thread splits along the outermost memory axis, reshape
gradients in the input's layout, gradients the engine hands over without a copy, and the
optimizers' preallocated buffers. Each is checked against the plain computation."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

import minigrad as mg
from minigrad import parallel
from minigrad.autograd import engine
from minigrad.autograd.engine import Context
from minigrad.ops import batchnorm
from minigrad.ops import shape as shape_ops
from minigrad.ops.elementwise import Relu
from minigrad.optim import adam


@pytest.fixture
def two_threads() -> Iterator[None]:
    before = parallel.get_num_threads()
    parallel.set_num_threads(2)
    try:
        yield
    finally:
        parallel.set_num_threads(before)


def _layout(shape: tuple[int, ...], order: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """A random float32 array of ``shape`` whose memory runs over the axes in ``order``."""
    base = np.random.default_rng(seed).standard_normal([shape[a] for a in order])
    return base.astype(np.float32).transpose(np.argsort(order))


@pytest.mark.parametrize("order", [(0, 1, 2, 3), (2, 3, 0, 1), (1, 0, 3, 2)])
def test_outer_axis_is_the_largest_stride(order: tuple[int, ...]) -> None:
    a = _layout((3, 4, 5, 6), order)
    assert parallel.outer_axis(a) == order[0]
    assert parallel.outer_axis(np.zeros(())) == 0
    assert parallel.outer_axis(np.zeros((1, 7))) == 1  # a length-1 axis is never cut


@pytest.mark.parametrize("order", [(0, 1, 2, 3), (2, 3, 0, 1), (3, 1, 0, 2)])
def test_blocks_cover_every_element_once(order: tuple[int, ...], two_threads: None,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "ELEMENTS_PER_THREAD", 8)  # threaded even when small
    a = _layout((4, 6, 10, 8), order)
    hits = np.zeros(a.shape, np.int64)
    seen: list[tuple[slice, ...]] = []

    def fn(index: tuple[slice, ...]) -> None:
        seen.append(index)
        np.add(hits[index], 1, out=hits[index])

    parallel.blocks(fn, a)
    assert len(seen) > 1
    np.testing.assert_array_equal(hits, 1)
    assert all(len(ix) == order[0] + 1 for ix in seen)  # cut along the outermost axis


@pytest.mark.parametrize("order", [(0, 1, 2, 3), (2, 3, 0, 1)])
@pytest.mark.parametrize("grad_order", [(0, 1, 2, 3), (2, 3, 0, 1)])
def test_relu_threaded_is_bitwise_the_plain_pass(order: tuple[int, ...],
                                                 grad_order: tuple[int, ...], two_threads: None,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "ELEMENTS_PER_THREAD", 64)
    x = _layout((6, 5, 7, 8), order)
    g = _layout((6, 5, 7, 8), grad_order, seed=1)
    ctx = Context()
    out = Relu.forward(ctx, x)
    grad = Relu.backward(ctx, g)
    np.testing.assert_array_equal(out, np.maximum(x, 0))
    np.testing.assert_array_equal(grad, g * (x > 0))
    assert out.strides == x.strides  # the result keeps the input's layout
    assert grad.strides == x.strides  # the gradient too: what the op before the ReLU wrote


# ---------------------------------------------------------------- gradients taken over by .grad


def _leaves(*arrays: np.ndarray) -> list[mg.Tensor]:
    return [mg.tensor(a, requires_grad=True) for a in arrays]


def _owns(grad: np.ndarray, like: np.ndarray) -> bool:
    return engine._engine_owns(grad, like)  # the call chain of run_backward's


def test_engine_owns_only_unreachable_arrays() -> None:
    like = np.zeros((3, 4), np.float32)
    fresh = np.ones((3, 4), np.float32)
    assert _owns(fresh, like)
    holders = [fresh]
    assert not _owns(fresh, like)  # another object holds it too
    del holders
    assert _owns(fresh, like)
    base = np.ones((3, 4), np.float32)
    view = base[:]
    assert not _owns(view, like)  # a view
    wide = np.ones((3, 4), np.float64)
    assert not _owns(wide, like)  # another dtype
    transposed = np.ones((4, 3), np.float32).T.copy(order="K")
    assert not _owns(transposed, like)  # another layout
    frozen = np.ones((3, 4), np.float32)
    frozen.flags.writeable = False
    assert not _owns(frozen, like)


def test_fresh_leaf_gradient_is_taken_over_and_correct() -> None:
    rng = np.random.default_rng(0)
    w, x = _leaves(rng.standard_normal((4, 3)), rng.standard_normal((5, 3)))
    (x @ w.T).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), np.ones((5, 4)).T @ x.detach().numpy())
    np.testing.assert_allclose(x.grad.numpy(), np.ones((5, 4)) @ w.detach().numpy())
    assert not np.shares_memory(w.grad._data, x.grad._data)


def test_gradient_shared_by_two_parameters_is_not_aliased() -> None:
    a, b = _leaves(np.arange(6.0).reshape(2, 3), np.ones((2, 3)))
    (a + b).backward(mg.ones(2, 3, dtype=mg.float64))  # Add hands the same array to both
    assert not np.shares_memory(a.grad._data, b.grad._data)
    a.grad.add_(5.0)
    np.testing.assert_array_equal(b.grad.numpy(), np.ones((2, 3)))


def test_caller_gradient_is_not_aliased() -> None:
    (x,) = _leaves(np.zeros(4))
    g = mg.tensor(np.arange(4.0))
    (x + 0).backward(g)  # Add passes the caller's array through
    assert not np.shares_memory(x.grad._data, g._data)
    x.backward(g)  # a leaf as the root
    x.grad.mul_(0.0)
    np.testing.assert_array_equal(g.numpy(), np.arange(4.0))


def test_hook_that_keeps_the_gradient_sees_no_later_change() -> None:
    (x,) = _leaves(np.ones(3))
    kept: list[mg.Tensor] = []
    x.register_hook(lambda g: kept.append(g))
    (x * x).sum().backward()
    x.grad.add_(100.0)
    np.testing.assert_array_equal(kept[0].numpy(), [2.0, 2.0, 2.0])
    replacement = mg.tensor(np.full(3, 7.0))
    (y,) = _leaves(np.ones(3))
    y.register_hook(lambda g: replacement)
    (y * y).sum().backward()
    y.grad.zero_()
    np.testing.assert_array_equal(replacement.numpy(), [7.0, 7.0, 7.0])


def test_retain_grad_tensor_and_its_leaves_do_not_share() -> None:
    a, b = _leaves(np.ones(3), np.full(3, 2.0))
    s = a + b
    s.retain_grad()
    (s * 3).sum().backward()
    for t in (a, b):
        assert not np.shares_memory(t.grad._data, s.grad._data)
    s.grad.add_(1.0)
    np.testing.assert_array_equal(a.grad.numpy(), [3.0, 3.0, 3.0])
    np.testing.assert_array_equal(b.grad.numpy(), [3.0, 3.0, 3.0])


def test_in_place_update_of_grad_between_retained_backwards() -> None:
    rng = np.random.default_rng(1)
    w, x = _leaves(rng.standard_normal((3, 3)), rng.standard_normal((2, 3)))
    loss = ((x @ w) ** 2).sum()
    loss.backward(retain_graph=True)
    first = w.grad.numpy().copy()
    w.grad.mul_(0.0)  # in place, as an optimizer's weight decay or zero_grad(False) does
    x.grad.mul_(0.0)
    loss.backward()
    np.testing.assert_allclose(w.grad.numpy(), first)  # the graph's arrays were not touched
    opt = mg.optim.SGD([w], lr=0.1, weight_decay=0.5)
    opt.step()  # reads .grad after the in-place changes
    assert np.isfinite(w.detach().numpy()).all()


def test_create_graph_gradients_stay_graph_tensors() -> None:
    (x,) = _leaves(np.array([1.0, 2.0, 3.0]))
    (x ** 3).sum().backward(create_graph=True)
    assert x.grad.grad_fn is not None
    np.testing.assert_allclose(x.grad.detach().numpy(), [3.0, 12.0, 27.0])
    g = x.grad
    x.grad = None
    g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 12.0, 18.0])


def test_accumulation_over_two_backwards_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((4, 5)), rng.standard_normal((5, 2))
    (w,) = _leaves(a)
    tw = torch.tensor(a, requires_grad=True)
    for _ in range(2):
        ((w @ mg.tensor(b)).relu() ** 2).sum().backward()
        ((tw @ torch.tensor(b)).relu() ** 2).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-12)


# ---------------------------------------------------------------- optimizers without temporaries


def _reference_adam(p: np.ndarray, grad: np.ndarray, state: dict[str, np.ndarray], step: int,
                    lr: float, betas: tuple[float, float], eps: float, weight_decay: float,
                    amsgrad: bool, decoupled: bool) -> None:
    """The Adam step as plain NumPy expressions, one by one (the formula of the docstring)."""
    beta1, beta2 = betas
    if weight_decay != 0:
        if decoupled:
            p *= 1 - lr * weight_decay
        else:
            grad = grad + weight_decay * p
    m, v = state["m"], state["v"]
    m += (1 - beta1) * (grad - m)
    v *= beta2
    v += (1 - beta2) * grad * grad
    if amsgrad:
        np.maximum(state["vmax"], v, out=state["vmax"])
        v = state["vmax"]
    denom = np.sqrt(v) / (1 - beta2**step) ** 0.5
    denom += eps
    p += -(lr / (1 - beta1**step)) * m / denom


def _reference_nesterov(p: np.ndarray, grad: np.ndarray, state: dict[str, np.ndarray],
                        lr: float, momentum: float, weight_decay: float) -> None:
    if weight_decay != 0:
        grad = grad + weight_decay * p
    if "b" not in state:
        state["b"] = grad.copy()
    else:
        state["b"] *= momentum
        state["b"] += grad
    grad = grad + momentum * state["b"]
    p += np.multiply(grad, -lr, dtype=p.dtype)


def _float32_params(shapes: list[tuple[int, ...]]) -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    return [rng.standard_normal(s).astype(np.float32) for s in shapes]


SHAPES = [(3, 4), (3, 4), (5,)]  # two of one shape share the optimizer's scratch arrays


@pytest.mark.parametrize("kind", ["Adam", "AdamW"])
@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
@pytest.mark.parametrize("block", [None, 5])
def test_adam_is_bitwise_the_plain_expressions(kind: str, amsgrad: bool, weight_decay: float,
                                               block: int | None,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    if block is not None:  # blocks of 5 elements, and a parameter in column-major layout
        monkeypatch.setattr(adam, "BLOCK_ELEMENTS", block)
    start = _float32_params(SHAPES)
    params = [mg.tensor(a.copy(), requires_grad=True) for a in start]
    if block is not None:
        params[1]._data = np.asfortranarray(params[1]._data)
    lr, betas, eps = 0.01, (0.9, 0.999), 1e-8
    opt = getattr(mg.optim, kind)(params, lr=lr, betas=betas, eps=eps,
                                  weight_decay=weight_decay, amsgrad=amsgrad)
    ref = [a.copy() for a in start]
    states = [{"m": np.zeros_like(a), "v": np.zeros_like(a), "vmax": np.zeros_like(a)}
              for a in start]
    rng = np.random.default_rng(4)
    for step in range(1, 5):
        grads = [rng.standard_normal(a.shape).astype(np.float32) for a in start]
        for t, g in zip(params, grads):
            t.grad = mg.tensor(g.copy())
        opt.step()
        for r, g, st in zip(ref, grads, states):
            _reference_adam(r, g, st, step, lr, betas, eps, weight_decay, amsgrad,
                            decoupled=kind == "AdamW")
        for t, r in zip(params, ref):
            np.testing.assert_array_equal(t.detach().numpy(), r)
    assert set(opt.state_dict()["state"][0]) <= {"step", "exp_avg", "exp_avg_sq",
                                                  "max_exp_avg_sq"}


@pytest.mark.parametrize("weight_decay", [0.0, 0.2])
def test_nesterov_is_bitwise_the_plain_expressions(weight_decay: float) -> None:
    start = _float32_params(SHAPES)
    params = [mg.tensor(a.copy(), requires_grad=True) for a in start]
    opt = mg.optim.SGD(params, lr=0.05, momentum=0.9, nesterov=True, weight_decay=weight_decay)
    ref = [a.copy() for a in start]
    states: list[dict[str, np.ndarray]] = [{} for _ in start]
    rng = np.random.default_rng(5)
    for _ in range(4):
        grads = [rng.standard_normal(a.shape).astype(np.float32) for a in start]
        for t, g in zip(params, grads):
            t.grad = mg.tensor(g.copy())
        opt.step()
        for r, g, st in zip(ref, grads, states):
            _reference_nesterov(r, g, st, 0.05, 0.9, weight_decay)
        for t, r in zip(params, ref):
            np.testing.assert_array_equal(t.detach().numpy(), r)
    assert set(opt.state_dict()["state"][0]) == {"momentum_buffer"}


@pytest.mark.parametrize("kind, kwargs", [
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, maximize=True)),
    ("AdamW", dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
    ("AdamW", dict(lr=0.01, maximize=True)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, maximize=True)),
])
def test_scratch_optimizers_match_torch_in_float32(kind: str, kwargs: dict[str, object]) -> None:
    torch = pytest.importorskip("torch")
    start = _float32_params(SHAPES)
    ours = [mg.tensor(a.copy(), requires_grad=True) for a in start]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in start]
    opts = [getattr(mg.optim, kind)(ours, **kwargs), getattr(torch.optim, kind)(theirs, **kwargs)]
    rng = np.random.default_rng(6)
    for _ in range(5):
        for a, b in zip(ours, theirs):
            g = rng.standard_normal(a.shape).astype(np.float32)
            a.grad = mg.tensor(g.copy())
            b.grad = torch.tensor(g.copy())
        for opt in opts:
            opt.step()
    for a, b in zip(ours, theirs):
        assert a.dtype == mg.float32
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)


# ------------------------------------------- reshape gradients in the input's layout


@pytest.mark.parametrize("order", [(2, 3, 0, 1), (1, 0, 3, 2), (0, 1, 2, 3)])
def test_flatten_gradient_comes_back_in_the_input_layout(order: tuple[int, ...],
                                                         two_threads: None,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shape_ops, "LAYOUT_MIN_SIZE", 1)
    monkeypatch.setattr(parallel, "ELEMENTS_PER_THREAD", 16)
    x = _layout((4, 3, 5, 6), order)
    g = np.random.default_rng(7).standard_normal((4, 90)).astype(np.float32)
    ctx = Context()
    y = shape_ops.Reshape.forward(ctx, x, (4, 90))
    np.testing.assert_array_equal(y, np.ascontiguousarray(x).reshape(4, 90))
    grad = shape_ops.Reshape.backward(ctx, g)
    np.testing.assert_array_equal(grad, g.reshape(4, 3, 5, 6))
    assert parallel.outer_axis(grad) == order[0]
    assert shape_ops.memory_order(grad) == shape_ops.memory_order(x)
    if order == (0, 1, 2, 3):
        assert np.shares_memory(grad, g)  # a view where the input was C-ordered


def test_flatten_of_a_permuted_tensor_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(8).standard_normal((3, 4, 5, 6))
    x = mg.tensor(a, requires_grad=True)
    tx = torch.tensor(a, requires_grad=True)
    w = np.random.default_rng(9).standard_normal((3, 120))
    (x.permute(0, 2, 3, 1).reshape(3, 120) * mg.tensor(w)).sum().backward()
    (tx.permute(0, 2, 3, 1).reshape(3, 120) * torch.tensor(w)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
    assert x.grad.dtype == mg.float64


# ------------------------------------------- ReLU's backward into a free gradient


def _relu_cases() -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(10)
    return [(rng.standard_normal((4, 6)), rng.standard_normal((4, 6)))]


def test_relu_backward_in_place_only_where_nothing_else_sees_the_gradient() -> None:
    (a, w) = _relu_cases()[0]
    x = mg.tensor(a, requires_grad=True)
    seen: list[bool] = []
    original = Relu.backward

    def spy(ctx: Context, grad: np.ndarray) -> np.ndarray:
        seen.append(ctx.grad_is_free)
        return original(ctx, grad)

    Relu.backward = staticmethod(spy)  # type: ignore[method-assign]
    try:
        (x.relu() * mg.tensor(w)).sum().backward()  # Mul's fresh product: free
        g = mg.tensor(w)
        x.relu().backward(g)  # the caller's array: not free
        kept: list[mg.Tensor] = []
        y = x * 1.0
        r = y.relu()
        r.register_hook(lambda t: kept.append(t))
        (r * mg.tensor(w)).sum().backward()  # a hook holds it: not free
    finally:
        Relu.backward = staticmethod(original)  # type: ignore[method-assign]
    assert seen == [True, False, False]
    np.testing.assert_array_equal(g.numpy(), w)
    np.testing.assert_array_equal(kept[0].numpy(), w)


def test_relu_backward_in_place_matches_torch_where_gradients_are_shared() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    a, b, w = rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), rng.standard_normal((6, 4))

    def run(lib: object, tensor: object, cat: object) -> list[np.ndarray]:
        x = tensor(a, requires_grad=True)  # type: ignore[operator]
        y = tensor(b, requires_grad=True)  # type: ignore[operator]
        s = x.relu() + (x * -1).relu()  # Add hands one array to two ReLUs
        s.retain_grad()
        c = cat([s.relu(), y.relu()])  # Cat's gradients: two views of one array
        loss = (c * tensor(w)).sum()  # type: ignore[operator]
        loss.backward(retain_graph=True)
        first = [x.grad.detach().numpy().copy(), y.grad.detach().numpy().copy(),
                 s.grad.detach().numpy().copy()]
        loss.backward()
        return first + [x.grad.detach().numpy(), y.grad.detach().numpy()]

    ours = run(mg, mg.tensor, lambda ts: mg.cat(ts, 0))
    theirs = run(torch, torch.tensor, lambda ts: torch.cat(ts, 0))
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o, t, rtol=1e-12, atol=0)


def test_captured_gradient_is_not_overwritten() -> None:
    torch = pytest.importorskip("torch")
    (a, w) = _relu_cases()[0]
    x = mg.tensor(a, requires_grad=True)
    y = x * 3.0
    r = y.relu()
    gy, gx = mg.autograd.grad((r * mg.tensor(w)).sum(), [r, x])  # r's gradient is captured
    tx = torch.tensor(a, requires_grad=True)
    tr = (tx * 3.0).relu()
    tgy, tgx = torch.autograd.grad((tr * torch.tensor(w)).sum(), [tr, tx])
    np.testing.assert_array_equal(gy.numpy(), tgy.numpy())
    np.testing.assert_allclose(gx.numpy(), tgx.numpy(), rtol=1e-12)


@pytest.mark.parametrize("view_first", [False, True])
def test_relu_backward_on_a_view_of_a_shared_gradient(view_first: bool) -> None:
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(12).standard_normal((3, 5))
    w = np.random.default_rng(13).standard_normal((3, 5))
    results = []
    for lib in (mg, torch):
        x = lib.tensor(a, requires_grad=True)
        z = lib.tensor(-a.T, requires_grad=True)  # the complementary mask, transposed
        u, v = x.relu(), z.relu().permute(1, 0)  # Permute's backward: a view of Add's array
        s = v + u if view_first else u + v
        (s * lib.tensor(w)).sum().backward()
        results.append((x.grad.detach().numpy(), z.grad.detach().numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("needs", [(True, False), (False, True), (True, True)])
@pytest.mark.parametrize("b_shape", [(3, 4), (4,), ()])
def test_mul_backward_into_a_free_gradient_matches_torch(needs: tuple[bool, bool],
                                                         b_shape: tuple[int, ...]) -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(14)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal(b_shape)
    w = rng.standard_normal((3, 4))
    results = []
    for lib in (mg, torch):
        x = lib.tensor(a, requires_grad=needs[0])
        y = lib.tensor(b, requires_grad=needs[1])
        h = (x * 1.0).relu() if needs[0] else x
        z = h * y
        # z's gradient is the fresh sum of two: free; Add hands one array to both products
        s = z.relu() + (z * lib.tensor(w) + z * lib.tensor(-w)).relu()
        (s * lib.tensor(w)).sum().backward()
        results.append([t.grad.detach().numpy() for t, n in zip((x, y), needs) if n])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=0)


def test_dropout_backward_is_the_mask_times_the_gradient() -> None:
    mg.manual_seed(0)
    x = mg.randn(64, 32, requires_grad=True)
    w = mg.randn(64, 32)
    y = mg.nn.functional.dropout(x * 1.0, 0.5)
    (y * w).sum().backward()
    kept = (y.detach().numpy() != 0) | (x.detach().numpy() == 0)
    np.testing.assert_array_equal(x.grad.numpy(), np.where(kept, 2.0 * w.numpy(), 0.0))


@pytest.mark.parametrize("order", [(0, 1, 2, 3), (2, 3, 0, 1)])
def test_batch_norm_backward_in_place_is_bitwise_the_new_array(
        order: tuple[int, ...], monkeypatch: pytest.MonkeyPatch) -> None:
    a = _layout((8, 3, 5, 5), order).astype(np.float64)
    w = _layout((8, 3, 5, 5), (0, 1, 2, 3), seed=2).astype(np.float64)
    results = []
    for in_place in (False, True):
        monkeypatch.setattr(batchnorm, "BN_IN_PLACE", in_place)
        x = mg.tensor(a, requires_grad=True)
        bn = mg.nn.BatchNorm2d(3).double()
        y = bn(x * 1.0)
        (y.relu() * mg.tensor(w)).sum().backward()  # ReLU's fresh gradient reaches the norm
        results.append([x.grad.numpy(), bn.weight.grad.numpy(), bn.bias.grad.numpy()])
    for plain, fast in zip(*results):
        np.testing.assert_array_equal(plain, fast)
    torch = pytest.importorskip("torch")
    tx = torch.tensor(a, requires_grad=True)
    tbn = torch.nn.BatchNorm2d(3).double()
    (tbn(tx * 1.0).relu() * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(results[1][0], tx.grad.numpy(), rtol=1e-9, atol=1e-12)
