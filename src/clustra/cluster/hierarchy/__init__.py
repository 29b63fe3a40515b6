"""Hierarchical clustering: :func:`linkage`, :class:`AgglomerativeClustering` and the
fitted :class:`ClusterTree`."""

from clustra.cluster._common import LinkageMemoryError, available_memory, set_memory_limit
from clustra.cluster._tree import ClusterTree, tree_from_linkage
from clustra.cluster.hierarchy._estimator import AgglomerativeClustering, linkage

__all__ = [
    "AgglomerativeClustering",
    "ClusterTree",
    "LinkageMemoryError",
    "available_memory",
    "linkage",
    "set_memory_limit",
    "tree_from_linkage",
]
