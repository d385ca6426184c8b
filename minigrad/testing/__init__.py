"""``minigrad.testing``: ``assert_close`` and ``make_tensor`` as in ``torch.testing``, plus
hypothesis strategies and gradient checks for property-based tests of your own ops.

``assert_close`` and ``make_tensor`` need only NumPy. The strategies and gradient checks
(``arrays``, ``tensors``, ``shapes``, ``assert_grad_matches_numeric``, …) need hypothesis (the
``test`` extra) and load on first use::

    from hypothesis import given
    from minigrad.testing import arrays, assert_grad_matches_numeric, broadcastable_shapes
"""

from __future__ import annotations

import importlib
from typing import Any

from minigrad.testing.close import assert_close, assert_allclose, make_tensor

_HYPOTHESIS_NAMES = {
    "shapes", "broadcastable_shapes", "arrays", "tensors", "away_from", "classification_cases",
    "assert_grad_matches_numeric", "assert_not_mutated",
}

__all__ = ["assert_close", "assert_allclose", "make_tensor", *sorted(_HYPOTHESIS_NAMES)]


def __getattr__(name: str) -> Any:
    if name in _HYPOTHESIS_NAMES:
        return getattr(importlib.import_module("minigrad.testing._hypothesis"), name)
    raise AttributeError(f"module 'minigrad.testing' has no attribute {name!r}")
