"""DBSCAN: exact, memory-bounded, parallel; scikit-learn compatible.

The kernels live in :mod:`clustra._kernels.dbscan` (the plan is explained
there) and the indexes in :mod:`clustra.cluster.dbscan._backends`; this module
checks the parameters and the data and assembles the result.
"""

from __future__ import annotations

import math
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.utils.validation import check_is_fitted

from clustra._config import kernel_threads
from clustra._kernels.distances import METRIC_ALIASES
from clustra.cluster._common import check_sample_weight, validate_X
from clustra.cluster._params import (
    DICT,
    N_JOBS,
    Interval,
    InvalidParameterError,
    Kind,
    Options,
    check_params,
    store_parameters,
)
from clustra.cluster.dbscan._backends import Settings, fit_backend

__all__ = ["DBSCAN", "dbscan", "DegenerateClusteringWarning"]

METRICS = ("euclidean", "manhattan", "chebyshev", "minkowski", "cosine", "haversine",
           "precomputed")
ALGORITHMS = ("auto", "grid", "kdtree", "brute")
# A Minkowski power: any number >= 1, infinity (Chebyshev) included.
_POWER = Kind(lambda v: isinstance(v, Real) and not isinstance(v, bool | np.bool_) and v >= 1,
              "a number >= 1")


class DegenerateClusteringWarning(UserWarning):
    """A clustering that is almost all noise or a single cluster: the parameters need a look."""


class DBSCAN(ClusterMixin, BaseEstimator):
    """Density-based clustering (DBSCAN), exact and memory-bounded.

    A point is *core* when the total weight of the points within ``eps`` of
    it, itself included, is at least ``min_samples``. Core points within
    ``eps`` of each other share a cluster. A non-core point within ``eps`` of
    a core point is a *border* point; every other point is noise (-1).

    Parameters
    ----------
    eps : float, default=0.5
        Neighbourhood radius, > 0.
    min_samples : int, default=5
        Weight needed in a neighbourhood (the point itself counts) to be core.
    metric : str, default="euclidean"
        "euclidean", "manhattan", "chebyshev", "minkowski" (with ``p``),
        "cosine", "haversine" (two columns: latitude, longitude in radians) or
        "precomputed" (a dense square distance matrix, or a sparse one whose
        stored entries are the candidate neighbours, as in scikit-learn).
    metric_params : dict, optional
        Extra metric arguments; only ``{"p": ...}`` for Minkowski.
    algorithm : {"auto", "grid", "kdtree", "brute"}, default="auto"
        The index. "auto": a grid of cells of side ``eps / sqrt(d)`` for up to
        3 features (after mapping cosine/haversine to unit vectors), a KD-tree
        above, brute force for precomputed distances and for cosine data with
        all-zero rows. Every choice gives the same labels.
    leaf_size : int, default=30
        KD-tree leaf size.
    p : float, optional
        Minkowski power (>= 1); default 2.
    n_jobs : int, optional
        Threads for this fit (``None``: clustra's setting, see
        :func:`clustra.thread_limit`; -1: all cores). Labels never depend on it.

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,), int64
        Cluster of every point, -1 for noise. Clusters are numbered in the
        order of their first row.
    core_sample_indices_ : ndarray of shape (n_core,), int64
        Rows of the core points, ascending.
    components_ : ndarray of shape (n_core, n_features)
        The core points (rows of ``X``).
    n_features_in_ : int
    backend_ : object
        The fitted neighbourhood index; ``backend_.name`` is the one used
        ("grid", "kdtree", "brute" or "sparse").

    Notes
    -----
    Core points and the partition of the core points are exactly those of
    scikit-learn. Border points differ on purpose: scikit-learn gives a border
    point to whichever cluster reaches it first, which depends on row order;
    here it joins the cluster of its nearest core point within ``eps`` (ties
    to the lowest row), so the result is stable.

    Memory is O(n) beyond the index: neighbourhoods are counted with early
    exit at ``min_samples`` and never stored. Time is near linear for a fixed
    density in low dimensions (grid) and grows with the neighbourhood sizes
    and the dimension for the KD-tree.

    Examples
    --------
    >>> import numpy as np
    >>> from clustra import DBSCAN
    >>> X = np.array([[1, 2], [2, 2], [2, 3], [8, 7], [8, 8], [25, 80]], dtype=float)
    >>> DBSCAN(eps=3, min_samples=2).fit(X).labels_.tolist()
    [0, 0, 0, 1, 1, -1]
    """

    _parameter_constraints = {
        "eps": [Interval(Real, 0.0, None, closed="neither")],
        "min_samples": [Interval(Integral, 1, None)],
        "metric": [Options(*METRICS, *METRIC_ALIASES)],
        "metric_params": [DICT, None],
        "algorithm": [Options(*ALGORITHMS)],
        "leaf_size": [Interval(Integral, 1, None)],
        "p": [_POWER, None],
        "n_jobs": N_JOBS,
    }
    _parameter_hints = {
        "eps": "clustra.suggest_eps(X, min_samples) proposes one from the k-distance curve.",
    }

    def __init__(self, eps=0.5, *, min_samples=5, metric="euclidean", metric_params=None,
                 algorithm="auto", leaf_size=30, p=None, n_jobs=None):
        store_parameters(self, locals())

    def fit(self, X, y=None, sample_weight=None):
        """Cluster ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), or (n_samples, n_samples)
            with ``metric="precomputed"`` (dense or sparse).
        y : ignored
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weight of every point in the core-point counts.

        Returns
        -------
        self
        """
        settings = _settings(self)
        precomputed = settings.metric == "precomputed"
        X = validate_X(self, X, reset=True, accept_sparse="csr" if precomputed else False,
                       order="C")
        _check_shape(X, settings.metric)
        weights = check_sample_weight(sample_weight, X.shape[0], np.float64)
        with kernel_threads(settings.n_threads, limit_blas=False):
            self.backend_, core_mask, labels = fit_backend(X, weights, settings)
        self.labels_ = labels
        self.core_sample_indices_ = np.flatnonzero(core_mask)
        self.components_ = X[self.core_sample_indices_]  # indexing by rows copies already
        if hasattr(self.components_, "toarray"):
            self.components_ = self.components_.tocsr()
        _warn_if_degenerate(labels, settings.eps)
        return self

    def fit_predict(self, X, y=None, sample_weight=None):
        """Cluster ``X`` and return ``labels_``."""
        return self.fit(X, sample_weight=sample_weight).labels_

    def predict(self, X):
        """Label new points: the cluster of the nearest core point within eps, else -1.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features), or with
            ``metric="precomputed"`` the (n_queries, n_samples_fit) distances
            to the training points.

        Returns
        -------
        labels : ndarray of shape (n_queries,), int64
        """
        check_is_fitted(self, "labels_")
        settings = self.backend_.settings
        precomputed = settings.metric == "precomputed"
        X = validate_X(self, X, reset=False, accept_sparse="csr" if precomputed else False,
                       order="C")
        core_labels = self.labels_[self.core_sample_indices_]
        if core_labels.shape[0] == 0:
            return np.full(X.shape[0], -1, dtype=np.int64)
        with kernel_threads(settings.n_threads, limit_blas=False):
            positions = self.backend_.nearest_core(X)
        return np.where(positions >= 0, core_labels[np.maximum(positions, 0)], -1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.pairwise = self.metric == "precomputed"
        tags.input_tags.sparse = self.metric == "precomputed"
        return tags


def dbscan(X, eps=0.5, *, min_samples=5, metric="euclidean", metric_params=None,
           algorithm="auto", leaf_size=30, p=None, sample_weight=None, n_jobs=None):
    """Functional DBSCAN: returns ``(core_sample_indices, labels)`` as scikit-learn's.

    Parameters are those of :class:`DBSCAN`.

    Returns
    -------
    core_sample_indices : ndarray of shape (n_core,), int64
    labels : ndarray of shape (n_samples,), int64
    """
    model = DBSCAN(eps, min_samples=min_samples, metric=metric, metric_params=metric_params,
                   algorithm=algorithm, leaf_size=leaf_size, p=p, n_jobs=n_jobs)
    model.fit(X, sample_weight=sample_weight)
    return model.core_sample_indices_, model.labels_


def _settings(model: DBSCAN) -> Settings:
    """Check the parameters against the table and resolve them (never modify the model)."""
    check_params(model)
    extra = dict(model.metric_params or {})
    if set(extra) - {"p"}:
        raise InvalidParameterError(
            f"DBSCAN: metric_params may only hold 'p' (for minkowski), got keys {sorted(extra)}."
        )
    power = extra.get("p", model.p)
    if power is not None and not _POWER.accepts(power):
        raise InvalidParameterError(
            f"DBSCAN: p must be a number >= 1 (the Minkowski power); got {power!r} in "
            "metric_params."
        )
    metric = METRIC_ALIASES.get(model.metric, model.metric)
    power = 2.0 if power is None else float(power)
    if metric == "minkowski":
        metric = {1.0: "manhattan", 2.0: "euclidean", math.inf: "chebyshev"}.get(power, metric)
    return Settings(
        eps=float(model.eps),
        min_samples=int(model.min_samples),
        metric=metric,
        p=power,
        algorithm=model.algorithm,
        leaf_size=int(model.leaf_size),
        n_threads=None if model.n_jobs in (None, -1) else int(model.n_jobs),
    )


def _check_shape(X, metric: str) -> None:
    if metric == "haversine" and X.shape[1] != 2:
        raise ValueError(
            f"metric='haversine' needs exactly 2 columns (latitude, longitude in radians), "
            f"got {X.shape[1]}."
        )
    if metric == "precomputed" and X.shape[0] != X.shape[1]:
        raise ValueError(
            f"metric='precomputed' needs a square distance matrix, got shape {X.shape}."
        )
    if metric == "precomputed":
        values = X.data if hasattr(X, "tocsr") else X
        if values.size and values.min() < 0:
            raise ValueError("A precomputed distance matrix must be non-negative; "
                             f"found the value {values.min()!r}.")


def _warn_if_degenerate(labels: np.ndarray, eps: float) -> None:
    n_samples = labels.shape[0]
    noise_fraction = float(np.mean(labels < 0))
    n_clusters = int(labels.max()) + 1 if n_samples else 0
    if n_samples > 1 and noise_fraction >= 0.9:
        warnings.warn(
            f"DBSCAN marked {noise_fraction:.0%} of the points as noise with eps={eps:g}: "
            "increase eps or lower min_samples (clustra.suggest_eps proposes an eps).",
            DegenerateClusteringWarning,
            stacklevel=3,
        )
    elif n_samples > 1 and n_clusters == 1 and noise_fraction < 0.1:
        warnings.warn(
            f"DBSCAN put {1 - noise_fraction:.0%} of the points in a single cluster with "
            f"eps={eps:g}: decrease eps (or raise min_samples) to separate clusters.",
            DegenerateClusteringWarning,
            stacklevel=3,
        )
