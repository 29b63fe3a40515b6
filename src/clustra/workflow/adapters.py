"""One small adapter per algorithm: build the estimator, choose k or eps when asked, fit.

``ADAPTERS`` maps an algorithm name to its function ``(X, opts, progress) -> Fit``;
a new algorithm is one more function and one more entry.

``algorithm="auto"`` (the default) is :func:`clustra.auto_cluster`: the
choice among Genie, HDBSCAN and K-Means partitions documented in
:mod:`clustra.auto._rule`, with "one cluster" as an answer.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from clustra.io import DataError, DataWarning
from clustra.workflow.estimate import scalable_alternatives
from clustra.workflow.options import Choice, Progress, RunOptions, _silent, reason_text


@dataclass
class Fit:
    """What an algorithm adapter returns."""

    model: object
    labels: np.ndarray
    params: dict
    choices: list[Choice] = field(default_factory=list)
    selection: object = None
    eps_suggestion: object = None


def choose_k_for(X, opts: RunOptions, estimator, progress: Progress) -> tuple[int, object, Choice]:
    import clustra

    k_max = min(opts.k_max, X.shape[0] - 1)
    if k_max < 2:
        raise DataError(f"Choosing k needs at least 3 rows to cluster, only {X.shape[0]} remain.")
    # k = 1 stays in the sweep: on structureless data the honest answer is
    # "one cluster", which only the gap statistic can give (see choose_k).
    selection = clustra.choose_k(X, k_range=range(1, k_max + 1), estimator=estimator,
                                 random_state=opts.seed, progress=progress)
    k = int(selection.k)
    return k, selection, Choice("k", k, reason_text("k", selection.reason))


def _check_k(k: int, n_rows: int) -> None:
    if k > n_rows:
        raise DataError(f"k={k} is larger than the {n_rows} rows to cluster; choose k <= {n_rows}.")


def _fit_k(X, opts, progress, make, name, params) -> Fit:
    """Choose k (``opts.k == "auto"``) or take the given k, fit ``make(k)`` and return the Fit.

    ``make(k)`` builds the estimator; ``params(model, k)`` is what the Fit reports.
    """
    choices, selection = [], None
    if opts.k == "auto":
        k, selection, choice = choose_k_for(X, opts, make(2), progress)
        choices.append(choice)
    else:
        k = opts.k
        _check_k(k, X.shape[0])
    progress(0, 1, f"fitting {name} (k={k})")
    model = make(k).fit(X)
    progress(1, 1, f"fitted {name}")
    return Fit(model, np.asarray(model.labels_), params(model, k), choices, selection)


def _fit_centroids(X, opts, progress, estimator_class, name, n_init="auto") -> Fit:
    def make(k):
        return estimator_class(n_clusters=k, random_state=opts.seed, n_init=n_init)

    def params(model, k):
        return {"n_clusters": k, "n_init": n_init, "random_state": opts.seed}

    return _fit_k(X, opts, progress, make, name, params)


def fit_kmeans(X, opts: RunOptions, progress: Progress = _silent) -> Fit:
    import clustra

    return _fit_centroids(X, opts, progress, clustra.KMeans, "KMeans")


def fit_minibatch(X, opts: RunOptions, progress: Progress = _silent) -> Fit:
    import clustra

    return _fit_centroids(X, opts, progress, clustra.MiniBatchKMeans, "MiniBatchKMeans")


def fit_bisecting(X, opts: RunOptions, progress: Progress = _silent) -> Fit:
    import clustra

    # One k-means++ start per bisection, as scikit-learn's BisectingKMeans by default.
    return _fit_centroids(X, opts, progress, clustra.BisectingKMeans, "BisectingKMeans", n_init=1)


def fit_dbscan(X, opts: RunOptions, progress: Progress = _silent) -> Fit:
    import clustra

    min_samples = opts.dbscan_min_samples
    if min_samples > X.shape[0]:
        raise DataError(f"min_samples={min_samples} is larger than the {X.shape[0]} rows "
                        "to cluster.")
    choices, suggestion = [], None
    if opts.eps == "auto":
        suggestion = clustra.suggest_eps(X, min_samples=min_samples)
        eps = float(suggestion.eps)
        choices.append(Choice("eps", eps, reason_text("eps", suggestion.reason)))
    else:
        eps = float(opts.eps)
    progress(0, 1, f"fitting DBSCAN (eps={eps:.4g})")
    model = clustra.DBSCAN(eps=eps, min_samples=min_samples).fit(X)
    progress(1, 1, "fitted DBSCAN")
    return Fit(model, np.asarray(model.labels_), {"eps": eps, "min_samples": min_samples},
               choices, eps_suggestion=suggestion)


def fit_hdbscan(X, opts: RunOptions, progress: Progress = _silent) -> Fit:
    import clustra

    for name in ("min_cluster_size", "min_samples"):
        value = getattr(opts, name)
        if value is not None and value > X.shape[0]:
            raise DataError(f"{name}={value} is larger than the {X.shape[0]} rows to cluster.")
    params = {"min_cluster_size": opts.min_cluster_size, "min_samples": opts.min_samples}
    progress(0, 1, f"fitting HDBSCAN (min_cluster_size={opts.min_cluster_size})")
    model = clustra.HDBSCAN(**params).fit(X)
    progress(1, 1, "fitted HDBSCAN")
    return Fit(model, np.asarray(model.labels_), params)


def fit_genie(X, opts: RunOptions, progress: Progress = _silent) -> Fit:
    import clustra

    def make(k):
        return clustra.Genie(n_clusters=k)

    def params(model, k):
        return {"n_clusters": k, "gini_threshold": model.gini_threshold}

    # With k="auto", one Genie fit gives every k (cut_range), as one tree does for the
    # hierarchies.
    return _fit_k(X, opts, progress, make, "Genie", params)


def fit_hierarchical(X, opts: RunOptions, progress: Progress = _silent) -> Fit:
    import clustra
    from clustra.cluster._common import LinkageMemoryError

    def make(k):
        return clustra.AgglomerativeClustering(n_clusters=k, linkage=opts.linkage)

    def params(model, k):
        return {"n_clusters": k, "linkage": opts.linkage}

    try:
        return _fit_k(X, opts, progress, make, f"{opts.linkage} linkage", params)
    except LinkageMemoryError as exc:
        # The estimator's own message names its keyword arguments and ways out in
        # Python; here the way out is another method of the run.
        need = str(exc).split(" Ways out:")[0]
        raise DataError(f"{need} Use {scalable_alternatives(opts.linkage)}, or cluster a "
                        "sample of the rows.") from None


def fit_one_point(X, opts: RunOptions) -> tuple[str, Fit]:
    """All rows are the same point: one cluster, whatever was asked, and why."""
    import clustra

    reason = ("every row is the same point in the columns used (no column varies), so they "
              "form one cluster; no k is picked from noise")
    asked = []
    if opts.algorithm not in ("kmeans", "auto"):
        asked.append(f"algorithm={opts.algorithm!r}")
    if opts.k not in ("auto", 1):
        asked.append(f"k={opts.k}")
    if asked:
        warnings.warn(f"all rows are the same point, so they are one cluster; "
                      f"{' and '.join(asked)} could not apply.", DataWarning, stacklevel=2)
    model = clustra.KMeans(n_clusters=1, random_state=opts.seed, n_init=1).fit(X)
    labels = np.zeros(X.shape[0], dtype=np.int64)
    return "kmeans", Fit(model, labels, {"n_clusters": 1, "n_init": 1, "random_state": opts.seed},
                         [Choice("k", 1, reason)])


ADAPTERS: dict[str, Callable[..., Fit]] = {
    "kmeans": fit_kmeans,
    "minibatch": fit_minibatch,
    "bisecting": fit_bisecting,
    "dbscan": fit_dbscan,
    "hdbscan": fit_hdbscan,
    "genie": fit_genie,
    "hierarchical": fit_hierarchical,
}


def _warn_two_valued(X) -> None:
    """Say so when some columns take two values only (one-hot text columns, flags).

    Such a column splits the rows into two groups with nothing between them, a
    gap that the density-based candidates report as clusters of their own.
    """
    two = [j for j in range(X.shape[1]) if np.unique(X[:, j]).shape[0] == 2]
    if two and len(two) < X.shape[1]:
        warnings.warn(
            f"{len(two)} of the {X.shape[1]} columns clustered take only two values "
            f"(one-hot encoded text columns or flags, for example). Each splits the rows into "
            f"two groups with a gap between them, which the automatic choice may report as "
            f"clusters of their own; to group the rows by the other columns, leave these out "
            f"(columns=...).", DataWarning, stacklevel=3)


def fit_auto(X, opts: RunOptions, progress: Progress = _silent) -> tuple[str, Fit, list]:
    """:func:`clustra.auto_cluster`: Genie, HDBSCAN and K-Means candidates, one chosen (or
    one cluster when there is no structure), with the reason.

    Returns ``(algorithm, fit, records)``: the winner's name ("auto" when
    there is no structure), the fit, whose model is the
    :class:`~clustra.auto.AutoResult` (its ``plot()`` and ``table``), and the
    candidates x criteria.
    """
    from clustra.auto import auto_cluster

    _warn_two_valued(X)
    progress(0, 1, "choosing among Genie, HDBSCAN and K-Means partitions")
    found = auto_cluster(X, k_max=opts.k_max, random_state=opts.seed)
    progress(1, 1, f"chose {found.algorithm} (k={found.k})")
    params = {"chosen": found.algorithm, "n_clusters": found.k, **found.params}
    algorithm = "auto" if found.algorithm == "none" else found.algorithm
    return algorithm, Fit(found, found.labels, params,
                          [Choice("algorithm", found.algorithm, found.reason)]), found.records
