"""Conv, pool, resampling, fold and padding layers: constructor checks, initialisation, and,
where PyTorch is installed, repr, parameters, forward and every gradient against torch.nn with
the same state dict."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
import nn
from minigrad.errors import DeviceError, OpError

SHAPES = {1: (2, 4, 9), 2: (2, 4, 7, 8), 3: (2, 4, 5, 6, 7), "even": (2, 4, 6, 8)}

# (layer name, args, kwargs, input dims); parameters, when any, are float64 via dtype=
LAYERS = [
    ("Conv1d", (4, 6, 3), dict(stride=2, padding=1, dilation=2, groups=2), 1),
    ("Conv1d", (4, 6, 4), dict(padding="same", padding_mode="reflect"), 1),
    ("Conv2d", (4, 6, (3, 2)), dict(padding=(1, 2), padding_mode="circular"), 2),
    ("Conv2d", (4, 6, 3), dict(padding="same", padding_mode="replicate", bias=False), 2),
    ("Conv2d", (4, 2, 2), dict(stride=(2, 1), dilation=(1, 2), groups=2), 2),
    ("Conv3d", (4, 6, (2, 3, 2)), dict(stride=(1, 2, 1), padding=1, groups=2,
                                       padding_mode="reflect"), 3),
    ("Conv3d", (4, 6, 3), dict(padding="valid"), 3),
    ("ConvTranspose1d", (4, 6, 3), dict(stride=2, output_padding=1, groups=2), 1),
    ("ConvTranspose2d", (4, 6, (3, 2)), dict(stride=(2, 1), padding=1, dilation=(1, 2),
                                             bias=False), 2),
    ("ConvTranspose3d", (4, 6, 2), dict(stride=2, padding=(0, 1, 0)), 3),
    ("MaxPool1d", (3, 2, 1), dict(dilation=2, ceil_mode=True), 1),
    ("MaxPool2d", (3,), dict(stride=2, padding=1, return_indices=True), 2),
    ("MaxPool3d", (2,), dict(), 3),
    ("AvgPool1d", (3, 2, 1), dict(count_include_pad=False), 1),
    ("AvgPool2d", (3, 2, 1), dict(ceil_mode=True, divisor_override=4), 2),
    ("AvgPool3d", (2, 1), dict(), 3),
    ("AdaptiveMaxPool1d", (3,), dict(return_indices=True), 1),
    ("AdaptiveMaxPool2d", ((2, None),), dict(), 2),
    ("AdaptiveMaxPool3d", (2,), dict(), 3),
    ("AdaptiveAvgPool1d", (3,), dict(), 1),
    ("AdaptiveAvgPool2d", (2,), dict(), 2),
    ("AdaptiveAvgPool3d", ((2, None, 3),), dict(), 3),
    ("LPPool1d", (2, 3), dict(), 1),
    ("LPPool2d", (2, 2, 1), dict(), 2),
    ("LPPool3d", (1.5, 2), dict(ceil_mode=True), 3),
    ("Upsample", (), dict(scale_factor=2), 1),
    ("Upsample", (), dict(size=(9, 11), mode="bilinear"), 2),
    ("Upsample", (), dict(scale_factor=1.5, mode="bicubic", align_corners=True), 2),
    ("Upsample", (), dict(scale_factor=(1.5, 0.5, 2), mode="trilinear"), 3),
    ("UpsamplingNearest2d", (), dict(scale_factor=2), 2),
    ("UpsamplingBilinear2d", (), dict(size=11), 2),
    ("PixelShuffle", (2,), dict(), 2),
    ("PixelUnshuffle", (2,), dict(), "even"),
    ("ChannelShuffle", (2,), dict(), 3),
    ("Unfold", (2,), dict(padding=1, stride=(1, 2)), 2),
    ("ZeroPad1d", ((1, 2),), dict(), 1),
    ("ZeroPad2d", (1,), dict(), 2),
    ("ZeroPad3d", ((1, 0, 2, 1, 0, 1),), dict(), 3),
    ("ConstantPad1d", (2, 3.5), dict(), 1),
    ("ConstantPad2d", ((1, -1, 2, 0), 1.5), dict(), 2),
    ("ConstantPad3d", (1, -2.0), dict(), 3),
    ("ReflectionPad1d", (2,), dict(), 1),
    ("ReflectionPad2d", ((1, 2, 0, 3),), dict(), 2),
    ("ReflectionPad3d", (1,), dict(), 3),
    ("ReplicationPad1d", ((3, 1),), dict(), 1),
    ("ReplicationPad2d", (2,), dict(), 2),
    ("ReplicationPad3d", ((1, 0, 0, 2, 1, 1),), dict(), 3),
    ("CircularPad1d", (2,), dict(), 1),
    ("CircularPad2d", ((1, -1, 2, 0),), dict(), 2),
    ("CircularPad3d", (1,), dict(), 3),
]


def _build(module, name, args, kwargs):
    cls = getattr(module, name)
    if name.startswith("Conv"):
        dtype = mg.float64 if module is nn else _torch().float64
        return cls(*args, **kwargs, dtype=dtype)
    return cls(*args, **kwargs)


def _torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("name, args, kwargs, dims", LAYERS,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(LAYERS)])
def test_layer_matches_torch_repr_parameters_forward_and_gradients(name, args, kwargs, dims):
    torch = _torch()
    theirs = _build(torch.nn, name, args, kwargs)
    ours = _build(nn, name, args, kwargs)
    assert repr(ours) == repr(theirs)
    their_state = theirs.state_dict()
    assert list(ours.state_dict()) == list(their_state)
    for key, value in ours.state_dict().items():
        assert tuple(value.shape) == tuple(their_state[key].shape)
    ours.load_state_dict({k: v.detach().numpy() for k, v in their_state.items()})
    rng = np.random.default_rng(15)
    x = rng.standard_normal(SHAPES[dims])
    if name.startswith("LP"):
        x = np.abs(x) + 0.1
    x_ours = mg.tensor(x, requires_grad=True)
    x_theirs = torch.tensor(x, requires_grad=True)
    out, expected = ours(x_ours), theirs(x_theirs)
    if isinstance(expected, tuple):
        np.testing.assert_array_equal(out[1].numpy(), expected[1].numpy())
        out, expected = out[0], expected[0]
    assert out.shape == tuple(expected.shape)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-10,
                               atol=1e-10)
    g = rng.standard_normal(out.shape)
    (out * mg.tensor(g)).sum().backward()
    (expected * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(x_ours.grad.numpy(), x_theirs.grad.numpy(), rtol=1e-10,
                               atol=1e-10)
    for (key, p_ours), (_, p_theirs) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p_ours.grad.numpy(), p_theirs.grad.numpy(), rtol=1e-10,
                                   atol=1e-10, err_msg=key)


def test_fractional_max_pool_layers_match_torch():
    torch = _torch()
    rng = np.random.default_rng(22)
    for dims in (2, 3):
        samples = rng.random((2, 4, dims))
        name = f"FractionalMaxPool{dims}d"
        theirs = getattr(torch.nn, name)(2, output_ratio=0.6, return_indices=True,
                                         _random_samples=torch.tensor(samples))
        ours = getattr(nn, name)(2, output_ratio=0.6, return_indices=True,
                                 _random_samples=mg.tensor(samples))
        assert repr(ours) == repr(theirs)
        assert list(ours.state_dict()) == list(theirs.state_dict()) == ["_random_samples"]
        x = rng.standard_normal(SHAPES[dims])
        out, index = ours(mg.tensor(x))
        expected, their_index = theirs(torch.tensor(x))
        np.testing.assert_array_equal(out.numpy(), expected.numpy())
        np.testing.assert_array_equal(index.numpy(), their_index.numpy())
    with pytest.raises(ValueError, match="output_ratio must be between 0 and 1"):
        nn.FractionalMaxPool2d(2, output_ratio=1.5)
    with pytest.raises(ValueError, match="requires specifying either an output size"):
        nn.FractionalMaxPool3d(2)


def test_fold_unpool_and_transposed_output_size_match_torch():
    torch = _torch()
    rng = np.random.default_rng(16)
    cols = rng.standard_normal((2, 8, 12))
    fold, their_fold = nn.Fold((4, 5), 2), torch.nn.Fold((4, 5), 2)
    assert repr(fold) == repr(their_fold)
    np.testing.assert_allclose(fold(mg.tensor(cols)).numpy(),
                               their_fold(torch.tensor(cols)).numpy())
    x = torch.tensor(rng.standard_normal((2, 3, 6, 7)))
    values, indices = torch.nn.functional.max_pool2d(x, 2, return_indices=True)
    unpool, their_unpool = nn.MaxUnpool2d(2), torch.nn.MaxUnpool2d(2)
    assert repr(unpool) == repr(their_unpool)
    np.testing.assert_array_equal(
        unpool(mg.tensor(values.numpy()), mg.tensor(indices.numpy()), output_size=x.shape
               ).numpy(),
        their_unpool(values, indices, output_size=x.shape).numpy())
    theirs = torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, dtype=torch.float64)
    ours = nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, dtype=mg.float64)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    for size in ((12, 14), (2, 2, 11, 13)):
        np.testing.assert_allclose(ours(mg.tensor(x.numpy()), output_size=size).detach().numpy(),
                                   theirs(x, output_size=size).detach().numpy(), atol=1e-12)
    with pytest.raises(OpError, match="requested an output size of"):
        ours(mg.tensor(x.numpy()), output_size=(20, 20))


# --------------------------------------------------------------------------- without torch


@pytest.mark.parametrize("layer", ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d",
                                   "ConvTranspose2d", "ConvTranspose3d"])
def test_conv_layers_reject_bad_window_arguments_naming_layer_and_argument(layer):
    cls = getattr(nn, layer)
    with pytest.raises(OpError, match=rf"{layer}: kernel_size must be positive, got 0"):
        cls(2, 2, 0)
    with pytest.raises(OpError, match=rf"{layer}: kernel_size must be positive"):
        cls(2, 2, -1)
    with pytest.raises(TypeError, match=rf"{layer}: kernel_size must be an int"):
        cls(2, 2, 2.5)
    for name, value, rule in (("stride", 0, "positive"), ("dilation", 0, "positive"),
                              ("padding", -1, "non-negative")):
        with pytest.raises(OpError, match=rf"{layer}: {name} must be {rule}"):
            cls(2, 2, 2, **{name: value})
    with pytest.raises(ValueError, match=rf"{layer}: in_channels \(3\) must be divisible"):
        cls(3, 2, 2, groups=2)
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        cls(2, 2, 2, padding_mode="mirror")
    with pytest.raises(DeviceError):
        cls(2, 2, 2, device="cuda")
    assert cls(2, 2, 2, device="cpu").weight.dtype == mg.float32
    assert cls(2, 2, 2, dtype=mg.float64).bias.dtype == mg.float64


def test_conv_same_padding_rules_and_transposed_padding_mode():
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        nn.Conv2d(2, 2, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="Invalid padding string 'full'"):
        nn.Conv1d(2, 2, 3, padding="full")
    with pytest.raises(ValueError, match='Only "zeros" padding mode is supported'):
        nn.ConvTranspose2d(2, 2, 3, padding_mode="reflect")


@pytest.mark.parametrize("layer, dims", [("MaxPool1d", 1), ("MaxPool2d", 2), ("MaxPool3d", 3),
                                         ("AvgPool1d", 1), ("AvgPool2d", 2), ("AvgPool3d", 3),
                                         ("MaxUnpool1d", 1), ("MaxUnpool2d", 2),
                                         ("LPPool2d", 2)])
def test_pool_layers_reject_bad_window_arguments(layer, dims):
    cls = getattr(nn, layer)
    lead = (2,) if layer.startswith("LP") else ()
    with pytest.raises(OpError, match=rf"{layer}: kernel_size must be positive"):
        cls(*lead, 0)
    with pytest.raises(TypeError, match=rf"{layer}: kernel_size must be an int or a tuple of "
                                        rf"{dims} ints"):
        cls(*lead, 2.5)
    with pytest.raises(OpError, match=rf"{layer}: stride must be positive"):
        cls(*lead, 2, 0)


def test_conv_initialisation_bounds_follow_fan_in():
    mg.manual_seed(0)
    for layer, fan_in in ((nn.Conv3d(4, 6, (2, 3, 2), groups=2), 2 * 12),
                          (nn.ConvTranspose2d(4, 6, 3, groups=2), 3 * 9),
                          (nn.Conv1d(3, 5, 4), 12)):
        bound = 1 / math.sqrt(fan_in)
        for p in (layer.weight, layer.bias):
            values = p.detach().numpy()
            assert np.abs(values).max() <= bound
            assert np.abs(values).max() > 0.5 * bound  # spread over the range, not zeros
    assert nn.ConvTranspose1d(4, 6, 3, groups=2).bias.shape == (6,)
    assert nn.ConvTranspose1d(4, 6, 3, groups=2).weight.shape == (4, 3, 3)


def test_empty_batch_flows_through_conv_and_pool_layers():
    model = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.MaxPool2d(2), nn.AvgPool2d(2),
                          nn.ConvTranspose2d(3, 2, 2, stride=2))
    x = mg.zeros(0, 2, 8, 8, requires_grad=True)
    out = model(x)
    assert out.shape == (0, 2, 4, 4)
    out.sum().backward()
    assert x.grad.shape == x.shape
    assert all(np.all(p.grad.numpy() == 0) for p in model.parameters())
