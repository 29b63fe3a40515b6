"""Unimodal fits of a distribution function, and a dip-like test of unimodality.

Hartigan and Hartigan's dip (1985) is the distance from the empirical
distribution function to the nearest unimodal one; the nearest one is
convex (rising density) left of a modal interval and concave (falling
density) right of it. The fit here is built the same way but with the modal
interval chosen directly, as the shortest interval holding a given share of
the points: the greatest convex minorant of the empirical function left of
it, a straight line across it and the least concave majorant right of it.
Across a valley between two groups the majorant is a straight bridge, so the
fit's distance to the data grows with the mass missing from the valley.

:func:`dip_distance` is the smallest such distance over a few shares. It is
not Hartigan's statistic (its modal interval is not optimised), so its null
distribution is our own: simulated on uniform samples, the least favourable
unimodal shape for the dip, by ``benchmarks/dip_table.py``, which wrote
:mod:`clustra.auto._dip_table`. The work is done on at most ``KNOTS``
quantiles of the data, in the simulation as here.
"""

from __future__ import annotations

import numpy as np

# Quantiles of the data the fits are worked out on.
KNOTS = 512
# Shares of the points in the modal intervals tried by the test.
SHARES = (0.05, 0.15, 0.3)
# Adjusted p-value below which projected_dip stops looking further.
STOP = 1e-4


def _hull(x: np.ndarray, y: np.ndarray, lower: bool) -> np.ndarray:
    """Indices of the lower (convex minorant) or upper (concave majorant) hull of the
    points ``(x, y)``, ``x`` increasing; the first and last points included."""
    sign = 1.0 if lower else -1.0
    out: list[int] = []
    xs, ys = x.tolist(), y.tolist()
    for i in range(len(xs)):
        while len(out) >= 2:
            a, b = out[-2], out[-1]
            cross = (xs[b] - xs[a]) * (ys[i] - ys[a]) - (ys[b] - ys[a]) * (xs[i] - xs[a])
            if sign * cross > 0.0:
                break
            out.pop()
        out.append(i)
    return np.asarray(out, dtype=np.int64)


def quantile_knots(values: np.ndarray, knots: int = KNOTS) -> tuple[np.ndarray, np.ndarray]:
    """``(x, F)``: at most ``knots`` points of the empirical distribution function of
    ``values`` (float64 (m,)), ``x`` strictly increasing, ``F`` from 0 to 1."""
    levels = np.linspace(0.0, 1.0, min(knots, values.shape[0]))
    x = np.quantile(values, levels)
    # Equal quantiles (repeated values): one knot each, at the highest level.
    keep = np.append(np.diff(x) > 0.0, True)
    return x[keep], levels[keep]


def modal_interval(x: np.ndarray, share: float) -> tuple[int, int]:
    """``(lo, hi)``: knot indices of the shortest interval holding ``share`` of the knots."""
    width = min(max(1, int(round(share * (x.shape[0] - 1)))), x.shape[0] - 1)
    lo = int(np.argmin(x[width:] - x[:-width]))
    return lo, lo + width


def fit(x: np.ndarray, F: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Indices of the knots ``(x, F)`` that define the unimodal fit with modal interval
    ``x[lo]..x[hi]``: convex minorant left of it, concave majorant right of it."""
    left = _hull(x[: lo + 1], F[: lo + 1], lower=True)
    right = hi + _hull(x[hi:], F[hi:], lower=False)
    return np.concatenate([left, right])


def dip_distance(values: np.ndarray) -> float:
    """Smallest distance (sup norm) from the distribution function of ``values`` (float64
    (m,)) to the unimodal fits of the shares ``SHARES``; 0 for fewer than 3 distinct
    values."""
    x, F = quantile_knots(values)
    if x.shape[0] < 3:
        return 0.0
    best = np.inf
    for share in SHARES:
        index = fit(x, F, *modal_interval(x, share))
        best = min(best, float(np.abs(np.interp(x, x[index], F[index]) - F).max()))
    return best


def dip_pvalue(distance: float, n: int) -> float:
    """Probability that a uniform sample of ``n`` points has a :func:`dip_distance` at least
    ``distance`` (interpolated in the simulated table; at most its first level's, and
    extrapolated beyond its last)."""
    from clustra.auto._dip_table import LEVELS, SIZES, TABLE

    sizes = np.asarray(SIZES, dtype=np.float64)
    table = np.asarray(TABLE, dtype=np.float64)  # (sizes, levels): quantiles of sqrt(n) D
    where = float(np.clip(np.log(n), np.log(sizes[0]), np.log(sizes[-1])))
    quantiles = np.array([np.interp(where, np.log(sizes), table[:, j])
                          for j in range(table.shape[1])])
    scaled = distance * np.sqrt(n)
    tail = 1.0 - np.asarray(LEVELS, dtype=np.float64)
    if scaled <= quantiles[0]:
        return float(tail[0])
    if scaled >= quantiles[-1]:
        # Beyond the table: the tail between its last two decades, extended exponentially
        # (the null's tail falls faster than that, so the p-value errs large).
        ten = int(np.argmin(np.abs(tail - 10.0 * tail[-1])))
        decay = (quantiles[-1] - quantiles[ten]) / np.log(tail[ten] / tail[-1])
        return float(tail[-1] * np.exp(-(scaled - quantiles[-1]) / decay))
    return float(np.interp(scaled, quantiles, tail))


def neighbour_pairs(centres: np.ndarray) -> list[tuple[int, int]]:
    """The ``k - 1`` pairs of a minimum spanning tree over the rows of ``centres``
    (float64 (k, d)): each cluster with its nearest neighbours (Prim's algorithm)."""
    k = centres.shape[0]
    distance = np.sqrt(((centres[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2))
    inside = np.zeros(k, dtype=bool)
    inside[0] = True
    best, parent = distance[0].copy(), np.zeros(k, dtype=np.int64)
    pairs = []
    for _ in range(k - 1):
        j = int(np.argmin(np.where(inside, np.inf, best)))
        pairs.append((int(parent[j]), j))
        inside[j] = True
        closer = distance[j] < best
        parent[closer], best[closer] = j, distance[j][closer]
    return pairs


def projected_dip(X: np.ndarray, labels: np.ndarray) -> float:
    """Bonferroni-adjusted p-value of the most multimodal projection of all of ``X``
    (float64 (m, d)) onto the axis between two neighbouring cluster centres of
    ``labels`` (int (m,), 0..k-1, k >= 2; pairs from :func:`neighbour_pairs`).

    All rows are projected, not only the pair's: the union of two cells of a
    continuum can narrow at their boundary (a dip of its own), while every
    projection of a uniform convex body, or of one Gaussian, is unimodal. Where
    two centres coincide (concentric rings), their axis is the first principal
    axis.
    """
    k = int(labels.max()) + 1
    counts = np.bincount(labels, minlength=k)
    sums = np.zeros((k, X.shape[1]))
    np.add.at(sums, labels, X)
    centres = sums / np.maximum(counts, 1)[:, None]
    scale = float(np.abs(X - X.mean(axis=0)).max()) or 1.0
    pairs = neighbour_pairs(centres)
    tests = len(pairs) + k
    smallest = 1.0
    for a, b in pairs:
        axis = centres[b] - centres[a]
        if not np.linalg.norm(axis) > 1e-9 * scale:
            axis = np.linalg.svd(X - X.mean(axis=0), full_matrices=False)[2][0]
        smallest = min(smallest, dip_pvalue(dip_distance(X @ axis), X.shape[0]))
        if smallest * tests <= STOP:
            return smallest * tests
    for c in range(k):
        distance = np.sqrt(((X - centres[c]) ** 2).sum(axis=1))
        smallest = min(smallest, dip_pvalue(dip_distance(distance), X.shape[0]))
        if smallest * tests <= STOP:
            break
    return min(1.0, smallest * tests)
