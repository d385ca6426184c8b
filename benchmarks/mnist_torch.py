"""The PyTorch twin of the default MNIST job (examples/mnist.py): same model, same recipe.

    python -m benchmarks.mnist_torch --data-dir ../shared/data/mnist-full [--threads 2]
    python -m benchmarks.mnist_torch --holdout 5000 --epochs 4     # a tuning run, no test set

The images, shuffles and random shifts come from the same NumPy code as the minigrad job
(examples/mnist_data.py), so the two runs differ only in the framework. ``--holdout N`` trains
on all but the last N training images and reports the accuracy on those N instead of the test
set: recipe choices are made that way, never on the test set. Prints one line per epoch and
``test accuracy: XX.XX%`` (or ``holdout accuracy``) and the wall time at the end.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
if str(EXAMPLES) not in sys.path:
    sys.path.insert(0, str(EXAMPLES))

from mnist_data import shift_images  # noqa: E402

from benchmarks.models import _torch_fast  # noqa: E402
from minigrad.data import MNIST  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.1, help="OneCycle peak learning rate")
    parser.add_argument("--label-smoothing", type=float, default=0.1)
    parser.add_argument("--weight-decay", type=float, default=5e-4)
    parser.add_argument("--shift", type=int, default=2)
    parser.add_argument("--widths", default="24,48,96")
    parser.add_argument("--holdout", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    start = time.perf_counter()
    train = MNIST(args.data_dir, train=True, download=False)
    images, labels = train.get_batch(np.arange(len(train)))
    if args.holdout:
        test_images, test_labels = images[-args.holdout:], labels[-args.holdout:]
        images, labels = images[:-args.holdout], labels[:-args.holdout]
        what = "holdout"
    else:
        test = MNIST(args.data_dir, train=False, download=False)
        test_images, test_labels = test.get_batch(np.arange(len(test)))
        what = "test"
    widths = tuple(int(w) for w in args.widths.split(","))
    model = _torch_fast(torch.nn, widths)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, nesterov=True,
                                weight_decay=args.weight_decay)
    steps = -(-len(labels) // args.batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, args.lr, epochs=args.epochs,
                                                   steps_per_epoch=steps)
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=args.label_smoothing)
    order_rng = np.random.default_rng(args.seed)
    shift_rng = np.random.default_rng(args.seed + 1)
    for epoch in range(1, args.epochs + 1):
        model.train()
        epoch_start = time.perf_counter()
        order = order_rng.permutation(len(labels))
        for first in range(0, len(order), args.batch_size):
            index = order[first:first + args.batch_size]
            x = shift_images(images[index], args.shift, shift_rng)
            optimizer.zero_grad()
            loss = loss_fn(model(torch.from_numpy(x)), torch.from_numpy(labels[index]))
            loss.backward()
            optimizer.step()
            schedule.step()
        seconds = time.perf_counter() - epoch_start
        model.eval()
        with torch.no_grad():
            logits = torch.cat([model(torch.from_numpy(test_images[i:i + 1000]))
                                for i in range(0, len(test_images), 1000)])
        accuracy = float((logits.argmax(1).numpy() == test_labels).mean())
        print(f"epoch {epoch}/{args.epochs}: {seconds:.1f} s, {what} acc "
              f"{100 * accuracy:.2f}%", flush=True)
    print(f"{what} accuracy: {100 * accuracy:.2f}%")
    print(f"wall: {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
