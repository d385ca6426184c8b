"""mg.save / mg.load: round trips, atomic writes, and clean rejection of bad files."""

import io
import json
import os
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import minigrad as mg
import minigrad.optim as optim
import minigrad.serialization as serialization
import nn


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


def test_unsupported_objects_are_rejected_before_writing(tmp_path):
    path = tmp_path / "x.npz"
    with pytest.raises(TypeError, match="Linear"):
        mg.save(nn.Linear(2, 2), path)
    with pytest.raises(TypeError, match="dtype object"):
        mg.save({"bad": np.array([object()])}, path)
    with pytest.raises(TypeError, match="key"):
        mg.save({object(): 1}, path)
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
