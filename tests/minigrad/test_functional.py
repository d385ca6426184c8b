"""Composite functional ops against NumPy references and numerical gradients."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
import minigrad.functional as F
from minigrad.testing import arrays, assert_grad_matches_numeric, away_from, classification_cases


def np_log_softmax(x, axis=1):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def np_cross_entropy(logits, target, weight=None, ignore_index=-100, reduction="mean",
                     label_smoothing=0.0):
    """Written from the definition (PyTorch's documentation), row by row."""
    n, c = logits.shape
    log_p = np_log_softmax(logits)
    w = np.ones(c) if weight is None else weight
    losses, denominators = [], []
    for i in range(n):
        if target[i] == ignore_index:
            losses.append(0.0)
            denominators.append(0.0)
            continue
        nll = -w[target[i]] * log_p[i, target[i]]
        smooth = -(w * log_p[i]).sum() / c
        losses.append((1 - label_smoothing) * nll + label_smoothing * smooth)
        denominators.append(w[target[i]])
    losses = np.array(losses)
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    return losses.sum() / sum(denominators)


classification = classification_cases()


@given(classification, st.sampled_from(["mean", "sum", "none"]),
       st.sampled_from([0.0, 0.1, 0.5]), st.booleans(), st.booleans())
def test_cross_entropy_matches_reference_and_numeric_grad(case, reduction, smoothing,
                                                          use_weight, ignore_first):
    logits, target, weight = case
    if ignore_first and len(target) > 1:
        target = target.copy()
        target[0] = -100
    w = weight if use_weight else None

    def fn(x):
        return F.cross_entropy(x, mg.tensor(target), weight=None if w is None else mg.tensor(w),
                               reduction=reduction, label_smoothing=smoothing)

    assert_grad_matches_numeric(
        fn, logits,
        reference=lambda x: np_cross_entropy(x, target, w, -100, reduction, smoothing),
    )


def test_cross_entropy_is_stable_for_huge_logits():
    logits = mg.tensor([[1e4, -1e4, 0.0], [0.0, 1e4, -1e4]], requires_grad=True)
    loss = F.cross_entropy(logits, mg.tensor([1, 1]))
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(logits.grad.detach().numpy()).all()
    np.testing.assert_allclose(loss.item(), 1e4, rtol=1e-6)
    assert loss.dtype == np.float32


def test_cross_entropy_spatial_and_errors():
    logits = np.random.default_rng(0).standard_normal((2, 3, 2, 2))
    target = np.array([[[0, 1], [2, 1]], [[1, 1], [0, 2]]])
    got = F.cross_entropy(mg.tensor(logits), mg.tensor(target)).item()
    flat = logits.transpose(0, 2, 3, 1).reshape(-1, 3)
    np.testing.assert_allclose(got, np_cross_entropy(flat, target.reshape(-1)), rtol=1e-12)
    with pytest.raises(IndexError, match="cross_entropy: target 3 is out of bounds"):
        F.cross_entropy(mg.zeros(2, 3), mg.tensor([0, 3]))
    with pytest.raises(TypeError, match="integer class indices"):
        F.cross_entropy(mg.zeros(2, 3), mg.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(mg.zeros(2, 3), mg.tensor([0, 1]), reduction="avg")


def test_cross_entropy_with_probability_targets():
    logits = np.array([[1.0, 2.0, 0.5]])
    probs = np.array([[0.2, 0.5, 0.3]])
    got = F.cross_entropy(mg.tensor(logits), mg.tensor(probs)).item()
    np.testing.assert_allclose(got, -(probs * np_log_softmax(logits)).sum(), rtol=1e-12)


@given(classification, st.sampled_from(["mean", "sum", "none"]))
def test_nll_loss_matches_reference(case, reduction):
    logits, target, weight = case
    log_p = np_log_softmax(logits)
    assert_grad_matches_numeric(
        lambda x: F.nll_loss(x, mg.tensor(target), weight=mg.tensor(weight),
                             reduction=reduction),
        log_p, reference=lambda x: _np_nll(x, target, weight, reduction),
    )


def _np_nll(log_p, target, weight, reduction):
    picked = -weight[target] * log_p[np.arange(len(target)), target]
    if reduction == "none":
        return picked
    if reduction == "sum":
        return picked.sum()
    return picked.sum() / weight[target].sum()


@given(st.integers(1, 4).flatmap(lambda n: st.tuples(arrays((n, 3)), arrays((n, 3)))),
       st.sampled_from(["mean", "sum", "none"]))
def test_mse_loss_grad_matches_numeric(pair, reduction):
    reduce = {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction]
    assert_grad_matches_numeric(lambda a, b: F.mse_loss(a, b, reduction=reduction), *pair,
                                reference=lambda a, b: reduce((a - b) ** 2))
    with pytest.raises(ValueError, match=r"mse_loss: input shape \(2,\)"):
        F.mse_loss(mg.ones(2), mg.ones(3))


@given(st.tuples(st.integers(1, 3), st.integers(1, 4), st.integers(1, 4)).flatmap(
    lambda s: st.tuples(arrays(s[:1] + s[2:]), arrays(s[1:]), arrays(s[1:2]))), st.booleans())
def test_linear_grad_matches_numeric(case, with_bias):
    x, w, b = case
    if with_bias:
        assert_grad_matches_numeric(F.linear, x, w, b, reference=lambda x, w, b: x @ w.T + b)
    else:
        assert_grad_matches_numeric(F.linear, x, w, reference=lambda x, w: x @ w.T)


def test_linear_feature_mismatch_names_shapes():
    with pytest.raises(ValueError, match=r"linear: input of shape \(2, 3\) has 3 features"):
        F.linear(mg.ones(2, 3), mg.ones(4, 5))


@given(st.integers(1, 4).flatmap(lambda n: arrays((n,), elements=away_from(0.0))))
def test_activations_grad_matches_numeric(a):
    cases = {
        F.relu: lambda x: np.maximum(x, 0),
        F.sigmoid: lambda x: 1 / (1 + np.exp(-x)),
        F.tanh: np.tanh,
        F.silu: lambda x: x / (1 + np.exp(-x)),
        F.softplus: lambda x: np.log1p(np.exp(x)),
        F.elu: lambda x: np.where(x > 0, x, np.exp(x) - 1),
        F.leaky_relu: lambda x: np.where(x > 0, x, 0.01 * x),
    }
    for fn, reference in cases.items():
        assert_grad_matches_numeric(fn, a, reference=reference)


def test_dropout_scales_kept_elements_and_is_identity_in_eval():
    mg.manual_seed(0)
    x = mg.ones(10_000, requires_grad=True)
    y = F.dropout(x, p=0.25)
    kept = y.detach().numpy() != 0
    np.testing.assert_allclose(y.detach().numpy()[kept], 1 / 0.75, rtol=1e-6)
    assert 0.70 < kept.mean() < 0.80
    y.sum().backward()
    np.testing.assert_allclose(x.grad.detach().numpy(), kept / 0.75, rtol=1e-6)
    assert F.dropout(x, p=0.5, training=False) is x
    assert (F.dropout(x, p=1.0).detach().numpy() == 0).all()
    with pytest.raises(ValueError, match="dropout"):
        F.dropout(x, p=1.5)


def test_one_hot():
    out = F.one_hot(mg.tensor([[0, 2], [1, 0]]), num_classes=4)
    assert out.dtype == np.int64 and out.shape == (2, 2, 4)
    np.testing.assert_array_equal(out.detach().numpy()[0, 1], [0, 0, 1, 0])
    assert F.one_hot(mg.tensor([3, 1])).shape == (2, 4)
    with pytest.raises(ValueError, match="one_hot"):
        F.one_hot(mg.tensor([5]), num_classes=3)
    with pytest.raises(TypeError, match="one_hot"):
        F.one_hot(mg.tensor([1.0]))


def test_softmax_wrappers_match_methods():
    x = mg.randn(3, 4)
    np.testing.assert_allclose(F.softmax(x, dim=0).detach().numpy(), x.softmax(0).detach().numpy())
    np.testing.assert_allclose(F.log_softmax(x).detach().numpy(),
                               x.log_softmax(-1).detach().numpy())
    np.testing.assert_allclose(F.softmax(x, 1).detach().numpy().sum(1), np.ones(3), rtol=1e-6)


def test_binary_cross_entropy_variants_agree():
    logits = mg.tensor([[-2.0, 0.5], [3.0, -0.1]], dtype=mg.float64)
    target = mg.tensor([[0.0, 1.0], [1.0, 0.0]], dtype=mg.float64)
    a = F.binary_cross_entropy(logits.sigmoid(), target).item()
    b = F.binary_cross_entropy_with_logits(logits, target).item()
    p = 1 / (1 + np.exp(-logits.detach().numpy()))
    t = target.detach().numpy()
    np.testing.assert_allclose(a, -(t * np.log(p) + (1 - t) * np.log(1 - p)).mean(), rtol=1e-10)
    np.testing.assert_allclose(a, b, rtol=1e-10)
