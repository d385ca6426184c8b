"""Reductions and scans: sum, mean, prod, var/std, max/min, amax/amin, all/any, norm, median,
mode, kthvalue, cumsum, cumprod, cummax/cummin, logcumsumexp, and their nan-ignoring forms.

``dim`` is an int, a tuple of ints or None wherever PyTorch accepts that, ``axis=`` is
accepted as a keyword alias for ``dim`` (as in PyTorch), and dims 0 and -1 of a 0-d tensor
reduce it to itself.
"""

from __future__ import annotations

import builtins
import functools
import warnings
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar, cast, overload

import numpy as np

from minigrad.declare import op
from minigrad.errors import OpError
from minigrad.ops import reduce
from minigrad.tensor import DEFAULT_FLOAT, Tensor, ValuesIndices, _as_dtype, _normalize_dims, _wrap


class MinMax(NamedTuple):
    """``(min, max)``, as ``aminmax`` returns."""

    min: Tensor
    max: Tensor


_INT64 = np.dtype(np.int64)


_F = TypeVar("_F", bound=Callable[..., Any])


def accepts_axis(fn: _F) -> _F:
    """Accept ``axis=`` as a keyword alias for ``dim``, as PyTorch does."""

    @functools.wraps(fn)
    def with_axis(*args: Any, **kwargs: Any) -> Any:
        if "axis" in kwargs:
            if "dim" in kwargs:
                raise TypeError(f"{fn.__name__}: got both dim= and its alias axis=")
            kwargs["dim"] = kwargs.pop("axis")
        if "keepdims" in kwargs:  # NumPy's spelling, which PyTorch accepts too
            if "keepdim" in kwargs:
                raise TypeError(f"{fn.__name__}: got both keepdim= and its alias keepdims=")
            kwargs["keepdim"] = kwargs.pop("keepdims")
        return fn(*args, **kwargs)

    return cast(_F, with_axis)


def axes(dim: Any, ndim: int, op_name: str) -> tuple[int, ...] | None:
    """Reduced NumPy axes: None for all (dim None or (), or a 0-d input), else a tuple."""
    if isinstance(dim, (list, tuple)) and len(dim) == 0:
        return None
    dims = _normalize_dims(dim, ndim, op_name)
    if dims is None or ndim == 0:
        return None
    if len(set(dims)) != len(dims):
        raise OpError(f"{op_name}: dim {dim} appears more than once in the list of dims")
    return dims


def one_axis(dim: Any, ndim: int, op_name: str) -> int | None:
    """The single reduced axis (None for a 0-d input); ``dim`` must be one int."""
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{op_name}: argument 'dim' must be int, not {type(dim).__name__}")
    dims = _normalize_dims(dim, ndim, op_name)
    assert dims is not None
    return None if ndim == 0 else dims[0]


def count(shape: tuple[int, ...], axis: tuple[int, ...] | None) -> int:
    return int(np.prod(shape if axis is None else [shape[d] for d in axis]))


def keep(result: Tensor, axis: tuple[int, ...]) -> Tensor:
    """Give a result reduced over ``axis`` with keepdim=False its reduced dims back (size 1)."""
    shape = list(result.shape)
    for d in sorted(axis):
        shape.insert(d, 1)
    return result.reshape(tuple(shape))


def accumulate_dtype(x: Tensor, dtype: Any) -> Tensor:
    """``x`` cast to ``dtype``, or bool and integers to int64 (sum, prod, cumsum, cumprod)."""
    target = _as_dtype(dtype)
    if target is None and x._data.dtype.kind in "biu":
        target = _INT64
    return x if target is None or target == x._data.dtype else x.to(target)


def require_float(x: Tensor, op_name: str) -> None:
    if x._data.dtype.kind != "f":
        raise OpError(
            f"{op_name}: expected a floating point input, got dtype {x._data.dtype}; convert "
            f"first, e.g. x.float().{op_name}(...)"
        )


def require_nonempty(x: Tensor, op_name: str, axis: int | tuple[int, ...] | None) -> None:
    """PyTorch's errors for extremes of nothing: RuntimeError for an empty input without dim,
    IndexError for a reduced dim of size 0."""
    if axis is None:
        if x._data.size == 0:
            raise OpError(
                f"{op_name}: the input is empty (shape {x.shape}); nothing to reduce without a "
                "dim: specify the reduction dim with the 'dim' argument"
            )
        return
    for d in np.atleast_1d(axis):
        if x.shape[d] == 0:
            raise IndexError(
                f"{op_name}: expected reduction dim {d} to have non-zero size (input shape "
                f"{x.shape})"
            )


# ------------------------------------------------------------------------------ sums


@op()
@accepts_axis
def sum(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Sum over ``dim`` (int, tuple or None for all); bool and integer inputs sum in int64.

    The result has the input's shape without the summed dimensions (kept as size 1 with
    ``keepdim=True``); ``dtype`` casts the input first.

    Example::

        >>> import minigrad as mg
        >>> x = mg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        >>> x.sum().item()
        21.0
        >>> x.sum(dim=0).tolist()
        [5.0, 7.0, 9.0]
        >>> x.sum(1, keepdim=True).shape
        minigrad.Size([2, 1])
    """
    x = accumulate_dtype(input, dtype)
    axis = axes(dim, x.ndim, "sum")
    return reduce.Sum.apply(x, axis=axis, keepdims=keepdim and x.ndim > 0)


@op()
@accepts_axis
def nansum(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None
           ) -> Tensor:
    """Sum treating NaN as zero (NaN elements get no gradient)."""
    x = input
    if x._data.dtype.kind == "f":
        x = x.masked_fill(_wrap(np.isnan(x._data)), 0)
    return sum(x, dim, keepdim, dtype=dtype)


@op()
@accepts_axis
def mean(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None
         ) -> Tensor:
    """Mean over ``dim`` (int, tuple or None for all); the input (or ``dtype``) must be
    floating point. Shapes as :meth:`sum`.

    Example::

        >>> import minigrad as mg
        >>> x = mg.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> x.mean().item()
        2.5
        >>> x.mean(dim=1).tolist()
        [1.5, 3.5]
    """
    x = input if dtype is None else input.to(dtype)
    if x._data.dtype.kind != "f":
        raise OpError(
            f"mean: could not infer output dtype; the input dtype must be floating point, "
            f"got {x._data.dtype}; use x.float().mean() or mean(dtype=minigrad.float32)"
        )
    axis = axes(dim, x.ndim, "mean")
    total = sum(x, axis, keepdim)
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / _wrap(np.asarray(count(x.shape, axis), dtype=x._data.dtype))


@op()
@accepts_axis
def nanmean(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None
            ) -> Tensor:
    """Mean of the non-NaN elements."""
    x = input if dtype is None else input.to(dtype)
    if x._data.dtype.kind != "f":
        raise OpError(
            f"nanmean: expected a floating point input, got dtype {x._data.dtype}; convert "
            "first, e.g. x.float().nanmean()"
        )
    present = _wrap(~np.isnan(x._data))
    with np.errstate(invalid="ignore", divide="ignore"):
        return nansum(x, dim, keepdim) / sum(present, dim, keepdim).to(x._data.dtype)


@op()
@accepts_axis
def prod(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None
         ) -> Tensor:
    """Product of all elements or over one ``dim``; exact gradient with zeros in the input."""
    x = accumulate_dtype(input, dtype)
    axis = None if dim is None else one_axis(dim, x.ndim, "prod")
    return reduce.Prod.apply(x, axis=axis, keepdims=keepdim and x.ndim > 0)


# ------------------------------------------------------------------------------ moments


def _correction(op_name: str, unbiased: Any, correction: Any) -> float:
    if unbiased is not None and correction is not None:
        raise TypeError(f"{op_name}: give either unbiased= or correction=, not both")
    if correction is not None:
        return float(correction)
    return 0.0 if unbiased is False else 1.0


def _var(input: Tensor, dim: Any, unbiased: Any, keepdim: bool, correction: Any,
         op_name: str) -> tuple[Tensor, Tensor]:
    if isinstance(dim, bool):  # var(x, False): the positional unbiased of PyTorch's overload
        dim, unbiased = None, dim
    if input._data.dtype.kind != "f":
        raise OpError(
            f"{op_name}: std and var only support floating point inputs, got dtype "
            f"{input._data.dtype}; convert first, e.g. x.float().{op_name}()"
        )
    c = _correction(op_name, unbiased, correction)
    axis = axes(dim, input.ndim, op_name)
    centre = mean(input, axis, True)
    centered = input - centre
    squares = sum(centered * centered, axis, keepdim)
    n = count(input.shape, axis)
    if n - c <= 0:
        warnings.warn(
            f"{op_name}: degrees of freedom is <= 0 (correction {c:g} for {n} elements per "
            "result); the result is inf or nan", UserWarning, stacklevel=3)
    divisor = np.asarray(builtins.max(n - c, 0), dtype=input._data.dtype)
    with np.errstate(invalid="ignore", divide="ignore"):
        variance = squares / _wrap(divisor)
    return variance, centre if keepdim else centre.reshape(variance.shape)



@op()
@accepts_axis
def var(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
        correction: Any = None) -> Tensor:
    """Variance over ``dim`` with ``correction`` (default 1, Bessel) or ``unbiased``."""
    return _var(input, dim, unbiased, keepdim, correction, "var")[0]


@op()
@accepts_axis
def std(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
        correction: Any = None) -> Tensor:
    """Standard deviation over ``dim`` with ``correction`` (default 1) or ``unbiased``."""
    return reduce.StdFromVariance.apply(_var(input, dim, unbiased, keepdim, correction, "std")[0])


@op(method=False, reason="PyTorch has it as a torch-level function only")
@accepts_axis
def var_mean(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
             correction: Any = None) -> tuple[Tensor, Tensor]:
    """(var, mean) over ``dim`` in one pass."""
    return _var(input, dim, unbiased, keepdim, correction, "var_mean")


@op(method=False, reason="PyTorch has it as a torch-level function only")
@accepts_axis
def std_mean(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
             correction: Any = None) -> tuple[Tensor, Tensor]:
    """(std, mean) over ``dim`` in one pass."""
    variance, centre = _var(input, dim, unbiased, keepdim, correction, "std_mean")
    return reduce.StdFromVariance.apply(variance), centre


# ------------------------------------------------------------------------------ extremes


def _extreme(input: Tensor, dim: Any, keepdim: bool, largest: bool, op_name: str) -> Any:
    if isinstance(dim, Tensor):  # max(a, b): the elementwise form
        from minigrad.tensor import maximum, minimum

        return (maximum if largest else minimum)(input, dim)
    if dim is None:
        require_nonempty(input, op_name, None)
        return reduce.Extreme.apply(input, axis=None, keepdims=False, largest=largest,
                                    nan_shares=True)
    axis = one_axis(dim, input.ndim, op_name)
    if axis is None:
        return ValuesIndices(input.clone(), _wrap(np.zeros((), _INT64)))
    require_nonempty(input, op_name, axis)
    arg = np.argmax if largest else np.argmin
    index = np.expand_dims(arg(input._data, axis=axis), axis)
    return _picked(input, index, axis, keepdim)


def _picked(input: Tensor, index: np.ndarray, axis: int, keepdim: bool) -> ValuesIndices:
    """(values, indices) of the elements at ``index`` along ``axis`` (size 1 there)."""
    values = reduce.Gather.apply(input, index=index, axis=axis)
    if not keepdim:
        values = values.squeeze(axis)
        index = index.squeeze(axis)
    return ValuesIndices(values, _wrap(index.astype(_INT64)))


@overload
def max(input: Tensor, dim: None = None, keepdim: bool = False) -> Tensor: ...
@overload
def max(input: Tensor, dim: builtins.int, keepdim: bool = False) -> ValuesIndices: ...
@overload
def max(input: Tensor, dim: Tensor) -> Tensor: ...  # elementwise, with the other tensor


@op()
@accepts_axis
def max(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor | ValuesIndices:
    """max() of all elements (ties share the gradient), (values, indices) along ``dim`` (the
    gradient goes to the returned index, the first maximum), or max(other) elementwise."""
    return _extreme(input, dim, keepdim, True, "max")


@overload
def min(input: Tensor, dim: None = None, keepdim: bool = False) -> Tensor: ...
@overload
def min(input: Tensor, dim: builtins.int, keepdim: bool = False) -> ValuesIndices: ...
@overload
def min(input: Tensor, dim: Tensor) -> Tensor: ...  # elementwise, with the other tensor


@op()
@accepts_axis
def min(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor | ValuesIndices:
    """min() of all elements, (values, indices) along ``dim``, or min(other) elementwise."""
    return _extreme(input, dim, keepdim, False, "min")


def _amax(input: Tensor, dim: Any, keepdim: bool, largest: bool, op_name: str) -> Tensor:
    axis = axes(dim, input.ndim, op_name)
    require_nonempty(input, op_name, axis)
    return reduce.Extreme.apply(input, axis=axis, keepdims=keepdim and input.ndim > 0,
                                largest=largest)


@op()
@accepts_axis
def amax(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    """Maximum over ``dim`` (int, tuple; () or None: all); ties share the gradient evenly."""
    return _amax(input, dim, keepdim, True, "amax")


@op()
@accepts_axis
def amin(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    """Minimum over ``dim`` (int, tuple; () or None: all); ties share the gradient evenly."""
    return _amax(input, dim, keepdim, False, "amin")


@op()
@accepts_axis
def aminmax(input: Tensor, *, dim: Any = None, keepdim: bool = False) -> MinMax:
    """(min, max) over one ``dim`` or all elements."""
    if dim is not None:
        one_axis(dim, input.ndim, "aminmax")
    lo = _amax(input, dim, keepdim, False, "aminmax")
    hi = _amax(input, dim, keepdim, True, "aminmax")
    return MinMax(lo, hi)


def _arg(input: Tensor, dim: Any, keepdim: bool, largest: bool, op_name: str) -> Tensor:
    if input._data.dtype == np.bool_:
        raise OpError(f"{op_name}: does not support bool input; convert first, e.g. x.int()")
    arg = np.argmax if largest else np.argmin
    if dim is None:
        require_nonempty(input, op_name, None)
        index = np.asarray(arg(input._data), dtype=_INT64)
        return _wrap(index.reshape((1,) * input.ndim) if keepdim else index)
    axis = one_axis(dim, input.ndim, op_name)
    if axis is None:
        return _wrap(np.zeros((), _INT64))
    require_nonempty(input, op_name, axis)
    return _wrap(arg(input._data, axis=axis, keepdims=keepdim).astype(_INT64))


@op()
@accepts_axis
def argmax(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Index of the (first) maximum: over all elements (flat index) or along ``dim``."""
    return _arg(input, dim, keepdim, True, "argmax")


@op()
@accepts_axis
def argmin(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Index of the (first) minimum: over all elements (flat index) or along ``dim``."""
    return _arg(input, dim, keepdim, False, "argmin")


@op()
@accepts_axis
def logsumexp(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    """log(sum(exp(x))) over ``dim``, shifted by the maximum so it never overflows."""
    x = input if input._data.dtype.kind == "f" else input.to(DEFAULT_FLOAT)
    axis = axes(dim, x.ndim, "logsumexp")
    if x._data.size == 0:
        return sum(x, axis, keepdim).log()
    shift = np.max(x._data, axis=axis, keepdims=True)
    shift = _wrap(np.where(np.isfinite(shift), shift, 0).astype(x._data.dtype))
    result = ((x - shift).exp().sum(axis, True).log() + shift)
    if keepdim or x.ndim == 0:
        return result
    return result.reshape(np.squeeze(result._data, axis).shape if axis is not None else ())


# ------------------------------------------------------------------------------ logical


def _logical(input: Tensor, dim: Any, keepdim: bool, every: bool, op_name: str) -> Tensor:
    if isinstance(dim, (list, tuple)) and len(dim) == 0:  # PyTorch: an empty dim list reduces
        result = input._data.astype(bool)  # nothing
    else:
        axis = axes(dim, input.ndim, op_name)
        result = (np.all if every else np.any)(input._data, axis=axis,
                                               keepdims=keepdim and input.ndim > 0)
    dtype = np.uint8 if input._data.dtype == np.uint8 else np.bool_
    return _wrap(np.asarray(result).astype(dtype))


@op()
@accepts_axis
def all(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Whether all elements (over ``dim``: int, tuple or None) are non-zero."""
    return _logical(input, dim, keepdim, True, "all")


@op()
@accepts_axis
def any(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Whether any element (over ``dim``: int, tuple or None) is non-zero."""
    return _logical(input, dim, keepdim, False, "any")


@op()
@accepts_axis
def count_nonzero(input: Tensor, dim: Any = None) -> Tensor:
    """Number of non-zero elements over ``dim`` (int, tuple or None), int64."""
    axis = axes(dim, input.ndim, "count_nonzero")
    return _wrap(np.asarray(np.count_nonzero(input._data, axis=axis), dtype=_INT64))


# ------------------------------------------------------------------------------ scans


def _scan_axis(input: Tensor, dim: Any, op_name: str) -> int | None:
    return one_axis(dim, input.ndim, op_name)


def _scan(primitive: Any, x: Tensor, dim: Any, op_name: str) -> Tensor:
    axis = _scan_axis(x, dim, op_name)
    if axis is None:
        return x.clone()
    return primitive.apply(x, axis=axis)


@op(inplace=True)
@accepts_axis
def cumsum(input: Tensor, dim: Any, *, dtype: Any = None) -> Tensor:
    """Cumulative sum along ``dim``; bool and integer inputs accumulate in int64."""
    return _scan(reduce.CumSum, accumulate_dtype(input, dtype), dim, "cumsum")


@op(inplace=True)
@accepts_axis
def cumprod(input: Tensor, dim: Any, *, dtype: Any = None) -> Tensor:
    """Cumulative product along ``dim``; exact gradient with zeros in the input."""
    return _scan(reduce.CumProd, accumulate_dtype(input, dtype), dim, "cumprod")


@op()
@accepts_axis
def logcumsumexp(input: Tensor, dim: Any) -> Tensor:
    """log(cumsum(exp(x))) along ``dim``, stable for inputs of any magnitude."""
    require_float(input, "logcumsumexp")
    return _scan(reduce.LogCumSumExp, input, dim, "logcumsumexp")


def _cumulative_extreme(input: Tensor, dim: Any, largest: bool, op_name: str
                        ) -> ValuesIndices:
    axis = _scan_axis(input, dim, op_name)
    if axis is None:
        return ValuesIndices(input.clone(), _wrap(np.zeros((), _INT64)))
    a = input._data
    running = (np.maximum if largest else np.minimum).accumulate(a, axis=axis)
    # PyTorch moves the index to a later element that equals the running extreme
    # (``>=``), and to a NaN, which then stays the extreme
    hits = (a == running) | (np.isnan(a) if a.dtype.kind == "f" else False)
    shape = [1] * a.ndim
    shape[axis] = a.shape[axis]
    positions = np.arange(a.shape[axis]).reshape(shape)
    if a.dtype.kind == "f":
        hits &= ~np.isnan(running) | np.isnan(a)
    index = np.maximum.accumulate(np.where(hits, positions, 0), axis=axis)
    if a.dtype.kind == "f":  # after the first NaN the index stays on it
        first_nan = np.isnan(a) & (np.cumsum(np.isnan(a), axis=axis) == 1)
        nan_at = np.maximum.accumulate(np.where(first_nan, positions, -1), axis=axis)
        index = np.where(nan_at >= 0, nan_at, index)
    values = reduce.Gather.apply(input, index=index, axis=axis)
    return ValuesIndices(values, _wrap(index.astype(_INT64)))


@op()
@accepts_axis
def cummax(input: Tensor, dim: Any) -> ValuesIndices:
    """(running maximum, its index) along ``dim``; the gradient goes to the index."""
    return _cumulative_extreme(input, dim, True, "cummax")


@op()
@accepts_axis
def cummin(input: Tensor, dim: Any) -> ValuesIndices:
    """(running minimum, its index) along ``dim``; the gradient goes to the index."""
    return _cumulative_extreme(input, dim, False, "cummin")


# ------------------------------------------------------------------------------ order statistics


def _sorted_index(a: np.ndarray, axis: int) -> np.ndarray:
    """Stable ascending argsort; NaN sorts last, as in PyTorch."""
    return np.argsort(a, axis=axis, kind="stable")


def _select_along(input: Tensor, dim: Any, keepdim: bool, op_name: str,
                  position: Callable[[np.ndarray, np.ndarray, int], np.ndarray]
                  ) -> ValuesIndices:
    """(values, indices) of the element at ``position(sorted values, order, axis)`` (shape 1
    along axis) of the ascending order along ``dim``; the gradient goes to that index."""
    axis = one_axis(dim, input.ndim, op_name)
    if axis is None:
        return ValuesIndices(input.clone(), _wrap(np.zeros((), _INT64)))
    require_nonempty(input, op_name, axis)
    order = _sorted_index(input._data, axis)
    ordered = np.take_along_axis(input._data, order, axis=axis)
    index = np.take_along_axis(order, position(ordered, order, axis), axis=axis)
    return _picked(input, index, axis, keepdim)


def _median_position(ignore_nan: bool
                     ) -> Callable[[np.ndarray, np.ndarray | None, int], np.ndarray]:
    def position(ordered: np.ndarray, order: np.ndarray | None, axis: int) -> np.ndarray:
        n = ordered.shape[axis]
        valid = n - np.isnan(ordered).sum(axis=axis, keepdims=True) if ordered.dtype.kind == "f" \
            else np.full(ordered.shape[:axis] + (1,) + ordered.shape[axis + 1:], n)
        if ignore_nan:  # the lower median of the non-NaN values (all NaN: a NaN)
            return np.maximum((valid - 1) // 2, 0)
        return np.where(valid < n, valid, (n - 1) // 2)  # a NaN makes the median NaN

    return position


def _median_all(input: Tensor, ignore_nan: bool, op_name: str) -> Tensor:
    if input._data.dtype == np.bool_:
        raise OpError(f"{op_name}: not implemented for bool input; convert first, e.g. x.int()")
    flat = input._data.reshape(-1)
    if flat.size == 0 and flat.dtype.kind == "f":  # PyTorch: the median of nothing is NaN
        return _wrap(np.asarray(np.nan, dtype=flat.dtype))
    require_nonempty(input, op_name, None)
    ordered = np.sort(flat)
    value = ordered[_median_position(ignore_nan)(ordered, None, 0)].reshape(())
    # PyTorch shares the gradient evenly among the elements equal to the median
    return reduce.SelectedValue.apply(input, value=value)


@overload
def median(input: Tensor, dim: None = None, keepdim: bool = False) -> Tensor: ...
@overload
def median(input: Tensor, dim: builtins.int, keepdim: bool = False) -> ValuesIndices: ...


@op()
@accepts_axis
def median(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor | ValuesIndices:
    """The lower median of all elements, or (values, indices) along ``dim``; NaN propagates."""
    if dim is None:
        return _median_all(input, False, "median")
    if input._data.dtype == np.bool_:
        raise OpError("median: not implemented for bool input; convert first, e.g. x.int()")
    return _select_along(input, dim, keepdim, "median", _median_position(False))


@overload
def nanmedian(input: Tensor, dim: None = None, keepdim: bool = False) -> Tensor: ...
@overload
def nanmedian(input: Tensor, dim: builtins.int, keepdim: bool = False) -> ValuesIndices: ...


@op()
@accepts_axis
def nanmedian(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor | ValuesIndices:
    """median ignoring NaN: the lower median of the non-NaN elements."""
    if dim is None:
        return _median_all(input, True, "nanmedian")
    if input._data.dtype == np.bool_:
        raise OpError("nanmedian: not implemented for bool input; convert first, e.g. x.int()")
    return _select_along(input, dim, keepdim, "nanmedian", _median_position(True))


@op()
@accepts_axis
def kthvalue(input: Tensor, k: int, dim: Any = -1, keepdim: bool = False) -> ValuesIndices:
    """(k-th smallest value, its index) along ``dim`` (k counts from 1)."""
    axis = one_axis(dim, input.ndim, "kthvalue")
    size = 1 if axis is None else input.shape[axis]
    if not 1 <= k <= size:
        raise OpError(
            f"kthvalue: k = {k} is out of range for dimension {dim} of size {size} (input "
            f"shape {input.shape}); k must be between 1 and {size}"
        )

    def position(ordered: np.ndarray, order: np.ndarray, ax: int) -> np.ndarray:
        return np.full(ordered.shape[:ax] + (1,) + ordered.shape[ax + 1:], k - 1)

    return _select_along(input, dim, keepdim, "kthvalue", position)


@op()
@accepts_axis
def mode(input: Tensor, dim: Any = -1, keepdim: bool = False) -> ValuesIndices:
    """(most frequent value, its last index) along ``dim``; ties go to the smallest value."""

    def position(ordered: np.ndarray, order: np.ndarray, axis: int) -> np.ndarray:
        n = ordered.shape[axis]
        first = np.ones(ordered.shape[:axis] + (1,) + ordered.shape[axis + 1:], bool)
        starts = np.concatenate(
            [first, np.diff(ordered.astype(np.float64) if ordered.dtype == np.bool_ else ordered,
                            axis=axis) != 0], axis=axis)
        shape = [1] * ordered.ndim
        shape[axis] = n
        positions = np.arange(n).reshape(shape)
        run_start = np.maximum.accumulate(np.where(starts, positions, 0), axis=axis)
        # the first position reaching the largest count ends the smallest value's longest run;
        # the stable sort put that value's last original index there
        run_length = positions - run_start + 1
        return np.expand_dims(np.argmax(run_length, axis=axis), axis)

    return _select_along(input, dim, keepdim, "mode", position)


# ------------------------------------------------------------------------------ norms


def _vector_norm(x: Tensor, ord: Any, dim: Any, keepdim: bool, dtype: Any,
                 op_name: str) -> Tensor:
    if dtype is not None:
        x = x.to(dtype)
    require_float(x, op_name)
    if isinstance(ord, str):
        raise (OpError if op_name == "norm" else TypeError)(
            f"{op_name}: ord must be a number for a vector norm, got {ord!r}")
    axis = axes(dim, x.ndim, op_name)
    from minigrad.ops.norms import VectorNorm

    return VectorNorm.apply(x, ord=float(ord), axis=axis, keepdims=keepdim and x.ndim > 0)


def _matrix_norm(x: Tensor, ord: Any, dim: Any, keepdim: bool, op_name: str) -> Tensor:
    require_float(x, op_name)
    if x.ndim < 2:
        raise OpError(f"{op_name}: the input must have at least 2 dimensions, got shape "
                      f"{x.shape}")
    dims = _normalize_dims(dim, x.ndim, op_name)
    if dims is None or len(dims) != 2 or dims[0] == dims[1]:
        raise OpError(f"{op_name}: dim must be a 2-tuple of different dims, got {dim}")
    if ord == "fro":
        return _vector_norm(x, 2, dims, keepdim, None, op_name)
    row, col = dims
    if ord in ("nuc", 2, -2, 2.0, -2.0):
        from minigrad.ops.norms import SingularValues

        rest = [d for d in range(x.ndim) if d not in dims]
        matrices = x.permute(*rest, row, col)
        values = SingularValues.apply(matrices)
        if ord == "nuc":
            result = values.sum(-1)
        else:
            result = values.amax(-1) if ord > 0 else values.amin(-1)
    elif ord in (1, -1, np.inf, -np.inf):
        # 1: the largest column sum of |x| (sum over rows); inf: the largest row sum
        summed = x.abs().sum(row if abs(ord) == 1 else col, keepdim=True)
        other = col if abs(ord) == 1 else row
        result = summed.amax(other, True) if ord > 0 else summed.amin(other, True)
        result = result.squeeze((row, col))
    else:
        raise OpError(f"{op_name}: ord {ord!r} is not a matrix norm; use 'fro', 'nuc', "
                      "inf, -inf, 1, -1, 2 or -2")
    return keep(result, dims) if keepdim else result


@op(inplace=False)
def norm(input: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False,
         dtype: Any = None) -> Tensor:
    """torch.norm: a vector norm for numeric p (over ``dim``, or all elements), the Frobenius
    norm for 'fro', the nuclear norm for 'nuc' (over the 2 dims in ``dim``)."""
    x = input if dtype is None else input.to(dtype)
    if p == "nuc":
        return _matrix_norm(x, "nuc", (-2, -1) if dim is None else dim, keepdim, "norm")
    if p == "fro" or p is None:
        p = 2
    return _vector_norm(x, p, dim, keepdim, None, "norm")


def vector_norm(x: Tensor, ord: Any = 2, dim: Any = None, keepdim: bool = False, *,
                dtype: Any = None) -> Tensor:
    """minigrad.linalg.vector_norm: ``(sum |x|^ord)^(1/ord)`` over ``dim``; inf, -inf, 0 too."""
    return _vector_norm(x, ord, dim, keepdim, dtype, "linalg.vector_norm")


def matrix_norm(A: Tensor, ord: Any = "fro", dim: Any = (-2, -1), keepdim: bool = False, *,
                dtype: Any = None) -> Tensor:
    """minigrad.linalg.matrix_norm: 'fro', 'nuc', inf, -inf, 1, -1, 2, -2 over two dims."""
    return _matrix_norm(A if dtype is None else A.to(dtype), ord, dim, keepdim,
                        "linalg.matrix_norm")


def linalg_norm(A: Tensor, ord: Any = None, dim: Any = None, keepdim: bool = False, *,
                dtype: Any = None) -> Tensor:
    """minigrad.linalg.norm: a vector or matrix norm, chosen as PyTorch chooses."""
    x = A if dtype is None else A.to(dtype)
    if dim is not None:
        dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
        if len(dims) == 2:
            return _matrix_norm(x, "fro" if ord is None else ord, dims, keepdim, "linalg.norm")
        return _vector_norm(x, 2 if ord is None else ord, dims, keepdim, None, "linalg.norm")
    if ord is None:
        return _vector_norm(x, 2, None, keepdim, None, "linalg.norm")
    if x.ndim == 2:
        return _matrix_norm(x, ord, (-2, -1), keepdim, "linalg.norm")
    if x.ndim == 1:
        return _vector_norm(x, ord, None, keepdim, None, "linalg.norm")
    raise OpError(
        f"linalg.norm: if dim is not specified but ord is, the input must be 1D or 2D, got "
        f"shape {x.shape}; pass dim="
    )


# ------------------------------------------------------------------------------ quantiles, counts


_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(input: Tensor, q: Any, dim: Any, keepdim: bool, interpolation: str,
              ignore_nan: bool, op_name: str) -> Tensor:
    if input._data.dtype.kind != "f":
        raise OpError(f"{op_name}: input tensor must be either float or double dtype, got "
                      f"{input._data.dtype}")
    if interpolation not in _INTERPOLATIONS:
        raise OpError(f"{op_name}: interpolation must be one of {', '.join(_INTERPOLATIONS)}, "
                      f"got {interpolation!r}")
    if isinstance(q, Tensor):
        if q.ndim > 1 or q._data.dtype != input._data.dtype:
            raise OpError(f"{op_name}: q must be a scalar or 1-D tensor of the input's dtype "
                          f"({input._data.dtype}), got shape {q.shape} and {q._data.dtype}")
        qs = q._data.astype(np.float64).reshape(-1)
    else:
        qs = np.asarray([q], dtype=np.float64)
    if qs.size and (qs.min() < 0 or qs.max() > 1):
        bad = qs.min() if qs.min() < 0 else qs.max()
        raise OpError(f"{op_name}: q must be in the range [0, 1] but got {bad:g}")
    x = input.reshape(-1) if dim is None else input
    axis = 0 if x.ndim == 0 else one_axis(dim if dim is not None else 0, x.ndim, op_name)
    if x.ndim == 0:
        x = x.reshape(1)
    assert axis is not None  # one_axis gives None for a 0-d input only
    require_nonempty(x, op_name, axis)
    ordered = x.sort(axis).values.movedim(axis, -1) if x.ndim > 1 else x.sort(axis).values
    a = ordered._data
    n = a.shape[-1]
    nans = np.isnan(a).sum(-1, keepdims=True)
    valid = n - nans if ignore_nan else np.full(nans.shape, n)
    # (..., Q) positions in the ascending order (NaN sorts last, so a NaN is picked for a
    # slice with NaN in quantile and for an all-NaN slice in nanquantile)
    position = qs * np.maximum(valid - 1, 0)
    if not ignore_nan:
        position = np.where(nans > 0, n - 1, position)
    low, high = np.floor(position), np.ceil(position)
    if interpolation == "lower":
        high = low
    elif interpolation == "higher":
        low = high
    elif interpolation == "nearest":
        low = high = np.round(position)
    weight = {"linear": position - low, "midpoint": np.where(high > low, 0.5, 0.0)}.get(
        interpolation, np.zeros_like(position))
    low_v = reduce.Gather.apply(ordered, index=low.astype(_INT64), axis=ordered.ndim - 1)
    result = low_v
    if interpolation in ("linear", "midpoint"):
        high_v = reduce.Gather.apply(ordered, index=high.astype(_INT64), axis=ordered.ndim - 1)
        result = low_v + (high_v - low_v) * _wrap(weight.astype(a.dtype))
    # (..., Q) -> (Q, ...) as PyTorch orders it, then the reduced dim back for keepdim
    result = result.movedim(-1, 0)
    if keepdim:
        shape = [1] * input.ndim if dim is None else list(input.shape)
        if dim is not None and input.ndim:
            shape[axis] = 1
        result = result.reshape((result.shape[0],) + tuple(shape))
    return result.reshape(result.shape[1:]) if not isinstance(q, Tensor) or q.ndim == 0 \
        else result


@op()
def quantile(input: Tensor, q: Any, dim: Any = None, keepdim: bool = False, *,
             interpolation: str = "linear") -> Tensor:
    """The q-th quantiles (q a number or 1-D tensor in [0, 1]) of all elements or along
    ``dim``; a NaN makes the result NaN. A tensor q puts its dim first."""
    return _quantile(input, q, dim, keepdim, interpolation, False, "quantile")


@op()
def nanquantile(input: Tensor, q: Any, dim: Any = None, keepdim: bool = False, *,
                interpolation: str = "linear") -> Tensor:
    """quantile of the non-NaN elements."""
    return _quantile(input, q, dim, keepdim, interpolation, True, "nanquantile")


@op()
def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """Counts (or sums of ``weights``) of each value of a 1-D non-negative integer tensor;
    not differentiable, as in PyTorch."""
    a = input._data
    if a.ndim != 1 or a.dtype.kind not in "iu" or (a.size and a.min() < 0):
        raise OpError(
            f"bincount: only supports 1-d non-negative integral inputs, got shape {a.shape} "
            f"and dtype {a.dtype}" + (f" with minimum {a.min()}" if a.size else "")
        )
    if weights is None:
        return _wrap(np.bincount(a, minlength=minlength).astype(_INT64))
    w = weights._data
    if w.shape != a.shape:
        raise OpError(f"bincount: weights of shape {w.shape} must have the input's shape "
                      f"{a.shape}")
    dtype = np.float32 if w.dtype == np.float32 else np.float64
    return _wrap(np.bincount(a, weights=w, minlength=minlength).astype(dtype))


@op()
def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:
    """Histogram of ``bins`` equal bins over [min, max] (the data's range if both are 0);
    elements outside are ignored. Not differentiable, as in PyTorch."""
    require_float(input, "histc")
    a = input._data.reshape(-1)
    low, high = float(min), float(max)
    if low == high and a.size:
        low, high = float(a.min()), float(a.max())
    if low == high:
        low, high = low - 1, high + 1
    if bins <= 0 or low > high:
        raise OpError(f"histc: needs bins > 0 and min <= max, got bins={bins}, min={min}, "
                      f"max={max}")
    counts, _ = np.histogram(a[(a >= low) & (a <= high)], bins=bins, range=(low, high))
    return _wrap(counts.astype(input._data.dtype))
