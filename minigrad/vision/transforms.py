"""``torchvision.transforms`` for minigrad: the same classes, arguments, defaults and reprs.

Images are uint8 ndarrays ``(H, W)`` or ``(H, W, C)`` where torchvision takes PIL images, and
Tensors ``(..., C, H, W)`` after ``ToTensor``; a transform that torchvision applies to both takes
both and returns the kind it was given. Random transforms draw from minigrad's global generator,
so ``minigrad.manual_seed(s)`` makes them reproducible.

Batches: a transform whose ``batchable`` is true also has ``apply_batch(batch)``, taking the
stacked inputs of N calls (a uint8 ndarray ``(N, H, W)`` or ``(N, H, W, C)`` for ``ToTensor``
and the geometric transforms, a Tensor ``(N, C, H, W)`` for the tensor ones) and returning the
stacked results in one vectorized pass; random transforms draw independent parameters for every
image. ``Compose.batchable`` is true when all its members are.
"""

from __future__ import annotations

import numbers
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from minigrad.random import generator
from minigrad.tensor import Tensor, _wrap
from minigrad.vision import transforms_functional as functional
from minigrad.vision.transforms_functional import Image, InterpolationMode, _Layout

__all__ = [
    "CenterCrop",
    "Compose",
    "ConvertImageDtype",
    "InterpolationMode",
    "Lambda",
    "Normalize",
    "PILToTensor",
    "Pad",
    "RandomAffine",
    "RandomCrop",
    "RandomErasing",
    "RandomHorizontalFlip",
    "RandomRotation",
    "RandomVerticalFlip",
    "Resize",
    "ToTensor",
    "functional",
]

# ``import minigrad.vision.transforms.functional as F`` works as with torchvision
sys.modules[__name__ + ".functional"] = functional

F = functional


class Transform:
    """Base of the transforms: ``t(img)`` transforms one image; see ``batchable``."""

    #: whether ``apply_batch`` transforms a whole stacked batch in one pass
    batchable: bool = False

    def __call__(self, img: Any) -> Any:
        return self.forward(img)

    def forward(self, img: Any) -> Any:
        """Transform one image."""
        raise NotImplementedError

    def apply_batch(self, batch: Any) -> Any:
        """Transform a stacked batch of N images at once (only where ``batchable``)."""
        raise TypeError(f"{type(self).__name__} cannot transform a whole batch (its batchable is "
                        "False); apply it to each image")

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class _PlaneTransform(Transform):
    """A transform written once on the canonical ``(N, M, H, W)`` array of images."""

    batchable = True
    _tensor_only = False

    def _transform(self, x: np.ndarray, layout: _Layout) -> np.ndarray:
        raise NotImplementedError

    def forward(self, img: Image) -> Image:
        """Transform one image (ndarray ``(H, W)`` / ``(H, W, C)`` or Tensor ``(..., C, H, W)``)."""
        x, layout = F._planes(img, type(self).__name__, tensor_only=self._tensor_only)
        return F._restore(self._transform(x, layout), layout)

    def apply_batch(self, batch: Image) -> Image:
        """Transform a batch: ndarray ``(N, H, W)`` / ``(N, H, W, C)``, Tensor ``(N, C, H, W)``."""
        x, layout = F._planes(batch, type(self).__name__ + ".apply_batch", batched=True,
                              tensor_only=self._tensor_only)
        return F._restore(self._transform(x, layout), layout)


class Compose:
    """Apply ``transforms`` in order; a batch goes through them in one pass each when all are
    batchable."""

    def __init__(self, transforms: Sequence[Callable[[Any], Any]]) -> None:
        self.transforms = transforms

    def __call__(self, img: Any) -> Any:
        for t in self.transforms:
            img = t(img)
        return img

    @property
    def batchable(self) -> bool:
        """True when every member transform is batchable."""
        return all(getattr(t, "batchable", False) for t in self.transforms)

    def apply_batch(self, batch: Any) -> Any:
        """Chain the members' ``apply_batch`` over a stacked batch."""
        for t in self.transforms:
            if not getattr(t, "batchable", False):
                raise TypeError(f"Compose.apply_batch: {t!r} cannot transform a whole batch; "
                                "apply the Compose to each image")
        owned = False  # whether ``batch`` is a fresh tensor made by the previous member
        for t in self.transforms:
            if owned and isinstance(t, Normalize):
                # nobody else holds the intermediate: normalize it where it lies (same values,
                # no second batch-sized allocation)
                batch = F.normalize(batch, t.mean, t.std, inplace=True)
                continue
            result = t.apply_batch(batch)  # type: ignore[attr-defined]
            owned = isinstance(result, Tensor) and not np.may_share_memory(
                result._data, batch._data if isinstance(batch, Tensor) else batch)
            batch = result
        return batch

    def __repr__(self) -> str:
        lines = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}({lines}\n)"


class ToTensor(Transform):
    """uint8 ndarray ``(H, W)`` or ``(H, W, C)`` -> float32 Tensor ``(C, H, W)`` in [0, 1].

    Other dtypes keep their values and dtype. A batch: ``(N, H, W[, C]) -> (N, C, H, W)``.
    """

    batchable = True

    def forward(self, pic: np.ndarray) -> Tensor:
        """Convert one image."""
        return F._to_tensor(pic, "ToTensor")

    def apply_batch(self, batch: np.ndarray) -> Tensor:
        """Convert a stacked batch ``(N, H, W)`` or ``(N, H, W, C)`` -> ``(N, C, H, W)``."""
        if not isinstance(batch, np.ndarray):
            raise TypeError(f"ToTensor.apply_batch: expected an ndarray batch (N, H, W) or "
                            f"(N, H, W, C), got {type(batch).__name__}")
        if batch.ndim == 3:
            return F._to_tensor_array(batch[:, None])
        if batch.ndim == 4:
            return F._to_tensor_array(batch.transpose(0, 3, 1, 2))
        raise ValueError(f"ToTensor.apply_batch: expected a batch (N, H, W) or (N, H, W, C), got "
                         f"shape {batch.shape}")


class PILToTensor(Transform):
    """ndarray ``(H, W)`` or ``(H, W, C)`` -> Tensor ``(C, H, W)``, same dtype, no scaling."""

    batchable = True

    def forward(self, pic: np.ndarray) -> Tensor:
        """Convert one image."""
        return F.pil_to_tensor(pic)

    def apply_batch(self, batch: np.ndarray) -> Tensor:
        """Convert a stacked batch ``(N, H, W)`` or ``(N, H, W, C)`` -> ``(N, C, H, W)``."""
        if not isinstance(batch, np.ndarray) or batch.ndim not in (3, 4):
            raise ValueError("PILToTensor.apply_batch: expected an ndarray batch (N, H, W) or "
                             f"(N, H, W, C), got {getattr(batch, 'shape', type(batch).__name__)}")
        x = batch[:, None] if batch.ndim == 3 else batch.transpose(0, 3, 1, 2)
        return _wrap(np.ascontiguousarray(x))


class ConvertImageDtype(Transform):
    """Convert a Tensor image to ``dtype`` and rescale its values (see
    ``functional.convert_image_dtype``)."""

    batchable = True

    def __init__(self, dtype: Any) -> None:
        self.dtype = dtype

    def forward(self, image: Tensor) -> Tensor:
        """Convert one image."""
        return F._convert_image_dtype(image, self.dtype, "ConvertImageDtype")

    def apply_batch(self, batch: Tensor) -> Tensor:
        """Convert a batch ``(N, C, H, W)``."""
        return F._convert_image_dtype(batch, self.dtype, "ConvertImageDtype")


class Normalize(Transform):
    """``(x - mean) / std`` per channel of a float Tensor ``(..., C, H, W)``."""

    batchable = True

    def __init__(self, mean: Sequence[float], std: Sequence[float], inplace: bool = False) -> None:
        self.mean = mean
        self.std = std
        self.inplace = inplace

    def forward(self, tensor: Tensor) -> Tensor:
        """Normalize one image ``(C, H, W)``."""
        return F._normalize(tensor, self.mean, self.std, self.inplace, "Normalize")

    def apply_batch(self, batch: Tensor) -> Tensor:
        """Normalize a batch ``(N, C, H, W)``."""
        if isinstance(batch, Tensor) and batch.ndim < 4:
            raise ValueError(f"Normalize.apply_batch: expected a batch (N, C, H, W), got shape "
                             f"{tuple(batch.shape)}")
        return F._normalize(batch, self.mean, self.std, self.inplace, "Normalize.apply_batch")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"


class Lambda(Transform):
    """Apply a user-defined function as a transform (not batchable)."""

    def __init__(self, lambd: Callable[[Any], Any]) -> None:
        if not callable(lambd):
            raise TypeError(f"Lambda: argument lambd should be callable, got "
                            f"{type(lambd).__name__!r}")
        self.lambd = lambd

    def forward(self, img: Any) -> Any:
        """Call the function on one image."""
        return self.lambd(img)


class Pad(_PlaneTransform):
    """Pad the four sides: ``(..., H, W) -> (..., H + top + bottom, W + left + right)``.

    Args:
        padding: an int for all sides, ``(left/right, top/bottom)`` or
            ``(left, top, right, bottom)``; negative values crop.
        fill: the value for ``"constant"`` padding: a number, or one per channel.
        padding_mode: ``"constant"``, ``"edge"``, ``"reflect"`` or ``"symmetric"``.
    """

    def __init__(self, padding: Any, fill: Any = 0, padding_mode: str = "constant") -> None:
        self._ltrb = F._parse_padding(padding, "Pad")
        F._check_pad_args(fill, padding_mode, "Pad")
        self.padding = padding
        self.fill = fill
        self.padding_mode = padding_mode

    def _transform(self, x: np.ndarray, layout: _Layout) -> np.ndarray:
        fill = (F._fill_planes(self.fill, layout, "Pad") if self.padding_mode == "constant"
                else None)
        return F._pad_array(x, self._ltrb, fill, self.padding_mode)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(padding={self.padding}, fill={self.fill}, "
                f"padding_mode={self.padding_mode})")


class CenterCrop(_PlaneTransform):
    """Crop the centre ``size`` region (zero-padding first where the image is smaller)."""

    def __init__(self, size: Any) -> None:
        self.size = F._setup_size(size, "CenterCrop")

    def _transform(self, x: np.ndarray, layout: _Layout) -> np.ndarray:
        return F._center_crop_array(x, *self.size)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size})"


class RandomCrop(_PlaneTransform):
    """Crop a random ``size`` region, after optional padding: ``(..., H, W) -> (..., h, w)``.

    Args:
        size: an int (square) or ``(h, w)``.
        padding: padding applied first (as ``Pad``), or None.
        pad_if_needed: pad each side by the shortfall where the image is smaller than ``size``.
        fill, padding_mode: as ``Pad``.
    """

    def __init__(self, size: Any, padding: Any = None, pad_if_needed: bool = False,
                 fill: Any = 0, padding_mode: str = "constant") -> None:
        self.size = F._setup_size(size, "RandomCrop")
        self._ltrb = None if padding is None else F._parse_padding(padding, "RandomCrop")
        F._check_pad_args(fill, padding_mode, "RandomCrop")
        self.padding = padding
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode

    @staticmethod
    def _offsets(n: int, height: int, width: int,
                 size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        th, tw = size
        if height < th or width < tw:
            raise ValueError(f"RandomCrop: required crop size {(th, tw)} is larger than input "
                             f"image size {(height, width)}; pass pad_if_needed=True or a "
                             "smaller size")
        if (height, width) == (th, tw):
            return np.zeros(n, np.intp), np.zeros(n, np.intp)
        rng = generator()
        return rng.integers(0, height - th + 1, size=n), rng.integers(0, width - tw + 1, size=n)

    @staticmethod
    def get_params(img: Image, output_size: tuple[int, int]) -> tuple[int, int, int, int]:
        """Random ``(top, left, height, width)`` of a crop of ``output_size``."""
        _, h, w = F.get_dimensions(img)
        top, left = RandomCrop._offsets(1, h, w, tuple(output_size))  # type: ignore[arg-type]
        return int(top[0]), int(left[0]), int(output_size[0]), int(output_size[1])

    def _transform(self, x: np.ndarray, layout: _Layout) -> np.ndarray:
        fill = (F._fill_planes(self.fill, layout, "RandomCrop")
                if self.padding_mode == "constant" else None)
        if self._ltrb is not None:
            x = F._pad_array(x, self._ltrb, fill, self.padding_mode)
        th, tw = self.size
        if self.pad_if_needed and x.shape[3] < tw:
            x = F._pad_array(x, (tw - x.shape[3], 0, tw - x.shape[3], 0), fill, self.padding_mode)
        if self.pad_if_needed and x.shape[2] < th:
            x = F._pad_array(x, (0, th - x.shape[2], 0, th - x.shape[2]), fill, self.padding_mode)
        top, left = self._offsets(x.shape[0], x.shape[2], x.shape[3], self.size)
        return F._crop_at(x, top, left, th, tw)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size}, padding={self.padding})"


class Resize(_PlaneTransform):
    """Resize to ``size``: ``(h, w)``, or an int that the smaller edge is matched to.

    Args:
        interpolation: ``InterpolationMode.NEAREST``, ``NEAREST_EXACT`` or ``BILINEAR``
            (default), or the Pillow integer constant of one.
        max_size: the longest edge allowed after an int ``size``.
        antialias: filter when downscaling with ``BILINEAR`` (PIL's and torchvision's default).
    """

    def __init__(self, size: Any, interpolation: Any = InterpolationMode.BILINEAR,
                 max_size: int | None = None, antialias: bool | None = True) -> None:
        self._sizes = F._check_resize_size(size, max_size, "Resize")
        self.size = size
        self.max_size = max_size
        self.interpolation = F._interpolation(interpolation, "Resize")
        self.antialias = antialias

    def _transform(self, x: np.ndarray, layout: _Layout) -> np.ndarray:
        out_h, out_w = F._resized_size(x.shape[2], x.shape[3], self._sizes, self.max_size,
                                       "Resize")
        return F._resize_array(x, out_h, out_w, self.interpolation, bool(self.antialias))

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(size={self.size}, "
                f"interpolation={self.interpolation.value}, max_size={self.max_size}, "
                f"antialias={self.antialias})")


def _check_sequence_input(x: Any, name: str, req_sizes: tuple[int, ...], op: str) -> None:
    sizes = str(req_sizes[0]) if len(req_sizes) < 2 else " or ".join(map(str, req_sizes))
    if not isinstance(x, Sequence) or isinstance(x, str):
        raise TypeError(f"{op}: {name} should be a sequence of length {sizes}, got {x!r}")
    if len(x) not in req_sizes:
        raise ValueError(f"{op}: {name} should be a sequence of length {sizes}, got {x!r}")


def _setup_angle(x: Any, name: str, req_sizes: tuple[int, ...], op: str) -> list[float]:
    if isinstance(x, numbers.Real):
        if x < 0:
            raise ValueError(f"{op}: if {name} is a single number, it must be positive, got {x}; "
                             f"pass {-x} for the range ({x}, {-x})")
        return [-float(x), float(x)]
    _check_sequence_input(x, name, req_sizes, op)
    return [float(d) for d in x]


def _check_fill(fill: Any, op: str) -> Any:
    if fill is None:
        return 0
    if not isinstance(fill, (Sequence, numbers.Number)) or isinstance(fill, str):
        raise TypeError(f"{op}: fill should be either a sequence or a number, got {fill!r}")
    return fill


def _uniform(low: float, high: float, n: int) -> np.ndarray:
    return generator().uniform(low, high, size=n)


class RandomAffine(_PlaneTransform):
    """A random affine transformation keeping the centre fixed, drawn as torchvision does.

    Args:
        degrees: rotation range ``(min, max)`` in degrees, or ``d`` for ``(-d, d)``.
        translate: maximal fractions ``(a, b)`` of the width and height to shift by; the shift is
            drawn from ``(-a * W, a * W)`` and rounded to whole pixels.
        scale: range ``(lo, hi)`` of the scale factor.
        shear: x-shear range in degrees (a number ``s`` for ``(-s, s)`` or a pair), or four
            values for x and y ranges.
        interpolation: ``InterpolationMode.NEAREST`` (default) or ``BILINEAR``.
        fill: value for pixels from outside the image: a number or one per channel.
        center: the fixed point ``(x, y)`` in pixels from the top-left corner.
    """

    def __init__(self, degrees: Any, translate: Sequence[float] | None = None,
                 scale: Sequence[float] | None = None, shear: Any = None,
                 interpolation: Any = InterpolationMode.NEAREST, fill: Any = 0,
                 center: Sequence[float] | None = None) -> None:
        op = "RandomAffine"
        self.degrees = _setup_angle(degrees, "degrees", (2,), op)
        if translate is not None:
            _check_sequence_input(translate, "translate", (2,), op)
            if not all(0.0 <= t <= 1.0 for t in translate):
                raise ValueError(f"{op}: translation values should be between 0 and 1, got "
                                 f"{translate!r}; they are fractions of the image size")
        self.translate = translate
        if scale is not None:
            _check_sequence_input(scale, "scale", (2,), op)
            if not all(s > 0 for s in scale):
                raise ValueError(f"{op}: scale values should be positive, got {scale!r}")
        self.scale = scale
        self.shear = None if shear is None else _setup_angle(shear, "shear", (2, 4), op)
        self.interpolation = F._interpolation(interpolation, op, F._GRID_MODES)
        self.fill = _check_fill(fill, op)
        if center is not None:
            _check_sequence_input(center, "center", (2,), op)
        self.center = center

    @staticmethod
    def _sample(n: int, degrees: Sequence[float], translate: Sequence[float] | None,
                scale_ranges: Sequence[float] | None, shears: Sequence[float] | None,
                width: int, height: int) -> tuple[np.ndarray, ...]:
        """``n`` draws of (angle, (tx, ty), scale, (shear_x, shear_y)) as arrays."""
        angle = _uniform(float(degrees[0]), float(degrees[1]), n)
        translations = np.zeros((n, 2))
        if translate is not None:
            max_dx = float(translate[0] * width)
            max_dy = float(translate[1] * height)
            translations[:, 0] = np.rint(_uniform(-max_dx, max_dx, n))
            translations[:, 1] = np.rint(_uniform(-max_dy, max_dy, n))
        scale = (np.ones(n) if scale_ranges is None
                 else _uniform(scale_ranges[0], scale_ranges[1], n))
        shear = np.zeros((n, 2))
        if shears is not None:
            shear[:, 0] = _uniform(shears[0], shears[1], n)
            if len(shears) == 4:
                shear[:, 1] = _uniform(shears[2], shears[3], n)
        return angle, translations, scale, shear

    @staticmethod
    def get_params(degrees: Sequence[float], translate: Sequence[float] | None,
                   scale_ranges: Sequence[float] | None, shears: Sequence[float] | None,
                   img_size: Sequence[int]) -> tuple[float, tuple[int, int], float,
                                                     tuple[float, float]]:
        """One draw of ``(angle, (tx, ty), scale, (shear_x, shear_y))``; ``img_size`` is
        ``[width, height]``."""
        angle, trans, scale, shear = RandomAffine._sample(
            1, degrees, translate, scale_ranges, shears, img_size[0], img_size[1])
        return (float(angle[0]), (int(trans[0, 0]), int(trans[0, 1])), float(scale[0]),
                (float(shear[0, 0]), float(shear[0, 1])))

    def _transform(self, x: np.ndarray, layout: _Layout) -> np.ndarray:
        n, _, h, w = x.shape
        angle, trans, scale, shear = self._sample(n, self.degrees, self.translate, self.scale,
                                                  self.shear, w, h)
        matrices = F._inverse_affine_matrices(F._center_offset(self.center, h, w), angle, trans,
                                              scale, shear)
        fill = F._fill_planes(self.fill, layout, "RandomAffine")
        return F._warp_array(x, matrices, h, w, self.interpolation, fill)

    def __repr__(self) -> str:
        s = f"{type(self).__name__}(degrees={self.degrees}"
        s += f", translate={self.translate}" if self.translate is not None else ""
        s += f", scale={self.scale}" if self.scale is not None else ""
        s += f", shear={self.shear}" if self.shear is not None else ""
        if self.interpolation != InterpolationMode.NEAREST:
            s += f", interpolation={self.interpolation.value}"
        s += f", fill={self.fill}" if self.fill != 0 else ""
        s += f", center={self.center}" if self.center is not None else ""
        return s + ")"


class RandomRotation(_PlaneTransform):
    """Rotate by a random angle (degrees, counter-clockwise) drawn from ``degrees``.

    Args:
        degrees: range ``(min, max)``, or ``d`` for ``(-d, d)``.
        interpolation: ``InterpolationMode.NEAREST`` (default) or ``BILINEAR``.
        expand: enlarge the output to hold the whole rotated image (then not batchable, as
            each angle gives its own size).
        center: the centre of rotation ``(x, y)`` in pixels from the top-left corner.
        fill: value for pixels from outside the image: a number or one per channel.
    """

    def __init__(self, degrees: Any, interpolation: Any = InterpolationMode.NEAREST,
                 expand: bool = False, center: Sequence[float] | None = None,
                 fill: Any = 0) -> None:
        op = "RandomRotation"
        self.degrees = _setup_angle(degrees, "degrees", (2,), op)
        if center is not None:
            _check_sequence_input(center, "center", (2,), op)
        self.center = center
        self.interpolation = F._interpolation(interpolation, op, F._GRID_MODES)
        self.expand = expand
        self.fill = _check_fill(fill, op)
        self.batchable = not expand

    @staticmethod
    def get_params(degrees: Sequence[float]) -> float:
        """One random angle from ``degrees``."""
        return float(_uniform(float(degrees[0]), float(degrees[1]), 1)[0])

    def _transform(self, x: np.ndarray, layout: _Layout) -> np.ndarray:
        n, _, h, w = x.shape
        angle = _uniform(self.degrees[0], self.degrees[1], n)
        matrices = F._rotation_matrices(angle, self.center, h, w)
        out_w, out_h = F._expanded_size(matrices[0], w, h) if self.expand else (w, h)
        fill = F._fill_planes(self.fill, layout, "RandomRotation")
        return F._warp_array(x, matrices, out_h, out_w, self.interpolation, fill)

    def apply_batch(self, batch: Image) -> Image:
        """Rotate every image of a batch by its own angle (not with ``expand=True``)."""
        if self.expand:
            raise TypeError("RandomRotation(expand=True) cannot transform a whole batch: each "
                            "angle gives its own output size; apply it to each image")
        return super().apply_batch(batch)

    def __repr__(self) -> str:
        s = f"{type(self).__name__}(degrees={self.degrees}"
        s += f", interpolation={self.interpolation.value}, expand={self.expand}"
        s += f", center={self.center}" if self.center is not None else ""
        s += f", fill={self.fill}" if self.fill is not None else ""
        return s + ")"


class RandomHorizontalFlip(_PlaneTransform):
    """Mirror an image left to right with probability ``p``."""

    def __init__(self, p: float = 0.5) -> None:
        self.p = p

    def _transform(self, x: np.ndarray, layout: _Layout) -> np.ndarray:
        flip = np.asarray(generator().random(x.shape[0]) < self.p)
        return np.where(flip[:, None, None, None], x[..., ::-1], x)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


class RandomVerticalFlip(_PlaneTransform):
    """Mirror an image top to bottom with probability ``p``."""

    def __init__(self, p: float = 0.5) -> None:
        self.p = p

    def _transform(self, x: np.ndarray, layout: _Layout) -> np.ndarray:
        flip = np.asarray(generator().random(x.shape[0]) < self.p)
        return np.where(flip[:, None, None, None], x[..., ::-1, :], x)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


class RandomErasing(_PlaneTransform):
    """Overwrite a random rectangle of a Tensor image with probability ``p``.

    Args:
        scale: range of the erased area as a fraction of the image area.
        ratio: range of the rectangle's aspect ratio (drawn log-uniformly).
        value: a number, one number per channel, or ``"random"`` for standard normal noise.
        inplace: overwrite the input tensor.
    """

    _tensor_only = True

    def __init__(self, p: float = 0.5, scale: Sequence[float] = (0.02, 0.33),
                 ratio: Sequence[float] = (0.3, 3.3), value: Any = 0,
                 inplace: bool = False) -> None:
        op = "RandomErasing"
        if not isinstance(value, (numbers.Number, str, tuple, list)):
            raise TypeError(f"{op}: argument value should be either a number or str or a "
                            f"sequence, got {value!r}")
        if isinstance(value, str) and value != "random":
            raise ValueError(f"{op}: if value is str, it should be 'random', got {value!r}")
        if not isinstance(scale, (tuple, list)):
            raise TypeError(f"{op}: scale should be a sequence (min, max), got {scale!r}")
        if not isinstance(ratio, (tuple, list)):
            raise TypeError(f"{op}: ratio should be a sequence (min, max), got {ratio!r}")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            import warnings

            warnings.warn(f"{op}: scale and ratio should be of kind (min, max), got "
                          f"scale={scale!r}, ratio={ratio!r}", stacklevel=2)
        if scale[0] < 0 or scale[1] > 1:
            raise ValueError(f"{op}: scale should be between 0 and 1, got {scale!r}")
        if p < 0 or p > 1:
            raise ValueError(f"{op}: random erasing probability should be between 0 and 1, got "
                             f"{p}")
        self.p = p
        self.scale = scale
        self.ratio = ratio
        self.value = value
        self.inplace = inplace

    def _sample(self, n: int, height: int,
                width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per image: erase?, top, left, height, width (torchvision's 10 tries, vectorized)."""
        rng = generator()
        apply = rng.random(n) < self.p
        area = height * width
        log_ratio = np.log(np.asarray(self.ratio, dtype=np.float64))
        erase_area = area * rng.uniform(self.scale[0], self.scale[1], size=(n, 10))
        aspect = np.exp(rng.uniform(log_ratio[0], log_ratio[1], size=(n, 10)))
        hs = np.rint(np.sqrt(erase_area * aspect)).astype(np.int64)
        ws = np.rint(np.sqrt(erase_area / aspect)).astype(np.int64)
        ok = (hs < height) & (ws < width)
        first = np.argmax(ok, axis=1)
        found = ok[np.arange(n), first]
        h = np.where(found, hs[np.arange(n), first], 0)
        w = np.where(found, ws[np.arange(n), first], 0)
        top = rng.integers(0, height - h + 1)
        left = rng.integers(0, width - w + 1)
        return apply & found, top, left, h, w

    @staticmethod
    def get_params(img: Tensor, scale: Sequence[float], ratio: Sequence[float],
                   value: Sequence[float] | None = None) -> tuple[int, int, int, int, Any]:
        """One draw of ``(top, left, h, w, v)``; ``(0, 0, H, W, img)`` when no try fits."""
        _, height, width = F.get_dimensions(img)
        probe = RandomErasing(1.0, scale, ratio)
        found, top, left, h, w = probe._sample(1, height, width)
        if not found[0]:
            return 0, 0, height, width, img
        channels = img.shape[-3]
        if value is None:
            v: Any = generator().standard_normal((channels, int(h[0]), int(w[0])),
                                                 dtype=np.float32)
        else:
            v = np.asarray(value, dtype=np.float32)[:, None, None]
        return int(top[0]), int(left[0]), int(h[0]), int(w[0]), _wrap(np.asarray(v))

    def _values(self, layout: _Layout, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        if isinstance(self.value, str):
            noise = generator().standard_normal(shape, dtype=np.float32)
            return F._cast_like_assignment(noise, dtype)
        values = np.atleast_1d(np.asarray(self.value, dtype=np.float64))
        if values.size not in (1, layout.channels):
            raise ValueError(f"RandomErasing: if value is a sequence, it should have either a "
                             f"single value or {layout.channels} (number of input channels), "
                             f"got {self.value!r}")
        per_plane = np.broadcast_to(values, layout.middle).reshape(-1)
        return F._cast_like_assignment(per_plane, dtype)[:, None, None]

    def _transform(self, x: np.ndarray, layout: _Layout) -> np.ndarray:
        if not layout.middle:
            raise ValueError("RandomErasing: expected a tensor image (..., C, H, W), got one of "
                             f"shape {x.shape[2:]}; add a channel dimension")
        n, m, h, w = x.shape
        erase, top, left, eh, ew = self._sample(n, h, w)
        rows = np.arange(h)
        cols = np.arange(w)
        inside_rows = (rows >= top[:, None]) & (rows < (top + eh)[:, None])
        inside_cols = (cols >= left[:, None]) & (cols < (left + ew)[:, None])
        mask = (inside_rows[:, :, None] & inside_cols[:, None, :] & erase[:, None, None])
        values = self._values(layout, (n, m, h, w), x.dtype)
        return np.where(mask[:, None], values, x)

    def forward(self, img: Tensor) -> Tensor:  # type: ignore[override]
        """Erase a random rectangle of one image ``(C, H, W)``."""
        return self._result(img, super().forward(img))

    def apply_batch(self, batch: Tensor) -> Tensor:  # type: ignore[override]
        """Erase one random rectangle per image of a batch ``(N, C, H, W)``."""
        return self._result(batch, super().apply_batch(batch))

    def _result(self, given: Tensor, out: Any) -> Tensor:
        """``out``, or with ``inplace`` the given tensor overwritten by it."""
        if not self.inplace:
            return out
        given._data[...] = out._data
        given._version.value += 1
        return given

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(p={self.p}, scale={self.scale}, ratio={self.ratio}, "
                f"value={self.value}, inplace={self.inplace})")

