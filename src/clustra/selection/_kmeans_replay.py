"""Refit clustra's KMeans for many k on the same data, preparing the data once.

A sweep (``choose_k``, the gap statistic's reference sets, stability
resamples) fits one KMeans per k on the same rows. :func:`kmeans_fits` gives
exactly what ``clone(estimator).set_params(n_clusters=k).fit(X)`` gives,
through the estimator's own two steps: ``KMeans.prepare`` once (validation,
the mean, the centred copy, the tolerance, the weights, and what the runs
share), then ``KMeans.fit_prepared`` for every k. On top of that, k-means++
seeding is shared: with a fixed seed and one initialisation, the seeding for
k is the first k centres of the seeding for any larger k drawing the same
number of candidates per step (the draws are made in the same order), so one
seeding serves every k of that group and each fit starts from its prefix.
"""

from __future__ import annotations

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


def _candidates_per_step(n_clusters: int) -> int:
    """k-means++'s default number of candidate centres per step (as in kmeans._single)."""
    return 2 + int(np.log(n_clusters))


def _shares_seeding(model) -> bool:
    """Whether a fit of ``model`` starts from one k-means++ seeding of a fixed seed.

    (A seed of None draws from numpy's global state, differently for each k.)
    """
    return model.init == "k-means++" and model.n_init in ("auto", 1) and (
        model.random_state is not None
    )


def kmeans_fits(X, k_values, estimator, on_fit=None) -> dict[int, tuple]:
    """``{k: (labels, inertia, n_iter)}``, each equal to ``labels_``, ``inertia_``
    and ``n_iter_`` of ``clone(estimator).set_params(n_clusters=k).fit(X)``.

    ``X`` is already validated (finite float64, C-contiguous) and
    :func:`replayable_kmeans` holds. See the module docstring for what is shared.
    ``on_fit(k, message)`` is called after each k.
    """
    from sklearn.base import clone

    from clustra.cluster.kmeans._base import initial_centers

    k_values = [int(k) for k in k_values]
    prepared = clone(estimator).prepare(X)
    seeds: dict[int, np.ndarray] = {}  # candidates per step -> seeding of the group's largest k
    fits: dict[int, tuple] = {}
    for k in k_values:
        model = clone(estimator).set_params(n_clusters=k)  # a clone copies a RandomState seed
        start = None
        if _shares_seeding(model):
            trials = _candidates_per_step(k)
            if trials not in seeds:
                largest = max(j for j in k_values if _candidates_per_step(j) == trials)
                # The draws of model's own first initialisation, for the largest k.
                with model._threads(X.shape[0]):
                    seeds[trials] = initial_centers(
                        prepared.X, largest, None, "k-means++", model._random_state(),
                        prepared.weights,
                    )
            start = seeds[trials][:k].copy()
        model.fit_prepared(prepared, initial_centers=start)
        fits[k] = (model.labels_, model.inertia_, model.n_iter_)
        if on_fit:
            on_fit(k, f"fitted {type(estimator).__name__} with k={k}")
    return fits
