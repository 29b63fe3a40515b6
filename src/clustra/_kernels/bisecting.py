"""Bisecting K-Means kernels: the inertia of every cluster in one pass.

``X`` is a C-contiguous ``(n_samples, n_features)`` array of float32 or
float64, ``weights`` ``(n_samples,)`` of X's dtype, ``centers``
``(n_clusters, n_features)`` of X's dtype and ``labels`` ``(n_samples,)``
int32 with values in ``0 .. n_clusters - 1``. Rows are taken in chunks of
:data:`CHUNK`, each chunk writing its own float64 partial sums, added in chunk
order: the result does not depend on the number of threads.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from clustra._kernels.kmeans_data import add_chunks

CHUNK = 1024


@njit(parallel=True, cache=True)
def inertia_per_cluster(X, weights, centers, labels):
    """(n_clusters,) float64: each cluster's weighted sum of squared distances to its centre.

    A chunk adds its rows' terms per cluster and feature (a loop over the
    features that vectorises), then folds the features; chunks are added in
    chunk order.
    """
    n_samples, n_features = X.shape
    n_clusters = centers.shape[0]
    total_chunks = (n_samples + CHUNK - 1) // CHUNK
    partial = np.zeros((total_chunks, n_clusters))
    for chunk in prange(total_chunks):
        by_feature = np.zeros((n_clusters, n_features))
        for i in range(chunk * CHUNK, min((chunk + 1) * CHUNK, n_samples)):
            weight = np.float64(weights[i])
            label = labels[i]
            for f in range(n_features):
                diff = np.float64(X[i, f]) - np.float64(centers[label, f])
                by_feature[label, f] += weight * (diff * diff)
        for j in range(n_clusters):
            partial[chunk, j] = by_feature[j].sum()
    return add_chunks(partial)


@njit(parallel=True, cache=True)
def take_rows(X, rows):
    """``X[rows]``: a new C-contiguous ``(rows.size, n_features)`` array of X's dtype.

    ``rows`` is int64 (intp), each in ``0 .. n_samples - 1``. numpy's fancy
    indexing copies on one thread; the copy is memory-bound and two threads
    move it faster.
    """
    n_rows = rows.shape[0]
    n_features = X.shape[1]
    out = np.empty((n_rows, n_features), dtype=X.dtype)
    total_chunks = (n_rows + CHUNK - 1) // CHUNK
    for chunk in prange(total_chunks):
        for i in range(chunk * CHUNK, min((chunk + 1) * CHUNK, n_rows)):
            row = rows[i]
            for f in range(n_features):
                out[i, f] = X[row, f]
    return out


@njit(cache=True)
def partition_rows(labels, rows, weights):
    """Split ``rows`` by ``labels`` (0 or 1), keeping their order; also the weight of label 0.

    ``labels`` is ``(n,)`` int32, ``rows`` ``(n,)`` int64 (the row numbers the
    labels belong to), ``weights`` ``(n,)`` float32 or float64. Returns
    ``(left_rows, right_rows, left_weight)``: int64 arrays and a float64 sum.
    One thread: a pass over a few bytes per row, faster than numpy's three
    boolean-index passes.
    """
    n = labels.shape[0]
    n_left = 0
    for i in range(n):
        if labels[i] == 0:
            n_left += 1
    left = np.empty(n_left, dtype=np.int64)
    right = np.empty(n - n_left, dtype=np.int64)
    left_weight = 0.0
    i_left = 0
    i_right = 0
    for i in range(n):
        if labels[i] == 0:
            left[i_left] = rows[i]
            left_weight += np.float64(weights[i])
            i_left += 1
        else:
            right[i_right] = rows[i]
            i_right += 1
    return left, right, left_weight
