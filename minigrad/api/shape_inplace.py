"""In-place shape methods: ``t_``, ``transpose_``, ``swapaxes_``, ``swapdims_``, ``squeeze_``,
``unsqueeze_`` and ``resize_``. They change the tensor's shape (its array becomes a view of the
old one, sharing memory, as PyTorch changes only the metadata) and bump its version.

Where a gradient flows, the tensor is rebased onto the view op applied to its old self, so
backward sees the op; a leaf that requires grad refuses, as in PyTorch (outside no_grad)."""

from __future__ import annotations

from typing import Any

from minigrad.autograd import engine as autograd
from minigrad.autograd.engine import Primitive, _GradMode
from minigrad.declare import op
from minigrad.errors import OpError
from minigrad.ops import shape
from minigrad.ops.shape_inplace import PermuteInPlace, ReshapeInPlace
from minigrad.tensor import Tensor, _one_dim, _sizes, _wrap


def _change_shape(self: Tensor, name: str, permutation: tuple[int, ...] | None,
                  new_shape: tuple[int, ...] | None) -> Tensor:
    """Give ``self`` the permuted axes or the new shape (same elements), in place."""
    if _GradMode.enabled and self.requires_grad:
        if self._node is None:
            raise RuntimeError(
                f"{name}: a leaf tensor of shape {tuple(self.shape)} that requires grad is being "
                f"used in an in-place operation; use the out-of-place {name[:-1]}() (x = "
                f"x.{name[:-1]}(...)) or do it under `with minigrad.no_grad():`"
            )
        # stays a view of its base (if it was one) so in-place writes into it stay guarded
        was_view = self._node.fn.is_view
        fn: type[Primitive]
        if permutation is not None:
            fn = shape.Permute if was_view else PermuteInPlace
            attrs: dict[str, Any] = {"dims": permutation}
        else:
            fn = shape.Reshape if was_view else ReshapeInPlace
            attrs = {"shape": new_shape}
        boundary = autograd.new_version_boundary()
        old = _wrap(self._data)
        old._node, old.requires_grad = self._node, True
        result = fn.apply(old, **attrs)
        assert result._node is not None  # recorded: old requires grad, grad mode is on
        # nodes recorded before this change send their gradient to the old tensor
        result._node.previous = (boundary, old)
        self._data, self._node = result._data, result._node
    elif permutation is not None:
        self._data = self._data.transpose(permutation)
    else:
        self._data = self._data.reshape(new_shape)
    self._version.value += 1
    return self


def _swap(ndim: int, dim0: int, dim1: int, name: str) -> tuple[int, ...]:
    order = list(range(ndim))
    if ndim == 0:
        for dim in (dim0, dim1):
            if dim not in (0, -1):
                raise IndexError(f"{name}: dim {dim} is out of range for a 0-d tensor "
                                 "(valid: -1 to 0)")
        return ()
    d0, d1 = _one_dim(dim0, ndim, name), _one_dim(dim1, ndim, name)
    order[d0], order[d1] = order[d1], order[d0]
    return tuple(order)


@op("transpose_", method=True, function=False)
def transpose_(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap dims ``dim0`` and ``dim1`` in place."""
    return _change_shape(input, "transpose_", _swap(input.ndim, dim0, dim1, "transpose_"), None)


@op("swapaxes_", method=True, function=False)
def swapaxes_(input: Tensor, axis0: int, axis1: int) -> Tensor:
    """``transpose_`` under NumPy's name."""
    return _change_shape(input, "swapaxes_", _swap(input.ndim, axis0, axis1, "swapaxes_"), None)


@op("swapdims_", method=True, function=False)
def swapdims_(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """``transpose_`` under another name."""
    return _change_shape(input, "swapdims_", _swap(input.ndim, dim0, dim1, "swapdims_"), None)


@op("t_", method=True, function=False)
def t_(input: Tensor) -> Tensor:
    """Transpose a tensor of at most 2 dims in place."""
    if input.ndim > 2:
        raise OpError(f"t_() expects a tensor with <= 2 dimensions, but self is {input.ndim}D; "
                      "use transpose_(dim0, dim1)")
    return _change_shape(input, "t_", tuple(range(input.ndim))[::-1], None)


@op("squeeze_", method=True, function=False)
def squeeze_(input: Tensor, dim: Any = None) -> Tensor:
    """Drop size-1 dims (all, or those in ``dim``) in place."""
    target = input.detach().squeeze(dim) if dim is not None else input.detach().squeeze()
    return _change_shape(input, "squeeze_", None, tuple(target.shape))


@op("unsqueeze_", method=True, function=False)
def unsqueeze_(input: Tensor, dim: int) -> Tensor:
    """Insert a size-1 dim at ``dim`` in place."""
    return _change_shape(input, "unsqueeze_", None, tuple(input.detach().unsqueeze(dim).shape))


def _storage_from_offset(array: Any) -> Any:
    """The memory behind ``array`` from its first element on, in storage order, as a 1-D
    array sharing it (PyTorch's resize_ reads the storage, not the strided view)."""
    import numpy as np

    base = array
    while isinstance(base.base, np.ndarray):
        base = base.base
    if not base.flags.c_contiguous:
        return np.ascontiguousarray(array).reshape(-1)
    start = (array.__array_interface__["data"][0] - base.__array_interface__["data"][0])
    if array.size == 0 or start % array.itemsize or base.dtype != array.dtype:
        return np.ascontiguousarray(array).reshape(-1)
    return base.reshape(-1)[start // array.itemsize:]


@op("resize_", method=True, function=False)
def resize_(input: Tensor, *sizes: Any, memory_format: Any = None) -> Tensor:
    """Give the tensor shape ``sizes``: its elements in row-major order, cut or extended
    (new elements are zero; PyTorch leaves them uninitialised)."""
    import numpy as np

    if input.requires_grad:
        raise RuntimeError("resize_: cannot resize variables that require grad; resize a "
                           "detached copy (x.detach().clone().resize_(...))")
    new_shape = tuple(int(n) for n in _sizes(sizes))
    if any(n < 0 for n in new_shape):
        raise OpError(f"resize_: Trying to create tensor with negative dimension: "
                      f"{list(new_shape)}")
    count = int(np.prod(new_shape, dtype=np.int64))
    flat = _storage_from_offset(input._data)
    if count <= flat.size:
        input._data = flat[:count].reshape(new_shape)
    else:
        grown = np.zeros(count, dtype=input._data.dtype)
        kept = min(count, flat.size)
        grown[:kept] = flat[:kept]
        input._data = grown.reshape(new_shape)
    input._version.value += 1
    return input
