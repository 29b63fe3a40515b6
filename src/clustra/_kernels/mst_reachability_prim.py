"""Prim's algorithm on mutual reachability distances (see :mod:`clustra._kernels.mst_reachability`).

- :func:`prim_reachability`: distances computed on the fly, any metric code,
  O(n) memory, O(n^2 d) time; one thread (each step waits for the previous one).
- :func:`prim_reachability_sqeuclidean`: the same edges for Euclidean data,
  vectorised over a compacted transposed copy.
- :func:`prim_dense`: on a dense distance matrix (``metric="precomputed"``).

All three return the unique minimum spanning tree of the strict edge order
``(weight, min(i, j), max(i, j))``, as ``(low, high, weight)``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from clustra._kernels.distances import rdist
from clustra._kernels.mst_reachability import edge_less


@njit(cache=True)
def prim_reachability(X, core, code, p, alpha_r):
    """Prim on mutual reachability distances computed on the fly.

    ``X``: float64 (n, d), C-contiguous; ``core``: float64 (n,) reduced core
    distances; ``code``/``p``: metric (:func:`clustra._kernels.distances.metric_code`);
    ``alpha_r``: alpha in reduced units. Every vertex outside the tree keeps its
    best edge to the tree under the order ``(weight, low, high)``, so the
    result is the unique tree of that order. Returns ``(low, high, weight)``.
    """
    n = X.shape[0]
    low_out = np.empty(n - 1, dtype=np.int64)
    high_out = np.empty(n - 1, dtype=np.int64)
    weight_out = np.empty(n - 1, dtype=np.float64)
    remaining = np.arange(1, n)
    best = np.full(n, np.inf)
    best_low = np.full(n, n, dtype=np.int64)
    best_high = np.full(n, n, dtype=np.int64)
    m = n - 1
    x = 0
    for k in range(n - 1):
        core_x = core[x]
        position = -1
        pick_w = np.inf
        pick_low = n
        pick_high = n
        for t in range(m):
            i = remaining[t]
            w = rdist(X[x], X[i], code, p) / alpha_r
            if core_x > w:
                w = core_x
            if core[i] > w:
                w = core[i]
            low = min(x, i)
            high = max(x, i)
            if edge_less(w, low, high, best[i], best_low[i], best_high[i]):
                best[i] = w
                best_low[i] = low
                best_high[i] = high
            if position < 0 or edge_less(best[i], best_low[i], best_high[i], pick_w, pick_low,
                                          pick_high):
                position = t
                pick_w = best[i]
                pick_low = best_low[i]
                pick_high = best_high[i]
        y = remaining[position]
        low_out[k] = pick_low
        high_out[k] = pick_high
        weight_out[k] = pick_w
        m -= 1
        remaining[position] = remaining[m]
        x = y
    return low_out, high_out, weight_out


@njit(cache=True)
def prim_dense(D, core, alpha):
    """Prim on a dense (n, n) float64 distance matrix (true units), same order and output
    as :func:`prim_reachability`; ``core`` true units, weights ``max(core_i, core_j, D/alpha)``."""
    n = D.shape[0]
    low_out = np.empty(n - 1, dtype=np.int64)
    high_out = np.empty(n - 1, dtype=np.int64)
    weight_out = np.empty(n - 1, dtype=np.float64)
    remaining = np.arange(1, n)
    best = np.full(n, np.inf)
    best_low = np.full(n, n, dtype=np.int64)
    best_high = np.full(n, n, dtype=np.int64)
    m = n - 1
    x = 0
    for k in range(n - 1):
        position = -1
        pick_w = np.inf
        pick_low = n
        pick_high = n
        for t in range(m):
            i = remaining[t]
            w = max(D[x, i] / alpha, core[x], core[i])
            low = min(x, i)
            high = max(x, i)
            if edge_less(w, low, high, best[i], best_low[i], best_high[i]):
                best[i] = w
                best_low[i] = low
                best_high[i] = high
            if position < 0 or edge_less(best[i], best_low[i], best_high[i], pick_w, pick_low,
                                          pick_high):
                position = t
                pick_w = best[i]
                pick_low = best_low[i]
                pick_high = best_high[i]
        low_out[k] = pick_low
        high_out[k] = pick_high
        weight_out[k] = pick_w
        m -= 1
        x = remaining[position]
        remaining[position] = remaining[m]
    return low_out, high_out, weight_out


@njit(cache=True)
def prim_reachability_sqeuclidean(X, core, alpha_r):
    """:func:`prim_reachability` for squared Euclidean, vectorised: same edges, faster.

    The vertices not yet in the tree stay compacted in a transposed copy
    (swap-remove), so step k scans ``n - 1 - k`` contiguous columns and the
    distance loop (vertices innermost) vectorises; each distance still sums
    its features in order from 0.0, the same bits as the scalar version.
    ``X`` float64 (n, d); ``core`` reduced (n,); O(n d) extra memory.
    """
    n, d = X.shape
    low_out = np.empty(n - 1, dtype=np.int64)
    high_out = np.empty(n - 1, dtype=np.int64)
    weight_out = np.empty(n - 1, dtype=np.float64)
    m = n - 1
    XT = np.empty((d, max(m, 1)), dtype=np.float64)
    for t in range(m):
        for j in range(d):
            XT[j, t] = X[t + 1, j]
    order = np.arange(1, n)
    core_c = core[1:].copy()
    best = np.full(max(m, 1), np.inf)
    best_low = np.full(max(m, 1), n, dtype=np.int64)
    best_high = np.full(max(m, 1), n, dtype=np.int64)
    partial = np.empty(max(m, 1), dtype=np.float64)
    inv_alpha_r = 1.0 / alpha_r
    x = 0
    for k in range(n - 1):
        xrow = X[x]
        core_x = core[x]
        part = partial[:m]
        part[:] = 0.0
        for j in range(d):
            value = xrow[j]
            column = XT[j, :m]
            for t in range(m):
                diff = column[t] - value
                part[t] += diff * diff
        position = -1
        pick_w = np.inf
        pick_low = n
        pick_high = n
        for t in range(m):
            i = order[t]
            w = part[t] * inv_alpha_r
            if core_x > w:
                w = core_x
            if core_c[t] > w:
                w = core_c[t]
            low = min(x, i)
            high = max(x, i)
            if edge_less(w, low, high, best[t], best_low[t], best_high[t]):
                best[t] = w
                best_low[t] = low
                best_high[t] = high
            if position < 0 or edge_less(best[t], best_low[t], best_high[t], pick_w, pick_low,
                                          pick_high):
                position = t
                pick_w = best[t]
                pick_low = best_low[t]
                pick_high = best_high[t]
        low_out[k] = pick_low
        high_out[k] = pick_high
        weight_out[k] = pick_w
        x = order[position]
        m -= 1
        if position != m:
            for j in range(d):
                XT[j, position] = XT[j, m]
            order[position] = order[m]
            core_c[position] = core_c[m]
            best[position] = best[m]
            best_low[position] = best_low[m]
            best_high[position] = best_high[m]
    return low_out, high_out, weight_out
