"""K-Means kernels: the fused Lloyd pass, the exact Hamerly pass, and helpers.

Conventions shared by every kernel here:

- ``X`` is a C-contiguous ``(n_samples, n_features)`` array of float32 or
  float64; ``weights`` is ``(n_samples,)`` of the same dtype; ``labels`` is
  ``(n_samples,)`` int32.
- Centres are ``(n_clusters, n_features)`` in X's dtype, with
  ``neg_half_norms[j] = -||c_j||^2 / 2``. The nearest centre of ``x`` is the
  argmax of the *score* ``x . c_j - ||c_j||^2 / 2`` (since ``||x - c_j||^2 =
  ||x||^2 - 2 score_j``), computed in X's dtype. Rows are scored a tile at a
  time, gathered and transposed so that the row index is the inner loop (see
  :func:`_tile_best`): either by the kernel's own loops, which have no
  reduction and so vectorise without ``fastmath``, or, for large problems,
  by one BLAS product per tile. Ties go to the lowest centre index, as in
  scikit-learn.
- Rows are processed in chunks of :data:`CHUNK` rows. Every chunk writes its
  own float64 partial sums; partials are added in chunk order. The results
  therefore depend on ``CHUNK`` but never on the number of threads.
- Within one fit every kernel scores with the same path, so Lloyd and
  Hamerly agree on every score and give the same labels; their centres agree
  up to the rounding of Hamerly's incremental sums (see :func:`hamerly_pass`).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

CHUNK = 1024  # rows per chunk: the unit of work and of partial sums
TILE = 128  # rows scored together (a divisor of CHUNK)

# Lloyd processes chunks in groups so that the partial sums of one group
# (group_size x n_clusters x n_features float64) stay within this budget.
_GROUP_BUDGET_BYTES = 32 * 1024 * 1024


def n_chunks(n_samples: int) -> int:
    return (n_samples + CHUNK - 1) // CHUNK


def group_size(n_clusters: int, n_features: int) -> int:
    """Chunks per Lloyd group (only memory depends on it, never the results)."""
    per_chunk = 8 * n_clusters * (n_features + 1)
    return int(max(4, min(1 << 20, _GROUP_BUDGET_BYTES // max(per_chunk, 1))))


@njit(cache=True)
def _score_pair(x_t, width, centers, neg_half_norms, j, both, scores):
    """Scores of the first ``width`` rows of ``x_t`` against centres ``j`` and ``j + 1``.

    (Only against ``j`` when ``both`` is False.)

    ``scores[0]`` (and ``scores[1]``) receive ``neg_half_norms[j] + sum_f
    x_t[f] * centers[j, f]``, the terms added one feature at a time in feature
    order: every kernel computes a score with exactly these roundings. Two
    centres share each load of a row slice, and up to four features are added
    per store (the first ones together with the constant term), so the loops
    are bound by arithmetic rather than by loads and stores.
    """
    n_features = x_t.shape[0]
    a = scores[0]
    b = scores[1]
    k = j + 1 if both else j  # the second centre (a repeat of j when not both)
    a_init = neg_half_norms[j]
    b_init = neg_half_norms[k]
    # The first group of up to four features starts from the constant term.
    head = min(n_features, 4)
    x0 = x_t[0]
    a0, b0 = centers[j, 0], centers[k, 0]
    if head == 1:
        for r in range(width):
            a[r] = a_init + x0[r] * a0
            b[r] = b_init + x0[r] * b0
    elif head == 2:
        x1 = x_t[1]
        a1, b1 = centers[j, 1], centers[k, 1]
        for r in range(width):
            a[r] = (a_init + x0[r] * a0) + x1[r] * a1
            b[r] = (b_init + x0[r] * b0) + x1[r] * b1
    elif head == 3:
        x1, x2 = x_t[1], x_t[2]
        a1, a2, b1, b2 = centers[j, 1], centers[j, 2], centers[k, 1], centers[k, 2]
        for r in range(width):
            a[r] = ((a_init + x0[r] * a0) + x1[r] * a1) + x2[r] * a2
            b[r] = ((b_init + x0[r] * b0) + x1[r] * b1) + x2[r] * b2
    else:
        x1, x2, x3 = x_t[1], x_t[2], x_t[3]
        a1, a2, a3 = centers[j, 1], centers[j, 2], centers[j, 3]
        b1, b2, b3 = centers[k, 1], centers[k, 2], centers[k, 3]
        for r in range(width):
            a[r] = (((a_init + x0[r] * a0) + x1[r] * a1) + x2[r] * a2) + x3[r] * a3
            b[r] = (((b_init + x0[r] * b0) + x1[r] * b1) + x2[r] * b2) + x3[r] * b3
    # Then groups of four, then the features left over one by one.
    stop = head + (n_features - head) // 4 * 4
    for f in range(head, stop, 4):
        x0, x1, x2, x3 = x_t[f], x_t[f + 1], x_t[f + 2], x_t[f + 3]
        a0, a1, a2, a3 = centers[j, f], centers[j, f + 1], centers[j, f + 2], centers[j, f + 3]
        b0, b1, b2, b3 = centers[k, f], centers[k, f + 1], centers[k, f + 2], centers[k, f + 3]
        for r in range(width):
            a[r] = (((a[r] + x0[r] * a0) + x1[r] * a1) + x2[r] * a2) + x3[r] * a3
            b[r] = (((b[r] + x0[r] * b0) + x1[r] * b1) + x2[r] * b2) + x3[r] * b3
    for f in range(stop, n_features):
        x0 = x_t[f]
        a0, b0 = centers[j, f], centers[k, f]
        for r in range(width):
            a[r] += x0[r] * a0
            b[r] += x0[r] * b0


@njit(cache=True, inline="always")
def _few_score(n_features, init, x0, x1, x2, x3, c0, c1, c2, c3):
    """``init + x . c`` over 1 to 4 features, the terms in feature order."""
    s = init + x0 * c0
    if n_features > 1:
        s = s + x1 * c1
    if n_features > 2:
        s = s + x2 * c2
    if n_features > 3:
        s = s + x3 * c3
    return s


@njit(cache=True)
def _nearest_few_features(x_t, width, centers, neg_half_norms, best_score, best):
    """Nearest centre of the first ``width`` slots of ``x_t`` when there are at most 4 features.

    Scores two centres per vectorised loop that also keeps the best (no score
    is stored), with the terms in the order of :func:`_score_pair`, so the
    scores are the same to the last bit. Few features means little
    arithmetic per row, so the loads and stores saved here are the cost.
    """
    n_features = x_t.shape[0]
    n_clusters = centers.shape[0]
    last = n_features - 1
    x0, x1, x2, x3 = x_t[0], x_t[min(1, last)], x_t[min(2, last)], x_t[min(3, last)]
    for j in range(0, n_clusters, 2):
        k = min(j + 1, n_clusters - 1)  # a repeat of j when n_clusters is odd: never better
        a0, a1, a2, a3 = centers[j, 0], centers[j, min(1, last)], centers[j, min(2, last)], \
            centers[j, min(3, last)]
        b0, b1, b2, b3 = centers[k, 0], centers[k, min(1, last)], centers[k, min(2, last)], \
            centers[k, min(3, last)]
        a_init = neg_half_norms[j]
        b_init = neg_half_norms[k]
        for r in range(width):
            sa = _few_score(n_features, a_init, x0[r], x1[r], x2[r], x3[r], a0, a1, a2, a3)
            sb = _few_score(n_features, b_init, x0[r], x1[r], x2[r], x3[r], b0, b1, b2, b3)
            score = best_score[r]
            label = best[r]
            better = sa > score
            score = sa if better else score
            label = j if better else label
            better = sb > score
            best_score[r] = sb if better else score
            best[r] = k if better else label


@njit(cache=True)
def _gather_tile(X, rows, n_rows, x_t):
    """x_t[:, r] = X[rows[r]] for r < n_rows, zeros up to the returned width.

    The width is n_rows rounded up to a multiple of 16 (at most TILE): the
    scoring loops run over that many slots, so a tile of a few pending rows
    costs a few vectors, not TILE slots.
    """
    width = min(TILE, (n_rows + 15) // 16 * 16)
    n_features = X.shape[1]
    if n_features <= 4:  # a feature at a time: a vectorised gather per feature
        for f in range(n_features):
            x_f = x_t[f]
            for r in range(n_rows):
                x_f[r] = X[rows[r], f]
    else:  # a row at a time: each row is read whole
        for r in range(n_rows):
            row = rows[r]
            for f in range(n_features):
                x_t[f, r] = X[row, f]
    for f in range(n_features):
        for r in range(n_rows, width):
            x_t[f, r] = 0
    return width


@njit(cache=True, inline="always")
def _take_best2(values, offset, j, width, best_score, second_score, best):
    """Fold centre j's scores (``values[r] + offset``) into the best and runner-up scores.

    Branch-free, so that the loop vectorises; ties keep the lower index.
    """
    for r in range(width):
        s = values[r] + offset
        better = s > best_score[r]
        second_score[r] = best_score[r] if better else max(second_score[r], s)
        best_score[r] = s if better else best_score[r]
        best[r] = j if better else best[r]


@njit(cache=True, inline="always")
def _take_best(values, offset, j, width, best_score, best):
    """Like :func:`_take_best2` without the runner-up."""
    for r in range(width):
        s = values[r] + offset
        better = s > best_score[r]
        best_score[r] = s if better else best_score[r]
        best[r] = j if better else best[r]


@njit(cache=True)
def _tile_best(X, rows, n_rows, centers, neg_half_norms, work, runner_up):
    """Score the rows ``rows[:n_rows]`` of X against every centre, vectorised over rows.

    ``work`` is the tuple of :func:`_tile_buffers`. On return ``best[r]`` is
    the nearest centre of row ``rows[r]`` (lowest index on ties) and
    ``best_score`` its score; with ``runner_up``, ``second_score`` holds the
    runner-up's score. With ``blas`` in ``work`` the products come from one
    BLAS matrix product per tile (``centers @ x_t``, then the constant term is
    added); otherwise from :func:`_score_pair`. Every kernel of a fit uses the
    same path, so they agree on every score to the last bit.
    """
    x_t, scores, best_score, second_score, best, _, products, blas = work
    width = _gather_tile(X, rows, n_rows, x_t)
    for r in range(width):
        best_score[r] = -np.inf
        second_score[r] = -np.inf
        best[r] = 0
    n_clusters = centers.shape[0]
    if blas:
        np.dot(centers, x_t, products)
        for j in range(n_clusters):
            if runner_up:
                _take_best2(products[j], neg_half_norms[j], j, width, best_score, second_score,
                            best)
            else:
                _take_best(products[j], neg_half_norms[j], j, width, best_score, best)
        return n_rows
    if not runner_up and x_t.shape[0] <= 4:
        _nearest_few_features(x_t, width, centers, neg_half_norms, best_score, best)
        return n_rows
    zero = neg_half_norms.dtype.type(0)
    for j in range(0, n_clusters, 2):
        both = j + 1 < n_clusters
        _score_pair(x_t, width, centers, neg_half_norms, j, both, scores)
        for q in range(2 if both else 1):
            if runner_up:
                _take_best2(scores[q], zero, j + q, width, best_score, second_score, best)
            else:
                _take_best(scores[q], zero, j + q, width, best_score, best)
    return n_rows


@njit(cache=True, inline="always")
def _add_row(X, weights, i, label, sums, weight_sums, sign=1.0):
    """Add row i's weighted contribution to cluster ``label``'s sums (subtract: sign=-1)."""
    w = sign * np.float64(weights[i])
    weight_sums[label] += w
    for f in range(X.shape[1]):
        sums[label, f] += w * np.float64(X[i, f])


@njit(cache=True)
def _tile_buffers(n_features, n_clusters, dtype, blas):
    """The per-thread work space of the tile kernels, as one tuple.

    (x_t, scores, best_score, second_score, best, rows, products, blas):
    the gathered transposed rows (d, TILE), two score rows (2, TILE), the
    best and runner-up scores and the best centre per slot, a row-index
    buffer, the BLAS products (k, TILE) (a 1 x 1 stand-in without BLAS) and
    the flag itself.
    """
    x_t = np.zeros((n_features, TILE), dtype=dtype)
    scores = np.empty((2, TILE), dtype=dtype)
    best_score = np.empty(TILE, dtype=dtype)
    second_score = np.empty(TILE, dtype=dtype)
    best = np.empty(TILE, dtype=np.int32)
    rows = np.empty(TILE, dtype=np.int64)
    products = np.empty((n_clusters, TILE) if blas else (1, 1), dtype=dtype)
    return x_t, scores, best_score, second_score, best, rows, products, blas


@njit(cache=True, inline="always")
def _tile_rows(rows, start, end):
    """rows[:n] = start, start + 1, ... for the next tile of [start, end); returns n."""
    n_rows = min(TILE, end - start)
    for r in range(n_rows):
        rows[r] = start + r
    return n_rows


@njit(cache=True)
def _lloyd_chunk(X, weights, centers, neg_half_norms, labels, chunk, chunk_sums, chunk_weights,
                 blas):
    """Assign the rows of one chunk and sum them into chunk_sums (k, d) / chunk_weights (k,).

    The parallel kernels only loop over chunks and call a function like this
    one: a small parallel loop body keeps numba's compile time down.
    Returns how many labels changed.
    """
    n_samples, n_features = X.shape
    work = _tile_buffers(n_features, centers.shape[0], X.dtype, blas)
    best, rows = work[4], work[5]
    chunk_sums[:] = 0.0
    chunk_weights[:] = 0.0
    n_changed = 0
    end = min((chunk + 1) * CHUNK, n_samples)
    for start in range(chunk * CHUNK, end, TILE):
        n_rows = _tile_rows(rows, start, end)
        _tile_best(X, rows, n_rows, centers, neg_half_norms, work, False)
        for r in range(n_rows):
            i = start + r
            label = best[r]
            n_changed += labels[i] != label  # branch-free: labels change unpredictably
            labels[i] = label
            _add_row(X, weights, i, label, chunk_sums, chunk_weights)
    return n_changed


@njit(cache=True)
def _assign_chunk(X, centers, neg_half_norms, labels, chunk, blas):
    """Nearest centre of the rows of one chunk into labels; returns how many changed."""
    n_samples, n_features = X.shape
    work = _tile_buffers(n_features, centers.shape[0], X.dtype, blas)
    best, rows = work[4], work[5]
    n_changed = 0
    end = min((chunk + 1) * CHUNK, n_samples)
    for start in range(chunk * CHUNK, end, TILE):
        n_rows = _tile_rows(rows, start, end)
        _tile_best(X, rows, n_rows, centers, neg_half_norms, work, False)
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
    blas : bool, score by BLAS matrix products (see :func:`_tile_best`); the
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
                X, weights, centers, neg_half_norms, labels, first + g, partial_sums[g],
                partial_weights[g], blas,
            )
        for g in range(n_here):
            for j in range(n_clusters):
                weight_sums[j] += partial_weights[g, j]
                for f in range(n_features):
                    sums[j, f] += partial_sums[g, j, f]
    return changed.sum()


@njit(cache=True)
def _lloyd_move_chunk(X, weights, centers, neg_half_norms, labels, chunk, chunk_sums,
                      chunk_weights, first, blas):
    """Assign the rows of one chunk; move the rows that change cluster between its sums.

    With ``first`` the chunk sums start empty and every row is added. Returns
    how many labels changed.
    """
    n_samples, n_features = X.shape
    work = _tile_buffers(n_features, centers.shape[0], X.dtype, blas)
    best, rows = work[4], work[5]
    moved = np.empty(TILE, dtype=np.int64)
    if first:
        chunk_sums[:] = 0.0
        chunk_weights[:] = 0.0
    n_changed = 0
    end = min((chunk + 1) * CHUNK, n_samples)
    for start in range(chunk * CHUNK, end, TILE):
        n_rows = _tile_rows(rows, start, end)
        _tile_best(X, rows, n_rows, centers, neg_half_norms, work, False)
        if first:
            for r in range(n_rows):
                labels[start + r] = best[r]
                _add_row(X, weights, start + r, best[r], chunk_sums, chunk_weights)
            n_changed += n_rows
            continue
        # List the rows that changed cluster without branching (which way a
        # row goes is unpredictable), then move them.
        n_moved = 0
        for r in range(n_rows):
            i = start + r
            moved[n_moved] = r
            n_moved += labels[i] != best[r]
        for q in range(n_moved):
            i = start + moved[q]
            _add_row(X, weights, i, labels[i], chunk_sums, chunk_weights, -1.0)
            _add_row(X, weights, i, best[moved[q]], chunk_sums, chunk_weights)
        for r in range(n_rows):
            labels[start + r] = best[r]
        n_changed += n_moved
    return n_changed


@njit(parallel=True, cache=True)
def lloyd_move_pass(X, weights, centers, neg_half_norms, labels, partial_sums, partial_weights,
                    sums, weight_sums, first, blas):
    """A Lloyd pass that keeps per-chunk sums and moves only the rows that change cluster.

    Scores every row like :func:`lloyd_pass` (the same labels), but reads a row
    again for the sums only when its label changes: after the first few
    iterations that is a small fraction of the rows. The sums equal
    :func:`lloyd_pass`'s up to the rounding of the moves, and are added in
    chunk order, so they do not depend on the number of threads.

    Parameters
    ----------
    X, weights, centers, neg_half_norms, labels : as in :func:`lloyd_pass`.
    partial_sums : (n_chunks, k, d) and partial_weights : (n_chunks, k)
        float64, the chunk sums, kept from pass to pass.
    sums : (k, d) and weight_sums : (k,) float64, out.
    first : bool, the chunk sums hold nothing yet: add every row.
    blas : bool, as in :func:`lloyd_pass`.

    Returns
    -------
    n_changed : int, how many labels changed.
    """
    n_samples = X.shape[0]
    total_chunks = (n_samples + CHUNK - 1) // CHUNK
    changed = np.zeros(total_chunks, dtype=np.int64)
    for chunk in prange(total_chunks):
        changed[chunk] = _lloyd_move_chunk(
            X, weights, centers, neg_half_norms, labels, chunk, partial_sums[chunk],
            partial_weights[chunk], first, blas,
        )
    add_in_order(partial_sums, partial_weights, sums, weight_sums)
    return changed.sum()


@njit(parallel=True, cache=True)
def assign(X, centers, neg_half_norms, labels, blas):
    """Nearest centre of every row into ``labels`` ((n,) int32); no sums. As lloyd_pass.

    Returns how many labels changed.
    """
    n_samples, n_features = X.shape
    total_chunks = (n_samples + CHUNK - 1) // CHUNK
    changed = np.zeros(total_chunks, dtype=np.int64)
    for chunk in prange(total_chunks):
        changed[chunk] = _assign_chunk(X, centers, neg_half_norms, labels, chunk, blas)
    return changed.sum()


@njit(cache=True, inline="always")
def _sq_distance(X, i, centers, j):
    total = 0.0
    for f in range(X.shape[1]):
        diff = np.float64(X[i, f]) - np.float64(centers[j, f])
        total += diff * diff
    return total


@njit(cache=True)
def _shift_extremes(shift):
    """Index of the largest shift, the largest and the second largest."""
    top, top_shift, second_shift = 0, -1.0, 0.0
    for j in range(shift.shape[0]):
        if shift[j] > top_shift:
            second_shift = max(top_shift, 0.0)
            top_shift = shift[j]
            top = j
        elif shift[j] > second_shift:
            second_shift = shift[j]
    return top, top_shift, second_shift


@njit(cache=True)
def _far_movers(shift, top_shift):
    """The few centres that moved far more than the rest, and the rest's largest shift.

    Up to 4 centres (at most k / 8), and only when every other centre moved
    less than a quarter of the largest shift; otherwise an empty array (the
    plain Hamerly test is used). Measuring 4 distances costs little next to
    rescoring a row against every centre.
    """
    n_movers = min(shift.shape[0] // 8, 4)
    # The n_movers + 1 largest shifts, by repeated selection (k is small).
    order = np.empty(n_movers + 1, dtype=np.int64)
    taken = np.zeros(shift.shape[0], dtype=np.bool_)
    for q in range(n_movers + 1):
        best = -1
        for j in range(shift.shape[0]):
            if not taken[j] and (best < 0 or shift[j] > shift[best]):
                best = j
        order[q] = best
        taken[best] = True
    residual = shift[order[n_movers]]
    if n_movers == 0 or not residual < 0.25 * top_shift:
        return order[:0], top_shift
    return order[:n_movers], residual


@njit(cache=True, inline="always")
def _set_bounds(x_sq_norm, best_score, second_score, n_clusters):
    upper = math.sqrt(max(x_sq_norm - 2.0 * np.float64(best_score), 0.0))
    if n_clusters == 1:
        return upper, np.inf
    return upper, math.sqrt(max(x_sq_norm - 2.0 * np.float64(second_score), 0.0))


@njit(cache=True)
def _rescore(X, weights, x_sq_norms, rows, n_rows, centers, neg_half_norms, work, moved, labels,
             upper, lower, chunk_sums, chunk_weights, fresh):
    """Rescore ``rows[:n_rows]`` against every centre; reset their bounds and labels.

    A row whose label changes moves its weighted contribution from its old
    cluster's chunk sums to the new one's; with ``fresh`` the chunk sums hold
    no row yet and every row is added. ``moved`` is a (TILE,) int64 buffer.
    Returns how many labels changed (every row's, with ``fresh``).
    """
    _tile_best(X, rows, n_rows, centers, neg_half_norms, work, True)
    best_score, second_score, best = work[2], work[3], work[4]
    n_clusters = centers.shape[0]
    n_moved = 0
    for r in range(n_rows):
        i = rows[r]
        upper[i], lower[i] = _set_bounds(x_sq_norms[i], best_score[r], second_score[r], n_clusters)
        if fresh:
            _add_row(X, weights, i, best[r], chunk_sums, chunk_weights)
            labels[i] = best[r]
        else:
            # Listed without branching (which rows move is unpredictable), moved below.
            moved[n_moved] = r
            n_moved += labels[i] != best[r]
    for q in range(n_moved):
        r = moved[q]
        i = rows[r]
        _add_row(X, weights, i, labels[i], chunk_sums, chunk_weights, -1.0)
        _add_row(X, weights, i, best[r], chunk_sums, chunk_weights)
        labels[i] = best[r]
    return n_rows if fresh else n_moved


@njit(cache=True)
def _hamerly_chunk(X, weights, x_sq_norms, centers, neg_half_norms, half_separation, shift,
                   labels, upper, lower, chunk_sums, chunk_weights, margin_scale, first, chunk,
                   top, top_shift, second_shift, max_center_sq, movers, residual, blas):
    """The Hamerly pass over one chunk (see :func:`hamerly_pass`); returns labels changed."""
    n_samples, n_features = X.shape
    n_changed = 0
    end = min((chunk + 1) * CHUNK, n_samples)
    work = _tile_buffers(n_features, centers.shape[0], X.dtype, blas)
    pending = work[5]
    moved = np.empty(TILE, dtype=np.int64)
    if first:
        chunk_sums[:] = 0.0
        chunk_weights[:] = 0.0
        for start in range(chunk * CHUNK, end, TILE):
            n_rows = _tile_rows(pending, start, end)
            n_changed += _rescore(
                X, weights, x_sq_norms, pending, n_rows, centers, neg_half_norms, work, moved,
                labels, upper, lower, chunk_sums, chunk_weights, True,
            )
    else:
        unsettled = np.empty(TILE, dtype=np.int64)
        sink = np.zeros(1)  # keeps the touching loads from being optimised away
        n_pending = 0
        for start in range(chunk * CHUNK, end, TILE):
            n_rows = min(TILE, end - start)
            # First a cheap, branch-free pass: move the bounds, test them, and
            # list the rows they do not prove.
            n_unsettled = 0
            for r in range(n_rows):
                i = start + r
                label = labels[i]
                u = upper[i] + shift[label]
                low = lower[i] - (second_shift if label == top else top_shift)
                upper[i] = u
                lower[i] = low
                m = max(low, half_separation[label])
                margin = margin_scale * (x_sq_norms[i] + max_center_sq)
                unsettled[n_unsettled] = i
                n_unsettled += not ((m > u) & ((m - u) * (m + u) > margin))
            # Touch the rows of X they need first: independent loads, with no
            # branch in between, so the cache misses overlap instead of each
            # waiting on the one before (the rows are scattered over X).
            touched = 0.0
            for q in range(n_unsettled):
                for f in range(0, n_features, 8):  # one value per 64-byte line
                    touched += X[unsettled[q], f]
            sink[0] += touched
            # Then tighten their upper bounds; rows still unsettled are queued
            # and rescored a tile at a time.
            for q in range(n_unsettled):
                i = unsettled[q]
                label = labels[i]
                m = max(lower[i], half_separation[label])
                margin = margin_scale * (x_sq_norms[i] + max_center_sq)
                u = math.sqrt(_sq_distance(X, i, centers, label))
                upper[i] = u
                if m > u and (m - u) * (m + u) > margin:
                    continue
                if movers.shape[0] > 0:
                    # A few centres moved far: measure the distances to them; the
                    # others moved at most ``residual``, so the lower bound before
                    # this pass, less residual, still holds for those.
                    moved_by = second_shift if label == top else top_shift
                    low = lower[i] + (moved_by - residual)
                    for q_mover in range(movers.shape[0]):
                        j = movers[q_mover]
                        if j != label:
                            low = min(low, math.sqrt(_sq_distance(X, i, centers, j)))
                    lower[i] = low
                    m = max(low, half_separation[label])
                    if m > u and (m - u) * (m + u) > margin:
                        continue
                pending[n_pending] = i
                n_pending += 1
                if n_pending == TILE:
                    n_changed += _rescore(
                        X, weights, x_sq_norms, pending, n_pending, centers, neg_half_norms,
                        work, moved, labels, upper, lower, chunk_sums, chunk_weights, False,
                    )
                    n_pending = 0
        if n_pending > 0:
            n_changed += _rescore(
                X, weights, x_sq_norms, pending, n_pending, centers, neg_half_norms, work,
                moved, labels, upper, lower, chunk_sums, chunk_weights, False,
            )
    return n_changed


@njit(parallel=True, cache=True)
def hamerly_pass(
    X,
    weights,
    x_sq_norms,
    centers,
    neg_half_norms,
    half_separation,
    shift,
    labels,
    upper,
    lower,
    partial_sums,
    partial_weights,
    sums,
    weight_sums,
    margin_scale,
    first,
    blas,
):
    """One exact Hamerly pass: the labels :func:`assign` would give, and the new sums.

    Each row keeps an upper bound ``upper`` on the distance to its centre and a
    lower bound ``lower`` on the distance to every other centre. A row is
    rescored only when the bounds (moved by the centre shifts) no longer prove
    its label. The proof must hold with a margin: a row is skipped only if
    ``m^2 - u^2 > margin_scale * (||x||^2 + max_j ||c_j||^2)`` (``m`` the best
    lower bound, ``u`` the upper bound), so that rounding in the scores could
    not have changed Lloyd's argmin; exact ties are never skipped.

    Every chunk keeps its own float64 sums; a row that changes cluster moves
    its contribution between them (in row order), so only moved rows are read
    again. ``sums``/``weight_sums`` are then the chunk sums added in chunk
    order: deterministic, whatever the number of threads, and equal to
    Lloyd's sums up to the rounding of those moves.

    Parameters
    ----------
    X : (n, d) float32/float64 C-contiguous; weights : (n,) X's dtype;
    x_sq_norms : (n,) float64.
    centers : (k, d) and neg_half_norms : (k,), X's dtype.
    half_separation : (k,) float64, half the distance to the nearest other centre.
    shift : (k,) float64, how far each centre moved since the bounds were set.
    labels : (n,) int32; upper, lower : (n,) float64; all updated in place.
    partial_sums : (n_chunks, k, d) and partial_weights : (n_chunks, k) float64,
        the chunk sums, updated in place.
    sums : (k, d) and weight_sums : (k,) float64, out.
    margin_scale : float, relative rounding margin (see above).
    first : bool, no valid bounds or chunk sums yet: score and add every row.
    blas : bool, as in :func:`lloyd_pass`.

    When up to 4 centres moved far more than all the others (a relocated
    empty cluster, a centre jumping between groups), a row the bounds no
    longer prove is first tested against its exact distances to those few and
    the others' smaller shift (see :func:`_far_movers`), before it is
    rescored against every centre.

    Returns
    -------
    n_changed : int, how many labels changed.
    """
    n_samples, n_features = X.shape
    n_clusters = centers.shape[0]
    total_chunks = (n_samples + CHUNK - 1) // CHUNK
    max_center_sq = 0.0
    for j in range(n_clusters):
        max_center_sq = max(max_center_sq, -2.0 * np.float64(neg_half_norms[j]))
    top, top_shift, second_shift = _shift_extremes(shift)
    movers, residual = _far_movers(shift, top_shift)
    changed = np.zeros(total_chunks, dtype=np.int64)
    for chunk in prange(total_chunks):
        changed[chunk] = _hamerly_chunk(
            X, weights, x_sq_norms, centers, neg_half_norms, half_separation, shift, labels,
            upper, lower, partial_sums[chunk], partial_weights[chunk], margin_scale, first,
            chunk, top, top_shift, second_shift, max_center_sq, movers, residual, blas,
        )
    add_in_order(partial_sums, partial_weights, sums, weight_sums)
    return changed.sum()


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


@njit(parallel=True, cache=True)
def inertia(X, weights, centers, labels):
    """Weighted sum of squared distances to the assigned centres, float64, chunk order."""
    n_samples = X.shape[0]
    total_chunks = (n_samples + CHUNK - 1) // CHUNK
    partial = np.zeros(total_chunks, dtype=np.float64)
    for chunk in prange(total_chunks):
        total = 0.0
        for i in range(chunk * CHUNK, min((chunk + 1) * CHUNK, n_samples)):
            total += np.float64(weights[i]) * _sq_distance(X, i, centers, labels[i])
        partial[chunk] = total
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
            out[i, j] = math.sqrt(_sq_distance(X, i, centers, j))
    return out


@njit(cache=True)
def half_separation(centers):
    """(k,) float64: half the distance from each centre to its nearest other centre."""
    n_clusters, n_features = centers.shape
    out = np.full(n_clusters, np.inf)
    for a in range(n_clusters):
        for b in range(a + 1, n_clusters):
            total = 0.0
            for f in range(n_features):
                diff = np.float64(centers[a, f]) - np.float64(centers[b, f])
                total += diff * diff
            dist = 0.5 * math.sqrt(total)
            out[a] = min(out[a], dist)
            out[b] = min(out[b], dist)
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
