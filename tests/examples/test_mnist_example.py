"""examples/mnist.py end to end, as a user runs it, on the offline split of MINIGRAD_MNIST_DIR."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from mnist import OUTPUT_FILES
from models import LeNet5
from train import fit

import minigrad as mg
import minigrad.optim as optim
from minigrad.data import MNIST, DataLoader

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES_DIR = REPO_ROOT / "examples"
FINAL_LINE = re.compile(r"test accuracy: \d+\.\d\d%")


def _pythonpath() -> str:
    """The repository first, so the scripts import this checkout's minigrad and nn."""
    parts = [str(REPO_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    return os.pathsep.join(parts)


def run_script(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLES_DIR / "mnist.py"), *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": _pythonpath()},
    )


def last_line(output: str) -> str:
    return output.strip().splitlines()[-1]


@pytest.mark.parametrize("model", ["simple", "mlp"])
def test_one_short_epoch_writes_every_output_and_resumes(
    model: str, mnist_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    common = ["--limit-train", "600", "--limit-test", "300", "--batch-size", "100",
              "--offline-split", mnist_dir, "--data-dir", tmp_path / "split", "--out", out]
    first = run_script("--model", model, "--epochs", "1", *common, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert FINAL_LINE.fullmatch(last_line(first.stdout)), first.stdout
    for name in OUTPUT_FILES:
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    for png in out.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")], "temporary files left"
    saved = json.loads((out / "history.json").read_text())
    assert [entry["epoch"] for entry in saved["history"]] == [1]
    assert saved["settings"]["model"] == model

    resumed = run_script("--resume", out / "checkpoint.npz", "--epochs", "2", *common,
                         cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed from" in resumed.stdout
    assert "epoch 2/2" in resumed.stdout and "epoch 1/2" not in resumed.stdout
    assert FINAL_LINE.fullmatch(last_line(resumed.stdout)), resumed.stdout
    checkpoint = mg.load(out / "checkpoint.npz")
    assert checkpoint["epoch"] == 2
    assert [entry["epoch"] for entry in checkpoint["history"]] == [1, 2]
    assert checkpoint["history"][0] == saved["history"][0]


def test_missing_data_exits_with_code_2_and_a_message(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_script("--offline-split", empty, "--data-dir", tmp_path / "split",
                        "--out", tmp_path / "out", cwd=tmp_path)
    assert result.returncode == 2
    assert "t10k-images-idx3-ubyte" in result.stderr
    assert "Traceback" not in result.stderr


def test_resume_from_a_missing_checkpoint_fails_cleanly(tmp_path: Path) -> None:
    result = run_script("--resume", tmp_path / "nothing.npz", cwd=tmp_path)
    assert result.returncode == 1
    assert "nothing.npz" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_lenet5_reaches_96_percent_on_the_offline_split(offline_split: Path) -> None:
    mg.manual_seed(0)
    model = LeNet5()
    train_loader = DataLoader(MNIST(offline_split, train=True, download=False),
                              batch_size=128, shuffle=True, seed=0)
    test_loader = DataLoader(MNIST(offline_split, train=False, download=False), batch_size=1000)
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    history = fit(model, train_loader, test_loader, optimizer, epochs=3, log=None)
    assert history[-1]["test_acc"] >= 0.96, history
