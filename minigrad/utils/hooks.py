"""``RemovableHandle``: what ``register_*hook`` returns (as ``torch.utils.hooks``)."""

from __future__ import annotations

import itertools
from typing import Any

__all__ = ["RemovableHandle"]

_ids = itertools.count()


class RemovableHandle:
    """``handle.remove()`` takes the hook out again; also a context manager that removes it."""

    def __init__(self, hooks_dict: dict[int, Any], *, extra_dict: Any = None) -> None:
        self.id = next(_ids)
        self.hooks_dict_ref = hooks_dict
        if extra_dict is None:
            extra_dict = []
        elif isinstance(extra_dict, dict):
            extra_dict = [extra_dict]
        self.extra_dict_ref = list(extra_dict)

    def remove(self) -> None:
        """Take the hook out; removing it twice does nothing."""
        self.hooks_dict_ref.pop(self.id, None)
        for extra in self.extra_dict_ref:
            extra.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()

    def __repr__(self) -> str:
        return f"<RemovableHandle id={self.id}>"
