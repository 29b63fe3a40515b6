"""Figures for clustering results (matplotlib, imported on first use).

Every function takes either a :class:`clustra.workflow.ClusteringResult` or
plain data (``X`` and ``labels``), draws on ``ax`` when given (a new figure
otherwise, created without pyplot so nothing pops up in scripts), and returns
the Axes; ``ax.figure`` is the Figure.
"""

from __future__ import annotations

import importlib

_FUNCTIONS = {
    "plot_projection": "clustra.plot.projection",
    "project_2d": "clustra.plot.projection",
    "plot_cluster_sizes": "clustra.plot.sizes",
    "plot_cluster_profiles": "clustra.plot.profiles",
    "cluster_profiles": "clustra.plot.profiles",
    "plot_selection": "clustra.plot.selection",
    "plot_k_distance": "clustra.plot.selection",
    "plot_silhouette": "clustra.plot.silhouette",
    "plot_dendrogram": "clustra.plot.dendrogram",
}

__all__ = list(_FUNCTIONS)


def __getattr__(name: str):
    module = _FUNCTIONS.get(name)
    if module is None:
        raise AttributeError(f"module 'clustra.plot' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
