"""nn.utils: gradient clipping, parameter vectors and variable-length sequences, against
PyTorch and by hand."""

import numpy as np
import pytest

import minigrad as mg
import nn
from nn.utils import rnn

torch = pytest.importorskip("torch")

SHAPES = [(3, 2), (4,), (2, 2, 2)]


def _grads(scale=1.0, dtype=np.float64):
    rng = np.random.default_rng(3)
    return [(rng.standard_normal(s) * scale).astype(dtype) for s in SHAPES]


def _params(grads):
    ours, theirs = [], []
    for g in grads:
        p = nn.Parameter(mg.zeros(g.shape, dtype=mg.float64 if g.dtype == np.float64
                                  else mg.float32))
        p.grad = mg.tensor(g.copy())
        t = torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.from_numpy(g).dtype))
        t.grad = torch.tensor(g.copy())
        ours.append(p)
        theirs.append(t)
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf"), 3.0])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_clip_grad_norm_matches_torch(norm_type, max_norm, dtype):
    grads = _grads(dtype=dtype)
    ours, theirs = _params(grads)
    total = nn.utils.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    their_total = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(total.numpy(), their_total.numpy(), rtol=rtol)
    assert total.dtype == (mg.float64 if dtype == np.float64 else mg.float32)
    assert total.shape == ()
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=rtol)
    # by hand: the norm of all gradients together, then scaled to max_norm when above it
    flat = np.concatenate([g.reshape(-1) for g in grads]).astype(np.float64)
    expected = np.max(np.abs(flat)) if norm_type == float("inf") else (
        np.sum(np.abs(flat) ** norm_type) ** (1 / norm_type)
    )
    np.testing.assert_allclose(float(total.item()), expected, rtol=rtol)
    if expected > max_norm:
        clipped = np.concatenate([p.grad.numpy().reshape(-1) for p in ours])
        np.testing.assert_allclose(clipped, flat * max_norm / (expected + 1e-6), rtol=rtol)


def test_clip_grad_norm_single_tensor_and_params_without_grad():
    p = nn.Parameter(mg.tensor([3.0, 4.0], dtype=mg.float64))
    p.grad = mg.tensor([3.0, 4.0], dtype=mg.float64)
    q = nn.Parameter(mg.zeros(2))
    total = nn.utils.clip_grad_norm_([p, q], 1.0)
    assert float(total.item()) == 5.0 and q.grad is None
    np.testing.assert_allclose(p.grad.numpy(), np.array([3.0, 4.0]) / (5.0 + 1e-6))
    p.grad = mg.tensor([0.3, 0.4], dtype=mg.float64)
    assert float(nn.utils.clip_grad_norm_(p, 1.0).item()) == pytest.approx(0.5)
    np.testing.assert_allclose(p.grad.numpy(), [0.3, 0.4])


def test_clip_grad_norm_error_if_nonfinite():
    grads = _grads()
    grads[1][2] = np.inf
    ours, theirs = _params(grads)
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError, match="non-finite"):
        torch.nn.utils.clip_grad_norm_(theirs, 1.0, error_if_nonfinite=True)
    # the error leaves the gradients alone
    np.testing.assert_array_equal(ours[0].grad.numpy(), grads[0])
    total = nn.utils.clip_grad_norm_(ours, 1.0)
    their_total = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    assert np.isinf(total.numpy()) and np.isinf(their_total.numpy())
    for p, t in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.numpy(), t.grad.numpy())


@pytest.mark.parametrize("clip_value", [0.3, 5.0])
def test_clip_grad_value_matches_torch(clip_value):
    grads = _grads()
    ours, theirs = _params(grads)
    nn.utils.clip_grad_value_(ours, clip_value)
    torch.nn.utils.clip_grad_value_(theirs, clip_value)
    for p, t, g in zip(ours, theirs, grads):
        np.testing.assert_array_equal(p.grad.numpy(), t.grad.numpy())
        np.testing.assert_array_equal(p.grad.numpy(), np.clip(g, -clip_value, clip_value))


def test_parameters_to_vector_and_back_matches_torch():
    ours_model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    theirs_model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Linear(2, 1))
    ours_model.load_state_dict(theirs_model.state_dict())
    vec = nn.utils.parameters_to_vector(ours_model.parameters())
    their_vec = torch.nn.utils.parameters_to_vector(theirs_model.parameters())
    np.testing.assert_array_equal(vec.detach().numpy(), their_vec.detach().numpy())
    assert vec.shape == (11,) and vec.requires_grad
    (vec * mg.arange(11.0)).sum().backward()
    np.testing.assert_array_equal(ours_model[0].weight.grad.numpy().reshape(-1),
                                  np.arange(6.0))
    new = mg.arange(11.0) * 0.5
    nn.utils.vector_to_parameters(new, ours_model.parameters())
    torch.nn.utils.vector_to_parameters(torch.arange(11.0) * 0.5, theirs_model.parameters())
    for p, t in zip(ours_model.parameters(), theirs_model.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), t.detach().numpy())
    with pytest.raises(ValueError, match="11 elements"):
        nn.utils.vector_to_parameters(mg.zeros(10), ours_model.parameters())
    with pytest.raises(TypeError):
        nn.utils.vector_to_parameters(np.zeros(11), ours_model.parameters())


# ----------------------------------------------------------------------------- rnn utils


LENGTHS = [2, 5, 3]


def _sequences():
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((n, 2)) for n in LENGTHS]
    ours = [mg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    return ours, theirs


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence_matches_torch(batch_first, padding_side):
    ours, theirs = _sequences()
    padded = rnn.pad_sequence(ours, batch_first=batch_first, padding_value=-1.0,
                              padding_side=padding_side)
    their_padded = torch.nn.utils.rnn.pad_sequence(
        theirs, batch_first=batch_first, padding_value=-1.0, padding_side=padding_side
    )
    np.testing.assert_array_equal(padded.detach().numpy(), their_padded.detach().numpy())
    weights = np.arange(padded.numel(), dtype=np.float64).reshape(padded.shape)
    (padded * mg.tensor(weights)).sum().backward()
    (their_padded * torch.tensor(weights)).sum().backward()
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("enforce_sorted", [False, True])
def test_pack_pad_round_trip_matches_torch(batch_first, enforce_sorted):
    ours, theirs = _sequences()
    lengths = LENGTHS
    if enforce_sorted:
        order = np.argsort(LENGTHS)[::-1]
        ours = [ours[i] for i in order]
        theirs = [theirs[i] for i in order]
        lengths = [LENGTHS[i] for i in order]
    padded = rnn.pad_sequence(ours, batch_first=batch_first)
    their_padded = torch.nn.utils.rnn.pad_sequence(theirs, batch_first=batch_first)
    packed = rnn.pack_padded_sequence(padded, lengths, batch_first=batch_first,
                                      enforce_sorted=enforce_sorted)
    their_packed = torch.nn.utils.rnn.pack_padded_sequence(
        their_padded, torch.tensor(lengths), batch_first=batch_first,
        enforce_sorted=enforce_sorted,
    )
    np.testing.assert_array_equal(packed.data.detach().numpy(),
                                  their_packed.data.detach().numpy())
    np.testing.assert_array_equal(packed.batch_sizes.numpy(), their_packed.batch_sizes.numpy())
    for ours_index, their_index in [(packed.sorted_indices, their_packed.sorted_indices),
                                    (packed.unsorted_indices, their_packed.unsorted_indices)]:
        if their_index is None:
            assert ours_index is None
        else:
            np.testing.assert_array_equal(ours_index.numpy(), their_index.numpy())
    unpadded, out_lengths = rnn.pad_packed_sequence(packed, batch_first=batch_first,
                                                    total_length=6)
    their_unpadded, their_lengths = torch.nn.utils.rnn.pad_packed_sequence(
        their_packed, batch_first=batch_first, total_length=6
    )
    np.testing.assert_array_equal(unpadded.detach().numpy(), their_unpadded.detach().numpy())
    np.testing.assert_array_equal(out_lengths.numpy(), their_lengths.numpy())
    assert out_lengths.dtype == mg.int64
    weights = np.arange(unpadded.numel(), dtype=np.float64).reshape(unpadded.shape)
    (unpadded * mg.tensor(weights)).sum().backward()
    (their_unpadded * torch.tensor(weights)).sum().backward()
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())


def test_pack_sequence_and_unpack_round_trip():
    ours, theirs = _sequences()
    packed = rnn.pack_sequence(ours, enforce_sorted=False)
    their_packed = torch.nn.utils.rnn.pack_sequence(theirs, enforce_sorted=False)
    np.testing.assert_array_equal(packed.data.detach().numpy(),
                                  their_packed.data.detach().numpy())
    for a, b in zip(rnn.unpack_sequence(packed), ours):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    padded = rnn.pad_sequence(ours, batch_first=True)
    for a, original in zip(rnn.unpad_sequence(padded, mg.tensor(LENGTHS), batch_first=True),
                           ours):
        np.testing.assert_array_equal(a.detach().numpy(), original.detach().numpy())


def test_pack_errors():
    ours, _ = _sequences()
    padded = rnn.pad_sequence(ours)
    with pytest.raises(RuntimeError, match="sorted in decreasing order"):
        rnn.pack_padded_sequence(padded, LENGTHS)
    with pytest.raises(RuntimeError, match="greater than 0"):
        rnn.pack_padded_sequence(padded, [0, 5, 3], enforce_sorted=False)
    packed = rnn.pack_padded_sequence(padded, LENGTHS, enforce_sorted=False)
    with pytest.raises(ValueError, match="total_length"):
        rnn.pad_packed_sequence(packed, total_length=2)
