"""K-Means on a Dask cluster: clustra's Lloyd pass on every block, the sums added on the client.

One Lloyd iteration is one pass of clustra's fused kernel over every block:
the block (centred once, kept on its worker unless the data outgrow the
workers' memory) is scored against the centres, and its per-kernel-chunk
sums are kept from pass to pass so that only the rows that change cluster
move. Each block sends its (k, d) float64 sums, (k,) weights and the number
of labels that changed to the client, which adds them in block order and
computes the new centres. The data never leave the workers; per iteration
the client sends the (k, d) centres to every worker and receives
``k (d + 1)`` floats per block back. Persisted blocks are held and scored by
one actor per worker (:mod:`clustra.dask._actors`); blocks read again every
pass by one task per block (:mod:`clustra.dask._lloyd`).

What holds against in-memory ``clustra.KMeans(init=centres, algorithm="lloyd")``
from the same initial centres: the blocks are cut at multiples of the
kernels' chunk of 1,024 rows, the data are centred on their mean as in memory
and every row is scored by the same code path, so each row gets the same
label whenever the centres are the same. The centres are the same up to the
rounding of the order in which the sums are added (the client adds block
totals; in memory every 1,024-row chunk total is added in turn): a few units
in the last place. So the labels are identical unless a row lies within that
rounding of two centres' bisector, and ``n_iter_`` is the same unless the
stopping test lands within rounding of ``tol``.
"""

from __future__ import annotations

import logging
import time
import warnings
from numbers import Integral, Real

import numpy as np
from dask import delayed
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.exceptions import ConvergenceWarning

import clustra.dask._actors as _actors
import clustra.dask._data as _data
import clustra.dask._init as init_methods
import clustra.dask._kmeans_steps as steps
import clustra.dask._lloyd as _lloyd
from clustra.cluster._params import (
    ARRAY_LIKE,
    CALLABLE,
    Interval,
    Options,
    check_params,
)
from clustra.cluster.kmeans._base import COMMON_CONSTRAINTS, check_centers
from clustra.dask._predict import InMemoryModel

logger = logging.getLogger("clustra.dask")

INITS = ("k-means||", "k-means++")


class KMeans(InMemoryModel, ClusterMixin, TransformerMixin, BaseEstimator):
    """K-Means (Lloyd) on a Dask cluster, with the labels of in-memory ``clustra.KMeans``.

    Parameters
    ----------
    n_clusters : int, default=8
    init : {'k-means||', 'k-means++'} or array of shape (n_clusters, n_features)
        'k-means||' (default): Bahmani et al.'s scalable k-means++ (see
        :mod:`clustra.dask._init`); 'k-means++': clustra's k-means++ on a
        uniform sample of ``init_sample_size`` rows; an array gives the centres.
    n_init : 'auto' or 1, default='auto'
        One initialisation (several full distributed fits are rarely worth it).
    max_iter : int, default=300
    tol : float, default=1e-4
        As clustra.KMeans: relative to the mean feature variance.
    verbose : int, default=0
        With verbose > 0 every iteration is logged at INFO level on the
        ``clustra.dask`` logger (it is logged at DEBUG level anyway).
    random_state : int or None, default=None
    algorithm : {'lloyd', 'auto'}, default='lloyd'
        Lloyd only ('auto' means Lloyd).
    oversampling_factor : float, default=2.0
        k-means||: candidates drawn per round, in multiples of n_clusters.
    init_max_iter : int, default=5
        k-means||: rounds of drawing.
    init_sample_size : int, default=100_000
        k-means++: rows in the sample it runs on.
    persist : 'auto' or bool, default='auto'
        Keep the centred blocks in the workers' memory during the fit ('auto':
        when they take at most half the workers' memory limits together);
        otherwise every iteration reads the input again. Kept blocks are held
        by one actor per worker until the fit ends, so dask cannot spill them
        to disk meanwhile: ``persist=True`` on data near the workers' memory
        limits risks the workers being restarted.
    callback : callable, optional
        Called after every iteration with a dict: iteration, n_changed,
        shift (the squared centre shifts summed), seconds.
    client : distributed.Client, optional
        Default: the active client.

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
    labels_ : dask array of shape (n_samples,), int32
    inertia_ : float
    n_iter_ : int
    n_features_in_ : int
    iteration_seconds_ : list of float
        Wall time of each Lloyd iteration (client to client).
    """

    def __init__(self, n_clusters=8, *, init="k-means||", n_init="auto", max_iter=300,
                 tol=1e-4, verbose=0, random_state=None, algorithm="lloyd",
                 oversampling_factor=2.0, init_max_iter=5, init_sample_size=100_000,
                 persist="auto", callback=None, client=None):
        _data.store_params(self, locals())

    _parameter_constraints = {
        **{name: COMMON_CONSTRAINTS[name]
           for name in ("n_clusters", "max_iter", "tol", "verbose", "random_state")},
        "init": [Options(*INITS), ARRAY_LIKE],
        "n_init": [Options("auto", 1)],
        "algorithm": [Options("lloyd", "auto")],
        "oversampling_factor": [Interval(Real, 0.0, None, closed="neither")],
        "init_max_iter": [Interval(Integral, 1, None)],
        "init_sample_size": [Interval(Integral, 1, None)],
        "persist": [Options("auto", True, False)],
        "callback": [CALLABLE, None],
        "client": _data.CLIENT,
    }
    _parameter_hints = {
        "algorithm": "clustra.dask.KMeans runs Lloyd's algorithm only.",
        "n_init": "One initialisation on a cluster ('k-means||' is the careful one).",
    }

    def _check_params(self, n_samples):
        from clustra.cluster._common import check_n_clusters

        return check_n_clusters(self.n_clusters, n_samples)

    def fit(self, X, y=None, sample_weight=None):
        """Compute the clustering of a dask array or dataframe (never gathered).

        Parameters
        ----------
        X : dask array of shape (n_samples, n_features), or a dask dataframe
            of numeric columns.
        y : ignored
        sample_weight : dask array of shape (n_samples,), optional

        Returns
        -------
        self
        """
        check_params(self)
        client = _data.get_client(self.client)
        blocks = _data.blocks_of(X, sample_weight)
        n, d = blocks.n_samples, blocks.n_features
        n_clusters = self._check_params(n)
        seed = int(np.random.RandomState(self.random_state).randint(2**31 - 1))
        dtype = blocks.dtype
        blas, columns = steps.layout(n, n_clusters, d)
        weights = blocks.weights
        if weights is not None:
            weights = client.compute(weights)  # futures
        moments = [delayed(steps.block_moments)(b, self.tol > 0) for b in blocks.x]
        stats = delayed(steps.mean_and_tol)(moments, n, dtype, self.tol)
        persisted = self._persist(client, n, d, dtype)
        if persisted:
            # One graph: the blocks are read and checked once, each freed as soon
            # as it is centred, and the client waits once rather than twice.
            *data, stats = client.compute(
                [delayed(steps.centred_block)(b, stats, columns) for b in blocks.x] + [stats])
            mean, tol = stats.result()
        else:  # the blocks are read again by every pass: centred on a known mean
            mean, tol = client.compute(stats).result()
            data = [delayed(steps.centred_block)(b, mean, columns) for b in blocks.x]
        rows = data if not columns else [delayed(steps.rows_of)(b, True) for b in data]
        centers = self._initial_centers(client, rows, weights, n_clusters, d, dtype, mean,
                                        seed, n)
        passes = (_actors.ActorPasses if persisted else _lloyd.Passes)(
            client, data, weights, blocks.starts, blas=blas, columns=columns)
        outs, centers, n_iter, finals = self._lloyd(passes, centers, tol)
        inertia = 0.0
        for block in finals:  # in block order
            inertia += block.inertia
        distinct = int(np.logical_or.reduce([block.seen for block in finals]).sum())
        if distinct < n_clusters:
            warnings.warn(f"Number of distinct clusters ({distinct}) found smaller than "
                          f"n_clusters ({n_clusters}). Possibly due to duplicate points in X.",
                          ConvergenceWarning, stacklevel=2)
        self._finish(passes.labels(outs, blocks.sizes), blocks, centers, mean, n_iter, inertia, d)
        return self

    def _persist(self, client, n, d, dtype) -> bool:
        if self.persist != "auto":
            return bool(self.persist)
        return n * d * np.dtype(dtype).itemsize <= 0.5 * _data.total_memory_limit(client)

    def _initial_centers(self, client, rows, weights, n_clusters, d, dtype, mean, seed, n):
        if not isinstance(self.init, str):
            centers = check_centers(self.init, n_clusters, d, dtype, "initial centres")
            centers -= mean
            return centers
        if self.init == "k-means++":
            from clustra.cluster.kmeans import kmeans_plusplus

            sample, w = init_methods.sample_rows(client, rows, weights, self.init_sample_size,
                                                 seed, n_samples=n)
            if sample.shape[0] < n_clusters:
                sample, w = init_methods.sample_rows(client, rows, weights, n, seed, n)
            centers, _ = kmeans_plusplus(sample, n_clusters, sample_weight=w.astype(dtype),
                                         random_state=seed)
            return np.ascontiguousarray(centers, dtype=dtype)
        centers = init_methods.kmeans_parallel(client, rows, weights, n_clusters, seed,
                                               rounds=self.init_max_iter,
                                               factor=float(self.oversampling_factor))
        return np.ascontiguousarray(centers, dtype=dtype)

    def _lloyd(self, passes, centers, tol):
        """The Lloyd iterations: (last pass's outputs, centres, n_iter, per-block finals)."""
        outs = None
        self.iteration_seconds_ = []
        for iteration in range(self.max_iter):
            began = time.perf_counter()
            outs, totals, _ = passes.lloyd(outs, centers)
            sums = np.zeros(centers.shape, dtype=np.float64)
            weight_sums = np.zeros(centers.shape[0])
            n_changed = 0
            for block_totals in totals:  # in block order: the result does not depend on timing
                sums += block_totals.sums
                weight_sums += block_totals.weight_sums
                n_changed += block_totals.n_changed
            empty = np.flatnonzero(weight_sums == 0)
            if empty.size:
                passes.relocate(outs, centers, empty, sums, weight_sums)
            centers, shift = steps.new_centers(sums, weight_sums, centers)
            shift2 = float(np.dot(shift, shift))
            seconds = time.perf_counter() - began
            self.iteration_seconds_.append(seconds)
            self._report(iteration + 1, n_changed, shift2, seconds)
            if n_changed == 0:  # strict convergence: the labels match the centres
                return outs, centers, iteration + 1, passes.finals(outs, centers)
            if shift2 <= tol:
                break
        # labels to match the final centres, as in memory, and the result scored
        outs, _, finals = passes.lloyd(outs, centers, final=True)
        return outs, centers, iteration + 1, finals

    def _report(self, iteration, n_changed, shift2, seconds):
        level = logging.INFO if self.verbose else logging.DEBUG
        logger.log(level, "KMeans iteration %d: %d labels changed, centre shift %.3g, %.3f s",
                   iteration, n_changed, shift2, seconds)
        if self.callback is not None:
            self.callback({"iteration": iteration, "n_changed": n_changed, "shift": shift2,
                           "seconds": seconds})

    def _finish(self, labels, blocks, centers, mean, n_iter, inertia, d):
        self._memory = steps.memory_model(centers, mean, n_iter, inertia, d,
                                          blocks.feature_names)
        self.cluster_centers_ = self._memory.cluster_centers_
        self.labels_ = labels
        self.inertia_ = float(inertia)
        self.n_iter_ = int(n_iter)
        self.n_features_in_ = d
        if blocks.feature_names is not None:
            self.feature_names_in_ = blocks.feature_names

    def score(self, X, y=None, sample_weight=None):
        """Opposite of the inertia of X: a lazy dask scalar (``.compute()`` it)."""
        from clustra.dask._predict import score

        return score(self.to_memory(), X, sample_weight)
