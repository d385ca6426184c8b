"""The MNIST models: the architectures of the notebooks this project grew from, and two more.

Every model maps ``(N, 1, 28, 28) -> (N, 10)`` logits and is built from two Sequentials,
``features`` (everything up to the flattened feature vector) and ``classifier``, so that the
plots can walk the layers and a PyTorch twin built the same way has the same state_dict keys.

| name      | class      | parameters |
|-----------|------------|-----------:|
| simple    | SimpleCNN  |      9,098 |
| lenet5    | LeNet5     |     61,706 |
| strong    | StrongCNN  |    467,818 |
| example   | ExampleNet |  1,199,882 |
| fast      | FastCNN    |     61,042 |
| mlp       | MLP        |    235,146 |
| seed001   | Seed001    |    100,170 |
| seed003   | Seed003    |      2,942 |
"""

from __future__ import annotations

import nn
from minigrad.tensor import Tensor

__all__ = [
    "MLP",
    "MODELS",
    "ExampleNet",
    "FastCNN",
    "LeNet5",
    "Seed001",
    "Seed003",
    "SimpleCNN",
    "StrongCNN",
    "build_model",
    "count_parameters",
]


class MnistModel(nn.Module):
    """``features`` then ``classifier``: ``(N, 1, 28, 28) -> (N, 10)``."""

    features: nn.Sequential
    classifier: nn.Sequential

    def forward(self, input: Tensor) -> Tensor:
        return self.classifier(self.features(input))


def _pool(kind: str, kernel_size: int, stride: int | None = None) -> nn.Module:
    if kind == "max":
        return nn.MaxPool2d(kernel_size, stride)
    if kind == "avg":
        return nn.AvgPool2d(kernel_size, stride)
    raise ValueError(f"pool must be 'max' or 'avg', got {kind!r}")


class SimpleCNN(MnistModel):
    """Two small conv blocks and one linear layer: ``(N, 1, 28, 28) -> (N, 10)``.

    conv 1->8 (3x3, pad 1), ReLU, pool 2 -> (8, 14, 14); conv 8->16 (3x3, pad 1), ReLU,
    pool 2 -> (16, 7, 7); linear 784 -> 10. ``pool='avg'`` swaps both max-pools for average
    pools (the pooling comparison).
    """

    def __init__(self, pool: str = "max") -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1),
            nn.ReLU(),
            _pool(pool, 2),
            nn.Conv2d(8, 16, 3, padding=1),
            nn.ReLU(),
            _pool(pool, 2),
            nn.Flatten(),
        )
        self.classifier = nn.Sequential(nn.Linear(16 * 7 * 7, 10))


class LeNet5(MnistModel):
    """LeNet-5 (LeCun et al., 1998) as modern ports write it: ``(N, 1, 28, 28) -> (N, 10)``.

    conv 1->6 (5x5, pad 2) -> (6, 28, 28), pool 2 -> (6, 14, 14); conv 6->16 (5x5) ->
    (16, 10, 10), pool 2 -> (16, 5, 5); linear 400 -> 120 -> 84 -> 10. Like most modern ports
    it uses ReLU and max-pooling where the original used scaled tanh and trainable subsampling,
    and a full connection between the two conv layers.
    """

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
        )
        self.classifier = nn.Sequential(
            nn.Linear(16 * 5 * 5, 120),
            nn.ReLU(),
            nn.Linear(120, 84),
            nn.ReLU(),
            nn.Linear(84, 10),
        )


class StrongCNN(MnistModel):
    """Two VGG-style blocks of two 3x3 convs: ``(N, 1, 28, 28) -> (N, 10)``.

    conv 1->32, conv 32->32, max-pool 2 -> (32, 14, 14); conv 32->64, conv 64->64, max-pool 2
    -> (64, 7, 7); linear 3136 -> 128 -> 10. Every conv is 3x3 with padding 1 and is followed by
    a ReLU; dropout (no parameters) sits before the last linear layer.
    """

    def __init__(self, dropout: float = 0.3) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(32, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(64, 64, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
        )
        self.classifier = nn.Sequential(
            nn.Linear(64 * 7 * 7, 128),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(128, 10),
        )


class FastCNN(MnistModel):
    """The default model of the MNIST job: three conv blocks, ``(N, 1, 28, 28) -> (N, 10)``.

    Each block is conv 3x3 (pad 1, no bias: the batch norm shifts), max-pool 2, batch norm,
    ReLU: 1->24 -> (24, 14, 14), 24->48 -> (48, 7, 7), 48->96 -> (96, 3, 3); linear
    864 -> 10 (``widths`` sets the three channel counts). Pooling before the batch norm and
    the ReLU gives the same function family
    (both commute with a max-pool up to the sign of the norm's scale) at a quarter of their
    cost.
    """

    def __init__(self, widths: tuple[int, int, int] = (24, 48, 96)) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 1
        for width in widths:
            layers += [nn.Conv2d(channels, width, 3, padding=1, bias=False), nn.MaxPool2d(2),
                       nn.BatchNorm2d(width), nn.ReLU()]
            channels = width
        self.features = nn.Sequential(*layers, nn.Flatten())
        self.classifier = nn.Sequential(nn.Linear(channels * 3 * 3, 10))


class ExampleNet(MnistModel):
    """The network of PyTorch's MNIST example (pytorch/examples, mnist/main.py):
    ``(N, 1, 28, 28) -> (N, 10)`` log-probabilities.

    conv 1->32 (3x3) -> (32, 26, 26), ReLU, conv 32->64 (3x3) -> (64, 24, 24), ReLU, max-pool 2
    -> (64, 12, 12), dropout 0.25; linear 9216 -> 128, ReLU, dropout 0.5, linear 128 -> 10,
    log-softmax (cross entropy on log-probabilities equals the example's NLL loss).
    """

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 3),
            nn.ReLU(),
            nn.Conv2d(32, 64, 3),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Dropout(0.25),
            nn.Flatten(),
        )
        self.classifier = nn.Sequential(
            nn.Linear(9216, 128),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Linear(128, 10),
            nn.LogSoftmax(dim=1),
        )


class MLP(MnistModel):
    """A multilayer perceptron on the flattened image: ``(N, 1, 28, 28) -> (N, 10)``.

    linear 784 -> 256, ReLU, linear 256 -> 128, ReLU, linear 128 -> 10.
    """

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Flatten(),
            nn.Linear(28 * 28, 256),
            nn.ReLU(),
            nn.Linear(256, 128),
            nn.ReLU(),
        )
        self.classifier = nn.Sequential(nn.Linear(128, 10))


class Seed001(MnistModel):
    """One conv layer and an overlapping max-pool: ``(N, 1, 28, 28) -> (N, 10)``.

    conv 1->16 (3x3, no padding) -> (16, 26, 26), ReLU, max-pool 2x2 with stride 1 ->
    (16, 25, 25); linear 10000 -> 10.
    """

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3),
            nn.ReLU(),
            nn.MaxPool2d(2, stride=1),
            nn.Flatten(),
        )
        self.classifier = nn.Sequential(nn.Linear(16 * 25 * 25, 10))


class Seed003(MnistModel):
    """Two conv filters, a sigmoid and an average pool: ``(N, 1, 28, 28) -> (N, 10)``.

    conv 1->2 (5x5, no padding) -> (2, 24, 24), sigmoid, avg-pool 2 -> (2, 12, 12);
    linear 288 -> 10.
    """

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 2, 5),
            nn.Sigmoid(),
            nn.AvgPool2d(2),
            nn.Flatten(),
        )
        self.classifier = nn.Sequential(nn.Linear(2 * 12 * 12, 10))


MODELS: dict[str, type[MnistModel]] = {
    "simple": SimpleCNN,
    "lenet5": LeNet5,
    "strong": StrongCNN,
    "example": ExampleNet,
    "fast": FastCNN,
    "mlp": MLP,
    "seed001": Seed001,
    "seed003": Seed003,
}


def build_model(name: str) -> MnistModel:
    """A freshly initialised model by its name in ``MODELS``."""
    try:
        model_class = MODELS[name]
    except KeyError:
        raise ValueError(
            f"unknown model {name!r}; choose one of {', '.join(MODELS)}"
        ) from None
    return model_class()


def count_parameters(model: nn.Module) -> int:
    """The number of trainable scalars of ``model``."""
    return sum(parameter.numel() for parameter in model.parameters() if parameter.requires_grad)
