"""Selection curves (k sweep) and the k-distance curve (eps): the figures of a run or a
result (:func:`plot_selection`, :func:`plot_k_distance`) and the drawing of a
:class:`clustra.selection.sweep.KSelection` behind them (:func:`draw_selection`)."""

from __future__ import annotations

import numpy as np

from clustra._optional import import_pyplot
from clustra.plot._base import is_result, new_axes


def plot_selection(selection, *, ax=None):
    """The curves of a :func:`clustra.choose_k` result (or of a run that chose k).

    The result draws one panel per criterion (elbow, silhouette, gap ...). With
    ``ax`` given (one Axes per criterion) it draws there and its return value is
    passed back; otherwise a new Figure with one panel per criterion is returned.
    """
    if is_result(selection):
        if selection.selection is None:
            raise ValueError("This run did not choose k (k was given), so there is no sweep.")
        selection = selection.selection
    if ax is not None:
        return selection.plot(ax=ax)
    n_panels = len(getattr(selection, "picks", None) or ()) or 1
    figure = new_axes(None, figsize=(3.2 * n_panels, 3.2)).figure
    figure.clear()
    axes = figure.subplots(1, n_panels, squeeze=False).ravel()
    selection.plot(ax=axes if n_panels > 1 else axes[0])
    return figure


def plot_k_distance(data, *, min_samples: int = 5, ax=None):
    """The sorted k-distance curve with the suggested eps.

    ``data`` is an :func:`clustra.suggest_eps` result, a run that suggested eps,
    or an array (then ``suggest_eps(data, min_samples)`` is computed).
    """
    if is_result(data):
        if data.eps_suggestion is None:
            raise ValueError("This run did not suggest eps, so there is no k-distance curve.")
        data = data.eps_suggestion
    if not hasattr(data, "plot"):
        import clustra

        data = clustra.suggest_eps(data, min_samples=min_samples)
    return data.plot(ax=new_axes(ax))


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


def draw_selection(selection, ax=None):
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
