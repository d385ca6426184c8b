"""cross_entropy's fused primitive (ops.loss.CrossEntropyIndices) against its composite: the
same loss and gradients bit for bit, second derivatives, and PyTorch."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.functional as F
from minigrad import functional_loss
from minigrad.ops.loss import CrossEntropyIndices


def _loss_and_grad(logits, target, fused, **kwargs):
    previous = functional_loss.FUSED_CROSS_ENTROPY
    functional_loss.FUSED_CROSS_ENTROPY = fused
    try:
        x = mg.tensor(logits, requires_grad=True)
        loss = F.cross_entropy(x, mg.tensor(target), **kwargs)
        upstream = np.random.default_rng(2).standard_normal(loss.shape).astype(logits.dtype)
        loss.backward(mg.tensor(upstream))
        return loss, x.grad._data
    finally:
        functional_loss.FUSED_CROSS_ENTROPY = previous


@settings(deadline=None, max_examples=40)
@given(n=st.integers(1, 9), c=st.integers(1, 7), seed=st.integers(0, 2**16),
       reduction=st.sampled_from(["mean", "sum", "none"]),
       dtype=st.sampled_from([np.float32, np.float64]), ignored=st.floats(0, 1),
       scale=st.sampled_from([1.0, 30.0, 1e4]))
def test_fused_equals_the_composite_bit_for_bit(n, c, seed, reduction, dtype, ignored, scale):
    rng = np.random.default_rng(seed)
    logits = (rng.standard_normal((n, c)) * scale).astype(dtype)
    target = rng.integers(0, c, n)
    target[rng.random(n) < ignored] = -100
    fused_loss, fused_grad = _loss_and_grad(logits, target, True, reduction=reduction)
    loss, grad = _loss_and_grad(logits, target, False, reduction=reduction)
    assert "CrossEntropyIndices" in fused_loss.grad_fn.name()
    assert fused_loss.dtype == loss.dtype and fused_loss.shape == loss.shape
    np.testing.assert_array_equal(fused_loss._data, loss._data)  # NaN when all are ignored
    np.testing.assert_array_equal(fused_grad, grad)


def test_fused_second_derivative_matches_the_composite():
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((5, 4))
    target = np.array([0, 3, -100, 1, 2])
    results = []
    for fused in (True, False):
        functional_loss.FUSED_CROSS_ENTROPY = fused
        try:
            x = mg.tensor(logits, requires_grad=True)
            loss = F.cross_entropy(x, mg.tensor(target))
            (g,) = mg.autograd.grad(loss, x, create_graph=True)
            (g * g).sum().backward()
            results.append((g._data.copy(), x.grad._data.copy()))
        finally:
            functional_loss.FUSED_CROSS_ENTROPY = True
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-10, atol=1e-14)


def test_fused_is_not_taken_where_the_composite_is_needed():
    x = mg.randn(4, 3, requires_grad=True)
    t = mg.tensor([0, 1, 2, 1])
    assert "CrossEntropyIndices" in F.cross_entropy(x, t).grad_fn.name()
    for kwargs in ({"label_smoothing": 0.1}, {"weight": mg.ones(3)}):
        assert "CrossEntropyIndices" not in F.cross_entropy(x, t, **kwargs).grad_fn.name()
    with pytest.raises(IndexError, match="out of bounds"):
        F.cross_entropy(x, mg.tensor([0, 1, 3, 1]))
    assert issubclass(CrossEntropyIndices, mg.autograd.engine.Primitive)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_fused_matches_torch(reduction):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    logits = (rng.standard_normal((64, 10)) * 5).astype(np.float32)
    target = rng.integers(0, 10, 64)
    target[::7] = -100
    loss, grad = _loss_and_grad(logits, target, True, reduction=reduction)
    theirs = torch.tensor(logits, requires_grad=True)
    their_loss = torch.nn.functional.cross_entropy(theirs, torch.tensor(target),
                                                   reduction=reduction)
    upstream = np.random.default_rng(2).standard_normal(loss.shape).astype(np.float32)
    their_loss.backward(torch.tensor(upstream))
    assert str(their_loss.dtype).endswith(str(loss.dtype).split(".")[-1])
    np.testing.assert_allclose(loss._data, their_loss.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(grad, theirs.grad.numpy(), rtol=1e-5, atol=1e-7)


@settings(deadline=None, max_examples=25)
@given(n=st.integers(1, 6), c=st.integers(2, 5), seed=st.integers(0, 2**16),
       reduction=st.sampled_from(["mean", "sum", "none"]))
def test_fused_grad_matches_numeric(n, c, seed, reduction):
    from minigrad.testing import assert_grad_matches_numeric

    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((n, c)) * 3
    target = rng.integers(0, c, n)
    target[0] = -100 if n > 1 else target[0]
    t = mg.tensor(target)
    assert_grad_matches_numeric(lambda x: F.cross_entropy(x, t, reduction=reduction), logits)
