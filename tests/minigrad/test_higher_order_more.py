"""Second derivatives against PyTorch, in float64: products and scans, einsum, scatter_reduce,
unpooling and windows, embedding bags, distances, decompositions and the fused recurrent
layers (a gradient penalty through RNN, LSTM and GRU modules).

Where PyTorch has no second derivative of its own op (cdist, embedding_bag) the reference is
the same function written from PyTorch ops that have one.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_higher_order_ops import _copy_parameters, _randn, _second_order

import minigrad as mg
import minigrad.functional as F
from minigrad.testing import assert_grad_matches_numeric

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _with_zeros(*shape: int, seed: int = 0, at: tuple = (3,)) -> np.ndarray:
    a = _randn(*shape, seed=seed)
    a.flat[list(at)] = 0.0
    return a


# ------------------------------------------------------------------ products and scans

SCANS = {
    "prod_dim": (lambda x: x.prod(1), lambda x: x.prod(1), _randn(3, 4)),
    "prod_all": (lambda x: x.prod(), lambda x: x.prod(), _randn(2, 3)),
    "prod_keepdim": (lambda x: x.prod(0, keepdim=True), lambda x: x.prod(0, keepdim=True),
                     _randn(3, 4)),
    "prod_one_zero": (lambda x: x.prod(1), lambda x: x.prod(1), _with_zeros(3, 4)),
    "prod_two_zeros": (lambda x: x.prod(1), lambda x: x.prod(1), _with_zeros(3, 4, at=(1, 3))),
    "cumprod": (lambda x: x.cumprod(1), lambda x: x.cumprod(1), _randn(3, 4)),
    "cumprod_dim0": (lambda x: x.cumprod(0).sin(), lambda x: x.cumprod(0).sin(), _randn(3, 4)),
    "cumprod_one_zero": (lambda x: x.cumprod(1), lambda x: x.cumprod(1), _with_zeros(3, 4)),
    "cumprod_two_zeros": (lambda x: x.cumprod(1), lambda x: x.cumprod(1),
                          _with_zeros(3, 4, at=(5, 7))),
    "logcumsumexp": (lambda x: x.logcumsumexp(1), lambda x: x.logcumsumexp(1), _randn(3, 4)),
    "logcumsumexp_large": (lambda x: (x * 30).logcumsumexp(0), lambda x: (x * 30).logcumsumexp(0),
                           _randn(3, 4)),
    "median_all": (lambda x: (x * x).median() * x, lambda x: (x * x).median() * x, _randn(3, 4)),
}


@pytest.mark.parametrize("name", sorted(SCANS))
def test_product_and_scan_second_derivative_matches_torch(name: str) -> None:
    mg_fn, torch_fn, x = SCANS[name]
    _second_order(mg_fn, torch_fn, [x])


@settings(deadline=None, max_examples=10)
@given(st.integers(1, 4), st.integers(1, 5), st.integers(0, 2), st.integers(0, 1000))
def test_cumprod_and_prod_second_derivative_matches_numeric(rows: int, cols: int, zeros: int,
                                                            seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.5, 1.5, (rows, cols)) * rng.choice([-1.0, 1.0], (rows, cols))
    x.flat[rng.choice(x.size, min(zeros, x.size), replace=False)] = 0.0
    for fn in (lambda t: t.cumprod(1), lambda t: t.prod(1), lambda t: t.prod()):
        assert mg.gradgradcheck(fn, [mg.tensor(x, requires_grad=True)])


# ------------------------------------------------------------------ einsum

EINSUMS = {
    "matmul": ("ij,jk->ik", [(3, 4), (4, 2)]),
    "trace": ("ii->", [(3, 3)]),
    "diagonal": ("ii->i", [(3, 3)]),
    "repeated_with_other": ("iij,jk->ik", [(3, 3, 2), (2, 4)]),
    "bilinear": ("bi,ij,bj->b", [(2, 3), (3, 4), (2, 4)]),
    "summed_away": ("i,j->", [(3,), (4,)]),
    "ellipsis": ("...ij,...jk->...ik", [(2, 3, 4), (2, 4, 3)]),
}


@pytest.mark.parametrize("name", sorted(EINSUMS))
def test_einsum_second_derivative_matches_torch(name: str) -> None:
    equation, shapes = EINSUMS[name]
    arrays = [_randn(*s, seed=i) for i, s in enumerate(shapes)]
    _second_order(lambda *xs: mg.einsum(equation, *xs).sin(),
                  lambda *xs: torch.einsum(equation, *xs).sin(), arrays)


def test_einsum_of_one_tensor_twice_second_derivative_matches_torch() -> None:
    _second_order(lambda x: mg.einsum("ij,ij->i", x, x).sin(),
                  lambda x: torch.einsum("ij,ij->i", x, x).sin(), [_randn(3, 4)])


# ------------------------------------------------------------------ scatter_reduce, index_put

_SCATTER_INDEX = np.array([[0, 1, 0], [1, 1, 0]])


@pytest.mark.parametrize("zeros", [False, True], ids=["nonzero", "zeros"])
@pytest.mark.parametrize("include_self", [True, False], ids=["self", "no_self"])
@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
def test_scatter_reduce_second_derivative_matches_torch(reduce: str, include_self: bool,
                                                        zeros: bool) -> None:
    a, src = _randn(2, 4, seed=1), _randn(2, 3, seed=2)
    if zeros:  # prod: one zero contribution to out[0, 0] and one to out[1, 1]
        src[0, 0] = 0.0
        a[1, 1] = 0.0
    index, tindex = mg.tensor(_SCATTER_INDEX), torch.tensor(_SCATTER_INDEX)

    def values(s: Any) -> Any:
        return s if reduce == "prod" else s * s

    _second_order(
        lambda a, s: a.scatter_reduce(1, index, values(s), reduce, include_self=include_self)
        .sin(),
        lambda a, s: a.scatter_reduce(1, tindex, values(s), reduce, include_self=include_self)
        .sin(),
        [a, src])


@pytest.mark.parametrize("include_self", [True, False], ids=["self", "no_self"])
def test_scatter_reduce_prod_with_two_zeros_second_derivative_matches_numeric(
        include_self: bool) -> None:
    # PyTorch refuses this case (two zeros scattered to one position); the product of the
    # other contributions keeps it exact
    a, src = _randn(2, 4, seed=1), _randn(2, 3, seed=2)
    src[0, 0] = src[0, 2] = 0.0
    a[0, 0] = 0.0
    index = mg.tensor(_SCATTER_INDEX)
    assert mg.gradgradcheck(
        lambda a, s: a.scatter_reduce(1, index, s, "prod", include_self=include_self),
        [mg.tensor(a, requires_grad=True), mg.tensor(src, requires_grad=True)])


def test_index_put_accumulate_second_derivative_matches_torch() -> None:
    rows, cols = np.array([0, 2, 0]), np.array([1, 3, 1])
    _second_order(
        lambda x: x.index_put((mg.tensor(rows), mg.tensor(cols)), x[1, :3] ** 2,
                              accumulate=True) ** 2,
        lambda x: x.index_put((torch.tensor(rows), torch.tensor(cols)), x[1, :3] ** 2,
                              accumulate=True) ** 2,
        [_randn(3, 4)])


# ------------------------------------------------------------------ unpooling and windows

WINDOWS = {
    "max_unpool2d": (lambda x: F.max_unpool2d(*F.max_pool2d(x * x, 2, return_indices=True), 2),
                     lambda x: TF.max_unpool2d(*TF.max_pool2d(x * x, 2, return_indices=True),
                                               2)),
    "max_unpool1d": (
        lambda x: F.max_unpool1d(*F.max_pool1d(x.flatten(2) ** 2, 3, return_indices=True), 3),
        lambda x: TF.max_unpool1d(*TF.max_pool1d(x.flatten(2) ** 2, 3, return_indices=True),
                                  3)),
    "unfold_overlapping": (lambda x: x.unfold(3, 3, 2) ** 2, lambda x: x.unfold(3, 3, 2) ** 2),
    "unfold_dim2": (lambda x: x.unfold(2, 2, 1) ** 3, lambda x: x.unfold(2, 2, 1) ** 3),
}


@pytest.mark.parametrize("name", sorted(WINDOWS))
def test_unpool_and_unfold_second_derivative_matches_torch(name: str) -> None:
    mg_fn, torch_fn = WINDOWS[name]
    # distinct values: no ties for the maximum
    x = np.random.default_rng(3).permutation(2 * 2 * 6 * 6).reshape(2, 2, 6, 6) / 20.0 - 1.0
    _second_order(lambda x: mg_fn(x).sin(), lambda x: torch_fn(x).sin(), [x])


# ------------------------------------------------------------------ embedding_bag

_BAG_INDEX = np.array([1, 2, 0, 3, 1, 2, 4])
_BAG_OFFSETS = np.array([0, 3, 3, 5])  # the second bag is empty


def _torch_embedding_bag(weight: Any, mode: str, per_sample_weights: Any = None,
                         padding_idx: int | None = None) -> Any:
    """embedding_bag from lookups and reductions (PyTorch's own has no second derivative)."""
    ends = list(_BAG_OFFSETS[1:]) + [len(_BAG_INDEX)]
    bags = []
    for start, end in zip(_BAG_OFFSETS, ends):
        kept = [i for i in range(start, end) if _BAG_INDEX[i] != padding_idx]
        if not kept:
            bags.append(torch.zeros(weight.shape[1], dtype=weight.dtype))
            continue
        rows = weight[torch.tensor(_BAG_INDEX[kept])]
        if per_sample_weights is not None:
            rows = rows * per_sample_weights[torch.tensor(kept)][:, None]
        bags.append({"sum": rows.sum(0), "mean": rows.mean(0)}.get(mode) if mode != "max"
                    else rows.max(0).values)
    return torch.stack(bags)


@pytest.mark.parametrize("padding_idx", [None, 2], ids=["plain", "padding_idx"])
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_second_derivative_matches_torch(mode: str, padding_idx: Any) -> None:
    index, offsets = mg.tensor(_BAG_INDEX), mg.tensor(_BAG_OFFSETS)
    _second_order(
        lambda w: F.embedding_bag(index, w * w, offsets, mode=mode, padding_idx=padding_idx)
        .tanh(),
        lambda w: _torch_embedding_bag(w * w, mode, padding_idx=padding_idx).tanh(),
        [_randn(5, 3)])


def test_embedding_bag_per_sample_weights_second_derivative_matches_torch() -> None:
    index, offsets = mg.tensor(_BAG_INDEX), mg.tensor(_BAG_OFFSETS)
    _second_order(
        lambda w, p: F.embedding_bag(index, w, offsets, mode="sum", per_sample_weights=p)
        .tanh(),
        lambda w, p: _torch_embedding_bag(w, "sum", p).tanh(),
        [_randn(5, 3), _randn(7, seed=3)])


def test_embedding_bag_scale_grad_by_freq_second_derivative_raises() -> None:
    # the scaled gradient is no derivative of the output, and with bags no second
    # derivative of it can be recorded exactly: a clear error, not a wrong number
    w = mg.tensor(_randn(5, 3), requires_grad=True)

    def loss() -> Any:
        return F.embedding_bag(mg.tensor(_BAG_INDEX), w, mg.tensor(_BAG_OFFSETS),
                               scale_grad_by_freq=True).tanh().sum()

    (g,) = mg.grad(loss(), w)  # first order works
    assert g.shape == w.shape
    with pytest.raises(RuntimeError, match="EmbeddingBagBackward.*scale_grad_by_freq"):
        mg.grad(loss(), w, create_graph=True)


# ------------------------------------------------------------------ cdist


def _torch_cdist(x1: Any, x2: Any, p: float) -> Any:
    """cdist from the norm of the differences (PyTorch's own has no second derivative)."""
    return torch.linalg.vector_norm(x1[..., :, None, :] - x2[..., None, :, :], ord=p, dim=-1)


@pytest.mark.parametrize("p", [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, float("inf")])
def test_cdist_second_derivative_matches_torch(p: float) -> None:
    _second_order(lambda a, b: mg.cdist(a, b, p=p).sin() * a.sum(),
                  lambda a, b: _torch_cdist(a, b, p).sin() * a.sum(),
                  [_randn(2, 3, 4), _randn(2, 5, 4, seed=1)])


@pytest.mark.parametrize("p", [1.5, 2.0, 3.0])
def test_cdist_second_derivative_at_zero_distances_is_finite(p: float) -> None:
    x = mg.tensor(_randn(4, 3), requires_grad=True)
    (g,) = mg.grad(mg.cdist(x, x, p=p).sum(), x, create_graph=True)
    (g ** 2).sum().backward()
    assert np.isfinite(x.grad.numpy()).all()


# ------------------------------------------------------------------ decompositions

DECOMPOSITIONS = {
    "svdvals_tall": (lambda a: mg.linalg.svdvals(a) ** 3, lambda a: torch.linalg.svdvals(a) ** 3,
                     [_randn(4, 3)]),
    "svdvals_wide_batched": (lambda a: mg.linalg.svdvals(a).exp(),
                             lambda a: torch.linalg.svdvals(a).exp(), [_randn(2, 3, 5)]),
    "svdvals_square": (lambda a: mg.linalg.svdvals(a * a), lambda a: torch.linalg.svdvals(a * a),
                       [_randn(3, 3)]),
    "det": (lambda a: mg.linalg.det(a), lambda a: torch.linalg.det(a), [_randn(2, 3, 3)]),
    "det_squared": (lambda a: mg.linalg.det(a) ** 2, lambda a: torch.linalg.det(a) ** 2,
                    [_randn(3, 3, seed=4)]),
    "inv": (lambda a: mg.linalg.inv(a), lambda a: torch.linalg.inv(a), [_randn(2, 3, 3)]),
    "solve": (lambda a, b: mg.linalg.solve(a, b), lambda a, b: torch.linalg.solve(a, b),
              [_randn(3, 3), _randn(3, 2, seed=1)]),
    "solve_vectors": (lambda a, b: mg.linalg.solve(a, b), lambda a, b: torch.linalg.solve(a, b),
                      [_randn(2, 3, 3), _randn(2, 3, seed=1)]),
}


@pytest.mark.parametrize("name", sorted(DECOMPOSITIONS))
def test_decomposition_second_derivative_matches_torch(name: str) -> None:
    mg_fn, torch_fn, arrays = DECOMPOSITIONS[name]
    _second_order(mg_fn, torch_fn, arrays)


def test_det_of_a_singular_matrix_second_derivative_matches_torch() -> None:
    a = _randn(3, 3)
    a[2] = a[0] + 2 * a[1]
    _second_order(lambda a: mg.linalg.det(a), lambda a: torch.linalg.det(a), [a])


@settings(deadline=None, max_examples=10)
@given(st.sampled_from([(3, 3), (4, 2), (2, 4), (2, 3, 2)]), st.integers(0, 1000))
def test_svd_factors_grad_matches_numeric(shape: tuple, seed: int) -> None:
    from minigrad.ops.decomposition import svd_factors

    rng = np.random.default_rng(seed)
    k = min(shape[-2:])
    batch = shape[:-2]
    weights = mg.tensor(rng.standard_normal(batch + (1, k)))
    on_u = mg.tensor(rng.standard_normal(batch + (shape[-2], k)))
    on_v = mg.tensor(rng.standard_normal(batch + (k, shape[-1])))
    on_a = mg.tensor(rng.standard_normal(shape))

    def gauge_invariant(a: Any) -> Any:  # unchanged when a singular pair flips sign
        u, s, vh = svd_factors(a)
        return (((u * s.unsqueeze(-2) * weights) @ vh * on_a).sum() + (u * u * on_u).sum()
                + (vh * vh * on_v).sum() + (s ** 2).sum())

    assert_grad_matches_numeric(gauge_invariant, rng.standard_normal(shape))


# ------------------------------------------------------------------ recurrent layers

RECURRENT = {
    "rnn_tanh": ("RNN", {}),
    "rnn_relu_2_layers": ("RNN", dict(nonlinearity="relu", num_layers=2)),
    "gru": ("GRU", {}),
    "gru_bidirectional_no_bias": ("GRU", dict(bias=False, bidirectional=True)),
    "lstm": ("LSTM", {}),
    "lstm_bidirectional_2_layers_proj": ("LSTM", dict(bidirectional=True, num_layers=2,
                                                      proj_size=2)),
}


def _recurrent_pair(kind: str, kwargs: dict) -> tuple[Any, Any]:
    import nn

    torch.manual_seed(0)
    tmodule = getattr(torch.nn, kind)(3, 4, **kwargs).double()
    module = getattr(nn, kind)(3, 4, **kwargs).double()
    _copy_parameters(module, tmodule)
    return module, tmodule


def _compare_parameter_grads(module: Any, tmodule: Any) -> None:
    named = dict(module.named_parameters())
    for name, tp in tmodule.named_parameters():
        assert named[name].grad is not None, name
        np.testing.assert_allclose(named[name].grad.numpy(), tp.grad.numpy(), rtol=1e-7,
                                   atol=1e-10, err_msg=name)


@pytest.mark.parametrize("name", sorted(RECURRENT))
def test_recurrent_gradient_penalty_matches_torch(name: str) -> None:
    module, tmodule = _recurrent_pair(*RECURRENT[name])
    x_array = np.random.default_rng(1).standard_normal((5, 2, 3))
    results = []
    for lib, net, grad in ((mg, module, mg.grad), (torch, tmodule, torch.autograd.grad)):
        x = lib.tensor(x_array, requires_grad=True)
        out = net(x)[0]
        (g,) = grad((out * out).sum(), x, create_graph=True)
        ((g ** 2).sum() + out.mean()).backward()
        results.append(x.grad.numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-7, atol=1e-10)
    _compare_parameter_grads(module, tmodule)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_packed_recurrent_gradient_penalty_matches_torch(kind: str) -> None:
    from nn.utils.rnn import pack_padded_sequence

    module, tmodule = _recurrent_pair(kind, dict(bidirectional=True))
    x_array = np.random.default_rng(2).standard_normal((4, 3, 3))
    lengths = [4, 2, 3]
    results = []
    for lib, net, grad, pack in ((mg, module, mg.grad, pack_padded_sequence),
                                 (torch, tmodule, torch.autograd.grad,
                                  torch.nn.utils.rnn.pack_padded_sequence)):
        x = lib.tensor(x_array, requires_grad=True)
        packed = pack(x, lengths, enforce_sorted=False)
        out = net(packed)[0].data
        (g,) = grad(out.sin().sum(), x, create_graph=True)
        (g ** 2).sum().backward()
        results.append(x.grad.numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-7, atol=1e-10)
    _compare_parameter_grads(module, tmodule)


def test_recurrent_gradient_to_initial_state_second_derivative_matches_torch() -> None:
    module, tmodule = _recurrent_pair("LSTM", {})
    params = tuple(dict(module.named_parameters())[n] for n, _ in tmodule.named_parameters())
    _second_order(lambda x, h, c: module(x, (h, c))[0],
                  lambda x, h, c: tmodule(x, (h, c))[0],
                  [_randn(3, 2, 3, seed=5), _randn(1, 2, 4, seed=6), _randn(1, 2, 4, seed=7)],
                  mg_params=params, torch_params=tuple(tmodule.parameters()))


# ------------------------------------------------------------------ in-place shape methods


def test_inplace_shape_methods_second_derivative_matches_torch() -> None:
    def fn(x: Any) -> Any:
        y = (x * x).clone()
        y.t_()
        y.unsqueeze_(0)
        return y ** 3

    _second_order(fn, fn, [_randn(3, 4)])
