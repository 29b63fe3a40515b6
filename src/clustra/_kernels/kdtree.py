"""A KD-tree on plain arrays: build, count within a radius, radius query, k nearest neighbours.

Written once for every user of a spatial index (DBSCAN, the k-distance curve,
Boruvka minimum spanning trees, kNN-based metrics). The API below is stable:
it may be extended, never changed.

Layout
------
:func:`build_kdtree` returns a :class:`KDTree` named tuple of plain arrays:

``data``        (n, d) float64, C-contiguous: the rows of ``X`` permuted so that
                every node owns a contiguous slice ``data[node_start[i]:node_end[i]]``.
``index``       (n,) int64: ``data[k] == X[index[k]]`` (tree position -> original row).
``node_start``, ``node_end``   (n_nodes,) int64: each node's slice of ``data``/``index``.
``lower``, ``upper``   (n_nodes, d) float64: the tight bounding box of each node's points.
``leaf_size``   int: the requested leaf size (leaves hold between ``leaf_size`` and
                about ``2 * leaf_size`` points, except when ``n < leaf_size``).

The tree is a complete binary tree in heap layout: node ``i`` has children
``2 i + 1`` and ``2 i + 2``; it is a leaf when ``2 i + 1 >= n_nodes``. The root
is node 0 and covers everything. The left child always holds the first half
``[start, (start + end) // 2)`` of its parent's slice, split on the dimension
of largest spread. So another kernel can traverse the tree with a small stack
of node ids (depth ``log2(n_nodes + 1)``), read a node's box for a bound, and
map any tree position back to the original row through ``index``. A Boruvka
step, for example, keeps an ``(n_nodes,)`` array "component of every point
in this node, or -1 if mixed", filled bottom-up from the leaves, and skips
nodes whose component equals the query's.

Entry points
------------
- :func:`build_kdtree` ``(X, leaf_size) -> KDTree``. Kernels take the named
  tuple whole and read its fields by name; :func:`tree_arrays` gives
  ``(data, index, node_start, node_end, lower, upper)`` for kernels that take
  them one by one (:func:`clustra._kernels.core_distances.knn_self_sqeuclidean`).
- :func:`knn` / :func:`kneighbors` the k nearest (``exclude_self`` for
  queries that are the tree's own points in row order).
- Radius queries (weighted counts, neighbour lists, nearest masked point) are
  in :mod:`clustra._kernels.kdtree_radius`.
- Building blocks for traversals in other kernels (all njit):
  :func:`tree_fields`, :func:`traversal_arrays` (per-thread work arrays),
  :func:`box_min_rdist`, :func:`box_max_rdist` (node bounds),
  :func:`push_root` (a walk's start) and :func:`push_children` (nearer child
  popped first, with its bound; :func:`push_pair` with bounds worked out by
  the caller), :func:`box_gap` (squared Euclidean box bound) and
  :func:`leaf_rdist` / :func:`leaf_width` (squared distances from a point to
  a leaf's points over the transposed data, vectorised).

Kernels take the :class:`KDTree` whole; the per-query functions inside them
take its arrays one by one, which measured faster than reading them through
the named tuple in the per-node loops (benchmarks/results/dbscan-hierarchy-choices.md).

Metrics
-------
Every query takes a metric *code* and ``p`` (from :func:`metric_code`) and a
radius in reduced units (:func:`clustra._kernels.distances.dist_to_rdist`).
:func:`rdist` dispatches the code to the leaf functions of
:mod:`clustra._kernels.distances`. Box bounds are evaluated
with the same function: the nearest point of a box to ``x`` is ``x`` clipped
to the box, the farthest is the far corner. This is exact for every metric
that is monotone in each coordinate difference: the Minkowski family
(euclidean, manhattan, chebyshev, minkowski p >= 1). Cosine and haversine do
not have box bounds in their own coordinates; callers map them to Euclidean
unit vectors first (:func:`clustra._kernels.distances.angular_embedding`)
or use brute force.

Parallelism and determinism
---------------------------
Queries run in parallel over fixed blocks of ``QUERY_BLOCK`` queries; each
query's answer depends only on the tree and the query, never on the thread
count. The build is parallel over the nodes of a level and deterministic.
Ties in nearest-neighbour results go to the lowest original row index.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np
from numba import prange

from clustra._kernels.arrays import writeable
from clustra._kernels.distances import (  # noqa: F401 - re-exported for kernels' callers
    CHEBYSHEV,
    COSINE,
    HAVERSINE,
    MANHATTAN,
    MINKOWSKI,
    SQEUCLIDEAN,
    angular_embedding,
    angular_radius,
    closer,
    metric_code,
    rdist,
)
from clustra._kernels.jit import kernel
from clustra._kernels.kdtree_build import build_arrays

QUERY_BLOCK = 256

BOX_BOUNDED = (SQEUCLIDEAN, MANHATTAN, CHEBYSHEV, MINKOWSKI)


KDTree = namedtuple(
    "KDTree", ["data", "index", "node_start", "node_end", "lower", "upper", "leaf_size"]
)
KDTree.__doc__ = "A KD-tree as plain arrays; see the module docstring for the layout."

@kernel(inline="always")
def tree_fields(tree):
    """``(data, index, node_start, node_end, lower, upper)`` of a :class:`KDTree`, inside
    a kernel: parallel query kernels read them into locals before their loop."""
    return tree.data, tree.index, tree.node_start, tree.node_end, tree.lower, tree.upper


@kernel
def traversal_arrays(node_start, n_features):
    """One thread's work arrays for a walk down the tree: ``stack`` (int64) and
    ``stack_bound`` (float64) for 2 * (depth + 1) pending nodes, and a float64 point of
    length ``n_features`` (``scratch``) for box bounds."""
    depth = int(np.log2(node_start.shape[0] + 1)) + 2
    return (np.empty(2 * depth, dtype=np.int64), np.empty(2 * depth, dtype=np.float64),
            np.empty(n_features, dtype=np.float64))


def n_levels_for(n_samples: int, leaf_size: int) -> int:
    """Number of levels of the complete tree (1: the root alone is a leaf)."""
    return int(math.log2(max(1.0, (n_samples - 1) / leaf_size))) + 1


def build_kdtree(X: np.ndarray, leaf_size: int = 32) -> KDTree:
    """Build a KD-tree over the rows of ``X``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        The points; copied (permuted, as float64) into the tree, never
        modified. One dtype keeps numba's specialisations, and so compile
        time, to one per kernel; distances are computed in float64 anyway.
    leaf_size : int
        Target number of points per leaf (at least 1).

    Returns
    -------
    KDTree
        See the module docstring for the meaning of every array.
    """
    if leaf_size < 1:
        raise ValueError(f"leaf_size must be at least 1, got {leaf_size}.")
    X = writeable(X, np.float64)
    n_samples = X.shape[0]
    n_nodes = 2 ** n_levels_for(n_samples, leaf_size) - 1
    index, node_start, node_end, lower, upper = build_arrays(X, n_nodes)
    data = np.ascontiguousarray(X[index])
    return KDTree(data, index, node_start, node_end, lower, upper, int(leaf_size))


@kernel
def box_min_rdist(x, lower, upper, node, scratch, code, p):
    """Reduced distance from ``x`` to the nearest point of ``node``'s box.

    ``scratch`` is a float64 work array of length d (one per thread). Exact for
    coordinate-monotone metrics (the Minkowski family).
    """
    for j in range(x.shape[0]):
        value = np.float64(x[j])
        if value < lower[node, j]:
            value = lower[node, j]
        elif value > upper[node, j]:
            value = upper[node, j]
        scratch[j] = value
    return rdist(x, scratch, code, p)


@kernel
def box_max_rdist(x, lower, upper, node, scratch, code, p):
    """Reduced distance from ``x`` to the farthest corner of ``node``'s box."""
    for j in range(x.shape[0]):
        value = np.float64(x[j])
        if value - lower[node, j] > upper[node, j] - value:
            scratch[j] = lower[node, j]
        else:
            scratch[j] = upper[node, j]
    return rdist(x, scratch, code, p)


@kernel(inline="always")
def push_root(x, lower, upper, stack, stack_bound, scratch, code, p):
    """Start a walk: the root alone on the stack, with its box bound; return the stack top."""
    stack[0] = 0
    stack_bound[0] = box_min_rdist(x, lower, upper, 0, scratch, code, p)
    return 1


@kernel
def push_children(x, node, lower, upper, stack, stack_bound, top, scratch, code, p):
    """Push ``node``'s two children, the nearer one on top (popped first), with their
    box bounds; return the new stack top. The traversal order every query here uses."""
    left = 2 * node + 1
    bound_left = box_min_rdist(x, lower, upper, left, scratch, code, p)
    bound_right = box_min_rdist(x, lower, upper, left + 1, scratch, code, p)
    return push_pair(stack, stack_bound, top, left, bound_left, bound_right)


@kernel(inline="always")
def push_pair(stack, stack_bound, top, left, bound_left, bound_right):
    """Push the children ``left`` and ``left + 1`` with their bounds, the nearer one on
    top (popped first; the left one when tied); return the new stack top."""
    if bound_left <= bound_right:
        stack[top] = left + 1
        stack_bound[top] = bound_right
        stack[top + 1] = left
        stack_bound[top + 1] = bound_left
    else:
        stack[top] = left
        stack_bound[top] = bound_left
        stack[top + 1] = left + 1
        stack_bound[top + 1] = bound_right
    return top + 2


@kernel(inline="always")
def box_gap(x, lower, upper, node):
    """Squared Euclidean distance from ``x`` to ``node``'s box (:func:`box_min_rdist`
    for that metric, without the scratch array)."""
    total = 0.0
    for j in range(x.shape[0]):
        gap = max(lower[node, j] - x[j], x[j] - upper[node, j], 0.0)
        total += gap * gap
    return total


@kernel(inline="always")
def leaf_rdist(x, columns, start, width, work):
    """Squared Euclidean distances from ``x`` to tree positions ``start:start + width``
    into ``work[:width]``; ``columns`` is the tree's ``data`` transposed (float64 (d, n)).

    Feature by feature over contiguous columns, so the loop vectorises over the
    points; each sum runs over the features in order from 0.0, the bits of
    :func:`clustra._kernels.distances.rdist`.
    """
    w = work[:width]
    w[:] = 0.0
    for j in range(columns.shape[0]):
        value = x[j]
        column = columns[j, start:start + width]
        for t in range(width):
            diff = column[t] - value
            w[t] += diff * diff


@kernel
def leaf_width(node_start, node_end):
    """The most points any leaf holds (the length of a :func:`leaf_rdist` work array)."""
    n_nodes = node_start.shape[0]
    width = 0
    for leaf in range(n_nodes // 2, n_nodes):
        width = max(width, node_end[leaf] - node_start[leaf])
    return width


@kernel
def _sift_down(heap_rdist, heap_row, size, value, row):
    """Put ``(value, row)`` at the root of the max-heap prefix ``[:size]`` and sift it down."""
    i = 0
    while True:
        left = 2 * i + 1
        right = left + 1
        if left >= size:
            break
        child = left
        if right < size and closer(heap_rdist[left], heap_row[left], heap_rdist[right],
                                    heap_row[right]):
            child = right
        if closer(heap_rdist[child], heap_row[child], value, row):
            break
        heap_rdist[i] = heap_rdist[child]
        heap_row[i] = heap_row[child]
        i = child
    heap_rdist[i] = value
    heap_row[i] = row


@kernel
def _heap_push(heap_rdist, heap_row, value, row):
    """Replace the worst of a full max-heap (by (rdist, row)) with ``(value, row)``."""
    _sift_down(heap_rdist, heap_row, heap_rdist.shape[0], value, row)


@kernel
def knn_one(x, self_row, data, index, node_start, node_end, lower, upper, heap_rdist,
            heap_row, stack, stack_bound, scratch, code, p):
    """Fill the max-heap ``heap_rdist``/``heap_row`` (length k) with x's k nearest points.

    The heap must start filled with ``(inf, large)``. Points whose original row
    equals ``self_row`` are skipped (pass -1 to keep every point). Children are
    visited nearer first; a node is pruned when its box is farther than the
    current k-th neighbour.
    """
    # The walk of every query kind (kdtree_radius, dbscan): numba cannot take the leaf
    # visit as an argument and keep the kernel in its on-disk cache.
    n_nodes = node_start.shape[0]
    top = push_root(x, lower, upper, stack, stack_bound, scratch, code, p)
    while top > 0:
        top -= 1
        node = stack[top]
        if stack_bound[top] > heap_rdist[0]:
            continue
        if 2 * node + 1 >= n_nodes:
            for k in range(node_start[node], node_end[node]):
                row = index[k]
                if row == self_row:
                    continue
                value = rdist(x, data[k], code, p)
                if closer(value, row, heap_rdist[0], heap_row[0]):
                    _heap_push(heap_rdist, heap_row, value, row)
        else:
            top = push_children(x, node, lower, upper, stack, stack_bound, top, scratch, code, p)


@kernel
def _heap_sort(heap_rdist, heap_row, out_rdist, out_row):
    """Write the heap's contents in ascending (rdist, row) order."""
    k = heap_rdist.shape[0]
    for slot in range(k - 1, -1, -1):
        out_rdist[slot] = heap_rdist[0]
        out_row[slot] = heap_row[0]
        # Remove the maximum: the last live element takes the root of the shrunk prefix.
        _sift_down(heap_rdist, heap_row, slot, heap_rdist[slot], heap_row[slot])


@kernel(parallel=True)
def knn(tree, queries, k, exclude_self, code, p):
    """The ``k`` nearest tree points of every query, ascending.

    ``tree``: a :class:`KDTree`; ``queries``: (m, d) float64. With
    ``exclude_self`` True the queries must be the tree's points in original row
    order (``queries[i] == X[i]``) and row ``i`` is not its own neighbour (other
    duplicates of it are). Returns ``rdist`` (m, k) float64 reduced distances
    and ``rows`` (m, k) int64 original row ids; ties go to the lower row. When
    fewer than ``k`` points exist the tail is ``inf`` / -1.
    """
    n_queries = queries.shape[0]
    out_rdist = np.empty((n_queries, k), dtype=np.float64)
    out_rows = np.empty((n_queries, k), dtype=np.int64)
    n_blocks = (n_queries + QUERY_BLOCK - 1) // QUERY_BLOCK
    sentinel = np.iinfo(np.int64).max
    data, index, node_start, node_end, lower, upper = tree_fields(tree)
    for block in prange(n_blocks):
        stack, stack_bound, scratch = traversal_arrays(node_start, data.shape[1])
        heap_rdist = np.empty(k, dtype=np.float64)
        heap_row = np.empty(k, dtype=np.int64)
        for i in range(block * QUERY_BLOCK, min(n_queries, (block + 1) * QUERY_BLOCK)):
            heap_rdist[:] = np.inf
            heap_row[:] = sentinel
            self_row = i if exclude_self else -1
            knn_one(queries[i], self_row, data, index, node_start, node_end, lower, upper,
                    heap_rdist, heap_row, stack, stack_bound, scratch, code, p)
            _heap_sort(heap_rdist, heap_row, out_rdist[i], out_rows[i])
            for j in range(k):
                if out_rows[i, j] == sentinel:
                    out_rows[i, j] = -1
    return out_rdist, out_rows


def tree_arrays(tree: KDTree) -> tuple:
    """``(data, index, node_start, node_end, lower, upper)``, for kernels that take the
    tree's arrays one by one (:func:`clustra._kernels.core_distances.knn_self_sqeuclidean`)."""
    return tree.data, tree.index, tree.node_start, tree.node_end, tree.lower, tree.upper


def kneighbors(tree: KDTree, queries: np.ndarray, k: int, code: int, p: float,
               exclude_self: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Python entry to :func:`knn` (reduced distances, original rows)."""
    queries = writeable(queries, np.float64)
    return knn(tree, queries, int(k), bool(exclude_self), int(code), float(p))
