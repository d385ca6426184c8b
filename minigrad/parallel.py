"""Batch splitting over a small thread pool.

NumPy releases the GIL inside its kernels, so two threads that each take half a batch keep two
cores busy with the memory-bound work (im2col copies, col2im sums, bias adds) as well as the
GEMMs. Inside the workers BLAS is held to one thread: two levels of threading would
oversubscribe the cores, and a BLAS thread pool that synchronises inside one long GEMM stalls
whenever another process takes a core.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

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
    if _state["pool"] is None:
        _state["pool"] = ThreadPoolExecutor(
            max_workers=get_num_threads() - 1, thread_name_prefix="minigrad"
        )
    return _state["pool"]


def _controller() -> ThreadpoolController:
    if _state["controller"] is None:
        _state["controller"] = ThreadpoolController()
    return _state["controller"]


def split(n: int, parts: int) -> list[tuple[int, int]]:
    """``parts`` contiguous (start, stop) ranges covering range(n), sizes differing by <= 1."""
    bounds = [n * i // parts for i in range(parts + 1)]
    return [(bounds[i], bounds[i + 1]) for i in range(parts) if bounds[i] < bounds[i + 1]]


def plan(n: int, work: float, min_work: float = 2e6) -> list[tuple[int, int]]:
    """Chunks of range(n) for ``run``: one per thread, or a single one for small work.

    ``work`` estimates the total cost (e.g. multiply-adds); below ``min_work`` per thread the
    batch stays in one piece, since handing it to threads would cost more than it saves.
    """
    return split(n, min(get_num_threads(), n, max(1, int(work // min_work))))


def run(fn: Callable[[int, int], Any], chunks: list[tuple[int, int]]) -> list[Any]:
    """``[fn(start, stop) for each chunk]``, the chunks in parallel, results in chunk order."""
    if len(chunks) <= 1:
        return [fn(*chunk) for chunk in chunks]
    with _controller().limit(limits=1, user_api="blas"):
        futures = [_pool().submit(fn, start, stop) for start, stop in chunks[1:]]
        results = [fn(*chunks[0])]
        results.extend(f.result() for f in futures)
    return results
