"""The two criteria of the choice rule, worked out on the scoring sample.

``separation``: how wide the gaps between clusters are, relative to the
spacing of points inside them. Along the minimum spanning tree (MST) of the
sample, a partition into K clusters cuts at least K - 1 tree edges; the
criterion is the mean length of the K - 1 shortest cut edges divided by the
90th percentile of the uncut (within-cluster) positive edge lengths. A percentile
rather than the longest edge keeps a few outliers from deciding it; the K - 1
shortest cut edges rather than only the shortest keep one close pair of
clusters from hiding every other gap. It measures what single linkage,
Genie and HDBSCAN look for, in the spirit of the near-neighbour Dunn
indices that Gagolewski, Bartoszuk and Cena (2021) found most often in
agreement with people's partitions.

``calinski_harabasz``: the variance ratio (between over within sum of
squares, each per degree of freedom), what K-Means optimises; it sees
overlapping, roughly convex groups that leave no gap.

Neither value is comparable across data sets or across k on its own; the
rule (:mod:`clustra.auto._rule`) divides each by its value for the same
method on structureless reference data.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

SampleTree = namedtuple("SampleTree", ["low", "high", "length"])
SampleTree.__doc__ = "The sample's Euclidean MST: edge endpoints (int64, (m-1,)) and lengths."

# Percentile of within-cluster edge lengths taken as the clusters' internal spacing.
WITHIN_QUANTILE = 0.9


def separation(tree: SampleTree, labels: np.ndarray) -> float:
    """Mean of the K-1 shortest cut tree edges over the within-edge spacing (NaN for K < 2).

    ``labels``: int (m,), every row in a cluster (0..K-1).
    """
    n_clusters = int(labels.max()) + 1 if labels.size else 0
    if n_clusters < 2:
        return float("nan")
    cut = labels[tree.low] != labels[tree.high]
    within = tree.length[~cut]
    if within.size == 0:
        return float("nan")
    # Copies of one point (zero-length edges) say nothing about the spacing.
    within = within[within > 0.0]
    spacing = float(np.quantile(within, WITHIN_QUANTILE)) if within.size else 0.0
    gaps = np.sort(tree.length[cut])[: n_clusters - 1]
    if spacing <= 0.0:
        # Duplicated points: positive gaps are infinitely wider than the spacing; a cut
        # between two copies of one point is no gap at all.
        return float("inf") if gaps[0] > 0.0 else 0.0
    return float(gaps.mean() / spacing)


def calinski_harabasz(X: np.ndarray, labels: np.ndarray) -> float:
    """Calinski-Harabasz index of ``labels`` (int (m,), 0..K-1) on ``X``; NaN for K < 2."""
    from clustra.metrics.internal import _calinski_harabasz, _cluster_moments

    n_clusters = int(labels.max()) + 1 if labels.size else 0
    if n_clusters < 2 or n_clusters >= X.shape[0]:
        return float("nan")
    centroids, counts, within, _ = _cluster_moments(X, labels, n_clusters)
    return float(_calinski_harabasz(X.mean(axis=0), centroids, counts, within))
