"""Agglomeration restricted to a connectivity graph (merges only along edges).

Same rules as scikit-learn's structured ``ward_tree`` / ``linkage_tree``: Ward
from cluster moments, complete and average updated over the union of the two
merged clusters' neighbours, single linkage through the graph's minimum
spanning tree. A graph with several components is joined first by an edge
between the closest pair of points of each pair of components (with a warning).
Each returns ``Z`` in merge order (ids ``n + k``, SciPy layout) and the number
of connected components of the input graph.
"""

from __future__ import annotations

import heapq
import warnings

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components


def fix_connectivity(X, connectivity, metric: str):
    """Symmetric LIL graph without self-loops, joined into one component; and the count."""
    n_samples = X.shape[0]
    if connectivity.shape != (n_samples, n_samples):
        raise ValueError(
            f"connectivity has shape {connectivity.shape} but X has {n_samples} samples; it "
            f"must be ({n_samples}, {n_samples})."
        )
    graph = sparse.csr_matrix(connectivity, dtype=np.float64)
    graph = (graph + graph.T).tolil()
    n_components, component = connected_components(graph)
    if n_components > 1:
        warnings.warn(
            f"The number of connected components of the connectivity matrix is "
            f"{n_components} > 1. Completing it to avoid stopping the tree early.",
            stacklevel=3,
        )
        from sklearn.metrics import pairwise_distances

        for a in range(n_components):
            members_a = np.flatnonzero(component == a)
            for b in range(a):
                members_b = np.flatnonzero(component == b)
                if metric == "precomputed":
                    D = np.asarray(X[np.ix_(members_a, members_b)])
                else:
                    D = pairwise_distances(X[members_a], X[members_b], metric=metric)
                i, j = np.unravel_index(np.argmin(D), D.shape)
                graph[members_a[i], members_b[j]] = 1.0
                graph[members_b[j], members_a[i]] = 1.0
    return graph, n_components


def ward_on_graph(X, graph, n_merges: int) -> np.ndarray:
    """Ward merges along the edges of ``graph`` (LIL); height sqrt(2 * increase of inertia)."""
    n = X.shape[0]
    n_nodes = n + n_merges
    counts = np.zeros(n_nodes)
    counts[:n] = 1.0
    sums = np.zeros((n_nodes, X.shape[1]))
    sums[:n] = X
    neighbours = [list(row) for row in graph.rows]
    parent = np.arange(n_nodes)
    alive = np.ones(n_nodes, dtype=bool)

    def ward_cost(a, others):
        others = np.asarray(others, dtype=np.intp)
        gap = sums[a] / counts[a] - sums[others] / counts[others][:, None]
        return counts[a] * counts[others] / (counts[a] + counts[others]) * (gap * gap).sum(axis=1)

    heap = []
    for i, row in enumerate(neighbours):
        lower = [j for j in row if j < i]
        if lower:
            heap.extend(zip(ward_cost(i, lower).tolist(), [i] * len(lower), lower, strict=True))
    heapq.heapify(heap)
    Z = np.empty((n_merges, 4))
    for k in range(n, n_nodes):
        while True:
            cost, i, j = heapq.heappop(heap)
            if alive[i] and alive[j]:
                break
        parent[i] = parent[j] = k
        alive[i] = alive[j] = False
        counts[k] = counts[i] + counts[j]
        sums[k] = sums[i] + sums[j]
        Z[k - n] = (min(i, j), max(i, j), np.sqrt(2.0 * cost), counts[k])
        heads = _live_heads(neighbours[i] + neighbours[j], parent, k)
        for col in heads:
            neighbours[col].append(k)
        neighbours.append(heads)
        if heads:
            for cost_new, col in zip(ward_cost(k, heads).tolist(), heads, strict=True):
                heapq.heappush(heap, (cost_new, k, col))
    return Z


def _live_heads(nodes, parent, k):
    """The current clusters holding ``nodes``, each once, without ``k`` itself."""
    heads = []
    seen = {k}
    for node in nodes:
        while parent[node] != node:
            node = parent[node]
        if node not in seen:
            seen.add(node)
            heads.append(node)
    return heads


def linkage_on_graph(graph_distances, n: int, method: str, n_merges: int) -> np.ndarray:
    """Complete or average linkage along the edges of a weighted LIL graph."""
    weights = [dict(zip(row, data, strict=True))
               for row, data in zip(graph_distances.rows, graph_distances.data, strict=True)]
    heap = [(d, i, j) for i, row in enumerate(weights) for j, d in row.items() if j < i]
    heapq.heapify(heap)
    size = np.zeros(n + n_merges, dtype=np.int64)
    size[:n] = 1
    Z = np.empty((n_merges, 4))
    for k in range(n, n + n_merges):
        while True:
            d, i, j = heapq.heappop(heap)
            if size[i] and size[j]:
                break
        n_i, n_j = size[i], size[j]
        size[k] = n_i + n_j
        size[i] = size[j] = 0
        Z[k - n] = (min(i, j), max(i, j), d, size[k])
        merged = {c: v for c, v in weights[i].items() if size[c]}
        for c, v in weights[j].items():
            if not size[c]:
                continue
            if c in merged:
                merged[c] = (max(merged[c], v) if method == "complete"
                             else (n_i * merged[c] + n_j * v) / (n_i + n_j))
            else:
                merged[c] = v
        for c, v in merged.items():
            weights[c][k] = v
            heapq.heappush(heap, (v, k, c))
        weights.append(merged)
        weights[i] = weights[j] = {}
    return Z


def single_on_graph(graph_distances, n: int) -> np.ndarray:
    """Single linkage along the edges: the graph's minimum spanning tree, relabelled."""
    from scipy.sparse.csgraph import minimum_spanning_tree

    from clustra.cluster.hierarchy._linkage import _mst_linkage

    coo = graph_distances.tocoo()
    # Zero-length edges would vanish from a sparse matrix: shift every weight by one.
    shifted = sparse.coo_matrix((coo.data + 1.0, (coo.row, coo.col)), shape=coo.shape)
    tree = minimum_spanning_tree(shifted.tocsr()).tocoo()
    return _mst_linkage(tree.row.astype(np.int64), tree.col.astype(np.int64),
                        tree.data - 1.0, n)


def graph_distances(X, graph, metric: str, precomputed: bool):
    """The graph with each edge weighted by the distance between its two points."""
    coo = graph.tocoo()
    keep = coo.row != coo.col
    rows, cols = coo.row[keep], coo.col[keep]
    if precomputed:
        values = np.asarray(X[rows, cols], dtype=np.float64)
    else:
        from sklearn.metrics.pairwise import paired_distances

        values = paired_distances(X[rows], X[cols], metric=metric)
    return sparse.coo_matrix((values, (rows, cols)), shape=graph.shape).tolil()
