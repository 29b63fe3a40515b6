"""How many threads clustra's compiled kernels may use.

Three ways to set it, from widest to narrowest:

- the environment variable ``CLUSTRA_NUM_THREADS`` (read once, at first use);
- :func:`set_num_threads`, for the rest of the process;
- :class:`thread_limit`, a context manager and decorator, for a block of code.

The setting covers clustra's numba kernels and, while a kernel runs, the BLAS
library under NumPy (so that the two never compete for the same cores). Results
never depend on it: kernels split their work into fixed-size blocks, so the
same input gives the same bits with 1 thread or 64.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

_state = threading.local()
_process_default: int | None = None
_env_read = False


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def _check_n_threads(n_threads: int | None) -> int | None:
    if n_threads is None:
        return None
    if isinstance(n_threads, bool) or not isinstance(n_threads, int) or n_threads < 1:
        raise ValueError(
            f"n_threads must be a positive integer or None (all cores), got {n_threads!r}."
        )
    return n_threads


def _default_from_env() -> int | None:
    global _env_read, _process_default
    if not _env_read:
        _env_read = True
        raw = os.environ.get("CLUSTRA_NUM_THREADS")
        if raw:
            try:
                _process_default = _check_n_threads(int(raw))
            except ValueError as exc:
                raise ValueError(
                    f"CLUSTRA_NUM_THREADS must be a positive integer, got {raw!r}."
                ) from exc
    return _process_default


def get_num_threads() -> int:
    """Return the number of threads clustra's kernels will use."""
    requested = getattr(_state, "n_threads", None)
    if requested is None:
        requested = _default_from_env()
    available = _cpu_count()
    return available if requested is None else min(requested, max(available, 1))


def set_num_threads(n_threads: int | None) -> None:
    """Set the number of threads for the rest of the process (``None``: all cores)."""
    global _process_default, _env_read
    _env_read = True
    _process_default = _check_n_threads(n_threads)
    _state.n_threads = None


class thread_limit(contextlib.ContextDecorator):
    """Limit clustra's kernels to ``n_threads`` inside a ``with`` block or a function.

    Parameters
    ----------
    n_threads : int or None
        Number of threads; ``None`` means all available cores.

    Examples
    --------
    >>> import clustra
    >>> with clustra.thread_limit(1):
    ...     clustra.get_num_threads()
    1
    """

    def __init__(self, n_threads: int | None):
        self.n_threads = _check_n_threads(n_threads)
        self._saved: list[int | None] = []

    def __enter__(self) -> thread_limit:
        self._saved.append(getattr(_state, "n_threads", None))
        _state.n_threads = self.n_threads
        return self

    def __exit__(self, *exc_info) -> None:
        _state.n_threads = self._saved.pop()


def _prefer_sleeping_waits() -> None:
    """Let idle kernel threads sleep rather than spin, unless the user has chosen.

    numba's OpenMP layer reads ``OMP_WAIT_POLICY`` once, when it starts (at
    the first parallel kernel of the process). By default its idle threads
    spin at every barrier; when another process holds one of the cores, the
    kernel thread that lost its core holds up all the others, so a parallel
    fit on a busy machine can run several times slower than on one thread.
    Setting the variable before the first kernel is the only way to choose; a
    value already in the environment is kept.

    With the passive policy GNU OpenMP does not spin at all, so a thread that
    waits for a moment (between two kernels microseconds apart) sleeps and
    must be woken; a short spin first (``GOMP_SPINCOUNT=1000``) saves most of
    that wake-up without the cost of spinning on a busy machine. It is set
    only along with the policy, when the user set neither. The measurements:
    benchmarks/results/kmeans-choices.md.
    """
    if "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ:
        os.environ["GOMP_SPINCOUNT"] = "1000"
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


@contextlib.contextmanager
def kernel_threads(n_threads: int | None = None, *, limit_blas: bool = True) -> Iterator[int]:
    """Run compiled kernels with the configured thread count (internal).

    Sets numba's thread count for the calling thread and holds BLAS to one
    thread, restoring both on exit. ``n_threads`` (an estimator parameter, say)
    overrides the process setting. Yields the number of threads in force.
    ``limit_blas=False`` skips the BLAS limit (threadpoolctl costs milliseconds
    per call) for code that calls no BLAS, such as a quick ``predict``.
    """
    _prefer_sleeping_waits()
    import numba
    from threadpoolctl import threadpool_limits

    n = get_num_threads() if n_threads is None else min(_check_n_threads(n_threads), _cpu_count())
    n = min(n, numba.config.NUMBA_NUM_THREADS)
    previous = numba.get_num_threads()
    numba.set_num_threads(n)
    try:
        if limit_blas:
            with threadpool_limits(limits=1, user_api="blas"):
                yield n
        else:
            yield n
    finally:
        numba.set_num_threads(previous)


@contextlib.contextmanager
def blas_threads(n_threads: int | None = None) -> Iterator[int]:
    """Let BLAS use the configured thread count (internal), for BLAS-heavy paths."""
    from threadpoolctl import threadpool_limits

    n = get_num_threads() if n_threads is None else min(_check_n_threads(n_threads), _cpu_count())
    with threadpool_limits(limits=n, user_api="blas"):
        yield n
