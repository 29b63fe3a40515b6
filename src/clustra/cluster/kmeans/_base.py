"""What KMeans and MiniBatchKMeans share: parameters, initialisation, predict/transform
(and what BisectingKMeans shares with them: :class:`CentroidEstimator`)."""

from __future__ import annotations

import contextlib
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
)
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

import clustra.cluster.kmeans._single as single
from clustra._config import kernel_threads
from clustra._kernels import kmeans_data as data_kernels
from clustra.cluster._common import (
    FLOAT_DTYPES,
    check_finite,
    check_n_clusters,
    check_sample_weight,
    validate_X,
    writeable,
)
from clustra.cluster._params import (
    ARRAY_LIKE,
    BOOLEAN,
    CALLABLE,
    RANDOM_STATE,
    Interval,
    Options,
    check_params,
    renamed_parameter,
)

POSITIVE_INT = Interval(Integral, 1, None)

# The parameters KMeans and MiniBatchKMeans share, and their allowed values.
COMMON_CONSTRAINTS = {
    "n_clusters": [POSITIVE_INT],
    "init": [Options("k-means++", "random"), CALLABLE, ARRAY_LIKE],
    "n_init": [Options("auto"), POSITIVE_INT],
    "max_iter": [POSITIVE_INT],
    "tol": [Interval(Real, 0.0, None)],
    "verbose": [Interval(Integral, 0, None), BOOLEAN],
    "random_state": [RANDOM_STATE],
    # n_jobs: clustra's kernel threads (-1 or None: every core clustra may use).
    "n_jobs": [POSITIVE_INT, Options(-1), None],
    "n_threads": [POSITIVE_INT, None, Options("deprecated")],  # n_jobs's old name
}


def init_kind(init) -> str:
    """'k-means++', 'random', 'callable' or 'array' (``init`` already checked)."""
    if isinstance(init, str):
        return init
    return "callable" if callable(init) else "array"


def resolve_n_init(n_init, kind: str, default: int, owner: str) -> int:
    """n_init='auto' is 1 for k-means++ and explicit centres, ``default`` otherwise.

    Explicit centres make every initialisation the same: one is run, with a
    RuntimeWarning when more were asked for.
    """
    if n_init == "auto":
        return 1 if kind in ("k-means++", "array") else default
    if kind == "array" and n_init != 1:
        warnings.warn(
            f"{owner}: explicit initial centres given, so running one initialisation "
            f"instead of n_init={n_init}.",
            RuntimeWarning,
            stacklevel=4,
        )
        return 1
    return int(n_init)


def tolerance(X: np.ndarray, tol: float) -> float:
    """Absolute tolerance: ``tol`` times the mean feature variance (as scikit-learn)."""
    if tol == 0:
        return 0.0
    return float(np.mean(np.var(X, axis=0)) * tol)


def check_centers(centers, n_clusters: int, n_features: int, dtype, what: str) -> np.ndarray:
    centers = np.array(centers, dtype=dtype, order="C", copy=True)
    if centers.ndim != 2 or centers.shape != (n_clusters, n_features):
        raise ValueError(
            f"The {what} have shape {centers.shape}; expected (n_clusters, n_features) = "
            f"({n_clusters}, {n_features})."
        )
    check_finite(centers, name=what)
    return centers


def same_clustering(labels_a: np.ndarray, labels_b: np.ndarray, n_clusters: int) -> bool:
    """True when two labelings are equal up to renumbering of a's clusters onto b's."""
    mapping = np.full(n_clusters, -1, dtype=np.int64)
    first = np.unique(labels_a, return_index=True)[1]
    mapping[labels_a[first]] = labels_b[first]
    return bool(np.array_equal(mapping[labels_a], labels_b))


def initial_centers(X, n_clusters, init, kind, random_state, weights, init_size=None):
    """Initial centres (X's dtype) by k-means++, random rows, a callable or given array.

    Draws from ``random_state`` in scikit-learn's order.
    """
    n_samples = X.shape[0]
    if init_size is not None and init_size < n_samples:
        rows = random_state.randint(0, n_samples, init_size)
        X, weights, n_samples = X[rows], weights[rows], init_size
    if kind == "k-means++":
        centers, _ = single.kmeans_plusplus(X, n_clusters, weights, random_state)
    elif kind == "random":
        p = weights.astype(np.float64) / weights.sum(dtype=np.float64)
        rows = random_state.choice(n_samples, size=n_clusters, replace=False, p=p)
        centers = X[rows]
    elif kind == "array":
        centers = init
    else:
        centers = check_centers(
            init(X, n_clusters, random_state=random_state),
            n_clusters, X.shape[1], X.dtype, "centres returned by the init callable",
        )
    return np.ascontiguousarray(centers, dtype=X.dtype)


def functional_fit(estimator_class, arguments: dict, extra: str | None):
    """What a functional form (``k_means``, ``bisecting_k_means``) returns.

    Fits ``estimator_class`` with those of ``arguments`` (the function's
    ``locals()``) that are its parameters, on ``arguments["X"]`` and
    ``arguments["sample_weight"]``; returns ``(centers, labels, inertia)``, and the
    fitted attribute ``extra`` after them unless it is None.
    """
    table = estimator_class._parameter_constraints
    model = estimator_class(**{name: value for name, value in arguments.items() if name in table})
    model.fit(arguments["X"], sample_weight=arguments["sample_weight"])
    results = (model.cluster_centers_, model.labels_, model.inertia_)
    return results if extra is None else (*results, getattr(model, extra))


class CentroidEstimator(ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin,
                        BaseEstimator):
    """What every centroid estimator (KMeans, MiniBatchKMeans, BisectingKMeans) does alike:
    check new data, predict and score, the distances to the centres, the ``fit_*``
    shortcuts. Subclasses set ``cluster_centers_`` and give ``_threads(n_rows)``, the
    kernels' thread context."""

    def _check_test_data(self, X):
        check_is_fitted(self)
        return writeable(validate_X(self, X, reset=False, dtype=FLOAT_DTYPES, order="C"))

    def fit_predict(self, X, y=None, sample_weight=None):
        """Fit, then return ``labels_`` (the cluster of each training sample)."""
        return self.fit(X, sample_weight=sample_weight).labels_

    def _frame(self, X):
        """X and the centres in the frame in which to compare them (here: as they are)."""
        return X, np.ascontiguousarray(self.cluster_centers_, dtype=X.dtype)

    def predict(self, X):
        """The cluster of each sample: its nearest centre (BisectingKMeans: down the tree).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        labels : ndarray of shape (n_samples,), int32
        """
        X = self._check_test_data(X)
        with self._threads(X.shape[0]):
            return self._predict(X)

    def _predict(self, X):
        """Index of the nearest cluster centre for each sample (X checked, threads set)."""
        Xf, centers = self._frame(X)
        return single.assign_labels(np.ascontiguousarray(Xf), centers)

    def score(self, X, y=None, sample_weight=None):
        """Opposite of the (weighted) inertia of X against the nearest fitted centres."""
        X = self._check_test_data(X)
        weights = writeable(check_sample_weight(sample_weight, X.shape[0], X.dtype))
        with self._threads(X.shape[0]):
            Xf, centers = self._frame(X)
            Xf = np.ascontiguousarray(Xf)
            labels = single.assign_labels(Xf, centers)
            return -data_kernels.inertia(Xf, weights, centers, labels)

    def transform(self, X):
        """Euclidean distance of each sample to each centre, shape (n_samples, n_clusters)."""
        X = self._check_test_data(X)
        with self._threads(X.shape[0]):
            centers = np.ascontiguousarray(self.cluster_centers_, dtype=X.dtype)
            return data_kernels.distances(X, centers)

    def fit_transform(self, X, y=None, sample_weight=None):
        """Fit, then return the distances of X to the centres (see :meth:`transform`)."""
        return self.fit(X, sample_weight=sample_weight).transform(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags


class BaseKMeans(CentroidEstimator):
    """Shared behaviour. Subclasses set ``cluster_centers_`` and the private
    ``_x_shift`` (the vector subtracted from X during fit, zeros when none)
    and ``_centers_internal`` (the centres in that shifted frame)."""

    def _check_params(self) -> None:
        """Check every parameter against the table (and warn of a deprecated name)."""
        check_params(self)
        renamed_parameter(self, "n_threads", "n_jobs")

    def _thread_count(self):
        """The kernels' thread count: ``n_jobs`` (or its old name), None for all cores."""
        n_jobs = self.n_jobs
        old = getattr(self, "n_threads", "deprecated")
        if n_jobs is None and not isinstance(old, str):
            n_jobs = old
        return None if n_jobs == -1 else n_jobs

    def _check_n_clusters(self, n_samples: int) -> int:
        return check_n_clusters(self.n_clusters, n_samples)

    def _validated_init(self, X, kind):
        if kind != "array":
            return None
        return check_centers(self.init, self.n_clusters, X.shape[1], X.dtype, "initial centres")

    def _random_state(self):
        return check_random_state(self.random_state)

    def _frame(self, X):
        """X and the centres in the frame the fit used (bit-identical labels to labels_)."""
        centers = self.cluster_centers_
        internal = getattr(self, "_centers_internal", None)
        shift = getattr(self, "_x_shift", None)
        if internal is None or shift is None or not np.any(shift):
            return X, np.ascontiguousarray(centers, dtype=X.dtype)
        shift = shift.astype(X.dtype)
        if internal.dtype == X.dtype and np.array_equal(internal + shift, centers):
            return X - shift, internal
        return X - shift, np.ascontiguousarray(centers - shift, dtype=X.dtype)

    @contextlib.contextmanager
    def _threads(self, n_rows):
        # BLAS is held to one thread only where the kernels call it (large problems,
        # see _single.blas_held): threadpoolctl costs a millisecond a call.
        with kernel_threads(self._thread_count(), limit_blas=False):
            with single.threads_for(n_rows):
                yield
