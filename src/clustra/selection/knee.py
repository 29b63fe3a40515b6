"""The one knee finder: Kneedle (Satopää, Albrecht, Irwin and Raghavan, 2011).

Used for the elbow of an inertia curve (``choose_k``) and for the knee of a
sorted k-distance curve (``suggest_eps``). "No knee" is an answer, returned as
``Knee(found=False, ...)`` with the reason, never a warning.

The method, in short: scale both axes to [0, 1]; take the difference between
the curve and the straight line joining its ends (oriented so that the bend
we look for is a maximum); every local maximum of that difference is a
candidate, confirmed when the difference then falls by more than
``sensitivity`` times the mean step in x before the next candidate. Among the
confirmed candidates the most prominent (largest difference) is the knee.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_CURVES = ("convex", "concave")
_DIRECTIONS = ("increasing", "decreasing")


@dataclass(frozen=True)
class Knee:
    """Where a curve bends most.

    Attributes
    ----------
    found : bool
        Whether a knee was confirmed.
    index : int or None
        Position of the knee in the input arrays.
    x, y : float or None
        The knee's coordinates.
    reason : str
        One sentence: where the knee is, or why there is none.
    """

    found: bool
    index: int | None
    x: float | None
    y: float | None
    reason: str


def _as_curve(x, y) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 1 or y.ndim != 1 or x.shape != y.shape:
        raise ValueError(
            f"x and y must be 1-D arrays of the same length, got shapes {x.shape} and {y.shape}."
        )
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError(
            "x and y must be finite: the curve contains NaN or inf; drop those points first."
        )
    if x.shape[0] >= 2 and not np.all(np.diff(x) > 0):
        raise ValueError("x must be strictly increasing; sort the curve by x first.")
    return x, y


def difference_curve(x, y, *, curve: str = "convex", direction: str = "increasing") -> np.ndarray:
    """Kneedle's difference curve, in input order: larger means further bent.

    Both axes are scaled to [0, 1]; the result is the gap between the scaled
    curve and the chord through its ends, signed so the sought bend is positive.
    """
    if curve not in _CURVES:
        raise ValueError(f"curve must be one of {_CURVES}, got {curve!r}.")
    if direction not in _DIRECTIONS:
        raise ValueError(f"direction must be one of {_DIRECTIONS}, got {direction!r}.")
    x, y = _as_curve(x, y)
    x_scaled = (x - x[0]) / (x[-1] - x[0])
    y_span = y.max() - y.min()
    y_scaled = (y - y.min()) / y_span if y_span > 0 else np.zeros_like(y)
    if direction == "decreasing":
        x_scaled = 1.0 - x_scaled
    if curve == "concave":
        return y_scaled - x_scaled
    return x_scaled - y_scaled


def find_knee(
    x,
    y,
    *,
    curve: str = "convex",
    direction: str = "increasing",
    sensitivity: float = 1.0,
) -> Knee:
    """Find the knee (or elbow) of a curve with Kneedle.

    Parameters
    ----------
    x : array-like of shape (n_points,)
        Strictly increasing.
    y : array-like of shape (n_points,)
    curve : {"convex", "concave"}
        Convex: the curve bends upwards (a sorted k-distance curve, an
        inertia curve). Concave: it bends downwards (a log-like gain).
    direction : {"increasing", "decreasing"}
        Whether y grows or falls with x overall.
    sensitivity : float, default=1.0
        Kneedle's S: how far, in mean x steps, the difference curve must fall
        after a candidate to confirm it. Larger is more conservative.

    Returns
    -------
    Knee
        ``found=False`` with the reason when the curve has no clear bend
        (fewer than 3 points, flat, straight, or bent the other way).

    Examples
    --------
    >>> k = np.arange(1, 9)
    >>> inertia = np.array([100.0, 40, 12, 10, 9, 8.5, 8, 7.8])
    >>> find_knee(k, inertia, curve="convex", direction="decreasing").x
    3.0
    """
    if not sensitivity >= 0:
        raise ValueError(f"sensitivity must be non-negative, got {sensitivity!r}.")
    x, y = _as_curve(x, y)
    n_points = x.shape[0]
    if n_points < 3:
        return Knee(False, None, None, None, f"a knee needs at least 3 points, got {n_points}.")
    if y.max() == y.min():
        return Knee(False, None, None, None, "the curve is flat: no point bends more than another.")
    difference = difference_curve(x, y, curve=curve, direction=direction)
    x_scaled = (x - x[0]) / (x[-1] - x[0])
    # Kneedle scans along the transformed x axis, which runs backwards for
    # decreasing curves.
    order = np.arange(n_points) if direction == "increasing" else np.arange(n_points)[::-1]
    scan = difference[order]
    step = sensitivity * float(np.mean(np.abs(np.diff(x_scaled))))

    confirmed = _confirmed_maxima(scan, step)
    if not confirmed:
        return Knee(
            False,
            None,
            None,
            None,
            f"no knee: the curve does not bend {curve} enough (largest gap to the chord "
            f"{max(scan.max(), 0.0):.3f}, needed more than {step:.3f}).",
        )
    best = max(confirmed, key=lambda position: (scan[position], -position))
    index = int(order[best])
    return Knee(
        True,
        index,
        float(x[index]),
        float(y[index]),
        f"knee at x={x[index]:.6g} (y={y[index]:.6g}), where the curve is furthest "
        f"from its chord ({scan[best]:.3f} of the scaled range).",
    )


def _confirmed_maxima(scan: np.ndarray, step: float) -> list[int]:
    """Positions of local maxima of ``scan`` confirmed by a later drop below threshold."""
    n_points = scan.shape[0]
    is_max = np.zeros(n_points, dtype=bool)
    is_max[1:-1] = (scan[1:-1] >= scan[:-2]) & (scan[1:-1] > scan[2:])
    candidates = np.flatnonzero(is_max & (scan > 0))
    confirmed = []
    for number, candidate in enumerate(candidates):
        threshold = scan[candidate] - step
        stop = candidates[number + 1] if number + 1 < len(candidates) else n_points
        if np.any(scan[candidate + 1 : stop] < threshold):
            confirmed.append(int(candidate))
    return confirmed
