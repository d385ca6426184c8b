"""Shape primitives: reshape, permute, expand, indexing, concatenation, padding, casts."""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.autograd.engine import Context, Primitive


class Reshape(Primitive):
    is_view = True

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        ctx.shape = a.shape
        out = a.reshape(shape)
        # the input's memory order where the reshape had to copy it into C order (a flatten
        # of a spatial-major conv output): backward hands its gradient back in that order
        ctx.order = None
        if LAYOUT_GRADIENT and a.size >= LAYOUT_MIN_SIZE and not np.may_share_memory(out, a):
            ctx.order = memory_order(a)
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        out = grad.reshape(ctx.shape)
        if ctx.order is None or not isinstance(out, np.ndarray) or not out.flags.c_contiguous:
            return out
        return copy_in_order(out, ctx.order)


# Reshape's backward returns its gradient in the input's memory order when the forward copied
# (see Reshape); below LAYOUT_MIN_SIZE elements the copy is not worth it
LAYOUT_GRADIENT = True
LAYOUT_MIN_SIZE = 1 << 14


def memory_order(a: np.ndarray) -> tuple[int, ...]:
    """``a``'s axes from the largest stride to the smallest (ties in axis order)."""
    return tuple(sorted(range(a.ndim), key=lambda axis: -abs(a.strides[axis])))


def copy_in_order(a: np.ndarray, order: tuple[int, ...]) -> np.ndarray:
    """A copy of ``a`` whose memory runs over the axes in ``order`` (outermost first)."""
    from minigrad import parallel

    out = np.empty([a.shape[axis] for axis in order], a.dtype).transpose(np.argsort(order))
    parallel.blocks(lambda index: np.copyto(out[index], a[index]), out)
    return out


class Permute(Primitive):
    is_view = True

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, dims: tuple[int, ...]) -> np.ndarray:
        ctx.dims = dims
        return a.transpose(dims)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        return np.transpose(grad, np.argsort(ctx.dims))  # np.transpose: arrays and Tensors


class Expand(Primitive):
    """Broadcast to a larger shape; the engine sums the gradient back."""

    is_view = True

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        return np.broadcast_to(a, shape)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        return grad


def is_basic_index(index: Any) -> bool:
    """True when ``index`` uses only ints, slices, None and Ellipsis (NumPy returns a view)."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(
        p is None or p is Ellipsis or isinstance(p, (int, np.integer, slice)) for p in parts
    )


def split_index(index: Any, ndim: int) -> tuple[Any, Any]:
    """PyTorch's indexing as two NumPy steps: ``(pre, index)`` for ``a[pre][index]``.

    PyTorch applies ints and None first (basic indexing) and only then the tensor indices,
    so ``x[1, :, idx]`` keeps the advanced dimension in place, where NumPy (which counts the
    int as an advanced index separated from ``idx`` by a slice) would move it to the front.
    ``pre`` is None when one NumPy step already means the same.
    """
    parts = index if isinstance(index, tuple) else (index,)
    if is_basic_index(parts) or not any(
        p is None or isinstance(p, (int, np.integer)) for p in parts
    ):
        return None, index
    consumed = [p.ndim if isinstance(p, np.ndarray) and p.dtype == np.bool_ else
                0 if p is None or p is Ellipsis else 1 for p in parts]
    basic: list[Any] = []
    advanced: list[Any] = []
    for p, n in zip(parts, consumed):
        if p is Ellipsis:
            fill = ndim - sum(consumed)
            basic.append(Ellipsis)
            advanced.extend([slice(None)] * max(fill, 0))
        elif p is None:
            basic.append(None)
            advanced.append(slice(None))
        elif isinstance(p, (int, np.integer)):
            basic.append(p)
        else:
            basic.extend([slice(None)] * n)
            advanced.append(p)
    return tuple(basic), tuple(advanced)


class GetItem(Primitive):
    """out = a[pre][index]: ``pre`` (basic, or None) first, as :func:`split_index` gives."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, index: Any, pre: Any = None) -> np.ndarray:
        ctx.shape, ctx.dtype, ctx.index, ctx.pre = a.shape, a.dtype, index, pre
        out = (a if pre is None else a[pre])[index]
        return out if isinstance(out, np.ndarray) else np.asarray(out)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        if not isinstance(grad, np.ndarray):  # create_graph=True: this scatter as a graph op
            from minigrad.autograd.higher_order import linear_backward

            return linear_backward(GetItem, ctx, grad,
                                   lambda c, a: GetItem.forward(Context(), a, c.index, c.pre))
        out = np.zeros(ctx.shape, dtype=grad.dtype)
        target = out if ctx.pre is None else out[ctx.pre]
        if is_basic_index(ctx.index):
            target[ctx.index] = grad
        else:
            # repeated integer indices must accumulate, which plain assignment would not do
            np.add.at(target, ctx.index, grad)
        return out


class GetItemView(GetItem):
    is_view = True


class SetItem(Primitive):
    """out = a with out[pre][index] = value (the out-of-place form of ``a[index] = value``)."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, value: np.ndarray, index: Any, pre: Any = None
                ) -> np.ndarray:
        ctx.index, ctx.pre, ctx.value_shape = index, pre, value.shape
        out = a.copy()
        (out if pre is None else out[pre])[index] = value
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        need_a, need_value = ctx.needs_input_grad
        if not isinstance(grad, np.ndarray):  # create_graph=True: a mask and a pick, as ops
            keep = np.ones(grad.shape, dtype=bool)
            (keep if ctx.pre is None else keep[ctx.pre])[ctx.index] = False
            # the engine sums the picked gradient back to value's shape
            return (grad * keep if need_a else None,
                    GetItem.apply(grad, index=ctx.index, pre=ctx.pre) if need_value else None)
        grad_a = None
        if need_a:
            grad_a = grad.copy()
            (grad_a if ctx.pre is None else grad_a[ctx.pre])[ctx.index] = 0
        grad_value = None
        if need_value:
            selected = (grad if ctx.pre is None else grad[ctx.pre])[ctx.index]
            # value was broadcast into the selection: sum it back to value's shape
            lead = selected.ndim - len(ctx.value_shape)
            axes = tuple(range(lead)) + tuple(
                lead + i for i, n in enumerate(ctx.value_shape) if n == 1
            )
            grad_value = selected.sum(axis=axes, keepdims=False) if axes else selected
            grad_value = np.asarray(grad_value).reshape(ctx.value_shape)
        return grad_a, grad_value


class Cat(Primitive):
    @staticmethod
    def forward(ctx: Context, *arrays: np.ndarray, axis: int) -> np.ndarray:
        ctx.axis = axis
        ctx.splits = np.cumsum([a.shape[axis] for a in arrays])[:-1]
        return np.concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        return tuple(np.split(grad, ctx.splits, axis=ctx.axis))


class Pad(Primitive):
    """Constant padding; ``pad_width`` is NumPy's ((before, after), ...) per axis."""

    @staticmethod
    def forward(
        ctx: Context, a: np.ndarray, pad_width: tuple[tuple[int, int], ...], value: float
    ) -> np.ndarray:
        ctx.crop = tuple(slice(before, before + n) for (before, _), n in zip(pad_width, a.shape))
        return np.pad(a, pad_width, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        return grad[ctx.crop]


class Cast(Primitive):
    @staticmethod
    def forward(ctx: Context, a: np.ndarray, dtype: np.dtype) -> np.ndarray:
        ctx.dtype = a.dtype
        return a.astype(dtype)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        return grad.astype(ctx.dtype)


class Clone(Primitive):
    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        return a.copy()

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        return grad
