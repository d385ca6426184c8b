"""Module traversal, buffers, state_dict/load_state_dict, dtype and device moves, containers,
against PyTorch and by hand."""

import numpy as np
import pytest

import minigrad as mg
import nn
from minigrad.device import DeviceError

torch = pytest.importorskip("torch")


def _nets(framework):
    """Block(lin, bn) shared twice plus a head, in minigrad or torch: the same structure."""
    lib = nn if framework == "minigrad" else torch.nn

    class Block(lib.Module):
        def __init__(self):
            super().__init__()
            self.lin = lib.Linear(3, 3)
            self.bn = lib.BatchNorm1d(3)
            self.register_buffer("scratch", (mg if lib is nn else torch).zeros(2),
                                 persistent=False)

    class Net(lib.Module):
        def __init__(self):
            super().__init__()
            block = Block()
            self.first = block
            self.again = block  # the same module under two names
            self.head = lib.Sequential(lib.Linear(3, 2), lib.ReLU())

    return Net()


def _names(pairs):
    return [name for name, _ in pairs]


# ----------------------------------------------------------------------------- traversal


@pytest.mark.parametrize("remove_duplicate", [True, False])
@pytest.mark.parametrize("prefix", ["", "model"])
def test_named_modules_matches_torch(remove_duplicate, prefix):
    ours, theirs = _nets("minigrad"), _nets("torch")
    assert _names(ours.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)) == \
        _names(theirs.named_modules(prefix=prefix, remove_duplicate=remove_duplicate))


def test_named_modules_memo_skips_modules_already_seen():
    ours, theirs = _nets("minigrad"), _nets("torch")
    memo, tmemo = {ours.head}, {theirs.head}
    assert _names(ours.named_modules(memo=memo)) == _names(theirs.named_modules(memo=tmemo))
    assert "head" not in _names(ours.named_modules(memo={ours.head}))


def test_modules_children_parameters_buffers_match_torch():
    ours, theirs = _nets("minigrad"), _nets("torch")
    assert [type(m).__name__ for m in ours.modules()] == [
        type(m).__name__ for m in theirs.modules()
    ]
    assert _names(ours.named_children()) == _names(theirs.named_children())
    assert len(list(ours.children())) == len(list(theirs.children())) == 2
    assert _names(ours.named_parameters()) == _names(theirs.named_parameters())
    assert _names(ours.named_parameters(remove_duplicate=False)) == _names(
        theirs.named_parameters(remove_duplicate=False)
    )
    assert _names(ours.named_buffers()) == _names(theirs.named_buffers())
    assert _names(ours.named_parameters(prefix="p", recurse=False)) == []


def test_get_submodule_parameter_buffer():
    ours = _nets("minigrad")
    assert ours.get_submodule("head.0") is ours.head[0]
    assert ours.get_submodule("") is ours
    assert ours.get_parameter("first.lin.weight") is ours.first.lin.weight
    assert ours.get_buffer("first.bn.running_mean") is ours.first.bn.running_mean
    assert ours.get_buffer("first.scratch") is ours.first.scratch
    with pytest.raises(AttributeError):
        ours.get_submodule("head.7")
    with pytest.raises(AttributeError, match="not an nn.Parameter"):
        ours.get_parameter("first.bn.running_mean")
    with pytest.raises(AttributeError, match="not a buffer"):
        ours.get_buffer("first.lin.weight")
    with pytest.raises(AttributeError):
        ours.get_parameter("first.lin.nothing")


# ----------------------------------------------------------------------------- state dict


def test_non_persistent_buffer_is_not_in_state_dict_but_is_a_buffer():
    ours, theirs = _nets("minigrad"), _nets("torch")
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert not any("scratch" in key for key in ours.state_dict())
    assert "first.scratch" in _names(ours.named_buffers())
    ours.first.register_buffer("scratch", mg.ones(2), persistent=True)
    assert "first.scratch" in ours.state_dict()


def test_state_dict_prefix_and_keep_vars():
    ours, theirs = _nets("minigrad"), _nets("torch")
    assert list(ours.state_dict(prefix="m.")) == list(theirs.state_dict(prefix="m."))
    detached = ours.state_dict()["head.0.weight"]
    kept = ours.state_dict(keep_vars=True)["head.0.weight"]
    assert kept is ours.head[0].weight and kept.requires_grad
    assert not detached.requires_grad
    detached._data[0, 0] = 123.0  # shares memory with the parameter
    assert float(ours.head[0].weight._data[0, 0]) == 123.0


def _torch_state(theirs):
    return {k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()}


def _snapshot(module):
    return {k: v._data.copy() for k, v in module.state_dict().items()}


def test_load_state_dict_round_trip_from_torch():
    ours, theirs = _nets("minigrad"), _nets("torch")
    result = ours.load_state_dict(_torch_state(theirs))
    assert result.missing_keys == [] and result.unexpected_keys == []
    for key, value in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[key].numpy(), value.numpy())
    # torch tensors are accepted too
    ours.load_state_dict(theirs.state_dict())


def _bad_state(kind, state):
    state = dict(state)
    key = "head.0.weight"
    if kind == "string array":
        state[key] = np.full(state[key].shape, "x")
    elif kind == "object array of None":
        state[key] = np.full(state[key].shape, None, dtype=object)
    elif kind == "wrong shape":
        state[key] = np.zeros((5, 5))
    elif kind == "wrong key":
        state["head.0.wieght"] = state.pop(key)
    return state


@pytest.mark.parametrize(
    "kind", ["string array", "object array of None", "wrong shape", "wrong key"]
)
@pytest.mark.parametrize("assign", [False, True])
def test_load_state_dict_refuses_before_copying_anything(kind, assign):
    ours, theirs = _nets("minigrad"), _nets("torch")
    before = _snapshot(ours)
    state = _bad_state(kind, _torch_state(theirs))
    params_before = [id(p) for p in ours.parameters()]
    with pytest.raises(RuntimeError, match="Error\\(s\\) in loading state_dict"):
        ours.load_state_dict(state, assign=assign)
    after = _snapshot(ours)
    assert list(after) == list(before)
    for key in before:
        np.testing.assert_array_equal(after[key], before[key])
    assert [id(p) for p in ours.parameters()] == params_before


def test_load_state_dict_non_strict_keys_match_torch():
    ours, theirs = _nets("minigrad"), _nets("torch")
    state = theirs.state_dict()  # with torch's _metadata (versions)
    state["extra.weight"] = torch.zeros(1)
    del state["head.0.bias"]
    del state["first.bn.num_batches_tracked"]
    ours_result = ours.load_state_dict(state, strict=False)
    their_result = theirs.load_state_dict(state, strict=False)
    assert ours_result.missing_keys == their_result.missing_keys
    assert ours_result.missing_keys == ["first.bn.num_batches_tracked", "head.0.bias"]
    assert ours_result.unexpected_keys == their_result.unexpected_keys == ["extra.weight"]
    np.testing.assert_array_equal(ours.head[0].weight.detach().numpy(),
                                  state["head.0.weight"].numpy())


def test_load_state_dict_strict_error_names_missing_and_unexpected_keys():
    ours, theirs = _nets("minigrad"), _nets("torch")
    state = _torch_state(theirs)
    state["extra"] = np.zeros(1)
    del state["head.0.bias"]
    with pytest.raises(RuntimeError) as info:
        ours.load_state_dict(state)
    message = str(info.value)
    assert 'Missing key(s) in state_dict: "head.0.bias"' in message
    assert 'Unexpected key(s) in state_dict: "extra"' in message


def test_load_state_dict_wrong_shape_even_when_not_strict():
    ours = nn.Linear(3, 2)
    with pytest.raises(RuntimeError, match="size mismatch for weight"):
        ours.load_state_dict({"weight": np.zeros((3, 3))}, strict=False)


def test_load_state_dict_copies_into_own_dtype_or_assigns():
    ours = nn.Linear(2, 2)
    weight = np.arange(4.0).reshape(2, 2)
    param = ours.weight
    ours.load_state_dict({"weight": weight, "bias": np.zeros(2)})
    assert ours.weight is param and ours.weight.dtype == mg.float32
    np.testing.assert_array_equal(ours.weight.detach().numpy(), weight)
    ours.load_state_dict({"weight": weight, "bias": np.zeros(2)}, assign=True)
    assert ours.weight is not param and ours.weight.dtype == mg.float64
    assert isinstance(ours.weight, nn.Parameter) and ours.weight.requires_grad


# ----------------------------------------------------------------------------- dtypes, devices


def test_to_cpu_cuda():
    layer = nn.Linear(2, 2)
    assert layer.to("cpu") is layer and layer.cpu() is layer
    assert layer.to(mg.device("cpu")) is layer
    with pytest.raises(DeviceError):
        layer.cuda()
    with pytest.raises(DeviceError):
        layer.to("cuda")
    with pytest.raises(DeviceError):
        layer.to("cuda:0", mg.float64)
    assert layer.weight.dtype == mg.float32  # refused before converting anything
    layer.to(mg.device("cpu"), mg.float64)
    assert layer.weight.dtype == mg.float64
    layer.to(dtype=mg.float32)
    assert layer.weight.dtype == mg.float32
    layer.to(mg.zeros(1, dtype=mg.float64))
    assert layer.weight.dtype == mg.float64
    with pytest.raises(TypeError, match="floating point"):
        layer.to(mg.int64)


def test_half_double_float_convert_parameters_buffers_and_grads_in_place():
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    weight = model[0].weight
    model(mg.randn(4, 2)).sum().backward()
    model.double()
    assert model[0].weight is weight
    assert weight.dtype == mg.float64 and weight.grad.dtype == mg.float64
    assert model[1].running_mean.dtype == mg.float64
    assert model[1].num_batches_tracked.dtype == mg.int64
    model.half()
    assert weight.dtype == mg.float16 and model[1].running_var.dtype == mg.float16
    model.float()
    assert weight.dtype == mg.float32 and model[1].num_batches_tracked.dtype == mg.int64


def test_requires_grad_and_zero_grad():
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    model[0].requires_grad_(False)
    assert [p.requires_grad for p in model.parameters()] == [False, False, True, True]
    model(mg.randn(3, 2)).sum().backward()
    assert model[0].weight.grad is None and model[1].weight.grad is not None
    model.requires_grad_()
    model(mg.randn(3, 2)).sum().backward()
    model.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.numpy() == 0) for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


# ----------------------------------------------------------------------------- containers


def test_parameter_list_and_dict_register_parameters_like_torch():
    class Holder(nn.Module):
        def __init__(self):
            super().__init__()
            self.plist = nn.ParameterList([nn.Parameter(mg.zeros(2)), nn.Parameter(mg.ones(3))])
            self.pdict = nn.ParameterDict({"a": nn.Parameter(mg.zeros(1))})

    class TorchHolder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.plist = torch.nn.ParameterList(
                [torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.ones(3))]
            )
            self.pdict = torch.nn.ParameterDict({"a": torch.nn.Parameter(torch.zeros(1))})

    ours, theirs = Holder(), TorchHolder()
    ours.plist.append(nn.Parameter(mg.zeros(4)))
    theirs.plist.append(torch.nn.Parameter(torch.zeros(4)))
    ours.pdict["b"] = nn.Parameter(mg.zeros(5))
    theirs.pdict["b"] = torch.nn.Parameter(torch.zeros(5))
    assert _names(ours.named_parameters()) == _names(theirs.named_parameters())
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert len(ours.plist) == 3 and ours.plist[1].shape == (3,)
    assert list(ours.pdict.keys()) == ["a", "b"] and "b" in ours.pdict
    # a plain tensor becomes a Parameter, as in torch
    ours.plist.append(mg.zeros(2))
    assert isinstance(ours.plist[3], nn.Parameter)


def test_collapsed_module_list_repr_matches_torch():
    def build(lib):
        return lib.ModuleList(
            [lib.Linear(2, 2), lib.Linear(2, 2), lib.Linear(2, 2), lib.ReLU(), lib.Linear(2, 3),
             lib.Sequential(lib.Linear(1, 1), lib.Linear(1, 1))]
        )

    assert repr(build(nn)) == repr(build(torch.nn))
    assert repr(nn.ModuleList()) == repr(torch.nn.ModuleList())

    class Wrapper(nn.Module):
        def __init__(self, lib):
            super().__init__()
            self.layers = lib.ModuleList([lib.ReLU() for _ in range(4)])

    class TorchWrapper(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = torch.nn.ModuleList([torch.nn.ReLU() for _ in range(4)])

    assert repr(Wrapper(nn)).replace("Wrapper", "W") == repr(TorchWrapper()).replace(
        "TorchWrapper", "W"
    )
