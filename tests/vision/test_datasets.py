"""minigrad.vision.datasets: torchvision's MNIST family on real and synthetic IDX files, downloads
through a local HTTP server, and the DataLoader's batch fast path."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import os
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from minigrad.data import DataLoader, default_collate, load_mnist, write_idx
from minigrad.tensor import Tensor
from minigrad.vision import datasets

MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
               "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
# MD5 of the uncompressed official MNIST files (the same bytes as inside the official .gz
# files, whose MD5s torchvision checks): the re-compressed training files in
# MINIGRAD_MNIST_FULL_DIR are verified by their content
MNIST_CONTENT_MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}


def _env_dir(name: str) -> Path:
    folder = os.environ.get(name)
    if not folder:
        pytest.skip(f"set {name} to the folder with the MNIST files")
    return Path(folder)


@pytest.fixture
def mnist_dir() -> Path:
    return _env_dir("MINIGRAD_MNIST_DIR")


@pytest.fixture
def mnist_full_dir() -> Path:
    return _env_dir("MINIGRAD_MNIST_FULL_DIR")


def _torchvision_layout(root: Path, source: Path, names: tuple[str, ...], cls: str = "MNIST"
                        ) -> Path:
    raw = root / cls / "raw"
    raw.mkdir(parents=True)
    for name in names:
        (raw / f"{name}.gz").symlink_to(source / f"{name}.gz")
    return root


def _synthetic(count: int, seed: int, classes: int = 10) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(count, 28, 28), dtype=np.uint8)
    return images, rng.integers(0, classes, size=count).astype(np.uint8)


def _write_split(folder: Path, images_name: str, labels_name: str, count: int, seed: int,
                 gz: bool = True, classes: int = 10) -> tuple[np.ndarray, np.ndarray]:
    images, labels = _synthetic(count, seed, classes)
    suffix = ".gz" if gz else ""
    write_idx(folder / f"{images_name}{suffix}", images)
    write_idx(folder / f"{labels_name}{suffix}", labels)
    return images, labels


def _gz_idx(array: np.ndarray, tmp: Path) -> bytes:
    path = write_idx(tmp / f"scratch-{hashlib.md5(array.tobytes()).hexdigest()}.gz", array)
    return path.read_bytes()


# -- the real MNIST files ---------------------------------------------------------------------


def test_official_test_files_in_torchvision_layout(mnist_dir: Path, tmp_path: Path) -> None:
    root = _torchvision_layout(tmp_path, mnist_dir, MNIST_FILES[2:])
    dataset = datasets.MNIST(str(root), train=False)
    images, labels = load_mnist(mnist_dir, train=False, download=False)
    assert isinstance(dataset.data, Tensor) and isinstance(dataset.targets, Tensor)
    assert dataset.data.shape == (10000, 28, 28) and str(dataset.data.dtype) == "minigrad.uint8"
    assert dataset.targets.shape == (10000,) and str(dataset.targets.dtype) == "minigrad.int64"
    np.testing.assert_array_equal(dataset.data.numpy(), images)
    np.testing.assert_array_equal(dataset.targets.numpy(), labels)
    image, target = dataset[123]
    assert isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.shape == (28, 28)
    assert type(target) is int and target == labels[123]
    np.testing.assert_array_equal(image, images[123])
    assert len(dataset) == 10000 and dataset.train is False and dataset.root == str(root)
    assert dataset.classes[0] == "0 - zero" and dataset.classes[9] == "9 - nine"
    assert dataset.class_to_idx["7 - seven"] == 7
    assert dataset.raw_folder == os.path.join(str(root), "MNIST", "raw")
    assert repr(dataset) == (
        f"Dataset MNIST\n    Number of datapoints: 10000\n    Root location: {root}\n"
        "    Split: Test"
    )


def test_official_test_files_in_minigrads_layout(mnist_dir: Path) -> None:
    dataset = datasets.MNIST(mnist_dir, train=False)
    images, labels = load_mnist(mnist_dir, train=False, download=False)
    np.testing.assert_array_equal(dataset.data.numpy(), images)
    np.testing.assert_array_equal(dataset.targets.numpy(), labels)


def test_missing_split_says_dataset_not_found_and_where_it_looked(mnist_dir: Path,
                                                                  tmp_path: Path) -> None:
    root = _torchvision_layout(tmp_path, mnist_dir, MNIST_FILES[2:])
    with pytest.raises(RuntimeError) as info:
        datasets.MNIST(root, train=True)
    message = str(info.value)
    assert message.startswith("Dataset not found. You can use download=True to download it")
    assert "train-images-idx3-ubyte  (missing)" in message
    assert f"{root / 'MNIST' / 'raw'}  (torchvision's layout)" in message
    assert f"{root}  (minigrad's layout)" in message


def test_full_mnist_in_torchvision_layout(mnist_full_dir: Path, tmp_path: Path) -> None:
    # The training files there are re-compressed, so their .gz MD5s differ from torchvision's;
    # files found are used as they are (as torchvision does) and these are checked by content.
    for name in MNIST_FILES:
        content = gzip.decompress((mnist_full_dir / f"{name}.gz").read_bytes())
        assert hashlib.md5(content).hexdigest() == MNIST_CONTENT_MD5[name], name
    root = _torchvision_layout(tmp_path, mnist_full_dir, MNIST_FILES)
    train = datasets.MNIST(root, train=True)
    assert train.data.shape == (60000, 28, 28) and train.targets.shape == (60000,)
    assert np.bincount(train.targets.numpy()).tolist()[:2] == [5923, 6742]
    assert len(datasets.MNIST(root, train=False)) == 10000


# -- synthetic files: FashionMNIST, KMNIST, EMNIST --------------------------------------------


@pytest.mark.parametrize("cls", [datasets.FashionMNIST, datasets.KMNIST])
@pytest.mark.parametrize("gz", [True, False])
def test_fashion_and_kmnist_read_their_own_raw_folder(cls: type, gz: bool, tmp_path: Path
                                                     ) -> None:
    raw = tmp_path / cls.__name__ / "raw"
    images, labels = _write_split(raw, "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                  12, seed=1, gz=gz)
    dataset = cls(tmp_path, train=True)
    np.testing.assert_array_equal(dataset.data.numpy(), images)
    np.testing.assert_array_equal(dataset.targets.numpy(), labels)
    assert len(dataset.classes) == 10 and dataset.class_to_idx[dataset.classes[3]] == 3
    assert repr(dataset).startswith(f"Dataset {cls.__name__}\n    Number of datapoints: 12\n")
    with pytest.raises(RuntimeError, match="Dataset not found"):
        cls(tmp_path, train=False)


def test_class_names_are_torchvisions() -> None:
    assert datasets.FashionMNIST.classes[0] == "T-shirt/top"
    assert datasets.FashionMNIST.classes[-1] == "Ankle boot"
    assert datasets.KMNIST.classes[:3] == ["o", "ki", "su"]
    splits = datasets.EMNIST.classes_split_dict
    assert len(splits["byclass"]) == 62 and len(splits["balanced"]) == 47
    assert len(splits["bymerge"]) == 47 and splits["letters"][:2] == ["N/A", "a"]
    assert splits["bymerge"][:12] == [*"0123456789", "A", "B"] and "c" not in splits["bymerge"]


def test_mnist_reads_minigrads_layout_beside_other_files(tmp_path: Path) -> None:
    images, labels = _write_split(tmp_path, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
                                  9, seed=2, gz=False)
    dataset = datasets.MNIST(tmp_path, train=False)
    np.testing.assert_array_equal(dataset.data.numpy(), images)
    np.testing.assert_array_equal(dataset.targets.numpy(), labels)


def test_emnist_split_files_are_read_as_stored(tmp_path: Path) -> None:
    raw = tmp_path / "EMNIST" / "raw"
    images, labels = _write_split(raw, "emnist-balanced-test-images-idx3-ubyte",
                                  "emnist-balanced-test-labels-idx1-ubyte", 10, seed=3,
                                  classes=47)
    dataset = datasets.EMNIST(tmp_path, "balanced", train=False)
    # torchvision hands EMNIST's images out as NIST stored them (transposed); so does minigrad
    np.testing.assert_array_equal(dataset.data.numpy(), images)
    np.testing.assert_array_equal(dataset[4][0], images[4])
    assert dataset.split == "balanced" and len(dataset.classes) == 47
    assert dataset.classes == datasets.EMNIST.classes_split_dict["balanced"]
    assert "Split: Test" in repr(dataset)
    with pytest.raises(RuntimeError, match="Dataset not found"):
        datasets.EMNIST(tmp_path, "letters", train=False)


def test_emnist_rejects_an_unknown_split(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown value 'letter' for argument split. Valid "
                                         "values are {'byclass', 'bymerge'"):
        datasets.EMNIST(tmp_path, "letter")


def _emnist_zip(tmp_path: Path) -> tuple[bytes, dict[str, np.ndarray]]:
    """A gzip.zip laid out as NIST's: gzip/emnist-<split>-<part>-...-ubyte.gz members."""
    arrays: dict[str, np.ndarray] = {}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for split, seed in (("letters", 4), ("digits", 5)):
            images, labels = _synthetic(6, seed, classes=10)
            for kind, array, dims in (("images", images, 3), ("labels", labels, 1)):
                name = f"emnist-{split}-train-{kind}-idx{dims}-ubyte"
                arrays[name] = array
                bundle.writestr(f"gzip/{name}.gz", _gz_idx(array, tmp_path))
    return buffer.getvalue(), arrays


def test_emnist_unpacks_a_gzip_zip_already_in_its_raw_folder(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch
                                                               ) -> None:
    payload, arrays = _emnist_zip(tmp_path)
    monkeypatch.setattr(datasets.EMNIST, "md5", hashlib.md5(payload).hexdigest())
    raw = tmp_path / "data" / "EMNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / "gzip.zip").write_bytes(payload)
    dataset = datasets.EMNIST(tmp_path / "data", "digits")
    np.testing.assert_array_equal(dataset.data.numpy(),
                                  arrays["emnist-digits-train-images-idx3-ubyte"])
    assert (raw / "emnist-letters-train-labels-idx1-ubyte.gz").is_file()
    assert (raw / "gzip.zip").is_file()  # a file the user put there stays
    (raw / "emnist-digits-train-images-idx3-ubyte.gz").unlink()
    (raw / "gzip.zip").write_bytes(payload[:-10])
    with pytest.raises(RuntimeError, match="checksum mismatch: MD5 .* expected"):
        datasets.EMNIST(tmp_path / "data", "digits")


# -- downloads through a local HTTP server ----------------------------------------------------


class _Server:
    """Serves ``files`` (path -> bytes) on 127.0.0.1; paths in ``truncate`` send half the body
    after announcing all of it, then close the connection."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.truncate: set[str] = set()
        self.requests: list[str] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                server.requests.append(self.path)
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.path in server.truncate:
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,),
                                       daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[_Server]:
    serving = _Server()
    yield serving
    serving.close()


def _serve_fashion(server: _Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                   ) -> dict[str, np.ndarray]:
    """Synthetic FashionMNIST files on the server's /good/ mirror (a /down/ mirror 404s first);
    torchvision's MD5s replaced by theirs."""
    arrays: dict[str, np.ndarray] = {}
    resources = []
    for prefix, seed in (("train", 6), ("t10k", 7)):
        images, labels = _synthetic(8, seed)
        for name, array in ((f"{prefix}-images-idx3-ubyte", images),
                            (f"{prefix}-labels-idx1-ubyte", labels)):
            payload = _gz_idx(array, tmp_path)
            server.files[f"/good/{name}.gz"] = payload
            resources.append((f"{name}.gz", hashlib.md5(payload).hexdigest()))
            arrays[name] = array
    monkeypatch.setattr(datasets.FashionMNIST, "mirrors",
                        [f"{server.url}/down/", f"{server.url}/good/"])
    monkeypatch.setattr(datasets.FashionMNIST, "resources", resources)
    return arrays


def test_download_writes_every_file_into_the_raw_folder(server: _Server, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    arrays = _serve_fashion(server, tmp_path, monkeypatch)
    root = tmp_path / "data"
    train = datasets.FashionMNIST(root, train=True, download=True)
    np.testing.assert_array_equal(train.data.numpy(), arrays["train-images-idx3-ubyte"])
    raw = root / "FashionMNIST" / "raw"
    assert sorted(path.name for path in raw.iterdir()) == sorted(f"{n}.gz" for n in MNIST_FILES)
    # both splits came down, as in torchvision: the test split needs no download=True
    test = datasets.FashionMNIST(root, train=False)
    np.testing.assert_array_equal(test.targets.numpy(), arrays["t10k-labels-idx1-ubyte"])
    assert server.requests.count("/good/train-images-idx3-ubyte.gz") == 1
    assert "/down/train-images-idx3-ubyte.gz" in server.requests
    before = len(server.requests)
    datasets.FashionMNIST(root, train=True, download=True)
    assert len(server.requests) == before  # nothing missing, nothing fetched


def test_download_with_a_checksum_mismatch_names_the_file_and_both_md5s(
        server: _Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _serve_fashion(server, tmp_path, monkeypatch)
    good = server.files["/good/train-labels-idx1-ubyte.gz"]
    server.files["/good/train-labels-idx1-ubyte.gz"] = good[:-1] + bytes([good[-1] ^ 1])
    root = tmp_path / "data"
    with pytest.raises(RuntimeError) as info:
        datasets.FashionMNIST(root, train=True, download=True)
    message = str(info.value)
    expected = hashlib.md5(good).hexdigest()
    actual = hashlib.md5(server.files["/good/train-labels-idx1-ubyte.gz"]).hexdigest()
    assert "could not download train-labels-idx1-ubyte.gz" in message
    assert f"checksum mismatch: MD5 {actual}, expected {expected}" in message
    assert "404" in message and "Nothing incomplete was written" in message
    assert str(root / "FashionMNIST" / "raw") in message
    raw = root / "FashionMNIST" / "raw"
    assert "train-labels-idx1-ubyte.gz" not in os.listdir(raw)
    assert not [name for name in os.listdir(raw) if name.endswith(".tmp")]


def test_a_transfer_that_breaks_off_leaves_no_partial_file(server: _Server, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    _serve_fashion(server, tmp_path, monkeypatch)
    server.truncate.add("/good/t10k-images-idx3-ubyte.gz")
    root = tmp_path / "data"
    with pytest.raises(RuntimeError, match=r"t10k-images-idx3-ubyte.gz from .*closed after"):
        datasets.FashionMNIST(root, train=False, download=True)
    raw = root / "FashionMNIST" / "raw"
    assert sorted(os.listdir(raw)) == [f"{name}.gz" for name in (
        "t10k-labels-idx1-ubyte", "train-images-idx3-ubyte", "train-labels-idx1-ubyte")]


def test_emnist_downloads_unpacks_and_removes_the_archive(server: _Server, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    payload, arrays = _emnist_zip(tmp_path)
    server.files["/EMNIST/gzip.zip"] = payload
    monkeypatch.setattr(datasets.EMNIST, "url", f"{server.url}/EMNIST/gzip.zip")
    monkeypatch.setattr(datasets.EMNIST, "md5", hashlib.md5(payload).hexdigest())
    root = tmp_path / "data"
    dataset = datasets.EMNIST(root, "letters", download=True)
    np.testing.assert_array_equal(dataset.targets.numpy(),
                                  arrays["emnist-letters-train-labels-idx1-ubyte"])
    raw = root / "EMNIST" / "raw"
    assert sorted(os.listdir(raw)) == sorted(f"{name}.gz" for name in arrays)
    assert len(datasets.EMNIST(root, "digits").data) == 6


# -- samples, batches and the DataLoader ------------------------------------------------------


class ScaleToFloat:
    """A stand-in for ToTensor: uint8 (H, W) -> float32 Tensor (1, H, W); batchable."""

    batchable = True

    def __init__(self) -> None:
        self.calls = {"single": 0, "batch": 0}

    def __call__(self, image: np.ndarray) -> Tensor:
        self.calls["single"] += 1
        return Tensor(image[None].astype(np.float32) / np.float32(255))

    def apply_batch(self, batch: np.ndarray) -> Tensor:
        self.calls["batch"] += 1
        return Tensor(batch[:, None].astype(np.float32) / np.float32(255))


class Shift:
    """A stand-in for Normalize on Tensors (C, H, W) or batches (N, C, H, W); batchable."""

    batchable = True

    def __call__(self, tensor: Tensor) -> Tensor:
        return Tensor(tensor.numpy() - np.float32(0.5))

    def apply_batch(self, batch: Tensor) -> Tensor:
        return Tensor(batch.numpy() - np.float32(0.5))


class Chain:
    """A stand-in for Compose: batchable iff every member is."""

    def __init__(self, *members: Any) -> None:
        self.members = members

    @property
    def batchable(self) -> bool:
        return all(getattr(member, "batchable", False) for member in self.members)

    def __call__(self, value: Any) -> Any:
        for member in self.members:
            value = member(value)
        return value

    def apply_batch(self, batch: Any) -> Any:
        for member in self.members:
            batch = member.apply_batch(batch)
        return batch

    def __repr__(self) -> str:
        return "Chain(\n" + "".join(f"    {type(m).__name__}()\n" for m in self.members) + ")"


def _small_mnist(tmp_path: Path, **kwargs: Any) -> datasets.MNIST:
    _write_split(tmp_path, "train-images-idx3-ubyte", "train-labels-idx1-ubyte", 23, seed=8)
    return datasets.MNIST(tmp_path, train=True, **kwargs)


def _assert_same_batches(loader_a: DataLoader, loader_b: DataLoader) -> None:
    batches_a, batches_b = list(loader_a), list(loader_b)
    assert len(batches_a) == len(batches_b) == 4
    for batch_a, batch_b in zip(batches_a, batches_b):
        for field_a, field_b in zip(batch_a, batch_b):
            assert isinstance(field_a, Tensor) and isinstance(field_b, Tensor)
            assert field_a.dtype == field_b.dtype and field_a.shape == field_b.shape
            np.testing.assert_array_equal(field_a.numpy(), field_b.numpy())


@pytest.mark.parametrize("kind", ["none", "batchable", "compose", "per-image", "mixed"])
def test_loader_fast_path_equals_collating_samples_one_by_one(kind: str, tmp_path: Path) -> None:
    transforms = {
        "none": None,
        "batchable": ScaleToFloat(),
        "compose": Chain(ScaleToFloat(), Shift()),
        "per-image": lambda image: Tensor(image[None].astype(np.float32) * 2),
        "mixed": Chain(ScaleToFloat(), lambda tensor: tensor),  # one member not batchable
    }
    dataset = _small_mnist(tmp_path, transform=transforms[kind],
                           target_transform=(lambda t: t * 10) if kind == "mixed" else None)
    fast = DataLoader(dataset, batch_size=6)
    one_by_one = DataLoader(dataset, batch_size=6, collate_fn=default_collate)
    _assert_same_batches(fast, one_by_one)
    images, targets = next(iter(fast))
    if kind in ("batchable", "compose", "mixed"):
        assert images.shape == (6, 1, 28, 28) and str(images.dtype) == "minigrad.float32"
    assert str(targets.dtype) == "minigrad.int64"
    expected = dataset.targets.numpy()[:6] * (10 if kind == "mixed" else 1)
    np.testing.assert_array_equal(targets.numpy(), expected)


def test_a_batchable_transform_sees_the_batch_once(tmp_path: Path) -> None:
    transform = ScaleToFloat()
    dataset = _small_mnist(tmp_path, transform=transform)
    images, targets = dataset.get_batch(np.array([3, 0, 22]))
    assert transform.calls == {"single": 0, "batch": 1}
    np.testing.assert_array_equal(images.numpy()[:, 0] * 255,
                                  dataset.data.numpy()[[3, 0, 22]].astype(np.float32))
    assert targets.dtype == np.int64
    assert targets.tolist() == dataset.targets.numpy()[[3, 0, 22]].tolist()


def test_repr_shows_the_transforms_as_torchvision_does(tmp_path: Path) -> None:
    dataset = _small_mnist(tmp_path, transform=Chain(ScaleToFloat(), Shift()),
                           target_transform=Shift())
    shift = repr(dataset.target_transform)
    assert repr(dataset) == (
        f"Dataset MNIST\n    Number of datapoints: 23\n    Root location: {tmp_path}\n"
        "    Split: Train\n    StandardTransform\nTransform: Chain(\n"
        "               ScaleToFloat()\n               Shift()\n"
        f"           )\nTarget transform: {shift}"
    )


def test_samples_are_copies_and_bad_indices_raise_clearly(tmp_path: Path) -> None:
    dataset = _small_mnist(tmp_path)
    image, _ = dataset[-1]
    image[:] = 0
    assert dataset.data.numpy()[22].any()
    with pytest.raises(IndexError, match="MNIST: index 23 is out of range for 23 samples"):
        dataset[23]
    with pytest.raises(TypeError, match="sample index must be an integer, got float"):
        dataset[1.0]


def test_replaced_data_and_targets_are_what_samples_come_from(tmp_path: Path) -> None:
    dataset = _small_mnist(tmp_path)
    dataset.data, dataset.targets = dataset.data[:5], dataset.targets[:5]
    assert len(dataset) == 5 and len(list(DataLoader(dataset, batch_size=2))) == 3


def test_a_misnamed_file_is_named_in_the_error(tmp_path: Path) -> None:
    _, labels = _synthetic(4, seed=9)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", labels)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", labels)
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte.gz: wrong magic number "
                                         r"0x00000801; images files have 0x00000803"):
        datasets.MNIST(tmp_path, train=False)


def test_the_official_examples_transform_batches_like_it_transforms_images(mnist_dir: Path,
                                                                           tmp_path: Path
                                                                           ) -> None:
    from minigrad.vision import transforms

    transform = transforms.Compose([transforms.ToTensor(),
                                    transforms.Normalize((0.1307,), (0.3081,))])
    root = _torchvision_layout(tmp_path, mnist_dir, MNIST_FILES[2:])
    dataset = datasets.MNIST(root, train=False, transform=transform)
    assert transform.batchable
    image, target = dataset[0]
    assert isinstance(image, Tensor) and image.shape == (1, 28, 28) and type(target) is int
    expected = (dataset.data.numpy()[0].astype(np.float32) / 255 - 0.1307) / 0.3081
    np.testing.assert_allclose(image.numpy()[0], expected, rtol=1e-6, atol=1e-6)
    subset = datasets.MNIST(root, train=False, transform=transform)
    subset.data, subset.targets = subset.data[:24], subset.targets[:24]
    _assert_same_batches(DataLoader(subset, batch_size=6),
                         DataLoader(subset, batch_size=6, collate_fn=default_collate))
    assert repr(dataset) == (
        f"Dataset MNIST\n    Number of datapoints: 10000\n    Root location: {root}\n"
        "    Split: Test\n    StandardTransform\nTransform: Compose(\n"
        "               ToTensor()\n"
        "               Normalize(mean=(0.1307,), std=(0.3081,))\n"
        "           )"
    )
