"""The recurrent layer primitives against numerical gradients (float64, hypothesis): every
input, both directions, with and without a mask of present steps, LSTM with and without a
projection, GRU with and without b_hh."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from minigrad.ops.recurrent import GRULayer, LSTMLayer, RNNLayer
from minigrad.tensor import _wrap
from minigrad.testing import arrays, assert_grad_matches_numeric

SETTINGS = settings(max_examples=12, deadline=None)


def masks(steps: int, batch: int) -> st.SearchStrategy[np.ndarray | None]:
    """None, or a packed-sequence mask: sequence b has its first length[b] steps."""
    lengths = st.lists(st.integers(1, steps), min_size=batch, max_size=batch)
    return st.one_of(st.none(), lengths.map(
        lambda ls: np.arange(steps)[:, None] < np.array(sorted(ls, reverse=True))[None, :]))


@SETTINGS
@given(st.integers(1, 3), st.integers(1, 2), st.integers(1, 3), st.booleans(), st.booleans(),
       st.data())
def test_rnn_layer_grad_matches_numeric(steps, batch, size, relu, reverse, data):
    mask = data.draw(masks(steps, batch))
    # for relu, pre-activations stay at least 0.25 from the kink: |gates_x| >= 0.8 while
    # |h W_hh^T| <= 3 * 3.7 * 0.05 < 0.55
    gates_x = data.draw(arrays((steps, batch, size),
                               elements=st.floats(0.8, 3.0).map(float) if relu else None))
    signs = data.draw(arrays((steps, batch, size), elements=st.sampled_from([-1.0, 1.0])))
    h0 = data.draw(arrays((batch, size), min_value=-0.5, max_value=0.5))
    w_hh = data.draw(arrays((size, size), min_value=-0.05 if relu else -1,
                            max_value=0.05 if relu else 1))
    weights = data.draw(arrays((steps, batch, size)))

    def fn(g, h, w):
        return RNNLayer.apply(g, h, w, relu=relu, reverse=reverse, mask=mask) * _wrap(weights)

    assert_grad_matches_numeric(fn, gates_x * signs, h0, w_hh, atol=1e-5)


@SETTINGS
@given(st.integers(1, 3), st.integers(1, 2), st.integers(1, 3), st.booleans(), st.booleans(),
       st.data())
def test_lstm_layer_grad_matches_numeric(steps, batch, size, reverse, project, data):
    mask = data.draw(masks(steps, batch))
    out_size = data.draw(st.integers(1, size)) if project else size
    gates_x = data.draw(arrays((steps, batch, 4 * size)))
    h0 = data.draw(arrays((batch, out_size)))
    c0 = data.draw(arrays((batch, size)))
    w_hh = data.draw(arrays((4 * size, out_size), min_value=-1, max_value=1))
    extra = [data.draw(arrays((out_size, size)))] if project else []
    weights = data.draw(arrays((steps, batch, out_size + size)))

    def fn(g, h, c, w, *projection):
        out = LSTMLayer.apply(g, h, c, w, *projection, reverse=reverse, mask=mask)
        return out * _wrap(weights)

    assert_grad_matches_numeric(fn, gates_x, h0, c0, w_hh, *extra, atol=1e-5)


@SETTINGS
@given(st.integers(1, 3), st.integers(1, 2), st.integers(1, 3), st.booleans(), st.booleans(),
       st.data())
def test_gru_layer_grad_matches_numeric(steps, batch, size, reverse, bias, data):
    mask = data.draw(masks(steps, batch))
    gates_x = data.draw(arrays((steps, batch, 3 * size)))
    h0 = data.draw(arrays((batch, size)))
    w_hh = data.draw(arrays((3 * size, size), min_value=-1, max_value=1))
    extra = [data.draw(arrays((3 * size,)))] if bias else []
    weights = data.draw(arrays((steps, batch, size)))

    def fn(g, h, w, *b):
        out = GRULayer.apply(g, h, w, *b, reverse=reverse, mask=mask)
        return out * _wrap(weights)

    assert_grad_matches_numeric(fn, gates_x, h0, w_hh, *extra, atol=1e-5)


def test_masked_steps_carry_the_state_unchanged():
    rng = np.random.default_rng(0)
    mask = np.array([[True, True], [True, False], [True, False]])

    gates_x, h0, c0 = (_wrap(rng.standard_normal(s)) for s in [(3, 2, 8), (2, 2), (2, 2)])
    w_hh = _wrap(rng.standard_normal((8, 2)))
    out = LSTMLayer.apply(gates_x, h0, c0, w_hh, reverse=False, mask=mask)._data
    np.testing.assert_array_equal(out[1, 1], out[0, 1])
    np.testing.assert_array_equal(out[2, 1], out[0, 1])
    back = LSTMLayer.apply(gates_x, h0, c0, w_hh, reverse=True, mask=mask)._data
    # in reverse, the short sequence starts from h0/c0 at its own last step
    np.testing.assert_array_equal(back[2, 1], np.concatenate([h0._data[1], c0._data[1]]))
    np.testing.assert_array_equal(back[1, 1], back[2, 1])
