"""CTC loss and multi-label margin loss against PyTorch and numerical gradients."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.functional as F
import nn
from minigrad.testing import assert_grad_matches_numeric

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _case(seed, steps=6, batch=3, classes=5, longest=3, min_input=0):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(steps, batch, classes))
    target_lengths = rng.integers(0, longest + 1, size=batch)
    input_lengths = rng.integers(min_input, steps + 1, size=batch)
    input_lengths[0] = steps
    targets = rng.integers(1, classes, size=(batch, longest))
    return logits, targets, input_lengths, target_lengths


def _both(logits, targets, input_lengths, target_lengths, concatenated=False, **kw):
    """(minigrad loss, grad of logits), (torch loss, grad of logits) through log_softmax."""
    if concatenated:
        targets = np.concatenate([t[:n] for t, n in zip(targets, target_lengths)])
    x = mg.tensor(logits, requires_grad=True)
    loss = F.ctc_loss(x.log_softmax(-1), mg.tensor(targets), mg.tensor(input_lengths),
                      mg.tensor(target_lengths), **kw)
    loss.sum().backward()
    tx = torch.tensor(logits, requires_grad=True)
    tloss = TF.ctc_loss(tx.log_softmax(-1), torch.tensor(targets), torch.tensor(input_lengths),
                        torch.tensor(target_lengths), **kw)
    tloss.sum().backward()
    return (loss, x.grad), (tloss, tx.grad)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("concatenated", [False, True])
@pytest.mark.parametrize("seed", range(4))
def test_ctc_loss_matches_torch(reduction, concatenated, seed):
    (loss, grad), (tloss, tgrad) = _both(*_case(seed), concatenated=concatenated,
                                         reduction=reduction)
    assert loss.dtype == mg.float64 and loss.shape == tuple(tloss.shape)
    np.testing.assert_allclose(loss.detach().numpy(), tloss.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(grad.numpy(), tgrad.numpy(), rtol=1e-8, atol=1e-12)


def test_ctc_loss_grad_of_log_probs_leaf_is_torchs():
    # PyTorch's gradient with respect to log_probs itself: exp(lp) - posterior occupancy
    logits, targets, il, tl = _case(7, min_input=2)
    lp = mg.tensor(logits, requires_grad=True)
    F.ctc_loss(lp, mg.tensor(targets), tuple(il), tuple(tl), reduction="sum").backward()
    tlp = torch.tensor(logits, requires_grad=True)
    TF.ctc_loss(tlp, torch.tensor(targets), tuple(il), tuple(tl), reduction="sum").backward()
    np.testing.assert_allclose(lp.grad.numpy(), tlp.grad.numpy(), rtol=1e-8, atol=1e-12)


def test_ctc_loss_repeats_blank_and_float32():
    rng = np.random.default_rng(3)
    logits = rng.normal(size=(7, 2, 4)).astype(np.float32)
    targets = np.array([[2, 2, 2], [1, 1, 3]])
    for blank in (0, 3):
        x = mg.tensor(logits, requires_grad=True)
        loss = nn.CTCLoss(blank=blank)(x.log_softmax(2), mg.tensor(targets), (7, 6), (3, 2))
        loss.backward()
        tx = torch.tensor(logits, requires_grad=True)
        tloss = torch.nn.CTCLoss(blank=blank)(tx.log_softmax(2), torch.tensor(targets),
                                              (7, 6), (3, 2))
        tloss.backward()
        assert loss.dtype == mg.float32
        np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-5)
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("zero_infinity", [False, True])
def test_ctc_loss_impossible_alignments(zero_infinity):
    logits, targets, _, _ = _case(1, steps=5, batch=3, longest=3)
    # sample 0 cannot fit its repeated labels, sample 1 has no input steps, sample 2 is empty
    targets[0] = [2, 2, 2]
    il, tl = np.array([4, 0, 0]), np.array([3, 2, 0])
    (loss, grad), (tloss, tgrad) = _both(logits, targets, il, tl, reduction="none",
                                         zero_infinity=zero_infinity)
    np.testing.assert_array_equal(loss.detach().numpy(), tloss.detach().numpy())
    np.testing.assert_array_equal(np.isnan(grad.numpy()), np.isnan(tgrad.numpy()))
    np.testing.assert_allclose(np.nan_to_num(grad.numpy()), np.nan_to_num(tgrad.numpy()),
                               atol=1e-12)


def test_ctc_loss_unbatched_matches_torch():
    rng = np.random.default_rng(5)
    logits = rng.normal(size=(6, 4))
    for targets, lengths in (([1, 2, 2], ((6,), (3,))), ([[3, 1, 0]], ((5,), (2,)))):
        for reduction in ("none", "mean"):
            x = mg.tensor(logits, requires_grad=True)
            loss = F.ctc_loss(x.log_softmax(-1), mg.tensor(targets), *lengths,
                              reduction=reduction)
            loss.backward()
            tx = torch.tensor(logits, requires_grad=True)
            tloss = TF.ctc_loss(tx.log_softmax(-1), torch.tensor(targets), *lengths,
                                reduction=reduction)
            tloss.backward()
            assert loss.shape == tuple(tloss.shape) == ()
            np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-10)
            np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), atol=1e-12)


@settings(deadline=None, max_examples=15)
@given(st.integers(0, 10_000), st.integers(1, 5), st.integers(1, 3), st.integers(2, 4))
def test_ctc_loss_grad_matches_numeric(seed, steps, batch, classes):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(steps, batch, classes))
    longest = max(1, steps // 2)
    targets = rng.integers(1, classes, size=(batch, longest))
    target_lengths = tuple(int(v) for v in rng.integers(0, longest + 1, size=batch))
    input_lengths = tuple(int(v) for v in rng.integers(1, steps + 1, size=batch))

    def loss(x):
        return F.ctc_loss(x.log_softmax(-1), mg.tensor(targets), input_lengths,
                          target_lengths, reduction="sum", zero_infinity=True)

    assert_grad_matches_numeric(loss, logits)


def test_ctc_loss_errors_like_torch():
    lp = mg.randn(5, 2, 4, dtype=mg.float64).log_softmax(-1)
    tg = mg.tensor([[1, 2, 2], [3, 1, 0]])
    tlp = torch.tensor(lp.detach().numpy())
    ttg = torch.tensor(tg.numpy())
    cases = [
        dict(input_lengths=(6, 4), target_lengths=(3, 2)),
        dict(input_lengths=(5, 4), target_lengths=(4, 2)),
        dict(input_lengths=(5, 4, 3), target_lengths=(3, 2)),
        dict(input_lengths=(5, 4), target_lengths=(3, 2, 1)),
        dict(input_lengths=(5, 4), target_lengths=(3, 2), blank=4),
        dict(input_lengths=(5, 4), target_lengths=(3, -1)),
        dict(input_lengths=(5, -1), target_lengths=(3, 2)),
    ]
    for kw in cases:
        with pytest.raises(RuntimeError):
            TF.ctc_loss(tlp, ttg, **kw)
        with pytest.raises(RuntimeError, match="ctc_loss|Expected|size"):
            F.ctc_loss(lp, tg, **kw)
    with pytest.raises(RuntimeError, match="size 5 at dimension 0"):
        F.ctc_loss(lp, mg.tensor([1, 2, 2, 3]), (5, 4), (3, 2))
    with pytest.raises(TypeError):
        F.ctc_loss(lp, tg, mg.tensor([5, 4]), (3, 2))
    with pytest.raises(RuntimeError, match="integral"):
        F.ctc_loss(lp, tg, mg.tensor([5.0, 4.0]), mg.tensor([3, 2]))
    with pytest.raises(ValueError, match="reduction"):
        F.ctc_loss(lp, tg, (5, 4), (3, 2), reduction="foo")
    with pytest.raises(RuntimeError, match="out of range"):
        F.ctc_loss(lp, mg.tensor([[1, 7, 2], [3, 1, 0]]), (5, 4), (3, 2))
    with pytest.raises(RuntimeError, match="3-dimensional"):
        F.ctc_loss(lp[0, 0], tg, (5, 4), (3, 2))


def test_ctc_loss_module_defaults():
    loss = nn.CTCLoss()
    assert (loss.blank, loss.reduction, loss.zero_infinity) == (0, "mean", False)
    assert nn.functional.ctc_loss is F.ctc_loss


# ---------------------------------------------------------------- multilabel_margin_loss


def _multilabel_case(seed, batch=4, classes=5):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, classes))
    target = np.full((batch, classes), -1, dtype=np.int64)
    for row in range(batch):
        count = rng.integers(0, classes + 1)
        target[row, :count] = rng.choice(classes, size=count, replace=True)
        target[row, count:] = rng.integers(-1, classes, size=classes - count)  # after the -1
        if count < classes:
            target[row, count] = -1
    return x, target


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("seed", range(3))
def test_multilabel_margin_loss_matches_torch(reduction, seed):
    x_np, target = _multilabel_case(seed)
    for shape_x, shape_t in ((x_np, target), (x_np[0], target[0])):
        x = mg.tensor(shape_x, requires_grad=True)
        loss = nn.MultiLabelMarginLoss(reduction=reduction)(x, mg.tensor(shape_t))
        loss.sum().backward()
        tx = torch.tensor(shape_x, requires_grad=True)
        tloss = torch.nn.MultiLabelMarginLoss(reduction=reduction)(tx, torch.tensor(shape_t))
        tloss.sum().backward()
        assert loss.shape == tuple(tloss.shape) and loss.dtype == mg.float64
        np.testing.assert_allclose(loss.detach().numpy(), tloss.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), atol=1e-12)


@settings(deadline=None, max_examples=15)
@given(st.integers(0, 10_000))
def test_multilabel_margin_loss_grad_matches_numeric(seed):
    x_np, target = _multilabel_case(seed, batch=3, classes=4)
    # keep the hinges away from their kinks
    x_np = np.round(x_np * 4) / 4 + np.random.default_rng(seed).uniform(-0.05, 0.05, x_np.shape)
    assert_grad_matches_numeric(
        lambda x: F.multilabel_margin_loss(x, mg.tensor(target), reduction="sum"), x_np)


def test_multilabel_margin_loss_edges_and_errors():
    x = mg.tensor([[0.1, 0.2, 0.4, 0.8]])
    assert F.multilabel_margin_loss(mg.zeros(0, 4), mg.zeros(0, 4, dtype=mg.int64)).item() == 0
    assert F.multilabel_margin_loss(mg.tensor(0.5), mg.tensor(0)).item() == 0
    with pytest.raises(RuntimeError, match="inconsistent target size"):
        F.multilabel_margin_loss(x, mg.tensor([[3, 0, -1]]))
    with pytest.raises(RuntimeError, match="out of range"):
        F.multilabel_margin_loss(x, mg.tensor([[4, 0, -1, 1]]))
    with pytest.raises(RuntimeError, match="Long"):
        F.multilabel_margin_loss(x, mg.tensor([[3.0, 0, -1, 1]]))
    with pytest.raises(RuntimeError, match="non-empty vector or matrix"):
        F.multilabel_margin_loss(x.reshape(1, 1, 4), mg.tensor([[[3, 0, -1, 1]]]))
