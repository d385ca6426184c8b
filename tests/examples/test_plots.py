"""The example's figures for every model: PNG files written atomically, nothing left behind."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from models import MODELS, build_model
from plots import (
    plot_confusion_matrix,
    plot_feature_maps,
    plot_filters,
    plot_history,
    plot_pooling_comparison,
    plot_predictions,
)

import minigrad as mg

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
HISTORY = [
    {"epoch": epoch, "train_loss": 1.0 / epoch, "train_acc": 0.9, "test_loss": 0.8 / epoch,
     "test_acc": 0.9 + epoch / 100}
    for epoch in (1, 2, 3)
]


def assert_png(path: Path) -> None:
    assert path.read_bytes()[:8] == PNG_MAGIC
    assert [p.name for p in path.parent.iterdir()] == [path.name], "temporary files left"


@pytest.mark.parametrize("name", list(MODELS))
def test_filters_and_feature_maps_of_every_model(name: str, tmp_path: Path) -> None:
    mg.manual_seed(0)
    model = build_model(name)
    image = np.random.default_rng(0).random((1, 28, 28)).astype(np.float32)
    assert_png(plot_filters(model, tmp_path / "filters" / "filters.png"))
    assert_png(plot_feature_maps(model, image, tmp_path / "maps" / "feature_maps.png"))


def test_history_predictions_confusion_and_comparison(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (100, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, 100)
    predictions = np.where(rng.random(100) < 0.8, labels, (labels + 1) % 10)
    assert_png(plot_history(HISTORY, tmp_path / "a" / "curves.png", title="t"))
    assert_png(plot_predictions(images, labels, predictions, tmp_path / "b" / "grid.png"))
    assert_png(plot_confusion_matrix(labels, predictions, tmp_path / "c" / "confusion.png"))
    assert_png(plot_pooling_comparison({"max": HISTORY, "avg": HISTORY[:2]},
                                       tmp_path / "d" / "pooling.png"))


def test_predictions_grid_with_no_mistakes_and_few_images(tmp_path: Path) -> None:
    labels = np.arange(5)
    images = np.zeros((5, 28, 28), dtype=np.uint8)
    assert_png(plot_predictions(images, labels, labels.copy(), tmp_path / "grid.png"))


def test_feature_maps_leave_no_hooks_behind(tmp_path: Path) -> None:
    mg.manual_seed(0)
    model = build_model(next(iter(MODELS)))
    image = np.random.default_rng(1).random((1, 28, 28)).astype(np.float32)
    assert_png(plot_feature_maps(model, image, tmp_path / "feature_maps.png"))
    assert all(not module._forward_hooks for module in model.modules())
