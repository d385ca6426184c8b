"""cdist, repeat_interleave, Tensor.unfold, view(dtype), layout queries, new_* constructors,
shape-op argument checks and number-first torch-level functions, against PyTorch and
numerical gradients."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from _torch_compare import compare, dtype_name
from hypothesis import assume, given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import arrays, assert_grad_matches_numeric

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(7)
X = RNG.standard_normal((2, 3, 4))
INF = float("inf")


def _same_error(mg_fn, torch_fn, match=None):
    """Both raise; minigrad's error is of the class PyTorch raises (OpError counts as
    RuntimeError); ``match`` must be in minigrad's message."""
    with pytest.raises(Exception) as theirs:
        torch_fn()
    expected = theirs.type
    if expected.__name__ == "NotImplementedError":
        expected = NotImplementedError
    elif issubclass(expected, RuntimeError):
        expected = RuntimeError
    with pytest.raises(expected, match=match):
        mg_fn()


# ---------------------------------------------------------------------------- cdist


def _points_with_ties():
    a = RNG.standard_normal((2, 1, 4, 3))
    b = RNG.standard_normal((3, 5, 3))
    b[1, 2] = a[0, 0, 1]  # zero distance
    b[0, 1, 0] = a[1, 0, 2, 0]  # one equal coordinate
    b[2, 3, :2] = a[0, 0, 3, :2] + np.array([1.0, -1.0])  # an inf-norm tie
    b[2, 3, 2] = a[0, 0, 3, 2] + 0.25
    return a, b


@pytest.mark.parametrize("p", [0, 0.5, 1, 1.5, 2, 3, INF])
def test_cdist_matches_torch_including_zero_distances_and_ties(p):
    a, b = _points_with_ties()
    compare(lambda x, y: mg.cdist(x, y, p=p), lambda x, y: torch.cdist(x, y, p=p), a, b,
            rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mode", ["use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                                  "donot_use_mm_for_euclid_dist"])
@pytest.mark.parametrize("rows", [3, 30])
def test_cdist_compute_modes_match_torch(mode, rows):
    a, b = RNG.standard_normal((rows, 4)), RNG.standard_normal((5, 4))
    b[0] = a[1]
    compare(lambda x, y: mg.cdist(x, y, compute_mode=mode),
            lambda x, y: torch.cdist(x, y, compute_mode=mode), a, b, rtol=1e-7, atol=1e-7)


def test_cdist_float32_and_empty_shapes():
    a, b = RNG.standard_normal((4, 3)).astype(np.float32), RNG.standard_normal((2, 3))
    compare(lambda x, y: mg.cdist(x, y, 3), lambda x, y: torch.cdist(x, y, 3),
            a, b.astype(np.float32), rtol=1e-5)
    for p in (2, INF, 0):
        compare(lambda x, y: mg.cdist(x, y, p), lambda x, y: torch.cdist(x, y, p),
                np.zeros((2, 0)), np.zeros((3, 0)))
        compare(lambda x, y: mg.cdist(x, y, p), lambda x, y: torch.cdist(x, y, p),
                np.zeros((0, 2)), np.ones((3, 2)))


def test_cdist_errors_match_torch():
    for args, kwargs in [((np.ones(3), np.ones(3)), {}), ((np.ones((2, 3)), np.ones((2, 4))), {}),
                         ((np.ones((2, 3)), np.ones((2, 3))), {"p": -1.0}),
                         ((np.ones((2, 2, 3)), np.ones((3, 2, 3))), {}),
                         ((np.ones((2, 3), np.int64), np.ones((2, 3), np.int64)), {})]:
        _same_error(lambda: mg.cdist(*map(mg.tensor, args), **kwargs),
                    lambda: torch.cdist(*map(torch.tensor, args), **kwargs), "cdist|X1|X2")
    with pytest.raises(ValueError, match="compute_mode"):
        mg.cdist(mg.ones(2, 3), mg.ones(2, 3), compute_mode="fast")
    with pytest.raises(ValueError, match="compute_mode"):
        torch.cdist(torch.ones(2, 3), torch.ones(2, 3), compute_mode="fast")


small = st.integers(1, 3)


@given(st.tuples(small, small, small).flatmap(lambda s: st.tuples(
    arrays((s[0], s[2]), min_value=-2, max_value=2), arrays((s[1], s[2]), min_value=-2,
                                                              max_value=2))),
       st.sampled_from([1.5, 2.0, 3.0]))
def test_cdist_grad_matches_numeric(pair, p):
    a, b = pair
    diff = np.abs(a[:, None, :] - b[None, :, :])
    assume(diff.min() > 1e-2)  # central differences need every coordinate away from the kink
    assert_grad_matches_numeric(lambda x, y: mg.cdist(x, y, p), a, b)


# ---------------------------------------------------------------------------- repeat_interleave


@pytest.mark.parametrize("case", [
    (2, None, None), (2, 1, None), (np.array([1, 0, 2]), 1, None), (np.array(3), -1, None),
    (np.array([2]), 0, None), (2, 1, 6), (np.array([1, 0, 2]), -2, 3),
    (np.arange(24) % 3, None, None),
])
def test_repeat_interleave_matches_torch(case):
    repeats, dim, output_size = case

    def run(lib, x):
        r = lib.tensor(repeats) if isinstance(repeats, np.ndarray) else repeats
        kwargs = {} if output_size is None else {"output_size": output_size}
        return lib.repeat_interleave(x, r, dim=dim, **kwargs)

    compare(lambda x: run(mg, x), lambda x: run(torch, x), X)
    compare(lambda x: x.repeat_interleave(2, 2), lambda x: x.repeat_interleave(2, 2), X)
    assert mg.repeat_interleave(mg.tensor(X), 2, 1).is_contiguous()


def test_repeat_interleave_of_counts_and_errors():
    counts = np.array([2, 0, 3])
    np.testing.assert_array_equal(mg.repeat_interleave(mg.tensor(counts)).numpy(),
                                  torch.repeat_interleave(torch.tensor(counts)).numpy())
    assert mg.repeat_interleave(mg.tensor(counts)).dtype == mg.int64
    x_m, x_t = mg.tensor(X), torch.tensor(X)
    for bad in [lambda lib, x: lib.repeat_interleave(x, -1),
                lambda lib, x: lib.repeat_interleave(x, lib.tensor([1, 2]), dim=1),
                lambda lib, x: lib.repeat_interleave(x, lib.tensor([1, -1, 2]), dim=1),
                lambda lib, x: lib.repeat_interleave(x, lib.tensor([[1, 0, 2]]), dim=1),
                lambda lib, x: lib.repeat_interleave(x, lib.tensor([1.0, 1, 2]), dim=1),
                lambda lib, x: lib.repeat_interleave(x, 2, dim=1, output_size=5),
                lambda lib, x: lib.repeat_interleave(x, 2, dim=3),
                lambda lib, x: lib.repeat_interleave(lib.tensor([[2, 1]])),
                lambda lib, x: lib.repeat_interleave(lib.tensor([2, 1]), output_size=2)]:
        lib_x = {mg: x_m, torch: x_t}
        _same_error(lambda: bad(mg, lib_x[mg]), lambda: bad(torch, lib_x[torch]))


@given(arrays(st.tuples(small, small)), st.lists(st.integers(0, 3), min_size=3, max_size=3))
def test_repeat_interleave_grad_matches_numeric(a, counts):
    counts = counts[: a.shape[1]]
    assert_grad_matches_numeric(
        lambda x: mg.repeat_interleave(x, mg.tensor(counts), dim=1), a,
        reference=lambda x: np.repeat(x, counts, axis=1))
    assert_grad_matches_numeric(lambda x: mg.repeat_interleave(x, 2), a,
                                reference=lambda x: np.repeat(x.reshape(-1), 2))


# ---------------------------------------------------------------------------- Tensor.unfold


@pytest.mark.parametrize("args", [(2, 2, 1), (2, 2, 2), (2, 3, 2), (-1, 4, 3), (1, 2, 1),
                                  (0, 1, 1), (2, 0, 1), (1, 3, 5)])
def test_unfold_matches_torch_and_overlapping_gradients_add(args):
    compare(lambda x: x.unfold(*args), lambda x: x.unfold(*args), X)
    compare(lambda x: x.unfold(0, 2, 1).unfold(1, 2, 1),
            lambda x: x.unfold(0, 2, 1).unfold(1, 2, 1), X)


def test_unfold_is_a_view_and_reports_torch_strides():
    base_m, base_t = mg.arange(24.0).reshape(2, 3, 4), torch.arange(24.0).reshape(2, 3, 4)
    w_m, w_t = base_m.unfold(2, 2, 1), base_t.unfold(2, 2, 1)
    assert w_m.stride() == w_t.stride() and w_m.is_contiguous() == w_t.is_contiguous()
    assert w_m.data_ptr() == base_m.data_ptr()
    with mg.no_grad():
        base_m.add_(1)
    base_t.add_(1)
    np.testing.assert_array_equal(w_m.numpy(), w_t.numpy())
    np.testing.assert_array_equal(mg.tensor(2.0).unfold(0, 1, 1).numpy(),
                                  torch.tensor(2.0).unfold(0, 1, 1).numpy())


def test_unfold_errors_match_torch():
    for args in [(2, 5, 1), (2, 2, 0), (2, -1, 1), (3, 1, 1)]:
        _same_error(lambda: mg.tensor(X).unfold(*args), lambda: torch.tensor(X).unfold(*args))
    _same_error(lambda: mg.tensor(2.0).unfold(0, 2, 1), lambda: torch.tensor(2.0).unfold(0, 2, 1),
                "maximum size")


@given(arrays(st.tuples(st.integers(2, 5), small)), st.integers(1, 2), st.integers(1, 2))
def test_unfold_grad_matches_numeric(a, size, step):
    assert_grad_matches_numeric(lambda x: x.unfold(0, size, step) * 1.5, a)


# ---------------------------------------------------------------------------- view(dtype)


@pytest.mark.parametrize("source,target", [
    ("float32", "int32"), ("float32", "float32"), ("float32", "float64"), ("float32", "float16"),
    ("float32", "uint8"), ("float32", "bool"), ("int64", "float64"), ("uint8", "int32"),
    ("int16", "int8"), ("float64", "int32"),
])
def test_view_dtype_reinterprets_like_torch(source, target):
    data = RNG.standard_normal((3, 4)) * 4
    if source == "uint8":
        data = np.abs(data)
    m = mg.tensor(data.astype(source)).view(getattr(mg, target))
    t = torch.tensor(data.astype(source)).view(getattr(torch, target))
    assert tuple(m.shape) == tuple(t.shape) and dtype_name(m) == dtype_name(t)
    np.testing.assert_array_equal(m.numpy(), t.numpy())
    # transposed (last stride not 1): allowed only for the same element size
    mt = lambda: mg.tensor(data.astype(source)).mT.view(getattr(mg, target))  # noqa: E731
    tt = lambda: torch.tensor(data.astype(source)).mT.view(getattr(torch, target))  # noqa: E731
    if np.dtype(source).itemsize == np.dtype(target).itemsize:
        np.testing.assert_array_equal(mt().numpy(), tt().numpy())
    else:
        _same_error(mt, tt, "stride")


def test_view_dtype_errors_grad_and_shape_form():
    _same_error(lambda: mg.arange(6.0).reshape(2, 3).view(mg.float64),
                lambda: torch.arange(6.0).reshape(2, 3).view(torch.float64), "divisible by 2")
    _same_error(lambda: mg.tensor(2.0).view(mg.float16),
                lambda: torch.tensor(2.0).view(torch.float16), "dim")
    assert mg.tensor(2.0).view(mg.int32).item() == torch.tensor(2.0).view(torch.int32).item()
    assert mg.tensor(X[0, 0]).view(dtype=mg.int64).shape == (4,)
    w = mg.ones(3, requires_grad=True)
    assert not w.view(mg.float32).requires_grad and w.view(mg.float32).grad_fn is None
    assert not w.view(mg.int32).requires_grad
    assert w.view(3, 1).shape == (3, 1) and w.view(-1).requires_grad


# ---------------------------------------------------------------------------- shape-op checks


@pytest.mark.parametrize("fn", [
    lambda x: x.flip(0, 0), lambda x: x.flip(0, -3), lambda x: x.flip((1, 1)),
    lambda x: x[:1, :, :1].squeeze((0, 0)), lambda x: x.squeeze((0, 5)),
    lambda x: x.unflatten(2, (-1, -1)), lambda x: x.unflatten(2, (3, -1)),
    lambda x: x.unflatten(2, (3, 2)), lambda x: x.unflatten(2, ()),
    lambda x: x.unflatten(5, (2, 2)),
    lambda x: x.flatten(2, 1), lambda x: x.flatten(5), lambda x: x.flatten(0, 5),
    lambda x: x.sum().flatten(1),
    lambda x: x.repeat(2), lambda x: x.repeat(2, -1, 1), lambda x: x.repeat(),
    lambda x: x.unbind(3), lambda x: x.unbind(-4), lambda x: x.sum().unbind(),
    lambda x: x.expand(2, 3), lambda x: x.expand(-1, 2, 3, 4), lambda x: x.expand(2, 3, 5),
    lambda x: x.expand(2, 3, -2),
    lambda x: x.chunk(0), lambda x: x.chunk(-1), lambda x: x.chunk(2, 5),
    lambda x: x.split([1, 1], 1), lambda x: x.split(0, 1), lambda x: x.split(-1, 1),
    lambda x: x.split([1, -1, 3], 1),
    lambda x: x.narrow(2, 3, 2), lambda x: x.narrow(2, -5, 1), lambda x: x.narrow(2, 5, 0),
    lambda x: x.narrow(2, 1, -1), lambda x: x.narrow(5, 1, 1), lambda x: x.narrow_copy(2, 3, 2),
    lambda x: x.unsafe_split([1, 3], 2),
], ids=lambda f: "")
def test_shape_argument_errors_match_torch(fn):
    _same_error(lambda: fn(mg.tensor(X)), lambda: fn(torch.tensor(X)))


def test_chunk_zero_names_the_argument():
    with pytest.raises(RuntimeError, match="chunks"):
        mg.chunk(mg.tensor(X), 0)


@pytest.mark.parametrize("fn", [
    lambda lib, x: x.squeeze((0, 2)), lambda lib, x: x.squeeze((0, 1)),
    lambda lib, x: x.unflatten(2, (-1, 1)), lambda lib, x: x.unflatten(3, [2, -1]),
    lambda lib, x: x.flatten(1), lambda lib, x: x.sum().flatten(0, -1),
    lambda lib, x: x.expand(-1, -1, -1, -1), lambda lib, x: x.expand(3, -1, -1, -1, -1),
    lambda lib, x: x.repeat(0, 1, 1, 1), lambda lib, x: x.repeat((2, 1, 1, 1)),
    lambda lib, x: x.split([1, 2], 2), lambda lib, x: x.split(2, -1),
    lambda lib, x: lib.split(x, [1, 0, 2], 2), lambda lib, x: x[:, :0].split(0, 1),
    lambda lib, x: lib.unsafe_split(x, 2, 3), lambda lib, x: x.unsafe_split(3, 1),
    lambda lib, x: lib.unsafe_split_with_sizes(x, [1, 3], 3),
    lambda lib, x: x.unsafe_split_with_sizes([2, 1], 2),
    lambda lib, x: x.narrow_copy(3, 1, 2), lambda lib, x: lib.narrow_copy(x, -1, 1, 2),
    lambda lib, x: x.narrow(3, 4, 0),
    lambda lib, x: x.swapaxes(0, 3), lambda lib, x: x.swapdims(1, -1),
    lambda lib, x: x.moveaxis(0, 2), lambda lib, x: lib.swapaxes(x, 1, 2),
    lambda lib, x: lib.swapdims(x, 0, 1), lambda lib, x: lib.moveaxis(x, (0, 1), (3, 0)),
    lambda lib, x: x.chunk(3, 3), lambda lib, x: x.unbind(1), lambda lib, x: x.mT,
    lambda lib, x: x.mH,
    lambda lib, x: x[0, 0].H, lambda lib, x: x.flip(1, -1),
], ids=lambda f: "")
def test_shape_ops_match_torch(fn):
    compare(lambda x: fn(mg, x), lambda x: fn(torch, x), X[:, None])
    out = fn(mg, mg.tensor(X[:, None]))
    for t in out if isinstance(out, tuple) else [out]:
        assert t.stride() == tuple(t.stride()) and len(t.stride()) == t.ndim


def test_narrow_copy_is_a_contiguous_copy():
    x = mg.tensor(X)
    out = x.narrow_copy(2, 1, 2)
    assert out.is_contiguous() and out.data_ptr() != x.data_ptr()
    assert mg.narrow_copy(x, 2, 1, 2).shape == torch.narrow_copy(torch.tensor(X), 2, 1, 2).shape


def test_transposes_warn_and_raise_like_torch():
    for shape in [(2, 3, 4), (3,), ()]:
        m, t = mg.ones(shape), torch.ones(shape)
        for attr in ("T", "mT", "mH", "H"):
            with warnings.catch_warnings(record=True) as seen_t:
                warnings.simplefilter("always")
                try:
                    expected = getattr(t, attr)
                except RuntimeError:
                    expected = None
            with warnings.catch_warnings(record=True) as seen_m:
                warnings.simplefilter("always")
                if expected is None:
                    with pytest.raises(RuntimeError, match=f"tensor.{attr} is only supported"):
                        getattr(m, attr)
                    continue
                got = getattr(m, attr)
            assert tuple(got.shape) == tuple(expected.shape), attr
            # PyTorch warns once per process: T for ndim != 2, the others on 0-D tensors
            assert bool(seen_m) == (len(shape) != 2 if attr == "T" else len(shape) == 0)
            assert not seen_t or seen_m
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert mg.ones(2, 3).T.shape == (3, 2)


# ---------------------------------------------------------------------------- layout queries


@pytest.mark.parametrize("fn", [
    lambda x: x, lambda x: x.transpose(0, 2), lambda x: x[:, 1:], lambda x: x[:, :, ::2],
    lambda x: x[1], lambda x: x.unsqueeze(1).expand(2, 5, 3, 4), lambda x: x.permute(1, 0, 2),
    lambda x: x.transpose(0, 2).contiguous(), lambda x: x[..., 1:3].unfold(0, 1, 1),
    lambda x: x.sum(), lambda x: x[:, :1, :1], lambda x: x[:, 0:0],
], ids=lambda f: "")
def test_stride_offset_and_contiguity_match_torch(fn):
    m, t = fn(mg.arange(24.0).reshape(2, 3, 4)), fn(torch.arange(24.0).reshape(2, 3, 4))
    assert m.stride() == t.stride()
    assert m.is_contiguous() == t.is_contiguous()
    assert m.contiguous().is_contiguous()
    assert m.storage_offset() == t.storage_offset()
    if m.ndim:
        assert m.stride(-1) == t.stride(-1)
    base_m = mg.arange(24.0).reshape(2, 3, 4)
    base_t = torch.arange(24.0).reshape(2, 3, 4)
    view_t = fn(base_t)
    if m.numel() and view_t.untyped_storage().data_ptr() == base_t.untyped_storage().data_ptr():
        assert fn(base_m).data_ptr() - base_m.data_ptr() == view_t.data_ptr() - base_t.data_ptr()


def test_contiguous_copies_only_when_needed_and_keeps_the_gradient():
    x = mg.tensor(X, requires_grad=True)
    assert x.contiguous() is x
    y = x.transpose(0, 2).contiguous()
    assert y.is_contiguous() and y.requires_grad
    (y * mg.tensor(np.arange(24.0).reshape(4, 3, 2))).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(),
                                  np.arange(24.0).reshape(4, 3, 2).transpose(2, 1, 0))
    with pytest.raises(IndexError):
        x.stride(3)


def test_numel_and_is_nonzero_match_torch():
    assert mg.numel(mg.tensor(X)) == torch.numel(torch.tensor(X))
    for data in ([1.0], 0.0, [[0]], float("nan"), [True], [[-0.0]]):
        assert mg.is_nonzero(mg.tensor(data)) == torch.is_nonzero(torch.tensor(data))
        assert mg.tensor(data).is_nonzero() == torch.tensor(data).is_nonzero()
    for data in ([1.0, 2.0], []):
        _same_error(lambda: mg.is_nonzero(mg.tensor(data)),
                    lambda: torch.is_nonzero(torch.tensor(data)), "ambiguous")
    _same_error(lambda: mg.numel(3), lambda: torch.numel(3))


# ---------------------------------------------------------------------------- new_*


@pytest.mark.parametrize("fn", [
    lambda x: x.new_zeros(2, 3), lambda x: x.new_zeros((2, 3)), lambda x: x.new_ones(2),
    lambda x: x.new_ones([]), lambda x: x.new_full((2,), 2.5), lambda x: x.new_full([2], True),
    lambda x: x.new_full((2,), 2.5, dtype=x.new_tensor(1.0, dtype=_lib(x).float64).dtype),
    lambda x: x.new_empty(3).shape, lambda x: x.new_tensor([1.5, -2.5]),
    lambda x: x.new_tensor(True), lambda x: x.new_tensor(2.5), lambda x: x.new_tensor([[1, 2]]),
    lambda x: x.new_zeros(2, 3, dtype=_lib(x).int64),
    lambda x: x.new_empty((2, 3), dtype=_lib(x).int32),
], ids=lambda f: "")
@pytest.mark.parametrize("source", ["float32", "float64", "int64", "int32", "bool"])
def test_new_constructors_match_torch(fn, source):
    data = np.array([1, 0, 2]).astype(source)
    m, t = fn(mg.tensor(data)), fn(torch.tensor(data))
    if isinstance(t, torch.Size):
        assert tuple(m) == tuple(t)
        return
    assert tuple(m.shape) == tuple(t.shape) and dtype_name(m) == dtype_name(t)
    if fn not in _EMPTY:  # new_empty's values are unspecified in PyTorch
        np.testing.assert_array_equal(m.numpy(), t.numpy())
    assert not m.requires_grad


def _lib(x):
    return mg if isinstance(x, mg.Tensor) else torch


_EMPTY = [f for f in test_new_constructors_match_torch.pytestmark[-1].args[1]
          if f.__code__.co_names and "new_empty" in f.__code__.co_names]


def test_new_constructors_requires_grad_and_errors():
    z = mg.ones(2).new_zeros(2, requires_grad=True)
    assert z.requires_grad and z.is_leaf
    _same_error(lambda: mg.tensor([1]).new_zeros(2, requires_grad=True),
                lambda: torch.tensor([1]).new_zeros(2, requires_grad=True))
    _same_error(lambda: mg.ones(2).new_zeros(-1), lambda: torch.ones(2).new_zeros(-1))
    src = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning, match="detach"):
        copy = mg.ones(2, dtype=mg.float64).new_tensor(src)
    assert copy.dtype == mg.float64 and not copy.requires_grad
    copy.add_(1)
    assert src.detach().numpy().tolist() == [1.0, 2.0]


# ---------------------------------------------------------------------------- number first

T = np.array([1.5, 2.0, -0.5])
I = np.array([1, 2, 3])
I32 = np.array([1, 2, 3], np.int32)
B = np.array([True, False, True])

NUMBER_FIRST = [
    ("add", 2, T), ("add", 2.5, I32), ("add", True, B), ("add", 2, I32), ("sub", 2, T),
    ("subtract", 2.5, I), ("mul", 2, I32), ("multiply", 0.5, T), ("div", 7, I), ("divide", 2, T),
    ("true_divide", 7, I), ("floor_divide", 7, I), ("floor_divide", 2.5, T), ("remainder", 2, I32),
    ("remainder", 3, T), ("pow", 2, I), ("pow", 2.5, I32), ("pow", 2, T),
    ("float_power", 2, I), ("float_power", 2, T), ("xlogy", 2, I), ("xlogy", 0, T), ("xlogy", 3, T),
    ("bitwise_and", 3, I32), ("bitwise_or", True, B), ("bitwise_xor", 6, I),
    ("bitwise_left_shift", 1, I), ("bitwise_right_shift", 8, I),
]


@pytest.mark.parametrize("name,number,other", NUMBER_FIRST,
                         ids=[f"{n}-{v!r}-{o.dtype}" for n, v, o in NUMBER_FIRST])
def test_number_first_functions_match_torch(name, number, other):
    # PyTorch has no derivative of floor_divide and remainder in their second argument
    grad = name not in ("floor_divide", "remainder")
    compare(lambda y: getattr(mg, name)(number, y), lambda y: getattr(torch, name)(number, y),
            np.abs(other) + 0.5 if other.dtype.kind == "f" and name == "xlogy" else other,
            grad=grad)


def test_number_first_keywords_out_and_two_numbers():
    t = np.array([1.5, 2.0])
    compare(lambda y: mg.add(2, y, alpha=3), lambda y: torch.add(2, y, alpha=3), t)
    compare(lambda y: mg.pow(2, exponent=y), lambda y: torch.pow(2, exponent=y), t)
    compare(lambda y: mg.add(input=2, other=y), lambda y: torch.add(input=2, other=y), t)
    out_m, out_t = mg.zeros(2), torch.zeros(2)
    assert mg.mul(3, mg.tensor(t, dtype=mg.float32), out=out_m) is out_m
    torch.mul(3, torch.tensor(t, dtype=torch.float32), out=out_t)
    np.testing.assert_array_equal(out_m.numpy(), out_t.numpy())
    for name in ("add", "sub", "mul", "div", "true_divide", "floor_divide", "multiply",
                 "subtract", "divide"):
        for a, b in ((7, 2), (7.5, 2), (7, 2.5)):
            m, t_ = getattr(mg, name)(a, b), getattr(torch, name)(a, b)
            assert dtype_name(m) == dtype_name(t_) and m.shape == t_.shape, (name, a, b)
            assert m.item() == pytest.approx(t_.item())


@pytest.mark.parametrize("call", [
    lambda lib, t: lib.pow(2, 3), lambda lib, t: lib.xlogy(2, 3),
    lambda lib, t: lib.remainder(2, 3),
    lambda lib, t: lib.bitwise_and(2, 3), lambda lib, t: lib.float_power(2, 3),
    lambda lib, t: lib.maximum(2, t), lambda lib, t: lib.minimum(2.0, t),
    lambda lib, t: lib.atan2(2, t), lambda lib, t: lib.hypot(2, t), lambda lib, t: lib.exp(2),
    lambda lib, t: lib.add(None, t), lambda lib, t: lib.add(2, [1, 2]),
    lambda lib, t: lib.sub(True, t), lambda lib, t: lib.sub(2, t > 0), lambda lib, t: t - True,
    lambda lib, t: True - t, lambda lib, t: lib.bitwise_and(2.5, t.long()),
    lambda lib, t: lib.pow(True, t > 0),
], ids=lambda f: "")
def test_number_first_refusals_match_torch(call):
    _same_error(lambda: call(mg, mg.tensor([1.5, 2.0])),
                lambda: call(torch, torch.tensor([1.5, 2.0])))


@pytest.mark.parametrize("branches", [(2, T), (2, 3), (2.0, I), (T, 2), (True, I), (2.5, True)])
def test_where_with_numbers_matches_torch(branches):
    cond = np.array([True, False, True])
    a, b = branches

    def run(lib, *tensors):
        it = iter(tensors)
        x = next(it) if isinstance(a, np.ndarray) else a
        y = next(it) if isinstance(b, np.ndarray) else b
        return lib.where(lib.tensor(cond), x, y)

    given_arrays = [v for v in branches if isinstance(v, np.ndarray)]
    compare(lambda *ts: run(mg, *ts), lambda *ts: run(torch, *ts), *given_arrays)


def test_method_path_is_unchanged_by_number_first():
    # the methods stay the class's own functions; only the torch-level wrappers look at numbers
    assert mg.Tensor.add.__qualname__ == "Tensor.add" and mg.Tensor.pow.__qualname__ == "Tensor.pow"
    assert mg.add is not mg.Tensor.add and mg.add.__wrapped__ is mg.Tensor.add
