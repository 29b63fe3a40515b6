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

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from clustra._config import kernel_threads
from clustra._kernels import kmeans as kernels
from clustra.cluster._common import (
    FLOAT_DTYPES,
    check_finite,
    check_n_clusters,
    check_sample_weight,
    validate_X,
)
from clustra.cluster.kmeans import _single as single
from clustra.cluster.kmeans._base import (
    BaseKMeans,
    check_positive_int,
    initial_centers,
    resolve_n_init,
    same_clustering,
    writeable,
)
from clustra.cluster.kmeans._minibatch import MiniBatchKMeans

__all__ = ["KMeans", "MiniBatchKMeans", "k_means", "kmeans_plusplus"]

ALGORITHMS = ("auto", "lloyd", "hamerly", "elkan")

# algorithm="auto": Hamerly from this many features up, Lloyd below.
HAMERLY_MIN_FEATURES = 8


def choose_algorithm(algorithm: str, n_samples: int, n_clusters: int, n_features: int) -> str:
    """The run function's name for ``algorithm`` ('elkan' means the bounded exact variant).

    The 'auto' rule rests on benchmarks/workloads/kmeans.py (2 threads, the
    same run, seconds for the whole fit from the same centres, median of 5
    interleaved rounds; the machine is shared, so only the ratios count):

    ======================  =============  ===============  =============
    workload                clustra lloyd  clustra hamerly  sklearn lloyd
    ======================  =============  ===============  =============
    (c) n=1M   d=2  k=8          0.082          0.188            0.368
    (a) n=500k d=16 k=16         0.353          0.174            0.458
    (a) float32                  0.247          0.156            0.331
    (b) n=200k d=32 k=256        0.585          0.372            0.805
    ======================  =============  ===============  =============

    With few features a Lloyd pass is so cheap (a row is 16 bytes at d=2,
    scored in place from a transposed copy) that reading and writing
    Hamerly's three per-row bounds costs more than rescoring every row; from
    d=16 on, the bounds settle most rows after a few iterations and Hamerly
    wins, even with k=256. Hence Hamerly for
    ``n_features >= HAMERLY_MIN_FEATURES`` unless its per-chunk sums would
    take more memory than X itself.
    """
    if algorithm not in ALGORITHMS:
        raise ValueError(
            f"algorithm must be one of {', '.join(map(repr, ALGORITHMS))}, got {algorithm!r}."
        )
    if n_clusters == 1:
        return "lloyd"
    if algorithm == "auto":
        small_enough = single.chunk_sums_fit(n_samples, n_clusters, n_features)
        return "hamerly" if n_features >= HAMERLY_MIN_FEATURES and small_enough else "lloyd"
    return "hamerly" if algorithm == "elkan" else algorithm


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
        iterates as 'lloyd'; 'elkan' is accepted as a synonym for it (the
        bounded exact variant). 'auto' picks Hamerly from 8 features up,
        Lloyd below (see ``choose_algorithm`` for the measurements).
    n_threads : int or None, default=None
        Threads for the kernels; None follows :func:`clustra.thread_limit`.

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
        n_threads=None,
    ):
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose
        self.random_state = random_state
        self.copy_x = copy_x
        self.algorithm = algorithm
        self.n_threads = n_threads

    def fit(self, X, y=None, sample_weight=None):
        """Compute the clustering.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data; float32 stays float32, anything else becomes float64.
        y : ignored
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample (not used by an array or
            callable ``init``).

        Returns
        -------
        self
        """
        X_given = X
        X = validate_X(self, X, reset=True, dtype=FLOAT_DTYPES, order="C", ensure_finite=False)
        n_clusters, kind = self._check_common_params(X)
        algorithm = choose_algorithm(self.algorithm, X.shape[0], n_clusters, X.shape[1])
        n_init = resolve_n_init(self.n_init, kind, default=10)
        if kind == "array" and n_init != 1:
            warnings.warn(
                f"Explicit initial centres given: running one initialisation instead of "
                f"n_init={n_init}.",
                RuntimeWarning,
                stacklevel=2,
            )
            n_init = 1
        weights = writeable(check_sample_weight(sample_weight, X.shape[0], X.dtype))
        init = self._validated_init(X, kind)
        random_state = self._random_state()
        with self._threads(X.shape[0]):
            # Centred in place when copy_x is False or X is a private copy already.
            in_place = X.flags.writeable and (not self.copy_x or _private_copy(X, X_given))
            X_user, X = X, (X if in_place else np.empty_like(X))
            x_mean, tol = centre_on_mean(X_user, X, self.tol)
            if init is not None:
                init -= x_mean
            try:
                best = self._best_of_runs(X, weights, init, kind, n_init, random_state, tol,
                                          algorithm, n_clusters)
            finally:
                if in_place and not self.copy_x:
                    X += x_mean
        labels, inertia, centers, n_iter = best
        warn_if_clusters_empty(labels, n_clusters, stacklevel=3)
        self._x_shift = x_mean
        self._centers_internal = centers
        self.cluster_centers_ = centers + x_mean
        self._n_features_out = n_clusters
        self.labels_ = labels
        self.inertia_ = float(inertia)
        self.n_iter_ = int(n_iter)
        return self

    def _best_of_runs(self, X, weights, init, kind, n_init, random_state, tol, algorithm,
                      n_clusters, shared=None):
        """The best of ``n_init`` runs; ``shared``: single.shared_data for X, made here if None."""
        run = single.RUNNERS[algorithm]
        if shared is None:
            shared = single.shared_data(algorithm, X)
        best = None
        for _ in range(n_init):
            centers = initial_centers(X, n_clusters, init, kind, random_state, weights)
            result = run(X, weights, centers, max_iter=self.max_iter, tol=tol, **shared)
            # Keep a run only if it is better and not the same partition (which can
            # look better by rounding alone), as scikit-learn does.
            if best is None or (
                result[1] < best[1] and not same_clustering(result[0], best[0], n_clusters)
            ):
                best = result
        return best


def centre_on_mean(X, out, relative_tol: float) -> tuple[np.ndarray, float]:
    """Centre X on its column means into ``out`` (X itself to centre in place), as a fit does.

    Centred data lose less to cancellation in the score expansion. The column
    sums come first, so a non-finite X is refused (with how many NaN/inf
    values and where) before anything is written; one more pass writes the
    centred rows and measures the variances. Returns the mean (X's dtype) and
    the absolute tolerance, ``relative_tol`` times the mean variance (as
    scikit-learn). Shared with the sweeps that refit KMeans for many k.
    """
    column_sums = kernels.column_sums(X)
    if not np.all(np.isfinite(column_sums)):
        check_finite(X)  # says how many NaN/inf values there are, and where
    x_mean = (column_sums / X.shape[0]).astype(X.dtype)
    variances = kernels.centre(X, x_mean, out)
    return x_mean, float(np.mean(variances) * relative_tol)


def warn_if_clusters_empty(labels, n_clusters: int, stacklevel: int = 2) -> None:
    """scikit-learn's ConvergenceWarning when fewer distinct clusters than asked came out."""
    distinct = kernels.n_distinct_labels(labels, n_clusters)
    if distinct < n_clusters:
        warnings.warn(
            f"Number of distinct clusters ({distinct}) found smaller than n_clusters "
            f"({n_clusters}). Possibly due to duplicate points in X.",
            ConvergenceWarning,
            stacklevel=stacklevel,
        )


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
    est = KMeans(
        n_clusters=n_clusters,
        init=init,
        n_init=n_init,
        max_iter=max_iter,
        verbose=verbose,
        tol=tol,
        random_state=random_state,
        copy_x=copy_x,
        algorithm=algorithm,
    ).fit(X, sample_weight=sample_weight)
    if return_n_iter:
        return est.cluster_centers_, est.labels_, est.inertia_, est.n_iter_
    return est.cluster_centers_, est.labels_, est.inertia_


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
    check_positive_int(n_local_trials, "n_local_trials", allow_none=True)
    weights = writeable(check_sample_weight(sample_weight, X.shape[0], X.dtype))
    random_state = check_random_state(random_state)
    with kernel_threads(None, limit_blas=False), single.threads_for(X.shape[0], 4096):
        return single.kmeans_plusplus(X, n_clusters, weights, random_state, n_local_trials)
