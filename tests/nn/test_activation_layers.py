"""Every activation layer and functional against torch: values, input gradients, parameter
gradients (same weights via load_state_dict) and repr, in float64."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

import minigrad as mg
import nn
import nn.functional as F
from minigrad.testing import assert_grad_matches_numeric

torch = pytest.importorskip("torch")

# (module factory args, input shape); inputs are N(0, 3^2) so both sides of kinks are hit
CASES = [
    ("ELU", (), {}), ("ELU", (0.7,), {}), ("SELU", (), {}), ("CELU", (1.3,), {}),
    ("GELU", (), {}), ("GELU", ("tanh",), {}), ("SiLU", (), {}), ("Mish", (), {}),
    ("Softplus", (), {}), ("Softplus", (2.0, 3.0), {}), ("Hardtanh", (), {}),
    ("Hardtanh", (-2.0, 0.5), {}), ("ReLU6", (), {}), ("Hardswish", (), {}),
    ("Hardsigmoid", (), {}), ("PReLU", (), {}), ("PReLU", (3, 0.1), {}), ("SELU", (), {}),
    ("LogSigmoid", (), {}), ("Softsign", (), {}), ("Softmin", (1,), {}), ("Softmax", (1,), {}),
    ("Softmax2d", (), {}), ("LogSoftmax", (1,), {}), ("Softshrink", (), {}),
    ("Softshrink", (1.5,), {}), ("Hardshrink", (), {}), ("Tanhshrink", (), {}),
    ("Threshold", (0.1, 20.0), {}), ("GLU", (), {}), ("GLU", (2,), {}), ("Identity", (), {}),
    ("LeakyReLU", (0.2,), {}), ("ReLU", (), {}), ("Sigmoid", (), {}), ("Tanh", (), {}),
    ("RReLU", (), {}), ("Flatten", (), {}), ("Unflatten", (1, (3, 1)), {}),
]


def _pair(name: str, args: tuple, kwargs: dict):
    ours = getattr(nn, name)(*args, **kwargs).double()
    theirs = getattr(torch.nn, name)(*args, **kwargs).double()
    if ours.state_dict():
        ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours.eval(), theirs.eval()


@pytest.mark.parametrize(("name", "args", "kwargs"), CASES)
def test_activation_matches_torch(name, args, kwargs):
    ours, theirs = _pair(name, args, kwargs)
    assert repr(ours) == repr(theirs)
    data = np.random.default_rng(0).normal(scale=3.0, size=(2, 3, 4, 2))
    x = mg.tensor(data, requires_grad=True)
    xt = torch.tensor(data, requires_grad=True)
    y, yt = ours(x), theirs(xt)
    assert y.shape == tuple(yt.shape) and y.dtype == mg.float64
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-14)
    weights = np.random.default_rng(1).normal(size=y.shape)
    (y * mg.tensor(weights)).sum().backward()
    (yt * torch.tensor(weights)).sum().backward()
    # PyTorch's CPU kernels use float32 constants in a few float64 backward formulas
    # (hardsigmoid's 1/6, celu's 1/alpha): agreement to 1e-6 relative there (ours are exact)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-6, atol=1e-12)
    for (name_ours, p), (name_theirs, pt) in zip(ours.named_parameters(),
                                                  theirs.named_parameters()):
        assert name_ours == name_theirs
        np.testing.assert_allclose(p.grad.numpy(), pt.grad.numpy(), rtol=1e-10)


FUNCTIONALS = [
    ("relu6", {}), ("hardtanh", {"min_val": -0.5, "max_val": 2.0}), ("elu", {"alpha": 2.0}),
    ("selu", {}), ("celu", {"alpha": 0.5}), ("hardswish", {}), ("hardsigmoid", {}),
    ("silu", {}), ("mish", {}), ("softplus", {"beta": 0.5, "threshold": 5.0}),
    ("logsigmoid", {}), ("softsign", {}), ("softshrink", {"lambd": 0.3}),
    ("hardshrink", {"lambd": 0.3}), ("tanhshrink", {}), ("threshold", {"threshold": 0.5,
                                                                        "value": -1.0}),
    ("glu", {"dim": -1}), ("softmin", {"dim": 0}), ("softmax", {"dim": 1, "dtype": mg.float64}),
    ("log_softmax", {"dim": -1}), ("normalize", {"p": 3.0, "dim": 1}), ("normalize", {}),
    ("rrelu", {"training": False}),
]


@pytest.mark.parametrize(("name", "kwargs"), FUNCTIONALS)
def test_functional_matches_torch(name, kwargs):
    data = np.random.default_rng(2).normal(scale=2.0, size=(3, 4))
    x = mg.tensor(data, requires_grad=True)
    xt = torch.tensor(data, requires_grad=True)
    torch_kwargs = {k: (torch.float64 if v is mg.float64 else v) for k, v in kwargs.items()}
    y = getattr(F, name)(x, **kwargs)
    yt = getattr(torch.nn.functional, name)(xt, **torch_kwargs)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-14)
    y.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-6, atol=1e-12)


def test_two_input_functionals_match_torch():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    for name, kwargs in [("cosine_similarity", {"dim": 1}), ("cosine_similarity", {"dim": 0}),
                         ("pairwise_distance", {}), ("pairwise_distance", {"p": 1.0,
                                                                           "keepdim": True})]:
        x, y = mg.tensor(a, requires_grad=True), mg.tensor(b, requires_grad=True)
        xt, yt = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
        out = getattr(F, name)(x, y, **kwargs)
        out_t = getattr(torch.nn.functional, name)(xt, yt, **kwargs)
        np.testing.assert_allclose(out.detach().numpy(), out_t.detach().numpy(), rtol=1e-12)
        out.sum().backward()
        out_t.sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-10)
        np.testing.assert_allclose(y.grad.numpy(), yt.grad.numpy(), rtol=1e-10)
    assert repr(nn.CosineSimilarity()) == "CosineSimilarity()"


def test_bilinear_matches_torch():
    theirs = torch.nn.Bilinear(3, 4, 2).double()
    ours = nn.Bilinear(3, 4, 2, dtype=mg.float64)
    assert repr(ours) == repr(theirs)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(5, 3)), rng.normal(size=(5, 4))
    x1, x2 = mg.tensor(a, requires_grad=True), mg.tensor(b, requires_grad=True)
    t1, t2 = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    y, yt = ours(x1, x2), theirs(t1, t2)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-12)
    (y**2).sum().backward()
    (yt**2).sum().backward()
    for ours_grad, theirs_grad in [(x1.grad, t1.grad), (x2.grad, t2.grad),
                                   (ours.weight.grad, theirs.weight.grad),
                                   (ours.bias.grad, theirs.bias.grad)]:
        np.testing.assert_allclose(ours_grad.numpy(), theirs_grad.numpy(), rtol=1e-11)


def test_rrelu_training_slopes_lie_in_range():
    mg.manual_seed(0)
    x = mg.tensor(-np.ones(1000))
    y = F.rrelu(x, 0.1, 0.3, training=True).numpy()
    assert (y <= -0.1).all() and (y >= -0.3).all() and y.std() > 0.01


def test_softmax_without_dim_warns_and_uses_torch_choice():
    x = mg.randn(2, 3)
    with pytest.warns(UserWarning, match="Implicit dimension"):
        y = F.softmax(x)
    np.testing.assert_allclose(y.numpy().sum(axis=1), 1.0, rtol=1e-6)


def test_glu_odd_dimension_is_an_error():
    with pytest.raises(RuntimeError, match="Halving dimension must be even"):
        F.glu(mg.ones(2, 3))


def test_prelu_parameter_count_must_match_channels():
    with pytest.raises(RuntimeError, match="Mismatch of parameter numbers"):
        nn.PReLU(4)(mg.ones(2, 3))


def test_inplace_activation_writes_into_input():
    x = mg.tensor([-1.0, 0.5, 7.0])
    y = F.relu6(x, inplace=True)
    assert y is x
    np.testing.assert_array_equal(x.numpy(), [0.0, 0.5, 6.0])


# primitives of minigrad.ops.activation against numerical gradients (away from kinks)
AWAY = mg.testing.away_from(-1.0, 0.0, 1.0, 1.5, 6.0, -3.0, 3.0, margin=0.05, min_value=-5.0,
                            max_value=8.0)


@settings(deadline=None, max_examples=15)
@given(mg.testing.arrays(mg.testing.shapes(max_dims=2, max_side=4), elements=AWAY))
def test_activation_primitives_grad_matches_numeric(array):
    for fn in (lambda t: F.hardtanh(t, -1.0, 1.0), lambda t: F.softplus(t, 2.0, 3.0),
               F.logsigmoid, lambda t: F.elu(t, 0.7), F.selu, lambda t: F.celu(t, 1.3)):
        assert_grad_matches_numeric(fn, array)
