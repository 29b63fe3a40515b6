"""DBSCAN kernels: core points, clusters of core points, border points.

Every index back end (grid: :mod:`clustra._kernels.dbscan_grid`; KD-tree,
brute force and sparse precomputed distances: here) shares one plan and never store neighbourhoods:

1. **Core points**: a weighted count of the eps-neighbourhood (the point
   included) that stops as soon as it reaches ``min_samples``.
2. **Clusters**: union-find over core points (:mod:`clustra._kernels.unionfind`).
   Grid: all core points of one cell are within eps of each other, so a cell
   is one node; two neighbouring cells are joined when some pair of their core
   points is within eps (a bichromatic closest-pair test with early exit,
   skipped when the cells are already joined). KD-tree and brute force:
   Boruvka-style rounds. In each round every still-active core point looks
   for the first core point within eps that belongs to another component
   (tree nodes whose core points all share the query's component are pruned),
   and all the edges found are merged. A point that finds none is finished
   for good: components only grow, so its neighbours stay in its own.
3. **Border points**: a non-core point joins the component of its nearest
   core point within eps, ties to the lowest original row.

All parallel loops run over fixed blocks and write per-item results, and all
merges happen serially in block order, so the output does not depend on the
number of threads. Extra memory is O(n) besides the index.

Distances are reduced (see :mod:`clustra._kernels.distances`); ``code`` and
``p`` come from :func:`clustra._kernels.distances.metric_code`. ``PRECOMPUTED``
as the code means ``queries[i, j]`` already holds the distance.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import prange

from clustra._kernels.blocks import claim, run_claimed
from clustra._kernels.borrowed import NoAliasCompiler, borrowed
from clustra._kernels.distances import closer, rdist
from clustra._kernels.grid import SMALL_ROWS
from clustra._kernels.jit import inner, kernel
from clustra._kernels.kdtree import (
    QUERY_BLOCK,
    push_children,
    push_root,
    traversal_arrays,
    tree_fields,
)
from clustra._kernels.unionfind import find, make_sets, union

PRECOMPUTED = 99
EMPTY = -2  # node_comp value: the node holds no core point
MIXED = -1  # node_comp value: the node's core points lie in several components

Rounds = namedtuple("Rounds", ["parent", "comp", "active", "target"])
Rounds.__doc__ = """State of the Boruvka-style rounds over core points (all (n,) int64 but
``active``, bool): union-find parents, component of every core point (-1 elsewhere),
points still searching, and the neighbour each found this round (-1: none)."""


# ----------------------------------------------------------------------- KD-tree


@kernel
def _node_components(comp, node_start, node_end, node_comp):
    """``node_comp[node]``: the one component of the node's core points, EMPTY or MIXED."""
    n_nodes = node_start.shape[0]
    first_leaf = n_nodes // 2
    for node in range(first_leaf, n_nodes):
        value = EMPTY
        for k in range(node_start[node], node_end[node]):
            c = comp[k]
            if c < 0:
                continue
            if value == EMPTY:
                value = c
            elif value != c:
                value = MIXED
                break
        node_comp[node] = value
    for node in range(first_leaf - 1, -1, -1):
        a = node_comp[2 * node + 1]
        b = node_comp[2 * node + 2]
        if a == EMPTY:
            node_comp[node] = b
        elif b == EMPTY or a == b:
            node_comp[node] = a
        else:
            node_comp[node] = MIXED


@kernel
def _first_foreign_in_tree(x, own, data, node_start, node_end, lower, upper, node_comp, comp,
                           rradius, stack, stack_bound, scratch, code, p):
    """Tree position of the first core point within eps outside component ``own``, or -1.

    Nearer children first, so a foreign neighbour, when there is one, tends to
    be met early."""
    # The walk of clustra._kernels.kdtree_radius again, with a component test: numba
    # cannot take the leaf visit as an argument and keep the kernel cached.
    n_nodes = node_start.shape[0]
    top = push_root(x, lower, upper, stack, stack_bound, scratch, code, p)
    while top > 0:
        top -= 1
        node = stack[top]
        state = node_comp[node]
        if state == EMPTY or state == own or stack_bound[top] > rradius:
            continue
        if 2 * node + 1 >= n_nodes:
            for k in range(node_start[node], node_end[node]):
                c = comp[k]
                if c >= 0 and c != own and rdist(x, data[k], code, p) <= rradius:
                    return k
        else:
            top = push_children(x, node, lower, upper, stack, stack_bound, top, scratch, code, p)
    return -1


@kernel
def _tree_blocks(tree, node_comp, comp, active, target, rradius, code, p, cursor):
    """One round's searches for the blocks of ``QUERY_BLOCK`` points claimed from ``cursor``."""
    stack, stack_bound, scratch = traversal_arrays(tree.node_start, tree.data.shape[1])
    return _claimed_round(tree, node_comp, comp, active, target, rradius, code, p, stack,
                          stack_bound, scratch, cursor)


@inner(pipeline_class=NoAliasCompiler)
def _claimed_round(tree, node_comp, comp, active, target, rradius, code, p, stack,
                   stack_bound, scratch, cursor):
    """:func:`_tree_blocks` on its scratch arrays, every array borrowed
    (:mod:`clustra._kernels.borrowed`)."""
    tree, node_comp, comp = borrowed(tree), borrowed(node_comp), borrowed(comp)
    active, target = borrowed(active), borrowed(target)
    stack, stack_bound, scratch = borrowed(stack), borrowed(stack_bound), borrowed(scratch)
    data, _, node_start, node_end, lower, upper = tree_fields(tree)
    n = data.shape[0]
    begin, end = claim(cursor)
    while begin < end:
        for i in range(begin * QUERY_BLOCK, min(n, end * QUERY_BLOCK)):
            if active[i]:
                target[i] = _first_foreign_in_tree(data[i], comp[i], data, node_start, node_end,
                                                   lower, upper, node_comp, comp, rradius,
                                                   stack, stack_bound, scratch, code, p)
        begin, end = claim(cursor)
    return 0


@kernel
def _start_rounds(core):
    """Every core point its own component, every core point searching."""
    n = core.shape[0]
    comp = np.full(n, -1, dtype=np.int64)
    for i in range(n):
        if core[i]:
            comp[i] = i
    return Rounds(make_sets(n), comp, core.copy(), np.full(n, -1, dtype=np.int64))


@kernel
def _merge_round(rounds, core):
    """Merge the edges of one round; retire points that found none. True if any merge."""
    merged = False
    active = rounds.active
    target = rounds.target
    for i in range(target.shape[0]):
        if not active[i]:
            continue
        if target[i] < 0:
            active[i] = False
        else:
            union(rounds.parent, i, target[i])
            merged = True
    for i in range(target.shape[0]):
        if core[i]:
            rounds.comp[i] = find(rounds.parent, i)
    return merged


def tree_components(tree, core, rradius, code, p):
    """Component (a root tree position) of every core point, -1 elsewhere; tree order.

    ``tree``: a :class:`clustra._kernels.kdtree.KDTree`; ``core`` (n,) bool in tree order.
    The rounds run here, each round's searches on
    :func:`clustra._kernels.blocks.run_claimed`'s threads.
    """
    rounds = _start_rounds(core)
    node_comp = np.empty(tree.node_start.shape[0], dtype=np.int64)
    n_blocks = (core.shape[0] + QUERY_BLOCK - 1) // QUERY_BLOCK
    while True:
        _node_components(rounds.comp, tree.node_start, tree.node_end, node_comp)
        run_claimed(_tree_blocks, n_blocks, tree, node_comp, rounds.comp, rounds.active,
                    rounds.target, rradius, code, p)
        if not _merge_round(rounds, core):
            return rounds.comp


# -------------------------------------------------------------------- brute force


@kernel
def _pair(queries, data, i, j, code, p):
    if code == PRECOMPUTED:
        return np.float64(queries[i, j])
    return rdist(queries[i], data[j], code, p)


@kernel(parallel=True)
def brute_core_points(data, weights, rradius, min_samples, code, p):
    """Core flags (n,) bool by a scan of every row, stopping at ``min_samples``.

    ``data``: (n, d) points, or with ``code == PRECOMPUTED`` the (n, n)
    distances. ``weights`` (n,) float64.
    """
    n = data.shape[0]
    core = np.zeros(n, dtype=np.bool_)
    n_blocks = (n + QUERY_BLOCK - 1) // QUERY_BLOCK
    for block in prange(n_blocks):
        for i in range(block * QUERY_BLOCK, min(n, (block + 1) * QUERY_BLOCK)):
            total = 0.0
            for j in range(n):
                if _pair(data, data, i, j, code, p) <= rradius:
                    total += weights[j]
                    if total >= min_samples:
                        break
            core[i] = total >= min_samples
    return core


@kernel(parallel=True)
def _brute_round(data, rounds, rradius, code, p):
    n = data.shape[0]
    # Fields as locals: a parallel loop's writes through a named tuple's field are lost.
    comp = rounds.comp
    active = rounds.active
    target = rounds.target
    n_blocks = (n + QUERY_BLOCK - 1) // QUERY_BLOCK
    for block in prange(n_blocks):
        for i in range(block * QUERY_BLOCK, min(n, (block + 1) * QUERY_BLOCK)):
            if not active[i]:
                continue
            own = comp[i]
            found = -1
            for j in range(n):
                c = comp[j]
                if c >= 0 and c != own and _pair(data, data, i, j, code, p) <= rradius:
                    found = j
                    break
            target[i] = found


@kernel
def brute_components(data, core, rradius, code, p):
    """Component (a root row) of every core point, -1 elsewhere, by brute-force rounds."""
    rounds = _start_rounds(core)
    while True:
        _brute_round(data, rounds, rradius, code, p)
        if not _merge_round(rounds, core):
            return rounds.comp


@kernel(parallel=True)
def brute_nearest_core(queries, data, core, skip, rradius, code, p):
    """Row of the nearest core point of ``data`` within eps for every query, else -1.

    Queries with ``skip[i]`` set get -1 without a scan. With ``code ==
    PRECOMPUTED`` ``queries`` is (m, n) distances to the rows of ``data``.
    Ties go to the lowest row.
    """
    m = queries.shape[0]
    n = core.shape[0]
    nearest = np.full(m, -1, dtype=np.int64)
    n_blocks = (m + QUERY_BLOCK - 1) // QUERY_BLOCK
    for block in prange(n_blocks):
        for i in range(block * QUERY_BLOCK, min(m, (block + 1) * QUERY_BLOCK)):
            if skip[i]:
                continue
            best_value = rradius
            best = -1
            for j in range(n):
                if core[j]:
                    value = _pair(queries, data, i, j, code, p)
                    if value <= rradius and (best < 0 or value < best_value):
                        best_value = value
                        best = j
            nearest[i] = best
    return nearest


# ----------------------------------------------------------- sparse precomputed


@kernel
def _self_within(indptr, indices, values, i, radius):
    """A point is its own neighbour unless a stored diagonal entry exceeds ``radius``."""
    for t in range(indptr[i], indptr[i + 1]):
        if indices[t] == i:
            return values[t] <= radius
    return True


@kernel
def sparse_core_points(indptr, indices, values, weights, radius, min_samples):
    """Core flags from a CSR distance graph: stored entries are the candidate neighbours."""
    n = indptr.shape[0] - 1
    core = np.zeros(n, dtype=np.bool_)
    for i in range(n):
        total = weights[i] if _self_within(indptr, indices, values, i, radius) else 0.0
        for t in range(indptr[i], indptr[i + 1]):
            j = indices[t]
            if j != i and values[t] <= radius:
                total += weights[j]
        core[i] = total >= min_samples
    return core


@kernel
def sparse_components(indptr, indices, values, core, radius):
    """Components of core points joined by stored entries within ``radius``."""
    n = indptr.shape[0] - 1
    parent = make_sets(n)
    for i in range(n):
        if not core[i]:
            continue
        for t in range(indptr[i], indptr[i + 1]):
            j = indices[t]
            if core[j] and values[t] <= radius:
                union(parent, i, j)
    comp = np.full(n, -1, dtype=np.int64)
    for i in range(n):
        if core[i]:
            comp[i] = find(parent, i)
    return comp


@kernel
def sparse_nearest_core(indptr, indices, values, core, skip, radius):
    """Nearest core column within ``radius`` among each row's stored entries, else -1."""
    m = indptr.shape[0] - 1
    nearest = np.full(m, -1, dtype=np.int64)
    for i in range(m):
        if skip[i]:
            continue
        best_value = radius
        best = np.iinfo(np.int64).max
        for t in range(indptr[i], indptr[i + 1]):
            j = indices[t]
            value = values[t]
            if core[j] and value <= radius and closer(value, j, best_value, best):
                best_value = value
                best = j
        if best == np.iinfo(np.int64).max:
            best = -1
        nearest[i] = best
    return nearest


# ----------------------------------------------------------------------- labels


def labels_by_first_appearance(comp):
    """Turn component ids (any int64 >= 0, -1 for noise) into 0, 1, 2... by first row.

    Below ``SMALL_ROWS`` rows whole-array numpy passes (no kernel for a small
    first call to compile), a kernel's single pass otherwise.
    """
    if comp.shape[0] >= SMALL_ROWS:
        return _first_appearance(comp)
    clustered = np.flatnonzero(comp >= 0)
    ids = comp[clustered]
    labels = np.full(comp.shape[0], -1, dtype=np.int64)
    if ids.shape[0] == 0:
        return labels
    first = np.full(int(ids.max()) + 1, comp.shape[0], dtype=np.int64)
    np.minimum.at(first, ids, clustered)
    present = np.flatnonzero(first < comp.shape[0])
    label_of = np.empty(first.shape[0], dtype=np.int64)
    label_of[present[np.argsort(first[present], kind="stable")]] = np.arange(present.shape[0])
    labels[clustered] = label_of[ids]
    return labels


@kernel
def _first_appearance(comp):
    """Turn component ids (any int64 >= 0, -1 for noise) into 0, 1, 2... by first row."""
    n = comp.shape[0]
    largest = -1
    for i in range(n):
        if comp[i] > largest:
            largest = comp[i]
    mapping = np.full(largest + 1, -1, dtype=np.int64)
    labels = np.full(n, -1, dtype=np.int64)
    next_label = 0
    for i in range(n):
        c = comp[i]
        if c < 0:
            continue
        if mapping[c] < 0:
            mapping[c] = next_label
            next_label += 1
        labels[i] = mapping[c]
    return labels
