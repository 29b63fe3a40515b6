"""Bar chart of cluster sizes (and noise)."""

from __future__ import annotations

import numpy as np

from clustra.plot._base import cluster_colors, data_and_labels, is_result, new_axes


def plot_cluster_sizes(data, labels=None, *, ax=None):
    """Number of rows per cluster; DBSCAN noise (-1) as a grey bar at the end."""
    if is_result(data):
        labels = data.labels
    elif labels is None:
        labels = np.asarray(data)
    else:
        _, labels = data_and_labels(data, labels)
    labels = np.asarray(labels)
    values, counts = np.unique(labels, return_counts=True)
    order = np.argsort(values < 0, kind="stable")  # noise last
    values, counts = values[order], counts[order]
    colors = cluster_colors(labels)
    ax = new_axes(ax, figsize=(6.0, 3.5))
    names = ["noise" if v < 0 else str(int(v)) for v in values]
    bars = ax.bar(names, counts, color=[colors[int(v)] for v in values])
    ax.bar_label(bars, fontsize="small")
    ax.set_xlabel("cluster")
    ax.set_ylabel("rows")
    ax.set_title("Cluster sizes")
    return ax
