"""The HDBSCAN pipeline on prepared data: core distances, spanning tree, hierarchy.

Every path returns the same :class:`Hierarchy`, so the estimator has one
tail. The spanning tree (and its core distances) comes from the shared engine
:func:`clustra._kernels.mst.mst_edges`; the hierarchy from
:mod:`clustra._kernels.condense`.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

Hierarchy = namedtuple("Hierarchy", ["linkage", "core_distances", "tree", "algorithm"])
Hierarchy.__doc__ = (
    "linkage: SciPy linkage matrix of mutual reachability (column 3: weight); "
    "core_distances: true units, (n,); tree: the KD-tree or None; algorithm: what ran."
)

# Boruvka's pruning fades with the dimension; above this many features Prim
# (distances on the fly, no index) is faster (see benchmarks/results/new-families.md).
BORUVKA_MAX_FEATURES = 64
TREE_METRICS = ("euclidean", "manhattan", "chebyshev", "minkowski")


def build_hierarchy(X, weight, *, min_samples: int, alpha: float, metric: str, p: float,
                    algorithm: str, leaf_size: int) -> Hierarchy:
    """Core distances, minimum spanning tree of mutual reachability, single linkage.

    ``X``: float64 (n, d) C-contiguous observations, or the (n, n) distance
    matrix with ``metric="precomputed"``; ``weight``: float64 (n,) or None.
    """
    from clustra._kernels.mst import KDTREE_LEAF_SIZE, few_rows, mst_edges, mst_edges_precomputed

    if metric == "precomputed":
        tree = mst_edges_precomputed(X, int(min_samples), alpha=float(alpha), sample_weight=weight)
        return _finish(tree, weight, None, "brute")
    boruvka = metric == "euclidean" and algorithm != "brute" and (
        algorithm in ("kd_tree", "ball_tree") or X.shape[1] <= BORUVKA_MAX_FEATURES)
    kdtree = None
    with_core = min_samples > 1 or weight is not None
    if boruvka and algorithm == "auto" and few_rows(X.shape[0], with_core):
        # Prim with brute-force core distances is as fast on few rows and compiles far
        # less; the KD-tree for predictions is built when one is asked for.
        boruvka = False
    else:
        from clustra._kernels.kdtree import build_kdtree

        # The KD-tree serves the core distances, the spanning tree and later predictions.
        # (the engine's leaf size under "auto", as the tree a prediction builds later)
        kdtree = build_kdtree(X, leaf_size=KDTREE_LEAF_SIZE if algorithm == "auto"
                              else leaf_size)
    # min_samples counts the point itself, as the engine's k does.
    tree = mst_edges(X, metric, int(min_samples), p=p, alpha=float(alpha),
                     sample_weight=weight, algorithm="boruvka" if boruvka else "prim",
                     kdtree=kdtree)
    return _finish(tree, weight, tree.kdtree, "boruvka_kdtree" if boruvka else "prims")


def _finish(tree, point_weight, kdtree, used) -> Hierarchy:
    from clustra._kernels.condense import single_linkage

    # The edges come sorted by the strict order (weight, low, high): equal
    # weights merge in the order of their lower, then higher, row.
    n = tree.low.shape[0] + 1
    pw = np.ones(n) if point_weight is None else point_weight
    Z = single_linkage(tree.low, tree.high, tree.weight, pw)
    core = np.zeros(n) if tree.core is None else tree.core  # min_samples=1: every core is 0
    return Hierarchy(Z, core, kdtree, used)
