"""Union-find (disjoint sets) on a plain int64 parent array.

One implementation for every user: DBSCAN joins core points, single linkage
joins minimum-spanning-tree edges. ``parent[i] == i`` marks a root. Unions are
by index (the smaller root becomes the parent), which makes the final roots,
and so any labelling derived from them, independent of the order in which
unions of the same components happen.
"""

from __future__ import annotations

import numpy as np

from clustra._kernels.jit import kernel


@kernel
def make_sets(n):
    """Return ``parent`` (int64, shape (n,)) with every element its own set."""
    return np.arange(n, dtype=np.int64)


@kernel
def find(parent, i):
    """Root of ``i``, halving the path on the way (``parent``: int64, shape (n,))."""
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


@kernel
def union(parent, i, j):
    """Join the sets of ``i`` and ``j``; return True if they were apart."""
    root_i = find(parent, i)
    root_j = find(parent, j)
    if root_i == root_j:
        return False
    if root_i < root_j:
        parent[root_j] = root_i
    else:
        parent[root_i] = root_j
    return True


@kernel
def flatten(parent):
    """Point every element straight at its root (the smallest index of its set)."""
    for i in range(parent.shape[0]):
        parent[i] = find(parent, i)
    return parent
