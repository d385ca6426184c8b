"""bernoulli, multinomial, normal, tril_indices and triu_indices: shapes, dtypes, statistics,
gradients and errors as in PyTorch."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import minigrad as mg


@pytest.mark.parametrize("row, col, offset", list(itertools.product([0, 1, 3, 4], [0, 2, 3, 5],
                                                                    [-2, 0, 1])))
def test_triangle_indices_match_pytorch(row, col, offset):
    torch = pytest.importorskip("torch")
    for ours, theirs in ((mg.tril_indices, torch.tril_indices),
                         (mg.triu_indices, torch.triu_indices)):
        got, want = ours(row, col, offset), theirs(row, col, offset)
        assert got.dtype == mg.int64 and tuple(got.shape) == tuple(want.shape)
        np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_multinomial_with_replacement_follows_the_weights():
    mg.manual_seed(0)
    weights = mg.tensor([1.0, 2.0, 3.0, 0.0])
    draws = mg.multinomial(weights, 40000, replacement=True)
    assert draws.dtype == mg.int64 and draws.shape == (40000,)
    freq = np.bincount(draws.numpy(), minlength=4) / 40000
    np.testing.assert_allclose(freq, [1 / 6, 2 / 6, 3 / 6, 0.0], atol=0.01)
    rows = mg.multinomial(mg.tensor([[1.0, 0.0], [0.0, 1.0]]), 5, replacement=True)
    assert rows.tolist() == [[0] * 5, [1] * 5]


def test_multinomial_without_replacement_draws_each_category_once_by_weight():
    mg.manual_seed(1)
    picks = mg.multinomial(mg.tensor([[5.0, 1.0, 1.0, 1.0]] * 4000), 4)
    assert all(sorted(r) == [0, 1, 2, 3] for r in picks.tolist())
    first = np.bincount(picks.numpy()[:, 0], minlength=4) / 4000
    np.testing.assert_allclose(first, [5 / 8, 1 / 8, 1 / 8, 1 / 8], atol=0.03)


@pytest.mark.parametrize("weights, n, replacement, match", [
    ([-1.0, 2.0], 1, False, "element < 0"),
    ([float("nan"), 1.0], 1, True, "nan"),
    ([0.0, 0.0], 1, True, "sum of probabilities"),
    ([1.0, 2.0], 3, False, "without replacement"),
])
def test_multinomial_errors_follow_pytorch(weights, n, replacement, match):
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match=match):
        mg.multinomial(mg.tensor(weights), n, replacement)
    with pytest.raises(RuntimeError):
        torch.multinomial(torch.tensor(weights), n, replacement)


def test_bernoulli_samples_in_the_inputs_dtype_with_zero_gradient_like_pytorch():
    torch = pytest.importorskip("torch")
    mg.manual_seed(0)
    p = mg.full((20000,), 0.3, dtype=mg.float64, requires_grad=True)
    b = mg.bernoulli(p)
    assert b.dtype == mg.float64 and set(np.unique(b.detach().numpy())) <= {0.0, 1.0}
    assert abs(b.detach().numpy().mean() - 0.3) < 0.015
    b.sum().backward()
    tp = torch.full((3,), 0.3, requires_grad=True)
    torch.bernoulli(tp).sum().backward()
    np.testing.assert_array_equal(p.grad.numpy(), 0.0)
    assert b.requires_grad and tp.grad.abs().sum().item() == 0.0
    assert abs(mg.zeros(20000).bernoulli(0.8).numpy().mean() - 0.8) < 0.015
    filled = mg.zeros(20000)
    assert filled.bernoulli_(0.25) is filled and abs(filled.numpy().mean() - 0.25) < 0.015
    with pytest.raises(RuntimeError, match=r"\[0, 1\]"):
        mg.bernoulli(mg.tensor([1.5]))


def test_normal_in_each_of_pytorchs_forms():
    torch = pytest.importorskip("torch")
    mg.manual_seed(0)
    x = mg.normal(2.0, 3.0, (50000,))
    assert x.dtype == mg.float32 and torch.normal(2.0, 3.0, (5,)).dtype == torch.float32
    assert abs(float(x.mean()) - 2.0) < 0.05 and abs(float(x.std()) - 3.0) < 0.05
    mean = mg.tensor([0.0, 10.0], dtype=mg.float64, requires_grad=True)
    std = mg.tensor([1.0, 0.0], dtype=mg.float64, requires_grad=True)
    y = mg.normal(mean, std)
    assert y.shape == (2,) and y.dtype == mg.float64 and y[1].item() == 10.0
    y.sum().backward()
    np.testing.assert_array_equal(mean.grad.numpy(), 0.0)  # as PyTorch: not reparameterized
    np.testing.assert_array_equal(std.grad.numpy(), 0.0)
    assert mg.normal(mg.zeros(3, 4), 1.0).shape == (3, 4)
    assert mg.normal(0.0, mg.ones(5)).shape == (5,)
    with pytest.raises(RuntimeError, match="std >= 0"):
        mg.normal(0.0, -1.0, (2,))
    with pytest.raises(TypeError, match="size"):
        mg.normal(0.0, 1.0)


def test_sampling_is_reproducible_under_manual_seed():
    draws = []
    for _ in range(2):
        mg.manual_seed(7)
        draws.append((mg.multinomial(mg.ones(5), 3).tolist(),
                      mg.bernoulli(mg.full((4,), 0.5)).tolist(),
                      mg.normal(0.0, 1.0, (3,)).tolist()))
    assert draws[0] == draws[1]
