"""Tensor.t() on tensors of up to two dimensions, as PyTorch: 0-d and 1-d ones come back as they
are (their values and shape), matrices are transposed, more dimensions are refused."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg


@pytest.mark.parametrize("shape", [(), (3,), (2, 3)])
def test_t_matches_torch(shape: tuple[int, ...]) -> None:
    torch = pytest.importorskip("torch")
    values = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    x = mg.tensor(values, requires_grad=True)
    expected = torch.tensor(values, requires_grad=True)
    y, y_torch = x.t(), expected.t()
    assert tuple(y.shape) == tuple(y_torch.shape)
    np.testing.assert_array_equal(y.detach().numpy(), y_torch.detach().numpy())
    (y * mg.tensor(np.arange(y.numel(), dtype=np.float64).reshape(y.shape))).sum().backward()
    (y_torch * torch.arange(y_torch.numel(), dtype=torch.float64).reshape(y_torch.shape)
     ).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), expected.grad.numpy())


def test_t_refuses_more_than_two_dimensions() -> None:
    with pytest.raises(RuntimeError, match="t\\(\\) expects a tensor with <= 2 dimensions"):
        mg.ones(2, 3, 4).t()
