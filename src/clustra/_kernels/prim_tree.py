"""Prim's algorithm that returns the tree's own edges, for the mutual reachability too.

:mod:`clustra._kernels.mst`'s Prim follows SciPy's single linkage and records
each new vertex with the vertex added just before it: the right merges for a
linkage matrix, but not the tree's edges. Genie merges along the edges
themselves, so these kernels keep, for every vertex outside the tree, the tree
vertex its best edge comes from.

Weights are ``max(rdist(i, j), core[i], core[j])`` in reduced units (pass
zeros as ``core`` for the metric itself). Ties: a vertex's best edge is the
smallest ``(weight, rdist)``, the first found among equals (in
:func:`prim_tree_metric` the lower tree-end row); the next vertex the
smallest ``(weight, rdist, row)``. Among equal mutual reachability distances
the pair closer in the metric thus wins. Both grow from row 0, take O(n^2 d)
time and O(n d) memory, and return ``(from, to, weight)``: int64, int64, float64, each (n-1,).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from clustra._kernels.distances import rdist


@njit(cache=True, inline="always")
def _before(value, raw, row, best_value, best_raw, best_row):
    """Strict order on (weight, raw distance, row)."""
    if value != best_value:
        return value < best_value
    if raw != best_raw:
        return raw < best_raw
    return row < best_row


@njit(cache=True)
def prim_tree_metric(X, core, code, p):
    """Prim with ``rdist(X[i], X[j], code, p)`` on the fly; ``X`` float64 (n, d) C-contiguous."""
    n = X.shape[0]
    source = np.empty(n - 1, dtype=np.int64)
    target = np.empty(n - 1, dtype=np.int64)
    weight = np.empty(n - 1, dtype=np.float64)
    best = np.full(n, np.inf)
    best_raw = np.full(n, np.inf)
    best_from = np.zeros(n, dtype=np.int64)
    remaining = np.arange(1, n)
    n_remaining = n - 1
    x = 0
    for step in range(n - 1):
        position = 0
        for t in range(n_remaining):
            i = remaining[t]
            raw = rdist(X[x], X[i], code, p)
            value = max(raw, core[x], core[i])
            if _before(value, raw, x, best[i], best_raw[i], best_from[i]):
                best[i] = value
                best_raw[i] = raw
                best_from[i] = x
            j = remaining[position]
            if t > 0 and _before(best[i], best_raw[i], i, best[j], best_raw[j], j):
                position = t
        y = remaining[position]
        source[step] = best_from[y]
        target[step] = y
        weight[step] = best[y]
        remaining[position] = remaining[n_remaining - 1]
        n_remaining -= 1
        x = y
    return source, target, weight


@njit(cache=True)
def _relax_plain(work, x, best, best_raw, best_from):
    """Relax with the metric itself (branch-free select, so it vectorises)."""
    for t in range(work.shape[0]):
        if work[t] < best[t]:
            best[t] = work[t]
            best_raw[t] = work[t]
            best_from[t] = x


@njit(cache=True)
def _relax_mutual(work, x, core_x, core_of, best, best_raw, best_from):
    """Relax with the mutual reachability distance, ties to the smaller raw distance."""
    for t in range(work.shape[0]):
        raw = work[t]
        value = max(raw, core_x, core_of[t])
        if value < best[t] or (value == best[t] and raw < best_raw[t]):
            best[t] = value
            best_raw[t] = raw
            best_from[t] = x


_BLOCK = 1024  # vertices per block: the block's distances stay in L1 across features


@njit(cache=True)
def _scan_block(XT, row, x, start, end, scratch, core_x, core_of, best, best_raw, best_from,
                order, plain):
    """Relax vertices ``start:end`` from ``x``; return the block's best position."""
    width = end - start
    work = scratch[:width]
    work[:] = 0.0
    for j in range(XT.shape[0]):
        value = row[j]
        column = XT[j, start:end]
        for t in range(width):
            diff = column[t] - value
            work[t] += diff * diff
    if plain:
        _relax_plain(work, x, best[start:end], best_raw[start:end], best_from[start:end])
    else:
        _relax_mutual(work, x, core_x, core_of[start:end], best[start:end],
                      best_raw[start:end], best_from[start:end])
    position = start
    for t in range(start + 1, end):
        if _before(best[t], best_raw[t], order[t], best[position], best_raw[position],
                   order[position]):
            position = t
    return position


@njit(cache=True)
def prim_tree_sqeuclidean(X, core):
    """As :func:`prim_tree_metric` for squared Euclidean, vectorised.

    The vertices not yet in the tree stay compacted in a transposed copy
    (swap-remove), scanned in blocks of ``_BLOCK`` contiguous columns whose
    distances stay in L1 while the features are added (each distance sums
    its features from 0.0 in order, the bits of ``rdist_sqeuclidean``). With
    all core distances zero the relaxation is a plain minimum that vectorises.
    One thread: every step waits for the previous one.
    """
    n, d = X.shape
    source = np.empty(n - 1, dtype=np.int64)
    target = np.empty(n - 1, dtype=np.int64)
    weight = np.empty(n - 1, dtype=np.float64)
    plain = not np.any(core != 0.0)
    m = n - 1
    width = max(m, 1)
    XT = np.empty((d, width), dtype=np.float64)
    for t in range(m):
        for j in range(d):
            XT[j, t] = X[t + 1, j]
    order = np.arange(1, n)
    core_of = np.empty(width, dtype=np.float64)
    core_of[:m] = core[1:]
    best = np.full(width, np.inf)
    best_raw = np.full(width, np.inf)
    best_from = np.zeros(width, dtype=np.int64)
    scratch = np.empty(_BLOCK, dtype=np.float64)
    x = 0
    for step in range(n - 1):
        row = X[x]
        position = -1
        for start in range(0, m, _BLOCK):
            found = _scan_block(XT, row, x, start, min(m, start + _BLOCK), scratch, core[x],
                                core_of, best, best_raw, best_from, order, plain)
            if position < 0 or _before(best[found], best_raw[found], order[found],
                                       best[position], best_raw[position], order[position]):
                position = found
        y = order[position]
        source[step] = best_from[position]
        target[step] = y
        weight[step] = best[position]
        m -= 1
        if position != m:
            for j in range(d):
                XT[j, position] = XT[j, m]
            best[position] = best[m]
            best_raw[position] = best_raw[m]
            best_from[position] = best_from[m]
            core_of[position] = core_of[m]
            order[position] = order[m]
        x = y
    return source, target, weight


@njit(cache=True)
def prim_tree_dense(D, core):
    """As :func:`prim_tree_metric` on a square distance matrix ``D`` (float64 (n, n)).

    Weights are ``max(D[i, j], core[i], core[j])`` in ``D``'s own units.
    """
    n = D.shape[0]
    source = np.empty(n - 1, dtype=np.int64)
    target = np.empty(n - 1, dtype=np.int64)
    weight = np.empty(n - 1, dtype=np.float64)
    best = np.full(n, np.inf)
    best_raw = np.full(n, np.inf)
    best_from = np.zeros(n, dtype=np.int64)
    remaining = np.arange(1, n)
    n_remaining = n - 1
    x = 0
    for step in range(n - 1):
        position = 0
        for t in range(n_remaining):
            i = remaining[t]
            raw = D[x, i]
            value = max(raw, core[x], core[i])
            if _before(value, raw, x, best[i], best_raw[i], best_from[i]):
                best[i] = value
                best_raw[i] = raw
                best_from[i] = x
            j = remaining[position]
            if t > 0 and _before(best[i], best_raw[i], i, best[j], best_raw[j], j):
                position = t
        y = remaining[position]
        source[step] = best_from[y]
        target[step] = y
        weight[step] = best[y]
        remaining[position] = remaining[n_remaining - 1]
        n_remaining -= 1
        x = y
    return source, target, weight
