"""The layout-aware fast paths: thread splits along the outermost memory axis, reshape
gradients in the input's layout, gradients the engine hands over without a copy, and the
optimizers' preallocated buffers. Each is checked against the plain computation."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from minigrad import parallel
from minigrad.autograd.engine import Context
from minigrad.ops.elementwise import Relu


@pytest.fixture
def two_threads() -> Iterator[None]:
    before = parallel.get_num_threads()
    parallel.set_num_threads(2)
    try:
        yield
    finally:
        parallel.set_num_threads(before)


def _layout(shape: tuple[int, ...], order: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """A random float32 array of ``shape`` whose memory runs over the axes in ``order``."""
    base = np.random.default_rng(seed).standard_normal([shape[a] for a in order])
    return base.astype(np.float32).transpose(np.argsort(order))


@pytest.mark.parametrize("order", [(0, 1, 2, 3), (2, 3, 0, 1), (1, 0, 3, 2)])
def test_outer_axis_is_the_largest_stride(order: tuple[int, ...]) -> None:
    a = _layout((3, 4, 5, 6), order)
    assert parallel.outer_axis(a) == order[0]
    assert parallel.outer_axis(np.zeros(())) == 0
    assert parallel.outer_axis(np.zeros((1, 7))) == 1  # a length-1 axis is never cut


@pytest.mark.parametrize("order", [(0, 1, 2, 3), (2, 3, 0, 1), (3, 1, 0, 2)])
def test_blocks_cover_every_element_once(order: tuple[int, ...], two_threads: None,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "ELEMENTS_PER_THREAD", 8)  # threaded even when small
    a = _layout((4, 6, 10, 8), order)
    hits = np.zeros(a.shape, np.int64)
    seen: list[tuple[slice, ...]] = []

    def fn(index: tuple[slice, ...]) -> None:
        seen.append(index)
        np.add(hits[index], 1, out=hits[index])

    parallel.blocks(fn, a)
    assert len(seen) > 1
    np.testing.assert_array_equal(hits, 1)
    assert all(len(ix) == order[0] + 1 for ix in seen)  # cut along the outermost axis


@pytest.mark.parametrize("order", [(0, 1, 2, 3), (2, 3, 0, 1)])
@pytest.mark.parametrize("grad_order", [(0, 1, 2, 3), (2, 3, 0, 1)])
def test_relu_threaded_is_bitwise_the_plain_pass(order: tuple[int, ...],
                                                 grad_order: tuple[int, ...], two_threads: None,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "ELEMENTS_PER_THREAD", 64)
    x = _layout((6, 5, 7, 8), order)
    g = _layout((6, 5, 7, 8), grad_order, seed=1)
    ctx = Context()
    out = Relu.forward(ctx, x)
    grad = Relu.backward(ctx, g)
    np.testing.assert_array_equal(out, np.maximum(x, 0))
    np.testing.assert_array_equal(grad, g * (x > 0))
    assert out.strides == x.strides  # the result keeps the input's layout
    assert grad.strides == g.strides
