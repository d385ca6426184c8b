"""The default recipe of examples/mnist.py on the full MNIST (60,000 / 10,000 images), one epoch.

Runs only where MINIGRAD_MNIST_FULL_DIR names a folder with the four standard MNIST files
(../shared/data/mnist-full); skips otherwise. About a minute on two cores.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def mnist_full_dir() -> Path:
    folder = os.environ.get("MINIGRAD_MNIST_FULL_DIR")
    if not folder:
        pytest.skip("set MINIGRAD_MNIST_FULL_DIR to a folder with the full MNIST files")
    return Path(folder)


@pytest.mark.slow
def test_default_recipe_reaches_98_5_percent_in_one_epoch(mnist_full_dir: Path,
                                                          tmp_path: Path,
                                                          capsys: pytest.CaptureFixture) -> None:
    from mnist import main

    out = tmp_path / "run"
    assert main(["--epochs", "1", "--data-dir", str(mnist_full_dir), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "60,000 training and 10,000 test images" in printed
    saved = json.loads((out / "history.json").read_text())
    assert saved["settings"]["model"] == "fast" and saved["settings"]["schedule"] == "onecycle"
    (epoch,) = saved["history"]
    assert epoch["test_acc"] >= 0.985, epoch
