"""The notebooks' models as Module subclasses: they build, run, have PyTorch's parameter counts,
and nn.summary reports their shapes, parameters and receptive fields."""

import numpy as np
import pytest

import minigrad as mg
import nn
import nn.functional as F


class SimpleCNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.fc = nn.Linear(16 * 7 * 7, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        return self.fc(x.flatten(1))


class LeNet5(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2),
            nn.Sigmoid(),
            nn.AvgPool2d(2),
            nn.Conv2d(6, 16, 5),
            nn.Sigmoid(),
            nn.AvgPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120),
            nn.Sigmoid(),
            nn.Linear(120, 84),
            nn.Sigmoid(),
            nn.Linear(84, 10),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


class SingleConvStridePool(nn.Module):
    """examples/models.py's seed001, written with a functional forward."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 16, 3)
        self.pool = nn.MaxPool2d(2, stride=1)
        self.fc = nn.Linear(16 * 25 * 25, 10)

    def forward(self, x):
        return self.fc(self.pool(F.relu(self.conv(x))).flatten(1))


class SigmoidConvAvgPool(nn.Module):
    """examples/models.py's seed003, one attribute per layer."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 5)
        self.act = nn.Sigmoid()
        self.pool = nn.AvgPool2d(2)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(2 * 12 * 12, 10)

    def forward(self, x):
        return self.fc(self.flatten(self.pool(self.act(self.conv(x)))))


MODELS = [
    # model, parameters, receptive field, jump
    (SimpleCNN, 80 + 1168 + 7850, (10, 10), (4, 4)),
    (LeNet5, 156 + 2416 + 48120 + 10164 + 850, (16, 16), (4, 4)),
    (SingleConvStridePool, 160 + 100010, (4, 4), (1, 1)),
    (SigmoidConvAvgPool, 52 + 2890, (6, 6), (2, 2)),
]


@pytest.mark.parametrize(
    "model_class,params,rf,jump", MODELS, ids=lambda v: getattr(v, "__name__", "")
)
def test_model_builds_runs_and_trains(model_class, params, rf, jump):
    mg.manual_seed(0)
    model = model_class()
    assert sum(p.numel() for p in model.parameters()) == params
    x = mg.randn(2, 1, 28, 28)
    out = model(x)
    assert out.shape == (2, 10) and out.dtype == np.float32
    loss = F.cross_entropy(out, mg.tensor([3, 7]))
    loss.backward()
    assert all(p.grad is not None and p.grad.shape == p.shape for p in model.parameters())


@pytest.mark.parametrize(
    "model_class,params,rf,jump", MODELS, ids=lambda v: getattr(v, "__name__", "")
)
def test_summary_reports_shapes_params_and_receptive_field(model_class, params, rf, jump):
    model = model_class()
    report = model.summary((1, 1, 28, 28))
    assert report.total_params == params == report.trainable_params
    assert report.receptive_field == rf and report.jump == jump
    assert report.output_shape == (1, 10)
    assert sum(layer.num_params for layer in report.layers) == params
    text = str(report)
    assert f"Total params: {params:,}" in text
    assert f"Receptive field of the conv/pool stack: {rf[0]}x{rf[1]}" in text


def test_summary_rows_of_simple_cnn():
    report = nn.summary(
        nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(784, 10),
        ),
        (1, 1, 28, 28),
    )
    rows = [
        (l.name, l.type, l.output_shape, l.num_params, l.receptive_field) for l in report.layers
    ]
    assert rows == [
        ("0", "Conv2d", (1, 8, 28, 28), 80, (3, 3)),
        ("1", "ReLU", (1, 8, 28, 28), 0, (3, 3)),
        ("2", "MaxPool2d", (1, 8, 14, 14), 0, (4, 4)),
        ("3", "Conv2d", (1, 16, 14, 14), 1168, (8, 8)),
        ("4", "ReLU", (1, 16, 14, 14), 0, (8, 8)),
        ("5", "MaxPool2d", (1, 16, 7, 7), 0, (10, 10)),
        ("6", "Flatten", (1, 784), 0, None),
        ("7", "Linear", (1, 10), 7850, None),
    ]


def test_summary_leaves_the_model_as_it_was():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Dropout(0.5), nn.Flatten())
    state = {k: v._data.copy() for k, v in model.state_dict().items()}
    nn.summary(model, (1, 1, 5, 5))  # batch of one: only works because it runs in eval mode
    assert all(m.training for m in model.modules())
    assert all("forward" not in vars(m) for m in model.modules())
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value._data, state[key])
    frozen = nn.Linear(3, 2).requires_grad_(False)
    report = nn.summary(frozen, (1, 3))
    assert report.trainable_params == 0 and report.receptive_field is None


def test_parameter_counts_match_pytorch():
    torch = pytest.importorskip("torch")
    tnn = torch.nn
    theirs = [
        tnn.Sequential(
            tnn.Conv2d(1, 8, 3, padding=1),
            tnn.ReLU(),
            tnn.MaxPool2d(2),
            tnn.Conv2d(8, 16, 3, padding=1),
            tnn.ReLU(),
            tnn.MaxPool2d(2),
            tnn.Flatten(),
            tnn.Linear(784, 10),
        ),
        tnn.Sequential(
            tnn.Conv2d(1, 6, 5, padding=2),
            tnn.Sigmoid(),
            tnn.AvgPool2d(2),
            tnn.Conv2d(6, 16, 5),
            tnn.Sigmoid(),
            tnn.AvgPool2d(2),
            tnn.Flatten(),
            tnn.Linear(400, 120),
            tnn.Sigmoid(),
            tnn.Linear(120, 84),
            tnn.Sigmoid(),
            tnn.Linear(84, 10),
        ),
        tnn.Sequential(
            tnn.Conv2d(1, 16, 3),
            tnn.ReLU(),
            tnn.MaxPool2d(2, stride=1),
            tnn.Flatten(),
            tnn.Linear(16 * 25 * 25, 10),
        ),
        tnn.Sequential(
            tnn.Conv2d(1, 2, 5), tnn.Sigmoid(), tnn.AvgPool2d(2), tnn.Flatten(), tnn.Linear(288, 10)
        ),
    ]
    for (_, params, _, _), reference in zip(MODELS, theirs, strict=True):
        assert sum(p.numel() for p in reference.parameters()) == params
        assert reference(torch.zeros(1, 1, 28, 28)).shape == (1, 10)
