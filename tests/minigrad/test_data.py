"""Dataset, TensorDataset, DataLoader, samplers, dataset views, IDX and download limits."""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad.random
from minigrad.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    collate,
    default_collate,
    get_worker_info,
    load_digits,
    random_split,
)
from minigrad.tensor import Tensor


def _numbered(num_samples: int) -> TensorDataset:
    """Sample i is (features filled with i, label i): a batch tells which samples it holds."""
    features = np.repeat(np.arange(num_samples, dtype=np.float32)[:, None], 3, axis=1)
    return TensorDataset(features, np.arange(num_samples))


class _PerItem(Dataset):
    """A generic dataset without get_batch of its own."""

    def __init__(self, num_samples: int) -> None:
        self.num_samples = num_samples

    def __len__(self) -> int:
        return self.num_samples

    def __getitem__(self, index: int):
        return np.full(3, index, dtype=np.float32), index


def _labels(loader: DataLoader) -> list[np.ndarray]:
    return [labels._data for _, labels in loader]


loader_args = st.fixed_dictionaries(
    {
        "num_samples": st.integers(0, 90),
        "batch_size": st.integers(1, 40),
        "shuffle": st.booleans(),
        "drop_last": st.booleans(),
        "seed": st.integers(0, 2**32 - 1),
    }
)


@given(loader_args)
def test_dataloader_yields_every_sample_once_per_epoch(args):
    num_samples = args.pop("num_samples")
    loader = DataLoader(_numbered(num_samples), **args)
    for _ in range(2):
        seen = np.concatenate([np.zeros(0, np.int64), *_labels(loader)])
        assert len(np.unique(seen)) == len(seen)
        if args["drop_last"]:
            assert len(seen) == num_samples - num_samples % args["batch_size"]
        else:
            np.testing.assert_array_equal(np.sort(seen), np.arange(num_samples))
        if not args["shuffle"]:
            np.testing.assert_array_equal(seen, np.arange(len(seen)))


@given(loader_args)
def test_dataloader_batch_shapes_dtypes_and_len(args):
    num_samples, batch_size = args.pop("num_samples"), args["batch_size"]
    loader = DataLoader(_numbered(num_samples), **args)
    batches = list(loader)
    assert len(batches) == len(loader)
    sizes = [len(labels._data) for _, labels in batches]
    full, rest = divmod(num_samples, batch_size)
    expected = [batch_size] * full + ([rest] if rest and not args["drop_last"] else [])
    assert sizes == expected
    for features, labels in batches:
        assert isinstance(features, Tensor) and isinstance(labels, Tensor)
        assert features.shape == (len(labels._data), 3)
        assert features.dtype == np.float32 and labels.dtype == np.int64
        np.testing.assert_array_equal(features._data[:, 0], labels._data)


@given(loader_args)
def test_dataloader_same_seed_same_epochs(args):
    num_samples = args.pop("num_samples")
    first = DataLoader(_numbered(num_samples), **args)
    second = DataLoader(_numbered(num_samples), **args)
    for _ in range(2):
        for a, b in zip(_labels(first), _labels(second), strict=True):
            np.testing.assert_array_equal(a, b)


@given(loader_args)
def test_dataloader_generic_dataset_matches_vectorized(args):
    num_samples = args.pop("num_samples")
    generic = DataLoader(_PerItem(num_samples), **args)
    vectorized = DataLoader(_numbered(num_samples), **args)
    for (x_a, y_a), (x_b, y_b) in zip(generic, vectorized, strict=True):
        np.testing.assert_array_equal(x_a._data, x_b._data)
        np.testing.assert_array_equal(y_a._data, y_b._data)
        assert x_a.dtype == x_b.dtype and y_a.dtype == y_b.dtype == np.int64


def test_dataloader_epochs_differ_and_seeds_differ():
    loader = DataLoader(_numbered(50), batch_size=50, shuffle=True, seed=0)
    epoch_1, epoch_2 = _labels(loader)[0], _labels(loader)[0]
    assert not np.array_equal(epoch_1, epoch_2)
    other = _labels(DataLoader(_numbered(50), batch_size=50, shuffle=True, seed=1))[0]
    assert not np.array_equal(epoch_1, other)


def test_dataloader_without_seed_follows_manual_seed():
    orders = []
    for _ in range(2):
        minigrad.random.manual_seed(123)
        loader = DataLoader(_numbered(40), batch_size=7, shuffle=True)
        orders.append(np.concatenate(_labels(loader) + _labels(loader)))
    np.testing.assert_array_equal(orders[0], orders[1])


def test_dataloader_gathers_array_batches_without_per_sample_calls(monkeypatch):
    dataset = _numbered(100)

    def forbidden(self, index):
        raise AssertionError("the loader must gather TensorDataset batches by fancy indexing")

    monkeypatch.setattr(TensorDataset, "__getitem__", forbidden)
    assert sum(len(y._data) for _, y in DataLoader(dataset, batch_size=32, shuffle=True)) == 100


def test_dataloader_accepts_any_sized_indexable_and_dict_samples():
    class Records:
        def __len__(self):
            return 5

        def __getitem__(self, index):
            return {"x": np.array([index, index]), "y": np.uint8(index)}

    batches = list(DataLoader(Records(), batch_size=2))
    assert [batch["x"].shape for batch in batches] == [(2, 2), (2, 2), (1, 2)]
    assert batches[0]["y"].dtype == np.int64
    np.testing.assert_array_equal(batches[2]["y"]._data, [4])


def test_dataloader_single_array_dataset_yields_one_tuple():
    (batch,) = next(iter(DataLoader(TensorDataset(np.ones((4, 2))), batch_size=4)))
    assert batch.shape == (4, 2) and batch.dtype == np.float64


def test_dataloader_rejects_bad_arguments():
    with pytest.raises(ValueError, match="batch_size should be a positive integer.*batch_size=0"):
        DataLoader(_numbered(3), batch_size=0)
    with pytest.raises(ValueError, match="batch_size=-2"):
        DataLoader(_numbered(3), batch_size=-2)
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(_numbered(3), batch_size=2.0)
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(_numbered(3), batch_size=True)
    with pytest.raises(TypeError, match="needs __len__ and __getitem__"):
        DataLoader(42)


def test_tensordataset_accepts_tensors_and_arrays():
    dataset = TensorDataset(Tensor(np.zeros((4, 2), np.float32)), np.arange(4, dtype=np.uint8))
    assert len(dataset) == 4
    features, label = dataset[3]
    assert features.shape == (2,) and label.dtype == np.int64 and int(label._data) == 3
    batch_x, batch_y = dataset.get_batch(np.array([0, 2]))
    assert batch_x.shape == (2, 2)
    np.testing.assert_array_equal(batch_y, [0, 2])


def test_tensordataset_rejects_mismatched_or_missing_tensors():
    with pytest.raises(ValueError, match=r"same first dimension.*\(4, 2\), \(3,\)"):
        TensorDataset(np.zeros((4, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()
    with pytest.raises(ValueError, match="same first dimension"):
        TensorDataset(np.float32(1.0))


def test_collate_names_shapes_it_cannot_stack():
    with pytest.raises(
        ValueError, match=r"collate: cannot stack samples of shapes \[\(2,\), \(3,\)\]"
    ):
        collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(ValueError, match="different numbers of fields"):
        collate([(1, 2), (1,)])


def test_dataset_base_class_asks_for_the_methods():
    with pytest.raises(NotImplementedError, match="__getitem__"):
        Dataset()[0]
    with pytest.raises(NotImplementedError, match="__len__"):
        len(Dataset())


def test_load_digits_shapes_and_range():
    images, labels = load_digits()
    assert images.dtype == np.float32 and images.shape[1:] == (1, 8, 8)
    assert labels.dtype == np.int64 and labels.shape == (len(images),)
    assert 0.0 <= images.min() and images.max() == 1.0
    assert set(np.unique(labels)) == set(range(10))


def test_load_digits_split_is_disjoint_stratified_and_reproducible():
    train_x, train_y = load_digits(train=True, seed=3)
    test_x, test_y = load_digits(train=False, seed=3)
    assert len(train_y) + len(test_y) == 1797
    assert abs(len(test_y) / 1797 - 0.2) < 0.01
    from sklearn.datasets import load_digits as sklearn_load_digits

    everything = np.concatenate([train_x, test_x]).reshape(1797, 64) * 16
    expected = sklearn_load_digits().data
    np.testing.assert_array_equal(np.unique(everything, axis=0), np.unique(expected, axis=0))
    assert len(everything) == len(expected)
    test_share = np.bincount(test_y, minlength=10) / np.bincount(np.r_[train_y, test_y])
    assert np.all(np.abs(test_share - 0.2) < 0.02)
    again_x, again_y = load_digits(train=False, seed=3)
    np.testing.assert_array_equal(again_x, test_x)
    np.testing.assert_array_equal(again_y, test_y)
    assert not np.array_equal(load_digits(train=False, seed=4)[1], test_y)


def test_load_digits_rejects_bad_fraction():
    with pytest.raises(ValueError, match="test_fraction must be in"):
        load_digits(test_fraction=1.0)


def test_digits_train_through_dataloader():
    images, labels = load_digits()
    loader = DataLoader(TensorDataset(images, labels), batch_size=64, shuffle=True, seed=0)
    features, targets = next(iter(loader))
    assert features.shape == (64, 1, 8, 8) and targets.dtype == np.int64


# ------------------------------------------------------------------ PyTorch's arguments, samplers


@given(st.integers(0, 30), st.integers(1, 8), st.booleans())
def test_batch_sampler_matches_torch(num_samples, batch_size, drop_last):
    torch = pytest.importorskip("torch")
    expected = list(torch.utils.data.BatchSampler(range(num_samples), batch_size, drop_last))
    sampler = BatchSampler(SequentialSampler(range(num_samples)), batch_size, drop_last)
    assert list(sampler) == expected and len(sampler) == len(expected)
    assert list(BatchSampler(range(num_samples), batch_size, drop_last)) == expected


def test_random_samplers_draw_what_they_promise():
    rng = np.random.default_rng(0)
    data = range(10)
    epochs = [list(RandomSampler(data, generator=rng)) for _ in range(2)]
    assert all(sorted(epoch) == list(range(10)) for epoch in epochs) and epochs[0] != epochs[1]
    assert all(type(i) is int for i in epochs[0])
    drawn = list(RandomSampler(data, replacement=True, num_samples=50, generator=rng))
    assert len(drawn) == 50 and set(drawn) <= set(range(10))
    repeated = list(RandomSampler(range(4), num_samples=10, generator=rng))
    assert sorted(repeated[:4]) == sorted(repeated[4:8]) == [0, 1, 2, 3] and len(repeated) == 10
    subset = list(SubsetRandomSampler([7, 3, 9], generator=rng))
    assert sorted(subset) == [3, 7, 9]
    weighted = WeightedRandomSampler([0.0, 1.0, 3.0, 0.0], 4000, generator=rng)
    counts = np.bincount(list(weighted), minlength=4)
    assert counts[0] == counts[3] == 0 and 2.6 < counts[2] / counts[1] < 3.4
    unique = list(WeightedRandomSampler([1.0, 1.0, 1.0], 3, replacement=False, generator=rng))
    assert sorted(unique) == [0, 1, 2]


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: RandomSampler(range(3), replacement=1), TypeError, "replacement"),
        (lambda: RandomSampler(range(3), num_samples=0), ValueError, "num_samples"),
        (lambda: WeightedRandomSampler([1.0], 0), ValueError, "num_samples"),
        (lambda: WeightedRandomSampler([[1.0]], 1), ValueError, "weights should be a 1d"),
        (lambda: WeightedRandomSampler([1.0, -1.0], 1), ValueError, "non-negative"),
        (lambda: WeightedRandomSampler([0.0, 0.0], 1), ValueError, "not all zero"),
        (lambda: WeightedRandomSampler([1.0, 0.0], 2, replacement=False), ValueError,
         "without replacement"),
        (lambda: BatchSampler(range(3), 0, False), ValueError, "batch_size should be a positive"),
        (lambda: BatchSampler(range(3), 2, 1), ValueError, "drop_last should be a boolean"),
        (lambda: RandomSampler(range(3), generator=42), TypeError, "generator"),
    ],
)
def test_sampler_arguments_are_checked(make, error, match):
    with pytest.raises(error, match=match):
        make()


BAD_LOADER_ARGUMENTS = [
    {"batch_size": 0},
    {"batch_size": -3},
    {"shuffle": True, "sampler": [0, 1, 2]},
    {"batch_sampler": [[0, 1]], "batch_size": 2},
    {"batch_sampler": [[0, 1]], "shuffle": True},
    {"batch_sampler": [[0, 1]], "drop_last": True},
    {"batch_size": None, "drop_last": True},
    {"num_workers": -1},
    {"timeout": -1},
    {"prefetch_factor": 2},
    {"persistent_workers": True},
    {"multiprocessing_context": "spawn"},
    {"num_workers": 2, "multiprocessing_context": "teleport"},
]


@pytest.mark.parametrize("kwargs", BAD_LOADER_ARGUMENTS, ids=lambda kw: ",".join(kw))
def test_loader_arguments_are_checked_like_torch(kwargs):
    torch = pytest.importorskip("torch")
    data = list(zip(np.arange(6.0), np.arange(6), strict=True))
    with pytest.raises(ValueError) as expected:
        torch.utils.data.DataLoader(data, **kwargs)
    with pytest.raises(ValueError, match="DataLoader") as info:
        DataLoader(_numbered(6), **kwargs)
    named = [word for word in kwargs if word in str(expected.value)]
    assert all(word in str(info.value) for word in named), (info.value, expected.value)


def test_workers_load_in_process_with_identical_batches():
    calls = []

    def init(worker_id):
        info = get_worker_info()
        calls.append((worker_id, info.id, info.num_workers, type(info.dataset).__name__))

    plain = DataLoader(_numbered(23), batch_size=5, shuffle=True, seed=3)
    workers = DataLoader(_numbered(23), batch_size=5, shuffle=True, seed=3, num_workers=3,
                         worker_init_fn=init, pin_memory=True, prefetch_factor=4, timeout=5,
                         multiprocessing_context="spawn")
    for _ in range(2):
        for a, b in zip(_labels(plain), _labels(workers), strict=True):
            np.testing.assert_array_equal(a, b)
    assert calls == [(i, i, 3, "TensorDataset") for i in range(3)] * 2
    assert get_worker_info() is None
    calls.clear()
    persistent = DataLoader(_numbered(4), num_workers=2, persistent_workers=True,
                            worker_init_fn=init)
    list(persistent), list(persistent)
    assert [c[0] for c in calls] == [0, 1]


def test_collate_fn_gets_the_samples_and_its_result_is_yielded():
    seen = []

    def collate_fn(samples):
        seen.append(len(samples))
        return ("custom", samples)

    batches = list(DataLoader(_PerItem(5), batch_size=2, collate_fn=collate_fn))
    assert seen == [2, 2, 1] and batches[0][0] == "custom"
    assert np.array_equal(batches[2][1][0][0], np.full(3, 4.0))
    x, y = next(iter(DataLoader(_PerItem(4), batch_size=4, collate_fn=default_collate)))
    assert isinstance(x, Tensor) and x.shape == (4, 3) and y.dtype == np.int64


def test_batch_size_none_yields_single_samples():
    samples = list(DataLoader(_PerItem(3), batch_size=None))
    assert len(samples) == 3 and samples[1][0].shape == (3,)
    assert isinstance(samples[1][1], Tensor) and int(samples[1][1]._data) == 1


def test_samplers_and_batch_samplers_choose_the_order():
    loader = DataLoader(_numbered(10), batch_size=3, sampler=[9, 8, 7, 1])
    assert [y._data.tolist() for _, y in loader] == [[9, 8, 7], [1]]
    loader = DataLoader(_numbered(10), batch_sampler=[[4, 2], [0]])
    assert [y._data.tolist() for _, y in loader] == [[4, 2], [0]] and len(loader) == 2
    sampler = SubsetRandomSampler([1, 3, 5, 7], generator=np.random.default_rng(0))
    labels = np.concatenate(_labels(DataLoader(_numbered(10), batch_size=3, sampler=sampler)))
    assert sorted(labels.tolist()) == [1, 3, 5, 7]


def test_generator_makes_shuffles_reproducible():
    def epochs(generator):
        loader = DataLoader(_numbered(20), batch_size=20, shuffle=True, generator=generator)
        return [_labels(loader)[0] for _ in range(2)]

    first = epochs(np.random.default_rng(5))
    second = epochs(np.random.default_rng(5))
    np.testing.assert_array_equal(np.stack(first), np.stack(second))
    with pytest.raises(ValueError, match="generator or seed"):
        DataLoader(_numbered(3), generator=np.random.default_rng(0), seed=1)


def test_subset_and_random_split():
    dataset = _numbered(10)
    subset = Subset(dataset, [8, 2, 5])
    assert len(subset) == 3 and int(subset[1][1]._data) == 2
    assert [y._data.tolist() for _, y in DataLoader(subset, batch_size=2)] == [[8, 2], [5]]
    parts = random_split(dataset, [3, 7], generator=np.random.default_rng(0))
    assert [len(p) for p in parts] == [3, 7]
    assert sorted(parts[0].indices + parts[1].indices) == list(range(10))
    with pytest.raises(ValueError, match="random_split: sum of input lengths"):
        random_split(dataset, [3, 3])
    with pytest.raises(ValueError, match="random_split: fraction at index 1"):
        random_split(dataset, [0.5, -0.5, 1.0])


@pytest.mark.parametrize("fractions", [[0.3, 0.7], [0.5, 0.25, 0.25], [0.1, 0.1, 0.8], [1 / 3] * 3])
@pytest.mark.parametrize("size", [7, 10, 11])
def test_random_split_fraction_counts_match_torch(fractions, size):
    torch = pytest.importorskip("torch")
    expected = [len(p) for p in torch.utils.data.random_split(range(size), fractions)]
    assert [len(p) for p in random_split(_numbered(size), fractions)] == expected


def test_concat_dataset_indexes_and_gathers_like_per_sample():
    a, b, c = _numbered(3), _PerItem(2), _numbered(4)
    joined = ConcatDataset([a, b, c])
    assert len(joined) == 9 and joined.cumulative_sizes == [3, 5, 9]
    assert int(joined[4][1]) == 1 and int(joined[-1][1]._data) == 3
    with pytest.raises(ValueError, match="absolute value of index"):
        joined[-10]
    with pytest.raises(IndexError, match="ConcatDataset"):
        joined[9]
    with pytest.raises(ValueError, match="empty"):
        ConcatDataset([])
    both = a + c
    order = np.array([6, 0, 3, 2, 5])
    x, y = both.get_batch(order)
    np.testing.assert_array_equal(y, [3, 0, 0, 2, 2])
    np.testing.assert_array_equal(x[:, 0], [3, 0, 0, 2, 2])
    labels = [y._data.tolist() for _, y in DataLoader(joined, batch_size=4)]
    assert labels == [[0, 1, 2, 0], [1, 0, 1, 2], [3]]


# ------------------------------------------------------------------ IDX files: bounded reading


def test_gzip_bomb_idx_is_refused_before_inflating_it_all(tmp_path, monkeypatch):
    import gzip

    import minigrad.data.idx as idx

    path = tmp_path / "bomb-idx1-ubyte.gz"
    header = bytes([0, 0, 8, 1]) + (4_000_000).to_bytes(4, "big")
    path.write_bytes(gzip.compress(header + bytes(4_000_000)))
    assert path.stat().st_size < 10_000
    monkeypatch.setattr(idx, "MAX_IDX_BYTES", 1_000_000)
    with pytest.raises(ValueError, match="bomb-idx1-ubyte.gz.*inflates to more than 1,000,000"):
        idx.read_idx(path)
    monkeypatch.setattr(idx, "MAX_IDX_BYTES", 8_000_000)
    assert idx.read_idx(path).shape == (4_000_000,)


def test_idx_reading_handles_multi_member_truncated_and_overflowing_files(tmp_path):
    import gzip

    from minigrad.data import read_idx

    raw = bytes([0, 0, 8, 1, 0, 0, 0, 4, 1, 2, 3, 4])
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(raw[:6]) + gzip.compress(raw[6:]))  # two gzip members
    np.testing.assert_array_equal(read_idx(path), [1, 2, 3, 4])
    path.write_bytes(gzip.compress(raw)[:-12])
    with pytest.raises(ValueError, match="labels.gz: corrupt or truncated gzip"):
        read_idx(path)
    # dimensions whose product wraps around in int64 must not pass the size check
    dims = [2**32 - 1] * 3 + [2**31]
    header = bytes([0, 0, 8, len(dims)]) + b"".join(d.to_bytes(4, "big") for d in dims)
    path = tmp_path / "huge"
    path.write_bytes(header + bytes(8))
    with pytest.raises(ValueError, match="huge: truncated IDX file"):
        read_idx(path)


def test_download_reads_at_most_the_limit(monkeypatch):
    import io
    import urllib.request

    import minigrad.data.mnist as mnist_module

    class Endless(io.RawIOBase):
        def readable(self):
            return True

        def readinto(self, buffer):
            buffer[:] = b"\0" * len(buffer)
            return len(buffer)

    requested = []

    def fake_urlopen(request, timeout):
        requested.append(request.full_url)
        return io.BufferedReader(Endless())

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    with pytest.raises(ValueError, match="longer than 1,000 bytes"):
        mnist_module._fetch("https://example.invalid/x.gz", limit=1000)
    assert mnist_module.MAX_DOWNLOAD_BYTES == 64 << 20
    errors = []
    monkeypatch.setattr(mnist_module, "MAX_DOWNLOAD_BYTES", 5000)
    assert not mnist_module._download(Path("/nonexistent"), "t10k-labels-idx1-ubyte", errors)
    assert len(errors) == len(mnist_module.MIRRORS) and "longer than 5,000" in errors[0]
