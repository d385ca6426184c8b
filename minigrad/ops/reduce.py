"""Reductions, scans and the fused softmax family."""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.autograd.engine import Context, Primitive

# what a first-order backward receives (a 0-d result may come as a NumPy scalar); anything
# else is a Tensor, under create_graph=True
ARRAYS = (np.ndarray, np.generic)


def _expand_reduced(grad: np.ndarray, axis: tuple[int, ...] | None, keepdims: bool) -> np.ndarray:
    """Give a reduced gradient back its reduced axes (as size 1) so it broadcasts."""
    if axis is None or keepdims:
        return grad
    return np.expand_dims(grad, axis)


class Sum(Primitive):
    @staticmethod
    def forward(
        ctx: Context, a: np.ndarray, axis: tuple[int, ...] | None, keepdims: bool
    ) -> np.ndarray:
        ctx.shape, ctx.axis, ctx.keepdims = a.shape, axis, keepdims
        # dtype=a.dtype: NumPy would widen small integers to int64, PyTorch keeps int32
        return np.asarray(a.sum(axis=axis, keepdims=keepdims, dtype=a.dtype))

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        return np.broadcast_to(_expand_reduced(grad, ctx.axis, ctx.keepdims), ctx.shape)


class Extreme(Primitive):
    """amax/amin over ``axis`` (a tuple, or None for all); tied extremes share the gradient
    evenly, as in PyTorch. Computed directly for every dtype (bool and unsigned included).

    A NaN extreme: with ``nan_shares`` (max()/min() of all elements) the NaN elements share
    the gradient; without (amax/amin) the gradient is NaN there, both as in PyTorch.
    """

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, axis: tuple[int, ...] | None, keepdims: bool,
                largest: bool, nan_shares: bool = False) -> np.ndarray:
        out = (np.max if largest else np.min)(a, axis=axis, keepdims=True)
        ctx.save_for_backward(a, out)
        ctx.axis, ctx.keepdims, ctx.nan_shares = axis, keepdims, nan_shares
        if keepdims:
            return out
        return out.reshape(()) if axis is None else np.squeeze(out, axis)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        a, out = ctx.saved
        mask = a == out
        if ctx.nan_shares:
            mask |= np.isnan(a) & np.isnan(out)
        count = mask.sum(axis=ctx.axis, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = _expand_reduced(grad, ctx.axis, ctx.keepdims) / count
            return (mask * share).astype(a.dtype)


def _products_of_others(x: np.ndarray) -> np.ndarray:
    """out[..., i] = prod_{j != i} x[..., j], without dividing (exact when x holds zeros)."""
    ones = np.ones(x.shape[:-1] + (1,), dtype=x.dtype)
    left = np.cumprod(np.concatenate([ones, x[..., :-1]], axis=-1), axis=-1)
    right = np.cumprod(np.concatenate([ones, x[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    return left * right


class Prod(Primitive):
    """Product over one ``axis`` (None: all elements); the gradient is the product of the
    other elements, so zeros in the input are handled exactly."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, axis: int | None, keepdims: bool) -> np.ndarray:
        ctx.save_for_backward(a)
        ctx.axis, ctx.keepdims = axis, keepdims
        return np.asarray(np.prod(a, axis=axis, keepdims=keepdims, dtype=a.dtype))

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        (a,) = ctx.saved
        if not isinstance(grad, ARRAYS):  # create_graph=True: the same products, as ops
            return _prod_backward_on_tensors(ctx, a, grad)
        if a.size == 0:
            return np.zeros_like(a)
        if ctx.axis is None:
            return (_products_of_others(a.reshape(-1)).reshape(a.shape) * grad).astype(a.dtype)
        g = grad if ctx.keepdims else np.expand_dims(grad, ctx.axis)
        others = np.moveaxis(_products_of_others(np.moveaxis(a, ctx.axis, -1)), -1, ctx.axis)
        return others * g


def _products_of_others_on_tensors(x: Any) -> Any:
    """``_products_of_others`` of a Tensor, from exclusive cumulative products (CumProd, whose
    gradient is exact with zeros, so the second derivative is too)."""
    from minigrad.tensor import _wrap, cat

    ones = _wrap(np.ones(tuple(x.shape[:-1]) + (1,), dtype=x._data.dtype))
    left = CumProd.apply(cat([ones, x[..., :-1]], -1), axis=-1)
    right = CumProd.apply(cat([ones, x.flip(-1)[..., :-1]], -1), axis=-1).flip(-1)
    return left * right


def _prod_backward_on_tensors(ctx: Context, a: Any, grad: Any) -> Any:
    """Prod's backward on Tensors (create_graph=True)."""
    from minigrad.tensor import _wrap

    if a._data.size == 0:
        return _wrap(np.zeros_like(a._data))
    if ctx.axis is None:
        return _products_of_others_on_tensors(a.reshape(-1)).reshape(a.shape) * grad
    g = grad if ctx.keepdims else grad.unsqueeze(ctx.axis)
    return _products_of_others_on_tensors(a.movedim(ctx.axis, -1)).movedim(-1, ctx.axis) * g


def _reverse_cumsum(x: np.ndarray, axis: int) -> np.ndarray:
    return np.flip(np.cumsum(np.flip(x, axis), axis=axis), axis)


class CumSum(Primitive):
    @staticmethod
    def forward(ctx: Context, a: np.ndarray, axis: int) -> np.ndarray:
        ctx.axis = axis
        return np.cumsum(a, axis=axis, dtype=a.dtype)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        return _reverse_cumsum(grad, ctx.axis)


class CumProd(Primitive):
    """Cumulative product; the gradient is exact with zeros in the input (no division by a
    zero: elements after the first zero of a slice get 0, the first zero its own sum)."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, axis: int) -> np.ndarray:
        out = np.cumprod(a, axis=axis, dtype=a.dtype)
        ctx.save_for_backward(a, out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        a, out = ctx.saved
        if not isinstance(grad, ARRAYS):  # create_graph=True
            return _cumprod_backward_on_tensors(a, grad, ctx.axis)
        x, y, g = (np.moveaxis(v, ctx.axis, -1) for v in (a, out, grad))
        n = x.shape[-1]
        position = np.arange(n)
        is_zero = x == 0
        first_zero = np.where(is_zero.any(-1), is_zero.argmax(-1), n)[..., None]
        safe = np.where(position < first_zero, x, 1)
        # before the first zero: sum_{j >= i} g_j out_j / x_i (out_j is 0 past the zero)
        result = np.where(position < first_zero, _reverse_cumsum(g * y, -1) / safe, 0)
        # at the first zero: sum_{j >= z} g_j prod_{k <= j, k != z} x_k
        without_zero = np.cumprod(np.where(position == first_zero, 1, x), axis=-1)
        at_zero = _reverse_cumsum(np.where(position >= first_zero, g * without_zero, 0), -1)
        result = np.where(position == first_zero, at_zero, result)
        return np.moveaxis(result, -1, ctx.axis).astype(a.dtype)


def _cumprod_backward_on_tensors(a: Any, grad: Any, axis: int) -> Any:
    """CumProd's backward on Tensors: grad_i = sum_{j >= i} g_j prod_{k <= j, k != i} x_k,
    with the products as the cumulative products of x with x_i replaced by 1 (an (n, n)
    array per slice): a polynomial in x, so exact with zeros at every order."""
    from minigrad.tensor import _wrap

    x, g = a.movedim(axis, -1), grad.movedim(axis, -1)
    n = x.shape[-1]
    eye = np.eye(n, dtype=a._data.dtype)
    without_self = CumProd.apply(x.unsqueeze(-2) * _wrap(1 - eye) + _wrap(eye), axis=-1)
    later = _wrap(np.triu(np.ones((n, n), dtype=a._data.dtype)))  # j >= i
    return (without_self * later * g.unsqueeze(-2)).sum(-1).movedim(-1, axis)


class LogCumSumExp(Primitive):
    """log(cumsum(exp(a))) along ``axis``, stable for any magnitudes (logaddexp throughout)."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, axis: int) -> np.ndarray:
        out = np.logaddexp.accumulate(a, axis=axis)
        ctx.save_for_backward(a, out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        a, out = ctx.saved
        axis = ctx.axis
        if not isinstance(grad, ARRAYS):  # create_graph=True
            return _logcumsumexp_backward_on_tensors(a, out, grad, axis)

        def reverse_logcumsumexp(x: np.ndarray) -> np.ndarray:
            return np.flip(np.logaddexp.accumulate(np.flip(x, axis), axis=axis), axis)

        # grad_i = sum_{j >= i} g_j exp(a_i - out_j), summed in log space by the sign of g
        with np.errstate(divide="ignore"):
            log_g = np.log(np.abs(grad))
        positive = reverse_logcumsumexp(np.where(grad > 0, log_g - out, -np.inf))
        negative = reverse_logcumsumexp(np.where(grad < 0, log_g - out, -np.inf))
        return np.exp(a + positive) - np.exp(a + negative)


def _logcumsumexp_backward_on_tensors(a: Any, out: Any, grad: Any, axis: int) -> Any:
    """LogCumSumExp's backward on Tensors: sum_{j >= i} g_j exp(a_i - out_j) as an (n, n)
    weight per slice; a_i - out_j <= 0 for j >= i, so no exp overflows."""
    from minigrad.tensor import where

    x, y, g = a.movedim(axis, -1), out.movedim(axis, -1), grad.movedim(axis, -1)
    n = x.shape[-1]
    later = np.triu(np.ones((n, n), dtype=bool))  # j >= i
    weights = where(later, x.unsqueeze(-1) - y.unsqueeze(-2), -np.inf).exp()
    return (weights * g.unsqueeze(-2)).sum(-1).movedim(-1, axis)


def along_axis_index(index: np.ndarray, axis: int) -> tuple[np.ndarray, ...]:
    """The fancy index that selects ``index`` along ``axis`` (as take_along_axis does)."""
    grids = list(np.ogrid[tuple(slice(n) for n in index.shape)])
    grids[axis] = index
    return tuple(grids)


def _fills_other_dims(index: np.ndarray, shape: tuple[int, ...], axis: int) -> bool:
    return all(n == m for d, (n, m) in enumerate(zip(index.shape, shape)) if d != axis)


class Gather(Primitive):
    """out[..., i, ...] = a[..., index[..., i, ...], ...] along ``axis`` (torch.gather)."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, index: np.ndarray, axis: int) -> np.ndarray:
        ctx.shape, ctx.index, ctx.axis = a.shape, index, axis
        if index.size == 0:  # PyTorch: an empty index picks nothing, whatever its shape
            return np.zeros(index.shape, a.dtype)
        if _fills_other_dims(index, a.shape, axis):
            return np.take_along_axis(a, index, axis=axis)  # the fast path
        # the index is smaller than the input in another dimension (PyTorch allows it)
        return a[along_axis_index(index, axis)]

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        if not isinstance(grad, np.ndarray):  # create_graph=True: this scatter as a graph op
            from minigrad.autograd.higher_order import linear_backward

            return linear_backward(Gather, ctx, grad,
                                   lambda c, a: Gather.forward(Context(), a, c.index, c.axis))
        out = np.zeros(ctx.shape, dtype=grad.dtype)
        if ctx.index.size == 0:
            return out
        if ctx.index.shape[ctx.axis] == 1 and _fills_other_dims(ctx.index, ctx.shape, ctx.axis):
            # one pick per slice: no duplicates to accumulate
            np.put_along_axis(out, ctx.index, grad, axis=ctx.axis)
            return out
        position = along_axis_index(ctx.index, ctx.axis)
        # add.at, not assignment: an index may appear twice and both gradients must count
        np.add.at(out, position, grad)
        return out


class LogSoftmax(Primitive):
    """log_softmax along ``axis``, fused for numerical stability (logits of +-1e4 are fine)."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, axis: int) -> np.ndarray:
        if a.size == 0:
            out = a.copy()
        else:
            shifted = a - a.max(axis=axis, keepdims=True)
            out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        (out,) = ctx.saved
        return grad - np.exp(out) * grad.sum(axis=ctx.axis, keepdims=True)


class Softmax(Primitive):
    """softmax along ``axis``, shifted by the maximum so large logits do not overflow."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, axis: int) -> np.ndarray:
        e = np.exp(a - a.max(axis=axis, keepdims=True, initial=-np.inf))
        out = e / e.sum(axis=axis, keepdims=True)
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        (out,) = ctx.saved
        return out * (grad - (grad * out).sum(axis=ctx.axis, keepdims=True))


class StdFromVariance(Primitive):
    """sqrt of a variance; a zero standard deviation gets gradient 0, as in PyTorch (sqrt's
    own derivative would be infinite there)."""

    @staticmethod
    def forward(ctx: Context, variance: np.ndarray) -> np.ndarray:
        out = np.sqrt(variance)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        (out,) = ctx.saved
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(out == 0, 0, grad / (2 * out)).astype(out.dtype)


class SelectedValue(Primitive):
    """A value picked from ``a`` (the median of all elements), exactly; its gradient is shared
    evenly among the elements equal to it (NaN counting as equal to NaN), as in PyTorch."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, value: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(a)
        ctx.value = value
        return value.copy()

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        (a,) = ctx.saved
        if not isinstance(grad, ARRAYS):  # create_graph=True: the shares are constants
            from minigrad.tensor import _wrap

            array = a._data
            hits = np.isnan(array) if array.dtype.kind == "f" and np.isnan(ctx.value) else (
                array == ctx.value)
            return _wrap((hits / hits.sum()).astype(array.dtype)) * grad
        hits = a == ctx.value
        if a.dtype.kind == "f" and np.isnan(ctx.value):
            hits = np.isnan(a)
        return (hits * (grad / hits.sum())).astype(a.dtype)
