"""DBSCAN kernels: core points, clusters of core points, border points.

Three index back ends share one plan and never store neighbourhoods:

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

import numpy as np
from numba import njit, prange

from clustra._kernels.distances import rdist
from clustra._kernels.grid import lookup_cell
from clustra._kernels.kdtree import QUERY_BLOCK, box_min_rdist, push_children
from clustra._kernels.unionfind import find, make_sets, union

PRECOMPUTED = 99
CELL_BLOCK = 1024
EMPTY = -2  # node_comp value: the node holds no core point
MIXED = -1  # node_comp value: the node's core points lie in several components


@njit(cache=True)
def _better(value, row, best_value, best_row):
    return value < best_value or (value == best_value and row < best_row)


# --------------------------------------------------------------------------- grid


@njit(cache=True)
def _neighbour_cells(table, cell_keys, cell, offsets, out):
    """Fill ``out`` with the ids of occupied neighbour cells of ``cell`` (in the order of
    ``offsets``, nearest first); return how many."""
    found = 0
    for o in range(offsets.shape[0]):
        other = lookup_cell(table, cell_keys, cell_keys[cell] + offsets[o])
        if other >= 0:
            out[found] = other
            found += 1
    return found


@njit(cache=True, parallel=True)
def grid_core_points(data, table, cell_keys, cell_start, offsets, cum_weight, rradius,
                     min_samples, code, p):
    """Core flags (n,) bool in grid order.

    ``data`` (n, d) sorted by cell; ``cum_weight`` (n + 1,) float64 prefix sums
    of the weights in grid order. A cell whose own weight reaches
    ``min_samples`` makes all its points core without a distance computed;
    otherwise neighbour cells are looked up lazily, nearest first, so that
    the count usually stops after a few cells.
    """
    n_cells = cell_keys.shape[0]
    core = np.zeros(data.shape[0], dtype=np.bool_)
    n_blocks = (n_cells + CELL_BLOCK - 1) // CELL_BLOCK
    for block in prange(n_blocks):
        neighbours = np.empty(offsets.shape[0], dtype=np.int64)
        for cell in range(block * CELL_BLOCK, min(n_cells, (block + 1) * CELL_BLOCK)):
            start = cell_start[cell]
            end = cell_start[cell + 1]
            own = cum_weight[end] - cum_weight[start]
            if own >= min_samples:
                core[start:end] = True
                continue
            n_known = 0  # neighbours[:n_known] hold the looked-up cells (-1: empty)
            for i in range(start, end):
                total = own
                for t in range(1, offsets.shape[0]):
                    if total >= min_samples:
                        break
                    if t > n_known:
                        neighbours[t] = lookup_cell(table, cell_keys, cell_keys[cell] + offsets[t])
                        n_known = t
                    other = neighbours[t]
                    if other < 0:
                        continue
                    for k in range(cell_start[other], cell_start[other + 1]):
                        if rdist(data[i], data[k], code, p) <= rradius:
                            total += cum_weight[k + 1] - cum_weight[k]
                core[i] = total >= min_samples
    return core


@njit(cache=True)
def _cells_linked(data, core, start_a, end_a, start_b, end_b, rradius, code, p):
    """True if some core point of one slice is within ``rradius`` of one of the other."""
    for i in range(start_a, end_a):
        if not core[i]:
            continue
        for k in range(start_b, end_b):
            if core[k] and rdist(data[i], data[k], code, p) <= rradius:
                return True
    return False


@njit(cache=True)
def grid_cell_components(data, table, cell_keys, cell_start, offsets, near_offsets, core,
                         rradius, code, p):
    """Union-find over cells holding core points; returns cell roots (n_cells,) int64.

    Cells without a core point get -1. Two passes: first the adjacent cells
    (``near_offsets``, the linear key offsets of the cells touching a cell),
    then the farther ones, which are mostly joined by then. A pair of cells
    already in one component is never tested, so this stays cheap and runs
    serially (no thread start-up cost, trivially deterministic).
    """
    n_cells = cell_keys.shape[0]
    has_core = np.zeros(n_cells, dtype=np.bool_)
    for cell in range(n_cells):
        for k in range(cell_start[cell], cell_start[cell + 1]):
            if core[k]:
                has_core[cell] = True
                break
    parent = make_sets(n_cells)
    near_forward = near_offsets[near_offsets > 0]
    far_forward = np.array([o for o in offsets if o > 0 and not np.any(near_offsets == o)],
                           dtype=np.int64)
    for phase in range(2):
        forward = near_forward if phase == 0 else far_forward
        for cell in range(n_cells):
            if not has_core[cell]:
                continue
            for o in range(forward.shape[0]):
                other = lookup_cell(table, cell_keys, cell_keys[cell] + forward[o])
                if other < 0 or not has_core[other]:
                    continue
                if find(parent, cell) == find(parent, other):
                    continue
                if _cells_linked(data, core, cell_start[cell], cell_start[cell + 1],
                                 cell_start[other], cell_start[other + 1], rradius, code, p):
                    union(parent, cell, other)
    roots = np.full(n_cells, -1, dtype=np.int64)
    for cell in range(n_cells):
        if has_core[cell]:
            roots[cell] = find(parent, cell)
    return roots


@njit(cache=True, parallel=True)
def grid_nearest_core(data, index, table, cell_keys, cell_start, offsets, core, rradius, code,
                      p):
    """For every non-core point, the grid position of its nearest core point within eps.

    Returns (n,) int64 in grid order: -1 for core points and for noise. Ties go
    to the lowest original row (``index``).
    """
    n_cells = cell_keys.shape[0]
    nearest = np.full(data.shape[0], -1, dtype=np.int64)
    n_blocks = (n_cells + CELL_BLOCK - 1) // CELL_BLOCK
    for block in prange(n_blocks):
        neighbours = np.empty(offsets.shape[0], dtype=np.int64)
        for cell in range(block * CELL_BLOCK, min(n_cells, (block + 1) * CELL_BLOCK)):
            n_neighbours = -1
            for i in range(cell_start[cell], cell_start[cell + 1]):
                if core[i]:
                    continue
                if n_neighbours < 0:
                    n_neighbours = _neighbour_cells(table, cell_keys, cell, offsets, neighbours)
                best_value = rradius
                best_row = np.iinfo(np.int64).max
                best = -1
                for t in range(n_neighbours):
                    other = neighbours[t]
                    for k in range(cell_start[other], cell_start[other + 1]):
                        if not core[k]:
                            continue
                        value = rdist(data[i], data[k], code, p)
                        if value <= rradius and _better(value, index[k], best_value, best_row):
                            best_value = value
                            best_row = index[k]
                            best = k
                nearest[i] = best
    return nearest


# ----------------------------------------------------------------------- KD-tree


@njit(cache=True)
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


@njit(cache=True)
def _first_foreign_in_tree(x, own, data, node_start, node_end, lower, upper, node_comp, comp,
                           rradius, stack, stack_bound, scratch, code, p):
    """Tree position of the first core point within eps outside component ``own``, or -1.

    Nearer children first, so a foreign neighbour, when there is one, tends to
    be met early."""
    n_nodes = node_start.shape[0]
    stack[0] = 0
    stack_bound[0] = box_min_rdist(x, lower, upper, 0, scratch, code, p)
    top = 1
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


@njit(cache=True, parallel=True)
def _tree_round(data, node_start, node_end, lower, upper, node_comp, comp, active, target,
                rradius, code, p):
    n = data.shape[0]
    depth = int(np.log2(node_start.shape[0] + 1)) + 2
    n_blocks = (n + QUERY_BLOCK - 1) // QUERY_BLOCK
    for block in prange(n_blocks):
        stack = np.empty(2 * depth, dtype=np.int64)
        stack_bound = np.empty(2 * depth, dtype=np.float64)
        scratch = np.empty(data.shape[1], dtype=np.float64)
        for i in range(block * QUERY_BLOCK, min(n, (block + 1) * QUERY_BLOCK)):
            if active[i]:
                target[i] = _first_foreign_in_tree(data[i], comp[i], data, node_start, node_end,
                                                   lower, upper, node_comp, comp, rradius,
                                                   stack, stack_bound, scratch, code, p)


@njit(cache=True)
def _merge_round(parent, core, comp, active, target):
    """Merge the edges of one round; retire points that found none. True if any merge."""
    merged = False
    for i in range(target.shape[0]):
        if not active[i]:
            continue
        if target[i] < 0:
            active[i] = False
        else:
            union(parent, i, target[i])
            merged = True
    for i in range(target.shape[0]):
        if core[i]:
            comp[i] = find(parent, i)
    return merged


@njit(cache=True)
def tree_components(data, node_start, node_end, lower, upper, core, rradius, code, p):
    """Component (a root tree position) of every core point, -1 elsewhere; tree order.

    Arrays as in :mod:`clustra._kernels.kdtree`; ``core`` (n,) bool in tree order.
    """
    n = data.shape[0]
    parent = make_sets(n)
    comp = np.full(n, -1, dtype=np.int64)
    for i in range(n):
        if core[i]:
            comp[i] = i
    active = core.copy()
    target = np.full(n, -1, dtype=np.int64)
    node_comp = np.empty(node_start.shape[0], dtype=np.int64)
    while True:
        _node_components(comp, node_start, node_end, node_comp)
        _tree_round(data, node_start, node_end, lower, upper, node_comp, comp, active, target,
                    rradius, code, p)
        if not _merge_round(parent, core, comp, active, target):
            return comp


# -------------------------------------------------------------------- brute force


@njit(cache=True)
def _pair(queries, data, i, j, code, p):
    if code == PRECOMPUTED:
        return np.float64(queries[i, j])
    return rdist(queries[i], data[j], code, p)


@njit(cache=True, parallel=True)
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


@njit(cache=True, parallel=True)
def _brute_round(data, comp, active, target, rradius, code, p):
    n = data.shape[0]
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


@njit(cache=True)
def brute_components(data, core, rradius, code, p):
    """Component (a root row) of every core point, -1 elsewhere, by brute-force rounds."""
    n = data.shape[0]
    parent = make_sets(n)
    comp = np.full(n, -1, dtype=np.int64)
    for i in range(n):
        if core[i]:
            comp[i] = i
    active = core.copy()
    target = np.full(n, -1, dtype=np.int64)
    while True:
        _brute_round(data, comp, active, target, rradius, code, p)
        if not _merge_round(parent, core, comp, active, target):
            return comp


@njit(cache=True, parallel=True)
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


@njit(cache=True)
def _self_within(indptr, indices, values, i, radius):
    """A point is its own neighbour unless a stored diagonal entry exceeds ``radius``."""
    for t in range(indptr[i], indptr[i + 1]):
        if indices[t] == i:
            return values[t] <= radius
    return True


@njit(cache=True)
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


@njit(cache=True)
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


@njit(cache=True)
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
            if core[j] and value <= radius and _better(value, j, best_value, best):
                best_value = value
                best = j
        if best == np.iinfo(np.int64).max:
            best = -1
        nearest[i] = best
    return nearest


# ----------------------------------------------------------------------- labels


@njit(cache=True)
def labels_by_first_appearance(comp):
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
