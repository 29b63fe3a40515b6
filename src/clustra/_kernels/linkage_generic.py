"""Muellner's generic algorithm: any method, from a distance matrix or from centres.

Used for centroid and median linkage, whose heights need not grow from merge
to merge, so the nearest-neighbour chain does not apply. Each cluster keeps a
candidate nearest neighbour among larger indices and a lower bound of its
distance in a heap (SciPy's layout, so ties pop in the same order);
candidates are refreshed only when popped stale.

One loop serves two sources of distances: a condensed matrix updated by the
Lance-Williams formulas (:func:`generic_linkage`, SciPy's heights to the last
bit), or cluster centres and sizes, O(n d) memory (:func:`generic_linkage_centres`,
heights equal to SciPy's to rounding).
"""

from __future__ import annotations

import math

import numpy as np

from clustra._kernels.condensed import condensed_index
from clustra._kernels.jit import kernel
from clustra._kernels.linkage import CENTROID, new_distance


@kernel(inline="always")
def _heap_swap(values, key_at, index_of, i, j):
    values[i], values[j] = values[j], values[i]
    key_i = key_at[i]
    key_at[i] = key_at[j]
    key_at[j] = key_i
    index_of[key_at[i]] = i
    index_of[key_at[j]] = j


@kernel
def _heap_sift_down(values, key_at, index_of, heap_size, index):
    child = 2 * index + 1
    while child < heap_size:
        if child + 1 < heap_size and values[child + 1] < values[child]:
            child += 1
        if values[index] > values[child]:
            _heap_swap(values, key_at, index_of, index, child)
            index = child
            child = 2 * index + 1
        else:
            break


@kernel
def _heap_sift_up(values, key_at, index_of, index):
    parent = (index - 1) >> 1
    while index > 0 and values[parent] > values[index]:
        _heap_swap(values, key_at, index_of, index, parent)
        index = parent
        parent = (index - 1) >> 1


@kernel
def _heap_change(values, key_at, index_of, heap_size, key, value):
    index = index_of[key]
    old = values[index]
    values[index] = value
    if value < old:
        _heap_sift_up(values, key_at, index_of, index)
    else:
        _heap_sift_down(values, key_at, index_of, heap_size, index)


@kernel
def _heap_init(min_dist):
    m = min_dist.shape[0]
    values = min_dist.copy()
    key_at = np.arange(m)
    index_of = np.arange(m)
    for i in range(m // 2 - 1, -1, -1):
        _heap_sift_down(values, key_at, index_of, m, i)
    return values, key_at, index_of


@kernel(inline="always")
def _sq_gap(centres, x, i):
    total = 0.0
    for j in range(centres.shape[1]):
        diff = centres[x, j] - centres[i, j]
        total += diff * diff
    return total


@kernel(inline="always")
def _pair(D, centres, n, from_centres, x, y):
    """The distance the heap orders by: the matrix entry, or the squared centre gap."""
    if from_centres:
        return _sq_gap(centres, x, y)
    return D[condensed_index(n, x, y)]


@kernel
def _min_above(D, centres, n, from_centres, size, x):
    """Nearest live cluster with index > x: (index or -1, distance)."""
    best = -1
    best_dist = np.inf
    if from_centres:
        for i in range(x + 1, n):
            if size[i] == 0:
                continue
            dist = _sq_gap(centres, x, i)
            if dist < best_dist:
                best_dist = dist
                best = i
        return best, best_dist
    start = condensed_index(n, x, x + 1) - (x + 1) if x + 1 < n else 0
    for i in range(x + 1, n):
        if size[i] == 0:
            continue
        dist = D[start + i]
        if dist < best_dist:
            best_dist = dist
            best = i
    return best, best_dist


@kernel
def _merge(D, centres, n, from_centres, method, size, x, y, dist):
    """Distances from the union (in slot ``y``) to the live clusters, before sizes change."""
    nx = size[x]
    ny = size[y]
    if from_centres:
        for j in range(centres.shape[1]):
            if method == CENTROID:
                centres[y, j] = (nx * centres[x, j] + ny * centres[y, j]) / (nx + ny)
            else:
                centres[y, j] = 0.5 * (centres[x, j] + centres[y, j])
        return
    for z in range(n):
        nz = size[z]
        if nz == 0 or z == y or z == x:
            continue
        zy = condensed_index(n, z, y)
        D[zy] = new_distance(method, D[condensed_index(n, z, x)], D[zy], dist, nx, ny, nz)


@kernel
def _generic(D, centres, n, method, from_centres):
    """The generic algorithm over ``D`` (condensed, overwritten) or ``centres`` ((n, d),
    overwritten); returns the final linkage matrix (float64 (n-1, 4), SciPy ids, merge
    order)."""
    Z = np.empty((n - 1, 4), dtype=np.float64)
    size = np.ones(n, dtype=np.int64)
    cluster_id = np.arange(n, dtype=np.int64)
    neighbor = np.empty(n - 1, dtype=np.int64)
    min_dist = np.empty(n - 1, dtype=np.float64)
    for x in range(n - 1):
        neighbor[x], min_dist[x] = _min_above(D, centres, n, from_centres, size, x)
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
            if size[y] > 0 and dist == _pair(D, centres, n, from_centres, x, y):
                break
            y, dist = _min_above(D, centres, n, from_centres, size, x)
            neighbor[x] = y
            min_dist[x] = dist
            _heap_change(values, key_at, index_of, heap_size, x, dist)
        _heap_swap(values, key_at, index_of, 0, heap_size - 1)
        heap_size -= 1
        _heap_sift_down(values, key_at, index_of, heap_size, np.int64(0))
        id_x = cluster_id[x]
        id_y = cluster_id[y]
        nx = size[x]
        ny = size[y]
        Z[k, 0] = min(id_x, id_y)
        Z[k, 1] = max(id_x, id_y)
        Z[k, 2] = math.sqrt(dist) if from_centres else dist
        Z[k, 3] = nx + ny
        _merge(D, centres, n, from_centres, method, size, x, y, dist)
        size[x] = 0
        size[y] = nx + ny
        cluster_id[y] = n + k
        for z in range(x):
            if size[z] > 0 and neighbor[z] == x:
                neighbor[z] = y
        for z in range(y):
            if size[z] == 0:
                continue
            d_zy = _pair(D, centres, n, from_centres, z, y)
            if d_zy < min_dist[z]:
                neighbor[z] = y
                min_dist[z] = d_zy
                _heap_change(values, key_at, index_of, heap_size, z, d_zy)
        if y < n - 1:
            z, d_zy = _min_above(D, centres, n, from_centres, size, y)
            if z != -1:
                neighbor[y] = z
                min_dist[y] = d_zy
                _heap_change(values, key_at, index_of, heap_size, y, d_zy)
    return Z


@kernel
def generic_linkage(D, n, method):
    """Generic algorithm on a condensed matrix ``D`` (float64 (n(n-1)/2,), overwritten)
    for any method code; returns the final linkage matrix (SciPy ids, merge order)."""
    return _generic(D, np.empty((0, 1), dtype=np.float64), n, method, False)


@kernel
def generic_linkage_centres(X, method):
    """Generic algorithm for centroid (5) or median (6) from the observations, O(nd) memory.

    ``X``: float64 (n, d), C-contiguous (not modified). Cluster centres are the
    size-weighted mean (centroid) or the midpoint of the two merged centres
    (median); the height is the Euclidean distance between centres. Returns the
    final linkage matrix (SciPy ids, merge order).
    """
    return _generic(np.empty(0, dtype=np.float64), X.copy(), X.shape[0], method, True)
