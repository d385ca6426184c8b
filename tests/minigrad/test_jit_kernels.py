"""The compiled kernels (minigrad.jit) against their NumPy twins, bit for bit, in every layout
they take; the switch that turns them off; and the fallback when Numba is missing."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
import minigrad.functional as F
from minigrad import jit, parallel
from minigrad.ops import pool2x2

pytestmark = pytest.mark.skipif(not jit.enabled(), reason="numba is not installed")

# memory orders of an (N, C, H, W) array the compiled pool takes: image rows innermost, pixels
# outermost, pixels in the middle (channels-last, and the batch-innermost (C, H, W, N) of the
# channel-major convolutions); then one it leaves to the NumPy passes (the width outermost)
ORDERS = [(0, 1, 2, 3), (1, 0, 2, 3), (2, 3, 0, 1), (2, 3, 1, 0), (0, 2, 3, 1), (1, 2, 3, 0),
          (3, 0, 1, 2)]
TAKEN = ORDERS[:6]
# values with many ties, both zeros, infinities and NaN
SPECIAL = np.array([0.0, -0.0, 1.0, 1.0, 2.0, -1.0, np.inf, -np.inf, np.nan])


def _im2col_only(test: Any) -> Any:
    """Run ``test`` with the direct convolutions off: it checks the im2col path's kernels."""
    from minigrad.ops import conv_direct

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> Any:
        previous, conv_direct.DIRECT = conv_direct.DIRECT, False
        try:
            return test(*args, **kwargs)
        finally:
            conv_direct.DIRECT = previous

    return run


@pytest.fixture(params=[1, 2], ids=["one-thread", "two-threads"])
def threads(request: pytest.FixtureRequest) -> Iterator[int]:
    before = parallel.get_num_threads()
    parallel.set_num_threads(request.param)
    yield request.param
    parallel.set_num_threads(before)


def _laid_out(x: np.ndarray, order: tuple[int, ...]) -> np.ndarray:
    return np.ascontiguousarray(x.transpose(order)).transpose(np.argsort(order))


def _pool(x: np.ndarray, g: np.ndarray, compiled: bool, grad: bool = True
          ) -> tuple[np.ndarray, ...]:
    """Forward, backward and no-grad forward of the 2x2 pool with the compiled kernels on or
    off; asserts the primitive ran and which path it took."""
    before = pool2x2.USE_JIT
    pool2x2.USE_JIT = compiled
    try:
        t = mg.tensor(x, requires_grad=True)
        out = F.max_pool2d(t, 2)
        assert out._node.fn.__name__ == "MaxPool2x2"
        ctx = out._node.ctx
        took = getattr(ctx, "compiled", False)
        array = t._data[:, :, : x.shape[2] // 2 * 2, : x.shape[3] // 2 * 2]
        assert took == (compiled and pool2x2._memory_order(array) is not None)
        out.backward(mg.tensor(g))
        with mg.no_grad():
            plain = F.max_pool2d(mg.tensor(x), 2).numpy()
        assert t.grad is not None
        if took:  # the compiled backward writes +0 where the gradient is not sent, as PyTorch
            assert not np.signbit(t.grad.numpy()[t.grad.numpy() == 0]).any()
        return out.detach().numpy(), t.grad.numpy(), plain
    finally:
        pool2x2.USE_JIT = before


def _bitwise(a: np.ndarray, b: np.ndarray) -> None:
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a.view(f"u{a.itemsize}"), b.view(f"u{b.itemsize}"))


def _same(ours: tuple[np.ndarray, ...], reference: tuple[np.ndarray, ...]) -> None:
    """Equal values, NaN in the same places, the same dtypes. Zeros may differ in sign: the
    compiled kernels follow PyTorch there (``test_signed_zeros_match_torch``), the NumPy
    passes do not (``np.maximum`` returns the second of two equal zeros, and a mask times a
    negative gradient leaves -0 where it is not sent)."""
    for a, b in zip(ours, reference):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)


def _order(a: np.ndarray) -> list[int]:
    """The axes longer than 1, outermost in memory first."""
    return sorted((axis for axis in range(a.ndim) if a.shape[axis] > 1),
                  key=lambda axis: -a.strides[axis])


@given(st.integers(1, 3), st.integers(1, 4), st.integers(2, 9), st.integers(2, 9),
       st.sampled_from(ORDERS), st.sampled_from([np.float32, np.float64]), st.booleans(),
       st.integers(0, 2**16))
def test_compiled_pool_is_bitwise_the_numpy_passes(batch: int, channels: int, height: int,
                                                   width: int, order: tuple[int, ...],
                                                   dtype: type, special: bool, seed: int
                                                   ) -> None:
    """Values, signed zeros, the element a tie or NaN sends the gradient to, and the layout
    of the gradient: the compiled kernels give the NumPy passes' result bit for bit."""
    rng = np.random.default_rng(seed)
    shape = (batch, channels, height, width)
    x = (rng.choice(SPECIAL, shape) if special else rng.integers(0, 3, shape)).astype(dtype)
    x = _laid_out(x, order)
    g = rng.standard_normal((batch, channels, height // 2, width // 2)).astype(dtype)
    g = _laid_out(g, order)
    ours = _pool(x, g, compiled=True)
    reference = _pool(x, g, compiled=False)
    _same(ours, reference)
    assert _order(ours[1]) == _order(x)  # the gradient keeps the input's layout


@pytest.mark.parametrize("order", TAKEN)
@pytest.mark.parametrize("shape", [(64, 8, 28, 28), (32, 16, 15, 13), (16, 64, 24, 24)])
def test_compiled_pool_threaded_matches_one_thread(threads: int, order: tuple[int, ...],
                                                   shape: tuple[int, ...]) -> None:
    """Inputs large enough to be cut over threads (in the batch, the channels or the output
    rows, by layout), odd sizes included: the same bits as the NumPy passes."""
    rng = np.random.default_rng(sum(shape))
    x = _laid_out(rng.integers(-2, 3, shape).astype(np.float32), order)
    g = _laid_out(rng.standard_normal(shape[:2] + (shape[2] // 2, shape[3] // 2))
                  .astype(np.float32), order)
    _same(_pool(x, g, compiled=True), _pool(x, g, compiled=False))


@given(st.integers(1, 3), st.integers(1, 4), st.integers(1, 8), st.integers(1, 8),
       st.sampled_from([np.float32, np.float64]), st.integers(0, 2**16))
def test_flat_pool_kernels_are_bitwise_the_row_kernels(batch: int, channels: int, oh: int,
                                                       ow: int, dtype: type, seed: int) -> None:
    """The flat-plane forward kernels against the row kernels, with ties, signed zeros,
    infinities and NaN: the same maxima, signs and window places."""
    rng = np.random.default_rng(seed)
    x = rng.choice(SPECIAL, (batch, channels, 2 * oh, 2 * ow)).astype(dtype)
    shape = (batch, channels, oh, ow)
    out, place = np.empty(shape, dtype), np.empty(shape, np.int8)
    flat_out, flat_place, plain = (np.empty(shape, dtype), np.empty(shape, np.int8),
                                   np.empty(shape, dtype))
    pool2x2._max_offset_planes(x, out, place, 0, batch)
    pool2x2._max_offset_flat(x.reshape(-1), flat_out.reshape(-1), flat_place.reshape(-1), 0,
                             batch * channels, oh, ow)
    pool2x2._max_flat(x.reshape(-1), plain.reshape(-1), 0, batch * channels, oh, ow)
    _bitwise(flat_out, out)
    _bitwise(plain, out)
    np.testing.assert_array_equal(flat_place, place)


def test_flat_pool_kernel_runs_for_whole_planes(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    kernel = pool2x2._max_offset_flat
    monkeypatch.setattr(pool2x2, "_max_offset_flat", lambda *a: calls.append(1) or kernel(*a))
    x = mg.tensor(np.random.default_rng(3).standard_normal((4, 3, 8, 8)), requires_grad=True)
    F.max_pool2d(x, 2)
    assert calls  # (N, C, H, W) with even sizes: one contiguous block of planes
    calls.clear()
    F.max_pool2d(mg.tensor(np.ones((4, 3, 9, 8)), requires_grad=True), 2)
    assert not calls  # an odd row cropped: the row kernels


@pytest.mark.parametrize("order", TAKEN)
def test_signed_zeros_match_torch(order: tuple[int, ...]) -> None:
    """Windows of +0 and -0 (and -1): the compiled pool keeps the first of equal elements,
    as PyTorch's scan does, sign included, and sends the gradient there with +0 elsewhere."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    x = rng.choice(np.array([0.0, -0.0, -1.0], dtype=np.float32), (3, 4, 6, 8))
    g = rng.standard_normal((3, 4, 3, 4)).astype(np.float32)
    out, grad, plain = _pool(_laid_out(x, order), _laid_out(g, order), compiled=True)
    theirs = torch.tensor(x, requires_grad=True)
    expected = torch.nn.functional.max_pool2d(theirs, 2)
    expected.backward(torch.tensor(g))
    _bitwise(out, expected.detach().numpy())
    _bitwise(plain, expected.detach().numpy())
    assert theirs.grad is not None
    _bitwise(np.ascontiguousarray(grad), theirs.grad.numpy())


def test_compiled_pool_gradient_in_another_layout_is_copied_once() -> None:
    """An incoming gradient laid out unlike the saved offsets (spatial-major pool, NCHW
    gradient from a reshape) is copied into their layout first: still the same result."""
    rng = np.random.default_rng(3)
    x = _laid_out(rng.integers(0, 3, (4, 5, 8, 6)).astype(np.float32), (2, 3, 0, 1))
    g = rng.standard_normal((4, 5, 4, 3)).astype(np.float32)  # (N, C, H, W) memory
    _same(_pool(x, g, compiled=True), _pool(x, g, compiled=False))


def test_compiled_pool_second_derivative_matches_the_numpy_passes() -> None:
    """create_graph=True through the compiled forward: the pick by saved offsets."""
    rng = np.random.default_rng(8)
    x = rng.integers(0, 3, (2, 3, 6, 5)).astype(np.float64)
    results = []
    for compiled in (True, False):
        pool2x2.USE_JIT = compiled
        try:
            t = mg.tensor(x, requires_grad=True)
            y = (F.max_pool2d(t, 2) ** 2).sum()
            (grad,) = mg.autograd.grad(y, t, create_graph=True)
            (grad * mg.tensor(x)).sum().backward()
            assert t.grad is not None
            results.append((grad.detach().numpy(), t.grad.numpy()))
        finally:
            pool2x2.USE_JIT = True
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_float16_and_odd_strides_take_the_numpy_passes() -> None:
    x = np.arange(2 * 3 * 4 * 4, dtype=np.float16).reshape(2, 3, 4, 4)
    out = F.max_pool2d(mg.tensor(x, requires_grad=True), 2)
    assert not getattr(out._node.ctx, "compiled", False)
    stepped = np.arange(2 * 3 * 4 * 8, dtype=np.float32).reshape(2, 3, 4, 8)[..., ::2]
    assert pool2x2._memory_order(stepped) is None
    t = mg.tensor(np.arange(2 * 3 * 4 * 8, dtype=np.float32).reshape(2, 3, 4, 8))
    out = F.max_pool2d(t[..., ::2], 2)
    np.testing.assert_array_equal(out.detach().numpy(), stepped[:, :, 1::2, 1::2])


def test_set_enabled_switches_the_kernels_off_and_on() -> None:
    x = np.random.default_rng(1).standard_normal((2, 2, 4, 4)).astype(np.float32)
    assert jit.set_enabled(False) is True
    try:
        assert not jit.enabled()
        out = F.max_pool2d(mg.tensor(x, requires_grad=True), 2)
        assert not getattr(out._node.ctx, "compiled", False)
    finally:
        jit.set_enabled(True)
    out = F.max_pool2d(mg.tensor(x, requires_grad=True), 2)
    assert out._node.ctx.compiled


_SCRIPT = """
import sys
{setup}
import numpy as np, minigrad as mg, minigrad.functional as F
from minigrad import jit
x = np.arange(2 * 3 * 4 * 4, dtype=np.float32).reshape(2, 3, 4, 4)
t = mg.tensor(x, requires_grad=True)
F.max_pool2d(t, 2).sum().backward()
assert (t.grad.numpy()[:, :, 1::2, 1::2] == 1).all()
print(jit.enabled(), sys.modules.get('numba') is not None)
"""


@pytest.mark.parametrize("setup, env, expected", [
    ("", {"MINIGRAD_JIT": "0"}, "False False"),
    ("sys.modules['numba'] = None", {}, "False False"),
    ("", {}, "True True"),
])
def test_environment_switch_and_missing_numba_fall_back(setup: str, env: dict[str, str],
                                                        expected: str) -> None:
    """MINIGRAD_JIT=0, or a Numba that cannot be imported: the NumPy passes run, and Numba is
    never imported; otherwise it is imported only when a kernel first runs."""
    code = _SCRIPT.format(setup=setup)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**os.environ, **env}, check=True)
    assert result.stdout.split() == expected.split()


def test_import_minigrad_does_not_import_numba() -> None:
    code = "import sys, minigrad, nn; print('numba' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "False"


def test_broken_numba_warns_and_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Numba that raises on import (built for another NumPy, say): one warning, then the
    NumPy passes."""
    import builtins

    real_import = builtins.__import__

    def fake_import(name: str, *args: object, **kwargs: object) -> object:
        if name == "numba":
            raise RuntimeError("Numba needs NumPy 2.3 or less")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(jit, "_state", {"enabled": None, "numba": None})
    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.warns(RuntimeWarning, match="numba failed to import"):
        assert not jit.enabled()


# --------------------------------------------------------------------------- Winograd output


@given(st.integers(1, 3), st.integers(1, 9), st.integers(1, 9), st.integers(1, 6),
       st.sampled_from([np.float32, np.float64]), st.booleans(), st.booleans(),
       st.integers(0, 2**16))
def test_compiled_winograd_output_transform_matches_the_gemm(
        m: int, oh: int, ow: int, channels: int, dtype: type, with_bias: bool,
        strided_out: bool, seed: int) -> None:
    """A^T M A (+ bias) of every tile, cropped to outputs that are not multiples of 4, into a
    spatial-major or a strided (an (N, C, H, W) array's) output: the Kronecker GEMM's values to
    rounding, in float32 and float64."""
    from minigrad.ops import winograd4

    rng = np.random.default_rng(seed)
    th, tw = winograd4.tiles((oh, ow))
    product = rng.standard_normal((36, th * tw * m, channels)).astype(dtype)
    bias = rng.standard_normal(channels).astype(dtype) if with_bias else None
    results = []
    for compiled in (True, False):
        winograd4.USE_JIT = compiled
        try:
            if strided_out:
                out = np.full((m, channels, oh, ow), np.nan, dtype=dtype).transpose(2, 3, 0, 1)
            else:
                out = np.full((oh, ow, m, channels), np.nan, dtype=dtype)
            assert winograd4.compiled(product, out) == compiled
            winograd4.transform_output(product.copy(), out, bias)
            results.append(out)
        finally:
            winograd4.USE_JIT = True
    ours, reference = results
    assert not np.isnan(ours).any()  # every output pixel written
    scale = np.abs(reference).max()
    tolerance = 1e-5 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(ours, reference, rtol=0, atol=tolerance * scale)


def _compiled_matches_gemm(transform: Any, data: np.ndarray) -> None:
    """``transform()`` with the compiled Winograd transforms on and off: the same shape and
    dtype, the values to rounding."""
    from minigrad.ops import winograd4

    results = []
    for compiled in (True, False):
        winograd4.USE_JIT = compiled
        try:
            assert winograd4.compiled(data) == compiled
            results.append(transform())
        finally:
            winograd4.USE_JIT = True
    ours, reference = results
    assert ours.shape == reference.shape and ours.dtype == reference.dtype
    scale = max(np.abs(reference).max(), 1.0)
    tolerance = 1e-5 if data.dtype == np.float32 else 1e-13
    np.testing.assert_allclose(ours, reference, rtol=0, atol=tolerance * scale)


@given(st.integers(1, 3), st.integers(1, 10), st.integers(1, 10), st.integers(1, 6),
       st.sampled_from([np.float32, np.float64]), st.integers(-1, 2), st.booleans(),
       st.integers(0, 2**16))
def test_compiled_winograd_input_transform_matches_the_gemm(
        m: int, h: int, w: int, channels: int, dtype: type, pad: int, strided_in: bool,
        seed: int) -> None:
    """B^T d B of every 6x6 block of the padded (or cropped) input, from a spatial-major or a
    strided (an (N, C, H, W) array's) input, with tiles reaching past the output: the Kronecker
    GEMM's values to rounding, in float32 and float64."""
    from minigrad.ops import winograd4

    rng = np.random.default_rng(seed)
    padding = ((pad, pad), (pad, pad))
    out_size = (max(1, h + 2 * pad - 2), max(1, w + 2 * pad - 2))
    x = rng.standard_normal((m, channels, h, w) if strided_in else (h, w, m, channels))
    x = x.astype(dtype)
    if strided_in:
        x = x.transpose(2, 3, 0, 1)
    _compiled_matches_gemm(lambda: winograd4.transform_input(x, padding, out_size), x)


@given(st.integers(1, 3), st.integers(1, 10), st.integers(1, 10), st.integers(1, 6),
       st.sampled_from([np.float32, np.float64]), st.booleans(), st.integers(0, 2**16))
def test_compiled_winograd_output_grad_transform_matches_the_gemm(
        m: int, oh: int, ow: int, channels: int, dtype: type, strided: bool, seed: int) -> None:
    """A g A^T of every 4x4 tile of dL/dY (zeros past an output that is not a multiple of 4),
    spatial-major or strided: the Kronecker GEMM's values to rounding."""
    from minigrad.ops import winograd4

    rng = np.random.default_rng(seed)
    g = rng.standard_normal((m, channels, oh, ow) if strided else (oh, ow, m, channels))
    g = g.astype(dtype)
    if strided:
        g = g.transpose(2, 3, 0, 1)
    _compiled_matches_gemm(lambda: winograd4.transform_output_grad(g), g)


def test_compiled_winograd_conv_matches_torch_on_a_strongcnn_layer() -> None:
    """The 32->32 3x3 layer at 28x28 with the compiled output transform: forward and both
    gradients against PyTorch in float32, within Winograd's rounding."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(12)
    x = rng.standard_normal((8, 32, 28, 28)).astype(np.float32)
    w = (rng.standard_normal((32, 32, 3, 3)) * 0.1).astype(np.float32)
    b = rng.standard_normal(32).astype(np.float32)
    g = rng.standard_normal((8, 32, 28, 28)).astype(np.float32)
    ours = [mg.tensor(a, requires_grad=True) for a in (x, w, b)]
    out = F.conv2d(*ours, padding=1)
    out.backward(mg.tensor(g))
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    expected = torch.nn.functional.conv2d(*theirs, padding=1)
    expected.backward(torch.tensor(g))
    pairs = [(out.detach().numpy(), expected.detach().numpy())]
    pairs += [(a.grad.numpy(), t.grad.numpy()) for a, t in zip(ours, theirs)]  # type: ignore
    for mine, reference in pairs:
        assert mine.dtype == np.float32
        np.testing.assert_allclose(mine, reference, rtol=0,
                                   atol=2e-5 * np.abs(reference).max())


# --------------------------------------------------------------------------- SGD momentum


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("weight_decay", [0.0, 1e-2])
def test_compiled_momentum_step_is_bitwise_the_numpy_passes(threads: int, dtype: type,
                                                            weight_decay: float) -> None:
    """Five momentum steps on a parameter large enough for the compiled loop (cut over the
    threads): the parameter and the buffer bit for bit as the NumPy passes leave them."""
    import minigrad.optim as optim
    from minigrad.optim import sgd

    rng = np.random.default_rng(13)
    start = rng.standard_normal((300, 200)).astype(dtype)
    grads = [rng.standard_normal((300, 200)).astype(dtype) for _ in range(5)]
    results = []
    for compiled in (True, False):
        before = sgd.COMPILED_MIN_SIZE
        sgd.COMPILED_MIN_SIZE = 1 if compiled else 1 << 62
        try:
            p = mg.tensor(start.copy(), requires_grad=True)
            opt = optim.SGD([p], lr=0.05, momentum=0.9, weight_decay=weight_decay)
            for g in grads:
                p.grad = mg.tensor(g)
                opt.step()
            results.append((p.detach().numpy(), opt.state[p]["momentum_buffer"].numpy()))
        finally:
            sgd.COMPILED_MIN_SIZE = before
    for ours, reference in zip(*results):
        _bitwise(ours, reference)


def test_compiled_momentum_step_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    import minigrad.optim as optim

    rng = np.random.default_rng(14)
    start = rng.standard_normal((9216, 16)).astype(np.float32)
    ours = mg.tensor(start.copy(), requires_grad=True)
    theirs = torch.tensor(start.copy(), requires_grad=True)
    our_opt = optim.SGD([ours], lr=0.1, momentum=0.9)
    their_opt = torch.optim.SGD([theirs], lr=0.1, momentum=0.9)
    for _ in range(5):
        g = rng.standard_normal(start.shape).astype(np.float32)
        ours.grad, theirs.grad = mg.tensor(g), torch.tensor(g)
        our_opt.step()
        their_opt.step()
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-6,
                               atol=1e-6)
    buffer = our_opt.state[ours]["momentum_buffer"]
    np.testing.assert_allclose(buffer.numpy(), their_opt.state[theirs]["momentum_buffer"].numpy(),
                               rtol=1e-6, atol=1e-6)


# --------------------------------------------------------------------------- ReLU backward


# every layout, and gradients laid out unlike the ReLU's output (a flatten after a
# batch-innermost pool: copied into the output's layout before the compiled pass)
RELU_LAYOUTS = [(order, order) for order in ORDERS] + [
    ((0, 1, 2, 3), (1, 2, 3, 0)), ((1, 2, 3, 0), (0, 1, 2, 3)), ((2, 3, 0, 1), (0, 1, 2, 3))]


@pytest.mark.parametrize("x_order,g_order", RELU_LAYOUTS)
def test_compiled_relu_backward_matches_torch_with_nan_and_zeros(
        threads: int, x_order: tuple[int, ...], g_order: tuple[int, ...]) -> None:
    """Inputs with +0, -0, NaN and infinities and a gradient with NaN: 0 where the output is
    <= 0, the gradient elsewhere (a NaN output included), as PyTorch's threshold_backward,
    in every layout and cut over threads."""
    torch = pytest.importorskip("torch")
    from minigrad.ops import elementwise

    rng = np.random.default_rng(15)
    shape = (16, 8, 30, 30)
    x = rng.choice(np.concatenate([SPECIAL, rng.standard_normal(20)]), shape).astype(np.float32)
    g = rng.standard_normal(shape).astype(np.float32)
    g[rng.random(shape) < 0.05] = np.nan
    ours = mg.tensor(_laid_out(x, x_order), requires_grad=True)
    out = F.relu(ours)
    assert elementwise._relu_backward_compiled(g, x, np.empty_like(g))  # the compiled pass
    out.backward(mg.tensor(_laid_out(g, g_order)))
    theirs = torch.tensor(x, requires_grad=True)
    torch.relu(theirs).backward(torch.tensor(g))
    assert ours.grad is not None and theirs.grad is not None
    _bitwise(np.ascontiguousarray(ours.grad.numpy()), theirs.grad.numpy())


def test_compiled_relu_backward_equals_the_numpy_pass_on_finite_values() -> None:
    from minigrad.ops import elementwise

    rng = np.random.default_rng(16)
    x = rng.standard_normal((64, 8, 28, 28))
    g = rng.standard_normal(x.shape)
    results = []
    for compiled in (True, False):
        elementwise.RELU_COMPILED = compiled
        try:
            t = mg.tensor(x, requires_grad=True)
            F.relu(t).backward(mg.tensor(g))
            assert t.grad is not None
            results.append(t.grad.numpy())
        finally:
            elementwise.RELU_COMPILED = True
    np.testing.assert_array_equal(*results)  # equal values; zeros may differ in sign


# --------------------------------------------------------------------------- conv input grad


def _conv_grads(x: np.ndarray, w: np.ndarray, g: np.ndarray, padding: int,
                dilation: int) -> tuple[np.ndarray, ...]:
    xt, wt = mg.tensor(x, requires_grad=True), mg.tensor(w, requires_grad=True)
    out = F.conv2d(xt, wt, padding=padding, dilation=dilation)
    out.backward(mg.tensor(g))
    assert xt.grad is not None and wt.grad is not None
    return out.detach().numpy(), xt.grad.numpy(), wt.grad.numpy()


@given(st.sampled_from([(3, 3, 3), (6, 16, 5), (8, 16, 3), (2, 4, 5)]), st.integers(1, 4),
       st.integers(5, 12), st.integers(0, 2), st.integers(1, 2),
       st.sampled_from([np.float32, np.float64]), st.booleans(), st.integers(0, 2**16))
@_im2col_only
def test_compiled_input_grad_accumulation_is_bitwise_the_numpy_passes(
        channels: tuple[int, int, int], n: int, size: int, padding: int, dilation: int,
        dtype: type, channel_major: bool, seed: int) -> None:
    """The input gradient's sum of kernel-offset runs and crop (conv_wide.py), compiled, on the
    per-image full-width path (C*K*K >= 25) and the batch-innermost col2im path (O > C): the
    NumPy passes' values bit for bit, written in the input's layout."""
    from minigrad.ops import conv_wide

    c, o, k = channels
    if size + 2 * padding < dilation * (k - 1) + 1:
        size = dilation * (k - 1) + 1
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, size, size)).astype(dtype)
    if channel_major:
        x = np.ascontiguousarray(x.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)
    w = rng.standard_normal((o, c, k, k)).astype(dtype)
    out_side = size + 2 * padding - dilation * (k - 1)
    g = rng.standard_normal((n, o, out_side, out_side)).astype(dtype)
    calls: list[str] = []
    kernels = {name: getattr(conv_wide, name)
               for name in ("_accumulate_wide", "_accumulate_batch_inner")}

    def spy(name: str) -> Any:
        def kernel(*args: Any) -> None:
            calls.append(name)
            kernels[name](*args)
        return kernel

    results = []
    for compiled in (True, False):
        conv_wide.ACCUMULATE_COMPILED = compiled
        calls.clear()
        for name in kernels:
            setattr(conv_wide, name, spy(name))
        try:
            results.append(_conv_grads(x, w, g, padding, dilation))
        finally:
            conv_wide.ACCUMULATE_COMPILED = True
            for name, kernel in kernels.items():
                setattr(conv_wide, name, kernel)
        if compiled:  # the kernel of this layer's path ran
            path = "_accumulate_wide" if c * k * k <= 100 else "_accumulate_batch_inner"
            assert path in calls
        else:
            assert not calls
    (out, gx, gw), (ref_out, ref_gx, ref_gw) = results
    _bitwise(gx, ref_gx)
    assert gx.strides == ref_gx.strides
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_array_equal(gw, ref_gw)


def test_compiled_input_grad_matches_torch_at_the_small_layers() -> None:
    """SimpleCNN's 8->16 3x3 at 14x14 and LeNet-5's 6->16 5x5 at 14x14 in float32, with the
    compiled accumulation: both gradients against PyTorch."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    for c, o, k, padding in ((8, 16, 3, 1), (6, 16, 5, 0)):
        x = rng.standard_normal((16, c, 14, 14)).astype(np.float32)
        w = (rng.standard_normal((o, c, k, k)) * 0.2).astype(np.float32)
        side = 14 + 2 * padding - k + 1
        g = rng.standard_normal((16, o, side, side)).astype(np.float32)
        ours = _conv_grads(x, w, g, padding, 1)
        xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
        torch.nn.functional.conv2d(xt, wt, padding=padding).backward(torch.tensor(g))
        for a, b in ((ours[1], xt.grad.numpy()), (ours[2], wt.grad.numpy())):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4 * np.abs(b).max())


@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 5), st.integers(4, 11),
       st.integers(0, 2), st.integers(1, 2), st.sampled_from([1, 2]),
       st.sampled_from([np.float32, np.float64]), st.booleans(), st.booleans(),
       st.integers(0, 2**16))
@_im2col_only
def test_compiled_im2col_is_bitwise_the_numpy_copy(
        n: int, c: int, k: int, size: int, padding: int, dilation: int, groups: int,
        dtype: type, bias: bool, channel_major: bool, seed: int) -> None:
    """The per-image im2col of stride-1 convolutions, compiled (conv_wide.py): the same columns
    as NumPy's copy of the window view, so the same outputs and gradients bit for bit."""
    from minigrad.ops import conv_wide

    if size + 2 * padding < dilation * (k - 1) + 1:
        size = dilation * (k - 1) + 1
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c * groups, size, size)).astype(dtype)
    if channel_major:
        x = np.ascontiguousarray(x.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)
    w = rng.standard_normal((2 * groups, c, k, k)).astype(dtype)
    b = rng.standard_normal(2 * groups).astype(dtype) if bias else None
    calls: list[int] = []
    kernel = conv_wide._im2col
    results = []
    for compiled in (True, False):
        conv_wide.IM2COL_COMPILED = compiled
        calls.clear()
        conv_wide._im2col = lambda *args: (calls.append(1), kernel(*args))  # type: ignore
        try:
            xt, wt = mg.tensor(x, requires_grad=True), mg.tensor(w, requires_grad=True)
            out = F.conv2d(xt, wt, None if b is None else mg.tensor(b), padding=padding,
                           dilation=dilation, groups=groups)
            out.backward(mg.tensor(np.ones(out.shape, dtype)))
            assert xt.grad is not None and wt.grad is not None
            results.append((out.detach().numpy(), xt.grad.numpy(), wt.grad.numpy()))
        finally:
            conv_wide.IM2COL_COMPILED = True
            conv_wide._im2col = kernel
        assert bool(calls) == (compiled and dilation == 1)
    for ours, reference in zip(*results):
        _bitwise(ours, reference)


@given(st.integers(1, 4), st.integers(1, 3), st.integers(5, 12), st.integers(0, 2),
       st.booleans(), st.sampled_from([np.float32, np.float64]), st.integers(0, 2**16))
@_im2col_only
def test_columns_made_again_in_backward_match_kept_columns(
        n: int, c: int, size: int, padding: int, bias: bool, dtype: type, seed: int) -> None:
    """Per-image 5x5 convolutions make their im2col columns again in the backward instead of
    keeping them (conv.py RECOMPUTE_COLUMNS): the same weight and bias gradients bit for
    bit, and the same input gradient."""
    from minigrad.ops import conv as conv_ops

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, size, size)).astype(dtype)
    w = rng.standard_normal((3, c, 5, 5)).astype(dtype)
    b = rng.standard_normal(3).astype(dtype) if bias else None
    side = size + 2 * padding - 4
    g = rng.standard_normal((n, 3, side, side)).astype(dtype)
    results = []
    for recompute in (True, False):
        conv_ops.RECOMPUTE_COLUMNS = recompute
        try:
            xt, wt = mg.tensor(x, requires_grad=True), mg.tensor(w, requires_grad=True)
            bt = None if b is None else mg.tensor(b, requires_grad=True)
            out = F.conv2d(xt, wt, bt, padding=padding)
            assert out._node.ctx.recompute_cols == recompute
            assert all(cols is None for cols in out._node.ctx.cols) == recompute
            out.backward(mg.tensor(g))
            grads = [xt.grad.numpy(), wt.grad.numpy()] + ([] if bt is None
                                                          else [bt.grad.numpy()])
            results.append((out.detach().numpy(), *grads))
        finally:
            conv_ops.RECOMPUTE_COLUMNS = True
    for ours, reference in zip(*results):
        _bitwise(ours, reference)


@_im2col_only
def test_input_modified_in_place_before_the_backward_is_an_error() -> None:
    """A convolution that makes its columns again saves its input: changing the input in
    place between forward and backward raises, as PyTorch does for saved tensors."""
    x = mg.tensor(np.ones((2, 1, 8, 8), np.float32), requires_grad=False)
    w = mg.tensor(np.ones((2, 1, 5, 5), np.float32), requires_grad=True)
    out = F.conv2d(x, w, padding=2)
    assert out._node.ctx.recompute_cols
    x.mul_(2)
    with pytest.raises(RuntimeError, match="modified"):
        out.sum().backward()
