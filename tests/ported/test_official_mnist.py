"""pytorch/examples' mnist/main.py, ported by its imports only (scripts/mnist_official.py), trains
one epoch on the full MNIST through ``minigrad.vision.datasets.MNIST('../data', ...)`` and
``transforms``. Runs only where MINIGRAD_MNIST_FULL_DIR names the four MNIST files."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parent / "scripts" / "mnist_official.py"
ROOT = Path(__file__).resolve().parents[2]
FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


@pytest.mark.slow
def test_official_mnist_example_reaches_97_percent_in_one_epoch(tmp_path: Path) -> None:
    folder = os.environ.get("MINIGRAD_MNIST_FULL_DIR")
    if not folder:
        pytest.skip("set MINIGRAD_MNIST_FULL_DIR to a folder with the full MNIST files")
    # the script reads datasets.MNIST('../data', download=True): run it one folder below a
    # ../data in torchvision's layout (data/MNIST/raw/*.gz) that links the full files
    raw = tmp_path / "data" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in FILES:
        (raw / f"{name}.gz").symlink_to(Path(folder).resolve() / f"{name}.gz")
    cwd = tmp_path / "run"
    cwd.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    result = subprocess.run([sys.executable, str(SCRIPT), "--epochs", "1"],
                            cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    elapsed = time.perf_counter() - start
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    match = re.search(r"Test set: Average loss: ([0-9.]+), Accuracy: (\d+)/10000 \((\d+)%\)",
                      result.stdout)
    assert match, result.stdout[-3000:]
    correct = int(match.group(2))
    print(f"one epoch of the official example: {correct / 100:.2f}% in {elapsed:.0f} s")
    assert "Train Epoch: 1 [59520/60000 (99%)]" in result.stdout
    assert correct >= 9700, match.group(0)
    assert sorted(os.listdir(raw)) == sorted(f"{name}.gz" for name in FILES)  # nothing fetched
