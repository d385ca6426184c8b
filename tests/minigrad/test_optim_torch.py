"""Every optimizer against torch.optim, step by step in float64: two parameter groups with
their own options, weight decay and the non-default switches; state dict layouts; LBFGS with
and without the strong-Wolfe line search."""

import copy

import numpy as np
import pytest

import minigrad as mg
import minigrad.optim as optim

torch = pytest.importorskip("torch")

P0 = np.array([[0.5, -1.5, 2.0], [1.0, 0.25, -0.75]])
P1 = np.array([0.3, -0.8, 1.7, -2.2])
TARGETS = [np.array([[1.0, 2.0, -1.0], [0.5, 0.0, 3.0]]), np.array([-1.0, 0.5, 0.25, 2.0])]
WEIGHTS = [np.array([[1.0, 2.0, 3.0], [0.5, 4.0, 1.5]]), np.array([0.7, 1.3, 2.5, 0.4])]


def quadratic_grad(position, p, step):
    """A smooth gradient that changes from step to step (so sign flips and restarts happen)."""
    return 2 * WEIGHTS[position] * (p - TARGETS[position]) + 0.3 * np.cos(step + p)


CASES = [
    ("SGD", dict(lr=0.05), {}),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.2, weight_decay=0.1), dict(momentum=0.5)),
    ("SGD", dict(lr=0.02, momentum=0.8, nesterov=True, maximize=True), dict(weight_decay=0.3)),
    ("Adam", dict(lr=0.05, amsgrad=True, weight_decay=0.1), dict(betas=(0.8, 0.95))),
    ("Adam", dict(lr=0.05, maximize=True, decoupled_weight_decay=True, weight_decay=0.2), {}),
    ("AdamW", dict(lr=0.05, amsgrad=True), dict(weight_decay=0.5)),
    ("AdamW", dict(lr=0.05, maximize=True, eps=1e-3), {}),
    ("Adadelta", dict(), dict(lr=0.5)),
    ("Adadelta", dict(lr=0.7, rho=0.8, eps=1e-4, weight_decay=0.1, maximize=True), {}),
    ("Adagrad", dict(lr=0.1), {}),
    (
        "Adagrad",
        dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.3),
        dict(eps=1e-3),
    ),
    ("Adagrad", dict(lr=0.1, maximize=True), dict(lr_decay=0.2)),
    ("RMSprop", dict(lr=0.01), {}),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.1), dict(alpha=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True, maximize=True), dict(momentum=0.5)),
    ("Adamax", dict(lr=0.05), {}),
    ("Adamax", dict(lr=0.05, betas=(0.8, 0.9), weight_decay=0.1, maximize=True), {}),
    ("NAdam", dict(lr=0.05, weight_decay=0.1), dict(momentum_decay=0.01)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True), {}),
    ("NAdam", dict(lr=0.05, maximize=True, betas=(0.8, 0.9)), {}),
    ("RAdam", dict(lr=0.05, weight_decay=0.1), dict(betas=(0.9, 0.9))),
    ("RAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, maximize=True), {}),
    ("Rprop", dict(lr=0.05), {}),
    ("Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.1), maximize=True), {}),
    ("ASGD", dict(lr=0.05), {}),
    ("ASGD", dict(lr=0.05, lambd=0.01, alpha=0.6, t0=3, weight_decay=0.1), dict(lr=0.1)),
    ("ASGD", dict(lr=0.05, t0=2, maximize=True), {}),
]


def make_pair(name, kwargs, second_group, dtype=np.float64):
    ours = [mg.tensor(p.astype(dtype), requires_grad=True) for p in (P0, P1)]
    theirs = [torch.tensor(p.astype(dtype), requires_grad=True) for p in (P0, P1)]
    our_opt = getattr(optim, name)(
        [{"params": [ours[0]]}, {"params": [ours[1]], **second_group}], **kwargs
    )
    their_opt = getattr(torch.optim, name)(
        [{"params": [theirs[0]]}, {"params": [theirs[1]], **second_group}],
        foreach=False,
        **kwargs,
    )
    return ours, theirs, our_opt, their_opt


def set_grads(ours, theirs, step):
    for position, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        g = quadratic_grad(position, a._data.astype(np.float64), step)
        a.grad = mg.tensor(g.astype(a._data.dtype))
        b.grad = torch.tensor(g.astype(a._data.dtype))


def as_numpy(value):
    if isinstance(value, mg.Tensor):
        return value._data
    if isinstance(value, torch.Tensor):
        return value.detach().numpy()
    return value


@pytest.mark.parametrize("name,kwargs,second_group", CASES)
def test_optimizer_matches_pytorch_step_by_step(name, kwargs, second_group):
    ours, theirs, our_opt, their_opt = make_pair(name, kwargs, second_group)
    for step in range(10):
        our_opt.zero_grad()
        their_opt.zero_grad()
        set_grads(ours, theirs, step)
        our_opt.step()
        their_opt.step()
        for a, b in zip(ours, theirs, strict=True):
            np.testing.assert_allclose(a._data, b.detach().numpy(), rtol=1e-12, atol=1e-14)
    # Same state entries, holding the same numbers.
    our_state, their_state = our_opt.state_dict(), their_opt.state_dict()
    assert set(our_state["state"]) == set(their_state["state"])
    for index, entries in their_state["state"].items():
        assert set(our_state["state"][index]) == set(entries)
        for key, value in entries.items():
            np.testing.assert_allclose(
                as_numpy(our_state["state"][index][key]), as_numpy(value), rtol=1e-11, atol=1e-14
            )
    for our_group, their_group in zip(
        our_state["param_groups"], their_state["param_groups"], strict=True
    ):
        their_group = dict(their_group, foreach=None)  # we record foreach as given: None
        assert set(our_group) == set(their_group)
        for key, value in their_group.items():
            assert our_group[key] == (tuple(value) if isinstance(value, tuple) else value), key


@pytest.mark.parametrize("name,kwargs,second_group", CASES[::3])
def test_optimizer_matches_pytorch_in_float32(name, kwargs, second_group):
    ours, theirs, our_opt, their_opt = make_pair(name, kwargs, second_group, np.float32)
    for step in range(6):
        set_grads(ours, theirs, step)
        our_opt.step()
        their_opt.step()
    for a, b in zip(ours, theirs, strict=True):
        assert a._data.dtype == np.float32
        np.testing.assert_allclose(a._data, b.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_defaults_match_pytorch():
    for name in optim.__all__:
        if name in ("Optimizer", "lr_scheduler"):
            continue
        ours = getattr(optim, name)([mg.zeros(2, requires_grad=True)]).defaults
        theirs = getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)]).defaults
        assert set(ours) == set(theirs), name
        for key, value in theirs.items():
            assert ours[key] == value, (name, key)


def test_pytorch_state_dict_loads_into_ours():
    """A PyTorch Adam's state dict, converted to minigrad tensors, resumes identically."""
    ours, theirs, our_opt, their_opt = make_pair("Adam", dict(lr=0.05, amsgrad=True), {})
    for step in range(3):
        set_grads(ours, theirs, step)
        their_opt.step()
    for a, b in zip(ours, theirs, strict=True):
        a._data[...] = b.detach().numpy()
    saved = their_opt.state_dict()
    converted = {
        "state": {
            index: {key: mg.tensor(value.numpy().copy()) for key, value in entries.items()}
            for index, entries in saved["state"].items()
        },
        "param_groups": copy.deepcopy(saved["param_groups"]),
    }
    our_opt.load_state_dict(converted)
    for step in range(3, 6):
        set_grads(ours, theirs, step)
        our_opt.step()
        their_opt.step()
        for a, b in zip(ours, theirs, strict=True):
            np.testing.assert_allclose(a._data, b.detach().numpy(), rtol=1e-12, atol=1e-14)


# ------------------------------------------------------------------------------------ LBFGS


def rosenbrock(x):
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


QUAD_A = np.array([[4.0, 1.0, 0.0], [1.0, 3.0, 0.5], [0.0, 0.5, 2.0]])
QUAD_B = np.array([1.0, -2.0, 0.5])


def quadratic(x, lib):
    a = lib.tensor(QUAD_A)
    return 0.5 * (x * (a @ x)).sum() - (lib.tensor(QUAD_B) * x).sum()


@pytest.mark.parametrize(
    "problem,kwargs,calls,rtol",
    [
        ("rosenbrock", dict(max_iter=5), 4, 1e-10),
        ("rosenbrock", dict(max_iter=8, history_size=3, lr=0.5), 3, 1e-10),
        ("rosenbrock", dict(line_search_fn="strong_wolfe", max_iter=6), 4, 1e-9),
        ("rosenbrock", dict(line_search_fn="strong_wolfe", history_size=2, max_iter=5), 3, 1e-9),
        ("quadratic", dict(), 2, 1e-12),
        ("quadratic", dict(line_search_fn="strong_wolfe", tolerance_grad=1e-12), 2, 1e-12),
    ],
)
def test_lbfgs_matches_pytorch(problem, kwargs, calls, rtol):
    x0 = np.array([-1.2, 1.0, -0.5, 0.8]) if problem == "rosenbrock" else np.zeros(3)
    ours = mg.tensor(x0.copy(), requires_grad=True)
    theirs = torch.tensor(x0.copy(), requires_grad=True)
    our_opt = optim.LBFGS([ours], **kwargs)
    their_opt = torch.optim.LBFGS([theirs], **kwargs)

    def closure(x, opt, lib):
        def evaluate():
            opt.zero_grad()
            loss = rosenbrock(x) if problem == "rosenbrock" else quadratic(x, lib)
            loss.backward()
            return loss

        return evaluate

    for _ in range(calls):
        our_loss = our_opt.step(closure(ours, our_opt, mg))
        their_loss = their_opt.step(closure(theirs, their_opt, torch))
        assert float(our_loss) == pytest.approx(their_loss.item(), rel=rtol, abs=1e-14)
        np.testing.assert_allclose(ours._data, theirs.detach().numpy(), rtol=rtol, atol=1e-12)
        our_state, their_state = our_opt.state[ours], their_opt.state[theirs]
        assert our_state["func_evals"] == their_state["func_evals"]
        assert our_state["n_iter"] == their_state["n_iter"]
        assert len(our_state["old_dirs"]) == len(their_state["old_dirs"])
