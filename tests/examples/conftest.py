"""The example scripts are not a package: their folder goes on sys.path, as when they run."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"
if str(EXAMPLES_DIR) not in sys.path:
    sys.path.insert(0, str(EXAMPLES_DIR))


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The folder of the official t10k files (MINIGRAD_MNIST_DIR); skips the test without it."""
    folder = os.environ.get("MINIGRAD_MNIST_DIR")
    if not folder:
        pytest.skip("set MINIGRAD_MNIST_DIR to the folder of the MNIST t10k files")
    return Path(folder)


@pytest.fixture(scope="session")
def offline_split(mnist_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 8,000/2,000 offline split of MINIGRAD_MNIST_DIR, built once per session."""
    from minigrad.data import make_offline_split

    return make_offline_split(mnist_dir, tmp_path_factory.mktemp("mnist-offline-split"))
