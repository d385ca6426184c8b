"""Per-layer comparison of conv2d kernel variants on the benchmark CNNs' own convolutions.

One training step of each model is run once to capture the arguments of every conv2d call (the
input, weight and bias in the memory layout the previous layer left them, and the gradient that
reaches the conv's backward). Each variant is a set of overrides of the tuning constants in
``minigrad.ops.conv`` / ``minigrad.ops.winograd``; the variants of one layer are then timed
interleaved (A, B, A, B, ...) in this process, so that load from other processes hits all of them
alike, and the minimum and median of forward and backward are printed per layer.

Run from the repository root (2 threads, as the benchmarks):

    BENCH_THREADS=2 python benchmarks/conv_variants.py [--repeats 15] [--models StrongCNN]

The choices in ``conv.py`` (``use_winograd``, ``RECOMPUTE_COLUMNS`` ...) are the winners of
these comparisons; the commit messages and the comments there quote its numbers.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import minigrad.functional as F  # noqa: E402
from minigrad import parallel  # noqa: E402
from minigrad.autograd.engine import Context  # noqa: E402
from minigrad.ops import conv as conv_module  # noqa: E402
from minigrad.ops import winograd, winograd4  # noqa: E402
from minigrad.tensor import Tensor  # noqa: E402

Case = dict[str, Any]
Overrides = dict[str, Any]  # "module.NAME" -> value

MODULES = {"conv": conv_module, "winograd": winograd, "winograd4": winograd4}

# name -> overrides; "current" is the code as committed
VARIANTS: dict[str, Overrides] = {
    "current": {},
    # the dispatch before F(4x4, 3x3) and the folded bias: F(2x2, 3x3) for 10-16 pixels and
    # 32+ channels, im2col elsewhere
    "previous": {"conv.WINOGRAD4_MIN_SIZE": 1 << 30, "conv.WINOGRAD_MIN_CHANNELS": 32,
                 "conv.FOLD_BIAS": False},
    "winograd_f2": {"conv.WINOGRAD_MIN_SIZE": 1, "conv.WINOGRAD_MAX_SIZE": 1 << 30,
                    "conv.WINOGRAD4_MIN_SIZE": 1 << 30},
    "winograd_f4": {"conv.WINOGRAD4_MIN_SIZE": 1},
    "no_f4": {"conv.WINOGRAD4_MIN_SIZE": 1 << 30},
    "f4_chunks_1m": {"winograd4.CHUNK_BYTES": 1 << 20},
    "f4_chunks_4m": {"winograd4.CHUNK_BYTES": 4 << 20},
    "f4_from_8_channels": {"conv.WINOGRAD_MIN_CHANNELS": 8},
    "f4_from_16_channels": {"conv.WINOGRAD_MIN_CHANNELS": 16},
    "f4_from_7_pixels": {"conv.WINOGRAD4_MIN_SIZE": 7},
    "im2col": {"conv.WINOGRAD_MIN_CHANNELS": 1 << 30},
    "bias_pass": {"conv.FOLD_BIAS": False},
}


def capture(name: str, batch: int) -> list[Case]:
    """The arguments of every Conv2d call in one training step of benchmark model ``name``."""
    from benchmarks.models import minigrad_model

    model = minigrad_model(name)
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((batch, 1, 28, 28)).astype(np.float32))
    y = Tensor(rng.integers(0, 10, batch))
    cases: list[Case] = []
    conv = conv_module.Conv2d
    original_forward, original_backward = conv.forward, conv.backward

    def forward(ctx: Context, *args: Any, **kwargs: Any) -> np.ndarray:
        ctx.case = {"args": [None if a is None else a.copy(order="K") for a in args],
                    "kwargs": kwargs, "needs": ctx.needs_input_grad}
        cases.append(ctx.case)
        return original_forward(ctx, *args, **kwargs)

    def backward(ctx: Context, grad: np.ndarray) -> Any:
        ctx.case["grad"] = grad.copy(order="K")
        return original_backward(ctx, grad)

    conv.forward, conv.backward = staticmethod(forward), staticmethod(backward)  # type: ignore
    try:
        F.cross_entropy(model(x), y).backward()
    finally:
        conv.forward = staticmethod(original_forward)  # type: ignore[method-assign]
        conv.backward = staticmethod(original_backward)  # type: ignore[method-assign]
    return cases


@contextmanager
def overridden(overrides: Overrides) -> Iterator[None]:
    """The tuning constants set to ``overrides`` for the duration of the block."""
    saved = []
    for key, value in overrides.items():
        module_name, attribute = key.split(".")
        module = MODULES[module_name]
        saved.append((module, attribute, getattr(module, attribute)))
        setattr(module, attribute, value)
    try:
        yield
    finally:
        for module, attribute, value in reversed(saved):
            setattr(module, attribute, value)


def run_case(case: Case, clock: Callable[[], float]) -> tuple[float, float]:
    """Seconds of one forward and one backward of ``case`` on ``clock``."""
    ctx = Context()
    ctx.needs_input_grad = case["needs"]
    start = clock()
    conv_module.Conv2d.forward(ctx, *case["args"], **case["kwargs"])
    middle = clock()
    conv_module.Conv2d.backward(ctx, case["grad"])
    return middle - start, clock() - middle


def label(case: Case) -> str:
    x, weight = case["args"][:2]
    pad = case["kwargs"]["padding"][0][0]
    return (f"conv {weight.shape[1]}->{weight.shape[0]} @{x.shape[2]} pad {pad} "
            f"batch {x.shape[0]}")


def compare(case: Case, variants: dict[str, Overrides], repeats: int,
            clock: Callable[[], float]) -> dict[str, tuple[list[float], list[float]]]:
    """Interleaved forward and backward times (ms) of each variant on ``case``."""
    times: dict[str, tuple[list[float], list[float]]] = {v: ([], []) for v in variants}
    for overrides in variants.values():  # warm up every variant once
        with overridden(overrides):
            run_case(case, clock)
    for _ in range(repeats):
        for name, overrides in variants.items():
            with overridden(overrides):
                forward, backward = run_case(case, clock)
            times[name][0].append(1e3 * forward)
            times[name][1].append(1e3 * backward)
    return times


def training_steps(name: str, batch: int, variants: dict[str, Overrides], repeats: int,
                   clock: Callable[[], float]) -> dict[str, list[float]]:
    """ms of whole SGD training steps of benchmark model ``name``, variants interleaved."""
    import minigrad.optim as optim
    from benchmarks.models import minigrad_model

    model = minigrad_model(name)
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((batch, 1, 28, 28)).astype(np.float32))
    y = Tensor(rng.integers(0, 10, batch))
    opt = optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    times: dict[str, list[float]] = {v: [] for v in variants}
    for step in range(repeats + 1):
        for variant, overrides in variants.items():
            with overridden(overrides):
                start = clock()
                opt.zero_grad()
                F.cross_entropy(model(x), y).backward()
                opt.step()
                if step:  # the first step of each variant warms up
                    times[variant].append(1e3 * (clock() - start))
    return times


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--models", default="StrongCNN,ExampleNet")
    parser.add_argument("--cpu", action="store_true",
                        help="CPU time of the process (all threads) instead of wall time: "
                        "steadier while other processes load the machine")
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help="comma-separated names from VARIANTS")
    parser.add_argument("--skip-first", action="store_true",
                        help="leave out the convolutions of one input channel")
    parser.add_argument("--steps", action="store_true",
                        help="time whole training steps of the models instead of layers")
    args = parser.parse_args(argv)
    parallel.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))
    chosen = {name: VARIANTS[name] for name in args.variants.split(",") if name}
    clock = time.process_time if args.cpu else time.perf_counter
    print(f"threads {parallel.get_num_threads()}; {'CPU' if args.cpu else 'wall'} ms, "
          f"min / median of {args.repeats}, variants interleaved")
    if args.steps:
        print("| model | batch | variant | step min | step median | speed-up |")
        print("|---|---:|---|---:|---:|---:|")
        for model in args.models.split(","):
            for batch in (64, 128) if model == "ExampleNet" else (128,):
                steps = training_steps(model, batch, chosen, args.repeats, clock)
                first = min(next(iter(steps.values())))
                for name, values in steps.items():
                    print(f"| {model} | {batch} | {name} | {min(values):.1f} | "
                          f"{statistics.median(values):.1f} | {first / min(values):.2f}x |",
                          flush=True)
        return
    print(f"| layer | variant | forward | backward | fwd+bwd (min) "
          f"| speed-up over {next(iter(chosen))} |")
    print("|---|---|---:|---:|---:|---:|")
    seen: set[str] = set()
    for model in args.models.split(","):
        for batch in (64, 128) if model == "ExampleNet" else (128,):
            for case in capture(model, batch):
                key = f"{model} {label(case)}"
                if label(case) in seen or (args.skip_first and case["args"][0].shape[1] == 1):
                    continue
                seen.add(label(case))
                times = compare(case, chosen, args.repeats, clock)
                base = None
                for name, (forward, backward) in times.items():
                    total = min(forward) + min(backward)
                    base = base or total
                    print(f"| {key} | {name} | {min(forward):.2f} / "
                          f"{statistics.median(forward):.2f} | {min(backward):.2f} / "
                          f"{statistics.median(backward):.2f} | {total:.2f} | "
                          f"{base / total:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
