"""The training loop of the examples: one epoch, evaluation, and ``fit`` with a history.

History entries are plain dicts (JSON-ready and savable with ``mg.save``)::

    {"epoch": 1, "train_loss": 0.21, "train_acc": 0.93, "test_loss": 0.08, "test_acc": 0.97,
     "train_seconds": 41.2, "samples_per_s": 1456.3, "lr": 0.001}
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from tqdm import tqdm

import minigrad as mg
import nn
from minigrad.optim import Optimizer

__all__ = ["EpochResult", "evaluate", "fit", "predict", "train_epoch"]

EpochResult = dict[str, float]


def train_epoch(
    model: nn.Module,
    loader: Iterable[Any],
    optimizer: Optimizer,
    loss_fn: Callable[[mg.Tensor, mg.Tensor], mg.Tensor],
    description: str = "train",
    on_batch_end: Callable[[], None] | None = None,
) -> EpochResult:
    """One pass over ``loader`` of (images (B, ...), labels (B,)) batches, one optimizer step
    per batch (then ``on_batch_end()``, e.g. a per-batch learning-rate schedule); a tqdm bar
    (on terminals) shows the running loss, accuracy and samples/s.

    Returns the mean loss, the accuracy (0-1), the seconds spent and the samples per second.
    """
    model.train()
    total_loss = 0.0
    correct = 0
    seen = 0
    start = time.perf_counter()
    total = len(loader) if hasattr(loader, "__len__") else None
    bar = tqdm(loader, desc=description, total=total, unit="batch", leave=False, disable=None,
               file=sys.stderr, dynamic_ncols=True)
    try:
        for images, labels in bar:
            optimizer.zero_grad()
            logits = model(images)
            loss = loss_fn(logits, labels)
            loss.backward()
            optimizer.step()
            if on_batch_end is not None:
                on_batch_end()
            batch = len(labels)
            total_loss += loss.item() * batch
            correct += int((logits.detach().numpy().argmax(1) == labels.numpy()).sum())
            seen += batch
            elapsed = time.perf_counter() - start
            postfix = {
                "loss": f"{total_loss / seen:.4f}",
                "acc": f"{100 * correct / seen:.2f}%",
                "samples/s": f"{seen / elapsed:.0f}",
            }
            bar.set_postfix(postfix, refresh=False)
    finally:
        bar.close()  # also on Ctrl-C: the bar is cleared before the message is printed
    seconds = time.perf_counter() - start
    if seen == 0:
        raise ValueError("train_epoch: the loader yielded no batches")
    return {
        "train_loss": total_loss / seen,
        "train_acc": correct / seen,
        "train_seconds": seconds,
        "samples_per_s": seen / seconds,
    }


def predict(model: nn.Module, loader: Iterable[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Logits (N, 10) and labels (N,) of every batch of ``loader``, in eval mode, without grad."""
    model.eval()
    all_logits, all_labels = [], []
    with mg.no_grad():
        for images, labels in loader:
            all_logits.append(model(images).numpy())
            all_labels.append(labels.numpy())
    return np.concatenate(all_logits), np.concatenate(all_labels)


def evaluate(
    model: nn.Module,
    loader: Iterable[Any],
    loss_fn: Callable[[mg.Tensor, mg.Tensor], mg.Tensor],
) -> EpochResult:
    """The mean loss and the accuracy (0-1) of ``model`` on ``loader``, in eval mode."""
    logits, labels = predict(model, loader)
    with mg.no_grad():
        loss = loss_fn(mg.tensor(logits), mg.tensor(labels)).item()
    accuracy = float((logits.argmax(1) == labels).mean())
    return {"test_loss": loss, "test_acc": accuracy}


def _learning_rate(optimizer: Optimizer) -> float:
    return float(optimizer.param_groups[0]["lr"])


def fit(
    model: nn.Module,
    train_loader: Iterable[Any],
    test_loader: Iterable[Any],
    optimizer: Optimizer,
    epochs: int,
    loss_fn: Callable[[mg.Tensor, mg.Tensor], mg.Tensor] | None = None,
    history: list[dict[str, Any]] | None = None,
    on_epoch_end: Callable[[list[dict[str, Any]]], None] | None = None,
    log: Callable[[str], None] | None = print,
    on_batch_end: Callable[[], None] | None = None,
) -> list[dict[str, Any]]:
    """Trains until ``len(history) == epochs``, evaluating after each epoch.

    ``history`` (the entries of earlier epochs, e.g. from a checkpoint) is extended in place and
    returned. ``on_epoch_end(history)`` runs after each epoch (to save a checkpoint),
    ``on_batch_end()`` after each optimizer step; ``log`` receives one summary line per epoch.
    """
    loss_fn = loss_fn if loss_fn is not None else nn.CrossEntropyLoss()
    history = [] if history is None else history
    for epoch in range(len(history) + 1, epochs + 1):
        lr = _learning_rate(optimizer)
        result = train_epoch(
            model, train_loader, optimizer, loss_fn, description=f"epoch {epoch}/{epochs}",
            on_batch_end=on_batch_end,
        )
        result.update(evaluate(model, test_loader, loss_fn))
        history.append({"epoch": epoch, **result, "lr": lr})
        if log is not None:
            log(
                f"epoch {epoch}/{epochs}: train loss {result['train_loss']:.4f} "
                f"acc {100 * result['train_acc']:.2f}% | test loss {result['test_loss']:.4f} "
                f"acc {100 * result['test_acc']:.2f}% | {result['train_seconds']:.1f} s, "
                f"{result['samples_per_s']:.0f} samples/s"
            )
        if on_epoch_end is not None:
            on_epoch_end(history)
    return history
