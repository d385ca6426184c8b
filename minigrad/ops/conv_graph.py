"""Convolution and pooling gradients as graph ops, for ``create_graph=True``.

A convolution y = conv(x, w) is bilinear, and so are its two gradients: dL/dx = conv_input(g, w)
(a transposed convolution) and dL/dw = conv_weight(x, g) (a convolution of x with g). The
derivatives of each of the three products are the other two:

    conv(x, w)         d/dx: conv_input(gy, w)    d/dw: conv_weight(x, gy)
    conv_input(g, w)   d/dg: conv(gz, w)          d/dw: conv_weight(gz, g)
    conv_weight(x, g)  d/dx: conv_input(g, gw)    d/dg: conv(x, gw)

so ``Convolution``, ``ConvInput`` and ``ConvWeight`` below are differentiable any number of
times. Their arrays are computed by the N-d kernels of ``minigrad.ops.windows``; the fast
first-order paths of ``conv.py`` and ``windows.py`` are untouched and only hand over to these
when their backward is run on Tensors. Pooling gradients are linear maps of the incoming
gradient (a scatter into the windows), run as :class:`~minigrad.autograd.higher_order.LinearMap`.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from minigrad.autograd.engine import Context, Primitive
from minigrad.autograd.higher_order import linear_backward
from minigrad.ops.windows import conv_forward, conv_input_grad, pad_nd, window_view

Ints = tuple[int, ...]


class ConvGeometry(NamedTuple):
    """A convolution's windows: (before, after) padding per axis, input and output sizes."""

    stride: Ints
    pads: tuple[tuple[int, int], ...]
    dilation: Ints
    groups: int
    size: Ints  # the input's spatial size
    out: Ints  # the output's spatial size


def _columns(x: np.ndarray, kernel: Ints, geometry: ConvGeometry) -> np.ndarray:
    """im2col of x: (N, G, C/G * prod(K), P)."""
    n, c = x.shape[:2]
    view = window_view(pad_nd(x, geometry.pads), kernel, geometry.stride, geometry.dilation,
                       geometry.out)
    groups = geometry.groups
    return np.ascontiguousarray(view).reshape(n, groups, c // groups * math.prod(kernel),
                                              math.prod(geometry.out))


def _tensors(*values: Any) -> list[Any]:
    from minigrad.tensor import Tensor, _wrap

    return [v if isinstance(v, Tensor) else _wrap(v) for v in values]


def _arrays(*values: Any) -> bool:
    return all(isinstance(v, np.ndarray) for v in values)


def convolution(x: Any, weight: Any, geometry: ConvGeometry) -> Any:
    """(N, C, *size) * (O, C/G, *K) -> (N, O, *out); a graph op on Tensors."""
    if _arrays(x, weight):
        return conv_forward(x, weight, geometry.stride, geometry.pads, geometry.dilation,
                            geometry.groups, geometry.out)[0]
    return Convolution.apply(*_tensors(x, weight), geometry=geometry)


def conv_input(g: Any, weight: Any, geometry: ConvGeometry) -> Any:
    """The adjoint of ``convolution`` in x: (N, O, *out) -> (N, C, *size)."""
    if _arrays(g, weight):
        return conv_input_grad(g, weight, geometry.stride, geometry.pads, geometry.dilation,
                               geometry.groups, geometry.size)
    return ConvInput.apply(*_tensors(g, weight), geometry=geometry)


def conv_weight(x: Any, g: Any, weight_shape: Ints, geometry: ConvGeometry) -> Any:
    """The adjoint of ``convolution`` in the weight: sum over the batch of x's windows * g."""
    if _arrays(x, g):
        cols = _columns(x, tuple(weight_shape[2:]), geometry)
        n, groups, columns, p = cols.shape
        o = weight_shape[0]
        lhs = g.reshape(n, groups, o // groups, p).transpose(1, 2, 0, 3).reshape(
            groups, o // groups, n * p)
        rhs = cols.transpose(1, 0, 3, 2).reshape(groups, n * p, columns)
        return np.matmul(lhs, rhs).reshape(weight_shape)
    return ConvWeight.apply(*_tensors(x, g), weight_shape=tuple(weight_shape),
                            geometry=geometry)


class Convolution(Primitive):
    """conv(x, w) with gradients conv_input(g, w) and conv_weight(x, g)."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, weight: np.ndarray, geometry: ConvGeometry
                ) -> np.ndarray:
        ctx.save_for_backward(x, weight)
        ctx.geometry = geometry
        return convolution(x, weight, geometry)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, ...]:
        x, weight = ctx.saved
        need_x, need_w = ctx.needs_input_grad
        return (conv_input(grad, weight, ctx.geometry) if need_x else None,
                conv_weight(x, grad, weight.shape, ctx.geometry) if need_w else None)


class ConvInput(Primitive):
    """conv_input(g, w) with gradients conv(gz, w) and conv_weight(gz, g)."""

    @staticmethod
    def forward(ctx: Context, g: np.ndarray, weight: np.ndarray, geometry: ConvGeometry
                ) -> np.ndarray:
        ctx.save_for_backward(g, weight)
        ctx.geometry = geometry
        return conv_input(g, weight, geometry)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, ...]:
        g, weight = ctx.saved
        need_g, need_w = ctx.needs_input_grad
        return (convolution(grad, weight, ctx.geometry) if need_g else None,
                conv_weight(grad, g, weight.shape, ctx.geometry) if need_w else None)


class ConvWeight(Primitive):
    """conv_weight(x, g) with gradients conv_input(g, gw) and conv(x, gw)."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, g: np.ndarray, weight_shape: Ints,
                geometry: ConvGeometry) -> np.ndarray:
        ctx.save_for_backward(x, g)
        ctx.geometry = geometry
        return conv_weight(x, g, weight_shape, geometry)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, ...]:
        x, g = ctx.saved
        need_x, need_g = ctx.needs_input_grad
        return (conv_input(g, grad, ctx.geometry) if need_x else None,
                convolution(x, grad, ctx.geometry) if need_g else None)


def _bias_grad(grad: Any) -> Any:
    return grad.sum(dim=(0, *range(2, grad.ndim)))


def conv2d_backward(ctx: Context, grad: Any) -> tuple[Any, ...]:
    """``conv.Conv2d``'s backward on Tensors (create_graph=True)."""
    x, weight = ctx.graph_inputs[:2]
    geometry = ConvGeometry(tuple(ctx.stride), tuple(ctx.padding), tuple(ctx.dilation),
                            ctx.groups, tuple(ctx.x_shape[2:]), tuple(ctx.out_size))
    needs = ctx.needs_input_grad
    grad_x = conv_input(grad, weight, geometry) if needs[0] else None
    grad_w = conv_weight(x, grad, tuple(weight.shape), geometry) if needs[1] else None
    if len(needs) > 2:
        return grad_x, grad_w, _bias_grad(grad) if needs[2] else None
    return grad_x, grad_w


def convnd_backward(ctx: Context, grad: Any) -> tuple[Any, ...]:
    """``windows.ConvNd``'s backward on Tensors (create_graph=True)."""
    x, weight = ctx.graph_inputs[:2]
    stride, pads, dilation, groups = ctx.geometry
    geometry = ConvGeometry(tuple(stride), tuple(pads), tuple(dilation), groups,
                            tuple(ctx.size), tuple(grad.shape[2:]))
    needs = ctx.needs_input_grad
    grad_x = conv_input(grad, weight, geometry) if needs[0] else None
    grad_w = conv_weight(x, grad, tuple(weight.shape), geometry) if needs[1] else None
    if len(needs) > 2:
        return grad_x, grad_w, _bias_grad(grad) if needs[2] else None
    return grad_x, grad_w


def conv_transposend_backward(ctx: Context, grad: Any) -> tuple[Any, ...]:
    """``windows.ConvTransposeNd``'s backward on Tensors: y = conv_input(x, w), so its
    gradients are conv(gy, w) and conv_weight(gy, x)."""
    x, weight = ctx.graph_inputs[:2]
    stride, pads, dilation, groups = ctx.geometry
    geometry = ConvGeometry(tuple(stride), tuple(pads), tuple(dilation), groups,
                            tuple(grad.shape[2:]), tuple(ctx.in_size))
    needs = ctx.needs_input_grad
    grad_x = convolution(grad, weight, geometry) if needs[0] else None
    grad_w = conv_weight(grad, x, tuple(weight.shape), geometry) if needs[1] else None
    if len(needs) > 2:
        return grad_x, grad_w, _bias_grad(grad) if needs[2] else None
    return grad_x, grad_w


# --------------------------------------------------------------------------- pooling


def max_pool2d_backward(ctx: Context, grad: Any) -> tuple[Any, ...]:
    """``conv.MaxPool2d``'s backward on Tensors: the scatter to each window's maximum, as the
    adjoint of picking it (the argmax is a constant of the derivative)."""
    from minigrad.ops.conv import MaxPool2d

    def pick(arrays: Context, x: np.ndarray) -> np.ndarray:
        position = arrays.saved[0][None].astype(np.intp)
        return np.take_along_axis(arrays.geometry.windows(x, 0.0), position, axis=0)[0]

    return (linear_backward(MaxPool2d, ctx, grad, pick),)


def avg_pool2d_backward(ctx: Context, grad: Any) -> tuple[Any, ...]:
    """``conv.AvgPool2d``'s backward on Tensors: the adjoint of the (linear) average pool."""
    from minigrad.ops.conv import AvgPool2d

    def pool(arrays: Context, x: np.ndarray) -> np.ndarray:
        return arrays.geometry.windows(x, 0.0).sum(axis=0) / arrays.divisor

    return (linear_backward(AvgPool2d, ctx, grad, pool),)


def adaptive_avg_pool2d_backward(ctx: Context, grad: Any) -> tuple[Any, ...]:
    """``conv.AdaptiveAvgPool2d``'s backward on Tensors: the adjoint of the pool."""
    from minigrad.ops.conv import AdaptiveAvgPool2d

    def pool(arrays: Context, x: np.ndarray) -> np.ndarray:
        return np.matmul(np.matmul(arrays.rows, x), arrays.cols.T)

    return (linear_backward(AdaptiveAvgPool2d, ctx, grad, pool),)
