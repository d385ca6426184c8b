"""``mg.save`` and ``mg.load``: checkpoints as ``.npz`` files, without pickle.

A checkpoint is a zip archive of ``.npy`` arrays (what ``np.savez`` writes), one per tensor or
array, plus a ``__minigrad__`` entry: a JSON manifest (stored as a uint8 array) with a format
tag, a version and the structure of the saved object — nested dicts, lists and tuples of
tensors, arrays, numbers, strings, booleans and None. Loading reads the manifest and the arrays
with ``allow_pickle=False``, so it never executes code, and rejects anything else with a
ValueError naming the file. Arrays are named after their place in the object
(``conv1.weight``, ``state/0/exp_avg``), so ``np.load`` shows a readable archive.

Saving writes a temporary file next to the target, syncs it to disk and renames it over the
target, so an interrupted save leaves the previous checkpoint intact.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
import zlib
from collections import OrderedDict
from typing import Any, BinaryIO

import numpy as np

from minigrad.fileio import atomic_open
from minigrad.tensor import Tensor

FORMAT = "minigrad-checkpoint"
VERSION = 1
MANIFEST = "__minigrad__"
_ARRAY_KINDS = "biufcSU"  # plain data only: no object arrays, no structured dtypes


class _Writer:
    """Turns an object into a JSON-able manifest node and a list of named arrays."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def _name(self, path: list[str]) -> str:
        escaped = [part.replace("%", "%25").replace("/", "%2F") for part in path]
        base = "/".join(escaped) or "root"
        if base.startswith(MANIFEST):
            base = "_" + base
        name, suffix = base, 1
        while name in self.arrays:
            suffix += 1
            name = f"{base}~{suffix}"
        return name

    def _array(self, array: np.ndarray, path: list[str]) -> str:
        if array.dtype.kind not in _ARRAY_KINDS or array.dtype.fields is not None:
            raise TypeError(
                f"mg.save: the array at {_where(path)} has dtype {array.dtype}; only numeric, "
                "boolean and string arrays can be saved (no pickled objects)"
            )
        name = self._name(path)
        self.arrays[name] = array
        return name

    def encode(self, obj: Any, path: list[str]) -> dict[str, Any]:
        if obj is None:
            return {"t": "none"}
        if isinstance(obj, bool):
            return {"t": "bool", "v": obj}
        if isinstance(obj, int):
            return {"t": "int", "v": obj}
        if isinstance(obj, float):
            return {"t": "float", "v": obj.hex()}  # exact, and covers inf and nan
        if isinstance(obj, str):
            return {"t": "str", "v": obj}
        if isinstance(obj, Tensor):
            return {
                "t": "tensor",
                "k": self._array(obj._data, path),
                "rg": bool(obj.requires_grad),
            }
        if isinstance(obj, np.ndarray):
            return {"t": "ndarray", "k": self._array(obj, path)}
        if isinstance(obj, np.generic):
            return {"t": "scalar", "k": self._array(np.asarray(obj), path)}
        if isinstance(obj, (list, tuple)):
            kind = "list" if isinstance(obj, list) else "tuple"
            items = [self.encode(item, [*path, str(i)]) for i, item in enumerate(obj)]
            return {"t": kind, "items": items}
        if isinstance(obj, dict):
            items = []
            for key, value in obj.items():
                if not isinstance(key, (str, int, float, bool, tuple)) and key is not None:
                    raise TypeError(
                        f"mg.save: dict key {key!r} at {_where(path)} has type "
                        f"{type(key).__name__}; keys must be strings, numbers, booleans, None "
                        "or tuples of those"
                    )
                items.append([self.encode(key, path), self.encode(value, [*path, str(key)])])
            return {"t": "odict" if isinstance(obj, OrderedDict) else "dict", "items": items}
        raise TypeError(
            f"mg.save: cannot save an object of type {type(obj).__name__} at {_where(path)}; "
            "a checkpoint holds dicts, lists and tuples of tensors, arrays, numbers, strings, "
            "booleans and None (save model.state_dict(), not the model)"
        )


def _where(path: list[str]) -> str:
    return "/".join(path) if path else "the top level"


def _write_archive(
    stream: BinaryIO, manifest: dict[str, Any], arrays: dict[str, np.ndarray]
) -> None:
    text = json.dumps(manifest, allow_nan=False, separators=(",", ":"))
    manifest_array = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    with zipfile.ZipFile(stream, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, array in [(MANIFEST, manifest_array), *arrays.items()]:
            with zf.open(name + ".npy", mode="w", force_zip64=True) as entry:
                np.lib.format.write_array(entry, np.asanyarray(array), allow_pickle=False)


def save(obj: Any, f: str | os.PathLike | BinaryIO) -> None:
    """Save a state dict (nested dicts/lists/tuples of tensors, arrays and numbers) to ``f``.

    ``f`` is a path, written exactly as given (no ``.npz`` is appended) and atomically, or a
    binary file object opened for writing.
    """
    writer = _Writer()
    root = writer.encode(obj, [])
    manifest = {"format": FORMAT, "version": VERSION, "root": root}
    if hasattr(f, "write"):
        _write_archive(f, manifest, writer.arrays)  # type: ignore[arg-type]
        return
    with atomic_open(os.fspath(f)) as stream:
        _write_archive(stream, manifest, writer.arrays)


class _InvalidCheckpointError(Exception):
    pass


class _Reader:
    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive

    def array(self, node: dict[str, Any]) -> np.ndarray:
        name = node["k"]
        if not isinstance(name, str):
            raise _InvalidCheckpointError(f"bad array reference {name!r}")
        try:
            raw = self.archive.read(name + ".npy")  # reading it whole checks the CRC
        except KeyError:
            raise _InvalidCheckpointError(
                f"the array '{name}' listed in the manifest is missing"
            ) from None
        return _parse_npy(raw, name)

    def decode(self, node: Any) -> Any:
        if not isinstance(node, dict) or not isinstance(node.get("t"), str):
            raise _InvalidCheckpointError(f"malformed manifest node {str(node)[:80]!r}")
        kind = node["t"]
        if kind == "none":
            return None
        if kind in ("bool", "int", "str"):
            value = node["v"]
            expected = {"bool": bool, "int": int, "str": str}[kind]
            if type(value) is not expected:
                raise _InvalidCheckpointError(f"manifest {kind} node holds {value!r}")
            return value
        if kind == "float":
            return float.fromhex(node["v"])
        if kind == "tensor":
            return Tensor(self.array(node), requires_grad=bool(node.get("rg", False)))
        if kind == "ndarray":
            return self.array(node)
        if kind == "scalar":
            return self.array(node)[()]
        if kind in ("list", "tuple"):
            items = [self.decode(item) for item in node["items"]]
            return items if kind == "list" else tuple(items)
        if kind in ("dict", "odict"):
            result: dict[Any, Any] = OrderedDict() if kind == "odict" else {}
            for key_node, value_node in node["items"]:
                result[self.decode(key_node)] = self.decode(value_node)
            return result
        raise _InvalidCheckpointError(f"unknown manifest node type {kind!r}")


def _parse_npy(raw: bytes, name: str) -> np.ndarray:
    """An array from ``.npy`` bytes; the header is checked against the data length before
    anything is allocated, and object dtypes are refused."""
    stream = io.BytesIO(raw)
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(stream)
    elif version == (2, 0):
        shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(stream)
    else:
        raise _InvalidCheckpointError(f"the array '{name}' has unsupported .npy version {version}")
    if dtype.hasobject or dtype.kind not in _ARRAY_KINDS or dtype.fields is not None:
        raise _InvalidCheckpointError(f"the array '{name}' has unsupported dtype {dtype}")
    count = 1
    for size in shape:
        count *= size
    offset = stream.tell()
    if len(raw) - offset != count * dtype.itemsize:
        raise _InvalidCheckpointError(
            f"the array '{name}' holds {len(raw) - offset} bytes of data, its header "
            f"(shape {shape}, dtype {dtype}) needs {count * dtype.itemsize}"
        )
    flat = np.frombuffer(raw, dtype=dtype, count=count, offset=offset)
    if fortran_order:
        return flat.reshape(shape[::-1]).transpose().copy(order="F")
    return flat.reshape(shape).copy()


_LOAD_ERRORS = (
    OSError,
    MemoryError,
    _InvalidCheckpointError,
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    KeyError,
    IndexError,
    TypeError,
    ValueError,
    OverflowError,
    RecursionError,
    NotImplementedError,
)


def load(f: str | os.PathLike | BinaryIO, map_location: Any = None) -> Any:
    """Load what ``save`` wrote: tensors come back as Tensors, dicts in their order.

    ``map_location`` is accepted for scripts written for PyTorch; minigrad runs on the CPU, so
    it has no effect. A file that is not a minigrad checkpoint, or is truncated or corrupt,
    raises ValueError; a missing file raises FileNotFoundError.
    """
    if hasattr(f, "read"):
        name = repr(getattr(f, "name", "<file object>"))
        return _load_stream(f, name)  # type: ignore[arg-type]
    path = os.fspath(f)
    with open(path, "rb") as stream:
        return _load_stream(stream, repr(path))


def _load_stream(stream: BinaryIO, name: str) -> Any:
    try:
        with zipfile.ZipFile(stream) as archive:
            if MANIFEST + ".npy" not in archive.namelist():
                raise _InvalidCheckpointError(
                    "it is a zip/npz archive without a minigrad manifest (was it written by "
                    "np.savez rather than mg.save?)"
                )
            reader = _Reader(archive)
            manifest_bytes = reader.array({"k": MANIFEST})
            if manifest_bytes.dtype != np.uint8 or manifest_bytes.ndim != 1:
                raise _InvalidCheckpointError("the manifest entry is not a byte array")
            manifest = json.loads(manifest_bytes.tobytes().decode("utf-8"))
            if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
                raise _InvalidCheckpointError("the manifest has no minigrad format tag")
            version = manifest.get("version")
            if not isinstance(version, int) or version > VERSION:
                raise _InvalidCheckpointError(
                    f"it has format version {version!r}, this minigrad reads versions up to "
                    f"{VERSION}; upgrade minigrad"
                )
            return reader.decode(manifest["root"])
    except _LOAD_ERRORS as error:
        if isinstance(error, zipfile.BadZipFile) and "not a zip file" in str(error).lower():
            reason = "it is not an npz/zip archive, or it is truncated"
        else:
            reason = str(error) or type(error).__name__
        raise ValueError(f"mg.load: {name} is not a valid minigrad checkpoint: {reason}") from error
