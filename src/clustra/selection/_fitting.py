"""Cluster the same data for several k: one fit per k, or one tree cut at every k."""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Sequence
from numbers import Integral

import numpy as np

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


def labels_for_k(
    X: np.ndarray,
    k_values: Sequence[int],
    estimator,
    on_fit: Callable[[int, str], None] | None = None,
) -> dict[int, np.ndarray]:
    """Labels of ``X`` for every k: ``{k: labels}``.

    k = 1 needs no fit (every sample in cluster 0). An estimator whose fitted
    object has a ``tree_`` (clustra's AgglomerativeClustering) is fitted once
    and its tree cut at every k (``tree_.cut_range``); any other clusterer is
    cloned and refitted with ``n_clusters=k``; clustra's own KMeans is refitted
    without repeating its per-fit setup (:func:`_kmeans_fits`, same labels).
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
    if pending and _replayable_kmeans(estimator, X):
        fits = _kmeans_fits(X, pending, estimator, on_fit)
        labels.update((k, fit[0]) for k, fit in fits.items())
        return labels
    while pending:
        k = pending.pop(0)
        fitted = clone(estimator).set_params(n_clusters=k).fit(X)
        labels[k] = np.asarray(fitted.labels_)
        if on_fit:
            on_fit(k, f"fitted {type(estimator).__name__} with k={k}")
        if hasattr(fitted, "tree_") and pending:
            cuts = np.asarray(fitted.tree_.cut_range(pending))
            for row, k_cut in enumerate(pending):
                labels[k_cut] = cuts[row]
                if on_fit:
                    on_fit(k_cut, f"cut the tree at k={k_cut}")
            pending = []
    return labels


def _replayable_kmeans(estimator, X) -> bool:
    """clustra's own KMeans (not a subclass) with a named init, on float64 C-contiguous X."""
    from clustra.cluster.kmeans import KMeans

    return (
        type(estimator) is KMeans
        and isinstance(estimator.init, str)
        and X.dtype == np.float64
        and X.flags.c_contiguous
    )


def _kmeans_fits(X, k_values, estimator, on_fit=None) -> dict[int, tuple]:
    """``{k: (labels, inertia, n_iter)}``, each equal to ``labels_``, ``inertia_``
    and ``n_iter_`` of ``clone(estimator).set_params(n_clusters=k).fit(X)``.

    ``X`` is already validated (finite float64, C-contiguous). What ``KMeans.fit``
    works out from X alone (validation, the mean, the centred copy, the
    tolerance, the weights) is done once for every k, the same way, and all
    fits run in one thread context (on one thread when X fits in one kernel
    chunk, as the estimator's would); each k then runs the estimator's own
    ``_best_of_runs`` with the draws a fresh clone would make. A sweep's fits on
    small reference sets are thereby spared most of their fixed cost, with the
    same labels. This mirrors ``KMeans.fit``'s set-up: a change there must be
    made here too (tests/selection/test_fitting.py compares the labels).
    """
    from sklearn.base import clone
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.utils import check_random_state

    from clustra._kernels import kmeans as kernels
    from clustra.cluster._kmeans_base import resolve_n_init
    from clustra.cluster._validation import check_sample_weight
    from clustra.cluster.kmeans import choose_algorithm

    model = clone(estimator)
    weights = check_sample_weight(None, X.shape[0], X.dtype)
    fits: dict[int, tuple] = {}
    with model._threads(X.shape[0]):
        # As KMeans.fit: the mean from the kernel's column sums, one pass for the
        # centred copy and the variances behind the tolerance.
        x_mean = (kernels.column_sums(X) / X.shape[0]).astype(X.dtype)
        centred = np.empty_like(X)
        tol = float(np.mean(kernels.centre(X, x_mean, centred)) * model.tol)
        for k in k_values:
            model.set_params(n_clusters=int(k))
            n_clusters, kind = model._check_common_params(centred)
            algorithm = choose_algorithm(model.algorithm, X.shape[0], n_clusters, X.shape[1])
            n_init = resolve_n_init(model.n_init, kind, default=10)
            # A clone deep-copies a RandomState, so every fit starts from its state.
            seed = model.random_state
            random_state = check_random_state(
                copy.deepcopy(seed) if isinstance(seed, np.random.RandomState) else seed
            )
            best = model._best_of_runs(centred, weights, None, kind, n_init, random_state, tol,
                                       algorithm, n_clusters)
            fits[int(k)] = (best[0], float(best[1]), int(best[3]))
            distinct = np.count_nonzero(np.bincount(best[0], minlength=n_clusters))
            if distinct < n_clusters:
                warnings.warn(
                    f"Number of distinct clusters ({distinct}) found smaller than n_clusters "
                    f"({n_clusters}). Possibly due to duplicate points in X.",
                    ConvergenceWarning,
                    stacklevel=3,
                )
            if on_fit:
                on_fit(int(k), f"fitted {type(estimator).__name__} with k={int(k)}")
    return fits
