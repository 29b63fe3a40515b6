"""The exact Hamerly pass of K-Means: bounds that skip rows whose label cannot change.

Shares the tile kernels of :mod:`clustra._kernels.kmeans_tiles` and the chunk
conventions of :mod:`clustra._kernels.kmeans` (per-chunk float64 sums added in
chunk order, so results never depend on the number of threads).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from clustra._kernels.intrinsics import prefetch, trailing_zeros
from clustra._kernels.kmeans import CHUNK, add_in_order, add_row, row_weight, sq_distance
from clustra._kernels.kmeans_tiles import TILE, tile_best, tile_buffers, tile_rows, tile_sq_norms

FLOAT32_MAX = float(np.finfo(np.float32).max)


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
def _up(value):
    """``value`` (>= 0) to store as a float32 upper bound: never below it once stored.

    Raised by 2^-21 of itself (and 2^-148, for values near float32's
    subnormal range) before the conversion, which then rounds to nearest:
    a rounding error of at most 2^-24 of the value (or 2^-150) cannot undo
    that; beyond float32's range it becomes infinite.
    """
    return value * (1.0 + 2.0**-21) + 2.0**-148


@njit(cache=True, inline="always")
def _down(value):
    """``value`` to store as a float32 lower bound: never above it (see :func:`_up`).

    A finite value beyond float32's range is stored as the largest float32
    (the conversion would make it infinite: more than the value).
    """
    if value == np.inf:
        return value
    return min(value - (abs(value) * 2.0**-21 + 2.0**-148), FLOAT32_MAX)


@njit(cache=True, inline="always")
def _set_bounds(x_sq_norms, rows, n_rows, best_score, second_score, err, scratch, upper, lower):
    """Set the bounds of ``rows[:n_rows]`` from their best and runner-up scores, widened by err.

    ``upper = sqrt(||x||^2 - 2 best + 2 err)``, ``lower = sqrt(||x||^2 - 2
    second - 2 err)`` (infinite with one centre: the runner-up score stays
    -inf). The square roots are taken in a loop over a tile's slots, which
    vectorises; only the norms' gather and the bounds' scatter are per row.
    ``scratch`` is a (3, TILE) float64 buffer.
    """
    norms, up, low = scratch[0], scratch[1], scratch[2]
    for r in range(n_rows):
        norms[r] = x_sq_norms[rows[r]]
    for r in range(n_rows):
        up[r] = math.sqrt(max(norms[r] - 2.0 * np.float64(best_score[r]) + 2.0 * err, 0.0))
        low[r] = math.sqrt(max(norms[r] - 2.0 * np.float64(second_score[r]) - 2.0 * err, 0.0))
    for r in range(n_rows):
        i = rows[r]
        upper[i] = _up(up[r])
        lower[i] = _down(low[r])


@njit(cache=True)
def _score_exact(X, x_sq_norms, rows, n_rows, centers, neg_half_norms, work, upper, lower,
                 scratch, bounds):
    """Nearest centres of ``rows[:n_rows]`` (returned: ``best``, in ``work``).

    With ``bounds``, their bounds are set from the best and runner-up scores
    (else no runner-up is kept).
    """
    tile_best(X, rows, n_rows, centers, neg_half_norms, work, bounds)
    if bounds:
        _set_bounds(x_sq_norms, rows, n_rows, work[2], work[3], 0.0, scratch, upper, lower)
    return work[4]


@njit(cache=True)
def _score_screened(X, x_sq_norms, rows, n_rows, centers, neg_half_norms, work, upper, lower,
                    scratch, bounds, screen, work32, unresolved):
    """:func:`_score_exact`'s results, scoring in float32 first (float64 X only).

    ``screen`` is ``(X32, centers32, neg_half_norms32, err)``: X, the centres
    and their constants rounded to float32, and a bound ``err`` on the
    difference between a float32 score and the exact score of the float64
    values, for every row and centre (see :func:`hamerly_pass`). Where the
    best float32 score beats the runner-up by more than ``2 err``, no
    rounding of the float64 scores could change the argmin, and the bounds
    are the float32 ones widened by ``err``; the few rows left (near ties)
    are scored again in float64. ``unresolved`` is a (TILE,) int64 buffer.
    """
    X32, centers32, neg_half_norms32, err = screen
    tile_best(X32, rows, n_rows, centers32, neg_half_norms32, work32, True)
    best_score, second_score, best = work32[2], work32[3], work32[4]
    if bounds:
        _set_bounds(x_sq_norms, rows, n_rows, best_score, second_score, err, scratch, upper,
                    lower)
    n_unresolved = 0
    for r in range(n_rows):  # a count: vectorised
        n_unresolved += not np.float64(best_score[r]) - np.float64(second_score[r]) > 2.0 * err
    if n_unresolved:
        n_listed = 0
        for r in range(n_rows):
            unresolved[n_listed] = r
            n_listed += not np.float64(best_score[r]) - np.float64(second_score[r]) > 2.0 * err
        exact_rows = work32[5]  # free: the float32 tile was given ``rows``
        for q in range(n_unresolved):
            exact_rows[q] = rows[unresolved[q]]
        exact = _score_exact(X, x_sq_norms, exact_rows, np.int64(n_unresolved), centers,
                             neg_half_norms, work, upper, lower, scratch, bounds)
        for q in range(n_unresolved):
            best[unresolved[q]] = exact[q]
    return best


@njit(cache=True)
def _rescore(X, weights, x_sq_norms, rows, n_rows, centers, neg_half_norms, work, moved, labels,
             upper, lower, partial_sums, partial_weights, fresh, scratch, screen, work32):
    """Rescore ``rows[:n_rows]`` against every centre; reset their labels and bounds.

    A row whose label changes moves its weighted contribution from its old
    cluster's sums to the new one's, in the partial sums of the row's chunk;
    with ``fresh`` those hold no row yet and every row is added (and no
    bounds are set: see :func:`hamerly_pass`). ``rows`` is
    in increasing order (so each chunk's sums change in row order); ``moved``
    is a (TILE,) int64 and ``scratch`` a (3, TILE) float64 buffer. With a
    ``screen`` (an error bound above 0), scores are taken in float32 first
    (:func:`_score_screened`, ``work32`` its float32 work space).
    Returns how many labels changed (every row's, with ``fresh``).
    """
    if screen[3] > 0.0:
        best = _score_screened(X, x_sq_norms, rows, n_rows, centers, neg_half_norms, work, upper,
                               lower, scratch, not fresh, screen, work32, moved)
    else:
        best = _score_exact(X, x_sq_norms, rows, n_rows, centers, neg_half_norms, work, upper,
                            lower, scratch, not fresh)
    n_moved = 0
    for r in range(n_rows):
        i = rows[r]
        if fresh:
            add_row(X, i, best[r], row_weight(weights, i), partial_sums[i // CHUNK],
                    partial_weights[i // CHUNK])
            labels[i] = best[r]
        else:
            # Listed without branching (which rows move is unpredictable), moved below.
            moved[n_moved] = r
            n_moved += labels[i] != best[r]
    for q in range(n_moved):
        r = moved[q]
        i = rows[r]
        chunk_sums, chunk_weights = partial_sums[i // CHUNK], partial_weights[i // CHUNK]
        w = row_weight(weights, i)
        add_row(X, i, labels[i], -w, chunk_sums, chunk_weights)
        add_row(X, i, best[r], w, chunk_sums, chunk_weights)
        labels[i] = best[r]
    return n_rows if fresh else n_moved


@njit(cache=True, inline="always")
def _move_bounds(labels, upper, lower, x_sq_norms, per_label, start, n_rows, margin_scale,
                 max_center_sq, taken):
    """Move the bounds of rows ``start .. start + n_rows`` (at most 64) by the centre shifts.

    ``per_label[j]`` holds, for rows of cluster j: how far their upper bound
    grows (centre j's shift), how far their lower bound drops (the largest
    shift of another centre) and half the distance from centre j to its
    nearest other centre. Returns a bit mask of the rows whose bounds no
    longer prove their label (bit r: row ``start + r``). The test has a
    rounding margin, see :func:`hamerly_pass`. The per-label values are taken
    first (into ``taken``, a (3, 64) float64 buffer), so that the test itself
    is a loop with no indexed loads, which vectorises; building a mask rather
    than a list keeps it free of a serial dependency from row to row.
    """
    labels_here = labels[start:start + n_rows]
    upper_here = upper[start:start + n_rows]
    lower_here = lower[start:start + n_rows]
    norms_here = x_sq_norms[start:start + n_rows]
    grow, drop, half_gap = taken[0], taken[1], taken[2]
    for r in range(n_rows):
        label = labels_here[r]
        grow[r] = per_label[label, 0]
        drop[r] = per_label[label, 1]
        half_gap[r] = per_label[label, 2]
    unproved = np.uint64(0)
    for r in range(n_rows):
        u = upper_here[r] + grow[r]
        low = lower_here[r] - drop[r]
        upper_here[r] = _up(u)
        lower_here[r] = _down(low)
        m = max(low, half_gap[r])
        margin = margin_scale * (norms_here[r] + max_center_sq)
        proved = (m > u) & ((m - u) * (m + u) > margin)
        unproved |= np.uint64(not proved) << np.uint64(r)
    return unproved


@njit(cache=True, inline="always")
def _tightened(X, i, centers, labels, upper, lower, x_sq_norms, half_separation, margin_scale,
               max_center_sq, top, top_shift, second_shift, movers, residual):
    """Set row i's upper bound to its exact distance; whether the bounds then prove its label.

    When a few centres moved far (``movers``, see :func:`_far_movers`), the
    distances to them are measured too: the others moved at most
    ``residual``, so the lower bound before this pass, less ``residual``,
    still holds for those.
    """
    label = labels[i]
    m = max(lower[i], half_separation[label])
    margin = margin_scale * (x_sq_norms[i] + max_center_sq)
    u = math.sqrt(sq_distance(X, i, centers, label))
    upper[i] = _up(u)
    if m > u and (m - u) * (m + u) > margin:
        return True
    if movers.shape[0] == 0:
        return False
    moved_by = second_shift if label == top else top_shift
    low = lower[i] + (moved_by - residual)
    for q in range(movers.shape[0]):
        j = movers[q]
        if j != label:
            low = min(low, math.sqrt(sq_distance(X, i, centers, j)))
    lower[i] = _down(low)
    m = max(low, half_separation[label])
    return m > u and (m - u) * (m + u) > margin


@njit(cache=True)
def _hamerly_span(X, weights, x_sq_norms, centers, neg_half_norms, half_separation, labels,
                  upper, lower, partial_sums, partial_weights, margin_scale, first, every_row,
                  begin, end, top, top_shift, second_shift, max_center_sq, movers, residual, blas,
                  tighten, screen, per_label):
    """The Hamerly pass over rows ``begin .. end`` (whole chunks, see :func:`hamerly_pass`).

    Returns how many labels changed.
    """
    n_features = X.shape[1]
    n_changed = 0
    work = tile_buffers(n_features, centers.shape[0], X.dtype, blas)
    work32 = tile_buffers(n_features, centers.shape[0], np.float32, blas)
    scratch = np.empty((3, TILE))
    taken = np.empty((3, 64))
    pending = work[5]
    moved = np.empty(TILE, dtype=np.int64)
    if first or every_row:
        if first:
            for chunk in range(begin // CHUNK, (end + CHUNK - 1) // CHUNK):
                partial_sums[chunk] = 0.0
                partial_weights[chunk] = 0.0
        for start in range(begin, end, TILE):  # TILE divides CHUNK: a tile is in one chunk
            n_rows = tile_rows(pending, start, end)
            n_changed += _rescore(
                X, weights, x_sq_norms, pending, n_rows, centers, neg_half_norms, work, moved,
                labels, upper, lower, partial_sums, partial_weights, first, scratch, screen,
                work32,
            )
            if first and screen[3] <= 0.0:  # the rows are still in work's tile
                tile_sq_norms(work[0][:n_features], n_rows, scratch[0])
                x_sq_norms[start:start + n_rows] = scratch[0, :n_rows]
    else:
        unsettled = np.empty(TILE, dtype=np.int64)
        line = max(1, 64 // X.itemsize)  # values per 64-byte cache line
        n_pending = 0
        for start in range(begin, end, TILE):
            n_rows = min(TILE, end - start)
            # First a cheap pass: move the bounds, test them, and list the rows
            # they do not prove (from a bit mask per 64 rows: no branch per row).
            n_unsettled = 0
            for block in range(start, start + n_rows, 64):
                unproved = _move_bounds(
                    labels, upper, lower, x_sq_norms, per_label, block,
                    min(64, start + n_rows - block), margin_scale, max_center_sq, taken,
                )
                while unproved:
                    unsettled[n_unsettled] = block + trailing_zeros(unproved)
                    unproved &= unproved - np.uint64(1)
                    n_unsettled += 1
            # Ask for the rows of X they need now: the rows are scattered over
            # X, and prefetches (unlike loads) let the cache misses overlap
            # with each other and with the work until the rows are used.
            if screen[3] > 0.0:  # the rows are read from the float32 copy
                for q in range(n_unsettled):
                    for f in range(0, n_features, 2 * line):
                        prefetch(screen[0], unsettled[q], f)
            else:
                for q in range(n_unsettled):
                    for f in range(0, n_features, line):
                        prefetch(X, unsettled[q], f)
            # Rows still unsettled are queued (across the span's chunks) and
            # rescored a tile at a time.
            for q in range(n_unsettled):
                i = unsettled[q]
                if tighten and _tightened(
                    X, i, centers, labels, upper, lower, x_sq_norms, half_separation,
                    margin_scale, max_center_sq, top, top_shift, second_shift, movers, residual,
                ):
                    continue
                pending[n_pending] = i
                n_pending += 1
                if n_pending == TILE:
                    n_changed += _rescore(
                        X, weights, x_sq_norms, pending, np.int64(n_pending), centers,
                        neg_half_norms, work, moved, labels, upper, lower, partial_sums,
                        partial_weights, False, scratch, screen, work32,
                    )
                    n_pending = 0
        if n_pending > 0:
            # (np.int64: a count that numba may type as the literal 0 would
            # compile the rescoring kernels once more.)
            n_changed += _rescore(
                X, weights, x_sq_norms, pending, np.int64(n_pending), centers, neg_half_norms,
                work, moved, labels, upper, lower, partial_sums, partial_weights, False,
                scratch, screen, work32,
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
    every_row,
    blas,
    tighten,
    span_chunks,
    screen,
):
    """One exact Hamerly pass: the labels ``kmeans.assign`` would give, and the new sums.

    Each row keeps an upper bound ``upper`` on the distance to its centre and a
    lower bound ``lower`` on the distance to every other centre. A row is
    rescored only when the bounds (moved by the centre shifts) no longer prove
    its label. The proof must hold with a margin: a row is skipped only if
    ``m^2 - u^2 > margin_scale * (||x||^2 + max_j ||c_j||^2)`` (``m`` the best
    lower bound, ``u`` the upper bound), so that rounding in the scores could
    not have changed Lloyd's argmin; exact ties are never skipped.

    Every chunk keeps its own float64 sums; a row that changes cluster moves
    its contribution between them (in row order), so only moved rows are read
    again. The threads take the rows in spans of ``span_chunks`` whole chunks;
    a span queues its rows to rescore across its chunks, so late in a fit,
    when a chunk has only a few dozen, the tiles are still full. Results do
    not depend on the span. ``sums``/``weight_sums`` are then the chunk sums
    added in chunk order: deterministic, whatever the number of threads, and
    equal to Lloyd's sums up to the rounding of those moves.

    For float64 X, rows may be scored in float32 first (a *screen*): half the
    data to read and twice the values per vector instruction. A float32 score
    differs from the exact score of the float64 values by at most ``err``
    (see :func:`_score_screened`), so where the best beats the runner-up by
    more than ``2 err`` the label is Lloyd's, and only the rows left (near
    ties: very few) are scored again in float64. The bounds from float32
    scores are widened by ``err``. Labels, sums and centres are the same as
    without the screen, to the last bit.

    Parameters
    ----------
    X : (n, d) float32/float64 C-contiguous; weights : (n,) X's dtype, or empty for unit
        weights (see :func:`clustra._kernels.kmeans.move_weights`);
    x_sq_norms : (n,) float64, the rows' squared norms. Without a screen the
        first pass writes them (from the rows it gathers: no pass over X of
        their own); with one they are given (the screen needs them first).
    centers : (k, d) and neg_half_norms : (k,), X's dtype.
    half_separation : (k,) float64, half the distance to the nearest other centre.
    shift : (k,) float64, how far each centre moved since the bounds were set.
    labels : (n,) int32; upper, lower : (n,) float32; all updated in place.
        The bounds are rounded outward (:func:`_up`, :func:`_down`), and
        float32 halves the bytes to move for every row tested or rescored,
        whatever X's dtype (500k x 16, k=16: float32 X 4-6% faster,
        float64 X 0-6%; 200k x 32, k=256: 5%).
    partial_sums : (n_chunks, k, d) and partial_weights : (n_chunks, k) float64,
        the chunk sums, updated in place.
    sums : (k, d) and weight_sums : (k,) float64, out.
    margin_scale : float, relative rounding margin (see above).
    first : bool, no chunk sums yet: score and add every row. The first pass
        sets no bounds: the first centre update moves the centres so far
        that the next pass would rescore nearly every row anyway (99% on a
        500k x 16, k=16 fit), so it rescores every row instead
        (``every_row``), without testing bounds, and sets them.
    every_row : bool, no valid bounds yet: rescore every row (not with ``first``).
    blas : bool, as in :func:`clustra._kernels.kmeans.lloyd_pass`.
    tighten : bool, before rescoring a row the bounds no longer prove, set its
        upper bound to the exact distance to its centre and test again (worth
        it only when rescoring costs much more: many centre values).
    span_chunks : int, chunks per task (at least 1).
    screen : tuple ``(X32, centers32, neg_half_norms32, relative, absolute, x_norm)``:
        X, the centres and their constants rounded to float32, and the terms
        of the error bound ``err = relative * (x_norm * c + c^2 / 2) + absolute
        * (1 + x_norm + c)`` (``x_norm`` the largest row norm, ``c`` the
        largest centre norm); ``relative == 0`` for no screen (then ``X32``
        is unused: X itself for float32 X, else empty).

    When tightening, and up to 4 centres moved far more than all the others
    (a relocated empty cluster, a centre jumping between groups), a row the
    bounds no longer prove is also tested against its exact distances to
    those few and the others' smaller shift (see :func:`_far_movers`),
    before it is rescored against every centre.

    Returns
    -------
    n_changed : int, how many labels changed.
    """
    n_samples, n_features = X.shape
    n_clusters = centers.shape[0]
    max_center_sq = 0.0
    for j in range(n_clusters):
        max_center_sq = max(max_center_sq, -2.0 * np.float64(neg_half_norms[j]))
    # The screen's error bound, for every row and centre: see _score_screened.
    X32, centers32, neg_half_norms32, relative, absolute, x_norm = screen
    center_norm = math.sqrt(max_center_sq)
    err = (relative * (x_norm * center_norm + 0.5 * center_norm * center_norm)
           + absolute * (1.0 + x_norm + center_norm))
    screen_here = (X32, centers32, neg_half_norms32, err)
    top, top_shift, second_shift = _shift_extremes(shift)
    movers, residual = _far_movers(shift, top_shift)
    per_label = np.empty((n_clusters, 3))  # see _move_bounds
    for j in range(n_clusters):
        per_label[j, 0] = shift[j]
        per_label[j, 1] = second_shift if j == top else top_shift
        per_label[j, 2] = half_separation[j]
    span = span_chunks * CHUNK
    n_spans = (n_samples + span - 1) // span
    changed = np.zeros(n_spans, dtype=np.int64)
    for task in prange(n_spans):
        begin = np.int64(task) * span
        changed[task] = _hamerly_span(
            X, weights, x_sq_norms, centers, neg_half_norms, half_separation, labels, upper,
            lower, partial_sums, partial_weights, margin_scale, first, every_row, begin,
            min(begin + span, n_samples), top, top_shift, second_shift, max_center_sq, movers,
            residual, blas, tighten, screen_here, per_label,
        )
    add_in_order(partial_sums, partial_weights, sums, weight_sums)
    return changed.sum()


@njit(cache=True)
def half_separation(centers):
    """(k,) float64: half the distance from each centre to its nearest other centre.

    For one centre at a time, the squared distances to all the others are
    accumulated a feature at a time across the centres (a vectorised loop:
    with k=256 centres, this was 0.8 ms per pass as a loop over pairs).
    """
    n_clusters, n_features = centers.shape
    by_feature = np.empty((n_features, n_clusters))
    for j in range(n_clusters):
        for f in range(n_features):
            by_feature[f, j] = centers[j, f]
    sq = np.empty(n_clusters)
    out = np.empty(n_clusters)
    for a in range(n_clusters):
        sq[:] = 0.0
        for f in range(n_features):
            row = by_feature[f]
            value = row[a]
            for b in range(n_clusters):
                diff = row[b] - value
                sq[b] += diff * diff
        sq[a] = np.inf
        out[a] = 0.5 * math.sqrt(sq.min())
    return out
