"""``minigrad.backends.cudnn``: not available; the flags scripts set are accepted and unused.

The flags are ``benchmark`` (``False``), ``deterministic`` (``False``), ``enabled`` (``True``)
and ``allow_tf32`` (``False``): module attributes a script may set, as in PyTorch; nothing
reads them.
"""

__all__ = ["allow_tf32", "benchmark", "deterministic", "enabled", "is_available"]

benchmark = False
deterministic = False
enabled = True
allow_tf32 = False


def is_available() -> bool:
    """Whether cuDNN can be used: always ``False``."""
    return False
