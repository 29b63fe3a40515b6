"""K-Means kernels: the Lloyd passes and the assignment of rows to centres.

The exact Hamerly pass is in :mod:`clustra._kernels.kmeans_hamerly`, the tile
scoring both use in :mod:`clustra._kernels.kmeans_tiles`, the per-chunk sums
in :mod:`clustra._kernels.kmeans_sums` and the passes over all the data that
prepare a fit or measure its result in :mod:`clustra._kernels.kmeans_data`.

Conventions shared by every kernel here:

- ``X`` is a C-contiguous ``(n_samples, n_features)`` array of float32 or
  float64; ``weights`` is ``(n_samples,)`` of the same dtype (the move
  kernels also take an empty array for unit weights, see
  :func:`clustra._kernels.kmeans_sums.move_weights`); ``labels`` is
  ``(n_samples,)`` int32.
- Centres are ``(n_clusters, n_features)`` in X's dtype, with
  ``neg_half_norms[j] = -||c_j||^2 / 2``. The nearest centre of ``x`` is the
  argmax of the *score* ``x . c_j - ||c_j||^2 / 2`` (since ``||x - c_j||^2 =
  ||x||^2 - 2 score_j``), computed in X's dtype. Rows are scored a tile at a
  time, gathered and transposed so that the row index is the inner loop (see
  :func:`clustra._kernels.kmeans_tiles.tile_best`): either by the kernel's own loops, which have no
  reduction and so vectorise without ``fastmath``, or, for large problems,
  by one BLAS product per tile. Ties go to the lowest centre index, as in
  scikit-learn.
- Rows are processed in chunks of ``kmeans_sums.CHUNK`` rows. Every chunk
  writes its own float64 partial sums; partials are added in chunk order.
  The results therefore depend on ``CHUNK`` but never on the number of threads.
- Within one fit every kernel scores with the same path, so Lloyd and
  Hamerly agree on every score and give the same labels; their centres agree
  up to the rounding of Hamerly's incremental sums (see
  :func:`clustra._kernels.kmeans_hamerly.hamerly_pass`).
"""

from __future__ import annotations

import numpy as np
from numba import prange

from clustra._kernels.blocks import claim, run_claimed
from clustra._kernels.jit import inner, kernel
from clustra._kernels.kmeans_sums import CHUNK, add_in_order, add_row, row_weight
from clustra._kernels.kmeans_tiles import (
    TILE,
    nearest_few_features,
    tile_best,
    tile_buffers,
    tile_rows,
)

# Lloyd processes chunks in groups so that the partial sums of one group
# (group_size x n_clusters x n_features float64) stay within this budget.
_GROUP_BUDGET_BYTES = 32 * 1024 * 1024


def group_size(n_clusters: int, n_features: int) -> int:
    """Chunks per Lloyd group (only memory depends on it, never the results)."""
    per_chunk = 8 * n_clusters * (n_features + 1)
    return int(max(4, min(1 << 20, _GROUP_BUDGET_BYTES // max(per_chunk, 1))))


def few_features(X: np.ndarray, blas: bool):
    """The tile kernels' ``few`` argument: True to score at most 4 features by
    :func:`clustra._kernels.kmeans_tiles.nearest_few_features`, else None (not compiled)."""
    return True if X.shape[1] <= 4 and not blas else None


def blas_path(blas: bool):
    """The chunk kernels' ``blas`` argument: True to score by BLAS, None to leave that
    path out of the compiled kernel (see :func:`clustra._kernels.kmeans_tiles.tile_best`)."""
    return True if blas else None


def no_columns(X: np.ndarray) -> np.ndarray:
    """The empty stand-in for :func:`lloyd_move_pass`'s ``x_cols``: score gathered tiles."""
    return np.empty((0, 0), dtype=X.dtype)


@inner
def _take_all(X, weights, labels, start, n_rows, best, chunk_sums, chunk_weights):
    """Store a scored tile's labels (``best``) for rows ``start ..`` and add every row's sums.

    Returns how many labels changed.
    """
    n_changed = 0
    for r in range(n_rows):
        i = start + r
        label = best[r]
        n_changed += labels[i] != label  # branch-free: labels change unpredictably
        labels[i] = label
        add_row(X, i, label, row_weight(weights, i), chunk_sums, chunk_weights)
    return n_changed


@inner
def _move_changed(X, weights, labels, start, n_rows, best, chunk_sums, chunk_weights, moved):
    """Take a scored tile's labels (``best``) for rows ``start ..``; move the changed rows' sums.

    Returns how many changed.
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


@inner(inline="always")
def _take_tile(X, weights, labels, start, n_rows, best, chunk_sums, chunk_weights, moved, first):
    """Take a scored tile's labels: with ``first`` add every row to the chunk sums
    (:func:`_take_all`), else move the rows that changed (:func:`_move_changed`)."""
    if first:
        return _take_all(X, weights, labels, start, n_rows, best, chunk_sums, chunk_weights)
    return _move_changed(X, weights, labels, start, n_rows, best, chunk_sums, chunk_weights,
                         moved)


@inner(inline="always")
def _lloyd_chunk(X, weights, centers, neg_half_norms, labels, chunk, chunk_sums, chunk_weights,
                 first, blas, few):
    """Assign the rows of one chunk; with ``first`` sum every row into the chunk's sums,
    else move only the rows that change cluster between them.

    Inlined into the block kernels that call it, as :func:`_take_tile` is
    here: a compiled function of its own costs one more optimisation and
    machine-code pass over everything it calls. Returns how many labels changed.
    """
    n_samples, n_features = X.shape
    work = tile_buffers(n_features, centers.shape[0], X.dtype, blas is not None)
    moved = np.empty(TILE, dtype=np.int64)
    n_changed = 0
    end = min((chunk + 1) * CHUNK, n_samples)
    if first:
        chunk_sums[:] = 0.0
        chunk_weights[:] = 0.0
    for start in range(chunk * CHUNK, end, TILE):
        n_rows = tile_rows(work.rows, start, end)
        tile_best(X, work.rows, n_rows, centers, neg_half_norms, work, False, few, blas)
        n_changed += _take_tile(X, weights, labels, start, n_rows, work.best, chunk_sums,
                                chunk_weights, moved, first)
    return n_changed


# A chunk kernel of its own rather than a branch in _lloyd_chunk: with so
# little work per row, the folded version ran measurably slower
# (benchmarks/results/kmeans-choices.md). Its first lines repeat
# _lloyd_chunk's: a shared helper would be one more compilation on every
# first fit, which costs more than these few lines.
@inner
def _lloyd_columns_chunk(X, x_cols, weights, centers, neg_half_norms, labels, chunk, chunk_sums,
                         chunk_weights, first):
    """:func:`_lloyd_chunk` scoring X transposed (``x_cols``, ``(d, n)``, at most 4 features).

    The tiles are read in place, one contiguous slice per feature, instead of
    being gathered and transposed: with so few features that gather costs
    more than scoring the rows. The sums read the rows of X (C-contiguous, as
    every other caller of the sum helpers passes: one compilation of each).
    """
    n_samples = x_cols.shape[1]
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
        n_changed += _take_tile(X, weights, labels, start, n_rows, best, chunk_sums,
                                chunk_weights, moved, first)
    return n_changed


@inner(inline="always")
def _assign_chunk(X, centers, neg_half_norms, labels, chunk, blas, few):
    """Nearest centre of the rows of one chunk into labels; returns how many changed."""
    n_samples, n_features = X.shape
    work = tile_buffers(n_features, centers.shape[0], X.dtype, blas is not None)
    n_changed = 0
    end = min((chunk + 1) * CHUNK, n_samples)
    for start in range(chunk * CHUNK, end, TILE):
        n_rows = tile_rows(work.rows, start, end)
        tile_best(X, work.rows, n_rows, centers, neg_half_norms, work, False, few, blas)
        for r in range(n_rows):
            n_changed += labels[start + r] != work.best[r]
            labels[start + r] = work.best[r]
    return n_changed


@kernel
def _lloyd_group(X, weights, centers, neg_half_norms, labels, first_chunk, partial_sums,
                 partial_weights, changed, blas, few, blocks):
    """Chunks ``first_chunk + g`` (g claimed from ``blocks``) of a :func:`lloyd_pass` group."""
    begin, end = claim(blocks)
    while begin < end:
        for g in range(begin, end):
            changed[first_chunk + g] = _lloyd_chunk(
                X, weights, centers, neg_half_norms, labels, np.int64(first_chunk + g),
                partial_sums[g], partial_weights[g], True, blas, few,
            )
        begin, end = claim(blocks)
    return 0


@kernel
def _add_group(partial_sums, partial_weights, n_here, sums, weight_sums):
    """Add the first ``n_here`` chunk partials of a group to the totals, in chunk order."""
    n_clusters, n_features = sums.shape
    for g in range(n_here):
        for j in range(n_clusters):
            weight_sums[j] += partial_weights[g, j]
            for f in range(n_features):
                sums[j, f] += partial_sums[g, j, f]


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
    blas : bool, score by BLAS matrix products (see
        :func:`clustra._kernels.kmeans_tiles.tile_best`); the caller holds
        BLAS to one thread.

    The chunks run on :func:`clustra._kernels.blocks.run_claimed`'s threads.

    Returns
    -------
    n_changed : int, how many labels changed.
    """
    n_samples, n_features = X.shape
    n_clusters = centers.shape[0]
    total_chunks = (n_samples + CHUNK - 1) // CHUNK
    n_per_group = max(1, min(n_per_group, total_chunks))
    partial_sums = np.empty((n_per_group, n_clusters, n_features), dtype=np.float64)
    partial_weights = np.empty((n_per_group, n_clusters), dtype=np.float64)
    changed = np.zeros(total_chunks, dtype=np.int64)
    sums[:] = 0.0
    weight_sums[:] = 0.0
    for first in range(0, total_chunks, n_per_group):
        n_here = min(n_per_group, total_chunks - first)
        run_claimed(_lloyd_group, n_here, X, weights, centers, neg_half_norms, labels,
                   np.int64(first), partial_sums, partial_weights, changed, blas_path(blas),
                   few_features(X, blas))
        _add_group(partial_sums, partial_weights, n_here, sums, weight_sums)
    return int(changed.sum())


@kernel
def _lloyd_move_chunks(X, weights, centers, neg_half_norms, labels, sums, first, blas, changed,
                       blocks):
    """The chunks of :func:`lloyd_move_pass` claimed from ``blocks`` (gathered tiles of X)."""
    begin, end = claim(blocks)
    while begin < end:
        for chunk in range(begin, end):
            changed[chunk] = _lloyd_chunk(
                X, weights, centers, neg_half_norms, labels, np.int64(chunk),
                sums.partial_sums[chunk], sums.partial_weights[chunk], first, blas, None,
            )
        begin, end = claim(blocks)
    return 0


# The one parfor of the Lloyd passes: on 1-4 features a chunk has so little work
# per row that the serial block kernel ran about twice as slow as numba's
# parallel loop, which compiles its body knowing the arrays do not alias
# (benchmarks/results/kmeans-choices.md); compiled only by fits on such data.
@kernel(parallel=True)
def _lloyd_columns_pass(X, x_cols, weights, centers, neg_half_norms, labels, sums, first,
                        changed):
    """The chunks of :func:`lloyd_move_pass` on ``x_cols``, on numba's threads."""
    for chunk in prange(changed.shape[0]):
        changed[chunk] = _lloyd_columns_chunk(
            X, x_cols, weights, centers, neg_half_norms, labels, np.int64(chunk),
            sums.partial_sums[chunk], sums.partial_weights[chunk], first,
        )


def lloyd_move_pass(X, x_cols, weights, centers, neg_half_norms, labels, sums, first, blas):
    """A Lloyd pass that keeps per-chunk sums and moves only the rows that change cluster.

    Scores every row like :func:`lloyd_pass` (the same labels), but reads a row
    again for the sums only when its label changes: after the first few
    iterations that is a small fraction of the rows. The sums equal
    :func:`lloyd_pass`'s up to the rounding of the moves, and are added in
    chunk order, so they do not depend on the number of threads.

    Parameters
    ----------
    X, weights, centers, neg_half_norms, labels : as in :func:`lloyd_pass`,
        except that ``weights`` may be empty for unit weights (see
        :func:`clustra._kernels.kmeans_sums.move_weights`).
    x_cols : (d, n) X transposed (only for at most 4 features, without BLAS),
        scored in place (the sums still read the rows of X); or empty
        (:func:`no_columns`) to gather tiles of X.
    sums : :class:`clustra._kernels.kmeans_sums.ChunkSums`, the chunk sums
        (kept from pass to pass) and their totals (out).
    first : bool, the chunk sums hold nothing yet: add every row.
    blas : bool, as in :func:`lloyd_pass`.

    Returns
    -------
    n_changed : int, how many labels changed.
    """
    total_chunks = (X.shape[0] + CHUNK - 1) // CHUNK
    changed = np.zeros(total_chunks, dtype=np.int64)
    if x_cols.shape[0] > 0:
        if x_cols.shape != X.shape[::-1]:
            raise ValueError(f"x_cols must be X transposed, {X.shape[::-1]}; got {x_cols.shape}")
        _lloyd_columns_pass(X, x_cols, weights, centers, neg_half_norms, labels, sums, bool(first),
                            changed)
    else:
        run_claimed(_lloyd_move_chunks, total_chunks, X, weights, centers, neg_half_norms,
                    labels, sums, bool(first), blas_path(blas), changed)
    add_in_order(sums.partial_sums, sums.partial_weights, sums.sums, sums.weight_sums)
    return int(changed.sum())


@kernel
def _assign_chunks(X, centers, neg_half_norms, labels, blas, few, changed, blocks):
    """The chunks of :func:`assign` claimed from ``blocks``."""
    begin, end = claim(blocks)
    while begin < end:
        for chunk in range(begin, end):
            changed[chunk] = _assign_chunk(X, centers, neg_half_norms, labels, np.int64(chunk),
                                           blas, few)
        begin, end = claim(blocks)
    return 0


def assign(X, centers, neg_half_norms, labels, blas):
    """Nearest centre of every row into ``labels`` ((n,) int32); no sums. As lloyd_pass.

    Returns how many labels changed.
    """
    total_chunks = (X.shape[0] + CHUNK - 1) // CHUNK
    changed = np.zeros(total_chunks, dtype=np.int64)
    run_claimed(_assign_chunks, total_chunks, X, centers, neg_half_norms, labels, blas_path(blas),
               few_features(X, blas), changed)
    return int(changed.sum())
