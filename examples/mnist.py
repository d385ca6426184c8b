"""Train a CNN on MNIST with minigrad, then plot what it learned.

    python examples/mnist.py                                # the default recipe, full MNIST
    python examples/mnist.py --model lenet5 --epochs 8 --offline-split path/to/mnist
    python examples/mnist.py --resume runs/mnist/checkpoint.npz --epochs 6  # continues there

Each epoch shows a progress bar (loss, accuracy, samples/s) on a terminal and prints a summary
line; the last line printed is the final test accuracy, ``test accuracy: 99.31%``.

Written to ``--out`` (default ``runs/mnist``), each file atomically:
``curves.png`` (loss/accuracy per epoch), ``filters.png`` (first-layer weights),
``feature_maps.png`` (activations for one test image), ``predictions.png`` (a grid of test
predictions, mistakes in red), ``confusion_matrix.png``, ``history.json`` (per-epoch metrics
and the run's settings) and ``checkpoint.npz`` (model and optimizer state, epoch, history;
``mg.save`` format) that ``--resume`` continues from.

Without internet, ``--offline-split DIR`` builds a stand-in for MNIST from the official t10k
files in DIR (8,000 images to train on, 2,000 to test on) and trains on it.

Ctrl-C at any moment prints one line and exits with status 130; the checkpoint of the last
finished epoch stays complete.

The default recipe (about 99.5% test accuracy on the full MNIST in under three minutes on two
cores; chosen on the last 5,000 training images held out, never on the test set): FastCNN
(examples/models.py), SGD with Nesterov momentum 0.9 and weight decay 5e-4, the one-cycle
schedule stepped per batch up to lr 0.1, label smoothing 0.1, batch 128, random shifts of up
to 2 pixels, 5 epochs. ``benchmarks/mnist_torch.py`` runs the same recipe in PyTorch.
"""

from __future__ import annotations

import os
import sys


def _exit_on_interrupt(kind: type, value: BaseException, traceback: object) -> None:
    """Ctrl-C before ``main`` catches it (while the imports below run): one line, status 130."""
    if issubclass(kind, KeyboardInterrupt):
        print("interrupted", file=sys.stderr, flush=True)
        os._exit(130)
    sys.__excepthook__(kind, value, traceback)  # type: ignore[arg-type]


if __name__ == "__main__":
    sys.excepthook = _exit_on_interrupt

import argparse
import copy
from pathlib import Path
from typing import Any

import numpy as np
from atomic import write_json
from mnist_data import RandomShift, add_data_arguments, data_root, load_datasets
from models import MODELS, build_model, count_parameters
from plots import (
    plot_confusion_matrix,
    plot_feature_maps,
    plot_filters,
    plot_history,
    plot_predictions,
)
from train import fit, predict

import minigrad as mg
import minigrad.optim as optim
import nn
from minigrad.data import DataLoader
from minigrad.optim.lr_scheduler import OneCycleLR

OPTIMIZERS = {"sgd": optim.SGD, "adam": optim.Adam, "adamw": optim.AdamW}
DEFAULT_LR = {"sgd": 0.1, "adam": 1e-3, "adamw": 1e-3}
# the default recipe (see the module docstring)
DEFAULT_MODEL = "fast"
EPOCHS = 5
SGD_MOMENTUM = 0.9
AUGMENTED_MODELS = ("fast", "strong")
CHECKPOINT = "checkpoint.npz"
OUTPUT_FILES = (
    "curves.png",
    "filters.png",
    "feature_maps.png",
    "predictions.png",
    "confusion_matrix.png",
    "history.json",
    CHECKPOINT,
)
EXIT_NO_DATA = 2
EXIT_INTERRUPTED = 130
DEFAULT_OUT = Path("runs/mnist")


class _DefaultsWhereUseful(argparse.ArgumentDefaultsHelpFormatter):
    """Show an option's default unless its help already says it (options whose default
    depends on another option are None in argparse)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default is None or "default" in (action.help or ""):
            return action.help or ""
        return super()._get_help_string(action)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Train a CNN on MNIST with minigrad and plot the results.",
        formatter_class=_DefaultsWhereUseful,
    )
    parser.add_argument("--model", choices=list(MODELS), default=None,
                        help=f"architecture (default: {DEFAULT_MODEL}, or the checkpoint's "
                        "with --resume)")
    parser.add_argument("--epochs", type=int, default=EPOCHS,
                        help="total number of epochs (with --resume: including those done)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--optimizer", choices=list(OPTIMIZERS), default=None,
                        help="default: sgd (Nesterov momentum 0.9), or the checkpoint's with "
                        "--resume")
    parser.add_argument("--lr", type=float, default=None,
                        help="learning rate, the peak of the one-cycle schedule (default: 0.1 "
                        "for sgd, 1e-3 for adam/adamw)")
    parser.add_argument("--schedule", choices=["onecycle", "constant"], default=None,
                        help="learning-rate schedule, stepped per batch (default: onecycle)")
    parser.add_argument("--weight-decay", type=float, default=None,
                        help="L2 weight decay (default: 5e-4)")
    parser.add_argument("--label-smoothing", type=float, default=None,
                        help="label smoothing of the cross entropy (default: 0.1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--augment", action=argparse.BooleanOptionalAction, default=None,
                        help="random shifts of up to 2 pixels while training "
                        "(default: on for fast and strong, off otherwise)")
    add_data_arguments(parser)
    parser.add_argument("--holdout", type=int, default=0, metavar="N",
                        help="tuning runs: train on all but the last N training images and "
                        "report the accuracy on those N instead of the test set")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for plots, history and checkpoint (default: runs/mnist, "
                        "or the folder of the --resume checkpoint)")
    parser.add_argument("--resume", type=Path, default=None, metavar="CHECKPOINT",
                        help="continue training from a checkpoint.npz written by this script")
    args = parser.parse_args(argv)
    for name in ("epochs", "batch_size"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.out is None:
        args.out = args.resume.parent if args.resume is not None else DEFAULT_OUT
    return args


CHECKPOINT_KEYS = ("model", "optimizer", "epoch", "history", "settings")


def check_checkpoint(checkpoint: Any, path: Path) -> str | None:
    """Why ``checkpoint`` is not one this script wrote, or None if it is."""
    if not isinstance(checkpoint, dict):
        return f"{path} holds a {type(checkpoint).__name__}, not a checkpoint of this script"
    missing = [key for key in CHECKPOINT_KEYS if key not in checkpoint]
    if missing:
        return (f"{path} is not a checkpoint of examples/mnist.py: it lacks "
                f"{', '.join(missing)} (it has {', '.join(map(str, checkpoint)) or 'nothing'})")
    settings = checkpoint["settings"]
    if not isinstance(settings, dict) or settings.get("model") not in MODELS:
        return f"{path} names no model of this script in its settings"
    if not isinstance(checkpoint["history"], list) or not isinstance(checkpoint["model"], dict):
        return f"{path} has a malformed history or model state"
    return None


def resolve_settings(args: argparse.Namespace, checkpoint: dict[str, Any] | None) -> dict[str, Any]:
    """The run's settings: explicit options, else the checkpoint's, else the defaults."""
    saved = checkpoint["settings"] if checkpoint is not None else {}
    model = args.model or saved.get("model", DEFAULT_MODEL)
    if checkpoint is not None and model != saved["model"]:
        raise SystemExit(
            f"error: the checkpoint holds a {saved['model']!r} model, not {model!r}; "
            f"drop --model or pass --model {saved['model']}"
        )
    optimizer = args.optimizer or saved.get("optimizer", "sgd")
    lr = args.lr if args.lr is not None else saved.get("lr", DEFAULT_LR[optimizer])
    augment = args.augment if args.augment is not None else saved.get(
        "augment", model in AUGMENTED_MODELS)

    def option(name: str, default: Any) -> Any:  # explicit, else the checkpoint's, else default
        value = getattr(args, name)
        return value if value is not None else saved.get(name, default)

    return {
        "model": model,
        "optimizer": optimizer,
        "lr": lr,
        # a checkpoint from before these options trained with a constant rate and no extras
        "schedule": option("schedule", "constant" if checkpoint is not None else "onecycle"),
        "weight_decay": option("weight_decay", 0.0 if checkpoint is not None else 5e-4),
        "label_smoothing": option("label_smoothing",
                                  0.0 if checkpoint is not None else 0.1),
        "batch_size": args.batch_size,
        "seed": args.seed,
        "augment": bool(augment),
        "epochs": args.epochs,
    }


def hold_out(train_set: Any, count: int) -> tuple[Any, Any]:
    """(all but the last ``count`` training images, the last ``count``) as two datasets."""
    held = copy.copy(train_set)
    held.data, held.targets = train_set.data[-count:], train_set.targets[-count:]
    kept = copy.copy(train_set)
    kept.data, kept.targets = train_set.data[:-count], train_set.targets[:-count]
    return kept, held


def write_history(out: Path, settings: dict[str, Any], history: list[dict[str, Any]]) -> None:
    write_json(out / "history.json", {"settings": settings, "history": history})


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stage = {"now": "starting"}
    try:
        return run(args, stage)
    except KeyboardInterrupt:
        print(f"interrupted {stage['now']}", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED


def run(args: argparse.Namespace, stage: dict[str, str]) -> int:
    """The whole run; ``stage["now"]`` says what it is doing, for the Ctrl-C message."""
    checkpoint = None
    if args.resume is not None:
        stage["now"] = f"while loading {args.resume}"
        try:
            checkpoint = mg.load(args.resume)
        except (OSError, ValueError) as error:
            print(f"error: cannot resume: {error}", file=sys.stderr)
            return 1
        problem = check_checkpoint(checkpoint, args.resume)
        if problem is not None:
            print(f"error: cannot resume: {problem}; pass a checkpoint.npz written by "
                  "examples/mnist.py", file=sys.stderr)
            return 1
    settings = resolve_settings(args, checkpoint)
    mg.manual_seed(settings["seed"])

    stage["now"] = "while loading MNIST"
    try:
        root, download = data_root(args)
        train_set, test_set = load_datasets(root, download, args.limit_train, args.limit_test)
    except (OSError, RuntimeError, ValueError) as error:
        print(f"error: MNIST is not available: {error}", file=sys.stderr)
        if args.offline_split is None:
            print("Without internet, train on the offline split: --offline-split DIR, DIR "
                  "holding the official t10k files (see examples/README.md).", file=sys.stderr)
        return EXIT_NO_DATA
    if args.holdout:
        if not 0 < args.holdout < len(train_set):
            print(f"error: --holdout must be between 1 and {len(train_set) - 1}, got "
                  f"{args.holdout}", file=sys.stderr)
            return 1
        train_set, test_set = hold_out(train_set, args.holdout)

    model = build_model(settings["model"])
    extra = {"momentum": SGD_MOMENTUM, "nesterov": True} if settings["optimizer"] == "sgd" else {}
    optimizer = OPTIMIZERS[settings["optimizer"]](model.parameters(), lr=settings["lr"],
                                                  weight_decay=settings["weight_decay"], **extra)
    history: list[dict[str, Any]] = []
    if checkpoint is not None:
        try:
            model.load_state_dict(checkpoint["model"])
            optimizer.load_state_dict(checkpoint["optimizer"])
        except (KeyError, TypeError, ValueError, RuntimeError) as error:
            print(f"error: cannot resume: {args.resume} does not fit the {settings['model']!r} "
                  f"model or its optimizer: {error}", file=sys.stderr)
            return 1
        for group in optimizer.param_groups:  # an explicit --lr overrides the saved one
            group["lr"] = settings["lr"]
        history = list(checkpoint["history"])
        print(f"resumed from {args.resume} after epoch {checkpoint['epoch']}", flush=True)

    # a resumed run draws fresh (but reproducible) shuffles and shifts for its remaining epochs
    stream_seed = settings["seed"] + 1000 * len(history)
    train_data = RandomShift(train_set, 2, stream_seed) if settings["augment"] else train_set
    train_loader = DataLoader(
        train_data, batch_size=settings["batch_size"], shuffle=True, seed=stream_seed
    )
    test_loader = DataLoader(test_set, batch_size=500)
    on_batch_end = None
    if settings["schedule"] == "onecycle":
        schedule = OneCycleLR(optimizer, settings["lr"], epochs=settings["epochs"],
                              steps_per_epoch=len(train_loader))
        for _ in range(len(history) * len(train_loader)):  # a resumed run picks up the cycle
            schedule.step()
        on_batch_end = schedule.step
    print(
        f"model {settings['model']} ({count_parameters(model):,} parameters), "
        f"{settings['optimizer']} lr {settings['lr']:g} ({settings['schedule']}), "
        f"weight decay {settings['weight_decay']:g}, label smoothing "
        f"{settings['label_smoothing']:g}, batch {settings['batch_size']}, "
        f"augment {'on' if settings['augment'] else 'off'}; "
        f"{len(train_set):,} training and {len(test_set):,} test images",
        flush=True,
    )

    data_name = "the MNIST offline split" if args.offline_split is not None else "MNIST"
    if args.limit_train is not None or args.limit_test is not None:
        data_name += f" ({len(train_set):,} / {len(test_set):,} images)"
    out = args.out
    out.mkdir(parents=True, exist_ok=True)

    def save_progress(history: list[dict[str, Any]]) -> None:
        mg.save(
            {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "epoch": len(history),
                "history": history,
                "settings": settings,
            },
            out / CHECKPOINT,
        )
        write_history(out, settings, history)
        plot_history(history, out / "curves.png", title=f"{settings['model']} on {data_name}")

    epochs_done = len(history)
    stage["now"] = "while training"
    try:
        fit(model, train_loader, test_loader, optimizer, settings["epochs"],
            loss_fn=nn.CrossEntropyLoss(label_smoothing=settings["label_smoothing"]),
            history=history, on_epoch_end=save_progress, log=lambda line: print(line, flush=True),
            on_batch_end=on_batch_end)
    except KeyboardInterrupt:
        saved = f"; continue with --resume {out / CHECKPOINT}" if history else ""
        print(f"interrupted after {len(history)} epoch(s){saved}", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    stage["now"] = (f"while writing the plots; the checkpoint {out / CHECKPOINT} of epoch "
                    f"{len(history)} is complete")
    if len(history) == epochs_done:  # resumed a run that had reached --epochs already
        save_progress(history)

    logits, labels = predict(model, test_loader)
    predictions = logits.argmax(1)
    accuracy = float((predictions == labels).mean())
    raw_images = test_set.data
    plot_filters(model, out / "filters.png")
    plot_feature_maps(model, test_set.get_batch(np.array([0]))[0][0], out / "feature_maps.png")
    plot_predictions(raw_images, labels, predictions, out / "predictions.png")
    plot_confusion_matrix(labels, predictions, out / "confusion_matrix.png")
    print(f"wrote {', '.join(OUTPUT_FILES)} to {out}")
    print(f"test accuracy: {100 * accuracy:.2f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
