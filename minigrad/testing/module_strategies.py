"""Hypothesis strategies that draw whole modules with a matching input.

``modules(nn.Conv2d)`` draws valid constructor arguments and an input that fits them;
``sequential_models()`` draws a small random architecture whose shapes chain. Both give
``(module, input)`` in float64, ready for ``check_module``::

    @given(modules(nn.Conv2d))
    def test_conv2d_module(case):
        module, x = case
        check_module(module, x)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from minigrad.tensor import Tensor


def _inputs(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    # distinct values at least 0.002 apart and away from 0: no input sits on (or within a
    # finite-difference step of) a ReLU kink or a max-pool tie, where finite differences and
    # any backward rule disagree
    steps = st.integers(-1000, 1000).filter(lambda k: abs(k) >= 25)
    return hnp.arrays(np.int64, shape, elements=steps, unique=True).map(
        lambda a: a.astype(np.float64) * 0.002)


_BUILDERS: dict[str, Callable[[Any, type], tuple[Any, tuple[int, ...]]]] = {}


def _builder(*names: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        for name in names:
            _BUILDERS[name] = fn
        return fn

    return register


@_builder("Linear")
def _linear(draw: Any, cls: type) -> tuple[Any, tuple[int, ...]]:
    n_in, n_out = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    lead = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=2)))
    return cls(n_in, n_out, bias=draw(st.booleans())), (*lead, n_in)


@_builder("Conv1d", "Conv2d", "Conv3d")
def _conv(draw: Any, cls: type) -> tuple[Any, tuple[int, ...]]:
    from minigrad.testing.configs import conv_configs

    dims = int(cls.__name__[-2])
    cfg = draw(conv_configs(dims=dims, max_side=6 if dims < 3 else 4))
    module = cls(cfg["in_channels"], cfg["out_channels"], cfg["kernel_size"], cfg["stride"],
                 cfg["padding"], cfg["dilation"], cfg["groups"], cfg["bias"])
    return module, cfg["input_shape"]


@_builder("MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d")
def _pool(draw: Any, cls: type) -> tuple[Any, tuple[int, ...]]:
    from minigrad.testing.configs import pool_configs

    kind = "max" if cls.__name__.startswith("Max") else "avg"
    cfg = draw(pool_configs(dims=int(cls.__name__[-2]), kind=kind, max_side=6))
    shape = cfg.pop("input_shape")
    return cls(**cfg), shape


@_builder("BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "InstanceNorm1d", "InstanceNorm2d",
          "InstanceNorm3d")
def _norm(draw: Any, cls: type) -> tuple[Any, tuple[int, ...]]:
    dims = int(cls.__name__[-2])
    channels = draw(st.integers(1, 3))
    spatial = tuple(draw(st.integers(2, 4)) for _ in range(dims - 1 if dims == 1 else dims))
    batch = draw(st.integers(2, 3))
    return cls(channels, affine=draw(st.booleans())), (batch, channels, *spatial)


@_builder("LayerNorm")
def _layer_norm(draw: Any, cls: type) -> tuple[Any, tuple[int, ...]]:
    normalized = tuple(draw(st.lists(st.integers(2, 4), min_size=1, max_size=2)))
    lead = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=2)))
    return cls(normalized), (*lead, *normalized)


@_builder("RNN", "LSTM", "GRU")
def _recurrent(draw: Any, cls: type) -> tuple[Any, tuple[int, ...]]:
    size_in, hidden = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    batch_first = draw(st.booleans())
    module = cls(size_in, hidden, num_layers=draw(st.integers(1, 2)), batch_first=batch_first,
                 bidirectional=draw(st.booleans()))
    steps, batch = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    return module, ((batch, steps, size_in) if batch_first else (steps, batch, size_in))


@st.composite
def modules(draw: Any, cls: type, shapes: Any = None) -> tuple[Any, Tensor]:
    """``(module, input)``: an instance of ``cls`` with valid drawn constructor arguments and a
    float64 input that fits it. Classes without a known builder are built with no arguments
    and given an input of a drawn shape (``shapes``, default 1-4 dims of sides 1-4), which
    suits activations and other shape-preserving layers."""
    builder = _BUILDERS.get(cls.__name__)
    if builder is not None:
        module, shape = builder(draw, cls)
    else:
        module = cls()
        shape = draw(shapes if shapes is not None else
                     st.lists(st.integers(1, 4), min_size=1, max_size=4).map(tuple))
    module = module.double()
    return module, Tensor(draw(_inputs(shape)))


_SPATIAL = ("conv2d", "relu", "tanh", "maxpool2d", "avgpool2d", "batchnorm2d", "dropout")


@st.composite
def sequential_models(
    draw: Any,
    layers: Sequence[str] = _SPATIAL,
    max_depth: int = 4,
    max_channels: int = 4,
    num_classes: int | None = None,
) -> tuple[Any, Tensor]:
    """``(nn.Sequential, input)``: an image input (N, C, H, W), up to ``max_depth`` layers drawn
    from ``layers`` whose shapes chain (a pool only where the image is big enough), then
    ``Flatten`` and a ``Linear`` to ``num_classes`` (drawn when None) outputs."""
    import nn

    unknown = set(layers) - set(_SPATIAL)
    if unknown:
        raise ValueError(f"sequential_models: unknown layer kinds {sorted(unknown)}; choose from "
                         f"{list(_SPATIAL)}")
    channels, side = draw(st.integers(1, 3)), draw(st.integers(4, 8))
    shape = (draw(st.integers(2, 3)), channels, side, side)
    stack: list[Any] = []
    for kind in draw(st.lists(st.sampled_from(list(layers)), max_size=max_depth)):
        if kind == "conv2d":
            out = draw(st.integers(1, max_channels))
            kernel = draw(st.integers(1, min(3, side)))
            padding = draw(st.integers(0, kernel // 2))
            stack.append(nn.Conv2d(channels, out, kernel, padding=padding))
            side = side + 2 * stack[-1].padding[0] - kernel + 1
            channels = out
        elif kind in ("maxpool2d", "avgpool2d"):
            if side < 2:
                continue
            stack.append((nn.MaxPool2d if kind == "maxpool2d" else nn.AvgPool2d)(2))
            side //= 2
        elif kind == "batchnorm2d":
            stack.append(nn.BatchNorm2d(channels))
        elif kind == "dropout":
            stack.append(nn.Dropout(draw(st.sampled_from([0.0, 0.25, 0.5]))))
        else:
            stack.append(nn.ReLU() if kind == "relu" else nn.Tanh())
    classes = num_classes if num_classes is not None else draw(st.integers(2, 4))
    stack += [nn.Flatten(), nn.Linear(channels * side * side, classes)]
    model = nn.Sequential(*stack).double()
    return model, Tensor(draw(_inputs(shape)))
