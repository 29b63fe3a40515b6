"""The dendrogram of a hierarchical run, drawn by the fitted tree."""

from __future__ import annotations

from clustra.plot._base import is_result, new_axes


def plot_dendrogram(model, *, n_clusters=None, truncate=None, labels=None, orientation="top",
                    ax=None):
    """Draw ``model.tree_`` (a fitted clustra.AgglomerativeClustering or BisectingKMeans, or a
    run using one).

    For a run, ``n_clusters`` defaults to the run's k, and trees over 60 rows are
    truncated to 30 leaves unless ``truncate`` says otherwise.
    """
    if is_result(model):
        if n_clusters is None:
            n_clusters = model.n_clusters
        if truncate is None and model.X.shape[0] > 60:
            truncate = 30
        model = model.model
    tree = getattr(model, "tree_", None)
    if tree is None:
        raise ValueError(f"{type(model).__name__} has no fitted tree_: a dendrogram needs a "
                         "fitted clustra.AgglomerativeClustering or clustra.BisectingKMeans.")
    return tree.plot_dendrogram(ax=new_axes(ax, figsize=(7.0, 4.0)), n_clusters=n_clusters,
                                truncate=truncate, labels=labels, orientation=orientation)
