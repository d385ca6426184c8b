"""examples/mnist_rnn.py end to end: an LSTM over image rows learns scikit-learn's 8x8 digits
(8 steps of 8 features) and, with MINIGRAD_MNIST_DIR, a few hundred MNIST images (28 x 28)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from mnist_rnn import RowLSTM, main

import minigrad as mg
import nn

FINAL_LINE = re.compile(r"test accuracy: (\d+\.\d\d)%")


def final_accuracy(output: str) -> float:
    match = FINAL_LINE.fullmatch(output.strip().splitlines()[-1])
    assert match, output
    return float(match.group(1))


def test_row_lstm_learns_the_digits_well_above_chance(capsys, tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    saved = tmp_path / "rnn.npz"
    code = main(["--digits", "--epochs", "4", "--batch-size", "32", "--save-model", str(saved)])
    assert code == 0
    accuracy = final_accuracy(capsys.readouterr().out)
    assert accuracy >= 60.0  # chance is 10%
    model = RowLSTM(8)
    model.load_state_dict(mg.load(saved))
    assert isinstance(model.rnn, nn.LSTM)


def test_row_lstm_learns_mnist_rows(mnist_dir: Path, tmp_path: Path, capsys) -> None:
    code = main(["--epochs", "4", "--batch-size", "32", "--limit-train", "1000",
                 "--limit-test", "500", "--offline-split", str(mnist_dir), "--data-dir",
                 str(tmp_path / "split"), "--lr", "1e-2", "--gamma", "0.8"])
    assert code == 0
    assert final_accuracy(capsys.readouterr().out) >= 45.0  # chance is 10%


def test_row_lstm_reads_rows_as_time_steps() -> None:
    mg.manual_seed(0)
    model = RowLSTM(28, hidden_size=16).eval()
    images = mg.tensor(np.random.default_rng(0).standard_normal((3, 1, 28, 28)).astype(
        np.float32))
    logits = model(images)
    assert logits.shape == (3, 10)
    # changing only the last row changes the output: the LSTM has read it last
    changed = images._data.copy()
    changed[:, :, -1] += 1.0
    assert not np.allclose(model(mg.tensor(changed))._data, logits._data)


def test_missing_data_exits_with_a_message(tmp_path: Path, capsys) -> None:
    code = main(["--offline-split", str(tmp_path / "nothing"), "--data-dir",
                 str(tmp_path / "split")])
    assert code == 2
    assert "not available" in capsys.readouterr().err
