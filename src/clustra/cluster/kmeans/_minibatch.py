"""Mini-batch K-Means (scikit-learn's algorithm on clustra's kernels)."""

from __future__ import annotations

import warnings
from numbers import Real

import numpy as np

import clustra.cluster.kmeans._single as single
from clustra._docs import fill_doc
from clustra._kernels import kmeans as kernels
from clustra._kernels import kmeans_data as data_kernels
from clustra.cluster._common import FLOAT_DTYPES, check_sample_weight, validate_X
from clustra.cluster._params import BOOLEAN, Interval, store_parameters
from clustra.cluster.kmeans._base import (
    COMMON_CONSTRAINTS,
    POSITIVE_INT,
    BaseKMeans,
    init_kind,
    initial_centers,
    resolve_n_init,
    tolerance,
    writeable,
)


def minibatch_step(X, weights, centers, counts, random_state, reassign, reassignment_ratio):
    """Assign a batch, move the centres towards it, maybe reseed starved centres.

    ``centers`` ((k, d), X's dtype) and ``counts`` ((k,), X's dtype, the weight
    each centre has absorbed so far) are updated in place. Returns the batch
    inertia against the centres before the move.
    """
    n_clusters, n_features = centers.shape
    labels = np.full(X.shape[0], -1, dtype=np.int32)
    sums = np.zeros((n_clusters, n_features))
    weight_sums = np.zeros(n_clusters)
    with single.threads_for(X.shape[0]):
        kernels.lloyd_pass(
            X, weights, centers, single.neg_half_norms(centers), labels, sums, weight_sums,
            kernels.group_size(n_clusters, n_features), False,
        )
        batch_inertia = data_kernels.inertia(X, weights, centers, labels)
    filled = weight_sums > 0
    old_counts = counts[filled].astype(np.float64)
    new_counts = old_counts + weight_sums[filled]
    moved = centers[filled].astype(np.float64) * old_counts[:, None] + sums[filled]
    centers[filled] = moved / new_counts[:, None]
    counts[filled] = new_counts

    if reassign and reassignment_ratio > 0:
        to_reassign = counts < reassignment_ratio * counts.max()
        # Reseed at most half a batch's worth of centres at once.
        if to_reassign.sum() > 0.5 * X.shape[0]:
            keep = np.argsort(counts, kind="stable")[int(0.5 * X.shape[0]):]
            to_reassign[keep] = False
        n_reassign = int(to_reassign.sum())
        if n_reassign:
            rows = random_state.choice(X.shape[0], replace=False, size=n_reassign)
            centers[to_reassign] = X[rows]
            # Not too small, or they would be reseeded again at once.
            counts[to_reassign] = np.min(counts[~to_reassign])
    return batch_inertia


class MiniBatchKMeans(BaseKMeans):
    """Mini-batch K-Means: cheap approximate K-Means on random batches.

    Parameters
    ----------
    n_clusters : int, default=8
    init : {'k-means++', 'random'}, callable or array of shape (n_clusters, n_features)
        As :class:`KMeans` (computed on ``init_size`` random rows).
    max_iter : int, default=100
        Maximum number of passes over the data (in batches).
    batch_size : int, default=1024
    verbose : int, default=0
        Kept for scikit-learn compatibility; progress is not printed.
    compute_labels : bool, default=True
        Compute ``labels_`` and ``inertia_`` on the whole data after fitting.
    random_state : int, RandomState instance or None, default=None
    tol : float, default=0.0
        Early stop when the smoothed squared centre change falls below
        ``tol`` times the mean feature variance; 0 disables it.
    max_no_improvement : int or None, default=10
        Early stop after this many batches without improvement of the
        smoothed batch inertia; None disables it.
    init_size : int or None, default=None
        Rows used to initialise; None means ``3 * batch_size`` (at least
        ``3 * n_clusters``).
    n_init : 'auto' or int, default='auto'
        Initialisations compared on a validation sample ('auto': 1 for
        k-means++ and an array, 3 otherwise).
    reassignment_ratio : float, default=0.01
        Centres that absorbed less than this fraction of the largest
        centre's weight are reseeded on random batch rows.
    n_jobs : int or None, default=None
        Threads for the kernels; None or -1 follows :func:`clustra.thread_limit`.
    n_threads : int or None
        Deprecated name of ``n_jobs`` (a FutureWarning); removed in clustra 0.3.

    Attributes
    ----------
    cluster_centers_, labels_, inertia_, n_iter_, n_steps_, n_features_in_,
    feature_names_in_ : as scikit-learn's MiniBatchKMeans.

    Examples
    --------
    >>> import numpy as np
    >>> from clustra import MiniBatchKMeans
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [4, 2], [4, 0], [4, 4],
    ...               [4, 5], [0, 1], [2, 2], [3, 2], [5, 5], [1, -1]])
    >>> km = MiniBatchKMeans(n_clusters=2, batch_size=6, n_init=3, random_state=0).fit(X)
    >>> km.cluster_centers_.shape
    (2, 2)
    """

    _parameter_constraints = {
        **COMMON_CONSTRAINTS,
        "batch_size": [POSITIVE_INT],
        "compute_labels": [BOOLEAN],
        "max_no_improvement": [POSITIVE_INT, None],
        "init_size": [POSITIVE_INT, None],
        "reassignment_ratio": [Interval(Real, 0.0, None)],
    }

    def __init__(
        self,
        n_clusters=8,
        *,
        init="k-means++",
        max_iter=100,
        batch_size=1024,
        verbose=0,
        compute_labels=True,
        random_state=None,
        tol=0.0,
        max_no_improvement=10,
        init_size=None,
        n_init="auto",
        reassignment_ratio=0.01,
        n_jobs=None,
        n_threads="deprecated",
    ):
        store_parameters(self, locals())

    # -- parameters ---------------------------------------------------------------------

    def _derive(self, X):
        """Check the parameters against X and work out the sizes a fit uses."""
        self._check_params()
        n_clusters = self._check_n_clusters(X.shape[0])
        kind = init_kind(self.init)
        self._n_init = resolve_n_init(self.n_init, kind, 3, type(self).__name__)
        self._batch_size = min(self.batch_size, X.shape[0])
        init_size = self.init_size
        if init_size is None:
            init_size = 3 * self._batch_size
            if init_size < n_clusters:
                init_size = 3 * n_clusters
        elif init_size < n_clusters:
            warnings.warn(
                f"init_size={init_size} should be larger than n_clusters={n_clusters}; "
                "using 3 * n_clusters instead.",
                RuntimeWarning,
                stacklevel=3,
            )
            init_size = 3 * n_clusters
        self._init_size = min(init_size, X.shape[0])
        self._tol = tolerance(X, self.tol)
        return n_clusters, kind

    # -- early stopping (scikit-learn's heuristics) ---------------------------------------

    def _converged(self, step, n_samples, centers_squared_diff, batch_inertia):
        batch_inertia /= self._batch_size
        if step == 0:  # the first batch measures the initialisation
            return False
        if self._ewa_inertia is None:
            self._ewa_inertia = batch_inertia
        else:
            alpha = min(self._batch_size * 2.0 / (n_samples + 1), 1.0)
            self._ewa_inertia = self._ewa_inertia * (1 - alpha) + batch_inertia * alpha
        if self._tol > 0.0 and centers_squared_diff <= self._tol:
            return True
        if self._ewa_inertia_min is None or self._ewa_inertia < self._ewa_inertia_min:
            self._no_improvement = 0
            self._ewa_inertia_min = self._ewa_inertia
        else:
            self._no_improvement += 1
        return (
            self.max_no_improvement is not None
            and self._no_improvement >= self.max_no_improvement
        )

    def _random_reassign(self) -> bool:
        """Reseed every 10 * n_clusters samples, and whenever a centre is empty."""
        self._n_since_last_reassign += self._batch_size
        if (self._counts == 0).any() or self._n_since_last_reassign >= 10 * self.n_clusters:
            self._n_since_last_reassign = 0
            return True
        return False

    # -- fitting --------------------------------------------------------------------------

    @fill_doc
    def fit(self, X, y=None, sample_weight=None):
        """Compute the centres on random mini-batches of X.

        %(fit_parameters)s
            Batches are drawn with probability proportional to the weights.

        Returns
        -------
        self
        """
        X = writeable(validate_X(self, X, reset=True, dtype=FLOAT_DTYPES, order="C"))
        n_clusters, kind = self._derive(X)
        random_state = self._random_state()
        weights = writeable(check_sample_weight(sample_weight, X.shape[0], X.dtype))
        init = self._validated_init(X, kind)
        n_samples = X.shape[0]
        with self._threads(X.shape[0]):
            centers = self._best_init(X, weights, init, kind, random_state, n_clusters)
            self._counts = np.zeros(n_clusters, dtype=X.dtype)
            self._ewa_inertia = None
            self._ewa_inertia_min = None
            self._no_improvement = 0
            self._n_since_last_reassign = 0
            n_steps = (self.max_iter * n_samples) // self._batch_size
            p = weights.astype(np.float64) / weights.sum(dtype=np.float64)
            unit_weights = np.ones(self._batch_size, dtype=X.dtype)
            step = -1
            for step in range(n_steps):
                rows = random_state.choice(n_samples, self._batch_size, p=p, replace=True)
                before = centers.copy() if self._tol > 0.0 else None
                batch_inertia = minibatch_step(
                    X[rows], unit_weights, centers, self._counts, random_state,
                    self._random_reassign(), self.reassignment_ratio,
                )
                diff = 0.0 if before is None else float(np.sum((centers - before) ** 2))
                if self._converged(step, n_samples, diff, batch_inertia):
                    break
            self.cluster_centers_ = centers
            self._n_features_out = n_clusters
            self.n_steps_ = step + 1
            self.n_iter_ = int(np.ceil((step + 1) * self._batch_size / n_samples))
            if self.compute_labels:
                self._label(X, weights, centers)
            else:
                self.inertia_ = float(self._ewa_inertia * weights.sum(dtype=np.float64))
        return self

    def _label(self, X, weights, centers):
        """``labels_`` and ``inertia_`` of X against ``centers`` (``compute_labels``)."""
        self.labels_ = single.assign_labels(X, centers)
        self.inertia_ = float(data_kernels.inertia(X, weights, centers, self.labels_))

    def _best_init(self, X, weights, init, kind, random_state, n_clusters):
        """The initialisation with the lowest inertia on a random validation sample."""
        rows = random_state.randint(0, X.shape[0], self._init_size)
        X_valid, weights_valid = X[rows], weights[rows]
        best, best_inertia = None, None
        for _ in range(self._n_init):
            centers = initial_centers(
                X, n_clusters, init, kind, random_state, weights, init_size=self._init_size
            )
            labels = single.assign_labels(X_valid, centers)
            inertia = data_kernels.inertia(X_valid, weights_valid, centers, labels)
            if best_inertia is None or inertia < best_inertia:
                best, best_inertia = centers, inertia
        return np.array(best, dtype=X.dtype, order="C")

    @fill_doc
    def partial_fit(self, X, y=None, sample_weight=None):
        """Update the centres with one mini-batch X.

        %(fit_parameters)s

        Returns
        -------
        self
        """
        has_centers = hasattr(self, "cluster_centers_")
        X = writeable(validate_X(self, X, reset=not has_centers, dtype=FLOAT_DTYPES, order="C"))
        if not hasattr(self, "_rng"):
            self._rng = self._random_state()
        weights = writeable(check_sample_weight(sample_weight, X.shape[0], X.dtype))
        self.n_steps_ = getattr(self, "n_steps_", 0)
        with self._threads(X.shape[0]):
            if not has_centers:
                n_clusters, kind = self._derive(X)
                init = self._validated_init(X, kind)
                self.cluster_centers_ = initial_centers(
                    X, n_clusters, init, kind, self._rng, weights, init_size=self._init_size
                ).copy()
                self._counts = np.zeros(n_clusters, dtype=X.dtype)
                self._n_since_last_reassign = 0
            elif self.cluster_centers_.dtype != X.dtype:
                X = X.astype(self.cluster_centers_.dtype)
                weights = weights.astype(X.dtype)
            minibatch_step(
                X, weights, self.cluster_centers_, self._counts, self._rng,
                self._random_reassign(), self.reassignment_ratio,
            )
            if self.compute_labels:
                self._label(X, weights, self.cluster_centers_)
        self.n_steps_ += 1
        self._n_features_out = self.cluster_centers_.shape[0]
        return self
