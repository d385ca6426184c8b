"""Second derivatives against PyTorch, in float64, op family by op family.

Each case computes g = grad(f(inputs), inputs, grad_outputs=v, create_graph=True), then
backward of a random projection sum(g_i * r_i), and compares every input's .grad with PyTorch
doing the same (the Hessian-vector products of f).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _second_order(mg_fn: Callable[..., Any], torch_fn: Callable[..., Any],
                  arrays: list[np.ndarray], seed: int = 0) -> None:
    """Compare d/dinputs <grad(f)(inputs) . v, r> between minigrad and PyTorch."""
    rng = np.random.default_rng(seed)
    xs = [mg.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = mg_fn(*xs)
    tout = torch_fn(*ts)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-9, atol=1e-9)
    v = rng.standard_normal(out.shape)
    gs = mg.grad(out, xs, grad_outputs=mg.tensor(v), create_graph=True, allow_unused=True)
    tgs = torch.autograd.grad(tout, ts, grad_outputs=torch.tensor(v), create_graph=True,
                              allow_unused=True)
    total = None
    ttotal = None
    for g, tg, a in zip(gs, tgs, arrays):
        r = rng.standard_normal(a.shape)
        if tg is None or not tg.requires_grad:
            continue
        assert g is not None
        np.testing.assert_allclose(g.detach().numpy(), tg.detach().numpy(), rtol=1e-6,
                                   atol=1e-9)
        term = (g * mg.tensor(r)).sum()
        tterm = (tg * torch.tensor(r)).sum()
        total = term if total is None else total + term
        ttotal = tterm if ttotal is None else ttotal + tterm
    assert total is not None, "the function is linear: no second derivative to compare"
    total.backward()
    ttotal.backward()
    for x, t in zip(xs, ts):
        if t.grad is None:
            assert x.grad is None or not np.any(x.grad.numpy())
            continue
        assert x.grad is not None
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-7, atol=1e-9)


def _randn(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def _positive(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0.5, 2.0, shape)


def _unit(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-0.8, 0.8, shape)


def _away_from_zero(*shape: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform(0.3, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


# ------------------------------------------------------------------ elementwise

UNARY = {
    "exp": (lambda x: x.exp(), lambda x: x.exp(), _randn),
    "log": (lambda x: x.log(), lambda x: x.log(), _positive),
    "sqrt": (lambda x: x.sqrt(), lambda x: x.sqrt(), _positive),
    "rsqrt": (lambda x: x.rsqrt(), lambda x: x.rsqrt(), _positive),
    "sin": (lambda x: x.sin(), lambda x: x.sin(), _randn),
    "cos": (lambda x: x.cos(), lambda x: x.cos(), _randn),
    "tan": (lambda x: x.tan(), lambda x: x.tan(), _unit),
    "tanh": (lambda x: x.tanh(), lambda x: x.tanh(), _randn),
    "sigmoid": (lambda x: x.sigmoid(), lambda x: x.sigmoid(), _randn),
    "relu_times_x": (lambda x: F.relu(x) * x, lambda x: TF.relu(x) * x, _away_from_zero),
    "leaky_relu_sq": (lambda x: F.leaky_relu(x, 0.1) ** 2, lambda x: TF.leaky_relu(x, 0.1) ** 2,
                      _away_from_zero),
    "abs_cube": (lambda x: x.abs() ** 3, lambda x: x.abs() ** 3, _away_from_zero),
    "clamp_sq": (lambda x: x.clamp(-0.5, 0.7) ** 2, lambda x: x.clamp(-0.5, 0.7) ** 2,
                 _away_from_zero),
    "pow_scalar": (lambda x: x ** 3.5, lambda x: x ** 3.5, _positive),
    "square": (lambda x: x ** 2, lambda x: x ** 2, _randn),
    "reciprocal": (lambda x: x.reciprocal(), lambda x: x.reciprocal(), _positive),
    "asin": (lambda x: x.asin(), lambda x: x.asin(), _unit),
    "acos": (lambda x: x.acos(), lambda x: x.acos(), _unit),
    "atan": (lambda x: x.atan(), lambda x: x.atan(), _randn),
    "sinh": (lambda x: x.sinh(), lambda x: x.sinh(), _randn),
    "cosh": (lambda x: x.cosh(), lambda x: x.cosh(), _randn),
    "asinh": (lambda x: x.asinh(), lambda x: x.asinh(), _randn),
    "atanh": (lambda x: x.atanh(), lambda x: x.atanh(), _unit),
    "log2": (lambda x: x.log2(), lambda x: x.log2(), _positive),
    "log10": (lambda x: x.log10(), lambda x: x.log10(), _positive),
    "log1p": (lambda x: x.log1p(), lambda x: x.log1p(), _positive),
    "expm1": (lambda x: x.expm1(), lambda x: x.expm1(), _randn),
    "exp2": (lambda x: x.exp2(), lambda x: x.exp2(), _randn),
    "erf": (lambda x: x.erf(), lambda x: x.erf(), _randn),
    "erfc": (lambda x: x.erfc(), lambda x: x.erfc(), _randn),
    "erfinv": (lambda x: x.erfinv(), lambda x: x.erfinv(), _unit),
    "gelu": (lambda x: F.gelu(x), lambda x: TF.gelu(x), _randn),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"),
                  lambda x: TF.gelu(x, approximate="tanh"), _randn),
    "silu": (lambda x: F.silu(x), lambda x: TF.silu(x), _randn),
    "softplus": (lambda x: F.softplus(x, beta=2.0), lambda x: TF.softplus(x, beta=2.0), _randn),
    "logsigmoid": (lambda x: F.logsigmoid(x), lambda x: TF.logsigmoid(x), _randn),
    "elu": (lambda x: F.elu(x), lambda x: TF.elu(x), _away_from_zero),
    "selu": (lambda x: F.selu(x), lambda x: TF.selu(x), _away_from_zero),
    "celu": (lambda x: F.celu(x, 0.7), lambda x: TF.celu(x, 0.7), _away_from_zero),
    "mish": (lambda x: F.mish(x), lambda x: TF.mish(x), _randn),
    "hardtanh_sq": (lambda x: F.hardtanh(x, -0.5, 0.6) ** 2,
                    lambda x: TF.hardtanh(x, -0.5, 0.6) ** 2, _away_from_zero),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_second_derivative_matches_torch(name: str) -> None:
    mg_fn, torch_fn, make = UNARY[name]
    _second_order(mg_fn, torch_fn, [make(3, 4)])


BINARY = {
    "add_mul": (lambda a, b: (a + b) * a, lambda a, b: (a + b) * a, _randn, _randn),
    "sub_mul": (lambda a, b: (a - b) * b, lambda a, b: (a - b) * b, _randn, _randn),
    "mul": (lambda a, b: a * b, lambda a, b: a * b, _randn, _randn),
    "div": (lambda a, b: a / b, lambda a, b: a / b, _randn, _positive),
    "pow": (lambda a, b: a ** b, lambda a, b: a ** b, _positive, _randn),
    "maximum": (lambda a, b: mg.maximum(a, b) ** 2, lambda a, b: torch.maximum(a, b) ** 2,
                _randn, _randn),
    "minimum": (lambda a, b: mg.minimum(a, b) ** 2, lambda a, b: torch.minimum(a, b) ** 2,
                _randn, _randn),
    "where": (lambda a, b: mg.where(a > 0, a * b, b * b), lambda a, b: torch.where(
        a > 0, a * b, b * b), _randn, _randn),
    "atan2": (lambda a, b: mg.atan2(a, b), lambda a, b: torch.atan2(a, b), _randn,
              _away_from_zero),
    "hypot": (lambda a, b: mg.hypot(a, b), lambda a, b: torch.hypot(a, b), _randn, _randn),
    "logaddexp": (lambda a, b: mg.logaddexp(a, b), lambda a, b: torch.logaddexp(a, b), _randn,
                  _randn),
    "xlogy": (lambda a, b: mg.xlogy(a, b), lambda a, b: torch.xlogy(a, b), _randn, _positive),
    "lerp": (lambda a, b: mg.lerp(a, b, a * b), lambda a, b: torch.lerp(a, b, a * b), _randn,
             _randn),
    "broadcast_mul": (lambda a, b: a * b[0] * a, lambda a, b: a * b[0] * a, _randn, _randn),
}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_second_derivative_matches_torch(name: str) -> None:
    mg_fn, torch_fn, make_a, make_b = BINARY[name]
    _second_order(mg_fn, torch_fn, [make_a(3, 4, seed=1), make_b(3, 4, seed=2)])
