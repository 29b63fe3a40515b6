"""Hamerly's bounds: the state the exact Hamerly pass keeps per row and per centre,
and the tests that prove a row's label without rescoring it.

Each row keeps an upper bound on the distance to its centre and a lower bound
on the distance to every other centre, both float32 and rounded outward
(:func:`up`, :func:`down`); see :func:`clustra._kernels.kmeans_hamerly.hamerly_pass`.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

from clustra._kernels.jit import inner, kernel
from clustra._kernels.kmeans_data import sq_distance

FLOAT32_MAX = float(np.finfo(np.float32).max)

Centres = namedtuple("Centres", ["centers", "neg_half_norms", "half_separation"])
Centres.__doc__ = """The centres of one pass: ``centers`` (k, d) and ``neg_half_norms``
(k,) in X's dtype, ``half_separation`` (k,) float64 (see :func:`half_separation`)."""

RowBounds = namedtuple("RowBounds", ["labels", "upper", "lower", "x_sq_norms"])
RowBounds.__doc__ = """What Hamerly keeps per row: ``labels`` (n,) int32, the bounds
``upper`` and ``lower`` (n,) float32, and the rows' squared norms ``x_sq_norms`` (n,)
float64."""

HamerlySettings = namedtuple("HamerlySettings", ["margin_scale", "blas", "tighten", "span_chunks"])
HamerlySettings.__doc__ = """The choices fixed for a whole fit: the relative rounding
margin of the bound test, BLAS products, tightening before rescoring, and the
chunks per task (see :func:`clustra._kernels.kmeans_hamerly.hamerly_pass`)."""

Screen = namedtuple("Screen", ["X32", "centers32", "neg_half_norms32", "err"])
Screen.__doc__ = """The float32 screen of float64 rows: X, the centres and their
constants rounded to float32, and ``err``, a bound on the difference between a
float32 score and the exact score. ``err == 0`` means no screen (the arrays are
then empty and never read)."""

PassPlan = namedtuple(
    "PassPlan",
    ["first", "every_row", "top", "top_shift", "second_shift", "max_center_sq", "movers",
     "residual", "per_label"],
)
PassPlan.__doc__ = """What one pass derives from the centre shifts before it starts
(see :func:`clustra._kernels.kmeans_hamerly.hamerly_pass` for ``first`` and
``every_row``; :func:`shift_extremes`, :func:`far_movers` and :func:`move_bounds`
for the rest)."""


@inner
def shift_extremes(shift):
    """Index of the largest shift, the largest and the second largest."""
    top, top_shift, second_shift = 0, -1.0, 0.0
    for j in range(shift.shape[0]):
        if shift[j] > top_shift:
            second_shift = max(top_shift, 0.0)
            top_shift = shift[j]
            top = j
        elif shift[j] > second_shift:
            second_shift = shift[j]
    return top, top_shift, second_shift


@kernel
def far_movers(shift, top_shift):
    """The few centres that moved far more than the rest, and the rest's largest shift.

    Up to 4 centres (at most k / 8), and only when every other centre moved
    less than a quarter of the largest shift; otherwise an empty array (the
    plain Hamerly test is used). Measuring 4 distances costs little next to
    rescoring a row against every centre.
    """
    n_movers = min(shift.shape[0] // 8, 4)
    # The n_movers + 1 largest shifts, by repeated selection (k is small).
    order = np.empty(n_movers + 1, dtype=np.int64)
    taken = np.zeros(shift.shape[0], dtype=np.bool_)
    for q in range(n_movers + 1):
        best = -1
        for j in range(shift.shape[0]):
            if not taken[j] and (best < 0 or shift[j] > shift[best]):
                best = j
        order[q] = best
        taken[best] = True
    residual = shift[order[n_movers]]
    if n_movers == 0 or not residual < 0.25 * top_shift:
        return order[:0], top_shift
    return order[:n_movers], residual


@kernel
def up(value):
    """``value`` (>= 0) to store as a float32 upper bound: never below it once stored.

    Raised by 2^-21 of itself (and 2^-148, for values near float32's
    subnormal range) before the conversion, which then rounds to nearest:
    a rounding error of at most 2^-24 of the value (or 2^-150) cannot undo
    that; beyond float32's range it becomes infinite.
    """
    return value * (1.0 + 2.0**-21) + 2.0**-148


@kernel
def down(value):
    """``value`` to store as a float32 lower bound: never above it (see :func:`up`).

    A finite value beyond float32's range is stored as the largest float32
    (the conversion would make it infinite: more than the value).
    """
    if value == np.inf:
        return value
    return min(value - (abs(value) * 2.0**-21 + 2.0**-148), FLOAT32_MAX)


@inner
def set_bounds(bounds, rows, n_rows, best_score, second_score, err, scratch):
    """Set the bounds of ``rows[:n_rows]`` from their best and runner-up scores, widened by err.

    ``upper = sqrt(||x||^2 - 2 best + 2 err)``, ``lower = sqrt(||x||^2 - 2
    second - 2 err)`` (infinite with one centre: the runner-up score stays
    -inf). The square roots are taken in a loop over a tile's slots, which
    vectorises; only the norms' gather and the bounds' scatter are per row.
    ``bounds`` is a :class:`RowBounds`, ``scratch`` a (3, TILE) float64 buffer.
    """
    norms, high, low = scratch[0], scratch[1], scratch[2]
    x_sq_norms, upper, lower = bounds.x_sq_norms, bounds.upper, bounds.lower
    for r in range(n_rows):
        norms[r] = x_sq_norms[rows[r]]
    for r in range(n_rows):
        high[r] = math.sqrt(max(norms[r] - 2.0 * np.float64(best_score[r]) + 2.0 * err, 0.0))
        low[r] = math.sqrt(max(norms[r] - 2.0 * np.float64(second_score[r]) - 2.0 * err, 0.0))
    for r in range(n_rows):
        i = rows[r]
        upper[i] = up(high[r])
        lower[i] = down(low[r])


@inner
def move_bounds(bounds, plan, start, n_rows, margin_scale, taken):
    """Move the bounds of rows ``start .. start + n_rows`` (at most 64) by the centre shifts.

    ``plan.per_label[j]`` holds, for rows of cluster j: how far their upper
    bound grows (centre j's shift), how far their lower bound drops (the
    largest shift of another centre) and half the distance from centre j to
    its nearest other centre. Returns a bit mask of the rows whose bounds no
    longer prove their label (bit r: row ``start + r``). The test has a
    rounding margin, see ``kmeans_hamerly.hamerly_pass``. The per-label values
    are taken first (into ``taken``, a (3, 64) float64 buffer), so that the
    test itself is a loop with no indexed loads, which vectorises; building a
    mask rather than a list keeps it free of a serial dependency from row to row.
    """
    per_label, max_center_sq = plan.per_label, plan.max_center_sq
    labels_here = bounds.labels[start:start + n_rows]
    upper_here = bounds.upper[start:start + n_rows]
    lower_here = bounds.lower[start:start + n_rows]
    norms_here = bounds.x_sq_norms[start:start + n_rows]
    grow, drop, half_gap = taken[0], taken[1], taken[2]
    for r in range(n_rows):
        label = labels_here[r]
        grow[r] = per_label[label, 0]
        drop[r] = per_label[label, 1]
        half_gap[r] = per_label[label, 2]
    unproved = np.uint64(0)
    for r in range(n_rows):
        u = upper_here[r] + grow[r]
        low = lower_here[r] - drop[r]
        upper_here[r] = up(u)
        lower_here[r] = down(low)
        m = max(low, half_gap[r])
        margin = margin_scale * (norms_here[r] + max_center_sq)
        proved = (m > u) & ((m - u) * (m + u) > margin)
        unproved |= np.uint64(not proved) << np.uint64(r)
    return unproved


@inner
def tightened(X, i, centres, bounds, plan, margin_scale):
    """Set row i's upper bound to its exact distance; whether the bounds then prove its label.

    When a few centres moved far (``plan.movers``, see :func:`far_movers`),
    the distances to them are measured too: the others moved at most
    ``plan.residual``, so the lower bound before this pass, less that, still
    holds for those.
    """
    centers, half_separation = centres.centers, centres.half_separation
    upper, lower = bounds.upper, bounds.lower
    label = np.int64(bounds.labels[i])  # (int64, as sq_distance's other callers pass)
    # (float64 both: a float32 and a float64 argument compile max once more.)
    m = max(np.float64(lower[i]), half_separation[label])
    margin = margin_scale * (bounds.x_sq_norms[i] + plan.max_center_sq)
    u = math.sqrt(sq_distance(X, i, centers, label))
    upper[i] = up(u)
    if m > u and (m - u) * (m + u) > margin:
        return True
    movers = plan.movers
    if movers.shape[0] == 0:
        return False
    moved_by = plan.second_shift if label == plan.top else plan.top_shift
    low = lower[i] + (moved_by - plan.residual)
    for q in range(movers.shape[0]):
        j = movers[q]
        if j != label:
            low = min(low, math.sqrt(sq_distance(X, i, centers, j)))
    lower[i] = down(low)
    m = max(low, half_separation[label])
    return m > u and (m - u) * (m + u) > margin


@kernel
def pass_plan(shift, half_separation, neg_half_norms, first, every_row):
    """The :class:`PassPlan` of one pass from the centre shifts (k,) float64.

    Called from Python: numba's parallel lowering cannot name a named tuple
    made inside the parallel kernel itself.
    """
    n_clusters = shift.shape[0]
    max_center_sq = 0.0
    for j in range(n_clusters):
        max_center_sq = max(max_center_sq, -2.0 * np.float64(neg_half_norms[j]))
    top, top_shift, second_shift = shift_extremes(shift)
    movers, residual = far_movers(shift, top_shift)
    per_label = np.empty((n_clusters, 3))  # see move_bounds
    for j in range(n_clusters):
        per_label[j, 0] = shift[j]
        per_label[j, 1] = second_shift if j == top else top_shift
        per_label[j, 2] = half_separation[j]
    return PassPlan(first, every_row, top, top_shift, second_shift, max_center_sq, movers,
                    residual, per_label)


@inner
def _smallest(values):
    """``values.min()`` (NaN if any is NaN) as a loop: numba's ``min`` method compiles
    several helpers of its own."""
    smallest = values[0]
    has_nan = smallest != smallest
    for b in range(1, values.shape[0]):
        value = values[b]
        has_nan |= value != value
        smallest = value if value < smallest else smallest
    return np.nan if has_nan else smallest


@kernel
def half_separation(centers):
    """(k,) float64: half the distance from each centre to its nearest other centre.

    For one centre at a time, the squared distances to all the others are
    accumulated a feature at a time across the centres (a vectorised loop,
    rather than a loop over pairs).
    """
    n_clusters, n_features = centers.shape
    by_feature = np.empty((n_features, n_clusters))
    for j in range(n_clusters):
        for f in range(n_features):
            by_feature[f, j] = centers[j, f]
    sq = np.empty(n_clusters)
    out = np.empty(n_clusters)
    for a in range(n_clusters):
        sq[:] = 0.0
        for f in range(n_features):
            row = by_feature[f]
            value = row[a]
            for b in range(n_clusters):
                diff = row[b] - value
                sq[b] += diff * diff
        sq[a] = np.inf
        out[a] = 0.5 * math.sqrt(_smallest(sq))
    return out
