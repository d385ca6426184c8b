"""Scatter primitives: write ``src`` into a copy of ``a`` at ``index`` along ``axis``.

The index may be smaller than ``a`` and ``src`` in every dimension (PyTorch's rule): only
``src[:index.shape]`` is used. Callers validate the index; these primitives assume it is in
range and non-negative.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from minigrad.autograd.engine import Context, Primitive
from minigrad.ops.reduce import along_axis_index

if TYPE_CHECKING:
    from minigrad.tensor import Tensor


def _leading(shape: tuple[int, ...]) -> tuple[slice, ...]:
    """The corner of an array that an index of ``shape`` addresses."""
    return tuple(slice(0, n) for n in shape)


def _gathered_into(src_shape: tuple[int, ...], index_shape: tuple[int, ...],
                   values: np.ndarray) -> np.ndarray:
    """A zero array of ``src_shape`` holding ``values`` (of ``index_shape``) in its corner."""
    out = np.zeros(src_shape, dtype=values.dtype)
    out[_leading(index_shape)] = values
    return out


class Scatter(Primitive):
    """out = a; out[index[i]] = src[i] along ``axis`` (torch.scatter with a src tensor)."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, src: np.ndarray, index: np.ndarray, axis: int
                ) -> np.ndarray:
        ctx.position = along_axis_index(index, axis)
        ctx.src_shape, ctx.index_shape = src.shape, index.shape
        out = a.copy()
        out[ctx.position] = src[_leading(index.shape)]
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        need_a, need_src = ctx.needs_input_grad
        if not isinstance(grad, np.ndarray):  # create_graph=True: a mask and a pick, as ops
            return _scatter_backward_on_tensors(ctx, grad)
        grad_a = grad_src = None
        if need_a:
            grad_a = grad.copy()
            grad_a[ctx.position] = 0
        if need_src:
            grad_src = _gathered_into(ctx.src_shape, ctx.index_shape, grad[ctx.position])
        return grad_a, grad_src


def _scatter_backward_on_tensors(ctx: Context, grad: Any) -> tuple[Tensor | None, ...]:
    """Scatter's backward on Tensors: grad with the written positions zeroed, and grad at
    those positions placed into the corner of a zero array of src's shape."""
    from minigrad.ops.shape import GetItem, Pad

    need_a, need_src = ctx.needs_input_grad
    grad_a = grad_src = None
    if need_a:
        keep = np.ones(grad.shape, dtype=bool)
        keep[ctx.position] = False
        grad_a = grad * keep
    if need_src:
        picked = GetItem.apply(grad, index=ctx.position)
        pad_width = tuple((0, s - n) for s, n in zip(ctx.src_shape, ctx.index_shape))
        grad_src = Pad.apply(picked, pad_width=pad_width, value=0.0)
    return grad_a, grad_src


_IDENTITY = {"sum": 0, "mean": 0, "prod": 1}
_UFUNC = {"sum": np.add, "mean": np.add, "prod": np.multiply, "amax": np.maximum,
          "amin": np.minimum}


def _extreme_identity(dtype: np.dtype, reduce: str) -> object:
    if dtype.kind == "f":
        return -np.inf if reduce == "amax" else np.inf
    if dtype.kind == "b":
        return reduce == "amin"
    info = np.iinfo(dtype)
    return info.min if reduce == "amax" else info.max


class ScatterReduce(Primitive):
    """torch.scatter_reduce: combine ``src`` into ``a`` at ``index`` along ``axis`` by
    sum, prod, mean, amax or amin; with ``include_self=False`` the scattered positions of
    ``a`` do not take part. Tied amax/amin share the gradient evenly; prod's gradient is the
    product of the other contributions (exact with zeros)."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, src: np.ndarray, index: np.ndarray, axis: int,
                reduce: str, include_self: bool) -> np.ndarray:
        position = along_axis_index(index, axis)
        values = src[_leading(index.shape)]
        out = a.copy()
        if not include_self:
            identity = _IDENTITY.get(reduce)
            out[position] = _extreme_identity(a.dtype, reduce) if identity is None else identity
        _UFUNC[reduce].at(out, position, values)
        count = None
        if reduce == "mean":
            count = np.ones(a.shape, np.int64) if include_self else np.zeros(a.shape, np.int64)
            np.add.at(count, position, 1)
            scattered = np.zeros(a.shape, bool)
            scattered[position] = True
            divisor = np.maximum(count, 1)
            mean = out / divisor if a.dtype.kind == "f" else out // divisor
            out = np.where(scattered, mean, a).astype(a.dtype)
        ctx.save_for_backward(a, values, out)
        ctx.position, ctx.count = position, count
        ctx.src_shape, ctx.index_shape = src.shape, index.shape
        ctx.reduce, ctx.include_self = reduce, include_self
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        if not isinstance(grad, (np.ndarray, np.generic)):  # create_graph=True
            return _scatter_reduce_backward_on_tensors(ctx, grad)
        a, values, out = ctx.saved
        position, reduce = ctx.position, ctx.reduce
        scattered = np.zeros(a.shape, bool)
        scattered[position] = True
        self_counts = ctx.include_self | ~scattered  # where a's own value took part
        if reduce == "sum":
            grad_a, grad_values = grad * self_counts, grad[position]
        elif reduce == "mean":
            share = grad / np.maximum(ctx.count, 1)
            grad_a = np.where(scattered, share * ctx.include_self, grad)
            grad_values = share[position]
        elif reduce == "prod":
            grad_a, grad_values = _prod_backward(a, values, out, grad, position, self_counts)
        else:
            self_ties = self_counts & (a == out)
            value_ties = values == out[position]
            ties = self_ties.astype(np.int64)
            np.add.at(ties, position, value_ties)
            share = grad / np.maximum(ties, 1)
            grad_a, grad_values = share * self_ties, share[position] * value_ties
        grad_src = _gathered_into(ctx.src_shape, ctx.index_shape, grad_values.astype(grad.dtype))
        return grad_a.astype(grad.dtype), grad_src


def _prod_backward(a: np.ndarray, values: np.ndarray, out: np.ndarray, grad: np.ndarray,
                   position: tuple[Any, ...], self_counts: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """The product of the other contributions to each output, for self and for each value:
    out / v where no contribution is zero, the product of the non-zero ones for the one zero,
    and 0 where two or more are zero."""
    own = np.where(self_counts, a, 1)
    zeros = (own == 0).astype(np.int64)
    np.add.at(zeros, position, values == 0)
    nonzero = np.where(own == 0, 1, own)
    np.multiply.at(nonzero, position, np.where(values == 0, 1, values))

    def others(v: np.ndarray, total: np.ndarray, zero_count: np.ndarray,
               nonzero_product: np.ndarray) -> np.ndarray:
        safe = np.where(v == 0, 1, v)
        return np.where(zero_count == 0, total / safe,
                        np.where((zero_count == 1) & (v == 0), nonzero_product, 0))

    grad_a = grad * self_counts * others(a, out, zeros, nonzero)
    grad_values = grad[position] * others(values, out[position], zeros[position],
                                          nonzero[position])
    return grad_a, grad_values


def _scatter_reduce_backward_on_tensors(ctx: Context, grad: Any) -> tuple[Tensor | None, ...]:
    """ScatterReduce's backward on Tensors. For sum, mean, amax and amin it is linear in the
    gradient, with weights (counts, ties) that are constants of the derivative; for prod the
    products of the other contributions are taken over a dense (outputs, contributions)
    table, as exclusive cumulative products (exact with zeros at every order)."""
    from minigrad.autograd.higher_order import scatter_add_into
    from minigrad.ops.reduce import _products_of_others_on_tensors
    from minigrad.ops.shape import Pad
    from minigrad.tensor import _wrap, cat

    a_array, values_array, out_array = (_data_of(v) for v in ctx.saved)
    a, src = ctx.graph_inputs[:2]
    position, reduce = ctx.position, ctx.reduce
    dtype = a_array.dtype
    scattered = np.zeros(a_array.shape, bool)
    scattered[position] = True
    self_counts = ctx.include_self | ~scattered
    if reduce == "prod":
        values = src[_leading(ctx.index_shape)]
        flat = np.ravel_multi_index(np.broadcast_arrays(*position), a_array.shape).reshape(-1)
        order = np.argsort(flat, kind="stable")
        first = np.searchsorted(flat[order], flat[order], side="left")
        rank = np.empty_like(flat)
        rank[order] = np.arange(flat.size) - first
        slots = 1 + (int(rank.max()) + 1 if flat.size else 0)
        own = a.reshape(-1) * _wrap(self_counts.reshape(-1).astype(dtype)) + _wrap(
            (~self_counts).reshape(-1).astype(dtype))
        filled = np.zeros((a_array.size, slots - 1), dtype)
        filled[flat, rank] = 1
        table = cat([own.unsqueeze(-1), scatter_add_into(filled.shape, (flat, rank),
                                                         values.reshape(-1))
                     + _wrap(1 - filled)], -1)
        others = _products_of_others_on_tensors(table)
        grad_a = grad * _wrap(self_counts.astype(dtype)) * others[:, 0].reshape(a_array.shape)
        grad_values = grad[position] * others[flat, 1 + rank].reshape(ctx.index_shape)
    else:
        if reduce == "sum":
            weight_a, weight_values = self_counts.astype(dtype), np.ones((), dtype)
        elif reduce == "mean":
            share = 1 / np.maximum(ctx.count, 1)
            weight_a = np.where(scattered, share * ctx.include_self, 1).astype(dtype)
            weight_values = share[position].astype(dtype)
        else:
            self_ties = self_counts & (a_array == out_array)
            value_ties = values_array == out_array[position]
            ties = self_ties.astype(np.int64)
            np.add.at(ties, position, value_ties)
            share = 1 / np.maximum(ties, 1)
            weight_a = (share * self_ties).astype(dtype)
            weight_values = (share[position] * value_ties).astype(dtype)
        grad_a = grad * _wrap(weight_a)
        grad_values = grad[position] * _wrap(weight_values)
    need_a, need_src = ctx.needs_input_grad
    pad_width = tuple((0, s - n) for s, n in zip(ctx.src_shape, ctx.index_shape))
    grad_src = Pad.apply(grad_values, pad_width=pad_width, value=0.0) if need_src else None
    return (grad_a if need_a else None), grad_src


def _data_of(value: Any) -> Any:
    """The array of a saved value (a graph Tensor under create_graph=True)."""
    return getattr(value, "_data", value)


class AddAt(Primitive):
    """out = a with ``value`` added at ``index`` (any NumPy index; repeated positions add up):
    ``index_put(..., accumulate=True)``."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, value: np.ndarray, index: tuple[Any, ...]
                ) -> np.ndarray:
        ctx.index, ctx.value_shape = index, value.shape
        out = a.copy()
        np.add.at(out, index, value)
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        need_a, need_value = ctx.needs_input_grad
        # value broadcast into the selection: the engine sums its gradient back to its shape
        return (grad if need_a else None), (grad[ctx.index] if need_value else None)
