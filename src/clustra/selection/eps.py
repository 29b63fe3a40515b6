"""Suggest DBSCAN's ``eps`` from the knee of the sorted k-distance curve.

For every point take the distance to its k-th nearest neighbour, the point
itself not counted, with ``k = min_samples - 1``: a point whose k-distance is
at most ``eps`` has at least ``min_samples`` points (itself included) within
``eps``, i.e. it is a core point of DBSCAN with these settings. Sorted
ascending, the curve is flat through the clusters and rises steeply through
the noise; its knee (:func:`clustra.selection.knee.find_knee`) separates the
two, and its height is the suggested ``eps``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from clustra.selection.knee import Knee, find_knee

__all__ = ["EpsSuggestion", "suggest_eps"]

# Used when the curve has no knee: eps lets this share of the points be core.
FALLBACK_PERCENTILE = 90.0


@dataclass(frozen=True)
class EpsSuggestion:
    """A suggested ``eps`` and the curve it came from.

    Attributes
    ----------
    eps : float
        The suggestion: the k-distance at the knee, or, without a knee, the
        ``FALLBACK_PERCENTILE``-th percentile of the k-distances.
    k : int
        Neighbours counted (``min_samples - 1``).
    distances : ndarray of shape (n_samples,), float64
        Every point's k-distance, ascending.
    knee : Knee
        The knee finder's answer (``found`` False when there is no knee).
    reason : str
        One sentence on how ``eps`` was chosen.
    """

    eps: float
    k: int
    distances: np.ndarray
    knee: Knee
    reason: str

    def plot(self, ax=None):
        """Draw the sorted k-distance curve with the knee and ``eps`` marked.

        Needs matplotlib (``pip install clustra[plot]``). Returns the Axes.
        """
        from clustra._optional import import_pyplot

        if ax is None:
            plt = import_pyplot("EpsSuggestion.plot")
            _, ax = plt.subplots()
        positions = np.arange(self.distances.shape[0])
        ax.plot(positions, self.distances, color="C0", label=f"{self.k}-distance")
        ax.axhline(self.eps, color="C1", linestyle="--", label=f"eps = {self.eps:.4g}")
        if self.knee.found:
            ax.scatter([self.knee.x], [self.knee.y], color="C3", zorder=3, label="knee")
        ax.set_xlabel("points, sorted by k-distance")
        ax.set_ylabel(f"distance to the {self.k}-th nearest neighbour")
        ax.set_title("k-distance curve")
        ax.legend(loc="upper left")
        return ax


def suggest_eps(X, min_samples: int = 5, metric: str = "euclidean", *, p: float | None = None,
                sensitivity: float = 1.0) -> EpsSuggestion:
    """Suggest ``eps`` for DBSCAN from the knee of the sorted k-distance curve.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The data, as it will be given to DBSCAN (after any scaling).
    min_samples : int, default=5
        DBSCAN's ``min_samples`` (the point itself counts), at least 2.
    metric : str, default="euclidean"
        Any metric :class:`clustra.DBSCAN` accepts except "precomputed".
    p : float, optional
        Minkowski power.
    sensitivity : float, default=1.0
        Passed to :func:`~clustra.selection.knee.find_knee`.

    Returns
    -------
    EpsSuggestion

    Notes
    -----
    The k-distances come from clustra's KD-tree (cosine and haversine through
    unit vectors; brute force for cosine data with all-zero rows). Time is
    that of a k-nearest-neighbour query on every point; memory O(n k).

    Examples
    --------
    >>> import numpy as np
    >>> from clustra import suggest_eps
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(0, 0.1, (200, 2)), rng.uniform(-3, 3, (20, 2))])
    >>> suggestion = suggest_eps(X, min_samples=5)
    >>> bool(0.02 < suggestion.eps < 1.0)
    True
    """
    from numbers import Integral

    from clustra._config import kernel_threads
    from clustra.cluster._common import validate_X
    from clustra.cluster.dbscan._estimator import METRICS

    if isinstance(min_samples, bool) or not isinstance(min_samples, Integral) or min_samples < 2:
        raise ValueError(
            f"min_samples must be an integer >= 2 for suggest_eps, got {min_samples!r}: with "
            "min_samples=1 every point is a core point and eps only decides which merge."
        )
    if metric == "precomputed" or not isinstance(metric, str) or metric not in (
            *METRICS, "cityblock", "l1", "l2"):
        raise ValueError(
            f"suggest_eps does not support metric {metric!r}; choose one of "
            f"{', '.join(m for m in METRICS if m != 'precomputed')}."
        )
    X = validate_X(_Holder(), X, reset=True, order="C")
    n_samples = X.shape[0]
    k = int(min_samples) - 1
    if n_samples <= k:
        raise ValueError(
            f"suggest_eps needs more than min_samples - 1 = {k} points to find a {k}-th "
            f"neighbour, got {n_samples}; lower min_samples."
        )
    if metric == "haversine" and X.shape[1] != 2:
        raise ValueError(
            f"metric='haversine' needs exactly 2 columns (latitude, longitude in radians), "
            f"got {X.shape[1]}."
        )
    with kernel_threads(None, limit_blas=False):
        distances = np.sort(k_distances(X, k, metric, p))
    knee = find_knee(np.arange(n_samples, dtype=np.float64), distances, curve="convex",
                     direction="increasing", sensitivity=sensitivity)
    if knee.found and knee.y > 0:
        eps = float(knee.y)
        reason = (f"eps={eps:.6g}: the knee of the sorted {k}-distance curve, at point "
                  f"{knee.index} of {n_samples}.")
    else:
        eps = float(np.percentile(distances, FALLBACK_PERCENTILE))
        why = knee.reason if not knee.found else "the knee lies at distance 0 (duplicates)"
        reason = (f"eps={eps:.6g}: the {FALLBACK_PERCENTILE:g}th percentile of the {k}-distances "
                  f"(so about {FALLBACK_PERCENTILE:g}% of the points would be core), because "
                  f"{why}")
        if eps <= 0:
            positive = distances[distances > 0]
            eps = float(positive[0]) if positive.size else 1.0
            reason += f"; that percentile is 0 (duplicates), so eps={eps:.6g} instead."
    return EpsSuggestion(eps=eps, k=k, distances=distances, knee=knee, reason=reason)


class _Holder:
    """A stand-in estimator so ``validate_X`` can be used outside an estimator."""

    def __sklearn_tags__(self):
        from sklearn.base import BaseEstimator

        return BaseEstimator().__sklearn_tags__()


def k_distances(X: np.ndarray, k: int, metric: str, p: float | None = None) -> np.ndarray:
    """Distance from every row of ``X`` to its ``k``-th nearest other row (float64, row order).

    ``X`` must be validated (2-D, finite); duplicates of a row count as
    neighbours at distance 0.
    """
    from clustra._kernels import distances as metric_distances
    from clustra._kernels import kdtree

    X = np.ascontiguousarray(X, dtype=np.float64)
    name = metric_distances.METRIC_ALIASES.get(metric, metric)
    if name in ("cosine", "haversine"):
        embedded, ok = kdtree.angular_embedding(X, name)
        if ok:
            tree = kdtree.build_kdtree(embedded)
            reduced, _ = kdtree.kneighbors(tree, embedded, k, kdtree.SQEUCLIDEAN, 2.0,
                                           exclude_self=True)
            chord = np.sqrt(reduced[:, -1])
            if name == "haversine":
                return 2.0 * np.arcsin(np.clip(chord / 2.0, 0.0, 1.0))
            return np.minimum(chord * chord / 2.0, 2.0)
        return _brute_k_distances(X, k, name)
    code, p_value = kdtree.metric_code(name, p)
    tree = kdtree.build_kdtree(X)
    reduced, _ = kdtree.kneighbors(tree, X, k, code, p_value, exclude_self=True)
    return metric_distances.rdist_to_dist(reduced[:, -1], name, p_value)


def _brute_k_distances(X, k, metric):
    """k-distances by chunked pairwise distances (cosine data with all-zero rows)."""
    from sklearn.metrics import pairwise_distances_chunked

    out = np.empty(X.shape[0])
    start = 0
    for chunk in pairwise_distances_chunked(X, metric=metric):
        rows = np.arange(chunk.shape[0])
        chunk[rows, start + rows] = np.inf  # the point itself does not count
        out[start:start + chunk.shape[0]] = np.partition(chunk, k - 1, axis=1)[:, k - 1]
        start += chunk.shape[0]
    return out
