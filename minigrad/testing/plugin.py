"""minigrad's pytest plugin (registered through the ``pytest11`` entry point, so it is active
wherever minigrad is installed):

- hypothesis profiles ``dev`` (25 random examples) and ``ci`` (60, the same ones every run),
  chosen by ``HYPOTHESIS_PROFILE``;
- the ``minigrad_seed`` fixture: seeds minigrad's global generator (0, or the test's
  ``@pytest.mark.minigrad_seed(n)``) and restores the previous generator afterwards;
- readable assertion reports for ``assert tensor_a == tensor_b``-style comparisons of tensors:
  shapes, dtypes, the worst element and its index.

It imports nothing heavy at startup: hypothesis only if installed, minigrad only when needed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest


def register_profiles() -> None:
    """Register the ``dev`` and ``ci`` hypothesis profiles and load ``HYPOTHESIS_PROFILE``'s."""
    try:
        from hypothesis import HealthCheck, settings
    except ImportError:
        return
    common: dict[str, Any] = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
    settings.register_profile("dev", max_examples=25, **common)
    # ci draws the same examples every run (derandomize): a red CI is a real failure, and its
    # examples can be reproduced anywhere
    settings.register_profile("ci", max_examples=60, derandomize=True, **common)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "minigrad_seed(seed): the seed the minigrad_seed fixture "
                            "uses for this test")
    register_profiles()


@pytest.fixture
def minigrad_seed(request: pytest.FixtureRequest) -> Iterator[int]:
    """Seed minigrad's global generator for the test and restore the previous one after it."""
    from minigrad import random

    marker = request.node.get_closest_marker("minigrad_seed")
    seed = int(marker.args[0]) if marker and marker.args else 0
    previous = random._state["generator"]
    random.manual_seed(seed)
    try:
        yield seed
    finally:
        random._state["generator"] = previous


def _is_tensor(value: Any) -> bool:
    return type(value).__name__ == "Tensor" and hasattr(value, "_data")


def pytest_assertrepr_compare(config: pytest.Config, op: str, left: Any, right: Any
                              ) -> list[str] | None:
    if not (_is_tensor(left) or _is_tensor(right)):
        return None
    return describe_mismatch(left, right)


def describe_mismatch(left: Any, right: Any) -> list[str]:
    """Lines that say how two tensors (or a tensor and an array/number) differ."""
    import numpy as np

    a = left._data if _is_tensor(left) else np.asarray(left)
    b = right._data if _is_tensor(right) else np.asarray(right)
    lines = ["tensor comparison failed"]
    if a.shape != b.shape:
        lines.append(f"shapes differ: {a.shape} vs {b.shape}")
        try:
            np.broadcast_shapes(a.shape, b.shape)
        except ValueError:
            return lines
    if a.dtype != b.dtype:
        lines.append(f"dtypes differ: {a.dtype} vs {b.dtype}")
    with np.errstate(all="ignore"):
        aa, bb = np.broadcast_arrays(a.astype(np.float64), b.astype(np.float64))
        diff = np.abs(aa - bb)
        diff = np.where(np.isnan(aa) & np.isnan(bb), 0.0, diff)
    if diff.size:
        worst = np.unravel_index(int(np.nanargmax(np.where(np.isnan(diff), np.inf, diff))),
                                 diff.shape)
        count = int(np.count_nonzero(diff))
        lines.append(f"{count} of {diff.size} elements differ")
        lines.append(f"worst at index {tuple(int(i) for i in worst)}: {aa[worst]!r} vs "
                     f"{bb[worst]!r} (|difference| {diff[worst]:.6g})")
    return lines
