"""Batch splitting over a small thread pool, and the process settings it relies on.

NumPy releases the GIL inside its kernels, so two threads that each take half a batch keep two
cores busy with the memory-bound work (im2col copies, col2im sums, bias adds) as well as the
GEMMs. BLAS is therefore held to one thread (``configure_process``): two levels of threading
would oversubscribe the cores, OpenBLAS's idle threads spin for a long time after every call,
and a BLAS pool that synchronises inside one long GEMM stalls whenever another process takes a
core. Measured on 2 cores (SimpleCNN, LeNet-5, StrongCNN training at batch 128): BLAS threads
plus this pool 8,030 / 6,747 / 534 samples/s, one BLAS thread plus this pool 10,450 / 9,438 /
713, everything on one thread 7,726 / 7,116 / 395.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from threadpoolctl import ThreadpoolController

_state: dict[str, Any] = {"threads": None, "pool": None, "controller": None}


def _default_threads() -> int:
    env = os.environ.get("MINIGRAD_NUM_THREADS")
    if env:
        return max(1, int(env))
    try:
        return max(1, min(len(os.sched_getaffinity(0)), 8))
    except AttributeError:  # platforms without sched_getaffinity
        return max(1, min(os.cpu_count() or 1, 8))


def get_num_threads() -> int:
    """Threads used to split large batches (default: the cores available, at most 8)."""
    if _state["threads"] is None:
        _state["threads"] = _default_threads()
    return _state["threads"]


def set_num_threads(threads: int) -> None:
    """Use ``threads`` threads for batch splitting (1 turns it off), like torch.set_num_threads."""
    if int(threads) < 1:
        raise ValueError(f"set_num_threads: expected a positive number, got {threads}")
    _state["threads"] = int(threads)
    if _state["pool"] is not None:
        _state["pool"].shutdown(wait=False)
        _state["pool"] = None


def _pool() -> ThreadPoolExecutor:
    # a forked child inherits the executor but not its threads: it would wait forever, so a
    # process that did not create the pool makes its own
    if _state["pool"] is None or _state.get("pid") != os.getpid():
        _state["pool"] = ThreadPoolExecutor(
            max_workers=max(1, get_num_threads() - 1), thread_name_prefix="minigrad"
        )
        _state["pid"] = os.getpid()
    return _state["pool"]


def _controller() -> ThreadpoolController:
    if _state["controller"] is None:
        _state["controller"] = ThreadpoolController()
    return _state["controller"]


def split(n: int, parts: int) -> list[tuple[int, int]]:
    """``parts`` contiguous (start, stop) ranges covering range(n), sizes differing by <= 1."""
    bounds = [n * i // parts for i in range(parts + 1)]
    return [(bounds[i], bounds[i + 1]) for i in range(parts) if bounds[i] < bounds[i + 1]]


# Largest scratch buffer (an im2col block) per chunk. StrongCNN's 32->32 conv at 28x28,
# forward + backward at batch 128 on 2 threads: 70.6 ms in 2 chunks (57 MiB each), 56.8 ms in
# 16 (7 MiB), 50.9 ms in 32 (3.6 MiB), 51.4 ms in 64.
CHUNK_BYTES = 4 << 20


def plan(n: int, work: float, buffer_bytes: float = 0.0, min_work: float = 2e6,
         chunk_bytes: int | None = None) -> list[tuple[int, int]]:
    """Chunks of range(n) for ``run``: one per thread, more when the buffers are large.

    ``work`` estimates the total cost (e.g. multiply-adds); below ``min_work`` per thread the
    batch stays in one piece, since handing it to threads would cost more than it saves.
    ``buffer_bytes`` is the size of the scratch buffer the whole batch would need: chunks are
    cut so that each one's stays under ``chunk_bytes`` (default CHUNK_BYTES) and is still in
    cache when the next step reads it.
    """
    if n <= 0:
        return []  # an empty batch: nothing to split
    threads = min(get_num_threads(), n, max(1, int(work // min_work)))
    by_size = -(-int(buffer_bytes) // (chunk_bytes or CHUNK_BYTES))
    parts = max(threads, -(-by_size // threads) * threads)  # a multiple of the thread count
    return split(n, min(n, parts))


def run(fn: Callable[[int, int], Any], chunks: list[tuple[int, int]]) -> list[Any]:
    """``[fn(start, stop) for each chunk]``, in parallel, results in chunk order.

    The calling thread and the pool's workers take chunks from one shared queue, so any number
    of chunks spreads evenly over the threads.
    """
    if len(chunks) <= 1:
        return [fn(*chunk) for chunk in chunks]
    results: list[Any] = [None] * len(chunks)
    queue = iter(enumerate(chunks))  # next() on it is atomic under the GIL

    def work() -> None:
        for index, (start, stop) in queue:
            results[index] = fn(start, stop)

    helpers = [_pool().submit(work) for _ in range(min(get_num_threads(), len(chunks)) - 1)]
    work()
    for helper in helpers:
        helper.result()
    return results


# below this many elements per thread, memory-bound elementwise work stays on one thread
# (SimpleCNN / LeNet-5 training step: 2**19 9.6 / 10.6 ms, 2**17 8.4 / 9.6, 2**16 8.7 / 10.2)
ELEMENTS_PER_THREAD = 1 << 17


def rows(fn: Callable[[int, int], Any], array: np.ndarray) -> list[Any]:
    """``fn(start, stop)`` over chunks of ``array``'s first axis, threaded when it is large."""
    if array.ndim == 0:
        return [fn(0, 1)]
    return run(fn, plan(array.shape[0], work=array.size, min_work=ELEMENTS_PER_THREAD))


def outer_axis(array: np.ndarray) -> int:
    """The axis with the largest stride among those longer than 1 (0 when there is none).

    Cutting along it gives each thread one contiguous stretch of memory whatever the layout:
    a Winograd convolution leaves its ``(N, C, H, W)`` output spatial-major (``H`` outermost in
    memory), where chunks of the batch axis would be strided.
    """
    best, best_stride = 0, -1
    for axis, (size, stride) in enumerate(zip(array.shape, array.strides)):
        if size > 1 and abs(stride) > best_stride:
            best, best_stride = axis, abs(stride)
    return best


def blocks(fn: Callable[[tuple[slice, ...]], Any], array: np.ndarray) -> list[Any]:
    """``fn(index)`` over blocks of ``array`` cut along its outermost memory axis, threaded
    when it is large; ``index`` is a tuple of slices (``array[index]`` is one block).

    For elementwise work: every element lands in exactly one block, so the result is the same
    bit for bit as one pass over the whole array. Measured on 2 threads, ReLU forward and
    backward on a spatial-major (128, 32, 28, 28): 7.0 ms cut along the batch, 4.8 ms cut
    along the outermost memory axis (as fast as on a contiguous array).
    """
    if array.ndim == 0:
        return [fn(())]
    axis = outer_axis(array)
    lead = (slice(None),) * axis
    chunks = plan(array.shape[axis], work=array.size, min_work=ELEMENTS_PER_THREAD)
    return run(lambda start, stop: fn(lead + (slice(start, stop),)), chunks)


# glibc mallopt parameters
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3


def _keep_freed_memory() -> bool:
    """Ask glibc to keep freed memory for reuse instead of returning it to the system.

    A training step frees and reallocates the same multi-megabyte arrays every time; by default
    glibc unmaps or trims them, and every new array then pays a page fault per 4 KiB when it is
    first written. Keeping them (mmap only above 32 MiB, trim only above 512 MiB free) took
    SimpleCNN from 4,567 to 10,450 samples/s. The cost: the process does not shrink when
    arrays are freed, like PyTorch's caching allocator.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        settings = ((_M_MMAP_THRESHOLD, 32 << 20), (_M_TRIM_THRESHOLD, 512 << 20),
                    (_M_TOP_PAD, 64 << 20))
        return all(libc.mallopt(param, value) == 1 for param, value in settings)
    except (OSError, AttributeError):  # not glibc (e.g. musl): keep the allocator's defaults
        return False


def configure_process() -> dict[str, bool]:
    """Process settings for speed, applied once when minigrad is imported.

    BLAS runs on one thread (minigrad parallelises across the batch itself, see
    ``set_num_threads``) and glibc keeps freed memory for reuse. ``MINIGRAD_PROCESS_TUNING=0``
    in the environment leaves the process as it is.
    """
    if os.environ.get("MINIGRAD_PROCESS_TUNING", "1") == "0":
        return {"blas_single_thread": False, "malloc_keeps_memory": False}
    _controller().limit(limits=1, user_api="blas")
    return {"blas_single_thread": True, "malloc_keeps_memory": _keep_freed_memory()}
