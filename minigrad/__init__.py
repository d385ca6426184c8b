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


from minigrad import api as _api  # noqa: E402  (declares the ops: methods, functions, in-place)
from minigrad.declare import FUNCTIONS as _FUNCTIONS  # noqa: E402

# torch-level functions (minigrad.exp(x), minigrad.sum(x, dim), …): one declaration per op
globals().update({k: v for k, v in _FUNCTIONS.items() if k not in globals()})

_SUBMODULES = {"functional", "optim", "data", "testing", "autograd", "random", "ops"}


def __getattr__(name: str) -> Any:
    # submodules load on first use: minigrad.testing needs hypothesis, a test-only dependency
    if name in _SUBMODULES:
        return importlib.import_module(f"minigrad.{name}")
    if name in ("save", "load"):
        return getattr(importlib.import_module("minigrad.serialization"), name)
    raise AttributeError(f"module 'minigrad' has no attribute {name!r}")
