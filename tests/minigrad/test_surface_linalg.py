"""minigrad.linalg's inv, det and solve against PyTorch and numerical gradients."""

from __future__ import annotations

import numpy as np
import pytest
from _torch_compare import compare
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import arrays, assert_grad_matches_numeric

torch = pytest.importorskip("torch")


def well_conditioned(a: np.ndarray) -> np.ndarray:
    """a plus a multiple of the identity large enough to keep the matrix far from singular."""
    n = a.shape[-1]
    return a + 4 * n * np.eye(n)


square = st.tuples(st.integers(0, 2), st.integers(1, 4)).flatmap(
    lambda s: arrays((2,) * s[0] + (s[1], s[1])))


@given(square)
def test_inv_det_grad_matches_numeric(a):
    assert_grad_matches_numeric(lambda x: mg.linalg.inv(x), well_conditioned(a),
                                reference=np.linalg.inv)
    assert_grad_matches_numeric(lambda x: mg.linalg.det(x), a, reference=np.linalg.det)


@given(square, st.integers(1, 3), st.booleans())
def test_solve_grad_matches_numeric(a, k, vector):
    n = a.shape[-1]
    b = np.linspace(-1, 1, n if vector else n * k).reshape((n,) if vector else (n, k))
    assert_grad_matches_numeric(lambda x, y: mg.linalg.solve(x, y), well_conditioned(a), b)


def test_inv_det_solve_match_torch():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 3, 3))
    b = rng.standard_normal((2, 3, 2))
    compare(lambda x: mg.linalg.inv(x), lambda x: torch.linalg.inv(x), a)
    compare(lambda x: x.inverse(), lambda x: x.inverse(), a)
    compare(lambda x: mg.linalg.det(x), lambda x: torch.linalg.det(x), a)
    compare(lambda x: mg.det(x), lambda x: torch.det(x), a)
    compare(lambda x, y: mg.linalg.solve(x, y), lambda x, y: torch.linalg.solve(x, y), a, b)
    compare(lambda x, y: mg.linalg.solve(x, y[0]), lambda x, y: torch.linalg.solve(x, y[0]),
            a, b)  # B broadcast over A's batch
    compare(lambda x, y: mg.linalg.solve(x, y[..., 0]),
            lambda x, y: torch.linalg.solve(x, y[..., 0]), a, b)  # a batch of vectors
    compare(lambda x, y: mg.linalg.solve(x, y.mT, left=False),
            lambda x, y: torch.linalg.solve(x, y.mT, left=False), a, b)


def test_det_of_singular_matrices_matches_torch():
    singular = np.array([[[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 1.0, 1.0]],
                         [[0.0, 0.0, 0.0], [1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]])
    compare(lambda x: mg.linalg.det(x), lambda x: torch.linalg.det(x), singular[:1], atol=1e-7)
    # a zero row: the gradient is that row's cofactors, (-3, 6, -3); PyTorch 2.13 gives zeros
    # there, minigrad the exact derivative (central differences agree)
    compare(lambda x: mg.linalg.det(x), lambda x: torch.linalg.det(x), singular, grad=False)
    assert_grad_matches_numeric(lambda x: mg.linalg.det(x), singular)
    x = mg.tensor(singular[1], requires_grad=True)
    mg.linalg.det(x).backward()
    np.testing.assert_allclose(x.grad._data[0], [-3.0, 6.0, -3.0], atol=1e-12)
    with pytest.raises(RuntimeError, match="linalg.inv: the matrix is singular"):
        mg.linalg.inv(mg.tensor(singular[0]))
    with pytest.raises(RuntimeError, match="linalg.det: A must be a batch of square"):
        mg.linalg.det(mg.zeros(2, 3))
