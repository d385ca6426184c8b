"""Max pooling against average pooling: SimpleCNN trained twice on the same data, from the same
initial weights, in the same batch order; one plot of test accuracy and training loss.

    python examples/pooling_comparison.py --offline-split path/to/mnist --epochs 5

Writes ``pooling_comparison.png`` and ``pooling_comparison.json`` (both histories) to ``--out``
(default ``runs/pooling``) and prints each run's final test accuracy.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from atomic import write_json
from mnist_data import add_data_arguments, data_root, load_datasets
from models import SimpleCNN
from plots import plot_pooling_comparison
from train import fit

import minigrad as mg
import minigrad.optim as optim
from minigrad.data import DataLoader

POOLS = {"max pooling": "max", "average pooling": "avg"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Compare max and average pooling in SimpleCNN on MNIST.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3, help="Adam's learning rate")
    parser.add_argument("--seed", type=int, default=0)
    add_data_arguments(parser)
    parser.add_argument("--out", type=Path, default=Path("runs/pooling"))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        root, download = data_root(args)
        train_set, test_set = load_datasets(root, download, args.limit_train, args.limit_test)
    except (OSError, RuntimeError, ValueError) as error:
        print(f"error: MNIST is not available: {error}", file=sys.stderr)
        return 2

    histories: dict[str, list[dict[str, Any]]] = {}
    for label, pool in POOLS.items():
        print(f"{label}:", flush=True)
        mg.manual_seed(args.seed)  # same initial weights: pooling has no parameters
        model = SimpleCNN(pool=pool)
        train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True,
                                  seed=args.seed)
        test_loader = DataLoader(test_set, batch_size=500)
        optimizer = optim.Adam(model.parameters(), lr=args.lr)
        histories[label] = fit(model, train_loader, test_loader, optimizer, args.epochs,
                               log=lambda line: print(line, flush=True))

    data_name = "the MNIST offline split" if args.offline_split is not None else "MNIST"
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(args.out / "pooling_comparison.json", histories)
    plot_pooling_comparison(
        histories,
        args.out / "pooling_comparison.png",
        title=f"SimpleCNN: max vs average pooling on {data_name} "
        f"({len(train_set):,} training, {len(test_set):,} test images)",
    )
    for label, history in histories.items():
        print(f"{label}: test accuracy {100 * history[-1]['test_acc']:.2f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
