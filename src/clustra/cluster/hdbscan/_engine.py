"""The HDBSCAN pipeline on prepared data: core distances, spanning tree, hierarchy.

Every path returns the same :class:`Hierarchy`, so the estimator has one
tail. The kernels live in :mod:`clustra._kernels.core_distances`,
:mod:`clustra._kernels.mst_reachability` and :mod:`clustra._kernels.condense`.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from clustra._kernels.distances import dist_to_rdist, metric_code, rdist_to_dist

Hierarchy = namedtuple("Hierarchy", ["linkage", "core_distances", "tree", "algorithm"])
Hierarchy.__doc__ = (
    "linkage: SciPy linkage matrix of mutual reachability (column 3: weight); "
    "core_distances: true units, (n,); tree: the KD-tree or None; algorithm: what ran."
)

# Boruvka's pruning fades with the dimension; above this many features Prim
# (distances on the fly, no index) is faster (see benchmarks/results/).
BORUVKA_MAX_FEATURES = 16
TREE_METRICS = ("euclidean", "manhattan", "chebyshev", "minkowski")
_KDTREE_LEAF_SIZE = 16


def build_hierarchy(X, weight, *, min_samples: int, alpha: float, metric: str, p: float,
                    algorithm: str, leaf_size: int) -> Hierarchy:
    """Core distances, minimum spanning tree of mutual reachability, single linkage.

    ``X``: float64 (n, d) C-contiguous observations, or the (n, n) distance
    matrix with ``metric="precomputed"``; ``weight``: float64 (n,) or None.
    """
    from clustra._kernels import core_distances as cd
    from clustra._kernels import mst_reachability as mr
    from clustra._kernels import mst_reachability_prim as prim

    if metric == "precomputed":
        core = cd.core_distances_matrix(X, min_samples, weight, float(min_samples))
        low, high, w = prim.prim_dense(X, core, float(alpha))
        return _finish(low, high, w, core, weight, None, "brute")
    from clustra._kernels.kdtree import build_kdtree, tree_arrays

    code, p_value = metric_code(metric, p)
    alpha_r = dist_to_rdist(alpha, metric, p)
    tree = build_kdtree(X, leaf_size=_KDTREE_LEAF_SIZE if algorithm == "auto" else leaf_size)
    use_boruvka = metric == "euclidean" and algorithm != "brute" and (
        algorithm in ("kd_tree", "ball_tree") or X.shape[1] <= BORUVKA_MAX_FEATURES)
    neighbours = None
    if weight is not None:
        core_r = cd.weighted_core_distances(tree, X, weight, float(min_samples), code, p_value)
    elif use_boruvka:
        core_r, neighbours, complete = cd.core_and_neighbours(tree, min_samples, alpha_r)
    else:
        core_r = cd.core_distances_kdtree(tree, X, min_samples, code, p_value)
    if use_boruvka:
        if neighbours is None:  # weighted: no seeds, every search from the tree
            neighbours = np.full((X.shape[0], 1), -1, dtype=np.int32)
            complete = np.zeros(X.shape[0], dtype=bool)
        low, high, w = mr.boruvka_reachability(tree_arrays(tree), core_r, alpha_r, neighbours,
                                               complete)
        used = "boruvka_kdtree"
    elif metric == "euclidean":
        low, high, w = prim.prim_reachability_sqeuclidean(X, core_r, alpha_r)
        used = "prims"
    else:
        low, high, w = prim.prim_reachability(X, core_r, code, p_value, alpha_r)
        used = "prims"
    core = rdist_to_dist(core_r, metric, p)
    return _finish(low, high, rdist_to_dist(w, metric, p), core, weight, tree, used)


def _finish(low, high, weight_true, core, point_weight, tree, used) -> Hierarchy:
    from clustra._kernels.condense import single_linkage

    # The merge order is the strict edge order (weight, low, high): equal
    # weights merge in the order of their lower, then higher, row.
    order = np.lexsort((high, low, weight_true))
    n = core.shape[0]
    pw = np.ones(n) if point_weight is None else point_weight
    Z = single_linkage(np.ascontiguousarray(low[order]), np.ascontiguousarray(high[order]),
                       np.ascontiguousarray(weight_true[order]), pw)
    return Hierarchy(Z, core, tree, used)
