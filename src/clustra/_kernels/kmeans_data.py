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

from clustra._kernels.blocks import claim, run_claimed
from clustra._kernels.jit import inner, kernel
from clustra._kernels.kmeans_sums import CHUNK, n_chunks

# Up to this many rows (one chunk) the passes below run in numpy, adding the
# same terms in the same order as the kernels (``cumsum`` adds in order; numpy's
# ``sum`` would add pairwise): the same results, and a first small fit compiles
# none of these kernels. (``clustra warmup`` fits more rows, to compile them.)
NUMPY_MAX_ROWS = CHUNK


def _numpy_rows(X) -> bool:
    return 0 < X.shape[0] <= NUMPY_MAX_ROWS


def _in_order_sums(values):
    """(d,) float64 sums of the columns of ``values``, each added in row order."""
    return np.cumsum(values, axis=0, dtype=np.float64)[-1]


@inner
def sq_distance(X, i, centers, j):
    """Squared Euclidean distance (float64) of row i of X to centre j."""
    total = 0.0
    for f in range(X.shape[1]):
        diff = np.float64(X[i, f]) - np.float64(centers[j, f])
        total += diff * diff
    return total


@kernel
def _transpose_chunks(X, out, blocks):
    n_samples, n_features = X.shape
    begin, end = claim(blocks)
    while begin < end:
        for chunk in range(begin, end):
            for f in range(n_features):
                column = out[f]
                for i in range(chunk * CHUNK, min((chunk + 1) * CHUNK, n_samples)):
                    column[i] = X[i, f]
        begin, end = claim(blocks)
    return 0


def transpose(X):
    """X's rows as columns: a new C-contiguous ``(d, n)`` array of X's dtype."""
    n_samples, n_features = X.shape
    out = np.empty((n_features, n_samples), dtype=X.dtype)
    run_claimed(_transpose_chunks, n_chunks(n_samples), X, out)
    return out


def n_distinct_labels(labels, n_clusters):
    """How many of the labels ``0 .. n_clusters - 1`` occur (int).

    Counted by numpy up to :data:`NUMPY_MAX_ROWS` labels, else by
    :func:`_n_distinct_labels`, which stops once all have occurred.
    """
    if labels.shape[0] <= NUMPY_MAX_ROWS:
        return int(np.count_nonzero(np.bincount(labels, minlength=n_clusters)[:n_clusters]))
    return _n_distinct_labels(labels, n_clusters)


@kernel
def _n_distinct_labels(labels, n_clusters):
    """:func:`n_distinct_labels`, stopping once all have occurred.

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


@kernel
def _inertia_chunks(X, weights, centers, labels, partial, blocks):
    n_samples, n_features = X.shape
    begin, end = claim(blocks)
    while begin < end:
        for chunk in range(begin, end):
            by_feature = np.zeros(n_features, dtype=partial.dtype)
            for i in range(chunk * CHUNK, min((chunk + 1) * CHUNK, n_samples)):
                weight = np.float64(weights[i])
                label = labels[i]
                for f in range(n_features):
                    diff = np.float64(X[i, f]) - np.float64(centers[label, f])
                    by_feature[f] += weight * (diff * diff)
            total = 0.0  # in feature order, as numba's array sum adds
            for f in range(n_features):
                total += by_feature[f]
            partial[chunk] = total
        begin, end = claim(blocks)
    return 0


def inertia(X, weights, centers, labels):
    """Weighted sum of squared distances to the assigned centres, float64, chunk order.

    A chunk adds its rows' terms per feature, in a loop over the features that
    vectorises (a row's sum of squares, a reduction, does not), then adds its
    features; the chunks are added in chunk order.
    """
    if _numpy_rows(X):
        diff = X.astype(np.float64) - centers.astype(np.float64)[labels]
        by_feature = _in_order_sums(weights.astype(np.float64)[:, None] * (diff * diff))
        return float(np.cumsum(by_feature)[-1])
    return chunk_totals(_inertia_chunks, X.shape[0], None, X, weights, centers, labels)


def chunk_totals(chunks_kernel, n_samples, width, *args):
    """Run ``chunks_kernel(*args, partial, blocks)`` over the chunks of ``n_samples`` rows
    (:func:`clustra._kernels.blocks.run_claimed`); each chunk writes its float64 partial,
    ``partial[chunk]`` (``width`` values, or one for None); returns them added in chunk
    order (:func:`in_order_total`)."""
    total_chunks = n_chunks(n_samples)
    partial = np.zeros(total_chunks if width is None else (total_chunks, width))
    run_claimed(chunks_kernel, total_chunks, *args, partial)
    return in_order_total(partial)


@kernel
def _distance_chunks(X, centers, out, blocks):
    n_samples = X.shape[0]
    n_clusters = centers.shape[0]
    begin, end = claim(blocks)
    while begin < end:
        for i in range(begin * CHUNK, min(end * CHUNK, n_samples)):
            for j in range(n_clusters):
                out[i, j] = math.sqrt(sq_distance(X, i, centers, j))
        begin, end = claim(blocks)
    return 0


def distances(X, centers):
    """(n, k) array of X's dtype: Euclidean distance of every row to every centre."""
    out = np.empty((X.shape[0], centers.shape[0]), dtype=X.dtype)
    run_claimed(_distance_chunks, n_chunks(X.shape[0]), X, centers, out)
    return out


# Up to this many features the per-chunk sums of the passes below are kept in
# scalar variables: an accumulator in an array is loaded and stored at every
# addition (the compiler cannot rule out that it aliases X), which on 1-4
# features made the pass 2-3 times slower (benchmarks/results/kmeans-choices.md).
SCALAR_SUMS_MAX_FEATURES = 4


@inner
def _few_column_sums(X, start, stop, partial, chunk):
    """partial[chunk] = the sums of the (at most 4) columns of rows ``start .. stop``, in
    row order, each in a scalar that stays in a register."""
    n_features = X.shape[1]
    a0 = a1 = a2 = a3 = 0.0
    for i in range(start, stop):
        a0 += X[i, 0]
        if n_features > 1:
            a1 += X[i, 1]
        if n_features > 2:
            a2 += X[i, 2]
        if n_features > 3:
            a3 += X[i, 3]
    sums = (a0, a1, a2, a3)
    for f in range(n_features):
        partial[chunk, f] = sums[f]


def _few(X):
    """The block kernels' ``few`` argument: True for scalar sums (at most
    :data:`SCALAR_SUMS_MAX_FEATURES` features), else None (that path is not compiled)."""
    return True if X.shape[1] <= SCALAR_SUMS_MAX_FEATURES else None


@kernel
def _column_sum_chunks(X, partial, few, blocks):
    n_samples, n_features = X.shape
    begin, end = claim(blocks)
    while begin < end:
        for chunk in range(begin, end):
            start, stop = chunk * CHUNK, min((chunk + 1) * CHUNK, n_samples)
            if few is not None:
                _few_column_sums(X, start, stop, partial, chunk)
                continue
            for i in range(start, stop):
                for f in range(n_features):
                    partial[chunk, f] += X[i, f]
        begin, end = claim(blocks)
    return 0


def column_sums(X):
    """(d,) float64 sum of every column (chunk partials added in chunk order).

    A NaN or inf anywhere makes its column's sum non-finite, so a finite
    result also proves the input finite.
    """
    if _numpy_rows(X):
        return _in_order_sums(X)
    n_samples, n_features = X.shape
    total_chunks = n_chunks(n_samples)
    partial = np.zeros((total_chunks, n_features))
    run_claimed(_column_sum_chunks, total_chunks, X, partial, _few(X))
    return in_order_total(partial)


@inner
def _centre_feature(X, shift, out, i, f, total, total_sq):
    """Centre X[i, f] into out[i, f]; returns the running sums with it added (float64)."""
    value = X[i, f] - shift[f]
    out[i, f] = value
    return total + value, total_sq + np.float64(value) * np.float64(value)


@inner
def _few_centre(X, shift, out, start, stop, sums, squares, chunk):
    """:func:`_centre_chunks` for the rows ``start .. stop`` of at most 4 features, the sums
    in scalars (see :data:`SCALAR_SUMS_MAX_FEATURES`)."""
    n_features = X.shape[1]
    s0 = s1 = s2 = s3 = q0 = q1 = q2 = q3 = 0.0
    for i in range(start, stop):
        # Feature indices as int64, not literals: one compilation of _centre_feature, not four.
        s0, q0 = _centre_feature(X, shift, out, i, np.int64(0), s0, q0)
        if n_features > 1:
            s1, q1 = _centre_feature(X, shift, out, i, np.int64(1), s1, q1)
        if n_features > 2:
            s2, q2 = _centre_feature(X, shift, out, i, np.int64(2), s2, q2)
        if n_features > 3:
            s3, q3 = _centre_feature(X, shift, out, i, np.int64(3), s3, q3)
    totals, totals_sq = (s0, s1, s2, s3), (q0, q1, q2, q3)
    for f in range(n_features):
        sums[chunk, f] = totals[f]
        squares[chunk, f] = totals_sq[f]


@kernel
def _centre_chunks(X, shift, out, sums, squares, few, blocks):
    # The claim loop of _column_sum_chunks again: numba cannot take the per-chunk step
    # as an argument and keep the kernel in its on-disk cache.
    n_samples, n_features = X.shape
    begin, end = claim(blocks)
    while begin < end:
        for chunk in range(begin, end):
            start, stop = chunk * CHUNK, min((chunk + 1) * CHUNK, n_samples)
            if few is not None:
                _few_centre(X, shift, out, start, stop, sums, squares, chunk)
                continue
            for i in range(start, stop):
                for f in range(n_features):
                    value = X[i, f] - shift[f]
                    out[i, f] = value
                    sums[chunk, f] += value
                    squares[chunk, f] += np.float64(value) * np.float64(value)
        begin, end = claim(blocks)
    return 0


def centre(X, shift, out):
    """out = X - shift row by row (``out`` may be X itself); returns the column variances.

    ``shift`` is (d,) in X's dtype, ``out`` (n, d) of X's dtype. The returned
    (d,) float64 variances are those of ``out`` (the mean of the squares less
    the square of the mean; ``out``'s column means are tiny after centring, so
    nothing cancels).
    """
    n_samples, n_features = X.shape
    if _numpy_rows(X):
        np.subtract(X, shift, out=out)
        centred = out.astype(np.float64)
        total, total_sq = _in_order_sums(centred), _in_order_sums(centred * centred)
    else:
        total_chunks = n_chunks(n_samples)
        sums = np.zeros((total_chunks, n_features))
        squares = np.zeros((total_chunks, n_features))
        run_claimed(_centre_chunks, total_chunks, X, shift, out, sums, squares, _few(X))
        total, total_sq = in_order_total(sums), in_order_total(squares)
    mean = total / n_samples
    return np.maximum(total_sq / n_samples - mean * mean, 0.0)


@kernel
def _row_sq_norm_chunks(X, out, blocks):
    n_samples, n_features = X.shape
    begin, end = claim(blocks)
    while begin < end:
        for i in range(begin * CHUNK, min(end * CHUNK, n_samples)):
            total = 0.0
            for f in range(n_features):
                value = np.float64(X[i, f])
                total += value * value
            out[i] = total
        begin, end = claim(blocks)
    return 0


def row_sq_norms(X):
    """(n,) float64 squared Euclidean norm of every row."""
    out = np.empty(X.shape[0])
    run_claimed(_row_sq_norm_chunks, n_chunks(X.shape[0]), X, out)
    return out


def in_order_total(partial):
    """The sum of ``partial`` over its first axis, added in order (float64).

    numpy's ``sum`` adds pairwise; the kernels' results are defined by adding
    the chunk partials one after another, which ``cumsum`` does.
    """
    if partial.shape[0] == 0:
        return np.zeros(partial.shape[1:]) if partial.ndim > 1 else 0.0
    total = np.cumsum(partial, axis=0)[-1]
    return float(total) if partial.ndim == 1 else total
