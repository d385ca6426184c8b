"""Convolution benchmark: the first two layers of an MNIST CNN, forward + backward.

    conv(1->32, 3x3, pad 1) -> relu -> conv(32->64, 3x3, pad 1) -> max_pool2d(2)

at batch 128 on 28x28 float32 images, against PyTorch on the CPU with 2 threads when it is
installed. Prints the median time of a whole step for each framework, their ratio, and a
per-layer table (forward and backward of each layer on its own). Runs are interleaved
(minigrad, torch, minigrad, ...) so that load on the machine hits both alike.

Run from the repository root:  python benchmarks/conv.py [--repeats 15] [--batch 128]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# PyTorch's OpenMP threads otherwise spin for a while after each op, starving the BLAS threads
# of the minigrad run that follows (a 10-20x slowdown of minigrad's GEMMs); set before import.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from minigrad.ops.conv import conv2d, max_pool2d  # noqa: E402
from minigrad.tensor import Tensor  # noqa: E402

try:
    import torch
    import torch.nn.functional as torch_f
except ImportError:  # the comparison is optional
    torch = None

LAYERS = ("conv1", "relu", "conv2", "max_pool2d")


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


class _Net:
    """What both frameworks' nets share: a training step and per-layer timings."""

    x: Any
    params: list

    def layer_fns(self) -> list[Callable]:
        raise NotImplementedError

    @staticmethod
    def ones_like(out: Any) -> Any:
        raise NotImplementedError

    def step(self) -> None:
        for p in self.params:
            p.grad = None
        out = self.x
        for fn in self.layer_fns():
            out = fn(out)
        out.sum().backward()

    def layer_times(self, inputs: list) -> list[tuple[float, float]]:
        """(forward, backward) seconds of each layer on its own input."""
        times = []
        for fn, x in zip(self.layer_fns(), inputs, strict=True):
            holder: list = []
            forward = _timed(lambda: holder.append(fn(x)))  # noqa: B023 - called right here
            out = holder[0]
            grad = self.ones_like(out)
            backward = _timed(lambda: out.backward(grad))  # noqa: B023 - called right here
            times.append((forward, backward))
        return times


class MinigradNet(_Net):
    def __init__(self, images: np.ndarray, rng: np.random.Generator) -> None:
        self.x = Tensor(images)
        self.params = [
            Tensor(rng.standard_normal((32, 1, 3, 3)).astype(np.float32) / 3, requires_grad=True),
            Tensor(np.zeros(32, np.float32), requires_grad=True),
            Tensor(rng.standard_normal((64, 32, 3, 3)).astype(np.float32) / 17,
                   requires_grad=True),
            Tensor(np.zeros(64, np.float32), requires_grad=True),
        ]

    def layer_fns(self) -> list[Callable[[Tensor], Tensor]]:
        w1, b1, w2, b2 = self.params
        return [
            lambda x: conv2d(x, w1, b1, padding=1),
            lambda x: x.relu(),
            lambda x: conv2d(x, w2, b2, padding=1),
            lambda x: max_pool2d(x, 2),
        ]

    def layer_inputs(self) -> list[Tensor]:
        """The input each layer sees in the network, detached; all but the images need grad."""
        inputs, out = [], self.x
        for fn in self.layer_fns():
            inputs.append(out)
            out = Tensor(fn(out).numpy(), requires_grad=True)
        return inputs

    @staticmethod
    def ones_like(out: Tensor) -> np.ndarray:
        return np.ones(out.shape, dtype=out.dtype)


class TorchNet(_Net):
    def __init__(self, images: np.ndarray, params: list[Tensor]) -> None:
        self.x = torch.from_numpy(images)
        self.params = [torch.tensor(p.numpy(), requires_grad=True) for p in params]

    def layer_fns(self) -> list[Callable]:
        w1, b1, w2, b2 = self.params
        return [
            lambda x: torch_f.conv2d(x, w1, b1, padding=1),
            torch.relu,
            lambda x: torch_f.conv2d(x, w2, b2, padding=1),
            lambda x: torch_f.max_pool2d(x, 2),
        ]

    def layer_inputs(self) -> list:
        inputs, out = [], self.x
        with torch.no_grad():
            for fn in self.layer_fns():
                inputs.append(out)
                out = fn(out).clone().requires_grad_(True)
        return inputs

    @staticmethod
    def ones_like(out: Any) -> Any:
        return torch.ones_like(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--batch", type=int, default=128)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    images = rng.random((args.batch, 1, 28, 28), dtype=np.float32)
    nets: dict[str, object] = {"minigrad": MinigradNet(images, rng)}
    if torch is not None:
        torch.set_num_threads(2)
        nets["torch"] = TorchNet(images, nets["minigrad"].params)
    else:
        print("PyTorch is not installed: timing minigrad alone")

    step_times: dict[str, list[float]] = {name: [] for name in nets}
    layer_times: dict[str, list[list[tuple[float, float]]]] = {name: [] for name in nets}
    inputs = {name: net.layer_inputs() for name, net in nets.items()}
    for name, net in nets.items():  # warm-up: first-touch allocations, BLAS start-up
        net.step()
        net.layer_times(inputs[name])
    for _ in range(args.repeats):
        for name, net in nets.items():
            step_times[name].append(_timed(net.step))
        for name, net in nets.items():
            layer_times[name].append(net.layer_times(inputs[name]))

    ms = {name: 1e3 * float(np.median(t)) for name, t in step_times.items()}
    print(f"forward + backward, batch {args.batch}, 28x28, float32, "
          f"median of {args.repeats} interleaved runs")
    for name, value in ms.items():
        print(f"  {name:<9} {value:8.1f} ms")
    if "torch" in ms:
        print(f"  ratio     {ms['minigrad'] / ms['torch']:8.2f}x  (minigrad / torch)")

    print("\nper layer, median ms" + ("  (minigrad | torch)" if "torch" in ms else ""))
    header = f"  {'layer':<11}{'forward':>18}{'backward':>18}"
    print(header)
    medians = {
        name: np.median(np.array(runs), axis=0) * 1e3 for name, runs in layer_times.items()
    }
    for i, layer in enumerate(LAYERS):
        cells = []
        for phase in range(2):
            values = [f"{medians[name][i][phase]:7.1f}" for name in nets]
            cells.append(" |".join(values))
        print(f"  {layer:<11}{cells[0]:>18}{cells[1]:>18}")


if __name__ == "__main__":
    main()
