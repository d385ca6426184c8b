"""Throughput ratios only: ``python -m benchmarks.compare [--models ...] [--repeats 5]``.

The first table of ``python -m benchmarks`` (training and inference samples/s against PyTorch,
each run in a fresh process, rounds alternating the frameworks, medians) without the other
sections, for quick before/after comparisons. ``--models`` takes ``NAME`` or ``NAME@BATCH``;
``--seconds`` sets each process's window of timed steps (default 1.5 s).
"""

from __future__ import annotations

import argparse

from benchmarks.__main__ import WINDOW_SECONDS, fmt, have_torch, table, throughput
from benchmarks.models import NAMES

# the cases of the headline table: PyTorch's MNIST example trains at batch 64 by default
CASES = ("SimpleCNN@128", "LeNet-5@128", "StrongCNN@128", "ExampleNet@64", "ExampleNet@128")


def parse_case(case: str) -> tuple[str, int]:
    name, _, size = case.partition("@")
    if name not in NAMES:
        raise SystemExit(f"unknown model {name!r}; choose from {', '.join(NAMES)}")
    return name, int(size or 128)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(CASES))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=WINDOW_SECONDS,
                        help="timed steps per process, in seconds")
    parser.add_argument("--no-inference", action="store_true")
    args = parser.parse_args(argv)
    torch_ok = have_torch()
    for train in (True,) if args.no_inference else (True, False):
        rows = []
        for case in args.models.split(","):
            name, batch_size = parse_case(case)
            r = throughput(name, batch_size, train, args.repeats, torch_ok, args.seconds)
            ratio = r["minigrad"] / r["pytorch"] if "pytorch" in r else None
            rows.append([name, batch_size, fmt(r["minigrad"]), fmt(r.get("pytorch")),
                         fmt(ratio, 2) + "x"])
            print(rows[-1], flush=True)
        kind = "training" if train else "inference"
        print(f"\n{kind}, samples/s\n"
              + table(["model", "batch", "minigrad", "PyTorch", "ratio"], rows) + "\n")


if __name__ == "__main__":
    main()
