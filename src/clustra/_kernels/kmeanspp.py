"""Greedy k-means++ seeding kernels.

``X`` is a C-contiguous ``(n_samples, n_features)`` float32/float64 array,
``weights`` ``(n_samples,)`` of the same dtype; squared distances are float64
and computed with the direct formula ``sum (x - c)^2`` (no cancellation).
Every sum is made of per-chunk partials added in chunk order, so the seeding
does not depend on the number of threads.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from clustra._kernels.blocks import run_blocks

CHUNK = 4096
TILE = 128  # rows gathered and scored together (a divisor of CHUNK)


@njit(cache=True)
def _tile_sq_distances(X, start, stop, candidates, x_t, acc, out):
    """out[t, start:stop] = squared distances of rows start..stop-1 to candidate t.

    The rows are gathered transposed into ``x_t`` ((d, TILE) float64) so the
    loops run over rows without a reduction and vectorise, two features per
    pass over the (TILE,) float64 accumulator ``acc``; the terms are added in
    feature order, one after another (a plain sum of the squared differences).
    """
    n_rows = stop - start
    n_features = X.shape[1]
    for r in range(n_rows):
        for f in range(n_features):
            x_t[f, r] = X[start + r, f]
    for t in range(candidates.shape[0]):
        c = np.float64(candidates[t, 0])
        x0 = x_t[0]
        for r in range(TILE):
            diff = x0[r] - c
            acc[r] = diff * diff
        for f in range(1, n_features - 1, 2):
            c0 = np.float64(candidates[t, f])
            c1 = np.float64(candidates[t, f + 1])
            x0 = x_t[f]
            x1 = x_t[f + 1]
            for r in range(TILE):
                d0 = x0[r] - c0
                d1 = x1[r] - c1
                acc[r] = (acc[r] + d0 * d0) + d1 * d1
        if n_features % 2 == 0:
            c = np.float64(candidates[t, n_features - 1])
            x0 = x_t[n_features - 1]
            for r in range(TILE):
                diff = x0[r] - c
                acc[r] += diff * diff
        for r in range(n_rows):
            out[t, start + r] = acc[r]


@njit(nogil=True, cache=True)
def _potential_chunks(X, weights, closest_sq, candidates, distances, partial, begin, end):
    """Chunks [begin, end) of :func:`candidate_potentials`: their partials into ``partial``."""
    n_samples, n_features = X.shape
    n_candidates = candidates.shape[0]
    x_t = np.zeros((n_features, TILE))
    acc = np.empty(TILE)
    for chunk in range(begin, end):
        stop_chunk = min((chunk + 1) * CHUNK, n_samples)
        for start in range(chunk * CHUNK, stop_chunk, TILE):
            _tile_sq_distances(X, start, min(start + TILE, stop_chunk), candidates, x_t, acc,
                               distances)
        for t in range(n_candidates):
            total = 0.0
            for i in range(chunk * CHUNK, stop_chunk):
                total += np.float64(weights[i]) * min(distances[t, i], closest_sq[i])
            partial[chunk, t] = total
    return 0


def candidate_potentials(X, weights, closest_sq, candidates, distances):
    """Potential (weighted sum of squared distances to the nearest centre) for each candidate.

    Parameters
    ----------
    X : (n, d); weights : (n,) X's dtype; closest_sq : (n,) float64, squared
        distance of each row to its nearest chosen centre so far.
    candidates : (t, d), X's dtype: the candidate centres.
    distances : (t, n) float64, out: squared distance of every row to every
        candidate (so the chosen one's need not be computed again).

    Returns
    -------
    (t,) float64: ``sum_i w_i min(closest_sq_i, ||x_i - candidate||^2)``.
    """
    total_chunks = (X.shape[0] + CHUNK - 1) // CHUNK
    partial = np.zeros((total_chunks, candidates.shape[0]), dtype=np.float64)
    run_blocks(_potential_chunks, total_chunks, X, weights, closest_sq, candidates, distances,
               partial)
    if total_chunks == 0:
        return np.zeros(candidates.shape[0])
    return np.cumsum(partial, axis=0)[-1]  # chunk partials added in chunk order


def sq_distances_to_point(X, weights, point):
    """(n,) float64: squared distance of every row of X to ``point`` ((d,), X's dtype).

    The distances :func:`candidate_potentials` computes for one candidate
    (the same terms in the same order), so that seeding compiles one distance
    kernel rather than two; ``weights`` as there (the potential is not used).
    """
    n_samples = X.shape[0]
    distances = np.empty((1, n_samples))
    candidate_potentials(X, weights, np.full(n_samples, np.inf), point.reshape(1, -1),
                         distances)
    return distances[0]
