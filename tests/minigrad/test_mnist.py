"""IDX files, the MNIST loader (files, errors, checksums, downloads) and the real MNIST files.

No test touches the network: downloads go through a stand-in for ``minigrad.data.mnist._fetch``.
The real-file tests read ``$MINIGRAD_MNIST_DIR`` (the official t10k files) when it is set.
"""

import gzip
import hashlib
import os
import urllib.error
from pathlib import Path

import numpy as np
import pytest

from minigrad.data import (
    MIRRORS,
    MNIST,
    MNIST_MD5,
    MNIST_MEAN,
    MNIST_STD,
    DataLoader,
    default_root,
    download_mnist,
    load_mnist,
    make_offline_split,
    read_idx,
    write_idx,
)
from minigrad.data import mnist as mnist_module

FILES = {
    True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def _fake_split(num_samples: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    generator = np.random.default_rng(seed)
    images = generator.integers(0, 256, size=(num_samples, 28, 28), dtype=np.uint8)
    return images, generator.integers(0, 10, size=num_samples).astype(np.uint8)


def _write_split(folder: Path, train: bool, num_samples: int, gz: bool = True) -> tuple:
    images, labels = _fake_split(num_samples, seed=int(train))
    suffix = ".gz" if gz else ""
    images_name, labels_name = FILES[train]
    write_idx(folder / f"{images_name}{suffix}", images)
    write_idx(folder / f"{labels_name}{suffix}", labels)
    return images, labels


def _gz_payloads(train: bool, num_samples: int) -> dict[str, bytes]:
    """Deterministic gzipped IDX bytes of a fake split, by uncompressed file name."""
    images, labels = _fake_split(num_samples, seed=int(train))
    header = {1: 2049, 3: 2051}
    payloads = {}
    for name, array in zip(FILES[train], (images, labels), strict=True):
        raw = np.array([header[array.ndim], *array.shape], ">i4").tobytes() + array.tobytes()
        payloads[name] = gzip.compress(raw, mtime=0)
    return payloads


@pytest.fixture
def mirrors(monkeypatch):
    """Fake mirrors serving fake MNIST files whose MD5s stand in for the official ones.

    ``served[mirror]`` maps a URL's file name to the bytes that mirror returns (an Exception
    instance is raised instead); ``calls`` lists the URLs fetched.
    """
    payloads = {**_gz_payloads(True, 30), **_gz_payloads(False, 20)}
    for name, payload in payloads.items():
        monkeypatch.setitem(MNIST_MD5, name, hashlib.md5(payload).hexdigest())
    served = {
        mirror: {f"{name}.gz": payload for name, payload in payloads.items()} for mirror in MIRRORS
    }
    calls = []

    def fake_fetch(url, timeout=30.0):
        calls.append(url)
        mirror, file_name = url.rsplit("/", 1)
        answer = served[mirror + "/"][file_name]
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(mnist_module, "_fetch", fake_fetch)
    return served, calls


# ---------------------------------------------------------------------------------- IDX files


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_round_trip(tmp_path, dtype, suffix):
    array = (np.arange(2 * 3 * 4) - 7).astype(dtype).reshape(2, 3, 4)
    path = write_idx(tmp_path / f"a.idx{suffix}", array)
    loaded = read_idx(path)
    assert loaded.dtype == np.dtype(dtype) and loaded.dtype.isnative
    np.testing.assert_array_equal(loaded, array)
    assert loaded.flags.writeable


def test_idx_layout_is_big_endian_with_header(tmp_path):
    path = write_idx(tmp_path / "labels", np.array([1, 2, 3], np.int32))
    assert path.read_bytes() == (
        bytes([0, 0, 0x0C, 1])
        + (3).to_bytes(4, "big")
        + b"".join(v.to_bytes(4, "big") for v in (1, 2, 3))
    )


def test_idx_gzip_is_detected_by_content(tmp_path):
    path = tmp_path / "no-suffix"
    path.write_bytes(gzip.compress(bytes([0, 0, 8, 1, 0, 0, 0, 2, 7, 9])))
    np.testing.assert_array_equal(read_idx(path), [7, 9])


def test_write_idx_rejects_unsupported_dtype(tmp_path):
    with pytest.raises(TypeError, match="IDX cannot store dtype int64"):
        write_idx(tmp_path / "x", np.zeros(3, np.int64))


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"\x00\x00", "truncated IDX file: 2 bytes"),
        (b"PK\x03\x04rest", "not an IDX file: wrong magic number 0x504B0304"),
        (bytes([0, 0, 8, 3, 0, 0, 0, 2]), "declares 3 dimensions"),
        (
            bytes([0, 0, 8, 1, 0, 0, 0, 5, 1, 2]),
            r"declares shape \(5,\) \(5 bytes of data\) but only 2",
        ),
        (bytes([0, 0, 8, 1, 0, 0, 0, 1, 1, 2]), "1 bytes follow"),
    ],
)
def test_read_idx_errors_name_the_file(tmp_path, payload, message):
    path = tmp_path / "broken-idx1-ubyte"
    path.write_bytes(payload)
    with pytest.raises(ValueError, match=message) as error:
        read_idx(path)
    assert str(path) in str(error.value)


def test_read_idx_truncated_gzip(tmp_path):
    path = write_idx(tmp_path / "x.gz", np.arange(5000, dtype=np.int32))
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ValueError, match="corrupt or truncated gzip file") as error:
        read_idx(path)
    assert str(path) in str(error.value)


def test_write_idx_leaves_no_partial_file(tmp_path, monkeypatch):
    target = tmp_path / "x.gz"

    def failing_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        write_idx(target, np.zeros(3, np.uint8))
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------- reading MNIST files


@pytest.mark.parametrize("gz", [True, False])
def test_load_mnist_reads_gzipped_or_raw_files(tmp_path, gz):
    images, labels = _write_split(tmp_path, train=True, num_samples=12, gz=gz)
    loaded_images, loaded_labels = load_mnist(tmp_path, train=True, download=False)
    assert loaded_images.dtype == np.uint8 and loaded_images.shape == (12, 28, 28)
    assert loaded_labels.dtype == np.int64 and loaded_labels.shape == (12,)
    np.testing.assert_array_equal(loaded_images, images)
    np.testing.assert_array_equal(loaded_labels, labels)


def test_load_mnist_normalized(tmp_path):
    images, _ = _write_split(tmp_path, train=True, num_samples=5)
    normalized, _ = load_mnist(tmp_path, normalize=True, download=False)
    assert normalized.dtype == np.float32 and normalized.shape == (5, 1, 28, 28)
    expected = (images[:, None] / 255.0 - MNIST_MEAN) / MNIST_STD
    np.testing.assert_allclose(normalized, expected, rtol=1e-5, atol=1e-5)


def test_load_mnist_test_split_needs_only_t10k_files(tmp_path):
    _, labels = _write_split(tmp_path, train=False, num_samples=7)
    images, loaded = load_mnist(tmp_path, train=False, download=False)
    assert images.shape == (7, 28, 28)
    np.testing.assert_array_equal(loaded, labels)


def test_load_mnist_missing_files_offline_says_what_to_put_where(tmp_path):
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(3, np.uint8))
    with pytest.raises(FileNotFoundError) as error:
        load_mnist(tmp_path, train=True, download=False)
    message = str(error.value)
    assert "train-images-idx3-ubyte.gz" in message and str(tmp_path) in message
    assert "train-labels" not in message


def test_load_mnist_swapped_files_wrong_magic(tmp_path):
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", np.zeros(4, np.uint8))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(4, np.uint8))
    with pytest.raises(ValueError, match="wrong magic number 2049") as error:
        load_mnist(tmp_path, train=False, download=False)
    assert "t10k-images-idx3-ubyte.gz" in str(error.value)


def test_load_mnist_truncated_file(tmp_path):
    _write_split(tmp_path, train=False, num_samples=4, gz=False)
    path = tmp_path / "t10k-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(ValueError, match="truncated") as error:
        load_mnist(tmp_path, train=False, download=False)
    assert str(path) in str(error.value)


def test_load_mnist_images_and_labels_must_agree(tmp_path):
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", np.zeros((4, 28, 28), np.uint8))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(3, np.uint8))
    with pytest.raises(ValueError, match="4 images but .* 3 labels"):
        load_mnist(tmp_path, train=False, download=False)


def test_verify_checks_present_files_against_official_md5(tmp_path):
    _write_split(tmp_path, train=False, num_samples=4)
    assert len(load_mnist(tmp_path, train=False, download=False)[1]) == 4
    with pytest.raises(ValueError, match="checksum mismatch") as error:
        load_mnist(tmp_path, train=False, download=False, verify=True)
    assert "t10k-images-idx3-ubyte.gz" in str(error.value)
    assert MNIST_MD5["t10k-images-idx3-ubyte"] in str(error.value)


def test_verify_refuses_uncompressed_files(tmp_path):
    _write_split(tmp_path, train=False, num_samples=4, gz=False)
    with pytest.raises(ValueError, match="uncompressed"):
        load_mnist(tmp_path, train=False, download=False, verify=True)


def test_mnist_dataset_batches(tmp_path):
    images, labels = _write_split(tmp_path, train=True, num_samples=10)
    dataset = MNIST(tmp_path, train=True, download=False)
    assert len(dataset) == 10 and dataset.data.dtype == np.uint8
    assert dataset.targets.dtype == np.int64
    image, label = dataset[3]
    assert image.shape == (1, 28, 28) and image.dtype == np.float32 and label == labels[3]
    batches = list(DataLoader(dataset, batch_size=4))
    assert [x.shape for x, _ in batches] == [(4, 1, 28, 28), (4, 1, 28, 28), (2, 1, 28, 28)]
    np.testing.assert_allclose(batches[0][0]._data[3], image._data)
    raw = MNIST(tmp_path, download=False, normalize=False)
    np.testing.assert_allclose(raw[0][0]._data[0], images[0] / 255.0, rtol=1e-6)


def test_default_root(monkeypatch, tmp_path):
    monkeypatch.setenv("MINIGRAD_DATA", str(tmp_path))
    assert default_root() == tmp_path / "mnist"
    monkeypatch.delenv("MINIGRAD_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert default_root() == tmp_path / "cache" / "minigrad" / "mnist"


# ---------------------------------------------------------------------------------- downloads


def test_download_fetches_missing_files_into_default_root(tmp_path, monkeypatch, mirrors):
    _, calls = mirrors
    monkeypatch.setenv("MINIGRAD_DATA", str(tmp_path))
    dataset = MNIST(train=False)
    assert len(dataset) == 20
    assert sorted(p.name for p in (tmp_path / "mnist").iterdir()) == [
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ]
    assert calls == [f"{MIRRORS[0]}{name}.gz" for name in FILES[False]]
    MNIST(train=False)
    assert len(calls) == 2  # present files are not fetched again


def test_download_falls_back_when_a_mirror_serves_bad_bytes(tmp_path, mirrors):
    served, calls = mirrors
    served[MIRRORS[0]]["t10k-images-idx3-ubyte.gz"] = b"<html>not found</html>"
    served[MIRRORS[0]]["t10k-labels-idx1-ubyte.gz"] = urllib.error.URLError("no route")
    images, labels = load_mnist(tmp_path, train=False)
    assert images.shape == (20, 28, 28) and labels.shape == (20,)
    assert [url.startswith(MIRRORS[1]) for url in calls] == [False, True, False, True]


def test_download_fails_with_checksums_and_leaves_no_file(tmp_path, mirrors):
    served, _ = mirrors
    for mirror in MIRRORS:
        served[mirror]["train-labels-idx1-ubyte.gz"] = b"\x1f\x8b corrupted"
    with pytest.raises(RuntimeError) as error:
        load_mnist(tmp_path, train=True)
    message = str(error.value)
    assert message.count("checksum mismatch") == len(MIRRORS)
    assert "put these files" in message and "train-labels-idx1-ubyte.gz" in message
    assert str(tmp_path) in message
    # the good file arrived whole; the bad one was never written, not even partially
    assert [p.name for p in tmp_path.iterdir()] == ["train-images-idx3-ubyte.gz"]


def test_download_offline_lists_every_missing_file(tmp_path, mirrors):
    served, _ = mirrors
    for mirror in MIRRORS:
        for name in served[mirror]:
            served[mirror][name] = urllib.error.URLError("Name or service not known")
    with pytest.raises(RuntimeError, match="Without internet access") as error:
        download_mnist(tmp_path)
    message = str(error.value)
    for name in (*FILES[True], *FILES[False]):
        assert f"{name}.gz" in message
    assert message.count("Name or service not known") == 4 * len(MIRRORS)
    assert list(tmp_path.iterdir()) == []


def test_official_checksums():
    assert MNIST_MD5 == {
        "train-images-idx3-ubyte": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte": "ec29112dd5afa0611ce80d1b7f02629c",
    }


# ---------------------------------------------------------------------------- the real files

MNIST_DIR = os.environ.get("MINIGRAD_MNIST_DIR")
needs_mnist = pytest.mark.skipif(not MNIST_DIR, reason="MINIGRAD_MNIST_DIR is not set")
T10K_LABEL_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture(scope="module")
def offline_split(tmp_path_factory):
    return make_offline_split(MNIST_DIR, tmp_path_factory.mktemp("mnist-offline-split"))


@needs_mnist
def test_real_t10k_files_match_official_checksums():
    images, labels = load_mnist(MNIST_DIR, train=False, download=False, verify=True)
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == T10K_LABEL_COUNTS


@needs_mnist
def test_offline_split_loads_as_standard_mnist(offline_split):
    assert sorted(p.name for p in offline_split.iterdir()) == sorted(
        f"{name}.gz" for names in FILES.values() for name in names
    )
    _, all_labels = load_mnist(MNIST_DIR, train=False, download=False)
    train_x, train_y = load_mnist(offline_split, train=True, download=False)
    test_x, test_y = load_mnist(offline_split, train=False, download=False)
    assert train_x.shape == (8000, 28, 28) and test_x.shape == (2000, 28, 28)
    assert train_x.dtype == test_x.dtype == np.uint8
    assert train_y.dtype == test_y.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(train_y), np.bincount(all_labels[:8000]))
    np.testing.assert_array_equal(np.bincount(test_y), np.bincount(all_labels[8000:]))
    assert (np.bincount(train_y) + np.bincount(test_y)).tolist() == T10K_LABEL_COUNTS


@needs_mnist
def test_offline_split_normalized_and_through_the_loader(offline_split):
    images, _ = load_mnist(offline_split, train=True, normalize=True, download=False)
    assert images.dtype == np.float32 and images.shape == (8000, 1, 28, 28)
    assert abs(float(images.mean())) < 0.1 and 0.9 < float(images.std()) < 1.1
    dataset = MNIST(offline_split, train=False, download=False)
    loader = DataLoader(dataset, batch_size=128, shuffle=True, drop_last=True, seed=0)
    assert len(loader) == 15
    shapes = {(x.shape, x.dtype, y.shape, y.dtype) for x, y in loader}
    assert shapes == {((128, 1, 28, 28), np.dtype(np.float32), (128,), np.dtype(np.int64))}


@needs_mnist
def test_offline_split_fails_verification(offline_split):
    with pytest.raises(ValueError, match="checksum mismatch"):
        load_mnist(offline_split, train=True, download=False, verify=True)
