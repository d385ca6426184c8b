"""nn.init formulas and the default initialisation of Linear and Conv2d (PyTorch's)."""

import math

import numpy as np
import pytest

import minigrad as mg
import nn
from nn import init


def filled(fn, shape=(200, 300), **kwargs):
    t = mg.zeros(*shape)
    out = fn(t, **kwargs)
    assert out is t
    return t._data


def test_constant_initialisers():
    assert np.all(filled(init.zeros_, (3, 4)) == 0)
    assert np.all(filled(init.ones_, (3, 4)) == 1)
    assert np.all(filled(init.constant_, (3, 4), val=0.5) == 0.5)


def test_uniform_and_normal():
    u = filled(init.uniform_, a=-2.0, b=3.0)
    assert u.min() >= -2.0 and u.max() <= 3.0
    assert abs(u.mean() - 0.5) < 0.02
    n = filled(init.normal_, mean=1.0, std=0.5)
    assert abs(n.mean() - 1.0) < 0.01 and abs(n.std() - 0.5) < 0.01


def test_xavier_bounds_and_std():
    fan_in, fan_out = 300, 200
    bound = math.sqrt(6 / (fan_in + fan_out))
    u = filled(init.xavier_uniform_, gain=2.0)
    assert np.abs(u).max() <= 2.0 * bound and np.abs(u).max() > 1.9 * bound
    n = filled(init.xavier_normal_)
    assert abs(n.std() - math.sqrt(2 / (fan_in + fan_out))) < 0.002


def test_kaiming_bounds_and_std():
    fan_in = 300
    u = filled(init.kaiming_uniform_, nonlinearity="relu")
    bound = math.sqrt(2) * math.sqrt(3 / fan_in)
    assert np.abs(u).max() <= bound and np.abs(u).max() > 0.99 * bound
    n = filled(init.kaiming_normal_, mode="fan_out", nonlinearity="relu")
    assert abs(n.std() - math.sqrt(2 / 200)) < 0.002
    conv = filled(init.kaiming_uniform_, (16, 8, 3, 3), a=math.sqrt(5))
    assert np.abs(conv).max() <= 1 / math.sqrt(8 * 9)


def test_gain_and_fans():
    assert init.calculate_gain("relu") == math.sqrt(2)
    assert init.calculate_gain("tanh") == 5 / 3
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == math.sqrt(1 / 3)
    assert init._calculate_fan_in_and_fan_out(mg.zeros(16, 8, 3, 3)) == (72, 144)
    with pytest.raises(ValueError, match="fewer than 2"):
        init.xavier_uniform_(mg.zeros(3))
    with pytest.raises(ValueError, match="nonlinearity"):
        init.calculate_gain("swish")


def test_init_bumps_version_and_needs_no_no_grad():
    p = nn.Parameter(mg.zeros(3, 3))
    version = p._version.value
    init.normal_(p)
    assert p._version.value > version and p.requires_grad and p._node is None


def test_default_init_of_linear_and_conv_is_pytorchs():
    mg.manual_seed(0)
    for layer, fan_in in ((nn.Linear(400, 300), 400), (nn.Conv2d(16, 32, 5), 16 * 25)):
        bound = 1 / math.sqrt(fan_in)  # kaiming_uniform(a=sqrt(5)) and the bias rule agree
        w, b = layer.weight._data, layer.bias._data
        assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
        assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound
        assert np.abs(b).max() <= bound
        assert w.dtype == np.float32 and b.dtype == np.float32


def test_manual_seed_makes_init_reproducible():
    mg.manual_seed(42)
    a = nn.Linear(4, 4).weight._data.copy()
    mg.manual_seed(42)
    np.testing.assert_array_equal(nn.Linear(4, 4).weight._data, a)


def test_default_init_distribution_matches_pytorch():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    theirs = torch.nn.Conv2d(8, 16, 3).weight.detach().numpy()
    ours = nn.Conv2d(8, 16, 3).weight._data
    assert abs(np.abs(ours).max() - np.abs(theirs).max()) < 0.01
    assert abs(ours.std() - theirs.std()) < 0.01
