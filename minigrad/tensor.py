"""Tensor: one NumPy array, a gradient, and the graph node that produced it."""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, overload

import numpy as np

from minigrad import promotion
from minigrad.autograd import engine as autograd
from minigrad.autograd.engine import Node, Version, _GradMode
from minigrad.device import CPU, check_device
from minigrad.device import device as _device_type
from minigrad.dtypes import (  # noqa: E402,F401  (PyTorch's names, re-exported by minigrad)
    double,
    dtype,
    float16,
    float32,
    float64,
    from_numpy_dtype,
    half,
    int8,
    int16,
    int32,
    int64,
    long,
    short,
    uint8,
    uint16,
    uint32,
    uint64,
)
from minigrad.errors import DeviceError, OpError
from minigrad.ops import elementwise as ew
from minigrad.ops import linalg, reduce, shape
from minigrad.size import Size
from minigrad.types import Number

DEFAULT_FLOAT = np.dtype(np.float32)  # minigrad.set_default_dtype changes it

_TYPE_NAMES = {
    "float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
    "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor", "int8": "CharTensor",
    "uint8": "ByteTensor", "bool": "BoolTensor",
}

# the builtins under names that Tensor's methods float(), int() and bool() do not shadow
_py_float = builtins.float
_py_int = builtins.int
_py_bool = builtins.bool
_Scalar = (_py_float, _py_int, _py_bool, np.number, np.bool_)

if TYPE_CHECKING:
    # the methods minigrad.api declares at import time, typed (python -m minigrad._stubgen)
    from minigrad._declared import DeclaredMethods
else:
    DeclaredMethods = object


class ValuesIndices(NamedTuple):
    """``(values, indices)``, as ``max(dim)``, ``sort`` and their kin return."""

    values: Tensor
    indices: Tensor


def _is_float(dtype: np.dtype) -> _py_bool:
    return dtype.kind in "fc"


@overload
def _as_dtype(dtype: None) -> None: ...
@overload
def _as_dtype(dtype: Any) -> np.dtype[Any]: ...


def _as_dtype(dtype: Any) -> np.dtype[Any] | None:
    """The NumPy dtype of a ``dtype=`` argument (None stays None)."""
    if dtype is None:
        return None
    if dtype is _py_float:
        return DEFAULT_FLOAT
    if dtype is _py_int:
        return np.dtype(np.int64)
    if dtype is _py_bool:
        return np.dtype(np.bool_)
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"tensor: {dtype!r} is not a dtype; use e.g. mg.float32") from None


def _infer_array(data: Any, dtype: np.dtype | None) -> np.ndarray:
    """PyTorch's rules: Python floats give float32, ints int64, bools bool; arrays keep dtype.

    Validated here, at the boundary: non-numeric, complex and ragged data, and values that do
    not fit the requested integer dtype, raise with the reason.
    """
    if isinstance(data, Tensor):
        array = data._data
    elif isinstance(data, np.ndarray):
        array = data
        if array.dtype.kind not in "biuf":
            _refuse_dtype(array.dtype, "an ndarray")
    else:
        if isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in data):
            data = [x._data if isinstance(x, Tensor) else x for x in data]
        try:
            array = np.asarray(data)
        except ValueError:
            raise OpError(
                "tensor: the nested lists are ragged (sequences of different lengths at the "
                "same depth); every row must have the same length"
            ) from None
        if array.dtype.kind not in "biuf":
            _refuse_dtype(array.dtype, type(data).__name__ + " data")
        if dtype is None and array.dtype.kind == "f":
            array = array.astype(DEFAULT_FLOAT)
        elif dtype is None and array.dtype.kind in "iu":
            if array.dtype.kind == "u" and array.size and array.max() > np.iinfo(np.int64).max:
                raise OpError("tensor: a value does not fit into int64, the type of Python ints")
            array = array.astype(np.int64)
    if dtype is not None and array.dtype != dtype:
        if dtype.kind in "iu" and array.dtype.kind in "iub" and array.size:
            info = np.iinfo(dtype)
            low, high = array.min(), array.max()
            if low < info.min or high > info.max:
                bad = low if low < info.min else high
                raise OpError(
                    f"tensor: value {bad} cannot be converted to {dtype} without overflow "
                    f"(range {info.min} to {info.max}); use a wider dtype"
                )
        if dtype.kind == "c":
            _refuse_dtype(dtype, "the dtype argument")
        array = array.astype(dtype)
    return array


def _refuse_dtype(d: np.dtype, what: str) -> None:
    if d.kind == "c":
        raise TypeError(
            f"tensor: {what} is complex ({d}); minigrad has no complex tensors. Keep the real "
            "and imaginary parts as two real tensors"
        )
    raise TypeError(
        f"tensor: cannot make a tensor from {what} of NumPy dtype {d}; pass numbers, nested "
        "lists of numbers or a numeric ndarray"
    )


def _check_can_require_grad(dtype: np.dtype, op: str = "requires_grad") -> None:
    if not _is_float(dtype):
        raise RuntimeError(
            f"{op}: only floating point tensors can require gradients, got dtype {dtype}; "
            "convert first, e.g. x.float()"
        )


def _wrap(array: np.ndarray) -> Tensor:
    """A new constant Tensor around ``array`` (no copy, no graph)."""
    t = Tensor.__new__(Tensor)
    t._data = array
    t.grad = None
    t.requires_grad = False
    t._node = None
    t._version = Version()
    t._retains_grad = False
    return t


def _normalize_dims(dim: Any, ndim: int, op: str) -> tuple[int, ...] | None:
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, (_py_int, np.integer)) else tuple(dim)
    out = []
    for d in dims:
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(
                f"{op}: dim {d} is out of range for a tensor with {ndim} dimensions "
                f"(valid: {-max(ndim, 1)} to {max(ndim, 1) - 1})"
            )
        out.append(d % ndim if ndim else 0)
    return tuple(out)


def _no_repeated_dims(dims: tuple[int, ...], op: str) -> None:
    seen = set()
    for d in dims:
        if d in seen:
            raise OpError(f"{op}: dim {d} appears multiple times in the list of dims")
        seen.add(d)


def _one_dim(dim: Any, ndim: int, op: str) -> _py_int:
    dims = _normalize_dims(dim, ndim, op)
    assert dims is not None and len(dims) == 1
    return dims[0]


def _sizes(args: tuple[Any, ...]) -> tuple[_py_int, ...]:
    """Accept both f(2, 3) and f((2, 3))."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return tuple(args)


class Tensor(DeclaredMethods):
    """An n-dimensional array that records the operations applied to it for backward.

    ``Tensor(data)`` wraps a number, a (nested) list or a NumPy array (sharing an array's
    memory, as :func:`from_numpy`); :func:`minigrad.tensor` copies instead. Python floats
    give float32, ints int64.

    Example::

        >>> import minigrad as mg
        >>> x = mg.Tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> x.shape, x.dtype
        (minigrad.Size([2, 2]), minigrad.float32)
        >>> (x + 1).sum().item()
        14.0
        >>> x.T.tolist()
        [[1.0, 3.0], [2.0, 4.0]]
    """

    __slots__ = {  # _hooks: set only by register_hook
        "_data": None, "_node": None, "_version": None, "_retains_grad": None, "_hooks": None,
        "grad": "The gradient accumulated by ``backward`` (a Tensor of this shape), or None.",
        "requires_grad": "Whether ops on this tensor are recorded for ``backward``.",
    }
    _hooks: dict[_py_int, Any]  # hook id -> hook, set by register_hook

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        # ndarray (op) Tensor and np.exp(t) give Tensors; inside a backward recorded for
        # create_graph=True this is how the backward rules' NumPy calls become graph ops
        from minigrad.autograd.higher_order import array_ufunc

        return array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        from minigrad.autograd.higher_order import array_function

        return array_function(func, args, kwargs)

    __hash__ = object.__hash__

    def __init__(self, data: Any, dtype: Any = None, requires_grad: _py_bool = False) -> None:
        self._data = _infer_array(data, _as_dtype(dtype))
        self.grad: Tensor | None = None
        if requires_grad:
            _check_can_require_grad(self._data.dtype)
        self.requires_grad = _py_bool(requires_grad)
        self._node: Node | None = None
        self._version = Version()
        self._retains_grad = False

    # ------------------------------------------------------------------ attributes

    @property
    def shape(self) -> Size:
        """The size of each dimension, as a :class:`Size` (a tuple of ints)."""
        return Size(self._data.shape)

    @property
    def ndim(self) -> _py_int:
        """The number of dimensions."""
        return self._data.ndim

    @property
    def dtype(self) -> dtype:
        """The element type (``minigrad.float32``, ``minigrad.int64``, ...)."""
        return from_numpy_dtype(self._data.dtype)

    @property
    def is_leaf(self) -> _py_bool:
        """Whether no recorded op made this tensor (``grad_fn is None``): tensors made by
        the user, and results computed without grad. ``backward`` fills ``.grad`` of leaves only.
        """
        return self._node is None

    @property
    def grad_fn(self) -> Node | None:
        """The graph node of the op that made this tensor, or None for a leaf."""
        return self._node

    @property
    def device(self) -> _device_type:
        """The device: always the CPU (``minigrad.device('cpu')``)."""
        return CPU

    @property
    def is_cuda(self) -> _py_bool:
        """Whether the tensor is on a CUDA device: always ``False``."""
        return False

    @property
    def layout(self) -> str:
        """The memory layout: always the string ``"minigrad.strided"`` (PyTorch has a
        ``torch.layout`` object).
        """
        return "minigrad.strided"

    # T, mT, mH, H, view (shapes and dtypes), contiguous and the layout queries (stride, …)
    # are set in minigrad/api/shape_more.py

    @overload
    def size(self, dim: None = None) -> Size: ...
    @overload
    def size(self, dim: _py_int) -> _py_int: ...

    def size(self, dim: _py_int | None = None) -> Size | _py_int:
        """The shape, or the length of one dimension."""
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_one_dim(dim, self._data.ndim, "size")]

    def dim(self) -> _py_int:
        """The number of dimensions (``ndim``)."""
        return self._data.ndim

    ndimension = dim

    def numel(self) -> _py_int:
        """The number of elements: the product of the shape (1 for a 0-d tensor)."""
        return self._data.size

    def element_size(self) -> _py_int:
        """The size of one element in bytes (4 for float32)."""
        return self._data.itemsize

    def is_floating_point(self) -> _py_bool:
        """Whether the dtype is a floating point type (float16, float32 or float64)."""
        return _is_float(self._data.dtype)

    # ------------------------------------------------------------------ conversion

    @property
    def data(self) -> Tensor:
        """A detached Tensor sharing memory with this one, as in PyTorch (``p.data -= lr * g``)."""
        out = _wrap(self._data)
        return out

    @data.setter
    def data(self, value: Any) -> None:
        array = value._data if isinstance(value, Tensor) else np.asarray(value)
        self._data = array

    def numpy(self, *, force: _py_bool = False) -> np.ndarray:
        """The underlying array, shared, not copied (``detach().numpy()`` on a graph tensor)."""
        if self.requires_grad and not force:
            raise RuntimeError(
                "numpy: can't call numpy() on a tensor that requires grad; use "
                "tensor.detach().numpy() instead"
            )
        return self._data

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        if self.requires_grad and _GradMode.differentiating:
            raise TypeError(
                f"a tensor of shape {self.shape} in the graph was turned into an array inside a "
                "backward recorded for create_graph=True, which would cut the graph; the "
                "primitive's backward must use operations with a Tensor meaning"
            )
        if dtype is not None and dtype != self._data.dtype:
            return self._data.astype(dtype)
        return self._data.copy() if copy else self._data

    def item(self) -> Number:
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(
                f"item: only a tensor with one element can be converted to a Python number, "
                f"this one has shape {self.shape}"
            )
        return self._data.item()

    def tolist(self) -> list[Any] | Number:
        """The values as nested Python lists (a Python number for a 0-d tensor)."""
        return self._data.tolist()

    def __float__(self) -> _py_float:
        return _py_float(self.item())

    def __int__(self) -> _py_int:
        return _py_int(self.item())

    def __index__(self) -> _py_int:
        if self._data.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError(f"only integer tensors of one element can be used as an index, "
                            f"got dtype {self.dtype} and shape {self.shape}")
        return _py_int(self.item())

    def __bool__(self) -> _py_bool:
        if self._data.size != 1:
            raise RuntimeError(
                f"bool: the truth value of a tensor with shape {self.shape} is ambiguous; "
                "use .any() or .all()"
            )
        return _py_bool(self._data.item())

    def __len__(self) -> _py_int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        for i in range(self._data.shape[0]):
            yield self[i]

    def __repr__(self) -> str:
        body = np.array2string(
            self._data, separator=", ", prefix="tensor(", precision=4, threshold=1000
        )
        extras = []
        if self._data.dtype not in (DEFAULT_FLOAT, np.dtype(np.int64), np.dtype(np.bool_)):
            extras.append(f"dtype={self.dtype}")
        if self._node is not None:
            extras.append(f"grad_fn=<{self._node.name()}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    # ------------------------------------------------------------------ autograd

    def backward(self, gradient: Any = None, retain_graph: _py_bool | None = None,
                 create_graph: _py_bool = False, inputs: Any = None) -> None:
        """Accumulate the gradient of this tensor into ``.grad`` of every leaf behind it;
        ``create_graph=True`` records the backward for higher-order derivatives.

        ``gradient`` (the gradient of some scalar with respect to this tensor, of its shape) may
        be left out for a one-element tensor. The graph is freed afterwards unless
        ``retain_graph=True``; ``inputs`` limits which leaves receive ``.grad``.

        Example::

            >>> import minigrad as mg
            >>> w = mg.tensor([1.0, 2.0], requires_grad=True)
            >>> (w * w).sum().backward()
            >>> w.grad.tolist()
            [2.0, 4.0]
            >>> (3 * w).backward(mg.ones(2))
            >>> w.grad.tolist()
            [5.0, 7.0]
        """
        autograd.backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph,
                          inputs=inputs)

    def detach(self) -> Tensor:
        """The same data, cut from the graph."""
        out = _wrap(self._data)
        out._version = self._version
        return out

    def detach_(self) -> Tensor:
        """Cut this tensor from the graph, in place: it becomes a leaf not requiring grad."""
        self._node = None
        self.requires_grad = False
        return self

    def requires_grad_(self, requires_grad: _py_bool = True) -> Tensor:
        """Set ``requires_grad`` in place and return the tensor. Only a leaf can be set to
        ``False``; integer and bool tensors cannot require grad.
        """
        if requires_grad:
            _check_can_require_grad(self._data.dtype, "requires_grad_")
        if self._node is not None and not requires_grad:
            raise RuntimeError(
                "requires_grad_: you can only change requires_grad of leaf tensors; use "
                "detach() to get a tensor that does not require grad"
            )
        self.requires_grad = _py_bool(requires_grad)
        return self

    def register_hook(self, hook: Any) -> Any:
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned Tensor
        replaces the gradient. Returns a handle whose ``remove()`` takes the hook out."""
        return autograd.register_tensor_hook(self, hook)

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        if self._node is not None:
            self._retains_grad = True

    def clone(self) -> Tensor:
        """A copy with memory of its own; gradients flow back to the original."""
        return shape.Clone.apply(self)

    # ------------------------------------------------------------------ dtype

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """``to(dtype)``, ``to(device, dtype)``, ``to(other)``, with ``copy=``; the device can
        only be the CPU. The tensor itself when nothing changes (unless ``copy=True``).

        Example::

            >>> import minigrad as mg
            >>> x = mg.tensor([1, 2])
            >>> x.to(mg.float64).tolist(), x.to(mg.float64).dtype
            ([1.0, 2.0], minigrad.float64)
            >>> x.to("cpu") is x
            True
        """
        dtype = kwargs.pop("dtype", None)
        check_device(kwargs.pop("device", None), "Tensor.to()")
        copy = kwargs.pop("copy", False)
        kwargs.pop("non_blocking", None)
        kwargs.pop("memory_format", None)
        if kwargs:
            raise TypeError(f"to(): unexpected keyword argument {next(iter(kwargs))!r}")
        for a in args:
            if isinstance(a, Tensor):
                dtype = a._data.dtype
            elif isinstance(a, (str, _device_type)) or (
                isinstance(a, _py_int) and not isinstance(a, _py_bool)
            ):
                check_device(a, "Tensor.to()")
            elif isinstance(a, _py_bool):
                continue  # non_blocking / copy given positionally
            else:
                dtype = a
        if dtype is None:
            return self.clone() if copy else self
        target = _as_dtype(dtype)
        assert target is not None
        if target == self._data.dtype:
            return self.clone() if copy else self
        if self.requires_grad and not _is_float(target):
            return _wrap(self._data.astype(target))
        return shape.Cast.apply(self, dtype=target)

    def cuda(self, *args: Any, **kwargs: Any) -> Tensor:
        """Raises ``DeviceError``: minigrad runs on the CPU only (PyTorch would copy the tensor
        to a GPU); pick the device with ``minigrad.cuda.is_available()``.
        """
        raise DeviceError(
            "Tensor.cuda(): minigrad runs on the CPU only. Let the script pick the CPU when no "
            "GPU is there: device = 'cuda' if torch.cuda.is_available() else 'cpu'; x.to(device)"
        )

    mps = cuda

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0:
            return format(self._data.item(), spec)
        if spec:
            raise TypeError(
                f"unsupported format string {spec!r} for a tensor of shape {tuple(self.shape)}; "
                "format t.item() of a one-element tensor"
            )
        return repr(self)

    def astype(self, dtype: Any) -> Tensor:
        """The tensor converted to ``dtype``, as :meth:`to`."""
        return self.to(dtype)

    def type(self, dtype: Any = None) -> Any:
        """``type(dtype)`` converts; ``type()`` names the tensor type (``minigrad.FloatTensor``)."""
        if dtype is None:
            return "minigrad." + _TYPE_NAMES.get(self._data.dtype.name, "Tensor")
        return self.to(dtype)

    def type_as(self, other: Tensor) -> Tensor:
        """The tensor converted to ``other``'s dtype."""
        return self.to(other.dtype)

    def float(self) -> Tensor:
        """The tensor as float32 (itself if it already is)."""
        return self.to(np.float32)

    def double(self) -> Tensor:
        """The tensor as float64 (itself if it already is)."""
        return self.to(np.float64)

    def half(self) -> Tensor:
        """The tensor as float16 (itself if it already is)."""
        return self.to(np.float16)

    def long(self) -> Tensor:
        """The tensor as int64 (itself if it already is)."""
        return self.to(np.int64)

    def int(self) -> Tensor:
        """The tensor as int32 (itself if it already is)."""
        return self.to(np.int32)

    def bool(self) -> Tensor:
        """The tensor as bool (itself if it already is): zero is ``False``."""
        return self.to(np.bool_)

    def cpu(self) -> Tensor:
        """The tensor itself: it is already on the CPU."""
        return self

    # ------------------------------------------------------------------ arithmetic

    def _operands(self, other: Any, op: str) -> tuple[Tensor, Tensor]:
        """Both operands as Tensors of one dtype, by PyTorch's promotion rules
        (``minigrad.promotion``)."""
        a = self
        da = a._data.dtype
        if isinstance(other, Tensor):
            if other._data.dtype == da:
                return a, other
            target = promotion.result_type((a, other), DEFAULT_FLOAT, op)
            return a.to(target), other.to(target)
        if isinstance(other, (np.ndarray, list, tuple)):
            return self._operands(Tensor(other), op)
        if isinstance(other, _py_float) and da.kind == "f":  # the common case, fast
            return a, _wrap(np.asarray(other, dtype=da))
        target = promotion.result_type((a, other), DEFAULT_FLOAT, op)
        with np.errstate(over="ignore"):  # 1e300 in float32 is inf, as in PyTorch
            return a.to(target), _wrap(np.asarray(other, dtype=target))

    def __add__(self, other: Any) -> Tensor:
        a, b = self._operands(other, "add")
        return ew.Add.apply(a, b)

    def __radd__(self, other: Any) -> Tensor:
        a, b = self._operands(other, "add")
        return ew.Add.apply(b, a)

    def __sub__(self, other: Any) -> Tensor:
        a, b = _no_bool_subtraction(self, other, *self._operands(other, "sub"))
        return ew.Sub.apply(a, b)

    def __rsub__(self, other: Any) -> Tensor:
        a, b = _no_bool_subtraction(self, other, *self._operands(other, "sub"))
        return ew.Sub.apply(b, a)

    def __mul__(self, other: Any) -> Tensor:
        a, b = self._operands(other, "mul")
        return ew.Mul.apply(a, b)

    def __rmul__(self, other: Any) -> Tensor:
        a, b = self._operands(other, "mul")
        return ew.Mul.apply(b, a)

    def _true_div_operands(self, other: Any) -> tuple[Tensor, Tensor]:
        a, b = self._operands(other, "div")
        if not _is_float(a._data.dtype):  # integer division is true division, as in PyTorch
            a, b = a.to(DEFAULT_FLOAT), b.to(DEFAULT_FLOAT)
        return a, b

    def __truediv__(self, other: Any) -> Tensor:
        a, b = self._true_div_operands(other)
        return ew.Div.apply(a, b)

    def __rtruediv__(self, other: Any) -> Tensor:
        a, b = self._true_div_operands(other)
        return ew.Div.apply(b, a)

    def __pow__(self, exponent: Any) -> Tensor:
        if isinstance(exponent, _Scalar) and not isinstance(exponent, (np.bool_, _py_bool)):
            base = self
            if isinstance(exponent, np.generic):  # NumPy scalars are not weakly typed: x**e
                exponent = exponent.item()  # with a np.float64 e would upcast float32
            if isinstance(exponent, (_py_float, np.floating)) and not _is_float(self._data.dtype):
                base = self.to(DEFAULT_FLOAT)
            elif self._data.dtype == np.bool_:
                base = self.to(np.int64)  # bool ** 2 is int64, as in PyTorch
            _check_integer_power(base, exponent)
            return ew.PowScalar.apply(base, exponent=exponent)
        a, b = self._operands(exponent, "pow")
        _check_integer_power(a, b)
        return ew.Pow.apply(a, b)

    def __rpow__(self, base: Any) -> Tensor:
        a, b = self._operands(base, "pow")
        _check_integer_power(b, a)
        return ew.Pow.apply(b, a)

    def __matmul__(self, other: Any) -> Tensor:
        return matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return matmul(Tensor(other), self)

    def add(self, other: Any, alpha: Any = 1) -> Tensor:
        """``self + alpha * other``, broadcasting, with PyTorch's type promotion; ``other`` may
        be a number.
        """
        return self + (other * alpha if alpha != 1 else other)

    def sub(self, other: Any, alpha: Any = 1) -> Tensor:
        """``self - alpha * other``, broadcasting, with PyTorch's type promotion."""
        return self - (other * alpha if alpha != 1 else other)

    def mul(self, other: Any) -> Tensor:
        """``self * other``, broadcasting, with PyTorch's type promotion."""
        return self * other

    def pow(self, exponent: Any) -> Tensor:
        """``self ** exponent`` elementwise; ``exponent`` is a number or a broadcastable tensor."""
        return self**exponent

    def matmul(self, other: Tensor) -> Tensor:
        """Matrix product, as ``self @ other``: (n, k) @ (k, m) -> (n, m), batched
        (..., n, k) @ (..., k, m) -> (..., n, m) with the batch dimensions broadcast; a 1-d operand
        is a vector (its dimension is dropped from the result).

        Example::

            >>> import minigrad as mg
            >>> a = mg.ones(2, 3)
            >>> b = mg.arange(12.0).reshape(3, 4)
            >>> a.matmul(b).tolist()
            [[12.0, 15.0, 18.0, 21.0], [12.0, 15.0, 18.0, 21.0]]
            >>> (mg.ones(5, 2, 3) @ b).shape
            minigrad.Size([5, 2, 4])
            >>> (a @ mg.ones(3)).shape
            minigrad.Size([2])
        """
        return matmul(self, other)

    def mm(self, mat2: Tensor) -> Tensor:
        """(n, k) @ (k, m): both must be matrices."""
        _require_dims("mm", self, 2, "self")
        _require_dims("mm", mat2, 2, "mat2")
        return matmul(self, mat2)

    def bmm(self, mat2: Tensor) -> Tensor:
        """(b, n, k) @ (b, k, m): batches of matrices of the same batch size."""
        _require_dims("bmm", self, 3, "batch1")
        _require_dims("bmm", mat2, 3, "batch2")
        if self.shape[0] != mat2.shape[0]:
            raise OpError(
                f"bmm: batch1 and batch2 must have the same number of matrices, got "
                f"{self.shape[0]} and {mat2.shape[0]}"
            )
        return matmul(self, mat2)

    def dot(self, other: Tensor) -> Tensor:
        """The inner product of two 1-D tensors of the same length."""
        _require_dims("dot", self, 1, "self")
        _require_dims("dot", other, 1, "tensor")
        if self.shape[0] != other.shape[0]:
            raise OpError(
                f"dot: inconsistent tensor size, expected tensor [{self.shape[0]}] and src "
                f"[{other.shape[0]}] to have the same number of elements"
            )
        return matmul(self, other)

    vdot = dot
    multiply, subtract = mul, sub

    # ------------------------------------------------------------------ elementwise math

    def _float_self(self) -> Tensor:
        return self if _is_float(self._data.dtype) else self.to(DEFAULT_FLOAT)

    def exp(self) -> Tensor:
        """``e ** x`` elementwise; integer inputs give the default float dtype."""
        return ew.Exp.apply(self._float_self())

    def log(self) -> Tensor:
        """The natural logarithm elementwise; integer inputs give the default float dtype."""
        return ew.Log.apply(self._float_self())

    def sqrt(self) -> Tensor:
        """The square root elementwise; integer inputs give the default float dtype."""
        return ew.Sqrt.apply(self._float_self())

    def sin(self) -> Tensor:
        """The sine elementwise (radians); integer inputs give the default float dtype."""
        return ew.Sin.apply(self._float_self())

    def cos(self) -> Tensor:
        """The cosine elementwise (radians); integer inputs give the default float dtype."""
        return ew.Cos.apply(self._float_self())

    def tanh(self) -> Tensor:
        """The hyperbolic tangent elementwise; integer inputs give the default float dtype."""
        return ew.Tanh.apply(self._float_self())

    def sigmoid(self) -> Tensor:
        """``1 / (1 + exp(-x))`` elementwise; integer inputs give the default float dtype."""
        return ew.Sigmoid.apply(self._float_self())

    def relu(self) -> Tensor:
        """``max(x, 0)`` elementwise."""
        return ew.Relu.apply(self)

    def clamp(self, min: Any = None, max: Any = None) -> Tensor:
        """Each element limited to ``[min, max]``; either bound may be None (not both) or a
        broadcastable tensor. An integer tensor clamped by float bounds gives floats.
        """
        if min is None and max is None:
            raise OpError("clamp: at least one of min and max must be given")
        if isinstance(min, Tensor) or isinstance(max, Tensor):
            out = self
            if min is not None:
                out = maximum(out, min)
            if max is not None:
                out = minimum(out, max)
            return out
        x = self
        if not _is_float(x._data.dtype) and any(
            isinstance(b, (_py_float, np.floating)) for b in (min, max)
        ):
            x = x.to(DEFAULT_FLOAT)  # an integer tensor clamped by floats gives floats
        return ew.Clamp.apply(x, min=min, max=max)

    clip = clamp

    def maximum(self, other: Any) -> Tensor:
        """The elementwise maximum of ``self`` and ``other``, broadcasting."""
        return maximum(self, other)

    def minimum(self, other: Any) -> Tensor:
        """The elementwise minimum of ``self`` and ``other``, broadcasting."""
        return minimum(self, other)

    def softmax(self, dim: _py_int) -> Tensor:
        """``exp(x) / exp(x).sum(dim)`` along ``dim`` (required), computed stably; shape kept."""
        return reduce.Softmax.apply(_softmax_input(self, "softmax"),
                                    axis=_one_dim(dim, self.ndim, "softmax"))

    def log_softmax(self, dim: _py_int) -> Tensor:
        """``log(softmax(x, dim))`` along ``dim``, computed stably; shape kept."""
        return reduce.LogSoftmax.apply(_softmax_input(self, "log_softmax"),
                                       axis=_one_dim(dim, self.ndim, "log_softmax"))

    # ------------------------------------------------------------------ comparisons

    def _compare(self, other: Any, ufunc: np.ufunc) -> Tensor:
        b = other._data if isinstance(other, Tensor) else other
        try:
            return _wrap(np.asarray(ufunc(self._data, b)))
        except ValueError:
            other_shape = np.shape(b)
            raise OpError(
                f"{ufunc.__name__}: shapes {tuple(self._data.shape)} and {tuple(other_shape)} "
                "cannot be broadcast together; sizes must be equal or 1 in each dimension, "
                "aligned from the right"
            ) from None

    # elementwise, as in PyTorch: a Tensor where object.__eq__ gives a bool
    @overload  # type: ignore[override]
    def __eq__(self, other: None) -> _py_bool: ...
    @overload
    def __eq__(self, other: Any) -> Tensor: ...

    def __eq__(self, other: Any) -> Tensor | _py_bool:
        """Elementwise ``self == other`` as a bool tensor, broadcasting."""
        if other is None:
            return False
        return self._compare(other, np.equal)

    # elementwise, as in PyTorch: a Tensor where object.__ne__ gives a bool
    @overload  # type: ignore[override]
    def __ne__(self, other: None) -> _py_bool: ...
    @overload
    def __ne__(self, other: Any) -> Tensor: ...

    def __ne__(self, other: Any) -> Tensor | _py_bool:
        """Elementwise ``self != other`` as a bool tensor, broadcasting."""
        if other is None:
            return True
        return self._compare(other, np.not_equal)

    def __lt__(self, other: Any) -> Tensor:
        """Elementwise ``self < other`` as a bool tensor, broadcasting."""
        return self._compare(other, np.less)

    def __le__(self, other: Any) -> Tensor:
        """Elementwise ``self <= other`` as a bool tensor, broadcasting."""
        return self._compare(other, np.less_equal)

    def __gt__(self, other: Any) -> Tensor:
        """Elementwise ``self > other`` as a bool tensor, broadcasting."""
        return self._compare(other, np.greater)

    def __ge__(self, other: Any) -> Tensor:
        """Elementwise ``self >= other`` as a bool tensor, broadcasting."""
        return self._compare(other, np.greater_equal)

    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__

    def logical_not(self) -> Tensor:
        """Elementwise ``not x`` as a bool tensor (zero is ``False``)."""
        return _wrap(np.logical_not(self._data))

    # reductions (sum, mean, max, …) are declared in minigrad/api/reductions.py, indexing
    # and selection (gather, scatter, sort, …) in minigrad/api/indexing.py

    # ------------------------------------------------------------------ shape

    def reshape(self, *shape_args: Any) -> Tensor:
        """The same elements in a new shape, given as ``reshape(2, -1)`` or
        ``reshape((2, -1))``; one size may be -1 and is inferred.

        Example::

            >>> import minigrad as mg
            >>> x = mg.arange(6)
            >>> x.reshape(2, 3).tolist()
            [[0, 1, 2], [3, 4, 5]]
            >>> x.reshape(-1, 2).shape
            minigrad.Size([3, 2])
        """
        new_shape = _sizes(shape_args)
        try:
            resolved = _resolve_shape(self.shape, new_shape)
        except ValueError as e:
            raise RuntimeError(f"reshape: {e}") from None
        if resolved == self.shape:
            return self
        return shape.Reshape.apply(self, shape=resolved)

    def view_as(self, other: Tensor) -> Tensor:
        """``self`` reshaped to ``other``'s shape."""
        return self.reshape(other.shape)

    reshape_as = view_as

    def flatten(self, start_dim: _py_int = 0, end_dim: _py_int = -1) -> Tensor:
        """Dimensions ``start_dim`` to ``end_dim`` (both included) merged into one:
        ``(2, 3, 4).flatten(1)`` is ``(2, 12)``; a 0-d tensor gives ``(1,)``.
        """
        start = _one_dim(start_dim, self.ndim, "flatten")
        end = _one_dim(end_dim, self.ndim, "flatten")
        if self.ndim == 0:
            return self.reshape(1)
        if start > end:
            raise OpError(f"flatten() has invalid args: start_dim cannot come after end_dim "
                          f"(start_dim={start_dim}, end_dim={end_dim})")
        s = self.shape
        return self.reshape(s[:start] + (int(np.prod(s[start : end + 1])),) + s[end + 1 :])

    def unflatten(self, dim: _py_int, sizes: Sequence[_py_int]) -> Tensor:
        """Dimension ``dim`` split into ``sizes`` (one may be -1):
        ``(2, 12).unflatten(1, (3, 4))`` is ``(2, 3, 4)``.
        """
        d = _one_dim(dim, self.ndim, "unflatten")
        sizes = tuple(_py_int(n) for n in sizes)
        if not sizes:
            raise OpError("unflatten: sizes must be non-empty")
        if sizes.count(-1) > 1:
            raise OpError(f"unflatten: only one dimension can be inferred (-1), got {list(sizes)}")
        known = int(np.prod([n for n in sizes if n != -1]))
        size = self.shape[d]
        if (-1 in sizes and (known == 0 or size % known)) or (-1 not in sizes and known != size):
            raise OpError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the "
                          f"size of dim {dim} ({size}) in the input tensor")
        return self.reshape(self.shape[:d] + sizes + self.shape[d + 1 :])

    def permute(self, *dims: Any) -> Tensor:
        """The dimensions reordered: ``x.permute(2, 0, 1)`` (or ``x.permute((2, 0, 1))``)
        turns (H, W, C) into (C, H, W).
        """
        order = _sizes(dims)
        if sorted(_normalize_dims(order, self.ndim, "permute") or ()) != list(range(self.ndim)):
            raise OpError(
                f"permute: dims {order} are not a permutation of the {self.ndim} dimensions "
                f"of a tensor of shape {self.shape}"
            )
        return shape.Permute.apply(self, dims=_normalize_dims(order, self.ndim, "permute"))

    def transpose(self, dim0: _py_int, dim1: _py_int) -> Tensor:
        """Dimensions ``dim0`` and ``dim1`` swapped."""
        d0 = _one_dim(dim0, self.ndim, "transpose")
        d1 = _one_dim(dim1, self.ndim, "transpose")
        if self.ndim < 2:
            return self
        order = list(range(self.ndim))
        order[d0], order[d1] = order[d1], order[d0]
        return shape.Permute.apply(self, dims=tuple(order))

    swapaxes = transpose

    def t(self) -> Tensor:
        """The transpose of a matrix, (n, m) -> (m, n); 0-d and 1-d tensors are returned as is."""
        if self.ndim > 2:
            raise OpError(f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D "
                          f"(shape {tuple(self.shape)}); use transpose(dim0, dim1)")
        if self.ndim < 2:
            return self
        return self.transpose(0, 1)

    def squeeze(self, dim: Any = None) -> Tensor:
        """Dimensions of size 1 removed: all of them, or those of ``dim`` (an int or a tuple)."""
        if dim is None:
            new_shape = tuple(n for n in self.shape if n != 1)
        else:
            dims = _normalize_dims(dim, self.ndim, "squeeze") or ()
            _no_repeated_dims(dims, "squeeze")
            new_shape = tuple(n for i, n in enumerate(self.shape) if not (i in dims and n == 1))
        return self.reshape(new_shape)

    def unsqueeze(self, dim: _py_int) -> Tensor:
        """A dimension of size 1 inserted at ``dim``: (3,) -> (1, 3) with ``dim=0``, (3, 1)
        with ``dim=-1``.
        """
        d = dim if dim >= 0 else dim + self.ndim + 1
        if not 0 <= d <= self.ndim:
            raise IndexError(
                f"unsqueeze: dim {dim} is out of range for a tensor with {self.ndim} dimensions "
                f"(valid: {-self.ndim - 1} to {self.ndim})"
            )
        return self.reshape(self.shape[:d] + (1,) + self.shape[d:])

    def expand(self, *sizes: Any) -> Tensor:
        """``self`` broadcast to ``sizes`` (-1 keeps a size): only dimensions of size 1 grow,
        and new ones are added in front, e.g. (3, 1) -> (2, 3, 4) with ``expand(2, 3, 4)``.
        """
        target = tuple(_py_int(n) for n in _sizes(sizes))
        lead = len(target) - self.ndim
        if lead < 0:
            raise OpError(
                f"expand({self.type()}{{{list(self.shape)}}}, size={list(target)}): the number "
                f"of sizes provided ({len(target)}) must be greater or equal to the number of "
                f"dimensions in the tensor ({self.ndim})"
            )
        for i, n in enumerate(target):
            if i < lead and n < 0:
                raise OpError(f"expand: The expanded size of the tensor ({n}) isn't allowed in a "
                              f"leading, non-existing dimension {i}")
            if i >= lead and n != -1 and self.shape[i - lead] not in (1, n):
                raise OpError(
                    f"expand: The expanded size of the tensor ({n}) must match the existing size "
                    f"({self.shape[i - lead]}) at non-singleton dimension {i}.  Target sizes: "
                    f"{list(target)}.  Tensor sizes: {list(self.shape)}")
        resolved = tuple(
            self.shape[i - lead] if (n == -1 and i >= lead) else n for i, n in enumerate(target)
        )
        return self.broadcast_to(resolved)

    def expand_as(self, other: Tensor) -> Tensor:
        """``self`` broadcast to ``other``'s shape (see :meth:`expand`)."""
        return self.broadcast_to(other.shape)

    def broadcast_to(self, size: Sequence[_py_int]) -> Tensor:
        """``self`` broadcast to ``size``: only dimensions of size 1 grow, and new ones
        are added in front.
        """
        target = tuple(size)
        if target == self.shape:
            return self
        try:
            np.broadcast_shapes(self.shape, target)
            if np.broadcast_shapes(self.shape, target) != target:
                raise OpError
        except ValueError:
            raise OpError(
                f"broadcast_to: a tensor of shape {self.shape} cannot be expanded to {target}; "
                "only dimensions of size 1 can grow"
            ) from None
        return shape.Expand.apply(self, shape=target)

    def repeat(self, *sizes: Any) -> Tensor:
        """The tensor tiled ``sizes`` times along each dimension: (2, 3) -> (4, 3) with
        ``repeat(2, 1)``; extra counts add leading dimensions.
        """
        reps = tuple(_py_int(n) for n in _sizes(sizes))
        if not sizes:
            raise TypeError('repeat() missing 1 required positional arguments: "repeats"')
        if len(reps) < self.ndim:
            raise OpError(
                f"repeat: Number of dimensions of repeat dims ({len(reps)}) can not be smaller "
                f"than number of dimensions of tensor ({self.ndim}); pass one count per dim")
        if reps and builtins.min(reps) < 0:
            padded = (1,) * (len(reps) - self.ndim) + tuple(self.shape)
            final = [r * n for r, n in zip(reps, padded)]
            raise OpError(f"repeat: Trying to create tensor with negative dimension "
                          f"{builtins.min(final)}: {final}")
        x = self.reshape((1,) * (len(reps) - self.ndim) + self.shape)
        # tile by expanding an inserted axis before each dimension, then merging them
        inter = []
        final = []
        for r, n in zip(reps, x.shape):
            inter += [r, n]
            final.append(r * n)
        expanded = x.reshape(tuple(v for n in x.shape for v in (1, n))).expand(*inter)
        return expanded.reshape(final)

    def split(self, split_size_or_sections: Any, dim: _py_int = 0) -> tuple[Tensor, ...]:
        """Pieces along ``dim``: of ``split_size_or_sections`` elements each (the last may be
        smaller), or of the sizes listed.
        """
        axis = _one_dim(dim, self.ndim, "split")
        length = self.shape[axis]
        if isinstance(split_size_or_sections, (_py_int, np.integer)):
            size = _py_int(split_size_or_sections)
            if size < 0:
                raise OpError(f"split: split expects split_size be non-negative, but got "
                              f"split_size={size}")
            if size == 0 and length:
                raise OpError(f"split: split_size can only be 0 if dimension size is 0, but got "
                              f"dimension size of {length}")
            sections = ([builtins.min(size, length - s) for s in range(0, length, size)]
                        if length else [0])
        else:
            sections = [_py_int(n) for n in split_size_or_sections]
            if any(n < 0 for n in sections):
                raise OpError(f"split: split_with_sizes expects split_sizes have only non-negative "
                              f"entries, but got split_sizes={sections}")
            if sum(sections) != length:
                raise OpError(
                    f"split: split_with_sizes expects split_sizes to sum exactly to {length} "
                    f"(input tensor's size at dimension {dim}), but got split_sizes={sections}"
                )
        out = []
        start = 0
        prefix = (slice(None),) * axis
        for n in sections:
            out.append(self[prefix + (slice(start, start + n),)])
            start += n
        return tuple(out)

    def chunk(self, chunks: _py_int, dim: _py_int = 0) -> tuple[Tensor, ...]:
        """At most ``chunks`` pieces along ``dim``, each of ``ceil(size / chunks)`` elements
        (the last may be smaller).
        """
        length = self.shape[_one_dim(dim, self.ndim, "chunk")]
        if chunks <= 0:
            raise OpError(f"chunk: chunk expects `chunks` to be greater than 0, got: {chunks}")
        size = -(-length // chunks)
        return self.split(builtins.max(size, 1), dim)

    def unbind(self, dim: _py_int = 0) -> tuple[Tensor, ...]:
        """The slices along ``dim``, as a tuple of tensors without that dimension."""
        if self.ndim == 0:
            raise IndexError("unbind: Dimension specified as 0 but tensor has no dimensions")
        axis = _one_dim(dim, self.ndim, "unbind")
        prefix = (slice(None),) * axis
        return tuple(self[prefix + (i,)] for i in range(self.shape[axis]))

    def flip(self, *dims: Any) -> Tensor:
        """Reverse the order along ``dims``: ``x.flip(0, 2)`` or ``x.flip((0, 2))``."""
        axes = _normalize_dims(_sizes(dims), self.ndim, "flip") or ()
        _no_repeated_dims(axes, "flip")
        index = tuple(slice(None, None, -1) if i in axes else slice(None) for i in range(self.ndim))
        return self[index]

    # ------------------------------------------------------------------ indexing

    def __getitem__(self, index: Any) -> Tensor:
        # PyTorch's order: ints and None first, then tensor indices (shape.split_index)
        pre, index = shape.split_index(_convert_index(index), self._data.ndim)
        try:
            if pre is None and shape.is_basic_index(index):
                return shape.GetItemView.apply(self, index=index)
            return shape.GetItem.apply(self, index=index, pre=pre)
        except IndexError as e:
            raise IndexError(f"getitem: {e} (tensor shape {self.shape})") from None

    def __setitem__(self, index: Any, value: Any) -> None:
        pre, index = shape.split_index(_convert_index(index), self._data.ndim)
        if isinstance(value, Tensor):
            value_t = value if value.dtype == self.dtype else value.to(self.dtype)
        else:
            value_t = _wrap(np.asarray(value, dtype=self._data.dtype))
        try:
            if _needs_graph(self, value_t):
                self._rebase(
                    lambda alias: shape.SetItem.apply(alias, value_t, index=index, pre=pre)
                )
            else:
                (self._data if pre is None else self._data[pre])[index] = value_t._data
        except IndexError as e:
            raise IndexError(f"setitem: {e} (tensor shape {self.shape})") from None
        except ValueError as e:
            if isinstance(e, OpError):
                raise
            target = (self._data if pre is None else self._data[pre])[index].shape
            raise OpError(
                f"setitem: shape mismatch: a value of shape {tuple(value_t.shape)} cannot be "
                f"broadcast to the indexed result of shape {target} (tensor shape "
                f"{tuple(self.shape)})"
            ) from None
        self._version.value += 1

    # ------------------------------------------------------------------ in-place

    def _rebase(self, compute: Any) -> None:
        """Make this tensor the output of ``compute(old self)``, keeping its array in place."""
        if self.requires_grad and self._node is None:
            raise RuntimeError(
                f"in-place: a leaf tensor of shape {self.shape} that requires grad is being "
                "modified in place; do it under `with mg.no_grad():` (as optimizers do) or use "
                "an out-of-place operation"
            )
        if self._node is not None and self._node.fn.is_view:
            # the base tensor's graph would not learn of the change: its gradient would be wrong
            raise RuntimeError(
                f"in-place: a tensor of shape {self.shape} that is a view (indexing, reshape, "
                f"permute, expand) of a tensor in the graph ({self._node.name()}) is being "
                "modified in place; clone() the view first, or assign into the base tensor "
                "(base[index] = value)"
            )
        boundary = autograd.new_version_boundary()
        alias = _wrap(self._data.copy())
        alias._node, alias.requires_grad = self._node, self.requires_grad
        result = compute(alias)
        if result.shape != self.shape:
            raise RuntimeError(
                f"in-place: the result has shape {result.shape} but the tensor being modified "
                f"has shape {self.shape}; in-place operations cannot change the shape"
            )
        np.copyto(self._data, result._data)
        node = result._node
        if node is not None and result is not alias:
            # nodes recorded before this change used the old value: the engine sends their
            # gradient to alias, not through the new node
            node.previous = (boundary, alias)
        self._node, self.requires_grad = node, result.requires_grad

    def _inplace_result(self, op: str, compute: Any) -> Tensor:
        """Set this tensor to ``compute(self)``, in place, recording the change for backward
        where a gradient flows (the in-place variant that ``minigrad.declare`` derives)."""
        if _GradMode.enabled and self.requires_grad:
            self._rebase(lambda alias: self._checked_inplace(op, compute(alias)))
        else:
            result = self._checked_inplace(op, compute(self))
            if result.requires_grad and _GradMode.enabled:
                # another operand needs a gradient: record on a copy of the old value
                self._rebase(lambda alias: self._checked_inplace(op, compute(alias)))
            else:
                np.copyto(self._data, result._data, casting="same_kind")
        self._version.value += 1
        return self

    def _checked_inplace(self, op: str, result: Any) -> Tensor:
        if not isinstance(result, Tensor):
            result = _wrap(np.asarray(result))
        if result._data.shape != self._data.shape:
            raise OpError(
                f"{op}: output with shape {list(self._data.shape)} doesn't match the broadcast "
                f"shape {list(result._data.shape)}; in-place operations cannot change the shape"
            )
        if result._data.dtype != self._data.dtype:
            if not np.can_cast(result._data.dtype, self._data.dtype, casting="same_kind"):
                raise OpError(
                    f"{op}: result type {result._data.dtype} can't be cast to the desired "
                    f"output type {self._data.dtype}; convert first, e.g. x = x.float()"
                )
            result = result.to(self._data.dtype)
        return result

    def _inplace(self, op: str, other: Any, out_of_place: Any, ufunc: np.ufunc) -> Tensor:
        """A binary in-place op that writes through ``ufunc(..., out=)`` when no graph is
        recorded (no temporary); the other in-place ops go through ``_inplace_result``."""
        other_t = other if isinstance(other, Tensor) else None
        if _needs_graph(self, other_t):
            self._rebase(lambda alias: out_of_place(alias, other))
        else:
            b = other._data if other_t is not None else other
            try:
                ufunc(self._data, b, out=self._data, casting="same_kind")
            except TypeError:
                raise RuntimeError(
                    f"{op}: result type of {self.dtype} {op} {type(b).__name__} can't be "
                    f"cast to the tensor's dtype {self.dtype}"
                ) from None
            except ValueError as e:
                raise RuntimeError(f"{op}: {e} (tensor shape {self.shape})") from None
        self._version.value += 1
        return self

    def add_(self, other: Any, alpha: Any = 1) -> Tensor:
        """In-place version of :meth:`add`: ``self += alpha * other``; the result must keep
        ``self``'s shape and dtype.
        """
        if alpha != 1:
            other = other * alpha
        return self._inplace("add_", other, lambda a, b: a + b, np.add)

    def sub_(self, other: Any, alpha: Any = 1) -> Tensor:
        """In-place version of :meth:`sub`."""
        if alpha != 1:
            other = other * alpha
        return self._inplace("sub_", other, lambda a, b: a - b, np.subtract)

    def mul_(self, other: Any) -> Tensor:
        """In-place version of :meth:`mul`."""
        return self._inplace("mul_", other, lambda a, b: a * b, np.multiply)

    def div_(self, other: Any, *, rounding_mode: str | None = None) -> Tensor:
        """In-place version of :meth:`div` (with its ``rounding_mode``)."""
        if rounding_mode is not None:
            return self._inplace_result(
                "div_", lambda alias: alias.div(other, rounding_mode=rounding_mode))
        return self._inplace("div_", other, lambda a, b: a / b, np.true_divide)

    def copy_(self, src: Any) -> Tensor:
        """Copy ``src`` (broadcast to ``self``'s shape, cast to its dtype) into this tensor, in
        place; gradients flow to ``src``, none to the old values.
        """
        src_t = src if isinstance(src, Tensor) else _wrap(np.asarray(src))
        if _needs_graph(self, src_t):
            # the new value depends on src only: the old content gets no gradient
            self._rebase(lambda alias: alias * 0 + src_t.to(self.dtype))
        else:
            np.copyto(self._data, src_t._data, casting="unsafe")
        self._version.value += 1
        return self

    def fill_(self, value: Any) -> Tensor:
        """Set every element to ``value`` (a number or a one-element tensor), in place."""
        if _needs_graph(self, value if isinstance(value, Tensor) else None):
            return self.copy_(value)
        self._data.fill(value.item() if isinstance(value, Tensor) else value)
        self._version.value += 1
        return self

    def zero_(self) -> Tensor:
        """Set every element to zero, in place."""
        return self.fill_(0)

    def uniform_(self, a: _py_float = 0.0, b: _py_float = 1.0) -> Tensor:
        """Fill in place with samples from U(a, b), drawn from the global generator."""
        from minigrad.random import generator

        return self._fill_random(generator().uniform(a, b, self.shape))

    def normal_(self, mean: _py_float = 0.0, std: _py_float = 1.0) -> Tensor:
        """Fill in place with samples from a normal distribution of mean ``mean`` and
        standard deviation ``std``, drawn from the global generator.
        """
        from minigrad.random import generator

        return self._fill_random(generator().normal(mean, std, self.shape))

    def _fill_random(self, values: np.ndarray) -> Tensor:
        if self.requires_grad and self._node is None and _GradMode.enabled:
            raise RuntimeError(
                f"in-place: a leaf tensor of shape {self.shape} that requires grad is being "
                "modified in place; do it under `with mg.no_grad():`"
            )
        np.copyto(self._data, values, casting="unsafe")
        self._version.value += 1
        return self

    def __iadd__(self, other: Any) -> Tensor:
        return self.add_(other)

    def __isub__(self, other: Any) -> Tensor:
        return self.sub_(other)

    def __imul__(self, other: Any) -> Tensor:
        return self.mul_(other)

    def __itruediv__(self, other: Any) -> Tensor:
        return self.div_(other)


autograd._tensor_class = Tensor


def _no_bool_subtraction(x: Tensor, y: Any, a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """PyTorch refuses a bool on either side of ``-``, before any promotion."""
    y_bool = isinstance(y, (_py_bool, np.bool_)) or (
        isinstance(y, Tensor) and y._data.dtype == np.bool_)
    if x._data.dtype == np.bool_ or y_bool:
        raise RuntimeError(
            "sub: subtraction, the `-` operator, with a bool tensor or number is not supported; "
            "to invert a mask use the `~` or logical_not() operator, for the difference of two "
            "masks `^` or logical_xor()"
        )
    return a, b


def _check_integer_power(base: Tensor, exponent: Any) -> None:
    """PyTorch refuses integer ** negative integer, and bool ** bool."""
    kind = base._data.dtype.kind
    if kind not in "iub":
        return
    exp = exponent._data if isinstance(exponent, Tensor) else np.asarray(exponent)
    if kind == "b" and exp.dtype.kind == "b":
        raise NotImplementedError("pow: not implemented for bool ** bool; use x.long() first")
    if exp.dtype.kind in "iu" and np.any(exp < 0):
        raise RuntimeError("pow: integers to negative integer powers are not allowed; "
                           "use a float base, e.g. x.float() ** -1")


def _needs_graph(target: Tensor, other: Tensor | None) -> _py_bool:
    return _GradMode.enabled and (
        target.requires_grad or (other is not None and other.requires_grad)
    )


def _resolve_shape(old: tuple[int, ...], new: tuple[int, ...]) -> tuple[int, ...]:
    size = int(np.prod(old))
    new = tuple(_py_int(n) for n in new)
    if new.count(-1) > 1:
        raise OpError(f"only one dimension can be inferred (-1), got shape {new}")
    if -1 in new:
        known = int(np.prod([n for n in new if n != -1]))
        if known == 0 or size % known:
            raise OpError(f"shape {new} is invalid for input of shape {old} ({size} elements)")
        new = tuple(size // known if n == -1 else n for n in new)
    if int(np.prod(new)) != size:
        raise OpError(
            f"shape {new} is invalid for input of shape {old}: {int(np.prod(new))} elements "
            f"requested, {size} available"
        )
    return new


def _convert_index(index: Any) -> Any:
    """Tensors and lists in an index become arrays (0-d integer tensors become ints)."""
    if isinstance(index, tuple):
        return tuple(_convert_index_part(p) for p in index)
    return _convert_index_part(index)


def _convert_index_part(part: Any) -> Any:
    if isinstance(part, Tensor):
        part = part._data
        if part.ndim == 0 and part.dtype.kind in "iu":  # PyTorch: a 0-d index acts as an int
            return _py_int(part)
    if isinstance(part, list):
        part = np.asarray(part)
    if isinstance(part, np.ndarray) and part.dtype != np.bool_ and part.dtype.kind not in "iu":
        raise IndexError(
            f"tensors used as indices must be integer or bool, got dtype {part.dtype}"
        )
    return part


# ---------------------------------------------------------------------- functions


def _softmax_input(t: Tensor, op: str) -> Tensor:
    if not _is_float(t._data.dtype):
        raise OpError(
            f"{op}: not implemented for integer or bool tensors (dtype {t.dtype}); convert "
            f"first, e.g. x.float().{op}(dim), or pass dtype=minigrad.float32"
        )
    return t


def _require_dims(op: str, t: Any, ndim: int, name: str) -> None:
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be a Tensor, not {type(t).__name__}")
    if t.ndim != ndim:
        kind = {1: "a 1D tensor", 2: "a matrix", 3: "a 3D tensor"}[ndim]
        raise OpError(f"{op}: {name} must be {kind}, got a tensor of shape {tuple(t.shape)}")


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product with PyTorch's rules: (..., n, k) @ (..., k, m) -> (..., n, m); 1-D ok."""
    a, b = (a if isinstance(a, Tensor) else Tensor(a)), (b if isinstance(b, Tensor) else Tensor(b))
    if a.ndim == 0 or b.ndim == 0:
        raise OpError(
            f"matmul: both arguments need at least 1 dimension, got shapes {a.shape} and "
            f"{b.shape}; use * for multiplication by a scalar"
        )
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        raise OpError(
            f"matmul: shapes {a.shape} and {b.shape} are not aligned ({k_a} != {k_b})"
        )
    batch_a, batch_b = a.shape[:-2], b.shape[:-2]
    try:
        np.broadcast_shapes(batch_a, batch_b)
    except ValueError:
        raise OpError(
            f"matmul: batch dimensions {batch_a} and {batch_b} of shapes {a.shape} and "
            f"{b.shape} do not broadcast"
        ) from None
    if a._data.dtype != b._data.dtype:
        raise OpError(
            f"matmul: expected both arguments to have the same dtype, but got {a.dtype} and "
            f"{b.dtype}; convert one, e.g. b.to(a.dtype)"
        )
    return linalg.MatMul.apply(a, b)


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise maximum with broadcasting; ties split the gradient evenly."""
    a_t = a if isinstance(a, Tensor) else Tensor(a)
    x, y = a_t._operands(b, "maximum")
    return ew.Maximum.apply(x, y)


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise minimum with broadcasting; ties split the gradient evenly."""
    a_t = a if isinstance(a, Tensor) else Tensor(a)
    x, y = a_t._operands(b, "minimum")
    return ew.Minimum.apply(x, y)


@overload
def where(condition: Any) -> tuple[Tensor, ...]: ...
@overload
def where(condition: Any, input: Any, other: Any) -> Tensor: ...


def where(condition: Any, input: Any = None, other: Any = None) -> Tensor | tuple[Tensor, ...]:
    """Elementwise ``input if condition else other``, differentiable in input and other;
    ``where(condition)`` alone is ``nonzero(condition, as_tuple=True)``."""
    if input is None and other is None:
        cond_t = condition if isinstance(condition, Tensor) else Tensor(condition)
        return cond_t.nonzero(as_tuple=True)
    if input is None or other is None:
        raise TypeError("where(): give both input and other, or neither (nonzero's form)")
    cond = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        cond = cond.astype(bool)
    if isinstance(input, Tensor):
        x, y = input._operands(other, "where")
    elif isinstance(other, Tensor):
        y, x = other._operands(input, "where")
    else:
        x, y = Tensor(input)._operands(other, "where")
    try:
        np.broadcast_shapes(cond.shape, x.shape, y.shape)
    except ValueError:
        raise OpError(
            f"where: condition {cond.shape}, input {x.shape} and other {y.shape} do not "
            "broadcast together"
        ) from None
    return ew.Where.apply(x, y, condition=cond)


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Concatenate along an existing dimension."""
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not tensors:
        raise OpError("cat: expected a non-empty sequence of tensors")
    first = tensors[0]
    axis = _one_dim(dim, first.ndim, "cat")
    for i, t in enumerate(tensors):
        if t.ndim != first.ndim or any(
            n != m for d, (n, m) in enumerate(zip(t.shape, first.shape)) if d != axis
        ):
            raise OpError(
                f"cat: tensor {i} has shape {t.shape}, which does not match tensor 0's shape "
                f"{first.shape} outside dim {dim}; all sizes except the cat dim must agree"
            )
    dtype = np.result_type(*[t.dtype for t in tensors])
    tensors = [t.to(dtype) for t in tensors]
    return shape.Cat.apply(*tensors, axis=axis)


concatenate = cat


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join along a new dimension."""
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not tensors:
        raise OpError("stack: expected a non-empty sequence of tensors")
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        raise OpError(f"stack: all tensors must have the same shape, got {sorted(shapes)}")
    ndim = tensors[0].ndim + 1
    if not -ndim <= dim < ndim:
        raise IndexError(
            f"stack: dim {dim} is out of range for stacking tensors with {ndim - 1} dimensions "
            f"(valid: {-ndim} to {ndim - 1})"
        )
    return cat([t.unsqueeze(dim) for t in tensors], dim=dim)


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant",
        value: float | None = None) -> Tensor:
    """``nn.functional.pad``: modes constant, reflect, replicate, circular; negative amounts
    crop (minigrad.ops.padding)."""
    from minigrad.ops.padding import pad as pad_op

    return pad_op(input, pad, mode, value)
