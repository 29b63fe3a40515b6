"""Selection curves (k sweep) and the k-distance curve (eps), drawn by their results."""

from __future__ import annotations

from clustra.plot._base import is_result, new_axes


def plot_selection(selection, *, ax=None):
    """The curves of a :func:`clustra.choose_k` result (or of a run that chose k)."""
    if is_result(selection):
        if selection.selection is None:
            raise ValueError("This run did not choose k (k was given), so there is no sweep.")
        selection = selection.selection
    return selection.plot(ax=new_axes(ax, figsize=(7.0, 4.0)))


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
