"""Scratch arrays an optimizer reuses from step to step instead of allocating temporaries.

An update rule runs one parameter at a time, so one set of arrays per parameter shape and
dtype serves every parameter of that shape. They live on the optimizer instance (never in
``state``, whose keys match PyTorch's ``state_dict``).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def scratch(owner: Any, like: np.ndarray, count: int) -> list[np.ndarray]:
    """``count`` uninitialised arrays shaped and laid out like ``like``, owned by ``owner``.

    The same arrays come back on every call with an array of that shape, dtype and layout:
    use them only within one update.
    """
    pool: dict[tuple[Any, ...], list[np.ndarray]] | None = owner.__dict__.get("_scratch")
    if pool is None:
        pool = owner.__dict__["_scratch"] = {}
    key = (like.shape, like.dtype.str, like.strides)
    arrays = pool.get(key)
    if arrays is None or len(arrays) < count:
        arrays = pool[key] = [np.empty_like(like) for _ in range(count)]
    return arrays[:count]
