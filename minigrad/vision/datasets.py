"""torchvision.datasets for minigrad: MNIST, FashionMNIST, KMNIST and EMNIST from IDX files.

``datasets.MNIST(root, train=True, transform=None, target_transform=None, download=False)``
takes torchvision's arguments, reads torchvision's folder layout and has torchvision's
attributes (``data``, ``targets``, ``classes``, ``class_to_idx``, ``train``, ``root``,
``transform``, ``target_transform``, ``raw_folder``, ``mirrors``, ``resources``) and ``repr``.

Where the files are looked for, in this order, each uncompressed (``train-images-idx3-ubyte``)
or gzipped (``train-images-idx3-ubyte.gz``):

- ``root/<Class>/raw/`` -- torchvision's layout (``root/MNIST/raw``, ``root/FashionMNIST/raw``,
  ``root/KMNIST/raw``, ``root/EMNIST/raw``);
- ``root/`` itself -- minigrad's layout, the folder ``minigrad.data.MNIST`` reads.

Differences from torchvision:

- A sample's image is a uint8 ndarray of shape (H, W) where torchvision hands out a PIL Image
  of mode ``'L'``; with ``transform=None`` the sample is ``(ndarray, int)``. ``ToTensor`` of
  ``minigrad.vision.transforms`` takes that array. ``data`` is a uint8 Tensor (N, H, W) and
  ``targets`` an int64 Tensor (N,), as in torchvision.
- ``get_batch(indices)`` gathers a whole batch for ``minigrad.data.DataLoader``: the images
  by one fancy index, then the transform once for the batch where it is batchable (it has
  ``batchable = True`` and ``apply_batch(batch)``, as ``ToTensor``, ``Normalize`` and a
  ``Compose`` of batchable transforms do). A transform that is not batchable (a ``Lambda``, a
  user's function) is applied image by image and the results stacked: the same batch,
  slower. The batches equal those collated from ``dataset[i]`` one by one.
- Files found are used as they are (their IDX structure is checked), as torchvision does;
  every download is checked against torchvision's MD5 before it is renamed into place.
  Downloads stay gzipped (torchvision also writes uncompressed copies). ``download=True``
  touches the network only when a file of the requested split is missing; it then fetches
  every missing file of the data set, both splits, as torchvision does.
- torchvision's legacy ``processed/training.pt`` files are not read.
- EMNIST images are stored transposed in NIST's files; like torchvision, they are handed out
  as stored (``dataset.data.transpose(1, 2)`` shows them upright). A ``gzip.zip`` already
  in ``root/EMNIST/raw`` (or ``root``) is checked and unpacked without ``download=True``.
"""

from __future__ import annotations

import hashlib
import http.client
import operator
import os
import string
import urllib.request
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from minigrad.data.idx import read_idx_with_magic
from minigrad.data.loader import Dataset, collate
from minigrad.data.mnist import MIRRORS, MNIST_MD5
from minigrad.fileio import atomic_open
from minigrad.tensor import Tensor

__all__ = ["EMNIST", "KMNIST", "MNIST", "FashionMNIST", "StandardTransform", "VisionDataset"]

_IMAGES_MAGIC = 0x00000803  # uint8, 3 dimensions (N, rows, columns)
_LABELS_MAGIC = 0x00000801  # uint8, 1 dimension (N,)
_TIMEOUT_S = 30.0
_CHUNK_BYTES = 1 << 20


class _FetchError(Exception):
    """A download that failed after it started (short body, too long, wrong checksum)."""


class StandardTransform:
    """``(input, target) -> (transform(input), target_transform(target))``, as torchvision's."""

    def __init__(
        self,
        transform: Callable[[Any], Any] | None = None,
        target_transform: Callable[[Any], Any] | None = None,
    ) -> None:
        self.transform = transform
        self.target_transform = target_transform

    def __call__(self, input: Any, target: Any) -> tuple[Any, Any]:
        """``(transform(input), target_transform(target))``, each only where given."""
        if self.transform is not None:
            input = self.transform(input)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return input, target

    def __repr__(self) -> str:
        body = [type(self).__name__]
        if self.transform is not None:
            body += _indented_repr(self.transform, "Transform: ")
        if self.target_transform is not None:
            body += _indented_repr(self.target_transform, "Target transform: ")
        return "\n".join(body)


def _indented_repr(transform: Any, head: str) -> list[str]:
    lines = repr(transform).splitlines()
    return [head + lines[0]] + [" " * len(head) + line for line in lines[1:]]


class VisionDataset(Dataset):
    """The base of the image datasets, as torchvision's: ``root``, the transforms and ``repr``.

    Args:
        root: the data folder (a ``str`` has ``~`` expanded; kept as given otherwise).
        transforms: a callable taking and returning ``(input, target)``; or pass
            ``transform`` / ``target_transform``, not both kinds.
    """

    _repr_indent = 4

    def __init__(
        self,
        root: str | os.PathLike[str] | None,
        transforms: Callable[[Any, Any], Any] | None = None,
        transform: Callable[[Any], Any] | None = None,
        target_transform: Callable[[Any], Any] | None = None,
    ) -> None:
        if isinstance(root, str):
            root = os.path.expanduser(root)
        self.root = root
        separate = transform is not None or target_transform is not None
        if transforms is not None and separate:
            raise ValueError(
                f"{type(self).__name__}: only transforms or transform/target_transform can be "
                "passed as argument"
            )
        self.transform = transform
        self.target_transform = target_transform
        if separate:
            transforms = StandardTransform(transform, target_transform)
        self.transforms = transforms

    def extra_repr(self) -> str:
        """Lines that ``repr`` shows after the root (subclasses: the split)."""
        return ""

    def __repr__(self) -> str:
        body = [f"Number of datapoints: {len(self)}"]
        if self.root is not None:
            body.append(f"Root location: {self.root}")
        body += self.extra_repr().splitlines()
        if self.transforms is not None:
            body += [repr(self.transforms)]
        lines = [f"Dataset {type(self).__name__}"] + [" " * self._repr_indent + line
                                                       for line in body]
        return "\n".join(lines)


def _as_array(value: Any) -> np.ndarray:
    return value._data if isinstance(value, Tensor) else np.asarray(value)


def _batchable(transform: Any) -> bool:
    """Whether ``transform`` takes a whole batch (the transforms module's contract)."""
    return bool(getattr(transform, "batchable", False)) and callable(
        getattr(transform, "apply_batch", None)
    )


def _apply(transform: Any, items: np.ndarray) -> Any:
    """``transform`` of each of ``items`` stacked: by ``apply_batch`` where it is batchable."""
    if transform is None:
        return items
    if _batchable(transform):
        return transform.apply_batch(items)
    return collate([transform(item) for item in items])


def _fetch_to(url: str, target: Path, md5: str, limit: int) -> None:
    """Streams ``url`` into ``target`` atomically, only if the body has ``md5``.

    Raises OSError / HTTPException when the request fails and _FetchError when the body is
    short, longer than ``limit`` bytes or has another MD5; ``target`` is then left untouched.
    """
    request = urllib.request.Request(url, headers={"User-Agent": "minigrad"})
    with urllib.request.urlopen(request, timeout=_TIMEOUT_S) as response:
        declared = response.headers.get("Content-Length", "")
        size = int(declared) if declared.isdigit() else None
        if size is not None and size > limit:
            raise _FetchError(f"the server announces {size:,} bytes, more than the {limit:,} "
                              "this file can have")
        digest = hashlib.md5(usedforsecurity=False)
        received = 0
        with atomic_open(target) as stream:
            while True:
                try:
                    chunk = response.read(_CHUNK_BYTES)
                except (OSError, http.client.HTTPException) as exc:
                    raise _FetchError(f"the transfer broke off after {received:,} bytes "
                                      f"({exc})") from None
                if not chunk:
                    break
                received += len(chunk)
                if received > limit:
                    raise _FetchError(f"the response is longer than {limit:,} bytes")
                digest.update(chunk)
                stream.write(chunk)
            if size is not None and received != size:
                raise _FetchError(f"the connection closed after {received:,} of {size:,} bytes")
            if digest.hexdigest() != md5:
                raise _FetchError(
                    f"checksum mismatch: MD5 {digest.hexdigest()}, expected {md5}; the server "
                    "sent other bytes (a changed or damaged file)"
                )


def _file_md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(_CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


class MNIST(VisionDataset):
    """The MNIST digits, like ``torchvision.datasets.MNIST``; a sample is (uint8 (28, 28), int).

    Args:
        root: the folder holding ``MNIST/raw/`` (torchvision's layout) or the four IDX files
            themselves (minigrad's layout).
        train: the 60,000 training images (``train-*``) or the 10,000 test images (``t10k-*``).
        transform: applied to each uint8 ndarray image (H, W), e.g. ``transforms.ToTensor()``.
        target_transform: applied to each int label.
        download: fetch the missing files into ``root/MNIST/raw`` (MD5-checked, atomically).
    """

    mirrors: ClassVar[list[str]] = list(MIRRORS)
    resources: ClassVar[list[tuple[str, str]]] = [
        (f"{name}.gz", MNIST_MD5[name])
        for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                     "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
    ]
    classes: list[str] = [
        "0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
        "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine",
    ]
    # the largest file of these sets is 18 MB (KMNIST's training images)
    max_download_bytes: ClassVar[int] = 64 << 20

    def __init__(
        self,
        root: str | os.PathLike[str],
        train: bool = True,
        transform: Callable[[Any], Any] | None = None,
        target_transform: Callable[[Any], Any] | None = None,
        download: bool = False,
    ) -> None:
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        if not self._check_exists():
            self._prepare(download)
        if not self._check_exists():
            raise RuntimeError(self._not_found_message())
        self.data, self.targets = self._load_data()

    @property
    def raw_folder(self) -> str:
        """``root/<Class>/raw``, where torchvision keeps the files and downloads go."""
        return os.path.join(os.fspath(self._root_path), type(self).__name__, "raw")

    @property
    def class_to_idx(self) -> dict[str, int]:
        """Each class name's index: ``{'0 - zero': 0, ...}``."""
        return {name: index for index, name in enumerate(self.classes)}

    @property
    def _root_path(self) -> Path:
        if self.root is None:
            raise ValueError(f"{type(self).__name__}: root is None; pass the data folder")
        return Path(self.root)

    def _search_folders(self) -> list[Path]:
        return [Path(self.raw_folder), self._root_path]

    def _split_files(self) -> tuple[str, str]:
        """The uncompressed names of this split's images and labels files."""
        prefix = "train" if self.train else "t10k"
        return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"

    def _find(self, name: str) -> Path | None:
        for folder in self._search_folders():
            for candidate in (folder / name, folder / f"{name}.gz"):
                if candidate.is_file():
                    return candidate
        return None

    def _check_exists(self) -> bool:
        return all(self._find(name) is not None for name in self._split_files())

    def _prepare(self, download: bool) -> None:
        """Makes the split's files available: downloads them when ``download``."""
        if download:
            self.download()

    def download(self) -> None:
        """Fetches every file of ``resources`` not found into ``raw_folder``.

        Each mirror is tried in turn; a file is renamed into place only once it is complete
        and has its MD5. Raises RuntimeError listing every failed URL and what to do.
        """
        failures: list[str] = []
        errors: list[str] = []
        for filename, md5 in self.resources:
            if self._find(filename.removesuffix(".gz")) is not None:
                continue
            if not self._download_file(filename, md5, errors):
                failures.append(filename)
        if failures:
            raise RuntimeError(self._download_failed_message(failures, errors))

    def _urls(self, filename: str) -> list[str]:
        return [f"{mirror}{filename}" for mirror in self.mirrors]

    def _download_file(self, filename: str, md5: str, errors: list[str]) -> bool:
        target = Path(self.raw_folder) / filename
        for url in self._urls(filename):
            try:
                _fetch_to(url, target, md5, self.max_download_bytes)
            except (OSError, http.client.HTTPException, _FetchError) as exc:
                errors.append(f"{filename} from {url}: {exc}")
                continue
            return True
        return False

    def _download_failed_message(self, failures: list[str], errors: list[str]) -> str:
        return (
            f"{type(self).__name__}: could not download {', '.join(failures)}:\n"
            + "\n".join(f"  {error}" for error in errors)
            + "\nNothing incomplete was written. Try again later (a mirror may be down or "
            f"serving a changed file), or download the file(s) yourself, check them against "
            f"the MD5s in {type(self).__name__}.resources and put them into {self.raw_folder}."
        )

    def _not_found_message(self) -> str:
        names = self._split_files()
        missing = [name for name in names if self._find(name) is None]
        layouts = {Path(self.raw_folder): "  (torchvision's layout)",
                   self._root_path: "  (minigrad's layout)"}
        folders = "".join(f"  {folder}{layouts.get(folder, '')}\n"
                          for folder in self._search_folders())
        return (
            "Dataset not found. You can use download=True to download it.\n"
            f"{type(self).__name__} ({'train' if self.train else 'test'} split) looked for "
            "these files, each uncompressed or gzipped (.gz):\n"
            + "".join(f"  {name}{'  (missing)' if name in missing else ''}\n" for name in names)
            + f"in\n{folders}"
            + self._source_hint()
        )

    def _source_hint(self) -> str:
        return ("Put them into one of these folders, or pass download=True to fetch them from "
                + " or ".join(self.mirrors) + ".")

    def _read(self, path: Path, magic: int, what: str) -> np.ndarray:
        found, array = read_idx_with_magic(path)
        if found != magic:
            raise ValueError(
                f"{type(self).__name__}: {path}: wrong magic number 0x{found:08X}; {what} files "
                f"have 0x{magic:08X} (uint8, {magic & 0xFF} dimension(s)). Is the file misnamed?"
            )
        return array

    def _load_data(self) -> tuple[Tensor, Tensor]:
        images_name, labels_name = self._split_files()
        images_path, labels_path = self._find(images_name), self._find(labels_name)
        assert images_path is not None and labels_path is not None  # _check_exists said so
        images = self._read(images_path, _IMAGES_MAGIC, "images")
        labels = self._read(labels_path, _LABELS_MAGIC, "labels").astype(np.int64)
        if len(images) != len(labels):
            raise ValueError(
                f"{type(self).__name__}: {images_path} holds {len(images)} images but "
                f"{labels_path} holds {len(labels)} labels; the two files come from different "
                "sets"
            )
        return Tensor(images), Tensor(labels)

    def __len__(self) -> int:
        return len(self.data)

    def _index(self, index: Any) -> int:
        try:
            position = operator.index(index)
        except TypeError:
            raise TypeError(
                f"{type(self).__name__}: a sample index must be an integer, got "
                f"{type(index).__name__}; for many samples use a DataLoader or get_batch"
            ) from None
        size = len(self)
        if not -size <= position < size:
            raise IndexError(
                f"{type(self).__name__}: index {position} is out of range for {size} samples"
            )
        return position

    def __getitem__(self, index: Any) -> tuple[Any, Any]:
        """``(image, target)``: the uint8 ndarray (H, W) and the int label, transformed."""
        position = self._index(index)
        image: Any = _as_array(self.data)[position].copy()
        target: Any = int(_as_array(self.targets)[position])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def get_batch(self, indices: Sequence[int] | np.ndarray) -> tuple[Any, Any]:
        """The samples at ``indices`` (B,) stacked: images (B, ...) and targets (B,).

        Equal to stacking ``self[i]`` for each index; a batchable transform is applied once to
        the uint8 images (B, H, W), any other one image by image.
        """
        positions = np.asarray(indices, dtype=np.int64)
        images = _as_array(self.data)[positions]
        targets = _as_array(self.targets)[positions].astype(np.int64, copy=False)
        return _apply(self.transform, images), _apply_to_targets(self.target_transform, targets)

    def extra_repr(self) -> str:
        """``Split: Train`` or ``Split: Test``."""
        return f"Split: {'Train' if self.train is True else 'Test'}"


def _apply_to_targets(target_transform: Any, targets: np.ndarray) -> Any:
    if target_transform is None:
        return targets
    return collate([target_transform(int(target)) for target in targets])


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST, like ``torchvision.datasets.FashionMNIST``; files and arguments
    as ``MNIST`` (``root/FashionMNIST/raw``), 10 classes of clothing."""

    mirrors: ClassVar[list[str]] = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources: ClassVar[list[tuple[str, str]]] = [
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ]
    classes: list[str] = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]


class KMNIST(MNIST):
    """Kuzushiji-MNIST (cursive Japanese), like ``torchvision.datasets.KMNIST``; files and
    arguments as ``MNIST`` (``root/KMNIST/raw``), 10 hiragana classes."""

    mirrors: ClassVar[list[str]] = ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"]
    resources: ClassVar[list[tuple[str, str]]] = [
        ("train-images-idx3-ubyte.gz", "bdb82020997e1d708af4cf47b453dcf7"),
        ("train-labels-idx1-ubyte.gz", "e144d726b3acfaa3e44228e80efcd344"),
        ("t10k-images-idx3-ubyte.gz", "5c965bf0a639b31b8f53240b1b52f4d7"),
        ("t10k-labels-idx1-ubyte.gz", "7320c461ea6c1c855c0b718fb2a4b134"),
    ]
    classes: list[str] = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]


_EMNIST_MERGED = set("cijklmopsuvwxyz")  # lowercase letters merged with their capitals
_EMNIST_ALL = set(string.digits + string.ascii_letters)


def _verify_str_arg(value: Any, arg: str, valid: Sequence[str], owner: str) -> str:
    if not isinstance(value, str):
        raise ValueError(
            f"{owner}: expected type str for argument {arg}, but got type {type(value)}."
        )
    if value not in valid:
        choices = ", ".join(f"'{choice}'" for choice in valid)
        raise ValueError(
            f"{owner}: unknown value '{value}' for argument {arg}. Valid values are {{{choices}}}."
        )
    return value


class EMNIST(MNIST):
    """NIST's Extended MNIST, like ``torchvision.datasets.EMNIST(root, split, ...)``.

    ``split`` is one of ``byclass``, ``bymerge``, ``balanced``, ``letters``, ``digits``,
    ``mnist``; the files are ``emnist-<split>-<train|test>-<images|labels>-idx?-ubyte(.gz)``
    in ``root/EMNIST/raw`` (or ``root``). The download is NIST's ``gzip.zip`` (562 MB), checked,
    unpacked into ``raw_folder`` (the gzipped IDX files of every split) and then removed.
    Images are handed out as stored, transposed, as torchvision does.
    """

    url: ClassVar[str] = "https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip"
    md5: ClassVar[str] = "58c8d27c78d21e728a6bc7b3cc06412e"
    mirrors: ClassVar[list[str]] = []
    splits: ClassVar[tuple[str, ...]] = (
        "byclass", "bymerge", "balanced", "letters", "digits", "mnist",
    )
    classes_split_dict: ClassVar[dict[str, list[str]]] = {
        "byclass": sorted(_EMNIST_ALL),
        "bymerge": sorted(_EMNIST_ALL - _EMNIST_MERGED),
        "balanced": sorted(_EMNIST_ALL - _EMNIST_MERGED),
        "letters": ["N/A", *string.ascii_lowercase],
        "digits": list(string.digits),
        "mnist": list(string.digits),
    }
    _archive: ClassVar[str] = "gzip.zip"
    resources: ClassVar[list[tuple[str, str]]] = [(_archive, md5)]  # every split in one
    max_download_bytes: ClassVar[int] = 1 << 30

    def __init__(
        self,
        root: str | os.PathLike[str],
        split: str,
        train: bool = True,
        transform: Callable[[Any], Any] | None = None,
        target_transform: Callable[[Any], Any] | None = None,
        download: bool = False,
    ) -> None:
        self.split = _verify_str_arg(split, "split", self.splits, type(self).__name__)
        self.classes = list(self.classes_split_dict[self.split])
        super().__init__(root, train, transform, target_transform, download)

    def _source_hint(self) -> str:
        return (f"Put them into one of these folders, or NIST's {self._archive} ({self.url}) "
                f"into {self.raw_folder}, or pass download=True to fetch it.")

    def _search_folders(self) -> list[Path]:
        raw, root = Path(self.raw_folder), self._root_path
        return [raw, raw / "gzip", root, root / "gzip"]

    def _split_files(self) -> tuple[str, str]:
        prefix = f"emnist-{self.split}-{'train' if self.train else 'test'}"
        return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"

    def _urls(self, filename: str) -> list[str]:
        return [self.url]

    def _prepare(self, download: bool) -> None:
        archive = self._find(self._archive)
        if archive is None and download:
            errors: list[str] = []
            if not self._download_file(self._archive, self.md5, errors):
                raise RuntimeError(self._download_failed_message([self._archive], errors))
            archive = Path(self.raw_folder) / self._archive
            self._unpack(archive)
            archive.unlink()
        elif archive is not None:
            digest = _file_md5(archive)
            if digest != self.md5:
                raise RuntimeError(
                    f"EMNIST: {archive}: checksum mismatch: MD5 {digest}, expected {self.md5} "
                    "for NIST's gzip.zip; it is incomplete or another file: delete it and pass "
                    "download=True (or download it again yourself)"
                )
            self._unpack(archive)

    def download(self) -> None:
        """Fetches NIST's ``gzip.zip`` unless this split's files are present, checks its MD5,
        unpacks the gzipped IDX files of every split into ``raw_folder`` and removes it."""
        if not self._check_exists():
            self._prepare(download=True)

    def _unpack(self, archive: Path) -> None:
        """Writes the archive's ``*.gz`` members into ``raw_folder``, each atomically."""
        raw = Path(self.raw_folder)
        try:
            with zipfile.ZipFile(archive) as bundle:
                for member in bundle.infolist():
                    name = os.path.basename(member.filename)
                    if member.is_dir() or not name.endswith(".gz"):
                        continue
                    if member.file_size > self.max_download_bytes:
                        raise ValueError(f"its member {member.filename} claims "
                                         f"{member.file_size:,} bytes")
                    with bundle.open(member) as source, atomic_open(raw / name) as stream:
                        for chunk in iter(lambda: source.read(_CHUNK_BYTES), b""):
                            stream.write(chunk)
        except (zipfile.BadZipFile, ValueError, EOFError) as exc:
            raise RuntimeError(
                f"EMNIST: {archive}: cannot unpack the archive ({exc}); delete it and pass "
                "download=True"
            ) from None
