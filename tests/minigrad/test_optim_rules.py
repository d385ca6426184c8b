"""Optimizers without PyTorch: each update rule against a plain float64 NumPy transcription of
its published formula, the bookkeeping every optimizer shares (groups, state dicts, maximize,
in-place updates), hyperparameter validation, and L-BFGS on problems with known minima."""

import copy
import inspect
import math
import types

import numpy as np
import pytest

import minigrad as mg
import minigrad.optim as optim

P0 = np.array([[0.5, -1.5, 2.0], [1.0, 0.25, -0.75]])
TARGET = np.array([[1.0, 2.0, -1.0], [0.5, 0.0, 3.0]])
WEIGHTS = np.array([[1.0, 2.0, 3.0], [0.5, 4.0, 1.5]])


def grad_at(p, step):
    """Gradient of a weighted quadratic plus a step-dependent wobble (sign changes happen)."""
    return 2 * WEIGHTS * (p - TARGET) + 0.3 * np.cos(step + p)


def run(make, steps, param=None):
    param = param if param is not None else mg.tensor(P0.copy(), requires_grad=True)
    opt = make([param])
    history = []
    for step in range(steps):
        opt.zero_grad()
        param.grad = mg.tensor(grad_at(param._data, step))
        opt.step()
        history.append(param._data.copy())
    return history, opt, param


def reference(update, state, steps):
    """Apply ``update(p, g, state, t)`` (returning the new p) for ``steps`` steps."""
    p, out = P0.copy(), []
    for step in range(steps):
        p = update(p, grad_at(p, step), state, step + 1)
        out.append(p.copy())
    return out


# ------------------------------------------------------------------- hand-written references


def adadelta_ref(lr, rho, eps, wd):
    def update(p, g, s, t):
        g = g + wd * p
        s["v"] = rho * s.get("v", 0.0) + (1 - rho) * g**2
        delta = np.sqrt(s.get("u", 0.0) + eps) / np.sqrt(s["v"] + eps) * g
        s["u"] = rho * s.get("u", 0.0) + (1 - rho) * delta**2
        return p - lr * delta

    return update


def adagrad_ref(lr, lr_decay, wd, init, eps):
    def update(p, g, s, t):
        g = g + wd * p
        s["sum"] = s.get("sum", init) + g**2
        return p - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(s["sum"]) + eps)

    return update


def rmsprop_ref(lr, alpha, eps, wd, momentum, centered):
    def update(p, g, s, t):
        g = g + wd * p
        s["v"] = alpha * s.get("v", 0.0) + (1 - alpha) * g**2
        if centered:
            s["m"] = alpha * s.get("m", 0.0) + (1 - alpha) * g
            avg = np.sqrt(s["v"] - s["m"] ** 2) + eps
        else:
            avg = np.sqrt(s["v"]) + eps
        if momentum:
            s["b"] = momentum * s.get("b", 0.0) + g / avg
            return p - lr * s["b"]
        return p - lr * g / avg

    return update


def adamax_ref(lr, betas, eps, wd):
    def update(p, g, s, t):
        g = g + wd * p
        s["m"] = betas[0] * s.get("m", 0.0) + (1 - betas[0]) * g
        s["u"] = np.maximum(betas[1] * s.get("u", 0.0), np.abs(g) + eps)
        return p - lr / (1 - betas[0] ** t) * s["m"] / s["u"]

    return update


def nadam_ref(lr, betas, eps, wd, momentum_decay, decoupled):
    beta1, beta2 = betas

    def mu_at(t):
        return beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))

    def update(p, g, s, t):
        if decoupled:
            p = p * (1 - lr * wd)
        else:
            g = g + wd * p
        # The running product is float32, the default scalar dtype (as in PyTorch).
        s["prod"] = np.float32(s.get("prod", np.float32(1.0)) * np.float32(mu_at(t)))
        prod, prod_next = float(s["prod"]), float(s["prod"]) * mu_at(t + 1)
        s["m"] = beta1 * s.get("m", 0.0) + (1 - beta1) * g
        s["v"] = beta2 * s.get("v", 0.0) + (1 - beta2) * g**2
        denom = np.sqrt(s["v"] / (1 - beta2**t)) + eps
        return (
            p
            - lr * (1 - mu_at(t)) / (1 - prod) * g / denom
            - lr * mu_at(t + 1) / (1 - prod_next) * s["m"] / denom
        )

    return update


def radam_ref(lr, betas, eps, wd, decoupled):
    beta1, beta2 = betas
    rho_inf = 2 / (1 - beta2) - 1

    def update(p, g, s, t):
        if decoupled:
            p = p * (1 - lr * wd)
        else:
            g = g + wd * p
        s["m"] = beta1 * s.get("m", 0.0) + (1 - beta1) * g
        s["v"] = beta2 * s.get("v", 0.0) + (1 - beta2) * g**2
        m_hat = s["m"] / (1 - beta1**t)
        rho_t = rho_inf - 2 * t * beta2**t / (1 - beta2**t)
        if rho_t <= 5:
            return p - lr * m_hat
        rect = math.sqrt(
            (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
        )
        return p - lr * m_hat * rect * math.sqrt(1 - beta2**t) / (np.sqrt(s["v"]) + eps)

    return update


def rprop_ref(lr, etas, step_sizes):
    def update(p, g, s, t):
        prev = s.get("prev", np.zeros_like(p))
        size = s.get("size", np.full_like(p, lr))
        product = g * prev
        factor = np.where(product > 0, etas[1], np.where(product < 0, etas[0], 1.0))
        size = np.clip(size * factor, *step_sizes)
        g = np.where(product < 0, 0.0, g)
        s["prev"], s["size"] = g, size
        return p - np.sign(g) * size

    return update


def asgd_ref(lr, lambd, alpha, t0, wd):
    def update(p, g, s, t):
        eta, mu = s.get("eta", np.float32(lr)), s.get("mu", 1.0)
        g = g + wd * p
        p = p * (1 - lambd * float(eta)) - float(eta) * g
        s["ax"] = p.copy() if mu == 1 else s["ax"] + (p - s["ax"]) * float(mu)
        # eta and mu are stored as float32, the default scalar dtype (as in PyTorch).
        s["eta"] = np.float32(lr / (1 + lambd * lr * t) ** alpha)
        s["mu"] = np.float32(1 / max(1, t - t0))
        return p

    return update


RULES = [
    (lambda ps: optim.Adadelta(ps), adadelta_ref(1.0, 0.9, 1e-6, 0.0)),
    (
        lambda ps: optim.Adadelta(ps, lr=0.5, rho=0.7, eps=1e-4, weight_decay=0.1),
        adadelta_ref(0.5, 0.7, 1e-4, 0.1),
    ),
    (lambda ps: optim.Adagrad(ps, lr=0.1), adagrad_ref(0.1, 0.0, 0.0, 0.0, 1e-10)),
    (
        lambda ps: optim.Adagrad(
            ps, lr=0.1, lr_decay=0.1, weight_decay=0.2, initial_accumulator_value=0.5, eps=1e-3
        ),
        adagrad_ref(0.1, 0.1, 0.2, 0.5, 1e-3),
    ),
    (lambda ps: optim.RMSprop(ps), rmsprop_ref(0.01, 0.99, 1e-8, 0.0, 0.0, False)),
    (
        lambda ps: optim.RMSprop(
            ps, lr=0.01, alpha=0.9, weight_decay=0.1, momentum=0.8, centered=True
        ),
        rmsprop_ref(0.01, 0.9, 1e-8, 0.1, 0.8, True),
    ),
    (
        lambda ps: optim.Adamax(ps, lr=0.05, betas=(0.8, 0.9), weight_decay=0.1),
        adamax_ref(0.05, (0.8, 0.9), 1e-8, 0.1),
    ),
    (
        lambda ps: optim.NAdam(ps, lr=0.05, weight_decay=0.1),
        nadam_ref(0.05, (0.9, 0.999), 1e-8, 0.1, 4e-3, False),
    ),
    (
        lambda ps: optim.NAdam(
            ps, lr=0.05, weight_decay=0.1, momentum_decay=0.02, decoupled_weight_decay=True
        ),
        nadam_ref(0.05, (0.9, 0.999), 1e-8, 0.1, 0.02, True),
    ),
    (
        lambda ps: optim.RAdam(ps, lr=0.05, betas=(0.9, 0.9), weight_decay=0.1),
        radam_ref(0.05, (0.9, 0.9), 1e-8, 0.1, False),
    ),
    (
        lambda ps: optim.RAdam(ps, lr=0.05, weight_decay=0.1, decoupled_weight_decay=True),
        radam_ref(0.05, (0.9, 0.999), 1e-8, 0.1, True),
    ),
    (lambda ps: optim.Rprop(ps), rprop_ref(0.01, (0.5, 1.2), (1e-6, 50))),
    (
        lambda ps: optim.Rprop(ps, lr=0.1, etas=(0.3, 1.5), step_sizes=(1e-2, 0.3)),
        rprop_ref(0.1, (0.3, 1.5), (1e-2, 0.3)),
    ),
    (lambda ps: optim.ASGD(ps), asgd_ref(0.01, 1e-4, 0.75, 1e6, 0.0)),
    (
        lambda ps: optim.ASGD(ps, lr=0.05, lambd=0.01, alpha=0.6, t0=3, weight_decay=0.1),
        asgd_ref(0.05, 0.01, 0.6, 3, 0.1),
    ),
]


@pytest.mark.parametrize("make,update", RULES)
def test_update_rule_matches_its_formula(make, update):
    history, opt, param = run(make, 10)
    state = {}
    expected = reference(update, state, 10)
    for ours, theirs in zip(history, expected, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)
    if "ax" in state:  # ASGD's average
        np.testing.assert_allclose(opt.state[param]["ax"]._data, state["ax"], rtol=1e-12)


def test_radam_takes_plain_momentum_steps_until_the_variance_is_tractable():
    history, _, _ = run(lambda ps: optim.RAdam(ps, lr=0.1), 2)
    g = grad_at(P0, 0)
    np.testing.assert_allclose(history[0], P0 - 0.1 * g, rtol=1e-15)  # m_hat = g on step 1


def test_rprop_first_step_moves_every_coordinate_by_lr():
    history, _, _ = run(lambda ps: optim.Rprop(ps, lr=0.25), 1)
    np.testing.assert_allclose(np.abs(history[0] - P0), 0.25, rtol=1e-15)


# ------------------------------------------------------------------ shared bookkeeping

ALL = {
    "SGD": lambda ps, **kw: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True, **kw),
    "Adam": lambda ps, **kw: optim.Adam(ps, lr=0.05, amsgrad=True, **kw),
    "AdamW": lambda ps, **kw: optim.AdamW(ps, lr=0.05, **kw),
    "Adadelta": lambda ps, **kw: optim.Adadelta(ps, weight_decay=0.1, **kw),
    "Adagrad": lambda ps, **kw: optim.Adagrad(ps, lr_decay=0.1, **kw),
    "RMSprop": lambda ps, **kw: optim.RMSprop(ps, momentum=0.5, centered=True, **kw),
    "Adamax": lambda ps, **kw: optim.Adamax(ps, **kw),
    "NAdam": lambda ps, **kw: optim.NAdam(ps, **kw),
    "RAdam": lambda ps, **kw: optim.RAdam(ps, betas=(0.9, 0.9), **kw),
    "Rprop": lambda ps, **kw: optim.Rprop(ps, **kw),
    "ASGD": lambda ps, **kw: optim.ASGD(ps, t0=2, **kw),
}


@pytest.mark.parametrize("name", ALL)
def test_state_dict_round_trip_mid_training_continues_identically(name):
    make = ALL[name]
    full, _, _ = run(make, 6)
    _, opt, param = run(make, 3)
    saved = copy.deepcopy(opt.state_dict())
    resumed = mg.tensor(param._data.copy(), requires_grad=True)
    new_opt = make([resumed])
    new_opt.param_groups[0]["lr"] = 123.0
    new_opt.load_state_dict(saved)
    assert new_opt.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    for step in range(3, 6):
        new_opt.zero_grad()
        resumed.grad = mg.tensor(grad_at(resumed._data, step))
        new_opt.step()
        np.testing.assert_array_equal(resumed._data, full[step])


@pytest.mark.parametrize("name", ["NAdam", "ASGD", "Rprop"])
def test_state_dict_survives_save_and_load(name, tmp_path):
    make = ALL[name]
    full, _, _ = run(make, 5)
    _, opt, param = run(make, 2)
    mg.save({"optim": opt.state_dict(), "param": param._data.copy()}, tmp_path / "o.npz")
    loaded = mg.load(tmp_path / "o.npz")
    resumed = mg.tensor(loaded["param"], requires_grad=True)
    new_opt = make([resumed])
    new_opt.load_state_dict(loaded["optim"])
    for step in range(2, 5):
        resumed.grad = mg.tensor(grad_at(resumed._data, step))
        new_opt.step()
        np.testing.assert_array_equal(resumed._data, full[step])


@pytest.mark.parametrize("name", ALL)
def test_groups_carry_their_own_options_through_state_dicts(name):
    a = mg.tensor(P0.copy(), requires_grad=True)
    b = mg.tensor(P0.copy() * 2, requires_grad=True)
    opt = ALL[name]([{"params": [a]}, {"params": [b], "lr": 0.003, "weight_decay": 0.25}])
    assert opt.param_groups[1]["lr"] == 0.003 and opt.param_groups[1]["weight_decay"] == 0.25
    assert opt.param_groups[1]["maximize"] is False  # the rest from the defaults
    for step in range(2):
        a.grad = mg.tensor(grad_at(a._data, step))
        b.grad = mg.tensor(grad_at(b._data, step))
        opt.step()
    other = ALL[name]([{"params": [mg.zeros(2, 3, requires_grad=True)]},
                       {"params": [mg.zeros(2, 3, requires_grad=True)]}])
    other.load_state_dict(opt.state_dict())
    assert other.param_groups[1]["lr"] == 0.003
    assert other.param_groups[1]["weight_decay"] == 0.25
    assert len(other.state) == len(opt.state)


@pytest.mark.parametrize("name", ALL)
def test_maximize_ascends_exactly_where_minimizing_descends(name):
    up = mg.tensor(P0.copy(), requires_grad=True)
    down = mg.tensor(P0.copy(), requires_grad=True)
    opt_up = ALL[name]([up], maximize=True)
    opt_down = ALL[name]([down])
    for step in range(5):
        g = grad_at(down._data, step)
        down.grad = mg.tensor(g)
        up.grad = mg.tensor(-g)  # the gradient of -f
        opt_down.step()
        opt_up.step()
        np.testing.assert_array_equal(up._data, down._data)


@pytest.mark.parametrize("name", ALL)
def test_step_updates_in_place_and_bumps_the_version(name):
    param = mg.tensor(P0.copy(), requires_grad=True)
    array, version = param._data, param._version.value
    opt = ALL[name]([param])
    ((param - mg.tensor(TARGET)) ** 2).sum().backward()
    opt.step()
    assert param._data is array and param._node is None and param.requires_grad
    assert param._version.value > version
    assert not np.array_equal(array, P0)


@pytest.mark.parametrize("name", ALL)
def test_parameters_without_grad_are_left_alone(name):
    a = mg.tensor(P0.copy(), requires_grad=True)
    b = mg.tensor(P0.copy(), requires_grad=True)
    opt = ALL[name]([a, b])
    a.grad = mg.tensor(grad_at(P0, 0))
    opt.step()
    np.testing.assert_array_equal(b._data, P0)
    assert name == "Adagrad" or b not in opt.state  # Adagrad makes its state up front


@pytest.mark.parametrize("name", ALL)
def test_ignored_pytorch_switches_change_nothing(name):
    kind = type(ALL[name]([mg.zeros(1, requires_grad=True)]))
    accepted = set(inspect.signature(kind.__init__).parameters)
    every = dict(foreach=True, capturable=True, differentiable=True, fused=True)
    switches = {key: value for key, value in every.items() if key in accepted}
    assert switches  # every optimizer but LBFGS takes some of them
    plain, _, _ = run(ALL[name], 4)
    switched, _, _ = run(lambda ps: ALL[name](ps, **switches), 4)
    np.testing.assert_array_equal(plain[-1], switched[-1])


def test_add_param_group_and_named_parameters():
    a = mg.zeros(2, requires_grad=True)
    b = mg.zeros(3, requires_grad=True)
    opt = optim.RMSprop([("weight", a)], lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["weight"]
    opt.add_param_group({"params": b, "momentum": 0.9})
    assert opt.param_groups[1]["lr"] == 0.1 and opt.param_groups[1]["momentum"] == 0.9
    b.grad = mg.ones(3)
    opt.step()
    assert "momentum_buffer" in opt.state[b]
    with pytest.raises(ValueError, match="more than once"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(TypeError, match="ordered collections"):
        optim.Adam([{"params": {a, b}}])
    with pytest.raises(TypeError, match="only optimize Tensors"):
        optim.Adam([np.zeros(2)])


def test_zero_grad_to_zeros_keeps_the_gradient_array():
    param = mg.zeros(3, requires_grad=True)
    opt = optim.Adagrad([param])
    param.grad = mg.ones(3)
    grad_array = param.grad._data
    opt.zero_grad(set_to_none=False)
    assert param.grad._data is grad_array and not grad_array.any()
    opt.zero_grad()
    assert param.grad is None


def test_closure_loss_is_returned_by_every_optimizer():
    for name, make in ALL.items():
        param = mg.tensor(P0.copy(), requires_grad=True)
        opt = make([param])

        def closure(opt=opt, param=param):
            opt.zero_grad()
            loss = ((param - mg.tensor(TARGET)) ** 2).sum()
            loss.backward()
            return loss

        loss = opt.step(closure)
        assert loss.item() == pytest.approx(np.sum((P0 - TARGET) ** 2)), name


# --------------------------------------------------------------------------- validation

NAN = float("nan")

INVALID = [
    (lambda p: optim.Adam(p, lr=NAN), "Adam: invalid learning rate: nan"),
    (lambda p: optim.SGD(p, lr=-0.1), "SGD: invalid learning rate: -0.1"),
    (lambda p: optim.SGD(p, momentum=-0.5), "SGD: invalid momentum value: -0.5"),
    (lambda p: optim.SGD(p, weight_decay=NAN), "SGD: invalid weight_decay value: nan"),
    (lambda p: optim.AdamW(p, eps=-1e-8), "AdamW: invalid epsilon value: -1e-08"),
    (lambda p: optim.Adam(p, betas=(0.9, 1.0)), "invalid beta parameter at index 1: 1.0"),
    (lambda p: optim.Adam(p, betas=(-0.1, 0.9)), "invalid beta parameter at index 0: -0.1"),
    (lambda p: optim.Adam(p, weight_decay=-1), "Adam: invalid weight_decay value: -1"),
    (lambda p: optim.Adadelta(p, rho=1.5), "Adadelta: invalid rho value: 1.5"),
    (lambda p: optim.Adadelta(p, lr=-1), "Adadelta: invalid learning rate: -1"),
    (lambda p: optim.Adagrad(p, lr_decay=-0.1), "Adagrad: invalid lr_decay value: -0.1"),
    (
        lambda p: optim.Adagrad(p, initial_accumulator_value=-1),
        "invalid initial_accumulator_value value: -1",
    ),
    (lambda p: optim.Adagrad(p, eps=NAN), "Adagrad: invalid epsilon value: nan"),
    (lambda p: optim.RMSprop(p, alpha=-0.5), "RMSprop: invalid alpha value: -0.5"),
    (lambda p: optim.RMSprop(p, momentum=-0.5), "RMSprop: invalid momentum value: -0.5"),
    (lambda p: optim.Adamax(p, betas=(1.0, 0.9)), "Adamax: invalid beta parameter at index 0"),
    (lambda p: optim.NAdam(p, momentum_decay=-1), "NAdam: invalid momentum_decay value: -1"),
    (lambda p: optim.RAdam(p, betas=(0.9, NAN)), "RAdam: invalid beta parameter at index 1"),
    (lambda p: optim.Rprop(p, etas=(1.5, 1.2)), "Rprop: invalid eta values: 1.5, 1.2"),
    (lambda p: optim.Rprop(p, lr=-1), "Rprop: invalid learning rate: -1"),
    (lambda p: optim.ASGD(p, weight_decay=-1), "ASGD: invalid weight_decay value: -1"),
    (lambda p: optim.LBFGS(p, lr=-1), "LBFGS: invalid learning rate: -1"),
]


@pytest.mark.parametrize("make,message", INVALID)
def test_invalid_hyperparameters_name_the_argument_and_value(make, message):
    with pytest.raises(ValueError) as error:
        make([mg.zeros(2, requires_grad=True)])
    assert message in str(error.value)


@pytest.mark.parametrize("make,message", INVALID)
def test_pytorch_rejects_the_same_hyperparameters(make, message):
    torch = pytest.importorskip("torch")
    if message.startswith("SGD") and "nan" in message:
        return  # PyTorch's SGD compares with `< 0`, which lets NaN through; minigrad rejects it
    twin = types.FunctionType(make.__code__, dict(make.__globals__, optim=torch.optim))
    with pytest.raises(ValueError):
        twin([torch.zeros(2, requires_grad=True)])


@pytest.mark.parametrize(
    "make",
    [
        lambda p: optim.Adam(p, lr="0.1"),
        lambda p: optim.SGD(p, momentum=None),
        lambda p: optim.RMSprop(p, eps=[1e-8]),
        lambda p: optim.ASGD(p, t0="never"),
    ],
)
def test_non_numeric_hyperparameters_raise_value_and_type_errors(make):
    with pytest.raises(ValueError, match="is not a number") as error:
        make([mg.zeros(2, requires_grad=True)])
    assert isinstance(error.value, TypeError)


def test_lbfgs_rejects_groups_and_unknown_line_searches():
    a, b = mg.zeros(2, requires_grad=True), mg.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="parameter groups"):
        optim.LBFGS([{"params": [a]}, {"params": [b]}])
    with pytest.raises(ValueError, match="strong_wolfe"):
        optim.LBFGS([a], line_search_fn="backtracking")
    with pytest.raises(RuntimeError, match="closure"):
        optim.LBFGS([a]).step()


# -------------------------------------------------------------------------------- L-BFGS

A = np.array([[4.0, 1.0, 0.0], [1.0, 3.0, 0.5], [0.0, 0.5, 2.0]])
B = np.array([1.0, -2.0, 0.5])


def quadratic_closure(opt, x):
    def closure():
        opt.zero_grad()
        loss = 0.5 * (x * (mg.tensor(A) @ x)).sum() - (mg.tensor(B) * x).sum()
        loss.backward()
        return loss

    return closure


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_solves_a_quadratic(line_search_fn):
    x = mg.zeros(3, dtype=mg.float64, requires_grad=True)
    opt = optim.LBFGS(
        [x], line_search_fn=line_search_fn, tolerance_grad=1e-12, tolerance_change=1e-15
    )
    first = opt.step(quadratic_closure(opt, x))
    assert first.item() == 0.0  # the loss before the first iteration
    for _ in range(3):
        opt.step(quadratic_closure(opt, x))
    np.testing.assert_allclose(x._data, np.linalg.solve(A, B), rtol=1e-7)


def test_lbfgs_first_iteration_is_a_scaled_gradient_step():
    x = mg.zeros(3, dtype=mg.float64, requires_grad=True)
    opt = optim.LBFGS([x], lr=0.5, max_iter=1)
    opt.step(quadratic_closure(opt, x))
    g = -B  # the gradient A x - b at x = 0
    expected = -min(1.0, 1.0 / np.abs(g).sum()) * 0.5 * g
    np.testing.assert_allclose(x._data, expected, rtol=1e-15)
    assert opt.state[x]["func_evals"] == 1 and opt.state[x]["n_iter"] == 1


def test_lbfgs_with_strong_wolfe_minimizes_rosenbrock_over_two_tensors():
    x = mg.tensor(np.array([-1.2, 1.0]), requires_grad=True)
    y = mg.tensor(np.array([[-0.5], [0.8]]), requires_grad=True)
    opt = optim.LBFGS(
        [x, y], line_search_fn="strong_wolfe", history_size=10, tolerance_change=1e-14
    )

    def closure():
        opt.zero_grad()
        z = mg.cat([x, y.reshape(2)])
        loss = (100 * (z[1:] - z[:-1] ** 2) ** 2 + (1 - z[:-1]) ** 2).sum()
        loss.backward()
        return loss

    for _ in range(10):
        opt.step(closure)
    np.testing.assert_allclose(x._data, 1.0, atol=1e-6)
    np.testing.assert_allclose(y._data, 1.0, atol=1e-6)
    assert len(opt.state[x]["old_dirs"]) <= 10


def test_lbfgs_state_dict_round_trip_continues_identically():
    def make():
        x = mg.tensor(np.array([3.0, -1.0, 2.0]), requires_grad=True)
        return x, optim.LBFGS([x], max_iter=2, history_size=4)

    x_full, full = make()
    for _ in range(4):
        full.step(quadratic_closure(full, x_full))
    x, opt = make()
    for _ in range(2):
        opt.step(quadratic_closure(opt, x))
    saved = copy.deepcopy(opt.state_dict())
    x_resumed = mg.tensor(x._data.copy(), requires_grad=True)
    resumed = optim.LBFGS([x_resumed], max_iter=2, history_size=4)
    resumed.load_state_dict(saved)
    for _ in range(2):
        resumed.step(quadratic_closure(resumed, x_resumed))
    np.testing.assert_array_equal(x_resumed._data, x_full._data)


def test_every_general_purpose_pytorch_optimizer_and_scheduler_is_here():
    torch = pytest.importorskip("torch")
    missing = set(torch.optim.__all__) - set(optim.__all__)
    # sparse gradients, stochastic weight averaging and the newest optimizers are not provided
    assert missing <= {"SparseAdam", "Adafactor", "Muon", "swa_utils",
                       "swap_in_optimizer_params_and_state"}
    assert set(torch.optim.lr_scheduler.__all__) <= set(optim.lr_scheduler.__all__)
    for name in optim.__all__:
        assert hasattr(optim, name)


def test_state_lookup_of_a_fresh_parameter_is_an_empty_dict():
    param = mg.zeros(2, requires_grad=True)
    opt = optim.Adam([param])
    assert opt.state[param] == {}
    param.grad = mg.ones(2)
    opt.step()  # the empty entry is filled on the first step
    assert set(opt.state[param]) == {"step", "exp_avg", "exp_avg_sq"}
