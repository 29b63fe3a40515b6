"""Ward linkage from the observations in O(nd) memory: cluster centres and sizes, no matrix.

The state and steps that :func:`clustra._kernels.linkage_chain.ward_vector`
runs the nearest-neighbour chain with: Ward's criterion computed from centres,
``sqrt(2 |A||B| / (|A|+|B|)) * ||c_A - c_B||``. Centroid and median from
centres are in :mod:`clustra._kernels.linkage_generic`.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from clustra._kernels.jit import kernel


@kernel
def _ward_scan(packed, packed_size, n_packed, px, gap, current_min, y):
    """Nearest live cluster to packed column ``px`` in Ward's criterion.

    ``packed``: float64 (d, m), the live clusters' centres column by column in
    index order, so the inner loop runs over contiguous memory and vectorises.
    Returns (half the squared height, packed column) of the first minimum.
    """
    # condensed._sqeuclidean_rows runs this same features-outside loop; as a shared njit
    # helper it measured slower (benchmarks/results/shared-helpers.md).
    n_features = packed.shape[0]
    for t in range(n_packed):
        gap[t] = 0.0
    for j in range(n_features):
        centre_j = packed[j, px]
        row = packed[j]
        for t in range(n_packed):
            diff = row[t] - centre_j
            gap[t] += diff * diff
    nx = packed_size[px]
    for t in range(n_packed):
        ni = packed_size[t]
        if ni == 0.0 or t == px:
            continue
        dist = gap[t] * (nx * ni / (nx + ni))
        if dist < current_min:
            current_min = dist
            y = t
    return current_min, y


@kernel
def _ward_pair(packed, packed_size, a, b):
    total = 0.0
    for j in range(packed.shape[0]):
        diff = packed[j, b] - packed[j, a]
        total += diff * diff
    na = packed_size[a]
    nb = packed_size[b]
    return total * (na * nb / (na + nb))


@kernel
def _ward_compact(packed, packed_size, packed_slot, n_packed, chain, chain_length):
    """Drop dead columns (size 0) keeping order; renumber the chain's columns."""
    new_position = np.empty(n_packed, dtype=np.int64)
    kept = 0
    for t in range(n_packed):
        new_position[t] = kept
        if packed_size[t] > 0.0:
            if kept != t:
                for j in range(packed.shape[0]):
                    packed[j, kept] = packed[j, t]
                packed_size[kept] = packed_size[t]
                packed_slot[kept] = packed_slot[t]
            kept += 1
    for c in range(chain_length):
        chain[c] = new_position[chain[c]]
    return kept


PackedChain = namedtuple("PackedChain", ["packed", "size", "slot", "gap"])
PackedChain.__doc__ = """The nearest-neighbour chain's state from the observations: the
live clusters' centres column by column in index order (``packed``, float64 (d, n)),
their sizes (float64, 0 for merged-away columns), their slots (int64: the point that
started each cluster) and float64 scratch ``gap`` (n,)."""


def new_packed_chain(X):
    """The :class:`PackedChain` of ``X`` (float64 (n, d), not modified).

    Built in numpy: a kernel allocating these would compile on every first call.
    """
    n = X.shape[0]
    # A copy always: with one feature X.T is already contiguous, and the chain writes it.
    return PackedChain(np.array(X.T, dtype=np.float64, order="C"), np.ones(n),
                       np.arange(n, dtype=np.int64), np.empty(n))


@kernel
def packed_first_live(c, n_packed):
    for t in range(n_packed):
        if c.size[t] > 0.0:
            return t
    return 0


@kernel
def packed_neighbour(c, n_packed, x, previous):
    """``(y, half the squared height)``: the first nearest live column to ``x``, or
    ``previous`` (-1 for none) when it is as near (the matrix chain's tie rule)."""
    y = 0
    current_min = np.inf
    if previous >= 0:
        y = previous
        current_min = _ward_pair(c.packed, c.size, x, previous)
    current_min, y = _ward_scan(c.packed, c.size, n_packed, x, c.gap, current_min, y)
    return y, current_min


@kernel
def merge_packed(c, n_packed, n_dead, x, y, chain, chain_length):
    """Merge columns ``x < y`` into ``y``; compact the dead columns once they are a
    quarter of the packed ones (renumbering ``chain``). Returns ``(n_packed, n_dead)``."""
    nx = c.size[x]
    ny = c.size[y]
    for j in range(c.packed.shape[0]):
        c.packed[j, y] = (nx * c.packed[j, x] + ny * c.packed[j, y]) / (nx + ny)
    c.size[x] = 0.0
    c.size[y] = nx + ny
    n_dead += 1
    if 4 * n_dead > n_packed:
        n_packed = _ward_compact(c.packed, c.size, c.slot, n_packed, chain, chain_length)
        n_dead = 0
    return n_packed, n_dead
