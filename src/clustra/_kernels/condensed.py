"""Condensed distance vectors: the layout of :func:`scipy.spatial.distance.pdist`.

The pair ``(i, j)``, ``i < j``, of ``n`` points sits at position
``n i - i (i + 1) / 2 + j - i - 1`` of a float64 vector of length ``n(n-1)/2``.
:func:`condensed_distances` fills one in parallel over fixed blocks of rows.
"""

from __future__ import annotations

import math

import numpy as np

from clustra._kernels.blocks import run_blocks
from clustra._kernels.distances import SQEUCLIDEAN, rdist
from clustra._kernels.jit import kernel


@kernel(inline="always")
def condensed_index(n, i, j):
    """Position of the pair ``(i, j)``, ``i != j``, in a condensed vector for ``n`` points."""
    if i > j:
        i, j = j, i
    return n * i - (i * (i + 1)) // 2 + (j - i - 1)


@kernel(inline="always")
def _finish_rdist(value, kind, p):
    """Reduced distance -> distance: kind 0 identity, 1 sqrt, 2 power 1/p, 3 haversine."""
    if kind == 1:
        return math.sqrt(value)
    if kind == 2:
        return value ** (1.0 / p)
    if kind == 3:
        return 2.0 * math.asin(math.sqrt(min(max(value, 0.0), 1.0)))
    return value


_CHUNK = 256  # columns per pass of the feature loop: the partial sums stay in L1


@kernel
def _sqeuclidean_rows(X, XT, take_sqrt, lo, hi, out):
    """Rows ``lo..hi-1`` of the condensed Euclidean (or squared) distances.

    Loops over the features outside and over the pairs inside, so the inner
    loop vectorises; each pair still sums its squared differences in feature
    order, exactly as :func:`clustra._kernels.distances.rdist_sqeuclidean`.
    """
    n, d = X.shape
    partial = np.empty(_CHUNK, dtype=np.float64)
    for i in range(lo, hi):
        row = n * i - (i * (i + 1)) // 2 - i - 1
        for first in range(i + 1, n, _CHUNK):
            width = min(_CHUNK, n - first)
            for c in range(width):
                partial[c] = 0.0
            for f in range(d):
                x_f = X[i, f]
                column = XT[f]
                for c in range(width):
                    diff = x_f - column[first + c]
                    partial[c] += diff * diff
            if take_sqrt:
                for c in range(width):
                    out[row + first + c] = math.sqrt(partial[c])
            else:
                for c in range(width):
                    out[row + first + c] = partial[c]


@kernel
def _distance_rows(X, code, p, kind, lo, hi, out):
    """Rows ``lo..hi-1`` of the condensed distances for any metric code."""
    n = X.shape[0]
    for i in range(lo, hi):
        row = n * i - (i * (i + 1)) // 2 - i - 1
        for j in range(i + 1, n):
            out[row + j] = _finish_rdist(rdist(X[i], X[j], code, p), kind, p)


@kernel
def _condensed_blocks(X, XT, code, p, kind, bounds, out, begin, end):
    """Blocks [begin, end) of :func:`condensed_distances`."""
    for block in range(begin, end):
        if code == SQEUCLIDEAN:
            _sqeuclidean_rows(X, XT, kind == 1, bounds[block], bounds[block + 1], out)
        else:
            _distance_rows(X, code, p, kind, bounds[block], bounds[block + 1], out)
    return 0


def condensed_distances(X, XT, code, p, kind, bounds, out):
    """Fill ``out`` (float64, length n(n-1)/2) with the condensed distances of the rows of ``X``.

    ``X``: float64, shape (n, d), C-contiguous; ``XT`` its transpose, C-contiguous
    (used for the Euclidean metrics). ``code`` is a metric code of
    :func:`clustra._kernels.distances.metric_code`, ``kind`` its conversion to the
    true distance (see :func:`_finish_rdist`). ``bounds``: int64, the first row of
    each of a fixed number of blocks holding about as many pairs each, then n;
    every block writes its own rows, so the result does not depend on the
    threads. ``out`` is best allocated by NumPy, which asks the kernel for huge
    pages: the linkage that follows reads it with long strides.
    """
    run_blocks(_condensed_blocks, bounds.shape[0] - 1, X, XT, code, p, kind, bounds, out)
    return out


@kernel
def row_starts(n):
    """``start[i]``: the pair ``(i, j)``, ``i < j``, is at ``start[i] + j`` (int64 (n,))."""
    start = np.empty(n, dtype=np.int64)
    for i in range(n):
        start[i] = n * i - (i * (i + 1)) // 2 - i - 1
    return start
