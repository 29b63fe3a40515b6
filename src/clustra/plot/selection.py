"""Selection curves (k sweep) and the k-distance curve (eps), drawn by their results."""

from __future__ import annotations

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
