"""From a table to labelled rows: ``clustra.run``.

The workflow reads the table (or takes a DataFrame), prepares it
(:mod:`clustra.preprocessing`), picks k / eps / the algorithm when asked to
(:mod:`clustra.selection`), fits one clustering estimator, measures the result
(:mod:`clustra.metrics`) and hands back a :class:`ClusteringResult` whose
``table`` has exactly one row per input row, in input order.

Each algorithm is one small adapter in ``ADAPTERS`` (name -> function building
and fitting the estimator), so adding an algorithm is adding one function.

``algorithm="auto"`` rule
-------------------------
K-Means (k chosen by :func:`clustra.choose_k`) and DBSCAN (eps chosen by
:func:`clustra.suggest_eps`) are both fitted. Each gets the score
``silhouette (noise excluded) x fraction of rows clustered``; the higher score
wins, K-Means on a tie. The coverage factor stops DBSCAN from winning by calling
the hard half of the data noise. A DBSCAN run with fewer than two clusters
scores ``-inf``. The silhouette favours compact, convex clusters, so on
elongated or nested shapes ask for ``dbscan`` or ``hierarchical`` directly.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from clustra.io import DataError, OptionError, read_table
from clustra.preprocessing import (
    STATUS_CLUSTERED,
    STATUS_MISSING,
    STATUS_NOISE,
    STATUS_OUTLIER,
    PreparedData,
    prepare,
)

ALGORITHMS = ("kmeans", "minibatch", "dbscan", "hierarchical", "auto")
LINKAGES = ("ward", "complete", "average", "single")
STATUSES = (STATUS_CLUSTERED, STATUS_NOISE, STATUS_MISSING, STATUS_OUTLIER)
JSON_SCHEMA = "clustra.run/1"
# Silhouette is O(n^2): score at most this many rows (a seeded random sample).
METRIC_SAMPLE = 4000

Progress = Callable[[int, int, str], None]


def _silent(done: int, total: int, message: str) -> None:
    """The default progress callback: says nothing."""


@dataclass
class Choice:
    """A value the workflow chose on the user's behalf, and why."""

    name: str
    value: object
    reason: str

    def to_dict(self) -> dict:
        return {"name": self.name, "value": _plain(self.value), "reason": self.reason}


@dataclass
class RunOptions:
    """The options of :func:`run` (the same as ``clustra run``'s), checked on creation."""

    algorithm: str = "kmeans"
    k: int | str = "auto"
    eps: float | str = "auto"
    min_samples: int = 5
    linkage: str = "ward"
    columns: list[str] | None = None
    id_column: str | None = None
    scale: str = "standard"
    impute: str = "mean"
    remove_outliers: str = "none"
    outlier_fraction: float = 0.05
    reduce: str | int | float | None = None
    seed: int = 0
    k_max: int = 10
    max_categories: int = 10

    def __post_init__(self):
        if self.algorithm not in ALGORITHMS:
            raise OptionError(f"--algorithm {self.algorithm!r} is not one of: "
                              f"{', '.join(ALGORITHMS)}.")
        if self.linkage not in LINKAGES:
            raise OptionError(f"--linkage {self.linkage!r} is not one of: {', '.join(LINKAGES)}.")
        self.k = _auto_or_number("k", self.k, int, minimum=1)
        self.eps = _auto_or_number("eps", self.eps, float, minimum=0.0, strict=True)
        for name, minimum in (("min_samples", 1), ("k_max", 2), ("seed", 0)):
            value = getattr(self, name)
            integral = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
            if not integral or value < minimum:
                raise OptionError(f"--{name.replace('_', '-')} must be an integer >= {minimum}, "
                                  f"got {value!r}.")
        if isinstance(self.columns, str):
            self.columns = [c.strip() for c in self.columns.split(",") if c.strip()]
        if self.id_column in ("cluster", "status"):
            raise OptionError(f"--id-column {self.id_column!r} clashes with an output column; "
                              "rename that column first.")


def _auto_or_number(name, value, kind, *, minimum, strict=False):
    if isinstance(value, str):
        if value.strip().lower() == "auto":
            return "auto"
        try:
            value = kind(value)
        except ValueError:
            raise OptionError(f"--{name} {value!r} must be 'auto' or a number.") from None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise OptionError(f"--{name} {value!r} must be 'auto' or a number.")
    if kind is int and float(value) != int(value):
        raise OptionError(f"--{name} must be a whole number, got {value!r}.")
    value = kind(value)
    if value < minimum or (strict and value == minimum) or not np.isfinite(value):
        bound = f"> {minimum}" if strict else f">= {minimum}"
        raise OptionError(f"--{name} must be {bound} (or 'auto'), got {value!r}.")
    return value


@dataclass
class Fit:
    """What an algorithm adapter returns."""

    model: object
    labels: np.ndarray
    params: dict
    choices: list[Choice] = field(default_factory=list)
    selection: object = None
    eps_suggestion: object = None


# --------------------------------------------------------------------------- adapters


def _choose_k(X, opts: RunOptions, estimator, progress: Progress) -> tuple[int, object, Choice]:
    import clustra

    k_max = min(opts.k_max, X.shape[0] - 1)
    if k_max < 2:
        raise DataError(f"Choosing k needs at least 3 rows to cluster, only {X.shape[0]} remain.")
    selection = clustra.choose_k(X, k_range=range(2, k_max + 1), estimator=estimator,
                                 random_state=opts.seed, progress=progress)
    k = int(selection.k)
    return k, selection, Choice("k", k, str(selection.reason))


def _check_k(k: int, n_rows: int) -> None:
    if k > n_rows:
        raise DataError(f"k={k} is larger than the {n_rows} rows to cluster; choose k <= {n_rows}.")


def _fit_centroids(X, opts, progress, estimator_class, name) -> Fit:
    def make(k):
        return estimator_class(n_clusters=k, random_state=opts.seed, n_init="auto")

    choices, selection = [], None
    if opts.k == "auto":
        k, selection, choice = _choose_k(X, opts, make(2), progress)
        choices.append(choice)
    else:
        k = opts.k
        _check_k(k, X.shape[0])
    progress(0, 1, f"fitting {name} (k={k})")
    model = make(k).fit(X)
    progress(1, 1, f"fitted {name}")
    return Fit(model, np.asarray(model.labels_), {"n_clusters": k, "n_init": "auto",
                                                   "random_state": opts.seed}, choices, selection)


def fit_kmeans(X, opts: RunOptions, progress: Progress = _silent) -> Fit:
    import clustra

    return _fit_centroids(X, opts, progress, clustra.KMeans, "KMeans")


def fit_minibatch(X, opts: RunOptions, progress: Progress = _silent) -> Fit:
    import clustra

    return _fit_centroids(X, opts, progress, clustra.MiniBatchKMeans, "MiniBatchKMeans")


def fit_dbscan(X, opts: RunOptions, progress: Progress = _silent) -> Fit:
    import clustra

    if opts.min_samples > X.shape[0]:
        raise DataError(f"--min-samples {opts.min_samples} is larger than the {X.shape[0]} rows "
                        "to cluster.")
    choices, suggestion = [], None
    if opts.eps == "auto":
        suggestion = clustra.suggest_eps(X, min_samples=opts.min_samples)
        eps = float(suggestion.eps)
        choices.append(Choice("eps", eps, str(suggestion.reason)))
    else:
        eps = float(opts.eps)
    progress(0, 1, f"fitting DBSCAN (eps={eps:.4g})")
    model = clustra.DBSCAN(eps=eps, min_samples=opts.min_samples).fit(X)
    progress(1, 1, "fitted DBSCAN")
    return Fit(model, np.asarray(model.labels_), {"eps": eps, "min_samples": opts.min_samples},
               choices, eps_suggestion=suggestion)


def fit_hierarchical(X, opts: RunOptions, progress: Progress = _silent) -> Fit:
    import clustra

    def make(k):
        return clustra.AgglomerativeClustering(n_clusters=k, linkage=opts.linkage)

    choices, selection = [], None
    if opts.k == "auto":
        k, selection, choice = _choose_k(X, opts, make(2), progress)
        choices.append(choice)
    else:
        k = opts.k
        _check_k(k, X.shape[0])
    progress(0, 1, f"fitting {opts.linkage} linkage (k={k})")
    model = make(k).fit(X)
    progress(1, 1, "fitted hierarchical clustering")
    return Fit(model, np.asarray(model.labels_), {"n_clusters": k, "linkage": opts.linkage},
               choices, selection)


ADAPTERS: dict[str, Callable[..., Fit]] = {
    "kmeans": fit_kmeans,
    "minibatch": fit_minibatch,
    "dbscan": fit_dbscan,
    "hierarchical": fit_hierarchical,
}


def auto_score(X, labels, seed=0) -> float:
    """The ``algorithm="auto"`` score: silhouette (noise excluded) x fraction clustered."""
    clustered = labels >= 0
    n_clusters = np.unique(labels[clustered]).size
    if n_clusters < 2 or n_clusters >= clustered.sum():
        return float("-inf")
    silhouette = _metric_sample_score("silhouette_score", X, labels, seed, noise="exclude")
    return float(silhouette) * float(clustered.mean())


def fit_auto(X, opts: RunOptions, progress: Progress = _silent) -> tuple[str, Fit, dict]:
    """Fit K-Means and DBSCAN, keep the better by :func:`auto_score`."""
    fits = {"kmeans": fit_kmeans(X, opts, progress), "dbscan": fit_dbscan(X, opts, progress)}
    scores = {name: auto_score(X, fit.labels, opts.seed) for name, fit in fits.items()}
    winner = "dbscan" if scores["dbscan"] > scores["kmeans"] else "kmeans"
    settings = {"kmeans": f"k={fits['kmeans'].params.get('n_clusters')}",
                "dbscan": f"eps={_fmt(fits['dbscan'].params.get('eps'), 4)}"}
    shown = ", ".join(f"{name} ({settings[name]}) {_fmt(score)}" for name, score in scores.items())
    reason = (f"higher silhouette x fraction clustered ({shown}); "
              f"{'DBSCAN' if winner == 'dbscan' else 'K-Means'} wins")
    fit = fits[winner]
    fit.choices.insert(0, Choice("algorithm", winner, reason))
    # Keep the loser's selection evidence too: the report shows both curves.
    if winner == "dbscan":
        fit.selection = fits["kmeans"].selection
    else:
        fit.eps_suggestion = fits["dbscan"].eps_suggestion
    return winner, fit, scores


def _fmt(value, digits: int = 3) -> str:
    if value is None or not np.isfinite(value):
        return "n/a"
    return f"{value:.{digits}g}" if digits != 3 else f"{value:.3f}"


# --------------------------------------------------------------------------- metrics


def _metric_sample_score(name, X, labels, seed, **kwargs):
    from clustra import metrics

    if X.shape[0] > METRIC_SAMPLE:
        rows = np.sort(np.random.default_rng(seed).choice(X.shape[0], METRIC_SAMPLE, replace=False))
        X, labels = X[rows], labels[rows]
    return getattr(metrics, name)(X, labels, **kwargs)


def compute_metrics(X, labels, seed=0) -> dict:
    """Internal validity indices of ``labels`` on ``X`` (noise rows excluded)."""
    from clustra import metrics

    clustered = labels >= 0
    n_clusters = int(np.unique(labels[clustered]).size)
    out = {"n_clusters": n_clusters, "noise_fraction": float(1.0 - clustered.mean()),
           "silhouette": None, "calinski_harabasz": None, "davies_bouldin": None}
    if n_clusters < 2 or n_clusters >= clustered.sum():
        return out
    Xc, lc = X[clustered], labels[clustered]
    out["silhouette"] = float(_metric_sample_score("silhouette_score", Xc, lc, seed))
    out["calinski_harabasz"] = float(metrics.calinski_harabasz_score(Xc, lc))
    out["davies_bouldin"] = float(metrics.davies_bouldin_score(Xc, lc))
    return out


# --------------------------------------------------------------------------- result


@dataclass
class ClusteringResult:
    """Everything :func:`run` found.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per input row, in input order: the id column (or ``row``, the
        1-based data row number), ``cluster`` (nullable integer; -1 for DBSCAN
        noise, missing for rows not clustered) and ``status``.
    data : pandas.DataFrame
        The input table as read.
    prepared : PreparedData
        The matrix that was clustered, which rows it holds, the fitted pipeline.
    model : estimator
        The fitted clustra estimator.
    """

    table: object
    data: object
    prepared: PreparedData
    model: object
    algorithm: str
    params: dict
    seed: int
    metrics: dict
    choices: list[Choice]
    options: RunOptions
    selection: object = None
    eps_suggestion: object = None
    auto_scores: dict | None = None
    source: str | None = None
    version: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def pipeline(self):
        """The fitted preprocessing :class:`~sklearn.pipeline.Pipeline`."""
        return self.prepared.pipeline

    @property
    def steps(self) -> list:
        return self.prepared.steps

    @property
    def X(self) -> np.ndarray:
        """The clustered matrix (rows with status clustered or noise)."""
        return self.prepared.X

    @property
    def labels(self) -> np.ndarray:
        """Labels of the rows of :attr:`X` (-1 is noise)."""
        return self.table["cluster"].to_numpy()[self.prepared.used].astype(np.int64)

    @property
    def reasons(self) -> dict[str, str]:
        return {choice.name: choice.reason for choice in self.choices}

    @property
    def n_clusters(self) -> int:
        return int(self.metrics["n_clusters"])

    def counts(self) -> dict[str, int]:
        """Rows per status (every status listed, zeros included)."""
        values = self.table["status"].value_counts()
        return {status: int(values.get(status, 0)) for status in STATUSES}

    def cluster_sizes(self) -> dict[int, int]:
        labels = self.labels
        return {int(c): int((labels == c).sum()) for c in np.unique(labels[labels >= 0])}

    def profiles(self):
        """Mean of each numeric input column per cluster, in the original units."""
        import pandas as pd

        columns = self.prepared.numeric_columns
        frame = self.data.loc[self.prepared.used, columns].apply(pd.to_numeric)
        labels = self.labels
        frame = frame[labels >= 0]
        profile = frame.groupby(labels[labels >= 0]).mean()
        profile.insert(0, "size", pd.Series(self.cluster_sizes()))
        profile.index.name = "cluster"
        return profile

    def to_dict(self, outputs: dict | None = None) -> dict:
        """The ``--json`` document, schema ``clustra.run/1``.

        Keys (all always present):

        - ``schema``: ``"clustra.run/1"``; ``clustra_version``: str.
        - ``input``: ``source`` (path or null), ``n_rows``, ``n_columns``,
          ``id_column`` (or null), ``numeric_columns`` and ``categorical_columns``
          (lists of names used), ``skipped_columns`` ({name: reason}).
        - ``algorithm``: kmeans | minibatch | dbscan | hierarchical (the one that
          ran; with ``--algorithm auto``, the winner).
        - ``params``: the estimator's parameters ({name: value}); ``seed``: int.
        - ``n_clusters``: clusters found (noise not counted).
        - ``choices``: [{``name`` (algorithm | k | eps), ``value``, ``reason``}], in
          the order they were made.
        - ``preprocessing``: [{``step``, ``detail``}], in order.
        - ``metrics``: ``n_clusters``, ``noise_fraction``, ``silhouette``,
          ``calinski_harabasz``, ``davies_bouldin`` (null when undefined, e.g. one
          cluster; noise rows excluded).
        - ``counts``: rows per status, every status listed: ``clustered``,
          ``noise``, ``missing values``, ``outlier``; they sum to ``input.n_rows``.
        - ``cluster_sizes``: {label as str: rows}.
        - ``warnings``: [str] raised while fitting.
        - ``outputs``: what the command wrote, e.g. {``labels``: path or null,
          ``report``: path or null}.
        """
        return {
            "schema": JSON_SCHEMA,
            "clustra_version": self.version,
            "input": {"source": self.source, "n_rows": int(len(self.table)),
                      "n_columns": int(self.data.shape[1]), "id_column": self.options.id_column,
                      "numeric_columns": self.prepared.numeric_columns,
                      "categorical_columns": self.prepared.categorical_columns,
                      "skipped_columns": self.prepared.skipped_columns},
            "algorithm": self.algorithm,
            "params": {k: _plain(v) for k, v in self.params.items()},
            "seed": self.seed,
            "n_clusters": self.n_clusters,
            "choices": [choice.to_dict() for choice in self.choices],
            "preprocessing": [step.to_dict() for step in self.steps],
            "metrics": {k: _plain(v) for k, v in self.metrics.items()},
            "counts": self.counts(),
            "cluster_sizes": {str(k): v for k, v in self.cluster_sizes().items()},
            "warnings": list(self.warnings),
            "outputs": dict(outputs or {}),
        }

    def to_json(self, outputs: dict | None = None, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(outputs), indent=indent)

    def to_html(self, path, *, projection: str = "pca") -> Path:
        """Write the self-contained HTML report to ``path``; returns the path."""
        from clustra.report import write_report

        return write_report(self, path, projection=projection)


def _plain(value):
    """JSON-friendly copy of numpy scalars and non-finite floats."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


# --------------------------------------------------------------------------- run


def _label_table(frame, prepared: PreparedData, labels: np.ndarray, id_column):
    import pandas as pd

    status = prepared.status.copy()
    cluster = pd.array([pd.NA] * len(frame), dtype="Int64")
    cluster[prepared.used] = labels
    used_rows = np.flatnonzero(prepared.used)
    status[used_rows[labels < 0]] = STATUS_NOISE
    if id_column is not None:
        first = (id_column, frame[id_column].to_numpy())
    else:
        first = ("row", np.arange(1, len(frame) + 1))
    return pd.DataFrame({first[0]: first[1], "cluster": cluster, "status": status})


def load(data):
    """A DataFrame from a path or a table (DataFrame or 2-D array); returns (frame, source)."""
    import pandas as pd

    source = None
    if isinstance(data, (str, Path)):
        frame, source = read_table(data), str(data)
    elif isinstance(data, pd.DataFrame):
        frame = data
    else:
        array = np.asarray(data)
        if array.ndim != 2:
            raise DataError(f"Expected a table (2-D), got an array of shape {array.shape}.")
        frame = pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])
    if frame.shape[0] == 0:
        raise DataError("The table has no rows: there is nothing to cluster.")
    names = [str(c) for c in frame.columns]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise DataError(f"Column names must be unique; repeated: {', '.join(map(repr, repeated))}.")
    return frame.set_axis(names, axis=1).reset_index(drop=True), source


def run(data, *, progress: Progress | None = None, **options) -> ClusteringResult:
    """Cluster a table: prepare it, choose what was left on ``auto``, fit, measure.

    Parameters
    ----------
    data : str, path-like, pandas.DataFrame or 2-D array
        A CSV/TSV/Parquet/Excel path or a table.
    progress : callable(done, total, message), optional
        Called during long steps (the k sweep, the fits).
    **options
        The fields of :class:`RunOptions`: ``algorithm`` (kmeans, minibatch,
        dbscan, hierarchical, auto), ``k`` (int or "auto"), ``eps`` (float or
        "auto"), ``min_samples``, ``linkage``, ``columns``, ``id_column``,
        ``scale``, ``impute``, ``remove_outliers``, ``outlier_fraction``, ``reduce`` ("pca:N"),
        ``seed``, ``k_max``, ``max_categories``.

    Returns
    -------
    ClusteringResult
        ``.table`` has one row per input row, in input order.

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
    frame, source = load(data)
    prepared = prepare(frame, columns=opts.columns, id_column=opts.id_column, scale=opts.scale,
                       impute=opts.impute, remove_outliers=opts.remove_outliers,
                       outlier_fraction=opts.outlier_fraction,
                       reduce=opts.reduce, max_categories=opts.max_categories, seed=opts.seed)
    X = prepared.X
    if X.shape[0] < 2:
        raise DataError(f"Only {X.shape[0]} row is left to cluster; clustering needs at least 2.")
    auto_scores = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if opts.algorithm == "auto":
            algorithm, fit, auto_scores = fit_auto(X, opts, progress)
        else:
            algorithm, fit = opts.algorithm, ADAPTERS[opts.algorithm](X, opts, progress)
        metrics = compute_metrics(X, fit.labels, opts.seed)
    # Kept for the report and the JSON, and passed on to the caller as warnings.
    messages = list(dict.fromkeys(str(w.message) for w in caught))
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    table = _label_table(frame, prepared, fit.labels, opts.id_column)
    return ClusteringResult(
        table=table, data=frame, prepared=prepared, model=fit.model, algorithm=algorithm,
        params=fit.params, seed=opts.seed, metrics=metrics, choices=fit.choices, options=opts,
        selection=fit.selection, eps_suggestion=fit.eps_suggestion, auto_scores=auto_scores,
        source=source, version=__version__, warnings=messages)


# --------------------------------------------------------------------------- suggest


@dataclass
class Suggestion:
    """What :func:`suggest` found: the k sweep and the eps suggestion on prepared data."""

    selection: object
    eps_suggestion: object
    prepared: PreparedData
    source: str | None = None

    def to_dict(self) -> dict:
        table = self.selection.table
        return {
            "schema": "clustra.suggest/1",
            "source": self.source,
            "n_rows_used": int(self.prepared.X.shape[0]),
            "k": int(self.selection.k),
            "k_reason": str(self.selection.reason),
            "k_table": json.loads(table.to_json(orient="index")),
            "eps": float(self.eps_suggestion.eps),
            "eps_reason": str(self.eps_suggestion.reason),
            "min_samples": int(self.eps_suggestion.k),
        }


def suggest(data, *, progress: Progress | None = None, **options) -> Suggestion:
    """Suggest k (a K-Means sweep, :func:`clustra.choose_k`) and eps (:func:`clustra.suggest_eps`).

    Takes the same data and options as :func:`run` (algorithm, k and eps are ignored).
    """
    import clustra

    opts = RunOptions(**options)
    progress = progress or _silent
    frame, source = load(data)
    prepared = prepare(frame, columns=opts.columns, id_column=opts.id_column, scale=opts.scale,
                       impute=opts.impute, remove_outliers=opts.remove_outliers,
                       outlier_fraction=opts.outlier_fraction, reduce=opts.reduce,
                       max_categories=opts.max_categories, seed=opts.seed)
    X = prepared.X
    if opts.min_samples > X.shape[0]:
        raise DataError(f"--min-samples {opts.min_samples} is larger than the {X.shape[0]} rows "
                        "to cluster.")
    estimator = clustra.KMeans(n_clusters=2, random_state=opts.seed, n_init="auto")
    _, selection, _ = _choose_k(X, opts, estimator, progress)
    eps_suggestion = clustra.suggest_eps(X, min_samples=opts.min_samples)
    return Suggestion(selection, eps_suggestion, prepared, source)
