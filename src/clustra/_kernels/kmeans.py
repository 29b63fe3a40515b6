"""K-Means kernels: the Lloyd passes, the per-fit preparation, and helpers.

The exact Hamerly pass is in :mod:`clustra._kernels.kmeans_hamerly`, the tile
scoring both use in :mod:`clustra._kernels.kmeans_tiles`.

Conventions shared by every kernel here:

- ``X`` is a C-contiguous ``(n_samples, n_features)`` array of float32 or
  float64; ``weights`` is ``(n_samples,)`` of the same dtype (the move
  kernels also take an empty array for unit weights, see
  :func:`move_weights`); ``labels`` is ``(n_samples,)`` int32.
- Centres are ``(n_clusters, n_features)`` in X's dtype, with
  ``neg_half_norms[j] = -||c_j||^2 / 2``. The nearest centre of ``x`` is the
  argmax of the *score* ``x . c_j - ||c_j||^2 / 2`` (since ``||x - c_j||^2 =
  ||x||^2 - 2 score_j``), computed in X's dtype. Rows are scored a tile at a
  time, gathered and transposed so that the row index is the inner loop (see
  :func:`clustra._kernels.kmeans_tiles.tile_best`): either by the kernel's own loops, which have no
  reduction and so vectorise without ``fastmath``, or, for large problems,
  by one BLAS product per tile. Ties go to the lowest centre index, as in
  scikit-learn.
- Rows are processed in chunks of :data:`CHUNK` rows. Every chunk writes its
  own float64 partial sums; partials are added in chunk order. The results
  therefore depend on ``CHUNK`` but never on the number of threads.
- Within one fit every kernel scores with the same path, so Lloyd and
  Hamerly agree on every score and give the same labels; their centres agree
  up to the rounding of Hamerly's incremental sums (see
  :func:`clustra._kernels.kmeans_hamerly.hamerly_pass`).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from clustra._kernels.kmeans_tiles import (
    TILE,
    nearest_few_features,
    tile_best,
    tile_buffers,
    tile_rows,
)

CHUNK = 1024  # rows per chunk: the unit of work and of partial sums

# Lloyd processes chunks in groups so that the partial sums of one group
# (group_size x n_clusters x n_features float64) stay within this budget.
_GROUP_BUDGET_BYTES = 32 * 1024 * 1024


def n_chunks(n_samples: int) -> int:
    return (n_samples + CHUNK - 1) // CHUNK


def move_weights(weights: np.ndarray) -> np.ndarray:
    """The weights the move kernels read: empty when every weight is 1.

    Those kernels read a row's weight only when the row changes cluster, at
    a scattered position the scoring has not brought into cache: a cache
    miss per moved row (most of the cost of a move on 1M x 2 data). With
    unit weights nothing needs reading.
    """
    return weights[:0] if bool(np.all(weights == 1)) else weights


def group_size(n_clusters: int, n_features: int) -> int:
    """Chunks per Lloyd group (only memory depends on it, never the results)."""
    per_chunk = 8 * n_clusters * (n_features + 1)
    return int(max(4, min(1 << 20, _GROUP_BUDGET_BYTES // max(per_chunk, 1))))


@njit(cache=True, inline="always")
def row_weight(weights, i):
    """Row i's weight as float64; an empty ``weights`` means 1 (see :func:`move_weights`)."""
    return np.float64(weights[i]) if weights.shape[0] else 1.0


@njit(cache=True, inline="always")
def add_row(X, i, label, w, sums, weight_sums):
    """Add row i, with weight ``w`` (float64; negative subtracts it), to cluster ``label``'s sums.

    (The weight is the caller's, from :func:`row_weight`: choosing it in here,
    with float32 X, compiled to a stack slot written as 4 bytes and read as
    8, a stalled load per row: 500,000 rows took 11 instead of 3 ms.)
    """
    weight_sums[label] += w
    for f in range(X.shape[1]):
        sums[label, f] += w * np.float64(X[i, f])


@njit(cache=True)
def _lloyd_chunk(X, weights, centers, neg_half_norms, labels, chunk, chunk_sums, chunk_weights,
                 blas):
    """Assign the rows of one chunk and sum them into chunk_sums (k, d) / chunk_weights (k,).

    The parallel kernels only loop over chunks and call a function like this
    one: a small parallel loop body keeps numba's compile time down.
    Returns how many labels changed.
    """
    n_samples, n_features = X.shape
    work = tile_buffers(n_features, centers.shape[0], X.dtype, blas)
    best, rows = work[4], work[5]
    chunk_sums[:] = 0.0
    chunk_weights[:] = 0.0
    n_changed = 0
    end = min((chunk + 1) * CHUNK, n_samples)
    for start in range(chunk * CHUNK, end, TILE):
        n_rows = tile_rows(rows, start, end)
        tile_best(X, rows, n_rows, centers, neg_half_norms, work, False)
        for r in range(n_rows):
            i = start + r
            label = best[r]
            n_changed += labels[i] != label  # branch-free: labels change unpredictably
            labels[i] = label
            add_row(X, i, label, row_weight(weights, i), chunk_sums, chunk_weights)
    return n_changed


@njit(cache=True)
def _assign_chunk(X, centers, neg_half_norms, labels, chunk, blas):
    """Nearest centre of the rows of one chunk into labels; returns how many changed."""
    n_samples, n_features = X.shape
    work = tile_buffers(n_features, centers.shape[0], X.dtype, blas)
    best, rows = work[4], work[5]
    n_changed = 0
    end = min((chunk + 1) * CHUNK, n_samples)
    for start in range(chunk * CHUNK, end, TILE):
        n_rows = tile_rows(rows, start, end)
        tile_best(X, rows, n_rows, centers, neg_half_norms, work, False)
        for r in range(n_rows):
            n_changed += labels[start + r] != best[r]
            labels[start + r] = best[r]
    return n_changed


@njit(parallel=True, cache=True)
def lloyd_pass(X, weights, centers, neg_half_norms, labels, sums, weight_sums, n_per_group,
               blas):
    """One fused Lloyd pass: assign every row and sum it into its new centre.

    Parameters
    ----------
    X : (n, d) float32/float64, C-contiguous.
    weights : (n,) same dtype.
    centers : (k, d) and neg_half_norms : (k,), X's dtype (see module doc).
    labels : (n,) int32, updated in place (the previous labels on entry).
    sums : (k, d) float64, out: weighted sum of the rows of each cluster.
    weight_sums : (k,) float64, out: total weight of each cluster.
    n_per_group : int, chunks per group (memory only; results do not depend on it).
    blas : bool, score by BLAS matrix products (see :func:`tile_best`); the
        caller holds BLAS to one thread.

    Returns
    -------
    n_changed : int, how many labels changed.
    """
    n_samples, n_features = X.shape
    n_clusters = centers.shape[0]
    total_chunks = (n_samples + CHUNK - 1) // CHUNK
    partial_sums = np.empty((n_per_group, n_clusters, n_features), dtype=np.float64)
    partial_weights = np.empty((n_per_group, n_clusters), dtype=np.float64)
    changed = np.zeros(total_chunks, dtype=np.int64)
    sums[:] = 0.0
    weight_sums[:] = 0.0
    for first in range(0, total_chunks, n_per_group):
        n_here = min(n_per_group, total_chunks - first)
        for g in prange(n_here):
            changed[first + g] = _lloyd_chunk(
                X, weights, centers, neg_half_norms, labels, np.int64(first + g), partial_sums[g],
                partial_weights[g], blas,
            )
        for g in range(n_here):
            for j in range(n_clusters):
                weight_sums[j] += partial_weights[g, j]
                for f in range(n_features):
                    sums[j, f] += partial_sums[g, j, f]
    return changed.sum()


@njit(cache=True, inline="always")
def _take_all(X, weights, labels, start, n_rows, best, chunk_sums, chunk_weights):
    """Store a scored tile's labels (``best``) for rows ``start ..`` and add every row's sums."""
    for r in range(n_rows):
        labels[start + r] = best[r]
        add_row(X, start + r, best[r], row_weight(weights, start + r), chunk_sums, chunk_weights)


@njit(cache=True, inline="always")
def _move_changed(X, weights, labels, start, n_rows, best, chunk_sums, chunk_weights, moved):
    """Take a scored tile's labels (``best``) for rows ``start ..``; move the changed rows' sums.

    ``X`` is indexed ``X[i, f]`` (a transposed view is fine: only the rows
    that changed are read). Returns how many changed.
    """
    labels_here = labels[start:start + n_rows]
    n_moved = 0
    for r in range(n_rows):  # an integer count: vectorised
        n_moved += labels_here[r] != best[r]
    if n_moved == 0:
        return 0
    # List them without branching (which rows changed is unpredictable), then move them.
    n_listed = 0
    for r in range(n_rows):
        moved[n_listed] = r
        n_listed += labels_here[r] != best[r]
    for q in range(n_moved):
        r = moved[q]
        w = row_weight(weights, start + r)
        add_row(X, start + r, labels_here[r], -w, chunk_sums, chunk_weights)
        add_row(X, start + r, best[r], w, chunk_sums, chunk_weights)
    for r in range(n_rows):
        labels_here[r] = best[r]
    return n_moved


@njit(cache=True)
def _lloyd_move_chunk(X, weights, centers, neg_half_norms, labels, chunk, chunk_sums,
                      chunk_weights, first, blas):
    """Assign the rows of one chunk; move the rows that change cluster between its sums.

    With ``first`` the chunk sums start empty and every row is added. Returns
    how many labels changed.
    """
    n_samples, n_features = X.shape
    work = tile_buffers(n_features, centers.shape[0], X.dtype, blas)
    best, rows = work[4], work[5]
    moved = np.empty(TILE, dtype=np.int64)
    n_changed = 0
    end = min((chunk + 1) * CHUNK, n_samples)
    if first:
        chunk_sums[:] = 0.0
        chunk_weights[:] = 0.0
        for start in range(chunk * CHUNK, end, TILE):
            n_rows = tile_rows(rows, start, end)
            tile_best(X, rows, n_rows, centers, neg_half_norms, work, False)
            _take_all(X, weights, labels, start, n_rows, best, chunk_sums, chunk_weights)
        return end - chunk * CHUNK
    for start in range(chunk * CHUNK, end, TILE):
        n_rows = tile_rows(rows, start, end)
        tile_best(X, rows, n_rows, centers, neg_half_norms, work, False)
        n_changed += _move_changed(X, weights, labels, start, n_rows, best, chunk_sums,
                                   chunk_weights, moved)
    return n_changed


@njit(cache=True)
def _lloyd_columns_chunk(x_cols, weights, centers, neg_half_norms, labels, chunk, chunk_sums,
                         chunk_weights, first):
    """:func:`_lloyd_move_chunk` on X transposed (``x_cols``, ``(d, n)``, at most 4 features).

    The tiles are read in place, one contiguous slice per feature, instead of
    being gathered and transposed: with so few features that gather costs
    more than scoring the rows.
    """
    n_samples = x_cols.shape[1]
    X = x_cols.T  # rows, for the sums
    best_score = np.empty(TILE, dtype=x_cols.dtype)
    best = np.empty(TILE, dtype=np.int32)
    moved = np.empty(TILE, dtype=np.int64)
    n_changed = 0
    end = min((chunk + 1) * CHUNK, n_samples)
    if first:
        chunk_sums[:] = 0.0
        chunk_weights[:] = 0.0
        for start in range(chunk * CHUNK, end, TILE):
            n_rows = min(TILE, end - start)
            nearest_few_features(x_cols, start, n_rows, centers, neg_half_norms, best_score, best)
            _take_all(X, weights, labels, start, n_rows, best, chunk_sums, chunk_weights)
        return end - chunk * CHUNK
    for start in range(chunk * CHUNK, end, TILE):
        n_rows = min(TILE, end - start)
        nearest_few_features(x_cols, start, n_rows, centers, neg_half_norms, best_score, best)
        n_changed += _move_changed(X, weights, labels, start, n_rows, best, chunk_sums,
                                   chunk_weights, moved)
    return n_changed


@njit(parallel=True, cache=True)
def lloyd_move_pass(X, weights, centers, neg_half_norms, labels, partial_sums, partial_weights,
                    sums, weight_sums, first, blas, columns):
    """A Lloyd pass that keeps per-chunk sums and moves only the rows that change cluster.

    Scores every row like :func:`lloyd_pass` (the same labels), but reads a row
    again for the sums only when its label changes: after the first few
    iterations that is a small fraction of the rows. The sums equal
    :func:`lloyd_pass`'s up to the rounding of the moves, and are added in
    chunk order, so they do not depend on the number of threads.

    Parameters
    ----------
    X, weights, centers, neg_half_norms, labels : as in :func:`lloyd_pass`,
        except that with ``columns`` X is given transposed, ``(d, n)``, and
        that ``weights`` may be empty for unit weights (see :func:`move_weights`).
    partial_sums : (n_chunks, k, d) and partial_weights : (n_chunks, k)
        float64, the chunk sums, kept from pass to pass.
    sums : (k, d) and weight_sums : (k,) float64, out.
    first : bool, the chunk sums hold nothing yet: add every row.
    blas : bool, as in :func:`lloyd_pass`.
    columns : bool, X is transposed (only for at most 4 features, without BLAS):
        see :func:`_lloyd_columns_chunk`.

    Returns
    -------
    n_changed : int, how many labels changed.
    """
    n_samples = X.shape[1] if columns else X.shape[0]
    total_chunks = (n_samples + CHUNK - 1) // CHUNK
    changed = np.zeros(total_chunks, dtype=np.int64)
    for chunk in prange(total_chunks):
        if columns:
            changed[chunk] = _lloyd_columns_chunk(
                X, weights, centers, neg_half_norms, labels, np.int64(chunk), partial_sums[chunk],
                partial_weights[chunk], first,
            )
        else:
            changed[chunk] = _lloyd_move_chunk(
                X, weights, centers, neg_half_norms, labels, np.int64(chunk), partial_sums[chunk],
                partial_weights[chunk], first, blas,
            )
    add_in_order(partial_sums, partial_weights, sums, weight_sums)
    return changed.sum()


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


@njit(parallel=True, cache=True)
def assign(X, centers, neg_half_norms, labels, blas):
    """Nearest centre of every row into ``labels`` ((n,) int32); no sums. As lloyd_pass.

    Returns how many labels changed.
    """
    n_samples, n_features = X.shape
    total_chunks = (n_samples + CHUNK - 1) // CHUNK
    changed = np.zeros(total_chunks, dtype=np.int64)
    for chunk in prange(total_chunks):
        changed[chunk] = _assign_chunk(X, centers, neg_half_norms, labels, np.int64(chunk), blas)
    return changed.sum()


@njit(cache=True, inline="always")
def sq_distance(X, i, centers, j):
    total = 0.0
    for f in range(X.shape[1]):
        diff = np.float64(X[i, f]) - np.float64(centers[j, f])
        total += diff * diff
    return total


@njit(cache=True)
def add_in_order(partial_sums, partial_weights, sums, weight_sums):
    """sums, weight_sums = the chunk partials added in chunk order (float64)."""
    sums[:] = 0.0
    weight_sums[:] = 0.0
    n_clusters, n_features = sums.shape
    for chunk in range(partial_sums.shape[0]):
        for j in range(n_clusters):
            weight_sums[j] += partial_weights[chunk, j]
            for f in range(n_features):
                sums[j, f] += partial_sums[chunk, j, f]


@njit(cache=True)
def centres_from_sums(sums, weight_sums, centers_old):
    """The new centres (the means, in the old centres' dtype) and how far each moved.

    A cluster with no weight takes the heaviest cluster's mean: that happens
    only when there are fewer distinct points than clusters (as in
    scikit-learn); empty clusters are relocated before this, see
    ``clustra.cluster.kmeans._single.relocate_empty_clusters``. Returns
    ``(centers, shift)``, ``shift`` (k,) float64 the distance between the new
    and the old centre. Compiled rather than a dozen numpy calls: it runs
    once per iteration (14-24 us in numpy, 3 us here).
    """
    n_clusters, n_features = sums.shape
    centers = np.empty_like(centers_old)
    shift = np.empty(n_clusters)
    heaviest = np.argmax(weight_sums)
    for j in range(n_clusters):
        source = j if weight_sums[j] > 0 else heaviest
        total = 0.0
        for f in range(n_features):
            centers[j, f] = sums[source, f] / weight_sums[source]
            diff = np.float64(centers[j, f]) - np.float64(centers_old[j, f])
            total += diff * diff
        shift[j] = math.sqrt(total)
    return centers, shift


@njit(cache=True)
def n_distinct_labels(labels, n_clusters):
    """How many of the labels ``0 .. n_clusters - 1`` occur, stopping once all have.

    Usually every cluster shows up within the first few hundred rows, so this
    reads a sliver of the labels (a full count took ~0.6 ms per 500k rows).
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
    vectorises (a row's sum of squares, a reduction, does not: 500k x 16
    float32 rows took 4.1 instead of 1.8 ms), then adds its features; the
    chunks are added in chunk order.
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
    out = np.zeros(n_features)
    for chunk in range(total_chunks):
        for f in range(n_features):
            out[f] += partial[chunk, f]
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
