"""Clustering stability: does the same k give the same clusters on resampled data?

For each k, the data are resampled ``n_resamples`` times (subsamples without
replacement, or bootstrap samples), each resample is clustered, and every pair
of clusterings is compared with the adjusted Rand index on the points the two
resamples share (Ben-Hur, Elisseeff and Guyon 2002; Lange et al. 2004). A k
that matches the structure of the data gives high, steady agreement.
k = 1 is trivially stable (ARI 1), so it says nothing about structure.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np

from clustra._docs import fill_doc
from clustra.selection._fitting import Fits, Progress, check_k_values

__all__ = ["StabilityResult", "stability"]

METHODS = ("subsample", "bootstrap")


@dataclass(frozen=True)
class StabilityResult:
    """Agreement between clusterings of resamples, per k.

    Attributes
    ----------
    k_values : ndarray of int
    mean, std : ndarray
        Mean and standard deviation of the pairwise ARIs for each k.
    scores : ndarray of shape (len(k_values), n_pairs)
        Every pairwise ARI.
    k : int or None
        The most stable k among k >= 2, the largest one on a tie (None if the
        range has no k >= 2).
    """

    k_values: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    scores: np.ndarray
    k: int | None


def _check_options(n_resamples, method, fraction):
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, Integral) or n_resamples < 2:
        raise ValueError(f"n_resamples must be an integer >= 2, got {n_resamples!r}.")
    if method not in METHODS:
        raise ValueError(f"method must be 'subsample' or 'bootstrap', got {method!r}.")
    if not isinstance(fraction, Real) or not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction!r}.")


def _resample(n_samples, method, fraction, rng) -> np.ndarray:
    size = max(2, int(round(fraction * n_samples)))
    if method == "subsample":
        return np.sort(rng.choice(n_samples, size=size, replace=False))
    return np.sort(rng.choice(n_samples, size=size, replace=True))


def _shared_labels(rows_a, labels_a, rows_b, labels_b):
    """Labels of the original points present in both resamples (first copy of each)."""
    unique_a, first_a = np.unique(rows_a, return_index=True)
    unique_b, first_b = np.unique(rows_b, return_index=True)
    _, in_a, in_b = np.intersect1d(unique_a, unique_b, assume_unique=True, return_indices=True)
    return labels_a[first_a[in_a]], labels_b[first_b[in_b]]


# The same leading arguments as gap_statistic's (X, k_range, estimator, a count, a
# choice): one calling convention for the criteria, not code to share.
@fill_doc
def stability(
    X,
    k_range=range(2, 11),
    estimator=None,
    n_resamples: int = 10,
    method: str = "subsample",
    fraction: float = 0.8,
    random_state=None,
    *,
    progress: Progress | None = None,
) -> StabilityResult:
    """Mean and standard deviation of the ARI between clusterings of resamples, per k.

    Each resample is clustered at every k, and each pair of resamples is
    compared by the adjusted Rand index on the points both hold; the k whose
    clusterings agree best (the larger among equals) is the most reproducible.

    Parameters
    ----------
    %(selection_X)s
    k_range : iterable of int, default=range(2, 11)
    %(selection_estimator)s
    n_resamples : int, default=10
        Resamples per k; all ``n_resamples * (n_resamples - 1) / 2`` pairs are compared.
    method : {"subsample", "bootstrap"}, default="subsample"
        Draw ``fraction * n`` rows without replacement, or with replacement.
    fraction : float, default=0.8
    random_state : int, Generator or None
    %(selection_progress)s

    Returns
    -------
    StabilityResult
    """
    from clustra.metrics._checks import check_data
    from clustra.metrics.external import adjusted_rand_score

    X = check_data(X)
    _check_options(n_resamples, method, fraction)
    k_values = check_k_values(k_range, max(2, int(round(fraction * X.shape[0]))))
    fits = Fits(estimator, random_state, progress, n_resamples * len(k_values))
    rng = np.random.default_rng(random_state)

    resamples = [_resample(X.shape[0], method, fraction, rng) for _ in range(n_resamples)]
    clusterings = [fits.labels(X[rows], k_values) for rows in resamples]
    pairs = [(a, b) for a in range(n_resamples) for b in range(a + 1, n_resamples)]
    scores = np.empty((len(k_values), len(pairs)))
    for row, k in enumerate(k_values):
        for column, (a, b) in enumerate(pairs):
            shared_a, shared_b = _shared_labels(
                resamples[a], clusterings[a][int(k)], resamples[b], clusterings[b][int(k)]
            )
            scores[row, column] = adjusted_rand_score(shared_a, shared_b)
    mean = scores.mean(axis=1)
    eligible = k_values >= 2
    best = None
    if eligible.any():
        # Equally reproducible: the finer partition says more.
        top = mean[eligible].max()
        best = int(k_values[eligible][mean[eligible] >= top - 1e-12].max())
    return StabilityResult(k_values, mean, scores.std(axis=1), scores, best)
