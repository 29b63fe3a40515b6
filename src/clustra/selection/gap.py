"""The gap statistic (Tibshirani, Walther and Hastie, J. R. Statist. Soc. B, 2001).

For each k, compare the log within-cluster sum of squares ``log W_k`` of the
data with its expectation under a null reference distribution with no
clusters: ``gap(k) = mean_b log W*_kb - log W_k``. The reference sets are drawn
uniformly over the data's bounding box (``reference="uniform"``) or over the box
aligned with its principal axes (``"pca"``, which follows the data's shape).
The 1-standard-error rule picks the smallest k with
``gap(k) >= gap(k + 1) - s_{k + 1}``, where ``s_k = sd_k * sqrt(1 + 1/B)``.
It can answer k = 1: no cluster structure. Constant data (every row the same
point) answers k = 1 at once, with that reason: every ``log W_k`` would be
``log 0``.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral

import numpy as np

from clustra._docs import fill_doc
from clustra.selection._fitting import Fits, Progress, check_k_values

__all__ = ["GapResult", "gap_statistic", "reference_log_w", "one_standard_error_k"]

REFERENCES = ("uniform", "pca")
ONE_POINT_REASON = ("every row is the same point (zero variance in every column), so there is "
                    "one cluster; no criterion can pick a k from rounding noise")


def one_point(X: np.ndarray) -> bool:
    """Whether every row of ``X`` equals the first (constant data, zero variance)."""
    return bool(X.shape[0] > 0 and np.all(X == X[0]))


@dataclass(frozen=True)
class GapResult:
    """Gap statistic over a range of k.

    Attributes
    ----------
    k : int
        The 1-standard-error choice.
    k_values, gaps, s_k, log_w, log_w_ref : ndarray
        Per k: the gap, its standard error ``s_k``, the data's ``log W_k`` and
        the mean reference ``log W*_k``.
    reason : str
        One sentence explaining ``k``.
    labels : dict
        ``{k: labels}`` of the data.
    """

    k: int
    k_values: np.ndarray
    gaps: np.ndarray
    s_k: np.ndarray
    log_w: np.ndarray
    log_w_ref: np.ndarray
    reason: str
    labels: dict


def within_ss(X: np.ndarray, labels: np.ndarray) -> float:
    """Pooled within-cluster sum of squares around the cluster means (``W_k``)."""
    from clustra.metrics._checks import encode
    from clustra.metrics.internal import _cluster_moments

    codes, n_labels = encode(np.asarray(labels))
    return float(_cluster_moments(X, codes, n_labels)[2])


def reference_sampler(X: np.ndarray, reference: str):
    """``draw(size, rng)``: reference data sets with no cluster structure, like ``X``.

    The box (and for ``"pca"`` the principal axes) is worked out once, so a
    sweep's many reference sets cost only their random draws.
    """
    if reference == "uniform":
        low, high = X.min(axis=0), X.max(axis=0)

        def draw(size: int, rng: np.random.Generator) -> np.ndarray:
            return rng.uniform(low, high, size=(size, X.shape[1]))

        return draw
    mean = X.mean(axis=0)
    _, _, axes = np.linalg.svd(X - mean, full_matrices=False)
    projected = (X - mean) @ axes.T
    low, high = projected.min(axis=0), projected.max(axis=0)

    def draw_pca(size: int, rng: np.random.Generator) -> np.ndarray:
        box = rng.uniform(low, high, size=(size, axes.shape[0]))
        return box @ axes + mean

    return draw_pca


def draw_reference(X: np.ndarray, size: int, reference: str, rng: np.random.Generator):
    """One reference data set of ``size`` rows with no cluster structure."""
    return reference_sampler(X, reference)(size, rng)


def reference_log_w(
    X,
    k_values,
    fits: Fits,
    *,
    n_refs: int,
    reference: str,
    reference_size: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """``log W*_k`` of ``n_refs`` reference sets: array (n_refs, len(k_values)).

    A reference set smaller than the data (``reference_size < n``) is rescaled
    by ``n / reference_size`` (W grows linearly with n for structureless data),
    which keeps the expectation and widens ``s_k`` (a more cautious rule).
    """
    n_samples = X.shape[0]
    out = np.empty((n_refs, len(k_values)))
    draw = reference_sampler(X, reference)
    for b in range(n_refs):
        Z = draw(reference_size, rng)
        labels = fits.labels(Z, k_values)
        for column, k in enumerate(k_values):
            out[b, column] = np.log(within_ss(Z, labels[int(k)]) * n_samples / reference_size)
    return out


def one_standard_error_k(k_values, gaps, s_k) -> tuple[int, str]:
    """Smallest k with ``gap(k) >= gap(k+1) - s_{k+1}``, and a sentence saying why."""
    for i in range(len(k_values) - 1):
        if gaps[i] >= gaps[i + 1] - s_k[i + 1]:
            k = int(k_values[i])
            if k == 1:
                return 1, (
                    "the gap statistic's 1-standard-error rule finds no cluster structure "
                    f"(gap(1)={gaps[0]:.3f} >= gap(2) - s_2={gaps[1] - s_k[1]:.3f})"
                )
            return k, (
                f"the gap statistic's 1-standard-error rule picks k={k} (gap(k)={gaps[i]:.3f} "
                f">= gap(k+1) - s={gaps[i + 1] - s_k[i + 1]:.3f})"
            )
    k = int(k_values[-1])
    return k, (
        f"the gap keeps rising up to the largest k tried ({k}); try a wider k_range"
    )


def _check_gap_options(n_refs, reference, reference_size, n_samples) -> int:
    if isinstance(n_refs, bool) or not isinstance(n_refs, Integral) or n_refs < 2:
        raise ValueError(f"n_refs must be an integer >= 2 (reference sets), got {n_refs!r}.")
    if reference not in REFERENCES:
        raise ValueError(
            f"reference must be 'uniform' (bounding box) or 'pca' (principal-axes box), "
            f"got {reference!r}."
        )
    if reference_size is None:
        return n_samples
    if isinstance(reference_size, bool) or not isinstance(reference_size, Integral):
        raise ValueError(f"reference_size must be an integer or None, got {reference_size!r}.")
    if reference_size < 2:
        raise ValueError(f"reference_size must be at least 2, got {reference_size}.")
    return int(min(reference_size, n_samples))


@fill_doc
def gap_statistic(
    X,
    k_range=range(1, 11),
    estimator=None,
    n_refs: int = 10,
    reference: str = "uniform",
    random_state=None,
    *,
    reference_size: int | None = None,
    progress: Progress | None = None,
) -> GapResult:
    """Gap statistic and its 1-standard-error choice of k.

    Parameters
    ----------
    %(selection_X)s
    k_range : iterable of int, default=range(1, 11)
        Consecutive values are compared by the 1-SE rule; include 1 to allow
        the answer "no cluster structure".
    %(selection_estimator)s
    n_refs : int, default=10
        Number of reference data sets B.
    reference : {"uniform", "pca"}, default="uniform"
    random_state : int, Generator or None
    reference_size : int, optional
        Rows per reference set (default: as many as X); smaller is faster.
    %(selection_progress)s

    Returns
    -------
    GapResult
        The chosen ``k`` and why, and per k the gap, its standard error and
        the data's and references' ``log W_k``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.cluster import KMeans
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(0, 0.3, (50, 2)), rng.normal(5, 0.3, (50, 2))])
    >>> gap_statistic(X, range(1, 5), KMeans(n_init=3), random_state=0).k
    2
    """
    from clustra.metrics._checks import check_data

    X = check_data(X)
    k_values = check_k_values(k_range, X.shape[0])
    reference_size = _check_gap_options(n_refs, reference, reference_size, X.shape[0])
    if one_point(X):
        undefined = np.full(len(k_values), np.nan)
        labels = {int(k): np.zeros(X.shape[0], dtype=np.int64) for k in k_values}
        return GapResult(1, np.asarray(k_values), undefined, undefined.copy(), undefined.copy(),
                         undefined.copy(), ONE_POINT_REASON, labels)
    fits = Fits(estimator, random_state, progress, len(k_values) * (n_refs + 1))
    rng = np.random.default_rng(random_state)

    labels = fits.labels(X, k_values)
    log_w = np.log(np.array([within_ss(X, labels[int(k)]) for k in k_values]))
    ref = reference_log_w(
        X, k_values, fits, n_refs=n_refs, reference=reference,
        reference_size=reference_size, rng=rng,
    )
    return summarise_gap(k_values, log_w, ref, labels)


def summarise_gap(k_values, log_w, ref_log_w, labels) -> GapResult:
    """Combine the data's and the references' ``log W_k`` into a :class:`GapResult`."""
    n_refs = ref_log_w.shape[0]
    log_w_ref = ref_log_w.mean(axis=0)
    gaps = log_w_ref - log_w
    s_k = ref_log_w.std(axis=0) * np.sqrt(1.0 + 1.0 / n_refs)
    k, reason = one_standard_error_k(k_values, gaps, s_k)
    return GapResult(k, np.asarray(k_values), gaps, s_k, log_w, log_w_ref, reason, labels)
