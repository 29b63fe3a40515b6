"""Greedy k-means++ seeding kernels.

``X`` is a C-contiguous ``(n_samples, n_features)`` float32/float64 array,
``weights`` ``(n_samples,)`` of the same dtype; squared distances are float64
and computed with the direct formula ``sum (x - c)^2`` (no cancellation).
Every sum is made of per-chunk partials added in chunk order, so the seeding
does not depend on the number of threads.

A row whose nearest chosen centre ``a`` lies within half the distance from
``a`` to a candidate cannot come closer to that candidate (the triangle
inequality): its distance to the candidate is not computed (it is stored as
infinite), which leaves the potentials, and so the seeds, exactly as if it had
been; on well-separated data most rows are skipped that way once their
cluster has a centre.
"""

from __future__ import annotations

import numpy as np

from clustra._kernels.blocks import claim, run_claimed
from clustra._kernels.jit import inner, kernel
from clustra._kernels.kmeans_sums import CHUNK as SUMS_CHUNK

CHUNK = 4096
TILE = 128  # rows gathered and scored together (a divisor of CHUNK)

# A row is skipped for a candidate when closest_sq < SKIP_SCALE * (squared
# distance from candidate to the row's nearest centre) - SKIP_SLACK: a quarter,
# less a relative and an absolute margin far above the rounding of the float64
# distances (relative 2^-50 per feature up to 2^20 features, and underflow).
SKIP_SCALE = 0.25 * (1.0 - 2.0**-18)
SKIP_SLACK = 2.0**-900

# Up to this many rows (one chunk of the other K-Means passes) the seeding runs in
# numpy (see _numpy_potentials): the same seeds, and a first small fit compiles none
# of the seeding kernels. (``clustra warmup`` fits more rows, to compile them.)
NUMPY_MAX_ROWS = SUMS_CHUNK


@inner
def _tile_sq_distances(X, rows, n_rows, candidates, x_t, acc, out):
    """out[t, rows[r]] = squared distance of row ``rows[r]`` to candidate t, r < n_rows.

    The rows are gathered transposed into ``x_t`` ((d, TILE) float64) so the
    loops run over rows without a reduction and vectorise, two features per
    pass over the (TILE,) float64 accumulator ``acc``; the terms are added in
    feature order, one after another (a plain sum of the squared differences).
    """
    n_features = X.shape[1]
    for r in range(n_rows):
        i = rows[r]
        for f in range(n_features):
            x_t[f, r] = X[i, f]
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
        out_t = out[t]
        for r in range(n_rows):
            out_t[rows[r]] = acc[r]


@inner
def _list_needed(closest_sq, nearest, skip_below, start, stop, rows):
    """List in ``rows`` the rows ``start .. stop - 1`` some candidate may come closer to.

    Row i is left out when ``closest_sq[i] < skip_below[t, nearest[i]]`` for
    every candidate t. Returns how many were listed.
    """
    n_candidates = skip_below.shape[0]
    n_listed = 0
    for i in range(start, stop):
        nearest_i = nearest[i]
        closest = closest_sq[i]
        needed = False
        for t in range(n_candidates):
            needed |= not closest < skip_below[t, nearest_i]
        rows[n_listed] = i
        n_listed += needed  # listed without a branch: which rows are needed is unpredictable
    return n_listed


@kernel
def _potential_chunks(X, weights, closest_sq, nearest, candidates, skip_below, distances,
                      partial, blocks):
    """The chunks of :func:`candidate_potentials` claimed from ``blocks``: their partials."""
    n_samples, n_features = X.shape
    n_candidates = candidates.shape[0]
    x_t = np.zeros((n_features, TILE), dtype=closest_sq.dtype)  # float64, as acc
    acc = np.empty(TILE, dtype=closest_sq.dtype)
    rows = np.empty(TILE, dtype=np.int64)
    begin, end = claim(blocks)
    while begin < end:
        for chunk in range(begin, end):
            stop_chunk = min((chunk + 1) * CHUNK, n_samples)
            for t in range(n_candidates):
                for i in range(chunk * CHUNK, stop_chunk):
                    distances[t, i] = np.inf
            for start in range(chunk * CHUNK, stop_chunk, TILE):
                stop = min(start + TILE, stop_chunk)
                n_rows = _list_needed(closest_sq, nearest, skip_below, start, stop, rows)
                if n_rows:
                    _tile_sq_distances(X, rows, n_rows, candidates, x_t, acc, distances)
            for t in range(n_candidates):
                total = 0.0
                for i in range(chunk * CHUNK, stop_chunk):
                    total += np.float64(weights[i]) * min(distances[t, i], closest_sq[i])
                partial[chunk, t] = total
        begin, end = claim(blocks)
    return 0


def skip_thresholds(candidates, centers):
    """(t, c) float64: below these ``closest_sq``, a row whose nearest centre is c cannot
    come closer to candidate t (see :data:`SKIP_SCALE`); ``centers`` the centres chosen."""
    diff = candidates.astype(np.float64)[:, None, :] - centers.astype(np.float64)[None, :, :]
    return np.einsum("tcf,tcf->tc", diff, diff) * SKIP_SCALE - SKIP_SLACK


def candidate_potentials(X, weights, closest_sq, nearest, candidates, skip_below, distances):
    """Potential (weighted sum of squared distances to the nearest centre) for each candidate.

    Parameters
    ----------
    X : (n, d); weights : (n,) X's dtype; closest_sq : (n,) float64, squared
        distance of each row to its nearest chosen centre so far; nearest :
        (n,) int32, that centre's index.
    candidates : (t, d), X's dtype: the candidate centres.
    skip_below : (t, c) float64, :func:`skip_thresholds` of the candidates
        and the c centres chosen so far (zeros: skip nothing).
    distances : (t, n) float64, out: squared distance of every row to every
        candidate (so the chosen one's need not be computed again), infinite
        for the rows skipped (none are up to :data:`NUMPY_MAX_ROWS` rows).

    Returns
    -------
    (t,) float64: ``sum_i w_i min(closest_sq_i, ||x_i - candidate||^2)``.
    """
    if 0 < X.shape[0] <= NUMPY_MAX_ROWS:
        return _numpy_potentials(X, weights, closest_sq, candidates, distances)
    total_chunks = (X.shape[0] + CHUNK - 1) // CHUNK
    partial = np.zeros((total_chunks, candidates.shape[0]), dtype=np.float64)
    run_claimed(_potential_chunks, total_chunks, X, weights, closest_sq, nearest, candidates,
                skip_below, distances, partial)
    if total_chunks == 0:
        return np.zeros(candidates.shape[0])
    return np.cumsum(partial, axis=0)[-1]  # chunk partials added in chunk order


def _numpy_potentials(X, weights, closest_sq, candidates, distances):
    """:func:`candidate_potentials` on one chunk of rows, in numpy.

    Every distance is measured, its terms added in the kernel's order (feature
    order, in float64), and each potential is the running sum the kernel makes
    (``cumsum`` adds in order). A row the kernel skips cannot come closer to
    the candidate, so its measured distance changes neither the potentials nor
    which rows :func:`take_centre` moves: the same seeds.
    """
    weights64 = weights.astype(np.float64)
    potentials = np.empty(candidates.shape[0])
    for t in range(candidates.shape[0]):
        centre = candidates[t].astype(np.float64)
        acc = distances[t]
        diff = X[:, 0].astype(np.float64) - centre[0]
        np.multiply(diff, diff, out=acc)
        for f in range(1, X.shape[1]):
            diff = X[:, f].astype(np.float64) - centre[f]
            acc += diff * diff
        potentials[t] = np.cumsum(weights64 * np.minimum(acc, closest_sq))[-1]
    return potentials


def sq_distances_to_point(X, weights, point):
    """(n,) float64: squared distance of every row of X to ``point`` ((d,), X's dtype).

    The distances :func:`candidate_potentials` computes for one candidate
    (the same terms in the same order), so that seeding compiles one distance
    kernel rather than two; ``weights`` as there (the potential is not used).
    """
    n_samples = X.shape[0]
    distances = np.empty((1, n_samples))
    candidate_potentials(X, weights, np.full(n_samples, np.inf), np.zeros(n_samples, np.int32),
                         point.reshape(1, -1), np.zeros((1, 1)), distances)
    return distances[0]


def take_centre(closest_sq, nearest, distances, centre, weights, cumulative):
    """Centre number ``centre`` chosen: rows with ``distances`` (n,) below ``closest_sq``
    take it (``closest_sq``, ``nearest`` updated); ``cumulative`` (n,) float64, out:
    the running sum of ``weights * closest_sq`` (the sum numpy's ``cumsum`` makes).

    In numpy up to :data:`NUMPY_MAX_ROWS` rows, else :func:`_take_centre`: the same values.
    """
    if closest_sq.shape[0] > NUMPY_MAX_ROWS:
        _take_centre(closest_sq, nearest, distances, centre, weights, cumulative)
        return
    closer = distances < closest_sq
    closest_sq[closer] = distances[closer]
    nearest[closer] = centre
    np.cumsum(weights.astype(np.float64) * closest_sq, out=cumulative)


@kernel
def _take_centre(closest_sq, nearest, distances, centre, weights, cumulative):
    """:func:`take_centre`'s loop."""
    total = 0.0
    for i in range(closest_sq.shape[0]):
        if distances[i] < closest_sq[i]:
            closest_sq[i] = distances[i]
            nearest[i] = centre
        total += np.float64(weights[i]) * closest_sq[i]
        cumulative[i] = total
