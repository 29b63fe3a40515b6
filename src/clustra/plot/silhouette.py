"""The silhouette diagram: each clustered row's silhouette, grouped by cluster."""

from __future__ import annotations

import numpy as np

from clustra.plot._base import cluster_colors, data_and_labels, new_axes, sample_rows

MAX_SILHOUETTE_ROWS = 4000  # silhouette is O(n^2)


def plot_silhouette(data, labels=None, *, ax=None, random_state: int = 0):
    """Silhouette values per row (clustra.metrics.silhouette_samples), noise left out.

    Above 4,000 clustered rows a seeded sample is drawn.
    """
    from clustra import metrics

    X, labels = data_and_labels(data, labels)
    keep = labels >= 0
    X, labels = X[keep], labels[keep]
    rows = sample_rows(X.shape[0], MAX_SILHOUETTE_ROWS, random_state)
    X, labels = X[rows], labels[rows]
    clusters = np.unique(labels)
    if clusters.size < 2:
        raise ValueError(f"A silhouette diagram needs at least 2 clusters, got {clusters.size}.")
    values = np.asarray(metrics.silhouette_samples(X, labels), dtype=float)
    colors = cluster_colors(labels)
    ax = new_axes(ax)
    y_low = 0
    gap = max(2, labels.size // 50)
    for cluster in clusters:
        own = np.sort(values[labels == cluster])
        y = np.arange(y_low, y_low + own.size)
        ax.fill_betweenx(y, 0, own, color=colors[int(cluster)], alpha=0.85, linewidth=0)
        ax.text(-0.02, y_low + own.size / 2, str(int(cluster)), ha="right", va="center",
                fontsize="small")
        y_low += own.size + gap
    average = float(values.mean())
    ax.axvline(average, color="black", linestyle="--", linewidth=1,
               label=f"mean {average:.3f}")
    ax.set_xlim(min(-0.1, float(values.min()) - 0.05), 1.0)
    ax.set_yticks([])
    ax.set_xlabel("silhouette")
    ax.set_ylabel("rows, by cluster")
    ax.set_title("Silhouette diagram")
    ax.legend(loc="lower right", fontsize="small")
    return ax
