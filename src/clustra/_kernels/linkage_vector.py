"""Linkage from the observations in O(nd) memory: cluster centres and sizes, no matrix.

- :func:`ward_vector`: NN-chain with Ward's criterion computed from centres,
  ``sqrt(2 |A||B| / (|A|+|B|)) * ||c_A - c_B||``.
- :func:`centroid_median_vector`: Muellner's generic algorithm with centres
  updated as weighted means (centroid) or midpoints (median).

Both break ties as their matrix twins in :mod:`clustra._kernels.linkage`; the
heights agree with SciPy's to rounding (a different formula, so with exact ties
in the data a different, equally valid, tree may come out).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from clustra._kernels.linkage import (
    CENTROID,
    _heap_change,
    _heap_init,
    _heap_sift_down,
    _heap_swap,
)


@njit(cache=True, inline="always")
def _sq_gap(centres, x, i):
    total = 0.0
    for j in range(centres.shape[1]):
        diff = centres[x, j] - centres[i, j]
        total += diff * diff
    return total


@njit(cache=True)
def _ward_scan(packed, packed_size, n_packed, px, gap, current_min, y):
    """Nearest live cluster to packed column ``px`` in Ward's criterion.

    ``packed``: float64 (d, m), the live clusters' centres column by column in
    index order, so the inner loop runs over contiguous memory and vectorises.
    Returns (half the squared height, packed column) of the first minimum.
    """
    n_features = packed.shape[0]
    for t in range(n_packed):
        gap[t] = 0.0
    for j in range(n_features):
        centre_j = packed[j, px]
        row = packed[j]
        for t in range(n_packed):
            diff = row[t] - centre_j
            gap[t] += diff * diff
    nx = packed_size[px]
    for t in range(n_packed):
        ni = packed_size[t]
        if ni == 0.0 or t == px:
            continue
        dist = gap[t] * (nx * ni / (nx + ni))
        if dist < current_min:
            current_min = dist
            y = t
    return current_min, y


@njit(cache=True)
def _ward_pair(packed, packed_size, a, b):
    total = 0.0
    for j in range(packed.shape[0]):
        diff = packed[j, b] - packed[j, a]
        total += diff * diff
    na = packed_size[a]
    nb = packed_size[b]
    return total * (na * nb / (na + nb))


@njit(cache=True)
def _ward_compact(packed, packed_size, packed_slot, n_packed, chain, chain_length):
    """Drop dead columns (size 0) keeping order; renumber the chain's columns."""
    new_position = np.empty(n_packed, dtype=np.int64)
    kept = 0
    for t in range(n_packed):
        new_position[t] = kept
        if packed_size[t] > 0.0:
            if kept != t:
                for j in range(packed.shape[0]):
                    packed[j, kept] = packed[j, t]
                packed_size[kept] = packed_size[t]
                packed_slot[kept] = packed_slot[t]
            kept += 1
    for c in range(chain_length):
        chain[c] = new_position[chain[c]]
    return kept


@njit(cache=True)
def ward_vector(X):
    """Ward linkage by NN-chain from the observations, O(nd) memory.

    ``X``: float64 (n, d), C-contiguous (not modified). The distance between
    clusters A, B is ``sqrt(2 |A||B| / (|A|+|B|)) * ||c_A - c_B||``, equal to
    SciPy's Lance-Williams Ward on Euclidean distances. The chain visits and
    breaks ties exactly as :func:`nn_chain` (first minimum in index order).
    Returns raw merges as :func:`nn_chain` does.
    """
    n = X.shape[0]
    n_features = X.shape[1]
    packed = np.empty((n_features, n), dtype=np.float64)
    for i in range(n):
        for j in range(n_features):
            packed[j, i] = X[i, j]
    packed_size = np.ones(n, dtype=np.float64)
    packed_slot = np.arange(n)
    gap = np.empty(n, dtype=np.float64)
    n_packed = n
    n_dead = 0
    Z = np.empty((n - 1, 4), dtype=np.float64)
    chain = np.empty(n, dtype=np.int64)  # packed columns
    chain_length = 0
    for k in range(n - 1):
        if chain_length == 0:
            chain_length = 1
            for t in range(n_packed):
                if packed_size[t] > 0.0:
                    chain[0] = t
                    break
        x = 0
        y = 0
        current_min = np.inf
        while True:
            x = chain[chain_length - 1]
            current_min = np.inf
            if chain_length > 1:
                y = chain[chain_length - 2]
                current_min = _ward_pair(packed, packed_size, x, y)
            current_min, y = _ward_scan(packed, packed_size, n_packed, x, gap, current_min, y)
            if chain_length > 1 and y == chain[chain_length - 2]:
                break
            chain[chain_length] = y
            chain_length += 1
        chain_length -= 2
        if x > y:  # packed order is index order
            x, y = y, x
        nx = packed_size[x]
        ny = packed_size[y]
        Z[k, 0] = packed_slot[x]
        Z[k, 1] = packed_slot[y]
        Z[k, 2] = math.sqrt(2.0 * current_min)
        Z[k, 3] = nx + ny
        for j in range(packed.shape[0]):
            packed[j, y] = (nx * packed[j, x] + ny * packed[j, y]) / (nx + ny)
        packed_size[x] = 0.0
        packed_size[y] = nx + ny
        n_dead += 1
        if 4 * n_dead > n_packed:
            n_packed = _ward_compact(packed, packed_size, packed_slot, n_packed, chain,
                                     chain_length)
            n_dead = 0
    return Z


@njit(cache=True)
def _centre_min_above(centres, size, x):
    n = centres.shape[0]
    best = -1
    best_dist = np.inf
    for i in range(x + 1, n):
        if size[i] == 0:
            continue
        dist = _sq_gap(centres, x, i)
        if dist < best_dist:
            best_dist = dist
            best = i
    return best, best_dist


@njit(cache=True)
def centroid_median_vector(X, method):
    """Generic algorithm for centroid (5) or median (6) from the observations, O(nd) memory.

    ``X``: float64 (n, d), C-contiguous (not modified). Cluster centres are the
    size-weighted mean (centroid) or the midpoint of the two merged centres
    (median); the height is the Euclidean distance between centres. Returns the
    final linkage matrix (SciPy ids, merge order).
    """
    n = X.shape[0]
    centres = X.copy()
    Z = np.empty((n - 1, 4), dtype=np.float64)
    size = np.ones(n, dtype=np.int64)
    cluster_id = np.arange(n, dtype=np.int64)
    neighbor = np.empty(n - 1, dtype=np.int64)
    min_dist = np.empty(n - 1, dtype=np.float64)
    for x in range(n - 1):
        neighbor[x], min_dist[x] = _centre_min_above(centres, size, x)
    values, key_at, index_of = _heap_init(min_dist)
    heap_size = n - 1
    for k in range(n - 1):
        x = 0
        y = 0
        dist = 0.0
        for _ in range(n - k):
            x = key_at[0]
            dist = values[0]
            y = neighbor[x]
            if size[y] > 0 and dist == _sq_gap(centres, x, y):
                break
            y, dist = _centre_min_above(centres, size, x)
            neighbor[x] = y
            min_dist[x] = dist
            _heap_change(values, key_at, index_of, heap_size, x, dist)
        _heap_swap(values, key_at, index_of, 0, heap_size - 1)
        heap_size -= 1
        _heap_sift_down(values, key_at, index_of, heap_size, 0)
        id_x = cluster_id[x]
        id_y = cluster_id[y]
        nx = size[x]
        ny = size[y]
        Z[k, 0] = min(id_x, id_y)
        Z[k, 1] = max(id_x, id_y)
        Z[k, 2] = math.sqrt(dist)
        Z[k, 3] = nx + ny
        for j in range(centres.shape[1]):
            if method == CENTROID:
                centres[y, j] = (nx * centres[x, j] + ny * centres[y, j]) / (nx + ny)
            else:
                centres[y, j] = 0.5 * (centres[x, j] + centres[y, j])
        size[x] = 0
        size[y] = nx + ny
        cluster_id[y] = n + k
        for z in range(x):
            if size[z] > 0 and neighbor[z] == x:
                neighbor[z] = y
        for z in range(y):
            if size[z] == 0:
                continue
            d_zy = _sq_gap(centres, z, y)
            if d_zy < min_dist[z]:
                neighbor[z] = y
                min_dist[z] = d_zy
                _heap_change(values, key_at, index_of, heap_size, z, d_zy)
        if y < n - 1:
            z, d_zy = _centre_min_above(centres, size, y)
            if z != -1:
                neighbor[y] = z
                min_dist[y] = d_zy
                _heap_change(values, key_at, index_of, heap_size, y, d_zy)
    return Z
