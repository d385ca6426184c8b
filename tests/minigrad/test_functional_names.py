"""F.<name> for the activations defined once, in functional_activation."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F
import minigrad.functional_activation as activation
import nn.functional as NF

NAMES = ["relu6", "elu", "silu", "softplus", "softmax", "log_softmax"]


@pytest.mark.parametrize("name", NAMES)
def test_functional_name_is_the_activation_module_one(name):
    assert getattr(F, name) is getattr(activation, name)
    assert getattr(NF, name) is getattr(activation, name)
    assert F.__all__.count(name) == 1


def test_activation_arguments_of_the_live_definitions():
    torch = pytest.importorskip("torch")
    x = np.linspace(-8, 8, 12).reshape(3, 4)
    t = torch.tensor(x)
    m = mg.tensor(x)
    pairs = [
        (F.relu6(m), torch.nn.functional.relu6(t)),
        (F.elu(m, alpha=0.5), torch.nn.functional.elu(t, alpha=0.5)),
        (F.silu(m), torch.nn.functional.silu(t)),
        (F.softplus(m, beta=2.0, threshold=5.0),
         torch.nn.functional.softplus(t, beta=2.0, threshold=5.0)),
        (F.softmax(m, dim=0), torch.softmax(t, dim=0)),
        (F.log_softmax(m, dim=1), torch.log_softmax(t, dim=1)),
    ]
    for ours, theirs in pairs:
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-15)
    y = mg.tensor(x.copy())
    assert F.relu6(y, inplace=True) is y
    np.testing.assert_array_equal(y.numpy(), np.clip(x, 0, 6))
