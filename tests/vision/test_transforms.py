"""minigrad.vision.transforms against torchvision's documented behaviour and, where a transform
reduces to a PyTorch op, against that op."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad
from minigrad.errors import OpError
from minigrad.vision import transforms as T
from minigrad.vision.transforms import InterpolationMode
from minigrad.vision.transforms import functional as F


def _u8(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)


def _f(shape: tuple[int, ...], seed: int = 0, dtype: type = np.float32) -> minigrad.Tensor:
    return minigrad.tensor(np.random.default_rng(seed).random(shape).astype(dtype))


# --------------------------------------------------------------------------- conversions


def test_to_tensor_scales_uint8_to_float32_chw() -> None:
    gray = _u8((5, 7))
    out = T.ToTensor()(gray)
    assert out.shape == (1, 5, 7) and out.dtype == minigrad.float32
    np.testing.assert_array_equal(out.numpy()[0], gray.astype(np.float32) / np.float32(255))
    rgb = _u8((5, 7, 3), seed=1)
    out = T.ToTensor()(rgb)
    assert out.shape == (3, 5, 7)
    np.testing.assert_array_equal(out.numpy(), rgb.transpose(2, 0, 1) / np.float32(255))
    assert out.numpy().min() >= 0 and out.numpy().max() <= 1


def test_to_tensor_matches_torch_division() -> None:
    torch = pytest.importorskip("torch")
    rgb = _u8((4, 6, 3), seed=2)
    expected = torch.from_numpy(rgb.transpose(2, 0, 1).copy()).to(torch.float32).div(255)
    np.testing.assert_array_equal(T.ToTensor()(rgb).numpy(), expected.numpy())


def test_to_tensor_leaves_other_dtypes_unscaled() -> None:
    floats = np.random.default_rng(0).random((3, 4, 2)) * 7
    out = T.ToTensor()(floats)
    assert out.dtype == minigrad.float64
    np.testing.assert_array_equal(out.numpy(), floats.transpose(2, 0, 1))
    ints = np.arange(12, dtype=np.int16).reshape(3, 4)
    out = T.ToTensor()(ints)
    assert out.dtype == minigrad.int16
    np.testing.assert_array_equal(out.numpy()[0], ints)


def test_to_tensor_rejects_tensors_and_bad_ranks() -> None:
    with pytest.raises(TypeError, match="ToTensor.*ndarray.*already a Tensor"):
        T.ToTensor()(minigrad.zeros(1, 2, 2))
    with pytest.raises(ValueError, match="2/3 dimensional, got 4"):
        T.ToTensor()(np.zeros((1, 2, 2, 1), np.uint8))


@pytest.mark.parametrize("shape", [(4, 5, 6), (4, 5, 6, 3)])
def test_to_tensor_batch_equals_per_image(shape: tuple[int, ...]) -> None:
    batch = _u8(shape)
    out = T.ToTensor().apply_batch(batch)
    expected = np.stack([T.ToTensor()(img).numpy() for img in batch])
    assert out.dtype == minigrad.float32
    np.testing.assert_array_equal(out.numpy(), expected)


def test_pil_to_tensor_keeps_dtype() -> None:
    rgb = _u8((3, 4, 3))
    out = T.PILToTensor()(rgb)
    assert out.dtype == minigrad.uint8
    np.testing.assert_array_equal(out.numpy(), rgb.transpose(2, 0, 1))
    np.testing.assert_array_equal(T.PILToTensor().apply_batch(rgb[None]).numpy()[0], out.numpy())


def test_normalize_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    x = _f((3, 4, 5))
    mean, std = (0.1, 0.2, 0.3), (0.5, 0.25, 2.0)
    expected = (torch.from_numpy(x.numpy()) - torch.tensor(mean).view(-1, 1, 1)) / torch.tensor(
        std).view(-1, 1, 1)
    out = T.Normalize(mean, std)(x)
    assert out.dtype == minigrad.float32
    np.testing.assert_array_equal(out.numpy(), expected.numpy())
    assert out is not x and not np.array_equal(x.numpy(), out.numpy())


def test_normalize_inplace_writes_into_the_input() -> None:
    x = _f((1, 3, 3), dtype=np.float64)
    before = x.numpy().copy()
    out = T.Normalize((0.5,), (0.25,), inplace=True)(x)
    assert out is x
    np.testing.assert_allclose(x.numpy(), (before - 0.5) / 0.25)


def test_normalize_errors() -> None:
    with pytest.raises(TypeError, match="float tensor, got uint8"):
        T.Normalize((0.5,), (0.5,))(minigrad.zeros(1, 2, 2, dtype=minigrad.uint8))
    with pytest.raises(ValueError, match=r"\(\.\.\., C, H, W\).*\(2, 2\)"):
        T.Normalize((0.5,), (0.5,))(minigrad.zeros(2, 2))
    with pytest.raises(ValueError, match="std evaluated to zero"):
        T.Normalize((0.5,), (0.0,))(minigrad.zeros(1, 2, 2))
    with pytest.raises(ValueError, match="2 values but the image has 3 channels"):
        T.Normalize((0.5, 0.5), (1.0, 1.0))(minigrad.zeros(3, 2, 2))
    with pytest.raises(TypeError, match="ToTensor"):
        T.Normalize((0.5,), (0.5,))(np.zeros((2, 2), np.float32))


def test_mnist_pipeline_batch_equals_per_image_and_repr() -> None:
    pipeline = T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,))])
    assert pipeline.batchable
    batch = _u8((16, 28, 28))
    out = pipeline.apply_batch(batch)
    assert out.shape == (16, 1, 28, 28) and out.dtype == minigrad.float32
    np.testing.assert_array_equal(out.numpy(), np.stack([pipeline(i).numpy() for i in batch]))
    np.testing.assert_allclose(out.numpy()[3, 0], (batch[3] / 255 - 0.1307) / 0.3081, rtol=1e-5)
    assert repr(pipeline) == ("Compose(\n    ToTensor()\n"
                              "    Normalize(mean=(0.1307,), std=(0.3081,))\n)")


def test_compose_with_lambda_is_not_batchable() -> None:
    pipeline = T.Compose([T.ToTensor(), T.Lambda(lambda t: t * 2)])
    assert not pipeline.batchable and not T.Lambda(abs).batchable
    with pytest.raises(TypeError, match="Lambda.*cannot transform a whole batch"):
        pipeline.apply_batch(_u8((2, 3, 3)))
    np.testing.assert_allclose(pipeline(_u8((3, 3))).numpy(), 2 * T.ToTensor()(_u8((3, 3))).numpy())


def test_lambda_checks_callable_and_repr() -> None:
    with pytest.raises(TypeError, match="lambd should be callable, got 'int'"):
        T.Lambda(3)  # type: ignore[arg-type]
    assert repr(T.Lambda(abs)) == "Lambda()"
    with pytest.raises(TypeError, match="Lambda cannot transform a whole batch"):
        T.Lambda(abs).apply_batch(np.zeros((1, 2, 2)))


def test_transforms_refuse_inputs_that_require_grad() -> None:
    x = minigrad.ones(1, 2, 2, requires_grad=True)
    with pytest.raises(OpError, match=r"Normalize.*requires grad.*detach\(\)"):
        T.Normalize((0.5,), (0.5,))(x)
    with minigrad.no_grad():
        assert T.Normalize((0.5,), (0.5,))(x).shape == (1, 2, 2)


def test_convert_image_dtype_scaling_rules() -> None:
    u8 = minigrad.tensor(np.array([[[0, 1, 127, 255]]], np.uint8))
    out = T.ConvertImageDtype(minigrad.float32)(u8)
    assert out.dtype == minigrad.float32
    np.testing.assert_array_equal(out.numpy(), np.array([[[0, 1, 127, 255]]], np.float32) / 255)
    floats = minigrad.tensor(np.array([[[0.0, 0.5, 0.999, 1.0]]], np.float32))
    back = T.ConvertImageDtype(minigrad.uint8)(floats)
    # x * (255 + 1 - 0.001), truncated
    np.testing.assert_array_equal(back.numpy(), [[[0, 127, 255, 255]]])
    wide = T.ConvertImageDtype(minigrad.int32)(u8)
    np.testing.assert_array_equal(wide.numpy(), u8.numpy().astype(np.int32) * 2**23)
    narrow = T.ConvertImageDtype(minigrad.uint8)(wide)
    np.testing.assert_array_equal(narrow.numpy(), u8.numpy())
    assert T.ConvertImageDtype(minigrad.uint8)(u8) is u8
    assert T.ConvertImageDtype(minigrad.float64)(floats).dtype == minigrad.float64
    with pytest.raises(RuntimeError, match="float32 to int32 cannot be performed safely"):
        T.ConvertImageDtype(minigrad.int32)(floats)
    assert repr(T.ConvertImageDtype(minigrad.float32)) == "ConvertImageDtype()"
    np.testing.assert_array_equal(
        T.ConvertImageDtype(minigrad.float32).apply_batch(u8[None]).numpy()[0], out.numpy())


# --------------------------------------------------------------------------- padding, cropping


@pytest.mark.parametrize(("mode", "torch_mode"), [("constant", "constant"), ("edge", "replicate"),
                                                  ("reflect", "reflect")])
def test_pad_matches_torch_pad(mode: str, torch_mode: str) -> None:
    torch = pytest.importorskip("torch")
    x = _f((2, 3, 5, 6))
    # torchvision's (left, top, right, bottom) is torch's (left, right, top, bottom)
    out = F.pad(x, [1, 2, 3, 1], fill=0.5 if mode == "constant" else 0, padding_mode=mode)
    kwargs = {"value": 0.5} if mode == "constant" else {}
    expected = torch.nn.functional.pad(torch.from_numpy(x.numpy()), (1, 3, 2, 1),
                                       mode=torch_mode, **kwargs)
    np.testing.assert_array_equal(out.numpy(), expected.numpy())


def test_pad_documented_examples_and_padding_forms() -> None:
    row = np.array([[1, 2, 3, 4]], np.uint8)
    assert F.pad(row, [2, 0], padding_mode="reflect")[0].tolist() == [3, 2, 1, 2, 3, 4, 3, 2]
    assert F.pad(row, [2, 0], padding_mode="symmetric")[0].tolist() == [2, 1, 1, 2, 3, 4, 4, 3]
    img = _u8((3, 4))
    out = T.Pad((1, 2))(img)  # left/right 1, top/bottom 2
    assert out.shape == (7, 6) and out.dtype == np.uint8
    np.testing.assert_array_equal(out[2:5, 1:5], img)
    assert out[:2].sum() == 0 and out[:, 0].sum() == 0
    assert T.Pad(3)(img).shape == (9, 10)
    np.testing.assert_array_equal(T.Pad(-1)(img), img[1:-1, 1:-1])


def test_pad_per_channel_fill_on_colour_arrays_and_tensors() -> None:
    rgb = _u8((2, 2, 3))
    out = T.Pad(1, fill=(10, 20, 30))(rgb)
    assert out.shape == (4, 4, 3)
    np.testing.assert_array_equal(out[0, 0], [10, 20, 30])
    np.testing.assert_array_equal(out[1:3, 1:3], rgb)
    chw = T.Pad(1, fill=(1.0, 2.0, 3.0))(_f((3, 2, 2)))
    np.testing.assert_array_equal(chw.numpy()[:, 0, 0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"'fill'.*\(2 != 3\)"):
        T.Pad(1, fill=(1, 2))(rgb)


def test_pad_errors_and_repr() -> None:
    with pytest.raises(TypeError, match="inappropriate padding arg"):
        T.Pad("1")
    with pytest.raises(ValueError, match="not a 3 element tuple"):
        T.Pad((1, 2, 3))
    with pytest.raises(ValueError, match="constant, edge, reflect or symmetric, got 'wrap'"):
        T.Pad(1, padding_mode="wrap")
    with pytest.raises(TypeError, match="inappropriate fill arg"):
        T.Pad(1, fill="red")
    assert repr(T.Pad(2)) == "Pad(padding=2, fill=0, padding_mode=constant)"


def test_pad_batch_equals_per_image() -> None:
    batch = _u8((3, 4, 5, 3))
    t = T.Pad((1, 0, 2, 3), padding_mode="symmetric")
    np.testing.assert_array_equal(t.apply_batch(batch), np.stack([t(i) for i in batch]))
    tensors = _f((3, 2, 4, 5))
    np.testing.assert_array_equal(t.apply_batch(tensors).numpy(),
                                  np.stack([t(minigrad.tensor(i)).numpy()
                                            for i in tensors.numpy()]))


def test_center_crop_rounds_the_offset_as_torchvision() -> None:
    img = np.arange(5 * 6, dtype=np.uint8).reshape(5, 6)
    out = T.CenterCrop((2, 3))(img)
    top, left = int(round((5 - 2) / 2.0)), int(round((6 - 3) / 2.0))  # round half to even
    assert (top, left) == (2, 2)
    np.testing.assert_array_equal(out, img[top:top + 2, left:left + 3])
    assert repr(T.CenterCrop(3)) == "CenterCrop(size=(3, 3))"
    chw = _f((2, 5, 6))
    np.testing.assert_array_equal(T.CenterCrop([2, 3])(chw).numpy(),
                                  chw.numpy()[:, 2:4, 2:5])


def test_center_crop_pads_when_larger() -> None:
    img = np.full((2, 3), 7, np.uint8)
    out = T.CenterCrop(5)(img)
    # padding (left, top, right, bottom) = ((5-3)//2, (5-2)//2, (5-3+1)//2, (5-2+1)//2)
    expected = np.zeros((5, 5), np.uint8)
    expected[1:3, 1:4] = 7
    np.testing.assert_array_equal(out, expected)


def test_center_crop_batch_and_errors() -> None:
    batch = _f((4, 1, 6, 6))
    t = T.CenterCrop(3)
    np.testing.assert_array_equal(t.apply_batch(batch).numpy(),
                                  np.stack([t(minigrad.tensor(i)).numpy()
                                            for i in batch.numpy()]))
    with pytest.raises(ValueError, match=r"only two dimensions \(h, w\)"):
        T.CenterCrop((1, 2, 3))


def _is_crop_of(crop: np.ndarray, padded: np.ndarray) -> bool:
    """Whether ``crop`` (..., h, w) is ``padded[..., i:i+h, j:j+w]`` for some offset."""
    h, w = crop.shape[-2:]
    windows = np.lib.stride_tricks.sliding_window_view(padded, (h, w), axis=(-2, -1))
    return bool(np.any(np.all(windows == crop[..., None, None, :, :], axis=tuple(
        range(crop.ndim - 2)) + (-2, -1))))


def test_random_crop_outcome_is_a_crop_of_the_padded_image() -> None:
    minigrad.manual_seed(0)
    img = _f((2, 6, 7))
    t = T.RandomCrop(5, padding=2, fill=-1.0)
    padded = F.pad(img, 2, fill=-1.0).numpy()
    outs = [t(img).numpy() for _ in range(20)]
    assert all(o.shape == (2, 5, 5) and _is_crop_of(o, padded) for o in outs)
    assert len({o.tobytes() for o in outs}) > 5  # different offsets are drawn


def test_random_crop_is_reproducible_and_batch_matches_draws() -> None:
    batch = _u8((6, 8, 9))
    t = T.RandomCrop((4, 5), padding=(1, 2))
    minigrad.manual_seed(3)
    first = t.apply_batch(batch)
    minigrad.manual_seed(3)
    np.testing.assert_array_equal(t.apply_batch(batch), first)
    # the batch drew one (top, left) per image, in that order, after the padding
    minigrad.manual_seed(3)
    rng = minigrad.random.generator()
    tops = rng.integers(0, 8 + 4 - 4 + 1, size=6)
    lefts = rng.integers(0, 9 + 2 - 5 + 1, size=6)
    for k in range(6):
        expected = F.crop(F.pad(batch[k], (1, 2)), int(tops[k]), int(lefts[k]), 4, 5)
        np.testing.assert_array_equal(first[k], expected)


def test_random_crop_pad_if_needed_and_errors() -> None:
    img = _u8((3, 4))
    out = T.RandomCrop((5, 6), pad_if_needed=True)(img)
    assert out.shape == (5, 6)
    assert _is_crop_of(out, F.pad(img, (2, 2)))
    with pytest.raises(ValueError, match=r"crop size \(5, 6\) is larger than input image size"):
        T.RandomCrop((5, 6))(img)
    assert repr(T.RandomCrop(28, padding=4)) == "RandomCrop(size=(28, 28), padding=4)"
    i, j, h, w = T.RandomCrop.get_params(img, (2, 2))
    assert (h, w) == (2, 2) and 0 <= i <= 1 and 0 <= j <= 2


# --------------------------------------------------------------------------- resizing


def test_resize_int_size_matches_the_smaller_edge_and_max_size() -> None:
    img = _u8((10, 20))
    assert T.Resize(5)(img).shape == (5, 10)
    assert T.Resize(5)(_u8((21, 10))).shape == (10, 5)
    assert T.Resize(5, max_size=8)(img).shape == (4, 8)
    assert T.Resize((3, 7))(_f((2, 10, 20))).shape == (2, 3, 7)
    assert T.Resize([4])(img).shape == (4, 8)
    np.testing.assert_array_equal(T.Resize(10)(img), img)  # already the requested size
    assert F.resize(img, 10) is img
    with pytest.raises(ValueError, match="max_size = 5 must be strictly greater"):
        T.Resize(5, max_size=5)(img)
    with pytest.raises(ValueError, match="max_size should only be passed"):
        T.Resize((4, 4), max_size=10)
    with pytest.raises(ValueError, match="1 or 2 values"):
        T.Resize((1, 2, 3))
    with pytest.raises(TypeError, match="int or sequence"):
        T.Resize(2.5)


@pytest.mark.parametrize(("size", "antialias"), [((9, 13), False), ((9, 13), True),
                                                 ((3, 4), False), ((3, 4), True),
                                                 ((5, 11), True)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_resize_bilinear_matches_torch_interpolate(size: tuple[int, int], antialias: bool,
                                                   dtype: type) -> None:
    torch = pytest.importorskip("torch")
    x = _f((2, 3, 6, 8), dtype=dtype)
    out = F.resize(x, list(size), antialias=antialias)
    expected = torch.nn.functional.interpolate(torch.from_numpy(x.numpy()), size=size,
                                               mode="bilinear", align_corners=False,
                                               antialias=antialias)
    assert out.dtype == x.dtype and out.shape == (2, 3) + size
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=0,
                               atol=1e-6 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize(("mode", "torch_mode"), [(InterpolationMode.NEAREST, "nearest"),
                                                  (InterpolationMode.NEAREST_EXACT,
                                                   "nearest-exact")])
@pytest.mark.parametrize("size", [(14, 20), (3, 5), (7, 9)])
def test_resize_nearest_matches_torch(mode: InterpolationMode, torch_mode: str,
                                      size: tuple[int, int]) -> None:
    torch = pytest.importorskip("torch")
    x = _f((1, 2, 7, 10))
    expected = torch.nn.functional.interpolate(torch.from_numpy(x.numpy()), size=size,
                                               mode=torch_mode)
    np.testing.assert_array_equal(F.resize(x, list(size), interpolation=mode).numpy(),
                                  expected.numpy())


def test_resize_uint8_arrays_round_like_torchvision_tensors() -> None:
    torch = pytest.importorskip("torch")
    rgb = _u8((8, 12, 3))
    out = T.Resize((4, 5))(rgb)
    assert out.dtype == np.uint8 and out.shape == (4, 5, 3)
    expected = torch.nn.functional.interpolate(
        torch.from_numpy(rgb.transpose(2, 0, 1).copy())[None].float(), size=(4, 5),
        mode="bilinear", align_corners=False, antialias=True).round()[0].numpy()
    # the float results agree to rounding; a value at .5 may round either way
    assert np.abs(out.transpose(2, 0, 1).astype(int) - expected).max() <= 1


def test_resize_interpolation_arguments_and_repr() -> None:
    assert T.Resize(4, interpolation=0).interpolation is InterpolationMode.NEAREST
    with pytest.raises(ValueError, match="BICUBIC is not supported.*NEAREST.*BILINEAR"):
        T.Resize(4, interpolation=InterpolationMode.BICUBIC)
    with pytest.raises(TypeError, match="InterpolationMode"):
        T.Resize(4, interpolation="bilinear")
    assert repr(T.Resize(28)) == ("Resize(size=28, interpolation=bilinear, max_size=None, "
                                  "antialias=True)")


def test_resize_batch_equals_per_image() -> None:
    batch = _u8((3, 9, 7))
    for t in (T.Resize(4), T.Resize((12, 5), interpolation=InterpolationMode.NEAREST)):
        np.testing.assert_array_equal(t.apply_batch(batch), np.stack([t(i) for i in batch]))


# --------------------------------------------------------------------------- affine warps


def _documented_forward_matrix(center: tuple[float, float], angle: float,
                               translate: tuple[float, float], scale: float,
                               shear: tuple[float, float]) -> np.ndarray:
    """torchvision's documented forward map ``T * C * R * S * SHy * SHx * C^-1`` (3 x 3)."""
    a, sx, sy = np.radians(angle), np.radians(shear[0]), np.radians(shear[1])
    t = np.array([[1, 0, translate[0]], [0, 1, translate[1]], [0, 0, 1.0]])
    c = np.array([[1, 0, center[0]], [0, 1, center[1]], [0, 0, 1.0]])
    r = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    s = np.diag([scale, scale, 1.0])
    shy = np.array([[1, 0, 0], [-np.tan(sy), 1, 0], [0, 0, 1]])
    shx = np.array([[1, -np.tan(sx), 0], [0, 1, 0], [0, 0, 1]])
    return t @ c @ r @ s @ shy @ shx @ np.linalg.inv(c)


def test_inverse_affine_matrix_inverts_the_documented_forward_map() -> None:
    rng = np.random.default_rng(0)
    for _ in range(5):
        center = (float(rng.uniform(-3, 3)), float(rng.uniform(-3, 3)))
        angle, scale = float(rng.uniform(-180, 180)), float(rng.uniform(0.5, 2))
        translate = (float(rng.integers(-4, 5)), float(rng.integers(-4, 5)))
        shear = (float(rng.uniform(-30, 30)), float(rng.uniform(-30, 30)))
        inverse = F._inverse_affine_matrices(center, np.array([angle]), np.array([translate]),
                                             np.array([scale]), np.array([shear]))[0]
        forward = _documented_forward_matrix(center, angle, translate, scale, shear)
        np.testing.assert_allclose(np.vstack([inverse, [0, 0, 1]]) @ forward, np.eye(3),
                                   atol=1e-12)


def _torch_warp(torch: object, x: np.ndarray, matrix: np.ndarray, mode: str) -> np.ndarray:
    """grid_sample(align_corners=False) of ``x`` (N, C, H, W) through a pixel-space inverse
    matrix about the image centre, as torchvision's tensor path builds its grid."""
    tf = torch.nn.functional  # type: ignore[attr-defined]
    n, c, h, w = x.shape
    half = np.array([w / 2, h / 2])
    theta = np.empty((2, 3))
    theta[:, :2] = matrix[:, :2] * half[None, :] / half[:, None]
    theta[:, 2] = matrix[:, 2] / half
    th = torch.from_numpy(theta)[None].expand(n, 2, 3)  # type: ignore[attr-defined]
    grid = tf.affine_grid(th, (n, c, h, w), align_corners=False)
    return tf.grid_sample(torch.from_numpy(x), grid, mode=mode,  # type: ignore[attr-defined]
                          padding_mode="zeros", align_corners=False).numpy()


@pytest.mark.parametrize("mode", [InterpolationMode.NEAREST, InterpolationMode.BILINEAR])
def test_affine_matches_torch_grid_sample(mode: InterpolationMode) -> None:
    torch = pytest.importorskip("torch")
    x = _f((2, 3, 7, 9), dtype=np.float64)
    rng = np.random.default_rng(1)
    for _ in range(4):
        angle, scale = float(rng.uniform(-50, 50)), float(rng.uniform(0.7, 1.4))
        translate = [int(rng.integers(-2, 3)), int(rng.integers(-2, 3))]
        shear = [float(rng.uniform(-20, 20)), float(rng.uniform(-20, 20))]
        out = F.affine(x, angle, translate, scale, shear, interpolation=mode)
        matrix = F._inverse_affine_matrices((0.0, 0.0), np.array([angle]),
                                            np.array([translate], float), np.array([scale]),
                                            np.array([shear]))[0]
        np.testing.assert_allclose(out.numpy(), _torch_warp(torch, x.numpy(), matrix,
                                                            mode.value), atol=1e-12)


def test_rotate_by_90_degrees_is_rot90_counter_clockwise() -> None:
    x = _f((2, 6, 6))
    np.testing.assert_array_equal(F.rotate(x, 90).numpy(), np.rot90(x.numpy(), 1, axes=(1, 2)))
    img = _u8((5, 5))
    np.testing.assert_array_equal(F.rotate(img, -90), np.rot90(img, -1))
    expanded = F.rotate(_f((1, 4, 6)), 90, expand=True)
    assert expanded.shape == (1, 6, 4)


def test_affine_translation_shifts_and_fills() -> None:
    x = _f((1, 5, 6))
    out = F.affine(x, 0.0, [2, 1], 1.0, 0.0, fill=[-1.0])
    np.testing.assert_array_equal(out.numpy()[:, 1:, 2:], x.numpy()[:, :-1, :-2])
    assert (out.numpy()[:, 0] == -1).all() and (out.numpy()[:, :, :2] == -1).all()
    rgb = _u8((4, 4, 3))
    shifted = F.affine(rgb, 0, [0, 4], 1.0, 0.0, fill=[9, 8, 7])
    assert shifted.dtype == np.uint8
    np.testing.assert_array_equal(shifted.reshape(-1, 3), np.tile([9, 8, 7], (16, 1)))


def test_random_affine_draws_within_torchvision_ranges() -> None:
    minigrad.manual_seed(0)
    for _ in range(50):
        angle, (tx, ty), scale, (shx, shy) = T.RandomAffine.get_params(
            [-10.0, 20.0], (0.1, 0.25), (0.8, 1.2), [-5.0, 5.0, 2.0, 3.0], [40, 20])
        assert -10 <= angle <= 20 and 0.8 <= scale <= 1.2
        assert isinstance(tx, int) and abs(tx) <= 4 and abs(ty) <= 5
        assert -5 <= shx <= 5 and 2 <= shy <= 3


def test_random_affine_batch_equals_per_image_with_the_same_draws() -> None:
    batch = _f((5, 2, 8, 9))
    t = T.RandomAffine(30, translate=(0.2, 0.1), scale=(0.8, 1.1), shear=(-10, 10, -5, 5),
                       interpolation=InterpolationMode.BILINEAR, fill=0.25)
    minigrad.manual_seed(7)
    out = t.apply_batch(batch)
    assert out.shape == batch.shape and out.dtype == minigrad.float32
    minigrad.manual_seed(7)
    angle, trans, scale, shear = T.RandomAffine._sample(5, t.degrees, t.translate, t.scale,
                                                        t.shear, 9, 8)
    for k in range(5):
        one = F.affine(minigrad.tensor(batch.numpy()[k]), float(angle[k]),
                       [int(trans[k, 0]), int(trans[k, 1])], float(scale[k]),
                       [float(shear[k, 0]), float(shear[k, 1])],
                       interpolation=InterpolationMode.BILINEAR, fill=[0.25, 0.25])
        np.testing.assert_array_equal(out.numpy()[k], one.numpy())
    minigrad.manual_seed(7)
    np.testing.assert_array_equal(t.apply_batch(batch).numpy(), out.numpy())


def test_random_affine_on_uint8_arrays() -> None:
    minigrad.manual_seed(1)
    batch = _u8((4, 7, 7))
    out = T.RandomAffine(15, translate=(0.1, 0.1)).apply_batch(batch)
    assert out.dtype == np.uint8 and out.shape == (4, 7, 7)
    # nearest sampling only moves values: every output pixel is an input pixel or the fill
    for k in range(4):
        assert set(out[k].ravel()) <= set(batch[k].ravel()) | {0}
    assert T.RandomAffine(15)(batch[0]).shape == (7, 7)


def test_random_affine_errors_and_repr() -> None:
    with pytest.raises(ValueError, match="single number, it must be positive"):
        T.RandomAffine(-5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        T.RandomAffine(0, translate=(1.5, 0))
    with pytest.raises(ValueError, match="scale values should be positive"):
        T.RandomAffine(0, scale=(0, 1))
    with pytest.raises(ValueError, match="shear should be a sequence of length 2 or 4"):
        T.RandomAffine(0, shear=(1, 2, 3))
    with pytest.raises(TypeError, match="degrees should be a sequence of length 2"):
        T.RandomAffine("10")
    with pytest.raises(ValueError, match="BICUBIC is not supported"):
        T.RandomAffine(0, interpolation=InterpolationMode.BICUBIC)
    with pytest.raises(TypeError, match="fill should be either a sequence or a number"):
        T.RandomAffine(0, fill="black")
    assert repr(T.RandomAffine(10, translate=(0.1, 0.1))) == (
        "RandomAffine(degrees=[-10.0, 10.0], translate=(0.1, 0.1))")
    assert repr(T.RandomAffine((0, 5), interpolation=InterpolationMode.BILINEAR, fill=1)) == (
        "RandomAffine(degrees=[0.0, 5.0], interpolation=bilinear, fill=1)")


def test_random_rotation_batch_draws_and_expand() -> None:
    batch = _f((4, 1, 6, 6))
    t = T.RandomRotation(45)
    assert t.batchable
    minigrad.manual_seed(2)
    out = t.apply_batch(batch)
    minigrad.manual_seed(2)
    angles = minigrad.random.generator().uniform(-45, 45, size=4)
    for k in range(4):
        np.testing.assert_array_equal(
            out.numpy()[k], F.rotate(minigrad.tensor(batch.numpy()[k]), float(angles[k]),
                                     fill=[0.0]).numpy())
    expanding = T.RandomRotation((90, 90), expand=True)
    assert not expanding.batchable
    assert expanding(_f((1, 4, 6))).shape == (1, 6, 4)
    with pytest.raises(TypeError, match="expand=True.*cannot transform a whole batch"):
        expanding.apply_batch(batch)
    assert repr(t) == ("RandomRotation(degrees=[-45.0, 45.0], interpolation=nearest, "
                       "expand=False, fill=0)")


# --------------------------------------------------------------------------- flips, erasing


def test_random_horizontal_flip() -> None:
    rgb = _u8((3, 4, 3))
    np.testing.assert_array_equal(T.RandomHorizontalFlip(1.0)(rgb), rgb[:, ::-1])
    np.testing.assert_array_equal(T.RandomHorizontalFlip(0.0)(rgb), rgb)
    x = _f((2, 3, 4))
    np.testing.assert_array_equal(T.RandomHorizontalFlip(1.0)(x).numpy(), x.numpy()[..., ::-1])
    batch = _f((32, 1, 3, 4))
    minigrad.manual_seed(0)
    out = T.RandomHorizontalFlip().apply_batch(batch).numpy()
    flipped = [np.array_equal(o, b[..., ::-1]) for o, b in zip(out, batch.numpy(), strict=True)]
    kept = [np.array_equal(o, b) for o, b in zip(out, batch.numpy(), strict=True)]
    assert all(f or k for f, k in zip(flipped, kept, strict=True))
    assert 0 < sum(flipped) < 32
    minigrad.manual_seed(0)
    np.testing.assert_array_equal(T.RandomHorizontalFlip().apply_batch(batch).numpy(), out)
    assert repr(T.RandomHorizontalFlip()) == "RandomHorizontalFlip(p=0.5)"


def _erased_box(changed: np.ndarray) -> tuple[int, int] | None:
    """(h, w) of the changed region if it is one solid rectangle, else None."""
    rows, cols = np.nonzero(changed)
    if rows.size == 0:
        return (0, 0)
    h, w = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
    return (int(h), int(w)) if rows.size == h * w else None


def test_random_erasing_erases_one_rectangle_per_image() -> None:
    minigrad.manual_seed(0)
    batch = minigrad.ones(16, 3, 20, 24)
    out = T.RandomErasing(p=1.0, value=(0.0, 0.5, 2.0)).apply_batch(batch).numpy()
    for image in out:
        changed = image[0] != 1
        box = _erased_box(changed)
        assert box is not None and box != (0, 0)
        area = box[0] * box[1] / (20 * 24)
        assert 0.01 <= area <= 0.36  # scale (0.02, 0.33) up to rounding of h and w
        np.testing.assert_array_equal(image[:, changed].T, np.tile([0.0, 0.5, 2.0],
                                                                   (changed.sum(), 1)))
    assert (batch.numpy() == 1).all()  # not in place


def test_random_erasing_probability_random_values_and_inplace() -> None:
    x = minigrad.ones(3, 8, 8)
    np.testing.assert_array_equal(T.RandomErasing(p=0.0)(x).numpy(), x.numpy())
    minigrad.manual_seed(1)
    noisy = T.RandomErasing(p=1.0, value="random")(x).numpy()
    assert _erased_box(noisy[0] != 1) is not None and (noisy != 1).any()
    y = minigrad.ones(1, 8, 8)
    assert T.RandomErasing(p=1.0, inplace=True)(y) is y and (y.numpy() == 0).any()


def test_random_erasing_errors_and_repr() -> None:
    with pytest.raises(TypeError, match="img should be a Tensor image"):
        T.RandomErasing()(np.zeros((2, 2), np.float32))
    with pytest.raises(ValueError, match="should be 'random'"):
        T.RandomErasing(value="noise")
    with pytest.raises(ValueError, match="scale should be between 0 and 1"):
        T.RandomErasing(scale=(0.1, 1.5))
    with pytest.raises(ValueError, match="probability should be between 0 and 1"):
        T.RandomErasing(p=2)
    with pytest.raises(ValueError, match="single value or 3 \\(number of input channels\\)"):
        T.RandomErasing(p=1.0, value=(1, 2))(minigrad.ones(3, 4, 4))
    assert repr(T.RandomErasing()) == ("RandomErasing(p=0.5, scale=(0.02, 0.33), "
                                       "ratio=(0.3, 3.3), value=0, inplace=False)")


def test_random_pipeline_is_reproducible_with_manual_seed() -> None:
    pipeline = T.Compose([T.RandomCrop(6, padding=1), T.RandomHorizontalFlip(),
                          T.ToTensor(), T.RandomAffine(10, translate=(0.1, 0.1)),
                          T.Normalize((0.5,), (0.5,)), T.RandomErasing()])
    assert pipeline.batchable
    batch = _u8((8, 7, 7))
    minigrad.manual_seed(5)
    first = pipeline.apply_batch(batch).numpy()
    minigrad.manual_seed(5)
    np.testing.assert_array_equal(pipeline.apply_batch(batch).numpy(), first)
    assert first.shape == (8, 1, 6, 6) and math.isfinite(float(first.sum()))
    minigrad.manual_seed(5)
    one = pipeline(batch[0])
    minigrad.manual_seed(5)
    np.testing.assert_array_equal(pipeline(batch[0]).numpy(), one.numpy())


def test_functional_is_importable_as_a_submodule() -> None:
    import importlib

    module = importlib.import_module("minigrad.vision.transforms.functional")
    assert module is T.functional is F
    assert F.get_dimensions(_u8((4, 5, 3))) == [3, 4, 5]
    assert F.get_image_size(minigrad.zeros(2, 4, 5)) == [5, 4]
    np.testing.assert_array_equal(F.hflip(_u8((2, 3))), _u8((2, 3))[:, ::-1])
    np.testing.assert_array_equal(F.vflip(_u8((2, 3))), _u8((2, 3))[::-1])
    erased = F.erase(minigrad.ones(1, 4, 4), 1, 1, 2, 2, 0.0)
    assert erased.numpy().sum() == 12


def test_uint8_bilinear_warp_rounds_the_float32_result() -> None:
    img = minigrad.tensor(_u8((2, 6, 7)))
    as_float = minigrad.tensor(img.numpy().astype(np.float32))
    for kwargs in ({}, {"fill": [3.6]}):
        out = F.affine(img, 17.0, [1, 0], 1.1, [5.0, 0.0],
                       interpolation=InterpolationMode.BILINEAR, **kwargs)
        expected = F.affine(as_float, 17.0, [1, 0], 1.1, [5.0, 0.0],
                            interpolation=InterpolationMode.BILINEAR, **kwargs)
        assert out.dtype == minigrad.uint8
        np.testing.assert_array_equal(out.numpy(), np.rint(expected.numpy()))


def test_large_batches_are_warped_in_blocks_with_the_same_result(
        monkeypatch: pytest.MonkeyPatch) -> None:
    batch = _f((5, 1, 6, 6))
    t = T.RandomRotation(30, interpolation=InterpolationMode.BILINEAR)
    minigrad.manual_seed(4)
    whole = t.apply_batch(batch).numpy()
    monkeypatch.setattr(F, "_CHUNK", 2)
    minigrad.manual_seed(4)
    np.testing.assert_array_equal(t.apply_batch(batch).numpy(), whole)


def test_random_vertical_flip() -> None:
    img = _u8((3, 4))
    np.testing.assert_array_equal(T.RandomVerticalFlip(1.0)(img), img[::-1])
    np.testing.assert_array_equal(T.RandomVerticalFlip(0.0).apply_batch(img[None])[0], img)
    assert repr(T.RandomVerticalFlip(0.3)) == "RandomVerticalFlip(p=0.3)"
