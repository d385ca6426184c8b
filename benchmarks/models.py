"""The benchmark models: minigrad versions from examples/models.py, PyTorch twins here."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
if str(EXAMPLES) not in sys.path:
    sys.path.insert(0, str(EXAMPLES))

import models as example_models  # noqa: E402  (examples/models.py)

# benchmark name -> examples/models.py name
NAMES = {"SimpleCNN": "simple", "LeNet-5": "lenet5", "StrongCNN": "strong",
         "ExampleNet": "example", "FastCNN": "fast"}


def minigrad_model(name: str) -> Any:
    return example_models.build_model(NAMES[name])


def torch_model(name: str, model: Any) -> Any:
    """A torch.nn twin of ``model`` with the same weights (state_dict keys match)."""
    import torch
    from torch import nn as tnn

    if name == "SimpleCNN":
        twin = _torch_simple(tnn)
    elif name == "LeNet-5":
        twin = _torch_lenet5(tnn)
    elif name == "StrongCNN":
        twin = _torch_strong(tnn)
    elif name == "ExampleNet":
        twin = _torch_example(tnn)
    elif name == "FastCNN":
        twin = _torch_fast(tnn)
    else:
        raise ValueError(f"unknown benchmark model {name!r}")
    ours = {k: v.numpy() for k, v in model.state_dict().items()}
    theirs = twin.state_dict()
    if len(ours) == len(theirs):
        with torch.no_grad():
            for (_, src), (_, dst) in zip(ours.items(), theirs.items()):
                if tuple(src.shape) == tuple(dst.shape):
                    dst.copy_(torch.from_numpy(src.copy()))
    return twin


def _torch_simple(tnn: Any) -> Any:
    import torch

    class SimpleCNN(tnn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = tnn.Conv2d(1, 8, 3, padding=1)
            self.conv2 = tnn.Conv2d(8, 16, 3, padding=1)
            self.fc = tnn.Linear(16 * 7 * 7, 10)

        def forward(self, x: Any) -> Any:
            x = torch.max_pool2d(torch.relu(self.conv1(x)), 2)
            x = torch.max_pool2d(torch.relu(self.conv2(x)), 2)
            return self.fc(x.flatten(1))

    return SimpleCNN()


def _torch_lenet5(tnn: Any) -> Any:
    return tnn.Sequential(
        tnn.Conv2d(1, 6, 5, padding=2), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Conv2d(6, 16, 5), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Flatten(),
        tnn.Linear(400, 120), tnn.ReLU(),
        tnn.Linear(120, 84), tnn.ReLU(),
        tnn.Linear(84, 10),
    )


def _torch_strong(tnn: Any) -> Any:
    return tnn.Sequential(
        tnn.Conv2d(1, 32, 3, padding=1), tnn.ReLU(),
        tnn.Conv2d(32, 32, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Conv2d(32, 64, 3, padding=1), tnn.ReLU(),
        tnn.Conv2d(64, 64, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Flatten(),
        tnn.Linear(3136, 128), tnn.ReLU(), tnn.Dropout(0.3),
        tnn.Linear(128, 10),
    )


def _torch_example(tnn: Any) -> Any:
    return tnn.Sequential(
        tnn.Conv2d(1, 32, 3), tnn.ReLU(),
        tnn.Conv2d(32, 64, 3), tnn.ReLU(), tnn.MaxPool2d(2), tnn.Dropout(0.25),
        tnn.Flatten(),
        tnn.Linear(9216, 128), tnn.ReLU(), tnn.Dropout(0.5),
        tnn.Linear(128, 10), tnn.LogSoftmax(dim=1),
    )


def _torch_fast(tnn: Any, widths: tuple[int, int, int] = (24, 48, 96)) -> Any:
    layers: list[Any] = []
    channels = 1
    for width in widths:
        layers += [tnn.Conv2d(channels, width, 3, padding=1, bias=False), tnn.MaxPool2d(2),
                   tnn.BatchNorm2d(width), tnn.ReLU()]
        channels = width
    return tnn.Sequential(*layers, tnn.Flatten(), tnn.Linear(channels * 3 * 3, 10))
