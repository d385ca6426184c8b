"""MatMul: 1-D, 2-D and batched inputs with broadcasting batch dimensions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import arrays, assert_grad_matches_numeric, broadcastable_shapes


@given(broadcastable_shapes(2, max_dims=2, max_side=3), st.integers(1, 4), st.integers(1, 4),
       st.integers(1, 4), st.booleans(), st.booleans(), st.data())
def test_matmul_grad_matches_numeric(batches, n, k, m, a_vector, b_vector, data):
    batch_a, batch_b = batches
    shape_a = (k,) if a_vector else batch_a + (n, k)
    shape_b = (k,) if b_vector else batch_b + (k, m)
    a = data.draw(arrays(shape_a))
    b = data.draw(arrays(shape_b))
    assert_grad_matches_numeric(lambda x, y: x @ y, a, b, reference=np.matmul)


def test_matmul_misaligned_message_is_exact():
    with pytest.raises(ValueError) as info:
        mg.ones(3, 4) @ mg.ones(5, 2)
    assert str(info.value) == "matmul: shapes (3, 4) and (5, 2) are not aligned (4 != 5)"


def test_matmul_other_errors_name_shapes():
    with pytest.raises(ValueError, match=r"matmul: batch dimensions \(2,\) and \(3,\)"):
        mg.ones(2, 3, 4) @ mg.ones(3, 4, 5)
    with pytest.raises(ValueError, match="at least 1 dimension"):
        mg.matmul(mg.ones(()), mg.ones(3))
    with pytest.raises(ValueError, match=r"\(4,\) and \(3,\)"):
        mg.ones(4) @ mg.ones(3)


def test_matmul_dtypes_and_ndarray_operand():
    a = mg.ones(2, 3)
    assert (a @ mg.ones(3)).dtype == np.float32
    assert (a @ np.ones((3, 2), dtype=np.float32)).shape == (2, 2)
    assert (np.ones((4, 2), dtype=np.float32) @ a).shape == (4, 3)
    assert (mg.ones(2, 3, dtype=mg.float64) @ mg.ones(3, dtype=mg.float64)).dtype == np.float64


def test_matmul_only_computes_needed_gradients():
    a = mg.randn(2, 3, requires_grad=True)
    b = mg.randn(3, 4)
    (a @ b).sum().backward()
    assert b.grad is None
    np.testing.assert_allclose(a.grad.detach().numpy(), np.ones((2, 4)) @ b.detach().numpy().T,
                               rtol=1e-6)
