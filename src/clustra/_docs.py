"""Parameter descriptions that several public docstrings share, each written once.

A docstring names a shared entry by a line holding only ``%(name)s``;
:func:`fill_doc` puts the entry there, indented as that line is. One wording
per parameter keeps the functions that take it from drifting apart.
"""

from __future__ import annotations

import re
import textwrap

ENTRIES = {
    # The fit methods of the centroid estimators (KMeans, MiniBatchKMeans, BisectingKMeans),
    # followed in each docstring by what that estimator does with the weights.
    "fit_parameters": """\
Parameters
----------
X : array-like of shape (n_samples, n_features)
    Training data; float32 stays float32, anything else becomes float64.
y : ignored
sample_weight : array-like of shape (n_samples,), default=None""",
    # The choice of k (choose_k, gap_statistic, stability).
    "selection_X": "X : array-like of shape (n_samples, n_features)",
    "selection_estimator": """\
estimator : clusterer with ``n_clusters``, default clustra.KMeans
    Any scikit-learn compatible clusterer, cloned and refitted per k; one
    whose fitted object has ``tree_`` (clustra.AgglomerativeClustering) is
    fitted once and its tree cut at every k.""",
    "selection_progress": """\
progress : callable(done: int, total: int, message: str), optional
    Called after each fit.""",
}

_FIELD = re.compile(r"^([ \t]*)%\((\w+)\)s[ \t]*$", re.MULTILINE)


def fill_doc(obj):
    """Decorator: replace each ``%(name)s`` line of ``obj``'s docstring by ``ENTRIES[name]``."""
    if obj.__doc__:
        obj.__doc__ = _FIELD.sub(
            lambda match: textwrap.indent(ENTRIES[match.group(2)], match.group(1)), obj.__doc__
        )
    return obj
