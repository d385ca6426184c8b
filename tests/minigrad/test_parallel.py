"""Batch splitting: results do not depend on how the batch is cut into chunks."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F
from minigrad import parallel


def test_split_covers_range_in_order() -> None:
    for n in range(1, 20):
        for parts in range(1, 6):
            chunks = parallel.split(n, parts)
            assert chunks[0][0] == 0 and chunks[-1][1] == n
            assert all(a[1] == b[0] for a, b in zip(chunks, chunks[1:]))
            sizes = [stop - start for start, stop in chunks]
            assert max(sizes) - min(sizes) <= 1 and len(chunks) == min(n, parts)


def test_plan_keeps_small_work_in_one_piece() -> None:
    assert parallel.plan(128, work=10.0) == [(0, 128)]


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_plan_cuts_large_buffers_into_cache_sized_chunks(threads: int) -> None:
    previous = mg.get_num_threads()
    mg.set_num_threads(threads)
    try:
        chunks = parallel.plan(128, work=1e12, buffer_bytes=115e6)
    finally:
        mg.set_num_threads(previous)
    assert len(chunks) % threads == 0 and len(chunks) >= 115e6 / parallel.CHUNK_BYTES
    assert all((stop - start) * 115e6 / 128 <= parallel.CHUNK_BYTES * 1.1 for start, stop in chunks)


def test_set_num_threads_rejects_zero() -> None:
    with pytest.raises(ValueError, match="set_num_threads"):
        mg.set_num_threads(0)


def _conv_step(threads: int, stride: int, out_channels: int) -> list[np.ndarray]:
    previous = mg.get_num_threads()
    mg.set_num_threads(threads)
    try:
        rng = np.random.default_rng(0)
        x = mg.tensor(rng.standard_normal((7, 4, 9, 9)), requires_grad=True)
        w = mg.tensor(rng.standard_normal((out_channels, 4, 3, 3)), requires_grad=True)
        b = mg.tensor(rng.standard_normal(out_channels), requires_grad=True)
        y = F.conv2d(x, w, b, stride=stride, padding=1)
        (y * mg.tensor(rng.standard_normal(y.shape))).sum().backward()
        return [y._data.copy(), x.grad._data, w.grad._data, b.grad._data]
    finally:
        mg.set_num_threads(previous)


@pytest.mark.parametrize("columns", [0, 10**9])  # channel-major, per image
@pytest.mark.parametrize("stride,out_channels", [(1, 3), (1, 6), (2, 5)])
def test_conv2d_chunked_equals_single_chunk(monkeypatch: pytest.MonkeyPatch, stride: int,
                                            out_channels: int, columns: int) -> None:
    from minigrad.ops import conv

    monkeypatch.setattr(conv, "PER_IMAGE_MAX_COLUMNS", columns)
    single = _conv_step(1, stride, out_channels)
    # force the smallest possible chunks: every thread gets work however tiny
    original = parallel.plan
    monkeypatch.setattr(parallel, "plan",
                        lambda n, work, buffer_bytes=0, min_work=0, chunk_bytes=None:
                        original(n, work, 0, 1e-9))
    chunked = _conv_step(3, stride, out_channels)
    for a, b in zip(single, chunked):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def _relu_pool_step(threads: int) -> list[np.ndarray]:
    previous = mg.get_num_threads()
    mg.set_num_threads(threads)
    try:
        rng = np.random.default_rng(1)
        # small integers: many ties inside pooling windows, zeros for ReLU's kink
        x = mg.tensor(rng.integers(-2, 3, (9, 3, 8, 8)).astype(np.float64), requires_grad=True)
        pooled = F.max_pool2d(F.relu(x), 2)
        overlapping = F.max_pool2d(x, 3, stride=2, padding=1)
        weights = [mg.tensor(rng.standard_normal(t.shape)) for t in (pooled, overlapping)]
        ((pooled * weights[0]).sum() + (overlapping * weights[1]).sum()).backward()
        return [pooled._data.copy(), overlapping._data.copy(), x.grad._data]
    finally:
        mg.set_num_threads(previous)


def test_relu_and_max_pool_chunked_equal_single_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    single = _relu_pool_step(1)
    monkeypatch.setattr(parallel, "ELEMENTS_PER_THREAD", 1)
    chunked = _relu_pool_step(3)
    for a, b in zip(single, chunked):
        np.testing.assert_array_equal(a, b)


def test_chunked_work_runs_in_a_forked_child(monkeypatch: pytest.MonkeyPatch) -> None:
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("this platform cannot fork")  # not Linux: there is no fork to survive
    monkeypatch.setattr(parallel, "ELEMENTS_PER_THREAD", 1)
    previous = mg.get_num_threads()
    mg.set_num_threads(2)
    try:
        parallel.rows(lambda start, stop: None, np.zeros((4, 4)))  # the parent's pool exists
        context = multiprocessing.get_context("fork")
        child = context.Process(target=parallel.rows, args=(lambda start, stop: None,
                                                            np.zeros((4, 4))))
        child.start()
        child.join(timeout=20)
        hung = child.is_alive()
        if hung:
            child.kill()
        assert not hung and child.exitcode == 0
    finally:
        mg.set_num_threads(previous)


@pytest.mark.parametrize("tuning", ["1", "0"])
def test_import_sets_blas_to_one_thread_unless_opted_out(tuning: str) -> None:
    import os
    import subprocess
    import sys

    code = (
        "import numpy, threadpoolctl, minigrad;"
        "blas = [i for i in threadpoolctl.threadpool_info() if i['user_api'] == 'blas'];"
        "print(minigrad.process_settings['blas_single_thread'], blas[0]['num_threads'])"
    )
    env = dict(os.environ, MINIGRAD_PROCESS_TUNING=tuning, OPENBLAS_NUM_THREADS="2")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == (["True", "1"] if tuning == "1" else ["False", "2"])
