"""Forward values and gradients against PyTorch in float64 (skipped where torch is absent)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
import minigrad.functional as F
from minigrad.testing import arrays, broadcastable_shapes, classification_cases, shapes

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def both(array):
    """The same float64 values as a minigrad and a torch leaf that require grad."""
    return (mg.tensor(array, dtype=mg.float64, requires_grad=True),
            torch.tensor(array, dtype=torch.float64, requires_grad=True))


def assert_close(ours, theirs, rtol=1e-10, atol=1e-12):
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=rtol,
                               atol=atol)


def check(fn_mg, fn_torch, *arrays_in, rtol=1e-10, atol=1e-12):
    """Same forward, same gradients for a fixed random upstream gradient."""
    pairs = [both(a) for a in arrays_in]
    out_mg = fn_mg(*[p[0] for p in pairs])
    out_t = fn_torch(*[p[1] for p in pairs])
    assert_close(out_mg, out_t, rtol, atol)
    upstream = np.random.default_rng(0).standard_normal(out_t.shape)
    out_mg.backward(mg.tensor(upstream, dtype=mg.float64))
    out_t.backward(torch.tensor(upstream))
    for ours, theirs in pairs:
        if theirs.grad is None:
            assert ours.grad is None or not ours.grad.detach().numpy().any()
        else:
            assert_close(ours.grad, theirs.grad, rtol, atol)


classification = classification_cases()


@given(classification, st.sampled_from(["mean", "sum", "none"]),
       st.sampled_from([0.0, 0.2]), st.booleans(), st.booleans())
def test_cross_entropy_matches_torch(case, reduction, smoothing, use_weight, ignore_first):
    logits, target, weight = case
    if ignore_first and len(target) > 1:
        target = target.copy()
        target[0] = -100
    kw = {"reduction": reduction, "label_smoothing": smoothing}
    check(
        lambda x: F.cross_entropy(x, mg.tensor(target),
                                  weight=mg.tensor(weight) if use_weight else None, **kw),
        lambda x: TF.cross_entropy(x, torch.tensor(target),
                                   weight=torch.tensor(weight) if use_weight else None, **kw),
        logits,
    )


def test_cross_entropy_huge_logits_match_torch():
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 3.0], [2.0, 1.0, -1e4]])
    target = np.array([1, 1, 2])
    for smoothing in (0.0, 0.1):
        check(lambda x, s=smoothing: F.cross_entropy(x, mg.tensor(target), label_smoothing=s),
              lambda x, s=smoothing: TF.cross_entropy(x, torch.tensor(target), label_smoothing=s),
              logits, rtol=1e-9)


@given(classification, st.sampled_from(["mean", "sum", "none"]))
def test_nll_loss_matches_torch(case, reduction):
    logits, target, weight = case
    check(lambda x: F.nll_loss(x.log_softmax(1), mg.tensor(target), weight=mg.tensor(weight),
                               reduction=reduction),
          lambda x: TF.nll_loss(x.log_softmax(1), torch.tensor(target),
                                weight=torch.tensor(weight), reduction=reduction),
          logits)


@given(shapes(min_dims=1, max_dims=3, max_side=4).flatmap(arrays), st.data())
def test_var_std_match_torch(a, data):
    dim = data.draw(st.one_of(st.none(), st.integers(-a.ndim, a.ndim - 1)))
    correction = data.draw(st.sampled_from([0, 1]))
    keepdim = data.draw(st.booleans())
    count = a.size if dim is None else a.shape[dim]
    if count - correction <= 0 or np.min(np.var(a, axis=dim, ddof=correction)) < 1e-3:
        return
    for name in ("var", "std"):
        check(lambda x, name=name: getattr(x, name)(dim, keepdim=keepdim, correction=correction),
              lambda x, name=name: getattr(x, name)(dim, keepdim=keepdim, correction=correction),
              a, rtol=1e-9)


@given(shapes(min_dims=1, max_dims=3, max_side=4).flatmap(
    lambda s: arrays(s, elements=st.integers(-100, 100).map(lambda k: k / 8), unique=True)),
    st.data())
def test_max_min_with_dim_match_torch(a, data):
    dim = data.draw(st.integers(-a.ndim, a.ndim - 1))
    keepdim = data.draw(st.booleans())
    for name in ("max", "min"):
        ours, theirs = getattr(mg.tensor(a), name)(dim, keepdim), getattr(
            torch.tensor(a), name)(dim, keepdim)
        np.testing.assert_array_equal(ours.indices.detach().numpy(),
                                      theirs.indices.detach().numpy())
        check(lambda x, name=name: getattr(x, name)(dim, keepdim).values,
              lambda x, name=name: getattr(x, name)(dim, keepdim).values, a)
        check(lambda x, name=name: getattr(x, name)(), lambda x, name=name: getattr(x, name)(), a)


def test_max_all_with_ties_matches_torch():
    a = np.array([[1.0, 3.0], [3.0, 0.0]])
    check(lambda x: x.max(), lambda x: x.max(), a)
    check(lambda x: mg.maximum(x, x.flip(0)), lambda x: torch.maximum(x, x.flip(0)), a)


@given(broadcastable_shapes(2, max_dims=2, max_side=3), st.integers(1, 3), st.integers(1, 3),
       st.integers(1, 3), st.booleans(), st.booleans(), st.data())
def test_matmul_broadcasting_matches_torch(batches, n, k, m, a_vector, b_vector, data):
    a = data.draw(arrays((k,) if a_vector else batches[0] + (n, k)))
    b = data.draw(arrays((k,) if b_vector else batches[1] + (k, m)))
    check(lambda x, y: x @ y, lambda x, y: x @ y, a, b)


@pytest.mark.parametrize(
    "index",
    [
        (1,), (slice(None), 0), (Ellipsis, None, slice(1, None)), ([0, 0, 2],),
        (slice(None), [2, 2, 0]), ([1, 0, 1], [0, 0, 3]), (np.array([True, False, True]),),
        (slice(None, None, -1),), (-1, slice(None, None, 2)),
    ],
)
def test_getitem_matches_torch(index):
    a = np.arange(12.0).reshape(3, 4) / 7

    def torch_index(part):
        if isinstance(part, (list, np.ndarray)):
            return torch.tensor(part)
        return part

    if any(isinstance(p, slice) and p.step is not None and p.step < 0 for p in index):
        # torch has no negative steps: compare with flip
        check(lambda x: x[index], lambda x: x.flip(0), a)
        return
    mg_index = tuple(mg.tensor(p) if isinstance(p, (list, np.ndarray)) else p for p in index)
    check(lambda x: x[mg_index], lambda x: x[tuple(torch_index(p) for p in index)], a)


@given(broadcastable_shapes(2, max_dims=3, max_side=4).flatmap(
    lambda s: st.tuples(arrays(s[0]), arrays(s[1], min_value=0.5, max_value=3.0))))
def test_tensor_arithmetic_matches_torch(pair):
    a, b = pair
    check(lambda x, y: ((x * y - y / (x * x + 1)) ** 2 + y.sqrt() * x.tanh()).sigmoid(),
          lambda x, y: ((x * y - y / (x * x + 1)) ** 2 + y.sqrt() * x.tanh()).sigmoid(), a, b)


def test_functional_ops_match_torch():
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((4, 3)), rng.standard_normal((2, 3)), rng.standard_normal(2)
    check(F.linear, TF.linear, x, w, b)
    check(lambda v: F.leaky_relu(v, 0.2), lambda v: TF.leaky_relu(v, 0.2), x)
    check(lambda v: F.log_softmax(v, 0), lambda v: TF.log_softmax(v, 0), x)
    check(lambda v: F.softmax(v, 1), lambda v: TF.softmax(v, 1), x)
    check(lambda v: v.logsumexp(1), lambda v: v.logsumexp(1), x)
    check(lambda v, t: F.mse_loss(v, t), lambda v, t: TF.mse_loss(v, t), x, x[::-1].copy())
    for fn, tfn in ((F.silu, TF.silu), (F.elu, TF.elu), (F.softplus, TF.softplus)):
        check(fn, tfn, x)
    check(lambda v: F.gelu(v, approximate="tanh"), lambda v: TF.gelu(v, approximate="tanh"), x)


def test_shape_ops_match_torch():
    a = np.random.default_rng(2).standard_normal((2, 3, 4))
    check(lambda x: x.permute(2, 0, 1).reshape(4, 6), lambda x: x.permute(2, 0, 1).reshape(4, 6),
          a)
    check(lambda x: x.transpose(0, 2).flatten(1), lambda x: x.transpose(0, 2).flatten(1), a)
    check(lambda x: x[:, :1].expand(2, 5, 4), lambda x: x[:, :1].expand(2, 5, 4), a)
    check(lambda x: x.repeat(2, 1, 3, 1), lambda x: x.repeat(2, 1, 3, 1), a)
    check(lambda x: mg.cat(x.chunk(2, 2)[::-1], 1), lambda x: torch.cat(x.chunk(2, 2)[::-1], 1),
          a)
    check(lambda x: mg.stack(x.split(2, 2), 0), lambda x: torch.stack(x.split(2, 2), 0), a)
    check(lambda x: mg.pad(x, (1, 2, 0, 1), value=0.5),
          lambda x: TF.pad(x, (1, 2, 0, 1), value=0.5), a)
    check(lambda x: x.unsqueeze(1).squeeze(1).T.flip(0, 2).mean((0, 1)),
          lambda x: x.unsqueeze(1).squeeze(1).permute(2, 1, 0).flip(0, 2).mean((0, 1)), a)


def test_in_place_on_non_leaf_matches_torch():
    a = np.array([0.5, -1.0, 2.0])

    def run(lib, x):
        y = x * 2
        before = y + 1  # a use before the in-place change
        y.mul_(x)
        y[1] = x[0] * 3
        y.add_(1.0)
        y = y.relu()
        return (y * y).sum() + (before * before).sum()

    check(lambda x: run(mg, x), lambda x: run(torch, x), a)


def test_int_tensor_times_float_matches_torch_dtype():
    assert (mg.tensor([1, 2]) * 2.5).dtype == np.float32
    assert (torch.tensor([1, 2]) * 2.5).dtype == torch.float32
