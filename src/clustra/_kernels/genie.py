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
- ``size_count[s]``: how many clusters have ``s`` points, and the sizes in use
  as a sorted doubly linked list (at most about ``sqrt(2 n)`` distinct sizes,
  so an insertion walks O(sqrt n) and the Gini index is recomputed from the
  list in O(sqrt n));
- the remaining edges as a doubly linked list in sorted order (O(1) removal).

The Gini index is recomputed after every merge with the same formula and the
same floating-point operations as genieclust's ``CGiniDisjointSets``, so the
comparison with the threshold, and with it every merge, is the same.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from clustra._kernels.unionfind import find, make_sets


@njit(cache=True)
def _gini(size_count, size_next, tail, n_distinct, n, k):
    """Normalised Gini index of the cluster sizes (``k`` clusters of ``n`` points)."""
    if n_distinct <= 1:
        return 0.0
    largest = size_next[tail]  # size_next[tail] holds the largest size (see genie_merges)
    v = size_next[0]
    below = 0
    total = 0.0
    while v != largest:
        w = v
        v = size_next[v]
        below += size_count[w]
        total += (np.float64(v) - w) * below * (np.float64(k) - below)
    total /= np.float64(n) * (k - 1.0)
    if total > 1.0:
        total = 1.0
    if total < 0.0:
        total = 0.0
    return total


@njit(cache=True)
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
    # Sizes in use: a sorted doubly linked list over 1..n; 0 is the head and
    # n + 1 the tail sentinel. size_next[tail] is reused to hold the largest size.
    tail = n + 1
    size_count = np.zeros(n + 2, dtype=np.int64)
    size_next = np.zeros(n + 2, dtype=np.int64)
    size_prev = np.zeros(n + 2, dtype=np.int64)
    size_count[1] = n
    size_next[0] = 1
    size_prev[1] = 0
    size_next[1] = tail
    size_prev[tail] = 1
    size_next[tail] = 1
    n_distinct = 1
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
            smallest = size_next[0]
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
        if size_count[joined] == 0:
            node = max(size_a, size_b)
            while size_next[node] != tail and size_next[node] < joined:
                node = size_next[node]
            after = size_next[node]
            size_next[node] = joined
            size_prev[joined] = node
            size_next[joined] = after
            size_prev[after] = joined
            if after == tail:
                size_next[tail] = joined
            n_distinct += 1
        size_count[joined] += 1
        for gone in (size_a, size_b):
            size_count[gone] -= 1
            if size_count[gone] == 0:
                before = size_prev[gone]
                after = size_next[gone]
                size_next[before] = after
                size_prev[after] = before
                if after == tail:
                    size_next[tail] = before
                n_distinct -= 1
        gini = _gini(size_count, size_next, tail, n_distinct, n, n - step - 1)
    return merges


@njit(cache=True)
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


@njit(cache=True)
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
