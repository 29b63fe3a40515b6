"""The Genie merge process on a minimum spanning tree (Gagolewski, Bartoszuk, Cena 2016).

Genie merges clusters along the edges of a minimum spanning tree in order of
weight, like single linkage, except that while the Gini index of the cluster
sizes exceeds a threshold it merges a cluster of the smallest size instead:
the lightest remaining edge with an end in such a cluster.

Input: the ``n - 1`` edges sorted by ``(weight, low, high)`` (``low < high``,
the order genieclust uses), given as ``edge_low``/``edge_high`` (int64, (n-1,)).
The weights themselves do not enter the process, only their order.

Data structures, all O(n):

- union-find over the points with the size of each root;
- a Fenwick tree over the sizes 1..n: how many clusters have each size,
  and how many points they hold, so that the sum of ``|c - s|`` over all
  clusters ``c`` takes O(log n) for any size ``s``;
- the smallest size in use (it never decreases: clusters only grow);
- the remaining edges as a doubly linked list in sorted order (O(1) removal).

The Gini index is ``G / (n (k - 1))`` with ``G`` the sum of ``|c_i - c_j|``
over pairs of clusters. genieclust recomputes ``G`` after every merge from
the sorted distinct sizes in floating point; every term and partial sum there
is an integer at most ``n (k - 1)`` (exact in a double for n below about
9e7), so it equals the exact integer ``G`` kept here by O(log n) updates,
and the index, its comparison with the threshold and every merge are the
same: O(n log n) for the index instead of O(n sqrt n).
"""

from __future__ import annotations

import numpy as np

from clustra._kernels.jit import kernel
from clustra._kernels.unionfind import find, make_sets

# Fenwick nodes sit at power-of-two strides, which all fall into the same cache
# sets; one padding slot every 16 nodes spreads them, and count and mass share a
# row, so one cache line (the merges' figures: benchmarks/results/genie.md).
_PAD_SHIFT = 4


@kernel(inline="always")
def _slot(position):
    return position + (position >> _PAD_SHIFT)


@kernel(inline="always")
def _fenwick_add(tree, n, position, count, mass):
    """Add ``count`` clusters holding ``mass`` points at size ``position`` (1..n)."""
    while position <= n:
        slot = _slot(position)
        tree[slot, 0] += count
        tree[slot, 1] += mass
        position += position & -position


@kernel(inline="always")
def _distance_sum(tree, n, n_clusters, n_points, s):
    """Sum over the clusters ``c`` in ``tree`` of ``|c - s|`` (int64)."""
    below = 0
    mass_below = 0
    position = s
    while position > 0:
        slot = _slot(position)
        below += tree[slot, 0]
        mass_below += tree[slot, 1]
        position -= position & -position
    return s * below - mass_below + (n_points - mass_below) - s * (n_clusters - below)


@kernel(inline="always")
def _remove_size(tree, n, k, n_points, s):
    """Take one cluster of size ``s`` out of ``k`` clusters holding ``n_points``; return
    the drop in G."""
    _fenwick_add(tree, n, s, -1, -s)
    return _distance_sum(tree, n, k - 1, n_points - s, s)


@kernel
def genie_merges(edge_low, edge_high, n, gini_threshold, n_clusters):
    """The order in which Genie merges along the spanning tree's edges.

    Parameters
    ----------
    edge_low, edge_high : int64 (n-1,)
        Edge ends, edges sorted by ``(weight, low, high)``; a spanning tree.
    n : int
        Number of points.
    gini_threshold : float
        Genie's threshold in [0, 1]; 1 gives single linkage.
    n_clusters : int
        Stop when this many clusters are left (1: the whole hierarchy).

    Returns
    -------
    merges : int64 (n - n_clusters,)
        ``merges[t]`` is the index of the edge merged at step ``t``. The
        partition into ``k`` clusters joins the first ``n - k`` of them.
    """
    n_edges = n - 1
    n_merges = n - n_clusters
    merges = np.empty(n_merges, dtype=np.int64)
    parent = make_sets(n)
    size = np.ones(n, dtype=np.int64)
    size_count = np.zeros(n + 1, dtype=np.int64)
    size_count[1] = n
    tree = np.zeros((n + (n >> _PAD_SHIFT) + 2, 2), dtype=np.int64)
    _fenwick_add(tree, n, 1, n, n)
    smallest = 1
    pair_sum = 0  # G: the sum of |c_i - c_j| over pairs of clusters
    # Remaining edges: a circular doubly linked list with sentinel n_edges.
    end = n_edges
    edge_next = np.empty(n_edges + 1, dtype=np.int64)
    edge_prev = np.empty(n_edges + 1, dtype=np.int64)
    for e in range(n_edges + 1):
        edge_next[e] = e + 1 if e < n_edges else 0
        edge_prev[e] = e - 1 if e > 0 else n_edges
    if n_edges == 0:
        edge_next[end] = end
        edge_prev[end] = end
    gini = 0.0
    last_edge = edge_next[end]
    last_smallest = 0
    for step in range(n_merges):
        first = edge_next[end]
        if gini > gini_threshold:
            # The edges before last_edge touch no cluster of the smallest size
            # while that size stays the same (merges only make larger clusters).
            if smallest != last_smallest or last_edge < first or last_edge == end:
                last_edge = first
            while (size[find(parent, edge_low[last_edge])] != smallest
                   and size[find(parent, edge_high[last_edge])] != smallest):
                last_edge = edge_next[last_edge]
            chosen = last_edge
            last_edge = edge_next[last_edge]
            last_smallest = smallest
        else:
            chosen = first
        edge_next[edge_prev[chosen]] = edge_next[chosen]
        edge_prev[edge_next[chosen]] = edge_prev[chosen]
        merges[step] = chosen
        # Join the two clusters (the smaller root becomes the parent).
        root_a = find(parent, edge_low[chosen])
        root_b = find(parent, edge_high[chosen])
        size_a = size[root_a]
        size_b = size[root_b]
        joined = size_a + size_b
        if root_b < root_a:
            root_a, root_b = root_b, root_a
        parent[root_b] = root_a
        size[root_a] = joined
        k = n - step  # clusters before this merge
        pair_sum -= _remove_size(tree, n, k, n, size_a)
        pair_sum -= _remove_size(tree, n, k - 1, n - size_a, size_b)
        pair_sum += _distance_sum(tree, n, k - 2, n - joined, joined)
        _fenwick_add(tree, n, joined, 1, joined)
        size_count[size_a] -= 1
        size_count[size_b] -= 1
        size_count[joined] += 1
        while smallest < n and size_count[smallest] == 0:
            smallest += 1
        # genieclust's normalisation, operation for operation (k - 1 clusters now).
        gini = 0.0
        if k - 1 > 1:
            gini = np.float64(pair_sum) / (np.float64(n) * (k - 2.0))
            if gini > 1.0:
                gini = 1.0
            if gini < 0.0:
                gini = 0.0
    return merges


@kernel
def partitions(edge_low, edge_high, merges, n, k_values):
    """Labels for several numbers of clusters from one merge sequence.

    ``k_values``: int64 (m,), each in ``[n - len(merges), n]``. Returns int64
    (m, n): row ``r`` joins the first ``n - k_values[r]`` merges; labels are
    numbered 0.. in order of first appearance (as genieclust numbers them).
    """
    m = k_values.shape[0]
    out = np.empty((m, n), dtype=np.int64)
    order = np.argsort(-k_values)  # most clusters first: one pass over the merges
    parent = make_sets(n)
    done = 0
    root_label = np.full(n, -1, dtype=np.int64)
    for r in order:
        target = n - k_values[r]
        while done < target:
            e = merges[done]
            root_a = find(parent, edge_low[e])
            root_b = find(parent, edge_high[e])
            if root_b < root_a:
                root_a, root_b = root_b, root_a
            parent[root_b] = root_a
            done += 1
        root_label[:] = -1
        next_label = 0
        for i in range(n):
            root = find(parent, i)
            if root_label[root] < 0:
                root_label[root] = next_label
                next_label += 1
            out[r, i] = root_label[root]
    return out


@kernel
def merge_children(edge_low, edge_high, merges, n):
    """SciPy cluster ids of the two sides of each merge, and the merged size.

    Returns ``children`` int64 (len(merges), 2), ``[id of low's cluster, id
    of high's cluster]`` for each merged edge (the order genieclust gives;
    ids below ``n`` are points, ``n + t`` the cluster made at step ``t``), and
    ``counts`` int64 (len(merges),).
    """
    n_merges = merges.shape[0]
    children = np.empty((n_merges, 2), dtype=np.int64)
    counts = np.empty(n_merges, dtype=np.int64)
    parent = make_sets(n)
    cluster_id = np.arange(n, dtype=np.int64)
    size = np.ones(n, dtype=np.int64)
    for step in range(n_merges):
        e = merges[step]
        root_a = find(parent, edge_low[e])
        root_b = find(parent, edge_high[e])
        children[step, 0] = cluster_id[root_a]
        children[step, 1] = cluster_id[root_b]
        joined = size[root_a] + size[root_b]
        counts[step] = joined
        if root_b < root_a:
            root_a, root_b = root_b, root_a
        parent[root_b] = root_a
        size[root_a] = joined
        cluster_id[root_a] = n + step
    return children, counts
