"""Minimum spanning trees for single linkage.

- :func:`prim_condensed`: Prim's algorithm on a condensed distance vector.
- :func:`prim_observations`: Prim's algorithm with distances computed on the
  fly from the observations (O(n) extra memory, any metric leaf), its scan split
  into fixed-size blocks run in parallel and combined in block order (so the
  tree does not depend on the number of threads).

Both follow SciPy's ``mst_single_linkage`` step for step (grow from point 0,
take the first minimum in index order), so the edges, and after a stable sort
by weight the linkage matrix, are those SciPy produces. Edges come back as
``(from, to, weight)``: ``from``/``to`` int64 (n-1,), ``weight`` float64 (n-1,).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

_BLOCK = 4096
# Waking the thread pool costs tens of microseconds (far more on a busy
# machine): below this many remaining points one thread scans faster.
_PARALLEL_MIN = 65536


@njit(cache=True)
def prim_condensed(D, n):
    """Prim on a condensed vector ``D`` (float64, n(n-1)/2); returns (from, to, weight)."""
    source = np.empty(n - 1, dtype=np.int64)
    target = np.empty(n - 1, dtype=np.int64)
    weight = np.empty(n - 1, dtype=np.float64)
    best = np.full(n, np.inf)
    remaining = np.arange(1, n)
    n_remaining = n - 1
    x = 0
    for k in range(n - 1):
        current_min = np.inf
        position = 0
        for t in range(n_remaining):
            i = remaining[t]
            if x < i:
                dist = D[n * x - (x * (x + 1)) // 2 + (i - x - 1)]
            else:
                dist = D[n * i - (i * (i + 1)) // 2 + (x - i - 1)]
            if best[i] > dist:
                best[i] = dist
            if best[i] < current_min:
                current_min = best[i]
                position = t
        y = remaining[position]
        source[k] = x
        target[k] = y
        weight[k] = current_min
        remaining[position:n_remaining - 1] = remaining[position + 1:n_remaining]
        n_remaining -= 1
        x = y
    return source, target, weight


@njit(cache=True)
def _prim_scan_serial(X, leaf, p, x, remaining, n_remaining, best):
    """Relax distances from ``x``; return the position of the first minimum and its value."""
    local_min = np.inf
    local_position = 0
    for t in range(n_remaining):
        i = remaining[t]
        dist = leaf(X[x], X[i], p)
        if best[i] > dist:
            best[i] = dist
        if best[i] < local_min:
            local_min = best[i]
            local_position = t
    return local_position, local_min


@njit(cache=True, parallel=True)
def _prim_scan(X, leaf, p, x, remaining, n_remaining, best, block_min, block_position):
    """Relax distances from ``x`` and find each block's first minimum."""
    n_blocks = (n_remaining + _BLOCK - 1) // _BLOCK
    for b in prange(n_blocks):
        start = b * _BLOCK
        stop = min(start + _BLOCK, n_remaining)
        local_min = np.inf
        local_position = start
        for t in range(start, stop):
            i = remaining[t]
            dist = leaf(X[x], X[i], p)
            if best[i] > dist:
                best[i] = dist
            if best[i] < local_min:
                local_min = best[i]
                local_position = t
        block_min[b] = local_min
        block_position[b] = local_position
    return n_blocks


@njit(cache=True)
def prim_observations(X, leaf, p):
    """Prim with reduced distances ``leaf(X[i], X[j], p)`` computed on the fly.

    ``X``: float32/float64 (n, d), C-contiguous. Weights are reduced distances
    (convert with ``rdist_to_dist``). O(n^2 d) time, O(n) extra memory.
    """
    n = X.shape[0]
    source = np.empty(n - 1, dtype=np.int64)
    target = np.empty(n - 1, dtype=np.int64)
    weight = np.empty(n - 1, dtype=np.float64)
    best = np.full(n, np.inf)
    remaining = np.arange(1, n)
    n_remaining = n - 1
    max_blocks = (n + _BLOCK - 1) // _BLOCK
    block_min = np.empty(max_blocks, dtype=np.float64)
    block_position = np.empty(max_blocks, dtype=np.int64)
    x = 0
    for k in range(n - 1):
        if n_remaining < _PARALLEL_MIN:
            position, current_min = _prim_scan_serial(X, leaf, p, x, remaining, n_remaining, best)
        else:
            n_blocks = _prim_scan(X, leaf, p, x, remaining, n_remaining, best, block_min,
                                  block_position)
            current_min = np.inf
            position = block_position[0]
            for b in range(n_blocks):
                if block_min[b] < current_min:
                    current_min = block_min[b]
                    position = block_position[b]
        y = remaining[position]
        source[k] = x
        target[k] = y
        weight[k] = current_min
        remaining[position:n_remaining - 1] = remaining[position + 1:n_remaining]
        n_remaining -= 1
        x = y
    return source, target, weight
