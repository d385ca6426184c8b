"""nn.utils.parametrize, parametrizations.weight_norm/spectral_norm and the hook-based
weight_norm/spectral_norm against PyTorch: state_dict keys, forward values and gradients."""

import copy
import warnings

import numpy as np
import pytest

import minigrad as mg
import nn
from nn.utils import parametrizations
from nn.utils import parametrize as P

torch = pytest.importorskip("torch")
TP = torch.nn.utils.parametrize


def _pair(kind, seed=0):
    """The same float64 layer in minigrad and torch (weights copied from torch)."""
    torch.manual_seed(seed)
    if kind == "linear":
        t, m, shape = torch.nn.Linear(4, 3), nn.Linear(4, 3), (5, 4)
    elif kind == "conv":
        t, m, shape = torch.nn.Conv2d(2, 3, 3), nn.Conv2d(2, 3, 3), (2, 2, 5, 5)
    else:
        t = torch.nn.ConvTranspose2d(2, 3, 3)
        m, shape = nn.ConvTranspose2d(2, 3, 3), (2, 2, 4, 4)
    t = t.double()
    m = m.double()
    m.load_state_dict(t.state_dict())
    x = np.random.default_rng(seed).normal(size=shape)
    return m, t, x


def _run(m, t, x):
    """Forward + backward of sum(out * r) in both; returns outputs."""
    out = m(mg.tensor(x))
    r = np.random.default_rng(1).normal(size=out.shape)
    (out * mg.tensor(r)).sum().backward()
    tout = t(torch.tensor(x))
    (tout * torch.tensor(r)).sum().backward()
    return out.detach().numpy(), tout.detach().numpy()


def _assert_same_grads(m, t):
    tparams = dict(t.named_parameters())
    names = [name for name, _ in m.named_parameters()]
    assert names == list(tparams)
    for name, p in m.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tparams[name].grad.numpy(), rtol=1e-9,
                                   atol=1e-12, err_msg=name)


def _load(m, t):
    state = t.state_dict()
    assert list(m.state_dict()) == list(state)
    m.load_state_dict(state)


@pytest.mark.parametrize("kind", ["linear", "conv"])
@pytest.mark.parametrize("dim", [0, 1, None, -1])
def test_parametrized_weight_norm_matches_torch(kind, dim):
    m, t, x = _pair(kind)
    parametrizations.weight_norm(m, dim=dim)
    torch.nn.utils.parametrizations.weight_norm(t, dim=dim)
    assert type(m).__name__ == type(t).__name__ == f"Parametrized{type(t).__bases__[0].__name__}"
    _load(m, t)
    out, tout = _run(m, t, x)
    np.testing.assert_allclose(out, tout, rtol=1e-10, atol=1e-12)
    _assert_same_grads(m, t)
    # assigning the weight goes through right_inverse into g and v
    new = torch.randn(t.weight.shape, dtype=torch.float64)
    t.weight = new
    m.weight = mg.tensor(new.numpy())
    for key, value in t.state_dict().items():
        np.testing.assert_allclose(m.state_dict()[key].numpy(), value.numpy(), rtol=1e-12)
    P.remove_parametrizations(m, "weight")
    TP.remove_parametrizations(t, "weight")
    assert type(m) is type(m).__mro__[0] and not P.is_parametrized(m)
    assert type(m).__name__ == type(t).__name__ and list(m.state_dict()) == list(t.state_dict())
    np.testing.assert_allclose(m.weight.detach().numpy(), t.weight.detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize("kind", ["linear", "conv"])
@pytest.mark.parametrize("dim", [0, 1, None])
def test_hook_weight_norm_matches_torch(kind, dim):
    m, t, x = _pair(kind)
    with pytest.warns(FutureWarning):
        nn.utils.weight_norm(m, dim=dim)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.nn.utils.weight_norm(t, dim=dim)
    _load(m, t)
    out, tout = _run(m, t, x)
    np.testing.assert_allclose(out, tout, rtol=1e-10, atol=1e-12)
    _assert_same_grads(m, t)
    with pytest.raises(RuntimeError, match="two weight_norm hooks"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nn.utils.weight_norm(m, dim=dim)
    nn.utils.remove_weight_norm(m)
    torch.nn.utils.remove_weight_norm(t)
    assert list(m.state_dict()) == list(t.state_dict())
    np.testing.assert_allclose(m.weight.detach().numpy(), t.weight.detach().numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
        nn.utils.remove_weight_norm(m)


@pytest.mark.parametrize("kind", ["linear", "conv", "convT"])
def test_parametrized_spectral_norm_matches_torch(kind):
    m, t, x = _pair(kind)
    parametrizations.spectral_norm(m, n_power_iterations=2)
    torch.nn.utils.parametrizations.spectral_norm(t, n_power_iterations=2)
    assert m.parametrizations.weight[0].dim == t.parametrizations.weight[0].dim
    _load(m, t)  # the power-iteration vectors too
    for step in range(3):  # training mode: each forward takes power-iteration steps
        out, tout = _run(m, t, x)
        np.testing.assert_allclose(out, tout, rtol=1e-9, atol=1e-12, err_msg=f"step {step}")
        for key, value in t.state_dict().items():
            np.testing.assert_allclose(m.state_dict()[key].numpy(), value.numpy(), rtol=1e-9,
                                       atol=1e-12, err_msg=key)
    _assert_same_grads(m, t)
    m.eval()
    t.eval()
    m.zero_grad()
    t.zero_grad()
    out, tout = _run(m, t, x)
    np.testing.assert_allclose(out, tout, rtol=1e-9, atol=1e-12)
    _assert_same_grads(m, t)
    u_before = m.parametrizations.weight[0]._u.numpy().copy()
    m(mg.tensor(x))
    np.testing.assert_array_equal(m.parametrizations.weight[0]._u.numpy(), u_before)


@pytest.mark.parametrize("kind", ["linear", "conv", "convT"])
def test_hook_spectral_norm_matches_torch(kind):
    m, t, x = _pair(kind)
    nn.utils.spectral_norm(m)
    torch.nn.utils.spectral_norm(t)
    _load(m, t)
    for step in range(3):
        out, tout = _run(m, t, x)
        np.testing.assert_allclose(out, tout, rtol=1e-9, atol=1e-12, err_msg=f"step {step}")
        for key in ("weight_u", "weight_v"):
            np.testing.assert_allclose(getattr(m, key).numpy(), getattr(t, key).numpy(),
                                       rtol=1e-9, atol=1e-12)
    _assert_same_grads(m, t)
    m.eval()
    t.eval()
    out, tout = _run(m, t, x)
    np.testing.assert_allclose(out, tout, rtol=1e-9, atol=1e-12)
    with pytest.raises(RuntimeError, match="two spectral_norm hooks"):
        nn.utils.spectral_norm(m)
    nn.utils.remove_spectral_norm(m)
    torch.nn.utils.remove_spectral_norm(t)
    assert list(m.state_dict()) == list(t.state_dict())
    np.testing.assert_allclose(m.weight.detach().numpy(), t.weight.detach().numpy(), rtol=1e-9)
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found"):
        nn.utils.remove_spectral_norm(m)


def test_spectral_norm_argument_errors():
    with pytest.raises(ValueError, match="n_power_iterations"):
        nn.utils.spectral_norm(nn.Linear(3, 2), n_power_iterations=0)
    with pytest.raises(ValueError, match="n_power_iterations"):
        parametrizations.spectral_norm(nn.Linear(3, 2), n_power_iterations=0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        parametrizations.spectral_norm(nn.Linear(3, 2), dim=2)
    with pytest.raises(ValueError, match="no parameter or buffer with name 'w'"):
        parametrizations.spectral_norm(nn.Linear(3, 2), name="w")


def test_spectral_norm_of_a_vector_is_normalize():
    m = nn.Linear(3, 2).double()
    parametrizations.spectral_norm(m, name="bias")
    b = m.parametrizations.bias.original.detach().numpy()
    np.testing.assert_allclose(m.bias.detach().numpy(), b / np.linalg.norm(b))


class _Symmetric(nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).transpose(-1, -2)


class _TorchSymmetric(torch.nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).transpose(-1, -2)


class _Scale(nn.Module):
    def forward(self, X):
        return X * 2

    def right_inverse(self, X):
        return X / 2


class _TorchScale(torch.nn.Module):
    def forward(self, X):
        return X * 2

    def right_inverse(self, X):
        return X / 2


def test_register_parametrization_chain_matches_torch():
    m = nn.Linear(3, 3).double()
    t = torch.nn.Linear(3, 3).double()
    m.load_state_dict(t.state_dict())
    P.register_parametrization(m, "weight", _Scale())
    P.register_parametrization(m, "weight", _Symmetric())
    TP.register_parametrization(t, "weight", _TorchScale())
    TP.register_parametrization(t, "weight", _TorchSymmetric())
    assert P.is_parametrized(m) and P.is_parametrized(m, "weight")
    assert not P.is_parametrized(m, "bias")
    assert P.type_before_parametrizations(m) is nn.Linear
    _load(m, t)
    x = np.random.default_rng(0).normal(size=(4, 3))
    out, tout = _run(m, t, x)
    np.testing.assert_allclose(out, tout, rtol=1e-12)
    _assert_same_grads(m, t)
    # cached: one evaluation per access inside the context
    with P.cached():
        assert m.weight is m.weight
    assert m.weight is not m.weight
    P.remove_parametrizations(m, "weight", leave_parametrized=False)
    TP.remove_parametrizations(t, "weight", leave_parametrized=False)
    np.testing.assert_allclose(m.weight.detach().numpy(), t.weight.detach().numpy())
    assert type(m) is nn.Linear and "parametrizations" not in m._modules


def test_parametrization_keeps_parameter_identity_and_buffers():
    m = nn.BatchNorm1d(3)
    weight = m.weight
    P.register_parametrization(m, "weight", _Scale())
    assert m.parametrizations.weight.original is weight
    P.register_parametrization(m, "running_mean", _Scale())
    assert "parametrizations.running_mean.original" in m.state_dict()
    assert not m.parametrizations.running_mean.original.requires_grad
    P.remove_parametrizations(m, "weight")
    assert m.weight is weight and type(m).__name__ == "ParametrizedBatchNorm1d"
    P.remove_parametrizations(m, "running_mean")
    assert type(m) is nn.BatchNorm1d


def test_parametrize_errors_like_torch():
    class Grow(nn.Module):
        def forward(self, X):
            return mg.cat([X, X])

    with pytest.raises(ValueError, match="may not change the shape"):
        P.register_parametrization(nn.Linear(3, 2), "weight", Grow())
    m = nn.Linear(3, 2)
    P.register_parametrization(m, "weight", Grow(), unsafe=True)
    assert m.weight.shape == (4, 3)
    with pytest.raises(ValueError, match="does not have a parameter, a buffer"):
        P.register_parametrization(nn.Linear(3, 2), "nope", _Scale())
    with pytest.raises(ValueError, match="does not have a parametrization on weight"):
        P.remove_parametrizations(nn.Linear(3, 2), "weight")
    with pytest.raises(RuntimeError, match="does not implement right_inverse"):
        m.weight = mg.zeros(4, 3)
    wn = parametrizations.weight_norm(nn.Linear(3, 2))
    with pytest.raises(ValueError, match="sequence of tensors"):
        P.remove_parametrizations(wn, "weight", leave_parametrized=False)
    with pytest.raises(RuntimeError, match="state_dict"):
        import pickle

        pickle.dumps(wn)
    clone = copy.deepcopy(wn)
    np.testing.assert_array_equal(clone.weight.detach().numpy(), wn.weight.detach().numpy())
    assert type(clone) is type(wn)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_weight_norm_grad_matches_numeric(dim):
    from minigrad.testing import assert_grad_matches_numeric

    norm = parametrizations._WeightNorm(dim)
    rng = np.random.default_rng(2)
    v = rng.normal(size=(3, 4, 2))
    g = parametrizations._WeightNorm(dim).right_inverse(mg.tensor(v))[0].numpy() * 1.5
    assert_grad_matches_numeric(lambda g_, v_: norm(g_, v_), g, v)


def test_spectral_norm_grad_matches_numeric():
    from minigrad.testing import assert_grad_matches_numeric

    rng = np.random.default_rng(3)
    w = rng.normal(size=(3, 2, 2))
    sn = parametrizations._SpectralNorm(mg.tensor(w), dim=1).eval()
    assert_grad_matches_numeric(lambda w_: sn(w_), w)
