"""Space cut into cells of similar counts (by sampled quantiles), and eps-halos of boxes.

The cells are the leaves of a k-d split tree built on a sample: each node
splits its sample at the quantile that gives its two halves their share of
the leaves, along the dimension where the sample spreads most. A point
belongs to the leaf whose box ``lo <= x < hi`` holds it; a dense blob is cut
like anything else, so no cell gets much more than its share (only exactly
repeated values cannot be cut).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

# Halo tests use eps enlarged by this relative slack: a halo that is slightly
# too large costs a few points, one that is too small would lose neighbours.
HALO_SLACK = 1e-9


class Cells(NamedTuple):
    """The split tree and its leaves' boxes.

    dim, value, left, right : (n_nodes,) arrays; a leaf has ``dim == -1`` and
        its leaf number in ``left``.
    lo, hi : (n_leaves, d) float64 boxes (infinite at the outside).
    """

    dim: np.ndarray
    value: np.ndarray
    left: np.ndarray
    right: np.ndarray
    lo: np.ndarray
    hi: np.ndarray

    @property
    def n_cells(self) -> int:
        return self.lo.shape[0]


def build_cells(sample: np.ndarray, n_cells: int) -> Cells:
    """Split the sample's space into up to ``n_cells`` leaves of similar sample counts."""
    d = sample.shape[1]
    dim, value, left, right, lo, hi = [], [], [], [], [], []

    def node(points, parts, box_lo, box_hi):
        index = len(dim)
        dim.append(-1)
        value.append(0.0)
        left.append(-1)
        right.append(-1)
        if parts > 1 and points.shape[0] > 1:
            spread = points.max(axis=0) - points.min(axis=0)
            f = int(np.argmax(spread))
            n_left = parts // 2
            cut = float(np.quantile(points[:, f], n_left / parts))
            below = points[:, f] < cut
            if spread[f] > 0 and 0 < below.sum() < points.shape[0]:
                dim[index], value[index] = f, cut
                left_hi, right_lo = box_hi.copy(), box_lo.copy()
                left_hi[f] = cut
                right_lo[f] = cut
                left[index] = node(points[below], n_left, box_lo, left_hi)
                right[index] = node(points[~below], parts - n_left, right_lo, box_hi)
                return index
        left[index] = len(lo)
        lo.append(box_lo)
        hi.append(box_hi)
        return index

    node(np.asarray(sample, dtype=np.float64), max(1, int(n_cells)),
         np.full(d, -np.inf), np.full(d, np.inf))
    return Cells(np.array(dim), np.array(value), np.array(left), np.array(right),
                 np.array(lo).reshape(-1, d), np.array(hi).reshape(-1, d))


def owners(cells: Cells, points: np.ndarray) -> np.ndarray:
    """(m,) int64: the leaf holding each point."""
    at = np.zeros(points.shape[0], dtype=np.int64)
    while True:
        dims = cells.dim[at]
        inner = dims >= 0
        if not inner.any():
            return cells.left[at]
        rows = np.flatnonzero(inner)
        go_left = points[rows, dims[rows]] < cells.value[at[rows]]
        at[rows] = np.where(go_left, cells.left[at[rows]], cells.right[at[rows]])


def box_distance(points: np.ndarray, lo: np.ndarray, hi: np.ndarray, p: float) -> np.ndarray:
    """(m,) Minkowski-p distance from each point to the box [lo, hi] (0 inside)."""
    gap = np.maximum(np.maximum(lo - points, points - hi), 0.0)
    if p == np.inf:
        return gap.max(axis=1)
    if p == 1.0:
        return gap.sum(axis=1)
    if p == 2.0:
        return np.sqrt(np.einsum("ij,ij->i", gap, gap))
    return (gap**p).sum(axis=1) ** (1.0 / p)


def near_border(points: np.ndarray, lo: np.ndarray, hi: np.ndarray, eps: float) -> np.ndarray:
    """(m,) bool: points of a box within eps of its outside along some coordinate.

    Any point of another box within eps (in any Minkowski metric) of a point
    of this box differs from it by at most eps in every coordinate, so only
    these points can be another cell's neighbours.
    """
    reach = eps * (1.0 + HALO_SLACK)
    return ((points - lo <= reach) | (hi - points <= reach)).any(axis=1)


def neighbour_cells(cells: Cells, eps: float, p: float) -> list[np.ndarray]:
    """For every cell, the other cells whose boxes come within eps of it."""
    reach = eps * (1.0 + HALO_SLACK)
    out = []
    for c in range(cells.n_cells):
        gap = np.maximum(np.maximum(cells.lo[c] - cells.hi, cells.lo - cells.hi[c]), 0.0)
        gap = np.where(np.isfinite(gap), gap, np.inf)
        if p == np.inf:
            dist = gap.max(axis=1)
        else:
            dist = np.power(np.power(gap, p).sum(axis=1), 1.0 / p)
        near = np.flatnonzero(dist <= reach)
        out.append(near[near != c])
    return out
