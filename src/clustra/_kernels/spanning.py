"""Minimum spanning trees as sorted edge lists: the one entry :func:`mst_edges`.

Genie (and any other family that works on the tree itself rather than on a
linkage matrix) asks for the tree here. ``M <= 1`` gives the tree of the
metric itself (Boruvka on the KD-tree of :mod:`clustra._kernels.mst` for
low-dimensional Euclidean data, Prim of :mod:`clustra._kernels.prim_tree`
otherwise); ``M > 1`` the
tree of the mutual reachability distance
``max(d(i, j), core(i), core(j))``, where ``core(i)`` is the distance from
``i`` to its ``M``-th nearest neighbour, not counting ``i`` itself (the
convention of genieclust and quitefastmst; hdbscan's ``min_samples`` counts
the point itself, so hdbscan's ``min_samples = M + 1``).

Edges come back sorted by ``(weight, low, high)`` with ``low < high``, the
order genieclust uses. Where several spanning trees are minimal (tied
distances) the kernels pick one by their own documented rule (Prim: among equal
weights the smaller original distance, then the lower row), which need not
be the tree another library picks.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit, prange

from clustra._kernels.distances import SQEUCLIDEAN, rdist

SpanningTree = namedtuple("SpanningTree", ["low", "high", "weight", "core"])
SpanningTree.__doc__ = (
    "Edges of a minimum spanning tree sorted by (weight, low, high): ``low``/``high`` "
    "int64 (n-1,), ``weight`` float64 (n-1,) true distances; ``core`` float64 (n,) core "
    "distances for M > 1, else None."
)

# Boruvka's pruning fades with the dimension (see clustra.cluster.hierarchy._linkage),
# but Prim's n^2 grows faster: at 10 features they cross near 90,000 points
# (benchmarks/results/genie.md, "10-D").
_KDTREE_MAX_FEATURES = 6
_KDTREE_MAX_FEATURES_LARGE_N = 16
_LARGE_N = 90_000
_KDTREE_MIN_N = 2000
_KDTREE_LEAF_SIZE = 16
_BRUTE_BLOCK = 64


@njit(cache=True)
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


@njit(cache=True, parallel=True)
def core_rdist_brute(X, M, code, p):
    """Reduced distance from each row of ``X`` to its ``M``-th nearest other row.

    ``X``: float64 (n, d) C-contiguous; ``M`` >= 1 and < n. Returns float64 (n,).
    O(n^2 d) time, parallel over fixed blocks of rows (thread-count independent).
    """
    n = X.shape[0]
    out = np.empty(n, dtype=np.float64)
    n_blocks = (n + _BRUTE_BLOCK - 1) // _BRUTE_BLOCK
    for block in prange(n_blocks):
        best = np.empty(M, dtype=np.float64)
        for i in range(block * _BRUTE_BLOCK, min(n, (block + 1) * _BRUTE_BLOCK)):
            best[:] = np.inf
            for j in range(n):
                if j != i:
                    _insert_smallest(best, rdist(X[i], X[j], code, p))
            out[i] = best[M - 1]
    return out


def sorted_edge_order(low, high, weight) -> np.ndarray:
    """Indices that sort edges by ``(weight, low, high)``.

    A stable sort by weight, then the runs of equal weights (rare outside
    grids and duplicates) sorted by ``(low, high)``: a full three-key
    ``lexsort`` costs ten times more on a million edges.
    """
    order = np.argsort(weight, kind="stable")
    sorted_weight = weight[order]
    tied = np.flatnonzero(sorted_weight[1:] == sorted_weight[:-1])
    if tied.size:
        members = np.union1d(tied, tied + 1)  # whole runs, each contiguous
        subset = order[members]
        order[members] = subset[np.lexsort((high[subset], low[subset], weight[subset]))]
    return order


def _use_kdtree(name: str, n: int, d: int) -> bool:
    return name == "euclidean" and n > _KDTREE_MIN_N and (
        d <= _KDTREE_MAX_FEATURES or (n > _LARGE_N and d <= _KDTREE_MAX_FEATURES_LARGE_N)
    )


def core_distances(X: np.ndarray, M: int, metric: str = "euclidean") -> np.ndarray:
    """Reduced distance of each point to its ``M``-th nearest other point (float64 (n,)).

    The KD-tree answers for metrics it bounds by boxes in few dimensions;
    brute force (O(n^2 d)) otherwise.
    """
    from clustra._kernels.distances import canonical_metric, metric_code
    from clustra._kernels.kdtree import BOX_BOUNDED, build_kdtree, kneighbors

    name, _ = canonical_metric(metric)
    code, p = metric_code(metric)
    n, d = X.shape
    if code in BOX_BOUNDED and d <= _KDTREE_MAX_FEATURES_LARGE_N and n > _KDTREE_MIN_N:
        tree = build_kdtree(X, leaf_size=_KDTREE_LEAF_SIZE)
        rdists, _ = kneighbors(tree, X, M, code, p, exclude_self=True)
        return np.ascontiguousarray(rdists[:, M - 1])
    return core_rdist_brute(X, int(M), code, p)


def _metric_tree(X: np.ndarray, name: str, code: int, p: float):
    """(from, to, reduced weight) of the metric's own minimum spanning tree."""
    from clustra._kernels import mst

    n, d = X.shape
    if _use_kdtree(name, n, d):
        from clustra._kernels.kdtree import build_kdtree

        tree = build_kdtree(X, leaf_size=_KDTREE_LEAF_SIZE)
        return mst.boruvka_tree(tree.data, tree.index, tree.node_start, tree.node_end,
                                tree.lower, tree.upper)
    return _prim(X, np.zeros(n), code, p)


def _prim(X, core, code, p):
    from clustra._kernels.prim_tree import prim_tree_metric, prim_tree_sqeuclidean

    if code == SQEUCLIDEAN:
        return prim_tree_sqeuclidean(X, core)
    return prim_tree_metric(X, core, code, p)


def _sorted_tree(source, target, weight, core) -> SpanningTree:
    low = np.minimum(source, target)
    high = np.maximum(source, target)
    order = sorted_edge_order(low, high, weight)
    return SpanningTree(np.ascontiguousarray(low[order]), np.ascontiguousarray(high[order]),
                        np.ascontiguousarray(weight[order]), core)


def mst_edges_precomputed(D: np.ndarray, M: int = 1) -> SpanningTree:
    """As :func:`mst_edges` for a square distance matrix ``D`` (float64 (n, n), C-contiguous,
    symmetric, zero diagonal). O(n^2) time, no memory beyond ``D`` and O(n)."""
    from clustra._kernels.prim_tree import prim_tree_dense

    n = D.shape[0]
    core = None
    core_used = np.zeros(n)
    if M > 1:
        # Each point's own zero set aside: the M-th smallest left is the M-th nearest other.
        off_diagonal = D.copy()
        np.fill_diagonal(off_diagonal, np.inf)
        core = np.ascontiguousarray(np.partition(off_diagonal, M - 1, axis=1)[:, M - 1])
        core_used = core
    source, target, weight = prim_tree_dense(D, core_used)
    return _sorted_tree(source, target, weight, core)


def mst_edges(X: np.ndarray, metric: str = "euclidean", M: int = 1) -> SpanningTree:
    """A minimum spanning tree of the rows of ``X``, edges sorted by (weight, low, high).

    Parameters
    ----------
    X : ndarray of float64, shape (n_samples, n_features), C-contiguous
        Validated, finite observations; n_samples >= 2.
    metric : str
        Any metric of :mod:`clustra._kernels.distances`.
    M : int
        ``M <= 1``: the metric's own tree. ``M > 1``: the mutual reachability
        tree with core distances to the ``M``-th nearest other point
        (``M < n_samples``).

    Returns
    -------
    SpanningTree
        ``low < high`` per edge; ``weight`` true distances, non-decreasing.

    Notes
    -----
    ``M <= 1``: about O(n log n) on the KD-tree (Euclidean, few features),
    O(n^2 d) Prim otherwise. ``M > 1``: O(n^2 d) Prim; O(n) memory in every case.
    """
    from clustra._kernels.distances import canonical_metric, metric_code, rdist_to_dist

    name, _ = canonical_metric(metric)
    code, p = metric_code(metric)
    core = None
    if M > 1:
        core_r = core_distances(X, M, metric)
        source, target, weight = _prim(X, core_r, code, p)
        core = rdist_to_dist(core_r, metric)
    else:
        source, target, weight = _metric_tree(X, name, code, p)
    return _sorted_tree(source, target, rdist_to_dist(weight, metric), core)
