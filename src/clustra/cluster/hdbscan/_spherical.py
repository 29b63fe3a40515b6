"""Cosine and haversine on the Euclidean engine, through monotone maps of distances.

Cosine distance between unit-normalised rows is ``||a - b||^2 / 2`` and the
great-circle distance (radians, unit sphere) between two points is
``2 arcsin(chord / 2)`` with ``chord`` the Euclidean distance between their
3-D unit vectors. Both maps are increasing, so the mutual reachability tree of
either metric is the Euclidean tree of the embedded rows with every distance
(edges and core distances) mapped afterwards.
"""

from __future__ import annotations

import numpy as np

SPHERICAL_METRICS = ("cosine", "haversine")


def embed(X: np.ndarray, metric: str, name: str = "HDBSCAN") -> np.ndarray:
    """The rows the Euclidean engine sees: unit rows (cosine) or 3-D unit vectors (haversine).

    ``X``: finite float64 (n, d). Raises a ValueError on rows the metric cannot take.
    """
    if metric == "cosine":
        norm = np.sqrt(np.einsum("ij,ij->i", X, X))
        zero = np.flatnonzero(norm == 0)
        if zero.size:
            raise ValueError(f"{name}: cosine distance is undefined for rows of norm zero "
                             f"(rows {zero[:5].tolist()}{'...' if zero.size > 5 else ''}); "
                             "drop them or give them a direction before fitting.")
        return X / norm[:, None]
    if X.shape[1] != 2:
        raise ValueError(f"{name}: metric='haversine' needs 2 columns (latitude, longitude "
                         f"in radians); got {X.shape[1]}.")
    lat, lon = X[:, 0], X[:, 1]
    if X.shape[0] and np.abs(lat).max() > np.pi / 2:
        raise ValueError(f"{name}: metric='haversine' needs latitudes (column 0) in "
                         f"[-pi/2, pi/2] radians; got up to {np.abs(lat).max()!r} (convert "
                         "degrees with np.radians).")
    cos_lat = np.cos(lat)
    return np.column_stack([cos_lat * np.cos(lon), cos_lat * np.sin(lon), np.sin(lat)])


def to_metric(distance, metric: str):
    """Map Euclidean distances between embedded rows to the metric's distances."""
    distance = np.asarray(distance, dtype=np.float64)
    if metric == "cosine":
        return distance * distance / 2.0
    return 2.0 * np.arcsin(np.minimum(distance / 2.0, 1.0))


def engine_alpha(alpha: float, metric: str, name: str = "HDBSCAN") -> float:
    """The Euclidean ``alpha`` whose tree, mapped, is the metric's tree with ``alpha``."""
    if metric == "cosine":
        # (d^2 / 2) / alpha == (d / sqrt(alpha))^2 / 2.
        return float(np.sqrt(alpha))
    if alpha != 1.0:
        raise ValueError(f"{name}: alpha={alpha!r} cannot be used with metric='haversine' "
                         "(the great-circle map does not commute with dividing distances, "
                         "so the exact tree is not available); use alpha=1.0.")
    return 1.0


def pair_distances(A: np.ndarray, B: np.ndarray, metric: str, p: float) -> np.ndarray:
    """Distances between the rows of ``A`` and ``B`` in the fitted metric's units."""
    from scipy.spatial.distance import cdist

    if metric in SPHERICAL_METRICS:
        return to_metric(cdist(embed(A, metric), embed(B, metric)), metric)
    params = {"p": p} if metric == "minkowski" else {}
    return cdist(A, B, metric={"manhattan": "cityblock"}.get(metric, metric), **params)
