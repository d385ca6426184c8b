"""minigrad.testing: argument strategies, module strategies, check_module, references, the
pytest plugin and assert_close."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.functional as F
import nn
from minigrad.testing import (
    ModuleCheckError,
    assert_close,
    assert_matches_reference,
    check_module,
    conv_configs,
    index_expressions,
    modules,
    pool_configs,
    reduction_dims,
    sequential_models,
)
from minigrad.testing.plugin import describe_mismatch

FEW = settings(max_examples=8, deadline=None)


@given(conv_configs(dims=2))
def test_conv_configs_fit_their_input(cfg):
    x = mg.randn(*cfg["input_shape"], dtype=mg.float64)
    w = mg.randn(*cfg["weight_shape"], dtype=mg.float64)
    b = mg.randn(cfg["out_channels"], dtype=mg.float64) if cfg["bias"] else None
    out = F.conv2d(x, w, b, cfg["stride"], cfg["padding"], cfg["dilation"], cfg["groups"])
    assert out.shape[:2] == (cfg["input_shape"][0], cfg["out_channels"])
    assert all(n >= 1 for n in out.shape[2:])


@given(pool_configs(dims=2, kind="max"), pool_configs(dims=2, kind="avg"))
def test_pool_configs_are_accepted_by_pytorch_and_match_it(max_cfg, avg_cfg):
    torch = pytest.importorskip("torch")
    for fn, tfn, cfg in ((F.max_pool2d, torch.nn.functional.max_pool2d, max_cfg),
                         (F.avg_pool2d, torch.nn.functional.avg_pool2d, avg_cfg)):
        cfg = dict(cfg)
        x = np.random.default_rng(0).standard_normal(cfg.pop("input_shape"))
        assert_matches_reference(lambda t, c=cfg, f=fn: f(t, **c),
                                 lambda t, c=cfg, f=tfn: f(t, **c), x,
                                 to_reference=torch.from_numpy)


@given(st.integers(0, 4).flatmap(lambda n: st.tuples(st.just(n), reduction_dims(n))))
def test_reduction_dims_are_valid_and_match_numpy(case):
    ndim, cfg = case
    x = np.arange(float(np.prod(range(2, 2 + ndim)))).reshape(tuple(range(2, 2 + ndim)))
    out = mg.tensor(x).sum(**cfg)
    axis = cfg["dim"]
    if ndim == 0 and axis is not None:
        axis = None
    np.testing.assert_allclose(out.numpy(), np.sum(x, axis=axis, keepdims=cfg["keepdim"]))


@given(st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple).flatmap(
    lambda s: st.tuples(st.just(s), index_expressions(s, advanced=False))))
def test_basic_index_expressions_match_numpy(case):
    shape, index = case
    x = np.arange(float(np.prod(shape))).reshape(shape)
    np.testing.assert_array_equal(mg.tensor(x)[index].numpy(), x[index])


@FEW
@given(st.sampled_from([nn.Linear, nn.Conv2d, nn.BatchNorm2d, nn.ReLU, nn.Tanh, nn.LSTM,
                        nn.MaxPool2d, nn.AvgPool2d]).flatmap(modules))
def test_drawn_modules_pass_check_module(case):
    module, x = case
    check_module(module, x)


@FEW
@given(sequential_models(max_depth=3))
def test_drawn_architectures_chain_and_pass_check_module(case):
    model, x = case
    assert model(x).ndim == 2
    check_module(model, x)


class _WrongGradient(mg.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x  # should be 2 * x


class WrongGradient(nn.Module):
    def forward(self, x):
        return _WrongGradient.apply(x)


class MutatesInput(nn.Module):
    def forward(self, x):
        x.data.mul_(2.0)
        return x * 1.0


class BrokenStateDict(nn.Linear):
    def state_dict(self, *args, **kwargs):
        return {k: v * 0 for k, v in super().state_dict(*args, **kwargs).items()}


@pytest.mark.parametrize("module, expected", [
    (WrongGradient(), "grad"),
    (MutatesInput(), "inputs not mutated"),
    (BrokenStateDict(3, 2), "state_dict"),
])
def test_check_module_names_the_property_that_fails(module, expected):
    x = mg.randn(4, 3, dtype=mg.float64)
    with pytest.raises(ModuleCheckError, match=expected) as info:
        check_module(module, x)
    assert type(module).__name__ in str(info.value)


def test_assert_matches_reference_catches_a_wrong_op():
    x = np.linspace(-1, 1, 5)
    assert_matches_reference(lambda t: t.exp(), np.exp, x)
    with pytest.raises(AssertionError, match="differs from the reference"):
        assert_matches_reference(lambda t: t.exp() + 1e-3, np.exp, x)


def test_assert_close_uses_pytorchs_tolerances():
    torch = pytest.importorskip("torch")
    for a, b in [([1.0], [1.0 + 1e-6]), ([1.0], [1.0 + 1e-4]), ([100.0], [100.0001])]:
        for dtype in (np.float32, np.float64):
            ours = theirs = None
            try:
                assert_close(mg.tensor(np.array(a, dtype)), mg.tensor(np.array(b, dtype)))
            except AssertionError:
                ours = False
            try:
                torch.testing.assert_close(torch.tensor(np.array(a, dtype)),
                                           torch.tensor(np.array(b, dtype)))
            except AssertionError:
                theirs = False
            assert ours == theirs, (a, b, dtype)
    with pytest.raises(AssertionError, match="dtype"):
        assert_close(mg.zeros(2), mg.zeros(2, dtype=mg.float64))
    with pytest.raises(AssertionError, match="shape"):
        assert_close(mg.zeros(2), mg.zeros(3))


@pytest.mark.minigrad_seed(7)
def test_minigrad_seed_fixture_seeds_and_restores(minigrad_seed):
    assert minigrad_seed == 7
    first = mg.rand(3).numpy()
    mg.manual_seed(7)
    np.testing.assert_array_equal(mg.rand(3).numpy(), first)


def test_tensor_mismatch_report_names_shape_worst_element_and_index():
    lines = describe_mismatch(mg.tensor([[1.0, 2.0], [3.0, 4.0]]),
                              mg.tensor([[1.0, 2.0], [3.0, 9.0]]))
    text = "\n".join(lines)
    assert "1 of 4 elements differ" in text and "(1, 1)" in text and "5" in text
    assert "shapes differ" in "\n".join(describe_mismatch(mg.zeros(2), mg.zeros(3)))
