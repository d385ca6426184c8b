"""Normalization layers and functionals: values and gradients against PyTorch in float64
(same weights), running statistics, numerical gradients of the functionals (hypothesis),
repr and errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.functional as F
import nn
from minigrad.testing import arrays, assert_grad_matches_numeric

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def weighting(shape: tuple[int, ...]) -> np.ndarray:
    return np.cos(np.arange(int(np.prod(shape)), dtype=np.float64)).reshape(shape) + 0.5


def compare_module(ours: nn.Module, theirs: torch.nn.Module, x: np.ndarray,
                   steps: int = 1) -> None:
    """Same state -> same outputs, input and parameter gradients, and buffers after ``steps``
    forward passes."""
    ours.load_state_dict({k: mg.tensor(v.detach().numpy()) for k, v in
                          theirs.state_dict().items()})
    for step in range(steps):
        data = x * (step + 1) + step
        ours_x = mg.tensor(data, requires_grad=True)
        theirs_x = torch.tensor(data, requires_grad=True)
        ours_out, theirs_out = ours(ours_x), theirs(theirs_x)
        np.testing.assert_allclose(ours_out._data, theirs_out.detach().numpy(), rtol=1e-9,
                                   atol=1e-11)
        (ours_out * mg.tensor(weighting(ours_out.shape))).sum().backward()
        (theirs_out * torch.tensor(weighting(tuple(theirs_out.shape)))).sum().backward()
        np.testing.assert_allclose(ours_x.grad._data, theirs_x.grad.numpy(), rtol=1e-8,
                                   atol=1e-10)
    ours_params = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(ours_params[name].grad._data, p.grad.numpy(), rtol=1e-8,
                                   atol=1e-10, err_msg=name)
    ours_buffers = dict(ours.named_buffers())
    assert set(ours_buffers) == {n for n, _ in theirs.named_buffers()}
    for name, b in theirs.named_buffers():
        np.testing.assert_allclose(ours_buffers[name]._data, b.numpy(), rtol=1e-10,
                                   err_msg=name)


def random_affine(module: torch.nn.Module) -> torch.nn.Module:
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn_like(p))
    return module.double()


RNG = np.random.default_rng(0)


@pytest.mark.parametrize("shape, kwargs", [
    ((3, 4, 5), dict(normalized_shape=5)),
    ((2, 3, 4), dict(normalized_shape=(3, 4), eps=1e-3)),
    ((2, 6), dict(normalized_shape=[6], bias=False)),
    ((2, 3, 4), dict(normalized_shape=4, elementwise_affine=False)),
])
def test_layer_norm_matches_torch(shape, kwargs):
    torch.manual_seed(0)
    theirs = random_affine(torch.nn.LayerNorm(**kwargs))
    compare_module(nn.LayerNorm(**kwargs, dtype=np.float64), theirs, RNG.standard_normal(shape))


@pytest.mark.parametrize("shape, args, kwargs", [
    ((2, 6, 5), (3, 6), {}),
    ((3, 4, 2, 3), (2, 4), dict(eps=1e-3)),
    ((2, 4), (4, 4), dict(affine=False)),
    ((2, 4, 3), (1, 4), dict(bias=False)),
])
def test_group_norm_matches_torch(shape, args, kwargs):
    torch.manual_seed(0)
    theirs = random_affine(torch.nn.GroupNorm(*args, **kwargs))
    compare_module(nn.GroupNorm(*args, **kwargs, dtype=np.float64), theirs,
                   RNG.standard_normal(shape))


@pytest.mark.parametrize("name, shape", [("InstanceNorm1d", (2, 3, 5)),
                                         ("InstanceNorm1d", (3, 5)),
                                         ("InstanceNorm2d", (2, 3, 4, 3)),
                                         ("InstanceNorm2d", (3, 4, 3)),
                                         ("InstanceNorm3d", (2, 3, 2, 3, 2))])
@pytest.mark.parametrize("kwargs", [{}, dict(affine=True, track_running_stats=True),
                                    dict(track_running_stats=True, momentum=None)])
def test_instance_norm_matches_torch_in_train_and_eval(name, shape, kwargs):
    torch.manual_seed(0)
    theirs = random_affine(getattr(torch.nn, name)(3, **kwargs))
    ours = getattr(nn, name)(3, **kwargs, dtype=np.float64)
    x = RNG.standard_normal(shape)
    compare_module(ours, theirs, x, steps=2)
    theirs.eval()
    ours.eval()
    compare_module(ours, theirs, x)


@pytest.mark.parametrize("momentum", [0.1, None])
def test_batch_norm_3d_matches_torch_and_shares_batch_norm(momentum):
    torch.manual_seed(0)
    theirs = random_affine(torch.nn.BatchNorm3d(3, momentum=momentum))
    ours = nn.BatchNorm3d(3, momentum=momentum, dtype=np.float64)
    x = RNG.standard_normal((2, 3, 2, 3, 2))
    compare_module(ours, theirs, x, steps=3)
    assert int(ours.num_batches_tracked._data) == 3
    theirs.eval()
    ours.eval()
    compare_module(ours, theirs, x)
    assert type(ours).forward is nn.BatchNorm1d.forward is nn.BatchNorm2d.forward


def test_batch_norm_cumulative_average_with_momentum_none():
    bn = nn.BatchNorm1d(2, momentum=None, dtype=np.float64)
    batches = [RNG.standard_normal((4, 2)) * (i + 1) + i for i in range(3)]
    for batch in batches:
        bn(mg.tensor(batch))
    np.testing.assert_allclose(bn.running_mean._data, np.mean([b.mean(0) for b in batches], 0))
    np.testing.assert_allclose(bn.running_var._data,
                               np.mean([b.var(0, ddof=1) for b in batches], 0))


@pytest.mark.parametrize("shape, kwargs", [((2, 5, 3), dict(size=3)),
                                           ((2, 6, 3, 2), dict(size=4, alpha=0.1, beta=0.5,
                                                               k=2.0)),
                                           ((1, 4, 2, 2, 2), dict(size=2))])
def test_local_response_norm_matches_torch(shape, kwargs):
    compare_module(nn.LocalResponseNorm(**kwargs), torch.nn.LocalResponseNorm(**kwargs),
                   RNG.standard_normal(shape))


@pytest.mark.parametrize("kwargs", [dict(normalized_shape=4), dict(normalized_shape=(3, 4),
                                                                   eps=1e-3),
                                    dict(normalized_shape=4, elementwise_affine=False)])
def test_rms_norm_matches_torch(kwargs):
    torch.manual_seed(0)
    theirs = random_affine(torch.nn.RMSNorm(**kwargs))
    compare_module(nn.RMSNorm(**kwargs, dtype=np.float64), theirs,
                   RNG.standard_normal((2, 3, 4)))


def test_functionals_match_torch():
    x = RNG.standard_normal((3, 4, 5))
    w, b = RNG.standard_normal(4), RNG.standard_normal(4)
    tx, mx = torch.tensor(x), mg.tensor(x)
    tw, tb, mw, mb = torch.tensor(w), torch.tensor(b), mg.tensor(w), mg.tensor(b)
    pairs = [
        (F.group_norm(mx, 2, mw, mb, 1e-4), TF.group_norm(tx, 2, tw, tb, 1e-4)),
        (F.instance_norm(mx, weight=mw, bias=mb), TF.instance_norm(tx, weight=tw, bias=tb)),
        (F.layer_norm(mx, (4, 5)), TF.layer_norm(tx, (4, 5))),
        (F.batch_norm(mx, None, None, mw, mb, training=True),
         TF.batch_norm(tx, None, None, tw, tb, training=True)),
        (F.local_response_norm(mx, 3), TF.local_response_norm(tx, 3)),
        (F.rms_norm(mx, (5,)), TF.rms_norm(tx, (5,))),
        (F.rms_norm(mx.float(), (5,)), TF.rms_norm(tx.float(), (5,))),
    ]
    for ours, theirs in pairs:
        assert ours.dtype == np.dtype(str(theirs.dtype).removeprefix("torch."))
        np.testing.assert_allclose(ours._data, theirs.numpy(), rtol=1e-5, atol=1e-6)


def test_instance_norm_updates_given_running_stats_like_torch():
    x = RNG.standard_normal((3, 2, 6))
    ours_mean, ours_var = mg.zeros(2, dtype=np.float64), mg.ones(2, dtype=np.float64)
    theirs_mean, theirs_var = torch.zeros(2, dtype=torch.float64), torch.ones(2,
                                                                              dtype=torch.float64)
    F.instance_norm(mg.tensor(x), ours_mean, ours_var, momentum=0.3)
    TF.instance_norm(torch.tensor(x), theirs_mean, theirs_var, momentum=0.3)
    np.testing.assert_allclose(ours_mean._data, theirs_mean.numpy())
    np.testing.assert_allclose(ours_var._data, theirs_var.numpy())


# ------------------------------------------------------------------ numerical gradients

SETTINGS = settings(max_examples=10, deadline=None)


@SETTINGS
@given(st.integers(1, 3), st.integers(2, 4), st.integers(2, 4), st.data())
def test_layer_norm_grad_matches_numeric(batch, rows, cols, data):
    x = data.draw(arrays((batch, rows, cols)))
    w = data.draw(arrays((cols,)))
    b = data.draw(arrays((cols,)))
    assert_grad_matches_numeric(lambda x, w, b: F.layer_norm(x, (cols,), w, b) ** 2, x, w, b,
                                atol=1e-4)


@SETTINGS
@given(st.integers(1, 2), st.sampled_from([(2, 4), (1, 3), (3, 3)]), st.integers(1, 3),
       st.data())
def test_group_norm_grad_matches_numeric(batch, groups_channels, length, data):
    groups, channels = groups_channels
    x = data.draw(arrays((batch, channels, length + 1)))
    w = data.draw(arrays((channels,)))
    assert_grad_matches_numeric(lambda x, w: F.group_norm(x, groups, w) ** 2, x, w, atol=1e-4)


@SETTINGS
@given(st.integers(1, 3), st.integers(1, 3), st.integers(2, 4), st.data())
def test_instance_and_batch_norm_grad_matches_numeric(batch, channels, length, data):
    x = data.draw(arrays((batch + 1, channels, length)))
    w = data.draw(arrays((channels,)))
    b = data.draw(arrays((channels,)))
    assert_grad_matches_numeric(lambda x, w, b: F.instance_norm(x, weight=w, bias=b) ** 2, x,
                                w, b, atol=1e-4)
    assert_grad_matches_numeric(
        lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True) ** 2, x, w, b,
        atol=1e-4)


@SETTINGS
@given(st.integers(1, 2), st.integers(1, 5), st.integers(1, 4), st.data())
def test_local_response_and_rms_norm_grad_matches_numeric(batch, channels, size, data):
    x = data.draw(arrays((batch, channels, 3)))
    assert_grad_matches_numeric(lambda x: F.local_response_norm(x, size, 0.5, 0.75, 1.0), x)
    assert_grad_matches_numeric(lambda x: F.rms_norm(x, (3,), eps=1e-3), x, atol=1e-4)


# ------------------------------------------------------------------ repr and errors


def test_reprs_match_torch():
    cases = [("LayerNorm", ((3, 4),), {}), ("LayerNorm", (5,), dict(bias=False, eps=1e-3)),
             ("GroupNorm", (2, 4), {}), ("InstanceNorm2d", (3,), dict(affine=True)),
             ("InstanceNorm1d", (3,), {}), ("LocalResponseNorm", (3,), {}),
             ("BatchNorm3d", (3,), dict(momentum=None)), ("RMSNorm", (4,), {})]
    for name, args, kwargs in cases:
        assert repr(getattr(nn, name)(*args, **kwargs)) == repr(
            getattr(torch.nn, name)(*args, **kwargs))


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="must be divisible by num_groups"):
        nn.GroupNorm(3, 4)
    with pytest.raises(RuntimeError, match="divisible by num_groups"):
        F.group_norm(mg.randn(2, 4, 3), 3)
    with pytest.raises(RuntimeError, match=r"normalized_shape=\[4\]"):
        F.layer_norm(mg.randn(2, 3), (4,))
    with pytest.raises(ValueError, match="expected 5D input"):
        nn.BatchNorm3d(2)(mg.randn(2, 2, 3, 3))
    with pytest.raises(ValueError, match="expected 3D or 4D input"):
        nn.InstanceNorm2d(2)(mg.randn(2, 2))
    with pytest.raises(ValueError, match="to match num_features"):
        nn.InstanceNorm1d(3, affine=True)(mg.randn(2, 4, 5))
    with pytest.raises(RuntimeError, match="more than 1 spatial element"):
        F.instance_norm(mg.randn(2, 3, 1))
    with pytest.raises(ValueError, match="3D or higher"):
        F.local_response_norm(mg.randn(2, 3), 2)


@SETTINGS
@given(st.lists(st.integers(2, 3), min_size=1, max_size=3), st.data())
def test_normalize_primitive_grad_matches_numeric_over_any_axes(shape, data):
    from minigrad.ops.normalization import Normalize

    axes = tuple(sorted(data.draw(st.sets(st.integers(0, len(shape) - 1), min_size=1))))
    x = data.draw(arrays(tuple(shape)))
    weights = data.draw(arrays(tuple(shape)))

    def reference(x: np.ndarray) -> np.ndarray:
        return (x - x.mean(axes, keepdims=True)) / np.sqrt(x.var(axes, keepdims=True) + 1e-3)

    assert_grad_matches_numeric(
        lambda x: Normalize.apply(x, axes=axes, eps=1e-3) * mg.tensor(weights), x,
        reference=lambda x: reference(x) * weights, atol=1e-4)
