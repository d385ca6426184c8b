"""Compiled loops for the memory-bound kernels that NumPy can only do in several passes.

A few kernels (the 2x2 max pool, the Winograd F(4x4, 3x3) output transform, ReLU's backward,
the SGD momentum step) need one pass over memory with a branch or a chain of operations per
element, which NumPy expresses only as several whole-array passes with masks or temporaries in
between. They are written here as plain Python loops and compiled with Numba, a JIT compiler
for numerical Python that installs from the package registry as a wheel on Linux, macOS and
Windows. Compilation is lazy: ``import minigrad`` does not import Numba; the first call of a
kernel with a new argument type compiles it (about a second) and caches the machine code on
disk, so later processes load it in milliseconds. ``generated`` compiles kernels whose source
a module writes out per shape parameter (the direct convolutions unroll each kernel row's taps),
cached the same way.

Every kernel has a NumPy twin, which stays the reference in the tests and runs wherever the
compiled one cannot: ``MINIGRAD_JIT=0`` in the environment (or ``set_enabled(False)``) turns the
kernels off, and a Numba that fails to import (for instance one built for another NumPy) turns
them off with a warning. Kernels are compiled with ``nogil=True`` and run on minigrad's own
thread pool (``minigrad.parallel``), each thread on its own block of the arrays; Numba's thread
pool is not used.
"""

from __future__ import annotations

import os
import types
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["enabled", "set_enabled", "takes", "kernel", "generated", "DTYPES"]

# the dtypes the kernels are compiled for
DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

_state: dict[str, Any] = {"enabled": None, "numba": None}


def _load() -> Any:
    """The numba module, or None when it is absent, broken or turned off."""
    if os.environ.get("MINIGRAD_JIT", "1") == "0":
        return None
    if _state["numba"] is None:
        try:
            import numba
        except ImportError:
            _state["numba"] = False
        except Exception as error:  # noqa: BLE001 (a Numba built for another NumPy, ...)
            warnings.warn(f"minigrad: numba failed to import ({error}); the compiled kernels "
                          "are off and their NumPy versions run instead", RuntimeWarning,
                          stacklevel=3)
            _state["numba"] = False
        else:
            _state["numba"] = numba
    return _state["numba"] or None


def enabled() -> bool:
    """Whether the compiled kernels run (Numba importable and not turned off)."""
    if _state["enabled"] is None:
        _state["enabled"] = _load() is not None
    return bool(_state["enabled"])


def takes(*arrays: np.ndarray) -> bool:
    """Whether a kernel may run on these arrays: the kernels are on and the arrays share one
    dtype of ``DTYPES``."""
    dtype = arrays[0].dtype
    return dtype in DTYPES and all(a.dtype == dtype for a in arrays) and enabled()


def set_enabled(flag: bool) -> bool:
    """Turn the compiled kernels on or off (on needs Numba); returns the previous setting."""
    previous = enabled()
    _state["enabled"] = bool(flag) and _load() is not None
    return previous


class _Kernel:
    """A loop compiled on its first call (``numba.njit(nogil=True, cache=True)``); it may call
    the other kernels of its module, which are compiled into it."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.compiled: Any = None
        self.__doc__ = fn.__doc__
        self.__name__ = fn.__name__

    def _numba(self) -> Any:
        numba = _load()
        if numba is None:
            raise RuntimeError(f"minigrad.jit: kernel {self.__name__} needs numba; "
                               "check minigrad.jit.enabled() before calling it")
        return numba

    def dispatcher(self) -> Any:
        """The Numba dispatcher of this kernel (made on the first call)."""
        if self.compiled is None:
            numba = self._numba()
            # the kernels this one calls, seen as Numba dispatchers
            scope = dict(self.fn.__globals__)
            for name in self.fn.__code__.co_names:
                if isinstance(scope.get(name), _Kernel):
                    scope[name] = scope[name].dispatcher()
            fn = types.FunctionType(self.fn.__code__, scope, self.fn.__name__,
                                    self.fn.__defaults__, self.fn.__closure__)
            self.compiled = numba.njit(nogil=True, cache=True, boundscheck=False)(fn)
        return self.compiled

    def __call__(self, *args: Any) -> Any:
        return (self.compiled or self.dispatcher())(*args)


def kernel(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Mark ``fn`` (loops over NumPy arrays and scalars only) as a lazily compiled kernel."""
    return _Kernel(fn)


class _Generated(_Kernel):
    """A kernel compiled from generated source (``generated``)."""

    def __init__(self, source: str, name: str, module: str, filename: str,
                 fastmath: frozenset[str]) -> None:
        self.source, self.module, self.filename, self.fastmath = source, module, filename, fastmath
        self.compiled = None
        self.__name__ = name
        self.__doc__ = f"generated kernel {name}"

    def dispatcher(self) -> Any:
        if self.compiled is None:
            numba = self._numba()
            scope: dict[str, Any] = {"np": np, "__name__": self.module}
            # compiled under the generating module's file name: Numba's on-disk cache keys the
            # machine code by that file (its time stamp) and the function's unique name
            exec(compile(self.source, self.filename, "exec"), scope)  # noqa: S102
            self.compiled = numba.njit(nogil=True, cache=True, boundscheck=False,
                                       fastmath=set(self.fastmath))(scope[self.__name__])
        return self.compiled


def generated(source: str, name: str, module: str, filename: str,
              fastmath: frozenset[str] = frozenset()) -> Callable[..., Any]:
    """A lazily compiled kernel from ``source``, the text of a function ``name`` that a module
    generates (its ``__name__`` and ``__file__`` as ``module`` and ``filename``); ``fastmath``
    lists Numba's fastmath flags (e.g. ``"contract"`` for fused multiply-adds)."""
    return _Generated(source, name, module, filename, fastmath)
