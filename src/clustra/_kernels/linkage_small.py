"""Ward linkage for small inputs in numpy: the same merges as the compiled chain, no compile.

A first ``linkage(X, "ward")`` on a few thousand rows would spend most of its
time compiling the chain's kernels; below ``SMALL_WARD_ROWS`` rows these
whole-array numpy passes run the same nearest-neighbour chain instead
(:func:`clustra._kernels.linkage_chain.ward_vector`): the same scans in the
same order, each sum over the features from 0.0 in feature order, so the
merges and heights are the same bits. Beyond that size the kernels' speed
pays for their compile.
"""

from __future__ import annotations

import math

import numpy as np

# The measurements behind this size: benchmarks/results/coldstart-rest.md.
SMALL_WARD_ROWS = 1024


def ward_chain_small(X):
    """Raw Ward merges of ``X`` (float64 (n, d), n >= 2), as
    :func:`clustra._kernels.linkage_chain.ward_vector` returns them: float64
    (n-1, 4), the two starting points of the merged clusters (smaller column
    first), the height and the size, in the order found."""
    n = X.shape[0]
    packed = np.array(X.T, dtype=np.float64)  # (d, n): the kernel's column layout
    size = np.ones(n)
    Z = np.empty((n - 1, 4), dtype=np.float64)
    chain: list[int] = []
    for k in range(n - 1):
        if not chain:
            chain.append(int(np.flatnonzero(size > 0.0)[0]))
        while True:
            x = chain[-1]
            previous = chain[-2] if len(chain) > 1 else -1
            y, current_min = _neighbour(packed, size, x, previous)
            if y == previous:
                break
            chain.append(y)
        del chain[-2:]
        if x > y:
            x, y = y, x
        nx, ny = size[x], size[y]
        Z[k] = (x, y, math.sqrt(2.0 * current_min), nx + ny)
        packed[:, y] = (nx * packed[:, x] + ny * packed[:, y]) / (nx + ny)
        size[x] = 0.0
        size[y] = nx + ny
    return Z


def _neighbour(packed, size, x, previous):
    """``(y, half the squared height)``: the first nearest live column to ``x``, or
    ``previous`` when it is as near (the chain's tie rule)."""
    diff = packed - packed[:, x:x + 1]
    diff *= diff
    # Feature by feature, as the kernel adds them (numpy's reduction may pair them).
    gap = diff[0].copy()
    for row in diff[1:]:
        gap += row
    nx = size[x]
    dist = gap * (nx * size / (nx + size))
    dist[size == 0.0] = np.inf
    dist[x] = np.inf
    best = int(np.argmin(dist))
    if previous >= 0 and not dist[best] < dist[previous]:
        return previous, dist[previous]
    return best, dist[best]


def label_merges_small(Z, n):
    """:func:`clustra._kernels.linkage.label_merges` in Python (same result, in place)."""
    parent = list(range(n))
    cluster_id = list(range(n))
    cluster_size = [1] * n

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    ends = Z[:, :2].astype(np.int64).tolist()
    for k, (a, b) in enumerate(ends):
        root_a, root_b = find(a), find(b)
        id_a, id_b = cluster_id[root_a], cluster_id[root_b]
        total = cluster_size[root_a] + cluster_size[root_b]
        Z[k, 0] = min(id_a, id_b)
        Z[k, 1] = max(id_a, id_b)
        Z[k, 3] = total
        parent[root_b] = root_a
        cluster_id[root_a] = n + k
        cluster_size[root_a] = total
    return Z
