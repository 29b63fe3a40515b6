"""Pictures of :func:`clustra.auto_cluster`'s choice: the winner, the runner-up, the scores."""

from __future__ import annotations

import numpy as np

from clustra.plot._base import cluster_colors, new_axes, require_matplotlib, sample_rows


def _scatter(ax, points, labels, title):
    colors = cluster_colors(labels)
    ax.scatter(points[:, 0], points[:, 1], s=4, c=[colors[int(v)] for v in labels],
               linewidths=0)
    ax.set_title(title, fontsize="small")
    ax.set_xticks([])
    ax.set_yticks([])


def plot_auto_scores(result, *, ax=None):
    """Calibrated scores of every candidate against k, with the thresholds.

    The density-based candidates show their gap ratio, or their prominence
    ratio when density modes decided (:mod:`clustra.auto._rule`).
    """
    from clustra.auto._rule import CH_RATIO, GAP_RATIO, MODE_NULL_RATIO

    ax = new_axes(ax, figsize=(6.0, 4.0))
    modes = getattr(result, "regime", None) == "modes"
    density = "prominence_ratio" if modes else "separation_ratio"
    series = {}
    for row in result.records:
        algorithm = row["algorithm"]
        extra = {k: v for k, v in row["params"].items() if k not in ("n_clusters",)}
        if algorithm == "genie":
            name, score = f"Genie g={extra['gini_threshold']:g}", density
        elif algorithm == "hdbscan":
            name, score = "HDBSCAN", density
        else:
            name, score = "K-Means (CH ratio)", "calinski_harabasz_ratio"
        series.setdefault(name, []).append((row["k"], row[score], row["chosen"]))
    for name, points in series.items():
        points.sort()
        k, value, _ = zip(*points, strict=True)
        style = "o" if name == "HDBSCAN" else ".-"
        ax.plot(k, value, style, label=name, markersize=4)
        for k_c, v_c, chosen in points:
            if chosen:
                ax.plot([k_c], [v_c], "k*", markersize=14, label="chosen")
    ax.axhline(MODE_NULL_RATIO if modes else GAP_RATIO, color="grey", linestyle="--",
               linewidth=0.8)
    ax.axhline(CH_RATIO, color="grey", linestyle=":", linewidth=0.8)
    ax.set_yscale("log")
    ax.set_xlabel("k")
    ax.set_ylabel("criterion / structureless reference")
    first = "-- mode threshold (Genie, HDBSCAN: prominence)" if modes else "-- gap threshold"
    ax.set_title(f"Candidates ({first}, : CH threshold)", fontsize="small")
    ax.legend(fontsize="x-small")
    return ax


def plot_auto(result, *, ax=None):
    """The chosen partition (2-D PCA projection); without ``ax``, a figure with three
    panels: the winner, the runner-up of the other regime, and the candidates' scores."""
    require_matplotlib()
    from clustra.plot.projection import project_2d

    X = result.X
    rows = sample_rows(X.shape[0])
    points = project_2d(X[rows])
    title = f"chosen: {result.algorithm}, k={result.k}"
    if ax is not None:
        _scatter(ax, points, result.labels[rows], title)
        return ax
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12.0, 4.0), layout="constrained")
    axes = fig.subplots(1, 3)
    _scatter(axes[0], points, result.labels[rows], title)
    runner = result.runner_up
    if runner is not None and result.sample_rows is not None:
        sample_points = project_2d(X[result.sample_rows])
        _scatter(axes[1], sample_points, np.asarray(runner["labels"]),
                 f"runner-up: {runner['name']}")
    else:
        axes[1].set_axis_off()
    if result.records:
        plot_auto_scores(result, ax=axes[2])
    else:
        axes[2].set_axis_off()
    return fig
