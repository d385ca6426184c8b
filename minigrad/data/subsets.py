"""Views of datasets: ``Subset``, ``ConcatDataset`` and ``random_split``, as in PyTorch.

Both views keep ``get_batch`` working when the datasets under them have it, so a loader over a
split of a TensorDataset still gathers each batch by fancy indexing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from minigrad.data.loader import Dataset
from minigrad.data.sampler import as_numpy_generator

__all__ = ["ConcatDataset", "Subset", "random_split"]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``: ``subset[i] = dataset[indices[i]]``."""

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, list):
            return [self.dataset[self.indices[i]] for i in index]
        return self.dataset[self.indices[index]]

    def get_batch(self, indices: np.ndarray) -> Any:
        chosen = np.asarray(self.indices, dtype=np.int64)[indices]
        get_batch = getattr(self.dataset, "get_batch", None)
        if get_batch is not None:
            return get_batch(chosen)
        return super().get_batch(indices)


class ConcatDataset(Dataset):
    """The datasets one after the other; ``cumulative_sizes[i]`` ends dataset i."""

    def __init__(self, datasets: Iterable[Any]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for dataset in self.datasets:
            if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
                raise TypeError(
                    f"ConcatDataset: {type(dataset).__name__} is not a map-style dataset (it "
                    "needs __len__ and __getitem__)"
                )
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self) -> int:
        return int(self.cumulative_sizes[-1])

    def _locate(self, index: int) -> tuple[int, int]:
        if index < 0:
            if -index > len(self):
                raise ValueError(
                    f"ConcatDataset: absolute value of index {index} should not exceed dataset "
                    f"length {len(self)}"
                )
            index += len(self)
        if index >= len(self):
            raise IndexError(
                f"ConcatDataset: index {index} is out of range for {len(self)} samples"
            )
        which = int(np.searchsorted(self.cumulative_sizes, index, side="right"))
        start = self.cumulative_sizes[which - 1] if which else 0
        return which, index - start

    def __getitem__(self, index: int) -> Any:
        which, local = self._locate(int(index))
        return self.datasets[which][local]

    def get_batch(self, indices: np.ndarray) -> Any:
        indices = np.asarray(indices, dtype=np.int64)
        if not all(hasattr(d, "get_batch") for d in self.datasets) or len(indices) == 0:
            return super().get_batch(indices)
        which = np.searchsorted(self.cumulative_sizes, indices, side="right")
        starts = np.concatenate([[0], self.cumulative_sizes[:-1]]).astype(np.int64)
        parts, positions = [], []
        for d in np.unique(which):
            chosen = np.flatnonzero(which == d)
            parts.append(self.datasets[d].get_batch(indices[chosen] - starts[d]))
            positions.append(chosen)
        order = np.argsort(np.concatenate(positions), kind="stable")
        return _stitch(parts, order)


def _stitch(parts: list[Any], order: np.ndarray) -> Any:
    """Batches of the same structure joined along the batch axis, then put in ``order``."""
    first = parts[0]
    if isinstance(first, Mapping):
        return {key: _stitch([part[key] for part in parts], order) for key in first}
    if isinstance(first, (tuple, list)):
        return tuple(_stitch(list(fields), order) for fields in zip(*parts, strict=True))
    arrays = [getattr(part, "_data", part) for part in parts]
    return np.concatenate(arrays)[order]


def random_split(dataset: Any, lengths: Sequence[float], generator: Any = None) -> list[Subset]:
    """Splits ``dataset`` into non-overlapping random Subsets of the given lengths.

    ``lengths`` are sample counts summing to ``len(dataset)``, or fractions summing to 1
    (counts are floored and the remainder handed out one by one from the first split on, as
    PyTorch does). The permutation comes from ``generator`` (default: the global generator).
    """
    size = len(dataset)
    lengths = list(lengths)
    if lengths and math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        for i, fraction in enumerate(lengths):
            if not 0 <= fraction <= 1:
                raise ValueError(f"random_split: fraction at index {i} is not between 0 and 1")
        counts = [int(math.floor(size * fraction)) for fraction in lengths]
        for i in range(size - sum(counts)):
            counts[i % len(counts)] += 1
    else:
        counts = []
        for length in lengths:
            if isinstance(length, bool) or not float(length).is_integer() or length < 0:
                raise ValueError(
                    f"random_split: lengths must be non-negative sample counts or fractions "
                    f"summing to 1, got {lengths}"
                )
            counts.append(int(length))
    if sum(counts) != size:
        raise ValueError(
            f"random_split: sum of input lengths {sum(counts)} does not equal the length of "
            f"the input dataset {size}"
        )
    rng = as_numpy_generator(generator, "random_split")
    order = rng.permutation(size)
    bounds = np.cumsum([0, *counts])
    return [Subset(dataset, order[a:b].tolist()) for a, b in zip(bounds[:-1], bounds[1:])]
