"""Density-Based Clustering Validation (DBCV; Moulavi et al., SDM 2014).

For density-based results (DBSCAN, HDBSCAN): clusters are judged by the
*mutual reachability* distances of their points. Each cluster has a density
sparseness (the largest edge among the internal nodes of its minimum spanning
tree) and a density separation from every other cluster (the smallest mutual
reachability distance between internal nodes of the two). The score is the
size-weighted mean of ``(separation - sparseness) / max(separation, sparseness)``,
in [-1, 1], higher is better. Noise (label -1) is not a cluster but counts in the
total weight, so labelling many points as noise lowers the score.

The conventions (all-points core distance with the ambient dimension ``d``,
true -- not squared -- distances, "internal" nodes of degree >= 2, falling
back to all MST edges and node 0 when a tree has no internal node) follow the
``hdbscan`` package's ``validity_index``, which the tests compare against.
"""

from __future__ import annotations

import numpy as np

from clustra.metrics._checks import check_data, check_labels, noise_mask

__all__ = ["dbcv_score"]

_MAX_CLUSTER_MATRIX_BYTES = 2 * 1024**3


def _pairwise(A, B, metric, p):
    from scipy.spatial.distance import cdist

    from clustra._kernels.distances import canonical_metric

    name, p_value = canonical_metric(metric, p)
    if name == "haversine":
        from sklearn.metrics.pairwise import haversine_distances

        return haversine_distances(A, B)
    scipy_name = {"manhattan": "cityblock"}.get(name, name)
    if scipy_name == "minkowski":
        return cdist(A, B, metric="minkowski", p=p_value)
    return cdist(A, B, metric=scipy_name)


def _all_points_core_distance(distances: np.ndarray, dimension: int) -> np.ndarray:
    """``(mean_j (1 / d_ij)^dim)^(-1/dim)`` over the other members, per row.

    Scaled by each row's smallest non-zero distance so that high dimensions do
    not overflow; identical points (distance 0) are left out of the mean.
    """
    n = distances.shape[0]
    positive = distances > 0
    if not positive.any():
        return np.zeros(n)
    nearest = np.where(positive, distances, np.inf).min(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(positive, nearest[:, None] / np.where(positive, distances, 1.0), 0.0)
        scaled = (ratios**dimension).sum(axis=1) / (n - 1)
        core = nearest * scaled ** (-1.0 / dimension)
    core[~np.isfinite(nearest)] = np.inf
    return core


def _prim_mst(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Minimum spanning tree of a dense symmetric weight matrix: (parent, child, weight).

    Prim from node 0; among equally near nodes the lowest-numbered joins first.
    """
    n = weights.shape[0]
    in_tree = np.zeros(n, dtype=bool)
    best = np.full(n, np.inf)
    best_from = np.zeros(n, dtype=np.int64)
    parents = np.empty(n - 1, dtype=np.int64)
    children = np.empty(n - 1, dtype=np.int64)
    edge_weights = np.empty(n - 1)
    current = 0
    in_tree[0] = True
    for step in range(n - 1):
        row = weights[current]
        closer = (row < best) & ~in_tree
        best[closer] = row[closer]
        best_from[closer] = current
        candidates = np.where(in_tree, np.inf, best)
        current = int(np.argmin(candidates))
        weight = best[current]
        # Mutual reachability has many ties; attach to the lowest-numbered tree
        # node at (numerically) the same distance, as hdbscan's validity_index.
        tied = np.flatnonzero(in_tree & np.isclose(weights[current], weight))
        parents[step] = tied[0] if tied.size else best_from[current]
        children[step], edge_weights[step] = current, weight
        in_tree[current] = True
    return parents, children, edge_weights


def _cluster_summary(points, metric, p, dimension):
    """Core distances, internal nodes and density sparseness of one cluster."""
    distances = _pairwise(points, points, metric, p)
    core = _all_points_core_distance(distances, dimension)
    reach = np.maximum(distances, np.maximum(core[:, None], core[None, :]))
    parents, children, weights = _prim_mst(reach)
    degree = np.bincount(np.concatenate([parents, children]), minlength=points.shape[0])
    internal = np.flatnonzero(degree > 1)
    if internal.size == 0:
        internal = np.array([0])
    is_internal = np.zeros(points.shape[0], dtype=bool)
    is_internal[internal] = True
    internal_edges = is_internal[parents] & is_internal[children]
    sparseness = weights[internal_edges].max() if internal_edges.any() else weights.max()
    return core, internal, float(sparseness)


def dbcv_score(X, labels, metric="euclidean", *, p=None, per_cluster=False):
    """Density-Based Clustering Validation index of a labelling.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    labels : array-like of shape (n_samples,)
        Integer cluster labels, -1 for noise.
    metric : str, default="euclidean"
        A metric of :mod:`clustra._kernels.distances` (true distances are used).
    p : float, optional
        Minkowski exponent.
    per_cluster : bool, default=False
        Also return each cluster's validity (in sorted label order).

    Returns
    -------
    float, or (float, ndarray of shape (n_clusters,)) with ``per_cluster=True``.

    Notes
    -----
    Needs the distance matrix of each cluster: O(max cluster size^2) memory and
    O(sum of size^2 * d) time; a cluster too large for 2 GiB is refused with a
    message. Equal to ``hdbscan.validity.validity_index`` (same metric) within
    1e-8 in the tests.
    """
    X = check_data(X)
    labels = check_labels(labels, X.shape[0])
    if labels.dtype.kind not in "iu":
        raise ValueError(
            f"dbcv_score needs integer labels (-1 for noise), got dtype {labels.dtype}."
        )
    clustered = ~noise_mask(labels)
    cluster_ids, sizes = np.unique(labels[clustered], return_counts=True)
    if cluster_ids.size < 2:
        raise ValueError(
            f"dbcv_score needs at least 2 clusters (besides noise), got {cluster_ids.size}. "
            "Density separation is not defined for a single cluster."
        )
    if sizes.min() < 2:
        bad = cluster_ids[np.argmin(sizes)]
        raise ValueError(
            f"dbcv_score needs clusters of at least 2 points; cluster {bad} has 1. "
            "Relabel such points as noise (-1)."
        )
    largest = int(sizes.max())
    if largest * largest * 8 * 3 > _MAX_CLUSTER_MATRIX_BYTES:
        raise MemoryError(
            f"dbcv_score needs about {largest * largest * 24 / 1024**3:.1f} GiB for the distance "
            f"matrices of its largest cluster ({largest} points); score a random subsample "
            "(rows and their labels) instead."
        )
    dimension = X.shape[1]
    members = [X[labels == cid] for cid in cluster_ids]
    summaries = [_cluster_summary(points, metric, p, dimension) for points in members]
    n_clusters = cluster_ids.size
    separation = np.full((n_clusters, n_clusters), np.inf)
    for i in range(n_clusters):
        core_i, internal_i, _ = summaries[i]
        for j in range(i + 1, n_clusters):
            core_j, internal_j, _ = summaries[j]
            between = _pairwise(members[i][internal_i], members[j][internal_j], metric, p)
            reach = np.maximum(
                between, np.maximum(core_i[internal_i][:, None], core_j[internal_j][None, :])
            )
            separation[i, j] = separation[j, i] = reach.min()
    sparseness = np.array([summary[2] for summary in summaries])
    nearest = separation.min(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        validity = (nearest - sparseness) / np.maximum(nearest, sparseness)
    score = float(np.sum(sizes / X.shape[0] * validity))
    return (score, validity) if per_cluster else score
