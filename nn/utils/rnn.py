"""Variable-length sequences: ``pad_sequence``, ``pack_padded_sequence``, ``PackedSequence`` …

A ``PackedSequence`` holds the time steps of a batch of sequences sorted by length, longest
first, concatenated time-major: step 0 of every sequence, then step 1 of those that are long
enough, and so on. ``batch_sizes[t]`` is how many sequences have a step ``t``. Every function
here moves data with one gather (no loop over the batch), so gradients flow through them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

import minigrad
from minigrad.errors import OpError
from minigrad.tensor import Tensor, _wrap

__all__ = [
    "PackedSequence",
    "invert_permutation",
    "pack_padded_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "pack_sequence",
    "unpad_sequence",
    "unpack_sequence",
]


class _PackedSequenceBase(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(_PackedSequenceBase):
    """``(data, batch_sizes, sorted_indices, unsorted_indices)``, as ``torch``'s namedtuple.

    ``data`` is ``(sum(lengths), *)``; ``batch_sizes`` an int64 tensor of length
    ``max(lengths)``; ``sorted_indices[i]`` is the original batch position of the i-th longest
    sequence (None when the input was already sorted) and ``unsorted_indices`` its inverse.
    """

    def __new__(
        cls,
        data: Any,
        batch_sizes: Tensor | None = None,
        sorted_indices: Tensor | None = None,
        unsorted_indices: Tensor | None = None,
    ) -> PackedSequence:
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is not None:
            return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)
        # the older spelling PackedSequence((data, batch_sizes))
        if not isinstance(data, (list, tuple)) or len(data) != 2:
            raise TypeError(
                "PackedSequence: pass data and batch_sizes (or one (data, batch_sizes) pair)"
            )
        return super().__new__(cls, data[0], data[1], sorted_indices, unsorted_indices)

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        """``data.to(...)``; the index tensors stay int64."""
        data = self.data.to(*args, **kwargs)
        return self if data is self.data else type(self)(data, *self[1:])

    def cpu(self) -> PackedSequence:
        """The sequence itself: it is already on the CPU."""
        return self

    def double(self) -> PackedSequence:
        """The sequence with its data as float64."""
        return self.to(minigrad.float64)

    def float(self) -> PackedSequence:
        """The sequence with its data as float32."""
        return self.to(minigrad.float32)

    def half(self) -> PackedSequence:
        """The sequence with its data as float16."""
        return self.to(minigrad.float16)

    def long(self) -> PackedSequence:
        """The sequence with its data as int64."""
        return self.to(minigrad.int64)

    def int(self) -> PackedSequence:
        """The sequence with its data as int32."""
        return self.to(minigrad.int32)

    @property
    def is_cuda(self) -> bool:
        """Whether the data is on a CUDA device: always ``False``."""
        return False

    def is_pinned(self) -> bool:
        """Whether the data is in pinned memory: always ``False``."""
        return False


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The inverse of an int64 permutation tensor (None stays None)."""
    if permutation is None:
        return None
    order = np.asarray(permutation._data)
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.size, dtype=order.dtype)
    return _wrap(inverse.astype(np.int64))


def _lengths_array(lengths: Any, op: str) -> np.ndarray:
    if isinstance(lengths, Tensor):
        array = np.asarray(lengths._data)
    else:
        array = np.asarray(lengths)
    if array.ndim != 1:
        raise OpError(f"{op}: lengths must be 1-D, got shape {array.shape}")
    if array.size and array.dtype.kind not in "iu":
        if array.dtype.kind == "f" and np.all(array == np.round(array)):
            array = array.astype(np.int64)
        else:
            raise TypeError(f"{op}: lengths must be integers, got dtype {array.dtype}")
    return array.astype(np.int64)


def _gather_rows(source: Tensor, rows: np.ndarray) -> Tensor:
    """``source[rows]`` along dim 0 (one gather; its backward scatters)."""
    return source[rows]


def pack_padded_sequence(
    input: Tensor, lengths: Any, batch_first: bool = False, enforce_sorted: bool = True
) -> PackedSequence:
    """Pack a padded batch ``(T, B, *)`` (``(B, T, *)`` if batch_first) of sequences of
    ``lengths`` into a PackedSequence."""
    op = "pack_padded_sequence"
    lengths_np = _lengths_array(lengths, op)
    batch_dim = 0 if batch_first else 1
    if input.ndim < 2:
        raise OpError(f"{op}: input must be at least 2-D (T, B, *), got shape {input.shape}")
    batch = input.shape[batch_dim]
    if lengths_np.size != batch:
        raise OpError(
            f"{op}: expected {batch} lengths (one per sequence of the batch), got "
            f"{lengths_np.size}"
        )
    if batch and lengths_np.min() <= 0:
        raise OpError(
            f"{op}: length of all samples has to be greater than 0, but found an element in "
            "'lengths' that is <= 0"
        )
    steps = input.shape[1 - batch_dim]
    if batch and lengths_np.max() > steps:
        raise OpError(
            f"{op}: a length of {int(lengths_np.max())} exceeds the {steps} time steps of the "
            f"input of shape {input.shape}"
        )
    if enforce_sorted:
        if np.any(np.diff(lengths_np) > 0):
            raise OpError(
                f"{op}: `lengths` array must be sorted in decreasing order when "
                "`enforce_sorted` is True. You can pass `enforce_sorted=False` to "
                "pack_padded_sequence and/or pack_sequence to sidestep this requirement if you "
                "do not need ONNX exportability."
            )
        sorted_indices = None
        order = np.arange(batch)
    else:
        order = np.argsort(-lengths_np, kind="stable")
        sorted_indices = _wrap(order.astype(np.int64))
    sorted_lengths = lengths_np[order]
    max_length = int(sorted_lengths[0]) if batch else 0
    # valid[t, b]: sequence b (in sorted order) has a step t; nonzero lists them time-major
    valid = sorted_lengths[None, :] > np.arange(max_length)[:, None]
    time_index, sorted_batch_index = np.nonzero(valid)
    batch_index = order[sorted_batch_index]
    if batch_first:
        data = input[batch_index, time_index]
    else:
        data = input[time_index, batch_index]
    batch_sizes = _wrap(valid.sum(axis=1).astype(np.int64))
    return PackedSequence(data, batch_sizes, sorted_indices, None)


def pad_packed_sequence(
    sequence: PackedSequence,
    batch_first: bool = False,
    padding_value: float = 0.0,
    total_length: int | None = None,
) -> tuple[Tensor, Tensor]:
    """Undo pack_padded_sequence: ``(T, B, *)`` (``(B, T, *)`` if batch_first) and the int64
    lengths, in the original batch order."""
    data, batch_sizes_t, _, unsorted_indices = sequence
    batch_sizes = np.asarray(batch_sizes_t._data).astype(np.int64)
    steps = batch_sizes.size
    batch = int(batch_sizes[0]) if steps else 0
    if total_length is not None:
        if total_length < steps:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in "
                f"input, but got total_length={total_length} and max sequence length being "
                f"{steps}"
            )
        steps = total_length
    # row of data for (t, b) in sorted order, or the padding row appended at the end
    valid = np.arange(batch)[None, :] < np.pad(batch_sizes, (0, steps - batch_sizes.size))[:, None]
    rows = np.full(valid.shape, data.shape[0], dtype=np.int64)
    rows[valid] = np.arange(int(valid.sum()))
    lengths = valid.sum(axis=0).astype(np.int64)
    if unsorted_indices is not None:
        order = np.asarray(unsorted_indices._data)
        rows = rows[:, order]
        lengths = lengths[order]
    if batch_first:
        rows = rows.T
    padding = minigrad.full((1, *data.shape[1:]), padding_value, dtype=data.dtype)
    padded = minigrad.cat([data, padding], 0)[rows]
    return padded, _wrap(lengths)


def pad_sequence(
    sequences: Tensor | Sequence[Tensor],
    batch_first: bool = False,
    padding_value: float = 0.0,
    padding_side: str = "right",
) -> Tensor:
    """Stack sequences ``(L_i, *)`` into ``(T, B, *)`` (``(B, T, *)`` if batch_first), T the
    longest length, padding with ``padding_value`` on ``padding_side`` ('right' or 'left')."""
    op = "pad_sequence"
    if padding_side not in ("left", "right"):
        raise ValueError(
            f"{op}: Expected padding_side to be one of left or right, but got {padding_side}."
        )
    if isinstance(sequences, Tensor):
        sequences = list(sequences.unbind(0))
    sequences = list(sequences)
    if not sequences:
        raise OpError(f"{op}: received an empty list of sequences")
    trailing = sequences[0].shape[1:]
    for position, seq in enumerate(sequences):
        if seq.ndim == 0 or seq.shape[1:] != trailing:
            raise OpError(
                f"{op}: sequence {position} has shape {seq.shape}; every sequence must be "
                f"(L, *{trailing}) with the same trailing dimensions as the first"
            )
    lengths = np.array([seq.shape[0] for seq in sequences], dtype=np.int64)
    steps = int(lengths.max())
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    offsets = np.arange(steps)[None, :]
    if padding_side == "right":
        valid = offsets < lengths[:, None]
        source = starts[:, None] + offsets
    else:
        shift = (steps - lengths)[:, None]
        valid = offsets >= shift
        source = starts[:, None] + offsets - shift
    total = int(lengths.sum())
    rows = np.where(valid, source, total)  # (B, T); ``total`` is the padding row
    if not batch_first:
        rows = rows.T
    dtype = sequences[0].dtype
    parts = [seq if seq.dtype == dtype else seq.to(dtype) for seq in sequences]
    padding = minigrad.full((1, *trailing), padding_value, dtype=dtype)
    return minigrad.cat([*parts, padding], 0)[rows]


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences ``(L_i, *)``: ``pack_padded_sequence(pad_sequence(...))``."""
    lengths = [seq.shape[0] for seq in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(
    padded_sequences: Tensor, lengths: Any, batch_first: bool = False
) -> list[Tensor]:
    """The list of sequences ``(L_i, *)`` in a padded batch."""
    lengths_np = _lengths_array(lengths, "unpad_sequence")
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [padded_sequences[b, : int(n)] for b, n in enumerate(lengths_np)]


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The list of sequences ``(L_i, *)`` in a PackedSequence, in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
