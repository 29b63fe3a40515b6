"""DBSCAN on the uniform grid (:mod:`clustra._kernels.grid`): core points, cell
components, border points. The plan shared by every index is in
:mod:`clustra._kernels.dbscan`.

Every kernel takes the :class:`clustra._kernels.grid.Grid` named tuple whole;
arrays indexed by point are in grid order (``grid.index`` maps back to rows).
"""

from __future__ import annotations

import numpy as np
from numba import prange

from clustra._kernels.blocks import run_blocks
from clustra._kernels.distances import closer, rdist
from clustra._kernels.grid import SMALL_ROWS, lookup_cell
from clustra._kernels.jit import kernel
from clustra._kernels.unionfind import find, union

CELL_BLOCK = 1024
_NO_ROW = np.iinfo(np.int64).max  # above every row: the first core point found wins


def _run(serial, parallel, grid, *args):
    """``serial(grid, *args, begin, end)`` on the thread pool below ``SMALL_ROWS``
    rows, else the parfor ``parallel(grid, *args)``.

    numba marks a parfor body's arrays noalias, which the block loops need to
    run at full speed (benchmarks/results/coldstart.md); small inputs, a first
    call among them, keep the serial kernel's shorter compile.
    """
    n_blocks = (grid.cell_keys.shape[0] + CELL_BLOCK - 1) // CELL_BLOCK
    if grid.data.shape[0] < SMALL_ROWS:
        run_blocks(serial, n_blocks, grid, *args)
    else:
        parallel(grid, *args)


def grid_core_points(grid, cum_weight, rradius, min_samples, code, p):
    """Core flags (n,) bool in grid order.

    ``cum_weight`` (n + 1,) float64: prefix sums of the weights in grid order.
    A cell whose own weight reaches ``min_samples`` makes all its points core
    without a distance computed; otherwise neighbour cells are looked up
    lazily, nearest first, so that the count usually stops after a few cells.
    Blocks of ``CELL_BLOCK`` cells run on several threads (:func:`_run`).
    """
    core = np.zeros(grid.data.shape[0], dtype=np.bool_)
    _run(_core_blocks, _core_parfor, grid, cum_weight, rradius, min_samples, code, p, core)
    return core


@kernel(inline="always")
def _core_block(grid, cum_weight, rradius, min_samples, code, p, core, block):
    """Block ``block`` of :func:`grid_core_points` into ``core``."""
    data = grid.data
    cell_start = grid.cell_start
    n_offsets = grid.offsets.shape[0]
    n_cells = grid.cell_keys.shape[0]
    neighbours = np.empty(n_offsets, dtype=np.int64)
    for cell in range(block * CELL_BLOCK, min(n_cells, (block + 1) * CELL_BLOCK)):
        start = cell_start[cell]
        end = cell_start[cell + 1]
        own = cum_weight[end] - cum_weight[start]
        if own >= min_samples:
            core[start:end] = True
            continue
        key = grid.cell_keys[cell]
        n_known = 0  # neighbours[:n_known] hold the looked-up cells (-1: empty)
        for i in range(start, end):
            total = own
            for t in range(1, n_offsets):
                if total >= min_samples:
                    break
                if t > n_known:
                    neighbours[t] = lookup_cell(grid.table, grid.cell_keys,
                                                key + grid.offsets[t])
                    n_known = t
                other = neighbours[t]
                if other < 0:
                    continue
                for k in range(cell_start[other], cell_start[other + 1]):
                    if rdist(data[i], data[k], code, p) <= rradius:
                        total += cum_weight[k + 1] - cum_weight[k]
            core[i] = total >= min_samples
    return 0


@kernel
def _core_blocks(grid, cum_weight, rradius, min_samples, code, p, core, begin, end):
    """Blocks [begin, end) of :func:`grid_core_points`, serially."""
    for block in range(begin, end):
        _core_block(grid, cum_weight, rradius, min_samples, code, p, core, block)
    return 0


@kernel(parallel=True)
def _core_parfor(grid, cum_weight, rradius, min_samples, code, p, core):
    """All blocks of :func:`grid_core_points`, as a parfor."""
    for block in prange((grid.cell_keys.shape[0] + CELL_BLOCK - 1) // CELL_BLOCK):
        _core_block(grid, cum_weight, rradius, min_samples, code, p, core, block)


def grid_cell_components(grid, core, rradius, code, p):
    """Union-find over cells holding core points; returns cell roots (n_cells,) int64.

    Cells without a core point get -1. Two passes: first the adjacent cells
    (``grid.near_offsets``), then the farther ones, which are mostly joined by
    then. A pair of cells already in one component is never tested, so this
    stays cheap and runs serially (no thread start-up cost, trivially
    deterministic).
    """
    has_core = np.logical_or.reduceat(core, grid.cell_start[:-1])
    offsets = grid.offsets
    near = grid.near_offsets
    near_forward = np.ascontiguousarray(near[near > 0])
    far_forward = np.ascontiguousarray(offsets[(offsets > 0) & ~np.isin(offsets, near)])
    parent = np.arange(grid.cell_keys.shape[0], dtype=np.int64)  # union-find: all apart
    return _cell_components(grid, core, has_core, near_forward, far_forward, parent, rradius,
                            code, p)


@kernel
def _cell_components(grid, core, has_core, near_forward, far_forward, parent, rradius,
                     code, p):
    """The loops of :func:`grid_cell_components`; ``has_core`` (n_cells,) bool, the
    forward offsets (int64) of the adjacent and of the farther cells, ``parent`` the
    union-find array (int64 (n_cells,), every cell its own set)."""
    data = grid.data
    cell_start = grid.cell_start
    n_cells = grid.cell_keys.shape[0]
    for phase in range(2):
        forward = near_forward if phase == 0 else far_forward
        for cell in range(n_cells):
            if not has_core[cell]:
                continue
            for o in range(forward.shape[0]):
                other = lookup_cell(grid.table, grid.cell_keys, grid.cell_keys[cell] + forward[o])
                if other < 0 or not has_core[other]:
                    continue
                if find(parent, cell) == find(parent, other):
                    continue
                # Linked if some core point of one cell is within the radius of one of
                # the other (written out here: one kernel less for a first call to compile).
                linked = False
                for i in range(cell_start[cell], cell_start[cell + 1]):
                    if core[i]:
                        for k in range(cell_start[other], cell_start[other + 1]):
                            if core[k] and rdist(data[i], data[k], code, p) <= rradius:
                                linked = True
                                break
                    if linked:
                        union(parent, cell, other)
                        break
    # dbscan.sparse_components lists its core points' roots with this same loop; as a
    # shared njit helper it measured slower (benchmarks/results/shared-helpers.md).
    roots = np.empty(n_cells, dtype=np.int64)
    for cell in range(n_cells):
        roots[cell] = find(parent, cell) if has_core[cell] else -1
    return roots


def grid_nearest_core(grid, core, rradius, code, p):
    """For every non-core point, the grid position of its nearest core point within eps.

    Returns (n,) int64 in grid order: -1 for core points and for noise. Ties go
    to the lowest original row (``grid.index``).
    """
    nearest = np.full(grid.data.shape[0], -1, dtype=np.int64)
    _run(_nearest_core_blocks, _nearest_core_parfor, grid, core, rradius, code, p, nearest)
    return nearest


@kernel(inline="always")
def _nearest_core_block(grid, core, rradius, code, p, nearest, block):
    """Block ``block`` of :func:`grid_nearest_core` into ``nearest``."""
    data = grid.data
    index = grid.index
    cell_start = grid.cell_start
    n_cells = grid.cell_keys.shape[0]
    neighbours = np.empty(grid.offsets.shape[0], dtype=np.int64)
    for cell in range(block * CELL_BLOCK, min(n_cells, (block + 1) * CELL_BLOCK)):
        n_neighbours = -1
        for i in range(cell_start[cell], cell_start[cell + 1]):
            if core[i]:
                continue
            if n_neighbours < 0:  # the occupied neighbour cells, nearest first
                n_neighbours = 0
                for o in range(grid.offsets.shape[0]):
                    other = lookup_cell(grid.table, grid.cell_keys,
                                        grid.cell_keys[cell] + grid.offsets[o])
                    if other >= 0:
                        neighbours[n_neighbours] = other
                        n_neighbours += 1
            best_value = rradius
            best_row = _NO_ROW
            best = -1
            for t in range(n_neighbours):
                other = neighbours[t]
                for k in range(cell_start[other], cell_start[other + 1]):
                    if not core[k]:
                        continue
                    value = rdist(data[i], data[k], code, p)
                    if value <= rradius and closer(value, index[k], best_value, best_row):
                        best_value = value
                        best_row = index[k]
                        best = k
            nearest[i] = best
    return 0


@kernel
def _nearest_core_blocks(grid, core, rradius, code, p, nearest, begin, end):
    """Blocks [begin, end) of :func:`grid_nearest_core`, serially."""
    for block in range(begin, end):
        _nearest_core_block(grid, core, rradius, code, p, nearest, block)
    return 0


@kernel(parallel=True)
def _nearest_core_parfor(grid, core, rradius, code, p, nearest):
    """All blocks of :func:`grid_nearest_core`, as a parfor."""
    for block in prange((grid.cell_keys.shape[0] + CELL_BLOCK - 1) // CELL_BLOCK):
        _nearest_core_block(grid, core, rradius, code, p, nearest, block)
