"""Time per layer: every primitive call of one training step, forward and backward.

Each Primitive subclass's forward and backward are wrapped with timers for the duration of the
measurement; a call is labelled by its op and its position in the forward pass (Conv2d#0,
Relu#0, …), so the table reads like the model's layer list.
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np

import minigrad as mg
import minigrad.functional as F
import minigrad.optim as optim
from minigrad.autograd.engine import Primitive


def _subclasses(cls: type) -> list[type]:
    out = []
    for sub in cls.__subclasses__():
        out.append(sub)
        out.extend(_subclasses(sub))
    return out


class _Recorder:
    def __init__(self) -> None:
        self.counts: dict[str, int] = defaultdict(int)
        self.order: list[str] = []
        self.shapes: dict[str, tuple] = {}
        self.forward: dict[str, list[float]] = defaultdict(list)
        self.backward: dict[str, list[float]] = defaultdict(list)

    def new_pass(self) -> None:
        self.counts.clear()

    def wrap_forward(self, cls: type, fn: Callable) -> Callable:
        def forward(ctx: Any, *args: Any, **kwargs: Any) -> Any:
            label = f"{cls.__name__}#{self.counts[cls.__name__]}"
            self.counts[cls.__name__] += 1
            start = time.perf_counter()
            out = fn(ctx, *args, **kwargs)
            self.forward[label].append(time.perf_counter() - start)
            ctx.profile_label = label
            if label not in self.shapes:
                self.order.append(label)
                self.shapes[label] = tuple(np.shape(out))
            return out

        return forward

    def wrap_backward(self, fn: Callable) -> Callable:
        def backward(ctx: Any, grad: Any) -> Any:
            start = time.perf_counter()
            out = fn(ctx, grad)
            self.backward[getattr(ctx, "profile_label", "?")].append(time.perf_counter() - start)
            return out

        return backward


def profile_layers(model: Any, x: np.ndarray, y: np.ndarray, repeats: int = 5
                   ) -> list[dict[str, Any]]:
    """Rows of {layer, shape, forward_ms, backward_ms} for one SGD training step."""
    recorder = _Recorder()
    originals = []
    for cls in _subclasses(Primitive):
        if "forward" in cls.__dict__ or "backward" in cls.__dict__:
            originals.append((cls, cls.__dict__.get("forward"), cls.__dict__.get("backward")))
            cls.forward = staticmethod(recorder.wrap_forward(cls, cls.forward))
            cls.backward = staticmethod(recorder.wrap_backward(cls.backward))
    xs, ys = mg.tensor(x), mg.tensor(y)
    opt = optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    step_times, opt_times = [], []
    try:
        for _ in range(repeats + 1):
            recorder.new_pass()
            start = time.perf_counter()
            opt.zero_grad()
            F.cross_entropy(model(xs), ys).backward()
            middle = time.perf_counter()
            opt.step()
            end = time.perf_counter()
            step_times.append(end - start)
            opt_times.append(end - middle)
    finally:
        for cls, forward, backward in originals:
            for name, value in (("forward", forward), ("backward", backward)):
                if value is None:
                    delattr(cls, name)
                else:
                    setattr(cls, name, value)

    def median_ms(values: list[float]) -> float:
        return 1e3 * statistics.median(values[1:] or values) if values else 0.0

    rows = [
        {"layer": label, "shape": str(recorder.shapes[label]),
         "forward_ms": median_ms(recorder.forward[label]),
         "backward_ms": median_ms(recorder.backward[label])}
        for label in recorder.order
    ]
    accounted = sum(r["forward_ms"] + r["backward_ms"] for r in rows)
    rows.append({"layer": "optimizer step", "shape": "", "forward_ms": median_ms(opt_times),
                 "backward_ms": 0.0})
    rows.append({"layer": "engine and Python (rest)", "shape": "",
                 "forward_ms": median_ms(step_times) - median_ms(opt_times) - accounted,
                 "backward_ms": 0.0})
    rows.append({"layer": "whole step", "shape": "", "forward_ms": median_ms(step_times),
                 "backward_ms": 0.0})
    return rows
