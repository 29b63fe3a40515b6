"""Building the KD-tree's arrays (:func:`clustra._kernels.kdtree.build_kdtree`).

The tree is complete: node ``i`` has children ``2i + 1`` and ``2i + 2``, each
split at the median of its widest dimension, so a level's nodes are
independent of each other and are split side by side, as are the leaves'
bounding boxes.
"""

from __future__ import annotations

import numpy as np

from clustra._kernels.blocks import claim, run_claimed
from clustra._kernels.borrowed import NoAliasCompiler
from clustra._kernels.jit import kernel


@kernel
def _select(X, index, start, end, nth, dim):
    """Reorder ``index[start:end]`` so position ``nth`` holds the element of that rank.

    Keys are ``X[index[k], dim]``. Three-way partitioning keeps duplicate keys
    linear; the pivot is the median of three, so the result is deterministic.
    """
    lo = start
    hi = end - 1
    while hi > lo:
        a = X[index[lo], dim]
        b = X[index[(lo + hi) // 2], dim]
        c = X[index[hi], dim]
        if a > b:
            a, b = b, a
        if b > c:
            b = c
            if a > b:
                b = a
        pivot = b
        # Dutch national flag: [lo, lt) < pivot, [lt, i) == pivot, (gt, hi] > pivot.
        lt = lo
        i = lo
        gt = hi
        while i <= gt:
            value = X[index[i], dim]
            if value < pivot:
                index[lt], index[i] = index[i], index[lt]
                lt += 1
                i += 1
            elif value > pivot:
                index[gt], index[i] = index[i], index[gt]
                gt -= 1
            else:
                i += 1
        if nth < lt:
            hi = lt - 1
        elif nth > gt:
            lo = gt + 1
        else:
            return


@kernel
def _widest_dimension(X, index, start, end):
    n_features = X.shape[1]
    best_dim = 0
    best_spread = -1.0
    for j in range(n_features):
        low = np.inf
        high = -np.inf
        for k in range(start, end):
            value = np.float64(X[index[k], j])
            if value < low:
                low = value
            if value > high:
                high = value
        if high - low > best_spread:
            best_spread = high - low
            best_dim = j
    return best_dim


def build_arrays(X, n_nodes):
    """Partition ``index`` level by level and compute node slices and boxes.

    ``X``: (n, d) float64. Returns ``index`` (n,) int64, ``node_start``,
    ``node_end`` (n_nodes,) int64 and ``lower``, ``upper`` (n_nodes, d) float64.
    The nodes of a level, then the leaves' boxes, are split among
    :func:`clustra._kernels.blocks.run_claimed`'s threads; every node's work
    depends on the node alone.
    """
    n_samples, n_features = X.shape
    index = np.arange(n_samples, dtype=np.int64)
    node_start = np.zeros(n_nodes, dtype=np.int64)
    node_end = np.zeros(n_nodes, dtype=np.int64)
    node_end[0] = n_samples
    first_leaf = n_nodes // 2
    level_first = 0
    level_size = 1
    while level_first < first_leaf:
        run_claimed(_split_nodes, level_size, X, index, node_start, node_end, level_first)
        level_first += level_size
        level_size *= 2
    lower = np.empty((n_nodes, n_features), dtype=np.float64)
    upper = np.empty((n_nodes, n_features), dtype=np.float64)
    run_claimed(_leaf_boxes, n_nodes - first_leaf, X, index, node_start, node_end, lower, upper)
    _inner_boxes(lower, upper)
    return index, node_start, node_end, lower, upper


@kernel(pipeline_class=NoAliasCompiler)
def _split_nodes(X, index, node_start, node_end, level_first, cursor):
    """Split the nodes ``level_first + b`` of one level (b claimed from ``cursor``) at
    the median of their widest dimension."""
    begin, end = claim(cursor)
    while begin < end:
        for node in range(level_first + begin, level_first + end):
            start = node_start[node]
            stop = node_end[node]
            middle = (start + stop) // 2
            if stop - start > 1:
                _select(X, index, start, stop, middle, _widest_dimension(X, index, start, stop))
            node_start[2 * node + 1] = start
            node_end[2 * node + 1] = middle
            node_start[2 * node + 2] = middle
            node_end[2 * node + 2] = stop
        begin, end = claim(cursor)
    return 0


@kernel(pipeline_class=NoAliasCompiler)
def _leaf_boxes(X, index, node_start, node_end, lower, upper, cursor):
    """Bounding boxes of the leaves claimed from ``cursor``."""
    n_nodes, n_features = lower.shape
    first_leaf = n_nodes // 2
    begin, end = claim(cursor)
    while begin < end:
        for node in range(first_leaf + begin, first_leaf + end):
            for j in range(n_features):
                lower[node, j] = np.inf
                upper[node, j] = -np.inf
            for k in range(node_start[node], node_end[node]):
                for j in range(n_features):
                    value = np.float64(X[index[k], j])
                    if value < lower[node, j]:
                        lower[node, j] = value
                    if value > upper[node, j]:
                        upper[node, j] = value
        begin, end = claim(cursor)
    return 0


@kernel
def _inner_boxes(lower, upper):
    """The inner nodes' boxes from their children's, bottom up."""
    for node in range(lower.shape[0] // 2 - 1, -1, -1):
        for j in range(lower.shape[1]):
            lower[node, j] = min(lower[2 * node + 1, j], lower[2 * node + 2, j])
            upper[node, j] = max(upper[2 * node + 1, j], upper[2 * node + 2, j])
