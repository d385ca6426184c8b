"""Dataset, TensorDataset and DataLoader: mini-batches of Tensors from arrays or samples.

A dataset that can gather many samples at once defines ``get_batch(indices)``; the loader then
builds each batch with one fancy-indexing call per field instead of a Python loop over samples.
Any other object with ``__len__`` and ``__getitem__`` works too: its samples are stacked.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from minigrad.random import generator as global_generator
from minigrad.tensor import Tensor

__all__ = ["DataLoader", "Dataset", "TensorDataset", "collate"]


def _as_array(value: Any) -> np.ndarray:
    return value._data if isinstance(value, Tensor) else np.asarray(value)


def _as_tensor(value: Any) -> Tensor:
    """One batch field as a Tensor; integer arrays (labels, raw pixels) become int64."""
    array = _as_array(value)
    if array.dtype.kind in "iu" and array.dtype != np.int64:
        array = array.astype(np.int64)
    return Tensor(array if array.flags.c_contiguous else np.ascontiguousarray(array))


def _map_fields(batch: Any, fn: Any) -> Any:
    if isinstance(batch, Mapping):
        return {key: _map_fields(value, fn) for key, value in batch.items()}
    if isinstance(batch, (tuple, list)):
        return tuple(_map_fields(value, fn) for value in batch)
    return fn(batch)


def collate(samples: Sequence[Any]) -> Any:
    """Stacks samples into a batch: tuples and dicts field by field, each field to one ndarray.

    ``[(x_0, y_0), (x_1, y_1), ...]`` with ``x_i`` of shape S gives ``(X, Y)`` with X of shape
    ``(len(samples), *S)``. Tensors, arrays and Python numbers are all accepted.
    """
    first = samples[0]
    if isinstance(first, Mapping):
        return {key: collate([sample[key] for sample in samples]) for key in first}
    if isinstance(first, (tuple, list)):
        lengths = {len(sample) for sample in samples}
        if len(lengths) != 1:
            raise ValueError(
                f"collate: samples have different numbers of fields {sorted(lengths)}; "
                "every sample of a dataset must have the same structure"
            )
        return tuple(collate(list(field)) for field in zip(*samples, strict=True))
    arrays = [_as_array(sample) for sample in samples]
    shapes = {array.shape for array in arrays}
    if len(shapes) != 1:
        raise ValueError(
            f"collate: cannot stack samples of shapes {sorted(shapes)} into one batch; "
            "give every sample the same shape (pad or resize them in the dataset)"
        )
    return np.stack(arrays)


class Dataset:
    """A map-style dataset: ``len(dataset)`` samples, ``dataset[i]`` for i in range(len).

    Subclasses implement ``__len__`` and ``__getitem__``. Those backed by arrays also override
    ``get_batch`` to gather a whole batch by fancy indexing.
    """

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def get_batch(self, indices: np.ndarray) -> Any:
        """The samples at ``indices`` (int64, shape (B,)) stacked into a batch of arrays."""
        return collate([self[int(index)] for index in indices])


class TensorDataset(Dataset):
    """Samples are rows of the given tensors or arrays: ``dataset[i] = (t[i] for t in tensors)``.

    All tensors share their first dimension N. Batches are gathered by fancy indexing.
    """

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor or array, e.g. (x, y)")
        arrays = tuple(_as_array(tensor) for tensor in tensors)
        shapes = [array.shape for array in arrays]
        if any(len(shape) == 0 for shape in shapes) or len({shape[0] for shape in shapes}) != 1:
            raise ValueError(
                "TensorDataset: every tensor needs the same first dimension (the number of "
                f"samples); got shapes {', '.join(map(str, shapes))}"
            )
        self.arrays = arrays

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        return tuple(_as_tensor(array[index]) for array in self.arrays)

    def get_batch(self, indices: np.ndarray) -> tuple[np.ndarray, ...]:
        return tuple(array[indices] for array in self.arrays)

    def __repr__(self) -> str:
        shapes = ", ".join(str(array.shape) for array in self.arrays)
        return f"TensorDataset({shapes})"


class DataLoader:
    """Iterates over a dataset in mini-batches of Tensors, like ``torch.utils.data.DataLoader``.

    Each batch has the structure of one sample with a leading batch dimension B: a
    TensorDataset of (x (N, ...), y (N,)) yields tuples (x (B, ...), y (B,)). Integer fields come
    out as int64 Tensors. Every sample appears exactly once per epoch; with ``drop_last`` the
    last incomplete batch is skipped. With ``shuffle``, each epoch draws a new order from the
    loader's own generator, so the same ``seed`` gives the same sequence of epochs every time the
    loader is built; with ``seed=None`` the order comes from the global generator, which
    ``minigrad.manual_seed`` makes reproducible (as ``torch.manual_seed`` does for PyTorch).
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        seed: int | None = None,
    ) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
            raise TypeError(
                f"DataLoader: batch_size must be a positive int, got {type(batch_size).__name__}"
            )
        if batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size}")
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(
                f"DataLoader: {type(dataset).__name__} is not a dataset; it needs __len__ and "
                "__getitem__ (subclass minigrad.data.Dataset or use TensorDataset(x, y))"
            )
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.seed = seed
        self._generator = None if seed is None else np.random.default_rng(seed)

    def __len__(self) -> int:
        """The number of batches per epoch."""
        num_samples = len(self.dataset)
        if self.drop_last:
            return num_samples // self.batch_size
        return -(-num_samples // self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        num_samples = len(self.dataset)
        if self.shuffle:
            generator = self._generator if self._generator is not None else global_generator()
            order = generator.permutation(num_samples)
        else:
            order = np.arange(num_samples, dtype=np.int64)
        return self._batches(order)

    def _batches(self, order: np.ndarray) -> Iterator[Any]:
        stop = len(self) * self.batch_size if self.drop_last else len(order)
        get_batch = getattr(self.dataset, "get_batch", None)
        for start in range(0, stop, self.batch_size):
            indices = order[start : start + self.batch_size]
            if get_batch is not None:
                batch = get_batch(indices)
            else:
                batch = collate([self.dataset[int(index)] for index in indices])
            yield _map_fields(batch, _as_tensor)

    def __repr__(self) -> str:
        return (
            f"DataLoader({type(self.dataset).__name__}, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last}, seed={self.seed})"
        )
