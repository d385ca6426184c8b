"""The FLOP bound: multiply-adds of a training step against this machine's GEMM peak."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

import minigrad as mg
import nn


def layer_flops(model: Any, image: int = 28) -> list[tuple[str, float]]:
    """Forward FLOPs per sample (2 per multiply-add) of every Conv2d and Linear, in order.

    Runs the model's ``features`` then ``classifier`` layer by layer on one zero image to learn
    each layer's output size (the example models are built that way).
    """
    rows = []
    x = mg.zeros(1, 1, image, image)
    with mg.no_grad():
        for block in (model.features, model.classifier):
            for layer in block:
                x = layer(x)
                if isinstance(layer, nn.Conv2d):
                    o, cg, kh, kw = layer.weight.shape
                    rows.append((f"conv {cg * layer.groups}->{o}", 2.0 * o * cg * kh * kw
                                 * x.shape[2] * x.shape[3]))
                elif isinstance(layer, nn.Linear):
                    rows.append((f"linear {layer.in_features}->{layer.out_features}",
                                 2.0 * layer.in_features * layer.out_features))
    return rows


def training_flops(model: Any, image: int = 28) -> float:
    """FLOPs per sample of one training step: forward, weight gradient and input gradient of
    every layer, except the first layer's input gradient, which nobody needs."""
    forward = [flops for _, flops in layer_flops(model, image)]
    return 3 * sum(forward) - forward[0]


def gemm_peak_gflops(threads: int, size: int = 2048, repeats: int = 5) -> float:
    """Best sgemm rate of NumPy's BLAS on ``threads`` threads, GFLOP/s."""
    a = np.random.default_rng(0).standard_normal((size, size)).astype(np.float32)
    b = a.T.copy()
    best = float("inf")
    with threadpool_limits(limits=threads, user_api="blas"):
        a @ b
        for _ in range(repeats):
            start = time.perf_counter()
            a @ b
            best = min(best, time.perf_counter() - start)
    return 2.0 * size**3 / best / 1e9


def layer_bounds(model: Any, profile_rows: list[dict[str, Any]], batch_size: int,
                 peak_gflops: float, image: int = 28) -> list[dict[str, Any]]:
    """Each Conv2d and Linear of ``model`` from a ``profile_layers`` table: measured forward and
    backward ms against the time its FLOPs take at ``peak_gflops`` (forward, and backward as
    weight plus input gradient, the first layer's input gradient excepted)."""
    flops = layer_flops(model, image)
    timed = [row for row in profile_rows
             if row["layer"].startswith(("Conv2d#", "MatMul#", "Linear#"))]
    rows = []
    for index, ((name, forward), row) in enumerate(zip(flops, timed, strict=False)):
        backward = forward * (1 if index == 0 else 2)
        bound_ms = 1e3 * batch_size * (forward + backward) / (peak_gflops * 1e9)
        measured = row["forward_ms"] + row["backward_ms"]
        rows.append({"layer": name, "op": row["layer"], "forward_ms": row["forward_ms"],
                     "backward_ms": row["backward_ms"], "bound_ms": bound_ms,
                     "share": bound_ms / measured if measured else 0.0})
    return rows
