"""``mg.save`` and ``mg.load``: checkpoints as ``.npz`` files, pickle-free unless asked for.

A checkpoint is a zip archive of ``.npy`` arrays (what ``np.savez`` writes), one per tensor or
array, plus a ``__minigrad__`` entry: a JSON manifest (stored as a uint8 array) with a format
tag, a version and the structure of the saved object — nested dicts, lists and tuples of
tensors, arrays, numbers, strings, booleans and None, which covers state dicts and optimizer
states. Arrays are named after their place in the object (``conv1.weight``,
``state/0/exp_avg``), so ``np.load`` shows a readable archive.

Any other object (a whole ``nn.Module``, a custom class) is saved as in PyTorch: pickled, with
its tensors and arrays stored beside the pickle as ``.npy`` entries. Unpickling runs code named
by the file, so ``load`` does it only when called with ``weights_only=False``; by default
(``weights_only=True``, PyTorch's default since 2.6) it reads the manifest and the arrays
with ``allow_pickle=False`` and never executes anything from the file.

Loading is bounded: every zip member's declared size is checked against the file and against
``max_bytes`` (default ``MAX_MEMBER_BYTES``, 4 GiB, or the ``MINIGRAD_LOAD_MAX_BYTES``
environment variable), and every ``.npy`` header (shape times itemsize) against its member,
before anything is allocated. Every failure to read a file raises ValueError naming it.

Saving writes a temporary file next to the target and renames it over the target
(``minigrad.fileio.atomic_open``), so an interrupted save leaves the previous checkpoint intact.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import sys
import zipfile
from collections import OrderedDict
from typing import Any, BinaryIO, cast

import numpy as np

from minigrad.errors import DeviceError
from minigrad.fileio import atomic_open
from minigrad.tensor import Tensor

__all__ = ["MAX_MEMBER_BYTES", "UnsafeCheckpointError", "load", "save"]

FORMAT = "minigrad-checkpoint"
VERSION = 1  # state dicts; files holding a pickled object are version 2
PICKLE_VERSION = 2
MANIFEST = "__minigrad__"
PICKLE_ENTRY = MANIFEST + ".pickle"
MAX_MEMBER_BYTES = 4 << 30
MAX_BYTES_ENV = "MINIGRAD_LOAD_MAX_BYTES"
_ARRAY_KINDS = "biufcSU"  # plain data only: no object arrays, no structured dtypes
_DEFAULT_PICKLE_PROTOCOL = 2  # PyTorch's default
# Tensor classes the pickle-free format records by name; a Parameter loads as a Parameter when
# nn is imported (minigrad itself never imports nn), else as a Tensor
_PARAMETER = "nn.parameter.Parameter"
_TENSOR_CLASSES = ("minigrad.tensor.Tensor", _PARAMETER)


class UnsafeCheckpointError(ValueError, pickle.UnpicklingError):
    """The file holds a pickled object and ``load`` was not told ``weights_only=False``.

    A ValueError like every other load failure, and a ``pickle.UnpicklingError`` like the error
    PyTorch raises in the same case, so either ``except`` clause catches it.
    """


class _NeedsPickle(Exception):  # noqa: N818  (a signal to fall back to pickle, no error)
    """The object holds something the pickle-free format cannot represent."""


class _InvalidCheckpointError(Exception):
    pass


def _plain_dtype(dtype: np.dtype) -> bool:
    return dtype.kind in _ARRAY_KINDS and dtype.fields is None and not dtype.hasobject


# ---------------------------------------------------------------------------------- saving


class _Writer:
    """Turns an object into a JSON-able manifest node and a list of named arrays."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self._open: set[int] = set()  # containers on the current path, to catch cycles

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

    def _array(self, array: np.ndarray, path: list[str]) -> dict[str, Any]:
        if not _plain_dtype(array.dtype):
            raise _NeedsPickle(f"an array of dtype {array.dtype} at {_where(path)}")
        name = self._name(path)
        self.arrays[name] = array
        return {"k": name, "s": list(array.shape), "d": array.dtype.str}

    def encode(self, obj: Any, path: list[str]) -> dict[str, Any]:
        if obj is None:
            return {"t": "none"}
        if isinstance(obj, np.generic):  # before float: np.float64 is a float subclass
            return {"t": "scalar", **self._array(np.asarray(obj), path)}
        if isinstance(obj, bool):
            return {"t": "bool", "v": obj}
        if isinstance(obj, int):
            return {"t": "int", "v": int(obj)}
        if isinstance(obj, float):
            return {"t": "float", "v": float(obj).hex()}  # exact, and covers inf and nan
        if isinstance(obj, str):
            return {"t": "str", "v": str(obj)}
        if isinstance(obj, Tensor) and _type_name(obj) in _TENSOR_CLASSES:
            node = {"t": "tensor", "rg": bool(obj.requires_grad), **self._array(obj._data, path)}
            if type(obj) is not Tensor:
                node["cls"] = _type_name(obj)
            return node
        if isinstance(obj, np.ndarray):  # subclasses (memmap, matrix) are saved as arrays
            return {"t": "ndarray", **self._array(np.asarray(obj), path)}
        if type(obj) in (list, tuple, dict, OrderedDict):
            if id(obj) in self._open:
                raise ValueError(
                    f"mg.save: the {type(obj).__name__} at {_where(path)} contains itself; a "
                    "checkpoint is a tree of dicts, lists and tuples, so break the cycle before "
                    "saving"
                )
            self._open.add(id(obj))
            try:
                return self._container(obj, path)
            finally:
                self._open.discard(id(obj))
        raise _NeedsPickle(f"an object of type {type(obj).__name__} at {_where(path)}")

    def _container(self, obj: Any, path: list[str]) -> dict[str, Any]:
        if isinstance(obj, (list, tuple)):
            kind = "list" if isinstance(obj, list) else "tuple"
            items = [self.encode(item, [*path, str(i)]) for i, item in enumerate(obj)]
            return {"t": kind, "items": items}
        pairs = []
        for key, value in obj.items():
            if not isinstance(key, (str, int, float, bool, tuple)) and key is not None:
                raise _NeedsPickle(f"a dict key of type {type(key).__name__} at {_where(path)}")
            pairs.append([self.encode(key, path), self.encode(value, [*path, str(key)])])
        return {"t": "odict" if isinstance(obj, OrderedDict) else "dict", "items": pairs}


def _where(path: list[str]) -> str:
    return "/".join(path) if path else "the top level"


def _pickler_class(pickle_module: Any) -> type:
    base = getattr(pickle_module, "Pickler", pickle.Pickler)

    # the base is the given pickle module's Pickler, known at run time only
    class ArrayPickler(base):  # type: ignore[misc, valid-type]
        """Pickles the object graph; tensors and plain arrays go to ``.npy`` entries instead,
        each once however often it is referenced (tied weights stay tied)."""

        def __init__(self, stream: BinaryIO, protocol: int) -> None:
            super().__init__(stream, protocol)
            self.arrays: dict[str, np.ndarray] = {}
            self.seen: dict[int, tuple[Any, ...]] = {}
            self.keep_alive: list[Any] = []

        def persistent_id(self, obj: Any) -> Any:
            if isinstance(obj, Tensor):
                array, kind = obj._data, "tensor"
            elif type(obj) is np.ndarray and _plain_dtype(obj.dtype):
                array, kind = obj, "ndarray"
            else:
                return None
            if id(obj) in self.seen:
                return self.seen[id(obj)]
            name = f"pickled/{len(self.arrays)}"
            self.arrays[name] = array
            if kind == "tensor":
                pid: tuple[Any, ...] = (kind, name, type(obj), bool(obj.requires_grad))
            else:
                pid = (kind, name)
            self.seen[id(obj)] = pid
            self.keep_alive.append(obj)  # ids stay unique while pickling
            return pid

    return ArrayPickler


def _pickle(obj: Any, pickle_module: Any, protocol: int) -> tuple[bytes, dict[str, np.ndarray]]:
    buffer = io.BytesIO()
    pickler = _pickler_class(pickle_module)(buffer, protocol)
    try:
        pickler.dump(obj)
    except RecursionError:
        raise ValueError(
            f"mg.save: the {type(obj).__name__} is nested too deeply to pickle"
        ) from None
    except (pickle.PicklingError, TypeError, AttributeError) as error:
        raise TypeError(
            f"mg.save: cannot save the {type(obj).__name__}: it holds something that cannot be "
            f"pickled ({error}); save a state dict (model.state_dict()) instead"
        ) from error
    return buffer.getvalue(), pickler.arrays


def _write_archive(
    stream: BinaryIO, manifest: dict[str, Any], arrays: dict[str, np.ndarray]
) -> None:
    text = json.dumps(manifest, allow_nan=False, separators=(",", ":"))
    manifest_array = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    with zipfile.ZipFile(stream, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, array in [(MANIFEST, manifest_array), *arrays.items()]:
            with zf.open(name + ".npy", mode="w", force_zip64=True) as entry:
                np.lib.format.write_array(entry, np.asanyarray(array), allow_pickle=False)


def save(
    obj: Any,
    f: str | os.PathLike[str] | BinaryIO,
    pickle_module: Any = None,
    pickle_protocol: int = _DEFAULT_PICKLE_PROTOCOL,
) -> None:
    """Save ``obj`` to ``f``, a path (written as given, no ``.npz`` appended) or a binary file.

    State dicts — nested dicts, lists and tuples of tensors, arrays, numbers, strings and
    None — are stored without pickle and load with the default ``weights_only=True``. Any
    other object (``save(model, path)``) is pickled, with its tensors as ``.npy`` entries, and
    loads only with ``load(path, weights_only=False)``. ``pickle_module`` and
    ``pickle_protocol`` apply to that case, as in ``torch.save``.

    A path is written atomically (see ``minigrad.fileio.atomic_open``): a crash or Ctrl-C
    during the save leaves the previous file intact, and a symlink is written through.
    Raises ValueError for a dict or list that contains itself, TypeError for an object that
    cannot be pickled, OSError naming ``f`` when the file cannot be written.
    """
    writer = _Writer()
    try:
        root = writer.encode(obj, [])
        manifest: dict[str, Any] = {"format": FORMAT, "version": VERSION, "root": root}
        arrays = writer.arrays
    except RecursionError:
        raise ValueError(
            f"mg.save: the {type(obj).__name__} is nested too deeply to save"
        ) from None
    except _NeedsPickle:
        payload, arrays = _pickle(obj, pickle_module, pickle_protocol)
        arrays = {PICKLE_ENTRY: np.frombuffer(payload, dtype=np.uint8), **arrays}
        root = {"t": "pickle", "k": PICKLE_ENTRY, "type": _type_name(obj)}
        manifest = {"format": FORMAT, "version": PICKLE_VERSION, "root": root}
    if hasattr(f, "write"):
        _write_archive(cast(BinaryIO, f), manifest, arrays)
        return
    with atomic_open(os.fspath(f)) as stream:
        _write_archive(stream, manifest, arrays)


def _type_name(obj: Any) -> str:
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


# ---------------------------------------------------------------------------------- loading


class _Reader:
    """Reads named ``.npy`` members of a checked archive, each at most once."""

    def __init__(
        self,
        archive: zipfile.ZipFile,
        archive_size: int,
        max_bytes: int,
        mmap_path: str | None = None,
    ) -> None:
        self.archive = archive
        self.archive_size = archive_size
        self.max_bytes = max_bytes
        self.mmap_path = mmap_path
        self.infos: dict[str, zipfile.ZipInfo] = {}
        stored_bytes = 0
        for info in archive.infolist():
            if info.filename in self.infos:
                raise _InvalidCheckpointError(f"the member '{info.filename}' appears twice")
            self.infos[info.filename] = info
            if info.file_size > max_bytes:
                raise _InvalidCheckpointError(
                    f"the member '{info.filename}' declares {info.file_size:,} bytes, more than "
                    f"the limit of {max_bytes:,}; if you trust the file, pass a larger "
                    f"max_bytes= to mg.load or set {MAX_BYTES_ENV}"
                )
            if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
                raise _InvalidCheckpointError(
                    f"the stored member '{info.filename}' declares {info.file_size} bytes but "
                    f"occupies {info.compress_size}"
                )
            if info.header_offset + info.compress_size > archive_size:
                raise _InvalidCheckpointError(
                    f"the member '{info.filename}' extends past the end of the file "
                    f"({archive_size:,} bytes); the file is truncated"
                )
            stored_bytes += info.compress_size
        if stored_bytes > archive_size:
            raise _InvalidCheckpointError(
                f"its members declare {stored_bytes:,} bytes in a file of {archive_size:,}; "
                "members overlap"
            )

    def array(self, node: dict[str, Any]) -> np.ndarray:
        name = node.get("k")
        if not isinstance(name, str):
            raise _InvalidCheckpointError(f"bad array reference {name!r}")
        info = self.infos.get(name + ".npy")
        if info is None:
            raise _InvalidCheckpointError(f"the array '{name}' listed in the manifest is missing")
        with self.archive.open(info) as stream:
            mapped = None
            if self.mmap_path is not None and info.compress_type == zipfile.ZIP_STORED:
                mapped = (self.mmap_path, self._data_start(info))
            # a ZipExtFile, a BufferedIOBase (readinto), which typeshed types as IO[bytes]
            array = _read_npy(cast(io.BufferedIOBase, stream), info.file_size, name, mapped)
        if "s" in node and list(array.shape) != node["s"]:
            raise _InvalidCheckpointError(
                f"the manifest gives the array '{name}' shape {node['s']}, its data has shape "
                f"{list(array.shape)}"
            )
        if "d" in node and array.dtype.str != node["d"]:
            raise _InvalidCheckpointError(
                f"the manifest gives the array '{name}' dtype {node['d']}, its data has "
                f"dtype {array.dtype.str}"
            )
        return array

    def _data_start(self, info: zipfile.ZipInfo) -> int:
        """Where a stored member's bytes begin in the file: after its local header."""
        fp = self.archive.fp
        assert fp is not None
        position = fp.tell()
        try:
            fp.seek(info.header_offset)
            header = fp.read(30)
        finally:
            fp.seek(position)
        if len(header) != 30 or header[:4] != b"PK\x03\x04":
            raise _InvalidCheckpointError(f"the member '{info.filename}' has a bad local header")
        start = info.header_offset + 30 + int.from_bytes(header[26:28], "little") + int.from_bytes(
            header[28:30], "little"
        )
        if start + info.file_size > self.archive_size:
            raise _InvalidCheckpointError(
                f"the member '{info.filename}' extends past the end of the file; it is truncated"
            )
        return start

    def decode(self, node: Any) -> Any:
        if not isinstance(node, dict) or not isinstance(node.get("t"), str):
            raise _InvalidCheckpointError(f"malformed manifest node {str(node)[:80]!r}")
        kind = node["t"]
        if kind == "none":
            return None
        if kind in ("bool", "int", "str", "float"):
            value = node.get("v")
            expected = {"bool": bool, "int": int, "str": str, "float": str}[kind]
            if type(value) is not expected:
                raise _InvalidCheckpointError(f"manifest {kind} node holds {value!r}")
            if kind == "float":
                assert isinstance(value, str)  # checked against expected above
                return float.fromhex(value)
            return value
        if kind == "tensor":
            array = self.array(node)
            requires_grad = node.get("rg", False)
            if type(requires_grad) is not bool:
                raise _InvalidCheckpointError(
                    f"tensor '{node['k']}' has requires_grad {requires_grad!r}"
                )
            if requires_grad and array.dtype.kind not in "fc":
                raise _InvalidCheckpointError(
                    f"tensor '{node['k']}' of dtype {array.dtype} is marked requires_grad; "
                    "only floating point tensors can require gradients"
                )
            cls = node.get("cls")
            if cls is not None and cls not in _TENSOR_CLASSES:
                raise _InvalidCheckpointError(f"tensor '{node['k']}' has unknown class {cls!r}")
            parameter = getattr(sys.modules.get("nn.parameter"), "Parameter", None)
            if cls == _PARAMETER and parameter is not None:
                return parameter(array, requires_grad=requires_grad)
            return Tensor(array, requires_grad=requires_grad)
        if kind == "ndarray":
            return self.array(node)
        if kind == "scalar":
            array = self.array(node)
            if array.ndim != 0:
                raise _InvalidCheckpointError(f"scalar '{node['k']}' has shape {array.shape}")
            return array[()]
        if kind in ("list", "tuple"):
            items = [self.decode(item) for item in _items(node)]
            return items if kind == "list" else tuple(items)
        if kind in ("dict", "odict"):
            result: dict[Any, Any] = OrderedDict() if kind == "odict" else {}
            for pair in _items(node):
                if not isinstance(pair, list) or len(pair) != 2:
                    raise _InvalidCheckpointError(f"malformed dict item {str(pair)[:80]!r}")
                result[self.decode(pair[0])] = self.decode(pair[1])
            return result
        raise _InvalidCheckpointError(f"unknown manifest node type {kind!r}")


def _items(node: dict[str, Any]) -> list[Any]:
    items = node.get("items")
    if not isinstance(items, list):
        raise _InvalidCheckpointError(f"manifest {node['t']} node without a list of items")
    return items


def _read_npy(
    stream: io.BufferedIOBase, member_size: int, name: str,
    mapped: tuple[str, int] | None = None
) -> np.ndarray:
    """An array from a ``.npy`` member of ``member_size`` bytes; the header is checked against
    the member's size before the array is allocated, and object dtypes are refused. With
    ``mapped`` (the file's path and where the member starts in it) the data is memory-mapped
    copy-on-write instead of read."""
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(stream)
    elif version == (2, 0):
        shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(stream)
    else:
        raise _InvalidCheckpointError(f"the array '{name}' has unsupported .npy version {version}")
    if not _plain_dtype(dtype):
        raise _InvalidCheckpointError(f"the array '{name}' has unsupported dtype {dtype}")
    count = 1
    for size in shape:
        count *= size
    needed = count * dtype.itemsize
    available = member_size - stream.tell()
    if available != needed:
        raise _InvalidCheckpointError(
            f"the array '{name}' holds {available} bytes of data, its header "
            f"(shape {shape}, dtype {dtype}) needs {needed}"
        )
    if mapped is not None and needed:
        path, start = mapped
        mapping = np.memmap(path, dtype=dtype, mode="c", offset=start + stream.tell(),
                            shape=(count,))
        plain = mapping.view(np.ndarray)  # a plain array; the mapping stays alive as its base
        return plain.reshape(shape[::-1]).transpose() if fortran_order else plain.reshape(shape)
    flat = np.empty(count, dtype=dtype)
    # an ndarray is a buffer; NumPy's stubs declare its __buffer__ for Python 3.12+ only
    view = memoryview(flat.view(np.uint8)) if needed else memoryview(b"")  # type: ignore[arg-type]
    filled = 0
    while filled < needed:
        chunk = stream.readinto(view[filled:])
        if not chunk:
            raise _InvalidCheckpointError(f"the array '{name}' is truncated")
        filled += chunk
    if stream.read(1):  # also makes zipfile check the member's CRC
        raise _InvalidCheckpointError(f"the array '{name}' has data past its end")
    if fortran_order:
        return flat.reshape(shape[::-1]).transpose()
    return flat.reshape(shape)


def _max_bytes(explicit: int | None) -> int:
    if explicit is not None:
        if isinstance(explicit, bool) or not isinstance(explicit, int) or explicit < 0:
            raise ValueError(f"mg.load: max_bytes must be a non-negative int, got {explicit!r}")
        return explicit
    setting = os.environ.get(MAX_BYTES_ENV)
    if setting is None:
        return MAX_MEMBER_BYTES
    try:
        return int(setting)
    except ValueError:
        raise ValueError(
            f"mg.load: {MAX_BYTES_ENV}={setting!r} is not a number of bytes"
        ) from None


def _check_map_location(map_location: Any) -> None:
    """Accept PyTorch's map_location forms; anything that asks for an accelerator is an error."""
    if map_location is None or callable(map_location):
        return  # a callable would pick a device per storage: every array is on the CPU already
    targets = map_location.values() if isinstance(map_location, dict) else [map_location]
    for target in targets:
        if not isinstance(target, str) and type(target).__name__ != "device":
            raise TypeError(
                f"mg.load: map_location must be None, a device, a string, a dict or a "
                f"callable, got {type(target).__name__}"
            )
        device = str(target).split(":")[0]
        if device != "cpu":
            raise DeviceError(
                f"mg.load: map_location asks for device {str(target)!r}, but minigrad runs on "
                "the CPU only; use map_location='cpu' or leave it out"
            )


def load(
    f: str | os.PathLike[str] | BinaryIO,
    map_location: Any = None,
    pickle_module: Any = None,
    *,
    weights_only: bool | None = True,
    mmap: bool | None = None,
    max_bytes: int | None = None,
    **pickle_load_args: Any,
) -> Any:
    """Load what ``save`` wrote: tensors come back as Tensors, dicts in their order.

    The arguments are ``torch.load``'s. ``weights_only=True`` (the default, also for None)
    reads only the pickle-free format; a file holding a pickled object raises
    ``UnsafeCheckpointError`` (a ValueError) unless ``weights_only=False`` is passed, which
    unpickles it and so runs code named by the file: only do that for files you trust.
    ``map_location`` may be None, ``"cpu"``, a device, a dict or a callable; everything is
    loaded on the CPU, and asking for another device raises ``minigrad.errors.DeviceError``.
    ``mmap=True`` (``f`` must be a path) maps the arrays of the file into memory copy-on-write
    instead of reading them: pages are read when first touched, and writes to the tensors stay
    in memory; the CRC of mapped arrays is not checked. ``pickle_module`` and
    ``pickle_load_args`` (e.g. ``encoding=``) apply to unpickling.

    No zip member may declare more than ``max_bytes`` (default ``MAX_MEMBER_BYTES`` = 4 GiB,
    or the ``MINIGRAD_LOAD_MAX_BYTES`` environment variable). A file that is not a minigrad
    checkpoint — a PyTorch ``.pt`` file, a plain ``.npz``, a truncated, corrupt or crafted
    file — raises ValueError naming it; a missing file raises FileNotFoundError.
    """
    _check_map_location(map_location)
    if weights_only is None:
        weights_only = True
    if weights_only and pickle_module is not None:
        raise ValueError(
            "mg.load: pickle_module cannot be used with weights_only=True, which never "
            "unpickles; pass weights_only=False to unpickle a file you trust"
        )
    limit = _max_bytes(max_bytes)
    options = {
        "weights_only": bool(weights_only),
        "pickle_module": pickle_module,
        "pickle_load_args": pickle_load_args,
        "max_bytes": limit,
        "mmap_path": None,
    }
    if mmap:
        if hasattr(f, "read"):
            raise ValueError("mg.load: f must be a file path in order to use the mmap argument")
        options["mmap_path"] = os.fspath(f)
    if hasattr(f, "read"):
        name = repr(getattr(f, "name", "<file object>"))
        return _load_stream(cast(BinaryIO, f), name, options)
    path = os.fspath(f)
    with open(path, "rb") as stream:
        return _load_stream(stream, repr(path), options)


_TORCH_HINT = (
    "convert it once with PyTorch: sd = torch.load({name}, map_location='cpu'); "
    "mg.save({{k: v.detach().cpu().numpy() for k, v in sd.items()}}, 'model.npz') "
    "(for a state dict; nested checkpoints convert each tensor the same way)"
)


def _sniff(stream: BinaryIO, name: str) -> int:
    """The size of the file; PyTorch and pickle files are refused with a hint."""
    start = stream.tell()
    head = stream.read(6)
    size = stream.seek(0, os.SEEK_END) - start
    stream.seek(start)
    if head[:1] == b"\x80" and len(head) > 1 and head[1] <= pickle.HIGHEST_PROTOCOL:
        raise ValueError(
            f"mg.load: {name} is a pickle file (a legacy PyTorch checkpoint, or pickle.dump "
            "output), not a minigrad checkpoint; minigrad does not unpickle raw files. If it "
            f"is a PyTorch checkpoint, {_TORCH_HINT.format(name=name)}"
        )
    if head == b"\x93NUMPY":
        raise ValueError(
            f"mg.load: {name} is a single .npy array (np.save), not a minigrad checkpoint; read "
            "it with np.load(path, allow_pickle=False) and wrap it with mg.tensor"
        )
    return size


def _load_stream(stream: BinaryIO, name: str, options: dict[str, Any]) -> Any:
    size = _sniff(stream, name)
    try:
        with zipfile.ZipFile(stream) as archive:
            names = archive.namelist()
            if MANIFEST + ".npy" not in names:
                if any(n == "data.pkl" or n.endswith("/data.pkl") for n in names):
                    raise ValueError(
                        f"mg.load: {name} is a PyTorch checkpoint (torch.save), which holds "
                        "pickled objects that minigrad does not run; "
                        + _TORCH_HINT.format(name=name)
                    )
                raise _InvalidCheckpointError(
                    "it is a zip/npz archive without a minigrad manifest (was it written by "
                    "np.savez rather than mg.save?)"
                )
            reader = _Reader(archive, size, options["max_bytes"], options["mmap_path"])
            manifest = _read_manifest(reader)
            root = manifest["root"]
            if isinstance(root, dict) and root.get("t") == "pickle":
                return _unpickle(reader, root, name, options)
            return reader.decode(root)
    except (UnsafeCheckpointError, DeviceError):
        raise
    except ValueError as error:
        if str(error).startswith("mg.load: "):
            raise
        raise _invalid(name, error) from error
    except Exception as error:
        raise _invalid(name, error) from error


def _invalid(name: str, error: BaseException) -> ValueError:
    if isinstance(error, zipfile.BadZipFile) and "not a zip file" in str(error).lower():
        reason = "it is not an npz/zip archive, or it is truncated"
    else:
        reason = str(error) or type(error).__name__
    return ValueError(f"mg.load: {name} is not a valid minigrad checkpoint: {reason}")


def _read_manifest(reader: _Reader) -> dict[str, Any]:
    manifest_bytes = reader.array({"k": MANIFEST})
    if manifest_bytes.dtype != np.uint8 or manifest_bytes.ndim != 1:
        raise _InvalidCheckpointError("the manifest entry is not a byte array")
    manifest = json.loads(manifest_bytes.tobytes().decode("utf-8"))
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _InvalidCheckpointError("the manifest has no minigrad format tag")
    version = manifest.get("version")
    if type(version) is not int or not 1 <= version <= PICKLE_VERSION:
        raise _InvalidCheckpointError(
            f"it has format version {version!r}, this minigrad reads versions 1 to "
            f"{PICKLE_VERSION}; upgrade minigrad"
        )
    if "root" not in manifest:
        raise _InvalidCheckpointError("the manifest has no root")
    return manifest


def _unpickle(reader: _Reader, root: dict[str, Any], name: str, options: dict[str, Any]) -> Any:
    if options["weights_only"]:
        raise UnsafeCheckpointError(
            f"mg.load: {name} holds a pickled {root.get('type', 'object')} (saved with "
            "mg.save(obj) for an object that is not a state dict). Unpickling runs code named "
            "by the file, so a malicious file could do anything; if you trust its source, "
            "load it with mg.load(path, weights_only=False). Better: save "
            "model.state_dict() and load it into a new model with load_state_dict"
        )
    payload = reader.array(root)
    if payload.dtype != np.uint8 or payload.ndim != 1:
        raise _InvalidCheckpointError("the pickle entry is not a byte array")
    cache: dict[str, Any] = {}

    def persistent_load(pid: Any) -> Any:
        if not isinstance(pid, tuple) or len(pid) not in (2, 4) or not isinstance(pid[1], str):
            raise _InvalidCheckpointError(f"bad array reference {pid!r}")
        kind, key = pid[0], pid[1]
        if key in cache:
            return cache[key]
        if kind == "ndarray" and len(pid) == 2:
            value: Any = reader.array({"k": key})
        elif kind == "tensor" and len(pid) == 4 and isinstance(pid[2], type) and issubclass(
            pid[2], Tensor
        ):
            value = pid[2].__new__(pid[2])
            Tensor.__init__(value, reader.array({"k": key}), requires_grad=bool(pid[3]))
        else:
            raise _InvalidCheckpointError(f"bad array reference {pid!r}")
        cache[key] = value
        return value

    module = options["pickle_module"] or pickle
    unpickler = module.Unpickler(io.BytesIO(payload.tobytes()), **options["pickle_load_args"])
    unpickler.persistent_load = persistent_load
    return unpickler.load()
