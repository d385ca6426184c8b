"""The random-shift augmentation: every image moves by at most max_shift, as a whole."""

from __future__ import annotations

import numpy as np
import pytest
from mnist_data import RandomShift, shift_images

from minigrad.data import TensorDataset


def _reference_shift(image: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """The image moved down by dy and right by dx, border pixels repeated (a slow loop)."""
    height, width = image.shape
    out = np.empty_like(image)
    for row in range(height):
        for col in range(width):
            out[row, col] = image[min(max(row - dy, 0), height - 1),
                                  min(max(col - dx, 0), width - 1)]
    return out


@pytest.mark.parametrize("max_shift", [1, 2, 3])
def test_each_image_is_one_of_the_allowed_shifts(max_shift: int) -> None:
    rng = np.random.default_rng(0)
    images = rng.random((16, 1, 9, 7)).astype(np.float32)
    shifted = shift_images(images, max_shift, np.random.default_rng(1))
    assert shifted.shape == images.shape and shifted.dtype == images.dtype
    offsets = range(-max_shift, max_shift + 1)
    seen = set()
    for image, result in zip(images[:, 0], shifted[:, 0], strict=True):
        matches = [(dy, dx) for dy in offsets for dx in offsets
                   if np.array_equal(result, _reference_shift(image, dy, dx))]
        assert matches, "an image was not a pure shift of its original"
        seen.update(matches)
    assert len(seen) > 1


def test_zero_shift_is_the_identity_and_inputs_are_not_mutated() -> None:
    images = np.arange(2 * 1 * 4 * 4, dtype=np.float32).reshape(2, 1, 4, 4)
    copy = images.copy()
    assert shift_images(images, 0, np.random.default_rng(0)) is images
    shift_images(images, 2, np.random.default_rng(0))
    np.testing.assert_array_equal(images, copy)


def test_random_shift_keeps_labels_and_is_reproducible() -> None:
    images = np.random.default_rng(0).random((10, 1, 8, 8)).astype(np.float32)
    labels = np.arange(10)
    indices = np.array([3, 1, 4])
    first = RandomShift(TensorDataset(images, labels), 2, seed=5).get_batch(indices)
    second = RandomShift(TensorDataset(images, labels), 2, seed=5).get_batch(indices)
    np.testing.assert_array_equal(first[1], labels[indices])
    np.testing.assert_array_equal(first[0], second[0])
