"""The exact Hamerly pass of K-Means: bounds that skip rows whose label cannot change.

Shares the tile kernels of :mod:`clustra._kernels.kmeans_tiles`, the bound
tests and state of :mod:`clustra._kernels.kmeans_bounds` and the chunk sums of
:mod:`clustra._kernels.kmeans_sums` (per-chunk float64 sums added in chunk
order, so results never depend on the number of threads).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from clustra._kernels.blocks import claim, run_claimed
from clustra._kernels.intrinsics import prefetch, trailing_zeros
from clustra._kernels.jit import inner, kernel
from clustra._kernels.kmeans_bounds import move_bounds, set_bounds, tightened
from clustra._kernels.kmeans_sums import CHUNK, add_in_order, add_row, row_weight
from clustra._kernels.kmeans_tiles import TILE, tile_best, tile_buffers, tile_rows, tile_sq_norms

SpanBuffers = namedtuple(
    "SpanBuffers", ["work", "work32", "scratch", "taken", "moved", "unsettled"]
)
SpanBuffers.__doc__ = """The work space of one task of a Hamerly pass: the tile work
spaces in X's dtype and in float32 (``TileWork``), a (3, TILE) and a (3, 64) float64
scratch, and two (TILE,) int64 row lists."""


@inner
def _span_buffers(n_features, n_clusters, dtype, blas):
    return SpanBuffers(
        tile_buffers(n_features, n_clusters, dtype, blas),
        tile_buffers(n_features, n_clusters, np.float32, blas),
        np.empty((3, TILE)),
        np.empty((3, 64)),
        np.empty(TILE, dtype=np.int64),
        np.empty(TILE, dtype=np.int64),
    )


@inner(inline="always")
def _score_exact(X, rows, n_rows, centres, bounds, buffers, set_them):
    """Nearest centres of ``rows[:n_rows]`` (returned: ``best``, in ``buffers.work``).

    With ``set_them``, their bounds are set from the best and runner-up scores
    (else no runner-up is kept).
    """
    work = buffers.work
    tile_best(X, rows, n_rows, centres.centers, centres.neg_half_norms, work, set_them)
    if set_them:
        set_bounds(bounds, rows, n_rows, work.best_score, work.second_score, 0.0,
                   buffers.scratch)
    return work.best


@inner(inline="always")
def _score_screened(X, rows, n_rows, centres, bounds, buffers, set_them, screen):
    """:func:`_score_exact`'s results, scoring in float32 first (float64 X only).

    ``screen`` is a :class:`clustra._kernels.kmeans_bounds.Screen`. Where the
    best float32 score beats the runner-up by more than ``2 err``, no rounding
    of the float64 scores could change the argmin, and the bounds are the
    float32 ones widened by ``err``; the few rows left (near ties) are scored
    again in float64.
    """
    work32 = buffers.work32
    err = screen.err
    # (np.bool_: a literal True would compile a float32 tile_best of its own.)
    tile_best(screen.X32, rows, n_rows, screen.centers32, screen.neg_half_norms32, work32,
              np.bool_(True))
    best_score, second_score, best = work32.best_score, work32.second_score, work32.best
    if set_them:
        set_bounds(bounds, rows, n_rows, best_score, second_score, err, buffers.scratch)
    unresolved = buffers.moved  # free until the caller lists its moved rows
    n_unresolved = 0
    for r in range(n_rows):  # a count: vectorised
        n_unresolved += not np.float64(best_score[r]) - np.float64(second_score[r]) > 2.0 * err
    if n_unresolved:
        n_listed = 0
        for r in range(n_rows):
            unresolved[n_listed] = r
            n_listed += not np.float64(best_score[r]) - np.float64(second_score[r]) > 2.0 * err
        exact_rows = work32.rows  # free: the float32 tile was given ``rows``
        for q in range(n_unresolved):
            exact_rows[q] = rows[unresolved[q]]
        exact = _score_exact(X, exact_rows, np.int64(n_unresolved), centres, bounds, buffers,
                             set_them)
        for q in range(n_unresolved):
            best[unresolved[q]] = exact[q]
    return best


@inner
def _rescore(X, weights, rows, n_rows, centres, bounds, sums, buffers, screen, fresh):
    """Rescore ``rows[:n_rows]`` against every centre; reset their labels and bounds.

    A row whose label changes moves its weighted contribution from its old
    cluster's sums to the new one's, in the partial sums of the row's chunk
    (``sums``, a ``ChunkSums``); with ``fresh`` those hold no row yet and
    every row is added (and no bounds are set: see :func:`hamerly_pass`).
    ``rows`` is in increasing order (so each chunk's sums change in row
    order). With a screen (``screen.err > 0``), scores are taken in float32
    first (:func:`_score_screened`). Returns how many labels changed (every
    row's, with ``fresh``).
    """
    if screen.err > 0.0:
        best = _score_screened(X, rows, n_rows, centres, bounds, buffers, not fresh, screen)
    else:
        best = _score_exact(X, rows, n_rows, centres, bounds, buffers, not fresh)
    labels, moved = bounds.labels, buffers.moved
    partial_sums, partial_weights = sums.partial_sums, sums.partial_weights
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


@inner
def _rescore_all(X, weights, centres, bounds, sums, screen, plan, buffers, begin, end):
    """The first pass, or one with no valid bounds yet: rescore every row of the span."""
    first = plan.first
    pending = buffers.work.rows
    n_changed = 0
    if first:
        for chunk in range(begin // CHUNK, (end + CHUNK - 1) // CHUNK):
            sums.partial_sums[chunk] = 0.0
            sums.partial_weights[chunk] = 0.0
    for start in range(begin, end, TILE):  # TILE divides CHUNK: a tile is in one chunk
        n_rows = tile_rows(pending, start, end)
        n_changed += _rescore(X, weights, pending, n_rows, centres, bounds, sums, buffers,
                              screen, first)
        if first and screen.err <= 0.0:  # the rows are still in work's tile
            norms = buffers.scratch[0]
            tile_sq_norms(buffers.work.x_t[:X.shape[1]], n_rows, norms)
            # A loop, not a slice assignment: that one's shape check compiles
            # numba's string formatting for its error message.
            for r in range(n_rows):
                bounds.x_sq_norms[start + r] = norms[r]
    return n_changed


# _hamerly_span and the scoring steps are inlined (numba IR) at their one or two call
# sites: numba finishes every compiled function on its own, so each level of calls
# costs one more optimisation and machine-code pass over all it calls. Inlining
# _rescore_all or _rescore as well ran the warm pass slower
# (benchmarks/results/coldstart.md).
@inner(inline="always")
def _hamerly_span(X, weights, centres, bounds, sums, settings, screen, plan, begin, end):
    """The Hamerly pass over rows ``begin .. end`` (whole chunks, see :func:`hamerly_pass`).

    Returns how many labels changed and how many rows were rescored.
    """
    n_features = X.shape[1]
    buffers = _span_buffers(n_features, centres.centers.shape[0], X.dtype, settings.blas)
    if plan.first or plan.every_row:
        return (_rescore_all(X, weights, centres, bounds, sums, screen, plan, buffers, begin,
                             end), end - begin)
    n_changed = 0
    n_rescored = 0
    pending, unsettled = buffers.work.rows, buffers.unsettled
    line = max(1, 64 // X.itemsize)  # values per 64-byte cache line
    n_pending = 0
    for start in range(begin, end, TILE):
        n_rows = min(TILE, end - start)
        # First a cheap pass: move the bounds, test them, and list the rows
        # they do not prove (from a bit mask per 64 rows: no branch per row).
        n_unsettled = 0
        for block in range(start, start + n_rows, 64):
            unproved = move_bounds(bounds, plan, block, min(64, start + n_rows - block),
                                   settings.margin_scale, buffers.taken)
            while unproved:
                unsettled[n_unsettled] = block + trailing_zeros(unproved)
                unproved &= unproved - np.uint64(1)
                n_unsettled += 1
        # Ask for the rows of X they need now: the rows are scattered over
        # X, and prefetches (unlike loads) let the cache misses overlap
        # with each other and with the work until the rows are used.
        if screen.err > 0.0:  # the rows are read from the float32 copy
            for q in range(n_unsettled):
                for f in range(0, n_features, 2 * line):
                    prefetch(screen.X32, unsettled[q], f)
        else:
            for q in range(n_unsettled):
                for f in range(0, n_features, line):
                    prefetch(X, unsettled[q], f)
        # Rows still unsettled are queued (across the span's chunks) and
        # rescored a tile at a time.
        for q in range(n_unsettled):
            i = unsettled[q]
            if settings.tighten and tightened(X, i, centres, bounds, plan,
                                              settings.margin_scale):
                continue
            pending[n_pending] = i
            n_pending += 1
            if n_pending == TILE:
                n_changed += _rescore(X, weights, pending, np.int64(n_pending), centres, bounds,
                                      sums, buffers, screen, np.bool_(False))
                n_rescored += n_pending
                n_pending = 0
    if n_pending > 0:
        # (np.int64 and np.bool_: numba types a literal 0 or False as a type of its own,
        # which would compile the rescoring kernels once more.)
        n_changed += _rescore(X, weights, pending, np.int64(n_pending), centres, bounds, sums,
                              buffers, screen, np.bool_(False))
    return n_changed, n_rescored + n_pending


@kernel
def _hamerly_tasks(X, weights, centres, plan, bounds, sums, settings, screen, counts, blocks):
    """The tasks (spans of ``settings.span_chunks`` chunks) of :func:`hamerly_pass`
    claimed from ``blocks``.

    ``counts`` (n_tasks, 2) int64, out: each task's changed and rescored rows.
    """
    n_samples = X.shape[0]
    span = settings.span_chunks * CHUNK
    begin, end = claim(blocks)
    while begin < end:
        for task in range(begin, end):
            start = np.int64(task) * span
            counts[task, 0], counts[task, 1] = _hamerly_span(
                X, weights, centres, bounds, sums, settings, screen, plan, start,
                min(start + span, n_samples),
            )
        begin, end = claim(blocks)
    return 0


def hamerly_pass(X, weights, centres, plan, bounds, sums, settings, screen):
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
    differs from the exact score of the float64 values by at most ``err``, so
    where the best beats the runner-up by more than ``2 err`` the label is
    Lloyd's, and only the rows left (near ties: very few) are scored again in
    float64. The bounds from float32 scores are widened by ``err``. Labels,
    sums and centres are the same as without the screen, to the last bit.

    Parameters
    ----------
    X : (n, d) float32/float64 C-contiguous; weights : (n,) X's dtype, or empty for unit
        weights (see :func:`clustra._kernels.kmeans_sums.move_weights`).
    centres : ``kmeans_bounds.Centres``, the centres (k, d) and their
        constants (k,) in X's dtype, and half the distance from each to its
        nearest other centre (k,) float64.
    plan : ``kmeans_bounds.PassPlan``, from ``kmeans_bounds.pass_plan``: how
        far each centre moved since the bounds were set (summed up for the
        bound tests), and the two flags ``first`` and ``every_row`` below.
    bounds : ``kmeans_bounds.RowBounds``, updated in place: labels (n,) int32,
        the bounds (n,) float32 and the rows' squared norms (n,) float64.
        Without a screen the first pass writes the norms (from the rows it
        gathers: no pass over X of their own); with one they are given (the
        screen needs them first). The bounds are rounded outward
        (``kmeans_bounds.up``/``down``); float32 halves the bytes to move for
        every row tested or rescored, whatever X's dtype.
    sums : ``kmeans_sums.ChunkSums``, the chunk sums (updated in place) and
        their totals (out).
    settings : ``kmeans_bounds.HamerlySettings``: ``margin_scale``, the
        relative rounding margin (see above); ``blas``, as in
        :func:`clustra._kernels.kmeans.lloyd_pass`; ``tighten``, before
        rescoring a row the bounds no longer prove, set its upper bound to the
        exact distance to its centre and test again (worth it only when
        rescoring costs much more: many centre values); ``span_chunks``,
        chunks per task (at least 1).
    screen : ``kmeans_bounds.Screen``: X, the centres and their constants
        rounded to float32, and the error bound ``err`` (0 for no screen).
    plan.first : bool, no chunk sums yet: score and add every row. The first
        pass sets no bounds: the first centre update moves the centres so far
        that the next pass would rescore nearly every row anyway, so it
        rescores every row instead (``every_row``), without testing bounds,
        and sets them.
    plan.every_row : bool, no valid bounds yet: rescore every row (not with ``first``).

    When tightening, and up to 4 centres moved far more than all the others
    (a relocated empty cluster, a centre jumping between groups), a row the
    bounds no longer prove is also tested against its exact distances to
    those few and the others' smaller shift (see
    ``kmeans_bounds.far_movers``), before it is rescored against every centre.

    Returns
    -------
    n_changed : int, how many labels changed.
    n_rescored : int, how many rows the bounds did not prove (every row in a
        ``first`` or ``every_row`` pass).
    """
    n_samples = X.shape[0]
    span = settings.span_chunks * CHUNK
    n_spans = (n_samples + span - 1) // span
    counts = np.zeros((n_spans, 2), dtype=np.int64)
    run_claimed(_hamerly_tasks, n_spans, X, weights, centres, plan, bounds, sums, settings, screen,
               counts)
    add_in_order(sums.partial_sums, sums.partial_weights, sums.sums, sums.weight_sums)
    n_changed, n_rescored = counts.sum(axis=0)
    return int(n_changed), int(n_rescored)
