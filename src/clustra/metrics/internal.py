"""Internal validity indices: how good is a clustering, judged from the data alone.

Noise (label -1) is handled by the ``noise`` option of every index:
``"exclude"`` (default) leaves noise samples out, as if they were not in the
data; ``"cluster"`` counts them as one more cluster (what scikit-learn does
when it is given the labels unchanged). Every index needs between 2 and
``n_samples - 1`` clusters among the samples it scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral

import numpy as np

from clustra.metrics._checks import check_data, check_labels, encode, noise_mask, select_samples

__all__ = [
    "SilhouetteEstimate",
    "calinski_harabasz_score",
    "davies_bouldin_score",
    "dunn_index",
    "inertia",
    "silhouette_estimate",
    "silhouette_samples",
    "silhouette_score",
]


@dataclass(frozen=True)
class SilhouetteEstimate:
    """A sampled silhouette estimate with its confidence interval.

    Attributes
    ----------
    value : float
        Mean silhouette of the sampled points (each scored exactly against all points).
    ci : tuple of float
        ``(low, high)`` confidence interval for the exact mean silhouette.
    stderr : float
        Standard error of ``value`` (with the finite-population correction).
    sample_size : int
        Number of points scored.
    confidence : float
        Confidence level of ``ci``.
    """

    value: float
    ci: tuple[float, float]
    stderr: float
    sample_size: int
    confidence: float

    def __float__(self) -> float:
        return float(self.value)


def _sort_by_cluster(X: np.ndarray, codes: np.ndarray, n_labels: int):
    """Rows sorted by cluster code, the cluster offsets and the sort order."""
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes, minlength=n_labels)
    starts = np.zeros(n_labels + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    return np.ascontiguousarray(X[order]), starts, order


def _silhouette_a_b(X, codes, n_labels, metric, p, queries):
    """``a`` and ``b`` for the sorted-order rows ``queries``; returns (a, b, order)."""
    from clustra._config import kernel_threads
    from clustra._kernels import silhouette as kernels
    from clustra._kernels.distances import canonical_metric, metric_code

    X_sorted, starts, order = _sort_by_cluster(X, codes, n_labels)
    name, _ = canonical_metric(metric, p)
    with kernel_threads():
        if name == "euclidean":
            a, b = kernels.silhouette_a_b_euclidean(
                np.ascontiguousarray(X_sorted.T), starts, queries
            )
        else:
            code, p_value = metric_code(metric, p)
            a, b = kernels.silhouette_a_b(
                X_sorted, starts, queries, code, p_value, kernels.finish_code(name)
            )
    return a, b, order


# The symmetric kernel computes each distance once but keeps 2 * k * n sums and
# runs n / 512 parallel rounds: worth it from a few thousand rows, while the sums fit.
_SYMMETRIC_MIN_ROWS = 4096
_SYMMETRIC_MAX_BYTES = 512 * 1024**2


def _use_symmetric_kernel(n_samples, n_labels, metric, p) -> bool:
    from clustra._kernels.distances import canonical_metric

    return (
        canonical_metric(metric, p)[0] == "euclidean"
        and n_samples >= _SYMMETRIC_MIN_ROWS
        and 16 * n_labels * n_samples <= _SYMMETRIC_MAX_BYTES
    )


def _silhouette_a_b_all_euclidean(X, codes, n_labels):
    """``a`` and ``b`` of every row (cluster-sorted order), each distance computed once."""
    from clustra._config import kernel_threads
    from clustra._kernels.silhouette import silhouette_a_b_euclidean_all

    X_sorted, starts, order = _sort_by_cluster(X, codes, n_labels)
    sorted_codes = np.ascontiguousarray(codes[order], dtype=np.int64)
    with kernel_threads():
        a, b = silhouette_a_b_euclidean_all(np.ascontiguousarray(X_sorted.T), starts, sorted_codes)
    return a, b, order


def _precomputed_a_b(D, codes, n_labels):
    sums = np.zeros((D.shape[0], n_labels))
    for c in range(n_labels):
        sums[:, c] = D[:, codes == c].sum(axis=1)
    counts = np.bincount(codes, minlength=n_labels).astype(np.float64)
    rows = np.arange(D.shape[0])
    with np.errstate(divide="ignore", invalid="ignore"):
        a = sums[rows, codes] / (counts[codes] - 1)
    means = sums / counts
    means[rows, codes] = np.inf
    return a, means.min(axis=1)


def _s_from_a_b(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Silhouette values; 0 for singletons and for ``a == b == 0`` (as scikit-learn)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        s = (b - a) / np.maximum(a, b)
    return np.nan_to_num(s, nan=0.0)


def _check_precomputed(X, metric):
    if metric == "precomputed" and X.shape[0] != X.shape[1]:
        raise ValueError(
            f"metric='precomputed' needs a square distance matrix, got shape {X.shape}."
        )
    if metric == "precomputed" and (X < 0).any():
        raise ValueError("metric='precomputed': the distance matrix has negative entries.")


def silhouette_samples(X, labels, *, metric="euclidean", noise="exclude", p=None):
    """Silhouette value of every sample, computed exactly.

    ``s(i) = (b(i) - a(i)) / max(a(i), b(i))``, where ``a(i)`` is the mean
    distance from ``i`` to the other members of its cluster and ``b(i)`` the
    smallest mean distance to the members of another cluster. Singletons get 0.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The data, or a square distance matrix with ``metric="precomputed"``.
    labels : array-like of shape (n_samples,)
        Cluster labels; -1 is noise.
    metric : str, default="euclidean"
        Any metric of :mod:`clustra._kernels.distances` (euclidean, sqeuclidean,
        manhattan, chebyshev, minkowski, cosine, haversine) or "precomputed".
    noise : {"exclude", "cluster"}, default="exclude"
        "exclude": noise samples are left out and get NaN; "cluster": noise
        is one more cluster.
    p : float, optional
        Minkowski exponent.

    Returns
    -------
    ndarray of shape (n_samples,), float64

    Notes
    -----
    O(n^2 d) time in parallel fixed-size row blocks; no distance matrix is
    stored. Euclidean from 4,096 rows computes each distance once (pairs of row
    blocks in rounds) and keeps ``2 * n_clusters * n`` float64 sums; otherwise
    memory is O(n d + n_clusters). Input is computed in float64. Results do not
    depend on the number of threads.
    """
    X_kept, codes, n_labels, kept = select_samples(
        X, labels, noise, "silhouette_samples", precomputed=metric == "precomputed"
    )
    values = np.full(kept.shape[0], np.nan)
    values[kept] = _silhouette_exact(X_kept, codes, n_labels, metric, p)
    return values


def _silhouette_exact(X, codes, n_labels, metric, p):
    if metric == "precomputed":
        _check_precomputed(X, metric)
        a, b = _precomputed_a_b(X, codes, n_labels)
        return _s_from_a_b(a, b)
    if _use_symmetric_kernel(X.shape[0], n_labels, metric, p):
        a, b, order = _silhouette_a_b_all_euclidean(X, codes, n_labels)
    else:
        queries = np.arange(X.shape[0], dtype=np.int64)
        a, b, order = _silhouette_a_b(X, codes, n_labels, metric, p, queries)
    s = np.empty(X.shape[0])
    s[order] = _s_from_a_b(a, b)
    return s


def silhouette_score(
    X,
    labels,
    *,
    metric="euclidean",
    noise="exclude",
    sample_size=None,
    random_state=None,
    p=None,
):
    """Mean silhouette value: exact by default, or a sampled estimate with a CI.

    Parameters
    ----------
    X, labels, metric, noise, p
        As :func:`silhouette_samples`.
    sample_size : int, optional
        If given, score only ``sample_size`` random samples (each exactly,
        against all samples: O(sample_size * n * d)) and return a
        :class:`SilhouetteEstimate` with a 95% confidence interval, as
        :func:`silhouette_estimate`. Use it when n is in the millions.
    random_state : int, Generator or None
        Seed for the sample.

    Returns
    -------
    float, or SilhouetteEstimate when ``sample_size`` is given (``float()`` of
    it is the estimate).

    Examples
    --------
    >>> import numpy as np
    >>> from clustra.metrics import silhouette_score
    >>> X = np.array([[0.0], [0.1], [5.0], [5.1]])
    >>> round(silhouette_score(X, [0, 0, 1, 1]), 4)
    0.98
    """
    if sample_size is not None:
        return silhouette_estimate(
            X, labels, sample_size=sample_size, metric=metric, noise=noise,
            random_state=random_state, p=p,
        )
    X_kept, codes, n_labels, _ = select_samples(
        X, labels, noise, "silhouette_score", precomputed=metric == "precomputed"
    )
    return float(np.mean(_silhouette_exact(X_kept, codes, n_labels, metric, p)))


def silhouette_estimate(
    X,
    labels,
    *,
    sample_size=10_000,
    confidence=0.95,
    metric="euclidean",
    noise="exclude",
    random_state=None,
    p=None,
) -> SilhouetteEstimate:
    """Estimate the mean silhouette from a random sample of points, with a CI.

    Each sampled point's silhouette is exact (distances to every point), so the
    sample mean is an unbiased estimate of the exact score; the interval is the
    normal interval of a mean of a sample drawn without replacement.
    Unlike scikit-learn's ``sample_size`` (the silhouette of a subsample, a
    different and biased quantity), this estimates the full-data value.

    Returns
    -------
    SilhouetteEstimate
    """
    from scipy.stats import norm

    if isinstance(sample_size, bool) or not isinstance(sample_size, Integral) or sample_size < 2:
        raise ValueError(f"sample_size must be an integer >= 2, got {sample_size!r}.")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence!r}.")
    if metric == "precomputed":
        raise ValueError("silhouette_estimate does not take metric='precomputed'; "
                         "with a full distance matrix the exact score is cheap.")
    X_kept, codes, n_labels, _ = select_samples(X, labels, noise, "silhouette_estimate")
    n = X_kept.shape[0]
    m = min(int(sample_size), n)
    rng = np.random.default_rng(random_state)
    chosen = np.sort(rng.choice(n, size=m, replace=False))
    s = silhouette_of_rows(X_kept, codes, n_labels, chosen, metric=metric, p=p)
    value = float(s.mean())
    stderr = float(s.std(ddof=1) / np.sqrt(m) * np.sqrt(max(0.0, 1.0 - m / n))) if m > 1 else 0.0
    half = float(norm.ppf(0.5 + confidence / 2.0)) * stderr
    return SilhouetteEstimate(value, (value - half, value + half), stderr, m, float(confidence))


def silhouette_of_rows(X, codes, n_labels, rows, *, metric="euclidean", p=None):
    """Exact silhouette of the samples ``rows`` only (each against all samples).

    Prior validation assumed: ``X`` float64 (n, d), ``codes`` in ``0..n_labels-1``.
    O(len(rows) * n * d) time.
    """
    order = np.argsort(codes, kind="stable")
    position = np.empty(X.shape[0], dtype=np.int64)
    position[order] = np.arange(X.shape[0])
    a, b, _ = _silhouette_a_b(X, codes, n_labels, metric, p, position[np.asarray(rows)])
    return _s_from_a_b(a, b)


def _cluster_moments(X, codes, n_labels):
    """Cluster means (n_labels, d), sizes, within-cluster sum of squares and spreads.

    Prior validation assumed: ``X`` C-contiguous float64, ``codes`` in
    ``0..n_labels-1``. See :func:`clustra._kernels.centroids.cluster_moments`.
    """
    from clustra._kernels.centroids import cluster_moments

    return cluster_moments(X, np.ascontiguousarray(codes, dtype=np.int64), int(n_labels))


def _calinski_harabasz(mean, centroids, counts, within) -> float:
    """The index from the cluster moments and the overall mean of the scored samples."""
    n, n_labels = float(counts.sum()), counts.shape[0]
    between = float(np.sum(counts * np.sum((centroids - mean) ** 2, axis=1)))
    if within == 0.0:
        return 1.0
    return between * (n - n_labels) / (within * (n_labels - 1.0))


def _davies_bouldin(centroids, counts, spread) -> float:
    """The index from the cluster moments (``spread``: summed distances to the centroid)."""
    spread = spread / counts
    diff = centroids[:, None, :] - centroids[None, :, :]
    centroid_distances = np.sqrt(np.einsum("ijk,ijk->ij", diff, diff))
    if np.allclose(spread, 0) or np.allclose(centroid_distances, 0):
        return 0.0
    centroid_distances[centroid_distances == 0] = np.inf
    ratios = (spread[:, None] + spread[None, :]) / centroid_distances
    return float(np.mean(np.max(ratios, axis=1)))


def calinski_harabasz_score(X, labels, *, noise="exclude"):
    """Calinski-Harabasz index (variance ratio criterion); higher is better.

    ``[B / (k - 1)] / [W / (n - k)]`` with B the between-cluster and W the
    within-cluster sum of squares. 1.0 when W is 0 (as scikit-learn). O(n d).
    """
    X, codes, n_labels, _ = select_samples(X, labels, noise, "calinski_harabasz_score")
    centroids, counts, within, _ = _cluster_moments(X, codes, n_labels)
    return _calinski_harabasz(X.mean(axis=0), centroids, counts, within)


def davies_bouldin_score(X, labels, *, noise="exclude"):
    """Davies-Bouldin index; lower is better (0 is the best).

    The mean over clusters of the worst ratio ``(s_i + s_j) / d(c_i, c_j)``,
    ``s`` being the mean Euclidean distance of a cluster's points to its
    centroid. 0.0 when every ``s`` or every centroid distance is 0 (as
    scikit-learn). O(n d + k^2 d).
    """
    X, codes, n_labels, _ = select_samples(X, labels, noise, "davies_bouldin_score")
    centroids, counts, _, spread = _cluster_moments(X, codes, n_labels)
    return _davies_bouldin(centroids, counts, spread)


def dunn_index(X, labels, *, metric="euclidean", noise="exclude", p=None):
    """Dunn index: smallest between-cluster distance / largest cluster diameter.

    Higher is better. ``inf`` when every cluster has diameter 0. Exact:
    O(n^2 d / 2) time in parallel row blocks, no distance matrix stored.
    """
    from clustra._config import kernel_threads
    from clustra._kernels.distances import metric_code, rdist_to_dist
    from clustra._kernels.silhouette import dunn_extremes

    X, codes, n_labels, _ = select_samples(X, labels, noise, "dunn_index")
    code, p_value = metric_code(metric, p)
    X_sorted, starts, _ = _sort_by_cluster(X, codes, n_labels)
    with kernel_threads():
        lowest, highest = dunn_extremes(X_sorted, starts, code, p_value)
    separation = float(rdist_to_dist(lowest, metric, p))
    diameter = float(rdist_to_dist(highest, metric, p))
    if diameter == 0.0:
        return float("inf")
    return separation / diameter


def inertia(X, labels, centers=None):
    """Sum of squared Euclidean distances of samples to their cluster centre.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    labels : array-like of shape (n_samples,)
        Cluster labels; noise samples (-1) are left out.
    centers : array-like of shape (n_clusters, n_features), optional
        Centre of cluster ``c`` in row ``c`` (labels must then be ``0..n_clusters-1``),
        e.g. a fitted KMeans' ``cluster_centers_``. Default: each cluster's mean,
        which gives the smallest inertia for these labels.

    Returns
    -------
    float
    """
    X = check_data(X)
    labels = check_labels(labels, X.shape[0])
    kept = ~noise_mask(labels)
    X, labels = X[kept], labels[kept]
    if centers is None:
        codes, n_labels = encode(labels)
        if n_labels == 0:
            return 0.0
        return float(_cluster_moments(np.ascontiguousarray(X), codes, n_labels)[2])
    centers = check_data(centers, name="centers")
    if centers.shape[1] != X.shape[1]:
        raise ValueError(
            f"centers has {centers.shape[1]} features but X has {X.shape[1]}."
        )
    if labels.dtype.kind not in "iu" and not (
        labels.dtype.kind == "f" and np.all(labels == np.round(labels))
    ):
        raise ValueError("With centers given, labels must be integers 0..n_clusters-1.")
    index = labels.astype(np.int64)
    if index.size and (index.min() < 0 or index.max() >= centers.shape[0]):
        raise ValueError(
            f"labels must index rows of centers (0..{centers.shape[0] - 1}); found "
            f"label {int(index.min() if index.min() < 0 else index.max())}."
        )
    return float(np.sum((X - centers[index]) ** 2))
