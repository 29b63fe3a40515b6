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

``prominence``: whether each cluster is a density mode of its own. The
density at a point is read from its core distance (the distance to its
``CORE_NEIGHBOURS``-th neighbour); a cluster's peak is the low
``PEAK_QUANTILE`` of its members' core distances, and its saddle the
smallest mutual reachability length (the longer of the edge and its two end
points' core distances, as in HDBSCAN) of a tree edge that leaves it. The
criterion is the smallest, over the clusters, of saddle over peak: how much
farther apart the points are where a cluster meets the others than at its
densest. It sees clusters that overlap without a gap and without convex
variance, but that each rise to their own peak (Hartigan's density modes);
on structureless data it stays near 1.

Neither separation nor Calinski-Harabasz is comparable across data sets or across k on its own; the
rule (:mod:`clustra.auto._rule`) divides each by its value for the same
method on structureless reference data.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

SampleTree = namedtuple("SampleTree", ["low", "high", "length", "core"])
SampleTree.__doc__ = ("The sample's Euclidean MST: edge endpoints (int64, (m-1,)) and lengths, "
                      "and each row's core distance.")

# Percentile of within-cluster edge lengths taken as the clusters' internal spacing.
WITHIN_QUANTILE = 0.9
# Neighbours behind a core distance (a smoothing scale for the density, not a cluster size).
CORE_NEIGHBOURS = 10
# Quantile of a cluster's core distances taken as its peak (robust against a few close pairs).
PEAK_QUANTILE = 0.05


def core_distances(X: np.ndarray) -> np.ndarray:
    """Distance of each row of ``X`` to its ``CORE_NEIGHBOURS``-th nearest other row."""
    from scipy.spatial import cKDTree

    k = min(CORE_NEIGHBOURS, X.shape[0] - 1)
    if k < 1:
        return np.zeros(X.shape[0])
    return cKDTree(X).query(X, k=k + 1)[0][:, -1]


def prominence(tree: SampleTree, labels: np.ndarray) -> float:
    """Smallest saddle-over-peak ratio of core distances over the clusters (NaN for K < 2)."""
    n_clusters = int(labels.max()) + 1 if labels.size else 0
    if n_clusters < 2:
        return float("nan")
    low, high = labels[tree.low], labels[tree.high]
    cut = low != high
    reach = np.maximum(np.maximum(tree.core[tree.low], tree.core[tree.high]), tree.length)
    saddle = np.full(n_clusters, np.inf)
    np.minimum.at(saddle, low[cut], reach[cut])
    np.minimum.at(saddle, high[cut], reach[cut])
    # Each cluster's core distances in increasing order, clusters one after another.
    order = np.lexsort((tree.core, labels))
    bounds = np.searchsorted(labels[order], np.arange(n_clusters + 1))
    sizes = np.diff(bounds)
    peaks = tree.core[order][bounds[:-1] + np.floor(PEAK_QUANTILE * (sizes - 1)).astype(np.int64)]
    # A peak of copies of one point: any positive saddle is infinitely farther apart.
    ratios = np.where(peaks > 0, saddle / np.where(peaks > 0, peaks, 1.0),
                      np.where(saddle > 0, np.inf, 0.0))
    return float(ratios.min())


def _gaps(tree: SampleTree, labels: np.ndarray):
    """``(cut edge lengths sorted, within-cluster spacing, K)``, or None for K < 2 or no
    edge inside a cluster."""
    n_clusters = int(labels.max()) + 1 if labels.size else 0
    if n_clusters < 2:
        return None
    cut = labels[tree.low] != labels[tree.high]
    within = tree.length[~cut]
    if within.size == 0:
        return None
    # Copies of one point (zero-length edges) say nothing about the spacing.
    within = within[within > 0.0]
    spacing = float(np.quantile(within, WITHIN_QUANTILE)) if within.size else 0.0
    return np.sort(tree.length[cut]), spacing, n_clusters


def _over_spacing(gap: float, shortest: float, spacing: float) -> float:
    if spacing <= 0.0:
        # Duplicated points: positive gaps are infinitely wider than the spacing; a cut
        # between two copies of one point is no gap at all.
        return float("inf") if shortest > 0.0 else 0.0
    return float(gap / spacing)


def separation(tree: SampleTree, labels: np.ndarray) -> float:
    """Mean of the K-1 shortest cut tree edges over the within-edge spacing (NaN for K < 2).

    ``labels``: int (m,), every row in a cluster (0..K-1).
    """
    found = _gaps(tree, labels)
    if found is None:
        return float("nan")
    gaps, spacing, n_clusters = found
    return _over_spacing(float(gaps[: n_clusters - 1].mean()), float(gaps[0]), spacing)


def weakest_gap(tree: SampleTree, labels: np.ndarray) -> float:
    """The shortest cut tree edge over the within-edge spacing (NaN for K < 2).

    Above 1, every boundary of the partition crosses a gap; a cut through a
    cluster (a short cut edge) pulls it below 1 however wide the other gaps are.
    """
    found = _gaps(tree, labels)
    if found is None:
        return float("nan")
    gaps, spacing, _ = found
    return _over_spacing(float(gaps[0]), float(gaps[0]), spacing)


def calinski_harabasz(X: np.ndarray, labels: np.ndarray) -> float:
    """Calinski-Harabasz index of ``labels`` (int (m,), 0..K-1) on ``X``; NaN for K < 2."""
    from clustra.metrics.internal import _calinski_harabasz, _cluster_moments

    n_clusters = int(labels.max()) + 1 if labels.size else 0
    if n_clusters < 2 or n_clusters >= X.shape[0]:
        return float("nan")
    centroids, counts, within, _ = _cluster_moments(X, labels, n_clusters)
    return float(_calinski_harabasz(X.mean(axis=0), centroids, counts, within))
