"""examples/pooling_comparison.py on a tiny subset: both runs train and the plot is written."""

from __future__ import annotations

import json
from pathlib import Path

import pooling_comparison


def test_pooling_comparison_writes_its_plot(
    mnist_dir: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "out"
    status = pooling_comparison.main([
        "--epochs", "2", "--limit-train", "300", "--limit-test", "200", "--batch-size", "100",
        "--offline-split", str(mnist_dir), "--data-dir", str(tmp_path / "split"),
        "--out", str(out),
    ])
    assert status == 0
    assert (out / "pooling_comparison.png").read_bytes()[:4] == b"\x89PNG"
    histories = json.loads((out / "pooling_comparison.json").read_text())
    assert list(histories) == ["max pooling", "average pooling"]
    assert all(len(history) == 2 for history in histories.values())
    printed = capsys.readouterr().out
    assert "max pooling: test accuracy" in printed and "average pooling: test accuracy" in printed
