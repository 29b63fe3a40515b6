"""Pairwise-distance kernels for the internal validity indices (silhouette, Dunn).

All kernels work on rows **sorted by cluster**: cluster ``c`` owns rows
``starts[c]:starts[c + 1]``. Then the distance sums a row needs (one per
cluster) are sums over contiguous ranges, with no scatter. Work is split into
fixed-size blocks of query rows run in parallel; each query row's sums are
accumulated in one fixed order, so results do not depend on the thread count.

Memory is O(n_queries + block * n_clusters) beyond the input: no distance
matrix is ever stored.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from clustra._kernels.blocks import run_blocks
from clustra._kernels.distances import rdist
from clustra._kernels.jit import kernel

QUERY_BLOCK = 64  # query rows per parallel task
COLUMN_CHUNK = 256  # columns per vectorised distance tile (euclidean kernel)

# How a reduced distance becomes a true distance (see distances.rdist_to_dist).
FINISH_IDENTITY = 0
FINISH_SQRT = 1
FINISH_POWER = 2
FINISH_HAVERSINE = 3


def finish_code(metric: str) -> int:
    """The ``finish`` code for a canonical metric name."""
    return {
        "euclidean": FINISH_SQRT,
        "minkowski": FINISH_POWER,
        "haversine": FINISH_HAVERSINE,
    }.get(metric, FINISH_IDENTITY)


@kernel(inline="always")
def finish_distance(value, finish, p):
    """Reduced distance -> true distance (float64) for a ``finish`` code."""
    if finish == FINISH_SQRT:
        return math.sqrt(value)
    if finish == FINISH_POWER:
        return value ** (1.0 / p)
    if finish == FINISH_HAVERSINE:
        return 2.0 * math.asin(math.sqrt(min(max(value, 0.0), 1.0)))
    return value


@kernel(inline="always")
def _own_cluster(starts, row):
    """Cluster owning sorted row ``row`` (binary search in ``starts``)."""
    lo = 0
    hi = starts.shape[0] - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if starts[mid] <= row:
            lo = mid
        else:
            hi = mid
    return lo


@kernel(inline="always")
def _a_b_from_sums(sums, starts, own):
    """Mean intra distance a and smallest mean distance to another cluster b."""
    n_clusters = starts.shape[0] - 1
    own_size = starts[own + 1] - starts[own]
    a = sums[own] / (own_size - 1) if own_size > 1 else np.nan
    b = np.inf
    for c in range(n_clusters):
        if c == own:
            continue
        size = starts[c + 1] - starts[c]
        if size > 0:
            mean = sums[c] / size
            if mean < b:
                b = mean
    return a, b


def silhouette_a_b(X, starts, queries, code, p, finish):
    """Mean intra-cluster distance ``a`` and nearest-cluster mean distance ``b``.

    Parameters
    ----------
    X : float64 array (n, d), C-contiguous, rows sorted by cluster
    starts : int64 array (n_clusters + 1,), cluster row offsets into ``X``
    queries : int64 array (m,), rows of ``X`` to evaluate
    code, p : metric code and ``p`` from ``clustra._kernels.distances.metric_code``
    finish : int, how a reduced distance becomes a distance (``finish_code``)

    Returns
    -------
    a, b : float64 arrays (m,). ``a`` is NaN for a singleton cluster. A row's
    distance to itself is not counted (0 by definition).
    """
    a_out, b_out, n_blocks = _outputs(queries)
    run_blocks(_a_b_blocks, n_blocks, X, starts, queries, code, p, finish, a_out, b_out)
    return a_out, b_out


def _outputs(queries):
    n_queries = queries.shape[0]
    return (np.empty(n_queries, dtype=np.float64), np.empty(n_queries, dtype=np.float64),
            (n_queries + QUERY_BLOCK - 1) // QUERY_BLOCK)


@kernel
def _a_b_blocks(X, starts, queries, code, p, finish, a_out, b_out, begin, end):
    """Query blocks [begin, end) of :func:`silhouette_a_b`."""
    n_queries = queries.shape[0]
    n_clusters = starts.shape[0] - 1
    sums = np.zeros(n_clusters, dtype=np.float64)
    for block in range(begin, end):
        for q in range(block * QUERY_BLOCK, min((block + 1) * QUERY_BLOCK, n_queries)):
            row = queries[q]
            for c in range(n_clusters):
                total = 0.0
                for j in range(starts[c], starts[c + 1]):
                    if j != row:
                        total += finish_distance(rdist(X[row], X[j], code, p), finish, p)
                sums[c] = total
            own = _own_cluster(starts, row)
            a_out[q], b_out[q] = _a_b_from_sums(sums, starts, own)
    return 0


@kernel(inline="always")
def _lane_sum(values, width):
    """Sum ``values[:width]`` in 8 interleaved lanes (vectorisable, fixed order)."""
    lanes = np.zeros(8, dtype=np.float64)
    full = width - width % 8
    for j0 in range(0, full, 8):
        for lane in range(8):
            lanes[lane] += values[j0 + lane]
    total = 0.0
    for lane in range(8):
        total += lanes[lane]
    for j in range(full, width):
        total += values[j]
    return total


@kernel(inline="always")
def _add_squares_and_root(XT, point, first, j0, width, tile):
    """Add ``(XT[k, j0 + jj] - point[k]) ** 2`` for the dimensions ``k >= first`` to
    ``tile[jj]`` (``jj < width``), one dimension at a time, then square-root ``tile[:width]``."""
    for k in range(first, XT.shape[0]):
        xk = point[k]
        column = XT[k, j0 : j0 + width]
        for jj in range(width):
            diff = column[jj] - xk
            tile[jj] += diff * diff
    for jj in range(width):
        tile[jj] = math.sqrt(tile[jj])


@kernel(inline="always")
def _range_distance_sum(XT, point, lo, hi, tile):
    """Sum of the Euclidean distances from ``point`` ((d,)) to the columns ``lo:hi`` of ``XT``.

    Squared differences are accumulated into ``tile`` (a ``COLUMN_CHUNK``
    float64 buffer), ``COLUMN_CHUNK`` columns at a time, four dimensions per
    pass over the tile (exact differences: no ``|x|^2 - 2xy + |y|^2``
    cancellation), square-rooted in a separate vectorisable loop and summed in
    a fixed lane order.
    """
    n_features = XT.shape[0]
    n_fours = n_features - n_features % 4
    total = 0.0
    for j0 in range(lo, hi, COLUMN_CHUNK):
        width = min(COLUMN_CHUNK, hi - j0)
        tile[:width] = 0.0
        for k in range(0, n_fours, 4):
            x0, x1, x2, x3 = point[k], point[k + 1], point[k + 2], point[k + 3]
            column0 = XT[k, j0 : j0 + width]
            column1 = XT[k + 1, j0 : j0 + width]
            column2 = XT[k + 2, j0 : j0 + width]
            column3 = XT[k + 3, j0 : j0 + width]
            for jj in range(width):
                d0 = column0[jj] - x0
                d1 = column1[jj] - x1
                d2 = column2[jj] - x2
                d3 = column3[jj] - x3
                tile[jj] += (d0 * d0 + d1 * d1) + (d2 * d2 + d3 * d3)
        _add_squares_and_root(XT, point, n_fours, j0, width, tile)
        total += _lane_sum(tile, width)
    return total


def silhouette_a_b_euclidean(XT, starts, queries):
    """Euclidean special case of :func:`silhouette_a_b`, vectorised over columns.

    Parameters
    ----------
    XT : float64 array (d, n), C-contiguous: the transposed, cluster-sorted data
    starts : int64 array (n_clusters + 1,)
    queries : int64 array (m,), columns of ``XT`` to evaluate

    Squared differences are accumulated dimension by dimension into a tile of
    ``COLUMN_CHUNK`` columns (exact differences, no ``|x|^2 - 2xy + |y|^2``
    cancellation), square-rooted in a separate vectorisable loop and summed in
    a fixed lane order. The self-distance is exactly 0, so needs no special case.
    """
    a_out, b_out, n_blocks = _outputs(queries)
    run_blocks(_a_b_euclidean_blocks, n_blocks, XT, starts, queries, a_out, b_out)
    return a_out, b_out


@kernel
def _a_b_euclidean_blocks(XT, starts, queries, a_out, b_out, begin, end):
    """Query blocks [begin, end) of :func:`silhouette_a_b_euclidean`."""
    # silhouette_a_b's block loop again: numba cannot take the per-cluster sum as an
    # argument and keep the kernel in its on-disk cache (numba issues #6972, #9237).
    n_features = XT.shape[0]
    n_queries = queries.shape[0]
    n_clusters = starts.shape[0] - 1
    sums = np.zeros(n_clusters, dtype=np.float64)
    tile = np.empty(COLUMN_CHUNK, dtype=np.float64)
    point = np.empty(n_features, dtype=np.float64)
    for block in range(begin, end):
        for q in range(block * QUERY_BLOCK, min((block + 1) * QUERY_BLOCK, n_queries)):
            row = queries[q]
            for k in range(n_features):
                point[k] = XT[k, row]
            for c in range(n_clusters):
                sums[c] = _range_distance_sum(XT, point, starts[c], starts[c + 1], tile)
            own = _own_cluster(starts, row)
            a_out[q], b_out[q] = _a_b_from_sums(sums, starts, own)
    return 0


@kernel
def cell_distance_sums(XT, starts, queries, cell_columns, out):
    """Distance sums of a few rows to every cluster of several labelings at once.

    The rows are sorted by *cell*: the rows that share their cluster in every
    labeling (the overlay of the labelings). A query's summed distance to a
    cell (a contiguous range, as in :func:`silhouette_a_b_euclidean`) is added
    to that cell's cluster in each labeling, so every distance is computed
    once however many labelings there are.

    Parameters
    ----------
    XT : float64 array (d, n), C-contiguous: the transposed, cell-sorted data
    starts : int64 array (n_cells + 1,): cell ``c`` owns columns ``starts[c]:starts[c + 1]``
    queries : int64 array (m,), columns of ``XT`` to evaluate
    cell_columns : int64 array (n_cells, n_labelings): the output column of
        cell ``c``'s cluster in each labeling (labeling offset + cluster code)
    out : float64 array (m, n_columns), C-contiguous, zeroed: on return
        ``out[q, column]`` is the summed distance from query ``q`` to the
        members of that cluster

    Serial and without the GIL: callers split the queries into blocks and run
    blocks on as many Python threads as they may use, each writing its own
    rows of ``out`` (every sum is accumulated in one fixed order, so results
    do not depend on the split). Time O(m n d + m n_cells n_labelings).
    """
    n_features = XT.shape[0]
    n_cells = starts.shape[0] - 1
    n_labelings = cell_columns.shape[1]
    tile = np.empty(COLUMN_CHUNK, dtype=np.float64)
    point = np.empty(n_features, dtype=np.float64)
    for q in range(queries.shape[0]):
        for k in range(n_features):
            point[k] = XT[k, queries[q]]
        row = out[q]
        for c in range(n_cells):
            total = _range_distance_sum(XT, point, starts[c], starts[c + 1], tile)
            for labeling in range(n_labelings):
                row[cell_columns[c, labeling]] += total


@kernel(parallel=True)
def dunn_extremes(X, starts, code, p):
    """Smallest between-cluster and largest within-cluster *reduced* distance.

    Parameters
    ----------
    X : float64 array (n, d), C-contiguous, rows sorted by cluster
    starts : int64 array (n_clusters + 1,)
    code, p : metric code and ``p`` from ``clustra._kernels.distances.metric_code``

    Returns
    -------
    (min_between, max_within) : float64 reduced distances (convert with
    ``rdist_to_dist``). Each pair is visited once (``j > i``).
    """
    n = X.shape[0]
    n_blocks = (n + QUERY_BLOCK - 1) // QUERY_BLOCK
    block_min = np.full(n_blocks, np.inf)
    block_max = np.zeros(n_blocks)
    for block in prange(n_blocks):
        lowest = np.inf
        highest = 0.0
        for i in range(block * QUERY_BLOCK, min((block + 1) * QUERY_BLOCK, n)):
            own = _own_cluster(starts, i)
            own_end = starts[own + 1]
            for j in range(i + 1, own_end):
                value = rdist(X[i], X[j], code, p)
                if value > highest:
                    highest = value
            for j in range(own_end, n):
                value = rdist(X[i], X[j], code, p)
                if value < lowest:
                    lowest = value
        block_min[block] = lowest
        block_max[block] = highest
    return block_min.min(), block_max.max()


SYMMETRIC_BLOCK = 256  # rows per block of the symmetric (all-rows) euclidean kernel


@kernel(inline="always")
def _distance_row(XT, row, j0, width, tile):
    """``tile[:width]`` = Euclidean distances from column ``row`` to columns ``j0:j0+width``."""
    tile[:width] = 0.0
    _add_squares_and_root(XT, XT[:, row], 0, j0, width, tile)


@kernel
def _symmetric_tile(XT, starts, labels, block_i, block_j, row_sums, col_sums, tile, both):
    """Distances between two row blocks, each computed once.

    Adds, for each row i of ``block_i``, its distance sums to the clusters of
    ``block_j``'s rows into ``row_sums[c, i]``; when ``both``, also adds each
    row j of ``block_j``'s distances to ``block_i``'s rows into ``col_sums[c_i, j]``.
    """
    n = XT.shape[1]
    i0 = block_i * SYMMETRIC_BLOCK
    i1 = min(i0 + SYMMETRIC_BLOCK, n)
    j0 = block_j * SYMMETRIC_BLOCK
    j1 = min(j0 + SYMMETRIC_BLOCK, n)
    width = j1 - j0
    first_cluster = labels[j0]
    last_cluster = labels[j1 - 1]
    for i in range(i0, i1):
        _distance_row(XT, i, j0, width, tile)
        for c in range(first_cluster, last_cluster + 1):
            lo = max(starts[c], j0) - j0
            hi = min(starts[c + 1], j1) - j0
            if hi > lo:
                row_sums[c, i] += _lane_sum(tile[lo:], hi - lo)
        if both:
            target = col_sums[labels[i], j0:j1]
            for jj in range(width):
                target[jj] += tile[jj]


@kernel(parallel=True)
def silhouette_a_b_euclidean_all(XT, starts, labels):
    """``a`` and ``b`` of every row, each pairwise distance computed once.

    Parameters
    ----------
    XT : float64 array (d, n), C-contiguous, columns sorted by cluster
    starts : int64 array (n_clusters + 1,)
    labels : int64 array (n,), the (sorted) cluster of each column

    Row blocks of ``SYMMETRIC_BLOCK`` are paired in rounds: in round ``r``
    block ``I`` meets block ``(I + r) mod n_blocks``, adding to the row sums of
    ``I`` and the column sums of its partner, so no two tasks of a round write
    the same memory and every sum is accumulated in a fixed order (results do
    not depend on the thread count). Memory: 2 * n_clusters * n float64.
    """
    n = XT.shape[1]
    n_clusters = starts.shape[0] - 1
    n_blocks = (n + SYMMETRIC_BLOCK - 1) // SYMMETRIC_BLOCK
    row_sums = np.zeros((n_clusters, n))
    col_sums = np.zeros((n_clusters, n))
    tiles = np.empty((n_blocks, SYMMETRIC_BLOCK))
    for shift in range(n_blocks // 2 + 1):
        for block in prange(n_blocks):
            partner = (block + shift) % n_blocks
            if shift == 0:
                _symmetric_tile(XT, starts, labels, block, block, row_sums, col_sums,
                                tiles[block], False)
            elif 2 * shift < n_blocks or (2 * shift == n_blocks and block < partner):
                _symmetric_tile(XT, starts, labels, block, partner, row_sums, col_sums,
                                tiles[block], True)
    a_out = np.empty(n)
    b_out = np.empty(n)
    sums = np.empty(n_clusters)
    for i in range(n):
        for c in range(n_clusters):
            sums[c] = row_sums[c, i] + col_sums[c, i]
        a_out[i], b_out[i] = _a_b_from_sums(sums, starts, labels[i])
    return a_out, b_out
