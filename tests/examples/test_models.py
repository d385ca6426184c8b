"""The MNIST models: output shapes, parameter counts by hand and against PyTorch twins."""

from __future__ import annotations

import numpy as np
import pytest
from models import MODELS, build_model, count_parameters

import minigrad as mg

# Counted by hand: conv (O * C * KH * KW + O), linear (out * in + out).
EXPECTED_PARAMETERS = {
    "simple": (8 * 1 * 9 + 8) + (16 * 8 * 9 + 16) + (784 * 10 + 10),
    "lenet5": (6 * 25 + 6) + (16 * 6 * 25 + 16) + (400 * 120 + 120) + (120 * 84 + 84)
    + (84 * 10 + 10),
    "strong": (32 * 9 + 32) + (32 * 32 * 9 + 32) + (64 * 32 * 9 + 64) + (64 * 64 * 9 + 64)
    + (3136 * 128 + 128) + (128 * 10 + 10),
    "example": (32 * 1 * 9 + 32) + (64 * 32 * 9 + 64) + (9216 * 128 + 128) + (128 * 10 + 10),
    # convs without bias, batch norms with a scale and a shift per channel
    "fast": (24 * 1 * 9 + 2 * 24) + (48 * 24 * 9 + 2 * 48) + (96 * 48 * 9 + 2 * 96)
    + (864 * 10 + 10),
    "mlp": (784 * 256 + 256) + (256 * 128 + 128) + (128 * 10 + 10),
    "seed001": (16 * 9 + 16) + (16 * 25 * 25 * 10 + 10),
    "seed003": (2 * 25 + 2) + (2 * 12 * 12 * 10 + 10),
}


def test_every_model_has_a_hand_computed_count() -> None:
    assert set(EXPECTED_PARAMETERS) == set(MODELS)


@pytest.mark.parametrize("name", list(MODELS))
def test_model_maps_images_to_ten_logits(name: str) -> None:
    mg.manual_seed(0)
    model = build_model(name)
    model.eval()
    logits = model(mg.randn(3, 1, 28, 28))
    assert logits.shape == (3, 10)
    assert np.isfinite(logits._data).all()


@pytest.mark.parametrize("name", list(MODELS))
def test_parameter_count_matches_hand_count(name: str) -> None:
    assert count_parameters(build_model(name)) == EXPECTED_PARAMETERS[name]


def test_build_model_rejects_unknown_names() -> None:
    with pytest.raises(ValueError, match="unknown model 'resnet'.*lenet5"):
        build_model("resnet")


def _torch_twin(name: str):
    """The same architecture built with torch.nn, with the same module names."""
    torch_nn = pytest.importorskip("torch").nn

    def conv_net(features: list, classifier: list):
        model = torch_nn.Module()
        model.features = torch_nn.Sequential(*features, torch_nn.Flatten())
        model.classifier = torch_nn.Sequential(*classifier)
        model.forward = lambda x: model.classifier(model.features(x))
        return model

    relu = torch_nn.ReLU
    if name == "simple":
        return conv_net(
            [torch_nn.Conv2d(1, 8, 3, padding=1), relu(), torch_nn.MaxPool2d(2),
             torch_nn.Conv2d(8, 16, 3, padding=1), relu(), torch_nn.MaxPool2d(2)],
            [torch_nn.Linear(784, 10)],
        )
    if name == "lenet5":
        return conv_net(
            [torch_nn.Conv2d(1, 6, 5, padding=2), relu(), torch_nn.MaxPool2d(2),
             torch_nn.Conv2d(6, 16, 5), relu(), torch_nn.MaxPool2d(2)],
            [torch_nn.Linear(400, 120), relu(), torch_nn.Linear(120, 84), relu(),
             torch_nn.Linear(84, 10)],
        )
    if name == "strong":
        return conv_net(
            [torch_nn.Conv2d(1, 32, 3, padding=1), relu(), torch_nn.Conv2d(32, 32, 3, padding=1),
             relu(), torch_nn.MaxPool2d(2), torch_nn.Conv2d(32, 64, 3, padding=1), relu(),
             torch_nn.Conv2d(64, 64, 3, padding=1), relu(), torch_nn.MaxPool2d(2)],
            [torch_nn.Linear(3136, 128), relu(), torch_nn.Dropout(0.3), torch_nn.Linear(128, 10)],
        )
    if name == "example":
        return conv_net(
            [torch_nn.Conv2d(1, 32, 3), relu(), torch_nn.Conv2d(32, 64, 3), relu(),
             torch_nn.MaxPool2d(2), torch_nn.Dropout(0.25)],
            [torch_nn.Linear(9216, 128), relu(), torch_nn.Dropout(0.5), torch_nn.Linear(128, 10),
             torch_nn.LogSoftmax(dim=1)],
        )
    if name == "fast":
        blocks = []
        for cin, cout in ((1, 24), (24, 48), (48, 96)):
            blocks += [torch_nn.Conv2d(cin, cout, 3, padding=1, bias=False),
                       torch_nn.MaxPool2d(2), torch_nn.BatchNorm2d(cout), relu()]
        return conv_net(blocks, [torch_nn.Linear(864, 10)])
    if name == "mlp":
        model = conv_net([], [torch_nn.Linear(128, 10)])
        model.features = torch_nn.Sequential(
            torch_nn.Flatten(), torch_nn.Linear(784, 256), relu(), torch_nn.Linear(256, 128), relu()
        )
        return model
    if name == "seed001":
        return conv_net(
            [torch_nn.Conv2d(1, 16, 3), relu(), torch_nn.MaxPool2d(2, stride=1)],
            [torch_nn.Linear(10000, 10)],
        )
    if name == "seed003":
        return conv_net(
            [torch_nn.Conv2d(1, 2, 5), torch_nn.Sigmoid(), torch_nn.AvgPool2d(2)],
            [torch_nn.Linear(288, 10)],
        )
    raise AssertionError(f"no PyTorch twin for {name}")


@pytest.mark.parametrize("name", list(MODELS))
def test_parameters_and_outputs_match_pytorch_twin(name: str) -> None:
    torch = pytest.importorskip("torch")
    twin = _torch_twin(name)
    model = build_model(name)
    assert count_parameters(model) == sum(p.numel() for p in twin.parameters())
    twin_state = {key: value.detach().numpy() for key, value in twin.state_dict().items()}
    own_state = model.state_dict()
    assert {key: tuple(value.shape) for key, value in own_state.items()} == {
        key: value.shape for key, value in twin_state.items()
    }

    # with the twin's weights, both compute the same logits
    model.load_state_dict(twin_state)
    model.eval()
    twin.eval()
    images = np.random.default_rng(0).standard_normal((4, 1, 28, 28)).astype(np.float32)
    with torch.no_grad():
        expected = twin.forward(torch.from_numpy(images)).detach().numpy()
    with mg.no_grad():
        logits = model(mg.tensor(images))._data
    np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-4)
