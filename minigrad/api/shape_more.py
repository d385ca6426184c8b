"""More shape ops: cdist, repeat_interleave, Tensor.unfold (overlapping windows), view(dtype),
narrow_copy, unsafe_split, is_nonzero, the new_* constructors, and the memory-layout queries
(stride, is_contiguous, storage_offset, data_ptr) answered from the NumPy array."""

from __future__ import annotations

import builtins
import warnings
from collections.abc import Sequence
from typing import Any, overload

import numpy as np

from minigrad import creation
from minigrad.declare import attach, op
from minigrad.errors import OpError
from minigrad.ops import distance, shape, strided
from minigrad.tensor import Tensor, _as_dtype, _one_dim, _sizes, _wrap

_COMPUTE_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                  "donot_use_mm_for_euclid_dist")


def _type_name(t: Tensor) -> str:
    return t.type().split(".")[-1].replace("Tensor", "")


# ---------------------------------------------------------------------------- distances


@op(method=False, out=False, reason="a function of two point sets, as in PyTorch")
def cdist(x1: Tensor, x2: Tensor, p: float = 2.0,
          compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """(..., P, M), (..., R, M) -> (..., P, R): p-norm distances between rows (p >= 0, inf ok).

    As in PyTorch, p = 2 goes through a matrix product (``|a|^2 + |b|^2 - 2 a.b``, clamped at
    1e-30 before the square root) when compute_mode asks for it, or when it is 'if necessary'
    and P or R exceeds 25; otherwise the differences are formed directly."""
    for name, t in (("X1", x1), ("X2", x2)):
        if not isinstance(t, Tensor):
            raise TypeError(f"cdist(): argument '{name.lower()}' must be a Tensor, not "
                            f"{type(t).__name__}")
        if t.ndim < 2:
            raise OpError(f"cdist only supports at least 2D tensors, {name} got: {t.ndim}D")
        if t._data.dtype.kind != "f":
            raise OpError(f"cdist only supports floating-point dtypes, {name} got: "
                          f"{_type_name(t)}")
    if x1.shape[-1] != x2.shape[-1]:
        raise OpError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} "
                      f"X2: {x2.shape[-1]}")
    if x1._data.dtype != x2._data.dtype:
        raise OpError(f"cdist: expected both inputs of one dtype, got {x1.dtype} and "
                      f"{x2.dtype}; convert one, e.g. x2.to(x1.dtype)")
    if compute_mode not in _COMPUTE_MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    p = builtins.float(p)
    if not p >= 0:
        raise OpError("cdist only supports non-negative p values")
    try:
        batch = np.broadcast_shapes(tuple(x1.shape[:-2]), tuple(x2.shape[:-2]))
    except ValueError:
        raise OpError(f"cdist: batch dims of X1 {tuple(x1.shape)} and X2 {tuple(x2.shape)} do "
                      "not broadcast") from None
    rows1, rows2 = x1.shape[-2], x2.shape[-2]
    use_mm = p == 2 and (compute_mode == "use_mm_for_euclid_dist" or (
        compute_mode == _COMPUTE_MODES[0] and (rows1 > 25 or rows2 > 25)))
    if use_mm:
        return _euclidean_by_matmul(x1.expand(*batch, rows1, -1), x2.expand(*batch, rows2, -1))
    return distance.Cdist.apply(x1, x2, p=p)


def _euclidean_by_matmul(x1: Tensor, x2: Tensor) -> Tensor:
    from minigrad.tensor import cat

    norm1 = (x1 * x1).sum(-1, keepdim=True)
    norm2 = (x2 * x2).sum(-1, keepdim=True)
    padded1 = cat([x1 * -2, norm1, norm1 * 0 + 1], dim=-1)
    padded2 = cat([x2, norm2 * 0 + 1, norm2], dim=-1)
    return (padded1 @ padded2.mT).clamp_min(1e-30).sqrt()


# ---------------------------------------------------------------------------- repeating


def _repeats_vector(repeats: Any, length: int, dim_size_name: str) -> np.ndarray:
    if isinstance(repeats, Tensor):
        counts = repeats._data
        if counts.dtype.kind not in "iu":
            raise NotImplementedError(
                f"repeat_interleave: repeats must be an integer tensor, got {repeats.dtype}")
        if counts.ndim > 1:
            raise OpError("repeats must be 0-dim or 1-dim tensor")
        if counts.ndim == 1 and counts.shape[0] != 1:
            if counts.shape[0] != length:
                raise OpError(
                    "repeats must have the same size as input along dim, but got "
                    f"repeats.size(0) = {counts.shape[0]} and {dim_size_name} = {length}")
            if (counts < 0).any():
                raise OpError("repeats can not be negative")
            return counts.astype(np.int64)
        counts = counts.reshape(())
    else:
        counts = np.asarray(builtins.int(repeats))
    if counts < 0:
        raise OpError("Repeats must be non-negative")
    return np.full(length, builtins.int(counts), np.int64)


@op()
def repeat_interleave(input: Any, repeats: Any = None, dim: int | None = None, *,
                      output_size: int | None = None) -> Tensor:
    """Repeat each element ``repeats`` times (an int, or one count per element) along dim;
    dim=None repeats the flattened input. ``repeat_interleave(counts)`` alone gives
    ``arange(len(counts))`` repeated by counts."""
    if repeats is None:
        counts = input
        if counts.ndim != 1:
            raise OpError("repeat_interleave only accept 1D vector as repeat")
        if counts._data.dtype.kind not in "iu":
            raise NotImplementedError(
                f"repeat_interleave: repeats must be an integer tensor, got {counts.dtype}")
        if (counts._data < 0).any():
            raise OpError("repeats can not be negative")
        out = np.repeat(np.arange(counts.shape[0], dtype=np.int64), counts._data)
        if output_size is not None and output_size != out.shape[0]:
            raise OpError(f"repeat_interleave: allocated size does not match required size "
                          f"(output_size={output_size}, required {out.shape[0]})")
        return _wrap(out)
    if dim is None:
        input = input.reshape(-1)
        axis = 0
    else:
        axis = _one_dim(dim, input.ndim, "repeat_interleave")
        if input.ndim == 0:
            input = input.reshape(1)
    length = input.shape[axis]
    counts = _repeats_vector(repeats, length, f"input.size({axis})")
    total = builtins.int(counts.sum())
    if output_size is not None and output_size != total:
        raise OpError(f"repeat_interleave: Invalid output_size, expected {total} but got "
                      f"{output_size}")
    index = np.repeat(np.arange(length), counts)
    return shape.GetItem.apply(input, index=(slice(None),) * axis + (index,)).contiguous()


# ---------------------------------------------------------------------------- views


@op(function=False)  # torch.unfold does not exist (nn.functional.unfold is im2col)
def unfold(self: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """Windows of ``size`` every ``step`` along ``dimension``, as a new last dim (a view:
    overlapping windows share elements, and their gradients add up)."""
    d = _one_dim(dimension, self.ndim, "unfold")
    length = self.shape[d] if self.ndim else 1
    if size < 0:
        raise OpError(f"size is {size} but must be >= 0")
    if size > length:
        raise OpError(f"maximum size for tensor at dimension {d} is {length} but size is {size}")
    if step <= 0:
        raise OpError(f"step is {step} but must be > 0")
    if self.ndim == 0:
        return self.reshape(1)[:size]
    return strided.UnfoldWindows.apply(self, dim=d, size=size, step=step)



def _is_dtype(x: Any) -> bool:
    if isinstance(x, (Tensor, builtins.int, np.integer, Sequence)) or x is None:
        return False
    try:
        return _as_dtype(x) is not None
    except TypeError:
        return False


def view(self: Tensor, *shape_args: Any, dtype: Any = None) -> Tensor:
    """``view(*shape)`` is :meth:`reshape`; ``view(dtype)`` reinterprets the bytes (no gradient).

    Unlike PyTorch, a non-contiguous tensor (``x.t()``) can be viewed too: the result is then
    a copy, so writing into it does not change the original.

    Example::

        >>> import minigrad as mg
        >>> x = mg.arange(8.0)
        >>> x.view(2, 4).shape
        minigrad.Size([2, 4])
        >>> x.view(-1, 2, 2).shape
        minigrad.Size([2, 2, 2])
    """
    if dtype is None and len(shape_args) == 1 and _is_dtype(shape_args[0]):
        dtype = shape_args[0]
    elif dtype is not None and shape_args:
        raise TypeError("view(): give either a shape or a dtype, not both")
    if dtype is None:
        return self.reshape(*shape_args)
    return _view_dtype(self, np.dtype(_as_dtype(dtype)))


def _view_dtype(self: Tensor, target: np.dtype) -> Tensor:
    data = self._data
    if target == data.dtype:
        return _wrap(data)
    names = (_type_name(self), _type_name(_wrap(np.zeros(0, target))))
    if target.itemsize == data.itemsize:
        return _wrap(data.view(target))
    what = f"to view {names[0]} as {names[1]} (different element sizes)"
    if data.ndim == 0:
        raise OpError(f"self.dim() cannot be 0 {what}")
    if data.shape[-1] > 1 and data.strides[-1] != data.itemsize:
        raise OpError(f"self.stride(-1) must be 1 {what}, but got "
                      f"{data.strides[-1] // data.itemsize}")
    if target.itemsize > data.itemsize:
        ratio = target.itemsize // data.itemsize
        if data.shape[-1] % ratio:
            raise OpError(f"self.size(-1) must be divisible by {ratio} {what}, but got "
                          f"{data.shape[-1]}")
    if not data.flags.c_contiguous and data.ndim > 1:
        # NumPy views only a contiguous last axis with a different itemsize: view row by row
        rows = np.lib.stride_tricks.as_strided(data, data.shape, data.strides)
        return _wrap(rows.view(target))
    return _wrap(data.view(target))


attach("view", view)


@op()
def narrow_copy(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """narrow(), copied into a new contiguous tensor."""
    from minigrad.api.shape_ops import narrow

    return narrow(input, dim, start, length).clone()


@op()
def unsafe_split(input: Tensor, split_size: int, dim: int = 0) -> tuple[Tensor, ...]:
    """split() with an int size (PyTorch skips its view checks; minigrad's split is safe)."""
    if not isinstance(split_size, (builtins.int, np.integer)):
        raise TypeError(f"unsafe_split(): argument 'split_size' (position 1) must be int, not "
                        f"{type(split_size).__name__}")
    return input.split(split_size, dim)


@op()
def unsafe_split_with_sizes(input: Tensor, split_sizes: Sequence[int], dim: int = 0
                            ) -> tuple[Tensor, ...]:
    """split() with a list of sizes."""
    return input.split(list(split_sizes), dim)


@op(out=False)
def is_nonzero(input: Tensor) -> bool:
    """The truth value of a one-element tensor."""
    if input._data.size == 0:
        raise OpError("Boolean value of Tensor with no values is ambiguous")
    if input._data.size > 1:
        raise OpError("Boolean value of Tensor with more than one value is ambiguous")
    return builtins.bool(input._data.reshape(()) != 0)


# ---------------------------------------------------------------------------- new_* constructors


def _new(self: Tensor, make: Any, size: tuple[Any, ...], dtype: Any, requires_grad: bool,
         **kwargs: Any) -> Tensor:
    return make(*size, dtype=self.dtype if dtype is None else dtype,
                requires_grad=requires_grad, **kwargs)


def new_zeros(self: Tensor, *size: Any, dtype: Any = None, device: Any = None,
              requires_grad: bool = False, layout: Any = None, pin_memory: bool = False) -> Tensor:
    """zeros(size) of this tensor's dtype (unless dtype= is given)."""
    return _new(self, creation.zeros, _sizes(size), dtype, requires_grad, device=device)


def new_ones(self: Tensor, *size: Any, dtype: Any = None, device: Any = None,
             requires_grad: bool = False, layout: Any = None, pin_memory: bool = False) -> Tensor:
    """ones(size) of this tensor's dtype (unless dtype= is given)."""
    return _new(self, creation.ones, _sizes(size), dtype, requires_grad, device=device)


def new_empty(self: Tensor, *size: Any, dtype: Any = None, device: Any = None,
              requires_grad: bool = False, layout: Any = None, pin_memory: bool = False) -> Tensor:
    """empty(size) of this tensor's dtype (zero-filled, as minigrad.empty is)."""
    return _new(self, creation.empty, _sizes(size), dtype, requires_grad, device=device)


def new_full(self: Tensor, size: Sequence[int], fill_value: Any, *, dtype: Any = None,
             device: Any = None, requires_grad: bool = False, layout: Any = None,
             pin_memory: bool = False) -> Tensor:
    """full(size, fill_value) of this tensor's dtype (the value is cast to it)."""
    return creation.full(size, fill_value, dtype=self.dtype if dtype is None else dtype,
                         device=device, requires_grad=requires_grad)


def new_tensor(self: Tensor, data: Any, *, dtype: Any = None, device: Any = None,
               requires_grad: bool = False, layout: Any = None,
               pin_memory: bool = False) -> Tensor:
    """A copy of ``data`` of this tensor's dtype (unless dtype= is given), not in the graph."""
    if isinstance(data, Tensor):
        warnings.warn(
            "To copy construct from a tensor, it is recommended to use "
            "sourceTensor.detach().clone() rather than tensor.new_tensor(sourceTensor).",
            UserWarning, stacklevel=2)
        data = data.detach()._data
    target = self.dtype if dtype is None else dtype
    array = np.array(data, dtype=np.dtype(_as_dtype(target)))
    return creation.tensor(array, device=device, requires_grad=requires_grad)


for _fn in (new_zeros, new_ones, new_empty, new_full, new_tensor):
    op(function=False)(_fn)  # methods only, as in PyTorch


# ---------------------------------------------------------------------------- memory layout


@overload
def stride(self: Tensor, dim: None = None) -> tuple[int, ...]: ...
@overload
def stride(self: Tensor, dim: int) -> int: ...


def stride(self: Tensor, dim: int | None = None) -> tuple[int, ...] | int:
    """Strides in elements, from the NumPy array (negative after a flip, which PyTorch copies)."""
    data = self._data
    steps = tuple(s // data.itemsize for s in data.strides)
    if dim is None:
        return steps
    return steps[_one_dim(dim, data.ndim, "stride")] if data.ndim else 1


def is_contiguous(self: Tensor, memory_format: Any = None) -> bool:
    """True when the elements lie in row-major order without gaps (NumPy's C-contiguity)."""
    return builtins.bool(self._data.flags.c_contiguous)


def contiguous(self: Tensor, memory_format: Any = None) -> Tensor:
    """This tensor if contiguous, else a row-major copy (differentiable)."""
    if self._data.flags.c_contiguous:
        return self
    return shape.Clone.apply(self)


def _root(array: np.ndarray) -> np.ndarray:
    while True:  # as_strided views hold their base inside a helper object's .base
        base = array.base
        if not isinstance(base, np.ndarray):
            base = getattr(base, "base", None)
        if not isinstance(base, np.ndarray):
            return array
        array = base


def storage_offset(self: Tensor) -> int:
    """Elements between the start of the memory this tensor views and its first element."""
    data = self._data
    start = _root(data).__array_interface__["data"][0]
    return (data.__array_interface__["data"][0] - start) // data.itemsize


def data_ptr(self: Tensor) -> int:
    """The address of the first element."""
    return builtins.int(self._data.__array_interface__["data"][0])


for _query in (stride, is_contiguous, contiguous, storage_offset, data_ptr):
    op(function=False)(_query)  # methods only, as in PyTorch


# ---------------------------------------------------------------------------- transposes


def _T(self: Tensor) -> Tensor:  # noqa: N802 - PyTorch's name
    """The dimensions reversed: a matrix's transpose, (n, m) -> (m, n). As in PyTorch, any
    other number of dimensions than 2 gives a ``UserWarning``.
    """
    if self.ndim == 0:
        warnings.warn("Tensor.T is deprecated on 0-D tensors. This function is the identity "
                      "in these cases.", UserWarning, stacklevel=2)
    elif self.ndim != 2:
        warnings.warn(
            "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is "
            "deprecated and it will throw an error in a future release. Consider `x.mT` to "
            "transpose batches of matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` "
            "to reverse the dimensions of a tensor.", UserWarning, stacklevel=2)
    return self.permute(*reversed(range(self.ndim)))


def _mT(self: Tensor, name: str = "mT") -> Tensor:  # noqa: N802 - PyTorch's name
    if self.ndim == 0:
        warnings.warn(f"Tensor.{name} is deprecated on 0-D tensors. This function is the "
                      "identity in these cases.", UserWarning, stacklevel=3)
        return self
    if self.ndim == 1:
        raise OpError(f"tensor.{name} is only supported on matrices or batches of matrices. "
                      "Got 1-D tensor.")
    return self.transpose(-2, -1)


def _H(self: Tensor) -> Tensor:  # noqa: N802 - PyTorch's name
    """The conjugate transpose of a matrix: its transpose, since minigrad tensors are real."""
    if self.ndim == 0:
        warnings.warn("Tensor.H is deprecated on 0-D tensors. Consider using x.conj().",
                      UserWarning, stacklevel=2)
        return self
    if self.ndim != 2:
        raise OpError(f"tensor.H is only supported on matrices (2-D tensors). Got "
                      f"{self.ndim}-D tensor.")
    return self.transpose(0, 1)


def _mT_property(self: Tensor) -> Tensor:  # noqa: N802 - PyTorch's name
    """The last two dimensions swapped: each matrix of a batch transposed,
    (..., n, m) -> (..., m, n).
    """
    return _mT(self)


def _mH(self: Tensor) -> Tensor:  # noqa: N802 - PyTorch's name
    """The conjugate transpose of each matrix of a batch: :attr:`mT`, as tensors are real."""
    return _mT(self, "mH")


attach("T", _T, kind="property")
attach("mT", _mT_property, kind="property")
attach("mH", _mH, kind="property")
attach("H", _H, kind="property")


@op(out=False)
def adjoint(input: Tensor) -> Tensor:
    """The conjugate transpose of the last two dims (the transpose: tensors are real)."""
    return _mT(input, "adjoint")
