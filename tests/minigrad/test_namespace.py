"""The torch namespace: ``import minigrad as torch`` reaches what a PyTorch script names."""

from __future__ import annotations

import inspect
import subprocess
import sys
import types

import numpy as np
import pytest

import minigrad as mg
from minigrad.declare import function_only


def test_every_torch_level_function_is_a_method_or_says_why_not():
    reasons = function_only()
    missing = []
    for name in dir(mg):
        if name.startswith("_"):
            continue
        obj = getattr(mg, name)
        if not callable(obj) or isinstance(obj, type) or isinstance(obj, types.ModuleType):
            continue
        if isinstance(obj, (mg.dtype, mg.device)):
            continue
        if hasattr(mg.Tensor, name) or name in reasons:
            continue
        missing.append(name)
    assert not missing, f"torch-level functions with no Tensor method and no reason: {missing}"
    for name, reason in reasons.items():
        assert len(reason) > 10, name


def test_submodule_aliases_are_the_real_modules():
    # the real modules first, then their aliases: the aliases must find them
    import nn  # noqa: I001
    import nn.functional

    import minigrad.data
    import minigrad.nn
    import minigrad.nn.functional as F
    import minigrad.utils.data

    assert minigrad.nn is nn and mg.nn is nn and F is nn.functional
    assert minigrad.utils.data is minigrad.data
    assert mg.utils.data.DataLoader is minigrad.data.DataLoader
    assert mg.nn.init is nn.init and mg.nn.Linear is nn.Linear
    from minigrad.nn import Linear

    assert Linear is nn.Linear
    assert mg.autograd.grad is mg.grad
    assert callable(mg.testing.assert_close)
    assert mg.optim.lr_scheduler.StepLR is not None


def test_importing_minigrad_does_not_import_nn_or_hypothesis():
    code = ("import sys, minigrad, minigrad.testing; minigrad.testing.assert_close(1.0, 1.0); "
            "bad = [m for m in sys.modules if m == 'nn' or m.startswith(('nn.', 'hypothesis'))];"
            " assert not bad, bad")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr


def test_devices_answer_for_a_cpu_only_machine():
    cpu = mg.device("cpu")
    assert str(cpu) == "cpu" and repr(cpu) == "device(type='cpu')"
    assert cpu.type == "cpu" and cpu.index is None and cpu == "cpu" and cpu == mg.device("cpu:0")\
        .__class__("cpu")
    assert mg.device("cpu", 0).index == 0 and str(mg.device("cpu:0")) == "cpu:0"
    assert mg.zeros(2).device == cpu and mg.zeros(2).device == "cpu"
    assert not mg.cuda.is_available() and mg.cuda.device_count() == 0
    assert not mg.backends.mps.is_available()
    assert not mg.accelerator.is_available() and mg.accelerator.current_accelerator() is None
    mg.backends.cudnn.benchmark = True  # accepted, as scripts set it


@pytest.mark.parametrize("call", [
    lambda: mg.device("cuda"),
    lambda: mg.device("mps"),
    lambda: mg.zeros(2, device="cuda"),
    lambda: mg.tensor([1.0], device="cuda:0"),
    lambda: mg.randn(2, device=mg.device("cpu")).to("cuda"),
    lambda: mg.ones(1).cuda(),
    lambda: mg.set_default_device("mps"),
    lambda: mg.arange(3, device="cuda"),
])
def test_asking_for_an_accelerator_says_minigrad_runs_on_the_cpu(call):
    with pytest.raises(mg.DeviceError, match="CPU only") as info:
        call()
    assert "is_available()" in str(info.value)
    assert isinstance(info.value, RuntimeError)


@pytest.mark.parametrize("factory", [
    lambda **k: mg.tensor([1.0, 2.0], **k), lambda **k: mg.zeros(2, 3, **k),
    lambda **k: mg.ones((2,), **k), lambda **k: mg.full((2,), 1.5, **k),
    lambda **k: mg.empty(2, **k), lambda **k: mg.arange(0, 3, 0.5, **k),
    lambda **k: mg.linspace(0, 1, 5, **k), lambda **k: mg.rand(2, **k),
    lambda **k: mg.randn(2, **k), lambda **k: mg.eye(3, **k),
    lambda **k: mg.zeros_like(mg.ones(2), **k), lambda **k: mg.ones_like(mg.ones(2), **k),
    lambda **k: mg.full_like(mg.ones(2), 3.0, **k), lambda **k: mg.rand_like(mg.ones(2), **k),
    lambda **k: mg.randn_like(mg.ones(2), **k), lambda **k: mg.empty_like(mg.ones(2), **k),
])
def test_every_factory_takes_device_and_dtype(factory):
    t = factory(device="cpu", dtype=mg.float64)
    assert t.dtype == mg.float64 and t.device == mg.device("cpu")
    assert factory(device=mg.device("cpu"), dtype=mg.float32, requires_grad=True).requires_grad


def test_randint_and_arange_follow_pytorch():
    assert mg.randint(0, 10, (3,), device="cpu").dtype == mg.int64
    with pytest.raises(RuntimeError, match="floating point"):
        mg.randint(0, 10, (3,), requires_grad=True)
    with pytest.raises(RuntimeError, match="step must be nonzero"):
        mg.arange(0, 5, 0)
    with pytest.raises(RuntimeError, match="linspace"):
        mg.linspace(0, 1, 3, dtype=mg.bool)


def test_to_accepts_device_dtype_and_other_tensor():
    x = mg.randn(2, 3)
    assert x.to("cpu") is x and x.cpu() is x
    assert x.to("cpu", mg.float64).dtype == mg.float64
    assert x.to(device="cpu", dtype=mg.float64).dtype == mg.float64
    assert x.to(mg.zeros(1, dtype=mg.float64)).dtype == mg.float64
    assert x.to(mg.device("cpu"), copy=True) is not x


def test_dtypes_print_and_compare_like_pytorch():
    assert repr(mg.float32) == "minigrad.float32" and str(mg.int64) == "minigrad.int64"
    x = mg.zeros(2)
    assert x.dtype == mg.float32 and x.dtype == np.float32 and x.dtype is mg.float32
    assert mg.float == mg.float32 and mg.long == mg.int64 and mg.double == mg.float64
    assert mg.float32.is_floating_point and not mg.int64.is_floating_point
    assert mg.get_default_dtype() == mg.float32
    mg.set_default_dtype(mg.float64)
    try:
        assert mg.tensor([1.0]).dtype == mg.float64 and mg.zeros(1).dtype == mg.float64
    finally:
        mg.set_default_dtype(mg.float32)
    assert mg.tensor([1.0]).dtype == mg.float32


def test_size_is_a_tuple_with_numel_printed_like_pytorch():
    s = mg.zeros(3, 4).shape
    assert s == (3, 4) and isinstance(s, tuple) and isinstance(s, mg.Size)
    assert s.numel() == 12 and repr(s) == "minigrad.Size([3, 4])" and str(s) == repr(s)
    assert mg.zeros(3, 4).size() == s and mg.zeros(3, 4).size(1) == 4
    assert isinstance(s[1:], mg.Size)


def test_small_semantics_scripts_rely_on():
    t = mg.tensor(3.14159)
    assert format(t, "+.2f") == "+3.14" and f"{t:.1f}" == "3.1"
    x = mg.ones(2)
    assert (x == None) is False and (x != None) is True  # noqa: E711
    y = (mg.ones(2, requires_grad=True) * 2).sum()
    assert y.grad_fn.name() == "SumBackward"
    (mul, _), = y.grad_fn.next_functions
    assert mul.name() == "MulBackward"
    assert mul.next_functions[0][0].name() == "AccumulateGrad"
    with mg.inference_mode():
        assert not (mg.ones(1, requires_grad=True) * 2).requires_grad
        assert mg.is_inference_mode_enabled()
    assert not mg.is_inference_mode_enabled()


def test_data_is_a_detached_tensor_sharing_memory():
    p = mg.ones(2, 3, requires_grad=True)
    (p * 3).sum().backward()
    assert isinstance(p.data, mg.Tensor) and not p.data.requires_grad
    p.data -= 0.5 * p.grad
    np.testing.assert_allclose(p.detach().numpy(), np.full((2, 3), -0.5))
    p.data.add_(1.0)
    p.data.copy_(mg.full((2, 3), 7.0))
    assert p.requires_grad and p.is_leaf and float(p.sum()) == 42.0
    # torch.max(x.data, 1) on a 2-row batch: values and indices along dim 1
    logits = mg.tensor([[0.1, 0.9, 0.0], [0.8, 0.1, 0.1]], requires_grad=True)
    values, indices = mg.max(logits.data, 1)
    assert indices.tolist() == [1, 0]
    np.testing.assert_allclose(values.numpy(), [0.9, 0.8], rtol=1e-6)
    with pytest.raises(RuntimeError, match="detach"):
        logits.numpy()


def test_out_and_inplace_spellings_come_from_one_declaration():
    x = mg.tensor([0.0, 1.0, 2.0])
    out = mg.zeros(3)
    assert mg.exp(x, out=out) is out
    np.testing.assert_allclose(out.numpy(), np.exp([0.0, 1.0, 2.0]), rtol=1e-6)
    y = x.clone()
    assert y.sin_() is y
    np.testing.assert_allclose(y.numpy(), np.sin([0.0, 1.0, 2.0]), rtol=1e-6)
    np.testing.assert_allclose(mg.add(x, x, alpha=2).numpy(), [0.0, 3.0, 6.0])
    with pytest.raises(RuntimeError, match="can't be cast"):
        mg.tensor([1, 2]).sin_()
    with pytest.raises(RuntimeError, match="automatic differentiation"):
        mg.exp(mg.ones(2, requires_grad=True), out=mg.zeros(2))
    values, indices = mg.zeros(2), mg.zeros(2, dtype=mg.int64)
    mg.max(mg.tensor([[1.0, 5.0], [7.0, 2.0]]), 1, out=(values, indices))
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]
    with pytest.raises(TypeError, match="must be a Tensor"):
        mg.exp([1.0, 2.0])
    # the in-place variant of a declared op records for autograd
    a = mg.tensor([0.5, 1.0], requires_grad=True)
    b = a * 1.0
    b.sin_()
    b.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), np.cos([0.5, 1.0]), rtol=1e-6)


def test_bad_creation_input_gets_minigrad_messages():
    with pytest.raises(TypeError, match="NumPy dtype <U|numeric"):
        mg.tensor(np.array(["a", "b"]))
    with pytest.raises(TypeError, match="numeric|dtype object"):
        mg.tensor(np.array([1, None], dtype=object))
    with pytest.raises(RuntimeError, match="overflow"):
        mg.tensor([300], dtype=mg.int8)
    with pytest.raises(ValueError, match="ragged"):
        mg.tensor([[1, 2], [3]])
    with pytest.raises(RuntimeError, match="negative dimension"):
        mg.randn(-1, 3)
    with pytest.raises(TypeError, match="sizes must be integers"):
        mg.zeros(2.5, 3)
    with pytest.raises(TypeError, match="complex"):
        mg.tensor([1 + 2j])


def test_no_grad_and_inference_mode_work_as_bare_decorators():
    @mg.no_grad()
    def f(x):
        return x * 2

    assert not f(mg.ones(1, requires_grad=True)).requires_grad
    assert inspect.isfunction(f) or callable(f)


def test_every_method_that_pytorch_also_offers_as_a_function_is_one():
    torch = pytest.importorskip("torch")
    names = [n for n in dir(torch.Tensor) if not n.startswith("_") and not n.endswith("_")
             and callable(getattr(torch, n, None)) and callable(getattr(mg.Tensor, n, None))]
    assert len(names) > 150
    missing = [n for n in names if not callable(getattr(mg, n, None))]
    assert not missing, missing


@pytest.mark.parametrize("name", ["sqrt_", "exp_", "pow_", "clamp_", "relu_"])
def test_in_place_ops_refuse_an_integer_result_they_cannot_hold(name):
    args = {"pow_": (0.5,), "clamp_": (0.5, 2.5)}.get(name, ())
    x = mg.tensor([1, 4])
    if name == "relu_":
        assert x.relu_() is x and x.tolist() == [1, 4]  # stays integral: allowed
        return
    with pytest.raises(RuntimeError, match=f"{name}: result type .* can't be cast"):
        getattr(x, name)(*args)
    assert x.tolist() == [1, 4]
