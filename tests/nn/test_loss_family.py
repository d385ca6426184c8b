"""Loss functionals and modules against torch in float64: values, shapes, gradients."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import nn
import nn.functional as F

torch = pytest.importorskip("torch")
rng = np.random.default_rng(0)


def _check(ours, theirs, arrays, differentiable):
    xs = [mg.tensor(a, requires_grad=i < differentiable) for i, a in enumerate(arrays)]
    ts = [torch.tensor(a, requires_grad=i < differentiable) for i, a in enumerate(arrays)]
    y, yt = ours(*xs), theirs(*ts)
    assert y.shape == tuple(yt.shape)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    y.sum().backward()
    yt.sum().backward()
    for x, t in zip(xs, ts):
        if x.requires_grad:
            np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-12)


X = rng.normal(size=(4, 3))
Y = rng.normal(size=(4, 3))
P = rng.uniform(0.05, 0.95, size=(4, 3))
T01 = rng.uniform(0, 1, size=(4, 3))
SIGN = np.where(rng.normal(size=4) > 0, 1.0, -1.0)
CLASSES = np.array([0, 2, 1, 2])

PAIRS = [
    ("L1Loss", {}, [X, Y]), ("MSELoss", {}, [X, Y]), ("SmoothL1Loss", {"beta": 0.5}, [X, Y]),
    ("HuberLoss", {"delta": 0.7}, [X, Y]), ("KLDivLoss", {"reduction": "batchmean"},
                                             [np.log(P), T01]),
    ("KLDivLoss", {"log_target": True, "reduction": "sum"}, [np.log(P), np.log(T01)]),
    ("BCELoss", {}, [P, T01]), ("BCELoss", {"weight": torch.tensor(rng.uniform(size=3))},
                                [P, T01]),
    ("BCEWithLogitsLoss", {"pos_weight": torch.tensor([0.5, 2.0, 1.0])}, [X, T01]),
    ("PoissonNLLLoss", {}, [X, np.abs(Y) * 3]),
    ("PoissonNLLLoss", {"log_input": False, "full": True}, [P * 4, np.abs(Y) * 3]),
    ("GaussianNLLLoss", {"full": True}, [X, Y, P]),
    ("CosineEmbeddingLoss", {"margin": 0.1}, [X, Y, SIGN]),
    ("MarginRankingLoss", {"margin": 0.2}, [X[:, 0], Y[:, 0], SIGN]),
    ("HingeEmbeddingLoss", {"margin": 0.5}, [X, np.where(Y > 0, 1.0, -1.0)]),
    ("SoftMarginLoss", {}, [X, np.where(Y > 0, 1.0, -1.0)]),
    ("MultiLabelSoftMarginLoss", {"weight": torch.tensor([1.0, 0.5, 2.0], dtype=torch.float64)},
     [X, (T01 > 0.5).astype(np.float64)]),
    ("MultiMarginLoss",
     {"p": 2, "margin": 0.7, "weight": torch.tensor([1.0, 0.5, 2.0], dtype=torch.float64)},
     [X, CLASSES]),
    ("TripletMarginLoss", {"margin": 0.5, "swap": True}, [X, Y, X * 0.5 + Y]),
    ("CrossEntropyLoss",
     {"label_smoothing": 0.1, "weight": torch.tensor([1.0, 0.2, 3.0], dtype=torch.float64)},
     [X, CLASSES]),
    ("CrossEntropyLoss", {}, [X, T01 / T01.sum(1, keepdims=True)]),
    ("NLLLoss", {"ignore_index": 2}, [X, CLASSES]),
]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize(("name", "kwargs", "arrays"), PAIRS)
def test_loss_module_matches_torch(name, kwargs, arrays, reduction):
    kwargs = dict(kwargs)
    if "reduction" not in kwargs:
        kwargs["reduction"] = reduction
    ours_kwargs = {k: (v.numpy() if isinstance(v, torch.Tensor) else v) for k, v in kwargs.items()}
    ours_kwargs = {k: (mg.tensor(v) if isinstance(v, np.ndarray) else v)
                   for k, v in ours_kwargs.items()}
    ours = getattr(nn, name)(**ours_kwargs)
    theirs = getattr(torch.nn, name)(**kwargs)
    assert repr(ours) == repr(theirs)
    differentiable = {"CosineEmbeddingLoss": 2, "MarginRankingLoss": 2,
                      "TripletMarginLoss": 3}.get(name, 1)
    _check(ours, theirs, arrays, differentiable)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_weighted_spatial_nll_keeps_shape(reduction):
    logits = rng.normal(size=(2, 3, 4, 5))
    target = rng.integers(0, 3, size=(2, 4, 5))
    weight = np.array([0.3, 1.0, 2.5])
    for fn, tfn in [(F.nll_loss, torch.nn.functional.nll_loss),
                    (F.cross_entropy, torch.nn.functional.cross_entropy)]:
        x = mg.tensor(logits, requires_grad=True)
        xt = torch.tensor(logits, requires_grad=True)
        y = fn(x, mg.tensor(target), weight=mg.tensor(weight), reduction=reduction)
        yt = tfn(xt, torch.tensor(target), weight=torch.tensor(weight), reduction=reduction)
        assert y.shape == tuple(yt.shape)
        np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-12)
        y.sum().backward()
        yt.sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_loss_validation_errors():
    with pytest.raises(RuntimeError, match="weight tensor should be defined"):
        F.cross_entropy(mg.zeros(2, 3), mg.tensor([0, 1]), weight=mg.ones(2))
    with pytest.raises(IndexError, match="target 7 is out of bounds"):
        F.nll_loss(mg.zeros(2, 3), mg.tensor([0, 7]))
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(mg.tensor([0.5, 1.5]), mg.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="Target size"):
        F.binary_cross_entropy_with_logits(mg.zeros(3), mg.zeros(3, 1))
    with pytest.raises(ValueError, match="negative"):
        F.gaussian_nll_loss(mg.zeros(3), mg.zeros(3), -mg.ones(3))


def test_bce_gradient_is_finite_at_zero_and_one():
    x = mg.tensor([0.0, 1.0, 0.5], dtype=mg.float64, requires_grad=True)
    xt = torch.tensor([0.0, 1.0, 0.5], dtype=torch.float64, requires_grad=True)
    target = [0.3, 0.6, 1.0]
    F.binary_cross_entropy(x, mg.tensor(target, dtype=mg.float64)).backward()
    torch.nn.functional.binary_cross_entropy(xt, torch.tensor(target, dtype=torch.float64)
                                             ).backward()
    # PyTorch clamps x (1 - x) at a float32 epsilon: agreement to 1e-8 relative
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-8)
