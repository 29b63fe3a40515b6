"""Shared helpers: the lazy matplotlib import, new axes, colours, unpacking results."""

from __future__ import annotations

import numpy as np

from clustra._optional import import_matplotlib

NOISE_COLOR = "#9e9e9e"
# Rows beyond this are subsampled (seeded) in scatter-type figures.
MAX_POINTS = 5000


def require_matplotlib():
    """Import matplotlib, or say which extra to install."""
    return import_matplotlib("Plots")


def new_axes(ax=None, figsize=(6.0, 4.5)):
    """``ax`` itself, or the Axes of a new Figure (no pyplot, so no GUI window)."""
    require_matplotlib()
    if ax is not None:
        return ax
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout="constrained").subplots()


def is_result(obj) -> bool:
    return hasattr(obj, "prepared") and hasattr(obj, "table")


def data_and_labels(data, labels=None):
    """``(X, labels)`` from a result or from arrays; checks that the lengths agree."""
    if is_result(data):
        return data.X, data.labels
    X = np.asarray(data, dtype=np.float64)
    if X.ndim == 1:
        X = X[:, None]
    if labels is None:
        raise TypeError("labels are required when plotting an array (or pass a ClusteringResult).")
    labels = np.asarray(labels)
    if labels.shape[0] != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but labels has {labels.shape[0]} entries.")
    return X, labels


def cluster_colors(labels) -> dict:
    """A colour per label: a qualitative map for clusters, grey for noise (-1)."""
    require_matplotlib()
    from matplotlib import colormaps

    clusters = [int(c) for c in np.unique(labels) if c >= 0]
    cmap = colormaps["tab10" if len(clusters) <= 10 else "tab20"]
    colors = {c: cmap(i % cmap.N) for i, c in enumerate(clusters)}
    colors[-1] = NOISE_COLOR
    return colors


def sample_rows(n_rows: int, limit: int = MAX_POINTS, seed: int = 0) -> np.ndarray:
    """Sorted row indices: all rows, or a seeded random ``limit`` of them."""
    if n_rows <= limit:
        return np.arange(n_rows)
    return np.sort(np.random.default_rng(seed).choice(n_rows, limit, replace=False))
