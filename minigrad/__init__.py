"""minigrad: a NumPy autograd tensor library that reads like PyTorch.

``import minigrad as mg`` stands in for ``import torch``.

Element types are module constants, as in PyTorch: ``float32`` (the default float type),
``float64``, ``float16``, ``int8``, ``int16``, ``int32``, ``int64``, ``uint8``, ``uint16``,
``uint32``, ``uint64`` and ``bool``, with PyTorch's aliases ``float`` (float32), ``double``
(float64), ``half`` (float16), ``short`` (int16), ``int`` (int32) and ``long`` (int64).

Example::

    >>> import minigrad as mg
    >>> x = mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> loss = (x * x).sum()
    >>> loss.backward()
    >>> x.grad.tolist()
    [[2.0, 4.0], [6.0, 8.0]]
"""

from __future__ import annotations

import builtins as _builtins
import importlib
from types import FunctionType as _FunctionType
from types import ModuleType as _ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # minigrad's names for the type checker: __all__ below is computed, which it cannot read,
    # so they come from minigrad/_declared.pyi (python -m minigrad._stubgen writes it): the
    # declared torch-level functions and the names imported here
    from minigrad._declared import *  # noqa: F403
    from minigrad.tensor import Tensor as Tensor

from minigrad import _aliases
from minigrad.autograd import (
    enable_grad,
    grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from minigrad.creation import (
    Size,
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    get_default_dtype,
    is_floating_point,
    is_tensor,
    linspace,
    logspace,
    numel,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    set_default_dtype,
    tensor,
    zeros,
    zeros_like,
)
from minigrad.device import device, get_default_device, set_default_device
from minigrad.dtypes import (
    bool,
    double,
    dtype,
    float,
    float16,
    float32,
    float64,
    half,
    int,
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
from minigrad.gradcheck import GradcheckError, gradcheck, gradgradcheck
from minigrad.parallel import configure_process, get_num_threads, set_num_threads
from minigrad.random import manual_seed, seed
from minigrad.tensor import (
    Tensor,
    cat,
    concatenate,
    matmul,
    pad,
    stack,
    where,
)

__version__ = "0.1.0"

# one BLAS thread and glibc keeping freed memory: see minigrad.parallel.configure_process
process_settings = configure_process()


from minigrad import api as _api  # noqa: E402  (declares the ops: methods, functions, in-place)
from minigrad.declare import FUNCTIONS as _FUNCTIONS  # noqa: E402

# torch-level functions (minigrad.exp(x), minigrad.sum(x, dim), …): one declaration per op
globals().update({k: v for k, v in _FUNCTIONS.items() if k not in globals()})

_SUBMODULES = {
    "functional", "optim", "data", "testing", "autograd", "random", "ops", "cuda", "backends",
    "accelerator", "utils", "linalg", "serialization", "declare", "errors",
}

# minigrad.nn is the top-level nn package, minigrad.utils.data is minigrad.data (lazily)
_aliases.install()


if TYPE_CHECKING:
    # the names __getattr__ below loads on first use
    import nn as nn
    from minigrad import accelerator as accelerator
    from minigrad import autograd as autograd
    from minigrad import backends as backends
    from minigrad import cuda as cuda
    from minigrad import data as data
    from minigrad import declare as declare
    from minigrad import errors as errors
    from minigrad import functional as functional
    from minigrad import linalg as linalg
    from minigrad import ops as ops
    from minigrad import optim as optim
    from minigrad import random as random
    from minigrad import serialization as serialization
    from minigrad import testing as testing
    from minigrad import utils as utils
    from minigrad.serialization import load as load
    from minigrad.serialization import save as save
else:

    def __getattr__(name: str) -> Any:
        # submodules load on first use: nothing imports nn, or hypothesis, before a script asks
        if name == "nn":
            return importlib.import_module("minigrad.nn")
        if name in _SUBMODULES:
            return importlib.import_module(f"minigrad.{name}")
        if name in ("save", "load"):
            return getattr(importlib.import_module("minigrad.serialization"), name)
        raise AttributeError(f"module 'minigrad' has no attribute {name!r}")


def _public(name: str, value: Any) -> _builtins.bool:
    """A name minigrad defines itself: no submodule, no private helper, nothing imported from
    elsewhere (``Any``, ``annotations``), no process setting."""
    if name.startswith("_") or isinstance(value, _ModuleType) or name == "process_settings":
        return False
    is_function = isinstance(value, (type, _FunctionType)) or hasattr(value, "__wrapped__")
    owner = value if is_function else type(value)
    return _builtins.str(getattr(owner, "__module__", "")).startswith("minigrad")


# every name imported above, every declared op (minigrad.exp, …) and the lazy save/load
__all__ = sorted({n for n, v in globals().items() if _public(n, v)} | {*_FUNCTIONS, "save", "load"})
