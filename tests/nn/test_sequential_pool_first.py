"""nn.Sequential runs a ReLU that a max-pool follows after the pool (container.POOL_BEFORE_RELU):
the outputs and the gradients must be those of the modules in their written order."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import nn
from nn import container


def _in_written_order(seq, x):
    for module in seq:
        x = module(x)
    return x


def _run(seq, data, pool_first):
    previous = container.POOL_BEFORE_RELU
    container.POOL_BEFORE_RELU = pool_first
    try:
        x = mg.tensor(data, requires_grad=True)
        out = seq(x) if pool_first else _in_written_order(seq, x)
        weights = mg.tensor(np.random.default_rng(1).standard_normal(out.shape))
        (out * weights).sum().backward()
        grads = [p.grad._data.copy() for p in seq.parameters()]
        for p in seq.parameters():
            p.grad = None
        return out._data, x.grad._data, grads
    finally:
        container.POOL_BEFORE_RELU = previous


SPECIAL = [0.0, -0.0, 1.0, -1.0, np.nan, np.inf, -np.inf, 2.0]


@settings(deadline=None, max_examples=30)
@given(dims=st.sampled_from([1, 2, 3]), kernel=st.integers(1, 3), stride=st.integers(1, 3),
       padding=st.integers(0, 1), ceil=st.booleans(), inplace=st.booleans(),
       seed=st.integers(0, 2**16), special=st.booleans())
def test_pool_first_is_the_written_order_bit_for_bit(dims, kernel, stride, padding, ceil,
                                                     inplace, seed, special):
    padding = min(padding, kernel // 2)
    inplace = inplace and dims == 2  # (an in-place change of Conv1d/3d's output view raises)
    rng = np.random.default_rng(seed)
    conv = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}[dims](3, 3, 1, groups=3).double()
    pool = {1: nn.MaxPool1d, 2: nn.MaxPool2d, 3: nn.MaxPool3d}[dims](
        kernel, stride, padding, ceil_mode=ceil)
    seq = nn.Sequential(conv, nn.ReLU(inplace=inplace), pool, nn.Flatten())
    shape = (2, 3) + (5,) * dims
    data = rng.standard_normal(shape)
    if special:  # ties, zeros, infinities and NaN in the conv's output: it copies its input
        conv.weight._data[...] = 1
        conv.bias._data[...] = 0
        data = rng.choice(np.array(SPECIAL), size=shape)
    ours = _run(seq, data, True)
    written = _run(seq, data, False)
    np.testing.assert_array_equal(ours[0], written[0])
    np.testing.assert_array_equal(ours[1], written[1])
    for a, b in zip(ours[2], written[2]):
        np.testing.assert_array_equal(a, b)


def test_pool_first_runs_the_relu_last():
    seq = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2))
    out = seq(mg.randn(1, 1, 6, 6, requires_grad=True))
    assert "Relu" in out.grad_fn.name()
    assert "Pool" in out.grad_fn.next_functions[0][0].name()


@pytest.mark.parametrize("case", ["hook", "inplace_first", "indices", "subclass", "patched"])
def test_written_order_kept_where_the_swap_could_be_seen(case):
    calls = []
    relu, pool = nn.ReLU(), nn.MaxPool2d(2)
    modules = [nn.Conv2d(1, 2, 3), relu, pool]
    if case == "hook":
        pool.register_forward_hook(lambda m, args, out: calls.append(args[0]._data.min()))
    elif case == "inplace_first":
        modules = [nn.ReLU(inplace=True), pool]
    elif case == "indices":
        modules[2] = nn.MaxPool2d(2, return_indices=True)
    elif case == "patched":
        original = pool.forward
        pool.forward = lambda x: calls.append(x._data.min()) or original(x)
    else:
        class MyReLU(nn.ReLU):
            pass
        modules[1] = MyReLU()
    seq = nn.Sequential(*modules)
    x = mg.randn(1, 1, 6, 6)
    before = x._data.copy()
    out = seq(x)
    if case in ("hook", "patched"):
        assert calls[0] >= 0  # the pool saw the ReLU's output
    elif case == "inplace_first":
        np.testing.assert_array_equal(x._data, np.maximum(before, 0))  # the input changed
    elif case == "indices":
        assert isinstance(out, tuple)
    else:
        assert container._pool_first(list(seq), 1) is False
