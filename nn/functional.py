"""``import nn.functional as F``: minigrad.functional under PyTorch's name.

Every public name of minigrad.functional is re-exported, and any other attribute is looked
up there on access, so this module never falls behind it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import minigrad.functional as _functional


def _public_names() -> list[str]:
    names = getattr(_functional, "__all__", None)
    if names is None:
        names = [name for name in vars(_functional) if not name.startswith("_")]
    return [name for name in names if hasattr(_functional, name)]


globals().update({name: getattr(_functional, name) for name in _public_names()})

__all__ = _public_names()


if TYPE_CHECKING:
    # the type checker sees minigrad.functional's own annotated names; at run time the
    # globals() update above and the lookup below provide them
    from minigrad.functional import *  # noqa: F403
else:

    def __getattr__(name: str) -> Any:
        try:
            return getattr(_functional, name)
        except AttributeError:
            raise AttributeError(
                f"module 'nn.functional' has no attribute {name!r}"
            ) from None
