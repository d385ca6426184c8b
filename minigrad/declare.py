"""Declare an op once; get its method, its torch-level function and its in-place variant.

PyTorch offers most ops three ways: ``x.exp()``, ``torch.exp(x, out=y)`` and ``x.exp_()``.
minigrad writes each op once and derives the other spellings here:

- ``@op()`` on a function ``fn(input, *args, **kwargs)`` (in a module of ``minigrad.api``)
  makes ``Tensor.<name>``, ``minigrad.<name>`` (with ``out=``) and, with ``inplace=True``,
  ``Tensor.<name>_``. ``method=False`` declares a torch-level function that is no method
  (``cat``, ``meshgrid``): give the ``reason``, which ``function_only()`` lists.
- ``number_first`` lets the torch-level function take a Python number as its first argument
  where PyTorch does (``torch.pow(2, t)``): ``"tensor"`` when the second argument must then be
  a Tensor, ``"any"`` when it may be a number too (``torch.add(2, 3)``). The number keeps its
  weak type in promotion. Methods are untouched: the check runs only on the function path.
- ``methods(...)`` derives the function and in-place spellings of methods that ``Tensor``
  defines in its class body.

``FUNCTIONS`` is the torch-level table; ``minigrad/__init__.py`` exports it. ``DECLARED``
records every spelling made here (and the few attributes ``attach`` adds) with the function it
comes from, so that ``python -m minigrad._stubgen`` can write their typed declarations
(``minigrad/_declared.pyi``) for the type checker.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from minigrad.errors import OpError

__all__ = ["DECLARED", "FUNCTIONS", "Declared", "attach", "document", "function_only", "methods",
           "op", "write_out"]

FUNCTIONS: dict[str, Callable[..., Any]] = {}
_FUNCTION_ONLY: dict[str, str] = {}
_F = TypeVar("_F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Declared:
    """One spelling made at import time: ``kind`` is ``"method"`` (``Tensor.<name>`` is ``fn``,
    which takes the tensor first), ``"inplace"`` (``Tensor.<name>`` writes ``fn``'s result into
    the tensor), ``"property"`` (``fn`` is the getter) or ``"function"`` (``minigrad.<name>``;
    ``out`` tells whether it takes ``out=``, ``number_first`` whether its input may be a Python
    number, ``tensor_first`` whether ``fn`` takes the tensor first)."""

    name: str
    kind: str
    fn: Callable[..., Any]
    out: bool = False
    number_first: str | None = None
    tensor_first: bool = True


DECLARED: list[Declared] = []
# each derived in-place method and the function it writes the result of (for attach)
_INPLACE_OF: dict[Callable[..., Any], Callable[..., Any]] = {}


def attach(name: str, value: Any, *, kind: str = "method") -> None:
    """Set ``Tensor.<name>`` to ``value`` (a function taking the tensor first, or with
    ``kind="property"`` its getter) and record it for the typed declarations."""
    Tensor = _tensor_class()
    source = _INPLACE_OF.get(value)
    if source is not None:
        DECLARED.append(Declared(name, "inplace", source))
    else:
        DECLARED.append(Declared(name, kind, value))
    setattr(Tensor, name, property(value) if kind == "property" else value)


def _tensor_class() -> Any:
    from minigrad.tensor import Tensor

    return Tensor


def op(
    *names: str,
    method: bool = True,
    function: bool = True,
    inplace: bool = False,
    out: bool = True,
    reason: str | None = None,
    number_first: str | None = None,
) -> Callable[[_F], _F]:
    """Declare ``fn`` under ``names`` (default: its own name; the first name is the main one,
    the others aliases)."""

    def register(fn: _F) -> _F:
        Tensor = _tensor_class()
        all_names = names or (fn.__name__,)
        for name in all_names:
            if method:
                setattr(Tensor, name, fn)
                DECLARED.append(Declared(name, "method", fn))
            if function:
                FUNCTIONS[name] = _function(fn, name, out, number_first) if method else (
                    _function_only(fn, name, out))
                DECLARED.append(Declared(name, "function", fn, out, number_first, method))
                if not method:
                    if not reason:
                        raise TypeError(f"op {name!r}: a function with no method needs a reason")
                    _FUNCTION_ONLY[name] = reason
            if inplace:
                setattr(Tensor, name + "_", _inplace(fn, name + "_"))
                DECLARED.append(Declared(name + "_", "inplace", fn))
        return fn

    return register


def methods(names: str, *, inplace: str = "", out: bool = True,
            number_first: str | None = None) -> None:
    """Torch-level functions (and in-place variants for the names in ``inplace``) of methods
    that ``Tensor`` defines itself."""
    Tensor = _tensor_class()
    for name in names.split():
        fn = getattr(Tensor, name)
        FUNCTIONS[name] = _function(fn, name, out, number_first)
        DECLARED.append(Declared(name, "function", fn, out, number_first))
    for name in inplace.split():
        if name + "_" not in Tensor.__dict__:
            setattr(Tensor, name + "_", _inplace(getattr(Tensor, name), name + "_"))
            DECLARED.append(Declared(name + "_", "inplace", getattr(Tensor, name)))


def document(names: str, reason: str) -> None:
    """Record why the torch-level functions ``names`` (defined elsewhere) have no method."""
    for name in names.split():
        _FUNCTION_ONLY[name] = reason


def function_only() -> dict[str, str]:
    """Torch-level functions that are not Tensor methods, each with the reason."""
    return dict(_FUNCTION_ONLY)


# ---------------------------------------------------------------------------- the spellings


_NUMBER = (bool, int, float, np.bool_, np.integer, np.floating)
_NUMBER_FIRST = (None, "tensor", "any")


def _second_parameter(fn: Callable[..., Any]) -> str:
    params = list(inspect.signature(fn).parameters)
    return params[1] if len(params) > 1 else "other"


def _number_input(name: str, mode: str, second: str, number: Any, args: tuple[Any, ...],
                  kwargs: dict[str, Any]) -> Any:
    """The number given as ``input`` as the 0-d tensor PyTorch makes of it: of the dtype the
    number promotes to with the second argument (it stays weakly typed), or, with two numbers
    (``mode="any"``), of the number's own default dtype, as ``torch.tensor(number)``."""
    from minigrad import promotion
    from minigrad.tensor import DEFAULT_FLOAT, Tensor, _wrap

    other = args[0] if args else kwargs.get(second)
    if isinstance(other, Tensor):
        # a bool promotes like the 0-d bool tensor it becomes (sub must still see a bool)
        dtype = np.dtype(np.bool_) if isinstance(number, (bool, np.bool_)) else (
            promotion.result_type((other, number), DEFAULT_FLOAT, name))
        return _wrap(np.asarray(number, dtype=dtype))
    if mode == "any" and isinstance(other, _NUMBER):
        promotion.scalar_dtype(number, DEFAULT_FLOAT, name)  # refuses complex numbers
        return Tensor(number)
    raise TypeError(
        f"{name}(): with a Python number as argument 'input', argument '{second}' must be a "
        f"Tensor, not {type(other).__name__}; wrap one of them, e.g. "
        f"minigrad.{name}(minigrad.tensor({number!r}), ...)"
    )


def _function(fn: Callable[..., Any], name: str, with_out: bool,
              number_first: str | None = None) -> Callable[..., Any]:
    Tensor = _tensor_class()
    if number_first not in _NUMBER_FIRST:
        raise TypeError(f"op {name!r}: number_first must be one of {_NUMBER_FIRST}")
    second = _second_parameter(fn) if number_first else ""

    @functools.wraps(fn)
    def function(input: Any, *args: Any, out: Any = None, **kwargs: Any) -> Any:
        if not isinstance(input, Tensor):
            if number_first and isinstance(input, _NUMBER):
                input = _number_input(name, number_first, second, input, args, kwargs)
                result = fn(input, *args, **kwargs)
                return result if out is None else write_out(name, result, out)
            raise TypeError(
                f"{name}(): argument 'input' must be a Tensor, not {type(input).__name__}; "
                f"wrap it first, e.g. minigrad.{name}(minigrad.tensor(x), ...)"
            )
        result = fn(input, *args, **kwargs)
        return result if out is None else write_out(name, result, out)

    function.__doc__ = _function_doc(fn, name, with_out)
    _sign(function, fn, with_out, first="input")
    if not with_out:
        return _without_out(function, name)
    return function


def _function_doc(fn: Callable[..., Any], name: str, with_out: bool) -> str:
    """The declaration's docstring, then a line on the function spelling (one docstring per
    op: the method, the function and its aliases all say what the declaring function says)."""
    spelling = f"``minigrad.{name}(input, ...)`` is ``input.{name}(...)``" + (
        "; ``out=`` receives the result." if with_out else "."
    )
    doc = inspect.getdoc(fn)
    return f"{doc}\n\n{spelling}" if doc else spelling


def _function_only(fn: Callable[..., Any], name: str, with_out: bool) -> Callable[..., Any]:
    if not with_out:
        return fn

    @functools.wraps(fn)
    def function(*args: Any, out: Any = None, **kwargs: Any) -> Any:
        result = fn(*args, **kwargs)
        return result if out is None else write_out(name, result, out)

    doc = inspect.getdoc(fn)
    function.__doc__ = f"{doc}\n\n``out=`` receives the result." if doc else None
    _sign(function, fn, with_out)
    return function


def _sign(function: Callable[..., Any], fn: Callable[..., Any], with_out: bool,
          first: str | None = None) -> None:
    """Give a derived function the signature it is called with (what ``help`` and the API
    reference show): the declaring function's, its first parameter named ``first`` (a method's
    ``self`` is the function's ``input``), and a keyword-only ``out=None`` where it takes one."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return
    params = list(signature.parameters.values())
    if first and params and params[0].kind in (
        inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD
    ):
        params[0] = params[0].replace(name=first)
    if with_out and not any(p.name == "out" for p in params):
        out = inspect.Parameter("out", inspect.Parameter.KEYWORD_ONLY, default=None,
                                annotation="Tensor | None")
        variadic = bool(params) and params[-1].kind is inspect.Parameter.VAR_KEYWORD
        at = len(params) - 1 if variadic else len(params)
        params.insert(at, out)
    try:
        function.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    except ValueError:  # a parameter order that a renamed first parameter cannot keep
        return


def _without_out(function: Callable[..., Any], name: str) -> Callable[..., Any]:
    @functools.wraps(function)
    def no_out(*args: Any, **kwargs: Any) -> Any:
        if "out" in kwargs:
            raise TypeError(f"{name}(): got an unexpected keyword argument 'out'")
        return function(*args, **kwargs)

    return no_out


def write_out(name: str, result: Any, out: Any) -> Any:
    """Write ``result`` (a Tensor or a tuple of them) into ``out`` as PyTorch's ``out=`` does:
    cast to out's dtype where that is a safe kind of cast, resize when the shapes differ."""
    Tensor = _tensor_class()
    if isinstance(result, tuple):
        if not isinstance(out, (tuple, list)) or len(out) != len(result):
            raise TypeError(
                f"{name}(): out= must be a tuple of {len(result)} tensors for this op, got "
                f"{type(out).__name__}"
            )
        written = [write_out(name, r, o) for r, o in zip(result, out)]
        return type(result)(*written) if hasattr(result, "_fields") else tuple(written)
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): out= must be a Tensor, got {type(out).__name__}")
    from minigrad.autograd.engine import _GradMode

    if _GradMode.enabled and (out.requires_grad or result.requires_grad):
        raise RuntimeError(
            f"{name}(): functions with out=... arguments don't support automatic "
            "differentiation, but one of the arguments requires grad; call it without out= "
            "or under minigrad.no_grad()"
        )
    source = result._data
    if not np.can_cast(source.dtype, out._data.dtype, casting="same_kind"):
        raise OpError(
            f"{name}(): result type {source.dtype} can't be cast to the desired output type "
            f"{out._data.dtype} of out="
        )
    if source.shape == out._data.shape:
        np.copyto(out._data, source, casting="same_kind")
    else:
        out._data = source.astype(out._data.dtype, copy=True)
    out._version.value += 1
    return out


def _inplace(fn: Callable[..., Any], name: str) -> Callable[..., Any]:
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return self._inplace_result(name, lambda alias: fn(alias, *args, **kwargs))

    method.__name__ = name
    method.__qualname__ = f"Tensor.{name}"
    method.__doc__ = f"In-place version of :meth:`{name[:-1]}`."
    _INPLACE_OF[method] = fn
    return method
