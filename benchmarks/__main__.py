"""The benchmark suite: ``python -m benchmarks [--quick] [--out benchmarks/results]``.

Training and inference throughput of the benchmark models (benchmarks/models.py: SimpleCNN,
LeNet-5, StrongCNN, PyTorch's MNIST example Net at batch 64 and 128, FastCNN; batch 128,
float32, 28x28) against PyTorch on the same number of threads when it is installed (five
rounds alternate the frameworks, each run in a fresh process timing about 1.5 s of steps; three
rounds of 0.5 s with ``--quick``), medians and ratios; per-op autograd
overhead; time per layer (forward and backward) and each conv/linear layer against the FLOP
bound of the GEMM peak measured in the same run; peak memory (RSS) per model; scaling with
batch size and image size. Prints tables and writes them to ``OUT/latest.md`` and
``OUT/latest.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

THREADS = int(os.environ.get("BENCH_THREADS", "2"))

import minigrad as mg  # noqa: E402
import minigrad.functional as F  # noqa: E402
import minigrad.optim as optim  # noqa: E402
from benchmarks import overhead  # noqa: E402
from benchmarks.flops import gemm_peak_gflops, layer_bounds, training_flops  # noqa: E402
from benchmarks.models import NAMES, minigrad_model, torch_model  # noqa: E402
from benchmarks.profile import profile_layers  # noqa: E402


def have_torch() -> bool:
    try:
        import torch

        torch.set_num_threads(THREADS)
        return True
    except ImportError:
        return False


def batch(batch_size: int, image: int = 28, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch_size, 1, image, image)).astype(np.float32)
    y = rng.integers(0, 10, batch_size).astype(np.int64)
    return x, y


def minigrad_step(model: Any, x: np.ndarray, y: np.ndarray, train: bool) -> Callable[[], None]:
    xs, ys = mg.tensor(x), mg.tensor(y)
    opt = optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)

    def train_step() -> None:
        opt.zero_grad()
        F.cross_entropy(model(xs), ys).backward()
        opt.step()

    def infer_step() -> None:
        with mg.no_grad():
            model(xs)

    return train_step if train else infer_step


def torch_step(model: Any, x: np.ndarray, y: np.ndarray, train: bool) -> Callable[[], None]:
    import torch

    xs, ys = torch.from_numpy(x), torch.from_numpy(y)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)

    def train_step() -> None:
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(xs), ys).backward()
        opt.step()

    def infer_step() -> None:
        with torch.no_grad():
            model(xs)

    return train_step if train else infer_step


# Timed steps per process: at least MIN_STEPS and about WINDOW_SECONDS of them, after
# WARMUP_STEPS untimed ones. PyTorch speeds up over its first second in a fresh process, so
# shorter windows flatter minigrad: 30-step windows gave SimpleCNN 0.85x where windows of about
# 1.5 s gave 0.92x.
WINDOW_SECONDS = 1.5
QUICK_SECONDS = 0.5  # --quick, and the batch-size and image-size scaling tables
MIN_STEPS = 5
WARMUP_STEPS = 5


def _time_steps(framework: str, name: str, batch_size: int, train: bool,
                seconds: float = WINDOW_SECONDS) -> float:
    """Median seconds per step over a window of about ``seconds`` of timed steps in this
    process (called inside the isolated worker)."""
    if name.startswith("trunk"):
        image = int(name[len("trunk"):])
        x, _ = batch(batch_size, image)
        ours, theirs = trunk_models(image, framework == "pytorch" and have_torch())
        fn = trunk_step(theirs if framework == "pytorch" else ours, x, framework)
    else:
        x, y = batch(batch_size)
        model = minigrad_model(name)
        if framework == "pytorch":
            have_torch()
            fn = torch_step(torch_model(name, model), x, y, train)
        else:
            fn = minigrad_step(model, x, y, train)
    for _ in range(WARMUP_STEPS):  # a fresh process: let the heap, caches and threads settle
        fn()
    times: list[float] = []
    while len(times) < MIN_STEPS or sum(times) < seconds:
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def trunk_step(model: Any, x: np.ndarray, framework: str) -> Callable[[], None]:
    """One training step of a trunk: mean of the features as the loss."""
    if framework == "pytorch":
        import torch

        xs = torch.from_numpy(x)
    else:
        xs = mg.tensor(x)

    def step() -> None:
        model.zero_grad()
        model(xs).mean().backward()

    return step


def _isolated(framework: str, name: str, batch_size: int, train: bool,
              seconds: float = WINDOW_SECONDS) -> float:
    """``_time_steps`` in a fresh process: no thread pool, allocator or cache state of the other
    framework (or of earlier runs) can slow the one being timed."""
    code = (
        "import sys; sys.path.insert(0, '.'); from benchmarks.__main__ import _time_steps;"
        f"print(_time_steps({framework!r}, {name!r}, {batch_size}, {train}, {seconds!r}))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parent.parent, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def throughput(name: str, batch_size: int, train: bool, repeats: int, torch_ok: bool,
               seconds: float = WINDOW_SECONDS) -> dict[str, float]:
    """Samples/s: rounds alternate the frameworks, each run in a fresh process timing about
    ``seconds`` of steps; medians."""
    frameworks = ["minigrad"] + (["pytorch"] if torch_ok else [])
    times: dict[str, list[float]] = {f: [] for f in frameworks}
    for _ in range(repeats):
        for framework in frameworks:
            times[framework].append(_isolated(framework, name, batch_size, train, seconds))
    return {f: batch_size / statistics.median(t) for f, t in times.items()}


def peak_rss_mb(name: str, framework: str, batch_size: int, steps: int) -> float | None:
    """Peak resident memory of a fresh process training ``steps`` steps."""
    code = (
        "import sys; sys.path.insert(0, '.');"
        "from benchmarks.__main__ import *;"
        f"x, y = batch({batch_size}); m = minigrad_model({name!r});"
        + (
            f"fn = torch_step(torch_model({name!r}, m), x, y, True);"
            if framework == "pytorch"
            else "fn = minigrad_step(m, x, y, True);"
        )
        + f"[fn() for _ in range({steps})];"
        # VmHWM, not ru_maxrss: after fork+exec ru_maxrss may still report the parent's peak
        "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    if result.returncode != 0:
        return None
    return int(result.stdout.strip().splitlines()[-1]) / 1024


def table(headers: list[str], rows: list[list[Any]]) -> str:
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in cells]
    return "\n".join([line, sep, *body])


def fmt(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, fewer sections")
    parser.add_argument("--out", default="benchmarks/results", help="folder for the results")
    parser.add_argument("--models", default=",".join(NAMES), help="comma-separated models")
    args = parser.parse_args(argv)
    torch_ok = have_torch()
    repeats = 3 if args.quick else 5
    seconds = QUICK_SECONDS if args.quick else WINDOW_SECONDS
    names = [n for n in args.models.split(",") if n]
    report: list[str] = [
        f"threads: {THREADS}; numpy {np.__version__}"
        + (f"; torch {__import__('torch').__version__}" if torch_ok else "; torch not installed")
    ]
    data: dict[str, Any] = {}

    for train in (True, False):
        kind = "training" if train else "inference"
        rows = []
        for name in names:
            # PyTorch's MNIST example trains its Net at batch 64
            for batch_size in (64, 128) if name == "ExampleNet" else (128,):
                r = throughput(name, batch_size, train, repeats, torch_ok, seconds)
                key = f"{kind}/{name}" + ("" if batch_size == 128 else f"@{batch_size}")
                data[key] = r
                ratio = r["minigrad"] / r["pytorch"] if "pytorch" in r else None
                rows.append([name, batch_size, fmt(r["minigrad"]), fmt(r.get("pytorch")),
                             fmt(ratio, 2) + "x"])
                print(f"{kind} {name}: {rows[-1]}", flush=True)
        report.append(f"### {kind} throughput, samples/s (higher is better)\n\n"
                      + table(["model", "batch", "minigrad", "PyTorch", "ratio"], rows))

    peak = gemm_peak_gflops(THREADS)
    data["gemm_peak_gflops"] = peak
    rows = []
    for name in names:
        flops = training_flops(minigrad_model(name))
        bound = peak * 1e9 / flops
        measured = data[f"training/{name}"]
        shares = [f"{100 * measured[f] / bound:.0f}%" if f in measured else "—"
                  for f in ("minigrad", "pytorch")]
        rows.append([name, f"{flops / 1e6:.1f}", fmt(bound), *shares])
    report.append(f"### training against the FLOP bound (fp32 GEMM peak {peak:.0f} GFLOP/s on "
                  f"{THREADS} threads, measured)\n\n"
                  + table(["model", "MFLOP/sample", "bound samples/s", "minigrad", "PyTorch"],
                          rows))

    per_op = overhead.main(["--repeats", "5" if args.quick else "15"])
    data["overhead_us_per_op"] = per_op
    report.append("### autograd overhead: forward+backward per op, chain of 1,000 tiny ops\n\n"
                  + table(["framework", "us/op"], [[k, f"{v:.2f}"] for k, v in per_op.items()]))

    for name in names:
        model = minigrad_model(name)
        rows = profile_layers(model, *batch(128), repeats=repeats)
        data[f"layers/{name}"] = rows
        report.append(
            f"### {name}: minigrad time per layer, batch 128, ms (median)\n\n"
            + table(["layer", "output shape", "forward", "backward"],
                    [[r["layer"], r["shape"], f"{r['forward_ms']:.2f}", f"{r['backward_ms']:.2f}"]
                     for r in rows])
        )
        bounds = layer_bounds(model, rows, 128, peak)
        data[f"layer_bounds/{name}"] = bounds
        report.append(
            f"### {name}: conv and linear layers against the FLOP bound (GEMM peak {peak:.0f} "
            "GFLOP/s), batch 128, ms\n\n"
            + table(["layer", "op", "forward", "backward", "FLOP bound", "of bound"],
                    [[r["layer"], r["op"], f"{r['forward_ms']:.2f}", f"{r['backward_ms']:.2f}",
                      f"{r['bound_ms']:.2f}", f"{100 * r['share']:.0f}%"] for r in bounds])
        )

    rows = []
    for name in names:
        ours = peak_rss_mb(name, "minigrad", 128, 3)
        theirs = peak_rss_mb(name, "pytorch", 128, 3) if torch_ok else None
        data[f"rss_mb/{name}"] = {"minigrad": ours, "pytorch": theirs}
        rows.append([name, fmt(ours), fmt(theirs)])
    report.append("### peak memory (RSS, MB) of a process training 3 steps at batch 128\n\n"
                  + table(["model", "minigrad", "PyTorch"], rows))

    if not args.quick:
        rows = []
        for batch_size in (32, 64, 128, 256, 512):
            r = throughput("SimpleCNN", batch_size, True, 3, torch_ok, QUICK_SECONDS)
            data[f"scaling_batch/{batch_size}"] = r
            ratio = r["minigrad"] / r["pytorch"] if "pytorch" in r else None
            rows.append([batch_size, fmt(r["minigrad"]), fmt(r.get("pytorch")),
                         fmt(ratio, 2) + "x"])
        report.append("### SimpleCNN training throughput by batch size, samples/s\n\n"
                      + table(["batch", "minigrad", "PyTorch", "ratio"], rows))
        rows = []
        for image in (28, 56, 112):
            r = trunk_throughput(image, torch_ok)
            data[f"scaling_image/{image}"] = r
            ratio = r["minigrad"] / r["pytorch"] if "pytorch" in r else None
            rows.append([f"{image}x{image}", fmt(r["minigrad"]), fmt(r.get("pytorch")),
                         fmt(ratio, 2) + "x"])
        report.append("### conv trunk (conv 1->8, pool, conv 8->16, pool) training by image "
                      "size, batch 64, samples/s\n\n"
                      + table(["image", "minigrad", "PyTorch", "ratio"], rows))

    text = "\n\n".join(report) + "\n"
    print("\n" + text)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for path, content in ((out / "latest.md", text), (out / "latest.json",
                                                       json.dumps(data, indent=1, default=str))):
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(content)
        os.replace(tmp, path)
    print(f"written: {out / 'latest.md'}")


def trunk_models(image: int, torch_ok: bool) -> tuple[Any, Any]:
    """A conv trunk whose cost grows with the image area, in minigrad and (maybe) PyTorch."""
    import nn

    ours = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
    if not torch_ok:
        return ours, None
    from torch import nn as tnn

    theirs = tnn.Sequential(tnn.Conv2d(1, 8, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
                            tnn.Conv2d(8, 16, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2))
    return ours, theirs


def trunk_throughput(image: int, torch_ok: bool, batch_size: int = 64) -> dict[str, float]:
    """Training samples/s of the conv trunk on ``image`` x ``image`` inputs (isolated runs)."""
    return throughput(f"trunk{image}", batch_size, True, 3, torch_ok, QUICK_SECONDS)


if __name__ == "__main__":
    main()
