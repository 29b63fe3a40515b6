"""Internal validity indices of a run, through :mod:`clustra.metrics`."""

from __future__ import annotations

import numpy as np

# Silhouette is O(n^2): score at most this many rows (a seeded random sample).
METRIC_SAMPLE = 4000


def metric_on_sample(name, X, labels, seed, **kwargs):
    from clustra import metrics

    if X.shape[0] > METRIC_SAMPLE:
        rows = np.sort(np.random.default_rng(seed).choice(X.shape[0], METRIC_SAMPLE, replace=False))
        X, labels = X[rows], labels[rows]
    return getattr(metrics, name)(X, labels, **kwargs)


def compute_metrics(X, labels, seed=0) -> dict:
    """Internal validity indices of ``labels`` on ``X`` (noise rows excluded)."""
    from clustra import metrics

    clustered = labels >= 0
    n_clusters = int(np.unique(labels[clustered]).size)
    out = {"n_clusters": n_clusters, "noise_fraction": float(1.0 - clustered.mean()),
           "silhouette": None, "calinski_harabasz": None, "davies_bouldin": None}
    if n_clusters < 2 or n_clusters >= clustered.sum():
        return out
    Xc, lc = X[clustered], labels[clustered]
    out["silhouette"] = float(metric_on_sample("silhouette_score", Xc, lc, seed))
    out["calinski_harabasz"] = float(metrics.calinski_harabasz_score(Xc, lc))
    out["davies_bouldin"] = float(metrics.davies_bouldin_score(Xc, lc))
    return out
