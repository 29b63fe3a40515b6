"""clustra: exact, fast, memory-bounded clustering.

Importing :mod:`clustra` is cheap and has no side effects: the estimators, and
with them numba and scikit-learn, are imported on first use of a public name.

Example
-------
>>> import numpy as np
>>> import clustra
>>> X = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [5.1, 5.0]])
>>> clustra.KMeans(n_clusters=2, random_state=0).fit(X).labels_.tolist()  # doctest: +SKIP
[0, 0, 1, 1]
"""

from __future__ import annotations

from clustra._config import get_num_threads, set_num_threads, thread_limit
from clustra._lazy import lazy_exports
from clustra._version import __version__

# Public name -> module that defines it, imported on first use (see clustra._lazy).
_NAMES: dict[str, str] = {
    # K-Means family
    "KMeans": ".cluster.kmeans",
    "MiniBatchKMeans": ".cluster.kmeans",
    "k_means": ".cluster.kmeans",
    "kmeans_plusplus": ".cluster.kmeans",
    "BisectingKMeans": ".cluster.bisecting",
    "bisecting_k_means": ".cluster.bisecting",
    # density
    "DBSCAN": ".cluster.dbscan",
    "dbscan": ".cluster.dbscan",
    "DegenerateClusteringWarning": ".cluster.dbscan",
    "suggest_eps": ".selection.eps",
    # hierarchy
    "AgglomerativeClustering": ".cluster.hierarchy",
    "linkage": ".cluster.hierarchy",
    "ClusterTree": ".cluster.hierarchy",
    "tree_from_linkage": ".cluster.hierarchy",
    "LinkageMemoryError": ".cluster.hierarchy",
    # HDBSCAN
    "HDBSCAN": ".cluster.hdbscan",
    "hdbscan": ".cluster.hdbscan",
    # Genie
    "Genie": ".cluster.genie",
    "genie": ".cluster.genie",
    # automatic choice
    "auto_cluster": ".auto",
    "AutoResult": ".auto",
    # selection
    "choose_k": ".selection.sweep",
    # workflow
    "run": ".workflow",
}

_SUBMODULES = (
    "auto", "cluster", "metrics", "selection", "plot", "report", "workflow", "io", "cli", "dask"
)

__all__ = [
    "__version__",
    "get_num_threads",
    "set_num_threads",
    "thread_limit",
    *_NAMES,
]


__getattr__, __dir__ = lazy_exports(__name__, _NAMES, _SUBMODULES)
