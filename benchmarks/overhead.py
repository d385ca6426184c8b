"""Per-op autograd overhead: forward + backward through a chain of tiny elementwise ops.

    python -m benchmarks.overhead [--length 1000] [--repeats 15]

Prints microseconds per op for minigrad and, when installed, PyTorch (same chain, same size),
as medians of interleaved runs.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import minigrad as mg


def _chain(x: Any, length: int) -> Callable[[], None]:
    """Forward ``length`` alternating tiny ops from ``x`` (either framework), then backward."""

    def run() -> None:
        y = x
        for i in range(length):
            y = y * 1.0001 if i % 2 else y + 0.001
        y.sum().backward()
        x.grad = None

    return run


def chain_minigrad(length: int, size: int) -> Callable[[], None]:
    x = mg.tensor(np.linspace(0.1, 1.0, size, dtype=np.float32), requires_grad=True)

    return _chain(x, length)


def chain_torch(length: int, size: int) -> Callable[[], None] | None:
    try:
        import torch
    except ImportError:
        return None
    x = torch.linspace(0.1, 1.0, size, dtype=torch.float32, requires_grad=True)

    return _chain(x, length)


def measure(fns: dict[str, Callable[[], None]], repeats: int) -> dict[str, float]:
    """Median seconds per call, runs of the candidates interleaved."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for fn in fns.values():
        fn()  # warm-up
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=1000, help="ops in the chain")
    parser.add_argument("--size", type=int, default=16, help="elements per tensor")
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args(argv)
    fns = {"minigrad": chain_minigrad(args.length, args.size)}
    torch_fn = chain_torch(args.length, args.size)
    if torch_fn is not None:
        import torch

        torch.set_num_threads(2)
        fns["pytorch"] = torch_fn
    medians = measure(fns, args.repeats)
    per_op = {name: 1e6 * t / args.length for name, t in medians.items()}
    print(f"forward+backward per op, chain of {args.length} ops on {args.size} elements")
    for name, us in per_op.items():
        print(f"  {name:9s} {us:7.2f} us/op")
    if "pytorch" in per_op:
        print(f"  ratio minigrad/pytorch: {per_op['minigrad'] / per_op['pytorch']:.2f}x")
    return per_op


if __name__ == "__main__":
    main()
