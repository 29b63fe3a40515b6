"""Bisecting K-Means kernels: the Lloyd pass for two centres, the inertia of every cluster.

``X`` is a C-contiguous ``(n_samples, n_features)`` array of float32 or
float64, ``weights`` ``(n_samples,)`` of X's dtype, ``centers``
``(n_clusters, n_features)`` of X's dtype and ``labels`` ``(n_samples,)``
int32 with values in ``0 .. n_clusters - 1``. Rows are taken in chunks of
:data:`CHUNK`, each chunk writing its own float64 partial sums, added in chunk
order: the result does not depend on the number of threads.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from clustra._kernels.blocks import claim, run_blocks
from clustra._kernels.intrinsics import fma
from clustra._kernels.jit import inner, kernel
from clustra._kernels.kmeans import _take_tile as take_tile
from clustra._kernels.kmeans_data import chunk_totals, transpose
from clustra._kernels.kmeans_sums import CHUNK, add_in_order, n_chunks
from clustra._kernels.kmeans_tiles import TILE


@kernel
def _inertia_per_cluster_chunks(X, weights, centers, labels, partial, blocks):
    n_samples, n_features = X.shape
    n_clusters = centers.shape[0]
    by_feature = np.empty((n_clusters, n_features))
    begin, end = claim(blocks)
    while begin < end:
        for chunk in range(begin, end):
            for j in range(n_clusters):
                for f in range(n_features):
                    by_feature[j, f] = 0.0
            for i in range(chunk * CHUNK, min((chunk + 1) * CHUNK, n_samples)):
                weight = np.float64(weights[i])
                label = labels[i]
                for f in range(n_features):
                    diff = np.float64(X[i, f]) - np.float64(centers[label, f])
                    by_feature[label, f] += weight * (diff * diff)
            for j in range(n_clusters):
                total = 0.0  # in feature order
                for f in range(n_features):
                    total += by_feature[j, f]
                partial[chunk, j] = total
        begin, end = claim(blocks)
    return 0


def inertia_per_cluster(X, weights, centers, labels):
    """(n_clusters,) float64: each cluster's weighted sum of squared distances to its centre.

    A chunk adds its rows' terms per cluster and feature (a loop over the
    features that vectorises), then folds the features; chunks are added in
    chunk order. A block kernel on :func:`clustra._kernels.blocks.run_claimed`'s
    threads: a parallel loop costs far more to compile.
    """
    return chunk_totals(_inertia_per_cluster_chunks, X.shape[0], centers.shape[0], X, weights,
                        centers, labels)


@kernel
def _copy_rows_chunks(X, rows, out, begin, end):
    """``out[i] = X[rows[i]]`` (``X[i]`` with ``rows`` None), in out's dtype, for the rows of
    chunks ``begin .. end``; None drops the gather at compile time."""
    for i in range(begin * CHUNK, min(end * CHUNK, out.shape[0])):
        if rows is None:
            row = i
        else:
            row = rows[i]
        for f in range(X.shape[1]):
            out[i, f] = X[row, f]
    return 0


def take_rows(X, rows):
    """``X[rows]``: a new C-contiguous ``(rows.size, n_features)`` array of X's dtype.

    ``rows`` is int64 (intp), each in ``0 .. n_samples - 1``. numpy's fancy
    indexing copies on one thread; the copy is memory-bound and two threads
    move it faster.
    """
    out = np.empty((rows.shape[0], X.shape[1]), dtype=X.dtype)
    run_blocks(_copy_rows_chunks, n_chunks(rows.shape[0]), X, rows, out)
    return out


@kernel
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


@inner(fastmath={'reassoc', 'contract'})
def _side(X, i, diff, offset):
    """``offset + X[i] . diff`` in any order of the terms (rounded as the compiler likes).

    The side of the two centres' bisector row i is on; only its sign is used,
    and only where it is farther from zero than :func:`two_means_margin`
    says the rounding can move it. Free order lets the loop vectorise.
    """
    t = offset
    for f in range(X.shape[1]):
        t += X[i, f] * diff[f]
    return t


@inner
def _exact_label(X, i, centers, neg_half_norms):
    """Row i's label as the K-Means tile kernels give it (clustra._kernels.kmeans_tiles).

    Both scores start from ``neg_half_norms[j]`` and add the terms in feature
    order, one fused multiply-add each: the same bits as those kernels, hence
    the same decision on ties (to centre 0).
    """
    s0 = neg_half_norms[0]
    s1 = neg_half_norms[1]
    for f in range(X.shape[1]):
        s0 = fma(X[i, f], centers[0, f], s0)
        s1 = fma(X[i, f], centers[1, f], s1)
    return np.int32(1) if s1 > s0 else np.int32(0)


@njit(cache=True, inline="always")
def _sides_fixed(n_features, X, start, n_rows, diff, offset, margin, side, best):
    """:func:`_sides` with a constant ``n_features`` (inlined): the loop over the
    features unrolls, and the loop over the rows vectorises."""
    n_near = 0
    for r in range(n_rows):
        t = offset
        for f in range(n_features):
            t = fma(X[start + r, f], diff[f], t)
        side[r] = t
        best[r] = 1 if t > 0 else 0
        n_near += not abs(t) > margin
    return n_near


@njit(cache=True, inline="always")
def _sides_columns(n_features, x_cols, start, n_rows, diff, offset, margin, side, best):
    """:func:`_sides_fixed` on X transposed (``(d, n)``): contiguous loads per feature."""
    n_near = 0
    for r in range(n_rows):
        t = offset
        for f in range(n_features):
            t = fma(x_cols[f, start + r], diff[f], t)
        side[r] = t
        best[r] = 1 if t > 0 else 0
        n_near += not abs(t) > margin
    return n_near


@inner
def _sides(X, columns, start, n_rows, diff, offset, margin, side, best):
    """Rows ``start .. start + n_rows``: ``side[r]`` (see :func:`_side`), ``best[r]`` its sign
    as a label; returns how many are near-ties (within ``margin`` of zero, or NaN).

    With ``columns``, X is transposed (``(d, n)``, at most 4 features).
    """
    if columns:
        n_features = X.shape[0]
        if n_features == 1:
            return _sides_columns(1, X, start, n_rows, diff, offset, margin, side, best)
        if n_features == 2:
            return _sides_columns(2, X, start, n_rows, diff, offset, margin, side, best)
        if n_features == 3:
            return _sides_columns(3, X, start, n_rows, diff, offset, margin, side, best)
        return _sides_columns(4, X, start, n_rows, diff, offset, margin, side, best)
    n_features = X.shape[1]
    if n_features == 1:
        return _sides_fixed(1, X, start, n_rows, diff, offset, margin, side, best)
    if n_features == 2:
        return _sides_fixed(2, X, start, n_rows, diff, offset, margin, side, best)
    n_near = 0
    for r in range(n_rows):
        t = _side(X, start + r, diff, offset)
        side[r] = t
        best[r] = 1 if t > 0 else 0
        n_near += not abs(t) > margin
    return n_near


@kernel
def _two_means_chunks(X, x_sides, columns, weights, centers, neg_half_norms, diff, offset, margin,
                      labels, partial_sums, partial_weights, first, changed, begin, end):
    """Chunks [begin, end) of :func:`two_means_pass`, a tile of rows at a time: label them
    (branch-free), score the near-ties exactly, then take the labels as Lloyd's pass does."""
    n_samples = X.shape[0]
    side = np.empty(TILE, dtype=x_sides.dtype)
    best = np.empty(TILE, dtype=np.int32)
    moved = np.empty(TILE, dtype=np.int64)
    for chunk in range(begin, end):
        sums = partial_sums[chunk]
        weight_sums = partial_weights[chunk]
        if first:
            sums[:] = 0.0
            weight_sums[:] = 0.0
        n_changed = 0
        stop = min((chunk + 1) * CHUNK, n_samples)
        for start in range(chunk * CHUNK, stop, TILE):
            n_rows = min(TILE, stop - start)
            if _sides(x_sides, columns, start, n_rows, diff, offset, margin, side, best):
                for r in range(n_rows):
                    if not abs(side[r]) > margin:  # decide as the general kernel
                        best[r] = _exact_label(X, start + r, centers, neg_half_norms)
            n_changed += take_tile(X, weights, labels, start, n_rows, best, sums, weight_sums,
                                   moved, first)
        changed[chunk] = n_changed
    return 0


def two_means_margin(centers, neg_half_norms, row_norm_max, dtype=None):
    """How far from zero :func:`_side` must be for its sign to be the general kernel's.

    The general kernel labels a row 1 when its score against centre 1 beats
    the one against centre 0, each rounded along a chain of ``d`` fused
    multiply-adds; ``_side`` is their difference, rounded differently (the
    centres' difference too). Each of the three is within ``gamma_(d+1)``
    (``(d + 1) u / (1 - (d + 1) u)``) of its exact value relative to the sum
    of its terms' magnitudes, which ``|c0|^2/2 + |c1|^2/2 + max|x| (|c0| + |c1|)``
    bounds (Cauchy-Schwarz); the margin is twice the sum of those bounds.

    ``dtype`` float32 for sides computed from a float32 copy of float64 X
    (:func:`sides_copy`): the copy's, the centres' difference's and the
    offset's rounding to float32 each stay within ``u`` of the terms, well
    inside float32's ``gamma_(d+1)``. A last term covers values below the
    dtype's smallest normal number, whose rounding is absolute, not relative.
    """
    d = centers.shape[1]
    info = np.finfo(dtype or centers.dtype)
    u = float(info.eps) / 2
    norms = np.sqrt(np.einsum("ij,ij->i", centers.astype(np.float64), centers.astype(np.float64)))
    scale = (abs(float(neg_half_norms[0])) + abs(float(neg_half_norms[1]))
             + float(row_norm_max) * float(norms.sum()))
    gamma = (d + 1) * u / (1 - (d + 1) * u)
    spread = float(np.abs(centers[1].astype(np.float64) - centers[0]).sum())
    underflow = float(info.tiny) * (d + 2) * (spread + d * float(row_norm_max) + 1.0)
    return 2.0 * (3 * gamma + 2 * u) * scale + underflow


# A float32 copy of float64 X halves what the passes read (measured at 16 features:
# benchmarks/results/bisecting.md); with fewer features the copy, made once per split,
# has less to save, and up to 4 the transposed copy serves instead.
SIDES_COPY_MIN_FEATURES = 8
# Up to this many features the sides are computed from X transposed: strided
# loads of a few features per row cost more than the copy.
SIDES_COLUMNS_MAX_FEATURES = 4


def sides_copy(X, row_norm_max):
    """The copy of X :func:`two_means_pass` computes the sides from, or None for X itself.

    X transposed (``(d, n)``, X's dtype) up to ``SIDES_COLUMNS_MAX_FEATURES``
    features; a float32 copy of float64 X from ``SIDES_COPY_MIN_FEATURES``
    on, unless float32 cannot hold X's values.
    """
    if X.shape[1] <= SIDES_COLUMNS_MAX_FEATURES:
        return transpose(X)
    if X.dtype != np.float64 or X.shape[1] < SIDES_COPY_MIN_FEATURES or row_norm_max > 1e37:
        return None
    return to_float32(X)


def to_float32(X):
    """X rounded to float32 (C-contiguous), on the block threads."""
    out = np.empty(X.shape, dtype=np.float32)
    run_blocks(_copy_rows_chunks, n_chunks(X.shape[0]), X, None, out)
    return out


def two_means_pass(X, weights, centers, neg_half_norms, labels, sums, first, row_norm_max,
                   x_sides=None):
    """:func:`clustra._kernels.kmeans.lloyd_move_pass` for two centres: the same labels
    and sums, one dot product per row.

    A row's label is the sign of ``x . (c1 - c0) - (|c1|^2 - |c0|^2) / 2``;
    the rows too near the bisector for that sign to be trusted (see
    :func:`two_means_margin`) are scored against both centres exactly as the
    general kernel scores them. The chunk sums move as in ``lloyd_move_pass``
    (rows in the same order, the same additions), so the centres are its
    centres to the last bit.

    ``row_norm_max`` is at least the largest Euclidean norm of a row of X;
    ``weights`` may be empty for unit weights (as for ``lloyd_move_pass``);
    ``sums`` a :class:`clustra._kernels.kmeans_sums.ChunkSums` for two
    clusters. ``x_sides``, if given, is :func:`sides_copy` of X: the sides
    are computed from it, and only the near-ties and the sums read X.
    Returns how many labels changed.
    """
    total_chunks = (X.shape[0] + CHUNK - 1) // CHUNK
    changed = np.zeros(total_chunks, dtype=np.int64)
    x_sides = X if x_sides is None else x_sides
    side_type = x_sides.dtype.type
    diff = (centers[1] - centers[0]).astype(x_sides.dtype)
    offset = side_type(neg_half_norms[1] - neg_half_norms[0])
    margin = side_type(two_means_margin(centers, neg_half_norms, row_norm_max, x_sides.dtype))
    # A copy of X's dtype is the transposed one (sides_copy).
    columns = x_sides is not X and x_sides.dtype == X.dtype
    run_blocks(_two_means_chunks, total_chunks, X, x_sides, columns, weights, centers,
               neg_half_norms, diff, offset, margin, labels, sums.partial_sums,
               sums.partial_weights, bool(first), changed)
    add_in_order(sums.partial_sums, sums.partial_weights, sums.sums, sums.weight_sums)
    return int(changed.sum())
