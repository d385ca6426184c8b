"""PyTorch scripts that run after changing only their imports (``scripts/``), end to end on a
few hundred images: real MNIST when ``MINIGRAD_MNIST_DIR`` is set, else scikit-learn's digits
scaled up to 28x28."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

SCRIPTS = Path(__file__).parent / "scripts"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An .npz with 600 training and 200 test images (uint8, 28x28) and their labels."""
    path = tmp_path_factory.mktemp("data") / "mnist_small.npz"
    folder = os.environ.get("MINIGRAD_MNIST_DIR")
    if folder:
        from minigrad.data import load_mnist

        x, y = load_mnist(folder, train=False)
        x, y = np.asarray(x)[:800], np.asarray(y)[:800]
    else:
        from sklearn.datasets import load_digits

        digits = load_digits()
        small = (digits.images[:800] * (255 / 16)).astype(np.uint8)
        x = np.pad(small.repeat(3, axis=1).repeat(3, axis=2), ((0, 0), (2, 2), (2, 2)))
        y = digits.target[:800]
    np.savez(path, train_images=x[:600], train_labels=y[:600].astype(np.int64),
             test_images=x[600:], test_labels=y[600:].astype(np.int64))
    return path


def run(script: str, *args: str, cwd: Path, timeout: float = 300) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, str(SCRIPTS / script), *args], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return result.stdout


def final_accuracy(output: str) -> float:
    match = re.search(r"final accuracy ([0-9.]+)", output)
    assert match, output[-2000:]
    return float(match.group(1))


def test_the_only_lines_that_differ_from_pytorch_are_imports():
    for script in SCRIPTS.glob("*.py"):
        for line in script.read_text().splitlines():
            if "minigrad" in line and not line.startswith("#"):
                assert line.startswith(("import minigrad", "from minigrad")), (script, line)


def test_official_mnist_example_shape_trains(images: Path, tmp_path: Path):
    out = run("mnist_main.py", "--data", str(images), "--epochs", "2", "--batch-size", "32",
              "--test-batch-size", "100", "--save-model", cwd=tmp_path)
    assert "Test set: Average loss" in out
    assert final_accuracy(out) > 0.6
    assert "lr 0.4900" in out  # StepLR(step_size=1, gamma=0.7) after two epochs
    import minigrad as mg

    state = mg.load(tmp_path / "mnist_cnn.pt", weights_only=True)
    assert state["fc1.weight"].shape == (128, 9216)


def test_tutorial_script_writing_torch_nn_in_its_body(images: Path, tmp_path: Path):
    out = run("nn_tutorial.py", str(images), cwd=tmp_path)
    assert final_accuracy(out) > 0.6


def test_script_that_picks_its_device(images: Path, tmp_path: Path):
    out = run("device_pick.py", str(images), cwd=tmp_path)
    assert "Using cpu device, 0 GPUs" in out
    assert final_accuracy(out) > 0.6


def test_polynomial_fits_with_data_updates_and_a_custom_function(tmp_path: Path):
    out = run("polynomial_fit.py", cwd=tmp_path)
    losses = [float(v) for v in re.search(r"losses (\S+) (\S+) (\S+) (\S+)", out).groups()]
    # y = sin(x) on [-pi, pi] by a cubic: the least-squares fit reaches about 8.8 (2000 points)
    assert all(loss < 60 for loss in losses), losses


def test_saving_and_reloading_a_whole_model(tmp_path: Path):
    out = run("save_whole_model.py", str(tmp_path), cwd=tmp_path)
    assert "refused:" in out
    assert "identical outputs: [True, True, True]" in out
