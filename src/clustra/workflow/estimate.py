"""How long a run will take, worked out from the rows, the features and the method.

The estimates are rough (within a factor of a few): their job is to say
"this will take about 20 minutes" before the work starts, and to refuse the
hierarchical methods where they would run for hours and suggest the ones
that scale. The rates below are deliberately on the slow side, so that a
fast machine finishes early rather than late.
"""

from __future__ import annotations

from collections.abc import Callable

from clustra.io import DataError

Notify = Callable[[str], None]

# Say so first when the estimate is above this many seconds.
LONG_WORK_SECONDS = 10.0
# Refuse hierarchical clustering estimated to take longer than this.
HIERARCHY_LIMIT_SECONDS = 600.0
# Seconds per unit of work: K-Means per (row x feature x cluster x iteration),
# the hierarchical methods per (pair of rows x feature), DBSCAN per row.
_KMEANS_RATE = 2e-9
_KMEANS_ITERATIONS = 30
_PAIR_RATE = {"ward": 8e-9, "single": 8e-9, "complete": 2e-8, "average": 2e-8}
# Single linkage in few dimensions runs on a KD-tree: about linear in the rows.
_TREE_DIMENSIONS, _TREE_RATE = 16, 2e-6
_DBSCAN_RATE = 2e-6
# choose_k's gap statistic: 10 reference sets of at most 1,000 rows per k.
_GAP_REFERENCES, _GAP_ROWS = 10, 1000
# Exact silhouettes up to this many rows (one O(n^2 d) pass per k).
_SILHOUETTE_EXACT = 10_000
# clustra.auto_cluster builds its candidates on a sample of at most 4,000 rows
# (about this many seconds), then labels every row from the sample.
_AUTO_SAMPLE_SECONDS = 3.0
# Algorithms whose k="auto" is a sweep over k (a fixed k skips it).
_SWEEPS = ("kmeans", "minibatch", "bisecting", "genie")


def _kmeans_seconds(n: int, d: int, k: int) -> float:
    return _KMEANS_RATE * n * d * max(k, 1) * _KMEANS_ITERATIONS


def _sweep_seconds(n: int, d: int, k_max: int) -> float:
    ks = range(1, k_max + 1)
    fits = sum(_kmeans_seconds(n, d, k) + _GAP_REFERENCES * _kmeans_seconds(min(n, _GAP_ROWS), d, k)
               for k in ks)
    silhouettes = (k_max - 1) * _PAIR_RATE["single"] * min(n, _SILHOUETTE_EXACT) ** 2 * d
    return fits + silhouettes


def hierarchy_seconds(n: int, d: int, linkage: str) -> float:
    """Estimated seconds for a hierarchical fit on ``n`` rows of ``d`` features."""
    if linkage == "single" and d <= _TREE_DIMENSIONS:
        return _TREE_RATE * n * max(d, 1)
    return _PAIR_RATE.get(linkage, _PAIR_RATE["ward"]) * n * n / 2 * max(d, 1)


def estimate_seconds(n: int, d: int, opts) -> float:
    """Estimated seconds for the whole fit of ``opts`` on an ``n`` x ``d`` matrix."""
    k = min(opts.k, n) if opts.k != "auto" else 8
    centroids = _sweep_seconds(n, d, opts.k_max) if opts.k == "auto" else _kmeans_seconds(n, d, k)
    dbscan = _DBSCAN_RATE * n * max(d, 1)
    if opts.algorithm in ("kmeans", "minibatch", "bisecting"):
        return centroids / (10.0 if opts.algorithm == "minibatch" else 1.0)
    if opts.algorithm == "dbscan":
        return dbscan
    if opts.algorithm == "hierarchical":
        return hierarchy_seconds(n, d, opts.linkage)
    if opts.algorithm in ("genie", "hdbscan"):  # a minimum spanning tree, as single linkage
        return 2.0 * hierarchy_seconds(n, d, "single")
    return _AUTO_SAMPLE_SECONDS + _TREE_RATE * n * max(d, 1)


def duration(seconds: float) -> str:
    """``"about 40 seconds"``, ``"about 3 minutes"``, ``"about 2.5 hours"``."""
    if seconds < 90:
        count = max(1, round(seconds))
        return f"about {count} second{'s' if count > 1 else ''}"
    if seconds < 5400:
        return f"about {round(seconds / 60)} minutes"
    return f"about {seconds / 3600:.1f} hours"


def scalable_alternatives(linkage: str | None = None) -> str:
    """The methods that scale, in the library's words (the command translates them)."""
    ways = []
    if linkage != "single":
        ways.append("linkage='single' (a minimum spanning tree, fast in few dimensions)")
    ways.append("algorithm='genie', 'hdbscan', 'kmeans' or 'minibatch'")
    return ", ".join(ways)


def warn_if_long(X, opts, notify: Notify | None) -> None:
    """Refuse hierarchical work that would take hours; tell ``notify`` of long work."""
    n, d = X.shape
    seconds = estimate_seconds(n, d, opts)
    if opts.algorithm == "hierarchical" and seconds > HIERARCHY_LIMIT_SECONDS:
        raise DataError(
            f"hierarchical {opts.linkage} linkage on {n:,} rows would take {duration(seconds)} "
            "(its time grows with the square of the rows); for data this size use "
            f"{scalable_alternatives(opts.linkage)}, or cluster a sample of the rows "
            "(clustra.AgglomerativeClustering in Python sets no time limit).")
    if notify is not None and seconds > LONG_WORK_SECONDS:
        method = (f"hierarchical {opts.linkage} linkage" if opts.algorithm == "hierarchical"
                  else opts.algorithm)
        hint = ""
        if opts.algorithm == "hierarchical":
            hint = f"; faster: {scalable_alternatives(opts.linkage)}"
        elif opts.k == "auto" and opts.algorithm in _SWEEPS:
            hint = "; a fixed k= skips the sweep over k"
        notify(f"{method} on {n:,} rows x {d} features will take {duration(seconds)}{hint}.")
