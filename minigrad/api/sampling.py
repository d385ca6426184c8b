"""Sampling and index-generating functions: ``bernoulli``, ``multinomial``, ``normal``,
``tril_indices``, ``triu_indices``, declared once with their method and in-place spellings."""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.creation import _generator
from minigrad.declare import attach, op
from minigrad.device import check_device
from minigrad.errors import OpError
from minigrad.ops.sampling import Bernoulli, Normal
from minigrad.tensor import DEFAULT_FLOAT, Tensor, _as_dtype, _is_float, _wrap


def _float_input(input: Tensor, op_name: str) -> None:
    if not _is_float(input._data.dtype):
        raise OpError(f"{op_name}: expected a floating point tensor, got {input.dtype}")


def _bernoulli_draws(shape: tuple[int, ...], p: Any, generator: Any, op_name: str
                     ) -> np.ndarray:
    """Booleans of ``shape``, each True with probability ``p`` (a number or a tensor)."""
    probs = p._data if isinstance(p, Tensor) else np.asarray(p, dtype=np.float64)
    if np.any((probs < 0) | (probs > 1)) or np.any(np.isnan(probs)):
        raise OpError(f"{op_name}: all probabilities must be in [0, 1]")
    return _generator(generator).random(shape) < probs


@op()
def bernoulli(input: Tensor, p: Any = None, *, generator: Any = None) -> Tensor:
    """0/1 samples, 1 with probability ``input`` (or with probability ``p`` when given), in
    input's dtype. The gradient with respect to the probabilities is zero, as in PyTorch."""
    _float_input(input, "bernoulli")
    draws = _bernoulli_draws(input.shape, input if p is None else p, generator, "bernoulli")
    return Bernoulli.apply(input, samples=draws.astype(input._data.dtype))


def bernoulli_(self: Tensor, p: Any = 0.5, *, generator: Any = None) -> Tensor:
    """Fill with 0/1 samples, 1 with probability ``p`` (a number or a tensor)."""
    return self._fill_random(_bernoulli_draws(self.shape, p, generator, "bernoulli_"))


attach("bernoulli_", bernoulli_)


@op()
def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,
                generator: Any = None) -> Tensor:
    """Indices drawn from the categories of each row of ``input`` (non-negative weights,
    1-D or 2-D), int64; without replacement each category at most once."""
    if input.ndim not in (1, 2):
        raise OpError(f"multinomial: prob_dist must be 1 or 2 dim, got shape {input.shape}")
    _float_input(input, "multinomial")
    weights = input._data.astype(np.float64).reshape(-1, input.shape[-1])
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise OpError("multinomial: probability tensor contains either `inf`, `nan` or "
                      "element < 0")
    if np.any(weights.sum(axis=1) <= 0):
        raise OpError("multinomial: invalid multinomial distribution (sum of probabilities <= 0)")
    categories = weights.shape[1]
    if not isinstance(num_samples, (int, np.integer)) or num_samples <= 0:
        raise OpError(f"multinomial: cannot sample {num_samples!r} samples; num_samples must be "
                      "a positive integer")
    if not replacement and num_samples > categories:
        raise OpError(f"multinomial: cannot sample n_sample > prob_dist.size(-1) samples "
                      f"without replacement ({num_samples} > {categories})")
    rng = _generator(generator)
    if replacement:
        cdf = np.cumsum(weights, axis=1)
        cdf /= cdf[:, -1:]
        u = rng.random((weights.shape[0], num_samples))
        picks = (u[:, :, None] >= cdf[:, None, :]).sum(axis=2)
        picks = np.minimum(picks, categories - 1)
    else:
        # Gumbel top-k: the order of log(w) + Gumbel noise is sequential sampling without
        # replacement with probabilities proportional to w
        with np.errstate(divide="ignore"):
            keys = np.log(weights) - np.log(-np.log(rng.random(weights.shape)))
        picks = np.argsort(-keys, axis=1, kind="stable")[:, :num_samples]
    out = picks.astype(np.int64)
    return _wrap(out.reshape(num_samples) if input.ndim == 1 else out)


@op(method=False, reason="draws from a distribution given by numbers or tensors")
def normal(mean: Any = 0.0, std: Any = 1.0, size: Any = None, *, generator: Any = None,
           dtype: Any = None, layout: Any = None, device: Any = None,
           requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """Normal samples: ``normal(mean_tensor, std_tensor)`` (broadcast), ``normal(mean, std,
    size)`` with numbers. The gradient with respect to mean and std is zero, as in PyTorch."""
    check_device(device, "normal()")
    tensors = [t for t in (mean, std) if isinstance(t, Tensor)]
    if not tensors:
        if size is None:
            raise TypeError("normal(): with a number mean and std, give size=")
        from minigrad.creation import _sizes

        shape = _sizes("normal", (size,))
        d = _as_dtype(dtype) or DEFAULT_FLOAT
        if float(std) < 0:
            raise OpError(f"normal: expects std >= 0.0, but found std {std}")
        values = _generator(generator).normal(float(mean), float(std), shape).astype(d)
        t = _wrap(values)
        if requires_grad:
            t.requires_grad_(True)
        return t
    if size is not None:
        raise TypeError("normal(): size= goes only with a number mean and std")
    for t in tensors:
        _float_input(t, "normal")
    m = mean._data if isinstance(mean, Tensor) else np.asarray(mean)
    s = std._data if isinstance(std, Tensor) else np.asarray(std)
    if np.any(s < 0):
        raise OpError("normal: expects all elements of std >= 0.0")
    try:
        shape = np.broadcast_shapes(np.shape(m), np.shape(s))
    except ValueError:
        raise OpError(f"normal: mean of shape {np.shape(m)} and std of shape {np.shape(s)} do "
                      "not broadcast") from None
    d = np.result_type(*[t._data.dtype for t in tensors])
    values = (m + s * _generator(generator).standard_normal(shape)).astype(d)
    return Normal.apply(*tensors, samples=values)


def _indices(op_name: str, lower: bool, row: int, col: int, offset: int, dtype: Any,
             device: Any) -> Tensor:
    check_device(device, f"{op_name}()")
    for name, v in (("row", row), ("col", col)):
        if not isinstance(v, (int, np.integer)) or v < 0:
            raise OpError(f"{op_name}: {name} must be a non-negative integer, got {v!r}")
    pick = np.tril_indices if lower else np.triu_indices
    rows, cols = pick(int(row), int(offset), int(col))
    d = _as_dtype(dtype) or np.dtype(np.int64)
    if d.kind not in "iu":
        raise OpError(f"{op_name}: dtype must be an integer type, got {d}")
    return _wrap(np.stack([rows, cols]).astype(d).reshape(2, -1))


@op(method=False, reason="creates index tensors from sizes")
def tril_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None,
                 device: Any = None, layout: Any = None) -> Tensor:
    """The (2, N) row and column indices of the lower triangle of a row x col matrix."""
    return _indices("tril_indices", True, row, col, offset, dtype, device)


@op(method=False, reason="creates index tensors from sizes")
def triu_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None,
                 device: Any = None, layout: Any = None) -> Tensor:
    """The (2, N) row and column indices of the upper triangle of a row x col matrix."""
    return _indices("triu_indices", False, row, col, offset, dtype, device)
