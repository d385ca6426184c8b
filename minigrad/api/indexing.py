"""Indexing, selection and ordering: gather/scatter, index_*, masked_*, take, nonzero, select,
sort/argsort/topk, unique, searchsorted/bucketize.

Every index is checked against the size of the dimension it indexes: an out-of-range (or,
where PyTorch forbids it, negative) index raises an error naming the op, the bad value and the
valid range instead of reading or writing the wrong element.
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple, overload

import numpy as np

from minigrad.api.reductions import accepts_axis, one_axis
from minigrad.declare import op
from minigrad.errors import OpError
from minigrad.ops import elementwise as ew
from minigrad.ops import reduce, shape
from minigrad.ops.indexing import AddAt, Scatter, ScatterReduce
from minigrad.tensor import Tensor, ValuesIndices, _one_dim, _wrap

_INT64 = np.dtype(np.int64)


class SortResult(NamedTuple):
    """``(values, indices)``, as ``sort`` returns."""

    values: Tensor
    indices: Tensor


def index_array(op_name: str, index: Any, name: str = "index") -> np.ndarray:
    """The integer ndarray of an index tensor (PyTorch wants int64 or int32)."""
    if not isinstance(index, Tensor):
        raise TypeError(
            f"{op_name}: argument '{name}' must be a Tensor of int64, not "
            f"{type(index).__name__}; use minigrad.tensor(..., dtype=minigrad.int64)"
        )
    array = index._data
    if array.dtype.kind not in "iu":
        raise OpError(
            f"{op_name}: expected an int64 or int32 {name}, got dtype {array.dtype}; convert "
            f"it first, e.g. {name}.long()"
        )
    return array


def check_range(op_name: str, index: np.ndarray, size: int, dim: int,
                negative: bool = False, error: type[Exception] = OpError) -> np.ndarray:
    """Raise ``error`` unless every index is in [0, size) ([-size, size) with ``negative``);
    returns the indices made non-negative."""
    if index.size:
        low, high = index.min(), index.max()
        lowest = -size if negative else 0
        if low < lowest or high >= size:
            bad = low if low < lowest else high
            valid = f"{lowest} to {size - 1}" if size else "none (the dimension is empty)"
            raise error(
                f"{op_name}: index {bad} is out of bounds for dimension {dim} with size "
                f"{size}; valid indices: {valid}"
            )
    if negative and index.size and index.min() < 0:
        return np.where(index < 0, index + size, index)
    return index


def _same_rank(op_name: str, input: Tensor, index: np.ndarray, other: str = "input") -> None:
    if index.ndim != input.ndim and not (index.ndim <= 1 and input.ndim <= 1):
        raise OpError(
            f"{op_name}: index tensor must have the same number of dimensions as the {other} "
            f"tensor (index shape {index.shape}, {other} shape {input.shape})"
        )


def _fits(op_name: str, index: np.ndarray, target: tuple[int, ...], axis: int | None,
          what: str) -> None:
    if index.size == 0:  # PyTorch: an empty index fits anything
        return
    for d, (n, m) in enumerate(zip(index.shape, target)):
        if d != axis and n > m:
            apart = "" if axis is None else f" apart from dimension {axis}"
            raise OpError(
                f"{op_name}: size does not match at dimension {d}: expected index "
                f"{list(index.shape)} to be no larger than {what} {list(target)}{apart}"
            )


def _as_1d(input: Tensor, index: np.ndarray) -> tuple[Tensor, np.ndarray, bool]:
    """0-d input and index become 1-D (PyTorch treats a 0-d tensor as having one dim)."""
    if input.ndim == 0:
        return input.reshape(1), index.reshape(-1) if index.ndim == 0 else index, True
    return input, index, False


# ------------------------------------------------------------------------------ gather / scatter


@op()
@accepts_axis
def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:
    """out[i][j] = input[i][index[i][j]] along ``dim`` (index no larger than input apart from
    ``dim``); out has index's shape."""
    idx = index_array("gather", index)
    _same_rank("gather", input, idx)
    x, flat_idx, scalar = _as_1d(input, idx)
    axis = one_axis(dim, x.ndim, "gather")
    _fits("gather", flat_idx, x.shape, axis, "input")
    check_range("gather", flat_idx, x.shape[axis], dim)
    out = reduce.Gather.apply(x, index=flat_idx, axis=axis)
    return out.reshape(idx.shape) if scalar else out


def _scatter_args(op_name: str, input: Tensor, dim: int, index: Tensor, src: Any
                  ) -> tuple[Tensor, Tensor, np.ndarray, int, bool]:
    idx = index_array(op_name, index)
    _same_rank(op_name, input, idx, "self")
    x, flat_idx, scalar = _as_1d(input, idx)
    axis = one_axis(dim, x.ndim, op_name)
    if isinstance(src, Tensor):
        source = src.reshape(1) if src.ndim == 0 and x.ndim == 1 and flat_idx.ndim == 1 else src
        if source.ndim != flat_idx.ndim:
            raise OpError(
                f"{op_name}: index and src must have the same number of dimensions (index "
                f"shape {idx.shape}, src shape {src.shape})"
            )
        if source._data.dtype != x._data.dtype:
            raise OpError(
                f"{op_name}: expected self.dtype to be equal to src.dtype, got "
                f"{x._data.dtype} and {source._data.dtype}; convert src first, e.g. "
                "src.to(input.dtype)"
            )
        _fits(op_name, flat_idx, source.shape, None, "src")
    else:
        source = _wrap(np.full(flat_idx.shape, src, dtype=x._data.dtype))
    assert axis is not None  # x is at least 1-d
    _fits(op_name, flat_idx, x.shape, axis, "self")
    check_range(op_name, flat_idx, x.shape[axis], dim)
    return x, source, flat_idx, axis, scalar


def _restore(out: Tensor, input: Tensor, scalar: bool) -> Tensor:
    return out.reshape(input.shape) if scalar else out


@op(inplace=True)
@accepts_axis
def scatter(input: Tensor, dim: int, index: Tensor, src: Any = None, value: Any = None, *,
            reduce: str | None = None) -> Tensor:
    """A copy of input with out[index[i][j]][j] = src[i][j] along ``dim`` (src a tensor or a
    number); ``reduce='add'`` or ``'multiply'`` combines instead of replacing."""
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter: give src (a tensor) or value (a number)")
    x, source, idx, axis, scalar = _scatter_args("scatter", input, dim, index, src)
    if reduce is None:
        out = Scatter.apply(x, source, index=idx, axis=axis)
    else:
        modes = {"add": "sum", "multiply": "prod"}
        if reduce not in modes:
            raise OpError(f"scatter: reduce must be 'add' or 'multiply', got {reduce!r}")
        out = ScatterReduce.apply(x, source, index=idx, axis=axis, reduce=modes[reduce],
                                  include_self=True)
    return _restore(out, input, scalar)


@op(inplace=True)
@accepts_axis
def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """A copy of input with src added at index along ``dim`` (repeated indices accumulate)."""
    x, source, idx, axis, scalar = _scatter_args("scatter_add", input, dim, index, src)
    out = ScatterReduce.apply(x, source, index=idx, axis=axis, reduce="sum", include_self=True)
    return _restore(out, input, scalar)


@op(inplace=True)
@accepts_axis
def scatter_reduce(input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """Combine src into a copy of input at index along ``dim`` by 'sum', 'prod', 'mean',
    'amax' or 'amin' (with or without input's own values at the scattered positions)."""
    reduce = {"max": "amax", "min": "amin"}.get(reduce, reduce)  # PyTorch's aliases
    if reduce not in ("sum", "prod", "mean", "amax", "amin"):
        raise OpError(
            f"scatter_reduce: reduce must be one of 'sum', 'prod', 'mean', 'amax', 'amin', got "
            f"{reduce!r}"
        )
    x, source, idx, axis, scalar = _scatter_args("scatter_reduce", input, dim, index, src)
    out = ScatterReduce.apply(x, source, index=idx, axis=axis, reduce=reduce,
                              include_self=include_self)
    return _restore(out, input, scalar)


# ------------------------------------------------------------------------------ index_*


def _vector_index(op_name: str, input: Tensor, dim: int, index: Tensor, negative: bool = False,
                  error: type[Exception] = OpError, shape_error: type[Exception] = IndexError
                  ) -> tuple[int, np.ndarray]:
    idx = index_array(op_name, index)
    if idx.ndim > 1:
        raise shape_error(f"{op_name}: index is supposed to be a vector (or a scalar), got "
                          f"shape {idx.shape}")
    axis = one_axis(dim, input.ndim, op_name)
    size = 1 if axis is None else input.shape[axis]
    return (0 if axis is None else axis), check_range(op_name, idx.reshape(-1), size, dim,
                                                      negative, error)


def _along(axis: int, idx: np.ndarray, ndim: int) -> tuple[Any, ...]:
    return (slice(None),) * axis + (idx,) + (slice(None),) * (ndim - axis - 1)


@op()
@accepts_axis
def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """The entries of input at ``index`` (a vector) along ``dim``."""
    axis, idx = _vector_index("index_select", input, dim, index)
    if input.ndim == 0:
        return input.reshape(1)[idx].reshape(idx.shape if index.ndim else ())
    return shape.GetItem.apply(input, index=_along(axis, idx, input.ndim))


def _expanded_index(op_name: str, input: Tensor, axis: int, idx: np.ndarray,
                    source: Tensor, error: type[Exception] = OpError) -> np.ndarray:
    """The gather-style index (source's shape) that puts source[..., i, ...] at idx[i]."""
    expected = list(input.shape)
    if input.ndim:
        expected[axis] = idx.size
    if list(source.shape) != expected and not (input.ndim == 0 and source.numel() == 1):
        raise error(
            f"{op_name}: source of shape {list(source.shape)} must have the shape of self "
            f"{list(input.shape)} with dimension {axis} of size len(index) = {idx.size}, "
            f"i.e. {expected}"
        )
    if input.ndim == 0:
        return idx.reshape(())
    view = [1] * input.ndim
    view[axis] = idx.size
    return np.broadcast_to(idx.reshape(view), source.shape)


@op(inplace=True)
@accepts_axis
def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha: Any = 1
              ) -> Tensor:
    """A copy of input with alpha * source[..., i, ...] added at index[i] along ``dim``."""
    axis, idx = _vector_index("index_add", input, dim, index)
    full = _expanded_index("index_add", input, axis, idx, source)
    src = source if alpha == 1 else source * alpha
    return scatter_add(input, axis, _wrap(np.ascontiguousarray(full)), src.to(input.dtype))


@op(inplace=True)
@accepts_axis
def index_reduce(input: Tensor, dim: int, index: Tensor, source: Tensor, reduce: str, *,
                 include_self: bool = True) -> Tensor:
    """Combine source[..., i, ...] into input at index[i] along ``dim`` by 'prod', 'mean',
    'amax' or 'amin' (scatter_reduce with a vector index)."""
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise OpError(f"index_reduce: reduce must be one of 'prod', 'mean', 'amax', 'amin', got "
                      f"{reduce!r}")
    axis, idx = _vector_index("index_reduce", input, dim, index, error=IndexError)
    full = _expanded_index("index_reduce", input, axis, idx, source)
    return scatter_reduce(input, axis, _wrap(np.ascontiguousarray(full)), source, reduce,
                          include_self=include_self)


@op(inplace=True)
@accepts_axis
def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """A copy of input with source[..., i, ...] written at index[i] along ``dim``."""
    axis, idx = _vector_index("index_copy", input, dim, index, error=IndexError)
    full = _expanded_index("index_copy", input, axis, idx, source, IndexError)
    return scatter(input, axis, _wrap(np.ascontiguousarray(full)), source)


@op(inplace=True)
@accepts_axis
def index_fill(input: Tensor, dim: int, index: Tensor, value: Any) -> Tensor:
    """A copy of input with ``value`` at index along ``dim`` (negative indices count back)."""
    axis, idx = _vector_index("index_fill", input, dim, index, negative=True, error=IndexError,
                              shape_error=OpError)
    mask = np.zeros(input.shape, bool)
    if input.ndim == 0:
        mask[...] = idx.size > 0
    else:
        mask[_along(axis, idx, input.ndim)] = True
    return masked_fill(input, _wrap(mask), value)


# ------------------------------------------------------------------------------ masks


def _bool_mask(op_name: str, mask: Any) -> np.ndarray:
    array = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if array.dtype != np.bool_:
        raise OpError(
            f"{op_name}: expected a boolean mask, got dtype {array.dtype}; use mask.bool() "
            "or a comparison such as x > 0"
        )
    return array


def _fill_value(op_name: str, input: Tensor, value: Any) -> Tensor:
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise OpError(
                f"{op_name}: only supports a 0-dimensional value tensor, got shape "
                f"{value.shape}; pass a number or value.squeeze()"
            )
        return value if value._data.dtype == input._data.dtype else value.to(input.dtype)
    return _wrap(np.asarray(value).astype(input._data.dtype))


@op(inplace=True)
def masked_fill(input: Tensor, mask: Tensor, value: Any) -> Tensor:
    """input with ``value`` (a number or 0-d tensor, cast to input's dtype) where mask is
    True; mask broadcasts with input."""
    cond = _bool_mask("masked_fill", mask)
    fill = _fill_value("masked_fill", input, value)
    try:
        np.broadcast_shapes(cond.shape, input.shape)
    except ValueError:
        raise OpError(
            f"masked_fill: mask of shape {cond.shape} does not broadcast with the input of "
            f"shape {input.shape}"
        ) from None
    return ew.Where.apply(fill, input, condition=cond)


@op()
def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """The 1-D tensor of input's elements where mask (broadcast with input) is True."""
    cond = _bool_mask("masked_select", mask)
    try:
        target = np.broadcast_shapes(cond.shape, input.shape)
    except ValueError:
        raise OpError(
            f"masked_select: mask of shape {cond.shape} does not broadcast with the input of "
            f"shape {input.shape}"
        ) from None
    return shape.GetItem.apply(input.broadcast_to(target),
                               index=np.broadcast_to(cond, target))


@op(inplace=True)
def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """input with its elements where mask is True replaced by source's first elements, in
    order (row-major)."""
    cond = _bool_mask("masked_scatter", mask)
    try:
        target = np.broadcast_shapes(cond.shape, input.shape)
    except ValueError:
        raise OpError(
            f"masked_scatter: mask of shape {cond.shape} does not broadcast with the input of "
            f"shape {input.shape}"
        ) from None
    if source._data.dtype != input._data.dtype:
        raise OpError(
            f"masked_scatter: expected self and source to have the same dtype, got "
            f"{input._data.dtype} and {source._data.dtype}"
        )
    full = np.broadcast_to(cond, target)
    needed = int(full.sum())
    if source.numel() < needed:
        raise OpError(
            f"masked_scatter: the mask has {needed} True elements but source has only "
            f"{source.numel()} elements (shape {source.shape})"
        )
    values = source.reshape(-1)[:needed]
    return shape.SetItem.apply(input.broadcast_to(target), values, index=full)


# ------------------------------------------------------------------------------ nonzero, take


@overload
def nonzero(input: Tensor, *, as_tuple: Literal[False] = False) -> Tensor: ...
@overload
def nonzero(input: Tensor, *, as_tuple: Literal[True]) -> tuple[Tensor, ...]: ...
@overload
def nonzero(input: Tensor, *, as_tuple: bool) -> Tensor | tuple[Tensor, ...]: ...


@op()
def nonzero(input: Tensor, *, as_tuple: bool = False) -> Tensor | tuple[Tensor, ...]:
    """Indices of the non-zero elements: an (n, ndim) int64 tensor, or one 1-D tensor per
    dim with ``as_tuple=True``."""
    a = input._data
    if as_tuple:
        return tuple(_wrap(i.astype(_INT64)) for i in np.nonzero(np.atleast_1d(a)))
    return _wrap(np.argwhere(a).astype(_INT64))


@op("where", function=False)
def where_method(input: Tensor, condition: Any, other: Any) -> Tensor:
    """``x.where(condition, y)``: x where condition is True, else y (torch.where(c, x, y))."""
    from minigrad.tensor import where

    return where(condition, input, other)


@op()
def argwhere(input: Tensor) -> Tensor:
    """Indices of the non-zero elements as an (n, ndim) int64 tensor."""
    return nonzero(input)


@op()
def take(input: Tensor, index: Tensor) -> Tensor:
    """input seen as 1-D, at ``index`` (negative indices count from the end); out has index's
    shape."""
    idx = index_array("take", index)
    n = input.numel()
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = idx.min() if idx.min() < -n else idx.max()
        raise IndexError(
            f"take: index {bad} is out of range for a tensor of {n} elements (shape "
            f"{input.shape}); valid indices: {-n} to {n - 1}"
        )
    flat = np.where(idx < 0, idx + n, idx)
    return shape.GetItem.apply(input.reshape(-1), index=flat)


@op()
@accepts_axis
def take_along_dim(input: Tensor, indices: Tensor, dim: Any = None) -> Tensor:
    """gather with broadcasting: input and indices broadcast apart from ``dim`` (None: both
    flattened)."""
    idx = index_array("take_along_dim", indices, "indices")
    if dim is None:
        return gather(input.reshape(-1), 0, _wrap(idx.reshape(-1)))
    axis = one_axis(dim, input.ndim, "take_along_dim")
    if axis is None:
        return gather(input, 0, indices)
    if idx.ndim != input.ndim:
        raise OpError(
            f"take_along_dim: input and indices should have the same number of dimensions, "
            f"got shapes {input.shape} and {idx.shape}"
        )
    try:
        batch = np.broadcast_shapes(
            input.shape[:axis] + (1,) + input.shape[axis + 1:],
            idx.shape[:axis] + (1,) + idx.shape[axis + 1:],
        )
    except ValueError:
        raise OpError(
            f"take_along_dim: input of shape {input.shape} and indices of shape {idx.shape} "
            f"do not broadcast apart from dimension {dim}"
        ) from None
    x = input.broadcast_to(batch[:axis] + (input.shape[axis],) + batch[axis + 1:])
    full = np.broadcast_to(idx, batch[:axis] + (idx.shape[axis],) + batch[axis + 1:])
    return gather(x, axis, _wrap(np.ascontiguousarray(full)))


@op(inplace=True)
def put(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """A copy of input, seen as 1-D, with source written (or added, ``accumulate=True``) at
    ``index`` (negative indices count from the end)."""
    idx = index_array("put", index)
    n = input.numel()
    idx = check_range("put", idx.reshape(-1), n, 0, negative=True)
    if source.numel() != idx.size:
        raise OpError(
            f"put: source has {source.numel()} elements but index has {idx.size}; they must "
            "have the same number of elements"
        )
    flat = input.reshape(-1)
    values = source.reshape(-1).to(input.dtype)
    if accumulate:
        out = ScatterReduce.apply(flat, values, index=idx, axis=0, reduce="sum",
                                  include_self=True)
    else:
        out = Scatter.apply(flat, values, index=idx, axis=0)
    return out.reshape(input.shape)


@op(inplace=True)
def index_put(input: Tensor, indices: Any, values: Any, accumulate: bool = False) -> Tensor:
    """A copy of input with ``values`` at ``input[indices]`` (a tuple of index tensors), added
    there with ``accumulate=True`` (repeated positions add up)."""
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"index_put: indices must be a tuple of tensors, got "
                        f"{type(indices).__name__}")
    parts = []
    for i, part in enumerate(indices):
        array = index_array("index_put", part, "indices")
        if array.dtype != np.bool_:
            if i >= input.ndim:
                raise IndexError(f"index_put: too many indices for a tensor of shape "
                                 f"{input.shape}")
            array = check_range("index_put", array, input.shape[i], i, negative=True,
                                error=IndexError)
        parts.append(array)
    value = values if isinstance(values, Tensor) else _wrap(np.asarray(values))
    value = value if value._data.dtype == input._data.dtype else value.to(input.dtype)
    index = tuple(parts)
    try:
        target = np.broadcast_shapes(value.shape, input._data[index].shape)
    except ValueError:
        raise OpError(
            f"index_put: shape mismatch: values of shape {tuple(value.shape)} cannot be "
            f"broadcast to the indexing result of shape {input._data[index].shape}"
        ) from None
    if accumulate:
        return AddAt.apply(input, value.broadcast_to(target), index=index)
    return shape.SetItem.apply(input, value, index=index)


@op()
@accepts_axis
def select(input: Tensor, dim: int, index: int) -> Tensor:
    """The slice of input at ``index`` along ``dim`` (that dim removed); a view."""
    axis = one_axis(dim, input.ndim, "select")
    if axis is None:
        raise IndexError("select: cannot be applied to a 0-dim tensor")
    size = input.shape[axis]
    if not -size <= index < size:
        raise IndexError(
            f"select: index {index} out of range for tensor of size {list(input.shape)} at "
            f"dimension {dim}; valid: {-size} to {size - 1}"
        )
    return input[(slice(None),) * axis + (int(index),)]


# ------------------------------------------------------------------------------ ordering


def _order(a: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    """A stable order along ``axis``; NaN counts as the largest value, as in PyTorch."""
    if not descending:
        return np.argsort(a, axis=axis, kind="stable")
    n = a.shape[axis]
    # stable descending: sort the reversed array ascending, then read it backwards
    reversed_order = np.argsort(np.flip(a, axis), axis=axis, kind="stable")
    return np.flip(n - 1 - reversed_order, axis)


@op()
@accepts_axis
def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False
         ) -> SortResult:
    """(values, indices) sorted along ``dim``; always stable (equal values keep their order)."""
    axis = one_axis(dim, input.ndim, "sort")
    if axis is None:
        return SortResult(input.clone(), _wrap(np.zeros((), _INT64)))
    order = _order(input._data, axis, descending)
    return SortResult(reduce.Gather.apply(input, index=order, axis=axis),
                      _wrap(order.astype(_INT64)))


@op()
@accepts_axis
def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False
            ) -> Tensor:
    """The indices that sort input along ``dim`` (stable)."""
    return sort(input, dim, descending).indices


@op()
def msort(input: Tensor) -> Tensor:
    """input sorted along its first dimension."""
    return sort(input, 0).values


@op()
@accepts_axis
def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True
         ) -> ValuesIndices:
    """The k largest (or smallest) entries along ``dim`` and their indices, in order."""
    if input._data.dtype == np.bool_:
        raise OpError("topk: does not support bool input; convert first, e.g. x.int()")
    axis = one_axis(dim, input.ndim, "topk")
    size = 1 if axis is None else input.shape[axis]
    if not 0 <= k <= size:
        raise OpError(
            f"topk: k = {k} is out of range for dimension {dim} of size {size} (input shape "
            f"{input.shape}); k must be between 0 and {size}"
        )
    if axis is None:
        return ValuesIndices(input.clone(), _wrap(np.zeros((), _INT64)))
    order = np.take(_order(input._data, axis, largest), np.arange(k), axis=axis)
    return ValuesIndices(reduce.Gather.apply(input, index=order, axis=axis),
                         _wrap(order.astype(_INT64)))


def _unique_result(values: np.ndarray, inverse: np.ndarray, counts: np.ndarray,
                   return_inverse: bool, return_counts: bool) -> Any:
    out = [_wrap(values)]
    if return_inverse:
        out.append(_wrap(inverse.astype(_INT64)))
    if return_counts:
        out.append(_wrap(counts.astype(_INT64)))
    return out[0] if len(out) == 1 else tuple(out)


@overload
def unique(input: Tensor, sorted: bool = True, return_inverse: Literal[False] = False,
           return_counts: Literal[False] = False, dim: int | None = None) -> Tensor: ...
@overload
def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,
           return_counts: bool = False, dim: int | None = None) -> Tensor | tuple[Tensor, ...]: ...


@op()
def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,
           return_counts: bool = False, dim: int | None = None) -> Any:
    """The distinct values (or distinct slices along ``dim``), sorted; optionally the inverse
    (where each element went) and the counts. Not differentiable, as in PyTorch."""
    a = input._data
    if dim is None:
        values, inverse, counts = np.unique(a, return_inverse=True, return_counts=True)
        inverse = inverse.reshape(a.shape)
    else:
        axis = _one_dim(dim, a.ndim, "unique")
        values, inverse, counts = np.unique(a, return_inverse=True, return_counts=True,
                                            axis=axis)
        inverse = inverse.reshape(-1)
    return _unique_result(values, inverse, counts, return_inverse, return_counts)


@overload
def unique_consecutive(input: Tensor, return_inverse: Literal[False] = False,
                       return_counts: Literal[False] = False, dim: int | None = None
                       ) -> Tensor: ...
@overload
def unique_consecutive(input: Tensor, return_inverse: bool = False, return_counts: bool = False,
                       dim: int | None = None) -> Tensor | tuple[Tensor, ...]: ...


@op()
def unique_consecutive(input: Tensor, return_inverse: bool = False,
                       return_counts: bool = False, dim: int | None = None) -> Any:
    """Collapse each run of equal consecutive values (or slices along ``dim``) to one."""
    a = input._data
    if dim is None:
        flat = a.reshape(-1)
        starts = np.concatenate([[True], flat[1:] != flat[:-1]]) if flat.size else \
            np.zeros(0, bool)
        values = flat[starts]
        group = np.cumsum(starts) - 1
        inverse = group.reshape(a.shape)
    else:
        axis = _one_dim(dim, a.ndim, "unique_consecutive")
        moved = np.moveaxis(a, axis, 0).reshape(a.shape[axis], -1)
        n = moved.shape[0]
        differs = (moved[1:] != moved[:-1]).any(axis=1) if n else np.zeros(0, bool)
        starts = np.concatenate([[True], differs]) if n else np.zeros(0, bool)
        values = np.compress(starts, a, axis=axis)
        inverse = np.cumsum(starts) - 1
    counts = np.diff(np.append(np.flatnonzero(starts), starts.size))
    return _unique_result(values, inverse, counts, return_inverse, return_counts)


def _search(sequence: np.ndarray, values: np.ndarray, right: bool, op_name: str
            ) -> np.ndarray:
    side: Literal["left", "right"] = "right" if right else "left"
    if sequence.ndim <= 1:
        return np.searchsorted(sequence.reshape(-1), values, side=side)
    if sequence.shape[:-1] != values.shape[:-1]:
        raise OpError(
            f"{op_name}: boundaries of shape {sequence.shape} and input of shape "
            f"{values.shape} must have the same leading dimensions (all but the last); use a "
            "1-D boundaries tensor to share it"
        )
    # one search per row without a Python loop: count the boundaries below each value
    below = sequence[..., None, :] <= values[..., :, None] if right else \
        sequence[..., None, :] < values[..., :, None]
    return below.sum(axis=-1)


@op(method=False, reason="PyTorch has it as a torch-level function only")
def searchsorted(sorted_sequence: Tensor, input: Any, *, out_int32: bool = False,
                 right: bool = False, side: str | None = None, sorter: Tensor | None = None
                 ) -> Tensor:
    """Where each value of input would go in ``sorted_sequence`` (along its last dim) to keep
    it sorted: the first such index, or the last with ``right=True`` / ``side='right'``."""
    if side is not None:
        if side not in ("left", "right"):
            raise OpError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
        if right and side == "left":
            raise OpError("searchsorted: side='left' contradicts right=True")
        right = side == "right"
    sequence = sorted_sequence._data
    if sorter is not None:
        sequence = np.take_along_axis(sequence, index_array("searchsorted", sorter, "sorter"),
                                      axis=-1)
    values = input._data if isinstance(input, Tensor) else np.asarray(input)
    result = _search(sequence, values, right, "searchsorted")
    return _wrap(np.asarray(result, dtype=np.int32 if out_int32 else _INT64))


@op(method=False, reason="PyTorch has it as a torch-level function only")
def bucketize(input: Any, boundaries: Tensor, *, out_int32: bool = False, right: bool = False
              ) -> Tensor:
    """The bucket of each value: i with boundaries[i-1] < x <= boundaries[i] (``right=True``:
    boundaries[i-1] <= x < boundaries[i]); boundaries is 1-D and sorted."""
    if boundaries.ndim != 1:
        raise OpError(f"bucketize: boundaries must be 1-D, got shape {boundaries.shape}")
    values = input._data if isinstance(input, Tensor) else np.asarray(input)
    result = np.searchsorted(boundaries._data, values, side="right" if right else "left")
    return _wrap(np.asarray(result, dtype=np.int32 if out_int32 else _INT64))
