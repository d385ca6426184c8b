"""MNIST from the four standard IDX files: read from a folder, downloaded when missing.

Files are looked up in ``root`` under their standard names, gzipped (``…-ubyte.gz``) or not
(``…-ubyte``). The default root is ``$MINIGRAD_DATA/mnist`` if ``MINIGRAD_DATA`` is set, otherwise
``$XDG_CACHE_HOME/minigrad/mnist`` (``~/.cache/minigrad/mnist``).

Checksums: every downloaded file must match the MD5 of the official gzipped file before it is
renamed into place; a mirror that serves other bytes is skipped for the next one. Files already
in ``root`` are used as they are, like torchvision does, so that uncompressed copies and
derived sets written in the same format (such as the offline split of ``make_offline_split``)
load too; their structure is always checked, and ``verify=True`` also checks their MD5.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import urllib.request
from pathlib import Path

import numpy as np

from minigrad.data.idx import read_idx_with_magic, write_idx
from minigrad.data.loader import Dataset
from minigrad.fileio import atomic_write
from minigrad.tensor import Tensor

__all__ = [
    "MIRRORS",
    "MNIST",
    "MNIST_MEAN",
    "MNIST_MD5",
    "MNIST_STD",
    "default_root",
    "download_mnist",
    "load_mnist",
    "make_offline_split",
]

MNIST_MEAN = 0.1307
MNIST_STD = 0.3081

MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)

# MD5 of the official gzipped files, keyed by their uncompressed name.
MNIST_MD5 = {
    "train-images-idx3-ubyte": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte": "ec29112dd5afa0611ce80d1b7f02629c",
}

_SPLIT_FILES = {
    True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_IMAGES_MAGIC = 0x00000803  # uint8, 3 dimensions (N, rows, columns)
_LABELS_MAGIC = 0x00000801  # uint8, 1 dimension (N,)
_TIMEOUT_S = 30.0
MAX_DOWNLOAD_BYTES = 64 << 20  # the largest official file is 9.9 MB


def default_root() -> Path:
    """``$MINIGRAD_DATA/mnist``, or ``$XDG_CACHE_HOME/minigrad/mnist`` (``~/.cache/...``)."""
    data_dir = os.environ.get("MINIGRAD_DATA")
    if data_dir:
        return Path(data_dir).expanduser() / "mnist"
    cache_dir = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache_dir).expanduser() / "minigrad" / "mnist"


def _resolve_root(root: str | os.PathLike[str] | None) -> Path:
    return default_root() if root is None else Path(root).expanduser()


def _find(root: Path, name: str) -> Path | None:
    for candidate in (root / f"{name}.gz", root / name):
        if candidate.is_file():
            return candidate
    return None


def _md5(payload: bytes) -> str:
    return hashlib.md5(payload, usedforsecurity=False).hexdigest()


def _fetch(url: str, timeout: float = _TIMEOUT_S, limit: int | None = None) -> bytes:
    """The body of ``url``, at most ``limit`` bytes (default ``MAX_DOWNLOAD_BYTES``); raises
    OSError (URLError, timeouts) when it cannot be had, ValueError when it is longer."""
    limit = MAX_DOWNLOAD_BYTES if limit is None else limit
    request = urllib.request.Request(url, headers={"User-Agent": "minigrad"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        payload = response.read(limit + 1)
    if len(payload) > limit:
        raise ValueError(f"the response is longer than {limit:,} bytes, not an MNIST file")
    return payload


def _download(root: Path, name: str, errors: list[str]) -> bool:
    """Fetches ``name``.gz from the first mirror that serves the official bytes."""
    expected = MNIST_MD5[name]
    for mirror in MIRRORS:
        url = f"{mirror}{name}.gz"
        try:
            payload = _fetch(url)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            errors.append(f"{url}: {exc}")
            continue
        digest = _md5(payload)
        if digest != expected:
            errors.append(f"{url}: checksum mismatch (MD5 {digest}, expected {expected})")
            continue
        atomic_write(root / f"{name}.gz", payload)
        return True
    return False


def _missing_message(root: Path, missing: list[str]) -> str:
    names = "\n".join(f"  {name}.gz" for name in missing)
    return (
        f"put these files (gzipped as named, or uncompressed without .gz) into {root}:\n{names}\n"
        f"They are served by {' and '.join(MIRRORS)}; or pass root= the folder that holds them."
    )


def download_mnist(root: str | os.PathLike[str] | None = None, train: bool | None = None) -> Path:
    """Downloads the missing MNIST files of a split (``train=None``: both) into ``root``.

    Each file is checked against its official MD5 before it is atomically renamed into place;
    a mirror serving other bytes is skipped. Returns the folder. Raises RuntimeError listing every
    failed URL and what to put where when some file could not be had.
    """
    folder = _resolve_root(root)
    splits = (True, False) if train is None else (train,)
    names = [name for split in splits for name in _SPLIT_FILES[split]]
    errors: list[str] = []
    missing = [name for name in names if _find(folder, name) is None]
    failed = [name for name in missing if not _download(folder, name, errors)]
    if failed:
        raise RuntimeError(
            "MNIST: could not download "
            + ", ".join(f"{name}.gz" for name in failed)
            + ":\n"
            + "\n".join(f"  {error}" for error in errors)
            + "\nWithout internet access, "
            + _missing_message(folder, failed)
        )
    return folder


def _verify(path: Path) -> None:
    name = path.name.removesuffix(".gz")
    if path.suffix != ".gz":
        raise ValueError(
            f"{path}: verify=True checks the MD5 of the official gzipped files, and this one is "
            f"uncompressed; put {name}.gz in its place or pass verify=False"
        )
    digest = _md5(path.read_bytes())
    if digest != MNIST_MD5[name]:
        raise ValueError(
            f"{path}: checksum mismatch: MD5 {digest}, expected {MNIST_MD5[name]} for the "
            "official file; delete it and download it again (or pass verify=False to use it)"
        )


def _read(path: Path, magic: int, what: str) -> np.ndarray:
    found, array = read_idx_with_magic(path)
    if found != magic:
        raise ValueError(
            f"{path}: wrong magic number {found} (0x{found:08X}); MNIST {what} files have "
            f"{magic} (0x{magic:08X}). Is the file misnamed?"
        )
    return array


def _to_float(images: np.ndarray, normalize: bool) -> np.ndarray:
    """uint8 (N, H, W) -> float32 (N, 1, H, W): scaled to [0, 1], then standardised if asked."""
    out = images[:, None].astype(np.float32)
    out *= np.float32(1 / 255)
    if normalize:
        out -= np.float32(MNIST_MEAN)
        out /= np.float32(MNIST_STD)
    return out


def load_mnist(
    root: str | os.PathLike[str] | None = None,
    train: bool = True,
    normalize: bool = False,
    download: bool = True,
    verify: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """MNIST images and labels: uint8 (N, 28, 28) and int64 (N,).

    ``normalize=True`` gives float32 (N, 1, 28, 28) images standardised with the training-set
    mean 0.1307 and std 0.3081. ``train=False`` reads the t10k files only. Missing files are
    downloaded when ``download`` (see ``download_mnist``); otherwise FileNotFoundError says which
    files to put where. Files present are used as they are; ``verify=True`` also checks them
    against the official MD5s. Corrupt, truncated or misnamed files raise ValueError naming them.
    """
    folder = _resolve_root(root)
    images_name, labels_name = _SPLIT_FILES[bool(train)]
    missing = [name for name in (images_name, labels_name) if _find(folder, name) is None]
    if missing:
        if not download:
            raise FileNotFoundError(
                f"MNIST: {len(missing)} file(s) missing; "
                + _missing_message(folder, missing)
                + " Or pass download=True."
            )
        download_mnist(folder, bool(train))
    images_path, labels_path = _find(folder, images_name), _find(folder, labels_name)
    if images_path is None or labels_path is None:  # the download did not leave them
        names = [n for n, p in ((images_name, images_path), (labels_name, labels_path)) if not p]
        raise FileNotFoundError("MNIST: " + _missing_message(folder, names))
    if verify:
        _verify(images_path)
        _verify(labels_path)
    images = _read(images_path, _IMAGES_MAGIC, "images")
    labels = _read(labels_path, _LABELS_MAGIC, "labels").astype(np.int64)
    if len(images) != len(labels):
        raise ValueError(
            f"MNIST: {images_path} holds {len(images)} images but {labels_path} holds "
            f"{len(labels)} labels; the two files come from different sets"
        )
    if normalize:
        return _to_float(images, normalize=True), labels
    return images, labels


class MNIST(Dataset):
    """The MNIST digits as a Dataset, like ``torchvision.datasets.MNIST``.

    ``.data`` holds the uint8 images (N, 28, 28), ``.targets`` the int64 labels (N,). A sample is
    ``(image, label)``: a float32 Tensor (1, 28, 28) scaled to [0, 1] and, with ``normalize``
    (the default), standardised with mean 0.1307 and std 0.3081, i.e. ToTensor() and
    Normalize((0.1307,), (0.3081,)) in torchvision; and an int. Batches are gathered by fancy
    indexing. Files, downloads and checksums as in ``load_mnist``.
    """

    def __init__(
        self,
        root: str | os.PathLike[str] | None = None,
        train: bool = True,
        download: bool = True,
        normalize: bool = True,
        verify: bool = False,
    ) -> None:
        self.root = _resolve_root(root)
        self.train = bool(train)
        self.normalize = normalize
        self.data, self.targets = load_mnist(
            self.root, self.train, normalize=False, download=download, verify=verify
        )

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        image = _to_float(self.data[index][None], self.normalize)[0]
        return Tensor(image), int(self.targets[index])

    def get_batch(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return _to_float(self.data[indices], self.normalize), self.targets[indices]

    def __repr__(self) -> str:
        split = "train" if self.train else "test"
        return f"MNIST({split}, {len(self)} samples, root={str(self.root)!r})"


def make_offline_split(
    src_dir: str | os.PathLike[str], dst_dir: str | os.PathLike[str], train_size: int = 8000
) -> Path:
    """Writes a stand-in for the full MNIST from the official test set alone.

    Reads ``src_dir``'s t10k files and writes standard gzipped IDX files into ``dst_dir``:
    ``train-*`` = the first ``train_size`` images, ``t10k-*`` = the rest. Each file is written
    atomically. These files do not match the official checksums (load them with verify=False,
    the default). Returns ``dst_dir``.
    """
    images, labels = load_mnist(src_dir, train=False, download=False)
    if not 0 < train_size < len(labels):
        raise ValueError(
            f"make_offline_split: train_size must be between 1 and {len(labels) - 1} "
            f"(the t10k set in {src_dir} has {len(labels)} images), got {train_size}"
        )
    folder = Path(dst_dir)
    labels = labels.astype(np.uint8)
    parts = {True: slice(None, train_size), False: slice(train_size, None)}
    for train, part in parts.items():
        images_name, labels_name = _SPLIT_FILES[train]
        write_idx(folder / f"{images_name}.gz", images[part])
        write_idx(folder / f"{labels_name}.gz", labels[part])
    return folder
