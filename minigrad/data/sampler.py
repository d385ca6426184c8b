"""Samplers: the order in which a DataLoader visits a dataset, as in ``torch.utils.data``.

Iterating a sampler yields Python ints (a BatchSampler yields lists of ints), as PyTorch's do.
The loader itself asks for a whole epoch at once (``_epoch()``, an int64 array) so that it can
slice batches without a Python loop over samples.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence, Sized
from typing import Any, Generic, TypeVar, cast

import numpy as np

from minigrad.random import generator as global_generator

__all__ = [
    "BatchSampler",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
]


def as_numpy_generator(generator: Any, op: str) -> np.random.Generator:
    """A numpy Generator from ``generator=`` (None: the global one that manual_seed seeds)."""
    if generator is None:
        return global_generator()
    if isinstance(generator, np.random.Generator):
        return generator
    inner = getattr(generator, "_generator", None)
    if isinstance(inner, np.random.Generator):
        return inner
    raise TypeError(
        f"{op}: generator must be a minigrad.Generator or a numpy Generator, got "
        f"{type(generator).__name__}"
    )


def _positive_int(value: Any, name: str, op: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(
            f"{op}: {name} should be a positive integer value, but got {name}={value!r}"
        )
    return int(value)


_T_co = TypeVar("_T_co", covariant=True)


class Sampler(Generic[_T_co]):
    """Base class: ``__iter__`` yields dataset indices (or, for a batch sampler, lists of
    them); ``__len__`` says how many, if known."""

    def __iter__(self) -> Iterator[_T_co]:
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")

    def _epoch(self) -> np.ndarray:
        """One epoch of indices as an int64 array (subclasses draw it in one call)."""
        indices: Iterable[Any] = self  # the samplers of dataset indices
        return np.fromiter((int(i) for i in indices), dtype=np.int64)


class SequentialSampler(Sampler[int]):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def _epoch(self) -> np.ndarray:
        return np.arange(len(self.data_source), dtype=np.int64)

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler[int]):
    """A random permutation of the dataset each epoch, or ``num_samples`` draws with
    ``replacement``; drawn from ``generator`` (default: the global generator)."""

    def __init__(
        self,
        data_source: Sized,
        replacement: bool = False,
        num_samples: int | None = None,
        generator: Any = None,
    ) -> None:
        if not isinstance(replacement, bool):
            raise TypeError(
                "RandomSampler: replacement should be a boolean value, but got "
                f"replacement={replacement!r}"
            )
        if num_samples is not None:
            _positive_int(num_samples, "num_samples", "RandomSampler")
        as_numpy_generator(generator, "RandomSampler")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator

    @property
    def num_samples(self) -> int:
        """How many indices an epoch yields: ``num_samples``, or the dataset's length."""
        return len(self.data_source) if self._num_samples is None else int(self._num_samples)

    def _epoch(self) -> np.ndarray:
        size = len(self.data_source)
        rng = as_numpy_generator(self.generator, "RandomSampler")
        if self.replacement:
            if size == 0:
                raise ValueError("RandomSampler: cannot draw samples from an empty dataset")
            return rng.integers(0, size, size=self.num_samples, dtype=np.int64)
        # without replacement, more samples than the dataset holds repeat whole permutations
        rounds = -(-self.num_samples // size) if size else 0
        orders = [rng.permutation(size) for _ in range(rounds)]
        return np.concatenate([np.zeros(0, np.int64), *orders])[: self.num_samples]

    def __iter__(self) -> Iterator[int]:
        return iter(self._epoch().tolist())

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler[int]):
    """The given indices in a random order each epoch."""

    def __init__(self, indices: Sequence[int], generator: Any = None) -> None:
        as_numpy_generator(generator, "SubsetRandomSampler")
        self.indices = indices
        self.generator = generator

    def _epoch(self) -> np.ndarray:
        rng = as_numpy_generator(self.generator, "SubsetRandomSampler")
        indices = np.asarray(self.indices, dtype=np.int64).reshape(-1)
        return indices[rng.permutation(len(indices))]

    def __iter__(self) -> Iterator[int]:
        return iter(self._epoch().tolist())

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler[int]):
    """``num_samples`` indices in ``range(len(weights))``, index i with probability
    proportional to ``weights[i]``."""

    def __init__(
        self,
        weights: Sequence[float],
        num_samples: int,
        replacement: bool = True,
        generator: Any = None,
    ) -> None:
        op = "WeightedRandomSampler"
        _positive_int(num_samples, "num_samples", op)
        if not isinstance(replacement, bool):
            raise ValueError(
                f"{op}: replacement should be a boolean value, but got replacement={replacement!r}"
            )
        values = np.asarray(getattr(weights, "_data", weights), dtype=np.float64)
        if values.ndim != 1:
            raise ValueError(
                f"{op}: weights should be a 1d sequence but given weights have shape "
                f"{tuple(values.shape)}"
            )
        if not np.all(np.isfinite(values)) or np.any(values < 0) or not values.sum() > 0:
            raise ValueError(
                f"{op}: weights must be finite, non-negative and not all zero, got {values}"
            )
        if not replacement and num_samples > np.count_nonzero(values):
            raise ValueError(
                f"{op}: cannot draw {num_samples} samples without replacement from "
                f"{np.count_nonzero(values)} non-zero weights"
            )
        as_numpy_generator(generator, op)
        self.weights = values
        self.num_samples = int(num_samples)
        self.replacement = replacement
        self.generator = generator

    def _epoch(self) -> np.ndarray:
        rng = as_numpy_generator(self.generator, "WeightedRandomSampler")
        p = self.weights / self.weights.sum()
        drawn = rng.choice(len(p), size=self.num_samples, replace=self.replacement, p=p)
        return drawn.astype(np.int64)

    def __iter__(self) -> Iterator[int]:
        return iter(self._epoch().tolist())

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler[list[int]]):
    """Groups the indices of ``sampler`` into lists of ``batch_size``; with ``drop_last``
    the last incomplete batch is left out."""

    def __init__(self, sampler: Iterable[int], batch_size: int, drop_last: bool) -> None:
        _positive_int(batch_size, "batch_size", "BatchSampler")
        if not isinstance(drop_last, bool):
            raise ValueError(
                "BatchSampler: drop_last should be a boolean value, but got "
                f"drop_last={drop_last!r}"
            )
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.drop_last = drop_last

    def _batches(self) -> Iterator[np.ndarray]:
        """The batches of one epoch as int64 arrays."""
        epoch = getattr(self.sampler, "_epoch", None)
        if epoch is None:
            order = np.fromiter((int(i) for i in self.sampler), dtype=np.int64)
        else:
            order = epoch()
        stop = len(order) - len(order) % self.batch_size if self.drop_last else len(order)
        for start in range(0, stop, self.batch_size):
            yield order[start : start + self.batch_size]

    def __iter__(self) -> Iterator[list[int]]:
        for batch in self._batches():
            yield batch.tolist()

    def __len__(self) -> int:
        # len() of a sampler that has none raises TypeError, as in PyTorch
        size = len(cast(Sized, self.sampler))
        if self.drop_last:
            return size // self.batch_size
        return -(-size // self.batch_size)
