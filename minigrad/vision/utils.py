"""``torchvision.utils`` for minigrad: ``make_grid`` and ``save_image``.

``save_image`` writes through matplotlib, imported only when it is called, so that importing
``minigrad.vision`` never imports matplotlib; files are written atomically.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Sequence
from typing import IO, Any

import numpy as np

from minigrad.fileio import atomic_write
from minigrad.tensor import Tensor, _wrap

__all__ = ["make_grid", "save_image"]


def _stack(tensor: Tensor | Sequence[Tensor], op: str) -> np.ndarray:
    if isinstance(tensor, Tensor):
        return tensor.detach()._data
    if isinstance(tensor, (list, tuple)):
        for t in tensor:
            if not isinstance(t, Tensor):
                raise TypeError(f"{op}: tensor or list of tensors expected, got a list "
                                f"containing {type(t).__name__}")
        if not tensor:
            raise ValueError(f"{op}: got an empty list of tensors; give at least one image")
        shapes = {tuple(t.shape) for t in tensor}
        if len(shapes) > 1:
            raise ValueError(f"{op}: the images of the list have different shapes {sorted(shapes)}"
                             "; resize or crop them to one shape first")
        return np.stack([t.detach()._data for t in tensor])
    raise TypeError(f"{op}: tensor or list of tensors expected, got {type(tensor).__name__}")


def make_grid(tensor: Tensor | Sequence[Tensor], nrow: int = 8, padding: int = 2,
              normalize: bool = False, value_range: tuple[float, float] | None = None,
              scale_each: bool = False, pad_value: float = 0.0) -> Tensor:
    """Tile images ``(B, C, H, W)`` (or a list of ``(C, H, W)``) into one image
    ``(C, rows * (H + padding) + padding, nrow * (W + padding) + padding)``.

    One-channel images become three-channel; a single image is returned without padding.

    Args:
        nrow: images per row of the grid.
        padding: pixels of ``pad_value`` between the images and around the grid.
        normalize: shift and scale values into [0, 1] using ``value_range`` (default: the
            minimum and maximum of the whole batch, or of each image with ``scale_each``).
    """
    x = _stack(tensor, "make_grid")
    if x.ndim == 2:  # a single image H x W
        x = x[None]
    if x.ndim == 3:  # a single image C x H x W
        if x.shape[0] == 1:
            x = np.concatenate((x, x, x), axis=0)
        x = x[None]
    if x.ndim != 4:
        raise ValueError(f"make_grid: expected images (B, C, H, W), (C, H, W) or (H, W), got "
                         f"shape {x.shape}")
    if x.shape[1] == 1:
        x = np.concatenate((x, x, x), axis=1)
    if normalize:
        if value_range is not None and not isinstance(value_range, tuple):
            raise TypeError(f"make_grid: value_range has to be a tuple (min, max) if specified, "
                            f"got {value_range!r}")
        x = x.copy()
        if value_range is not None:
            low = np.asarray(value_range[0], dtype=x.dtype)
            high = np.asarray(value_range[1], dtype=x.dtype)
        elif scale_each:
            low = x.min(axis=(1, 2, 3), keepdims=True)
            high = x.max(axis=(1, 2, 3), keepdims=True)
        else:
            low, high = x.min(), x.max()
        np.clip(x, low, high, out=x)
        x -= low
        x /= np.maximum(high - low, 1e-5).astype(x.dtype)
    if x.shape[0] == 1:
        return _wrap(np.ascontiguousarray(x[0]))
    nmaps, channels, height, width = x.shape
    xmaps = min(nrow, nmaps)
    ymaps = int(math.ceil(float(nmaps) / xmaps))
    cell_h, cell_w = height + padding, width + padding
    # every image in a cell with ``padding`` rows above and columns to its left; the empty cells
    # of the last row and the bottom and right border are pad_value
    cells = np.full((ymaps * xmaps, channels, cell_h, cell_w), pad_value, dtype=x.dtype)
    cells[:nmaps, :, padding:, padding:] = x
    tiled = cells.reshape(ymaps, xmaps, channels, cell_h, cell_w).transpose(2, 0, 3, 1, 4)
    grid = np.full((channels, ymaps * cell_h + padding, xmaps * cell_w + padding), pad_value,
                   dtype=x.dtype)
    grid[:, : ymaps * cell_h, : xmaps * cell_w] = tiled.reshape(channels, ymaps * cell_h,
                                                                xmaps * cell_w)
    return _wrap(grid)


def save_image(tensor: Tensor | Sequence[Tensor],
               fp: str | os.PathLike[str] | IO[bytes], format: str | None = None,  # noqa: A002
               **grid_kwargs: Any) -> None:
    """Save images (as ``make_grid`` tiles them) to an image file, PNG by default.

    Float values in [0, 1] become bytes as torchvision makes them (``x * 255 + 0.5``, clamped to
    [0, 255], truncated). A path is written atomically (a temporary file renamed over it); the
    format comes from ``format``, else from the file name's extension. PNG files are RGBA with
    an opaque alpha channel (matplotlib's ``imsave``).
    """
    grid = make_grid(tensor, **grid_kwargs)._data
    if grid.shape[0] not in (3, 4):
        raise ValueError(f"save_image: can save images of 1, 3 or 4 channels, got a grid of "
                         f"{grid.shape[0]} channels (shape {tuple(grid.shape)})")
    pixels = np.clip(grid * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    path = os.fspath(fp) if isinstance(fp, (str, os.PathLike)) else None
    if format is None:
        ext = os.path.splitext(path)[1].lstrip(".").lower() if path is not None else ""
        format = ext or "png"  # noqa: A001
    import matplotlib.image  # lazily: only saving an image needs matplotlib

    buffer = io.BytesIO()
    matplotlib.image.imsave(buffer, pixels, format=format)
    if path is not None:
        atomic_write(path, buffer.getvalue())
    else:
        fp.write(buffer.getvalue())  # type: ignore[union-attr]
