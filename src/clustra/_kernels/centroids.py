"""Per-cluster moments of one labeling: what Calinski-Harabasz, Davies-Bouldin
and the gap statistic's ``W_k`` need, in two passes over the rows."""

from __future__ import annotations

import math

import numpy as np

from clustra._kernels.jit import kernel


@kernel
def cluster_moments(X, codes, n_labels):
    """Counts, means and spreads of the clusters of one labeling.

    Parameters
    ----------
    X : float64 array (n, d), C-contiguous
    codes : int64 array (n,), the cluster of each row, in ``0..n_labels-1``
    n_labels : int

    Returns
    -------
    centroids : float64 array (n_labels, d), each cluster's mean (0 for an empty one)
    counts : float64 array (n_labels,)
    within : float, sum over rows of the squared Euclidean distance to their centroid
    spread : float64 array (n_labels,), each cluster's summed Euclidean
        distance of its rows to its centroid (divide by ``counts`` for the mean)

    Rows are added in row order (serial): O(n d) time, O(n_labels d) memory.
    """
    n_samples, n_features = X.shape
    sums = np.zeros((n_labels, n_features))
    counts = np.zeros(n_labels)
    for i in range(n_samples):
        c = codes[i]
        counts[c] += 1.0
        for f in range(n_features):
            sums[c, f] += X[i, f]
    centroids = np.zeros((n_labels, n_features))
    for c in range(n_labels):
        if counts[c] > 0:
            for f in range(n_features):
                centroids[c, f] = sums[c, f] / counts[c]
    within = 0.0
    spread = np.zeros(n_labels)
    for i in range(n_samples):
        c = codes[i]
        total = 0.0
        for f in range(n_features):
            diff = X[i, f] - centroids[c, f]
            total += diff * diff
        within += total
        spread[c] += math.sqrt(total)
    return centroids, counts, within, spread
