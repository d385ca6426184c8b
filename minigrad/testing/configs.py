"""Hypothesis strategies for valid arguments of minigrad's own ops.

Each draws a configuration that fits a drawn input, so a property test states the property
and not the bookkeeping of which arguments go together::

    @given(conv_configs(dims=2))
    def test_my_conv(cfg):
        x = mg.randn(*cfg["input_shape"], dtype=mg.float64)
        ...
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st


def _out_size(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


@st.composite
def conv_configs(
    draw: Any,
    dims: int = 2,
    max_batch: int = 3,
    max_channels: int = 4,
    max_side: int = 7,
    max_kernel: int = 3,
    transposed: bool = False,
) -> dict[str, Any]:
    """A convolution that fits its input: ``input_shape`` ``(N, C, *spatial)``, ``weight_shape``,
    ``in_channels``, ``out_channels``, ``kernel_size``, ``stride``, ``padding``, ``dilation``,
    ``groups`` (dividing both channel counts), ``bias``; every output size is at least 1."""
    groups = draw(st.integers(1, 2))
    in_channels = groups * draw(st.integers(1, max(1, max_channels // groups)))
    out_channels = groups * draw(st.integers(1, max(1, max_channels // groups)))
    kernel = tuple(draw(st.integers(1, max_kernel)) for _ in range(dims))
    stride = tuple(draw(st.integers(1, 2)) for _ in range(dims))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(dims))
    padding = tuple(draw(st.integers(0, (k - 1) * d // 2 + (k > 1)))
                    for k, d in zip(kernel, dilation))
    spatial = []
    for k, s, p, d in zip(kernel, stride, padding, dilation):
        smallest = max(1, d * (k - 1) + 1 - 2 * p)
        size = draw(st.integers(smallest, max(smallest, max_side)))
        assert _out_size(size, k, s, p, d) >= 1
        spatial.append(size)
    batch = draw(st.integers(1, max_batch))
    if transposed:
        weight_shape = (in_channels, out_channels // groups, *kernel)
    else:
        weight_shape = (out_channels, in_channels // groups, *kernel)
    return {
        "input_shape": (batch, in_channels, *spatial),
        "weight_shape": weight_shape,
        "in_channels": in_channels,
        "out_channels": out_channels,
        "kernel_size": kernel,
        "stride": stride,
        "padding": padding,
        "dilation": dilation,
        "groups": groups,
        "bias": draw(st.booleans()),
    }


@st.composite
def pool_configs(
    draw: Any,
    dims: int = 2,
    kind: str = "max",
    max_batch: int = 2,
    max_channels: int = 3,
    max_side: int = 8,
    max_kernel: int = 3,
) -> dict[str, Any]:
    """A pooling that fits its input: ``input_shape``, ``kernel_size``, ``stride``, ``padding``
    (at most half the kernel, as PyTorch requires), ``ceil_mode`` and, for max pooling,
    ``dilation``; for average pooling ``count_include_pad``."""
    if kind not in ("max", "avg"):
        raise ValueError(f"pool_configs: kind must be 'max' or 'avg', got {kind!r}")
    kernel = tuple(draw(st.integers(1, max_kernel)) for _ in range(dims))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    dilation = tuple(draw(st.integers(1, 2)) if kind == "max" else 1 for _ in range(dims))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    spatial = []
    for k, p, d in zip(kernel, padding, dilation):
        smallest = max(1, d * (k - 1) + 1 - 2 * p)
        spatial.append(draw(st.integers(smallest, max(smallest, max_side))))
    config = {
        "input_shape": (draw(st.integers(1, max_batch)), draw(st.integers(1, max_channels)),
                        *spatial),
        "kernel_size": kernel,
        "stride": stride,
        "padding": padding,
        "ceil_mode": draw(st.booleans()),
    }
    if kind == "max":
        config["dilation"] = dilation
    else:
        config["count_include_pad"] = draw(st.booleans())
    return config


@st.composite
def reduction_dims(draw: Any, ndim: int, allow_none: bool = True,
                   allow_tuple: bool = True) -> dict[str, Any]:
    """``{"dim": None | int | tuple of distinct ints (negative ones too), "keepdim": bool}``
    valid for a tensor of ``ndim`` dimensions."""
    choices: list[st.SearchStrategy[Any]] = []
    if allow_none:
        choices.append(st.none())
    if ndim > 0:
        choices.append(st.integers(-ndim, ndim - 1))
        if allow_tuple:
            choices.append(
                st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).flatmap(
                    lambda ds: st.tuples(*[st.sampled_from([d, d - ndim]) for d in ds])
                )
            )
    else:
        choices.append(st.sampled_from([0, -1]))
    return {"dim": draw(st.one_of(*choices)), "keepdim": draw(st.booleans())}


@st.composite
def index_expressions(draw: Any, shape: tuple[int, ...], advanced: bool = True) -> Any:
    """An index valid for a tensor of ``shape``: ints (negative too), slices with steps,
    ``None``, ``...`` and, with ``advanced``, one integer index list or boolean mask."""
    parts: list[Any] = []
    dim = 0
    used_ellipsis = False
    used_advanced = False  # one advanced index: several would have to broadcast together
    while dim < len(shape):
        size = shape[dim]
        options = ["slice", "none"]
        if size > 0:
            options.append("int")
            if advanced and not used_advanced:
                options += ["ints", "mask"]
        if not used_ellipsis:
            options.append("ellipsis")
        kind = draw(st.sampled_from(options))
        if kind == "int":
            parts.append(draw(st.integers(-size, size - 1)))
        elif kind == "slice":
            start = draw(st.none() | st.integers(-size - 1, size + 1))
            stop = draw(st.none() | st.integers(-size - 1, size + 1))
            step = draw(st.none() | st.integers(1, 3))
            parts.append(slice(start, stop, step))
        elif kind == "none":
            parts.append(None)
            continue
        elif kind == "ints":
            used_advanced = True
            parts.append(draw(st.lists(st.integers(-size, size - 1), min_size=1, max_size=4)))
        elif kind == "mask":
            used_advanced = True
            mask = draw(st.lists(st.booleans(), min_size=size, max_size=size))
            parts.append(np.array(mask, dtype=bool))
        else:
            parts.append(Ellipsis)
            used_ellipsis = True
            dim = len(shape) - draw(st.integers(0, len(shape) - dim))
            continue
        dim += 1
    return tuple(parts)
