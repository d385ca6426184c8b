"""minigrad never imports nn: the dependency points one way only."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_minigrad_does_not_import_nn():
    modules = ["minigrad", "minigrad.functional", "minigrad.testing", "minigrad.gradcheck"]
    # optional submodules are checked as soon as they exist
    for name in ("minigrad.optim", "minigrad.data", "minigrad.serialization",
                 "minigrad.ops.conv", "minigrad.optim.lr_scheduler"):
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:
            found = False
        if found:
            modules.append(name)
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "leaked = sorted(m for m in sys.modules if m == 'nn' or m.startswith('nn.'))\n"
        "assert not leaked, leaked\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "minigrad.optim" in modules and "minigrad.data" in modules
