"""Embedding and EmbeddingBag against PyTorch (values and weight gradients, float64):
padding_idx, max_norm renormalisation in place, scale_grad_by_freq, from_pretrained, bag modes,
offsets, per_sample_weights; numerical gradients of the bag primitive; errors."""

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


def pair(ours: nn.Module, theirs: torch.nn.Module) -> None:
    with torch.no_grad():
        theirs.weight.copy_(torch.randn_like(theirs.weight))
    ours.load_state_dict({"weight": mg.tensor(theirs.weight.detach().numpy())})


def check(ours_out, theirs_out, ours: nn.Module, theirs: torch.nn.Module) -> None:
    np.testing.assert_allclose(ours_out._data, theirs_out.detach().numpy(), rtol=1e-12,
                               atol=1e-12)
    (ours_out * mg.tensor(weighting(ours_out.shape))).sum().backward()
    (theirs_out * torch.tensor(weighting(tuple(theirs_out.shape)))).sum().backward()
    np.testing.assert_allclose(ours.weight.grad._data, theirs.weight.grad.numpy(), rtol=1e-12,
                               atol=1e-12)


@pytest.mark.parametrize("kwargs", [{}, dict(padding_idx=2), dict(padding_idx=-1),
                                    dict(scale_grad_by_freq=True, padding_idx=0)])
def test_embedding_matches_torch(kwargs):
    theirs = torch.nn.Embedding(6, 3, **kwargs).double()
    ours = nn.Embedding(6, 3, **kwargs, dtype=np.float64)
    pair(ours, theirs)
    index = RNG.integers(0, 6, (4, 5))
    check(ours(mg.tensor(index)), theirs(torch.tensor(index)), ours, theirs)
    if "padding_idx" in kwargs:
        assert not ours.weight.grad._data[ours.padding_idx].any()


def test_embedding_init_zeroes_padding_row_and_is_standard_normal():
    mg.manual_seed(0)
    embedding = nn.Embedding(2000, 8, padding_idx=3)
    weight = embedding.weight._data
    assert weight.dtype == np.float32 and embedding.padding_idx == 3
    assert not weight[3].any()
    assert abs(weight.mean()) < 0.02 and abs(weight.std() - 1) < 0.02


@pytest.mark.parametrize("norm_type", [2.0, 1.0])
def test_max_norm_renormalises_the_looked_up_rows_in_place_like_torch(norm_type):
    theirs = torch.nn.Embedding(6, 4, max_norm=1.5, norm_type=norm_type).double()
    ours = nn.Embedding(6, 4, max_norm=1.5, norm_type=norm_type, dtype=np.float64)
    pair(ours, theirs)
    index = np.array([[0, 2, 2], [5, 0, 1]])
    version = ours.weight._version.value
    check(ours(mg.tensor(index)), theirs(torch.tensor(index)), ours, theirs)
    np.testing.assert_allclose(ours.weight._data, theirs.weight.detach().numpy(), rtol=1e-12)
    assert ours.weight._version.value > version
    untouched = [3, 4]
    norms = np.linalg.norm(ours.weight._data[[0, 1, 2, 5]], ord=norm_type, axis=1)
    assert np.all(norms <= 1.5 + 1e-6)
    assert np.linalg.norm(ours.weight._data[untouched], ord=norm_type, axis=1).max() > 0


def test_from_pretrained_shares_the_weight_and_freezes_by_default():
    table = mg.tensor(RNG.standard_normal((4, 3)))
    frozen = nn.Embedding.from_pretrained(table)
    assert not frozen.weight.requires_grad
    np.testing.assert_array_equal(frozen(mg.tensor([1, 3]))._data, table._data[[1, 3]])
    trainable = nn.Embedding.from_pretrained(table, freeze=False, padding_idx=1)
    assert trainable.weight.requires_grad
    np.testing.assert_array_equal(trainable.weight._data[1], table._data[1])  # not zeroed
    bag = nn.EmbeddingBag.from_pretrained(table, mode="sum")
    np.testing.assert_allclose(bag(mg.tensor([[0, 1]]))._data, table._data[[0]] +
                               table._data[[1]])
    assert not bag.weight.requires_grad


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("padding_idx", [None, 1])
def test_embedding_bag_2d_input_matches_torch(mode, padding_idx):
    theirs = torch.nn.EmbeddingBag(6, 3, mode=mode, padding_idx=padding_idx).double()
    ours = nn.EmbeddingBag(6, 3, mode=mode, padding_idx=padding_idx, dtype=np.float64)
    pair(ours, theirs)
    index = np.array([[0, 1, 2, 1], [3, 3, 5, 0], [1, 1, 1, 1]])
    check(ours(mg.tensor(index)), theirs(torch.tensor(index)), ours, theirs)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("include_last_offset", [False, True])
def test_embedding_bag_offsets_with_empty_bags_match_torch(mode, include_last_offset):
    theirs = torch.nn.EmbeddingBag(7, 3, mode=mode, include_last_offset=include_last_offset,
                                   padding_idx=6).double()
    ours = nn.EmbeddingBag(7, 3, mode=mode, include_last_offset=include_last_offset,
                           padding_idx=6, dtype=np.float64)
    pair(ours, theirs)
    index = np.array([4, 2, 2, 6, 0, 1, 5, 6, 3])
    offsets = np.array([0, 3, 3, 5, 7, 9]) if include_last_offset else np.array([0, 3, 3, 5, 7])
    check(ours(mg.tensor(index), mg.tensor(offsets)),
          theirs(torch.tensor(index), torch.tensor(offsets)), ours, theirs)


def test_embedding_bag_per_sample_weights_match_torch():
    theirs = torch.nn.EmbeddingBag(5, 4, mode="sum").double()
    ours = nn.EmbeddingBag(5, 4, mode="sum", dtype=np.float64)
    pair(ours, theirs)
    index, offsets = np.array([1, 2, 4, 4, 0, 1]), np.array([0, 2])
    psw = RNG.standard_normal(6)
    ours_w, theirs_w = mg.tensor(psw, requires_grad=True), torch.tensor(psw, requires_grad=True)
    check(ours(mg.tensor(index), mg.tensor(offsets), ours_w),
          theirs(torch.tensor(index), torch.tensor(offsets), per_sample_weights=theirs_w),
          ours, theirs)
    np.testing.assert_allclose(ours_w.grad._data, theirs_w.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("mode", ["sum", "mean"])
def test_bag_frequency_scaling_matches_torch_embedding_reduced_per_bag(mode):
    """scale_grad_by_freq divides each row's gradient by how often the row occurs in the
    batch, as F.embedding does. (PyTorch 2.13's CPU embedding_bag applies the counts to the
    wrong rows, e.g. index [0, 1, 1, 2, 4, 4] halves row 2 and leaves row 4 unscaled, so the
    reference is torch's embedding followed by the bag reduction.)"""
    weight = RNG.standard_normal((5, 3))
    index = np.array([[0, 4, 4], [2, 4, 1]])
    psw = RNG.standard_normal(index.shape) if mode == "sum" else None
    ours_w, theirs_w = mg.tensor(weight, requires_grad=True), torch.tensor(weight,
                                                                           requires_grad=True)
    ours = F.embedding_bag(mg.tensor(index), ours_w, scale_grad_by_freq=True, mode=mode,
                           per_sample_weights=None if psw is None else mg.tensor(psw))
    rows = TF.embedding(torch.tensor(index), theirs_w, scale_grad_by_freq=True)
    theirs = rows.mean(1) if mode == "mean" else (rows * torch.tensor(psw)[..., None]).sum(1)
    ours = ours + F.embedding(mg.tensor(index[:, 0]), ours_w, scale_grad_by_freq=True)
    theirs = theirs + TF.embedding(torch.tensor(index[:, 0]), theirs_w, scale_grad_by_freq=True)
    np.testing.assert_allclose(ours._data, theirs.detach().numpy(), rtol=1e-12)
    (ours * mg.tensor(weighting(ours.shape))).sum().backward()
    (theirs * torch.tensor(weighting(tuple(theirs.shape)))).sum().backward()
    np.testing.assert_allclose(ours_w.grad._data, theirs_w.grad.numpy(), rtol=1e-12)


SETTINGS = settings(max_examples=10, deadline=None)


@SETTINGS
@given(st.integers(2, 5), st.integers(1, 3), st.sampled_from(["sum", "mean", "max"]),
       st.data())
def test_embedding_bag_grad_matches_numeric(rows, dim, mode, data):
    count = data.draw(st.integers(1, 6))
    index = np.array(data.draw(st.lists(st.integers(0, rows - 1), min_size=count,
                                        max_size=count)))
    cuts = sorted(data.draw(st.lists(st.integers(0, count), min_size=1, max_size=3)))
    offsets = np.array([0] + cuts)
    # distinct values at least 0.1 apart: no ties for max within the finite-difference step
    spaced = st.integers(-30, 30).map(lambda i: i / 10)
    weight = data.draw(arrays((rows, dim), elements=spaced, unique=True))
    assert_grad_matches_numeric(
        lambda w: F.embedding_bag(mg.tensor(index), w, mg.tensor(offsets), mode=mode), weight)
    if mode == "sum":
        psw = data.draw(arrays((count,)))
        assert_grad_matches_numeric(
            lambda w, p: F.embedding_bag(mg.tensor(index), w, mg.tensor(offsets), mode="sum",
                                         per_sample_weights=p), weight, psw)


@SETTINGS
@given(st.integers(2, 5), st.integers(1, 3), st.data())
def test_embedding_grad_matches_numeric(rows, dim, data):
    index = np.array(data.draw(st.lists(st.integers(0, rows - 1), min_size=1, max_size=6)))
    weight = data.draw(arrays((rows, dim)))
    assert_grad_matches_numeric(lambda w: F.embedding(mg.tensor(index), w) ** 2,
                                weight)


def test_reprs_and_errors_match_torch():
    for args, kwargs in [((10, 3), dict(padding_idx=0, max_norm=1.0)), ((4, 2), {}),
                         ((4, 2), dict(norm_type=1.0, scale_grad_by_freq=True))]:
        assert repr(nn.Embedding(*args, **kwargs)) == repr(torch.nn.Embedding(*args, **kwargs))
    for kwargs in [{}, dict(mode="max", padding_idx=1), dict(max_norm=2.0, mode="sum")]:
        assert repr(nn.EmbeddingBag(10, 3, **kwargs)) == repr(
            torch.nn.EmbeddingBag(10, 3, **kwargs))
    embedding = nn.Embedding(4, 2)
    with pytest.raises(IndexError, match="out of range"):
        embedding(mg.tensor([1, 4]))
    with pytest.raises(RuntimeError, match="int64"):
        embedding(mg.tensor([1.0]))
    with pytest.raises(ValueError, match="padding_idx"):
        nn.Embedding(4, 2, padding_idx=4)
    bag = nn.EmbeddingBag(4, 2, mode="mean")
    with pytest.raises(ValueError, match="offsets has to be None"):
        bag(mg.tensor([[1, 2]]), mg.tensor([0]))
    with pytest.raises(ValueError, match="offsets has to be a 1D Tensor"):
        bag(mg.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="offsets\\[0\\] has to be 0"):
        bag(mg.tensor([1, 2]), mg.tensor([1]))
    with pytest.raises(NotImplementedError, match="only supported for mode='sum'"):
        bag(mg.tensor([[1, 2]]), per_sample_weights=mg.tensor([[1.0, 2.0]]))
    with pytest.raises(ValueError, match="max mode does not support scaling"):
        F.embedding_bag(mg.tensor([[1]]), bag.weight, mode="max", scale_grad_by_freq=True)
