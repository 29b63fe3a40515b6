"""The K-Means steps bisecting K-Means stands on: the one place that imports them.

Every K-Means internal this family uses is imported here and nowhere else in
``clustra.cluster.bisecting``, so that a change to the K-Means internals is
met in one module:

- ``single.RUNNERS[name](X, weights, centers, max_iter=, tol=, **single.shared_data(name, X))``:
  one Lloyd (or Hamerly: the same iterates) run from given centres;
- ``initial_centers``: k-means++ (``single.kmeans_plusplus``), random rows, or
  a callable's centres, drawing from the random state in scikit-learn's order;
- ``single._iterate``: the iteration and stopping rules of a run, which the
  two-centre run (:func:`two_means_lloyd`) shares with Lloyd's;
- ``single.assign_labels``: the nearest centre of every row;
- ``single.threads_for``: no more threads than chunks of rows;
- the kernels ``inertia`` and ``row_sq_norms``, the chunk sums (``kmeans_sums``),
  and this family's own kernels (``inertia_per_cluster``, ``partition_rows``,
  ``take_rows``, the two-centre pass ``two_means_pass`` and its ``sides_copy``);
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
from clustra._kernels import kmeans_sums as sums_kernels
from clustra._kernels.bisecting import (
    inertia_per_cluster,
    partition_rows,
    sides_copy,
    take_rows,
    two_means_pass,
)
from clustra._kernels.kmeans_data import inertia, row_sq_norms
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
    "row_norm_max",
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


def row_norm_max(X: np.ndarray) -> float:
    """The largest Euclidean norm of a row of X (0 for no rows)."""
    return float(np.sqrt(row_sq_norms(X).max(initial=0.0)))


def two_means_lloyd(X, weights, centers, *, max_iter, tol, row_norm_max, x_sides=None):
    """:func:`single.lloyd` with two centres, by the two-centre pass: the same run.

    Lloyd's moving chunk sums, passes that label by one dot product per row
    (``two_means_pass``, which scores near-ties as Lloyd's kernel does), and
    Lloyd's iteration: the same labels and centres, bit for bit. The inertia
    it returns is each cluster's ((2,) float64, ``inertia_per_cluster``),
    measured in the pass Lloyd measures its total in. ``row_norm_max``
    bounds the norm of X's rows; ``x_sides`` is ``sides_copy(X)`` or None.
    """
    n_samples, n_features = X.shape
    labels = np.full(n_samples, -1, dtype=np.int32)
    sums = sums_kernels.chunk_sums(n_samples, 2, n_features)
    row_weights = sums_kernels.move_weights(weights)

    def run_pass(centers, shift, first):
        return two_means_pass(X, row_weights, centers, single.neg_half_norms(centers), labels,
                              sums, first, row_norm_max, x_sides)

    def settle(centers, shift):
        run_pass(centers, shift, False)  # the sums it updates are not used again

    return single._iterate(X, weights, np.ascontiguousarray(centers, dtype=X.dtype), labels,
                           sums.sums, sums.weight_sums, run_pass, settle, max_iter=max_iter,
                           tol=tol, history=None, measure=inertia_per_cluster)


def _two_centre_runner(run, X, row_norm_max):
    """The run function for 2-means runs on X, and its extra arguments.

    Lloyd's own run where it would not take the path the two-centre pass
    reproduces (BLAS scoring, or sums summed afresh every pass).
    """
    n_samples, n_features = X.shape
    if (run == "lloyd" and row_norm_max is not None
            and not single.use_blas(n_samples, 2, n_features)
            and single.chunk_sums_fit(n_samples, 2, n_features)):
        return two_means_lloyd, {"row_norm_max": row_norm_max,
                                 "x_sides": sides_copy(X, row_norm_max)}
    return single.RUNNERS[run], single.shared_data(run, X)


def best_two_means(X, weights, *, init, kind, n_init, random_state, max_iter, tol, run,
                   row_norm_max=None):
    """Split X in two: the best of ``n_init`` 2-means runs, as scikit-learn's bisection keeps it.

    A run replaces the best so far only when its inertia is lower by more
    than a relative 1e-6 (scikit-learn's rule). ``tol`` is absolute.
    ``row_norm_max``, at least the largest norm of a row of X, lets Lloyd's
    runs take the two-centre pass (see :func:`two_means_lloyd`).
    Returns ``(labels, centers, inertia)``: int32 labels 0/1, a (2, n_features)
    array and each half's inertia ((2,) float64, ``inertia_per_cluster``).
    """
    runner, shared = _two_centre_runner(run, X, row_norm_max)
    best = best_inertia = None
    with single.threads_for(X.shape[0]):
        for _ in range(n_init):
            centers = initial_centers(X, 2, init, kind, random_state, weights)
            labels, run_inertia, centers, _ = runner(X, weights, centers, max_iter=max_iter,
                                                     tol=tol, **shared)
            per_half = run_inertia if np.ndim(run_inertia) else None
            if per_half is not None:
                run_inertia = per_half[0] + per_half[1]
            if best_inertia is None or run_inertia < best_inertia * (1 - 1e-6):
                best, best_inertia = (labels, centers, per_half), run_inertia
        labels, centers, per_half = best
        if per_half is None:
            per_half = inertia_per_cluster(X, weights, centers, labels)
    return labels, centers, per_half
