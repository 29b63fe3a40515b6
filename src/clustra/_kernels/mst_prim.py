"""Prim's minimum spanning tree: distances on the fly (any metric), vectorised Euclidean,
and on a distance matrix. The quadratic paths of :mod:`clustra._kernels.mst`.

Weights are ``max(core[i], core[j], d(i, j) / alpha)``: reduced units for the
observation kernels (``core`` reduced, ``alpha_r`` alpha in reduced units),
the matrix's own units for :func:`prim_dense`. An empty ``core`` means no
core distances (the metric's own tree) and skips the maximum.

Every kernel returns the tree's own edges ``(parent, child, weight)``
(int64, int64, float64; n-1 each) in the order Prim adds them, growing from
row 0. Each vertex outside the tree keeps its lightest edge to the tree;
among equal weights the lower parent row (for a fixed vertex the lower edge
under ``(weight, low, high)``). The next vertex is chosen by one of two rules:

- ``scipy_order=False``: the lightest edge under the strict order
  ``(weight, min(i, j), max(i, j))``, so the tree is the unique one of that
  order, the tree :func:`clustra._kernels.mst_boruvka.boruvka` builds;
- ``scipy_order=True``: the lightest weight, ties to the lower vertex row,
  as SciPy's ``mst_single_linkage``. A stable sort of the edges by weight
  then gives SciPy's single-linkage matrix bit for bit: in that order the
  parent is always already joined to the vertex SciPy pairs the new one with
  (the one added just before it), so every merge joins the same two clusters.

One thread: every step waits for the previous one, and waking a thread pool
n times costs more than the scan saves.
"""

from __future__ import annotations

import numpy as np

from clustra._kernels.distances import rdist
from clustra._kernels.jit import kernel


@kernel(inline="always")
def _picks_before(w, parent, row, pick_w, pick_parent, pick_row, scipy_order):
    """Whether vertex ``row`` (best edge ``w`` from ``parent``) goes before the current pick."""
    if w != pick_w:
        return w < pick_w
    if scipy_order:
        return row < pick_row
    low = min(parent, row)
    pick_low = min(pick_parent, pick_row)
    if low != pick_low:
        return low < pick_low
    return max(parent, row) < max(pick_parent, pick_row)


@kernel(inline="always")
def _add_vertex(step, position, last, remaining, best, best_from, parent_out, child_out,
                weight_out):
    """Record the edge of vertex ``remaining[position]`` as edge ``step``, move
    ``remaining[last]`` into its place, and return the vertex."""
    y = remaining[position]
    parent_out[step] = best_from[y]
    child_out[step] = y
    weight_out[step] = best[y]
    remaining[position] = remaining[last]
    return y


@kernel(inline="always")
def _relax_pick(w, x, i, t, position, remaining, best, best_from, scipy_order, core):
    """Relax vertex ``i`` (at ``remaining[t]``) with edge weight ``max(w, core[x], core[i])``
    (``w`` alone when ``core`` is empty) from ``x``; return the position of the pick among
    ``remaining[:t + 1]``."""
    if core.shape[0] > 0:
        w = max(w, core[x], core[i])
    if w < best[i] or (w == best[i] and x < best_from[i]):
        best[i] = w
        best_from[i] = x
    j = remaining[position]
    if t > 0 and _picks_before(best[i], best_from[i], i, best[j], best_from[j], j, scipy_order):
        return t
    return position


@kernel(inline="always")
def _prim_state(n):
    """Outputs (parent, child, weight; n-1 each) and the vertex state of a Prim growing
    from row 0: ``remaining`` rows 1..n-1, ``best`` weight (inf) and ``best_from`` row."""
    return (np.empty(n - 1, dtype=np.int64), np.empty(n - 1, dtype=np.int64),
            np.empty(n - 1, dtype=np.float64), np.arange(1, n), np.full(n, np.inf),
            np.zeros(n, dtype=np.int64))


@kernel
def prim_metric(X, core, code, p, alpha_r, scipy_order):
    """Prim with ``rdist(X[i], X[j], code, p)`` computed on the fly.

    ``X``: float64 (n, d), C-contiguous; ``core``: float64 (n,) reduced or
    empty; ``code``/``p``: :func:`clustra._kernels.distances.metric_code`.
    O(n^2 d) time, O(n) extra memory.
    """
    n = X.shape[0]
    parent_out, child_out, weight_out, remaining, best, best_from = _prim_state(n)
    inv_alpha_r = 1.0 / alpha_r
    m = n - 1
    x = 0
    for step in range(n - 1):
        position = 0
        for t in range(m):
            i = remaining[t]
            w = rdist(X[x], X[i], code, p)
            if alpha_r != 1.0:
                w *= inv_alpha_r
            position = _relax_pick(w, x, i, t, position, remaining, best, best_from,
                                   scipy_order, core)
        m -= 1
        x = _add_vertex(step, position, m, remaining, best, best_from, parent_out, child_out,
                        weight_out)
    return parent_out, child_out, weight_out


_BLOCK = 1024  # vertices per block: the block's distances stay in L1 across features


@kernel
def _scan_block(XT, row, x, start, end, scratch, core_x, core_of, best, best_from, order,
                inv_alpha_r, scipy_order):
    """Relax vertices ``start:end`` (columns of ``XT``) from ``x``; return the block's pick."""
    # Slices, not offset indexing: numba proves the indices in range and LLVM
    # vectorises the loops; each distance sums its features from 0.0 in order,
    # the bits of rdist_sqeuclidean.
    width = end - start
    work = scratch[:width]
    work[:] = 0.0
    for j in range(XT.shape[0]):
        value = row[j]
        column = XT[j, start:end]
        for t in range(width):
            diff = column[t] - value
            work[t] += diff * diff
    block_best = best[start:end]
    block_from = best_from[start:end]
    if inv_alpha_r != 1.0:
        for t in range(width):
            work[t] *= inv_alpha_r
    if core_of.shape[0] > 0:
        block_core = core_of[start:end]
        for t in range(width):
            work[t] = max(work[t], core_x, block_core[t])
    for t in range(width):  # stores only where better: masked stores, vectorises
        w = work[t]
        if w < block_best[t] or (w == block_best[t] and x < block_from[t]):
            block_best[t] = w
            block_from[t] = x
    # The pick stays in registers; most vertices fail the first comparison.
    position = start
    pick_w = best[start]
    for t in range(start + 1, end):
        w = best[t]
        if w > pick_w:
            continue
        if w < pick_w or _picks_before(w, best_from[t], order[t], pick_w, best_from[position],
                                       order[position], scipy_order):
            position = t
            pick_w = w
    return position


@kernel
def prim_sqeuclidean(X, core, alpha_r, scipy_order):
    """:func:`prim_metric` for squared Euclidean, vectorised: the same edges, faster.

    The vertices not yet in the tree stay compacted in a transposed copy
    (swap-remove), scanned in blocks of ``_BLOCK`` contiguous columns.
    ``X`` float64 (n, d) C-contiguous; ``core`` reduced (n,) or empty; O(n d)
    extra memory.
    """
    n, d = X.shape
    parent_out = np.empty(n - 1, dtype=np.int64)
    child_out = np.empty(n - 1, dtype=np.int64)
    weight_out = np.empty(n - 1, dtype=np.float64)
    m = n - 1
    width = max(m, 1)
    XT = np.empty((d, width), dtype=np.float64)
    for t in range(m):
        for j in range(d):
            XT[j, t] = X[t + 1, j]
    order = np.arange(1, n)
    has_core = core.shape[0] > 0
    core_of = np.empty(width if has_core else 0, dtype=np.float64)
    if has_core:
        # (A loop: an array assigned to a slice compiles numba's shape-mismatch
        # message, string formatting and all.)
        for t in range(m):
            core_of[t] = core[t + 1]
    best = np.full(width, np.inf)
    best_from = np.zeros(width, dtype=np.int64)
    scratch = np.empty(_BLOCK, dtype=np.float64)
    inv_alpha_r = 1.0 / alpha_r
    x = np.int64(0)  # not a literal 0: _scan_block would compile twice
    for step in range(n - 1):
        row = X[x]
        core_x = core[x] if has_core else 0.0
        position = -1
        for start in range(0, m, _BLOCK):
            found = _scan_block(XT, row, x, start, min(m, start + _BLOCK), scratch, core_x,
                                core_of, best, best_from, order, inv_alpha_r, scipy_order)
            if position < 0 or _picks_before(best[found], best_from[found], order[found],
                                             best[position], best_from[position],
                                             order[position], scipy_order):
                position = found
        y = order[position]
        parent_out[step] = best_from[position]
        child_out[step] = y
        weight_out[step] = best[position]
        m -= 1
        if position != m:
            for j in range(d):
                XT[j, position] = XT[j, m]
            best[position] = best[m]
            best_from[position] = best_from[m]
            order[position] = order[m]
            if has_core:
                core_of[position] = core_of[m]
        x = y
    return parent_out, child_out, weight_out


@kernel
def prim_dense(D, n, core, alpha, scipy_order):
    """Prim on distances ``D`` (float64, 1-D): a condensed vector (n(n-1)/2 entries, as
    SciPy's ``pdist``) or a square matrix raveled (n*n entries, symmetric, zero diagonal).

    Weights ``max(core[i], core[j], D[i, j] / alpha)`` in D's units (``core``
    float64 (n,) or empty). O(n^2) time, O(n) extra memory.
    """
    parent_out, child_out, weight_out, remaining, best, best_from = _prim_state(n)
    square = D.shape[0] == n * n
    m = n - 1
    x = 0
    for step in range(n - 1):
        position = 0
        # One loop per storage: a test of the storage for every pair made Prim
        # several times slower (benchmarks/results/dbscan-hierarchy-choices.md).
        if square:
            for t in range(m):
                i = remaining[t]
                w = D[x * n + i]
                if alpha != 1.0:
                    w /= alpha
                position = _relax_pick(w, x, i, t, position, remaining, best, best_from,
                                       scipy_order, core)
        else:
            for t in range(m):
                i = remaining[t]
                if x < i:
                    w = D[n * x - (x * (x + 1)) // 2 + (i - x - 1)]
                else:
                    w = D[n * i - (i * (i + 1)) // 2 + (x - i - 1)]
                # Divides in the matrix's own units, where prim_metric multiplies in reduced
                # units: each keeps the bits of its callers' references, so the tails differ.
                if alpha != 1.0:
                    w /= alpha
                position = _relax_pick(w, x, i, t, position, remaining, best, best_from,
                                       scipy_order, core)
        m -= 1
        x = _add_vertex(step, position, m, remaining, best, best_from, parent_out, child_out,
                        weight_out)
    return parent_out, child_out, weight_out
