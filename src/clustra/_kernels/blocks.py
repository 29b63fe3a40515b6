"""Run a serial kernel over fixed-size blocks of rows on a small pool of Python threads.

numba's ``parallel=True`` lowering costs seconds of compile time per kernel
(benchmarks/results/coldstart.md). A serial kernel
(:func:`clustra._kernels.jit.kernel`, which releases the GIL) that works on a
range of blocks compiles in a fraction of that, and Python threads run it side
by side. Each block writes its own partial
result, which the caller combines in block order: the results do not depend
on how the blocks are split among the threads, nor on their number.

Two ways to split them:

- :func:`run_blocks`: each thread gets one fixed range ``[begin, end)``;
- :func:`run_claimed`: the threads claim runs of blocks from a shared counter
  (:func:`claim`) until none are left, so a thread that starts late (a
  wake-up, the GIL, a busy core) takes fewer blocks instead of holding up the
  rest at the end (benchmarks/results/kmeans-choices.md).

The thread count is numba's (``numba.get_num_threads()``, which ``n_jobs``
sets), so the estimators' ``n_jobs`` holds for these kernels too.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

from clustra._kernels.intrinsics import fetch_add
from clustra._kernels.jit import inner

# One task per thread, the calling thread taking the first: each task handed
# to the pool costs a thread wake-up, as much as a whole pass over a small X
# (figures: benchmarks/results/coldstart.md).
TASKS_PER_THREAD = 1

# run_claimed: about this many claims per thread, so that the threads finish
# within one claim of each other, while one atomic addition per claim stays
# negligible next to the blocks' work.
CLAIMS_PER_THREAD = 32

_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_lock = threading.Lock()


def _executor(n_threads: int) -> ThreadPoolExecutor:
    global _pool, _pool_size
    with _lock:
        if _pool is None or _pool_size < n_threads:
            if _pool is not None:
                _pool.shutdown(wait=False)
            _pool = ThreadPoolExecutor(max_workers=n_threads, thread_name_prefix="clustra")
            _pool_size = n_threads
        return _pool


def spans(n_blocks: int, n_tasks: int) -> list[tuple[int, int]]:
    """``[begin, end)`` ranges splitting ``range(n_blocks)`` into ``n_tasks`` near-equal runs."""
    n_tasks = max(1, min(n_tasks, n_blocks))
    edges = [n_blocks * t // n_tasks for t in range(n_tasks + 1)]
    return list(zip(edges[:-1], edges[1:], strict=True))


def run_blocks(kernel, n_blocks: int, *args) -> list:
    """``kernel(*args, begin, end)`` over ranges covering blocks ``0 .. n_blocks - 1``.

    Returns the kernels' results in block order. With one thread, or one
    block, a single call in the calling thread (no pool at all).
    """
    n_threads = min(numba.get_num_threads(), n_blocks)
    if n_threads <= 1:
        return [kernel(*args, 0, n_blocks)]
    parts = spans(n_blocks, n_threads * TASKS_PER_THREAD)
    pool = _executor(n_threads - 1)
    others = [pool.submit(kernel, *args, begin, end) for begin, end in parts[1:]]
    first = kernel(*args, parts[0][0], parts[0][1])
    return [first] + [future.result() for future in others]


@inner
def claim(cursor):
    """The next run ``(begin, end)`` of blocks from ``cursor``; ``begin == end`` when none is left.

    ``cursor`` is the int64 array ``[next block, n_blocks, blocks per claim]``
    of :func:`run_claimed`. A kernel loops ``begin, end = claim(cursor)``
    ``while begin < end``.
    """
    n_blocks = cursor[1]
    begin = min(fetch_add(cursor, cursor[2]), n_blocks)
    return begin, min(begin + cursor[2], n_blocks)


def run_claimed(kernel, n_blocks: int, *args) -> None:
    """``kernel(*args, cursor)`` on every thread, the threads claiming blocks
    ``0 .. n_blocks - 1`` from ``cursor`` (see :func:`claim`) until none are left.

    With one thread, or one block, a single call in the calling thread. A
    pool thread that has not started by the time the calling thread finds
    nothing left to claim is not waited for.
    """
    n_threads = min(numba.get_num_threads(), n_blocks)
    step = max(1, n_blocks // (CLAIMS_PER_THREAD * max(n_threads, 1)))
    cursor = np.array([0, n_blocks, step], dtype=np.int64)
    if n_threads <= 1:
        kernel(*args, cursor)
        return
    pool = _executor(n_threads - 1)
    others = [pool.submit(kernel, *args, cursor) for _ in range(n_threads - 1)]
    kernel(*args, cursor)
    for future in others:
        if not future.cancel():
            future.result()
