"""minigrad: a NumPy autograd tensor library that reads like PyTorch.

``import minigrad as mg`` stands in for ``import torch``.
"""

from __future__ import annotations

import importlib
from typing import Any

from minigrad.autograd import (
    enable_grad,
    grad,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from minigrad.gradcheck import GradcheckError, gradcheck
from minigrad.parallel import configure_process, get_num_threads, set_num_threads
from minigrad.random import manual_seed, seed
from minigrad.tensor import (
    Tensor,
    arange,
    as_tensor,
    bool,
    cat,
    concatenate,
    double,
    empty,
    eye,
    float,
    float16,
    float32,
    float64,
    from_numpy,
    full,
    full_like,
    half,
    int,
    int8,
    int16,
    int32,
    int64,
    linspace,
    long,
    matmul,
    maximum,
    minimum,
    ones,
    ones_like,
    pad,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    short,
    stack,
    tensor,
    uint8,
    where,
    zeros,
    zeros_like,
)

__version__ = "0.1.0"

# one BLAS thread and glibc keeping freed memory: see minigrad.parallel.configure_process
process_settings = configure_process()


def _method(name: str) -> Any:
    def call(input: Tensor, *args: Any, **kwargs: Any) -> Any:
        return getattr(input, name)(*args, **kwargs)

    call.__name__ = name
    call.__doc__ = f"``mg.{name}(x, ...)`` is ``x.{name}(...)``."
    return call


# torch.exp(x), torch.sum(x, dim), … as functions of the tensor methods
for _name in (
    "exp log sqrt sin cos tanh sigmoid relu abs clamp clip neg square sum mean var std max min "
    "amax amin argmax argmin logsumexp reshape flatten transpose permute squeeze unsqueeze "
    "split chunk unbind flip gather softmax log_softmax sign floor round isnan isfinite "
    "all any masked_fill allclose equal broadcast_to expand_as"
).split():
    globals()[_name] = _method(_name)
del _name

_SUBMODULES = {"functional", "optim", "data", "testing", "autograd", "random", "ops"}


def __getattr__(name: str) -> Any:
    # submodules load on first use: minigrad.testing needs hypothesis, a test-only dependency
    if name in _SUBMODULES:
        return importlib.import_module(f"minigrad.{name}")
    if name in ("save", "load"):
        return getattr(importlib.import_module("minigrad.serialization"), name)
    raise AttributeError(f"module 'minigrad' has no attribute {name!r}")
