"""Cluster the same data for several k: one fit per k, or one tree cut at every k."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from numbers import Integral

import numpy as np

from clustra.selection._kmeans_replay import kmeans_fits, replayable_kmeans

Progress = Callable[[int, int, str], None]


def default_estimator(random_state=None):
    """clustra's KMeans (imported here, on first use)."""
    from clustra.cluster.kmeans import KMeans

    return KMeans(random_state=random_state)


def check_k_values(k_range, n_samples: int, name: str = "k_range") -> np.ndarray:
    """Sorted, distinct, positive integer k values, each at most ``n_samples``."""
    try:
        values = [int(k) for k in k_range if isinstance(k, Integral) and not isinstance(k, bool)]
        given = list(k_range)
    except TypeError as exc:
        raise TypeError(f"{name} must be an iterable of integers, got {k_range!r}.") from exc
    if len(values) != len(given) or not values:
        raise ValueError(f"{name} must be a non-empty sequence of integers, got {k_range!r}.")
    k_values = np.unique(np.asarray(values, dtype=np.int64))
    if k_values[0] < 1:
        raise ValueError(f"{name} must hold k >= 1, got {int(k_values[0])}.")
    if k_values[-1] > n_samples:
        raise ValueError(
            f"{name} goes up to k={int(k_values[-1])} but there are only {n_samples} samples; "
            f"use k <= {n_samples}."
        )
    return k_values


def _estimator_seed(random_state):
    """Estimators take an int or RandomState: draw an int from a numpy Generator."""
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**31 - 1))
    return random_state


def prepare_estimator(estimator, random_state):
    """A fresh copy of ``estimator`` (default clustra.KMeans), seeded if it has no seed."""
    from sklearn.base import clone

    random_state = _estimator_seed(random_state)
    if estimator is None:
        return default_estimator(random_state)
    params = estimator.get_params(deep=False) if hasattr(estimator, "get_params") else None
    if params is None or "n_clusters" not in params:
        raise TypeError(
            f"estimator must be a scikit-learn style clusterer with an n_clusters parameter, "
            f"got {type(estimator).__name__}."
        )
    estimator = clone(estimator)
    if random_state is not None and "random_state" in params and params["random_state"] is None:
        estimator.set_params(random_state=random_state)
    return estimator


def fit_counter(progress: Progress | None, total: int) -> Callable[[int, str], None]:
    """``on_fit(k, message)`` for :func:`labels_for_k`: counts the fits and, when
    ``progress`` is given, calls ``progress(done, total, message)`` after each."""
    done = 0

    def on_fit(k: int, message: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total, message)

    return on_fit


class Fits:
    """The fits of one call of a criterion: a fresh, seeded copy of ``estimator``
    (:func:`prepare_estimator`) and the count of fits reported to ``progress``
    (``total`` expected)."""

    def __init__(self, estimator, random_state, progress: Progress | None, total: int):
        self.estimator = prepare_estimator(estimator, random_state)
        self.on_fit = fit_counter(progress, total)

    def labels(self, X: np.ndarray, k_values: Sequence[int]) -> dict[int, np.ndarray]:
        """:func:`labels_for_k` of X with this estimator, counting the fits."""
        return labels_for_k(X, k_values, self.estimator, on_fit=self.on_fit)


def labels_for_k(
    X: np.ndarray,
    k_values: Sequence[int],
    estimator,
    on_fit: Callable[[int, str], None] | None = None,
) -> dict[int, np.ndarray]:
    """Labels of ``X`` for every k: ``{k: labels}``.

    k = 1 needs no fit (every sample in cluster 0). An estimator whose fitted
    object has ``cut_range`` (clustra's Genie) or a ``tree_`` (clustra's
    AgglomerativeClustering) is fitted once and asked for every k
    (``cut_range``, else ``tree_.cut_range``); one whose tree only
    reaches its own ``n_clusters`` (``_tree_up_to_n_clusters``, clustra's
    BisectingKMeans) is fitted at the largest k; any other clusterer is
    cloned and refitted with ``n_clusters=k``; clustra's own KMeans is refitted
    without repeating its per-fit setup (:func:`clustra.selection._kmeans_replay.kmeans_fits`,
    same labels).
    ``on_fit(k, message)`` is called after each k is done.
    """
    from sklearn.base import clone

    labels: dict[int, np.ndarray] = {}
    pending = [int(k) for k in k_values]
    if pending and pending[0] == 1:
        labels[1] = np.zeros(X.shape[0], dtype=np.int64)
        pending.pop(0)
        if on_fit:
            on_fit(1, "k=1: one cluster, no fit needed")
    if pending and replayable_kmeans(estimator, X):
        fits = kmeans_fits(X, pending, estimator, on_fit)
        labels.update((k, fit[0]) for k, fit in fits.items())
        return labels
    up_to_k = getattr(estimator, "_tree_up_to_n_clusters", False)
    while pending:
        k = pending.pop(pending.index(max(pending)) if up_to_k else 0)
        fitted = clone(estimator).set_params(n_clusters=k).fit(X)
        labels[k] = np.asarray(fitted.labels_)
        if on_fit:
            on_fit(k, f"fitted {type(estimator).__name__} with k={k}")
        # The estimator's own cut_range (Genie: its k-partitions are not height cuts)
        # wins over its tree's.
        cutter = getattr(fitted, "cut_range", None)
        if cutter is None and hasattr(fitted, "tree_"):
            cutter = fitted.tree_.cut_range
        if cutter is not None and pending:
            cuts = np.asarray(cutter(pending))
            for row, k_cut in enumerate(pending):
                labels[k_cut] = cuts[row]
                if on_fit:
                    on_fit(k_cut, f"cut the tree at k={k_cut}")
            pending = []
    return labels
