"""Convolutions of 1, 2 and 3 spatial dimensions and their transposes, with PyTorch's arguments.

conv1d runs as a 2-D convolution of height 1 and conv2d as ``minigrad.ops.conv.conv2d`` (the
fast, threaded kernels); conv3d, empty batches and every transposed convolution run on the N-d
window mechanism of ``minigrad.ops.windows``. Every argument is checked here, with
``windows.ntuple``, before any kernel runs. Inputs may be batched (N, C, *S) or not (C, *S).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from minigrad.errors import OpError
from minigrad.ops import conv as conv2d_ops
from minigrad.ops.windows import (
    ConvNd,
    ConvTransposeNd,
    Pads,
    check_rank,
    ntuple,
    window_extent,
)

if TYPE_CHECKING:
    from minigrad.tensor import Tensor

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "unfold", "fold", "convolution", "conv_tbc", "same_padding",
           "conv_transpose_output_padding"]


def same_padding(kernel: tuple[int, ...], dilation: tuple[int, ...]) -> Pads:
    """PyTorch's padding='same': d*(k-1) per axis, the odd position after."""
    totals = [d * (k - 1) for k, d in zip(kernel, dilation, strict=True)]
    return tuple((t // 2, t - t // 2) for t in totals)


def _groups(op: str, groups: Any) -> int:
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool):
        raise TypeError(f"{op}: groups must be an int, got {groups!r}")
    if groups < 1:
        raise OpError(f"{op}: non-positive groups is not supported, got groups={groups}")
    return int(groups)


def _check_tensors(op: str, input: Tensor, weight: Tensor, bias: Tensor | None, dims: int,
                   groups: int, transposed: bool) -> bool:
    """Ranks, channels, bias shape and dtypes; returns whether the input is batched."""
    batched = check_rank(op, input._data.shape, dims)
    if weight._data.ndim != dims + 2:
        raise OpError(
            f"{op}: expected a {dims + 2}-D weight "
            + ("(C_in, C_out/groups, *kernel)" if transposed else "(C_out, C_in/groups, *kernel)")
            + f", got weight of size {list(weight.shape)}"
        )
    if min(weight._data.shape[2:]) <= 0:
        raise OpError(f"{op}: kernel size should be greater than zero, got weight of size "
                      f"{list(weight.shape)}")
    channels = input._data.shape[1 if batched else 0]
    w_shape = weight._data.shape
    if w_shape[0] % groups:
        raise OpError(
            f"{op}: Given groups={groups}, expected weight to be divisible by {groups} at "
            f"dimension 0, but got weight of size {list(weight.shape)} instead"
        )
    expected = w_shape[0] if transposed else w_shape[1] * groups
    if channels != expected:
        raise OpError(
            f"{op}: Given groups={groups}, weight of size {list(weight.shape)}, expected input"
            f"{list(input.shape)} to have {expected} channels, but got {channels} channels "
            "instead"
        )
    out_channels = w_shape[1] * groups if transposed else w_shape[0]
    if bias is not None and bias._data.shape != (out_channels,):
        raise OpError(
            f"{op}: Given weight of size {list(weight.shape)}, expected bias to be 1-dimensional "
            f"with {out_channels} elements, but got bias of size {list(bias.shape)} instead"
        )
    dtype = input._data.dtype
    if weight._data.dtype != dtype or (bias is not None and bias._data.dtype != dtype):
        raise OpError(
            f"{op}: input ({input.dtype}), weight ({weight.dtype})"
            + (f" and bias ({bias.dtype})" if bias is not None else "")
            + " must have the same dtype; convert with .float() or .double()"
        )
    return batched


def _conv_padding(op: str, padding: Any, kernel: tuple[int, ...], stride: tuple[int, ...],
                  dilation: tuple[int, ...]) -> Pads:
    dims = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * dims
        if padding == "same":
            if any(s != 1 for s in stride):
                raise OpError(f"{op}: padding='same' is not supported for strided convolutions "
                              f"(stride={stride}); pad explicitly")
            return same_padding(kernel, dilation)
        raise OpError(f"{op}: Invalid padding string {padding!r}, should be one of "
                      "'valid', 'same', an int or a tuple of ints")
    return tuple((p, p) for p in ntuple(padding, dims, "padding", op, minimum=0))


def _convnd(op: str, dims: int, input: Tensor, weight: Tensor, bias: Tensor | None,
            stride: Any, padding: Any, dilation: Any, groups: Any) -> Tensor:
    groups = _groups(op, groups)
    stride = ntuple(stride, dims, "stride", op)
    dilation = ntuple(dilation, dims, "dilation", op)
    batched = _check_tensors(op, input, weight, bias, dims, groups, transposed=False)
    kernel = weight._data.shape[2:]
    pads = _conv_padding(op, padding, kernel, stride, dilation)
    x = input if batched else input.unsqueeze(0)
    padded = [s + a + b for s, (a, b) in zip(x._data.shape[2:], pads, strict=True)]
    extent = [window_extent(k, d) for k, d in zip(kernel, dilation, strict=True)]
    if any(e > p for e, p in zip(extent, padded, strict=True)):
        raise OpError(
            f"{op}: Calculated padded input size per channel: ({' x '.join(map(str, padded))})."
            f" Kernel size: ({' x '.join(map(str, extent))}). Kernel size can't be greater "
            f"than actual input size (input of size {list(input.shape)}, padding {padding!r}, "
            f"dilation {dilation})"
        )
    symmetric = all(a == b for a, b in pads)
    if x._data.shape[0] > 0 and dims <= 2 and (symmetric or padding == "same"):
        y = _fast_conv2d(x, weight, bias, stride, pads, padding, dilation, groups, dims)
    else:
        args = (x, weight) if bias is None else (x, weight, bias)
        y = ConvNd.apply(*args, stride=stride, pads=pads, dilation=dilation, groups=groups)
    return y if batched else y.squeeze(0)


def _fast_conv2d(x: Tensor, weight: Tensor, bias: Tensor | None, stride: tuple[int, ...],
                 pads: Pads, padding: Any, dilation: tuple[int, ...], groups: int,
                 dims: int) -> Tensor:
    """The threaded 2-D kernels; a 1-D convolution is a 2-D one of height 1."""
    pad_arg = "same" if padding == "same" else tuple(a for a, _ in pads)
    if dims == 1:
        y = conv2d_ops.conv2d(x.unsqueeze(2), weight.unsqueeze(2), bias, (1, stride[0]),
                              pad_arg if isinstance(pad_arg, str) else (0, pad_arg[0]),
                              (1, dilation[0]), groups)
        return y.squeeze(2)
    return conv2d_ops.conv2d(x, weight, bias, stride, pad_arg, dilation, groups)


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """(N, C, L) * (O, C/groups, K) [+ (O,)] -> (N, O, OL); (C, L) inputs too."""
    return _convnd("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """2-D cross-correlation: input (N, C, H, W) with weight (O, C/groups, KH, KW) [and bias
    (O,)] -> (N, O, OH, OW); an unbatched (C, H, W) input gives (O, OH, OW).

    ``padding`` is an int, a pair, ``"valid"`` or ``"same"``; ``stride`` and ``dilation`` an int
    or a pair.

    Example::

        >>> import minigrad as mg
        >>> import nn.functional as F
        >>> x = mg.ones(1, 1, 4, 4)
        >>> w = mg.ones(2, 1, 3, 3)
        >>> F.conv2d(x, w).shape
        minigrad.Size([1, 2, 2, 2])
        >>> F.conv2d(x, w, padding=1)[0, 0].tolist()[0]
        [4.0, 6.0, 6.0, 4.0]
    """
    return _convnd("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """(N, C, D, H, W) * (O, C/groups, KD, KH, KW) [+ (O,)] -> (N, O, OD, OH, OW)."""
    return _convnd("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


# --------------------------------------------------------------------------- transposed


def conv_transpose_output_padding(op: str, input_size: tuple[int, ...], output_size: Any,
                                  kernel: tuple[int, ...], stride: tuple[int, ...],
                                  padding: tuple[int, ...], dilation: tuple[int, ...]
                                  ) -> tuple[int, ...]:
    """The output_padding that makes a transposed convolution produce ``output_size`` (the
    spatial sizes, or a full shape ending in them), as ConvTranspose*d.forward computes it."""
    dims = len(kernel)
    sizes = [int(s) for s in output_size]
    if len(sizes) not in (dims, dims + 1, dims + 2):
        raise OpError(f"{op}: output_size must have {dims} or {dims + 2} elements (got "
                      f"{len(sizes)})")
    sizes = sizes[-dims:]
    result = []
    for axis in range(dims):
        smallest = ((input_size[axis] - 1) * stride[axis] - 2 * padding[axis]
                    + dilation[axis] * (kernel[axis] - 1) + 1)
        largest = smallest + stride[axis] - 1
        if not smallest <= sizes[axis] <= largest:
            raise OpError(
                f"{op}: requested an output size of {sizes}, but valid sizes range from "
                f"{smallest} to {largest} (for an input of {list(input_size)})"
            )
        result.append(sizes[axis] - smallest)
    return tuple(result)


def _conv_transposend(op: str, dims: int, input: Tensor, weight: Tensor, bias: Tensor | None,
                      stride: Any, padding: Any, output_padding: Any, groups: Any,
                      dilation: Any) -> Tensor:
    groups = _groups(op, groups)
    stride = ntuple(stride, dims, "stride", op)
    dilation = ntuple(dilation, dims, "dilation", op)
    if isinstance(padding, str):
        raise TypeError(f"{op}: padding must be an int or a tuple of {dims} ints, got "
                        f"{padding!r} (transposed convolutions take no padding strings)")
    padding = ntuple(padding, dims, "padding", op, minimum=0)
    output_padding = ntuple(output_padding, dims, "output_padding", op, minimum=0)
    if any(p >= s and p >= d for p, s, d in zip(output_padding, stride, dilation, strict=True)):
        raise OpError(
            f"{op}: output padding must be smaller than either stride or dilation, but got "
            f"output_padding={output_padding}, stride={stride}, dilation={dilation}"
        )
    batched = _check_tensors(op, input, weight, bias, dims, groups, transposed=True)
    x = input if batched else input.unsqueeze(0)
    kernel = tuple(weight.shape[2:])
    size = tuple((s - 1) * st - 2 * p + d * (k - 1) + op_ + 1 for s, st, p, d, k, op_ in zip(
        x.shape[2:], stride, padding, dilation, kernel, output_padding, strict=True))
    if min(size) < 1:
        raise OpError(
            f"{op}: Given input size per channel: ({' x '.join(map(str, x.shape[2:]))}). "
            f"Calculated output size per channel: ({' x '.join(map(str, size))}). Output size "
            "is too small"
        )
    pads = tuple((p, p) for p in padding)
    args = (x, weight) if bias is None else (x, weight, bias)
    y = ConvTransposeNd.apply(*args, stride=stride, pads=pads, dilation=dilation, groups=groups,
                              size=size)
    return y if batched else y.squeeze(0)


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
                     stride: Any = 1, padding: Any = 0, output_padding: Any = 0,
                     groups: int = 1, dilation: Any = 1) -> Tensor:
    """(N, C, L) * (C, O/groups, K) [+ (O,)] -> (N, O, (L-1)*stride - 2*padding +
    dilation*(K-1) + output_padding + 1)."""
    return _conv_transposend("conv_transpose1d", 1, input, weight, bias, stride, padding,
                             output_padding, groups, dilation)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
                     stride: Any = 1, padding: Any = 0, output_padding: Any = 0,
                     groups: int = 1, dilation: Any = 1) -> Tensor:
    """(N, C, H, W) * (C, O/groups, KH, KW) [+ (O,)] -> (N, O, OH, OW), the gradient of conv2d."""
    return _conv_transposend("conv_transpose2d", 2, input, weight, bias, stride, padding,
                             output_padding, groups, dilation)


def conv_transpose3d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
                     stride: Any = 1, padding: Any = 0, output_padding: Any = 0,
                     groups: int = 1, dilation: Any = 1) -> Tensor:
    """(N, C, D, H, W) * (C, O/groups, KD, KH, KW) [+ (O,)] -> (N, O, OD, OH, OW)."""
    return _conv_transposend("conv_transpose3d", 3, input, weight, bias, stride, padding,
                             output_padding, groups, dilation)


# --------------------------------------------------------------------------- unfold / fold


def unfold(input: Tensor, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
           stride: Any = 1) -> Tensor:
    """im2col: (N, C, H, W) -> (N, C*KH*KW, L), L the number of windows; (C, H, W) too."""
    op = "unfold"
    batched = check_rank(op, input.shape, 2)
    args = (ntuple(kernel_size, 2, "kernel_size", op), ntuple(dilation, 2, "dilation", op),
            ntuple(padding, 2, "padding", op, minimum=0), ntuple(stride, 2, "stride", op))
    x = input if batched else input.unsqueeze(0)
    y = conv2d_ops.unfold(x, *args)
    return y if batched else y.squeeze(0)


def fold(input: Tensor, output_size: Any, kernel_size: Any, dilation: Any = 1,
         padding: Any = 0, stride: Any = 1) -> Tensor:
    """col2im: ``(N, C*KH*KW, L) -> (N, C, *output_size)``, summing overlapping windows;
    ``(C*KH*KW, L)`` too."""
    op = "fold"
    if len(input.shape) not in (2, 3):
        raise OpError(f"{op}: Expected 2D or 3D (batch mode) tensor for input with possibly 0 "
                      f"batch size and non-zero dimensions for input, but got: "
                      f"{list(input.shape)}")
    batched = len(input.shape) == 3
    args = (ntuple(output_size, 2, "output_size", op),
            ntuple(kernel_size, 2, "kernel_size", op), ntuple(dilation, 2, "dilation", op),
            ntuple(padding, 2, "padding", op, minimum=0), ntuple(stride, 2, "stride", op))
    x = input if batched else input.unsqueeze(0)
    y = conv2d_ops.fold(x, *args)
    return y if batched else y.squeeze(0)


# --------------------------------------------------------------------------- torch-level forms


def convolution(input: Tensor, weight: Tensor, bias: Tensor | None, stride: Any, padding: Any,
                dilation: Any, transposed: bool, output_padding: Any, groups: int) -> Tensor:
    """``torch.convolution``: conv{1,2,3}d or conv_transpose{1,2,3}d by the weight's rank."""
    dims = len(weight.shape) - 2
    if not 1 <= dims <= 3:
        raise OpError(f"convolution: expected a 3-D, 4-D or 5-D weight, got weight of size "
                      f"{list(weight.shape)}")
    if transposed:
        op = (conv_transpose1d, conv_transpose2d, conv_transpose3d)[dims - 1]
        return op(input, weight, bias, stride, padding, output_padding, groups, dilation)
    return (conv1d, conv2d, conv3d)[dims - 1](input, weight, bias, stride, padding, dilation,
                                              groups)


def conv_tbc(input: Tensor, weight: Tensor, bias: Tensor, pad: int = 0) -> Tensor:
    """``torch.conv_tbc``: 1-D convolution of (time, batch, channels) input with a
    (K, C_in, C_out) weight: (T, N, C_in) -> (T', N, C_out)."""
    if len(input.shape) != 3 or len(weight.shape) != 3:
        raise OpError(f"conv_tbc: expected a 3-D input (T, N, C) and a 3-D weight (K, C_in, "
                      f"C_out), got {list(input.shape)} and {list(weight.shape)}")
    out = conv1d(input.permute(1, 2, 0), weight.permute(2, 1, 0), bias, 1, pad)
    return out.permute(2, 0, 1)
