"""Boruvka's minimum spanning tree on the shared KD-tree, plain or mutual reachability.

Weights are ``max(core[i], core[j], rdist(i, j) / alpha_r)`` in squared
Euclidean units: ``core`` reduced core distances (all zeros: the plain
Euclidean tree, as single linkage and Genie with ``M = 1`` want) and
``alpha_r = alpha**2`` (HDBSCAN's ``alpha``; 1 otherwise).

Ties. The result is the one minimum spanning tree of the strict order on
edges ``(weight, min(i, j), max(i, j))`` (original rows): every component
keeps its lightest edge under that order in every round, so row order inside
the tree and the thread count never change it. Prim in
:mod:`clustra._kernels.mst_prim` gives the same tree. Edges come back as
``(low, high, weight)`` with ``low < high`` (int64, int64, float64; n-1 each),
in no particular order.

The searches are in :mod:`clustra._kernels.mst_boruvka_search`. Each round,
every point asks for its lightest edge to another component; fixed blocks of
leaves are claimed by clustra's threads (:mod:`clustra._kernels.blocks`), so
the work of a block never depends on the thread count, and the rounds (a
handful of kernel calls each) run in Python.
"""

from __future__ import annotations

import numpy as np

from clustra._kernels.blocks import claim, run_claimed
from clustra._kernels.borrowed import NoAliasCompiler, borrowed
from clustra._kernels.jit import inner, kernel
from clustra._kernels.kdtree import leaf_width
from clustra._kernels.mst_boruvka_search import (
    NO_ROW,
    Reach,
    edge_less,
    leaf_nearest_other,
    nearest_other,
    seed,
)
from clustra._kernels.unionfind import find, union

_LEAF_BLOCK = 16
_LOCAL_COMPONENTS = 8


@kernel(inline="always")
def _combine(a, b, same):
    """Two values of points under one node: the smaller, or (``same``) the shared one or -1."""
    if same:
        return a if a == b else -1
    return min(a, b)


@kernel
def _node_reduce(values, node_start, node_end, same):
    """Bottom-up per node: the smallest value of its points (``same`` False: the smallest
    core distance, ``values`` float64 in tree position order) or the value all of them
    share, -1 when mixed (``same`` True: the component, int64). -1 for an empty node is a
    safe answer for both."""
    n_nodes = node_start.shape[0]
    out = np.empty(n_nodes, dtype=values.dtype)
    first_leaf = n_nodes // 2
    for node in range(n_nodes - 1, -1, -1):
        if node < first_leaf:
            out[node] = _combine(out[2 * node + 1], out[2 * node + 2], same)
            continue
        start = node_start[node]
        value = values[start] if node_end[node] > start else -1
        for k in range(start + 1, node_end[node]):
            value = _combine(value, values[k], same)
        out[node] = value
    return out


@kernel
def _component_bounds(component_of_position, position_of_row, point_dist, point_row):
    """Per component, the lightest still-valid edge found last round (an upper bound);
    answers that now lead into the point's own component are dropped."""
    n = component_of_position.shape[0]
    bound = np.full(n, np.inf)
    for q in range(n):
        previous = point_row[q]
        c = component_of_position[q]
        if previous >= 0 and component_of_position[position_of_row[previous]] != c:
            if point_dist[q] < bound[c]:
                bound[c] = point_dist[q]
        else:
            point_row[q] = -1
    return bound


@kernel(inline="always")
def _local_slot(local_component, n_local, c):
    """Where component ``c`` sits among a block's first ``n_local`` components, or -1."""
    slot = -1
    for t in range(n_local):
        if local_component[t] == c:
            slot = t
    return slot


@kernel(inline="always")
def _remember(local_component, local_bound, n_local, slot, c, best_dist):
    """Keep ``best_dist`` as the block's bound for component ``c`` (at ``slot``, or a new
    slot while there is room); returns the number of slots used."""
    if slot < 0 and n_local < _LOCAL_COMPONENTS:
        slot = n_local
        local_component[slot] = c
        n_local += 1
    if slot >= 0 and best_dist < local_bound[slot]:
        local_bound[slot] = best_dist
    return n_local


@kernel
def _query_blocks(tree, reach, component_of_position, node_component, component_bound,
                  point_dist, point_row, point_lower, cursor):
    """For every tree position of the leaf blocks claimed from ``cursor``
    (:func:`clustra._kernels.blocks.claim`), its lightest edge to another component (in
    place).

    A previous answer still leading to another component is still exact (the
    candidates only shrink). Other searches start from the component's bound
    and what earlier queries of the same fixed block of leaves found; a point
    whose lower bound (answers never shrink) exceeds that is skipped. A search
    starts from the best edge to q's nearest neighbours; when that edge
    weighs ``core_q`` (the least any edge of q can) and ``complete[q]`` says
    the neighbours include every point that close, it is the answer. A leaf
    whose points are all of one component is searched as one (only its lightest
    edge counts): that point keeps the edge, the others get it as their lower
    bound. The lightest edge of every component is found exactly, ties
    included, and the work depends only on the block, never on the thread count.
    """
    n_nodes = tree.node_start.shape[0]
    n_levels = 1
    while (1 << n_levels) - 1 < n_nodes:
        n_levels += 1
    stack = np.empty(2 * n_levels + 2, dtype=np.int64)
    stack_bound = np.empty(2 * n_levels + 2, dtype=np.float64)
    work = np.empty(max(1, leaf_width(tree.node_start, tree.node_end)), dtype=np.float64)
    local_component = np.empty(_LOCAL_COMPONENTS, dtype=np.int64)
    local_bound = np.empty(_LOCAL_COMPONENTS, dtype=np.float64)
    return _claimed_blocks(tree, reach, component_of_position, node_component, component_bound,
                           point_dist, point_row, point_lower, stack, stack_bound, work,
                           local_component, local_bound, cursor)


@inner(pipeline_class=NoAliasCompiler)
def _claimed_blocks(tree, reach, component_of_position, node_component, component_bound,
                    point_dist, point_row, point_lower, stack, stack_bound, work,
                    local_component, local_bound, cursor):
    """:func:`_query_blocks` on its scratch arrays, every array borrowed (see
    :mod:`clustra._kernels.borrowed`): the queries read shared arrays, and counting
    their references cost more than the searches."""
    tree, reach, component_of_position = (borrowed(tree), borrowed(reach),
                                          borrowed(component_of_position))
    node_component, component_bound = borrowed(node_component), borrowed(component_bound)
    point_dist, point_row, point_lower = (borrowed(point_dist), borrowed(point_row),
                                          borrowed(point_lower))
    stack, stack_bound, work = borrowed(stack), borrowed(stack_bound), borrowed(work)
    local_component, local_bound = borrowed(local_component), borrowed(local_bound)
    node_start, node_end = tree.node_start, tree.node_end
    n_nodes = node_start.shape[0]
    first_leaf = n_nodes // 2
    n_leaves = n_nodes - first_leaf
    neighbours = reach.neighbours
    begin, end = claim(cursor)
    while begin < end:
        for block in range(begin, end):
            local_component[:] = -1
            local_bound[:] = np.inf
            n_local = 0
            for leaf in range(first_leaf + block * _LEAF_BLOCK,
                              first_leaf + min(n_leaves, (block + 1) * _LEAF_BLOCK)):
                start = node_start[leaf]
                end = node_end[leaf]
                c = node_component[leaf]
                if c >= 0 and end - start > 1:
                    slot = _local_slot(local_component, n_local, c)
                    bound = component_bound[c]
                    if slot >= 0 and local_bound[slot] < bound:
                        bound = local_bound[slot]
                    leaf_lower = np.inf
                    for q in range(start, end):
                        leaf_lower = min(leaf_lower, point_lower[q])
                    if leaf_lower > bound:
                        continue
                    best_dist, best_low, best_high, best_q = leaf_nearest_other(
                        leaf, tree, reach, component_of_position, node_component, bound,
                        stack, stack_bound, work)
                    for q in range(start, end):
                        point_row[q] = -1
                        point_dist[q] = np.inf
                        point_lower[q] = max(point_lower[q], best_dist)
                    if best_q < 0:
                        continue
                    point_dist[best_q] = best_dist
                    point_row[best_q] = best_low if best_high == tree.index[best_q] else best_high
                    n_local = _remember(local_component, local_bound, n_local, slot, c,
                                        best_dist)
                    continue
                for q in range(start, end):
                    c = component_of_position[q]
                    slot = _local_slot(local_component, n_local, c)
                    bound = component_bound[c]
                    if slot >= 0 and local_bound[slot] < bound:
                        bound = local_bound[slot]
                    if point_row[q] >= 0:
                        best_dist = point_dist[q]
                        best_row = point_row[q]
                    elif point_lower[q] > bound:
                        continue
                    else:
                        best_dist, best_row = bound, NO_ROW
                        settled = False
                        if neighbours.shape[1] > 0:
                            best_dist, best_row, settled = seed(q, tree, reach,
                                                                 component_of_position, bound,
                                                                 NO_ROW)
                        if not settled:
                            best_dist, best_row = nearest_other(
                                q, tree, reach, component_of_position, node_component,
                                best_dist, best_row, stack, stack_bound, work)
                    if best_row == NO_ROW:
                        point_dist[q] = np.inf
                        point_row[q] = -1
                        if bound > point_lower[q]:
                            point_lower[q] = bound
                        continue
                    point_lower[q] = best_dist
                    point_dist[q] = best_dist
                    point_row[q] = best_row
                    n_local = _remember(local_component, local_bound, n_local, slot, c,
                                        best_dist)
        begin, end = claim(cursor)
    return 0


@kernel
def _round_start(index, parent, node_start, node_end, component_of_position, position_of_row,
                 point_dist, point_row):
    """A round's components (per position, and per node as :func:`_node_reduce`) and
    their bounds from the last round's answers (:func:`_component_bounds`)."""
    for k in range(index.shape[0]):
        component_of_position[k] = find(parent, index[k])
    node_component = _node_reduce(component_of_position, node_start, node_end, True)
    return node_component, _component_bounds(component_of_position, position_of_row,
                                             point_dist, point_row)


@kernel
def _round_end(index, parent, component_of_position, point_dist, point_row, best_weight,
               best_low, best_high, low_out, high_out, weight_out, n_edges):
    """Join every component along its lightest edge, appending the new edges to the
    outputs after the first ``n_edges``; returns the new count."""
    best_weight[:] = np.inf
    for k in range(index.shape[0]):
        v = point_row[k]
        if v < 0:
            continue
        c = component_of_position[k]
        u = index[k]
        low = min(u, v)
        high = max(u, v)
        if edge_less(point_dist[k], low, high, best_weight[c], best_low[c], best_high[c]):
            best_weight[c] = point_dist[k]
            best_low[c] = low
            best_high[c] = high
    for c in range(index.shape[0]):
        if best_weight[c] == np.inf:  # not a component root
            continue
        if union(parent, best_low[c], best_high[c]):
            low_out[n_edges] = best_low[c]
            high_out[n_edges] = best_high[c]
            weight_out[n_edges] = best_weight[c]
            n_edges += 1
    return n_edges


def boruvka(tree, core, alpha_r, neighbours, complete):
    """Boruvka minimum spanning tree on a built KD-tree (squared Euclidean weights).

    ``tree``: a :class:`clustra._kernels.kdtree.KDTree`; ``core``: float64 (n,)
    squared core distances in original row order (zeros for the plain tree);
    ``alpha_r = alpha**2``; ``neighbours`` (int32, (n, m), m >= 0): tree
    positions of the m nearest points of each tree position (-1 pads);
    ``complete`` (bool, (n,)): the list holds every point within
    ``alpha_r * core`` (squared) of that position. Returns ``(low, high,
    weight)``, the unique tree of the strict order ``(weight, low, high)``.

    The rounds run here; each round's queries run on
    :func:`clustra._kernels.blocks.run_claimed`'s threads, fixed blocks of
    leaves each.
    """
    index, node_start, node_end = tree.index, tree.node_start, tree.node_end
    n = index.shape[0]
    core_pos = np.ascontiguousarray(core[index], dtype=np.float64)
    position_of_row = np.empty(n, dtype=np.int64)
    position_of_row[index] = np.arange(n, dtype=np.int64)
    plain = bool(alpha_r == 1.0 and not np.any(core != 0.0))
    reach = Reach(core_pos, _node_reduce(core_pos, node_start, node_end, False),
                  1.0 / float(alpha_r), neighbours, complete, plain,
                  np.ascontiguousarray(tree.data.T))
    parent = np.arange(n, dtype=np.int64)
    component_of_position = np.empty(n, dtype=np.int64)
    point_dist = np.full(n, np.inf)
    point_row = np.full(n, -1, dtype=np.int64)
    point_lower = np.zeros(n, dtype=np.float64)
    best_weight = np.empty(n, dtype=np.float64)
    best_low, best_high = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    low_out, high_out = np.empty(n - 1, dtype=np.int64), np.empty(n - 1, dtype=np.int64)
    weight_out = np.empty(n - 1, dtype=np.float64)
    n_leaves = node_start.shape[0] - node_start.shape[0] // 2
    n_blocks = (n_leaves + _LEAF_BLOCK - 1) // _LEAF_BLOCK
    n_edges = 0
    while n_edges < n - 1:
        node_component, component_bound = _round_start(
            index, parent, node_start, node_end, component_of_position, position_of_row,
            point_dist, point_row)
        run_claimed(_query_blocks, n_blocks, tree, reach, component_of_position,
                    node_component, component_bound, point_dist, point_row, point_lower)
        joined = _round_end(index, parent, component_of_position, point_dist, point_row,
                            best_weight, best_low, best_high, low_out, high_out, weight_out,
                            np.int64(n_edges))
        if joined == n_edges:
            raise RuntimeError("Boruvka round joined no components")
        n_edges = joined
    return low_out, high_out, weight_out
