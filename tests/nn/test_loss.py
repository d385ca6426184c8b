"""Loss modules against NumPy, their gradients, and (when installed) PyTorch."""

import numpy as np
import pytest

import minigrad as mg
import nn

RNG = np.random.default_rng(7)


def log_softmax(x):
    shifted = x - x.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def cross_entropy_reference(logits, target, weight=None, smoothing=0.0, reduction="mean"):
    n, c = logits.shape
    logp = log_softmax(logits)
    w = np.ones(c) if weight is None else weight
    nll = -logp[np.arange(n), target] * w[target]
    smooth = -(logp * w).sum(axis=1) / c
    loss = (1 - smoothing) * nll + smoothing * smooth
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    return loss.sum() / w[target].sum()


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"reduction": "sum"},
        {"reduction": "none"},
        {"label_smoothing": 0.1},
        {"weight": np.array([0.2, 1.0, 3.0, 0.5])},
    ],
)
def test_cross_entropy_loss_forward_and_grad(kwargs):
    logits = RNG.standard_normal((6, 4))
    target = np.array([0, 3, 1, 1, 2, 3])
    weight = kwargs.get("weight")
    module_kwargs = dict(kwargs)
    if weight is not None:
        module_kwargs["weight"] = mg.tensor(weight)
    loss_fn = nn.CrossEntropyLoss(**module_kwargs)
    out = loss_fn(mg.tensor(logits), mg.tensor(target))
    expected = cross_entropy_reference(
        logits, target, weight, kwargs.get("label_smoothing", 0.0), kwargs.get("reduction", "mean")
    )
    np.testing.assert_allclose(out._data, expected, rtol=1e-12)
    x = mg.tensor(logits, requires_grad=True)
    assert mg.gradcheck(lambda x: loss_fn(x, mg.tensor(target)), [x])


def test_cross_entropy_is_stable_for_huge_logits():
    logits = mg.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]])
    loss = nn.CrossEntropyLoss()(logits, mg.tensor([0, 1]))
    np.testing.assert_allclose(loss.item(), np.log(2) / 2, rtol=1e-5)


def test_nll_loss_forward_and_grad():
    logp = log_softmax(RNG.standard_normal((5, 3)))
    target = np.array([2, 0, 1, 2, 2])
    for reduction, expected in [
        ("mean", -logp[np.arange(5), target].mean()),
        ("sum", -logp[np.arange(5), target].sum()),
        ("none", -logp[np.arange(5), target]),
    ]:
        loss_fn = nn.NLLLoss(reduction=reduction)
        np.testing.assert_allclose(loss_fn(mg.tensor(logp), mg.tensor(target))._data, expected)
    x = mg.tensor(logp, requires_grad=True)
    assert mg.gradcheck(lambda x: nn.NLLLoss()(x, mg.tensor(target)), [x])


def test_mse_loss_forward_and_grad():
    a, b = RNG.standard_normal((4, 3)), RNG.standard_normal((4, 3))
    np.testing.assert_allclose(nn.MSELoss()(mg.tensor(a), mg.tensor(b))._data,
                               ((a - b) ** 2).mean())
    np.testing.assert_allclose(
        nn.MSELoss(reduction="sum")(mg.tensor(a), mg.tensor(b))._data, ((a - b) ** 2).sum()
    )
    x = mg.tensor(a, requires_grad=True)
    assert mg.gradcheck(lambda x: nn.MSELoss()(x, mg.tensor(b)), [x])


def test_invalid_reduction():
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="avg")


def test_cross_entropy_matches_pytorch():
    torch = pytest.importorskip("torch")
    logits = RNG.standard_normal((8, 5)).astype(np.float32)
    target = RNG.integers(0, 5, 8)
    weight = RNG.uniform(0.5, 2.0, 5).astype(np.float32)
    for kwargs in ({}, {"label_smoothing": 0.2}, {"reduction": "sum"}):
        ours_in = mg.tensor(logits, requires_grad=True)
        theirs_in = torch.tensor(logits, requires_grad=True)
        ours = nn.CrossEntropyLoss(weight=mg.tensor(weight), **kwargs)(ours_in, mg.tensor(target))
        theirs = torch.nn.CrossEntropyLoss(weight=torch.tensor(weight), **kwargs)(
            theirs_in, torch.tensor(target)
        )
        ours.backward()
        theirs.backward()
        np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-5)
        np.testing.assert_allclose(ours_in.grad._data, theirs_in.grad.detach().numpy(),
                                   rtol=1e-4, atol=1e-6)
