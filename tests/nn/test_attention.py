"""scaled_dot_product_attention, MultiheadAttention and the Transformer layers against PyTorch
(same weights, float64): outputs, attention weights, input and parameter gradients, masks."""

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

RNG = np.random.default_rng(0)


def weighting(shape: tuple[int, ...]) -> np.ndarray:
    return np.cos(np.arange(int(np.prod(shape)), dtype=np.float64)).reshape(shape) + 0.5


def copy_weights(ours: nn.Module, theirs: torch.nn.Module) -> None:
    ours.load_state_dict({k: mg.tensor(v.detach().numpy()) for k, v in
                          theirs.state_dict().items()})


def both(*arrays_in: np.ndarray) -> tuple[list, list]:
    return ([mg.tensor(a, requires_grad=True) for a in arrays_in],
            [torch.tensor(a, requires_grad=True) for a in arrays_in])


def assert_outputs_and_grads(ours_out: list, theirs_out: list, ours_in: list, theirs_in: list,
                             ours_module: nn.Module | None = None,
                             theirs_module: torch.nn.Module | None = None) -> None:
    for o, t in zip(ours_out, theirs_out):
        assert (o is None) == (t is None)
        if o is not None:
            assert o.shape == tuple(t.shape)
            np.testing.assert_allclose(o._data, t.detach().numpy(), rtol=1e-9, atol=1e-11)
    ours_loss = sum((o * mg.tensor(weighting(o.shape))).sum() for o in ours_out if o is not None)
    theirs_loss = sum((t * torch.tensor(weighting(tuple(t.shape)))).sum() for t in theirs_out
                      if t is not None)
    ours_loss.backward()
    theirs_loss.backward()
    for o, t in zip(ours_in, theirs_in):
        np.testing.assert_allclose(o.grad._data, t.grad.numpy(), rtol=1e-8, atol=1e-10)
    if ours_module is not None:
        ours_params = dict(ours_module.named_parameters())
        assert list(ours_params) == [n for n, _ in theirs_module.named_parameters()]
        for name, p in theirs_module.named_parameters():
            assert ours_params[name].shape == tuple(p.shape), name
            np.testing.assert_allclose(ours_params[name].grad._data, p.grad.numpy(), rtol=1e-8,
                                       atol=1e-10, err_msg=name)


# ------------------------------------------------------------------ scaled dot product


@pytest.mark.parametrize("case", ["plain", "bool", "float", "causal", "scale", "broadcast"])
def test_sdpa_matches_torch(case):
    q, k, v = RNG.standard_normal((2, 3, 4, 5)), RNG.standard_normal((2, 3, 6, 5)), \
        RNG.standard_normal((2, 3, 6, 2))
    ours_in, theirs_in = both(q, k, v)
    kwargs: dict = {}
    mask = None
    if case == "bool":
        mask = RNG.random((4, 6)) > 0.3
        mask[:, 0] = True
    elif case == "float":
        mask = RNG.standard_normal((2, 1, 4, 6))
    elif case == "causal":
        kwargs["is_causal"] = True
    elif case == "scale":
        kwargs["scale"] = 0.3
    ours = F.scaled_dot_product_attention(*ours_in, attn_mask=None if mask is None else
                                          mg.tensor(mask), **kwargs)
    theirs = TF.scaled_dot_product_attention(*theirs_in, attn_mask=None if mask is None else
                                             torch.tensor(mask), **kwargs)
    assert_outputs_and_grads([ours], [theirs], ours_in, theirs_in)


def test_sdpa_grouped_query_attention_and_fully_masked_rows_match_torch():
    q, k, v = RNG.standard_normal((1, 4, 3, 2)), RNG.standard_normal((1, 2, 5, 2)), \
        RNG.standard_normal((1, 2, 5, 3))
    mask = np.ones((3, 5), dtype=bool)
    mask[1] = False  # a query that may look at nothing gives zeros, not NaN
    ours_in, theirs_in = both(q, k, v)
    ours = F.scaled_dot_product_attention(*ours_in, attn_mask=mg.tensor(mask), enable_gqa=True)
    theirs = TF.scaled_dot_product_attention(*theirs_in, attn_mask=torch.tensor(mask),
                                             enable_gqa=True)
    assert not ours._data[:, :, 1].any()
    assert_outputs_and_grads([ours], [theirs], ours_in, theirs_in)


def test_sdpa_dropout_drops_attention_weights():
    mg.manual_seed(0)
    q = mg.tensor(RNG.standard_normal((1, 1, 200, 4)))
    v = mg.ones(1, 1, 7, 1, dtype=mg.float64)
    out = F.scaled_dot_product_attention(q, mg.tensor(RNG.standard_normal((1, 1, 7, 4))), v,
                                         dropout_p=0.5)
    # rows of weights summed to 1 before dropout: now they average 1 but vary
    assert abs(out._data.mean() - 1) < 0.1 and out._data.std() > 0.1


@settings(max_examples=10, deadline=None)
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.booleans(), st.data())
def test_sdpa_grad_matches_numeric(length, source, dim, causal, data):
    q = data.draw(arrays((2, length, dim)))
    k = data.draw(arrays((2, max(source, length), dim)))
    v = data.draw(arrays((2, max(source, length), 2)))
    assert_grad_matches_numeric(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=causal), q, k, v)


# ------------------------------------------------------------------ multi-head attention


MHA_CASES = [
    dict(),
    dict(kdim=3, vdim=5),
    dict(add_bias_kv=True, add_zero_attn=True),
    dict(bias=False, batch_first=True),
]


@pytest.mark.parametrize("kwargs", MHA_CASES)
@pytest.mark.parametrize("need_weights, average", [(True, True), (True, False), (False, True)])
def test_multihead_attention_with_masks_matches_torch(kwargs, need_weights, average):
    torch.manual_seed(0)
    theirs = torch.nn.MultiheadAttention(8, 2, **kwargs).double()
    ours = nn.MultiheadAttention(8, 2, **kwargs, dtype=np.float64)
    copy_weights(ours, theirs)
    batch_first = kwargs.get("batch_first", False)
    length, source, batch = 3, 4, 2

    def shape(n: int, features: int) -> tuple[int, int, int]:
        return (batch, n, features) if batch_first else (n, batch, features)

    q = RNG.standard_normal(shape(length, 8))
    k = RNG.standard_normal(shape(source, kwargs.get("kdim", 8)))
    v = RNG.standard_normal(shape(source, kwargs.get("vdim", 8)))
    padding = np.zeros((batch, source), dtype=bool)
    padding[1, -1] = True
    attn_mask = np.zeros((length, source), dtype=bool)
    attn_mask[0, 1] = True
    ours_in, theirs_in = both(q, k, v)
    options = dict(need_weights=need_weights, average_attn_weights=average)
    ours_out = ours(*ours_in, key_padding_mask=mg.tensor(padding),
                    attn_mask=mg.tensor(attn_mask), **options)
    theirs_out = theirs(*theirs_in, key_padding_mask=torch.tensor(padding),
                        attn_mask=torch.tensor(attn_mask), **options)
    assert_outputs_and_grads(list(ours_out), list(theirs_out), ours_in, theirs_in, ours,
                             theirs)


def test_multihead_self_attention_float_3d_mask_and_unbatched_input_match_torch():
    torch.manual_seed(1)
    theirs = torch.nn.MultiheadAttention(6, 3).double()
    ours = nn.MultiheadAttention(6, 3, dtype=np.float64)
    copy_weights(ours, theirs)
    x = RNG.standard_normal((4, 6))
    mask = RNG.standard_normal((3, 4, 4))
    (ours_x,), (theirs_x,) = both(x)
    ours_out = ours(ours_x, ours_x, ours_x, attn_mask=mg.tensor(mask))
    theirs_out = theirs(theirs_x, theirs_x, theirs_x, attn_mask=torch.tensor(mask))
    assert_outputs_and_grads(list(ours_out), list(theirs_out), [ours_x], [theirs_x], ours,
                             theirs)


def test_multihead_attention_init_repr_and_errors():
    mg.manual_seed(0)
    mha = nn.MultiheadAttention(16, 4, add_bias_kv=True)
    theirs = torch.nn.MultiheadAttention(16, 4, add_bias_kv=True)
    assert repr(mha) == repr(theirs)
    assert [(n, p.shape) for n, p in mha.named_parameters()] == [
        (n, tuple(p.shape)) for n, p in theirs.named_parameters()]
    bound = np.sqrt(6 / (16 + 48))  # xavier_uniform_ of the (3E, E) in_proj_weight
    weights = mha.in_proj_weight._data
    assert np.abs(weights).max() <= bound and np.abs(weights).max() > 0.9 * bound
    assert not mha.in_proj_bias._data.any() and not mha.out_proj.bias._data.any()
    with pytest.raises(ValueError, match="divisible by num_heads"):
        nn.MultiheadAttention(10, 3)
    with pytest.raises(RuntimeError, match="Need attn_mask|need attn_mask"):
        x = mg.randn(2, 1, 16)
        mha(x, x, x, is_causal=True)
    with pytest.raises(RuntimeError, match="shape of the 2D attn_mask"):
        x = mg.randn(2, 1, 16)
        mha(x, x, x, attn_mask=mg.zeros(3, 3))


# ------------------------------------------------------------------ transformer


@pytest.mark.parametrize("kwargs", [dict(), dict(norm_first=True, batch_first=True),
                                    dict(activation="gelu", bias=False)])
def test_transformer_encoder_matches_torch(kwargs):
    torch.manual_seed(0)
    layer = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, **kwargs)
    theirs = torch.nn.TransformerEncoder(layer, 2, norm=torch.nn.LayerNorm(8),
                                         enable_nested_tensor=False).double()
    ours = nn.TransformerEncoder(
        nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, **kwargs, dtype=np.float64), 2,
        norm=nn.LayerNorm(8, dtype=np.float64))
    copy_weights(ours, theirs)
    x = RNG.standard_normal((3, 4, 8))
    size = 4 if kwargs.get("batch_first") else 3
    mask = torch.nn.Transformer.generate_square_subsequent_mask(size, dtype=torch.float64)
    ours_mask = nn.Transformer.generate_square_subsequent_mask(size, dtype=np.float64)
    np.testing.assert_array_equal(ours_mask._data, mask.numpy())
    padding = np.zeros((3 if kwargs.get("batch_first") else 4, size), dtype=bool)
    padding[0, -1] = True
    (ours_x,), (theirs_x,) = both(x)
    ours_out = ours(ours_x, mask=ours_mask, src_key_padding_mask=mg.tensor(padding))
    theirs_out = theirs(theirs_x, mask=mask, src_key_padding_mask=torch.tensor(padding))
    assert_outputs_and_grads([ours_out], [theirs_out], [ours_x], [theirs_x], ours, theirs)


def test_transformer_matches_torch():
    torch.manual_seed(1)
    theirs = torch.nn.Transformer(8, 2, 1, 2, 16, dropout=0.0, norm_first=True).double()
    ours = nn.Transformer(8, 2, 1, 2, 16, dropout=0.0, norm_first=True, dtype=np.float64)
    copy_weights(ours, theirs)
    src, tgt = RNG.standard_normal((5, 2, 8)), RNG.standard_normal((3, 2, 8))
    tgt_mask = torch.nn.Transformer.generate_square_subsequent_mask(3, dtype=torch.float64)
    memory_padding = np.zeros((2, 5), dtype=bool)
    memory_padding[1, 3:] = True
    ours_in, theirs_in = both(src, tgt)
    ours_out = ours(*ours_in, tgt_mask=mg.tensor(tgt_mask.numpy()),
                    memory_key_padding_mask=mg.tensor(memory_padding))
    theirs_out = theirs(*theirs_in, tgt_mask=tgt_mask,
                        memory_key_padding_mask=torch.tensor(memory_padding))
    assert_outputs_and_grads([ours_out], [theirs_out], ours_in, theirs_in, ours, theirs)


def test_transformer_layer_repr_and_independent_clones():
    layer = nn.TransformerEncoderLayer(8, 2, 16)
    assert repr(layer) == repr(torch.nn.TransformerEncoderLayer(8, 2, 16))
    encoder = nn.TransformerEncoder(layer, 2)
    first, second = encoder.layers[0].linear1.weight, encoder.layers[1].linear1.weight
    assert first is not second and first is not layer.linear1.weight
    np.testing.assert_array_equal(first._data, second._data)
    with pytest.raises(RuntimeError, match="activation should be relu/gelu"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")


def test_encoder_inference_zeros_padded_positions_where_torch_takes_its_nested_path():
    torch.manual_seed(2)
    layer = torch.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True)
    theirs = torch.nn.TransformerEncoder(layer, 2).eval()
    ours = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), 2)
    ours.eval()
    copy_weights(ours, theirs)
    x = RNG.standard_normal((2, 4, 8)).astype(np.float32)
    padding = np.zeros((2, 4), dtype=bool)
    padding[0, 2:] = True
    cases = [(True, padding), (False, padding), (True, np.flip(padding, 1).copy())]
    for no_grad, mask in cases:
        with torch.no_grad() if no_grad else torch.enable_grad():
            expected = theirs(torch.tensor(x), src_key_padding_mask=torch.tensor(mask))
        with mg.no_grad() if no_grad else mg.enable_grad():
            got = ours(mg.tensor(x), src_key_padding_mask=mg.tensor(mask))
        np.testing.assert_allclose(got._data, expected.detach().numpy(), rtol=1e-4, atol=1e-5)
        # zeros only on the nested path: no gradient needed and the padding at the end
        assert (not got._data[0, 2:].any()) == (no_grad and mask is padding)
    with pytest.warns(UserWarning, match="use_nested_tensor is False because"):
        nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 1)
