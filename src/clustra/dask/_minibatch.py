"""Mini-batch K-Means streaming over the partitions of dask data (the model moves, not the data).

``fit`` chains one task per partition: the task receives the model (a few
k x d arrays), reads its partition on the worker that has it, shuffles the
rows with a generator seeded by (seed, epoch, partition), feeds them to
``clustra.MiniBatchKMeans.partial_fit`` in batches of ``batch_size`` and
returns the updated model. Only a window of partitions is submitted ahead,
so data that cannot be persisted stream through the workers' memory.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from dask import delayed
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin

import clustra.dask._data as _data
from clustra.cluster._params import (
    ARRAY_LIKE,
    RANDOM_STATE,
    Interval,
    Options,
    check_params,
)
from clustra.dask._predict import InMemoryModel


def _stream(model, block, weights, index, start, batch_size, seed, epoch):
    """partial_fit ``model`` on one partition, batch by batch; returns the model."""
    import copy

    rows = block  # checked by blocks_of
    w = np.ones(rows.shape[0], rows.dtype) if weights is None else weights
    model = copy.deepcopy(model)  # the task stays pure (it may run again)
    order = np.random.default_rng([seed, epoch, index]).permutation(rows.shape[0])
    from clustra import thread_limit

    with thread_limit(1):  # dask's worker threads are the parallelism
        for begin in range(0, rows.shape[0], batch_size):
            take = np.sort(order[begin:begin + batch_size])
            model.partial_fit(rows[take], sample_weight=w[take])
    return model


class MiniBatchKMeans(InMemoryModel, ClusterMixin, TransformerMixin, BaseEstimator):
    """Mini-batch K-Means over dask data that need not fit in the workers' memory.

    Parameters
    ----------
    n_clusters : int, default=8
    init : 'k-means++', 'random' or array, default='k-means++'
        As clustra.MiniBatchKMeans (k-means++ runs on the first batch).
    batch_size : int, default=4096
    n_epochs : int, default=1
        Passes over the data.
    random_state : int or None
    reassignment_ratio : float, default=0.01
    window : int or None, default=None
        Partitions submitted ahead of the one being fitted (None: two per worker thread).
    client : distributed.Client, optional

    Attributes
    ----------
    cluster_centers_ : ndarray (n_clusters, n_features)
    labels_ : dask array (n_samples,), int32, lazy (the final centres' labels)
    n_steps_ : int
    """

    def __init__(self, n_clusters=8, *, init="k-means++", batch_size=4096, n_epochs=1,
                 random_state=None, reassignment_ratio=0.01, window=None, client=None):
        _data.store_params(self, locals())

    _parameter_constraints = {
        "n_clusters": [Interval(Integral, 1, None)],
        "init": [Options("k-means++", "random"), ARRAY_LIKE],
        "batch_size": [Interval(Integral, 1, None)],
        "n_epochs": [Interval(Integral, 1, None)],
        "random_state": [RANDOM_STATE],
        "reassignment_ratio": [Interval(Real, 0.0, None)],
        "window": [Interval(Integral, 1, None), None],
        "client": _data.CLIENT,
    }

    def fit(self, X, y=None, sample_weight=None):
        """Stream the partitions of X through ``partial_fit`` (``n_epochs`` times)."""
        from distributed import wait

        from clustra.cluster.kmeans import MiniBatchKMeans as MemoryMiniBatchKMeans

        check_params(self)
        client = _data.get_client(self.client)
        blocks = _data.blocks_of(X, sample_weight, multiple=1)
        seed = int(np.random.RandomState(self.random_state).randint(2**31 - 1))
        model = MemoryMiniBatchKMeans(self.n_clusters, init=self.init,
                                      batch_size=self.batch_size, compute_labels=False,
                                      random_state=seed,
                                      reassignment_ratio=self.reassignment_ratio)
        window = self.window or 2 * _data.n_threads(client)
        current = client.scatter(model)
        pending = []
        for epoch in range(self.n_epochs):
            for i, block in enumerate(blocks.x):
                weights = None if blocks.weights is None else blocks.weights[i]
                current = client.compute(delayed(_stream, pure=False)(
                    current, block, weights, i, int(blocks.starts[i]), int(self.batch_size),
                    seed, epoch))
                pending.append(current)
                if len(pending) >= window:  # bound what is read ahead of the fit
                    wait(pending[0])
                    pending.pop(0)
        self._memory = current.result()
        self.cluster_centers_ = self._memory.cluster_centers_
        self.n_steps_ = self._memory.n_steps_
        self.n_features_in_ = blocks.n_features
        from clustra.dask._predict import predict

        self.labels_ = predict(self._memory, X)
        return self

