"""The minimum spanning tree engine: one entry for single linkage, HDBSCAN and Genie.

:func:`mst_edges` (observations) and :func:`mst_edges_precomputed` (a
distance matrix) return a :class:`SpanningTree`. The tree is of the metric
itself or, with ``k > 1``, of the mutual reachability distance
``max(core(i), core(j), d(i, j) / alpha)``, where ``core(i)`` is the distance
from ``i`` to its ``k``-th nearest point *counting i itself* (HDBSCAN's
``min_samples = k``, as scikit-learn; Genie's and the hdbscan package's
``M``-th nearest *other* point is ``k = M + 1``).

Algorithms (kernels in :mod:`clustra._kernels.mst_boruvka` and
:mod:`clustra._kernels.mst_prim`, core distances in
:mod:`clustra._kernels.core_distances`):

- Boruvka on the shared KD-tree for Euclidean data in few dimensions, about
  O(n log n), O(n) memory, parallel;
- Prim with distances on the fly for any metric (vectorised for Euclidean),
  O(n^2 d) time, O(n) memory, one thread;
- Prim on a condensed vector or a square matrix.

Ties. With ``order="weight"`` every path gives the one minimum spanning tree
of the strict edge order ``(weight, min(i, j), max(i, j))`` and sorts the
edges by it: row order inside the tree and the thread count never change the
result. ``order="scipy"`` is for single linkage: Prim picks the next vertex
as SciPy's ``mst_single_linkage`` does (lightest, then lower row) and the
edges stay in the order they were added, so a stable sort by weight gives
SciPy's linkage matrix bit for bit.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from clustra._kernels.distances import (
    SQEUCLIDEAN,
    canonical_metric,
    dist_to_rdist,
    metric_code,
    rdist_to_dist,
)

SpanningTree = namedtuple("SpanningTree", ["low", "high", "weight", "core", "kdtree",
                                           "algorithm"])
SpanningTree.__doc__ = (
    "A minimum spanning tree: ``low < high`` int64 (n-1,) edge ends (original rows), "
    "``weight`` float64 (n-1,) true distances; ``core`` float64 (n,) true core distances or "
    "None (k <= 1, no weights); ``kdtree``: the KD-tree used or None; ``algorithm``: "
    "'boruvka', 'prim' or 'dense'."
)

# Boruvka's pruning fades with the dimension while Prim's n^2 grows: at 10 features
# they cross near 90,000 points (benchmarks/results/genie.md, "10-D"). With core
# distances Boruvka's bounds stay tight longer: it beat Prim up to 64 features
# (benchmarks/results/new-families.md, "Boruvka or Prim").
BORUVKA_MAX_FEATURES = 6
BORUVKA_MAX_FEATURES_WIDE = 16
BORUVKA_MAX_FEATURES_CORE = 64
BORUVKA_LARGE_N = 90_000
BORUVKA_MIN_N = 2000
# Up to this many rows Prim with brute-force core distances is as fast as the KD-tree,
# its kNN and Boruvka (benchmarks/results/coldstart-rest.md, "small inputs"), and
# compiles far less on a first call.
BORUVKA_MIN_N_CORE = 1000
KDTREE_LEAF_SIZE = 16
PLAIN_NEIGHBOURS = 4
ORDERS = ("weight", "scipy")


def few_rows(n: int, with_core: bool) -> bool:
    """Whether ``n`` rows are few enough for Prim (and brute-force core distances)."""
    return n <= (BORUVKA_MIN_N_CORE if with_core else BORUVKA_MIN_N)


def use_boruvka(name: str, n: int, d: int, with_core: bool) -> bool:
    """Whether ``algorithm="auto"`` runs Boruvka on the KD-tree (Euclidean only)."""
    if name != "euclidean" or few_rows(n, with_core):
        return False
    if with_core:
        return d <= BORUVKA_MAX_FEATURES_CORE
    return d <= BORUVKA_MAX_FEATURES or (d <= BORUVKA_MAX_FEATURES_WIDE and n > BORUVKA_LARGE_N)


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


def _finish(source, target, weight, core, kdtree, algorithm, order) -> SpanningTree:
    low = np.minimum(source, target)
    high = np.maximum(source, target)
    if order == "weight":
        keep = sorted_edge_order(low, high, weight)
        low, high, weight = low[keep], high[keep], weight[keep]
    return SpanningTree(np.ascontiguousarray(low), np.ascontiguousarray(high),
                        np.ascontiguousarray(weight), core, kdtree, algorithm)


def mst_edges(X: np.ndarray, metric: str = "euclidean", k: int = 1, *, p: float | None = None,
              alpha: float = 1.0, sample_weight: np.ndarray | None = None,
              algorithm: str = "auto", kdtree=None, order: str = "weight") -> SpanningTree:
    """A minimum spanning tree of the rows of ``X``.

    Parameters
    ----------
    X : ndarray of float64, shape (n_samples, n_features), C-contiguous
        Validated, finite observations; n_samples >= 2.
    metric, p : str, float or None
        Any metric of :mod:`clustra._kernels.distances`.
    k : int
        Core distances to the ``k``-th nearest point, the point itself
        included (``k <= n_samples``); ``k <= 1`` without ``sample_weight``:
        the metric's own tree.
    alpha : float
        Divides the pair distance in the mutual reachability (HDBSCAN).
    sample_weight : ndarray of float64, shape (n_samples,), or None
        Core distance: the smallest radius whose ball weighs at least ``k``.
    algorithm : {"auto", "boruvka", "prim"}
        ``"boruvka"`` needs the Euclidean metric.
    kdtree : KDTree or None
        A tree already built on ``X`` (its leaf size is kept).
    order : {"weight", "scipy"}
        See the module docstring.

    Returns
    -------
    SpanningTree
    """
    from clustra._kernels import core_distances as cd
    from clustra._kernels.kdtree import build_kdtree, tree_arrays
    from clustra._kernels.mst_boruvka import boruvka
    from clustra._kernels.mst_prim import prim_metric, prim_sqeuclidean

    name, _ = canonical_metric(metric, p)
    code, p_value = metric_code(metric, p)
    alpha_r = dist_to_rdist(alpha, metric, p)
    n, d = X.shape
    with_core = k > 1 or sample_weight is not None
    if algorithm == "auto":
        algorithm = "boruvka" if use_boruvka(name, n, d, with_core) else "prim"
    if algorithm == "boruvka" and kdtree is None:
        kdtree = build_kdtree(X, leaf_size=KDTREE_LEAF_SIZE)
    core_r = None
    if sample_weight is not None:
        if kdtree is None:
            kdtree = build_kdtree(X, leaf_size=KDTREE_LEAF_SIZE)
        core_r = cd.weighted_core_distances(kdtree, X, sample_weight, float(k), code, p_value)
    if algorithm == "boruvka":
        complete = np.zeros(n, dtype=bool)
        if core_r is None and with_core:
            core_r, neighbours, complete = cd.core_and_neighbours(kdtree, int(k), alpha_r)
        elif core_r is None and alpha_r == 1.0:
            # The first other-component point of each list answers most queries of the
            # first rounds without a walk.
            _, neighbours = cd.knn_self_sqeuclidean(*tree_arrays(kdtree),
                                                    min(n, PLAIN_NEIGHBOURS))
        else:
            neighbours = np.empty((n, 0), dtype=np.int32)
        core_used = np.zeros(n) if core_r is None else core_r
        source, target, weight = boruvka(kdtree, core_used, alpha_r, neighbours, complete)
    else:
        if core_r is None and with_core:
            core_r = cd.core_distances(X, int(k), code, p_value, kdtree)
        core_used = np.empty(0) if core_r is None else core_r
        scipy_order = order == "scipy"
        if code == SQEUCLIDEAN:
            source, target, weight = prim_sqeuclidean(X, core_used, float(alpha_r), scipy_order)
        else:
            source, target, weight = prim_metric(X, core_used, code, p_value, float(alpha_r),
                                                 scipy_order)
    core = None if core_r is None else rdist_to_dist(core_r, metric, p)
    return _finish(source, target, rdist_to_dist(weight, metric, p), core, kdtree, algorithm,
                   order)


def mst_edges_precomputed(D: np.ndarray, k: int = 1, *, alpha: float = 1.0,
                          sample_weight: np.ndarray | None = None,
                          order: str = "weight") -> SpanningTree:
    """As :func:`mst_edges` on distances: a square matrix ``D`` (float64 (n, n),
    C-contiguous, symmetric, zero diagonal) or a condensed vector (float64, 1-D, as
    SciPy's ``pdist``; no core distances). O(n^2) time, O(n) memory beyond ``D``."""
    from clustra._kernels.core_distances import core_distances_matrix
    from clustra._kernels.mst_prim import prim_dense

    if D.ndim == 1:
        n = int(round((1 + np.sqrt(1 + 8 * D.shape[0])) / 2))
        flat = D
    else:
        n = D.shape[0]
        flat = D.reshape(-1)
    core = None
    if D.ndim == 2 and (k > 1 or sample_weight is not None):
        core = core_distances_matrix(D, int(k), sample_weight, float(k))
    core_used = np.empty(0) if core is None else np.ascontiguousarray(core, dtype=np.float64)
    source, target, weight = prim_dense(flat, n, core_used, float(alpha), order == "scipy")
    return _finish(source, target, weight, core, None, "dense", order)
