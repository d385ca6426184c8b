"""Every nn layer with parameters or buffers takes PyTorch's ``device=`` and ``dtype=``."""

import inspect

import numpy as np
import pytest

import minigrad as mg
import nn
from minigrad.device import DeviceError

# the positional arguments of each layer whose constructor takes device= and dtype=
LAYERS = {
    "Linear": (3, 2),
    "Bilinear": (3, 2, 4),
    "Conv1d": (2, 3, 3),
    "Conv2d": (2, 3, 3),
    "Conv3d": (2, 3, 3),
    "ConvTranspose1d": (2, 3, 3),
    "ConvTranspose2d": (2, 3, 3),
    "ConvTranspose3d": (2, 3, 3),
    "BatchNorm1d": (3,),
    "BatchNorm2d": (3,),
    "BatchNorm3d": (3,),
    "InstanceNorm1d": (3,),
    "InstanceNorm2d": (3,),
    "InstanceNorm3d": (3,),
    "LayerNorm": (4,),
    "GroupNorm": (2, 4),
    "RMSNorm": (4,),
    "Embedding": (5, 3),
    "EmbeddingBag": (5, 3),
    "RNN": (3, 4),
    "LSTM": (3, 4),
    "GRU": (3, 4),
    "RNNCell": (3, 4),
    "LSTMCell": (3, 4),
    "GRUCell": (3, 4),
    "MultiheadAttention": (4, 2),
    "TransformerEncoderLayer": (4, 2),
    "TransformerDecoderLayer": (4, 2),
    "Transformer": (),
    "PReLU": (),
}
# keyword arguments that give the layer buffers or parameters it otherwise lacks
EXTRA = {
    "InstanceNorm1d": {"affine": True, "track_running_stats": True},
    "InstanceNorm2d": {"affine": True, "track_running_stats": True},
    "InstanceNorm3d": {"affine": True, "track_running_stats": True},
    "Transformer": {"d_model": 4, "nhead": 2, "num_encoder_layers": 1, "num_decoder_layers": 1,
                    "dim_feedforward": 8},
    "TransformerEncoderLayer": {"dim_feedforward": 8},
    "TransformerDecoderLayer": {"dim_feedforward": 8},
}


def _build(name, **factory):
    return getattr(nn, name)(*LAYERS[name], **EXTRA.get(name, {}), **factory)


def _float_state(module):
    return [
        (key, t) for key, t in module.state_dict(keep_vars=True).items()
        if t._data.dtype.kind == "f"
    ]


def test_table_lists_every_layer_whose_torch_twin_takes_device():
    torch = pytest.importorskip("torch")
    expected = set()
    for name in nn.__all__:
        ours, theirs = getattr(nn, name), getattr(torch.nn, name, None)
        if not (inspect.isclass(ours) and issubclass(ours, nn.Module)) or theirs is None:
            continue
        if name.endswith("Base") or name.startswith("Lazy"):
            continue
        if "device" in inspect.signature(theirs.__init__).parameters or name in {
            "RNN", "LSTM", "GRU"
        }:
            expected.add(name)
    assert expected - set(LAYERS) == set()


@pytest.mark.parametrize("name", sorted(LAYERS))
@pytest.mark.parametrize("device", ["cpu", mg.device("cpu")])
def test_layer_builds_on_cpu_in_float64(name, device):
    module = _build(name, device=device, dtype=mg.float64)
    state = _float_state(module)
    assert state, f"{name} has no floating point parameters or buffers"
    for key, tensor in state:
        assert tensor.dtype == mg.float64, (name, key, tensor.dtype)
    for param in module.parameters():
        assert param.dtype == mg.float64


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_default_dtype_is_float32(name):
    for key, tensor in _float_state(_build(name)):
        assert tensor.dtype == mg.float32, (name, key)


@pytest.mark.parametrize("name", sorted(LAYERS))
@pytest.mark.parametrize("device", ["cuda", "cuda:0", "mps"])
def test_layer_on_another_device_raises_device_error(name, device):
    with pytest.raises(DeviceError):
        _build(name, device=device)


def test_linear_follows_set_default_dtype():
    previous = mg.get_default_dtype()
    mg.set_default_dtype(mg.float64)
    try:
        layer = nn.Linear(2, 3)
    finally:
        mg.set_default_dtype(previous)
    assert layer.weight.dtype == mg.float64 and layer.bias.dtype == mg.float64
    assert nn.Linear(2, 3).weight.dtype == mg.float32


def test_linear_float64_matches_torch_layout():
    torch = pytest.importorskip("torch")
    ours = nn.Linear(3, 2, device="cpu", dtype=mg.float64)
    theirs = torch.nn.Linear(3, 2, device="cpu", dtype=torch.float64)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in theirs.state_dict().items()
    ]
    x = np.linspace(-1, 1, 6).reshape(2, 3)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    np.testing.assert_allclose(
        ours(mg.tensor(x)).detach().numpy(), theirs(torch.tensor(x)).detach().numpy()
    )
    assert ours(mg.tensor(x)).dtype == mg.float64
