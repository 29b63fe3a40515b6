"""The searches of Boruvka's queries (:mod:`clustra._kernels.mst_boruvka`) on the KD-tree.

Each round, every point asks for its lightest edge to another component:
subtrees of its own component are skipped, nodes are bounded by their box
distance, the query's core distance and the node's smallest core distance,
and a point may start from its nearest neighbours (the k-nearest list the
core distances came from, or a short one for the plain tree), which often
settles it without a walk. A leaf whose points all share one component needs
only its lightest edge: it is searched once for all its points. Leaves are
scanned feature by feature over a transposed copy of the points
(:func:`clustra._kernels.kdtree.leaf_rdist`), which vectorises.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from clustra._kernels.jit import kernel
from clustra._kernels.kdtree import box_gap, leaf_rdist, push_pair

Reach = namedtuple("Reach", ["core_pos", "min_core", "inv_alpha_r", "neighbours", "complete",
                             "plain", "columns"])
Reach.__doc__ = (
    "Read-only inputs of the queries: core distances in tree order (float64 (n,)), the "
    "smallest core distance of each node (float64 (n_nodes,)), 1/alpha_r, the tree positions "
    "of every position's nearest points (int32 (n, m), m may be 0; -1 pads) and whether "
    "that list holds every point within alpha_r times the core distance (bool (n,)); "
    "``plain``: no core distances and alpha 1 (the checks for them are skipped); "
    "``columns``: the tree's points transposed, float64 (d, n) (:func:`leaf_rdist`)."
)

NO_ROW = np.int64(2**62)
# The helpers are inlined in numba's IR into the one kernel that runs them
# (clustra._kernels.mst_boruvka): LLVM inlining compiled faster but ran slower warm
# (benchmarks/results/coldstart-rest.md).


@kernel(inline="always")
def edge_less(w, low, high, best_w, best_low, best_high):
    """Strict order on edges: weight, then the lower end, then the higher end."""
    if w != best_w:
        return w < best_w
    if low != best_low:
        return low < best_low
    return high < best_high


@kernel(inline="always")
def _weight(rdist, core_q, core_k, inv_alpha_r, plain):
    """Edge weight from a reduced distance: ``max(core_q, core_k, rdist / alpha_r)``."""
    if plain:
        return rdist
    return max(rdist * inv_alpha_r, core_q, core_k)


@kernel(inline="always")
def _node_bound(x, lower, upper, node, core_q, min_core, inv_alpha_r, plain):
    """Lower bound of the weight of any edge from ``x`` to a point of ``node``."""
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
    if plain:
        return total
    total *= inv_alpha_r
    if core_q > total:
        total = core_q
    if min_core[node] > total:
        total = min_core[node]
    return total


@kernel(inline="always")
def nearest_other(q, tree, reach, component_of_position, node_component, best_dist, best_row,
                   stack, stack_bound, work):
    """Lightest (weight, row) from tree position ``q`` to another component.

    Starts from ``(best_dist, best_row)`` and improves it; ties go to the
    lower original row (for a fixed ``q`` that is the lower edge under the
    strict order). Nodes of q's own component, or whose bound exceeds the
    current best, are pruned.
    """
    data, index, node_start, node_end, lower, upper = (
        tree.data, tree.index, tree.node_start, tree.node_end, tree.lower, tree.upper)
    core_pos, min_core, inv_alpha_r = reach.core_pos, reach.min_core, reach.inv_alpha_r
    plain, columns = reach.plain, reach.columns
    x = data[q]
    own = component_of_position[q]
    core_q = core_pos[q]
    if core_q > best_dist:
        return best_dist, best_row
    first_leaf = node_start.shape[0] // 2
    depth = 1
    stack[0] = 0
    stack_bound[0] = core_q
    while depth > 0:
        depth -= 1
        node = stack[depth]
        if stack_bound[depth] > best_dist or node_component[node] == own:
            continue
        if node >= first_leaf:
            start = node_start[node]
            width = node_end[node] - start
            leaf_rdist(x, columns, start, width, work)
            for t in range(width):
                k = start + t
                if component_of_position[k] == own:
                    continue
                total = _weight(work[t], core_q, core_pos[k], inv_alpha_r, plain)
                if total < best_dist or (total == best_dist and index[k] < best_row):
                    best_dist = total
                    best_row = index[k]
            continue
        left = 2 * node + 1
        left_bound = _node_bound(x, lower, upper, left, core_q, min_core, inv_alpha_r, plain)
        right_bound = _node_bound(x, lower, upper, left + 1, core_q, min_core, inv_alpha_r,
                                  plain)
        depth = push_pair(stack, stack_bound, depth, left, left_bound, right_bound)
    return best_dist, best_row


@kernel(inline="always")
def seed(q, tree, reach, component_of_position, best_dist, best_row):
    """Improve ``(best_dist, best_row)`` with q's nearest neighbours in other components;
    also return whether that settles q (no walk needed).

    Plain tree: the list is the nearest points in the order (distance, row),
    so its first member in another component is q's answer. Mutual
    reachability: an edge of weight ``core_q`` (the least any edge of q can
    weigh) settles q when ``complete[q]`` says the list holds every point
    that close.
    """
    data, index = tree.data, tree.index
    core_pos, inv_alpha_r, neighbours = reach.core_pos, reach.inv_alpha_r, reach.neighbours
    plain = reach.plain
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
        total = _weight(total, core_q, core_pos[k], inv_alpha_r, plain)
        if total < best_dist or (total == best_dist and index[k] < best_row):
            best_dist = total
            best_row = index[k]
        if plain:
            return best_dist, best_row, True
    settled = not plain and reach.complete[q] and best_row != NO_ROW and best_dist == core_q
    return best_dist, best_row, settled


@kernel(inline="always")
def _box_box(lower, upper, a, b):
    """Squared distance between the boxes of nodes ``a`` and ``b``."""
    total = 0.0
    for j in range(lower.shape[1]):
        gap = max(lower[a, j] - upper[b, j], lower[b, j] - upper[a, j], 0.0)
        total += gap * gap
    return total


@kernel(inline="always")
def leaf_nearest_other(leaf, tree, reach, component_of_position, node_component, best_w,
                        stack, stack_bound, work):
    """Lightest edge ``(weight, low, high, position)`` from any point of ``leaf`` (all of
    one component) to another component, lighter than or tied with ``best_w``.

    One walk for the whole leaf, pruned with the box-to-box distance and the
    smallest core distances on both sides; ``position`` is the leaf's end of the
    edge (-1 and ``NO_ROW`` ends when none is found). Ties follow :func:`edge_less`.
    """
    data, index, node_start, node_end, lower, upper = (
        tree.data, tree.index, tree.node_start, tree.node_end, tree.lower, tree.upper)
    core_pos, min_core, inv_alpha_r = reach.core_pos, reach.min_core, reach.inv_alpha_r
    plain, columns = reach.plain, reach.columns
    own = node_component[leaf]
    start = node_start[leaf]
    end = node_end[leaf]
    leaf_core = min_core[leaf]
    first_leaf = node_start.shape[0] // 2
    best_low = NO_ROW
    best_high = NO_ROW
    best_q = -1
    # The walk of nearest_other with a leaf as the query: numba cannot take the leaf
    # visit as an argument and keep the kernel in its on-disk cache.
    depth = 1
    stack[0] = 0
    stack_bound[0] = 0.0 if plain else leaf_core
    while depth > 0:
        depth -= 1
        node = stack[depth]
        if stack_bound[depth] > best_w or node_component[node] == own:
            continue
        if node >= first_leaf:
            other_start = node_start[node]
            width = node_end[node] - other_start
            for q in range(start, end):
                core_q = core_pos[q]
                if core_q > best_w:
                    continue
                x = data[q]
                if box_gap(x, lower, upper, node) * inv_alpha_r > best_w:
                    continue
                leaf_rdist(x, columns, other_start, width, work)
                row_q = index[q]
                for t in range(width):
                    k = other_start + t
                    if component_of_position[k] == own:
                        continue
                    total = _weight(work[t], core_q, core_pos[k], inv_alpha_r, plain)
                    if total > best_w:
                        continue
                    low = min(row_q, index[k])
                    high = max(row_q, index[k])
                    if edge_less(total, low, high, best_w, best_low, best_high):
                        best_w, best_low, best_high, best_q = total, low, high, q
            continue
        left = 2 * node + 1
        left_bound = _box_box(lower, upper, leaf, left)
        right_bound = _box_box(lower, upper, leaf, left + 1)
        if not plain:
            left_bound = max(left_bound * inv_alpha_r, leaf_core, min_core[left])
            right_bound = max(right_bound * inv_alpha_r, leaf_core, min_core[left + 1])
        depth = push_pair(stack, stack_bound, depth, left, left_bound, right_bound)
    return best_w, best_low, best_high, best_q
