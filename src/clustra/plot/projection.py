"""2-D projection of the clustered rows, coloured by cluster."""

from __future__ import annotations

import numpy as np

from clustra.plot._base import cluster_colors, data_and_labels, new_axes, sample_rows

METHODS = ("pca", "tsne")
TSNE_PARALLEL_ROWS = 2000


def project_2d(X, method: str = "pca", random_state: int = 0) -> np.ndarray:
    """Project ``X`` (n, d) to (n, 2) with PCA or t-SNE (scikit-learn's)."""
    if method not in METHODS:
        raise ValueError(f"projection method {method!r} is not one of: {', '.join(METHODS)}.")
    X = np.asarray(X, dtype=np.float64)
    if X.shape[1] == 1:
        return np.column_stack([X[:, 0], np.zeros(X.shape[0])])
    if method == "pca" or X.shape[0] < 5:
        from sklearn.decomposition import PCA

        if X.shape[1] == 2:
            return X
        return PCA(n_components=2, random_state=random_state).fit_transform(X)
    from sklearn.manifold import TSNE
    from threadpoolctl import threadpool_limits

    perplexity = float(min(30.0, (X.shape[0] - 1) / 3.0))
    tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=random_state)
    # On small inputs OpenMP's thread start-up and barriers cost far more than the
    # work (benchmarks/results/plot-choices.md).
    limit = 1 if X.shape[0] < TSNE_PARALLEL_ROWS else None
    with threadpool_limits(limits=limit, user_api="openmp"):
        return tsne.fit_transform(X)


def plot_projection(data, labels=None, *, method: str = "pca", random_state: int = 0, ax=None):
    """Scatter plot of a 2-D projection (PCA, or t-SNE with ``method="tsne"``).

    At most 5,000 rows are drawn (a seeded sample); noise (-1) is grey.
    """
    X, labels = data_and_labels(data, labels)
    rows = sample_rows(X.shape[0], seed=random_state)
    points = project_2d(X[rows], method, random_state)
    labels = labels[rows]
    ax = new_axes(ax)
    colors = cluster_colors(labels)
    for label in sorted(colors):
        mask = labels == label
        if not mask.any():
            continue
        name = "noise" if label < 0 else f"cluster {label}"
        ax.scatter(points[mask, 0], points[mask, 1], s=12, color=colors[label], label=name,
                   marker="x" if label < 0 else "o", alpha=0.8, linewidths=0.8)
    if X.shape[1] <= 2 and method == "pca":
        ax.set_xlabel("feature 1")
        ax.set_ylabel("feature 2" if X.shape[1] == 2 else "")
    else:
        ax.set_xlabel(f"{method.upper()} 1" if method == "pca" else "t-SNE 1")
        ax.set_ylabel(f"{method.upper()} 2" if method == "pca" else "t-SNE 2")
    ax.set_title("Clusters in 2-D" + (" (t-SNE)" if method == "tsne" else " (PCA)"))
    if len(colors) <= 21:
        ax.legend(fontsize="small", markerscale=1.5, loc="best")
    return ax
