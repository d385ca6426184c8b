"""Classify MNIST with an LSTM that reads each image row by row (28 time steps of 28 pixels).

    python examples/mnist_rnn.py                                  # full MNIST, 5 epochs
    python examples/mnist_rnn.py --offline-split path/to/mnist    # no download: the t10k split
    python examples/mnist_rnn.py --digits --epochs 10             # scikit-learn's 8x8 digits

The model follows PyTorch's examples/mnist_rnn: an LSTM (batch_first) over the rows, the last
step's output through BatchNorm1d, dropout, a 32-unit ReLU layer, dropout and a linear layer to
the 10 classes. The learning rate decays by ``--gamma`` after every epoch (StepLR). Each epoch
prints a summary line; the last line printed is the final test accuracy,
``test accuracy: 98.12%``. ``--save-model PATH`` writes the trained weights (``mg.save``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from mnist_data import add_data_arguments, data_root, load_datasets
from train import fit

import minigrad as mg
import minigrad.functional as F
import minigrad.optim as optim
import nn
from minigrad.data import DataLoader, TensorDataset, load_digits
from minigrad.optim.lr_scheduler import StepLR

OPTIMIZERS = {"adam": optim.Adam, "adadelta": optim.Adadelta, "sgd": optim.SGD}
DEFAULT_LR = {"adam": 2e-3, "adadelta": 1.0, "sgd": 0.1}
EXIT_NO_DATA = 2


class RowLSTM(nn.Module):
    """(N, 1, S, S) images -> (N, 10) logits, reading the S rows as S steps of S features."""

    def __init__(self, image_size: int = 28, hidden_size: int = 64) -> None:
        super().__init__()
        self.image_size = image_size
        self.rnn = nn.LSTM(input_size=image_size, hidden_size=hidden_size, batch_first=True)
        self.batchnorm = nn.BatchNorm1d(hidden_size)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(hidden_size, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, input: mg.Tensor) -> mg.Tensor:
        rows = input.reshape(-1, self.image_size, self.image_size)  # (N, steps, features)
        output, _ = self.rnn(rows)
        last = output[:, -1, :]  # the output after the last row
        x = self.dropout1(self.batchnorm(last))
        x = self.dropout2(F.relu(self.fc1(x)))
        return self.fc2(x)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Train an LSTM on MNIST rows with minigrad.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--test-batch-size", type=int, default=1000)
    parser.add_argument("--optimizer", choices=list(OPTIMIZERS), default="adam")
    parser.add_argument("--lr", type=float, default=None,
                        help="learning rate (default: 2e-3 for adam, 1.0 for adadelta, 0.1 "
                        "for sgd)")
    parser.add_argument("--gamma", type=float, default=0.7,
                        help="learning-rate decay per epoch (StepLR)")
    parser.add_argument("--hidden-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--digits", action="store_true",
                        help="train on scikit-learn's 8x8 digits (8 steps of 8 features) "
                        "instead of MNIST; needs no download")
    add_data_arguments(parser)
    parser.add_argument("--save-model", type=Path, default=None, metavar="PATH",
                        help="write the trained model's state_dict here (mg.save)")
    args = parser.parse_args(argv)
    for name in ("epochs", "batch_size", "test_batch_size", "hidden_size"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def _limited(images: np.ndarray, labels: np.ndarray, limit: int | None
             ) -> tuple[np.ndarray, np.ndarray]:
    if limit is not None and limit < 1:
        raise ValueError(f"a limit on the number of images must be positive, got {limit}")
    return images[:limit], labels[:limit]


def load_data(args: argparse.Namespace) -> tuple[object, object, int, str]:
    """Training and test datasets, the image side and a name for the log."""
    if args.digits:
        train = _limited(*load_digits(train=True), args.limit_train)
        test = _limited(*load_digits(train=False), args.limit_test)
        return TensorDataset(*train), TensorDataset(*test), 8, "the 8x8 digits"
    root, download = data_root(args)
    train_set, test_set = load_datasets(root, download, args.limit_train, args.limit_test)
    name = "the MNIST offline split" if args.offline_split is not None else "MNIST"
    return train_set, test_set, 28, name


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    mg.manual_seed(args.seed)
    try:
        train_set, test_set, image_size, data_name = load_data(args)
    except (OSError, RuntimeError, ValueError, ImportError) as error:
        print(f"error: the data is not available: {error}", file=sys.stderr)
        if not args.digits and args.offline_split is None:
            print("Without internet, train on the offline split (--offline-split DIR, DIR "
                  "holding the official t10k files) or on --digits.", file=sys.stderr)
        return EXIT_NO_DATA

    model = RowLSTM(image_size, args.hidden_size)
    lr = args.lr if args.lr is not None else DEFAULT_LR[args.optimizer]
    optimizer = OPTIMIZERS[args.optimizer](model.parameters(), lr=lr)
    scheduler = StepLR(optimizer, step_size=1, gamma=args.gamma)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True,
                              seed=args.seed)
    test_loader = DataLoader(test_set, batch_size=args.test_batch_size)
    parameters = sum(p.numel() for p in model.parameters())
    print(f"LSTM over {image_size} rows ({parameters:,} parameters), {args.optimizer} lr {lr:g}, "
          f"batch {args.batch_size}; {len(train_set):,} training and {len(test_set):,} test "
          f"images of {data_name}", flush=True)
    history = fit(model, train_loader, test_loader, optimizer, args.epochs,
                  loss_fn=nn.CrossEntropyLoss(), on_epoch_end=lambda _: scheduler.step(),
                  log=lambda line: print(line, flush=True))
    if args.save_model is not None:
        mg.save(model.state_dict(), args.save_model)
    print(f"test accuracy: {100 * history[-1]['test_acc']:.2f}%", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
