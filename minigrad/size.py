"""``Size``: the type of a tensor's shape, as ``torch.Size``."""

from __future__ import annotations

import math
from typing import Any


class Size(tuple[int, ...]):
    """A tensor's shape: a tuple of ints with ``numel()``, printed ``minigrad.Size([2, 3])``."""

    def numel(self) -> int:
        """The number of elements of a tensor of this shape: the product of the sizes."""
        return math.prod(self)

    def __repr__(self) -> str:
        return f"minigrad.Size({list(self)})"

    def __getitem__(self, index: Any) -> Any:
        item = tuple.__getitem__(self, index)
        return Size(item) if isinstance(index, slice) else item

    def __add__(self, other: Any) -> Size:
        return Size(tuple(self) + tuple(other))

    def __radd__(self, other: Any) -> Size:
        return Size(tuple(other) + tuple(self))

    def __format__(self, spec: str) -> str:
        # f-strings (minigrad's error messages) show the plain tuple; print() and repr() show
        # minigrad.Size([...]) as PyTorch does
        return format(tuple(self), spec)
