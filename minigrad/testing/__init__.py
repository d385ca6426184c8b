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

from minigrad.testing.checks import ModuleCheckError, assert_matches_reference, check_module
from minigrad.testing.close import assert_allclose, assert_close, make_tensor

# names that need hypothesis, by the module that defines them
_LAZY = {
    **dict.fromkeys(
        ["shapes", "broadcastable_shapes", "arrays", "tensors", "away_from",
         "classification_cases", "assert_grad_matches_numeric", "assert_not_mutated"],
        "minigrad.testing._hypothesis"),
    **dict.fromkeys(["conv_configs", "pool_configs", "reduction_dims", "index_expressions"],
                    "minigrad.testing.configs"),
    **dict.fromkeys(["modules", "sequential_models"], "minigrad.testing.module_strategies"),
}

__all__ = ["assert_close", "assert_allclose", "make_tensor", "check_module",
           "assert_matches_reference", "ModuleCheckError", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'minigrad.testing' has no attribute {name!r}")
