"""Minimum spanning trees for single linkage.

- :func:`prim_condensed`: Prim's algorithm on a condensed distance vector.
- :func:`prim_observations`: Prim's algorithm with distances computed on the
  fly from the observations (O(n) extra memory, any metric code of
  :mod:`clustra._kernels.distances`). One thread: each step waits for the
  previous one, and waking a thread pool n times costs more than it saves.
- :func:`prim_sqeuclidean`: the same for squared Euclidean weights, over a
  compacted transposed copy, in fixed blocks.
- :func:`boruvka_tree`: Boruvka's algorithm on the shared KD-tree for
  low-dimensional Euclidean data, about O(n log n).

All follow SciPy's ``mst_single_linkage`` step for step (grow from point 0,
take the first minimum in index order), so the edges, and after a stable sort
by weight the linkage matrix, are those SciPy produces. Edges come back as
``(from, to, weight)``: ``from``/``to`` int64 (n-1,), ``weight`` float64 (n-1,).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from clustra._kernels.distances import rdist
from clustra._kernels.kdtree import KDTree
from clustra._kernels.unionfind import find, make_sets, union


@njit(cache=True)
def _relax_condensed(D, n, x, remaining, n_remaining, best):
    """Relax ``best`` with the distances from ``x`` in the condensed vector ``D``; return
    the position in ``remaining`` of the first minimum and its value."""
    # Two relax loops, one per source: a test of the source for every pair made Prim
    # several times slower (benchmarks/results/dbscan-hierarchy-choices.md).
    current_min = np.inf
    position = 0
    for t in range(n_remaining):
        i = remaining[t]
        if x < i:
            dist = D[n * x - (x * (x + 1)) // 2 + (i - x - 1)]
        else:
            dist = D[n * i - (i * (i + 1)) // 2 + (x - i - 1)]
        if best[i] > dist:
            best[i] = dist
        if best[i] < current_min:
            current_min = best[i]
            position = t
    return position, current_min


@njit(cache=True)
def _relax_observations(X, code, p, x, remaining, n_remaining, best):
    """As :func:`_relax_condensed` with reduced distances between rows of ``X``."""
    current_min = np.inf
    position = 0
    for t in range(n_remaining):
        i = remaining[t]
        dist = rdist(X[x], X[i], code, p)
        if best[i] > dist:
            best[i] = dist
        if best[i] < current_min:
            current_min = best[i]
            position = t
    return position, current_min


@njit(cache=True)
def _prim(D, X, n, code, p):
    """Prim from point 0 on the condensed ``D`` or, when ``D`` is empty, on the rows of
    ``X``; returns (from, to, weight)."""
    source = np.empty(n - 1, dtype=np.int64)
    target = np.empty(n - 1, dtype=np.int64)
    weight = np.empty(n - 1, dtype=np.float64)
    best = np.full(n, np.inf)
    remaining = np.arange(1, n)
    n_remaining = n - 1
    from_matrix = D.shape[0] > 0
    x = 0
    for k in range(n - 1):
        if from_matrix:
            position, current_min = _relax_condensed(D, n, x, remaining, n_remaining, best)
        else:
            position, current_min = _relax_observations(X, code, p, x, remaining, n_remaining,
                                                        best)
        y = remaining[position]
        source[k] = x
        target[k] = y
        weight[k] = current_min
        remaining[position:n_remaining - 1] = remaining[position + 1:n_remaining]
        n_remaining -= 1
        x = y
    return source, target, weight


@njit(cache=True)
def prim_condensed(D, n):
    """Prim on a condensed vector ``D`` (float64, n(n-1)/2); returns (from, to, weight)."""
    return _prim(D, np.empty((0, 1), dtype=np.float64), n, 0, 2.0)


@njit(cache=True)
def prim_observations(X, code, p):
    """Prim with reduced distances ``rdist(X[i], X[j], code, p)`` computed on the fly.

    ``X``: float64 (n, d), C-contiguous. Weights are reduced distances
    (convert with ``rdist_to_dist``). O(n^2 d) time, O(n) extra memory.
    """
    return _prim(np.empty(0, dtype=np.float64), X, X.shape[0], code, p)


# --- Prim for squared Euclidean: compacted, transposed, parallel over blocks ---

_PRIM_BLOCK = 1024


@njit(cache=True)
def _relax_block(XT, x, order, start, end, best, scratch):
    """Relax ``best[start:end]`` with squared distances to ``x``; return its first minimum.

    ``XT`` (float64, (d, m)) holds the vertices not yet in the tree, one per
    column; ``order`` (int64) their original rows; ``scratch`` (float64, at
    least ``end - start``) is this block's own buffer. The vertex loop is
    innermost so it vectorises; each distance still sums its features in order
    from 0.0, the same bits as ``rdist_sqeuclidean``. Returns ``(position,
    value)`` of the minimum, ties to the lower original row.
    """
    # Slices, not offset indexing: numba then proves the indices in range and
    # LLVM vectorises the loops (several times faster per vertex).
    width = end - start
    partial = scratch[:width]
    partial[:] = 0.0
    for j in range(XT.shape[0]):
        value = x[j]
        column = XT[j, start:end]
        for t in range(width):
            diff = column[t] - value
            partial[t] += diff * diff
    block_best = best[start:end]
    for t in range(width):
        if partial[t] < block_best[t]:
            block_best[t] = partial[t]
    position = start
    current = best[start]
    for t in range(start + 1, end):
        value = best[t]
        if value < current or (value == current and order[t] < order[position]):
            current = value
            position = t
    return position, current


@njit(cache=True, parallel=True)
def prim_sqeuclidean(X):
    """Prim with squared Euclidean weights, as :func:`prim_observations` with code 0.

    ``X``: float64 (n, d), C-contiguous. The vertices not yet in the tree stay
    compacted in a transposed copy (swap-remove), so step ``k`` scans ``n - 1 -
    k`` contiguous columns; the scan runs over fixed-size blocks in parallel,
    each block giving its own (position, minimum), combined in block order
    with ties to the lower original row: the edges are those of SciPy's
    ``mst_single_linkage`` for any thread count. O(n^2 d) time, O(n d) memory.
    """
    n, d = X.shape
    source = np.empty(n - 1, dtype=np.int64)
    target = np.empty(n - 1, dtype=np.int64)
    weight = np.empty(n - 1, dtype=np.float64)
    m = n - 1
    XT = np.empty((d, max(m, 1)), dtype=np.float64)
    for t in range(m):
        for j in range(d):
            XT[j, t] = X[t + 1, j]
    order = np.arange(1, n)
    best = np.full(max(m, 1), np.inf)
    max_blocks = max((m + _PRIM_BLOCK - 1) // _PRIM_BLOCK, 1)
    scratch = np.empty((max_blocks, _PRIM_BLOCK), dtype=np.float64)
    block_position = np.empty(max_blocks, dtype=np.int64)
    block_value = np.empty(max_blocks, dtype=np.float64)
    x = 0
    for k in range(n - 1):
        xrow = X[x]
        n_blocks = (m + _PRIM_BLOCK - 1) // _PRIM_BLOCK
        if n_blocks == 1:
            position, current = _relax_block(XT, xrow, order, 0, m, best, scratch[0])
        else:
            for b in prange(n_blocks):
                block_position[b], block_value[b] = _relax_block(
                    XT, xrow, order, b * _PRIM_BLOCK, min(m, (b + 1) * _PRIM_BLOCK), best,
                    scratch[b])
            position = block_position[0]
            current = block_value[0]
            for b in range(1, n_blocks):
                value = block_value[b]
                if value < current or (
                        value == current and order[block_position[b]] < order[position]):
                    current = value
                    position = block_position[b]
        y = order[position]
        source[k] = x
        target[k] = y
        weight[k] = current
        m -= 1
        if position != m:
            for j in range(d):
                XT[j, position] = XT[j, m]
            best[position] = best[m]
            order[position] = order[m]
        x = y
    return source, target, weight


# --- Boruvka on the KD-tree (squared Euclidean) ---

_QUERY_BLOCK = 256


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
def _box_sqdist(x, lower, upper, node):
    total = 0.0
    for j in range(x.shape[0]):
        value = np.float64(x[j])
        if value < lower[node, j]:
            diff = lower[node, j] - value
        elif value > upper[node, j]:
            diff = value - upper[node, j]
        else:
            continue
        total += diff * diff
    return total


@njit(cache=True)
def _nearest_other(q, tree, component_of_position, node_component, best_dist, best_row, stack,
                   stack_bound):
    """Nearest tree point to position ``q`` in another component, improving (best_dist, best_row).

    Ties go to the lower original row. Nodes entirely in q's component, or
    whose box is farther than the current best, are pruned. ``stack`` (int64)
    and ``stack_bound`` (float64) hold pending nodes and their box distances.
    """
    data, index, lower, upper = tree.data, tree.index, tree.lower, tree.upper
    node_start, node_end = tree.node_start, tree.node_end
    x = data[q]
    own = component_of_position[q]
    n_nodes = node_start.shape[0]
    first_leaf = n_nodes // 2
    depth = 1
    stack[0] = 0
    stack_bound[0] = 0.0
    while depth > 0:
        depth -= 1
        node = stack[depth]
        if stack_bound[depth] > best_dist or node_component[node] == own:
            continue
        if node >= first_leaf:
            for k in range(node_start[node], node_end[node]):
                if component_of_position[k] == own:
                    continue
                total = 0.0
                for j in range(x.shape[0]):
                    diff = np.float64(x[j]) - np.float64(data[k, j])
                    total += diff * diff
                if total < best_dist or (total == best_dist and index[k] < best_row):
                    best_dist = total
                    best_row = index[k]
            continue
        left = 2 * node + 1
        right = left + 1
        left_bound = _box_sqdist(x, lower, upper, left)
        right_bound = _box_sqdist(x, lower, upper, right)
        # Visit the nearer child first: push it last. (kdtree.push_children does this for
        # any metric through a scratch point; this squared-Euclidean bound needs none.)
        if left_bound <= right_bound:
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


_NO_ROW = np.int64(2**62)
_LOCAL_COMPONENTS = 8


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
def _boruvka_queries(tree, component_of_position, node_component, component_bound, point_dist,
                     point_row, point_lower):
    """For every tree position, its nearest point in another component (in place).

    A point whose previous answer is still in another component keeps it (the
    exact answer still). Other searches start from the best known bound: the
    component's bound and what earlier queries of the same block found for
    that component. ``point_lower`` holds a lower bound of every point's
    answer (answers never shrink): a point whose bound exceeds its
    component's is skipped. Queries that cannot beat the bound leave
    ``point_row = -1``; the lightest edge of every component is still found
    exactly (ties included), and the work done depends only on the block.
    """
    n = tree.data.shape[0]
    n_levels = 1
    while (1 << n_levels) - 1 < tree.node_start.shape[0]:
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
                # Still valid (checked by _component_bounds): the candidates only
                # shrink as q's component grows, so it is still the exact answer.
                best_dist = point_dist[q]
                best_row = point_row[q]
            elif point_lower[q] > bound:
                # Its answer only grows from round to round: it cannot beat the bound.
                continue
            else:
                best_dist, best_row = _nearest_other(q, tree, component_of_position,
                                                     node_component, bound, _NO_ROW, stack,
                                                     stack_bound)
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
def boruvka_tree(data, index, node_start, node_end, lower, upper):
    """Boruvka MST on a built KD-tree (arrays as :func:`clustra._kernels.kdtree.build_kdtree`).

    Returns ``(from, to, weight)`` with original row ids and squared Euclidean
    weights. Each round every point finds its nearest point in another
    component; each component keeps its lightest edge under the strict order
    (weight, lower row, higher row), so the result is one well-defined tree,
    independent of the number of threads.
    """
    n = data.shape[0]
    n_nodes = node_start.shape[0]
    tree = KDTree(data, index, node_start, node_end, lower, upper, 0)
    source = np.empty(n - 1, dtype=np.int64)
    target = np.empty(n - 1, dtype=np.int64)
    weight = np.empty(n - 1, dtype=np.float64)
    parent = make_sets(n)
    position_of_row = np.empty(n, dtype=np.int64)
    for k in range(n):
        position_of_row[index[k]] = k
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
        _boruvka_queries(tree, component_of_position, node_component, component_bound,
                         point_dist, point_row, point_lower)
        best_weight[:] = np.inf
        for k in range(n):
            v = point_row[k]
            if v < 0:
                continue
            c = component_of_position[k]
            u = index[k]
            low = min(u, v)
            high = max(u, v)
            w = point_dist[k]
            if w < best_weight[c] or (w == best_weight[c] and (
                    low < best_low[c] or (low == best_low[c] and high < best_high[c]))):
                best_weight[c] = w
                best_low[c] = low
                best_high[c] = high
        for c in range(n):
            if best_weight[c] == np.inf:  # not a component root
                continue
            if union(parent, best_low[c], best_high[c]):
                source[n_edges] = best_low[c]
                target[n_edges] = best_high[c]
                weight[n_edges] = best_weight[c]
                n_edges += 1
    return source, target, weight
