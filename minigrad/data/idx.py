"""Reading and writing IDX files, the format of MNIST: gzipped or not, every error names the file.

An IDX file is a 4-byte magic number (two zero bytes, a type byte, the number of dimensions),
one big-endian int32 per dimension, then the data in C order, big-endian.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from minigrad.fileio import atomic_write

__all__ = ["read_idx", "write_idx"]

# The IDX type byte and the (big-endian) dtype it stands for.
_IDX_DTYPES: dict[int, np.dtype[Any]] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"
# what a gzipped IDX file may inflate to (MNIST's largest is 47 MB): a gzip bomb stops here
MAX_IDX_BYTES = 1 << 30


def _gunzip(payload: bytes, path: Path, limit: int) -> bytes:
    """The gzip members of ``payload`` inflated, refusing to produce more than ``limit`` bytes."""
    parts: list[bytes] = []
    produced = 0
    rest = payload
    try:
        while rest:
            inflater = zlib.decompressobj(wbits=31)
            while True:
                chunk = inflater.decompress(rest, limit + 1 - produced)
                produced += len(chunk)
                parts.append(chunk)
                if produced > limit:
                    raise ValueError(
                        f"{path}: the gzip file inflates to more than {limit:,} bytes, far more "
                        "than an IDX data set holds; it is corrupt or malicious"
                    )
                rest = inflater.unconsumed_tail
                if inflater.eof or not rest:
                    break
            if not inflater.eof:
                raise EOFError("the compressed stream ends early")
            rest = inflater.unused_data
    except (EOFError, zlib.error) as exc:
        raise ValueError(
            f"{path}: corrupt or truncated gzip file ({exc}); delete it and download it again"
        ) from None
    return b"".join(parts)


def read_idx_with_magic(path: str | os.PathLike[str]) -> tuple[int, np.ndarray]:
    """The magic number and the array of an IDX file, gzipped (detected by content) or not."""
    path = Path(path)
    payload = path.read_bytes()
    if payload.startswith(_GZIP_MAGIC):
        payload = _gunzip(payload, path, MAX_IDX_BYTES)
    if len(payload) < 4:
        raise ValueError(
            f"{path}: truncated IDX file: {len(payload)} bytes, shorter than its 4-byte magic "
            "number; delete it and download it again"
        )
    magic = int.from_bytes(payload[:4], "big")
    type_code, ndim = payload[2], payload[3]
    if payload[:2] != b"\x00\x00" or type_code not in _IDX_DTYPES:
        raise ValueError(
            f"{path}: not an IDX file: wrong magic number 0x{magic:08X} (IDX files start with "
            "0x0000, a type byte 0x08-0x0E and the number of dimensions)"
        )
    header_size = 4 + 4 * ndim
    if len(payload) < header_size:
        raise ValueError(
            f"{path}: truncated IDX file: its header declares {ndim} dimensions "
            f"({header_size} bytes) but the file has only {len(payload)} bytes; "
            "delete it and download it again"
        )
    shape = tuple(int(d) for d in np.frombuffer(payload, ">u4", count=ndim, offset=4))
    dtype = _IDX_DTYPES[type_code]
    expected = math.prod(shape) * dtype.itemsize  # Python ints: a crafted header cannot wrap
    found = len(payload) - header_size
    if found < expected:
        raise ValueError(
            f"{path}: truncated IDX file: the header declares shape {shape} ({expected} bytes of "
            f"data) but only {found} bytes follow; delete it and download it again"
        )
    if found > expected:
        raise ValueError(
            f"{path}: corrupt IDX file: {found - expected} bytes follow the {expected} bytes of "
            f"data that its header (shape {shape}) declares"
        )
    data = np.frombuffer(payload, dtype, count=expected // dtype.itemsize, offset=header_size)
    return magic, data.astype(dtype.newbyteorder("="), copy=True).reshape(shape)


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """The array stored in an IDX file (``.gz`` or not), in native byte order.

    Raises ValueError naming the file if it is not IDX, is truncated or has trailing bytes.
    """
    return read_idx_with_magic(path)[1]


def write_idx(path: str | os.PathLike[str], array: np.ndarray) -> Path:
    """Writes ``array`` as an IDX file, gzipped if ``path`` ends in ``.gz``; atomically."""
    path = Path(path)
    array = np.asarray(array)
    codes = {dtype.newbyteorder("="): code for code, dtype in _IDX_DTYPES.items()}
    code = codes.get(array.dtype.newbyteorder("="))
    if code is None:
        supported = ", ".join(str(dtype.newbyteorder("=")) for dtype in _IDX_DTYPES.values())
        raise TypeError(f"write_idx: IDX cannot store dtype {array.dtype}; use one of {supported}")
    if array.ndim > 255:
        raise ValueError(f"write_idx: IDX stores at most 255 dimensions, got {array.ndim}")
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    payload = header + np.ascontiguousarray(array, _IDX_DTYPES[code]).tobytes()
    if path.suffix == ".gz":
        payload = gzip.compress(payload, compresslevel=6, mtime=0)
    atomic_write(path, payload)
    return path
