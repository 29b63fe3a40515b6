"""K-Means: the :class:`KMeans` estimator, :class:`MiniBatchKMeans`, and the
functional forms :func:`k_means` and :func:`kmeans_plusplus`.

From the same initial centres, ``KMeans`` follows scikit-learn's Lloyd
iteration exactly (same labels at every step, same stopping rule, same
``n_iter_``); the random draws for k-means++ and ``init="random"`` are made in
scikit-learn's order, so the same integer ``random_state`` picks the same
initial rows. Results are bit-identical whatever the number of threads.
"""

from __future__ import annotations

import warnings
from numbers import Integral

from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state

import clustra.cluster.kmeans._single as single
from clustra._config import kernel_threads
from clustra._docs import fill_doc
from clustra.cluster._common import (
    FLOAT_DTYPES,
    check_n_clusters,
    check_sample_weight,
    validate_X,
)
from clustra.cluster._params import (
    BOOLEAN,
    Interval,
    InvalidParameterError,
    Options,
    store_parameters,
)
from clustra.cluster.kmeans._base import (
    COMMON_CONSTRAINTS,
    BaseKMeans,
    check_centers,
    functional_fit,
    init_kind,
    resolve_n_init,
    writeable,
)
from clustra.cluster.kmeans._steps import (
    ALGORITHMS,
    PreparedKMeansData,
    best_of_runs,
    choose_algorithm,
    prepare_data,
    warn_if_clusters_empty,
)

__all__ = ["KMeans", "k_means", "kmeans_plusplus"]


class KMeans(BaseKMeans):
    """K-Means clustering (Lloyd's algorithm, or its exact accelerated variant).

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters (and centres).
    init : {'k-means++', 'random'}, callable or array of shape (n_clusters, n_features)
        'k-means++' (default) is greedy k-means++ with ``2 + int(ln k)``
        candidates per step; 'random' picks rows at random (weighted by
        ``sample_weight``); a callable ``init(X, n_clusters, random_state)``
        returns centres; an array gives them.
    n_init : 'auto' or int, default='auto'
        Number of initialisations; the run with the lowest inertia is kept.
        'auto' means 1 for 'k-means++' and an array, 10 otherwise.
    max_iter : int, default=300
        Maximum number of iterations of one run.
    tol : float, default=1e-4
        Stop when the squared centre shifts sum to at most ``tol`` times the
        mean feature variance of X (and always when no label changes).
    verbose : int, default=0
        Kept for scikit-learn compatibility; progress is not printed.
    random_state : int, RandomState instance or None, default=None
        Seed for the initialisation.
    copy_x : bool, default=True
        If False, X (when already float and C-contiguous) is centred in
        place during fit and restored afterwards.
    algorithm : {'auto', 'lloyd', 'hamerly', 'elkan'}, default='auto'
        'lloyd' runs the fused Lloyd pass over every row; 'hamerly' keeps
        distance bounds per row and skips rows they prove, giving the same
        iterates as 'lloyd'. 'auto' picks Hamerly from 8 features up (and
        2^18 rows times clusters), falling back to Lloyd's passes while the
        bounds settle few rows; Lloyd otherwise. 'elkan' is accepted for
        scikit-learn compatibility but runs Hamerly (clustra has no Elkan
        variant; the iterates are the same), and says so with a UserWarning:
        pass 'hamerly' (or 'auto') instead.
    n_jobs : int or None, default=None
        Threads for the kernels; None or -1 follows :func:`clustra.thread_limit`
        (all cores unless limited). Results do not depend on it.
    n_threads : int or None
        Deprecated name of ``n_jobs`` (a FutureWarning); removed in clustra 0.3.

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
    labels_ : ndarray of shape (n_samples,), int32
    inertia_ : float
        Weighted sum of squared distances of the samples to their centre.
    n_iter_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when X has string feature names.

    Notes
    -----
    ``fit`` is two steps that can be called on their own: :meth:`prepare`
    (validate and centre X, weigh the samples) and :meth:`fit_prepared` (the
    best of ``n_init`` runs on prepared data). A sweep over ``n_clusters``
    prepares once and fits the prepared data for each k.

    Each iteration costs O(n k d) for Lloyd; Hamerly rescores only the rows
    its bounds cannot settle, and moves only the rows that change cluster
    between its per-chunk sums (so its centres equal Lloyd's up to the
    rounding of those moves; the labels are the same). From 8 features,
    ``k d >= 1024`` and ``n k d >= 2**24`` on, rows are scored with one BLAS
    matrix product per tile of 128 rows (BLAS held to one thread while the
    kernels run).
    With at most 4 features Lloyd scores a transposed copy of X in place,
    which is faster than gathering the rows of each tile. Hamerly on float64
    data scores a float32 copy of X first and rescores in float64 only the
    rows whose float32 scores are too close to call (a rigorous bound on the
    rounding decides): the same labels and centres, half the data to read.
    Memory beyond X (and its centred copy when ``copy_x``): the labels and
    ``n / 1024 * k * (d + 1)`` float64 of per-chunk sums (Lloyd falls back to
    O(k d) per chunk group when those would outgrow X); for Lloyd with at
    most 4 features, the transposed copy; for Hamerly, 16 bytes per row
    (two float32 bounds, a float64 norm) and, for float64 X, the float32
    copy (half the size of X; not made when it would take more than
    half the memory available).

    Examples
    --------
    >>> import numpy as np
    >>> from clustra import KMeans
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]])
    >>> km = KMeans(n_clusters=2, random_state=0).fit(X)
    >>> km.labels_
    array([1, 1, 1, 0, 0, 0], dtype=int32)
    >>> km.cluster_centers_
    array([[10.,  2.],
           [ 1.,  2.]])
    """

    _parameter_constraints = {
        **COMMON_CONSTRAINTS,
        "copy_x": [BOOLEAN],
        "algorithm": [Options(*ALGORITHMS)],
    }

    def __init__(
        self,
        n_clusters=8,
        *,
        init="k-means++",
        n_init="auto",
        max_iter=300,
        tol=1e-4,
        verbose=0,
        random_state=None,
        copy_x=True,
        algorithm="auto",
        n_jobs=None,
        n_threads="deprecated",
    ):
        store_parameters(self, locals())

    @fill_doc
    def fit(self, X, y=None, sample_weight=None):
        """Compute the clustering: :meth:`prepare`, then :meth:`fit_prepared`.

        %(fit_parameters)s
            Non-negative weight of each sample (not used by an array or
            callable ``init``).

        Returns
        -------
        self
        """
        self._check_params()
        X_given = X
        X = validate_X(self, X, reset=True, dtype=FLOAT_DTYPES, order="C", ensure_finite=False)
        self._check_n_clusters(X.shape[0])
        # Centred in place when copy_x is False or X is a private copy already.
        in_place = X.flags.writeable and (not self.copy_x or _private_copy(X, X_given))
        with self._threads(X.shape[0]):
            prepared = prepare_data(X, sample_weight, self.tol, in_place=in_place)
            try:
                return self._fit_prepared(prepared, None)
            finally:
                if in_place and not self.copy_x:
                    X += prepared.mean

    def prepare(self, X, sample_weight=None) -> PreparedKMeansData:
        """The first step of :meth:`fit`: validate X and the weights, centre X on its mean.

        X itself is never changed. Pass the result to :meth:`fit_prepared`,
        as often as needed (for several ``n_clusters``, say).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        PreparedKMeansData
        """
        self._check_params()
        X = validate_X(self, X, reset=True, dtype=FLOAT_DTYPES, order="C", ensure_finite=False)
        with self._threads(X.shape[0]):
            return prepare_data(X, sample_weight, self.tol)

    def fit_prepared(self, prepared: PreparedKMeansData, *, initial_centers=None):
        """The second step of :meth:`fit`: the best of ``n_init`` runs on prepared data.

        Parameters
        ----------
        prepared : PreparedKMeansData
            From :meth:`prepare` (on the same data, with the same ``tol``).
        initial_centers : ndarray of shape (n_clusters, n_features), default=None
            Centres to start one run from, in the frame of ``prepared.X``
            (centred), in place of drawing them as ``init`` says (``n_init``
            is still worked out from ``init``).

        Returns
        -------
        self
        """
        self._check_params()
        with self._threads(prepared.X.shape[0]):
            return self._fit_prepared(prepared, initial_centers)

    def _fit_prepared(self, prepared, initial_centers):
        """:meth:`fit_prepared` with the parameters checked and the threads set."""
        X = prepared.X
        n_samples, n_features = X.shape
        n_clusters = self._check_n_clusters(n_samples)
        kind = init_kind(self.init)
        algorithm = choose_algorithm(self.algorithm, n_samples, n_clusters, n_features)
        if self.algorithm == "elkan":
            warnings.warn(
                "KMeans: algorithm='elkan' runs clustra's Hamerly variant (the same iterates; "
                "there is no Elkan variant); pass algorithm='hamerly' or 'auto' instead.",
                UserWarning,
                stacklevel=3,
            )
        n_init = resolve_n_init(self.n_init, kind, 10, type(self).__name__)
        if initial_centers is not None:
            init, kind = initial_centers, "array"
        elif kind == "array":
            init = check_centers(self.init, n_clusters, n_features, X.dtype, "initial centres")
            init -= prepared.mean
        else:
            init = None
        random_state = check_random_state(self.random_state)
        labels, inertia, centers, n_iter = best_of_runs(
            prepared, n_clusters, algorithm, init=init, kind=kind, n_init=n_init,
            random_state=random_state, max_iter=self.max_iter,
        )
        warn_if_clusters_empty(labels, n_clusters, stacklevel=4)
        self._x_shift = prepared.mean
        self._centers_internal = centers
        self.cluster_centers_ = centers + prepared.mean
        self._n_features_out = n_clusters
        self.labels_ = labels
        self.inertia_ = float(inertia)
        self.n_iter_ = int(n_iter)
        return self


def _private_copy(X, X_given) -> bool:
    """Whether validation made X a new array (which fit may then change freely).

    A view (of a DataFrame's block, a memmap, the caller's array) does not own
    its data and is never taken for a copy.
    """
    return X is not X_given and X.flags.owndata


def k_means(
    X,
    n_clusters,
    *,
    sample_weight=None,
    init="k-means++",
    n_init="auto",
    max_iter=300,
    verbose=False,
    tol=1e-4,
    random_state=None,
    copy_x=True,
    algorithm="auto",
    return_n_iter=False,
):
    """Functional K-Means: fit :class:`KMeans` and return its results.

    Parameters are those of :class:`KMeans`.

    Returns
    -------
    centers : ndarray of shape (n_clusters, n_features)
    labels : ndarray of shape (n_samples,), int32
    inertia : float
    n_iter : int
        Only when ``return_n_iter`` is True.

    Examples
    --------
    >>> import numpy as np
    >>> from clustra import k_means
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]])
    >>> centers, labels, inertia = k_means(X, n_clusters=2, random_state=0)
    >>> float(inertia)
    16.0
    """
    return functional_fit(KMeans, locals(), "n_iter_" if return_n_iter else None)


class _Holder(BaseEstimator):
    """Stand-in estimator for validate_X in the functional forms (no feature bookkeeping)."""


def kmeans_plusplus(X, n_clusters, *, sample_weight=None, random_state=None,
                    n_local_trials=None):
    """Greedy k-means++ seeding.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    n_clusters : int
        Number of centres to pick.
    sample_weight : array-like of shape (n_samples,), default=None
    random_state : int, RandomState instance or None
    n_local_trials : int, default=None
        Candidates tried per step; None means ``2 + int(ln n_clusters)``.

    Returns
    -------
    centers : ndarray of shape (n_clusters, n_features)
        Rows of X.
    indices : ndarray of shape (n_clusters,)
        Their row numbers: ``X[indices] == centers``.

    Examples
    --------
    >>> import numpy as np
    >>> from clustra import kmeans_plusplus
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]])
    >>> centers, indices = kmeans_plusplus(X, n_clusters=2, random_state=0)
    >>> indices.shape
    (2,)
    """
    X = writeable(validate_X(_Holder(), X, reset=False, dtype=FLOAT_DTYPES, order="C"))
    n_clusters = check_n_clusters(n_clusters, X.shape[0])
    if n_local_trials is not None and not Interval(Integral, 1, None).accepts(n_local_trials):
        raise InvalidParameterError(
            "kmeans_plusplus: n_local_trials must be an integer >= 1 or None; "
            f"got {n_local_trials!r}."
        )
    weights = writeable(check_sample_weight(sample_weight, X.shape[0], X.dtype))
    random_state = check_random_state(random_state)
    with kernel_threads(None, limit_blas=False), single.threads_for(X.shape[0], 4096):
        return single.kmeans_plusplus(X, n_clusters, weights, random_state, n_local_trials)
