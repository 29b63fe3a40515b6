"""The steps of a K-Means fit, each callable on its own.

``KMeans.fit`` is :func:`prepare_data` (the set-up that depends on X alone:
weights, the mean, the centred copy, the absolute tolerance) followed by
:func:`best_of_runs` (for each initialisation: :func:`initial_centers`, one
run of :data:`clustra.cluster.kmeans._single.RUNNERS`, keep the best). The
sweeps over k (``clustra.selection``) prepare once and fit the prepared data
for every k; the Dask engine can call the same steps. Prior validation of X
(C-contiguous float32/float64) and of the parameters is assumed here.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.exceptions import ConvergenceWarning

import clustra.cluster.kmeans._single as single
from clustra._kernels import kmeans_data as data_kernels
from clustra.cluster._common import check_finite, check_sample_weight, writeable
from clustra.cluster.kmeans._base import initial_centers, same_clustering

ALGORITHMS = ("auto", "lloyd", "hamerly", "elkan")

# algorithm="auto": Hamerly (falling back to Lloyd's passes, see
# single.adaptive) from this many features up, and only from this many
# rows times clusters up; Lloyd otherwise.
HAMERLY_MIN_FEATURES = 8
HAMERLY_MIN_WORK = 1 << 18  # n_samples * n_clusters


@dataclass(frozen=True)
class PreparedKMeansData:
    """What every fit on the same data shares, made once by :func:`prepare_data`.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features), float32 or float64
        The data centred on ``mean``, C-contiguous (the frame every run works in).
    weights : ndarray of shape (n_samples,), X's dtype
    mean : ndarray of shape (n_features,), X's dtype
        What was subtracted from the data; add it to centres found on ``X``.
    tol : float
        The absolute tolerance: the relative one times the mean feature variance.
    runner_data : dict
        Per algorithm, what every run on ``X`` can share (see
        :func:`clustra.cluster.kmeans._single.shared_data`), made on first use.
    """

    X: np.ndarray
    weights: np.ndarray
    mean: np.ndarray
    tol: float
    runner_data: dict = field(default_factory=dict, compare=False)

    def shared_for(self, algorithm: str) -> dict:
        """The run function's shared keywords for ``algorithm``, made once."""
        if algorithm not in self.runner_data:
            self.runner_data[algorithm] = single.shared_data(algorithm, self.X)
        return self.runner_data[algorithm]


def centre_on_mean(X, out, relative_tol: float) -> tuple[np.ndarray, float]:
    """Centre X on its column means into ``out`` (X itself to centre in place).

    Centred data lose less to cancellation in the score expansion. The column
    sums come first, so a non-finite X is refused (with how many NaN/inf
    values and where) before anything is written; one more pass writes the
    centred rows and measures the variances. Returns the mean (X's dtype) and
    the absolute tolerance, ``relative_tol`` times the mean variance (as
    scikit-learn).
    """
    column_sums = data_kernels.column_sums(X)
    if not np.all(np.isfinite(column_sums)):
        check_finite(X)  # says how many NaN/inf values there are, and where
    x_mean = (column_sums / X.shape[0]).astype(X.dtype)
    variances = data_kernels.centre(X, x_mean, out)
    return x_mean, float(np.mean(variances) * relative_tol)


def prepare_data(X, sample_weight, relative_tol: float, *, in_place: bool = False):
    """The :class:`PreparedKMeansData` of validated ``X`` (centred in place with ``in_place``).

    ``sample_weight`` is checked here (None: every sample weighs 1).
    """
    weights = writeable(check_sample_weight(sample_weight, X.shape[0], X.dtype))
    centred = X if in_place else np.empty_like(X)
    mean, tol = centre_on_mean(X, centred, relative_tol)
    return PreparedKMeansData(centred, weights, mean, tol)


def choose_algorithm(algorithm: str, n_samples: int, n_clusters: int, n_features: int) -> str:
    """The run function's name for ``algorithm`` ('elkan' means the bounded exact variant).

    'auto' is 'adaptive' (Hamerly, falling back to Lloyd's passes once the
    bounds stop settling rows) from ``HAMERLY_MIN_FEATURES`` features and
    ``HAMERLY_MIN_WORK`` rows times clusters up, Lloyd below: with few
    features a Lloyd pass is so cheap that reading and writing Hamerly's
    per-row bounds costs more than rescoring every row, and on small inputs
    the bounds cannot repay their set-up (nor their compilation on a first
    fit); from about 16 features the bounds settle most rows after a few
    iterations (the measurements: benchmarks/results/kmeans-choices.md).
    Lloyd also when Hamerly's per-chunk sums would take more memory than X.
    """
    if n_clusters == 1:
        return "lloyd"
    if algorithm == "auto":
        bounds_pay = (n_features >= HAMERLY_MIN_FEATURES
                      and n_samples * n_clusters >= HAMERLY_MIN_WORK
                      and single.chunk_sums_fit(n_samples, n_clusters, n_features))
        return "adaptive" if bounds_pay else "lloyd"
    return "hamerly" if algorithm == "elkan" else algorithm


def best_of_runs(prepared: PreparedKMeansData, n_clusters: int, algorithm: str, *, init, kind,
                 n_init: int, random_state, max_iter: int):
    """The best of ``n_init`` runs on prepared data: (labels, inertia, centers, n_iter).

    Centres are in the frame of ``prepared.X`` (an array ``init`` too). Each
    run starts from :func:`initial_centers` (drawn from ``random_state`` in
    scikit-learn's order) and is one call of the run function for
    ``algorithm`` ('lloyd', 'hamerly' or 'adaptive', see :func:`choose_algorithm`).
    """
    run = single.runner(algorithm)
    shared = prepared.shared_for(algorithm)
    best = None
    for _ in range(n_init):
        centers = initial_centers(prepared.X, n_clusters, init, kind, random_state,
                                  prepared.weights)
        result = run(prepared.X, prepared.weights, centers, max_iter=max_iter,
                     tol=prepared.tol, **shared)
        # Keep a run only if it is better and not the same partition (which can
        # look better by rounding alone), as scikit-learn does.
        if best is None or (
            result[1] < best[1] and not same_clustering(result[0], best[0], n_clusters)
        ):
            best = result
    return best


def warn_if_clusters_empty(labels, n_clusters: int, stacklevel: int = 2) -> None:
    """scikit-learn's ConvergenceWarning when fewer distinct clusters than asked came out."""
    distinct = data_kernels.n_distinct_labels(labels, n_clusters)
    if distinct < n_clusters:
        warnings.warn(
            f"Number of distinct clusters ({distinct}) found smaller than n_clusters "
            f"({n_clusters}). Possibly due to duplicate points in X.",
            ConvergenceWarning,
            stacklevel=stacklevel,
        )
