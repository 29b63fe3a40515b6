"""From a table to labelled rows: ``clustra.run``.

The workflow reads the table (or takes a DataFrame), prepares it
(:mod:`clustra.preprocessing`), picks k / eps / the algorithm when asked to
(:mod:`clustra.selection`), fits one clustering estimator, measures the result
(:mod:`clustra.metrics`) and hands back a :class:`ClusteringResult` whose
``table`` has exactly one row per input row, in input order.

Each algorithm is one small adapter in ``ADAPTERS`` (name -> function building
and fitting the estimator), so adding an algorithm is adding one function.

The pieces: :mod:`~clustra.workflow.options` (``RunOptions``, ``Choice``),
:mod:`~clustra.workflow.adapters` (one function per algorithm, the ``auto``
rule), :mod:`~clustra.workflow.metrics`, :mod:`~clustra.workflow.result`
(``ClusteringResult``).
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from clustra.io import DataError, DataWarning, TableRead, read_table_info
from clustra.preprocessing import PreparedData, prepare
from clustra.workflow.adapters import (
    ADAPTERS,
    Fit,
    choose_k_for,
    fit_auto,
    fit_dbscan,
    fit_hierarchical,
    fit_kmeans,
    fit_minibatch,
    fit_one_point,
)
from clustra.workflow.estimate import Notify, warn_if_long
from clustra.workflow.metrics import compute_metrics
from clustra.workflow.options import ALGORITHMS, LINKAGES, Choice, Progress, RunOptions, _silent
from clustra.workflow.result import JSON_SCHEMA, STATUSES, ClusteringResult, _label_table

__all__ = [
    "ADAPTERS", "ALGORITHMS", "JSON_SCHEMA", "LINKAGES", "STATUSES", "Choice", "ClusteringResult",
    "DataWarning", "Fit", "RunOptions", "Suggestion", "compute_metrics", "fit_auto",
    "fit_dbscan", "fit_hierarchical", "fit_kmeans", "fit_minibatch", "load", "load_table", "run",
    "suggest",
]


def load(data, *, sep=None, decimal=None):
    """A DataFrame from a path or a table (DataFrame or 2-D array); returns (frame, source).

    See :func:`load_table` for what was assumed and noticed on the way.
    """
    frame, source, _ = load_table(data, sep=sep, decimal=decimal)
    return frame, source


def load_table(data, *, sep=None, decimal=None):
    """A DataFrame from a path or a table (DataFrame or 2-D array).

    Returns ``(frame, source, read)``: ``source`` is the path (or None) and
    ``read`` the :class:`~clustra.io.TableRead` (what was assumed, what was
    renamed). Repeated column names are renamed ``name_2``, ``name_3`` ... with
    a notice.
    """
    import pandas as pd

    source, read = None, None
    if isinstance(data, (str, Path)):
        read, source = read_table_info(data, sep=sep, decimal=decimal), str(data)
        frame = read.frame
    elif isinstance(data, pd.DataFrame):
        frame = data
    else:
        array = np.asarray(data)
        if array.ndim != 2:
            raise DataError(f"Expected a table (2-D), got an array of shape {array.shape}.")
        frame = pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])
    if frame.shape[0] == 0:
        raise DataError("The table has no rows: there is nothing to cluster.")
    if read is None:
        read = TableRead(frame, "", [])
    names = [str(c) for c in frame.columns]
    unique = _unique(names)
    if unique != names:
        pairs = ", ".join(f"{old!r} -> {new!r}" for old, new in zip(names, unique, strict=True)
                          if old != new)
        read.notices.append(f"repeated column names were renamed: {pairs}.")
    return frame.set_axis(unique, axis=1).reset_index(drop=True), source, read


def _unique(names: list[str]) -> list[str]:
    taken, seen, out = set(names), set(), []
    for name in names:
        if name in seen:
            number = 2
            while f"{name}_{number}" in taken:
                number += 1
            name = f"{name}_{number}"
            taken.add(name)
        seen.add(name)
        out.append(name)
    return out


def _prepare(data, opts: RunOptions):
    """Read and prepare ``data``, passing on what was noticed as :class:`DataWarning`."""
    frame, source, read = load_table(data, sep=opts.sep, decimal=opts.decimal)
    for notice in read.notices:
        warnings.warn(notice, DataWarning, stacklevel=3)
    prepared = prepare(frame, columns=opts.columns, id_column=opts.id_column, scale=opts.scale,
                       impute=opts.impute, remove_outliers=opts.remove_outliers,
                       outlier_fraction=opts.outlier_fraction,
                       reduce=opts.reduce, max_categories=opts.max_categories, seed=opts.seed)
    for notice in prepared.notices:
        warnings.warn(notice, DataWarning, stacklevel=3)
    return frame, source, read, prepared


def run(data, *, progress: Progress | None = None, notify: Notify | None = None,
        **options) -> ClusteringResult:
    """Cluster a table: prepare it, choose what was left on ``auto``, fit, measure.

    Parameters
    ----------
    data : str, path-like, pandas.DataFrame or 2-D array
        A CSV/TSV/Parquet/Excel path (CSV/TSV possibly compressed; ``"-"`` is
        standard input) or a table.
    progress : callable(done, total, message), optional
        Called during long steps (the k sweep, the fits).
    notify : callable(message), optional
        Told, before it starts, about work expected to take long (an estimate
        from the number of rows and the method).
    **options
        The fields of :class:`RunOptions`: ``algorithm`` (kmeans, minibatch,
        dbscan, hierarchical, auto), ``k`` (int or "auto"), ``eps`` (float or
        "auto"), ``min_samples``, ``linkage``, ``columns``, ``id_column``,
        ``scale``, ``impute``, ``remove_outliers``, ``outlier_fraction``, ``reduce`` ("pca:N"),
        ``seed``, ``k_max``, ``max_categories``, ``sep``, ``decimal``.

    Returns
    -------
    ClusteringResult
        ``.table`` has one row per input row, in input order. What was noticed
        on the way (cells that are not numbers, ids and constant columns left
        out, renamed columns, warnings while fitting) is in ``.warnings`` and is
        also passed on to the caller as Python warnings.

    Examples
    --------
    >>> import clustra  # doctest: +SKIP
    >>> result = clustra.run("customers.csv", id_column="customer_id", k="auto")  # doctest: +SKIP
    >>> result.table.head()  # doctest: +SKIP
    >>> result.to_html("report.html")  # doctest: +SKIP
    """
    from clustra import __version__

    opts = RunOptions(**options)
    progress = progress or _silent
    auto_scores = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame, source, read, prepared = _prepare(data, opts)
        X = prepared.X
        if X.shape[0] < 2:
            raise DataError(f"Only {X.shape[0]} row is left to cluster; clustering needs at "
                            "least 2.")
        if prepared.all_constant or not np.ptp(X, axis=0).any():
            algorithm, fit = fit_one_point(X, opts)
        else:
            warn_if_long(X, opts, notify)
            if opts.algorithm == "auto":
                algorithm, fit, auto_scores = fit_auto(X, opts, progress)
            else:
                algorithm, fit = opts.algorithm, ADAPTERS[opts.algorithm](X, opts, progress)
        metrics = compute_metrics(X, fit.labels, opts.seed)
    # Kept for the report and the JSON, and passed on to the caller as warnings.
    messages = list(dict.fromkeys(" ".join(str(w.message).split()) for w in caught))
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    table = _label_table(frame, prepared, fit.labels, opts.id_column)
    # The numeric columns as they were clustered (stray text cells missing), so that
    # profiles and summaries in original units need no second parse.
    frame = frame.copy()
    for name, values in prepared.numeric_values.items():
        frame[name] = values
    return ClusteringResult(
        table=table, data=frame, prepared=prepared, model=fit.model, algorithm=algorithm,
        params=fit.params, seed=opts.seed, metrics=metrics, choices=fit.choices, options=opts,
        selection=fit.selection, eps_suggestion=fit.eps_suggestion, auto_scores=auto_scores,
        source=source, version=__version__, warnings=messages, read_note=read.assumed)


@dataclass
class Suggestion:
    """What :func:`suggest` found: the k sweep and the eps suggestion on prepared data."""

    selection: object
    eps_suggestion: object
    prepared: PreparedData
    min_samples: int
    source: str | None = None
    read_note: str = ""

    def to_dict(self) -> dict:
        table = self.selection.table
        return {
            "schema": "clustra.suggest/1",
            "source": self.source,
            "read": self.read_note,
            "n_rows_used": int(self.prepared.X.shape[0]),
            "k": int(self.selection.k),
            "k_reason": str(self.selection.reason),
            "k_table": json.loads(table.to_json(orient="index")),
            "eps": float(self.eps_suggestion.eps),
            "eps_reason": str(self.eps_suggestion.reason),
            "min_samples": int(self.min_samples),
        }


def suggest(data, *, progress: Progress | None = None, **options) -> Suggestion:
    """Suggest k (a K-Means sweep, :func:`clustra.choose_k`) and eps (:func:`clustra.suggest_eps`).

    Takes the same data and options as :func:`run` (algorithm, k and eps are ignored).
    """
    import clustra

    opts = RunOptions(**options)
    progress = progress or _silent
    frame, source, read, prepared = _prepare(data, opts)
    X = prepared.X
    min_samples = opts.dbscan_min_samples
    if min_samples > X.shape[0]:
        raise DataError(f"min_samples={min_samples} is larger than the {X.shape[0]} rows "
                        "to cluster.")
    estimator = clustra.KMeans(n_clusters=2, random_state=opts.seed, n_init="auto")
    _, selection, _ = choose_k_for(X, opts, estimator, progress)
    eps_suggestion = clustra.suggest_eps(X, min_samples=min_samples)
    return Suggestion(selection, eps_suggestion, prepared, min_samples, source,
                      read.assumed)
