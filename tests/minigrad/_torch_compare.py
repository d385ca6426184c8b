"""Run one op in minigrad and in PyTorch on the same arrays; compare values, dtypes, shapes and
(for floating outputs) gradients. Shared by the reduction and indexing surface tests."""

from __future__ import annotations

from typing import Any

import numpy as np

import minigrad as mg


def dtype_name(t: Any) -> str:
    if isinstance(t, mg.Tensor):
        return t._data.dtype.name
    return str(t.dtype).replace("torch.", "")


def _outputs(result: Any) -> list:
    if isinstance(result, (tuple, list)):
        return [r for part in result for r in _outputs(part)]
    return [result]


def _array(t: Any) -> np.ndarray:
    if isinstance(t, mg.Tensor):
        return t.detach()._data
    return t.detach().numpy()


def compare(mg_fn: Any, torch_fn: Any, *arrays: np.ndarray, grad: bool = True,
            rtol: float = 1e-6, atol: float = 1e-9, equal_nan: bool = True) -> list:
    """Compare ``mg_fn(*tensors)`` with ``torch_fn(*tensors)``: values (NaN equal), dtypes and
    shapes of every output; then, with ``grad``, the gradients of a random projection of the
    floating outputs with respect to every floating input."""
    import torch

    wants = [grad and np.asarray(a).dtype.kind == "f" for a in arrays]
    mg_in = [mg.tensor(np.array(a), requires_grad=w) for a, w in zip(arrays, wants)]
    torch_in = [torch.tensor(np.array(a), requires_grad=w) for a, w in zip(arrays, wants)]
    mg_out, torch_out = _outputs(mg_fn(*mg_in)), _outputs(torch_fn(*torch_in))
    assert len(mg_out) == len(torch_out), (len(mg_out), len(torch_out))
    for i, (m, t) in enumerate(zip(mg_out, torch_out)):
        assert tuple(m.shape) == tuple(t.shape), f"output {i}: shape {m.shape} != {t.shape}"
        assert dtype_name(m) == dtype_name(t), f"output {i}: {dtype_name(m)} != {dtype_name(t)}"
        np.testing.assert_allclose(_array(m).astype(np.float64), _array(t).astype(np.float64),
                                   rtol=rtol, atol=atol, equal_nan=equal_nan,
                                   err_msg=f"output {i} differs from torch")
    if not any(wants):
        return mg_out
    rng = np.random.default_rng(0)
    pairs = [(m, t) for m, t in zip(mg_out, torch_out)
             if dtype_name(t).startswith("float") and t.requires_grad]
    if not pairs:
        return mg_out
    weights = [rng.standard_normal(tuple(t.shape)) for _, t in pairs]
    # flattened first: products of 0-d operands are NumPy scalars, not arrays, in the engine
    mg_loss = sum((m.reshape(-1) * mg.tensor(w.reshape(-1), dtype=m._data.dtype)).sum()
                  for (m, _), w in zip(pairs, weights))
    torch_loss = sum((t * torch.tensor(w, dtype=t.dtype)).sum()
                     for (_, t), w in zip(pairs, weights))
    mg_loss.backward()
    torch_loss.backward()
    for i, (m, t) in enumerate(zip(mg_in, torch_in)):
        if not wants[i]:
            continue
        expected = t.grad.numpy() if t.grad is not None else np.zeros(t.shape)
        got = m.grad._data if m.grad is not None else np.zeros(m.shape)
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7,
                                   err_msg=f"gradient of input {i} differs from torch")
    return mg_out
