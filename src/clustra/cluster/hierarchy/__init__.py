"""Hierarchical clustering: :func:`linkage`, :class:`AgglomerativeClustering` and the
fitted :class:`ClusterTree`.

Names are imported on first use: ``linkage`` does not load scikit-learn, which
only the estimator needs.
"""

from clustra._lazy import lazy_exports

_NAMES = {
    "AgglomerativeClustering": "._estimator",
    "ClusterTree": "clustra.cluster._tree",
    "LinkageMemoryError": "clustra.cluster._common",
    "available_memory": "clustra.cluster._common",
    "linkage": "._linkage",
    "set_memory_limit": "clustra.cluster._common",
    "tree_from_linkage": "clustra.cluster._tree",
}

__all__ = list(_NAMES)

__getattr__, __dir__ = lazy_exports(__name__, _NAMES)
