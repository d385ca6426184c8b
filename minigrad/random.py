"""The global random number generator behind rand, randn, dropout and nn.init."""

from __future__ import annotations

import numpy as np

_state = {"generator": np.random.default_rng()}


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the global generator so random tensors and initialisations are reproducible."""
    _state["generator"] = np.random.default_rng(seed)
    return _state["generator"]


def seed(seed: int) -> np.random.Generator:
    """Alias of manual_seed."""
    return manual_seed(seed)


def generator() -> np.random.Generator:
    """The global numpy Generator."""
    return _state["generator"]
