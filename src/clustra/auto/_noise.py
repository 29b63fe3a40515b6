"""Background noise: the rows that belong to no cluster of a gap partition.

HDBSCAN calls noise every point of too low a density, which includes the
tails of ordinary clusters; filling those in (their nearest cluster) is
right on clean data. A point is kept as background noise only when HDBSCAN
calls it noise (its nearest sample row is noise, for rows outside the
sample) *and* it lies outside every cluster's ellipsoid of tail
probability ``TAIL`` (squared Mahalanobis distance from the cluster's
HDBSCAN members above the chi-squared quantile): farther out than a
Gaussian cluster of that shape would put one point in ``1 / TAIL``. This
keeps scattered points between well-separated clusters as noise (a uniform
background), and leaves the tails of clusters alone. It is applied only to
HDBSCAN winners of the gap regime: where clusters meet or overlap there is
no "between" for a background to fill.
"""

from __future__ import annotations

import numpy as np

# Tail probability beyond which a Gaussian cluster would rarely put a point.
TAIL = 1e-4
# Members per dimension a cluster needs before its covariance (its ellipsoid) is trusted.
ROWS_PER_DIMENSION = 10


def outside_every_cluster(X: np.ndarray, members: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Rows of ``X`` beyond every cluster's ``1 - TAIL`` ellipsoid (bool (n,)).

    ``members``: float64 (m, d) sample rows; ``labels``: their int labels, -1 for
    HDBSCAN's noise (left out of the fit of every ellipsoid).
    """
    from scipy.stats import chi2

    d = X.shape[1]
    limit = chi2.ppf(1.0 - TAIL, d)
    outside = np.ones(X.shape[0], dtype=bool)
    for c in np.unique(labels[labels >= 0]):
        points = members[labels == c]
        if points.shape[0] < ROWS_PER_DIMENSION * d:
            # Too few members to estimate a shape (a nearly singular covariance would put
            # every point outside): no background is claimed at all.
            return np.zeros(X.shape[0], dtype=bool)
        centre = points.mean(axis=0)
        cov = np.atleast_2d(np.cov(points, rowvar=False))
        # A ridge at the scale of the data keeps flat clusters' ellipsoids finite.
        cov = cov + np.eye(d) * (1e-9 * max(float(np.trace(cov)) / d, 1e-300))
        diff = X - centre
        dist = np.einsum("ij,ij->i", diff @ np.linalg.pinv(cov, hermitian=True), diff)
        outside &= dist > limit
    return outside


def background(X, sample, raw, filled_all, sample_rows):
    """``filled_all`` (int64 (n,)) with the background rows set to -1.

    ``raw``: HDBSCAN's labels of the ``sample`` rows (-1 noise); ``filled_all``:
    every row's cluster with noise filled in.
    """
    from scipy.spatial import cKDTree

    if not (raw < 0).any():
        return filled_all
    if sample_rows.shape[0] == X.shape[0]:
        noisy = np.zeros(X.shape[0], dtype=bool)
        noisy[sample_rows] = raw < 0
    else:
        _, nearest = cKDTree(sample).query(X, k=1)
        noisy = raw[nearest] < 0
    out = filled_all.copy()
    rows = np.flatnonzero(noisy)
    out[rows[outside_every_cluster(X[rows], sample, raw)]] = -1
    return out
