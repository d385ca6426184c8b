"""Shape ops against PyTorch (values, gradients, dtypes) and against numerical gradients."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import arrays, assert_grad_matches_numeric

torch = pytest.importorskip("torch")

X = np.arange(24, dtype=np.float64).reshape(2, 3, 4) * 0.37 - 2.0
M = np.arange(12, dtype=np.float64).reshape(3, 4) * 0.5 - 1.0
V = np.array([1.5, -2.0, 0.5])

CASES = {
    "tril": (lambda lib, a: lib.tril(a, diagonal=1), [X]),
    "triu": (lambda lib, a: lib.triu(a, -1), [X]),
    "diagonal": (lambda lib, a: lib.diagonal(a, offset=1, dim1=2, dim2=0), [X]),
    "diag_matrix": (lambda lib, a: lib.diag(a, 1), [M]),
    "diag_vector": (lambda lib, a: lib.diag(a, -1), [V]),
    "diag_embed": (lambda lib, a: lib.diag_embed(a, offset=1, dim1=0, dim2=2), [M]),
    "diagflat": (lambda lib, a: lib.diagflat(a, 1), [M]),
    "trace": (lambda lib, a: lib.trace(a), [M]),
    "roll": (lambda lib, a: lib.roll(a, (1, -2), (0, 2)), [X]),
    "roll_flat": (lambda lib, a: lib.roll(a, 5), [X]),
    "rot90": (lambda lib, a: lib.rot90(a, 1, (1, 2)), [X]),
    "rot90_3": (lambda lib, a: lib.rot90(a, -1, (0, 2)), [X]),
    "movedim": (lambda lib, a: lib.movedim(a, (0, 1), (2, 0)), [X]),
    "swapdims": (lambda lib, a: lib.swapdims(a, 0, 2), [X]),
    "narrow": (lambda lib, a: lib.narrow(a, 2, 1, 2), [X]),
    "tensor_split": (lambda lib, a: lib.tensor_split(a, 3, dim=2), [X]),
    "tensor_split_idx": (lambda lib, a: lib.tensor_split(a, [1, 3], dim=2), [X]),
    "hsplit": (lambda lib, a: lib.hsplit(a, 2), [M]),
    "vsplit": (lambda lib, a: lib.vsplit(a, [1]), [M]),
    "dsplit": (lambda lib, a: lib.dsplit(a, 2), [X]),
    "hstack": (lambda lib, a, b: lib.hstack([a, b]), [M, M]),
    "vstack": (lambda lib, a, b: lib.vstack([a, b]), [V, V]),
    "dstack": (lambda lib, a, b: lib.dstack([a, b]), [M, M]),
    "column_stack": (lambda lib, a, b: lib.column_stack([a, b]), [V, M[:, :3].T]),
    "meshgrid_ij": (lambda lib, a, b: lib.meshgrid(a, b, indexing="ij"), [V, M[0]]),
    "meshgrid_xy": (lambda lib, a, b: lib.meshgrid(a, b, indexing="xy"), [V, M[0]]),
    "broadcast_tensors": (lambda lib, a, b: lib.broadcast_tensors(a, b), [V[:, None], M[0]]),
    "atleast_3d": (lambda lib, a, b: lib.atleast_3d(a, b), [V, M]),
    "einsum_matmul": (lambda lib, a, b: lib.einsum("ij,jk->ik", a, b), [M, M.T]),
    "einsum_batch": (lambda lib, a, b: lib.einsum("bij,kj->bik", a, b), [X, M]),
    "einsum_implicit": (lambda lib, a, b: lib.einsum("ij,ij", a, b), [M, M]),
    "einsum_sum_out": (lambda lib, a, b: lib.einsum("ij,k->j", a, b), [M, V]),
    "einsum_ellipsis": (lambda lib, a, b: lib.einsum("...j,j->...", a, b), [X, M[0]]),
    "einsum_trace": (lambda lib, a: lib.einsum("ii->i", a), [M[:, :3]]),
    "outer": (lambda lib, a, b: lib.outer(a, b), [V, M[0]]),
    "ger": (lambda lib, a, b: lib.ger(a, b), [V, M[0]]),
    "kron": (lambda lib, a, b: lib.kron(a, b), [M[:2, :2], M]),
    "tile": (lambda lib, a: lib.tile(a, (2, 1, 1, 2)), [X]),
    "cross": (lambda lib, a, b: lib.cross(a, b, dim=1), [M[:, :3].T, M[:, 1:].T]),
    "matmul_empty": (lambda lib, a, b: a @ b, [np.zeros((0, 3)), M[:, :2]]),
    "matmul_empty_k": (lambda lib, a, b: a @ b, [np.zeros((2, 0)), np.zeros((0, 3))]),
}


def _flat(result):
    return list(result) if isinstance(result, (tuple, list)) else [result]


@pytest.mark.parametrize("name", sorted(CASES))
def test_shape_op_matches_torch(name):
    fn, inputs = CASES[name]
    ours = [mg.tensor(a, requires_grad=True) for a in inputs]
    theirs = [torch.tensor(a, requires_grad=True) for a in inputs]
    out_m, out_t = _flat(fn(mg, *ours)), _flat(fn(torch, *theirs))
    assert len(out_m) == len(out_t)
    total_m = total_t = 0
    for m, t in zip(out_m, out_t):
        assert tuple(m.shape) == tuple(t.shape)
        assert str(m.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
        np.testing.assert_allclose(m.detach().numpy(), t.detach().numpy(), rtol=1e-12)
        weight = np.linspace(0.5, 1.5, max(m.numel(), 1))[: m.numel()].reshape(tuple(m.shape))
        total_m = total_m + (m * mg.tensor(weight)).sum()
        total_t = total_t + (t * torch.tensor(weight)).sum()
    total_m.backward()
    total_t.backward()
    for m, t in zip(ours, theirs):
        expected = np.zeros(m.shape) if t.grad is None else t.grad.numpy()
        got = np.zeros(m.shape) if m.grad is None else m.grad.numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_integer_inputs_keep_their_dtype():
    i = np.arange(12).reshape(3, 4)
    for fn in (lambda lib, a: lib.tril(a), lambda lib, a: lib.roll(a, 1, 0),
               lambda lib, a: lib.diagonal(a), lambda lib, a: lib.rot90(a)):
        m, t = fn(mg, mg.tensor(i)), fn(torch, torch.tensor(i))
        assert str(m.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
        np.testing.assert_array_equal(m.numpy(), t.numpy())


def test_broadcast_shapes_and_errors():
    assert mg.broadcast_shapes((2, 1), (3,), 1) == tuple(torch.broadcast_shapes((2, 1), (3,), 1))
    with pytest.raises(RuntimeError, match="broadcast_shapes"):
        mg.broadcast_shapes((2,), (3,))
    with pytest.raises(RuntimeError, match="einsum"):
        mg.einsum("ij,jk->ik", mg.ones(2, 3), mg.ones(4, 2))
    with pytest.raises(RuntimeError, match="einsum"):
        mg.einsum("ij->ik", mg.ones(2, 3))
    with pytest.raises(RuntimeError, match="narrow"):
        mg.narrow(mg.ones(3), 0, 2, 2)


small = st.integers(1, 3)


@given(st.tuples(small, small, small).flatmap(lambda s: st.tuples(
    arrays((s[0], s[1])), arrays((s[1], s[2])), st.integers(-2, 2))))
def test_shape_op_grads_match_numeric(case):
    a, b, k = case
    assert_grad_matches_numeric(lambda x, y: mg.einsum("ij,jk->ik", x, y), a, b)
    assert_grad_matches_numeric(lambda x: mg.tril(x, k) + mg.triu(x, k), a)
    assert_grad_matches_numeric(lambda x: mg.diagonal(x, k, 0, 1), a)
    assert_grad_matches_numeric(lambda x: mg.roll(x, k, 1), a)
    assert_grad_matches_numeric(lambda x, y: mg.kron(x, y), a, b)
    assert_grad_matches_numeric(lambda x: mg.diag_embed(x, k), a)
