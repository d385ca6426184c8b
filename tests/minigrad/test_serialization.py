"""mg.save / mg.load: round trips, atomic writes, and clean rejection of bad files."""

import io
import json
import os
import pickle
import struct
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import minigrad as mg
import minigrad.optim as optim
import minigrad.serialization as serialization
import nn
from minigrad.errors import DeviceError


def assert_same(a, b):
    assert type(a) is type(b)
    if isinstance(a, mg.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a._data, b._data)
        assert a.requires_grad == b.requires_grad
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for key in a:
            assert_same(a[key], b[key])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_same(x, y)
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b)
    else:
        assert a == b


def test_nested_round_trip_preserves_values_types_and_order(tmp_path):
    obj = OrderedDict(
        [
            (
                "weights",
                mg.tensor(np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)),
            ),
            ("double", mg.tensor(np.array([1e-300, np.pi]), requires_grad=True)),
            ("ints", mg.tensor([1, 2, 3])),
            ("flags", np.array([True, False])),
            ("scalar", np.float32(2.5)),
            ("numbers", [1, 2.5, float("inf"), float("nan"), -0.0, True, None, "text"]),
            ("pair", (0.9, 0.999)),
            ("big", 2**70),
            ("nested", {0: {"step": 3, "exp_avg": mg.zeros(2)}, "a/b%c": {}}),
            ("empty", mg.zeros(0, 3)),
        ]
    )
    path = tmp_path / "checkpoint.npz"
    mg.save(obj, path)
    assert_same(mg.load(path), obj)


def test_path_is_written_exactly_as_given(tmp_path):
    for name in ("model.npz", "model.ckpt", "model"):
        mg.save({"x": mg.ones(2)}, str(tmp_path / name))
        assert (tmp_path / name).exists()
        assert mg.load(str(tmp_path / name))["x"].shape == (2,)
    assert sorted(os.listdir(tmp_path)) == ["model", "model.ckpt", "model.npz"]


def test_file_objects(tmp_path):
    buffer = io.BytesIO()
    mg.save({"x": mg.arange(5)}, buffer)
    buffer.seek(0)
    np.testing.assert_array_equal(mg.load(buffer)["x"]._data, np.arange(5))


def test_checkpoint_is_a_readable_npz(tmp_path):
    model = nn.Linear(3, 2)
    path = tmp_path / "linear.npz"
    mg.save(model.state_dict(), path)
    with np.load(path, allow_pickle=False) as archive:
        assert {"weight", "bias", "__minigrad__"} <= set(archive.files)
        np.testing.assert_array_equal(archive["weight"], model.weight._data)


def test_model_round_trip_gives_bit_identical_outputs(tmp_path):
    def make():
        return nn.Sequential(nn.Linear(6, 5), nn.BatchNorm1d(5), nn.Tanh(), nn.Linear(5, 3))

    source = make()
    source(mg.randn(8, 6))  # move the running statistics away from their initial values
    source.eval()
    mg.save(source.state_dict(), tmp_path / "m.npz")
    target = make()
    target.load_state_dict(mg.load(tmp_path / "m.npz"))
    target.eval()
    x = mg.randn(4, 6)
    assert np.array_equal(source(x)._data, target(x)._data)
    assert target[1].num_batches_tracked._data.dtype == np.int64


def test_optimizer_state_round_trip_resumes_identically(tmp_path):
    def train(model, opt, steps, seed):
        rng = np.random.default_rng(seed)
        for _ in range(steps):
            x = mg.tensor(rng.standard_normal((4, 3)).astype(np.float32))
            opt.zero_grad()
            (model(x) ** 2).mean().backward()
            opt.step()

    mg.manual_seed(1)
    model = nn.Linear(3, 2)
    opt = optim.Adam(model.parameters(), lr=0.01)
    train(model, opt, 3, seed=0)
    mg.save(
        {"model": model.state_dict(), "optim": opt.state_dict(), "epoch": 3}, tmp_path / "c.npz"
    )
    train(model, opt, 2, seed=1)

    checkpoint = mg.load(tmp_path / "c.npz")
    restored = nn.Linear(3, 2)
    restored.load_state_dict(checkpoint["model"])
    restored_opt = optim.Adam(restored.parameters(), lr=0.01)
    restored_opt.load_state_dict(checkpoint["optim"])
    assert checkpoint["epoch"] == 3
    train(restored, restored_opt, 2, seed=1)
    np.testing.assert_array_equal(restored.weight._data, model.weight._data)


def test_unpicklable_objects_are_rejected_before_writing(tmp_path):
    path = tmp_path / "x.npz"
    with pytest.raises(TypeError, match="mg.save: cannot save the dict.*pickled"):
        mg.save({"fn": lambda x: x}, path)
    with pytest.raises(TypeError, match="mg.save: cannot save the list"):
        mg.save([mg.ones(2), (i for i in range(3))], path)
    assert os.listdir(tmp_path) == []


def test_interrupted_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    mg.save({"x": mg.ones(3)}, path)
    before = path.read_bytes()

    def fail(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(np.lib.format, "write_array", fail)
    with pytest.raises(KeyboardInterrupt):
        mg.save({"x": mg.zeros(3)}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.npz"]  # no temporary file left behind


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        mg.load(tmp_path / "absent.npz")


def bad_file_cases(tmp_path):
    good = tmp_path / "good.npz"
    mg.save({"w": mg.randn(50, 50), "n": 3}, good)
    data = good.read_bytes()
    cases = {
        "text": b"hello, this is not a checkpoint",
        "empty": b"",
        "truncated": data[: len(data) // 2],
        "truncated_tail": data[:-10],
    }
    corrupt = bytearray(data)
    middle = len(corrupt) // 2
    corrupt[middle : middle + 8] = b"\xff" * 8
    cases["corrupt"] = bytes(corrupt)

    plain = io.BytesIO()
    np.savez(plain, w=np.ones(3))
    cases["plain_npz"] = plain.getvalue()

    pickled = io.BytesIO()
    np.savez(
        pickled, __minigrad__=np.frombuffer(b"{}", np.uint8), w=np.array([{"a": 1}], dtype=object)
    )
    cases["pickled"] = pickled.getvalue()

    def with_manifest(manifest):
        buffer = io.BytesIO()
        serialization._write_archive(buffer, manifest, {"w": np.ones(2)})
        return buffer.getvalue()

    cases["newer_version"] = with_manifest(
        {"format": "minigrad-checkpoint", "version": 99, "root": {"t": "none"}}
    )
    cases["wrong_format"] = with_manifest({"format": "other", "version": 1, "root": {"t": "none"}})
    cases["bad_node"] = with_manifest(
        {"format": "minigrad-checkpoint", "version": 1, "root": {"t": "code"}}
    )
    cases["dangling_array"] = with_manifest(
        {"format": "minigrad-checkpoint", "version": 1, "root": {"t": "tensor", "k": "missing"}}
    )
    cases["pickle_reference"] = None  # filled below: a manifest pointing at an object array
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        manifest = {
            "format": "minigrad-checkpoint",
            "version": 1,
            "root": {"t": "ndarray", "k": "obj"},
        }
        with archive.open("__minigrad__.npy", "w") as entry:
            np.lib.format.write_array(entry, np.frombuffer(json.dumps(manifest).encode(), np.uint8))
        with archive.open("obj.npy", "w") as entry:
            np.lib.format.write_array(entry, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    cases["pickle_reference"] = buffer.getvalue()
    return cases


def test_bad_files_are_rejected_cleanly(tmp_path):
    for name, content in bad_file_cases(tmp_path).items():
        path = tmp_path / f"{name}.npz"
        path.write_bytes(content)
        with pytest.raises(ValueError, match="not a valid minigrad checkpoint") as info:
            mg.load(path)
        assert str(path) in str(info.value), name


def test_flipping_bytes_never_gives_an_unclear_error(tmp_path):
    path = tmp_path / "m.npz"
    mg.save({"w": mg.randn(4, 4), "meta": {"epoch": 1, "name": "x"}}, path)
    data = path.read_bytes()
    rng = np.random.default_rng(0)
    for _ in range(60):
        corrupt = bytearray(data)
        for position in rng.integers(0, len(data), size=3):
            corrupt[position] ^= int(rng.integers(1, 256))
        path.write_bytes(bytes(corrupt))
        try:
            mg.load(path)
        except ValueError as error:
            assert "not a valid minigrad checkpoint" in str(error)


def test_optimizer_and_scheduler_state_dicts_survive_save_and_load(tmp_path):
    param = mg.zeros(3, requires_grad=True)
    opt = optim.Adam([param], lr=0.1)
    scheduler = optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=10)
    for _ in range(3):
        param.grad = mg.ones(3)
        opt.step()
        scheduler.step()
    mg.save({"optim": opt.state_dict(), "sched": scheduler.state_dict()}, tmp_path / "s.npz")
    loaded = mg.load(tmp_path / "s.npz")
    assert_same(loaded["optim"], opt.state_dict())
    assert loaded["sched"]["last_epoch"] == 3
    assert loaded["optim"]["param_groups"][0]["betas"] == opt.param_groups[0]["betas"]


# ------------------------------------------------------------------ whole objects (pickle opt-in)


def test_whole_module_round_trips_with_explicit_weights_only_false(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    model[2].weight.grad = mg.ones(2, 4)
    path = tmp_path / "model.pt"
    mg.save(model, path)
    loaded = mg.load(path, weights_only=False)
    assert type(loaded) is nn.Sequential and type(loaded[0]) is nn.Linear
    assert type(loaded[0].weight) is nn.Parameter and loaded[0].weight.requires_grad
    x = mg.randn(5, 3)
    with mg.no_grad():
        np.testing.assert_array_equal(loaded(x)._data, model(x)._data)
    assert loaded[0].weight._data is not model[0].weight._data
    assert loaded[2].weight.grad is None  # like PyTorch, gradients are not saved


def test_pickled_objects_keep_shared_tensors_shared(tmp_path):
    shared = mg.randn(3, requires_grad=True)
    array = np.arange(4.0)
    mg.save({"a": shared, "b": shared, "arrays": [array, array], "obj": {1, 2}}, tmp_path / "s")
    loaded = mg.load(tmp_path / "s", weights_only=False)
    assert loaded["a"] is loaded["b"] and loaded["a"].requires_grad
    assert loaded["arrays"][0] is loaded["arrays"][1]
    assert loaded["obj"] == {1, 2}
    with zipfile.ZipFile(tmp_path / "s") as archive:  # arrays are .npy entries, once each
        assert sum(name.startswith("pickled/") for name in archive.namelist()) == 2


def test_default_load_never_unpickles_and_says_how_to_opt_in(tmp_path):
    marker = tmp_path / "code-ran"
    mg.save({"payload": _RunsCode(str(marker))}, tmp_path / "evil.pt")
    for weights_only in (True, None):
        with pytest.raises(serialization.UnsafeCheckpointError) as info:
            mg.load(tmp_path / "evil.pt", weights_only=weights_only)
        message = str(info.value)
        assert "evil.pt" in message and "weights_only=False" in message and "trust" in message
        assert isinstance(info.value, ValueError)
        assert isinstance(info.value, pickle.UnpicklingError)  # what PyTorch raises
        assert not marker.exists()
    mg.load(tmp_path / "evil.pt", weights_only=False)  # the explicit opt-in runs the file's code
    assert marker.exists()


class _RunsCode:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.mkdir, (self.path,))


def test_state_dict_files_also_load_with_weights_only_false(tmp_path):
    mg.save({"w": mg.ones(2)}, tmp_path / "sd.npz")
    assert mg.load(tmp_path / "sd.npz", weights_only=False)["w"].shape == (2,)


def test_pickle_module_needs_weights_only_false(tmp_path):
    model = nn.Linear(2, 2)
    mg.save(model, tmp_path / "m.pt", pickle_module=pickle, pickle_protocol=4)
    with pytest.raises(ValueError, match="pickle_module"):
        mg.load(tmp_path / "m.pt", pickle_module=pickle)
    loaded = mg.load(tmp_path / "m.pt", pickle_module=pickle, weights_only=False)
    np.testing.assert_array_equal(loaded.weight._data, model.weight._data)


def test_objects_containing_themselves_raise_value_error(tmp_path):
    looped = {"x": mg.ones(1)}
    looped["self"] = looped
    with pytest.raises(ValueError, match="mg.save: the dict at self contains itself"):
        mg.save(looped, tmp_path / "a")
    chain = [1]
    chain.append({"inner": [chain]})
    with pytest.raises(ValueError, match="contains itself"):
        mg.save(chain, tmp_path / "b")
    deep = []
    for _ in range(5000):
        deep = [deep]
    with pytest.raises(ValueError, match="nested too deeply"):
        mg.save(deep, tmp_path / "c")
    assert os.listdir(tmp_path) == []
    repeated = mg.ones(2)  # the same object twice is not a cycle
    mg.save({"a": repeated, "b": [repeated, repeated]}, tmp_path / "d")
    assert mg.load(tmp_path / "d")["b"][1].shape == (2,)


def test_numpy_scalars_keep_their_type(tmp_path):
    mg.save({"f64": np.float64(0.1), "i8": np.int8(-3), "b": np.bool_(True)}, tmp_path / "s")
    loaded = mg.load(tmp_path / "s")
    assert type(loaded["f64"]) is np.float64 and loaded["f64"] == 0.1
    assert type(loaded["i8"]) is np.int8 and type(loaded["b"]) is np.bool_


# ------------------------------------------------------------------ map_location


@pytest.mark.parametrize(
    "map_location",
    ["cpu", "cpu:0", {"cuda:0": "cpu"}, lambda storage, location: storage, None],
    ids=["cpu", "cpu0", "dict", "callable", "none"],
)
def test_map_location_to_the_cpu_is_accepted(tmp_path, map_location):
    mg.save({"w": mg.ones(2)}, tmp_path / "c")
    assert mg.load(tmp_path / "c", map_location=map_location)["w"].shape == (2,)


def test_map_location_accepts_torch_devices(tmp_path):
    torch = pytest.importorskip("torch")
    mg.save({"w": mg.ones(2)}, tmp_path / "c")
    assert mg.load(tmp_path / "c", map_location=torch.device("cpu"))["w"].shape == (2,)
    with pytest.raises(DeviceError, match="CPU"):
        mg.load(tmp_path / "c", map_location=torch.device("cuda", 0))


@pytest.mark.parametrize("map_location", ["cuda", "cuda:1", "mps", {"cpu": "cuda:0"}])
def test_map_location_to_an_accelerator_raises_a_device_error(tmp_path, map_location):
    mg.save({"w": mg.ones(2)}, tmp_path / "c")
    with pytest.raises(DeviceError, match="mg.load: map_location .* runs on the CPU only"):
        mg.load(tmp_path / "c", map_location=map_location)
    assert issubclass(DeviceError, RuntimeError)  # PyTorch raises RuntimeError here


def test_map_location_of_a_wrong_type_raises_type_error(tmp_path):
    mg.save({"w": mg.ones(2)}, tmp_path / "c")
    with pytest.raises(TypeError, match="map_location"):
        mg.load(tmp_path / "c", map_location=3)


# ------------------------------------------------------------------ PyTorch files


def test_pytorch_checkpoints_get_a_conversion_hint(tmp_path):
    torch = pytest.importorskip("torch")
    state = torch.nn.Linear(3, 2).state_dict()
    torch.save(state, tmp_path / "zip.pt")
    torch.save(state, tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)
    with pytest.raises(ValueError) as info:
        mg.load(tmp_path / "zip.pt")
    assert "zip.pt" in str(info.value) and "PyTorch checkpoint" in str(info.value)
    assert "torch.load" in str(info.value) and "mg.save" in str(info.value)
    for name in ("legacy.pt",):
        with pytest.raises(ValueError, match="pickle file .*legacy PyTorch.*torch.load"):
            mg.load(tmp_path / name)
    # the conversion the message suggests works
    converted = {k: v.detach().cpu().numpy() for k, v in torch.load(tmp_path / "zip.pt").items()}
    mg.save(converted, tmp_path / "model.npz")
    model = nn.Linear(3, 2)
    model.load_state_dict(mg.load(tmp_path / "model.npz"))
    np.testing.assert_array_equal(model.weight._data, state["weight"].numpy())


def test_plain_pickle_files_are_refused(tmp_path):
    marker = tmp_path / "ran"
    (tmp_path / "p.pkl").write_bytes(pickle.dumps(_RunsCode(str(marker))))
    with pytest.raises(ValueError, match="p.pkl.*pickle file"):
        mg.load(tmp_path / "p.pkl")
    with pytest.raises(ValueError, match="pickle file"):
        mg.load(tmp_path / "p.pkl", weights_only=False)
    assert not marker.exists()


# ------------------------------------------------------------------ bounded, checked loading


def _npy(array, header_shape=None):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=False)
    raw = buffer.getvalue()
    if header_shape is not None:
        old = repr(array.shape).encode()
        new = repr(header_shape).encode()
        raw = raw.replace(old, new.ljust(len(old)) if len(new) <= len(old) else new, 1)
        # keep the header a multiple of 64 bytes long as numpy writes it
        header_len = struct.unpack("<H", raw[8:10])[0]
        end = raw.index(b"\n", 10)
        raw = raw[:10] + raw[10:end].ljust(header_len - 1) + b"\n" + raw[end + 1 :]
        raw = raw[:8] + struct.pack("<H", header_len) + raw[10:]
    return raw


def _archive(members, compression=zipfile.ZIP_STORED):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, payload in members.items():
            archive.writestr(name, payload)
    return buffer.getvalue()


def _manifest(root, version=1):
    text = json.dumps({"format": "minigrad-checkpoint", "version": version, "root": root})
    return _npy(np.frombuffer(text.encode(), np.uint8))


def _patch_central_sizes(data, compressed, uncompressed, member=-1):
    """Rewrite a member's sizes in the zip's central directory."""
    position = [i for i in range(len(data)) if data.startswith(b"PK\x01\x02", i)][member]
    patched = bytearray(data)
    patched[position + 20 : position + 28] = struct.pack("<II", compressed, uncompressed)
    return bytes(patched)


def crafted_files():
    tensor_node = {"t": "tensor", "k": "w", "rg": False}
    good_w = _npy(np.ones(4, np.float32))
    cases = {
        "int_requires_grad": _archive(
            {"__minigrad__.npy": _manifest({**tensor_node, "rg": True}),
             "w.npy": _npy(np.arange(3))}
        ),
        "requires_grad_not_bool": _archive(
            {"__minigrad__.npy": _manifest({**tensor_node, "rg": "yes"}), "w.npy": good_w}
        ),
        "non_checkpoint_zip": _archive({"readme.txt": b"hello"}),
        "manifest_lies_about_shape": _archive(
            {"__minigrad__.npy": _manifest({**tensor_node, "s": [5], "d": "<f4"}), "w.npy": good_w}
        ),
        "manifest_lies_about_dtype": _archive(
            {"__minigrad__.npy": _manifest({**tensor_node, "s": [4], "d": "<f8"}), "w.npy": good_w}
        ),
        "header_claims_a_huge_array": _archive(
            {"__minigrad__.npy": _manifest(tensor_node),
             "w.npy": _npy(np.ones(2, np.float64), header_shape=(10**12,))}
        ),
        "header_claims_fewer_bytes": _archive(
            {"__minigrad__.npy": _manifest(tensor_node),
             "w.npy": _npy(np.ones(8, np.float64), header_shape=(2,))}
        ),
        "manifest_not_bytes": _archive({"__minigrad__.npy": _npy(np.ones(3))}),
        "manifest_not_json": _archive({"__minigrad__.npy": _npy(np.frombuffer(b"{x", np.uint8))}),
        "manifest_not_utf8": _archive(
            {"__minigrad__.npy": _npy(np.frombuffer(b"\xff\xfe", np.uint8))}
        ),
        "manifest_without_root": _archive(
            {"__minigrad__.npy": _npy(np.frombuffer(
                b'{"format": "minigrad-checkpoint", "version": 1}', np.uint8))}
        ),
        "version_zero": _archive({"__minigrad__.npy": _manifest({"t": "none"}, version=0)}),
        "version_not_int": _archive({"__minigrad__.npy": _manifest({"t": "none"}, version="1")}),
        "float_node_not_hex": _archive({"__minigrad__.npy": _manifest({"t": "float", "v": "x"})}),
        "int_node_holds_text": _archive({"__minigrad__.npy": _manifest({"t": "int", "v": "1"})}),
        "list_without_items": _archive({"__minigrad__.npy": _manifest({"t": "list"})}),
        "dict_item_not_a_pair": _archive(
            {"__minigrad__.npy": _manifest({"t": "dict", "items": [[{"t": "none"}]]})}
        ),
        "unhashable_dict_key": _archive(
            {"__minigrad__.npy": _manifest(
                {"t": "dict", "items": [[{"t": "list", "items": []}, {"t": "none"}]]})}
        ),
        "scalar_with_shape": _archive(
            {"__minigrad__.npy": _manifest({"t": "scalar", "k": "w"}), "w.npy": good_w}
        ),
        "deeply_nested_manifest": _archive(
            {"__minigrad__.npy": _npy(np.frombuffer(
                b'{"format": "minigrad-checkpoint", "version": 1, "root": '
                + b'{"t": "list", "items": [' * 100000 + b"]}" * 100000 + b"}", np.uint8))}
        ),
        "array_reference_not_a_string": _archive(
            {"__minigrad__.npy": _manifest({"t": "tensor", "k": 7})}
        ),
        "object_array": _archive(
            {"__minigrad__.npy": _manifest({"t": "ndarray", "k": "w"}),
             "w.npy": b"\x93NUMPY\x01\x00v\x00{'descr': '|O', 'fortran_order': False, "
             b"'shape': (1,), }".ljust(127) + b"\n" + pickle.dumps([1])}
        ),
        "bad_npy_magic": _archive(
            {"__minigrad__.npy": _manifest(tensor_node), "w.npy": b"not an npy file at all"}
        ),
        "pickle_reference_is_garbage": _archive(
            {"__minigrad__.npy": _manifest({"t": "pickle", "k": "w"}, version=2), "w.npy": good_w}
        ),
    }
    stored = _archive({"__minigrad__.npy": _manifest(tensor_node), "w.npy": good_w})
    cases["stored_size_mismatch"] = _patch_central_sizes(stored, len(good_w), len(good_w) + 8)
    cases["member_past_end_of_file"] = _patch_central_sizes(stored, 10**9, 10**9)
    buffer = io.BytesIO(stored)
    with pytest.warns(UserWarning), zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr("w.npy", _npy(np.zeros(4, np.float32)))
    cases["duplicate_members"] = buffer.getvalue()
    return cases


@pytest.mark.parametrize("case", sorted(crafted_files()))
def test_crafted_files_raise_the_documented_value_error(tmp_path, case):
    path = tmp_path / f"{case}.npz"
    path.write_bytes(crafted_files()[case])
    with pytest.raises(ValueError, match="mg.load: .* is not a valid minigrad checkpoint") as info:
        mg.load(path, weights_only=case != "pickle_reference_is_garbage")
    assert str(path) in str(info.value)


def test_truncated_files_at_every_length_raise_value_error(tmp_path):
    mg.save({"w": mg.randn(8, 8), "meta": {"epoch": 2}}, tmp_path / "good")
    data = (tmp_path / "good").read_bytes()
    path = tmp_path / "cut.npz"
    for length in range(0, len(data), 7):
        path.write_bytes(data[:length])
        with pytest.raises(ValueError, match="cut.npz"):
            mg.load(path)


def test_members_are_bounded_by_max_bytes(tmp_path, monkeypatch):
    path = tmp_path / "bomb.npz"
    zeros = np.zeros(2**20, np.float64)  # 8 MiB that deflate to a few kB
    path.write_bytes(
        _archive(
            {"__minigrad__.npy": _manifest({"t": "ndarray", "k": "w"}), "w.npy": _npy(zeros)},
            compression=zipfile.ZIP_DEFLATED,
        )
    )
    assert path.stat().st_size < 100_000
    with pytest.raises(ValueError, match="bomb.npz.*more than the limit of 1,000,000.*max_bytes="):
        mg.load(path, max_bytes=1_000_000)
    monkeypatch.setenv("MINIGRAD_LOAD_MAX_BYTES", "1000000")
    with pytest.raises(ValueError, match="MINIGRAD_LOAD_MAX_BYTES"):
        mg.load(path)
    assert mg.load(path, max_bytes=2**24).shape == zeros.shape  # an explicit limit wins
    monkeypatch.setenv("MINIGRAD_LOAD_MAX_BYTES", "lots")
    with pytest.raises(ValueError, match="MINIGRAD_LOAD_MAX_BYTES='lots'"):
        mg.load(path)
    monkeypatch.delenv("MINIGRAD_LOAD_MAX_BYTES")
    assert serialization.MAX_MEMBER_BYTES == 4 << 30
    assert mg.load(path).dtype == np.float64
    with pytest.raises(ValueError, match="max_bytes"):
        mg.load(path, max_bytes=-1)


def test_save_and_load_stay_reachable_from_minigrad():
    assert mg.save is serialization.save and mg.load is serialization.load


def test_parameters_and_array_subclasses_stay_pickle_free(tmp_path):
    weight = nn.Parameter(mg.randn(2, 3))
    frozen = nn.Parameter(mg.randn(2), requires_grad=False)
    memmap = np.lib.format.open_memmap(tmp_path / "a.npy", mode="w+", dtype=np.float32, shape=(4,))
    memmap[:] = 7
    mg.save({"weight": weight, "frozen": frozen, "memmap": memmap}, tmp_path / "p.npz")
    loaded = mg.load(tmp_path / "p.npz")  # the default weights_only=True reads it
    assert type(loaded["weight"]) is nn.Parameter and loaded["weight"].requires_grad
    assert type(loaded["frozen"]) is nn.Parameter and not loaded["frozen"].requires_grad
    np.testing.assert_array_equal(loaded["weight"]._data, weight._data)
    assert type(loaded["memmap"]) is np.ndarray and loaded["memmap"].tolist() == [7.0] * 4


def test_other_tensor_subclasses_are_pickled(tmp_path):
    mg.save({"t": _MyTensor(np.ones(2, np.float32))}, tmp_path / "t")
    with pytest.raises(serialization.UnsafeCheckpointError, match="weights_only=False"):
        mg.load(tmp_path / "t")
    assert type(mg.load(tmp_path / "t", weights_only=False)["t"]) is _MyTensor


class _MyTensor(mg.Tensor):
    __slots__ = ()


def test_mmap_maps_arrays_copy_on_write(tmp_path):
    model = nn.Linear(30, 20)
    state = {"model": model.state_dict(), "order": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
             "empty": mg.zeros(0, 4), "step": 3}
    path = tmp_path / "big.npz"
    mg.save(state, path)
    before = path.read_bytes()
    loaded = mg.load(path, mmap=True)
    weight = loaded["model"]["weight"]
    base = weight._data
    while base.base is not None and not isinstance(base, np.memmap):
        base = base.base
    assert isinstance(base, np.memmap)  # mapped, not read
    np.testing.assert_array_equal(weight._data, model.weight._data)
    np.testing.assert_array_equal(loaded["order"], state["order"])
    assert loaded["empty"].shape == (0, 4) and loaded["step"] == 3
    weight._data[0, 0] = 123.0  # copy-on-write: the file is not changed
    assert path.read_bytes() == before
    with pytest.raises(ValueError, match="mmap"):
        mg.load(io.BytesIO(before), mmap=True)
    restored = nn.Linear(30, 20)
    restored.load_state_dict(mg.load(path, mmap=True)["model"])
    np.testing.assert_array_equal(restored.weight._data, model.weight._data)


def test_mmap_refuses_crafted_files_like_a_normal_load(tmp_path):
    for name, content in crafted_files().items():
        path = tmp_path / f"{name}.npz"
        path.write_bytes(content)
        with pytest.raises(ValueError, match="mg.load"):
            mg.load(path, mmap=True, weights_only=name != "pickle_reference_is_garbage")


def test_a_single_npy_file_gets_a_hint(tmp_path):
    np.save(tmp_path / "array.npy", np.ones(3))
    with pytest.raises(ValueError, match=r"array.npy. is a single .npy array.*np.load"):
        mg.load(tmp_path / "array.npy")
