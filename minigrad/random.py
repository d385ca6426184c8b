"""The global random number generator behind rand, randn, dropout and nn.init."""

from __future__ import annotations

import numpy as np

__all__ = ["generator", "manual_seed", "seed"]

_state = {"generator": np.random.default_rng()}


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the global generator so random tensors and initialisations are reproducible.

    Returns the new NumPy ``Generator`` (PyTorch returns a ``torch.Generator``).

    Example::

        >>> import minigrad as mg
        >>> _ = mg.manual_seed(0)
        >>> a = mg.randn(3)
        >>> _ = mg.manual_seed(0)
        >>> mg.equal(a, mg.randn(3))
        True
    """
    _state["generator"] = np.random.default_rng(seed)
    return _state["generator"]


def seed(seed: int) -> np.random.Generator:
    """Alias of :func:`manual_seed`."""
    return manual_seed(seed)


def generator() -> np.random.Generator:
    """The global numpy Generator."""
    return _state["generator"]
