"""The decorators of clustra's kernels: numba's ``njit`` with only the wrappers a kernel needs.

For every compiled function numba also builds, by default, a wrapper that
Python calls it through and one that C calls it through, each lowered,
optimised and turned into machine code on first use. The C one is never used
here; the Python one only by a kernel that Python calls. Leaving out what is
not called shortens the first fit's compilation
(benchmarks/results/coldstart.md). Both cache what they compile on disk, as
``cache=True`` does, in a cache that several processes can fill at once
(:mod:`clustra._kernels.cache`).
"""

from __future__ import annotations

from numba import njit

from clustra._kernels.cache import SharedCache


def kernel(function=None, **options):
    """``njit(cache=True, nogil=True)`` for a kernel Python calls: no C wrapper.

    Every kernel releases the GIL (the block kernels run on Python threads), and
    all share one set of flags: numba compiles its own numpy helpers once per
    set of the caller's flags. Used bare (``@kernel``) or with numba's other
    options (``@kernel(parallel=True)``).
    """
    options = {"no_cfunc_wrapper": True, "nogil": True, **options}

    def build(py_func):
        dispatcher = njit(py_func, **options)
        dispatcher._cache = SharedCache(py_func)  # what numba's enable_caching() sets
        return dispatcher

    return build if function is None else build(function)


def inner(function=None, **options):
    """:func:`kernel` for a function only other kernels call: no Python wrapper either.

    Calling one from Python crashes the interpreter (numba calls the missing
    wrapper): tests reach one through a small ``@njit`` function of their own.
    """
    options = {"no_cpython_wrapper": True, **options}
    return kernel(**options) if function is None else kernel(function, **options)
