"""Candidate partitions of one sample, made from shared work.

- Genie at several Gini thresholds and every k in 2..k_max: one Euclidean
  minimum spanning tree, one merge sequence per threshold, every k cut from it;
- HDBSCAN at several ``min_cluster_size`` (its noise points given the label of
  their nearest clustered point for scoring; :mod:`clustra.auto._noise` decides
  which of them stay noise when it wins);
- K-Means for every k in 2..k_max through :mod:`clustra.selection`'s sweep
  (the same machinery as :func:`clustra.choose_k`).

The same spanning tree also serves the separation criterion
(:func:`clustra.auto._criteria.separation`), for the data's sample and for
each structureless reference set alike.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

DENSITY, CONVEX = "density", "convex"


@dataclass
class Candidate:
    """One partition of the sample.

    ``key`` names the method and setting without k (``"genie g=0.3"``),
    ``family`` is ``"density"`` (Genie, HDBSCAN) or ``"convex"`` (K-Means),
    ``labels`` int64 (m,) in 0..k-1, ``centers`` the K-Means centres or None,
    ``raw`` HDBSCAN's own labels (-1 for noise) or None.
    """

    algorithm: str
    params: dict
    key: str
    family: str
    k: int
    labels: np.ndarray
    centers: np.ndarray | None = None
    raw: np.ndarray | None = None
    scores: dict = field(default_factory=dict)


def fill_noise(X: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Labels with each noise point (-1) given its nearest clustered point's label."""
    from scipy.spatial import cKDTree

    labels = np.asarray(labels, dtype=np.int64).copy()
    noise = labels < 0
    if noise.all():
        return np.zeros_like(labels)
    if noise.any():
        _, nearest = cKDTree(X[~noise]).query(X[noise], k=1)
        labels[noise] = labels[~noise][nearest]
    return labels


def _dense_codes(labels: np.ndarray) -> tuple[np.ndarray, int]:
    values, codes = np.unique(labels, return_inverse=True)
    return codes.astype(np.int64), int(values.shape[0])


def genie_candidates(tree, n: int, thresholds, k_values) -> list[Candidate]:
    """Genie's partitions for every threshold and k from one spanning ``tree``."""
    from clustra._kernels.genie import genie_merges, partitions

    out = []
    ks = np.asarray(k_values, dtype=np.int64)
    for g in thresholds:
        merges = genie_merges(tree.low, tree.high, n, float(g), 1)
        rows = partitions(tree.low, tree.high, merges, n, ks)
        for k, labels in zip(ks, rows, strict=True):
            out.append(Candidate("genie", {"n_clusters": int(k), "gini_threshold": float(g)},
                                 f"genie g={g:g}", DENSITY, int(k), labels))
    return out


def hdbscan_candidates(X: np.ndarray, min_cluster_sizes) -> list[Candidate]:
    """HDBSCAN at each ``min_cluster_size`` (< half the rows), noise filled."""
    from clustra.cluster.hdbscan import HDBSCAN

    out = []
    for size in min_cluster_sizes:
        if 2 * size > X.shape[0]:
            continue
        raw = HDBSCAN(min_cluster_size=int(size)).fit(X).labels_
        labels, k = _dense_codes(fill_noise(X, raw))
        out.append(Candidate("hdbscan", {"min_cluster_size": int(size)},
                             f"hdbscan mcs={size}", DENSITY, k, labels, raw=raw))
    return out


def kmeans_candidates(X: np.ndarray, k_values, random_state) -> list[Candidate]:
    """K-Means for every k (one sweep, seeded), with the centres of each partition."""
    from clustra.cluster.kmeans import KMeans
    from clustra.selection._fitting import labels_for_k

    with warnings.catch_warnings():
        # More k than distinct points is expected in a sweep; the candidate just loses.
        warnings.simplefilter("ignore")
        labels = labels_for_k(X, list(k_values), KMeans(random_state=random_state, n_init=1))
    out = []
    for k in k_values:
        codes, n_labels = _dense_codes(labels[int(k)])
        centers = np.vstack([X[codes == c].mean(axis=0) for c in range(n_labels)])
        out.append(Candidate("kmeans", {"n_clusters": int(k)}, "kmeans", CONVEX, n_labels,
                             codes, centers))
    return out


def all_candidates(X, tree, *, k_values, thresholds, min_cluster_sizes, random_state):
    """Every candidate for the sample ``X`` (float64 (m, d)) with spanning ``tree``."""
    return (genie_candidates(tree, X.shape[0], thresholds, k_values)
            + hdbscan_candidates(X, min_cluster_sizes)
            + kmeans_candidates(X, k_values, random_state))
