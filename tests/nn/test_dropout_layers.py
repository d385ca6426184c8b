"""Channel dropout and alpha dropout: masks per channel, scaling, statistics, training-flag
defaults as in PyTorch, gradients through the mask, p=0/p=1 and errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F
import nn

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("fn, shape, channel_axes", [
    (F.dropout1d, (6, 5, 7), (0, 1)),
    (F.dropout1d, (5, 7), (0,)),
    (F.dropout2d, (6, 5, 3, 4), (0, 1)),
    (F.dropout3d, (4, 5, 2, 3, 2), (0, 1)),
    (F.dropout3d, (5, 2, 3, 2), (0,)),
])
def test_channel_dropout_zeros_whole_channels_and_scales_the_rest(fn, shape, channel_axes):
    mg.manual_seed(0)
    x = mg.tensor(np.random.default_rng(0).uniform(1, 2, shape), requires_grad=True)
    out = fn(x, 0.4)
    ratio = out._data / x._data
    spatial = tuple(range(len(channel_axes), len(shape)))
    per_channel = ratio.reshape(ratio.shape[:len(channel_axes)] + (-1,))
    # one value per channel: 0 or 1 / (1 - p)
    np.testing.assert_allclose(per_channel, per_channel[..., :1].repeat(per_channel.shape[-1],
                                                                        -1))
    assert set(np.round(np.unique(per_channel), 6)) <= {0.0, round(1 / 0.6, 6)}
    assert 0 < (ratio.mean(axis=spatial) == 0).mean() < 1
    out.sum().backward()
    np.testing.assert_allclose(x.grad._data, ratio)


def test_dropout2d_on_3d_input_warns_and_drops_channels_of_n_c_l():
    x = mg.ones(8, 6, 5)
    with pytest.warns(UserWarning, match="channel-wise 1D dropout"):
        out = F.dropout2d(x, 0.5)
    per_channel = out._data
    assert np.all(per_channel == per_channel[:, :, :1])


@pytest.mark.parametrize("fn", [F.dropout1d, F.dropout2d, F.dropout3d])
def test_channel_dropout_statistics_keep_the_mean(fn):
    mg.manual_seed(1)
    shape = {F.dropout1d: (200, 50, 2), F.dropout2d: (200, 50, 2, 1),
             F.dropout3d: (200, 50, 1, 2, 1)}[fn]
    out = fn(mg.ones(*shape), 0.3)
    assert abs(out._data.mean() - 1.0) < 0.03
    assert abs((out._data == 0).mean() - 0.3) < 0.02


def test_training_flags_and_edge_probabilities_as_torch():
    x = mg.randn(3, 4, 5)
    # alpha dropouts default to training=False: the identity
    assert F.alpha_dropout(x, 0.5) is x
    assert F.feature_alpha_dropout(x, 0.5) is x
    assert F.dropout1d(x, 0.5, training=False) is x
    assert F.dropout2d(mg.randn(2, 3, 4, 4), 0.0) is not None
    np.testing.assert_array_equal(F.dropout1d(x, 1.0)._data, 0)
    np.testing.assert_array_equal(F.alpha_dropout(x, 1.0, training=True)._data, 0)
    np.testing.assert_array_equal(F.dropout1d(x, 0.0)._data, x._data)
    for module in (nn.Dropout1d(), nn.Dropout2d(), nn.Dropout3d(), nn.AlphaDropout(),
                   nn.FeatureAlphaDropout()):
        module.eval()
        y = mg.randn(2, 3, 4, 4, 2)[..., 0] if isinstance(module, nn.Dropout2d) else mg.randn(
            2, 3, 4) if isinstance(module, nn.Dropout1d) else mg.randn(2, 3, 2, 2, 2)
        assert module(y) is y


def test_alpha_dropout_keeps_selu_statistics_and_matches_the_affine_formula():
    mg.manual_seed(2)
    x = mg.tensor(np.random.default_rng(2).standard_normal(200_000))
    out = F.alpha_dropout(x, 0.2, training=True)
    assert abs(out._data.mean()) < 0.01
    assert abs(out._data.std() - 1.0) < 0.01
    alpha = 1.7580993408473766
    a = 1 / np.sqrt((alpha**2 * 0.2 + 1) * 0.8)
    kept = np.isclose(out._data, a * x._data + alpha * a * 0.2)
    dropped = np.isclose(out._data, -alpha * a + alpha * a * 0.2)
    assert np.all(kept | dropped)
    assert abs(dropped.mean() - 0.2) < 0.01
    # and the same statistics as torch's on the same input
    theirs = torch.nn.functional.alpha_dropout(torch.tensor(x._data), 0.2, training=True)
    assert abs(theirs.numpy().std() - out._data.std()) < 0.01


def test_feature_alpha_dropout_drops_whole_channels_with_gradient():
    mg.manual_seed(3)
    x = mg.tensor(np.random.default_rng(3).standard_normal((50, 8, 3)), requires_grad=True)
    out = nn.FeatureAlphaDropout(0.5)(x)
    alpha = 1.7580993408473766
    a = 1 / np.sqrt((alpha**2 * 0.5 + 1) * 0.5)
    dropped_value = -alpha * a + alpha * a * 0.5
    dropped = np.isclose(out._data, dropped_value).all(axis=2)
    kept = np.isclose(out._data, a * x._data + alpha * a * 0.5).all(axis=2)
    assert np.all(dropped | kept) and 0 < dropped.mean() < 1
    out.sum().backward()
    np.testing.assert_allclose(x.grad._data, np.where(kept[..., None], a, 0.0) *
                               np.ones_like(x._data))


def test_inplace_variants_change_the_input():
    x = mg.ones(4, 3, 5)
    out = F.dropout1d(x, 0.5, inplace=True)
    assert out is x and set(np.unique(x._data)) <= {0.0, 2.0}
    y = mg.ones(3, 5)
    out = F.dropout1d(y, 0.5, inplace=True)
    assert out is y and set(np.unique(y._data)) <= {0.0, 2.0}


def test_reprs_and_errors_match_torch():
    for name in ("Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"):
        assert repr(getattr(nn, name)(0.2, inplace=True)) == repr(
            getattr(torch.nn, name)(0.2, inplace=True))
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout2d(1.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.alpha_dropout(mg.randn(3), -0.1, training=True)
    with pytest.raises(RuntimeError, match="Expected 2D or 3D input"):
        F.dropout1d(mg.randn(2, 3, 4, 5))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.dropout3d(mg.randn(2, 3, 2, 2, 2))
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout3d"):
        F.dropout3d(mg.randn(2, 3))
