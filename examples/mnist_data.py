"""MNIST for the examples: where the files are, the offline split, subsets and random shifts."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from minigrad.data import MNIST, default_root, make_offline_split

__all__ = [
    "RandomShift",
    "add_data_arguments",
    "data_root",
    "load_datasets",
    "offline_split_root",
    "prepare_offline_split",
    "shift_images",
]

_SPLIT_NAMES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """The data options shared by the example scripts."""
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="folder with the MNIST IDX files (default: minigrad's data folder, downloading "
        "missing files); with --offline-split, where the split is written",
    )
    parser.add_argument(
        "--offline-split",
        type=Path,
        default=None,
        metavar="SRC",
        help="train on the offline split built from the official t10k files in SRC: the first "
        "8,000 test images for training, the last 2,000 for testing (no download)",
    )
    parser.add_argument("--limit-train", type=int, default=None, metavar="N",
                        help="train on the first N training images only")
    parser.add_argument("--limit-test", type=int, default=None, metavar="N",
                        help="test on the first N test images only")


def offline_split_root() -> Path:
    """Where the offline split is cached by default: next to minigrad's MNIST folder."""
    return default_root().parent / "mnist-offline-split"


def prepare_offline_split(src_dir: str | os.PathLike, dst_dir: str | os.PathLike) -> Path:
    """Writes the 8,000/2,000 split of ``src_dir``'s t10k files into ``dst_dir`` unless it is
    there already; returns ``dst_dir``."""
    folder = Path(dst_dir)
    if all((folder / name).is_file() for name in _SPLIT_NAMES):
        return folder
    return make_offline_split(src_dir, folder, train_size=8000)


def data_root(args: argparse.Namespace) -> tuple[Path | None, bool]:
    """The folder to read and whether missing files may be downloaded, from the data options."""
    if args.offline_split is not None:
        folder = args.data_dir if args.data_dir is not None else offline_split_root()
        return prepare_offline_split(args.offline_split, folder), False
    return args.data_dir, True


def _limit(dataset: MNIST, limit: int | None) -> MNIST:
    if limit is not None:
        if limit < 1:
            raise ValueError(f"a limit on the number of images must be positive, got {limit}")
        dataset.data = dataset.data[:limit]
        dataset.targets = dataset.targets[:limit]
    return dataset


def load_datasets(
    root: str | os.PathLike | None,
    download: bool = True,
    limit_train: int | None = None,
    limit_test: int | None = None,
) -> tuple[MNIST, MNIST]:
    """The MNIST training and test sets, standardised, each cut to its first ``limit`` images.

    Raises RuntimeError, FileNotFoundError or ValueError with the loader's message when the files
    are missing and cannot be downloaded, or are corrupt.
    """
    train = _limit(MNIST(root, train=True, download=download), limit_train)
    test = _limit(MNIST(root, train=False, download=download), limit_test)
    return train, test


def shift_images(
    images: np.ndarray, max_shift: int, generator: np.random.Generator
) -> np.ndarray:
    """Each image moved by its own random offset in [-max_shift, max_shift] pixels along each
    axis: ``(N, C, H, W) -> (N, C, H, W)``. Uncovered pixels repeat the border (background).

    One edge pad, one window view and one fancy-indexing gather for the whole batch.
    """
    if max_shift == 0:
        return images
    size = 2 * max_shift + 1
    padded = np.pad(
        images, ((0, 0), (0, 0), (max_shift, max_shift), (max_shift, max_shift)), mode="edge"
    )
    num_images, channels, height, width = images.shape
    # (N, C, size, size, H, W): window (dy, dx) is the image moved by (max_shift - dy, ...)
    windows = sliding_window_view(padded, (height, width), axis=(2, 3))
    rows = generator.integers(0, size, num_images)
    cols = generator.integers(0, size, num_images)
    return windows[np.arange(num_images), :, rows, cols]


class RandomShift:
    """A view of an image dataset whose batches are randomly shifted by up to ``max_shift``
    pixels (training-time augmentation); labels pass through unchanged."""

    def __init__(self, dataset: Any, max_shift: int = 2, seed: int | None = None) -> None:
        self.dataset = dataset
        self.max_shift = max_shift
        self.generator = np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        images, labels = self.get_batch(np.array([index]))
        return images[0], labels[0]

    def get_batch(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        images, labels = self.dataset.get_batch(indices)
        return shift_images(images, self.max_shift, self.generator), labels
