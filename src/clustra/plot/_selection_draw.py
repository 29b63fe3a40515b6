"""Drawing for :class:`clustra.selection.sweep.KSelection` (matplotlib, imported lazily)."""

from __future__ import annotations

import numpy as np

from clustra._optional import import_pyplot

_TITLES = {
    "elbow": ("inertia", "Elbow: inertia"),
    "silhouette": ("silhouette", "Silhouette (higher is better)"),
    "calinski_harabasz": ("calinski_harabasz", "Calinski-Harabasz (higher)"),
    "davies_bouldin": ("davies_bouldin", "Davies-Bouldin (lower)"),
    "gap": ("gap", "Gap statistic (1-SE rule)"),
}


def _axes_for(n_panels, ax):
    if ax is None:
        plt = import_pyplot("KSelection.plot")
        _, axes = plt.subplots(1, n_panels, figsize=(3.2 * n_panels, 3.0), squeeze=False)
        return axes.ravel()
    axes = np.atleast_1d(np.asarray(ax, dtype=object)).ravel()
    if axes.shape[0] < n_panels:
        raise ValueError(
            f"plot needs {n_panels} Axes (one per criterion), got {axes.shape[0]}; "
            "pass ax=None to make a new figure."
        )
    return axes


def plot_selection(selection, ax=None):
    """One panel per criterion: the curve over k, its pick (ring), the answer (line)."""
    import_pyplot("KSelection.plot")
    criteria = list(selection.picks)
    axes = _axes_for(len(criteria), ax)
    k_values = selection.k_values
    for panel, criterion in zip(axes, criteria, strict=False):
        column, title = _TITLES[criterion]
        curve = selection.values[column]
        if criterion == "gap" and "gap_se" in selection.values:
            panel.errorbar(k_values, curve, yerr=selection.values["gap_se"], marker="o", ms=3)
        else:
            panel.plot(k_values, curve, marker="o", ms=3)
        pick = selection.picks[criterion]
        if pick is not None:
            index = int(np.flatnonzero(k_values == pick)[0])
            panel.plot([pick], [curve[index]], "o", ms=10, mfc="none", mec="C3", label="pick")
        panel.axvline(selection.k, color="0.5", ls="--", lw=1)
        panel.set_title(title, fontsize=9)
        panel.set_xlabel("k")
        panel.set_xticks(k_values)
    return axes
