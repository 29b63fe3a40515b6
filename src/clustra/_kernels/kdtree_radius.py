"""Radius queries on the KD-tree: weighted counts, neighbour lists, nearest masked point.

Every kernel takes the :class:`clustra._kernels.kdtree.KDTree` named tuple
whole, a radius in reduced units
(:func:`clustra._kernels.distances.dist_to_rdist`) and a metric code and ``p``
(:func:`clustra._kernels.distances.metric_code`). Queries run in parallel over
fixed blocks of ``QUERY_BLOCK`` queries (a ``parallel=True`` loop, or blocks
claimed by :func:`clustra._kernels.blocks.run_claimed`'s threads, which compile
faster); each answer depends only on the tree and the query, never on the
thread count.

The three walks below share their shape with :func:`clustra._kernels.kdtree.knn_one`
and DBSCAN's component search: numba cannot take the leaf visit as an argument
and keep the kernel in its on-disk cache (numba issues #6972, #9237), so each
query kind keeps its own loop.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from clustra._kernels.blocks import claim, run_claimed
from clustra._kernels.borrowed import NoAliasCompiler, borrowed
from clustra._kernels.distances import closer, rdist
from clustra._kernels.jit import inner, kernel
from clustra._kernels.kdtree import (
    QUERY_BLOCK,
    box_max_rdist,
    box_min_rdist,
    push_children,
    push_root,
    traversal_arrays,
    tree_fields,
)


@kernel
def count_within_one(x, data, node_start, node_end, lower, upper, cum_weight, rradius,
                     limit, stack, stack_bound, scratch, code, p):
    """Sum of weights of tree points within ``rradius`` of ``x``, stopping at ``limit``.

    ``cum_weight`` (n + 1,) float64 holds prefix sums of the weights in tree
    order (``cum_weight[k]`` = total weight of tree positions ``< k``), so a
    node entirely inside the ball is counted without visiting its points.
    Returns a float64 that is exact when below ``limit`` and ``>= limit``
    otherwise. Nearer children are visited first, so the count reaches the
    limit early. ``stack`` (int64) and ``stack_bound`` (float64): work arrays
    of length >= 2 * (tree depth + 1).
    """
    # The walk of every query kind (module docstring: numba forces the copies).
    n_nodes = node_start.shape[0]
    total = 0.0
    top = push_root(x, lower, upper, stack, stack_bound, scratch, code, p)
    while top > 0:
        top -= 1
        node = stack[top]
        if stack_bound[top] > rradius:
            continue
        start = node_start[node]
        end = node_end[node]
        if box_max_rdist(x, lower, upper, node, scratch, code, p) <= rradius:
            total += cum_weight[end] - cum_weight[start]
        elif 2 * node + 1 >= n_nodes:
            for k in range(start, end):
                if rdist(x, data[k], code, p) <= rradius:
                    total += cum_weight[k + 1] - cum_weight[k]
        else:
            top = push_children(x, node, lower, upper, stack, stack_bound, top, scratch, code, p)
        if total >= limit:
            return total
    return total


def count_within(tree, cum_weight, queries, rradius, limit, code, p):
    """Weighted neighbour counts within ``rradius`` for every row of ``queries``.

    ``queries``: (m, d) float64; ``cum_weight`` as :func:`count_within_one`.
    Returns (m,) float64; a count reaching ``limit`` stops early (pass
    ``np.inf`` for exact counts).
    """
    counts = np.empty(queries.shape[0], dtype=np.float64)
    _queries(tree, queries, rradius, code, p, cum_weight, float(limit), counts, None, None)
    return counts


def _queries(tree, queries, rradius, code, p, cum_weight, limit, counts, mask, nearest):
    """Every query of one kind, over blocks of ``QUERY_BLOCK`` queries claimed by
    :func:`clustra._kernels.blocks.run_claimed`'s threads.

    Either weighted counts into ``counts`` (``cum_weight``, ``limit``; ``mask``
    and ``nearest`` None) or the nearest masked row into ``nearest`` (``mask``;
    ``cum_weight`` and ``counts`` None): a None argument drops its branch at
    compile time, so each kind compiles only its own walk (numba cannot take
    the walk itself as an argument and keep the kernel cached).
    """
    n_blocks = (queries.shape[0] + QUERY_BLOCK - 1) // QUERY_BLOCK
    run_claimed(_query_blocks, n_blocks, tree, queries, rradius, code, p, cum_weight, limit,
                counts, mask, nearest)


@kernel
def _query_blocks(tree, queries, rradius, code, p, cum_weight, limit, counts, mask, nearest,
                  cursor):
    """:func:`_queries` for the blocks claimed from ``cursor``."""
    stack, stack_bound, scratch = traversal_arrays(tree.node_start, tree.data.shape[1])
    return _claimed_queries(tree, queries, rradius, code, p, cum_weight, limit, counts, mask,
                            nearest, stack, stack_bound, scratch, cursor)


@inner(pipeline_class=NoAliasCompiler)
def _claimed_queries(tree, queries, rradius, code, p, cum_weight, limit, counts, mask, nearest,
                     stack, stack_bound, scratch, cursor):
    """:func:`_query_blocks` on its scratch arrays, the tree, queries and scratch borrowed
    (:mod:`clustra._kernels.borrowed`); the arguments that may be None are kept as they
    are, for numba to drop their branches."""
    tree, queries = borrowed(tree), borrowed(queries)
    stack, stack_bound, scratch = borrowed(stack), borrowed(stack_bound), borrowed(scratch)
    n_queries = queries.shape[0]
    data, index, node_start, node_end, lower, upper = tree_fields(tree)
    begin, end = claim(cursor)
    while begin < end:
        for i in range(begin * QUERY_BLOCK, min(n_queries, end * QUERY_BLOCK)):
            if counts is not None and cum_weight is not None:
                counts[i] = count_within_one(queries[i], data, node_start, node_end, lower,
                                             upper, cum_weight, rradius, limit, stack,
                                             stack_bound, scratch, code, p)
            elif nearest is not None and mask is not None:
                nearest[i] = nearest_masked_one(queries[i], data, index, node_start, node_end,
                                                lower, upper, mask, rradius, stack,
                                                stack_bound, scratch, code, p)
        begin, end = claim(cursor)
    return 0


@kernel
def _radius_one(x, data, node_start, node_end, lower, upper, rradius, stack, scratch,
                out_positions, out_rdist, code, p):
    """Write tree positions (and rdists) of points within ``rradius``; return how many.

    With ``out_positions`` of length 0 only counts.
    """
    # The walk of every query kind (module docstring: numba forces the copies).
    n_nodes = node_start.shape[0]
    found = 0
    store = out_positions.shape[0] > 0
    stack[0] = 0
    top = 1
    while top > 0:
        top -= 1
        node = stack[top]
        if box_min_rdist(x, lower, upper, node, scratch, code, p) > rradius:
            continue
        if 2 * node + 1 >= n_nodes:
            for k in range(node_start[node], node_end[node]):
                value = rdist(x, data[k], code, p)
                if value <= rradius:
                    if store:
                        out_positions[found] = k
                        out_rdist[found] = value
                    found += 1
        else:
            stack[top] = 2 * node + 2
            stack[top + 1] = 2 * node + 1
            top += 2
    return found


@kernel(parallel=True)
def radius_query(tree, queries, rradius, code, p):
    """All tree points within ``rradius`` of each query, as CSR arrays.

    Returns ``indptr`` (m + 1,) int64, ``indices`` (nnz,) int64 original row
    ids and ``rdist`` (nnz,) float64 reduced distances; each row is sorted by
    original index. Memory is the size of the answer: callers that only need
    counts use :func:`count_within`.
    """
    n_queries = queries.shape[0]
    n_blocks = (n_queries + QUERY_BLOCK - 1) // QUERY_BLOCK
    sizes = np.zeros(n_queries + 1, dtype=np.int64)
    empty_positions = np.empty(0, dtype=np.int64)
    empty_rdist = np.empty(0, dtype=np.float64)
    data, index, node_start, node_end, lower, upper = tree_fields(tree)
    for block in prange(n_blocks):
        stack, _, scratch = traversal_arrays(node_start, data.shape[1])
        for i in range(block * QUERY_BLOCK, min(n_queries, (block + 1) * QUERY_BLOCK)):
            sizes[i + 1] = _radius_one(queries[i], data, node_start, node_end, lower, upper,
                                       rradius, stack, scratch, empty_positions, empty_rdist,
                                       code, p)
    indptr = np.cumsum(sizes)
    indices = np.empty(indptr[-1], dtype=np.int64)
    found_rdist = np.empty(indptr[-1], dtype=np.float64)
    for block in prange(n_blocks):
        stack, _, scratch = traversal_arrays(node_start, data.shape[1])
        for i in range(block * QUERY_BLOCK, min(n_queries, (block + 1) * QUERY_BLOCK)):
            start = indptr[i]
            end = indptr[i + 1]
            _radius_one(queries[i], data, node_start, node_end, lower, upper, rradius, stack,
                        scratch, indices[start:end], found_rdist[start:end], code, p)
            for k in range(start, end):
                indices[k] = index[indices[k]]
            order = np.argsort(indices[start:end], kind="mergesort")
            indices[start:end] = indices[start:end][order]
            found_rdist[start:end] = found_rdist[start:end][order]
    return indptr, indices, found_rdist


@kernel
def nearest_masked_one(x, data, index, node_start, node_end, lower, upper, mask, rradius,
                       stack, stack_bound, scratch, code, p):
    """Original row of the nearest tree point with ``mask`` set within ``rradius``, or -1.

    ``mask`` (n,) bool in tree order. Ties go to the lower original row.
    """
    # The walk of every query kind (module docstring: numba forces the copies).
    best_value = rradius
    best_row = np.iinfo(np.int64).max
    n_nodes = node_start.shape[0]
    top = push_root(x, lower, upper, stack, stack_bound, scratch, code, p)
    while top > 0:
        top -= 1
        node = stack[top]
        if stack_bound[top] > best_value:
            continue
        if 2 * node + 1 >= n_nodes:
            for k in range(node_start[node], node_end[node]):
                if not mask[k]:
                    continue
                value = rdist(x, data[k], code, p)
                row = index[k]
                if value <= rradius and closer(value, row, best_value, best_row):
                    best_value = value
                    best_row = row
        else:
            top = push_children(x, node, lower, upper, stack, stack_bound, top, scratch, code, p)
    return best_row if best_row != np.iinfo(np.int64).max else -1


def nearest_masked(tree, mask, queries, rradius, code, p):
    """For every query, the original row of its nearest masked tree point within ``rradius``.

    ``mask`` (n,) bool in tree order; ``queries`` (m, d) float64. Returns (m,)
    int64, -1 where no masked point lies within the radius.
    """
    nearest = np.empty(queries.shape[0], dtype=np.int64)
    _queries(tree, queries, rradius, code, p, None, 0.0, None, mask, nearest)
    return nearest
