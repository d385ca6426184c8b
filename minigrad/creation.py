"""Creation functions: ``tensor``, ``zeros``, ``arange``, ``randn``, … with PyTorch's arguments.

Every factory takes ``dtype=``, ``device=`` (the CPU only), ``requires_grad=`` and, where PyTorch
has them, ``layout=``/``pin_memory=``/``generator=``/``out=``. Sizes are validated here, at the
boundary: a negative or non-integer size names the function and the bad value.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

import minigrad.tensor as _t
from minigrad.device import check_device
from minigrad.dtypes import dtype as _dtype
from minigrad.dtypes import from_numpy_dtype
from minigrad.errors import OpError
from minigrad.size import Size as Size  # re-exported
from minigrad.tensor import Tensor, _as_dtype, _check_can_require_grad, _infer_array, _wrap

# the builtins under names that the dtypes minigrad.int, float and bool do not shadow
_py_int = builtins.int
_py_float = builtins.float
_py_bool = builtins.bool


def get_default_dtype() -> _dtype:
    """The dtype of floats made from Python numbers (float32 unless set)."""
    return from_numpy_dtype(_t.DEFAULT_FLOAT)


def set_default_dtype(d: Any) -> None:
    """Set the default float dtype (float32 or float64, as PyTorch allows float16 too)."""
    np_d = _as_dtype(d)
    if np_d is None or np_d.kind != "f":
        raise TypeError(
            f"set_default_dtype: only floating point dtypes are supported as the default type, "
            f"got {d!r}"
        )
    _t.DEFAULT_FLOAT = np_d


def is_tensor(obj: Any) -> _py_bool:
    """Whether ``obj`` is a minigrad Tensor (a Parameter is one too)."""
    return isinstance(obj, Tensor)


def _need_tensor(input: Any, op: str) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")


def is_floating_point(input: Tensor) -> _py_bool:
    """Whether ``input``'s dtype is a floating point type (float16, float32 or float64)."""
    _need_tensor(input, "is_floating_point")
    return input.is_floating_point()


def numel(input: Tensor) -> _py_int:
    """The number of elements of ``input``: the product of its shape (1 for a 0-d tensor)."""
    _need_tensor(input, "numel")
    return input.numel()


# ---------------------------------------------------------------------------- validation


def _sizes(op: str, args: tuple[Any, ...]) -> tuple[_py_int, ...]:
    """``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` and ``f(Size)``, each size a non-negative int."""
    if len(args) == 1 and isinstance(args[0], (tuple, list, Tensor)) or (
        len(args) == 1 and isinstance(args[0], np.ndarray)
    ):
        first = args[0]
        listed: Any = first.tolist() if isinstance(first, (Tensor, np.ndarray)) else first
        args = tuple(listed)
    out = []
    for n in args:
        if isinstance(n, Tensor) and n.numel() == 1 and n._data.dtype.kind in "iu":
            n = n.item()
        if isinstance(n, (np.integer,)):
            n = _py_int(n)
        if not isinstance(n, _py_int) or isinstance(n, _py_bool):
            raise TypeError(
                f"{op}(): sizes must be integers, got {n!r} of type {type(n).__name__} in "
                f"{tuple(args)}"
            )
        if n < 0:
            raise OpError(
                f"{op}(): trying to create a tensor with negative dimension {n}: {list(args)}; "
                "every size must be >= 0"
            )
        out.append(n)
    return tuple(out)


def _check_common(op: str, device: Any, layout: Any = None) -> None:
    check_device(device, f"{op}()")
    if layout is not None and str(layout) not in ("strided", "minigrad.strided", "torch.strided"):
        raise OpError(f"{op}(): only the strided layout is supported, got {layout!r}")


def _creation_dtype(d: Any) -> np.dtype:
    return _as_dtype(d) or _t.DEFAULT_FLOAT


def _created(op: str, array: np.ndarray, requires_grad: _py_bool, out: Any = None) -> Tensor:
    t = _wrap(array)
    if requires_grad:
        _check_can_require_grad(array.dtype, op)
        t.requires_grad = True
    if out is not None:
        from minigrad.declare import write_out

        return write_out(op, t, out)
    return t


# ---------------------------------------------------------------------------- from data


def tensor(data: Any, dtype: Any = None, device: Any = None, requires_grad: _py_bool = False,
           pin_memory: _py_bool = False) -> Tensor:
    """A new tensor, copying ``data``: Python floats give float32, ints int64, arrays keep dtype.

    ``data`` is a number, a (nested) list or tuple, a NumPy array or a Tensor; ``device`` may
    only name the CPU; ``pin_memory`` is accepted and ignored.

    Example::

        >>> import minigrad as mg
        >>> x = mg.tensor([[1, 2], [3, 4]])
        >>> x.shape, x.dtype
        (minigrad.Size([2, 2]), minigrad.int64)
        >>> mg.tensor(0.5, requires_grad=True).dtype
        minigrad.float32
    """
    check_device(device, "tensor()")
    source = data._data if isinstance(data, Tensor) else data
    array = np.array(source, copy=True) if isinstance(source, np.ndarray) else source
    return Tensor(array, dtype=dtype, requires_grad=requires_grad)


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """``data`` as a tensor, without a copy where possible: a Tensor of the requested dtype is
    returned itself and a NumPy array of it is wrapped sharing memory; anything else is copied
    as by :func:`tensor`."""
    check_device(device, "as_tensor()")
    if isinstance(data, Tensor) and (dtype is None or _as_dtype(dtype) == data._data.dtype):
        return data
    return Tensor(data, dtype=dtype)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array``."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected an np.ndarray, got {type(array).__name__}")
    return Tensor(array)


# ---------------------------------------------------------------------------- filled


def zeros(*size: Any, out: Any = None, dtype: Any = None, layout: Any = None, device: Any = None,
          requires_grad: _py_bool = False, pin_memory: _py_bool = False) -> Tensor:
    """A tensor of zeros of shape ``size``: ``zeros(2, 3)``, ``zeros((2, 3))`` or
    ``zeros(x.shape)``; the default float dtype unless ``dtype`` is given.

    Example::

        >>> import minigrad as mg
        >>> mg.zeros(2, 3).shape
        minigrad.Size([2, 3])
        >>> mg.zeros((2,), dtype=mg.int64).tolist()
        [0, 0]
    """
    _check_common("zeros", device, layout)
    return _created("zeros", np.zeros(_sizes("zeros", size), _creation_dtype(dtype)),
                    requires_grad, out)


def ones(*size: Any, out: Any = None, dtype: Any = None, layout: Any = None, device: Any = None,
         requires_grad: _py_bool = False, pin_memory: _py_bool = False) -> Tensor:
    """A tensor of ones of shape ``size`` (given as :func:`zeros` takes it); the default float
    dtype unless ``dtype`` is given.

    Example::

        >>> import minigrad as mg
        >>> mg.ones(2, 2).tolist()
        [[1.0, 1.0], [1.0, 1.0]]
        >>> mg.ones(3, dtype=mg.float64).dtype
        minigrad.float64
    """
    _check_common("ones", device, layout)
    return _created("ones", np.ones(_sizes("ones", size), _creation_dtype(dtype)),
                    requires_grad, out)


def empty(*size: Any, out: Any = None, dtype: Any = None, layout: Any = None, device: Any = None,
          requires_grad: _py_bool = False, pin_memory: _py_bool = False,
          memory_format: Any = None) -> Tensor:
    """A tensor of shape ``size`` whose values are not to be relied on. Unlike PyTorch's, its
    memory is zero-filled: minigrad never exposes stale memory. ``memory_format`` is ignored."""
    _check_common("empty", device, layout)
    # zero-filled: an "uninitialised" tensor never exposes stale memory
    return _created("empty", np.zeros(_sizes("empty", size), _creation_dtype(dtype)),
                    requires_grad, out)


def full(size: Sequence[int], fill_value: Any, *, out: Any = None, dtype: Any = None,
         layout: Any = None, device: Any = None, requires_grad: _py_bool = False,
         pin_memory: _py_bool = False) -> Tensor:
    """A tensor of shape ``size`` filled with ``fill_value``; the dtype follows the value (bool,
    int64 or the default float) unless ``dtype`` is given."""
    _check_common("full", device, layout)
    shape = _sizes("full", (size,))
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if dtype is None:
        d = _infer_array(fill_value, None).dtype
    else:
        d = _as_dtype(dtype)
    return _created("full", _filled(shape, fill_value, d, "full"), requires_grad, out)


def _filled(shape: tuple[Any, ...], value: Any, d: np.dtype, op: str) -> np.ndarray:
    if d.kind in "iu" and isinstance(value, (_py_int, np.integer)):
        info = np.iinfo(d)
        if not info.min <= value <= info.max:
            raise OpError(f"{op}(): value {value} cannot be converted to {d} without overflow")
    return np.full(shape, value, d)


def _like(op: str, t: Any, dtype: Any, device: Any, layout: Any
          ) -> tuple[tuple[int, ...], np.dtype]:
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be a Tensor, not {type(t).__name__}")
    _check_common(op, device, layout)
    return t._data.shape, (_as_dtype(dtype) or t._data.dtype)


def zeros_like(input: Tensor, *, dtype: Any = None, layout: Any = None, device: Any = None,
               requires_grad: _py_bool = False, memory_format: Any = None) -> Tensor:
    """Zeros of ``input``'s shape and dtype (or ``dtype``)."""
    shape, d = _like("zeros_like", input, dtype, device, layout)
    return _created("zeros_like", np.zeros(shape, d), requires_grad)


def ones_like(input: Tensor, *, dtype: Any = None, layout: Any = None, device: Any = None,
              requires_grad: _py_bool = False, memory_format: Any = None) -> Tensor:
    """Ones of ``input``'s shape and dtype (or ``dtype``)."""
    shape, d = _like("ones_like", input, dtype, device, layout)
    return _created("ones_like", np.ones(shape, d), requires_grad)


def empty_like(input: Tensor, *, dtype: Any = None, layout: Any = None, device: Any = None,
               requires_grad: _py_bool = False, memory_format: Any = None) -> Tensor:
    """A tensor of ``input``'s shape and dtype (or ``dtype``), zero-filled as :func:`empty`."""
    shape, d = _like("empty_like", input, dtype, device, layout)
    return _created("empty_like", np.zeros(shape, d), requires_grad)


def full_like(input: Tensor, fill_value: Any, *, dtype: Any = None, layout: Any = None,
              device: Any = None, requires_grad: _py_bool = False,
              memory_format: Any = None) -> Tensor:
    """``fill_value`` in ``input``'s shape and dtype (or ``dtype``)."""
    shape, d = _like("full_like", input, dtype, device, layout)
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    return _created("full_like", _filled(shape, fill_value, d, "full_like"), requires_grad)


def eye(n: int, m: int | None = None, *, out: Any = None, dtype: Any = None, layout: Any = None,
        device: Any = None, requires_grad: _py_bool = False) -> Tensor:
    """The identity matrix ``(n, m)`` (``m`` defaults to ``n``): ones on the main diagonal.

    Example::

        >>> import minigrad as mg
        >>> mg.eye(2, 3).tolist()
        [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    """
    _check_common("eye", device, layout)
    rows = _sizes("eye", (n,))[0]
    cols = rows if m is None else _sizes("eye", (m,))[0]
    return _created("eye", np.eye(rows, cols, dtype=_creation_dtype(dtype)), requires_grad, out)


# ---------------------------------------------------------------------------- ranges


def _is_integral(v: Any) -> _py_bool:
    if isinstance(v, Tensor):
        return v._data.dtype.kind in "iub"
    return isinstance(v, (_py_int, np.integer))  # bool is an int too


def _number(v: Any, op: str, name: str) -> Any:
    if isinstance(v, Tensor):
        if v.numel() != 1:
            raise OpError(f"{op}(): {name} must be a number, got a tensor of shape {v.shape}")
        v = v.item()
    if isinstance(v, np.generic):
        v = v.item()
    if not isinstance(v, (_py_int, _py_float)):
        raise TypeError(f"{op}(): {name} must be a number, got {type(v).__name__}")
    return v


def arange(start: Any, end: Any = None, step: Any = 1, *, out: Any = None, dtype: Any = None,
           layout: Any = None, device: Any = None, requires_grad: _py_bool = False) -> Tensor:
    """Values from start (default 0) up to, not including, end, ``step`` apart: a 1-d tensor of
    ``ceil((end - start) / step)`` elements, int64 when all are integers, else the default
    float dtype.

    Example::

        >>> import minigrad as mg
        >>> mg.arange(5).tolist()
        [0, 1, 2, 3, 4]
        >>> mg.arange(1, 2.5, 0.5).tolist()
        [1.0, 1.5, 2.0]
        >>> mg.arange(3.0).dtype
        minigrad.float32
    """
    _check_common("arange", device, layout)
    if end is None:
        start, end = 0, start
    integral = all(_is_integral(v) for v in (start, end, step))
    start, end, step = (_number(v, "arange", n) for v, n in
                        ((start, "start"), (end, "end"), (step, "step")))
    if step == 0:
        raise OpError("arange(): step must be nonzero")
    if any(isinstance(v, _py_float) and not math.isfinite(v) for v in (start, end, step)):
        raise OpError(f"arange(): unsupported range: {start} -> {end} with step {step}")
    if (end - start) * step < 0 and end != start:
        raise OpError(
            f"arange(): upper bound and larger bound inconsistent with step sign: start={start}, "
            f"end={end}, step={step}"
        )
    d = _as_dtype(dtype) or (np.dtype(np.int64) if integral else _t.DEFAULT_FLOAT)
    if integral:
        array = np.arange(start, end, step, dtype=np.int64).astype(d)
    else:
        count = builtins.max(0, math.ceil((end - start) / step))
        array = (start + step * np.arange(count, dtype=np.float64)).astype(d)
    return _created("arange", array, requires_grad, out)


def linspace(start: Any, end: Any, steps: int, *, out: Any = None, dtype: Any = None,
             layout: Any = None, device: Any = None, requires_grad: _py_bool = False) -> Tensor:
    """``steps`` evenly spaced values from start to end, both included."""
    start, end, steps, d = _space_args("linspace", start, end, steps, dtype, device, layout)
    values = np.linspace(start, end, steps, dtype=np.float64)
    if d.kind in "iu":
        values = np.trunc(values)
    return _created("linspace", values.astype(d), requires_grad, out)


def logspace(start: Any, end: Any, steps: int, base: float = 10.0, *, out: Any = None,
             dtype: Any = None, layout: Any = None, device: Any = None,
             requires_grad: _py_bool = False) -> Tensor:
    """``base ** linspace(start, end, steps)``."""
    start, end, steps, d = _space_args("logspace", start, end, steps, dtype, device, layout)
    values = np.power(float(base), np.linspace(start, end, steps, dtype=np.float64))
    return _created("logspace", values.astype(d), requires_grad, out)


def _space_args(op: str, start: Any, end: Any, steps: Any, dtype: Any, device: Any,
                layout: Any) -> tuple[Any, Any, _py_int, np.dtype]:
    """linspace's and logspace's arguments checked: start, end, steps and the dtype."""
    _check_common(op, device, layout)
    steps = _steps(op, steps)
    d = _as_dtype(dtype) or _t.DEFAULT_FLOAT
    if d.kind == "b":
        raise OpError(f'{op}(): "{op}_cpu" not implemented for \'Bool\'')
    return _number(start, op, "start"), _number(end, op, "end"), steps, d


def _steps(op: str, steps: Any) -> _py_int:
    if isinstance(steps, np.integer):
        steps = _py_int(steps)
    if not isinstance(steps, _py_int) or isinstance(steps, _py_bool):
        raise TypeError(f"{op}(): steps must be an int, got {type(steps).__name__}")
    if steps < 0:
        raise OpError(f"{op}(): number of steps must be non-negative, got {steps}")
    return steps


# ---------------------------------------------------------------------------- random


def _generator(generator: Any) -> np.random.Generator:
    from minigrad.random import generator as default

    if generator is None:
        return default()
    if isinstance(generator, np.random.Generator):
        return generator
    inner = getattr(generator, "_generator", None)
    if isinstance(inner, np.random.Generator):
        return inner
    raise TypeError(f"generator= must be a minigrad.Generator, got {type(generator).__name__}")


def rand(*size: Any, generator: Any = None, out: Any = None, dtype: Any = None,
         layout: Any = None, device: Any = None, requires_grad: _py_bool = False,
         pin_memory: _py_bool = False) -> Tensor:
    """Uniform samples from [0, 1) of shape ``size``, from ``generator`` or the global
    generator (:func:`manual_seed`)."""
    return _float_samples("rand", np.random.Generator.random, size, generator, out, dtype,
                          layout, device, requires_grad)


def randn(*size: Any, generator: Any = None, out: Any = None, dtype: Any = None,
          layout: Any = None, device: Any = None, requires_grad: _py_bool = False,
          pin_memory: _py_bool = False) -> Tensor:
    """Standard normal samples of shape ``size``, from ``generator`` or the global generator.

    The values differ from PyTorch's for the same seed (NumPy's generator draws them).

    Example::

        >>> import minigrad as mg
        >>> _ = mg.manual_seed(0)
        >>> a = mg.randn(2, 3)
        >>> a.shape, a.dtype
        (minigrad.Size([2, 3]), minigrad.float32)
        >>> _ = mg.manual_seed(0)
        >>> mg.equal(a, mg.randn(2, 3))
        True
    """
    return _float_samples("randn", np.random.Generator.standard_normal, size, generator, out,
                          dtype, layout, device, requires_grad)


def _float_samples(op: str, draw: Any, size: tuple[Any, ...], generator: Any, out: Any, dtype: Any,
                   layout: Any, device: Any, requires_grad: _py_bool) -> Tensor:
    """``draw(generator, shape)`` as a tensor of a floating ``dtype``: rand's and randn's body."""
    _check_common(op, device, layout)
    d = _float_dtype(op, dtype)
    rng = _generator(generator)
    return _created(op, draw(rng, _sizes(op, size)).astype(d), requires_grad, out)


def _float_dtype(op: str, dtype: Any) -> np.dtype:
    d = _creation_dtype(dtype)
    if d.kind != "f":
        raise OpError(f'{op}(): "{op}" is only implemented for floating point dtypes, got {d}')
    return d


def rand_like(input: Tensor, *, dtype: Any = None, layout: Any = None, device: Any = None,
              requires_grad: _py_bool = False, memory_format: Any = None) -> Tensor:
    """Uniform samples from [0, 1) of ``input``'s shape and dtype (or ``dtype``)."""
    shape, d = _like("rand_like", input, dtype, device, layout)
    return rand(*shape, dtype=d, requires_grad=requires_grad)


def randn_like(input: Tensor, *, dtype: Any = None, layout: Any = None, device: Any = None,
               requires_grad: _py_bool = False, memory_format: Any = None) -> Tensor:
    """Standard normal samples of ``input``'s shape and dtype (or ``dtype``)."""
    shape, d = _like("randn_like", input, dtype, device, layout)
    return randn(*shape, dtype=d, requires_grad=requires_grad)


def randint(*args: Any, size: Any = None, generator: Any = None, out: Any = None,
            dtype: Any = None, layout: Any = None, device: Any = None,
            requires_grad: _py_bool = False, pin_memory: _py_bool = False) -> Tensor:
    """``randint(high, size)`` or ``randint(low, high, size)``: integers in [low, high)."""
    _check_common("randint", device, layout)
    bounds = list(args)
    if size is None:
        if not bounds or not isinstance(bounds[-1], (tuple, list)):
            raise TypeError("randint(): missing the size argument, e.g. randint(0, 10, (3,))")
        size = bounds.pop()
    if len(bounds) == 1:
        low, high = 0, bounds[0]
    elif len(bounds) == 2:
        low, high = bounds
    else:
        raise TypeError("randint(): expected randint(high, size) or randint(low, high, size)")
    low, high = _number(low, "randint", "low"), _number(high, "randint", "high")
    if low >= high:
        raise OpError(f"randint(): random_ expects 'from' to be less than 'to', but got "
                      f"from={low} >= to={high}")
    d = _as_dtype(dtype) or np.dtype(np.int64)
    if requires_grad:
        _check_can_require_grad(d, "randint")
    array = _generator(generator).integers(_py_int(low), _py_int(high), size=_sizes("randint",
                                                                                   (size,)))
    return _created("randint", array.astype(d), False, out)


def randint_like(input: Tensor, low: Any = 0, high: Any = None, *, dtype: Any = None,
                 layout: Any = None, device: Any = None, requires_grad: _py_bool = False,
                 memory_format: Any = None) -> Tensor:
    """Integers in [low, high) of ``input``'s shape and dtype (or ``dtype``);
    ``randint_like(x, high)`` draws from [0, high)."""
    shape, d = _like("randint_like", input, dtype, device, layout)
    if high is None:
        low, high = 0, low
    return randint(low, high, shape, dtype=d, requires_grad=requires_grad)


def randperm(n: int, *, generator: Any = None, out: Any = None, dtype: Any = None,
             layout: Any = None, device: Any = None, requires_grad: _py_bool = False,
             pin_memory: _py_bool = False) -> Tensor:
    """A random permutation of 0 … n-1 (int64)."""
    _check_common("randperm", device, layout)
    n = _sizes("randperm", (n,))[0]
    d = _as_dtype(dtype) or np.dtype(np.int64)
    return _created("randperm", _generator(generator).permutation(n).astype(d), requires_grad,
                    out)
