"""``auto_cluster``: the clusters a person would see, without a k."""

from __future__ import annotations

import contextlib
from numbers import Integral

import numpy as np

from clustra.auto import _candidates as cands
from clustra.auto import _criteria as crit
from clustra.auto import _rule as rule
from clustra.auto._result import COLUMNS, AutoResult

THRESHOLDS = (0.1, 0.3, 0.5, 0.7)
MIN_CLUSTER_SIZES = (10, 25, 50)


def _check(X, k_max, sample_size, score_size, n_refs):
    from clustra.metrics._checks import check_data

    X = check_data(X)
    if X.shape[0] < 2:
        raise ValueError(f"auto_cluster needs at least 2 rows, got {X.shape[0]}.")
    for name, value, low in (("k_max", k_max, 2), ("sample_size", sample_size, 10),
                             ("score_size", score_size, 10), ("n_refs", n_refs, 1)):
        if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
            raise ValueError(f"auto_cluster: {name} must be an integer >= {low}, got {value!r}.")
    return X


def _score(X, candidates, rows=None) -> None:
    """The criteria of every candidate on the rows ``rows`` of ``X`` (all rows if None), and
    the size of its smallest cluster there."""
    from clustra._kernels.mst import mst_edges

    scored = X if rows is None else np.ascontiguousarray(X[rows])
    tree = mst_edges(scored, "euclidean", 1)
    tree = crit.SampleTree(tree.low, tree.high, tree.weight, crit.core_distances(scored))
    for c in candidates:
        labels = c.labels if rows is None else np.unique(c.labels[rows], return_inverse=True)[1]
        c.scores = {"separation": crit.separation(tree, labels),
                    "calinski_harabasz": crit.calinski_harabasz(scored, labels),
                    "weakest_gap": crit.weakest_gap(tree, labels),
                    "prominence": crit.prominence(tree, labels),
                    # A cluster with no scored row counts as empty, not as absent.
                    "smallest": float(np.bincount(labels).min()
                                      if int(labels.max()) + 1 == c.k else 0)}


def _build(X, k_values, random_state, score_rows=None):
    """Candidates for ``X`` (float64 (m, d)), scored on ``score_rows`` (all rows if None)."""
    from clustra._kernels.mst import mst_edges

    tree = mst_edges(np.ascontiguousarray(X), "euclidean", 1)
    candidates = cands.all_candidates(X, tree, k_values=k_values, thresholds=THRESHOLDS,
                                      min_cluster_sizes=MIN_CLUSTER_SIZES,
                                      random_state=random_state)
    _score(X, candidates, score_rows)
    return candidates


def _convex(X, k_values, random_state):
    """K-Means candidates for ``X`` with their Calinski-Harabasz index only (all a tailed
    reference set is used for)."""
    candidates = cands.kmeans_candidates(X, k_values, random_state)
    for c in candidates:
        c.scores = {"calinski_harabasz": crit.calinski_harabasz(X, c.labels)}
    return candidates


def _label_all(X, sample, winner, sample_rows):
    """Labels for every row: the sample's own, the nearest centre or nearest sample point."""
    if winner is None:
        return np.zeros(X.shape[0], dtype=np.int64)
    if sample_rows.shape[0] == X.shape[0]:
        return winner.labels.astype(np.int64)
    from scipy.spatial import cKDTree

    points = winner.centers if winner.centers is not None else sample
    _, nearest = cKDTree(points).query(X, k=1)
    labels = np.arange(points.shape[0]) if winner.centers is not None else winner.labels
    out = np.asarray(labels, dtype=np.int64)[nearest]
    out[sample_rows] = winner.labels
    return out


def _record(c, chosen) -> dict:
    row = {"algorithm": c.algorithm, "params": dict(c.params), "k": c.k, "family": c.family,
           "chosen": c is chosen}
    row.update({name: c.scores.get(name, np.nan) for name in COLUMNS if name not in row})
    return row


def auto_cluster(X, *, k_max: int = 12, random_state=0, n_jobs=None, sample_size: int = 4000,
                 score_size: int = 1000, n_refs: int = 3) -> AutoResult:
    """Find the clusters in ``X`` without being told k, or say there are none.

    Candidates (Genie at Gini thresholds 0.1-0.7 and HDBSCAN at
    ``min_cluster_size`` 5-50, from one spanning tree; K-Means for k = 2..k_max)
    are built on a sample of ``sample_size`` rows and scored on two criteria,
    each divided by its value for the same method on ``n_refs``
    structureless reference sets of the same size and shape (see
    :mod:`clustra.auto._rule`): a partition with clear gaps wins if the data
    is multimodal seen along one of its axes (a dip test); failing that, a
    K-Means partition that explains clearly more variance than on noise (its
    margin widened by ``n_refs`` more reference sets that keep the data's
    tails); failing that, separate density modes; failing that, one cluster.
    Every row is then labelled (nearest K-Means centre, or the label of its
    nearest sample row); an HDBSCAN winner keeps as noise (-1) the scattered
    points between its clusters (see :mod:`clustra.auto._noise`).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Numeric, finite. Scale the columns first if their units differ.
    k_max : int, default=12
        Largest number of clusters tried.
    random_state : int, default=0
        Seeds the sample, the reference sets and K-Means: same seed, same answer.
    n_jobs : int, optional
        Threads for the kernels (None: clustra's setting).
    sample_size : int, default=4000
        Rows the candidates are built on (a random sample when there are more).
    score_size : int, default=1000
        Rows of that sample the criteria are worked out on, and the size of
        each reference set.
    n_refs : int, default=3
        Structureless reference sets per calibration (of each of the two kinds).

    Returns
    -------
    AutoResult
        ``labels``, ``algorithm``, ``params``, ``k``, ``reason``, ``table``, ``plot()``.

    Examples
    --------
    >>> import numpy as np, clustra
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(0, 0.3, (100, 2)), rng.normal(5, 0.3, (100, 2))])
    >>> clustra.auto_cluster(X).k  # doctest: +SKIP
    2
    """
    from clustra._config import thread_limit

    X = _check(X, k_max, sample_size, score_size, n_refs)
    rng = np.random.default_rng(random_state)
    n = X.shape[0]
    rows = np.arange(n) if n <= sample_size else np.sort(rng.choice(n, sample_size, replace=False))
    sample = np.ascontiguousarray(X[rows])
    if np.ptp(sample, axis=0).max(initial=0.0) == 0.0 or np.unique(sample, axis=0).shape[0] < 3:
        return AutoResult(np.zeros(n, dtype=np.int64), "none", {}, 1,
                          "No cluster structure: the rows are (almost all) identical, so all "
                          "rows form one cluster.", "none", [], rows, None, X)
    k_values = list(range(2, min(k_max, sample.shape[0] - 1) + 1))
    seed = int(rng.integers(0, 2**31 - 1))
    threads = contextlib.nullcontext() if n_jobs is None else thread_limit(
        None if n_jobs == -1 else int(n_jobs))
    with threads:
        m = sample.shape[0]
        scored = None if m <= score_size else np.sort(rng.choice(m, score_size, replace=False))
        candidates = _build(sample, k_values, seed, scored)
        from clustra.auto._reference import marginal_sampler
        from clustra.selection.gap import reference_sampler

        size = min(m, score_size)
        ref_k = k_values[: max(size - 2, 1)]
        draw = reference_sampler(sample, "pca")
        references = [_build(draw(size, rng), ref_k, seed) for _ in range(n_refs)]
        draw = marginal_sampler(sample)
        tailed = [_convex(draw(size, rng), ref_k, seed) for _ in range(n_refs)]
    rule.calibrate(candidates, rule.reference_means(references, tailed))
    winner, reason, regime = rule.choose(candidates, k_max, sample)
    labels = _label_all(X, sample, winner, rows)
    if winner is not None and winner.raw is not None and regime == "gaps":
        from clustra.auto._noise import background

        labels = background(X, sample, winner.raw, labels, rows)
        n_noise = int((labels < 0).sum())
        if n_noise:
            lie = "row lies" if n_noise == 1 else "rows lie"
            reason += (f" {n_noise} {lie} between the clusters, outside every cluster's "
                       f"reach, and are labelled noise (-1).")
    return AutoResult(
        labels=labels,
        algorithm=winner.algorithm if winner else "none",
        params=dict(winner.params) if winner else {},
        k=winner.k if winner else 1,
        reason=reason,
        regime=regime,
        records=[_record(c, winner) for c in candidates],
        sample_rows=rows,
        runner_up=_runner_up(candidates, winner),
        X=X,
        candidates=candidates,
    )


def _runner_up(candidates, winner):
    """The best candidate of the other regime (or of the density family when none won)."""
    family = cands.DENSITY if winner is None or winner.family == cands.CONVEX else cands.CONVEX
    score = "separation_ratio" if family == cands.DENSITY else "calinski_harabasz_ratio"
    pool = [c for c in candidates if c.family == family and np.isfinite(c.scores[score])]
    if not pool:
        return None
    best = max(pool, key=lambda c: c.scores[score])
    return {"record": _record(best, winner), "labels": best.labels, "name": rule.describe(best)}
