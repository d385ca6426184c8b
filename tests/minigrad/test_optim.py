"""Optimizers: update rules against hand-written float64 updates, in-place behaviour, state
dicts, and (when installed) step-by-step agreement with PyTorch."""

import copy
import math

import numpy as np
import pytest

import minigrad as mg
import minigrad.optim as optim

P0 = np.array([[0.5, -1.5, 2.0], [1.0, 0.25, -0.75]])
TARGET = np.array([[1.0, 2.0, -1.0], [0.5, 0.0, 3.0]])


def quadratic_grad(p: np.ndarray) -> np.ndarray:
    """Gradient of sum((p - TARGET)**2 * weights): a small problem with unequal curvature."""
    weights = np.array([[1.0, 2.0, 3.0], [0.5, 4.0, 1.5]])
    return 2 * weights * (p - TARGET)


def run(optimizer_class, steps=5, **kwargs):
    param = mg.tensor(P0.copy(), requires_grad=True)
    opt = optimizer_class([param], **kwargs)
    history = []
    for _ in range(steps):
        opt.zero_grad()
        param.grad = mg.tensor(quadratic_grad(param._data))
        opt.step()
        history.append(param._data.copy())
    return history, opt, param


def sgd_reference(steps, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    p, buf, out = P0.copy(), None, []
    for _ in range(steps):
        g = quadratic_grad(p) + weight_decay * p
        if momentum:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
        out.append(p.copy())
    return out


def adam_reference(steps, lr, betas, eps, weight_decay=0.0, amsgrad=False, decoupled=False):
    p = P0.copy()
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    v_max = np.zeros_like(p)
    out = []
    for t in range(1, steps + 1):
        g = quadratic_grad(p)
        if weight_decay and decoupled:
            p = p * (1 - lr * weight_decay)
        elif weight_decay:
            g = g + weight_decay * p
        m = m + (1 - betas[0]) * (g - m)
        v = betas[1] * v + (1 - betas[1]) * g * g
        v_hat = np.maximum(v_max, v) if amsgrad else v
        v_max = v_hat
        denom = np.sqrt(v_hat) / math.sqrt(1 - betas[1] ** t) + eps
        p = p - (lr / (1 - betas[0] ** t)) * m / denom
        out.append(p.copy())
    return out


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(lr=0.05),
        dict(lr=0.05, momentum=0.9),
        dict(lr=0.05, momentum=0.9, dampening=0.3),
        dict(lr=0.05, momentum=0.9, nesterov=True),
        dict(lr=0.05, momentum=0.5, weight_decay=0.1),
        dict(lr=0.02, weight_decay=0.01, momentum=0.8, nesterov=True),
    ],
)
def test_sgd_matches_hand_computed_updates(kwargs):
    history, _, _ = run(optim.SGD, **kwargs)
    for ours, expected in zip(history, sgd_reference(5, **kwargs), strict=True):
        np.testing.assert_allclose(ours, expected, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(lr=0.1),
        dict(lr=0.1, betas=(0.8, 0.99), eps=1e-6),
        dict(lr=0.1, weight_decay=0.1),
        dict(lr=0.1, amsgrad=True),
    ],
)
def test_adam_matches_hand_computed_updates(kwargs):
    history, _, _ = run(optim.Adam, steps=6, **kwargs)
    full = dict(betas=(0.9, 0.999), eps=1e-8) | kwargs
    for ours, expected in zip(history, adam_reference(6, **full), strict=True):
        np.testing.assert_allclose(ours, expected, rtol=1e-13, atol=1e-15)


def test_adamw_matches_hand_computed_updates():
    history, _, _ = run(optim.AdamW, steps=6, lr=0.1, weight_decay=0.5)
    expected = adam_reference(6, 0.1, (0.9, 0.999), 1e-8, weight_decay=0.5, decoupled=True)
    for ours, reference in zip(history, expected, strict=True):
        np.testing.assert_allclose(ours, reference, rtol=1e-13, atol=1e-15)
    assert optim.AdamW([mg.zeros(1, requires_grad=True)]).defaults["weight_decay"] == 1e-2


def test_first_adam_step_moves_each_coordinate_by_lr():
    history, _, _ = run(optim.Adam, steps=1, lr=0.01)
    np.testing.assert_allclose(np.abs(history[0] - P0), 0.01, rtol=1e-6)


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.1),
        lambda ps: optim.Adam(ps, lr=0.1, amsgrad=True),
        lambda ps: optim.AdamW(ps, lr=0.1),
    ],
)
def test_step_updates_in_place_without_graph(make):
    param = mg.tensor(P0.copy(), requires_grad=True)
    array = param._data
    version = param._version.value
    opt = make([param])
    loss = ((param - mg.tensor(TARGET)) ** 2).sum()
    loss.backward()
    opt.step()
    assert param._data is array  # same array, updated in place
    assert param._node is None and param.requires_grad
    assert param._version.value > version
    assert not np.array_equal(array, P0)


def test_parameters_without_grad_are_skipped():
    a = mg.tensor(P0.copy(), requires_grad=True)
    b = mg.tensor(P0.copy(), requires_grad=True)
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = mg.ones(*a.shape, dtype=mg.float64)
    opt.step()
    np.testing.assert_array_equal(b._data, P0)
    assert b not in opt.state


def test_zero_grad_set_to_none_and_to_zero():
    param = mg.tensor(P0.copy(), requires_grad=True)
    opt = optim.SGD([param], lr=0.1)
    param.grad = mg.ones(2, 3, dtype=mg.float64)
    opt.zero_grad(set_to_none=False)
    assert np.all(param.grad._data == 0)
    opt.zero_grad()
    assert param.grad is None


def test_param_groups_with_own_hyperparameters():
    a = mg.zeros(2, requires_grad=True)
    b = mg.zeros(2, requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1, momentum=0.5)
    a.grad = mg.ones(2)
    b.grad = mg.ones(2)
    opt.step()
    np.testing.assert_allclose(a._data, -0.1)
    np.testing.assert_allclose(b._data, -1.0)
    assert opt.param_groups[1]["momentum"] == 0.5


def test_invalid_arguments():
    p = mg.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="learning rate"):
        optim.SGD([p], lr=-1)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="beta parameter at index 0: 1.0"):
        optim.Adam([p], betas=(1.0, 0.9))
    with pytest.raises(ValueError, match="more than once"):
        optim.SGD([p, p], lr=0.1)
    with pytest.raises(ValueError, match="empty"):
        optim.Adam([])
    with pytest.raises(ValueError, match="required optimization parameter lr"):
        optim.Optimizer([p], {"lr": optim.optimizer.required})
    assert optim.SGD([p]).defaults["lr"] == 1e-3  # PyTorch's default since 2.6
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([p * 2], lr=0.1)


def test_closure_is_evaluated_with_grad_enabled():
    param = mg.tensor(P0.copy(), requires_grad=True)
    opt = optim.SGD([param], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = ((param - mg.tensor(TARGET)) ** 2).sum()
        loss.backward()
        return loss

    with mg.no_grad():
        loss = opt.step(closure)
    assert loss.item() == pytest.approx(np.sum((P0 - TARGET) ** 2))


@pytest.mark.parametrize(
    "optimizer_class,kwargs",
    [
        (optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True)),
        (optim.Adam, dict(lr=0.1, amsgrad=True)),
        (optim.AdamW, dict(lr=0.1)),
    ],
)
def test_state_dict_resumes_identically(optimizer_class, kwargs):
    full, _, _ = run(optimizer_class, steps=6, **kwargs)
    _, opt, param = run(optimizer_class, steps=3, **kwargs)
    saved_state = copy.deepcopy(opt.state_dict())
    saved_param = param._data.copy()

    resumed = mg.tensor(saved_param, requires_grad=True)
    new_opt = optimizer_class([resumed], **(kwargs | {"lr": 123.0}))
    new_opt.load_state_dict(saved_state)
    assert new_opt.param_groups[0]["lr"] == kwargs["lr"]
    for step in range(3, 6):
        new_opt.zero_grad()
        resumed.grad = mg.tensor(quadratic_grad(resumed._data))
        new_opt.step()
        np.testing.assert_array_equal(resumed._data, full[step])


def test_state_dict_format_is_pytorch_like():
    history, opt, param = run(optim.Adam, steps=2, lr=0.1)
    state = opt.state_dict()
    assert state["param_groups"][0]["params"] == [0]
    assert state["param_groups"][0]["betas"] == (0.9, 0.999)
    assert set(state["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
    assert state["state"][0]["step"] == 2


def test_load_state_dict_rejects_mismatched_groups():
    _, opt, _ = run(optim.SGD, steps=1, lr=0.1, momentum=0.9)
    other = optim.SGD([mg.zeros(1, requires_grad=True), mg.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="parameter group 0 has 1 parameters"):
        other.load_state_dict(opt.state_dict())


def test_float32_parameters_stay_float32():
    param = mg.tensor(P0.astype(np.float32), requires_grad=True)
    for make in (lambda: optim.SGD([param], lr=0.1, momentum=0.9), lambda: optim.Adam([param])):
        opt = make()
        param.grad = mg.tensor(quadratic_grad(param._data).astype(np.float32))
        opt.step()
        assert param._data.dtype == np.float32
        assert all(
            v._data.dtype == np.float32
            for v in opt.state[param].values()
            if isinstance(v, mg.Tensor)
        )


# ----------------------------------------------------------------------------- PyTorch


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("SGD", dict(lr=0.05)),
        ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01)),
        ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
        ("Adam", dict(lr=0.05)),
        ("Adam", dict(lr=0.05, betas=(0.8, 0.95), weight_decay=0.1, amsgrad=True)),
        ("AdamW", dict(lr=0.05, weight_decay=0.3)),
        ("AdamW", dict(lr=0.05, amsgrad=True)),
    ],
)
def test_optimizers_match_pytorch_step_by_step(name, kwargs):
    torch = pytest.importorskip("torch")
    ours = mg.tensor(P0.copy(), requires_grad=True)
    theirs = torch.tensor(P0.copy(), requires_grad=True)
    our_opt = getattr(optim, name)([ours], **kwargs)
    their_opt = getattr(torch.optim, name)([theirs], foreach=False, **kwargs)
    for _ in range(10):
        our_opt.zero_grad()
        their_opt.zero_grad()
        ours.grad = mg.tensor(quadratic_grad(ours._data))
        theirs.grad = torch.tensor(quadratic_grad(theirs.detach().numpy()))
        our_opt.step()
        their_opt.step()
        np.testing.assert_allclose(ours._data, theirs.detach().numpy(), rtol=1e-13, atol=1e-14)
