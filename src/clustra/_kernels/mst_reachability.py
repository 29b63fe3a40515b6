"""Minimum spanning trees of mutual reachability distances (the graph of HDBSCAN).

The mutual reachability distance of points ``i`` and ``j`` is
``max(core[i], core[j], d(i, j) / alpha)`` (core distances as in
:mod:`clustra._kernels.core_distances`; ``alpha`` scales the pair distance
only, as in robust single linkage and in the KD-tree paths of scikit-learn
and the hdbscan package). Here every weight is in the metric's *reduced*
units: ``core`` is reduced and ``alpha_r`` is ``alpha`` in reduced units
(``alpha**2`` for Euclidean), so ``max(core_i, core_j, rdist / alpha_r)`` is
the reduced mutual reachability distance.

Ties. Mutual reachability has many equal weights (every edge of a point
within its core distance weighs its core distance), so the tree is not
unique. Both kernels return the one minimum spanning tree of the strict
order on edges ``(weight, min(i, j), max(i, j))``: the same edges from
either algorithm and for any thread count, as ``(low, high, weight)`` with
``low < high`` (int64, int64, float64; n-1 each), in no particular order.

- Prim (distances on the fly, any metric; vectorised for Euclidean; on a
  dense matrix) lives in :mod:`clustra._kernels.mst_reachability_prim`.
- :func:`boruvka_reachability`: Boruvka on the shared KD-tree (squared
  Euclidean), pruning with box distances and each node's smallest core distance.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from clustra._kernels.unionfind import find, make_sets, union


@njit(cache=True, inline="always")
def edge_less(w, low, high, best_w, best_low, best_high):
    """Strict order on edges: weight, then the lower end, then the higher end."""
    if w != best_w:
        return w < best_w
    if low != best_low:
        return low < best_low
    return high < best_high


# --- Boruvka on the KD-tree (squared Euclidean) ---

_QUERY_BLOCK = 256
_NO_ROW = np.int64(2**62)
_LOCAL_COMPONENTS = 8


@njit(cache=True)
def node_min_core(core_pos, node_start, node_end):
    """Smallest core distance of every node (``core_pos`` in tree position order)."""
    n_nodes = node_start.shape[0]
    out = np.empty(n_nodes, dtype=np.float64)
    first_leaf = n_nodes // 2
    for node in range(n_nodes - 1, -1, -1):
        if node >= first_leaf:
            value = np.inf
            for k in range(node_start[node], node_end[node]):
                if core_pos[k] < value:
                    value = core_pos[k]
            out[node] = value
        else:
            out[node] = min(out[2 * node + 1], out[2 * node + 2])
    return out


@njit(cache=True)
def _node_components(component_of_position, node_start, node_end, n_nodes):
    """Component shared by all points of each node, or -1 when mixed (bottom-up)."""
    node_component = np.empty(n_nodes, dtype=np.int64)
    first_leaf = n_nodes // 2
    for node in range(n_nodes - 1, -1, -1):
        if node >= first_leaf:
            start = node_start[node]
            end = node_end[node]
            value = component_of_position[start] if end > start else -1
            for k in range(start + 1, end):
                if component_of_position[k] != value:
                    value = -1
                    break
            node_component[node] = value
        else:
            left = node_component[2 * node + 1]
            right = node_component[2 * node + 2]
            node_component[node] = left if left == right else -1
    return node_component


@njit(cache=True, inline="always")
def _node_bound(x, lower, upper, node, core_q, min_core, inv_alpha_r):
    """Lower bound of the mutual reachability from ``x`` to any point of ``node``."""
    total = 0.0
    for j in range(x.shape[0]):
        value = x[j]
        if value < lower[node, j]:
            diff = lower[node, j] - value
        elif value > upper[node, j]:
            diff = value - upper[node, j]
        else:
            continue
        total += diff * diff
    total *= inv_alpha_r
    if core_q > total:
        total = core_q
    if min_core[node] > total:
        total = min_core[node]
    return total


@njit(cache=True)
def _nearest_other(q, data, index, node_start, node_end, lower, upper, core_pos, min_core,
                   inv_alpha_r, component_of_position, node_component, best_dist, best_row,
                   stack, stack_bound):
    """Lightest (mutual reachability, row) from tree position ``q`` to another component.

    Starts from ``(best_dist, best_row)`` and improves it; ties go to the
    lower original row. Nodes of q's own component, or whose bound exceeds
    the current best, are pruned.
    """
    x = data[q]
    own = component_of_position[q]
    core_q = core_pos[q]
    alpha_r = 1.0 / inv_alpha_r
    if core_q > best_dist:
        return best_dist, best_row
    n_nodes = node_start.shape[0]
    first_leaf = n_nodes // 2
    depth = 1
    stack[0] = 0
    stack_bound[0] = core_q
    while depth > 0:
        depth -= 1
        node = stack[depth]
        if stack_bound[depth] > best_dist or node_component[node] == own:
            continue
        if node >= first_leaf:
            for k in range(node_start[node], node_end[node]):
                if component_of_position[k] == own or core_pos[k] > best_dist:
                    continue
                total = 0.0
                limit = best_dist * alpha_r
                for j in range(x.shape[0]):
                    diff = x[j] - data[k, j]
                    total += diff * diff
                    if total > limit:  # partial sums only grow: already too far
                        break
                if total > limit:
                    continue
                total *= inv_alpha_r
                if core_q > total:
                    total = core_q
                if core_pos[k] > total:
                    total = core_pos[k]
                if total < best_dist or (total == best_dist and index[k] < best_row):
                    best_dist = total
                    best_row = index[k]
            continue
        left = 2 * node + 1
        right = left + 1
        left_bound = _node_bound(x, lower, upper, left, core_q, min_core, inv_alpha_r)
        right_bound = _node_bound(x, lower, upper, right, core_q, min_core, inv_alpha_r)
        if left_bound <= right_bound:  # the nearer child is popped first
            stack[depth] = right
            stack_bound[depth] = right_bound
            stack[depth + 1] = left
            stack_bound[depth + 1] = left_bound
        else:
            stack[depth] = left
            stack_bound[depth] = left_bound
            stack[depth + 1] = right
            stack_bound[depth + 1] = right_bound
        depth += 2
    return best_dist, best_row


@njit(cache=True)
def _seed(q, neighbours, data, core_pos, inv_alpha_r, index, component_of_position, best_dist,
          best_row):
    """Improve ``(best_dist, best_row)`` with q's nearest neighbours in other components.

    ``neighbours`` (int32, (n, m)) holds the tree positions of the m nearest
    points of each position (itself among them). Returns the improved pair.
    """
    own = component_of_position[q]
    core_q = core_pos[q]
    x = data[q]
    for t in range(neighbours.shape[1]):
        k = neighbours[q, t]
        if k < 0 or component_of_position[k] == own:
            continue
        total = 0.0
        for j in range(x.shape[0]):
            diff = x[j] - data[k, j]
            total += diff * diff
        total *= inv_alpha_r
        if core_q > total:
            total = core_q
        if core_pos[k] > total:
            total = core_pos[k]
        if total < best_dist or (total == best_dist and index[k] < best_row):
            best_dist = total
            best_row = index[k]
    return best_dist, best_row


@njit(cache=True)
def _component_bounds(component_of_position, position_of_row, point_dist, point_row, n):
    """Per component, the lightest still-valid edge found last round (an upper bound)."""
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


@njit(cache=True, parallel=True)
def _boruvka_queries(tree, core_pos, min_core, inv_alpha_r, component_of_position,
                     node_component, component_bound, point_dist, point_row, point_lower,
                     neighbours, ball_complete):
    """For every tree position, its lightest edge to another component (in place).

    ``tree`` is the tuple (data, index, node_start, node_end, lower, upper).
    A previous answer still leading to another component is still exact (the
    candidates only shrink). Other searches start from the component's bound
    and what earlier queries of the same fixed block found; a point whose
    lower bound (answers never shrink) exceeds that is skipped. A search
    starts from the best edge to q's nearest neighbours; when that edge
    weighs ``core_q`` (the least any edge of q can) and ``ball_complete[q]``
    says the neighbours include every point that close, it is the answer. The
    lightest edge of every component is found exactly, ties included, and the
    work depends only on the block, never on the thread count.
    """
    data, index, node_start, node_end, lower, upper = tree
    n = data.shape[0]
    n_levels = 1
    while (1 << n_levels) - 1 < node_start.shape[0]:
        n_levels += 1
    n_blocks = (n + _QUERY_BLOCK - 1) // _QUERY_BLOCK
    for block in prange(n_blocks):
        stack = np.empty(2 * n_levels + 2, dtype=np.int64)
        stack_bound = np.empty(2 * n_levels + 2, dtype=np.float64)
        local_component = np.full(_LOCAL_COMPONENTS, -1, dtype=np.int64)
        local_bound = np.full(_LOCAL_COMPONENTS, np.inf)
        n_local = 0
        for q in range(block * _QUERY_BLOCK, min(n, (block + 1) * _QUERY_BLOCK)):
            c = component_of_position[q]
            slot = -1
            for t in range(n_local):
                if local_component[t] == c:
                    slot = t
            bound = component_bound[c]
            if slot >= 0 and local_bound[slot] < bound:
                bound = local_bound[slot]
            if point_row[q] >= 0:
                best_dist = point_dist[q]
                best_row = point_row[q]
            elif point_lower[q] > bound:
                continue
            else:
                best_dist, best_row = _seed(q, neighbours, data, core_pos, inv_alpha_r, index,
                                            component_of_position, bound, _NO_ROW)
                if not (ball_complete[q] and best_row != _NO_ROW
                        and best_dist == core_pos[q]):
                    best_dist, best_row = _nearest_other(
                        q, data, index, node_start, node_end, lower, upper, core_pos, min_core,
                        inv_alpha_r, component_of_position, node_component, best_dist,
                        best_row, stack, stack_bound)
            if best_row == _NO_ROW:
                point_dist[q] = np.inf
                point_row[q] = -1
                if bound > point_lower[q]:
                    point_lower[q] = bound
                continue
            point_lower[q] = best_dist
            point_dist[q] = best_dist
            point_row[q] = best_row
            if slot < 0 and n_local < _LOCAL_COMPONENTS:
                slot = n_local
                local_component[slot] = c
                n_local += 1
            if slot >= 0 and best_dist < local_bound[slot]:
                local_bound[slot] = best_dist


@njit(cache=True)
def boruvka_reachability(tree, core, alpha_r, neighbours, ball_complete):
    """Boruvka MST of mutual reachability on a built KD-tree (squared Euclidean).

    ``tree``: the tuple ``(data, index, node_start, node_end, lower, upper)``
    of :func:`clustra._kernels.kdtree.tree_arrays`; ``core``: float64 (n,)
    squared core distances in original row order; ``alpha_r = alpha**2``;
    ``neighbours`` (int32, (n, m)): tree positions of the m nearest points of
    each tree position (-1 pads); ``ball_complete`` (bool, (n,)): the list holds
    every point within ``sqrt(alpha_r * core)`` of that position.
    Each round every component keeps its lightest edge under the strict order
    ``(weight, low, high)``, so the result is the unique tree of that order.
    Returns ``(low, high, weight)`` with squared weights.
    """
    data, index, node_start, node_end, lower, upper = tree
    n = data.shape[0]
    n_nodes = node_start.shape[0]
    inv_alpha_r = 1.0 / alpha_r
    low_out = np.empty(n - 1, dtype=np.int64)
    high_out = np.empty(n - 1, dtype=np.int64)
    weight_out = np.empty(n - 1, dtype=np.float64)
    core_pos = np.empty(n, dtype=np.float64)
    position_of_row = np.empty(n, dtype=np.int64)
    for k in range(n):
        core_pos[k] = core[index[k]]
        position_of_row[index[k]] = k
    min_core = node_min_core(core_pos, node_start, node_end)
    parent = make_sets(n)
    component_of_position = np.empty(n, dtype=np.int64)
    point_dist = np.full(n, np.inf)
    point_row = np.full(n, -1, dtype=np.int64)
    point_lower = np.zeros(n, dtype=np.float64)
    best_weight = np.empty(n, dtype=np.float64)
    best_low = np.empty(n, dtype=np.int64)
    best_high = np.empty(n, dtype=np.int64)
    n_edges = 0
    while n_edges < n - 1:
        for k in range(n):
            component_of_position[k] = find(parent, index[k])
        node_component = _node_components(component_of_position, node_start, node_end, n_nodes)
        component_bound = _component_bounds(component_of_position, position_of_row, point_dist,
                                            point_row, n)
        _boruvka_queries(tree, core_pos, min_core, inv_alpha_r, component_of_position,
                         node_component, component_bound, point_dist, point_row, point_lower,
                         neighbours, ball_complete)
        best_weight[:] = np.inf
        for k in range(n):
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
        for c in range(n):
            if best_weight[c] == np.inf:  # not a component root
                continue
            if union(parent, best_low[c], best_high[c]):
                low_out[n_edges] = best_low[c]
                high_out[n_edges] = best_high[c]
                weight_out[n_edges] = best_weight[c]
                n_edges += 1
    return low_out, high_out, weight_out

