"""A uniform grid of small cells for radius queries in low dimensions.

The cell side is ``eps / d**(1/p)`` (shrunk by a relative ``1e-8`` to absorb
rounding), so that any two points of one cell are within ``eps`` of each other
in the Minkowski-``p`` metric (``p = inf`` for Chebyshev, 1 for Manhattan,
2 for Euclidean). Points within ``eps`` of a point of cell ``c`` can only lie
in cells at an integer offset ``o`` with ``sum_j max(|o_j| - 1, 0)**p <= d``
(``max_j max(|o_j| - 1, 0) <= 1`` for Chebyshev): 21 cells in 2-D Euclidean,
125 in 3-D. Only occupied cells are stored.

Layout (:class:`Grid`, a named tuple of plain arrays)
------------------------------------------------------
``data``        (n, d) float32/float64: the points sorted by cell.
``index``       (n,) int64: ``data[k] == X[index[k]]``; within a cell, rows ascend.
``cell_keys``   (n_cells,) int64, ascending: each occupied cell's linear key.
``cell_start``  (n_cells + 1,) int64: cell ``c`` owns ``data[cell_start[c]:cell_start[c+1]]``.
``offsets``     (n_offsets,) int64: linear key differences of the neighbour cells,
                nearest first (by the least distance between the cells), the cell
                itself (0) first. Coordinates are padded on each side, so
                ``key + offset`` never wraps into another row.
``near_offsets`` (n_near,) int64: the offsets of the 3**d cells touching a cell (and 0).
``side``        float: the cell side.
``table``       (2**m,) int64: an open-addressing hash table of cell ids (-1: free slot).

Use :func:`lookup_cell` (the hash table, O(1)) or :func:`find_cell` (binary
search over ``cell_keys``) to turn ``key + offset`` into a cell id, -1 when
that cell is empty.
"""

from __future__ import annotations

import itertools
import math
from collections import namedtuple

import numpy as np

from clustra._kernels.jit import kernel

Grid = namedtuple(
    "Grid",
    ["data", "index", "cell_keys", "cell_start", "offsets", "near_offsets", "side", "table"],
)
Grid.__doc__ = "A uniform grid as plain arrays; see the module docstring for the layout."

# A grid whose padded key space would not fit in int64 is refused (callers use the KD-tree).
_MAX_KEYS = 2**62
# Above this many neighbour cells per cell a grid no longer pays (high d, Manhattan in 3-D).
MAX_OFFSETS = 200
# Below this many rows the grid is built by numpy's whole-array passes, which
# spare a first call compiling the kernels that build large grids faster.
SMALL_ROWS = 2**14
_HASH = np.int64(-7046029254386353131)  # Fibonacci hashing's multiplier


def cell_side(eps: float, n_features: int, p: float) -> float:
    """Side of a cell whose diameter in the Minkowski-``p`` metric is below ``eps``."""
    diameter_factor = 1.0 if math.isinf(p) else n_features ** (1.0 / p)
    return eps / diameter_factor * (1.0 - 1e-8)


def neighbour_offsets(n_features: int, p: float) -> np.ndarray:
    """Integer offsets (n_offsets, d) of the cells that may hold points within ``eps``."""
    reach = 2 if math.isinf(p) else int(math.floor(n_features ** (1.0 / p) * (1 + 1e-8))) + 1
    # Only this many offsets per dimension can be in reach: build them and filter.
    if (2 * reach + 1) ** n_features > 50 * MAX_OFFSETS:
        return np.zeros((0, n_features), dtype=np.int64)
    rows = []
    for offset in itertools.product(range(-reach, reach + 1), repeat=n_features):
        gaps = [max(abs(o) - 1, 0) for o in offset]
        if math.isinf(p):
            keep = max(gaps) <= 1
        else:
            keep = sum(g**p for g in gaps) <= n_features * (1 + 1e-8)
        if keep:
            rows.append(offset)
    return np.array(rows, dtype=np.int64).reshape(-1, n_features)


def build_grid(X: np.ndarray, eps: float, p: float) -> Grid | None:
    """Sort the rows of ``X`` into cells for radius ``eps`` in the Minkowski-``p`` metric.

    Returns None when a grid does not fit: too many neighbour cells
    (see ``MAX_OFFSETS``) or a key space beyond int64 (eps tiny against the
    spread of the data). ``X`` is (n, d) float32/float64 and is not modified.
    """
    n_samples, n_features = X.shape
    offsets = neighbour_offsets(n_features, p)
    if offsets.shape[0] == 0 or offsets.shape[0] > MAX_OFFSETS:
        return None
    side = cell_side(eps, n_features, p)
    if n_samples < SMALL_ROWS:
        origin = np.array([X[:, j].min() for j in range(n_features)], dtype=np.float64)
        top = np.array([X[:, j].max() for j in range(n_features)], dtype=np.float64)
    else:
        origin, top = _column_ranges(X)
    spans = (top - origin) / side
    reach = int(np.abs(offsets).max())
    extents = [int(s) + 1 + 2 * reach + 1 for s in spans]
    if math.prod(extents) >= _MAX_KEYS:
        return None
    strides = np.ones(n_features, dtype=np.int64)
    for j in range(n_features - 2, -1, -1):
        strides[j] = strides[j + 1] * extents[j + 1]
    if n_samples < SMALL_ROWS:
        data, index, cell_keys, cell_start = _small_cells(X, origin, side, strides, reach)
    else:
        keys = _cell_keys(X, origin, side, strides, reach)
        index = radix_argsort(keys, math.prod(extents))
        data, cell_keys, cell_start = _gather_cells(X, keys, index)
        del keys
    gaps = np.maximum(np.abs(offsets) - 1, 0)
    nearness = np.lexsort(((offsets**2).sum(axis=1), (gaps**2).sum(axis=1)))
    linear_offsets = np.ascontiguousarray((offsets @ strides)[nearness])
    near = np.sort(offsets[np.abs(offsets).max(axis=1) <= 1] @ strides)
    table = _hash_table(cell_keys, np.full(_table_size(cell_keys.shape[0]), -1, np.int64))
    return Grid(data, index, cell_keys, cell_start, linear_offsets, near, side, table)


def _small_cells(X, origin, side, strides, pad):
    """:func:`build_grid`'s cell sort in numpy, for fewer than ``SMALL_ROWS`` rows:
    ``(data, index, cell_keys, cell_start)``, the same as the kernels' (same keys, a
    stable sort)."""
    keys = np.zeros(X.shape[0], dtype=np.int64)
    for j in range(X.shape[1]):
        coordinate = np.floor((X[:, j].astype(np.float64) - origin[j]) / side)
        keys += (coordinate.astype(np.int64) + pad) * strides[j]
    index = np.argsort(keys, kind="stable")
    sorted_keys = keys[index]
    cell_start = np.flatnonzero(np.diff(sorted_keys, prepend=-1, append=-1)).astype(np.int64)
    return np.take(X, index, axis=0), index, sorted_keys[cell_start[:-1]], cell_start


@kernel
def _cell_keys(X, origin, side, strides, pad):
    """Linear cell key (int64) of every row of ``X`` (n, d), coordinates padded by ``pad``."""
    n_samples, n_features = X.shape
    keys = np.empty(n_samples, dtype=np.int64)
    for i in range(n_samples):
        key = 0
        for j in range(n_features):
            coordinate = int(math.floor((np.float64(X[i, j]) - origin[j]) / side)) + pad
            key += coordinate * strides[j]
        keys[i] = key
    return keys


@kernel
def _column_ranges(X):
    """Column minima and maxima (float64) in one pass."""
    n_samples, n_features = X.shape
    low = np.full(n_features, np.inf)
    high = np.full(n_features, -np.inf)
    for i in range(n_samples):
        for j in range(n_features):
            value = np.float64(X[i, j])
            if value < low[j]:
                low[j] = value
            if value > high[j]:
                high[j] = value
    return low, high


@kernel
def radix_argsort(keys, key_bound):
    """Stable argsort (int64) of non-negative int64 ``keys`` below ``key_bound``.

    Least-significant-digit radix sort with 16-bit digits: as many passes as
    ``key_bound`` needs digits (one or two for typical grids), each O(n).
    """
    n = keys.shape[0]
    order = np.arange(n)
    scratch = np.empty(n, dtype=np.int64)
    counts = np.empty(65537, dtype=np.int64)
    shift = 0
    while (key_bound - 1) >> shift > 0 or shift == 0:
        counts[:] = 0
        for i in range(n):
            counts[((keys[i] >> shift) & 0xFFFF) + 1] += 1
        for d in range(65536):
            counts[d + 1] += counts[d]
        for t in range(n):
            i = order[t]
            digit = (keys[i] >> shift) & 0xFFFF
            scratch[counts[digit]] = i
            counts[digit] += 1
        order, scratch = scratch, order
        shift += 16
        if shift >= 63:
            break
    return order


@kernel
def _gather_cells(X, keys, index):
    """Points in cell order, the occupied keys and each cell's start (with n at the end)."""
    n_samples, n_features = X.shape
    data = np.empty_like(X)
    n_cells = 0
    for t in range(n_samples):
        i = index[t]
        for j in range(n_features):
            data[t, j] = X[i, j]
        if t == 0 or keys[i] != keys[index[t - 1]]:
            n_cells += 1
    cell_keys = np.empty(n_cells, dtype=np.int64)
    cell_start = np.empty(n_cells + 1, dtype=np.int64)
    cell = 0
    for t in range(n_samples):
        key = keys[index[t]]
        if t == 0 or key != keys[index[t - 1]]:
            cell_keys[cell] = key
            cell_start[cell] = t
            cell += 1
    cell_start[n_cells] = n_samples
    return data, cell_keys, cell_start


def _table_size(n_cells):
    """Slots of the hash table: a power of two, at most half full."""
    size = 1
    while size < 2 * n_cells:
        size *= 2
    return size


@kernel
def _hash_table(cell_keys, table):
    """Fill the open-addressing ``table`` (int64, all -1, power-of-two size) with cell ids."""
    mask = table.shape[0] - 1
    for cell in range(cell_keys.shape[0]):
        slot = ((cell_keys[cell] * _HASH) >> 20) & mask  # Fibonacci hashing
        while table[slot] >= 0:
            slot = (slot + 1) & mask
        table[slot] = cell
    return table


@kernel
def lookup_cell(table, cell_keys, key):
    """Cell id of ``key`` through the hash table, or -1 if the cell is not occupied."""
    mask = table.shape[0] - 1
    slot = ((key * _HASH) >> 20) & mask  # as in _hash_table
    while True:
        cell = table[slot]
        if cell < 0:
            return -1
        if cell_keys[cell] == key:
            return cell
        slot = (slot + 1) & mask


@kernel
def find_cell(cell_keys, key):
    """Cell id of ``key`` in the ascending ``cell_keys`` (int64), or -1 if not occupied."""
    lo = 0
    hi = cell_keys.shape[0]
    while lo < hi:
        mid = (lo + hi) >> 1
        if cell_keys[mid] < key:
            lo = mid + 1
        else:
            hi = mid
    if lo < cell_keys.shape[0] and cell_keys[lo] == key:
        return lo
    return -1
