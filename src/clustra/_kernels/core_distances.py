"""Core distances: the distance from each point to its k-th nearest neighbour, itself included.

HDBSCAN's density estimate (Campello, Moulavi, Sander 2013): the core distance
of ``x`` for ``min_samples = k`` is the distance to its k-th nearest point,
counting ``x`` itself (so ``k = 1`` gives 0). scikit-learn counts the same way;
the hdbscan package excludes the point (its ``min_samples`` is ours minus one).

- :func:`core_distances_kdtree` from the shared KD-tree's k nearest neighbours
  (Euclidean: :func:`knn_self_sqeuclidean`, leaves scanned feature by feature;
  other metrics: :func:`clustra._kernels.kdtree.knn`); parallel, exact, the
  same bits for any thread count. :func:`core_and_neighbours` also keeps the
  lists, which Boruvka starts its searches from.
- :func:`weighted_core_distances` with sample weights: the smallest radius whose
  ball holds a total weight of at least ``min_samples`` (the point included).
  With integer weights this is the core distance of the data with every row
  repeated ``weight`` times.
- :func:`core_distances_matrix` from a dense square distance matrix.
- :func:`core_rdist_brute` by brute force, for metrics the KD-tree cannot
  bound (cosine, haversine) and for many features;
  :func:`core_distances` chooses between it and the KD-tree.

Genie and genieclust count differently: their ``M`` is the M-th nearest
*other* point, which is ``k = M + 1`` here (the callers translate; with
duplicates the two agree, as the point itself is one of the zeros).

All values come back in *reduced* units of the metric (squared for Euclidean),
float64 of shape (n,), in original row order.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from clustra._kernels.distances import SQEUCLIDEAN, rdist
from clustra._kernels.jit import kernel
from clustra._kernels.kdtree import (
    BOX_BOUNDED,
    KDTree,
    box_gap,
    build_kdtree,
    kneighbors,
    leaf_rdist,
    leaf_width,
    push_pair,
    tree_arrays,
)

# The KD-tree's kNN beats brute force for box-bounded metrics in up to this many
# features once n is past a few thousand (see benchmarks/results/genie.md).
KDTREE_MAX_FEATURES = 16
KDTREE_MIN_N = 2000
_KDTREE_LEAF_SIZE = 16
_BRUTE_BLOCK = 64


def core_distances_kdtree(tree: KDTree, X: np.ndarray, k: int, code: int,
                          p: float) -> np.ndarray:
    """Reduced distance from every row of ``X`` to its ``k``-th nearest tree point.

    ``X`` (n, d) must be the tree's points in original row order, so that
    each point finds itself first (distance 0). The queries run in tree order
    (neighbouring queries visit the same nodes, so they find them in cache).
    """
    if code == SQEUCLIDEAN:
        rdist, _ = knn_self_sqeuclidean(*tree_arrays(tree), k)
    else:
        rdist, _ = kneighbors(tree, tree.data, k, code, p, exclude_self=False)
    out = np.empty(X.shape[0], dtype=np.float64)
    out[tree.index] = rdist[:, k - 1]
    return out


def core_and_neighbours(tree: KDTree, k: int, alpha_r: float) -> tuple:
    """Reduced core distances (original row order) and, per tree position, the tree
    positions of its ``k + 1`` nearest points (int32) and whether they hold every point
    within ``alpha_r`` times the core distance (bool): what Boruvka seeds its searches with.
    """
    n = tree.data.shape[0]
    m = min(k + 1, n)
    rdist, neighbours = knn_self_sqeuclidean(*tree_arrays(tree), m)
    core = np.empty(n, dtype=np.float64)
    core[tree.index] = rdist[:, k - 1]
    if m > k:
        # In the units of the weights (rdist / alpha_r), so rounding cannot hide a tie.
        complete = rdist[:, k] * (1.0 / alpha_r) > rdist[:, k - 1]
    else:
        complete = np.ones(n, dtype=bool)  # every point is in the list
    return core, np.ascontiguousarray(neighbours), complete


@kernel
def _weighted_kth(rdist, rows, weight, min_weight):
    """Per row of ``rdist``/``rows`` (m, k) ascending: the first reduced distance at which
    the cumulative weight reaches ``min_weight``, or -1.0 when the k neighbours fall short."""
    out = np.empty(rdist.shape[0], dtype=np.float64)
    for i in range(rdist.shape[0]):
        total = 0.0
        out[i] = -1.0
        for j in range(rdist.shape[1]):
            if rows[i, j] < 0:
                break
            total += weight[rows[i, j]]
            if total >= min_weight:
                out[i] = rdist[i, j]
                break
    return out


def weighted_core_distances(tree: KDTree, X: np.ndarray, weight: np.ndarray, min_weight: float,
                            code: int, p: float) -> np.ndarray:
    """Reduced core distances with sample weights (float64 (n,), ``weight`` > 0).

    Queries grow the number of neighbours (doubling) only for the rows that
    have not yet gathered ``min_weight``; a row whose whole data set weighs
    less gets the distance to its farthest point.
    """
    n = X.shape[0]
    out = np.empty(n, dtype=np.float64)
    pending = np.arange(n)
    k = max(1, min(n, int(np.ceil(min_weight / max(float(weight.max()), 1e-300)))))
    while pending.size:
        rdist, rows = kneighbors(tree, X[pending], k, code, p)
        found = _weighted_kth(rdist, rows, weight, float(min_weight))
        if k >= n:
            found = np.where(found < 0, rdist[:, -1], found)
        done = found >= 0
        out[pending[done]] = found[done]
        pending = pending[~done]
        k = min(n, 2 * k)
    return out


def core_distances_matrix(D: np.ndarray, k: int, weight: np.ndarray | None = None,
                          min_weight: float = 0.0) -> np.ndarray:
    """Core distances from a dense (n, n) distance matrix (true units, diagonal 0)."""
    if weight is None:
        return np.ascontiguousarray(np.partition(D, k - 1, axis=1)[:, k - 1], dtype=np.float64)
    order = np.argsort(D, axis=1, kind="stable")
    rdist = np.take_along_axis(D, order, axis=1)
    found = _weighted_kth(np.ascontiguousarray(rdist, dtype=np.float64),
                          np.ascontiguousarray(order, dtype=np.int64), weight, float(min_weight))
    return np.where(found < 0, rdist[:, -1], found)


@kernel(inline="always")
def _insert(dist, pos, rows, value, position, row):
    """Insert into the ascending list ``dist``/``pos`` (ties by original row) if it fits."""
    k = dist.shape[0]
    if value > dist[k - 1] or (value == dist[k - 1] and row >= rows[k - 1]):
        return
    t = k - 1
    while t > 0 and (dist[t - 1] > value or (dist[t - 1] == value and rows[t - 1] > row)):
        dist[t] = dist[t - 1]
        pos[t] = pos[t - 1]
        rows[t] = rows[t - 1]
        t -= 1
    dist[t] = value
    pos[t] = position
    rows[t] = row


@kernel(inline="always")
def _scan_leaf(x, columns, index, start, end, work, dist, pos, rows):
    """Offer the points of tree positions ``start:end`` to x's list."""
    leaf_rdist(x, columns, start, end - start, work)
    k = dist.shape[0]
    for t in range(end - start):
        if work[t] <= dist[k - 1]:
            _insert(dist, pos, rows, work[t], start + t, index[start + t])


@kernel(parallel=True)
def knn_self_sqeuclidean(data, index, node_start, node_end, lower, upper, k):
    """The ``k`` nearest tree points of every tree point (itself included).

    Arrays as :func:`clustra._kernels.kdtree.tree_arrays` (``data`` float64
    (n, d)). Each point scans its own leaf first (a tight k-th distance before
    the walk), then walks the tree nearer child first; leaves are scanned
    feature by feature over a transposed copy (:func:`kdtree.leaf_rdist`),
    which vectorises. Returns squared distances (n, k) float64 ascending and
    tree positions (n, k) int32, in tree order; ties go to the lower original
    row, as :func:`kdtree.knn`. Every answer depends on its point alone, so
    threads never change the result.
    """
    n = data.shape[0]
    n_nodes = node_start.shape[0]
    first_leaf = n_nodes // 2
    columns = np.ascontiguousarray(data.T)
    out_dist = np.full((n, k), np.inf)
    out_pos = np.full((n, k), -1, dtype=np.int32)
    depth = 2 * (int(np.log2(n_nodes + 1)) + 2)
    width = max(1, leaf_width(node_start, node_end))
    sentinel = np.iinfo(np.int64).max
    for leaf in prange(first_leaf, n_nodes):
        rows = np.empty(k, dtype=np.int64)
        stack = np.empty(depth, dtype=np.int64)
        bound = np.empty(depth, dtype=np.float64)
        work = np.empty(width, dtype=np.float64)
        for q in range(node_start[leaf], node_end[leaf]):
            x = data[q]
            dist = out_dist[q]
            pos = out_pos[q]
            rows[:] = sentinel
            _scan_leaf(x, columns, index, node_start[leaf], node_end[leaf], work, dist, pos, rows)
            stack[0] = 0
            bound[0] = 0.0
            top = 1
            while top > 0:
                top -= 1
                node = stack[top]
                if bound[top] > dist[k - 1]:
                    continue
                if node >= first_leaf:
                    if node != leaf:
                        _scan_leaf(x, columns, index, node_start[node], node_end[node], work,
                                   dist, pos, rows)
                    continue
                left = 2 * node + 1
                top = push_pair(stack, bound, top, left, box_gap(x, lower, upper, left),
                                box_gap(x, lower, upper, left + 1))
    return out_dist, out_pos


@kernel
def _insert_smallest(values, value):
    """Keep ``values`` (ascending, fixed length) the smallest seen: insert ``value``."""
    k = values.shape[0]
    if value >= values[k - 1]:
        return
    t = k - 1
    while t > 0 and values[t - 1] > value:
        values[t] = values[t - 1]
        t -= 1
    values[t] = value


@kernel(parallel=True)
def core_rdist_brute(X, k, code, p):
    """Reduced distance from each row of ``X`` to its ``k``-th nearest row, itself included.

    ``X``: float64 (n, d) C-contiguous; ``1 <= k <= n``. Returns float64 (n,).
    O(n^2 d) time, parallel over fixed blocks of rows (thread-count independent).
    """
    n = X.shape[0]
    out = np.empty(n, dtype=np.float64)
    n_blocks = (n + _BRUTE_BLOCK - 1) // _BRUTE_BLOCK
    for block in prange(n_blocks):
        best = np.empty(k, dtype=np.float64)
        for i in range(block * _BRUTE_BLOCK, min(n, (block + 1) * _BRUTE_BLOCK)):
            best[:] = np.inf
            best[0] = 0.0  # itself, at distance 0 whatever rounding gives (cosine)
            for j in range(n):
                if j != i:
                    _insert_smallest(best, rdist(X[i], X[j], code, p))
            out[i] = best[k - 1]
    return out


@kernel
def core_rdist_sqeuclidean(X, k):
    """:func:`core_rdist_brute` for squared Euclidean on one thread: the same values.

    Each row's distances to all rows are summed feature by feature from 0.0
    in feature order (the bits of ``rdist``) over contiguous columns, which
    LLVM vectorises; the row itself is among them at exactly 0.
    """
    n, d = X.shape
    XT = np.ascontiguousarray(X.T)
    out = np.empty(n, dtype=np.float64)
    work = np.empty(n, dtype=np.float64)
    best = np.empty(k, dtype=np.float64)
    for i in range(n):
        # The features-outside loop of linkage_vector._ward_scan and
        # condensed._sqeuclidean_rows, written out: a shared helper measured slower there.
        work[:] = 0.0
        for f in range(d):
            value = X[i, f]
            column = XT[f]
            for j in range(n):
                diff = column[j] - value
                work[j] += diff * diff
        best[:] = np.inf
        for j in range(n):
            if work[j] < best[k - 1]:
                _insert_smallest(best, work[j])
        out[i] = best[k - 1]
    return out


def core_distances(X: np.ndarray, k: int, code: int, p: float,
                   tree: KDTree | None = None) -> np.ndarray:
    """Reduced distance of every row of ``X`` to its ``k``-th nearest point, itself included.

    From the KD-tree's kNN (``tree``, or one built here) for box-bounded
    metrics in few dimensions; by brute force otherwise. float64 (n,).
    """
    n, d = X.shape
    if tree is None and code in BOX_BOUNDED and d <= KDTREE_MAX_FEATURES and n > KDTREE_MIN_N:
        tree = build_kdtree(X, leaf_size=_KDTREE_LEAF_SIZE)
    if tree is not None:
        return core_distances_kdtree(tree, X, k, code, p)
    if code == SQEUCLIDEAN and n <= KDTREE_MIN_N:
        # Few rows: one thread is fast enough, and a first call compiles no parfor.
        return core_rdist_sqeuclidean(X, int(k))
    return core_rdist_brute(X, int(k), int(code), float(p))
