"""Distance leaf functions, one registry for every kernel that needs a metric.

Kernels work with *reduced* distances ("rdist"): a cheaper function that orders
pairs the same way as the true distance (squared Euclidean for Euclidean,
``sum |x - y|**p`` for Minkowski, the haversine term before its arcsine). A
threshold is converted once with :func:`dist_to_rdist`, and results once at the
end with :func:`rdist_to_dist`.

Every leaf takes two 1-D float arrays of the same dtype and length and a float
``p`` (used by Minkowski only) and returns a float64. Kernels take an integer
metric *code* from :func:`metric_code` and call :func:`rdist`, which branches
to the leaf. (Passing the leaf itself as an argument would look neater, but
numba cannot cache a kernel compiled for a function argument on disk, so it
would recompile in every new process: numba issues #6972 and #9237.)
"""

from __future__ import annotations

import math

import numpy as np

from clustra._kernels.jit import kernel

METRICS = ("euclidean", "sqeuclidean", "manhattan", "chebyshev", "minkowski", "cosine", "haversine")
# Other names (SciPy's, scikit-learn's) for two of them.
METRIC_ALIASES = {"cityblock": "manhattan", "l1": "manhattan", "l2": "euclidean"}


@kernel(inline="always")
def rdist_sqeuclidean(x, y, p):
    """Squared Euclidean distance (the reduced Euclidean distance)."""
    total = 0.0
    for j in range(x.shape[0]):
        diff = np.float64(x[j]) - np.float64(y[j])
        total += diff * diff
    return total


@kernel(inline="always")
def rdist_manhattan(x, y, p):
    total = 0.0
    for j in range(x.shape[0]):
        total += abs(np.float64(x[j]) - np.float64(y[j]))
    return total


@kernel(inline="always")
def rdist_chebyshev(x, y, p):
    largest = 0.0
    for j in range(x.shape[0]):
        diff = abs(np.float64(x[j]) - np.float64(y[j]))
        if diff > largest:
            largest = diff
    return largest


@kernel(inline="always")
def rdist_minkowski(x, y, p):
    """``sum |x - y|**p``; the distance is its ``1/p``-th power."""
    total = 0.0
    for j in range(x.shape[0]):
        total += abs(np.float64(x[j]) - np.float64(y[j])) ** p
    return total


@kernel(inline="always")
def rdist_cosine(x, y, p):
    """Cosine distance ``1 - cos(x, y)``; 1 when either vector is zero (as scikit-learn)."""
    dot = 0.0
    norm_x = 0.0
    norm_y = 0.0
    for j in range(x.shape[0]):
        a = np.float64(x[j])
        b = np.float64(y[j])
        dot += a * b
        norm_x += a * a
        norm_y += b * b
    if norm_x == 0.0 or norm_y == 0.0:
        return 1.0
    value = 1.0 - dot / math.sqrt(norm_x * norm_y)
    return value if value > 0.0 else 0.0


@kernel(inline="always")
def rdist_haversine(x, y, p):
    """Haversine term for ``(latitude, longitude)`` in radians; distance is ``2 asin(sqrt(.))``."""
    sin_lat = math.sin(0.5 * (np.float64(x[0]) - np.float64(y[0])))
    sin_lon = math.sin(0.5 * (np.float64(x[1]) - np.float64(y[1])))
    return sin_lat * sin_lat + math.cos(np.float64(x[0])) * math.cos(np.float64(y[0])) * (
        sin_lon * sin_lon
    )


_RDIST = {
    "euclidean": rdist_sqeuclidean,
    "sqeuclidean": rdist_sqeuclidean,
    "manhattan": rdist_manhattan,
    "cityblock": rdist_manhattan,
    "l1": rdist_manhattan,
    "l2": rdist_sqeuclidean,
    "chebyshev": rdist_chebyshev,
    "minkowski": rdist_minkowski,
    "cosine": rdist_cosine,
    "haversine": rdist_haversine,
}


# Integer metric codes for compiled kernels (see the module docstring).
SQEUCLIDEAN, MANHATTAN, CHEBYSHEV, MINKOWSKI, COSINE, HAVERSINE = range(6)
_CODES = {
    "euclidean": SQEUCLIDEAN,
    "sqeuclidean": SQEUCLIDEAN,
    "manhattan": MANHATTAN,
    "chebyshev": CHEBYSHEV,
    "minkowski": MINKOWSKI,
    "cosine": COSINE,
    "haversine": HAVERSINE,
}


def metric_code(metric: str, p: float | None = None) -> tuple[int, float]:
    """``(code, p)`` for a metric name (aliases and Minkowski special cases resolved)."""
    name, p_value = canonical_metric(metric, p)
    return _CODES[name], p_value


@kernel
def rdist(x, y, code, p):
    """Reduced distance between 1-D arrays ``x`` and ``y`` for metric ``code`` (float64)."""
    if code == SQEUCLIDEAN:
        return rdist_sqeuclidean(x, y, p)
    if code == MANHATTAN:
        return rdist_manhattan(x, y, p)
    if code == CHEBYSHEV:
        return rdist_chebyshev(x, y, p)
    if code == MINKOWSKI:
        return rdist_minkowski(x, y, p)
    if code == COSINE:
        return rdist_cosine(x, y, p)
    return rdist_haversine(x, y, p)


@kernel(inline="always")
def closer(value, row, best_value, best_row):
    """Strict order on (reduced distance, original row): ties go to the lower row."""
    return value < best_value or (value == best_value and row < best_row)


def canonical_metric(metric: str, p: float | None = None) -> tuple[str, float]:
    """Map aliases to one name; Minkowski with p=1, 2 or inf becomes its special case."""
    if not isinstance(metric, str) or metric not in _RDIST:
        raise ValueError(
            f"Unknown metric {metric!r}; choose one of {', '.join(sorted(_RDIST))}."
        )
    name = METRIC_ALIASES.get(metric, metric)
    p_value = 2.0 if p is None else float(p)
    if name == "minkowski":
        if not p_value >= 1:
            raise ValueError(f"Minkowski needs p >= 1 to be a metric, got p={p!r}.")
        if p_value == 1:
            name = "manhattan"
        elif p_value == 2:
            name = "euclidean"
        elif math.isinf(p_value):
            name = "chebyshev"
    return name, p_value


def dist_to_rdist(value: float, metric: str, p: float | None = None) -> float:
    """Convert a true distance (an ``eps``, a height) to the metric's reduced form."""
    name, p_value = canonical_metric(metric, p)
    if name == "euclidean":
        return value * value
    if name == "minkowski":
        return value**p_value
    if name == "haversine":
        return math.sin(min(value, math.pi) / 2.0) ** 2
    return value


def rdist_to_dist(values, metric: str, p: float | None = None):
    """Convert reduced distances (scalar or array) back to true distances."""
    name, p_value = canonical_metric(metric, p)
    values = np.asarray(values, dtype=np.float64)
    if name == "euclidean":
        return np.sqrt(values)
    if name == "minkowski":
        return values ** (1.0 / p_value)
    if name == "haversine":
        return 2.0 * np.arcsin(np.sqrt(np.clip(values, 0.0, 1.0)))
    return values


def angular_embedding(X: np.ndarray, metric: str) -> tuple[np.ndarray, bool]:
    """Map cosine or haversine data to Euclidean unit vectors.

    Cosine: rows are normalised; ``cosine = ||u - v||**2 / 2``. Haversine:
    ``(lat, lon)`` in radians become points on the unit sphere; the chord
    length is ``2 sin(d / 2)``. Both are monotone in the original distance, so
    a radius ``r`` maps to a Euclidean radius (see :func:`angular_radius`).
    Returns ``(Y, ok)`` with ``Y`` float64; ``ok`` is False for cosine data
    with an all-zero row (whose cosine distance is 1 to everything and which
    has no direction): those need brute force.
    """
    X = np.asarray(X, dtype=np.float64)
    if metric == "haversine":
        lat, lon = X[:, 0], X[:, 1]
        cos_lat = np.cos(lat)
        return np.column_stack([cos_lat * np.cos(lon), cos_lat * np.sin(lon), np.sin(lat)]), True
    norms = np.sqrt(np.einsum("ij,ij->i", X, X))
    if np.any(norms == 0):
        return X, False
    return X / norms[:, None], True


def angular_radius(radius: float, metric: str) -> float:
    """The Euclidean radius between unit vectors equivalent to ``radius`` in ``metric``."""
    if metric == "haversine":
        return 2.0 * math.sin(min(radius, math.pi) / 2.0)
    return math.sqrt(2.0 * min(radius, 2.0))
