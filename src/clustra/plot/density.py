"""What HDBSCAN adds to a partition: outlier scores (GLOSH) and soft memberships."""

from __future__ import annotations

import numpy as np

from clustra.plot._base import cluster_colors, is_result, new_axes


def _hdbscan_model(data, what: str):
    model = data.model if is_result(data) else data
    if not hasattr(model, "outlier_scores_"):
        raise ValueError(f"{what} needs a fitted clustra.HDBSCAN; got {type(model).__name__}.")
    return model


def plot_outlier_scores(data, *, ax=None, top: float = 0.05):
    """Histogram of the GLOSH outlier scores (0: a typical member, 1: the most outlying),
    with the score above which the ``top`` fraction of rows lies marked.

    ``data`` is a fitted :class:`clustra.HDBSCAN` or a run that used one.
    """
    model = _hdbscan_model(data, "An outlier-score plot")
    scores = np.asarray(model.outlier_scores_, dtype=float)
    scores = scores[np.isfinite(scores)]
    ax = new_axes(ax, figsize=(6.0, 3.5))
    ax.hist(scores, bins=40, color="#4c72b0", alpha=0.8)
    if scores.size:
        cutoff = float(np.quantile(scores, 1.0 - top))
        ax.axvline(cutoff, color="red", linestyle="--", linewidth=1)
        ax.annotate(f"top {top:.0%}: score > {cutoff:.2f}", (cutoff, 0.95),
                    xycoords=("data", "axes fraction"), ha="right", fontsize="small",
                    color="red")
    ax.set_xlabel("outlier score (GLOSH)")
    ax.set_ylabel("rows")
    ax.set_title("Outlier scores")
    return ax


def plot_memberships(data, *, ax=None):
    """How strongly each row belongs to its most likely cluster (HDBSCAN's soft clustering):
    one histogram per cluster of the largest membership probability of its rows.
    """
    model = _hdbscan_model(data, "A membership plot")
    vectors = np.asarray(model.membership_vectors())
    if vectors.ndim != 2 or vectors.shape[1] == 0:
        raise ValueError("HDBSCAN found no cluster, so there are no memberships to show.")
    strongest = vectors.argmax(axis=1)
    strength = vectors.max(axis=1)
    colors = cluster_colors(np.arange(vectors.shape[1]))
    ax = new_axes(ax, figsize=(6.0, 3.5))
    bins = np.linspace(0.0, 1.0, 21)
    for cluster in range(vectors.shape[1]):
        ax.hist(strength[strongest == cluster], bins=bins, histtype="step", linewidth=1.5,
                color=colors[cluster], label=str(cluster))
    ax.set_xlabel("membership of the most likely cluster")
    ax.set_ylabel("rows")
    ax.set_title("Soft memberships")
    if vectors.shape[1] <= 12:
        ax.legend(title="cluster", fontsize="small")
    return ax
