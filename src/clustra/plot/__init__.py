"""Figures for clustering results (matplotlib, imported on first use).

Every function takes either a :class:`clustra.workflow.ClusteringResult` or
plain data (``X`` and ``labels``), draws on ``ax`` when given (a new figure
otherwise, created without pyplot so nothing pops up in scripts), and returns
the Axes; ``ax.figure`` is the Figure.
"""

from __future__ import annotations

from clustra._lazy import by_module, lazy_exports

_NAMES = by_module({
    ".projection": ("plot_projection", "project_2d"),
    ".sizes": ("plot_cluster_sizes",),
    ".profiles": ("plot_cluster_profiles", "cluster_profiles"),
    ".selection": ("plot_selection", "plot_k_distance"),
    ".silhouette": ("plot_silhouette",),
    ".dendrogram": ("plot_dendrogram",),
    ".auto": ("plot_auto", "plot_auto_scores"),
    ".condensed_tree": ("plot_condensed_tree",),
    ".density": ("plot_outlier_scores", "plot_memberships"),
})

__all__ = list(_NAMES)
__getattr__, __dir__ = lazy_exports(__name__, _NAMES)
