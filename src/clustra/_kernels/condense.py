"""HDBSCAN's hierarchy: single linkage from spanning-tree edges, the condensed tree, GLOSH.

- :func:`single_linkage` turns spanning-tree edges, sorted, into a SciPy
  linkage matrix whose sizes are sums of sample weights.
- :func:`condense_tree` walks that hierarchy from the root breadth first, as
  Campello et al. (2013) and both reference implementations do: a split whose
  two sides both weigh at least ``min_cluster_size`` makes two new clusters;
  a lighter side "falls out" (its points leave the parent at that lambda).
  Row order and cluster numbering follow scikit-learn's ``_condense_tree``.
- :func:`subtree_max_lambda` and :func:`glosh` give the GLOSH outlier scores
  (Campello, Moulavi, Zimek, Sander 2015) as the hdbscan package defines them.

The condensed tree is four arrays of one length: ``parent``, ``child``
(int64; ids below n are points, n is the root, new clusters count up from
n + 1), ``lambda_val`` (float64, 1 / distance, inf at distance 0) and
``child_size`` (float64: weight of the child, 1.0 per unit-weight point).
"""

from __future__ import annotations

import numpy as np

from clustra._kernels.jit import kernel
from clustra._kernels.unionfind import find, make_sets


@kernel
def single_linkage(low, high, weight, point_weight):
    """Linkage matrix (float64 (n-1, 4)) from spanning-tree edges already in merge order.

    ``low``/``high`` int64 (n-1,), ``weight`` float64 (n-1,) true distances,
    ``point_weight`` float64 (n,). Column 0 gets the smaller cluster id, as
    SciPy; column 3 the total weight of the merged cluster.
    """
    n = point_weight.shape[0]
    Z = np.empty((n - 1, 4), dtype=np.float64)
    parent = make_sets(n)
    cluster_id = np.arange(n, dtype=np.int64)
    cluster_weight = point_weight.copy()
    for k in range(n - 1):
        root_a = find(parent, low[k])
        root_b = find(parent, high[k])
        id_a = cluster_id[root_a]
        id_b = cluster_id[root_b]
        total = cluster_weight[root_a] + cluster_weight[root_b]
        Z[k, 0] = min(id_a, id_b)
        Z[k, 1] = max(id_a, id_b)
        Z[k, 2] = weight[k]
        Z[k, 3] = total
        root = min(root_a, root_b)
        parent[max(root_a, root_b)] = root
        cluster_id[root] = n + k
        cluster_weight[root] = total
    return Z


@kernel
def _emit_leaves(Z, n, start, label, lambda_value, point_weight, ignore, queue, out_parent,
                 out_child, out_lambda, out_size, n_rows):
    """Append every point under hierarchy node ``start`` (breadth first) as falling out."""
    head = 0
    tail = 1
    queue[0] = start
    while head < tail:
        node = queue[head]
        head += 1
        ignore[node] = True
        if node < n:
            out_parent[n_rows] = label
            out_child[n_rows] = node
            out_lambda[n_rows] = lambda_value
            out_size[n_rows] = point_weight[node]
            n_rows += 1
        else:
            queue[tail] = np.int64(Z[node - n, 0])
            queue[tail + 1] = np.int64(Z[node - n, 1])
            tail += 2
    return n_rows


@kernel
def _emit_point(label, point, size, out_parent, out_child, out_lambda, out_size, n_rows):
    out_parent[n_rows] = label
    out_child[n_rows] = point
    out_lambda[n_rows] = np.inf
    out_size[n_rows] = size
    return n_rows + 1


@kernel
def condense_tree(Z, point_weight, min_cluster_size):
    """Condensed tree of linkage ``Z`` (float64 (n-1, 4), column 3 = weight).

    Returns ``(parent, child, lambda_val, child_size)`` (see the module docstring).
    """
    n = Z.shape[0] + 1
    root = 2 * n - 2
    n_all = 2 * n - 1
    relabel = np.empty(n_all, dtype=np.int64)
    relabel[root] = n
    ignore = np.zeros(n_all, dtype=np.bool_)
    order = np.empty(n_all, dtype=np.int64)
    queue = np.empty(n_all, dtype=np.int64)
    capacity = 3 * n
    out_parent = np.empty(capacity, dtype=np.int64)
    out_child = np.empty(capacity, dtype=np.int64)
    out_lambda = np.empty(capacity, dtype=np.float64)
    out_size = np.empty(capacity, dtype=np.float64)
    # Breadth-first order of the whole hierarchy from the root.
    order[0] = root
    tail = 1
    head = 0
    while head < tail:
        node = order[head]
        head += 1
        if node >= n:
            order[tail] = np.int64(Z[node - n, 0])
            order[tail + 1] = np.int64(Z[node - n, 1])
            tail += 2
    next_label = n + 1
    n_rows = np.int64(0)  # not a literal 0: the helpers would compile twice
    for t in range(n_all):
        node = order[t]
        if ignore[node] or node < n:
            continue
        row = node - n
        left = np.int64(Z[row, 0])
        right = np.int64(Z[row, 1])
        distance = Z[row, 2]
        lambda_value = 1.0 / distance if distance > 0.0 else np.inf
        left_size = Z[left - n, 3] if left >= n else point_weight[left]
        right_size = Z[right - n, 3] if right >= n else point_weight[right]
        label = relabel[node]
        left_big = left_size >= min_cluster_size
        right_big = right_size >= min_cluster_size
        if left_big and right_big:
            for side, side_size in ((left, left_size), (right, right_size)):
                relabel[side] = next_label
                out_parent[n_rows] = label
                out_child[n_rows] = next_label
                out_lambda[n_rows] = lambda_value
                out_size[n_rows] = side_size
                n_rows += 1
                if side < n:
                    # A single point heavy enough to be a cluster (sample weights):
                    # it never splits, so it leaves its own cluster at lambda inf.
                    n_rows = _emit_point(next_label, side, side_size, out_parent, out_child,
                                         out_lambda, out_size, n_rows)
                next_label += 1
            continue
        if left_big:
            relabel[left] = label
            if left < n:  # a heavy single point carries the cluster on (see above)
                n_rows = _emit_point(label, left, left_size, out_parent, out_child, out_lambda,
                                     out_size, n_rows)
        else:
            n_rows = _emit_leaves(Z, n, left, label, lambda_value, point_weight, ignore, queue,
                                  out_parent, out_child, out_lambda, out_size, n_rows)
        if right_big:
            relabel[right] = label
            if right < n:
                n_rows = _emit_point(label, right, right_size, out_parent, out_child,
                                     out_lambda, out_size, n_rows)
        else:
            n_rows = _emit_leaves(Z, n, right, label, lambda_value, point_weight, ignore, queue,
                                  out_parent, out_child, out_lambda, out_size, n_rows)
    return (out_parent[:n_rows].copy(), out_child[:n_rows].copy(), out_lambda[:n_rows].copy(),
            out_size[:n_rows].copy())


@kernel
def subtree_max_lambda(parent, child, lambda_val, n_nodes):
    """Largest lambda in the subtree of every condensed-tree node (float64 (n_nodes,)).

    Rows must be in the order :func:`condense_tree` makes them (a cluster's
    own row before its children's), so one backward pass propagates upwards.
    """
    deaths = np.zeros(n_nodes, dtype=np.float64)
    for r in range(parent.shape[0]):
        if lambda_val[r] > deaths[parent[r]]:
            deaths[parent[r]] = lambda_val[r]
    for r in range(parent.shape[0] - 1, -1, -1):
        if deaths[child[r]] > deaths[parent[r]]:
            deaths[parent[r]] = deaths[child[r]]
    return deaths


@kernel
def glosh(parent, child, lambda_val, n_points, n_nodes):
    """GLOSH outlier scores (float64 (n_points,)): ``1 - lambda_p / lambda_max`` of the
    cluster the point falls out of, lambda_max over that cluster's whole subtree;
    0 where lambda_max is 0 or the point's lambda is infinite."""
    deaths = subtree_max_lambda(parent, child, lambda_val, n_nodes)
    out = np.zeros(n_points, dtype=np.float64)
    for r in range(parent.shape[0]):
        point = child[r]
        if point >= n_points:
            continue
        lambda_max = deaths[parent[r]]
        if lambda_max == 0.0 or not np.isfinite(lambda_val[r]):
            out[point] = 0.0
        else:
            out[point] = (lambda_max - lambda_val[r]) / lambda_max
    return out


@kernel
def components_below(Z, cut):
    """Root point of every point's component when the merges of ``Z`` lower than ``cut``
    are applied (int64 (n,); the root is the smallest row of the component)."""
    n = Z.shape[0] + 1
    parent = make_sets(n)
    member = np.arange(2 * n - 1, dtype=np.int64)  # any point of each cluster id
    for k in range(n - 1):
        a = member[np.int64(Z[k, 0])]
        b = member[np.int64(Z[k, 1])]
        member[n + k] = a
        if Z[k, 2] < cut:
            root_a = find(parent, a)
            root_b = find(parent, b)
            if root_a < root_b:
                parent[root_b] = root_a
            elif root_b < root_a:
                parent[root_a] = root_b
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        out[i] = find(parent, i)
    return out
