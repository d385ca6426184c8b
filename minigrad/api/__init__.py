"""Op declarations: each module here declares ops with ``minigrad.declare`` (one declaration
per op gives its method, torch-level function and in-place variant). Importing minigrad
imports every module of this package, in name order."""

from __future__ import annotations

import importlib
import pkgutil

for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    importlib.import_module(f"{__name__}.{_info.name}")
