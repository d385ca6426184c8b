"""Parameter: a Tensor that a Module registers as learnable."""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.tensor import Tensor


class Parameter(Tensor):
    """A Tensor that requires grad by default and that ``Module`` registers on assignment.

    ``Parameter(tensor)`` and ``Parameter(ndarray)`` share that array, like PyTorch.
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            data = np.empty((0,), dtype=np.float32)
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
