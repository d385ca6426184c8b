"""``minigrad.backends.mps``: not available."""

__all__ = ["is_available", "is_built"]


def is_available() -> bool:
    """Whether an Apple MPS device can be used: always ``False``."""
    return False


def is_built() -> bool:
    """Whether minigrad was built with MPS support: always ``False``."""
    return False
