"""Torch-level functions of the conv, pool, padding and resampling families:
``minigrad.conv1d(...)`` as ``torch.conv1d(...)``. They are functions of an input and weights
(or of window geometry), not Tensor methods, as in PyTorch."""

from __future__ import annotations

from typing import Any

from minigrad.declare import op
from minigrad.ops import convnd, padding, poolnd, resample

_REASON = "a functional op of torch.nn.functional, exposed at the top level as in PyTorch"

for _fn in (convnd.conv1d, convnd.conv2d, convnd.conv3d, convnd.conv_transpose1d,
            convnd.conv_transpose2d, convnd.conv_transpose3d, poolnd.max_pool1d,
            poolnd.max_pool2d, poolnd.max_pool3d, poolnd.avg_pool1d,
            poolnd.adaptive_avg_pool1d, poolnd.max_pool1d_with_indices, resample.pixel_shuffle,
            resample.pixel_unshuffle, resample.channel_shuffle, convnd.convolution,
            convnd.conv_tbc):
    op(method=False, out=False, reason=_REASON)(_fn)
op("native_channel_shuffle", method=False, out=False, reason=_REASON)(resample.channel_shuffle)


@op(method=False, out=False, reason=_REASON)
def adaptive_max_pool1d(input: Any, output_size: Any) -> Any:
    """``torch.adaptive_max_pool1d``: (values, int64 indices), always both, as in PyTorch."""
    return poolnd.adaptive_max_pool1d(input, output_size, return_indices=True)


@op(method=False, out=False, reason=_REASON)
def constant_pad_nd(input: Any, pad: Any, value: float = 0) -> Any:
    """``torch.constant_pad_nd``: constant padding (negative amounts crop)."""
    return padding.pad(input, pad, "constant", value)
