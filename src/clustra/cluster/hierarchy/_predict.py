"""Assigning new points to the clusters of a fitted hierarchical clustering."""

from __future__ import annotations

import numpy as np

_CHUNK_BYTES = 64 * 2**20


def _distance_chunks(X, X_train, metric):
    """Yield (start, distances to every training point) for row blocks of ``X``."""
    from sklearn.metrics import pairwise_distances

    if metric == "precomputed":
        yield 0, np.asarray(X, dtype=np.float64)
        return
    rows = max(1, _CHUNK_BYTES // (8 * max(X_train.shape[0], 1)))
    for start in range(0, X.shape[0], rows):
        yield start, pairwise_distances(X[start:start + rows], X_train, metric=metric)


def assign(X, X_train, labels, n_clusters, linkage, metric) -> np.ndarray:
    """Labels (int64, shape (n_new,)) of new points ``X`` under the rule of ``linkage``.

    ward: nearest cluster mean. single: the cluster of the nearest training
    point. complete / average: the smallest largest / mean distance to a
    cluster's members.
    """
    if linkage == "ward":
        from sklearn.metrics import pairwise_distances_argmin

        counts = np.bincount(labels, minlength=n_clusters).astype(np.float64)
        centres = np.zeros((n_clusters, X_train.shape[1]))
        np.add.at(centres, labels, X_train)
        centres /= counts[:, None]
        return pairwise_distances_argmin(X, centres).astype(np.int64)
    out = np.empty(X.shape[0], dtype=np.int64)
    order = np.argsort(labels, kind="stable")
    starts = np.searchsorted(labels[order], np.arange(n_clusters))
    counts = np.bincount(labels, minlength=n_clusters)
    for start, D in _distance_chunks(X, X_train, metric):
        if linkage == "single":
            out[start:start + D.shape[0]] = labels[np.argmin(D, axis=1)]
            continue
        D = D[:, order]
        if linkage == "complete":
            per_cluster = np.maximum.reduceat(D, starts, axis=1)
        else:
            per_cluster = np.add.reduceat(D, starts, axis=1) / counts
        out[start:start + D.shape[0]] = np.argmin(per_cluster, axis=1)
    return out
