"""Module hooks (forward pre/post, full backward and backward pre, global) and
Tensor.register_hook, against PyTorch and by hand."""

import numpy as np
import pytest

import minigrad as mg
import nn
import nn.module as module_mod

torch = pytest.importorskip("torch")

X = np.linspace(-1.0, 1.0, 6).reshape(2, 3)


def _pair_models():
    """The same Linear(3, 4) -> Tanh -> Linear(4, 2) in minigrad and torch, float64."""
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)
    ).double()
    ours = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def _np(value):
    if value is None:
        return None
    if isinstance(value, mg.Tensor):
        return value.detach().numpy()
    return value.detach().numpy()


def _assert_grads_equal(ours, theirs):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        if b is None:
            assert a is None
        else:
            np.testing.assert_allclose(_np(a), _np(b), rtol=1e-12, atol=1e-14)


# ----------------------------------------------------------------------------- forward hooks


def test_forward_pre_hook_replaces_args_and_forward_hook_replaces_output():
    layer = nn.Linear(3, 2, dtype=mg.float64)
    x = mg.tensor(X)
    expected = layer(x * 2).detach().numpy() + 1
    h1 = layer.register_forward_pre_hook(lambda m, args: (args[0] * 2,))
    h2 = layer.register_forward_hook(lambda m, args, out: out + 1)
    np.testing.assert_allclose(layer(x).detach().numpy(), expected)
    h1.remove()
    h2.remove()
    plain = layer(x).detach().numpy()
    np.testing.assert_allclose(plain, X @ layer.weight.detach().numpy().T
                               + layer.bias.detach().numpy())
    assert not layer._forward_pre_hooks and not layer._forward_hooks


def test_forward_pre_hook_single_value_is_wrapped_in_a_tuple():
    layer = nn.Identity()
    layer.register_forward_pre_hook(lambda m, args: args[0] + 5)
    assert float(layer(mg.tensor(1.0)).item()) == 6.0


def test_hooks_with_kwargs_see_and_replace_kwargs():
    class Scale(nn.Module):
        def forward(self, x, *, factor=1.0):
            return x * factor

    seen = []

    def pre(m, args, kwargs):
        seen.append(("pre", dict(kwargs)))
        return args, {"factor": kwargs["factor"] * 10}

    def post(m, args, kwargs, output):
        seen.append(("post", dict(kwargs)))
        return output - 1

    module = Scale()
    module.register_forward_pre_hook(pre, with_kwargs=True)
    module.register_forward_hook(post, with_kwargs=True)
    out = module(mg.tensor([1.0, 2.0]), factor=2.0)
    np.testing.assert_allclose(out.numpy(), [19.0, 39.0])
    assert seen == [("pre", {"factor": 2.0}), ("post", {"factor": 20.0})]


def test_with_kwargs_pre_hook_must_return_a_pair():
    module = nn.Identity()
    module.register_forward_pre_hook(lambda m, a, k: a, with_kwargs=True)
    with pytest.raises(RuntimeError, match="tuple of \\(new_args, new_kwargs\\)"):
        module(mg.tensor(1.0))


@pytest.mark.parametrize("framework", ["minigrad", "torch"])
def test_prepend_orders_hooks_as_torch(framework):
    order = []
    module = nn.Identity() if framework == "minigrad" else torch.nn.Identity()
    x = mg.tensor(1.0) if framework == "minigrad" else torch.tensor(1.0)
    module.register_forward_pre_hook(lambda m, a: order.append("pre-a"))
    module.register_forward_pre_hook(lambda m, a: order.append("pre-b"), prepend=True)
    module.register_forward_hook(lambda m, a, o: order.append("post-a"))
    module.register_forward_hook(lambda m, a, o: order.append("post-b"), prepend=True)
    module.register_forward_hook(lambda m, a, o: order.append("post-c"))
    module(x)
    assert order == ["pre-b", "pre-a", "post-b", "post-a", "post-c"]


def test_always_call_runs_when_forward_raises_and_others_do_not():
    class Boom(nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    calls = []
    module = Boom()
    module.register_forward_hook(lambda m, a, o: calls.append(("always", o)), always_call=True)
    module.register_forward_hook(lambda m, a, o: calls.append(("normal", o)))
    with pytest.raises(ValueError, match="boom"):
        module(mg.tensor(1.0))
    assert calls == [("always", None)]


def test_removable_handle_as_context_manager_and_remove_twice():
    module = nn.Identity()
    calls = []
    with module.register_forward_hook(lambda m, a, o: calls.append(1)):
        module(mg.tensor(1.0))
    module(mg.tensor(1.0))
    assert calls == [1]
    handle = module.register_forward_hook(lambda m, a, o: calls.append(2), with_kwargs=False,
                                          always_call=True)
    handle.remove()
    handle.remove()
    assert not module._forward_hooks and not module._forward_hooks_always_called


def test_forward_hook_for_feature_maps_matches_torch():
    ours, theirs = _pair_models()
    captured = {}
    ours[1].register_forward_hook(lambda m, a, o: captured.__setitem__("ours", o))
    theirs[1].register_forward_hook(lambda m, a, o: captured.__setitem__("theirs", o))
    ours(mg.tensor(X))
    theirs(torch.tensor(X))
    np.testing.assert_allclose(_np(captured["ours"]), _np(captured["theirs"]), rtol=1e-12)


# ----------------------------------------------------------------------------- global hooks


def test_global_forward_hooks_run_for_every_module_until_removed():
    ours, _ = _pair_models()
    names = []
    pre = module_mod.register_module_forward_pre_hook(
        lambda m, a: names.append(("pre", type(m).__name__))
    )
    post = module_mod.register_module_forward_hook(
        lambda m, a, o: names.append(("post", type(m).__name__))
    )
    try:
        ours(mg.tensor(X))
    finally:
        pre.remove()
        post.remove()
    assert names == [
        ("pre", "Sequential"), ("pre", "Linear"), ("post", "Linear"), ("pre", "Tanh"),
        ("post", "Tanh"), ("pre", "Linear"), ("post", "Linear"), ("post", "Sequential"),
    ]
    names.clear()
    ours(mg.tensor(X))
    assert names == []


def test_global_forward_hook_may_replace_output_and_runs_before_local():
    order = []
    module = nn.Identity()
    module.register_forward_hook(lambda m, a, o: order.append(("local", float(o.item()))))
    handle = module_mod.register_module_forward_hook(
        lambda m, a, o: (order.append("global"), o * 3)[1]
    )
    try:
        out = module(mg.tensor(2.0))
    finally:
        handle.remove()
    assert order == ["global", ("local", 6.0)]
    assert float(out.item()) == 6.0


def test_global_backward_hooks_match_torch():
    ours, theirs = _pair_models()
    seen = {"ours": [], "theirs": []}

    def recorder(key):
        def hook(module, grad_input, grad_output):
            seen[key].append((type(module).__name__, grad_input, grad_output))
        return hook

    def pre_recorder(key):
        def hook(module, grad_output):
            seen[key].append((type(module).__name__ + "-pre", grad_output))
        return hook

    handles = [
        module_mod.register_module_full_backward_hook(recorder("ours")),
        module_mod.register_module_full_backward_pre_hook(pre_recorder("ours")),
    ]
    try:
        x = mg.tensor(X, requires_grad=True)
        ours(x).sum().backward()
    finally:
        for h in handles:
            h.remove()
    handles = [
        torch.nn.modules.module.register_module_full_backward_hook(recorder("theirs")),
        torch.nn.modules.module.register_module_full_backward_pre_hook(pre_recorder("theirs")),
    ]
    try:
        tx = torch.tensor(X, requires_grad=True)
        theirs(tx).sum().backward()
    finally:
        for h in handles:
            h.remove()
    assert [e[0] for e in seen["ours"]] == [e[0] for e in seen["theirs"]]
    for a, b in zip(seen["ours"], seen["theirs"]):
        for ours_grads, their_grads in zip(a[1:], b[1:]):
            _assert_grads_equal(ours_grads, their_grads)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


# ----------------------------------------------------------------------------- backward hooks


@pytest.mark.filterwarnings("ignore:Full backward hook is firing")
@pytest.mark.parametrize("input_requires_grad", [True, False])
def test_full_backward_hook_sees_torch_values(input_requires_grad):
    ours, theirs = _pair_models()
    seen = {}

    def hook(key):
        def record(module, grad_input, grad_output):
            seen.setdefault(key, []).append((grad_input, grad_output))
        return record

    for index in range(3):
        ours[index].register_full_backward_hook(hook(("ours", index)))
        theirs[index].register_full_backward_hook(hook(("theirs", index)))
    x = mg.tensor(X, requires_grad=input_requires_grad)
    tx = torch.tensor(X, requires_grad=input_requires_grad)
    ours(x).pow(2).sum().backward()
    theirs(tx).pow(2).sum().backward()
    for index in range(3):
        (ours_in, ours_out), = seen[("ours", index)]
        (their_in, their_out), = seen[("theirs", index)]
        assert isinstance(ours_in, tuple) and isinstance(ours_out, tuple)
        _assert_grads_equal(ours_out, their_out)
        _assert_grads_equal(ours_in, their_in)
    if not input_requires_grad:
        assert seen[("ours", 0)][0][0] == (None,)
    for a, b in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12)


def test_backward_hook_no_input_grad_must_return_none():
    layer = nn.Linear(3, 2, dtype=mg.float64)
    layer.register_full_backward_hook(lambda m, gi, go: (mg.zeros(2, 3),))
    with pytest.raises(RuntimeError, match="no input requires gradient"):
        layer(mg.tensor(X)).sum().backward()


def test_full_backward_hook_replacing_grad_input_matches_torch():
    ours, theirs = _pair_models()
    ours[0].register_full_backward_hook(lambda m, gi, go: (gi[0] * 3,))
    theirs[0].register_full_backward_hook(lambda m, gi, go: (gi[0] * 3,))
    x = mg.tensor(X, requires_grad=True)
    tx = torch.tensor(X, requires_grad=True)
    ours(x).sum().backward()
    theirs(tx).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
    # the parameters' gradients are not scaled: the hook changes only the input's gradient
    for a, b in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12)


def test_backward_pre_hook_replacing_grad_output_matches_torch():
    ours, theirs = _pair_models()
    seen = []
    ours[2].register_full_backward_pre_hook(lambda m, go: (go[0] * -2,))
    ours[2].register_full_backward_hook(lambda m, gi, go: seen.append(go[0]))
    theirs[2].register_full_backward_pre_hook(lambda m, go: (go[0] * -2,))
    theirs[2].register_full_backward_hook(lambda m, gi, go: seen.append(go[0]))
    x = mg.tensor(X, requires_grad=True)
    tx = torch.tensor(X, requires_grad=True)
    ours(x).sum().backward()
    theirs(tx).sum().backward()
    np.testing.assert_allclose(_np(seen[0]), _np(seen[1]), rtol=1e-12)
    np.testing.assert_allclose(_np(seen[0]), np.full((2, 2), -2.0))
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
    for a, b in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12)


def test_backward_hook_wrong_number_of_grads_raises():
    layer = nn.Linear(3, 2, dtype=mg.float64)
    layer.register_full_backward_pre_hook(lambda m, go: (go[0], go[0]))
    with pytest.raises(RuntimeError, match="invalid number of grad_output"):
        layer(mg.tensor(X, requires_grad=True)).sum().backward()


def test_backward_hook_removed_is_not_called():
    layer = nn.Linear(3, 2, dtype=mg.float64)
    calls = []
    handle = layer.register_full_backward_hook(lambda m, gi, go: calls.append(1))
    layer(mg.tensor(X, requires_grad=True)).sum().backward()
    handle.remove()
    layer(mg.tensor(X, requires_grad=True)).sum().backward()
    assert calls == [1]


def test_backward_hook_on_module_with_two_inputs_and_two_outputs_matches_torch():
    class Pair(nn.Module):
        def forward(self, a, b):
            return a * b, a + b

    class TorchPair(torch.nn.Module):
        def forward(self, a, b):
            return a * b, a + b

    records = {"ours": [], "theirs": []}
    ours, theirs = Pair(), TorchPair()
    ours.register_full_backward_hook(lambda m, gi, go: records["ours"].append((gi, go)))
    theirs.register_full_backward_hook(lambda m, gi, go: records["theirs"].append((gi, go)))
    a = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True)
    b = mg.tensor([3.0, -1.0], dtype=mg.float64)
    ta = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    tb = torch.tensor([3.0, -1.0], dtype=torch.float64)
    p, q = ours(a, b)
    (p * 2 + q * 5).sum().backward()
    tp, tq = theirs(ta, tb)
    (tp * 2 + tq * 5).sum().backward()
    (gi, go), = records["ours"]
    (tgi, tgo), = records["theirs"]
    _assert_grads_equal(go, tgo)
    _assert_grads_equal(gi, tgi)
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy())


# ----------------------------------------------------------------------------- tensor hooks


def test_tensor_hook_on_leaf_replaces_its_gradient_like_torch():
    x = mg.tensor(X, requires_grad=True)
    tx = torch.tensor(X, requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy().copy()) or g * 2)
    tx.register_hook(lambda g: seen.append(g.numpy().copy()) or g * 2)
    (x * x).sum().backward()
    (tx * tx).sum().backward()
    np.testing.assert_allclose(seen[0], seen[1])
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())
    np.testing.assert_allclose(x.grad.numpy(), 4 * X)


def test_tensor_hook_on_non_leaf_changes_what_flows_upstream():
    x = mg.tensor(X, requires_grad=True)
    tx = torch.tensor(X, requires_grad=True)
    y, ty = x.exp(), tx.exp()
    y.register_hook(lambda g: g + 1)
    ty.register_hook(lambda g: g + 1)
    (y * 3).sum().backward()
    (ty * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), 4 * np.exp(X), rtol=1e-12)
    assert y.grad is None  # a non-leaf keeps no .grad


def test_tensor_hook_returning_none_observes_and_remove_stops_it():
    x = mg.tensor(X, requires_grad=True)
    seen = []
    handle = x.register_hook(lambda g: seen.append(1))
    (x * 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full_like(X, 2.0))
    handle.remove()
    (x * 2).sum().backward()
    assert seen == [1]


def test_tensor_hooks_chain_in_registration_order():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: g + 1)
    x.register_hook(lambda g: g * 10)
    x.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [20.0, 20.0])


def test_register_hook_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="register_hook"):
        mg.tensor([1.0]).register_hook(lambda g: g)
