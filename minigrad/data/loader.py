"""Dataset, TensorDataset and DataLoader: mini-batches of Tensors from arrays or samples.

A dataset that can gather many samples at once defines ``get_batch(indices)``; the loader then
builds each batch with one fancy-indexing call per field instead of a Python loop over samples.
Any other object with ``__len__`` and ``__getitem__`` works too: its samples are stacked.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from minigrad.data.sampler import (
    BatchSampler,
    RandomSampler,
    SequentialSampler,
)
from minigrad.errors import OpError
from minigrad.tensor import Tensor

__all__ = [
    "DataLoader",
    "Dataset",
    "TensorDataset",
    "collate",
    "default_collate",
    "default_convert",
    "get_worker_info",
]


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

    Samples that cannot be stacked raise ``minigrad.errors.OpError`` (a ValueError and, like
    PyTorch's error, a RuntimeError).

    ``[(x_0, y_0), (x_1, y_1), ...]`` with ``x_i`` of shape S gives ``(X, Y)`` with X of shape
    ``(len(samples), *S)``. Tensors, arrays and Python numbers are all accepted.
    """
    first = samples[0]
    if isinstance(first, Mapping):
        return {key: collate([sample[key] for sample in samples]) for key in first}
    if isinstance(first, (tuple, list)):
        lengths = {len(sample) for sample in samples}
        if len(lengths) != 1:
            raise OpError(
                f"collate: samples have different numbers of fields {sorted(lengths)}; "
                "every sample of a dataset must have the same structure"
            )
        return tuple(collate(list(field)) for field in zip(*samples, strict=True))
    arrays = [_as_array(sample) for sample in samples]
    shapes = {array.shape for array in arrays}
    if len(shapes) != 1:
        raise OpError(
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

    def __add__(self, other: Dataset) -> Any:
        from minigrad.data.subsets import ConcatDataset

        return ConcatDataset([self, other])


class TensorDataset(Dataset):
    """Samples are rows of the given tensors or arrays: ``dataset[i] = (t[i] for t in tensors)``.

    All tensors share their first dimension N. Batches are gathered by fancy indexing.

    Example::

        >>> import minigrad as mg
        >>> from minigrad.data import TensorDataset
        >>> dataset = TensorDataset(mg.arange(10.0).reshape(5, 2), mg.arange(5))
        >>> len(dataset)
        5
        >>> x, y = dataset[1]
        >>> x.tolist(), y.item()
        ([2.0, 3.0], 1)
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
    last incomplete batch is skipped. With ``shuffle``, each epoch draws a new order from
    ``generator`` (a minigrad or numpy Generator), or from a generator seeded with ``seed``
    (so the same ``seed`` gives the same sequence of epochs every time the loader is built), or
    from the global generator, which ``minigrad.manual_seed`` makes reproducible.

    The arguments are PyTorch's, validated as PyTorch validates them. ``sampler`` /
    ``batch_sampler`` choose the order; ``collate_fn`` receives the list of samples of a batch
    and its result is yielded as is (by default batches are gathered by fancy indexing where
    the dataset has ``get_batch``). ``batch_size=None`` yields single samples as Tensors.
    Loading is always done in this process: ``num_workers > 0`` gives exactly the batches that
    ``num_workers=0`` gives, and ``worker_init_fn(i)`` is called for each worker id i at the
    start of every epoch (once, with ``persistent_workers``). ``pin_memory``, ``timeout``,
    ``prefetch_factor``, ``multiprocessing_context`` and ``in_order`` are accepted and checked
    but change nothing on the CPU.

    Example::

        >>> import minigrad as mg
        >>> from minigrad.data import DataLoader, TensorDataset
        >>> dataset = TensorDataset(mg.arange(10.0).reshape(5, 2), mg.arange(5))
        >>> loader = DataLoader(dataset, batch_size=2)
        >>> [(tuple(x.shape), y.tolist()) for x, y in loader]
        [((2, 2), [0, 1]), ((2, 2), [2, 3]), ((1, 2), [4])]
        >>> shuffled = DataLoader(dataset, batch_size=5, shuffle=True, seed=0)
        >>> sorted(next(iter(shuffled))[1].tolist())
        [0, 1, 2, 3, 4]
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Any = None,
        batch_sampler: Any = None,
        num_workers: int = 0,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], None] | None = None,
        multiprocessing_context: Any = None,
        generator: Any = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
        seed: int | None = None,
    ) -> None:
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(
                f"DataLoader: {type(dataset).__name__} is not a dataset; it needs __len__ and "
                "__getitem__ (subclass minigrad.data.Dataset or use TensorDataset(x, y))"
            )
        _check_workers(num_workers, timeout, prefetch_factor, persistent_workers,
                       multiprocessing_context, worker_init_fn)
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"DataLoader: collate_fn must be callable, got {collate_fn!r}")
        if generator is not None and seed is not None:
            raise ValueError("DataLoader: pass generator or seed, not both")
        if seed is not None:
            generator = np.random.default_rng(seed)
        shuffle = bool(shuffle) if shuffle is not None else False
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "DataLoader: batch_sampler option is mutually exclusive with batch_size, "
                    "shuffle, sampler, and drop_last"
                )
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError(
                "DataLoader: batch_size=None option disables auto-batching and is mutually "
                "exclusive with drop_last"
            )
        if batch_size is not None and (
            isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer))
            or batch_size <= 0
        ):
            raise ValueError(
                "DataLoader: batch_size should be a positive integer value (or None), but got "
                f"batch_size={batch_size!r}"
            )
        if not isinstance(drop_last, bool):
            raise ValueError(
                f"DataLoader: drop_last should be a boolean value, but got drop_last={drop_last!r}"
            )
        if sampler is None:
            sampler = (RandomSampler(dataset, generator=generator) if shuffle
                       else SequentialSampler(dataset))
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, int(batch_size), drop_last)

        self.dataset = dataset
        self.batch_size = None if batch_size is None else int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.seed = seed
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = int(num_workers)
        self.collate_fn = collate_fn
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.generator = generator
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2  # PyTorch's default with workers
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self.in_order = in_order
        self._workers_started = False

    def __len__(self) -> int:
        """The number of batches per epoch (of samples with ``batch_size=None``)."""
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)

    def __iter__(self) -> Iterator[Any]:
        self._start_workers()
        if self.batch_sampler is None:
            return self._samples()
        return self._batches()

    def _start_workers(self) -> None:
        if self.worker_init_fn is None or (self.persistent_workers and self._workers_started):
            return
        entropy = np.random.SeedSequence().entropy  # leaves the global generator be
        assert isinstance(entropy, int)  # drawn from the OS: one int
        seed = entropy % 2**63
        for worker_id in range(self.num_workers):
            _worker.info = WorkerInfo(worker_id, self.num_workers, seed + worker_id, self.dataset)
            try:
                self.worker_init_fn(worker_id)
            finally:
                _worker.info = None
        self._workers_started = True

    def _samples(self) -> Iterator[Any]:
        for index in self.sampler:
            sample = self.dataset[index]
            yield self.collate_fn(sample) if self.collate_fn is not None else _convert(sample)

    def _batches(self) -> Iterator[Any]:
        get_batch = getattr(self.dataset, "get_batch", None)
        for indices in self._index_batches():
            if self.collate_fn is not None:
                yield self.collate_fn([self.dataset[int(index)] for index in indices])
                continue
            if get_batch is not None:
                batch = get_batch(indices)
            else:
                batch = collate([self.dataset[int(index)] for index in indices])
            yield _map_fields(batch, _as_tensor)

    def _index_batches(self) -> Iterator[np.ndarray]:
        batches = getattr(self.batch_sampler, "_batches", None)
        if batches is not None:
            return batches()
        # a user's batch sampler: any iterable of index lists
        return (np.asarray(batch, dtype=np.int64) for batch in self.batch_sampler)

    def __repr__(self) -> str:
        return (
            f"DataLoader({type(self.dataset).__name__}, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last}, seed={self.seed})"
        )


class WorkerInfo(NamedTuple):
    """What ``get_worker_info()`` returns inside ``worker_init_fn``."""

    id: int
    num_workers: int
    seed: int
    dataset: Any


_worker = threading.local()


def get_worker_info() -> WorkerInfo | None:
    """Inside ``worker_init_fn``: the worker's id, count, seed and dataset; otherwise None
    (batches themselves are loaded in the main process)."""
    return getattr(_worker, "info", None)


def _check_workers(
    num_workers: Any,
    timeout: Any,
    prefetch_factor: Any,
    persistent_workers: Any,
    multiprocessing_context: Any,
    worker_init_fn: Any,
) -> None:
    """PyTorch's checks of the worker arguments, with its wording."""
    if isinstance(num_workers, bool) or not isinstance(num_workers, (int, np.integer)):
        raise TypeError(f"DataLoader: num_workers must be an int, got {num_workers!r}")
    if num_workers < 0:
        raise ValueError(
            "DataLoader: num_workers option should be non-negative; use num_workers=0 to "
            "disable multiprocessing."
        )
    if not isinstance(timeout, (int, float)) or timeout < 0:
        raise ValueError(f"DataLoader: timeout option should be non-negative, got {timeout!r}")
    if num_workers == 0 and prefetch_factor is not None:
        raise ValueError(
            "DataLoader: prefetch_factor option could only be specified in multiprocessing. "
            "let num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None."
        )
    if prefetch_factor is not None and (
        isinstance(prefetch_factor, bool) or not isinstance(prefetch_factor, int)
        or prefetch_factor < 0
    ):
        raise ValueError(
            f"DataLoader: prefetch_factor option should be non-negative, got {prefetch_factor!r}"
        )
    if persistent_workers and num_workers == 0:
        raise ValueError("DataLoader: persistent_workers option needs num_workers > 0")
    if worker_init_fn is not None and not callable(worker_init_fn):
        raise TypeError(f"DataLoader: worker_init_fn must be callable, got {worker_init_fn!r}")
    if multiprocessing_context is not None:
        if num_workers == 0:
            raise ValueError(
                "DataLoader: multiprocessing_context can only be used with multi-process "
                f"loading (num_workers > 0), but got num_workers={num_workers}"
            )
        if isinstance(multiprocessing_context, str):
            methods = multiprocessing.get_all_start_methods()
            if multiprocessing_context not in methods:
                raise ValueError(
                    "DataLoader: multiprocessing_context option should specify a valid start "
                    f"method in {methods!r}, but got "
                    f"multiprocessing_context={multiprocessing_context!r}"
                )
        elif not hasattr(multiprocessing_context, "Process"):
            raise TypeError(
                "DataLoader: multiprocessing_context option should be a valid context object "
                f"or a string specifying the start method, but got {multiprocessing_context!r}"
            )


def default_convert(data: Any) -> Any:
    """Arrays and numbers (also inside tuples, lists and dicts) to Tensors, as PyTorch's."""
    return _convert(data)


def _convert(sample: Any) -> Any:
    if isinstance(sample, Tensor) or isinstance(sample, str):
        return sample
    if isinstance(sample, Mapping):
        return {key: _convert(value) for key, value in sample.items()}
    if isinstance(sample, list):
        return [_convert(value) for value in sample]
    if isinstance(sample, tuple):
        return tuple(_convert(value) for value in sample)
    if isinstance(sample, (np.ndarray, np.generic, int, float, bool)):
        return _as_tensor(sample)
    return sample


def default_collate(samples: Sequence[Any]) -> Any:
    """Stacks a list of samples into a batch of Tensors (``collate`` followed by conversion),
    the loader's default; for use inside a custom ``collate_fn``."""
    return _map_fields(collate(samples), _as_tensor)
