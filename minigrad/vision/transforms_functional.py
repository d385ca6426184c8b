"""``torchvision.transforms.functional`` for minigrad: the image operations behind the transforms.

Images are uint8 (or any dtype) ndarrays ``H x W`` or ``H x W x C`` where torchvision takes PIL
images, and Tensors ``(..., C, H, W)``; every function that torchvision applies to both returns
the kind it was given. Internally an image is a ``(N, M, H, W)`` array (``N`` images, ``M`` planes
each: channels and any leading dimensions), so that one vectorized kernel serves a single image
and a whole batch with per-image parameters.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from enum import Enum
from typing import Any

import numpy as np

from minigrad.autograd.engine import is_grad_enabled
from minigrad.dtypes import dtype as _MinigradDtype
from minigrad.errors import OpError
from minigrad.tensor import Tensor, _wrap

__all__ = [
    "InterpolationMode",
    "affine",
    "center_crop",
    "convert_image_dtype",
    "crop",
    "erase",
    "get_dimensions",
    "get_image_num_channels",
    "get_image_size",
    "hflip",
    "normalize",
    "pad",
    "pil_to_tensor",
    "resize",
    "rotate",
    "to_tensor",
    "vflip",
]

Image = np.ndarray | Tensor
Fill = float | Sequence[float] | None


class InterpolationMode(Enum):
    """Interpolation modes, named and valued as torchvision's (``InterpolationMode.BILINEAR``).

    minigrad implements ``NEAREST``, ``NEAREST_EXACT`` and ``BILINEAR``; the others exist so that
    code naming them imports, and raise a clear error when used.
    """

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


# Pillow's integer filter constants, which torchvision also accepts
_PIL_CODES = {
    0: InterpolationMode.NEAREST,
    1: InterpolationMode.LANCZOS,
    2: InterpolationMode.BILINEAR,
    3: InterpolationMode.BICUBIC,
    4: InterpolationMode.BOX,
    5: InterpolationMode.HAMMING,
}
_SUPPORTED = (InterpolationMode.NEAREST, InterpolationMode.NEAREST_EXACT,
              InterpolationMode.BILINEAR)
_GRID_MODES = (InterpolationMode.NEAREST, InterpolationMode.BILINEAR)


def _interpolation(value: Any, op: str,
                   allowed: tuple[InterpolationMode, ...] = _SUPPORTED) -> InterpolationMode:
    """``value`` as an InterpolationMode that ``op`` supports, or a clear error."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value not in _PIL_CODES:
            raise ValueError(f"{op}: {value} is not a Pillow interpolation constant; "
                             "pass an InterpolationMode such as InterpolationMode.BILINEAR")
        value = _PIL_CODES[value]
    if not isinstance(value, InterpolationMode):
        raise TypeError(f"{op}: interpolation should be an InterpolationMode or a corresponding "
                        f"Pillow integer constant, got {value!r}")
    if value not in allowed:
        names = ", ".join(f"InterpolationMode.{m.name}" for m in allowed)
        raise ValueError(f"{op}: interpolation InterpolationMode.{value.name} is not supported "
                         f"by minigrad; use one of {names}")
    return value


# --------------------------------------------------------------------------- image layouts


class _Layout:
    """How a canonical ``(N, M, H, W)`` array maps back to the caller's image."""

    __slots__ = ("kind", "batched", "middle")

    def __init__(self, kind: str, batched: bool, middle: tuple[int, ...]) -> None:
        self.kind = kind  # "tensor", "hw" or "hwc"
        self.batched = batched
        self.middle = middle  # the dimensions folded into M, channels last

    @property
    def channels(self) -> int:
        return self.middle[-1] if self.middle else 1


def _check_tensor(img: Tensor, op: str) -> None:
    if img.requires_grad and is_grad_enabled():
        raise OpError(f"{op}: the input requires grad, but image transforms do not record "
                      "gradients; pass img.detach() (or run under minigrad.no_grad())")


def _planes(img: Any, op: str, batched: bool = False,
            tensor_only: bool = False) -> tuple[np.ndarray, _Layout]:
    """The canonical ``(N, M, H, W)`` view of an image (``N = 1``) or of a batch."""
    if isinstance(img, Tensor):
        _check_tensor(img, op)
        a = img._data
        if batched:
            if a.ndim < 3:
                raise ValueError(f"{op}.apply_batch: expected a batch of images (N, C, H, W), "
                                 f"got a tensor of shape {tuple(a.shape)}")
            middle = tuple(a.shape[1:-2])
            n = a.shape[0]
        else:
            if a.ndim < 2:
                raise TypeError(f"{op}: Tensor is not a torch image: expected (..., H, W), got "
                                f"shape {tuple(a.shape)}")
            middle = tuple(a.shape[:-2])
            n = 1
        m = math.prod(middle)
        return a.reshape(n, m, a.shape[-2], a.shape[-1]), _Layout("tensor", batched, middle)
    if tensor_only:
        raise TypeError(f"{op}: img should be a Tensor image (C, H, W), got {type(img).__name__}; "
                        "apply ToTensor() first")
    if not isinstance(img, np.ndarray):
        raise TypeError(f"{op}: img should be an ndarray image (H, W) or (H, W, C) or a Tensor "
                        f"(..., C, H, W), got {type(img).__name__}")
    lead = 1 if batched else 0
    if img.ndim == 2 + lead:
        x = img[:, None] if batched else img[None, None]
        return x, _Layout("hw", batched, ())
    if img.ndim == 3 + lead:
        x = img.transpose(0, 3, 1, 2) if batched else img.transpose(2, 0, 1)[None]
        return x, _Layout("hwc", batched, (img.shape[-1],))
    shapes = "(N, H, W) or (N, H, W, C)" if batched else "(H, W) or (H, W, C)"
    raise ValueError(f"{op}: an ndarray image should be {shapes}, got shape {img.shape}")


def _restore(x: np.ndarray, layout: _Layout) -> Image:
    """The caller's kind of image from a canonical ``(N, M, H', W')`` array."""
    n, _, h, w = x.shape
    if layout.kind == "tensor":
        shape = ((n,) if layout.batched else ()) + layout.middle + (h, w)
        return _wrap(np.ascontiguousarray(x).reshape(shape))
    if layout.kind == "hw":
        return np.ascontiguousarray(x[:, 0] if layout.batched else x[0, 0])
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1) if layout.batched
                                else x[0].transpose(1, 2, 0))


def _fill_planes(fill: Fill, layout: _Layout, op: str) -> np.ndarray | None:
    """``fill`` as one value per plane ``(M,)`` (float64), or None."""
    if fill is None:
        return None
    m = math.prod(layout.middle)
    if isinstance(fill, numbers.Number):
        return np.full(m, float(fill))  # type: ignore[arg-type]
    if not isinstance(fill, (tuple, list)):
        raise TypeError(f"{op}: fill should be a number or a sequence of numbers, got {fill!r}")
    values = np.asarray(fill, dtype=np.float64)
    if values.size == 1:
        return np.full(m, float(values[0]))
    if values.size != layout.channels:
        raise ValueError(f"{op}: the number of elements in 'fill' cannot broadcast to match the "
                         f"number of channels of the image ({values.size} != {layout.channels}); "
                         "give one value or one per channel")
    return np.broadcast_to(values, layout.middle).reshape(m)


def _cast_values(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Float values in an image's dtype: rounded (half to even) and clipped for integers."""
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return np.clip(np.rint(values), info.min, info.max).astype(dtype)
    if dtype.kind == "b":
        return values != 0
    return values.astype(dtype)


def _cast_like_assignment(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Values in an image's dtype as an assignment casts them: truncated (and clipped) for
    integers."""
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return np.clip(values, info.min, info.max).astype(dtype)
    return values.astype(dtype)


def _compute_dtype(dtype: np.dtype) -> np.dtype:
    """The float dtype an interpolating kernel works in (torchvision: float32 unless float64)."""
    return np.dtype(np.float64) if dtype == np.float64 else np.dtype(np.float32)


def get_dimensions(img: Image) -> list[int]:
    """``[channels, height, width]`` of an image."""
    x, layout = _planes(img, "get_dimensions")
    return [layout.channels, x.shape[2], x.shape[3]]


def get_image_size(img: Image) -> list[int]:
    """``[width, height]`` of an image, as torchvision orders it."""
    _, h, w = get_dimensions(img)
    return [w, h]


def get_image_num_channels(img: Image) -> int:
    """The number of channels of an image."""
    return get_dimensions(img)[0]


# --------------------------------------------------------------------------- conversions


def to_tensor(pic: np.ndarray) -> Tensor:
    """A uint8 ndarray ``(H, W)`` or ``(H, W, C)`` -> float32 Tensor ``(C, H, W)`` in [0, 1].

    Other dtypes are converted to ``(C, H, W)`` without rescaling, as torchvision does.
    """
    return _to_tensor(pic, "to_tensor")


def _to_tensor(pic: np.ndarray, op: str) -> Tensor:
    if not isinstance(pic, np.ndarray):
        raise TypeError(f"{op}: pic should be an ndarray (H, W) or (H, W, C), got "
                        f"{type(pic).__name__}" + ("; it is already a Tensor"
                                                   if isinstance(pic, Tensor) else ""))
    if pic.ndim not in (2, 3):
        raise ValueError(f"{op}: pic should be 2/3 dimensional, got {pic.ndim} dimensions "
                         f"(shape {pic.shape})")
    return _to_tensor_array(pic[None] if pic.ndim == 2 else pic.transpose(2, 0, 1))


def _to_tensor_array(chw: np.ndarray) -> Tensor:
    """``(..., C, H, W)`` array -> Tensor, uint8 scaled to float32 [0, 1]."""
    if chw.dtype == np.uint8:
        out = np.empty(chw.shape, np.float32)
        np.divide(chw, np.float32(255), out=out, dtype=np.float32)
        return _wrap(out)
    return _wrap(np.ascontiguousarray(chw))


def pil_to_tensor(pic: np.ndarray) -> Tensor:
    """An ndarray ``(H, W)`` or ``(H, W, C)`` -> Tensor ``(C, H, W)`` of the same dtype."""
    if not isinstance(pic, np.ndarray):
        raise TypeError(f"pil_to_tensor: pic should be an ndarray (H, W) or (H, W, C), got "
                        f"{type(pic).__name__}")
    if pic.ndim not in (2, 3):
        raise ValueError(f"pil_to_tensor: pic should be 2/3 dimensional, got {pic.ndim} "
                         f"dimensions (shape {pic.shape})")
    chw = pic[None] if pic.ndim == 2 else pic.transpose(2, 0, 1)
    return _wrap(np.ascontiguousarray(chw))


def _max_value(dtype: np.dtype) -> int:
    if dtype.kind in "iu":
        return int(np.iinfo(dtype).max)
    return 1


def convert_image_dtype(image: Tensor, dtype: Any = np.float32) -> Tensor:
    """Convert a Tensor image to ``dtype``, rescaling values as torchvision does.

    int -> float divides by the int type's maximum; float -> int multiplies by
    ``max + 1 - 0.001`` and truncates; int -> int shifts by the ratio of the ranges.
    """
    return _convert_image_dtype(image, dtype, "convert_image_dtype")


def _convert_image_dtype(image: Tensor, dtype: Any, op: str) -> Tensor:
    if not isinstance(image, Tensor):
        raise TypeError(f"{op}: image should be a Tensor image, got "
                        f"{type(image).__name__}")
    _check_tensor(image, op)
    target = np.dtype(dtype._np if isinstance(dtype, _MinigradDtype) else dtype)
    x = image._data
    if x.dtype == target:
        return image
    if x.dtype.kind == "f":
        if target.kind == "f":
            return _wrap(x.astype(target))
        if (x.dtype == np.float32 and target in (np.int32, np.int64)) or (
                x.dtype == np.float64 and target == np.int64):
            raise OpError(f"{op}: the cast from {x.dtype} to {target} cannot be "
                          "performed safely (the float type cannot hold every integer of the "
                          "range); convert to float64 first or choose a smaller integer type")
        max_val = float(_max_value(target))
        scaled = x * (max_val + 1.0 - 1e-3)
        info = np.iinfo(target)
        return _wrap(np.clip(scaled, info.min, info.max).astype(target))
    input_max = float(_max_value(x.dtype))
    if target.kind == "f":
        return _wrap(x.astype(target) / target.type(input_max))
    output_max = float(_max_value(target))
    if input_max > output_max:
        factor = int((input_max + 1) // (output_max + 1))
        return _wrap((x // factor).astype(target))
    factor = int((output_max + 1) // (input_max + 1))
    return _wrap(x.astype(target) * target.type(factor))


def normalize(tensor: Tensor, mean: Sequence[float], std: Sequence[float],
              inplace: bool = False) -> Tensor:
    """``(tensor - mean) / std`` per channel of a float Tensor ``(..., C, H, W)``."""
    return _normalize(tensor, mean, std, inplace, "normalize")


def _normalize(tensor: Tensor, mean: Sequence[float], std: Sequence[float], inplace: bool,
               op: str) -> Tensor:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{op}: img should be a Tensor image (C, H, W), got "
                        f"{type(tensor).__name__}; apply ToTensor() first")
    _check_tensor(tensor, op)
    x = tensor._data
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: input tensor should be a float tensor, got {x.dtype}; "
                        "apply ConvertImageDtype(minigrad.float32) first")
    if x.ndim < 3:
        raise ValueError(f"{op}: expected tensor to be a tensor image of size (..., C, H, W),"
                         f" got tensor.size() = {tuple(x.shape)}")
    mean_a = np.asarray(mean, dtype=x.dtype)
    std_a = np.asarray(std, dtype=x.dtype)
    if (std_a == 0).any():
        raise OpError(f"{op}: std evaluated to zero after conversion to {x.dtype}, leading "
                      f"to division by zero (std={std}); every std must be non-zero")
    if mean_a.ndim == 1:
        mean_a = mean_a.reshape(-1, 1, 1)
    if std_a.ndim == 1:
        std_a = std_a.reshape(-1, 1, 1)
    for name, value in (("mean", mean_a), ("std", std_a)):
        if value.ndim == 3 and value.shape[0] not in (1, x.shape[-3]):
            raise OpError(f"{op}: {name} has {value.shape[0]} values but the image has "
                          f"{x.shape[-3]} channels; give one value per channel")
    if inplace:
        np.subtract(x, mean_a, out=x)
        np.divide(x, std_a, out=x)
        tensor._version.value += 1
        return tensor
    return _wrap((x - mean_a) / std_a)


# --------------------------------------------------------------------------- padding, cropping


def _parse_padding(padding: Any, op: str) -> tuple[int, int, int, int]:
    """torchvision's padding argument as (left, top, right, bottom)."""
    if isinstance(padding, bool) or not isinstance(padding, (numbers.Integral, tuple, list)):
        raise TypeError(f"{op}: got inappropriate padding arg {padding!r}; give an int or a "
                        "sequence of 1, 2 or 4 ints")
    if isinstance(padding, numbers.Integral):
        p = int(padding)
        return p, p, p, p
    if len(padding) not in (1, 2, 4):
        raise ValueError(f"{op}: padding must be an int or a 1, 2, or 4 element tuple, not a "
                         f"{len(padding)} element tuple ({padding!r})")
    if not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in padding):
        raise TypeError(f"{op}: padding values should be ints, got {padding!r}")
    values = [int(v) for v in padding]
    if len(values) == 1:
        return values[0], values[0], values[0], values[0]
    if len(values) == 2:
        return values[0], values[1], values[0], values[1]
    return values[0], values[1], values[2], values[3]


_PAD_MODES = ("constant", "edge", "reflect", "symmetric")


def _check_pad_args(fill: Any, padding_mode: Any, op: str) -> None:
    if not isinstance(fill, (numbers.Number, tuple, list)) or isinstance(fill, bool):
        raise TypeError(f"{op}: got inappropriate fill arg {fill!r}; give a number or one "
                        "number per channel")
    if padding_mode not in _PAD_MODES:
        raise ValueError(f"{op}: padding mode should be either constant, edge, reflect or "
                         f"symmetric, got {padding_mode!r}")


def _pad_array(x: np.ndarray, ltrb: tuple[int, int, int, int], fill: np.ndarray | None,
               mode: str) -> np.ndarray:
    """Pad the last two axes of ``(N, M, H, W)``; negative padding crops."""
    left, top, right, bottom = ltrb
    h, w = x.shape[-2:]
    if min(ltrb) < 0:
        x = x[..., max(-top, 0): h - max(-bottom, 0), max(-left, 0): w - max(-right, 0)]
        left, top, right, bottom = (max(v, 0) for v in ltrb)
    if left == top == right == bottom == 0:
        return x
    h, w = x.shape[-2:]
    if mode == "constant":
        out = np.empty(x.shape[:2] + (h + top + bottom, w + left + right), dtype=x.dtype)
        values = np.zeros(x.shape[1]) if fill is None else fill
        out[...] = _cast_values(values, x.dtype)[:, None, None]
        out[..., top: top + h, left: left + w] = x
        return out
    if mode in ("reflect", "symmetric") and (h == 0 or w == 0):
        raise ValueError(f"pad: cannot {mode}-pad an empty image of size {h}x{w}")
    widths = ((0, 0), (0, 0), (top, bottom), (left, right))
    return np.pad(x, widths, mode=mode)  # type: ignore[call-overload]


def pad(img: Image, padding: Any, fill: Any = 0, padding_mode: str = "constant") -> Image:
    """Pad an image on its four sides: ``(..., H, W) -> (..., H + top + bottom, W + left + right)``.

    Args:
        padding: an int for all sides, ``(left/right, top/bottom)`` or
            ``(left, top, right, bottom)``; negative values crop.
        fill: the constant for ``padding_mode="constant"``: a number or one per channel.
        padding_mode: ``"constant"``, ``"edge"``, ``"reflect"`` or ``"symmetric"``.
    """
    ltrb = _parse_padding(padding, "pad")
    _check_pad_args(fill, padding_mode, "pad")
    x, layout = _planes(img, "pad")
    fill_v = _fill_planes(fill, layout, "pad") if padding_mode == "constant" else None
    return _restore(_pad_array(x, ltrb, fill_v, padding_mode), layout)


def _crop_array(x: np.ndarray, top: int, left: int, height: int, width: int) -> np.ndarray:
    """One crop of every image of ``(N, M, H, W)``; zero padding where it leaves the image."""
    h, w = x.shape[-2:]
    right, bottom = left + width, top + height
    if left < 0 or top < 0 or right > w or bottom > h:
        padding = (max(-left + min(0, right), 0), max(-top + min(0, bottom), 0),
                   max(right - max(w, left), 0), max(bottom - max(h, top), 0))
        return _pad_array(x[..., max(top, 0): bottom, max(left, 0): right], padding, None,
                          "constant")
    return x[..., top:bottom, left:right]


def _crop_at(x: np.ndarray, top: np.ndarray, left: np.ndarray, height: int,
             width: int) -> np.ndarray:
    """Per-image crops ``(N, M, H, W) -> (N, M, height, width)`` at offsets ``top``, ``left``."""
    n = x.shape[0]
    if x.shape[-2:] == (height, width):
        return x
    windows = np.lib.stride_tricks.sliding_window_view(x, (height, width), axis=(2, 3))
    return windows[np.arange(n), :, top, left]


def crop(img: Image, top: int, left: int, height: int, width: int) -> Image:
    """The ``height x width`` region at (``top``, ``left``); zeros where it leaves the image."""
    for name, value in (("top", top), ("left", left), ("height", height), ("width", width)):
        if not isinstance(value, numbers.Integral):
            raise TypeError(f"crop: {name} should be an int, got {value!r}")
    if height < 0 or width < 0:
        raise ValueError(f"crop: height and width should be non-negative, got {height}x{width}")
    x, layout = _planes(img, "crop")
    return _restore(_crop_array(x, int(top), int(left), int(height), int(width)), layout)


def _setup_size(size: Any, op: str, what: str = "size") -> tuple[int, int]:
    """An int or a 1- or 2-sequence as ``(h, w)``."""
    if isinstance(size, numbers.Number) and not isinstance(size, bool):
        return int(size), int(size)  # type: ignore[call-overload]
    if not isinstance(size, Sequence) or isinstance(size, str):
        raise TypeError(f"{op}: {what} should be an int or a sequence (h, w), got {size!r}")
    if len(size) == 1:
        return int(size[0]), int(size[0])
    if len(size) != 2:
        raise ValueError(f"{op}: please provide only two dimensions (h, w) for {what}, got "
                         f"{size!r}")
    return int(size[0]), int(size[1])


def _center_crop_array(x: np.ndarray, crop_h: int, crop_w: int) -> np.ndarray:
    h, w = x.shape[-2:]
    if crop_w > w or crop_h > h:
        padding = ((crop_w - w) // 2 if crop_w > w else 0, (crop_h - h) // 2 if crop_h > h else 0,
                   (crop_w - w + 1) // 2 if crop_w > w else 0,
                   (crop_h - h + 1) // 2 if crop_h > h else 0)
        x = _pad_array(x, padding, None, "constant")
        h, w = x.shape[-2:]
        if (crop_h, crop_w) == (h, w):
            return x
    top = int(round((h - crop_h) / 2.0))
    left = int(round((w - crop_w) / 2.0))
    return _crop_array(x, top, left, crop_h, crop_w)


def center_crop(img: Image, output_size: Any) -> Image:
    """The centred ``output_size`` region (zero-padded first where the crop is larger)."""
    crop_h, crop_w = _setup_size(output_size, "center_crop", "output_size")
    x, layout = _planes(img, "center_crop")
    return _restore(_center_crop_array(x, crop_h, crop_w), layout)


def hflip(img: Image) -> Image:
    """Mirror an image left to right."""
    x, layout = _planes(img, "hflip")
    return _restore(x[..., ::-1], layout)


def vflip(img: Image) -> Image:
    """Mirror an image top to bottom."""
    x, layout = _planes(img, "vflip")
    return _restore(x[..., ::-1, :], layout)


# --------------------------------------------------------------------------- resizing


def _resized_size(height: int, width: int, size: list[int] | None,
                  max_size: int | None, op: str) -> tuple[int, int]:
    """torchvision's output size: ``[s]`` matches the smaller edge, ``[h, w]`` is exact."""
    if size is not None and len(size) == 2:
        return size[0], size[1]
    short, long = (width, height) if width <= height else (height, width)
    if size is None:
        if not isinstance(max_size, int):
            raise ValueError(f"{op}: max_size must be an integer when size is None, got "
                             f"{max_size!r}")
        new_short, new_long = int(max_size * short / long), max_size
    else:
        requested = size[0]
        new_short, new_long = requested, int(requested * long / short)
        if max_size is not None:
            if max_size <= requested:
                raise ValueError(f"{op}: max_size = {max_size} must be strictly greater than "
                                 f"the requested size for the smaller edge size = {size}")
            if new_long > max_size:
                new_short, new_long = int(max_size * new_short / new_long), max_size
    return (new_long, new_short) if width <= height else (new_short, new_long)


def _check_resize_size(size: Any, max_size: Any, op: str) -> list[int] | None:
    if size is None:
        if max_size is None:
            raise ValueError(f"{op}: size can only be None when max_size is given")
        return None
    if isinstance(size, bool) or not isinstance(size, (numbers.Integral, Sequence)):
        raise TypeError(f"{op}: size should be int or sequence, got {type(size).__name__}")
    sizes = [int(size)] if isinstance(size, numbers.Integral) else list(size)
    if len(sizes) not in (1, 2):
        raise ValueError(f"{op}: if size is a sequence, it should have 1 or 2 values, got {size!r}")
    if not all(isinstance(s, numbers.Integral) and int(s) > 0 for s in sizes):
        raise ValueError(f"{op}: size values should be positive ints, got {size!r}")
    if max_size is not None and len(sizes) != 1:
        raise ValueError(f"{op}: max_size should only be passed if size specifies the length of "
                         f"the smaller edge, i.e. size should be an int or a sequence of length 1;"
                         f" got size={size!r}")
    return [int(s) for s in sizes]


def _nearest_index(in_size: int, out_size: int, exact: bool) -> np.ndarray:
    # float32 arithmetic, as PyTorch's nearest kernels compute the source index
    scale = np.float32(in_size) / np.float32(out_size)
    dst = np.arange(out_size, dtype=np.float32) + (np.float32(0.5) if exact else np.float32(0))
    src = np.floor(dst * scale).astype(np.int64)
    return np.minimum(src, in_size - 1)


def _linear_weights(in_size: int, out_size: int, antialias: bool,
                    ctype: np.dtype) -> np.ndarray:
    """The ``(out, in)`` matrix of bilinear (``align_corners=False``) resampling weights."""
    # the scale in the compute dtype, as PyTorch's kernels hold it
    scale = float(ctype.type(in_size) / ctype.type(out_size))
    dst = np.arange(out_size, dtype=np.float64)
    weights = np.zeros((out_size, in_size))
    if antialias and scale > 1.0:
        # a triangle filter stretched over the scale (PIL's and PyTorch's antialias)
        center = scale * (dst + 0.5)
        support = scale
        lo = np.maximum(np.trunc(center - support + 0.5), 0)
        hi = np.minimum(np.trunc(center + support + 0.5), in_size)
        src = np.arange(in_size, dtype=np.float64)
        arg = (src[None, :] - center[:, None] + 0.5) / scale
        inside = (src[None, :] >= lo[:, None]) & (src[None, :] < hi[:, None])
        weights = np.where(inside, np.maximum(0.0, 1.0 - np.abs(arg)), 0.0)
        total = weights.sum(axis=1, keepdims=True)
        return np.divide(weights, total, out=np.zeros_like(weights), where=total != 0)
    real = np.maximum(scale * (dst + 0.5) - 0.5, 0.0)
    i0 = real.astype(np.int64)
    lam1 = np.clip(real - i0, 0.0, 1.0)
    i1 = np.minimum(i0 + 1, in_size - 1)
    rows = np.arange(out_size)
    np.add.at(weights, (rows, i0), 1.0 - lam1)
    np.add.at(weights, (rows, i1), lam1)
    return weights


def _resize_array(x: np.ndarray, out_h: int, out_w: int, mode: InterpolationMode,
                  antialias: bool) -> np.ndarray:
    """Resize the last two axes of ``(N, M, H, W)`` to ``(out_h, out_w)``."""
    h, w = x.shape[-2:]
    if (h, w) == (out_h, out_w):
        return x
    if mode in (InterpolationMode.NEAREST, InterpolationMode.NEAREST_EXACT):
        exact = mode is InterpolationMode.NEAREST_EXACT
        rows = _nearest_index(h, out_h, exact)
        cols = _nearest_index(w, out_w, exact)
        return x[:, :, rows[:, None], cols[None, :]]
    ctype = _compute_dtype(x.dtype)
    wh = _linear_weights(h, out_h, antialias, ctype).astype(ctype)
    ww = _linear_weights(w, out_w, antialias, ctype).astype(ctype)
    out = np.matmul(np.matmul(wh, x.astype(ctype, copy=False)), ww.T)
    return _cast_values(out, x.dtype)


def resize(img: Image, size: Any, interpolation: Any = InterpolationMode.BILINEAR,
           max_size: int | None = None, antialias: bool | None = True) -> Image:
    """Resize ``(..., H, W) -> (..., OH, OW)``; an int ``size`` sets the smaller edge.

    Integer images are computed in float32 and rounded back, as torchvision resizes tensors.
    """
    mode = _interpolation(interpolation, "resize")
    sizes = _check_resize_size(size, max_size, "resize")
    x, layout = _planes(img, "resize")
    out_h, out_w = _resized_size(x.shape[2], x.shape[3], sizes, max_size, "resize")
    if (out_h, out_w) == x.shape[2:]:
        return img
    return _restore(_resize_array(x, out_h, out_w, mode, bool(antialias)), layout)


# --------------------------------------------------------------------------- affine warps


def _inverse_affine_matrices(center: tuple[float, float], angle: np.ndarray,
                             translate: np.ndarray, scale: np.ndarray,
                             shear: np.ndarray) -> np.ndarray:
    """torchvision's inverse affine matrices, one per image: ``(N, 2, 3)``.

    The forward map is ``T * C * R * S * Sh * C^-1`` (translation, centre, rotation by ``angle``
    degrees clockwise in image coordinates, scale, shear in degrees); the inverse maps an output
    pixel's coordinates (relative to the image centre) to the input's.
    """
    rot = np.radians(angle)
    sx = np.radians(shear[:, 0])
    sy = np.radians(shear[:, 1])
    cx, cy = center
    tx, ty = translate[:, 0], translate[:, 1]
    a = np.cos(rot - sy) / np.cos(sy)
    b = -(a * np.tan(sx) + np.sin(rot))
    c = np.sin(rot - sy) / np.cos(sy)
    d = np.cos(rot) - c * np.tan(sx)
    m = np.empty((angle.shape[0], 2, 3))
    m[:, 0, 0], m[:, 0, 1] = d / scale, -b / scale
    m[:, 1, 0], m[:, 1, 1] = -c / scale, a / scale
    m[:, 0, 2] = cx - m[:, 0, 0] * (cx + tx) - m[:, 0, 1] * (cy + ty)
    m[:, 1, 2] = cy - m[:, 1, 0] * (cx + tx) - m[:, 1, 1] * (cy + ty)
    return m


_CHUNK = 4096  # images per block of the warp, bounding its temporaries


def _warp_array(x: np.ndarray, matrices: np.ndarray, out_h: int, out_w: int,
                mode: InterpolationMode, fill: np.ndarray | None) -> np.ndarray:
    """Per-image inverse-affine warp ``(N, M, H, W) -> (N, M, out_h, out_w)``.

    Output pixel centres, relative to the output's centre, are mapped by each image's matrix to
    input coordinates relative to the input's centre, then sampled as ``grid_sample`` does with
    ``align_corners=False`` and zero padding; ``fill`` (per plane) replaces what falls outside.
    """
    if x.shape[0] > _CHUNK:
        return np.concatenate([
            _warp_array(x[s: s + _CHUNK], matrices[s: s + _CHUNK], out_h, out_w, mode, fill)
            for s in range(0, x.shape[0], _CHUNK)])
    n, m, h, w = x.shape
    xs = np.arange(out_w) + 0.5 - out_w * 0.5
    ys = np.arange(out_h) + 0.5 - out_h * 0.5
    mat = matrices[:, :, :, None, None]
    ix = mat[:, 0, 0] * xs + mat[:, 0, 1] * ys[:, None] + mat[:, 0, 2] + (w * 0.5 - 0.5)
    iy = mat[:, 1, 0] * xs + mat[:, 1, 1] * ys[:, None] + mat[:, 1, 2] + (h * 0.5 - 0.5)
    flat = x.reshape(n, m, h * w)

    def gather(cx: np.ndarray, cy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        valid = (cx >= 0) & (cx <= w - 1) & (cy >= 0) & (cy <= h - 1)
        index = (np.clip(cy, 0, h - 1) * w + np.clip(cx, 0, w - 1)).astype(np.intp)
        values = np.take_along_axis(flat, index.reshape(n, 1, -1), axis=2)
        return values.reshape(n, m, out_h, out_w), valid[:, None]

    if mode is InterpolationMode.NEAREST:
        values, valid = gather(np.rint(ix), np.rint(iy))  # round half to even, as grid_sample
        outside = np.zeros(m) if fill is None else fill
        return np.where(valid, values, _cast_values(outside, x.dtype)[:, None, None])
    ctype = _compute_dtype(x.dtype)
    x0, y0 = np.floor(ix), np.floor(iy)
    wx1, wy1 = (ix - x0).astype(ctype), (iy - y0).astype(ctype)
    # the two taps of each axis, weighted by zero where a tap lies outside the image
    ax = ((1 - wx1) * ((x0 >= 0) & (x0 <= w - 1)), wx1 * ((x0 >= -1) & (x0 <= w - 2)))
    ay = ((1 - wy1) * ((y0 >= 0) & (y0 <= h - 1)), wy1 * ((y0 >= -1) & (y0 <= h - 2)))
    # a zero border makes a sample's four taps index, index + 1, index + row, index + row + 1
    row = w + 2
    padded = np.zeros((n, m, h + 2, row), ctype)
    padded[:, :, 1:-1, 1:-1] = x
    flat_padded = padded.reshape(n, m, -1)
    base = ((np.clip(y0, -1, h - 1) + 1) * row + np.clip(x0, -1, w - 1) + 1).astype(np.intp)
    base = base.reshape(n, 1, -1)
    acc = np.zeros((n, m, out_h, out_w), ctype)
    for dy in (0, 1):  # the taps in grid_sample's order: nw, ne, sw, se
        for dx in (0, 1):
            taps = np.take_along_axis(flat_padded, base + (dy * row + dx), axis=2)
            acc += taps.reshape(n, m, out_h, out_w) * (ay[dy] * ax[dx])[:, None]
    if fill is not None:
        mask = ((ay[0] + ay[1]) * (ax[0] + ax[1]))[:, None]
        acc = acc * mask + (1 - mask) * fill.astype(ctype)[:, None, None]
    return _cast_values(acc, x.dtype)


def _check_center(center: Any, op: str) -> None:
    if center is not None and (not isinstance(center, Sequence) or len(center) != 2):
        raise ValueError(f"{op}: center should be a sequence of length 2 (x, y), got {center!r}")


def _center_offset(center: Sequence[float] | None, height: int, width: int) -> tuple[float, float]:
    """A centre in pixel coordinates as an offset from the image's centre."""
    if center is None:
        return 0.0, 0.0
    return float(center[0]) - width * 0.5, float(center[1]) - height * 0.5


def affine(img: Image, angle: float, translate: Sequence[float], scale: float,
           shear: Any, interpolation: Any = InterpolationMode.NEAREST, fill: Fill = None,
           center: Sequence[float] | None = None) -> Image:
    """Rotate (degrees, clockwise), translate (pixels), scale and shear (degrees) an image,
    keeping its centre (or ``center``, in pixels from the top-left corner) fixed.

    ``(..., H, W) -> (..., H, W)``; pixels from outside the input take ``fill`` (zeros by default).
    """
    if not isinstance(angle, numbers.Real):
        raise TypeError(f"affine: argument angle should be int or float, got {angle!r}")
    if not isinstance(translate, (list, tuple)):
        raise TypeError(f"affine: argument translate should be a sequence, got {translate!r}")
    if len(translate) != 2:
        raise ValueError(f"affine: argument translate should be a sequence of length 2, got "
                         f"{translate!r}")
    if scale <= 0.0:
        raise ValueError(f"affine: argument scale should be positive, got {scale}")
    if isinstance(shear, numbers.Real):
        shear = [float(shear), 0.0]
    elif isinstance(shear, (list, tuple)):
        shear = [float(shear[0]), float(shear[0])] if len(shear) == 1 else list(shear)
        if len(shear) != 2:
            raise ValueError(f"affine: shear should be a sequence containing two values, got "
                             f"{shear!r}")
    else:
        raise TypeError(f"affine: shear should be either a single value or a sequence of two "
                        f"values, got {shear!r}")
    _check_center(center, "affine")
    mode = _interpolation(interpolation, "affine", _GRID_MODES)
    x, layout = _planes(img, "affine")
    fill_v = _fill_planes(fill, layout, "affine")
    h, w = x.shape[-2:]
    matrix = _inverse_affine_matrices(
        _center_offset(center, h, w), np.array([float(angle)]),
        np.array([[float(translate[0]), float(translate[1])]]), np.array([float(scale)]),
        np.array([[float(shear[0]), float(shear[1])]]))
    return _restore(_warp_array(x, np.repeat(matrix, x.shape[0], axis=0), h, w, mode, fill_v),
                    layout)


def _expanded_size(matrix: np.ndarray, width: int, height: int) -> tuple[int, int]:
    """torchvision's output ``(width, height)`` holding a whole rotated image."""
    pts = np.array([[-0.5 * width, -0.5 * height, 1.0], [-0.5 * width, 0.5 * height, 1.0],
                    [0.5 * width, 0.5 * height, 1.0], [0.5 * width, -0.5 * height, 1.0]])
    new_pts = pts @ matrix.T
    half = np.array([width * 0.5, height * 0.5])
    tol = 1e-4  # drop round-off so that ceil(1e-15) does not add a pixel
    cmax = np.ceil(np.trunc((new_pts.max(axis=0) + half) / tol) * tol)
    cmin = np.floor(np.trunc((new_pts.min(axis=0) + half) / tol) * tol)
    size = cmax - cmin
    return int(size[0]), int(size[1])


def rotate(img: Image, angle: float, interpolation: Any = InterpolationMode.NEAREST,
           expand: bool = False, center: Sequence[float] | None = None,
           fill: Fill = None) -> Image:
    """Rotate an image by ``angle`` degrees counter-clockwise about its centre (or ``center``).

    ``(..., H, W) -> (..., H, W)``, or the size holding the whole rotated image with ``expand``.
    """
    if not isinstance(angle, numbers.Real):
        raise TypeError(f"rotate: argument angle should be int or float, got {angle!r}")
    _check_center(center, "rotate")
    mode = _interpolation(interpolation, "rotate", _GRID_MODES)
    x, layout = _planes(img, "rotate")
    fill_v = _fill_planes(fill, layout, "rotate")
    h, w = x.shape[-2:]
    matrix = _rotation_matrices(np.array([float(angle)]), center, h, w)
    out_w, out_h = _expanded_size(matrix[0], w, h) if expand else (w, h)
    return _restore(_warp_array(x, np.repeat(matrix, x.shape[0], axis=0), out_h, out_w, mode,
                                fill_v), layout)


def _rotation_matrices(angle: np.ndarray, center: Sequence[float] | None, height: int,
                       width: int) -> np.ndarray:
    n = angle.shape[0]
    return _inverse_affine_matrices(_center_offset(center, height, width), -angle,
                                    np.zeros((n, 2)), np.ones(n), np.zeros((n, 2)))


def erase(img: Tensor, i: int, j: int, h: int, w: int, v: Any, inplace: bool = False) -> Tensor:
    """Overwrite the ``h x w`` region at (``i``, ``j``) of a Tensor image with ``v``.

    ``v`` is a number, or anything that broadcasts to ``(C, h, w)`` (a Tensor or an ndarray).
    """
    if not isinstance(img, Tensor):
        raise TypeError(f"erase: img should be a Tensor image, got {type(img).__name__}")
    _check_tensor(img, "erase")
    values = v._data if isinstance(v, Tensor) else np.asarray(v)
    target = img._data if inplace else img._data.copy()
    target[..., i: i + h, j: j + w] = values
    if inplace:
        img._version.value += 1
        return img
    return _wrap(target)
