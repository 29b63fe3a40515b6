"""The K-Means steps bisecting K-Means stands on: the one place that imports them.

Every K-Means internal this family uses is imported here and nowhere else in
``clustra.cluster.bisecting``, so that a change to the K-Means internals is
met in one module:

- ``single.RUNNERS[name](X, weights, centers, max_iter=, tol=, **single.shared_data(name, X))``:
  one Lloyd (or Hamerly: the same iterates) run from given centres;
- ``initial_centers``: k-means++ (``single.kmeans_plusplus``), random rows, or
  a callable's centres, drawing from the random state in scikit-learn's order;
- ``single.assign_labels``: the nearest centre of every row;
- ``single.threads_for``: no more threads than chunks of rows;
- the kernel ``inertia`` (and this family's own ``inertia_per_cluster``,
  ``partition_rows`` and ``take_rows``);
- ``CentroidEstimator``: the estimator methods every centroid estimator shares
  (checks of new data, ``predict``, ``score``, ``transform``, the ``fit_*`` shortcuts);
- ``COMMON_CONSTRAINTS``: the allowed values of the parameters shared with KMeans;
- ``functional_fit``: the results of a functional form (``bisecting_k_means``).
"""

from __future__ import annotations

import contextlib

import numpy as np

import clustra.cluster.kmeans._single as single
from clustra._config import kernel_threads
from clustra._kernels.bisecting import inertia_per_cluster, partition_rows, take_rows
from clustra._kernels.kmeans_data import inertia
from clustra.cluster.kmeans._base import (
    COMMON_CONSTRAINTS,
    CentroidEstimator,
    functional_fit,
    initial_centers,
)

__all__ = [
    "COMMON_CONSTRAINTS",
    "CentroidEstimator",
    "assign_labels",
    "best_two_means",
    "functional_fit",
    "inertia",
    "inertia_per_cluster",
    "partition_rows",
    "run_name",
    "take_rows",
    "threads",
]

def run_name(algorithm: str) -> str:
    """The K-Means run function for ``algorithm`` ('elkan' is the bounded exact variant).

    'auto' is Lloyd: with two centres a pass scores every row cheaply; Hamerly
    (which also makes a float32 copy of every float64 cluster it splits) was
    no faster with 16 features and slower with 2 (benchmarks/results/bisecting.md,
    rows "clustra lloyd" and "clustra hamerly").
    """
    if algorithm == "auto":
        return "lloyd"
    return "hamerly" if algorithm == "elkan" else algorithm


@contextlib.contextmanager
def threads(n_jobs, n_rows: int):
    """Kernel threads for a fit or a prediction on ``n_rows`` rows (``n_jobs`` None: all)."""
    with kernel_threads(n_jobs, limit_blas=False), single.threads_for(n_rows):
        yield


def assign_labels(X: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Nearest centre of every row of X (int32, ties to the lower index)."""
    return single.assign_labels(X, np.ascontiguousarray(centers, dtype=X.dtype))


def best_two_means(X, weights, *, init, kind, n_init, random_state, max_iter, tol, run):
    """Split X in two: the best of ``n_init`` 2-means runs, as scikit-learn's bisection keeps it.

    A run replaces the best so far only when its inertia is lower by more
    than a relative 1e-6 (scikit-learn's rule). ``tol`` is absolute.
    Returns ``(labels, centers)``: int32 labels 0/1 and a (2, n_features) array.
    """
    runner = single.RUNNERS[run]
    shared = single.shared_data(run, X)
    best_labels = best_centers = best_inertia = None
    with single.threads_for(X.shape[0]):
        for _ in range(n_init):
            centers = initial_centers(X, 2, init, kind, random_state, weights)
            labels, run_inertia, centers, _ = runner(X, weights, centers, max_iter=max_iter,
                                                     tol=tol, **shared)
            if best_inertia is None or run_inertia < best_inertia * (1 - 1e-6):
                best_labels, best_centers, best_inertia = labels, centers, run_inertia
    return best_labels, best_centers
