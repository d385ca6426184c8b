"""The example's figures, drawn headless and written atomically as PNG files.

Figures are built with ``matplotlib.figure.Figure`` (no pyplot, no GUI backend, no global
state) and rendered by the Agg canvas into memory before one atomic write.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from atomic import write_bytes
from matplotlib.figure import Figure

import minigrad as mg
import nn

__all__ = [
    "plot_confusion_matrix",
    "plot_feature_maps",
    "plot_filters",
    "plot_history",
    "plot_pooling_comparison",
    "plot_predictions",
    "save_figure",
]


def _finish_epoch_plot(figure: Figure, axes_list: tuple, title: str | None,
                       path: str | os.PathLike) -> Path:
    """Grid, legend and whole-number epoch ticks on each axes, the title, then save."""
    for axes in axes_list:
        axes.grid(alpha=0.3)
        axes.legend()
        axes.xaxis.get_major_locator().set_params(integer=True)
    if title:
        figure.suptitle(title)
    return save_figure(figure, path)


def save_figure(figure: Figure, path: str | os.PathLike, dpi: int = 100) -> Path:
    """Renders ``figure`` to PNG and writes it to ``path`` atomically."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return write_bytes(path, buffer.getvalue())


def _epochs(history: Sequence[dict[str, Any]]) -> list[int]:
    return [entry["epoch"] for entry in history]


def plot_history(
    history: Sequence[dict[str, Any]], path: str | os.PathLike, title: str = ""
) -> Path:
    """Loss and accuracy per epoch, training and test, side by side."""
    figure = Figure(figsize=(10, 4), layout="constrained")
    loss_axes, accuracy_axes = figure.subplots(1, 2)
    epochs = _epochs(history)
    for split, style in (("train", "o-"), ("test", "s--")):
        loss_axes.plot(epochs, [e[f"{split}_loss"] for e in history], style, label=split)
        accuracy_axes.plot(
            epochs, [100 * e[f"{split}_acc"] for e in history], style, label=split
        )
    loss_axes.set(xlabel="epoch", ylabel="cross-entropy loss", title="loss")
    accuracy_axes.set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy")
    final = history[-1]["test_acc"] * 100 if history else float("nan")
    accuracy_axes.annotate(
        f"test {final:.2f}%", xy=(1, 0), xycoords="axes fraction", ha="right", va="bottom",
        xytext=(-6, 6), textcoords="offset points",
    )
    return _finish_epoch_plot(figure, (loss_axes, accuracy_axes), title, path)


def _first(model: nn.Module, kind: type) -> Any:
    return next((module for module in model.modules() if isinstance(module, kind)), None)


def _grid(count: int, columns: int) -> tuple[int, int]:
    columns = min(columns, count)
    return math.ceil(count / columns), columns


def plot_filters(model: nn.Module, path: str | os.PathLike, max_filters: int = 32) -> Path:
    """The first layer's weights as images: each 1-channel conv kernel, or (for a model that
    starts with a linear layer) each unit's 784 input weights as a 28x28 image."""
    conv = _first(model, nn.Conv2d)
    if conv is not None:
        weights = conv.weight.detach().numpy()[:, 0]
        title = f"first conv layer: {conv.out_channels} filters of {conv.kernel_size}"
    else:
        linear = _first(model, nn.Linear)
        weights = linear.weight.detach().numpy().reshape(linear.out_features, 28, 28)
        title = f"first linear layer: input weights of {min(max_filters, len(weights))} units"
    weights = weights[:max_filters]
    rows, columns = _grid(len(weights), 8)
    figure = Figure(figsize=(1.3 * columns, 1.3 * rows + 0.5), layout="constrained")
    axes = np.atleast_1d(figure.subplots(rows, columns)).ravel()
    limit = float(np.abs(weights).max()) or 1.0
    for index, ax in enumerate(axes):
        ax.set_axis_off()
        if index < len(weights):
            ax.imshow(weights[index], cmap="RdBu_r", vmin=-limit, vmax=limit)
            ax.set_title(str(index), fontsize=8)
    figure.suptitle(f"{title} (blue < 0 < red)")
    return save_figure(figure, path)


def _as_image(vector: np.ndarray) -> np.ndarray:
    """A feature vector padded with NaN into a near-square image (for fully connected layers)."""
    width = math.ceil(math.sqrt(vector.size))
    height = math.ceil(vector.size / width)
    image = np.full(height * width, np.nan, dtype=np.float64)
    image[: vector.size] = vector
    return image.reshape(height, width)


def plot_feature_maps(
    model: nn.Module, image: np.ndarray, path: str | os.PathLike, max_channels: int = 16
) -> Path:
    """The input image and the output of every activation layer of ``model.features`` for it:
    one row per layer, one panel per channel (first ``max_channels``)."""
    stages: list[tuple[str, np.ndarray]] = []

    def record(label: str) -> Any:
        def hook(module: nn.Module, args: tuple, output: mg.Tensor) -> None:
            stages.append((label, output.detach().numpy()[0]))

        return hook

    # a forward hook on each activation records its output as the features run
    handles = [
        module.register_forward_hook(record(f"features.{name}: {type(module).__name__}"))
        for name, module in model.features.named_modules()
        if isinstance(module, (nn.ReLU, nn.Sigmoid, nn.Tanh, nn.LeakyReLU))
    ]
    model.eval()
    try:
        with mg.no_grad():
            model.features(mg.tensor(np.asarray(image, dtype=np.float32).reshape(1, 1, 28, 28)))
    finally:
        for handle in handles:
            handle.remove()
    panels = [
        [maps[c] for c in range(min(max_channels, len(maps)))] if maps.ndim == 3
        else [_as_image(maps)]
        for _, maps in stages
    ]
    columns = max([1, *map(len, panels)])
    rows = 1 + len(stages)
    width = max(1.1 * columns + 1.5, 4.0)
    figure = Figure(figsize=(width, 1.2 * rows + 0.4), layout="constrained")
    axes = np.asarray(figure.subplots(rows, columns, squeeze=False))
    for ax in axes.ravel():
        ax.set_axis_off()
    axes[0, 0].imshow(np.asarray(image).reshape(28, 28), cmap="gray_r")
    axes[0, 0].set_title("input", fontsize=8)
    for row, ((name, maps), images) in enumerate(zip(stages, panels, strict=True), start=1):
        for column, panel in enumerate(images):
            axes[row, column].imshow(panel, cmap="viridis")
        shape = "x".join(map(str, maps.shape))
        axes[row, 0].set_title(f"{name} ({shape})", fontsize=8, loc="left")
    figure.suptitle("feature maps of one test image")
    return save_figure(figure, path)


def plot_predictions(
    images: np.ndarray,
    labels: np.ndarray,
    predictions: np.ndarray,
    path: str | os.PathLike,
    count: int = 48,
    max_mistakes: int = 12,
) -> Path:
    """A grid of test images titled with their predicted class; mistakes in red with the true
    class. Shows the first test images plus up to ``max_mistakes`` mistakes from further on."""
    wrong = np.flatnonzero(predictions != labels)
    shown_mistakes = min(max_mistakes, len(wrong), count)
    first = np.arange(min(count - shown_mistakes, len(labels)))
    later_mistakes = wrong[~np.isin(wrong, first)][: count - len(first)]
    indices = np.concatenate([first, later_mistakes]).astype(np.int64)
    rows, columns = _grid(max(len(indices), 1), 8)
    figure = Figure(figsize=(1.3 * columns, 1.45 * rows + 0.5), layout="constrained")
    axes = np.atleast_1d(figure.subplots(rows, columns)).ravel()
    for ax in axes:
        ax.set_axis_off()
    for ax, index in zip(axes, indices, strict=False):
        ax.imshow(images[index].reshape(28, 28), cmap="gray_r")
        if predictions[index] == labels[index]:
            ax.set_title(f"{predictions[index]}", fontsize=9, color="tab:green")
        else:
            ax.set_title(f"{predictions[index]} (true {labels[index]})", fontsize=9,
                         color="tab:red", fontweight="bold")
            ax.set_axis_on()
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_color("tab:red")
                spine.set_linewidth(2.5)
    errors = int((predictions != labels).sum())
    figure.suptitle(
        f"test predictions: {errors} mistakes in {len(labels)} images (mistakes framed in red)"
    )
    return save_figure(figure, path)


def plot_confusion_matrix(
    labels: np.ndarray, predictions: np.ndarray, path: str | os.PathLike
) -> Path:
    """The 10x10 confusion matrix of the test set (rows: true class, columns: predicted)."""
    from sklearn.metrics import ConfusionMatrixDisplay, accuracy_score

    figure = Figure(figsize=(6.5, 5.5), layout="constrained")
    axes = figure.subplots()
    ConfusionMatrixDisplay.from_predictions(
        labels, predictions, labels=list(range(10)), ax=axes, cmap="Blues", colorbar=True
    )
    accuracy = 100 * accuracy_score(labels, predictions)
    axes.set_title(f"confusion matrix: {len(labels)} test images, accuracy {accuracy:.2f}%")
    return save_figure(figure, path)


def plot_pooling_comparison(
    histories: dict[str, Sequence[dict[str, Any]]], path: str | os.PathLike, title: str = ""
) -> Path:
    """Test accuracy and training loss per epoch of several runs (e.g. max vs average pooling)
    on shared axes."""
    figure = Figure(figsize=(10, 4), layout="constrained")
    accuracy_axes, loss_axes = figure.subplots(1, 2)
    for name, history in histories.items():
        epochs = _epochs(history)
        final = 100 * history[-1]["test_acc"]
        accuracy_axes.plot(epochs, [100 * e["test_acc"] for e in history], "o-",
                           label=f"{name} ({final:.2f}%)")
        loss_axes.plot(epochs, [e["train_loss"] for e in history], "o-", label=name)
    accuracy_axes.set(xlabel="epoch", ylabel="test accuracy (%)", title="test accuracy")
    loss_axes.set(xlabel="epoch", ylabel="cross-entropy loss", title="training loss")
    return _finish_epoch_plot(figure, (accuracy_axes, loss_axes), title, path)
