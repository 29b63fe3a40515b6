"""Refit clustra's KMeans for many k on the same data, as the estimator would.

A sweep (``choose_k``, the gap statistic's reference sets, stability
resamples) fits one KMeans per k on the same rows. :func:`kmeans_fits` gives
exactly what ``clone(estimator).set_params(n_clusters=k).fit(X)`` gives, while
doing once what every fit would repeat:

- the set-up that depends on X alone (validation, the mean, the centred copy,
  the tolerance, the weights) and the thread context;
- k-means++ seeding: with a fixed seed and one initialisation, the seeding for
  k is the first k centres of the seeding for any larger k drawing the same
  number of candidates per step (the draws are made in the same order), so
  one seeding serves every k of that group and each fit starts from its prefix.

It mirrors ``KMeans.fit`` and shares its pieces (``centre_on_mean``,
``_best_of_runs``, ``warn_if_clusters_empty``); a change to the order of the
steps in ``fit`` must be made here too (tests/selection/test_fitting.py
compares labels, inertia and n_iter exactly).
"""

from __future__ import annotations

import copy

import numpy as np


def replayable_kmeans(estimator, X) -> bool:
    """clustra's own KMeans (not a subclass) with a named init, on float64 C-contiguous X."""
    from clustra.cluster.kmeans import KMeans

    return (
        type(estimator) is KMeans
        and isinstance(estimator.init, str)
        and X.dtype == np.float64
        and X.flags.c_contiguous
    )


def _fresh_random_state(seed):
    """The RandomState a fresh clone's fit draws from (a clone deep-copies a RandomState)."""
    from sklearn.utils import check_random_state

    return check_random_state(
        copy.deepcopy(seed) if isinstance(seed, np.random.RandomState) else seed
    )


def _candidates_per_step(n_clusters: int) -> int:
    """k-means++'s default number of candidate centres per step (as in _kmeans_single)."""
    return 2 + int(np.log(n_clusters))


def kmeans_fits(X, k_values, estimator, on_fit=None) -> dict[int, tuple]:
    """``{k: (labels, inertia, n_iter)}``, each equal to ``labels_``, ``inertia_``
    and ``n_iter_`` of ``clone(estimator).set_params(n_clusters=k).fit(X)``.

    ``X`` is already validated (finite float64, C-contiguous) and
    :func:`replayable_kmeans` holds. See the module docstring for what is shared.
    ``on_fit(k, message)`` is called after each k.
    """
    from sklearn.base import clone

    from clustra.cluster._common import check_sample_weight
    from clustra.cluster.kmeans import _single as single
    from clustra.cluster.kmeans._base import resolve_n_init
    from clustra.cluster.kmeans._estimator import (
        centre_on_mean,
        choose_algorithm,
        warn_if_clusters_empty,
    )

    model = clone(estimator)
    weights = check_sample_weight(None, X.shape[0], X.dtype)
    k_values = [int(k) for k in k_values]
    seeds: dict[int, np.ndarray] = {}  # candidates per step -> seeding of the group's largest k
    fits: dict[int, tuple] = {}
    with model._threads(X.shape[0]):
        centred = np.empty_like(X)
        _, tol = centre_on_mean(X, centred, model.tol)
        shared: dict[str, dict] = {}  # the runners' data for X, made once for every k
        for k in k_values:
            model.set_params(n_clusters=k)
            n_clusters, kind = model._check_common_params(centred)
            algorithm = choose_algorithm(model.algorithm, X.shape[0], n_clusters, X.shape[1])
            n_init = resolve_n_init(model.n_init, kind, default=10)
            random_state = _fresh_random_state(model.random_state)
            # A seed of None draws from numpy's global state, differently for each k.
            if kind == "k-means++" and n_init == 1 and model.random_state is not None:
                trials = _candidates_per_step(n_clusters)
                if trials not in seeds:
                    largest = max(j for j in k_values if _candidates_per_step(j) == trials)
                    seeds[trials], _ = single.kmeans_plusplus(
                        centred, largest, weights, random_state, trials
                    )
                init, kind = seeds[trials][:n_clusters].copy(), "array"
            else:
                init = None
            if algorithm not in shared:
                shared[algorithm] = single.shared_data(algorithm, centred)
            best = model._best_of_runs(centred, weights, init, kind, n_init, random_state, tol,
                                       algorithm, n_clusters, shared[algorithm])
            fits[k] = (best[0], float(best[1]), int(best[3]))
            warn_if_clusters_empty(best[0], n_clusters, stacklevel=4)
            if on_fit:
                on_fit(k, f"fitted {type(estimator).__name__} with k={k}")
    return fits
