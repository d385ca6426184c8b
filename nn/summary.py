"""``nn.summary(model, input_shape)``: a table of layers, output shapes, parameter counts and
receptive fields, from one forward pass on zeros.

The receptive field is followed through the layers in the order they run: a conv or pool
with kernel k, stride s and dilation d grows it by ``d·(k-1)·jump`` and multiplies the jump
(the distance in input pixels between neighbouring outputs) by s; elementwise layers keep it;
a layer that mixes all positions (Flatten, Linear) ends the conv/pool stack. This is exact for
the sequential conv/pool stacks of image classifiers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from minigrad.autograd import no_grad
from minigrad.tensor import Tensor
from nn.activation import LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from nn.conv import Conv2d
from nn.dropout import Dropout
from nn.linear import Identity
from nn.module import Module
from nn.normalization import _BatchNorm
from nn.pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d

_POINTWISE = (ReLU, LeakyReLU, Sigmoid, Tanh, Softmax, LogSoftmax, Dropout, Identity, _BatchNorm)

Pair = tuple[int, int]


@dataclass
class LayerSummary:
    """One call of a leaf module during the summary's forward pass."""

    name: str
    type: str
    output_shape: tuple[int, ...] | list[tuple[int, ...]]
    num_params: int
    receptive_field: Pair | None
    jump: Pair | None


@dataclass
class Summary:
    """What ``nn.summary`` found; ``print(summary)`` shows the table."""

    model_name: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...] | list[tuple[int, ...]]
    layers: list[LayerSummary]
    total_params: int
    trainable_params: int
    receptive_field: Pair | None
    jump: Pair | None

    def __str__(self) -> str:
        header = ("Layer (type)", "Output shape", "Param #", "Receptive field")
        rows = [
            (
                f"{layer.name} ({layer.type})",
                _shape_text(layer.output_shape),
                f"{layer.num_params:,}",
                _pair_text(layer.receptive_field),
            )
            for layer in self.layers
        ]
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
        line = "  ".join([f"{{:<{widths[0]}}}"] + [f"{{:>{width}}}" for width in widths[1:]])
        rule = "=" * (sum(widths) + 2 * 3)
        out = [f"{self.model_name} summary", rule, line.format(*header), rule]
        out += [line.format(*row).rstrip() for row in rows]
        out += [
            rule,
            f"Input shape: {self.input_shape}",
            f"Output shape: {_shape_text(self.output_shape)}",
            f"Total params: {self.total_params:,}",
            f"Trainable params: {self.trainable_params:,}",
            f"Non-trainable params: {self.total_params - self.trainable_params:,}",
        ]
        if self.receptive_field is not None:
            out.append(
                f"Receptive field of the conv/pool stack: {_pair_text(self.receptive_field)} "
                f"input pixels (jump {_pair_text(self.jump)})"
            )
        return "\n".join(out)

    __repr__ = __str__


def _shape_text(shape: Any) -> str:
    if isinstance(shape, list):
        return ", ".join(str(s) for s in shape)
    return str(tuple(shape))


def _pair_text(pair: Pair | None) -> str:
    if pair is None:
        return ""
    return f"{pair[0]}x{pair[1]}"


def _as_pair(value: Any) -> Pair:
    if isinstance(value, (tuple, list)):
        return (int(value[0]), int(value[1]))
    return (int(value), int(value))


def _window(module: Module, input_shape: tuple[int, ...] | None) -> tuple[Pair, Pair, Pair] | None:
    """(kernel, stride, dilation) of a sliding-window layer, None for other layers."""
    if isinstance(module, AdaptiveAvgPool2d):
        if input_shape is None or len(input_shape) < 2:
            return None
        out = _as_pair(module.output_size if module.output_size is not None else input_shape[-1])
        (height, width), (out_h, out_w) = input_shape[-2:], out
        stride = (height // out_h, width // out_w)
        kernel = (math.ceil(height / out_h), math.ceil(width / out_w))
        return kernel, stride, (1, 1)
    if isinstance(module, (Conv2d, MaxPool2d, AvgPool2d)) or (
        hasattr(module, "kernel_size") and hasattr(module, "stride")
    ):
        kernel = _as_pair(module.kernel_size)
        stride = _as_pair(module.stride if module.stride is not None else module.kernel_size)
        dilation = _as_pair(getattr(module, "dilation", 1))
        return kernel, stride, dilation
    return None


def _shape_of(value: Any) -> Any:
    if isinstance(value, Tensor):
        return tuple(value.shape)
    if isinstance(value, (tuple, list)):
        return [tuple(v.shape) for v in value if isinstance(v, Tensor)]
    return ()


def summary(model: Module, input_shape: tuple[int, ...], dtype: Any = None) -> Summary:
    """Run ``model`` on zeros of ``input_shape`` (batch dimension included, e.g.
    ``(1, 1, 28, 28)``) and tabulate every leaf layer it calls.

    The model is run in eval mode without recording a graph, and left as it was.
    """
    input_shape = tuple(int(s) for s in input_shape)
    dtype = np.dtype(np.float32 if dtype is None else dtype)
    layers: list[LayerSummary] = []
    state: dict[str, Any] = {"rf": (1, 1), "jump": (1, 1), "stack_rf": None, "stack_jump": None}

    def record(name: str, module: Module, args: tuple[Any, ...], output: Any) -> None:
        first = args[0] if args and isinstance(args[0], Tensor) else None
        in_shape = tuple(first.shape) if first is not None else None
        out_shape = _shape_of(output)
        window = _window(module, in_shape)
        rf = state["rf"]
        if rf is not None:
            if window is not None:
                kernel, stride, dilation = window
                jump = state["jump"]
                rf = tuple(
                    r + d * (k - 1) * j
                    for r, k, d, j in zip(rf, kernel, dilation, jump, strict=True)
                )
                state["jump"] = tuple(j * s for j, s in zip(jump, stride, strict=True))
                state["rf"] = rf
                state["stack_rf"], state["stack_jump"] = rf, state["jump"]
            elif not (
                isinstance(module, _POINTWISE)
                or (
                    in_shape is not None
                    and isinstance(out_shape, tuple)
                    and len(in_shape) == len(out_shape) == 4
                    and in_shape[2:] == out_shape[2:]
                )
            ):
                state["rf"] = rf = None
        num_params = sum(p._data.size for p in module.parameters())
        layers.append(
            LayerSummary(
                name=name,
                type=type(module).__name__,
                output_shape=out_shape,
                num_params=num_params,
                receptive_field=rf if state["stack_rf"] is not None else None,
                jump=state["jump"] if rf is not None else None,
            )
        )

    leaves = [
        (name or type(module).__name__, module)
        for name, module in model.named_modules()
        if not any(True for _ in module.children())
    ]
    patched: list[tuple[Module, Any]] = []
    modes = [(module, module.training) for module in model.modules()]

    def wrap(name: str, module: Module) -> Any:
        original = module.forward

        def forward(*args: Any, **kwargs: Any) -> Any:
            output = original(*args, **kwargs)
            record(name, module, args, output)
            return output

        return forward

    try:
        for name, module in leaves:
            patched.append((module, module.__dict__.get("forward")))
            object.__setattr__(module, "forward", wrap(name, module))
        model.eval()
        with no_grad():
            output = model(Tensor(np.zeros(input_shape, dtype=dtype)))
    finally:
        for module, previous in patched:
            if previous is None:
                del module.__dict__["forward"]
            else:
                object.__setattr__(module, "forward", previous)
        for module, training in modes:
            object.__setattr__(module, "training", training)

    params = list(model.parameters())
    return Summary(
        model_name=type(model).__name__,
        input_shape=input_shape,
        output_shape=_shape_of(output),
        layers=layers,
        total_params=sum(p._data.size for p in params),
        trainable_params=sum(p._data.size for p in params if p.requires_grad),
        receptive_field=state["stack_rf"],
        jump=state["stack_jump"],
    )
