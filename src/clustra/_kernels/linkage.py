"""Hierarchical-clustering kernels: NN-chain, Muellner's generic algorithm, O(nd) variants.

Method codes (shared with :mod:`clustra.cluster.hierarchy`): 0 single,
1 complete, 2 average, 3 weighted, 4 ward, 5 centroid, 6 median.

Distances are kept in a *condensed* float64 vector of length ``n(n-1)/2``
(the layout of :func:`scipy.spatial.distance.pdist`). The Lance-Williams
updates use the very formulas SciPy uses, in the same order, so the merge
heights agree with :func:`scipy.cluster.hierarchy.linkage` to the last bit
and ties are broken the same way (the first minimum in index order).

The O(nd)-memory kernels for ward, centroid and median, working from the
observations, are in :mod:`clustra._kernels.linkage_vector`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from clustra._kernels.distances import SQEUCLIDEAN, rdist
from clustra._kernels.unionfind import find, make_sets, union

SINGLE, COMPLETE, AVERAGE, WEIGHTED, WARD, CENTROID, MEDIAN = range(7)


@njit(cache=True, inline="always")
def condensed_index(n, i, j):
    """Position of the pair ``(i, j)``, ``i != j``, in a condensed vector for ``n`` points."""
    if i > j:
        i, j = j, i
    return n * i - (i * (i + 1)) // 2 + (j - i - 1)


@njit(cache=True, inline="always")
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


@njit(cache=True, inline="always")
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


@njit(cache=True)
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


@njit(cache=True)
def _distance_rows(X, code, p, kind, lo, hi, out):
    """Rows ``lo..hi-1`` of the condensed distances for any metric code."""
    n = X.shape[0]
    for i in range(lo, hi):
        row = n * i - (i * (i + 1)) // 2 - i - 1
        for j in range(i + 1, n):
            out[row + j] = _finish_rdist(rdist(X[i], X[j], code, p), kind, p)


@njit(cache=True, parallel=True)
def condensed_distances(X, XT, code, p, kind, bounds, out):
    """Fill ``out`` (float64, length n(n-1)/2) with the condensed distances of the rows of ``X``.

    ``X``: float64, shape (n, d), C-contiguous; ``XT`` its transpose, C-contiguous
    (used for the Euclidean metrics). ``code`` is a metric code of
    :func:`clustra._kernels.distances.metric_code`, ``kind`` its conversion to the
    true distance (see :func:`_finish_rdist`). ``bounds``: int64, the first row of
    each of a fixed number of blocks holding about as many pairs each, then n;
    every block writes its own rows, so the result does not depend on the
    threads. ``out`` is allocated by NumPy, which asks the kernel for huge pages:
    the linkage that follows reads it with long strides, and 4 KiB pages would
    thrash the TLB.
    """
    for block in prange(bounds.shape[0] - 1):
        if code == SQEUCLIDEAN:
            _sqeuclidean_rows(X, XT, kind == 1, bounds[block], bounds[block + 1], out)
        else:
            _distance_rows(X, code, p, kind, bounds[block], bounds[block + 1], out)
    return out


@njit(cache=True)
def _row_starts(n):
    """``start[i]``: the pair ``(i, j)``, ``i < j``, is at ``start[i] + j`` (int64 (n,))."""
    start = np.empty(n, dtype=np.int64)
    for i in range(n):
        start[i] = n * i - (i * (i + 1)) // 2 - i - 1
    return start


@njit(cache=True)
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


@njit(cache=True)
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


@njit(cache=True, inline="always")
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


@njit(cache=True)
def nn_chain(D, n, method):
    """Nearest-neighbour chain on a condensed matrix (reducible methods: 1-4).

    ``D``: float64, shape (n(n-1)/2,), overwritten. Returns the raw merges,
    float64 shape (n-1, 4): the two slot indices (smaller first), the height and
    the size, in the order they were found (sort and relabel with
    :func:`label_merges`).

    Each live cluster caches its nearest neighbour (the first minimum of its row
    in index order) and keeps it right through the Lance-Williams updates, so
    a row is scanned again only when its neighbour merged away; the chain then
    finds a neighbour in O(1) most of the time.
    """
    Z = np.empty((n - 1, 4), dtype=np.float64)
    size = np.ones(n, dtype=np.float64)
    chain = np.empty(n, dtype=np.int64)
    active = np.arange(n)
    n_active = n
    start = _row_starts(n)
    nn = np.empty(n, dtype=np.int64)
    nn_dist = np.empty(n, dtype=np.float64)
    values = np.empty(n, dtype=np.float64)
    _row_minima(D, n, start, nn, nn_dist)
    chain_length = 0
    for k in range(n - 1):
        if chain_length == 0:
            chain[0] = active[0]
            chain_length = 1
        x = 0
        y = 0
        current_min = np.inf
        while True:
            x = chain[chain_length - 1]
            if nn[x] < 0:
                _rescan(D, start, active, n_active, x, nn, nn_dist)
            y = nn[x]
            current_min = nn_dist[x]
            if chain_length > 1:
                previous = chain[chain_length - 2]
                # SciPy keeps the previous link on a tie.
                if D[start[min(x, previous)] + max(x, previous)] <= current_min:
                    break
            chain[chain_length] = y
            chain_length += 1
        y = chain[chain_length - 2]
        chain_length -= 2
        if x > y:
            x, y = y, x
        nx = size[x]
        ny = size[y]
        Z[k, 0] = x
        Z[k, 1] = y
        Z[k, 2] = current_min
        Z[k, 3] = nx + ny
        size[x] = 0.0
        size[y] = nx + ny
        _merge_rows(D, start, active, n_active, x, y, current_min, nx, ny, size, nn, nn_dist,
                    method, values)
        n_active = _remove_active(active, n_active, x)
    return Z


@njit(cache=True)
def _remove_active(active, n_active, x):
    """Drop ``x`` from the sorted ``active[:n_active]``; returns the new count."""
    t = np.searchsorted(active[:n_active], x)
    for s in range(t, n_active - 1):
        active[s] = active[s + 1]
    return n_active - 1


@njit(cache=True)
def _merge_rows(D, start, active, n_active, x, y, d_xy, nx, ny, size, nn, nn_dist, method,
                values):
    """Lance-Williams update of row ``y`` (the union of ``x < y``) over the live clusters,
    keeping every cached neighbour right and computing the union's own.

    ``values``: float64 scratch of length >= ``n_active``. The cached neighbours
    are checked in a second, contiguous pass: interleaved with the strided
    matrix accesses, their loads and branches made the update about three times
    slower (measured at n=8000).
    """
    best = np.inf
    best_index = -1
    row_x = start[x]
    row_y = start[y]
    t = 0
    # Three index ranges, i < x < y, x < i < y, x < y < i: no branch on the
    # layout inside the loops.
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


@njit(cache=True)
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


# --- binary heap with keys 0..m-1 (SciPy's layout, so ties pop in the same order) ---


@njit(cache=True, inline="always")
def _heap_swap(values, key_at, index_of, i, j):
    values[i], values[j] = values[j], values[i]
    key_i = key_at[i]
    key_at[i] = key_at[j]
    key_at[j] = key_i
    index_of[key_at[i]] = i
    index_of[key_at[j]] = j


@njit(cache=True)
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


@njit(cache=True)
def _heap_sift_up(values, key_at, index_of, index):
    parent = (index - 1) >> 1
    while index > 0 and values[parent] > values[index]:
        _heap_swap(values, key_at, index_of, index, parent)
        index = parent
        parent = (index - 1) >> 1


@njit(cache=True)
def _heap_change(values, key_at, index_of, heap_size, key, value):
    index = index_of[key]
    old = values[index]
    values[index] = value
    if value < old:
        _heap_sift_up(values, key_at, index_of, index)
    else:
        _heap_sift_down(values, key_at, index_of, heap_size, index)


@njit(cache=True)
def _heap_init(min_dist):
    m = min_dist.shape[0]
    values = min_dist.copy()
    key_at = np.arange(m)
    index_of = np.arange(m)
    for i in range(m // 2 - 1, -1, -1):
        _heap_sift_down(values, key_at, index_of, m, i)
    return values, key_at, index_of


@njit(cache=True)
def _min_above(n, D, size, x):
    """Nearest live cluster with index > x on the matrix: (index or -1, distance)."""
    best = -1
    best_dist = np.inf
    start = condensed_index(n, x, x + 1) - (x + 1) if x + 1 < n else 0
    for i in range(x + 1, n):
        if size[i] == 0:
            continue
        dist = D[start + i]
        if dist < best_dist:
            best_dist = dist
            best = i
    return best, best_dist


@njit(cache=True)
def generic_linkage(D, n, method):
    """Muellner's generic algorithm on a condensed matrix (any method; used for 5, 6).

    ``D``: float64 (n(n-1)/2,), overwritten. Keeps for each cluster a candidate
    nearest neighbour among larger indices and a lower bound of its distance,
    in a heap; candidates are refreshed only when popped stale. Returns the
    final linkage matrix (float64 (n-1, 4), SciPy's ids), in merge order.
    """
    Z = np.empty((n - 1, 4), dtype=np.float64)
    size = np.ones(n, dtype=np.int64)
    cluster_id = np.arange(n, dtype=np.int64)
    neighbor = np.empty(n - 1, dtype=np.int64)
    min_dist = np.empty(n - 1, dtype=np.float64)
    for x in range(n - 1):
        neighbor[x], min_dist[x] = _min_above(n, D, size, x)
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
            if dist == D[condensed_index(n, x, y)]:
                break
            y, dist = _min_above(n, D, size, x)
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
        Z[k, 2] = dist
        Z[k, 3] = nx + ny
        size[x] = 0
        size[y] = nx + ny
        cluster_id[y] = n + k
        for z in range(n):
            nz = size[z]
            if nz == 0 or z == y:
                continue
            zy = condensed_index(n, z, y)
            D[zy] = new_distance(method, D[condensed_index(n, z, x)], D[zy], dist, nx, ny, nz)
        for z in range(x):
            if size[z] > 0 and neighbor[z] == x:
                neighbor[z] = y
        for z in range(y):
            if size[z] == 0:
                continue
            d_zy = D[condensed_index(n, z, y)]
            if d_zy < min_dist[z]:
                neighbor[z] = y
                min_dist[z] = d_zy
                _heap_change(values, key_at, index_of, heap_size, z, d_zy)
        if y < n - 1:
            z, d_zy = _min_above(n, D, size, y)
            if z != -1:
                neighbor[y] = z
                min_dist[y] = d_zy
                _heap_change(values, key_at, index_of, heap_size, y, d_zy)
    return Z


# --- flat cuts of a finished linkage matrix ---


@njit(cache=True)
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


@njit(cache=True)
def labels_from_rows(Z, n, keep):
    """Flat labels (int64 (n,), 0.. by first appearance) joining the merges with ``keep[k]``.

    ``keep``: bool (n-1,); it must be closed under taking children (a cut).
    """
    representative = np.empty(2 * n - 1, dtype=np.int64)
    representative[:n] = np.arange(n)
    parent = make_sets(n)
    for k in range(n - 1):
        a = representative[np.int64(Z[k, 0])]
        representative[n + k] = a
        if keep[k]:
            union(parent, a, representative[np.int64(Z[k, 1])])
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
