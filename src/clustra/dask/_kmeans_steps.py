"""Every call clustra.dask makes into clustra's K-Means internals, in one place.

The distributed K-Means runs the in-memory kernels on one block of rows at a
time; when the kernels' signatures change, this module is the one to adapt.
The internals used:

- ``clustra._kernels.kmeans_sums``: ``CHUNK``, the kernels' unit of rows (dask
  blocks are cut to multiples of it, so every block's kernel chunks are the
  in-memory fit's chunks); ``ChunkSums``, ``n_chunks(n)``, ``move_weights``,
  ``centres_from_sums(sums, weight_sums, centers_old)``;
- ``clustra._kernels.kmeans_data``: ``column_sums(X)`` (float64),
  ``centre(X, shift, out)`` (``out = X - shift``; the variances it returns),
  ``transpose(X)`` (the ``(d, n)`` copy Lloyd scores for at most 4 features),
  ``inertia(X, weights, centers, labels)``;
- ``clustra._kernels.kmeans``: ``lloyd_move_pass(X, x_cols, weights, centers,
  neg_half_norms, labels, sums, first, blas)`` and ``no_columns(X)``;
- ``clustra.cluster.kmeans._single``: ``use_blas``, ``blas_held``,
  ``neg_half_norms``, ``COLUMNS_MAX_FEATURES``, ``chunk_sums_fit``;
- ``clustra.cluster.kmeans._estimator.KMeans``: the private ``_x_shift`` and
  ``_centers_internal`` attributes set on an in-memory model that stands for
  the distributed fit (see :func:`memory_model`), so that its ``predict``
  scores in the fit's frame.

Every function here is pure (inputs are never modified): a task that runs
again after a worker is lost gives the same result.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

import clustra.cluster.kmeans._single as single
from clustra._config import kernel_threads
from clustra._kernels import kmeans as kernels
from clustra._kernels import kmeans_data as data_kernels
from clustra._kernels import kmeans_sums as sums_kernels

CHUNK = sums_kernels.CHUNK


def one_thread():
    """Kernels on the calling thread only: dask's worker threads are the parallelism.

    (numba would otherwise start as many threads as cores in every task: with
    two 1-thread workers on 2 cores, four threads fight over two cores.)
    """
    return kernel_threads(1, limit_blas=False)


class BlockState(NamedTuple):
    """What one block keeps between Lloyd passes (on the worker that holds it).

    labels : (m,) int32, the labels of the last pass.
    partial_sums : (n_chunks(m), k, d) float64 and partial_weights : (n_chunks(m), k)
        float64, the kernel chunks' sums, moved row by row as labels change.
    """

    labels: np.ndarray
    partial_sums: np.ndarray
    partial_weights: np.ndarray


class PassTotals(NamedTuple):
    """What one block's pass sends to the client: (k, d) and (k,) float64 sums, a count."""

    sums: np.ndarray
    weight_sums: np.ndarray
    n_changed: int


def block_column_sums(block: np.ndarray) -> np.ndarray:
    """(d,) float64 column sums of one block (non-finite when the block holds NaN/inf)."""
    with one_thread():
        return data_kernels.column_sums(block)


def block_moments(block: np.ndarray, spread: bool = True):
    """(column sums, rows, sums of squares about the block's own mean or None), float64.

    The squares come from the centring kernel's variances of the block about
    its own mean (no cancellation whatever the data's offset); ``spread=False``
    skips them (a zero tolerance needs no variance).
    """
    with one_thread():
        sums = data_kernels.column_sums(block)
        if block.shape[0] == 0 or not spread:
            return sums, block.shape[0], None
        variances = data_kernels.centre(block, (sums / block.shape[0]).astype(block.dtype),
                                   np.empty_like(block))
    return sums, block.shape[0], variances * block.shape[0]


def mean_and_tol(moments, n_samples: int, dtype, tol: float):
    """``(mean in dtype, tol as a squared shift)`` from the blocks' moments, in block order.

    ``tol`` is relative to the mean feature variance, as in memory.
    """
    total = np.zeros_like(moments[0][0])
    for sums, _, _ in moments:
        total += sums
    mean64 = total / n_samples
    m2 = np.zeros_like(total)
    for sums, count, block_m2 in moments:
        if count and block_m2 is not None:
            m2 += block_m2 + count * (sums / count - mean64) ** 2
    return mean64.astype(dtype), float(np.mean(m2 / n_samples) * tol)


def centred_block(block: np.ndarray, shift, columns: bool) -> np.ndarray:
    """``block - shift`` in the block's dtype, transposed to ``(d, m)`` when ``columns``.

    ``shift``: the (d,) vector, or the ``(mean, tol)`` pair of :func:`mean_and_tol`.
    """
    if isinstance(shift, tuple):
        shift = shift[0]
    out = np.empty_like(block)
    with one_thread():
        data_kernels.centre(block, shift.astype(block.dtype), out)
        return data_kernels.transpose(out) if columns else out


def rows_of(data: np.ndarray, columns: bool) -> np.ndarray:
    """The block's rows, C-contiguous ``(m, d)``, whichever layout it is stored in."""
    return np.ascontiguousarray(data.T) if columns else data


def layout(n_samples: int, n_clusters: int, n_features: int) -> tuple[bool, bool]:
    """``(blas, columns)``: the scoring path the in-memory Lloyd fit would take on all rows."""
    blas = single.use_blas(n_samples, n_clusters, n_features)
    columns = n_features <= single.COLUMNS_MAX_FEATURES and not blas
    if not single.chunk_sums_fit(n_samples, n_clusters, n_features):
        columns = False  # (in memory: the plain pass, which scores rows the same way)
    return blas, columns


def lloyd_block(data, weights, previous, centers, blas, columns, in_place=False):
    """One Lloyd pass over one block: ``(BlockState, PassTotals)``.

    ``data`` is the centred block (transposed when ``columns``), ``weights``
    its (m,) weights in its dtype (None: all 1), ``previous`` the block's
    ``BlockState`` after the previous pass (None for the first pass; modified
    only when ``in_place``, for a caller that owns it), ``centers`` (k, d) in
    its dtype.
    """
    n_rows = data.shape[1] if columns else data.shape[0]
    n_clusters, n_features = centers.shape
    first = previous is None
    if first:
        labels = np.full(n_rows, -1, dtype=np.int32)
        partial_sums = np.zeros((sums_kernels.n_chunks(n_rows), n_clusters, n_features))
        partial_weights = np.zeros((sums_kernels.n_chunks(n_rows), n_clusters))
    elif in_place:
        labels, partial_sums, partial_weights = previous
    else:  # copies: the task stays pure
        labels = previous.labels.copy()
        partial_sums = previous.partial_sums.copy()
        partial_weights = previous.partial_weights.copy()
    sums = sums_kernels.ChunkSums(partial_sums, partial_weights, np.zeros((n_clusters, n_features)),
                                  np.zeros(n_clusters))
    centers = np.ascontiguousarray(centers, dtype=data.dtype)
    # (an empty array means unit weights to the move kernels)
    weights = np.empty(0, data.dtype) if weights is None else sums_kernels.move_weights(weights)
    if columns:  # the kernel scores the transposed block and adds the rows' sums
        rows, x_cols = rows_of(data, columns), data
    else:
        rows, x_cols = data, kernels.no_columns(data)
    with one_thread(), single.blas_held(blas):
        n_changed = kernels.lloyd_move_pass(
            rows, x_cols, weights, centers, single.neg_half_norms(centers), labels, sums, first,
            blas,
        )
    return (BlockState(labels, partial_sums, partial_weights),
            PassTotals(sums.sums, sums.weight_sums, int(n_changed)))


class BlockFinal(NamedTuple):
    """A block's share of the fit's result: its inertia, and which clusters it holds."""

    inertia: float
    seen: np.ndarray  # (k,) bool


class GroupPass(NamedTuple):
    """One pass over a group of blocks (the blocks one worker thread holds), per block.

    ``finals`` is None but on the last pass, which also scores the result.
    """

    states: list
    totals: list
    finals: list | None


def _weights_of(weights, j):
    return None if weights is None else weights[j]


def block_final(data, weights, state, centers, columns) -> BlockFinal:
    """The block's inertia against ``centers`` with its last labels, and the clusters it holds."""
    rows = rows_of(data, columns)
    w = np.ones(rows.shape[0], dtype=rows.dtype) if weights is None else weights
    inertia = block_inertia(rows, w, centers, state.labels, False)
    return BlockFinal(inertia, np.bincount(state.labels, minlength=centers.shape[0]) > 0)


def lloyd_group(data, weights, previous, centers, blas, columns, final=False,
                in_place=False) -> GroupPass:
    """One Lloyd pass over each block of a group, in turn (``data``/``weights`` lists).

    ``previous``: the group's previous ``GroupPass`` (None for the first;
    updated rather than copied when ``in_place``).
    ``final``: the last pass, which also gives each block's :class:`BlockFinal`
    (one visit of the data less than a separate scoring pass).
    """
    states, totals, finals = [], [], []
    for j, block in enumerate(data):
        state, block_totals = lloyd_block(block, _weights_of(weights, j),
                                          None if previous is None else previous.states[j],
                                          centers, blas, columns, in_place)
        states.append(state)
        totals.append(block_totals)
        if final:
            finals.append(block_final(block, _weights_of(weights, j), state, centers, columns))
    return GroupPass(states, totals, finals if final else None)


def group_totals(group_pass: GroupPass):
    """What the client gathers from a group's pass: its blocks' totals (and finals)."""
    return group_pass.totals, group_pass.finals


def group_finals(data, weights, group_pass, centers, columns) -> list:
    """The blocks' :class:`BlockFinal` after a pass that was not the last (strict convergence)."""
    return [block_final(block, _weights_of(weights, j), group_pass.states[j], centers, columns)
            for j, block in enumerate(data)]


def group_labels(group_pass: GroupPass, j: int) -> np.ndarray:
    return group_pass.states[j].labels


def block_inertia(data, weights, centers, labels, columns) -> float:
    """Weighted squared distances of a block's rows to their centres (float64)."""
    rows = rows_of(data, columns)
    with one_thread():
        return float(data_kernels.inertia(rows, weights, np.ascontiguousarray(centers, rows.dtype),
                                     labels))


def new_centers(sums, weight_sums, centers_old):
    """``(centers, shift)`` from the summed totals (empty clusters relocated before)."""
    return sums_kernels.centres_from_sums(sums, weight_sums, centers_old)


def memory_model(centers_internal, shift, n_iter, inertia, n_features_in, feature_names=None):
    """An in-memory ``clustra.KMeans`` holding a distributed fit's result.

    Its ``predict``/``transform``/``score`` on a block give the labels the fit
    gave (it scores in the same centred frame).
    """
    from clustra.cluster.kmeans import KMeans

    model = KMeans(n_clusters=centers_internal.shape[0], init=centers_internal + shift,
                   algorithm="lloyd")
    model._x_shift = shift
    model._centers_internal = centers_internal
    model.cluster_centers_ = centers_internal + shift
    model._n_features_out = centers_internal.shape[0]
    model.n_iter_ = n_iter
    model.inertia_ = inertia
    model.n_features_in_ = n_features_in
    if feature_names is not None:
        model.feature_names_in_ = feature_names
    return model
