"""K-Means kernels that pass over all the data once: the per-fit preparation
(column sums, centring, row norms, a transposed copy) and the measures of a
result (inertia, distances, how many clusters are used).

``X`` is a C-contiguous ``(n_samples, n_features)`` float32 or float64 array;
``weights`` ``(n_samples,)`` of the same dtype; ``labels`` ``(n_samples,)``
int32; centres ``(n_clusters, n_features)`` in X's dtype. Sums are float64
per-chunk partials added in chunk order, so results never depend on the
number of threads.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from clustra._kernels.kmeans_sums import CHUNK


@njit(cache=True, inline="always")
def sq_distance(X, i, centers, j):
    """Squared Euclidean distance (float64) of row i of X to centre j."""
    total = 0.0
    for f in range(X.shape[1]):
        diff = np.float64(X[i, f]) - np.float64(centers[j, f])
        total += diff * diff
    return total


@njit(parallel=True, cache=True)
def transpose(X):
    """X's rows as columns: a new C-contiguous ``(d, n)`` array of X's dtype."""
    n_samples, n_features = X.shape
    out = np.empty((n_features, n_samples), dtype=X.dtype)
    total_chunks = (n_samples + CHUNK - 1) // CHUNK
    for chunk in prange(total_chunks):
        for f in range(n_features):
            column = out[f]
            for i in range(chunk * CHUNK, min((chunk + 1) * CHUNK, n_samples)):
                column[i] = X[i, f]
    return out


@njit(cache=True)
def n_distinct_labels(labels, n_clusters):
    """How many of the labels ``0 .. n_clusters - 1`` occur, stopping once all have.

    Usually every cluster shows up within the first few hundred rows, so this
    reads a sliver of the labels rather than all of them.
    """
    seen = np.zeros(n_clusters, dtype=np.bool_)
    n_seen = 0
    for i in range(labels.shape[0]):
        label = labels[i]
        if not seen[label]:
            seen[label] = True
            n_seen += 1
            if n_seen == n_clusters:
                break
    return n_seen


@njit(parallel=True, cache=True)
def inertia(X, weights, centers, labels):
    """Weighted sum of squared distances to the assigned centres, float64, chunk order.

    A chunk adds its rows' terms per feature, in a loop over the features that
    vectorises (a row's sum of squares, a reduction, does not), then adds its
    features; the chunks are added in chunk order.
    """
    n_samples, n_features = X.shape
    total_chunks = (n_samples + CHUNK - 1) // CHUNK
    partial = np.zeros(total_chunks, dtype=np.float64)
    for chunk in prange(total_chunks):
        by_feature = np.zeros(n_features)
        for i in range(chunk * CHUNK, min((chunk + 1) * CHUNK, n_samples)):
            weight = np.float64(weights[i])
            label = labels[i]
            for f in range(n_features):
                diff = np.float64(X[i, f]) - np.float64(centers[label, f])
                by_feature[f] += weight * (diff * diff)
        partial[chunk] = by_feature.sum()
    result = 0.0
    for chunk in range(total_chunks):
        result += partial[chunk]
    return result


@njit(parallel=True, cache=True)
def distances(X, centers):
    """(n, k) array of X's dtype: Euclidean distance of every row to every centre."""
    n_samples = X.shape[0]
    n_clusters = centers.shape[0]
    out = np.empty((n_samples, n_clusters), dtype=X.dtype)
    for i in prange(n_samples):
        for j in range(n_clusters):
            out[i, j] = math.sqrt(sq_distance(X, i, centers, j))
    return out


@njit(parallel=True, cache=True)
def column_sums(X):
    """(d,) float64 sum of every column (chunk partials added in chunk order).

    A NaN or inf anywhere makes its column's sum non-finite, so a finite
    result also proves the input finite.
    """
    n_samples, n_features = X.shape
    total_chunks = (n_samples + CHUNK - 1) // CHUNK
    partial = np.zeros((total_chunks, n_features))
    for chunk in prange(total_chunks):
        for i in range(chunk * CHUNK, min((chunk + 1) * CHUNK, n_samples)):
            for f in range(n_features):
                partial[chunk, f] += X[i, f]
    return add_chunks(partial)


@njit(cache=True)
def add_chunks(partial):
    """(m,) float64: the rows of ``partial`` ((n_chunks, m) float64) added in chunk order."""
    out = np.zeros(partial.shape[1])
    for chunk in range(partial.shape[0]):
        for j in range(partial.shape[1]):
            out[j] += partial[chunk, j]
    return out


@njit(parallel=True, cache=True)
def centre(X, shift, out):
    """out = X - shift row by row (``out`` may be X itself); returns the column variances.

    ``shift`` is (d,) in X's dtype, ``out`` (n, d) of X's dtype. The returned
    (d,) float64 variances are those of ``out`` (the mean of the squares less
    the square of the mean; ``out``'s column means are tiny after centring, so
    nothing cancels).
    """
    n_samples, n_features = X.shape
    total_chunks = (n_samples + CHUNK - 1) // CHUNK
    sums = np.zeros((total_chunks, n_features))
    squares = np.zeros((total_chunks, n_features))
    for chunk in prange(total_chunks):
        for i in range(chunk * CHUNK, min((chunk + 1) * CHUNK, n_samples)):
            for f in range(n_features):
                value = X[i, f] - shift[f]
                out[i, f] = value
                sums[chunk, f] += value
                squares[chunk, f] += np.float64(value) * np.float64(value)
    variances = np.zeros(n_features)
    for f in range(n_features):
        total = 0.0
        total_sq = 0.0
        for chunk in range(total_chunks):
            total += sums[chunk, f]
            total_sq += squares[chunk, f]
        mean = total / n_samples
        variances[f] = max(total_sq / n_samples - mean * mean, 0.0)
    return variances


@njit(parallel=True, cache=True)
def row_sq_norms(X):
    """(n,) float64 squared Euclidean norm of every row."""
    n_samples, n_features = X.shape
    out = np.empty(n_samples)
    for i in prange(n_samples):
        total = 0.0
        for f in range(n_features):
            value = np.float64(X[i, f])
            total += value * value
        out[i] = total
    return out
