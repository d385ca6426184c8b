"""Type aliases for annotations, as ``torch.types``: ``Number``, ``Device``, ``DType`` and the
NumPy array type minigrad's engine works on.

>>> import minigrad
>>> from minigrad.types import Number
>>> def total(t: minigrad.Tensor) -> Number:
...     return t.sum().item()
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from minigrad.device import device
from minigrad.dtypes import dtype

__all__ = ["Array", "DType", "DTypeLike", "Device", "Number", "ShapeLike"]

#: what ``Tensor.item()`` returns: a Python number
Number: TypeAlias = builtins.int | builtins.float | builtins.bool
#: a device argument: ``minigrad.device("cpu")``, ``"cpu"``, an index, or None for the default
Device: TypeAlias = device | str | builtins.int | None
#: a tensor element type
DType: TypeAlias = dtype
#: what a ``dtype=`` argument accepts: a minigrad dtype, a NumPy dtype or scalar type, a name,
#: or Python's ``float``, ``int``, ``bool``
DTypeLike: TypeAlias = dtype | np.dtype[Any] | type | str
#: a shape argument: a sequence of sizes (``minigrad.Size`` is one)
ShapeLike: TypeAlias = Sequence[builtins.int]
#: the NumPy array inside a Tensor (``t._data``) and what primitives compute on
Array: TypeAlias = npt.NDArray[Any]
