"""What the convolution-kernel tests share: inputs in the memory layouts the kernels meet, a
hypothesis strategy of 3x3 convolution cases, the forward and gradients of ``conv2d`` for one
case, and PyTorch's for the same arrays."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from minigrad.ops.conv import conv2d
from minigrad.tensor import Tensor

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray | None]


def in_layout(a: np.ndarray, layout: str) -> np.ndarray:
    """The same (N, C, H, W) values in (N, C, H, W), (C, N, H, W) or (H, W, N, C) memory."""
    order = {"nchw": (0, 1, 2, 3), "cnhw": (1, 0, 2, 3), "hwnc": (2, 3, 0, 1)}[layout]
    return np.ascontiguousarray(a.transpose(order)).transpose(np.argsort(order))


def memory_order(a: np.ndarray) -> list[int]:
    """The axes of ``a`` from outermost to innermost in memory (axes of length 1 have none)."""
    return [int(axis) for axis in np.argsort([-s for s in a.strides], kind="stable")
            if a.shape[axis] > 1]


@st.composite
def conv_cases(draw: Any, max_side: int = 11, max_batch: int = 5) -> tuple[Any, ...]:
    """(n, c, o, h, w, padding, seed, layout, bias) of a 3x3 stride-1 convolution."""
    n = draw(st.integers(1, max_batch))
    c = draw(st.integers(1, 4))
    o = draw(st.integers(1, 4))
    padding = (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
    h = draw(st.integers(max(1, 3 - 2 * padding[0]), max_side))
    w = draw(st.integers(max(1, 3 - 2 * padding[1]), max_side))
    seed = draw(st.integers(0, 2**16))
    layout = draw(st.sampled_from(["nchw", "cnhw", "hwnc"]))
    bias = draw(st.booleans())
    return n, c, o, h, w, padding, seed, layout, bias


def arrays(case: tuple[Any, ...], dtype: Any = np.float64) -> Arrays:
    """The input (in the case's layout), weight and bias of a ``conv_cases`` case."""
    n, c, o, h, w, _, seed, layout, bias = case
    rng = np.random.default_rng(seed)
    x = in_layout(rng.standard_normal((n, c, h, w)).astype(dtype), layout)
    weight = rng.standard_normal((o, c, 3, 3)).astype(dtype)
    b = rng.standard_normal(o).astype(dtype) if bias else None
    return x, weight, b


def output_grad(shape: tuple[int, ...], dtype: Any, seed: int = 1) -> np.ndarray:
    """The incoming gradient both frameworks' backward gets."""
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def conv_and_grads(x: np.ndarray, weight: np.ndarray, b: np.ndarray | None,
                   padding: Any, grad_seed: int = 1) -> list[np.ndarray | None]:
    """minigrad's output and input, weight and bias gradients (None without a bias)."""
    xt, wt = Tensor(x, requires_grad=True), Tensor(weight, requires_grad=True)
    bt = None if b is None else Tensor(b, requires_grad=True)
    out = conv2d(xt, wt, bt, padding=padding)
    out.backward(Tensor(output_grad(out.shape, x.dtype, grad_seed)))
    assert xt.grad is not None and wt.grad is not None
    return [out._data, xt.grad._data, wt.grad._data,
            None if bt is None or bt.grad is None else bt.grad._data]


def torch_conv_and_grads(x: np.ndarray, weight: np.ndarray, b: np.ndarray, padding: Any,
                         need_x: bool = True) -> list[np.ndarray | None]:
    """PyTorch's output and input (None unless ``need_x``), weight and bias gradients."""
    import torch

    xt = torch.tensor(x, requires_grad=need_x)
    wt = torch.tensor(weight, requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    yt = torch.nn.functional.conv2d(xt, wt, bt, padding=padding)
    yt.backward(torch.tensor(output_grad(tuple(yt.shape), x.dtype)))
    assert wt.grad is not None and bt.grad is not None
    gx = xt.grad.numpy() if need_x and xt.grad is not None else None
    return [yt.detach().numpy(), gx, wt.grad.numpy(), bt.grad.numpy()]
