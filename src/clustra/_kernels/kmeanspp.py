"""Greedy k-means++ seeding kernels.

``X`` is a C-contiguous ``(n_samples, n_features)`` float32/float64 array,
``weights`` ``(n_samples,)`` of the same dtype; squared distances are float64
and computed with the direct formula ``sum (x - c)^2`` (no cancellation).
Every sum is made of per-chunk partials added in chunk order, so the seeding
does not depend on the number of threads.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

CHUNK = 4096


@njit(cache=True, inline="always")
def _sq_distance_to(X, i, point):
    total = 0.0
    for f in range(X.shape[1]):
        diff = np.float64(X[i, f]) - np.float64(point[f])
        total += diff * diff
    return total


@njit(parallel=True, cache=True)
def sq_distances_to_point(X, point):
    """(n,) float64: squared distance of every row of X to ``point`` ((d,), X's dtype)."""
    n_samples = X.shape[0]
    out = np.empty(n_samples, dtype=np.float64)
    for i in prange(n_samples):
        out[i] = _sq_distance_to(X, i, point)
    return out


@njit(parallel=True, cache=True)
def candidate_potentials(X, weights, closest_sq, candidates):
    """Potential (weighted sum of squared distances to the nearest centre) for each candidate.

    Parameters
    ----------
    X : (n, d); weights : (n,) X's dtype; closest_sq : (n,) float64, squared
        distance of each row to its nearest chosen centre so far.
    candidates : (t, d), X's dtype: the candidate centres.

    Returns
    -------
    (t,) float64: ``sum_i w_i min(closest_sq_i, ||x_i - candidate||^2)``.
    """
    n_samples = X.shape[0]
    n_candidates = candidates.shape[0]
    total_chunks = (n_samples + CHUNK - 1) // CHUNK
    partial = np.zeros((total_chunks, n_candidates), dtype=np.float64)
    for chunk in prange(total_chunks):
        for i in range(chunk * CHUNK, min((chunk + 1) * CHUNK, n_samples)):
            w = np.float64(weights[i])
            for t in range(n_candidates):
                d2 = _sq_distance_to(X, i, candidates[t])
                partial[chunk, t] += w * min(d2, closest_sq[i])
    out = np.zeros(n_candidates, dtype=np.float64)
    for chunk in range(total_chunks):
        for t in range(n_candidates):
            out[t] += partial[chunk, t]
    return out


@njit(parallel=True, cache=True)
def update_closest(X, point, closest_sq):
    """closest_sq[i] = min(closest_sq[i], ||x_i - point||^2), in place."""
    for i in prange(X.shape[0]):
        d2 = _sq_distance_to(X, i, point)
        if d2 < closest_sq[i]:
            closest_sq[i] = d2


@njit(parallel=True, cache=True)
def weighted_total(values, weights):
    """sum_i weights[i] * values[i] in float64, chunk order (thread-count independent)."""
    n = values.shape[0]
    total_chunks = (n + CHUNK - 1) // CHUNK
    partial = np.zeros(total_chunks, dtype=np.float64)
    for chunk in prange(total_chunks):
        total = 0.0
        for i in range(chunk * CHUNK, min((chunk + 1) * CHUNK, n)):
            total += np.float64(weights[i]) * values[i]
        partial[chunk] = total
    result = 0.0
    for chunk in range(total_chunks):
        result += partial[chunk]
    return result
