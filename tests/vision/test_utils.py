"""minigrad.vision.utils: make_grid's layout against its definition, save_image's round trip
and atomic write."""

from __future__ import annotations

import io
import subprocess
import sys

import numpy as np
import pytest

import minigrad
from minigrad.vision.utils import make_grid, save_image


def _images(shape: tuple[int, ...], seed: int = 0) -> minigrad.Tensor:
    return minigrad.tensor(np.random.default_rng(seed).random(shape).astype(np.float32))


def _expected_grid(x: np.ndarray, nrow: int, padding: int, pad_value: float) -> np.ndarray:
    """The grid by torchvision's definition: cells of (H + padding, W + padding), image k in
    row k // xmaps and column k % xmaps, offset by ``padding``; pad_value everywhere else."""
    n, c, h, w = x.shape
    xmaps = min(nrow, n)
    ymaps = -(-n // xmaps)
    grid = np.full((c, ymaps * (h + padding) + padding, xmaps * (w + padding) + padding),
                   pad_value, np.float32)
    for k in range(n):
        top = (k // xmaps) * (h + padding) + padding
        left = (k % xmaps) * (w + padding) + padding
        grid[:, top:top + h, left:left + w] = x[k]
    return grid


@pytest.mark.parametrize(("n", "nrow", "padding"), [(5, 3, 2), (8, 8, 0), (3, 8, 1), (7, 2, 3)])
def test_make_grid_layout_matches_the_definition(n: int, nrow: int, padding: int) -> None:
    x = _images((n, 3, 4, 5))
    grid = make_grid(x, nrow=nrow, padding=padding, pad_value=0.5)
    np.testing.assert_array_equal(grid.numpy(), _expected_grid(x.numpy(), nrow, padding, 0.5))
    assert grid.dtype == minigrad.float32


def test_make_grid_turns_one_channel_into_three() -> None:
    x = _images((4, 1, 3, 3))
    grid = make_grid(x, nrow=2)
    assert grid.shape == (3, 2 * 5 + 2, 2 * 5 + 2)
    expected = _expected_grid(np.repeat(x.numpy(), 3, axis=1), 2, 2, 0.0)
    np.testing.assert_array_equal(grid.numpy(), expected)
    single = make_grid(x[0])
    assert single.shape == (3, 3, 3)  # one image: no padding
    np.testing.assert_array_equal(single.numpy(), np.repeat(x.numpy()[0], 3, axis=0))
    assert make_grid(x[0, 0]).shape == (3, 3, 3)
    listed = make_grid([x[i] for i in range(4)], nrow=2)
    np.testing.assert_array_equal(listed.numpy(), grid.numpy())


def test_make_grid_normalize_value_range_and_scale_each() -> None:
    x = minigrad.tensor(np.stack([np.full((3, 2, 2), v, np.float32) for v in (2.0, 4.0)])
                        + np.arange(4, dtype=np.float32).reshape(1, 1, 2, 2))
    whole = make_grid(x, normalize=True, padding=0).numpy()
    lo, hi = x.numpy().min(), x.numpy().max()
    np.testing.assert_allclose(whole, _expected_grid((x.numpy() - lo) / (hi - lo), 8, 0, 0.0))
    each = make_grid(x, normalize=True, scale_each=True, padding=0).numpy()
    per = np.stack([(im - im.min()) / (im.max() - im.min()) for im in x.numpy()])
    np.testing.assert_allclose(each, _expected_grid(per, 8, 0, 0.0))
    ranged = make_grid(x, normalize=True, value_range=(3.0, 5.0), padding=0).numpy()
    np.testing.assert_allclose(ranged, _expected_grid(np.clip(x.numpy(), 3, 5) - 3, 8, 0, 0.0)
                               / 2)
    np.testing.assert_array_equal(x.numpy()[0, 0, 0], [2.0, 3.0])  # the input is not changed
    with pytest.raises(TypeError, match="value_range has to be a tuple"):
        make_grid(x, normalize=True, value_range=[0, 1])  # type: ignore[arg-type]


def test_make_grid_errors() -> None:
    with pytest.raises(TypeError, match="tensor or list of tensors expected, got ndarray"):
        make_grid(np.zeros((2, 3, 4, 4)))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="list containing int"):
        make_grid([minigrad.zeros(3, 2, 2), 3])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="different shapes"):
        make_grid([minigrad.zeros(3, 2, 2), minigrad.zeros(3, 2, 3)])


def test_make_grid_accepts_tensors_that_require_grad() -> None:
    weights = minigrad.randn(4, 1, 3, 3, requires_grad=True)
    assert make_grid(weights, normalize=True).shape == (3, 3 + 4, 4 * (3 + 2) + 2)


def _to_bytes(grid: np.ndarray) -> np.ndarray:
    """torchvision's float -> uint8: mul(255).add_(0.5).clamp_(0, 255), truncated; HWC."""
    return np.clip(grid * np.float32(255) + np.float32(0.5), 0, 255).astype(np.uint8).transpose(
        1, 2, 0)


def test_save_image_round_trip(tmp_path: object) -> None:
    import matplotlib.image

    x = _images((6, 3, 5, 4))
    x._data[0, 0, 0, 0] = 1.7  # clamped to 255
    x._data[0, 0, 0, 1] = -0.3  # clamped to 0
    path = tmp_path / "grid.png"  # type: ignore[operator]
    save_image(x, path, nrow=3, padding=1)
    back = matplotlib.image.imread(path)
    expected = _to_bytes(make_grid(x, nrow=3, padding=1).numpy())
    assert back.shape[:2] == expected.shape[:2]
    np.testing.assert_array_equal(np.rint(back[..., :3] * 255).astype(np.uint8), expected)
    assert [p.name for p in path.parent.iterdir()] == ["grid.png"]  # no temporary file left


def test_save_image_to_a_file_object_and_grayscale_grid(tmp_path: object) -> None:
    import matplotlib.image

    buffer = io.BytesIO()
    x = _images((1, 1, 4, 6))
    save_image(x, buffer, format="png")
    buffer.seek(0)
    back = matplotlib.image.imread(buffer)
    expected = _to_bytes(make_grid(x).numpy())
    np.testing.assert_array_equal(np.rint(back[..., :3] * 255).astype(np.uint8), expected)


def test_save_image_never_leaves_a_partial_file(tmp_path: object,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import matplotlib.image

    path = tmp_path / "out.png"  # type: ignore[operator]
    path.write_bytes(b"old")

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(matplotlib.image, "imsave", broken)
    with pytest.raises(OSError, match="disk full"):
        save_image(_images((2, 3, 4, 4)), path)
    assert path.read_bytes() == b"old"
    assert [p.name for p in path.parent.iterdir()] == ["out.png"]


def test_importing_vision_does_not_import_matplotlib() -> None:
    code = ("import sys, minigrad.vision; "
            "sys.exit(1 if any(m.startswith('matplotlib') for m in sys.modules) else 0)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_save_image_rejects_grids_it_cannot_write(tmp_path: object) -> None:
    with pytest.raises(ValueError, match="1, 3 or 4 channels, got a grid of 2"):
        save_image(minigrad.zeros(2, 2, 4, 4), tmp_path / "x.png")  # type: ignore[operator]
