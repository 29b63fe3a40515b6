"""Core distances: the distance from each point to its k-th nearest neighbour, itself included.

HDBSCAN's density estimate (Campello, Moulavi, Sander 2013): the core distance
of ``x`` for ``min_samples = k`` is the distance to its k-th nearest point,
counting ``x`` itself (so ``k = 1`` gives 0). scikit-learn counts the same way;
the hdbscan package excludes the point (its ``min_samples`` is ours minus one).

- :func:`core_distances_kdtree` from the shared KD-tree's k nearest neighbours
  (parallel over fixed blocks of queries in :func:`clustra._kernels.kdtree.knn`;
  exact, the same bits for any thread count).
- :func:`weighted_core_distances` with sample weights: the smallest radius whose
  ball holds a total weight of at least ``min_samples`` (the point included).
  With integer weights this is the core distance of the data with every row
  repeated ``weight`` times.
- :func:`core_distances_matrix` from a dense square distance matrix.

All values come back in *reduced* units of the metric (squared for Euclidean),
float64 of shape (n,), in original row order.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from clustra._kernels.kdtree import KDTree, kneighbors


def core_distances_kdtree(tree: KDTree, X: np.ndarray, k: int, code: int,
                          p: float) -> np.ndarray:
    """Reduced distance from every row of ``X`` to its ``k``-th nearest tree point.

    ``X`` (n, d) must be the tree's points in original row order, so that
    each point finds itself first (distance 0). The queries run in tree order
    (neighbouring queries visit the same nodes: about 3x faster than row order).
    """
    rdist, _ = kneighbors(tree, tree.data, k, code, p, exclude_self=False)
    out = np.empty(X.shape[0], dtype=np.float64)
    out[tree.index] = rdist[:, k - 1]
    return out


@njit(cache=True)
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
