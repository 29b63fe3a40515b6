"""Figures for clustering results (matplotlib, imported on first use).

Every function takes either a :class:`clustra.workflow.ClusteringResult` or
plain data (``X`` and ``labels``), draws on ``ax`` when given (a new figure
otherwise, created without pyplot so nothing pops up in scripts), and returns
the Axes; ``ax.figure`` is the Figure.
"""

from __future__ import annotations

from clustra._lazy import lazy_exports

_NAMES = {
    "plot_projection": ".projection",
    "project_2d": ".projection",
    "plot_cluster_sizes": ".sizes",
    "plot_cluster_profiles": ".profiles",
    "cluster_profiles": ".profiles",
    "plot_selection": ".selection",
    "plot_k_distance": ".selection",
    "plot_silhouette": ".silhouette",
    "plot_dendrogram": ".dendrogram",
    "plot_auto": ".auto",
    "plot_auto_scores": ".auto",
    "plot_condensed_tree": ".condensed_tree",
    "plot_outlier_scores": ".density",
    "plot_memberships": ".density",
}

__all__ = list(_NAMES)
__getattr__, __dir__ = lazy_exports(__name__, _NAMES)
