"""Forward passes without grad mode (no_grad, inference_mode) against the grad-mode forward.

The per-image convolution cuts the batch into larger chunks when no input needs a gradient
(``PER_IMAGE_INFERENCE_CHUNK_BYTES``): each image's GEMM is the same whatever the chunk, so the
outputs must match the grad-mode ones bit for bit, and the input must be left as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F
from minigrad.ops import conv as conv_ops

MODES: list[Callable[[], AbstractContextManager[object]]] = [mg.no_grad, mg.inference_mode]


@pytest.fixture
def chunked() -> Iterator[None]:
    """Grad mode in chunks of one image (1 byte), inference in one piece: the two chunkings
    differ as much as they can."""
    previous = conv_ops.PER_IMAGE_CHUNK_BYTES, conv_ops.PER_IMAGE_INFERENCE_CHUNK_BYTES
    conv_ops.PER_IMAGE_CHUNK_BYTES, conv_ops.PER_IMAGE_INFERENCE_CHUNK_BYTES = 1, 10**12
    try:
        yield
    finally:
        conv_ops.PER_IMAGE_CHUNK_BYTES, conv_ops.PER_IMAGE_INFERENCE_CHUNK_BYTES = previous


def _layout(x: np.ndarray, layout: str) -> np.ndarray:
    """``x`` (N, C, H, W) with the same values in another memory layout."""
    if layout == "contiguous":
        return x
    if layout == "channels_last":
        return np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    if layout == "batch_inner":
        return np.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    if layout == "strided":  # every other column of a wider array
        wide = np.zeros(x.shape[:3] + (2 * x.shape[3],), dtype=x.dtype)
        wide[..., ::2] = x
        return wide[..., ::2]
    raise ValueError(layout)


CASES = [  # (n, c, o, h, w, kernel, padding, bias)
    (5, 1, 6, 11, 9, 5, 2, True),  # LeNet-5's first layer, odd sizes
    (3, 2, 3, 7, 8, 3, 1, False),
    (4, 3, 4, 6, 5, (3, 1), (0, 1), True),
]


@pytest.mark.usefixtures("chunked")
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["contiguous", "channels_last", "batch_inner", "strided"])
@pytest.mark.parametrize("mode", MODES)
def test_per_image_conv_without_grad_matches_grad_mode(
    case: tuple, dtype: type, layout: str, mode: Callable[[], AbstractContextManager[object]]
) -> None:
    n, c, o, h, w, kernel, padding, has_bias = case
    k = (kernel, kernel) if isinstance(kernel, int) else kernel
    assert c * k[0] * k[1] <= conv_ops.PER_IMAGE_MAX_COLUMNS  # the per-image path
    rng = np.random.default_rng(n * 100 + c)
    x_data = _layout(rng.standard_normal((n, c, h, w)).astype(dtype), layout)
    before = x_data.copy()
    weight = mg.tensor(rng.standard_normal((o, c) + k).astype(dtype), requires_grad=True)
    bias = mg.tensor(rng.standard_normal(o).astype(dtype), requires_grad=True) if has_bias \
        else None
    x = mg.tensor(x_data, requires_grad=True)
    expected = F.conv2d(x, weight, bias, padding=padding)
    assert expected.requires_grad
    with mode():
        got = F.conv2d(x, weight, bias, padding=padding)
    assert not got.requires_grad
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_array_equal(got.detach().numpy(), expected.detach().numpy())
    np.testing.assert_array_equal(x.detach().numpy(), before)  # the input is left alone


@pytest.mark.usefixtures("chunked")
def test_per_image_conv_plain_input_without_grad() -> None:
    # nothing requires grad at all: the inference chunking even in grad mode
    import nn

    rng = np.random.default_rng(7)
    layer = nn.Conv2d(1, 6, 5, padding=2)
    x = mg.tensor(rng.standard_normal((6, 1, 10, 12)).astype(np.float32))
    expected = layer(x)
    layer.eval()
    for p in layer.parameters():
        p.requires_grad_(False)
    plain = layer(x)
    with mg.no_grad():
        got = layer(x)
    np.testing.assert_array_equal(plain.numpy(), expected.detach().numpy())
    np.testing.assert_array_equal(got.numpy(), expected.detach().numpy())


def test_per_image_inference_chunk_size_by_grad_mode() -> None:
    # the larger chunks only where no input of the convolution needs a gradient
    from minigrad.autograd.engine import Context

    ctx = Context()
    ctx.needs_input_grad = (False, False, False)
    assert conv_ops._per_image_chunk_bytes(ctx) == conv_ops.PER_IMAGE_INFERENCE_CHUNK_BYTES
    for needs in [(True, False, False), (False, True, False), (False, False, True)]:
        ctx.needs_input_grad = needs
        assert conv_ops._per_image_chunk_bytes(ctx) == conv_ops.PER_IMAGE_CHUNK_BYTES


# the 2x2 max pool without grad: three passes over the window offsets where image rows are not
# innermost (spatial-major, as after a Winograd convolution), the pairwise passes elsewhere
POOL_SHAPES = [(3, 2, 6, 8), (2, 3, 7, 5), (1, 1, 2, 2), (4, 5, 9, 9)]


def _pool_input(shape: tuple[int, int, int, int], dtype: type, seed: int) -> np.ndarray:
    """Values with many ties, signed zeros and a NaN: every choice of element shows."""
    rng = np.random.default_rng(seed)
    x = rng.integers(-2, 3, size=shape).astype(dtype)
    x[rng.random(shape) < 0.2] = -0.0
    x.flat[rng.integers(0, x.size)] = np.nan
    return x


@pytest.mark.parametrize("shape", POOL_SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["contiguous", "channels_last", "batch_inner", "strided"])
@pytest.mark.parametrize("mode", MODES)
def test_max_pool_2x2_without_grad_matches_grad_mode(
    shape: tuple[int, int, int, int], dtype: type, layout: str,
    mode: Callable[[], AbstractContextManager[object]],
) -> None:
    base = _pool_input(shape, dtype, sum(shape))
    # spatial-major: (H, W, N, C) memory, the layout the three-pass path takes
    spatial = np.ascontiguousarray(base.transpose(2, 3, 0, 1)).transpose(2, 3, 0, 1)
    for data in (_layout(base, layout), spatial):
        before = data.copy()
        x = mg.tensor(data, requires_grad=True)
        expected = F.max_pool2d(x, 2)
        assert expected.requires_grad
        with mode():
            got = F.max_pool2d(x, 2)
        assert not got.requires_grad and got.dtype == expected.dtype
        e, g = expected.detach().numpy(), got.detach().numpy()
        np.testing.assert_array_equal(g, e)
        np.testing.assert_array_equal(np.signbit(g), np.signbit(e))  # the same zero chosen
        np.testing.assert_array_equal(x.detach().numpy(), before)  # the input is left alone
        np.testing.assert_array_equal(data, before)


def test_max_pool_2x2_without_grad_leaves_views_and_parameters_alone() -> None:
    import nn

    base = _pool_input((2, 4, 6, 6), np.float32, 11)
    spatial = np.ascontiguousarray(base.transpose(2, 3, 0, 1)).transpose(2, 3, 0, 1)
    param = nn.Parameter(mg.tensor(spatial.copy()))
    view = mg.tensor(spatial)[:, 1:3]
    before_param, before_view = param.detach().numpy().copy(), view.numpy().copy()
    with mg.no_grad():
        a = nn.MaxPool2d(2)(param)
        b = F.max_pool2d(view, 2)
    with mg.inference_mode():
        c = F.max_pool2d(view, (2, 2), stride=2)
    np.testing.assert_array_equal(param.detach().numpy(), before_param)
    np.testing.assert_array_equal(view.numpy(), before_view)
    np.testing.assert_array_equal(a.numpy(), F.max_pool2d(param, 2).detach().numpy())
    np.testing.assert_array_equal(b.numpy(), c.numpy())
    np.testing.assert_array_equal(b.numpy(), F.max_pool2d(mg.tensor(base[:, 1:3]), 2).numpy())
