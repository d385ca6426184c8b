"""Module aliases: ``minigrad.nn`` is the top-level ``nn`` package and ``minigrad.utils.data`` is
``minigrad.data``, for ``import minigrad.nn as nn`` and ``torch.utils.data.DataLoader`` alike.

A finder on ``sys.meta_path`` maps each aliased name (and every submodule under it) to the one
real module, so no module is ever loaded twice under two names. Nothing is imported until a
script asks: importing minigrad never imports nn.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from types import ModuleType

ALIASES = {"minigrad.nn": "nn", "minigrad.utils.data": "minigrad.data"}


def _target(fullname: str) -> str | None:
    for alias, real in ALIASES.items():
        if fullname == alias or fullname.startswith(alias + "."):
            return real + fullname[len(alias):]
    return None


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, alias: str, real: str) -> None:
        self.alias, self.real = alias, real

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return importlib.import_module(self.real)

    def exec_module(self, module: ModuleType) -> None:
        # the real module is already executed; make its alias name point at it for good
        sys.modules[self.alias] = module


class _AliasFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: object, target: object = None
                  ) -> importlib.machinery.ModuleSpec | None:
        real = _target(fullname)
        if real is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(fullname, real))


def install() -> None:
    if not any(isinstance(f, _AliasFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _AliasFinder())
