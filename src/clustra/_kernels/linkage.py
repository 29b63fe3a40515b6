"""Hierarchical-clustering kernels: the nearest-neighbour chain on a matrix, the
Lance-Williams update, SciPy's cluster ids and flat cuts of a finished tree.

Method codes (shared with :mod:`clustra.cluster.hierarchy`): 0 single,
1 complete, 2 average, 3 weighted, 4 ward, 5 centroid, 6 median.

Distances are kept in a *condensed* float64 vector of length ``n(n-1)/2``
(:mod:`clustra._kernels.condensed`). The Lance-Williams updates use the very
formulas SciPy uses, in the same order, so the merge heights agree with
:func:`scipy.cluster.hierarchy.linkage` to the last bit and ties are broken the
same way (the first minimum in index order).

Elsewhere: Muellner's generic algorithm (centroid, median) in
:mod:`clustra._kernels.linkage_generic`; Ward from the observations in O(nd)
memory in :mod:`clustra._kernels.linkage_vector`.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

from clustra._kernels.condensed import row_starts
from clustra._kernels.jit import kernel
from clustra._kernels.unionfind import find, make_sets, union

SINGLE, COMPLETE, AVERAGE, WEIGHTED, WARD, CENTROID, MEDIAN = range(7)


@kernel(inline="always")
def new_distance(method, d_xi, d_yi, d_xy, size_x, size_y, size_i):
    """Lance-Williams update: distance from cluster i to the union of x and y (SciPy's formulas)."""
    if method == SINGLE:
        return min(d_xi, d_yi)
    if method == COMPLETE:
        return max(d_xi, d_yi)
    if method == AVERAGE:
        return (size_x * d_xi + size_y * d_yi) / (size_x + size_y)
    if method == WEIGHTED:
        return 0.5 * (d_xi + d_yi)
    if method == WARD:
        t = 1.0 / (size_x + size_y + size_i)
        return math.sqrt(
            (size_i + size_x) * t * d_xi * d_xi
            + (size_i + size_y) * t * d_yi * d_yi
            - size_i * t * d_xy * d_xy
        )
    if method == CENTROID:
        return math.sqrt(
            (
                ((size_x * d_xi * d_xi) + (size_y * d_yi * d_yi))
                - (size_x * size_y * d_xy * d_xy) / (size_x + size_y)
            )
            / (size_x + size_y)
        )
    # MEDIAN
    return math.sqrt(0.5 * (d_xi * d_xi + d_yi * d_yi) - 0.25 * d_xy * d_xy)


@kernel
def _row_minima(D, n, start, nn, nn_dist):
    """Every row's first minimum in index order, in one contiguous pass over ``D``.

    Row ``j`` is the pairs ``(i, j)``, ``i < j`` (seen first, while reading the
    rows above it) then ``(j, k)``, ``k > j``; a strict ``<`` keeps the first.
    """
    for i in range(n):
        nn[i] = -1
        nn_dist[i] = np.inf
    for i in range(n - 1):
        best = nn_dist[i]
        best_index = nn[i]
        row = start[i]
        for j in range(i + 1, n):
            dist = D[row + j]
            if dist < best:
                best = dist
                best_index = j
            if dist < nn_dist[j]:
                nn_dist[j] = dist
                nn[j] = i
        nn[i] = best_index
        nn_dist[i] = best


@kernel
def _rescan(D, start, active, n_active, x, nn, nn_dist):
    """Recompute the first minimum of row ``x`` over the live clusters ``active[:n_active]``."""
    best = np.inf
    best_index = -1
    t = 0
    # i < x: the pairs (i, x) lie down a column of the condensed matrix (strided).
    while t < n_active and active[t] < x:
        i = active[t]
        dist = D[start[i] + x]
        if dist < best:
            best = dist
            best_index = i
        t += 1
    t += 1  # x itself
    row = start[x]
    while t < n_active:
        i = active[t]
        dist = D[row + i]
        if dist < best:
            best = dist
            best_index = i
        t += 1
    nn[x] = best_index
    nn_dist[x] = best


@kernel(inline="always")
def _update_neighbour(nn, nn_dist, i, x, y, value):
    """Keep row ``i``'s cached first minimum right after ``(i, x)`` died and ``(i, y)``
    became ``value``; mark it stale (-1) when only a rescan can tell."""
    old = nn[i]
    if old < 0:
        return
    best = nn_dist[i]
    if old == x or old == y:
        if value < best or (old == y and value == best):
            nn[i] = y
            nn_dist[i] = value
        else:
            nn[i] = -1
    elif value < best or (value == best and y < old):
        nn[i] = y
        nn_dist[i] = value


MatrixChain = namedtuple("MatrixChain", ["D", "start", "active", "nn", "nn_dist", "values",
                                         "size"])
MatrixChain.__doc__ = """The nearest-neighbour chain's state on a condensed matrix: ``D``
(overwritten), ``start`` (:func:`clustra._kernels.condensed.row_starts`), the live
clusters ``active`` (ascending, int64), each cluster's cached first nearest neighbour
``nn`` (-1: stale) and its distance ``nn_dist``, float64 scratch ``values`` and the
cluster sizes ``size`` (float64, 0 for merged-away slots)."""


@kernel
def new_matrix_chain(D, n):
    """The :class:`MatrixChain` for ``n`` points with every row's neighbour cached.

    Each live cluster caches its nearest neighbour (the first minimum of its row
    in index order) and keeps it right through the Lance-Williams updates, so a
    row is scanned again only when its neighbour merged away; the chain then
    finds a neighbour in O(1) most of the time.
    """
    chain = MatrixChain(D, row_starts(n), np.arange(n), np.empty(n, dtype=np.int64),
                        np.empty(n, dtype=np.float64), np.empty(n, dtype=np.float64),
                        np.ones(n, dtype=np.float64))
    _row_minima(D, n, chain.start, chain.nn, chain.nn_dist)
    return chain


@kernel
def matrix_neighbour(m, n_active, x, previous):
    """``(y, height)``: the first nearest live cluster of ``x``; ``previous`` (the chain's
    link before ``x``, -1 for none) when it is as near, as SciPy keeps the previous link
    on a tie."""
    if m.nn[x] < 0:
        _rescan(m.D, m.start, m.active, n_active, x, m.nn, m.nn_dist)
    current_min = m.nn_dist[x]
    if previous >= 0 and m.D[m.start[min(x, previous)] + max(x, previous)] <= current_min:
        return previous, current_min
    return m.nn[x], current_min


@kernel
def merge_matrix(m, n_active, x, y, d_xy, method):
    """Merge ``x < y`` into slot ``y`` at height ``d_xy``; returns the new live count."""
    nx = m.size[x]
    ny = m.size[y]
    m.size[x] = 0.0
    m.size[y] = nx + ny
    _merge_rows(m, n_active, x, y, d_xy, nx, ny, method)
    return _remove_active(m.active, n_active, x)


@kernel
def _remove_active(active, n_active, x):
    """Drop ``x`` from the sorted ``active[:n_active]``; returns the new count."""
    t = np.searchsorted(active[:n_active], x)
    for s in range(t, n_active - 1):
        active[s] = active[s + 1]
    return n_active - 1


@kernel
def _merge_rows(m, n_active, x, y, d_xy, nx, ny, method):
    """Lance-Williams update of row ``y`` (the union of ``x < y``) over the live clusters,
    keeping every cached neighbour right and computing the union's own.

    ``values``: float64 scratch of length >= ``n_active``. The cached neighbours
    are checked in a second, contiguous pass: interleaved with the strided
    matrix accesses, their loads and branches slowed the update several times
    (benchmarks/results/dbscan-hierarchy-choices.md).
    """
    D, start, active, values, size = m.D, m.start, m.active, m.values, m.size
    nn, nn_dist = m.nn, m.nn_dist
    best = np.inf
    best_index = -1
    row_x = start[x]
    row_y = start[y]
    t = 0
    # Three index ranges, i < x < y, x < i < y, x < y < i, in three loops of one
    # shape: one loop would test the layout for every pair in the hottest loop.
    while active[t] < x:
        i = active[t]
        iy = start[i] + y
        value = new_distance(method, D[start[i] + x], D[iy], d_xy, nx, ny, size[i])
        D[iy] = value
        values[t] = value
        if value < best:
            best = value
            best_index = i
        t += 1
    values[t] = np.inf
    t += 1
    while active[t] < y:
        i = active[t]
        iy = start[i] + y
        value = new_distance(method, D[row_x + i], D[iy], d_xy, nx, ny, size[i])
        D[iy] = value
        values[t] = value
        if value < best:
            best = value
            best_index = i
        t += 1
    values[t] = np.inf
    t += 1
    while t < n_active:
        i = active[t]
        iy = row_y + i
        value = new_distance(method, D[row_x + i], D[iy], d_xy, nx, ny, size[i])
        D[iy] = value
        values[t] = value
        if value < best:
            best = value
            best_index = i
        t += 1
    for t in range(n_active):
        i = active[t]
        old = nn[i]
        if values[t] <= nn_dist[i] or old == x or old == y:
            _update_neighbour(nn, nn_dist, i, x, y, values[t])
    nn[y] = best_index
    nn_dist[y] = best


@kernel
def label_merges(Z, n):
    """Relabel raw merges in place with SciPy's cluster ids (point ids < n, merge k -> n + k).

    ``Z``: float64 (n-1, 4) whose first two columns hold any member of each
    merged cluster, rows already in their final order. Sets columns 0, 1
    (smaller id first) and 3 (size).
    """
    parent = make_sets(n)
    cluster_id = np.arange(n, dtype=np.int64)
    cluster_size = np.ones(n, dtype=np.int64)
    for k in range(n - 1):
        root_a = find(parent, np.int64(Z[k, 0]))
        root_b = find(parent, np.int64(Z[k, 1]))
        id_a = cluster_id[root_a]
        id_b = cluster_id[root_b]
        total = cluster_size[root_a] + cluster_size[root_b]
        Z[k, 0] = min(id_a, id_b)
        Z[k, 1] = max(id_a, id_b)
        Z[k, 3] = total
        union(parent, root_a, root_b)
        root = find(parent, root_a)
        cluster_id[root] = n + k
        cluster_size[root] = total
    return Z


# --- flat cuts of a finished linkage matrix ---


@kernel
def max_heights(Z, n):
    """Largest height in each merge's subtree (SciPy's ``MD``), float64 (n-1,)."""
    result = np.empty(n - 1, dtype=np.float64)
    for k in range(n - 1):
        value = Z[k, 2]
        for side in range(2):
            child = np.int64(Z[k, side])
            if child >= n and result[child - n] > value:
                value = result[child - n]
        result[k] = value
    return result


@kernel
def labels_from_rows(Z, n, keep):
    """Flat labels (int64 (n,), 0.. by first appearance) joining the merges with ``keep[k]``.

    ``keep``: bool (n-1,); it must be closed under taking children (a cut).
    """
    representative = np.empty(2 * n - 1, dtype=np.int64)
    for i in range(n):
        representative[i] = i
    parent = make_sets(n)
    for k in range(n - 1):
        a = representative[np.int64(Z[k, 0])]
        representative[n + k] = a
        if keep[k]:
            union(parent, a, representative[np.int64(Z[k, 1])])
    # Genie's cuts (clustra._kernels.genie) number their sets with this same loop; as a
    # shared njit helper it measured slower (benchmarks/results/shared-helpers.md).
    labels = np.full(n, -1, dtype=np.int64)
    root_label = np.full(n, -1, dtype=np.int64)
    next_label = 0
    for i in range(n):
        root = find(parent, i)
        if root_label[root] < 0:
            root_label[root] = next_label
            next_label += 1
        labels[i] = root_label[root]
    return labels
