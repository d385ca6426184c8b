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
                  arrays: list[np.ndarray], seed: int = 0, mg_params: tuple = (),
                  torch_params: tuple = ()) -> None:
    """Compare d/dinputs <grad(f)(inputs) . v, r> between minigrad and PyTorch; the
    parameters (same values on both sides) are differentiated too, not passed to f."""
    rng = np.random.default_rng(seed)
    xs = [mg.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = mg_fn(*xs)
    tout = torch_fn(*ts)
    xs, ts = xs + list(mg_params), ts + list(torch_params)
    arrays = arrays + [p.detach().numpy() for p in torch_params]
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


# ------------------------------------------------------------------ reductions, softmax

REDUCTIONS = {
    "sum_sq": (lambda x: (x.sum(dim=1) ** 2), lambda x: (x.sum(dim=1) ** 2)),
    "mean_keepdim": (lambda x: x * x.mean(dim=0, keepdim=True),
                     lambda x: x * x.mean(dim=0, keepdim=True)),
    "amax": (lambda x: x.amax(dim=1) ** 2, lambda x: x.amax(dim=1) ** 2),
    "max_dim": (lambda x: x.max(dim=0).values ** 2, lambda x: x.max(dim=0).values ** 2),
    "max_all": (lambda x: x.max() * x, lambda x: x.max() * x),
    "min_all": (lambda x: x.min() * x, lambda x: x.min() * x),
    "var": (lambda x: x.var(dim=1), lambda x: x.var(dim=1)),
    "std": (lambda x: x.std(dim=0), lambda x: x.std(dim=0)),
    "logsumexp": (lambda x: x.logsumexp(dim=1), lambda x: x.logsumexp(dim=1)),
    "softmax": (lambda x: F.softmax(x, dim=1), lambda x: TF.softmax(x, dim=1)),
    "softmax_dim0": (lambda x: F.softmax(x, dim=0), lambda x: TF.softmax(x, dim=0)),
    "log_softmax": (lambda x: F.log_softmax(x, dim=1), lambda x: TF.log_softmax(x, dim=1)),
    "norm": (lambda x: x.norm(dim=1), lambda x: x.norm(dim=1)),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reduction_second_derivative_matches_torch(name: str) -> None:
    mg_fn, torch_fn = REDUCTIONS[name]
    _second_order(mg_fn, torch_fn, [_randn(3, 5, seed=3)])


# ------------------------------------------------------------------ shape and indexing

_IDX = np.array([2, 0, 2, 1])

SHAPE = {
    "reshape_permute": (lambda x: (x.reshape(4, 3).permute(1, 0) ** 2),
                        lambda x: (x.reshape(4, 3).permute(1, 0) ** 2)),
    "basic_getitem": (lambda x: x[1:, ::2] ** 3, lambda x: x[1:, ::2] ** 3),
    "int_getitem": (lambda x: x[1] * x[2], lambda x: x[1] * x[2]),
    "advanced_getitem": (lambda x: x[_IDX] ** 2, lambda x: x[torch.tensor(_IDX)] ** 2),
    "mixed_getitem": (lambda x: x[1:, mg.tensor(np.array([3, 0, 3]))] ** 2,
                      lambda x: x[1:, torch.tensor([3, 0, 3])] ** 2),
    "int_and_advanced": (lambda x: x[1, mg.tensor(np.array([3, 3, 0]))] * x[0, :3],
                         lambda x: x[1, torch.tensor([3, 3, 0])] * x[0, :3]),
    "bool_mask": (lambda x: x[x._data > 0] ** 3, lambda x: x[x.detach() > 0] ** 3),
    "gather": (lambda x: x.gather(1, mg.tensor(np.array([[0, 0], [3, 1], [2, 2]]))) ** 2,
               lambda x: x.gather(1, torch.tensor([[0, 0], [3, 1], [2, 2]])) ** 2),
    "cat_pad": (lambda x: mg.cat([x, x * x], dim=0).sin(),
                lambda x: torch.cat([x, x * x], dim=0).sin()),
    "constant_pad": (lambda x: F.pad(x, (1, 2)) ** 2, lambda x: TF.pad(x, (1, 2)) ** 2),
    "expand": (lambda x: x[:, :1].expand(3, 4) * x, lambda x: x[:, :1].expand(3, 4) * x),
    "transpose_matmul": (lambda x: x @ x.T, lambda x: x @ x.T),
}


@pytest.mark.parametrize("name", sorted(SHAPE))
def test_shape_and_indexing_second_derivative_matches_torch(name: str) -> None:
    mg_fn, torch_fn = SHAPE[name]
    _second_order(mg_fn, torch_fn, [_randn(3, 4, seed=4)])


@pytest.mark.parametrize("shapes", [((3, 4), (4, 2)), ((4,), (4, 3)), ((2, 3, 4), (4,)),
                                    ((4,), (4,)), ((2, 3, 4), (2, 4, 5))])
def test_matmul_second_derivative_matches_torch(shapes: tuple) -> None:
    a, b = shapes
    _second_order(lambda x, y: (x @ y) ** 2, lambda x, y: (x @ y) ** 2,
                  [_randn(*a, seed=5), _randn(*b, seed=6)])


def test_linear_second_derivative_matches_torch() -> None:
    _second_order(lambda x, w, b: F.linear(x, w, b).tanh(),
                  lambda x, w, b: TF.linear(x, w, b).tanh(),
                  [_randn(3, 4), _randn(5, 4, seed=1), _randn(5, seed=2)])


LAYOUT = {
    "cumsum": (lambda x: x.cumsum(1) ** 2, lambda x: x.cumsum(1) ** 2),
    "triu": (lambda x: x.triu(1) ** 2, lambda x: x.triu(1) ** 2),
    "tril": (lambda x: x.tril(-1) * x, lambda x: x.tril(-1) * x),
    "roll": (lambda x: x.roll(1, 0) * x, lambda x: x.roll(1, 0) * x),
    "roll_flat": (lambda x: x.roll(2) * x, lambda x: x.roll(2) * x),
    "norm_3": (lambda x: x.norm(p=3, dim=0), lambda x: x.norm(p=3, dim=0)),
}


@pytest.mark.parametrize("name", sorted(LAYOUT))
def test_scan_and_layout_second_derivative_matches_torch(name: str) -> None:
    mg_fn, torch_fn = LAYOUT[name]
    _second_order(mg_fn, torch_fn, [_away_from_zero(3, 4, seed=7)])


# ------------------------------------------------------------------ convolution and pooling

CONV2D = [
    dict(),
    dict(stride=2),
    dict(padding=1),
    dict(padding=(2, 1), dilation=2),
    dict(stride=(2, 1), padding=1, dilation=(1, 2)),
    dict(groups=2),
    dict(groups=2, stride=2, padding=1),
    dict(padding="same"),
    dict(padding="same", dilation=2),
]


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("kwargs", CONV2D, ids=[str(k) for k in CONV2D])
def test_conv2d_second_derivative_matches_torch(kwargs: dict, bias: bool) -> None:
    groups = kwargs.get("groups", 1)
    arrays = [_randn(2, 4, 7, 6, seed=1), _randn(6, 4 // groups, 3, 2, seed=2)]
    if bias:
        arrays.append(_randn(6, seed=3))
    _second_order(lambda x, w, *b: F.conv2d(x, w, *b, **kwargs).tanh(),
                  lambda x, w, *b: TF.conv2d(x, w, *b, **kwargs).tanh(), arrays)


def test_conv2d_large_channel_count_second_derivative_matches_torch() -> None:
    # more than PER_IMAGE_MAX_COLUMNS columns per output pixel: the channel-major kernels
    arrays = [_randn(2, 12, 6, 6, seed=1), _randn(5, 12, 3, 3, seed=2), _randn(5, seed=3)]
    _second_order(lambda x, w, b: F.conv2d(x, w, b, padding=1) ** 2,
                  lambda x, w, b: TF.conv2d(x, w, b, padding=1) ** 2, arrays)


CONV_ND = {
    "conv1d": (lambda x, w: F.conv1d(x, w, stride=2, padding=1),
               lambda x, w: TF.conv1d(x, w, stride=2, padding=1), (2, 3, 9), (4, 3, 3)),
    "conv1d_asymmetric_same": (lambda x, w: F.conv1d(x, w, padding="same"),
                               lambda x, w: TF.conv1d(x, w, padding="same"), (2, 3, 9),
                               (4, 3, 4)),
    "conv3d": (lambda x, w: F.conv3d(x, w, padding=1, dilation=(1, 2, 1)),
               lambda x, w: TF.conv3d(x, w, padding=1, dilation=(1, 2, 1)), (1, 2, 4, 5, 4),
               (3, 2, 2, 2, 2)),
    "conv_transpose1d": (lambda x, w: F.conv_transpose1d(x, w, stride=2, output_padding=1),
                         lambda x, w: TF.conv_transpose1d(x, w, stride=2, output_padding=1),
                         (2, 3, 5), (3, 2, 3)),
    "conv_transpose2d": (lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1, groups=2),
                         lambda x, w: TF.conv_transpose2d(x, w, stride=2, padding=1, groups=2),
                         (2, 4, 4, 3), (4, 3, 3, 3)),
    "conv_transpose3d": (lambda x, w: F.conv_transpose3d(x, w, dilation=2),
                         lambda x, w: TF.conv_transpose3d(x, w, dilation=2), (1, 2, 3, 3, 2),
                         (2, 2, 2, 2, 2)),
}


@pytest.mark.parametrize("name", sorted(CONV_ND))
def test_conv_nd_and_transposed_second_derivative_matches_torch(name: str) -> None:
    mg_fn, torch_fn, x_shape, w_shape = CONV_ND[name]
    _second_order(lambda x, w: mg_fn(x, w).tanh(), lambda x, w: torch_fn(x, w).tanh(),
                  [_randn(*x_shape, seed=1), _randn(*w_shape, seed=2)])


POOLS = {
    "max_2": (lambda x: F.max_pool2d(x, 2), lambda x: TF.max_pool2d(x, 2)),
    "max_3_stride_2_pad": (lambda x: F.max_pool2d(x, 3, 2, padding=1),
                           lambda x: TF.max_pool2d(x, 3, 2, padding=1)),
    "max_overlap_dilated": (lambda x: F.max_pool2d(x, 2, 1, dilation=2),
                            lambda x: TF.max_pool2d(x, 2, 1, dilation=2)),
    "max_ceil": (lambda x: F.max_pool2d(x, 2, ceil_mode=True),
                 lambda x: TF.max_pool2d(x, 2, ceil_mode=True)),
    "avg_2": (lambda x: F.avg_pool2d(x, 2), lambda x: TF.avg_pool2d(x, 2)),
    "avg_3_stride_2_pad": (lambda x: F.avg_pool2d(x, 3, 2, padding=1),
                           lambda x: TF.avg_pool2d(x, 3, 2, padding=1)),
    "avg_exclude_pad": (lambda x: F.avg_pool2d(x, 3, 1, padding=1, count_include_pad=False),
                        lambda x: TF.avg_pool2d(x, 3, 1, padding=1, count_include_pad=False)),
    "avg_ceil": (lambda x: F.avg_pool2d(x, 2, ceil_mode=True),
                 lambda x: TF.avg_pool2d(x, 2, ceil_mode=True)),
}


@pytest.mark.parametrize("name", sorted(POOLS))
def test_pool2d_second_derivative_matches_torch(name: str) -> None:
    mg_fn, torch_fn = POOLS[name]
    # distinct values: no ties for the maximum
    x = np.random.default_rng(8).permutation(2 * 3 * 7 * 7).reshape(2, 3, 7, 7) / 20.0
    _second_order(lambda x: mg_fn(x ** 2).sin(), lambda x: torch_fn(x ** 2).sin(), [x - 2.0])


POOLS_ND = {
    "max_pool1d": (lambda x: F.max_pool1d(x.flatten(2), 3, 2, padding=1),
                   lambda x: TF.max_pool1d(x.flatten(2), 3, 2, padding=1)),
    "max_pool3d": (lambda x: F.max_pool3d(x, 2, 1), lambda x: TF.max_pool3d(x, 2, 1)),
    "avg_pool1d": (lambda x: F.avg_pool1d(x.flatten(2), 3, 2, padding=1),
                   lambda x: TF.avg_pool1d(x.flatten(2), 3, 2, padding=1)),
    "avg_pool3d": (lambda x: F.avg_pool3d(x, 2, 1, padding=1, count_include_pad=False),
                   lambda x: TF.avg_pool3d(x, 2, 1, padding=1, count_include_pad=False)),
    "avg_pool2d_divisor": (lambda x: F.avg_pool2d(x[:, 0], 2, divisor_override=3),
                           lambda x: TF.avg_pool2d(x[:, 0], 2, divisor_override=3)),
    "adaptive_avg_pool2d": (lambda x: F.adaptive_avg_pool2d(x[:, 0], (2, 3)),
                            lambda x: TF.adaptive_avg_pool2d(x[:, 0], (2, 3))),
    "adaptive_avg_pool3d": (lambda x: F.adaptive_avg_pool3d(x, (2, 1, 3)),
                            lambda x: TF.adaptive_avg_pool3d(x, (2, 1, 3))),
    "adaptive_max_pool2d": (lambda x: F.adaptive_max_pool2d(x[:, 0], (2, 3)),
                            lambda x: TF.adaptive_max_pool2d(x[:, 0], (2, 3))),
    "interpolate_bilinear": (
        lambda x: F.interpolate(x[:, 0], scale_factor=2, mode="bilinear"),
        lambda x: TF.interpolate(x[:, 0], scale_factor=2, mode="bilinear")),
    "interpolate_nearest": (lambda x: F.interpolate(x, size=(5, 3, 7)),
                            lambda x: TF.interpolate(x, size=(5, 3, 7))),
    "reflect_pad": (lambda x: F.pad(x[:, 0], (1, 2, 2, 1), mode="reflect"),
                    lambda x: TF.pad(x[:, 0], (1, 2, 2, 1), mode="reflect")),
    "circular_pad": (lambda x: F.pad(x[:, 0], (1, 2, 2, 1), mode="circular"),
                     lambda x: TF.pad(x[:, 0], (1, 2, 2, 1), mode="circular")),
}


@pytest.mark.parametrize("name", sorted(POOLS_ND))
def test_nd_pool_and_resample_second_derivative_matches_torch(name: str) -> None:
    mg_fn, torch_fn = POOLS_ND[name]
    x = np.random.default_rng(9).permutation(2 * 3 * 4 * 4 * 5).reshape(2, 3, 4, 4, 5) / 60.0
    _second_order(lambda x: mg_fn(x ** 2).sin(), lambda x: torch_fn(x ** 2).sin(), [x - 2.0])


# ------------------------------------------------------------------ losses, normalization, RNN

_TARGET = np.array([2, 0, 4, 1])


@pytest.mark.parametrize("kwargs", [dict(), dict(reduction="sum"), dict(label_smoothing=0.1),
                                    dict(reduction="none", ignore_index=0)],
                         ids=["mean", "sum", "smoothing", "none_ignore"])
def test_cross_entropy_second_derivative_matches_torch(kwargs: dict) -> None:
    target = mg.tensor(_TARGET)
    ttarget = torch.tensor(_TARGET)
    _second_order(lambda x: F.cross_entropy(x, target, **kwargs),
                  lambda x: TF.cross_entropy(x, ttarget, **kwargs), [_randn(4, 5, seed=10)])


LOSSES = {
    "mse": (lambda x, y: F.mse_loss(x, y), lambda x, y: TF.mse_loss(x, y)),
    "bce_with_logits": (lambda x, y: F.binary_cross_entropy_with_logits(x, y.sigmoid()),
                        lambda x, y: TF.binary_cross_entropy_with_logits(x, y.sigmoid())),
    "smooth_l1": (lambda x, y: F.smooth_l1_loss(x, y * 3),
                  lambda x, y: TF.smooth_l1_loss(x, y * 3)),
    "kl_div": (lambda x, y: F.kl_div(F.log_softmax(x, 1), F.softmax(y, 1), reduction="batchmean"),
               lambda x, y: TF.kl_div(TF.log_softmax(x, 1), TF.softmax(y, 1),
                                      reduction="batchmean")),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_second_derivative_matches_torch(name: str) -> None:
    mg_fn, torch_fn = LOSSES[name]
    _second_order(mg_fn, torch_fn, [_randn(4, 5, seed=11), _randn(4, 5, seed=12)])


def test_layer_norm_second_derivative_matches_torch() -> None:
    _second_order(lambda x, w, b: F.layer_norm(x, (3, 4), w, b).tanh(),
                  lambda x, w, b: TF.layer_norm(x, (3, 4), w, b).tanh(),
                  [_randn(2, 3, 4, seed=13), _randn(3, 4, seed=14), _randn(3, 4, seed=15)])


def test_batch_norm_training_second_derivative_matches_torch() -> None:
    _second_order(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True).tanh(),
                  lambda x, w, b: TF.batch_norm(x, None, None, w, b, training=True).tanh(),
                  [_randn(4, 3, 2, 2, seed=16), _randn(3, seed=17), _randn(3, seed=18)])


def test_batch_norm_eval_second_derivative_matches_torch() -> None:
    mean, var = _randn(3, seed=19), _positive(3, seed=20)
    _second_order(
        lambda x, w, b: F.batch_norm(x, mg.tensor(mean), mg.tensor(var), w, b).tanh(),
        lambda x, w, b: TF.batch_norm(x, torch.tensor(mean), torch.tensor(var), w, b).tanh(),
        [_randn(4, 3, 2, seed=21), _randn(3, seed=22), _randn(3, seed=23)])


def test_group_norm_second_derivative_matches_torch() -> None:
    _second_order(lambda x, w, b: F.group_norm(x, 2, w, b).sin(),
                  lambda x, w, b: TF.group_norm(x, 2, w, b).sin(),
                  [_randn(2, 4, 3, seed=24), _randn(4, seed=25), _randn(4, seed=26)])


def _copy_parameters(module: Any, tmodule: Any) -> tuple[tuple, tuple]:
    """Load the PyTorch module's float64 parameters into the minigrad module."""
    named = dict(module.named_parameters())
    pairs = [(named[name], p) for name, p in tmodule.named_parameters()]
    for mine, theirs in pairs:
        mine._data[...] = theirs.detach().numpy()
    return tuple(m for m, _ in pairs), tuple(t for _, t in pairs)


def test_lstm_cell_second_derivative_matches_torch() -> None:
    import nn

    torch.manual_seed(0)
    tcell = torch.nn.LSTMCell(3, 4).double()
    cell = nn.LSTMCell(3, 4, dtype=mg.float64)
    params, tparams = _copy_parameters(cell, tcell)

    def mg_fn(x: Any, h: Any, c: Any) -> Any:
        h1, c1 = cell(x, (h, c))
        return h1 * c1

    def torch_fn(x: Any, h: Any, c: Any) -> Any:
        h1, c1 = tcell(x, (h, c))
        return h1 * c1

    _second_order(mg_fn, torch_fn, [_randn(2, 3, seed=27), _randn(2, 4, seed=28),
                                    _randn(2, 4, seed=29)], mg_params=params,
                  torch_params=tparams)


# ------------------------------------------------------------------ a gradient penalty


def _critics() -> tuple[Any, Any]:
    import nn

    torch.manual_seed(1)
    tnet = torch.nn.Sequential(
        torch.nn.Conv2d(2, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(4, 6, 3, stride=1, groups=2), torch.nn.Flatten(),
        torch.nn.Linear(6 * 2 * 2, 1)).double()
    net = nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, stride=1, groups=2), nn.Flatten(), nn.Linear(6 * 2 * 2, 1)).double()
    _copy_parameters(net, tnet)
    return net, tnet


@pytest.mark.parametrize("penalty", ["squared_gradient", "wgan_gp"])
def test_gradient_penalty_through_a_conv_net_matches_torch(penalty: str) -> None:
    net, tnet = _critics()
    x_array = np.random.default_rng(30).standard_normal((3, 2, 8, 8))
    x = mg.tensor(x_array, requires_grad=True)
    tx = torch.tensor(x_array, requires_grad=True)

    def loss(module: Any, inputs: Any, grad_fn: Callable[..., Any]) -> Any:
        (g,) = grad_fn(module(inputs).sum(), inputs)
        if penalty == "squared_gradient":
            return (g ** 2).sum()
        return ((g.flatten(1).norm(dim=1) - 1) ** 2).mean() + module(inputs).mean()

    loss(net, x, lambda y, v: mg.grad(y, v, create_graph=True)).backward()
    assert any(p.grad is not None and p.grad.numpy().any() for p in net.parameters())
    loss(tnet, tx, lambda y, v: torch.autograd.grad(y, v, create_graph=True)).backward()
    if x.grad is None:  # a piecewise-linear net: the gradient does not depend on x
        assert penalty == "squared_gradient" and (tx.grad is None or not tx.grad.any())
    else:
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-7, atol=1e-10)
    for (name, p), tp in zip(net.named_parameters(), tnet.parameters()):
        if p.grad is None:  # PyTorch's is zero: the gradient does not depend on p
            assert tp.grad is None or not tp.grad.any(), name
            continue
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-7, atol=1e-10,
                                   err_msg=name)


def test_third_derivative_of_a_convolution_matches_torch() -> None:
    x_array, w_array = _randn(1, 2, 5, 5, seed=31), _randn(3, 2, 3, 3, seed=32)
    results = []
    for lib, conv in ((mg, F.conv2d), (torch, TF.conv2d)):
        x = lib.tensor(x_array, requires_grad=True)
        w = lib.tensor(w_array, requires_grad=True)
        grad = mg.grad if lib is mg else torch.autograd.grad
        y = (conv(x, w, padding=1) ** 3).sum()
        (gx,) = grad(y, x, create_graph=True)
        (gw,) = grad((gx ** 2).sum(), w, create_graph=True)
        (gx2,) = grad((gw * gw).sum(), x)
        results.append(gx2.detach().numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-7, atol=1e-9)


# ------------------------------------------------------------------ what is not covered


def test_unregistered_primitive_under_create_graph_raises_naming_it() -> None:
    from minigrad.autograd.engine import Primitive

    class Cube(Primitive):
        @staticmethod
        def forward(ctx: Any, a: np.ndarray) -> np.ndarray:
            ctx.save_for_backward(a)
            return a ** 3

        @staticmethod
        def backward(ctx: Any, grad: np.ndarray) -> np.ndarray:
            (a,) = ctx.saved
            return grad * 3 * a * a

    x = mg.tensor(_randn(3), requires_grad=True)
    (g,) = mg.grad(Cube.apply(x).sum(), x)  # first order works
    np.testing.assert_allclose(g.numpy(), 3 * x.detach().numpy() ** 2)
    with pytest.raises(RuntimeError, match="CubeBackward"):
        mg.grad(Cube.apply(x).sum(), x, create_graph=True)


def test_unregistered_builtin_primitive_raises_naming_it() -> None:
    # the CTC loss's second derivative is not supported (nor is it in PyTorch)
    x = mg.tensor(_randn(5, 1, 4), requires_grad=True)
    loss = F.ctc_loss(F.log_softmax(x, 2), mg.tensor(np.array([[1, 2]])), [5], [2])
    with pytest.raises(RuntimeError, match="CTCNegLogLikelihoodBackward"):
        mg.grad(loss, x, create_graph=True)


MORE = {
    "sinc": (lambda x: x.sinc(), lambda x: x.sinc(), _away_from_zero),
    "logit": (lambda x: x.sigmoid().logit(), lambda x: x.sigmoid().logit(), _randn),
    "logit_eps": (lambda x: x.sigmoid().logit(eps=0.2), lambda x: x.sigmoid().logit(eps=0.2),
                  _randn),
    "nan_to_num": (lambda x: x.nan_to_num() ** 2, lambda x: x.nan_to_num() ** 2, _randn),
    "floor_mul": (lambda x: x.floor() * x * x, lambda x: x.floor() * x * x, _randn),
    "remainder": (lambda x: mg.remainder(x * x, x + 3), lambda x: torch.remainder(x * x, x + 3),
                  _randn),
    "fmod": (lambda x: mg.fmod(x * x, x + 3), lambda x: torch.fmod(x * x, x + 3), _randn),
    "diagonal": (lambda x: x.diagonal(1) ** 2, lambda x: x.diagonal(1) ** 2, _randn),
    "diag_embed": (lambda x: mg.diag_embed(x * x, 1), lambda x: torch.diag_embed(x * x, 1),
                   _randn),
    "bce": (lambda x: F.binary_cross_entropy(x.sigmoid(), x.cos().sigmoid()),
            lambda x: TF.binary_cross_entropy(x.sigmoid(), x.cos().sigmoid()), _randn),
    "unfold_fold": (lambda x: F.fold(F.unfold(x.reshape(1, 1, 3, 4) ** 2, 2), (3, 4), 2).sin(),
                    lambda x: TF.fold(TF.unfold(x.reshape(1, 1, 3, 4) ** 2, 2), (3, 4), 2).sin(),
                    _randn),
}


@pytest.mark.parametrize("name", sorted(MORE))
def test_more_second_derivatives_match_torch(name: str) -> None:
    mg_fn, torch_fn, make = MORE[name]
    _second_order(mg_fn, torch_fn, [make(3, 4, seed=33)])


@pytest.mark.parametrize("kwargs", [dict(), dict(padding_idx=1), dict(scale_grad_by_freq=True)],
                         ids=["plain", "padding_idx", "scale_grad_by_freq"])
def test_embedding_second_derivative_matches_torch(kwargs: dict) -> None:
    index = np.array([[1, 3, 1], [0, 2, 3]])
    _second_order(lambda w: F.embedding(mg.tensor(index), w, **kwargs).tanh(),
                  lambda w: TF.embedding(torch.tensor(index), w, **kwargs).tanh(),
                  [_randn(4, 3, seed=34)])


def test_embedding_scale_grad_by_freq_second_derivative_matches_numeric() -> None:
    # the frequency scaling makes the lookup's backward no true adjoint of its forward: the
    # second derivative must still be the exact derivative of the first
    index = mg.tensor(np.array([[1, 3, 1], [0, 2, 3]]))
    rng = np.random.default_rng(35)
    w0, v = rng.standard_normal((4, 3)), rng.standard_normal((2, 3, 3))
    r = rng.standard_normal((4, 3))

    def first(w_array: np.ndarray, create_graph: bool = False) -> Any:
        w = mg.tensor(w_array, requires_grad=True)
        out = F.embedding(index, w, scale_grad_by_freq=True).tanh()
        (g,) = mg.grad(out, w, grad_outputs=mg.tensor(v), create_graph=create_graph)
        return w, (g * mg.tensor(r)).sum()

    w, projected = first(w0, create_graph=True)
    projected.backward()
    numeric = np.zeros_like(w0)
    for i in np.ndindex(w0.shape):
        step = np.zeros_like(w0)
        step[i] = 1e-6
        numeric[i] = (first(w0 + step)[1].item() - first(w0 - step)[1].item()) / 2e-6
    np.testing.assert_allclose(w.grad.numpy(), numeric, rtol=1e-6, atol=1e-8)


def _setitem(x: Any, index: Any, value: Any) -> Any:
    y = x.clone()
    y[index] = value
    return y


WRITES = {
    "setitem_slice": (lambda x: _setitem(x, (slice(1, None), 0), x[0, :2] ** 2) ** 2,
                      lambda x: _setitem(x, (slice(1, None), 0), x[0, :2] ** 2) ** 2),
    "setitem_broadcast": (lambda x: _setitem(x, 1, x[0, 0] * x[2, 1]) * x,
                          lambda x: _setitem(x, 1, x[0, 0] * x[2, 1]) * x),
    "setitem_advanced": (lambda x: _setitem(x, (np.array([0, 2]), np.array([1, 3])),
                                            x[1, :2].exp()) ** 2,
                         lambda x: _setitem(x, (torch.tensor([0, 2]), torch.tensor([1, 3])),
                                            x[1, :2].exp()) ** 2),
    "scatter": (lambda x: x.scatter(1, mg.tensor(np.array([[0, 2], [3, 1], [1, 0]])),
                                    (x * x)[:, 2:]) ** 2,
                lambda x: x.scatter(1, torch.tensor([[0, 2], [3, 1], [1, 0]]),
                                    (x * x)[:, 2:]) ** 2),
}


@pytest.mark.parametrize("name", sorted(WRITES))
def test_indexed_write_second_derivative_matches_torch(name: str) -> None:
    mg_fn, torch_fn = WRITES[name]
    _second_order(mg_fn, torch_fn, [_randn(3, 4, seed=36)])
