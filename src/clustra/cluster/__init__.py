"""scikit-learn-compatible estimators and their functional forms, one subpackage per family.

Each family (``kmeans``, ``dbscan``, ``hierarchy`` ...) is a folder holding its
estimator, functional form and private helpers; what families share lives in
:mod:`clustra.cluster._common` (input checks, the memory guard),
:mod:`clustra.cluster._tree` (the fitted tree of every hierarchical family) and
:mod:`clustra.cluster._params` (declared parameters), and below in
:mod:`clustra._kernels`. Names are imported on first use, so this package is
cheap to import. The functional forms whose name is also a family's folder
(``dbscan``, ``hdbscan``, ``genie``) are ``clustra.dbscan`` and so on, or
``clustra.cluster.dbscan.dbscan``: here ``clustra.cluster.dbscan`` is the folder.
"""

from __future__ import annotations

from clustra._lazy import lazy_exports

_NAMES: dict[str, str] = {
    "KMeans": ".kmeans",
    "MiniBatchKMeans": ".kmeans",
    "k_means": ".kmeans",
    "kmeans_plusplus": ".kmeans",
    "BisectingKMeans": ".bisecting",
    "bisecting_k_means": ".bisecting",
    "DBSCAN": ".dbscan",
    "DegenerateClusteringWarning": ".dbscan",
    "AgglomerativeClustering": ".hierarchy",
    "linkage": ".hierarchy",
    "ClusterTree": ".hierarchy",
    "tree_from_linkage": ".hierarchy",
    "LinkageMemoryError": ".hierarchy",
    "HDBSCAN": ".hdbscan",
    "Genie": ".genie",
}

__all__ = list(_NAMES)

__getattr__, __dir__ = lazy_exports(
    __name__, _NAMES, ("kmeans", "bisecting", "dbscan", "hierarchy", "hdbscan", "genie")
)
