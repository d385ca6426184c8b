"""RNN, LSTM, GRU and their cells against PyTorch (same weights through load_state_dict,
float64): outputs, final states, input/state gradients and every parameter gradient; plus
numerical gradients of a small LSTM, initialisation, repr and errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
import nn
from minigrad.gradcheck import gradcheck

torch = pytest.importorskip("torch")


def copy_weights(ours: nn.Module, theirs: torch.nn.Module) -> None:
    ours.load_state_dict({k: mg.tensor(v.detach().numpy()) for k, v in
                          theirs.state_dict().items()})


def weighting(shape: tuple[int, ...]) -> np.ndarray:
    """Fixed, uneven output weights so every output element matters to the loss."""
    return np.cos(np.arange(int(np.prod(shape)), dtype=np.float64)).reshape(shape) + 0.5


def loss_pair(ours: list, theirs: list) -> tuple:
    ours_loss = sum((o * mg.tensor(weighting(o.shape))).sum() for o in ours)
    theirs_loss = sum((t * torch.tensor(weighting(tuple(t.shape)))).sum() for t in theirs)
    return ours_loss, theirs_loss


def flat(out: object) -> list:
    if isinstance(out, (tuple, list)):
        return [x for item in out for x in flat(item)]
    return [out]


def assert_same(ours: list, theirs: list, atol: float = 1e-11) -> None:
    assert len(ours) == len(theirs)
    for o, t in zip(ours, theirs):
        assert o.shape == tuple(t.shape)
        np.testing.assert_allclose(o._data, t.detach().numpy(), rtol=1e-9, atol=atol)


def compare(cls_name: str, kwargs: dict, input_shape: tuple, state_shapes: list | None,
            seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    theirs = getattr(torch.nn, cls_name)(**kwargs).double()
    ours = getattr(nn, cls_name)(**kwargs, dtype=np.float64)
    copy_weights(ours, theirs)
    x = rng.standard_normal(input_shape)
    ours_in = [mg.tensor(x, requires_grad=True)]
    theirs_in = [torch.tensor(x, requires_grad=True)]
    ours_args, theirs_args = [ours_in[0]], [theirs_in[0]]
    if state_shapes is not None:
        states = [rng.standard_normal(s) for s in state_shapes]
        ours_states = [mg.tensor(s, requires_grad=True) for s in states]
        theirs_states = [torch.tensor(s, requires_grad=True) for s in states]
        ours_in += ours_states
        theirs_in += theirs_states
        pack = tuple if len(states) == 2 else (lambda s: s[0])
        ours_args.append(pack(ours_states))
        theirs_args.append(pack(theirs_states))
    ours_out, theirs_out = flat(ours(*ours_args)), flat(theirs(*theirs_args))
    assert_same(ours_out, theirs_out)
    ours_loss, theirs_loss = loss_pair(ours_out, theirs_out)
    ours_loss.backward()
    theirs_loss.backward()
    assert_same([t.grad for t in ours_in], [t.grad for t in theirs_in], atol=1e-10)
    ours_params = dict(ours.named_parameters())
    assert list(ours_params) == [n for n, _ in theirs.named_parameters()]
    for name, p in theirs.named_parameters():
        assert ours_params[name].shape == tuple(p.shape), name
        np.testing.assert_allclose(ours_params[name].grad._data, p.grad.numpy(), rtol=1e-9,
                                   atol=1e-10, err_msg=name)


def test_bidirectional_two_layer_lstm_with_projection_and_initial_states_matches_torch():
    kwargs = dict(input_size=4, hidden_size=6, num_layers=2, bidirectional=True, proj_size=3)
    compare("LSTM", kwargs, (5, 3, 4), [(4, 3, 3), (4, 3, 6)])


def test_lstm_batch_first_without_bias_matches_torch():
    compare("LSTM", dict(input_size=3, hidden_size=5, bias=False, batch_first=True),
            (2, 4, 3), None)


def test_gru_batch_first_with_initial_state_matches_torch():
    kwargs = dict(input_size=4, hidden_size=5, num_layers=2, batch_first=True)
    compare("GRU", kwargs, (3, 6, 4), [(2, 3, 5)])


def test_bidirectional_gru_matches_torch():
    compare("GRU", dict(input_size=3, hidden_size=4, bidirectional=True), (4, 2, 3),
            [(2, 2, 4)])


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_matches_torch(nonlinearity):
    kwargs = dict(input_size=3, hidden_size=4, num_layers=2, nonlinearity=nonlinearity,
                  bidirectional=True)
    compare("RNN", kwargs, (5, 2, 3), [(4, 2, 4)], seed=1)


@pytest.mark.parametrize("name, states", [("LSTM", [(2, 4), (2, 4)]), ("GRU", [(2, 4)]),
                                          ("RNN", None)])
def test_unbatched_input_matches_torch(name, states):
    compare(name, dict(input_size=3, hidden_size=4, bidirectional=True), (5, 3), states)


@pytest.mark.parametrize("name, states", [("LSTMCell", [(3, 4), (3, 4)]), ("GRUCell", [(3, 4)]),
                                          ("RNNCell", [(3, 4)])])
def test_cells_match_torch(name, states):
    compare(name, dict(input_size=5, hidden_size=4), (3, 5), states)


def test_cells_unbatched_and_without_state_match_torch():
    compare("RNNCell", dict(input_size=5, hidden_size=4, nonlinearity="relu", bias=False), (5,),
            [(4,)])
    compare("LSTMCell", dict(input_size=5, hidden_size=4), (2, 5), None)
    compare("GRUCell", dict(input_size=5, hidden_size=4), (5,), None)


def test_small_lstm_gradients_match_numerical_ones():
    mg.manual_seed(0)
    lstm = nn.LSTM(2, 2, num_layers=2, bidirectional=True, proj_size=1, dtype=np.float64)
    x = mg.tensor(np.random.default_rng(0).standard_normal((2, 1, 2)), requires_grad=True)
    h0 = mg.tensor(np.random.default_rng(1).standard_normal((4, 1, 1)), requires_grad=True)
    c0 = mg.tensor(np.random.default_rng(2).standard_normal((4, 1, 2)), requires_grad=True)
    params = list(lstm.parameters())

    def fn(x, h0, c0, *weights):
        out, (h, c) = lstm(x, (h0, c0))
        return (out * out).sum() + h.sum() + (c * c).sum()

    assert gradcheck(fn, [x, h0, c0, *params], eps=1e-6, atol=1e-6, rtol=1e-4)


def test_gru_gradients_match_numerical_ones():
    mg.manual_seed(1)
    gru = nn.GRU(2, 3, batch_first=True, dtype=np.float64)
    x = mg.tensor(np.random.default_rng(3).standard_normal((2, 3, 2)), requires_grad=True)

    def fn(x, *weights):
        out, h = gru(x)
        return (out * out).sum() + h.sum()

    assert gradcheck(fn, [x, *gru.parameters()], eps=1e-6, atol=1e-6, rtol=1e-4)


def test_dropout_between_layers_only_while_training():
    mg.manual_seed(0)
    lstm = nn.LSTM(3, 4, num_layers=2, dropout=0.5, dtype=np.float64)
    x = mg.tensor(np.random.default_rng(0).standard_normal((4, 2, 3)))
    lstm.eval()
    first = lstm(x)[0]._data
    np.testing.assert_array_equal(lstm(x)[0]._data, first)
    lstm.train()
    trained = [lstm(x)[0]._data for _ in range(3)]
    assert not np.allclose(trained[0], trained[1])
    assert not np.allclose(trained[0], first)
    # the first layer's outputs are not dropped: a one-layer LSTM has nothing to drop
    single = nn.LSTM(3, 4, dtype=np.float64)
    np.testing.assert_array_equal(single(x)[0]._data, single.eval()(x)[0]._data)


def test_dropout_between_layers_matches_torch_in_eval_mode():
    torch.manual_seed(0)
    theirs = torch.nn.GRU(3, 4, num_layers=3, dropout=0.3).double().eval()
    ours = nn.GRU(3, 4, num_layers=3, dropout=0.3, dtype=np.float64).eval()
    copy_weights(ours, theirs)
    x = np.random.default_rng(0).standard_normal((4, 2, 3))
    assert_same(flat(ours(mg.tensor(x))), flat(theirs(torch.tensor(x))))


@pytest.mark.parametrize("cls", [nn.LSTM, nn.GRU, nn.RNN])
def test_parameter_names_shapes_and_init_bounds(cls):
    kwargs = dict(num_layers=2, bidirectional=True)
    ours = cls(5, 16, **kwargs)
    theirs = getattr(torch.nn, cls.__name__)(5, 16, **kwargs)
    assert [(n, p.shape) for n, p in ours.named_parameters()] == [
        (n, tuple(p.shape)) for n, p in theirs.named_parameters()]
    bound = 1 / math.sqrt(16)
    values = np.concatenate([p._data.ravel() for p in ours.parameters()])
    assert values.dtype == np.float32
    assert np.abs(values).max() <= bound
    assert np.abs(values).max() > 0.9 * bound  # U(-bound, bound), not something narrower
    assert abs(values.mean()) < 0.02
    assert [[p.shape for p in layer] for layer in ours.all_weights] == [
        [tuple(p.shape) for p in layer] for layer in theirs.all_weights]


def test_reprs_match_torch():
    cases = [
        ("LSTM", (3, 4), dict(proj_size=2, num_layers=2, bias=False, batch_first=True,
                              dropout=0.5, bidirectional=True)),
        ("GRU", (3, 4), {}),
        ("RNN", (3, 4, 2, "relu"), {}),
        ("RNNCell", (3, 4), dict(bias=False, nonlinearity="relu")),
        ("LSTMCell", (3, 4), {}),
        ("GRUCell", (3, 4), dict(bias=False)),
    ]
    for name, args, kwargs in cases:
        assert repr(getattr(nn, name)(*args, **kwargs)) == repr(
            getattr(torch.nn, name)(*args, **kwargs))


def test_float32_default_dtype_and_output_shapes():
    lstm = nn.LSTM(3, 5, num_layers=2, bidirectional=True, batch_first=True, proj_size=2)
    out, (h, c) = lstm(mg.randn(4, 7, 3))
    assert out.shape == (4, 7, 4) and out.dtype == np.float32
    assert h.shape == (4, 4, 2) and c.shape == (4, 4, 5)


def test_bad_arguments_raise_like_torch():
    with pytest.raises(ValueError, match="proj_size has to be smaller"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="only supported for LSTM"):
        nn.GRU(3, 4, proj_size=2)
    with pytest.raises(ValueError, match="Unknown nonlinearity"):
        nn.RNN(3, 4, nonlinearity="gelu")
    with pytest.raises(ValueError, match="dropout should be a number"):
        nn.LSTM(3, 4, dropout=1.5)
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.LSTM(3, 4, dropout=0.2)
    lstm = nn.LSTM(3, 4)
    with pytest.raises(ValueError, match="Expected input to be 2D or 3D"):
        lstm(mg.randn(1, 2, 3, 3))
    with pytest.raises(RuntimeError, match="input.size\\(-1\\) must be equal to input_size"):
        lstm(mg.randn(2, 2, 5))
    expected = r"Expected hidden\[0\] size \(1, 2, 4\), got \[1, 3, 4\]"
    with pytest.raises(RuntimeError, match=expected):
        lstm(mg.randn(2, 2, 3), (mg.zeros(1, 3, 4), mg.zeros(1, 2, 4)))
    with pytest.raises(ValueError, match="does not match weight dtype"):
        lstm(mg.randn(2, 2, 3).double())
    with pytest.raises(RuntimeError, match="hx should also be 2-D"):
        nn.GRU(3, 4)(mg.randn(2, 3), mg.zeros(1, 1, 4))


@pytest.mark.parametrize("name, kwargs, with_state", [
    ("LSTM", dict(num_layers=2, bidirectional=True, proj_size=2), True),
    ("GRU", dict(bidirectional=True), False),
    ("RNN", dict(num_layers=2, nonlinearity="relu"), True),
])
def test_packed_sequences_match_torch(name, kwargs, with_state):
    from nn.utils.rnn import pack_padded_sequence

    rng = np.random.default_rng(4)
    torch.manual_seed(4)
    theirs = getattr(torch.nn, name)(3, 4, **kwargs).double()
    ours = getattr(nn, name)(3, 4, **kwargs, dtype=np.float64)
    copy_weights(ours, theirs)
    lengths = [2, 5, 3, 5]
    padded = rng.standard_normal((5, 4, 3))
    ours_x, theirs_x = mg.tensor(padded, requires_grad=True), torch.tensor(padded,
                                                                           requires_grad=True)
    ours_in, theirs_in = [ours_x], [theirs_x]
    ours_args, theirs_args = [], []
    if with_state:
        layers = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
        shapes = [(layers, 4, kwargs.get("proj_size", 4))]
        if name == "LSTM":
            shapes.append((layers, 4, 4))
        states = [rng.standard_normal(s) for s in shapes]
        ours_states = [mg.tensor(s, requires_grad=True) for s in states]
        theirs_states = [torch.tensor(s, requires_grad=True) for s in states]
        ours_in += ours_states
        theirs_in += theirs_states
        ours_args = [tuple(ours_states) if name == "LSTM" else ours_states[0]]
        theirs_args = [tuple(theirs_states) if name == "LSTM" else theirs_states[0]]
    ours_packed = pack_padded_sequence(ours_x, lengths, enforce_sorted=False)
    theirs_packed = torch.nn.utils.rnn.pack_padded_sequence(theirs_x, lengths,
                                                            enforce_sorted=False)
    ours_out, ours_state = ours(ours_packed, *ours_args)
    theirs_out, theirs_state = theirs(theirs_packed, *theirs_args)
    np.testing.assert_array_equal(ours_out.batch_sizes._data, theirs_out.batch_sizes.numpy())
    ours_flat = [ours_out.data, *flat(ours_state)]
    theirs_flat = [theirs_out.data, *flat(theirs_state)]
    assert_same(ours_flat, theirs_flat)
    ours_loss, theirs_loss = loss_pair(ours_flat, theirs_flat)
    ours_loss.backward()
    theirs_loss.backward()
    assert_same([t.grad for t in ours_in], [t.grad for t in theirs_in], atol=1e-10)
    ours_params = dict(ours.named_parameters())
    for pname, p in theirs.named_parameters():
        np.testing.assert_allclose(ours_params[pname].grad._data, p.grad.numpy(), rtol=1e-9,
                                   atol=1e-10, err_msg=pname)
