"""External validity indices: agreement between a clustering and reference labels.

All of them work from the contingency table of the two labelings (sparse, so
that thousands of clusters cost only the non-zero cells). Labels can be any
hashable values; -1 is an ordinary label here (as in scikit-learn): relabel
noise first if it should be treated differently. Natural logarithms throughout.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "adjusted_mutual_info_score",
    "adjusted_rand_score",
    "completeness_score",
    "contingency_matrix",
    "fowlkes_mallows_score",
    "homogeneity_completeness_v_measure",
    "homogeneity_score",
    "mutual_info_score",
    "normalized_mutual_info_score",
    "rand_score",
    "v_measure_score",
]

_EPS = float(np.finfo(np.float64).eps)
_AVERAGES = ("min", "geometric", "arithmetic", "max")


def _check_pair(labels_true, labels_pred) -> tuple[np.ndarray, np.ndarray]:
    labels_true = np.asarray(labels_true)
    labels_pred = np.asarray(labels_pred)
    for name, labels in (("labels_true", labels_true), ("labels_pred", labels_pred)):
        if labels.ndim != 1:
            raise ValueError(
                f"{name} must be 1-D (one label per sample), got shape {labels.shape}."
            )
        if labels.dtype.kind == "f" and not np.isfinite(labels).all():
            raise ValueError(f"{name} contains NaN or inf; labels must be finite.")
    if labels_true.shape[0] != labels_pred.shape[0]:
        raise ValueError(
            f"labels_true has {labels_true.shape[0]} entries but labels_pred has "
            f"{labels_pred.shape[0]}; both must label the same samples."
        )
    return labels_true, labels_pred


def _sparse_contingency(labels_true, labels_pred):
    """CSR contingency (int64), row sums ``a`` and column sums ``b``."""
    from scipy import sparse

    _, rows = np.unique(labels_true, return_inverse=True)
    _, cols = np.unique(labels_pred, return_inverse=True)
    n_rows = int(rows.max()) + 1 if rows.size else 0
    n_cols = int(cols.max()) + 1 if cols.size else 0
    table = sparse.coo_matrix(
        (np.ones(rows.shape[0], dtype=np.int64), (rows, cols)), shape=(n_rows, n_cols)
    ).tocsr()
    table.sum_duplicates()
    a = np.asarray(table.sum(axis=1), dtype=np.int64).ravel()
    b = np.asarray(table.sum(axis=0), dtype=np.int64).ravel()
    return table, a, b


def contingency_matrix(labels_true, labels_pred, *, sparse=False, dtype=np.int64):
    """Table of counts: entry ``(i, j)`` is the number of samples in true class ``i``
    and predicted cluster ``j`` (classes and clusters in sorted order).

    Parameters
    ----------
    labels_true, labels_pred : array-like of shape (n_samples,)
    sparse : bool, default=False
        Return a ``scipy.sparse.csr_matrix`` instead of a dense array.
    dtype : numeric dtype, default=np.int64

    Returns
    -------
    ndarray or csr_matrix of shape (n_classes, n_clusters)
    """
    labels_true, labels_pred = _check_pair(labels_true, labels_pred)
    table, _, _ = _sparse_contingency(labels_true, labels_pred)
    table = table.astype(dtype, copy=False)
    return table if sparse else table.toarray()


def _pair_counts(labels_true, labels_pred) -> tuple[int, int, int, int]:
    """Pair confusion counts (tn, fp, fn, tp) over ordered pairs, as Python ints."""
    table, a, b = _sparse_contingency(labels_true, labels_pred)
    n = int(labels_true.shape[0])
    sum_squares = int(np.dot(table.data, table.data))
    sum_a = int(np.dot(a, a))
    sum_b = int(np.dot(b, b))
    tp = sum_squares - n
    fp = sum_b - sum_squares  # same cluster, different class
    fn = sum_a - sum_squares  # same class, different cluster
    tn = n * n - fp - fn - sum_squares
    return tn, fp, fn, tp


def rand_score(labels_true, labels_pred) -> float:
    """Rand index: fraction of sample pairs on which the two labelings agree."""
    labels_true, labels_pred = _check_pair(labels_true, labels_pred)
    tn, fp, fn, tp = _pair_counts(labels_true, labels_pred)
    agreeing, total = tp + tn, tp + tn + fp + fn
    if agreeing == total or total == 0:
        return 1.0
    return agreeing / total


def adjusted_rand_score(labels_true, labels_pred) -> float:
    """Adjusted Rand index: the Rand index corrected for chance (Hubert and Arabie 1985).

    1.0 for identical partitions (up to renaming), about 0 for random ones,
    down to -0.5 for discordant ones. Exact integer pair counts (no overflow).
    """
    labels_true, labels_pred = _check_pair(labels_true, labels_pred)
    tn, fp, fn, tp = _pair_counts(labels_true, labels_pred)
    if fn == 0 and fp == 0:
        return 1.0
    return 2.0 * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn))


def _entropy(counts: np.ndarray) -> float:
    counts = counts[counts > 0]
    if counts.size <= 1:
        return 0.0
    total = float(counts.sum())
    return float(-np.sum((counts / total) * (np.log(counts) - math.log(total))))


def _mutual_info(table, a, b) -> float:
    if a.size == 1 or b.size == 1:
        return 0.0
    rows, cols = table.nonzero()
    values = np.asarray(table[rows, cols], dtype=np.float64).ravel()
    n = float(values.sum())
    p = values / n
    outer = a[rows].astype(np.float64) * b[cols].astype(np.float64)
    terms = p * (np.log(values) - math.log(n)) + p * (-np.log(outer) + 2.0 * math.log(n))
    terms = np.where(np.abs(terms) < _EPS, 0.0, terms)
    return float(max(terms.sum(), 0.0))


def mutual_info_score(labels_true, labels_pred) -> float:
    """Mutual information between two labelings (nats)."""
    labels_true, labels_pred = _check_pair(labels_true, labels_pred)
    return _mutual_info(*_sparse_contingency(labels_true, labels_pred))


def _average(u: float, v: float, method: str) -> float:
    if method == "min":
        return min(u, v)
    if method == "geometric":
        return math.sqrt(u * v)
    if method == "arithmetic":
        return (u + v) / 2.0
    return max(u, v)


def _check_average(method: str) -> str:
    if method not in _AVERAGES:
        raise ValueError(
            f"average_method must be one of {', '.join(_AVERAGES)}; got {method!r}."
        )
    return method


def normalized_mutual_info_score(labels_true, labels_pred, *, average_method="arithmetic"):
    """Mutual information divided by a mean of the two entropies (``average_method``).

    1.0 when both labelings put every sample in one cluster (a perfect match).
    """
    _check_average(average_method)
    labels_true, labels_pred = _check_pair(labels_true, labels_pred)
    table, a, b = _sparse_contingency(labels_true, labels_pred)
    if a.size == b.size and a.size <= 1:
        return 1.0
    mi = _mutual_info(table, a, b)
    if mi == 0:
        return 0.0
    return float(mi / _average(_entropy(a), _entropy(b), average_method))


def expected_mutual_information(a: np.ndarray, b: np.ndarray) -> float:
    """Expected mutual information of two random labelings with cluster sizes ``a``, ``b``.

    Under the hypergeometric model of Vinh, Epps and Bailey (2010): the sum
    over cells ``(i, j)`` and every feasible count ``n_ij`` of
    ``n_ij/N log(N n_ij / (a_i b_j))`` times its hypergeometric probability,
    evaluated with log-gamma functions, vectorised over ``(j, n_ij)`` for each
    row ``i`` (memory O(len(b) * max(b))).
    """
    from scipy.special import gammaln

    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    n = int(a.sum())
    log_n = math.log(n)
    gln_n = float(gammaln(n + 1))
    b_float = b.astype(np.float64)
    gln_b = gammaln(b_float + 1) + gammaln(n - b_float + 1)
    total = 0.0
    for a_i in a.tolist():
        start = np.maximum(1, a_i + b - n)  # per column j
        stop = np.minimum(a_i, b)  # inclusive
        lengths = np.maximum(stop - start + 1, 0)
        if lengths.sum() == 0:
            continue
        cols = np.repeat(np.arange(b.size), lengths)
        offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        nij = (start[cols] + offsets).astype(np.float64)
        bj = b_float[cols]
        log_terms = (
            float(gammaln(a_i + 1) + gammaln(n - a_i + 1))
            + gln_b[cols]
            - gln_n
            - gammaln(nij + 1)
            - gammaln(a_i - nij + 1)
            - gammaln(bj - nij + 1)
            - gammaln(n - a_i - bj + nij + 1)
        )
        contribution = (nij / n) * (log_n + np.log(nij) - math.log(a_i) - np.log(bj))
        total += float(np.sum(contribution * np.exp(log_terms)))
    return total


def adjusted_mutual_info_score(labels_true, labels_pred, *, average_method="arithmetic"):
    """Mutual information adjusted for chance (Vinh, Epps and Bailey 2010).

    ``(MI - E[MI]) / (mean(H_true, H_pred) - E[MI])``. 1.0 for identical
    partitions, about 0 for independent ones; 0.0 when exactly one labeling is a
    single cluster, 1.0 when both are.
    """
    _check_average(average_method)
    labels_true, labels_pred = _check_pair(labels_true, labels_pred)
    table, a, b = _sparse_contingency(labels_true, labels_pred)
    if a.size == b.size and a.size <= 1:
        return 1.0
    if a.size == 1 or b.size == 1:
        return 0.0
    mi = _mutual_info(table, a, b)
    emi = expected_mutual_information(a, b)
    normalizer = _average(_entropy(a), _entropy(b), average_method)
    # Keep the signs when rounding makes E[MI] touch MI or the normaliser.
    denominator = normalizer - emi
    denominator = min(denominator, -_EPS) if denominator < 0 else max(denominator, _EPS)
    numerator = mi - emi
    numerator = min(numerator, -_EPS) if numerator < 0 else max(numerator, _EPS)
    return float(numerator / denominator)


def homogeneity_completeness_v_measure(labels_true, labels_pred, *, beta=1.0):
    """Homogeneity, completeness and V-measure (Rosenberg and Hirschberg 2007).

    Homogeneity: each cluster holds one class (``MI / H_true``); completeness:
    each class sits in one cluster (``MI / H_pred``); V-measure: their weighted
    harmonic mean (``beta`` > 1 weighs completeness more).

    Returns
    -------
    (homogeneity, completeness, v_measure) : tuple of float
    """
    labels_true, labels_pred = _check_pair(labels_true, labels_pred)
    if labels_true.shape[0] == 0:
        return 1.0, 1.0, 1.0
    table, a, b = _sparse_contingency(labels_true, labels_pred)
    entropy_true, entropy_pred = _entropy(a), _entropy(b)
    mi = _mutual_info(table, a, b)
    homogeneity = mi / entropy_true if entropy_true else 1.0
    completeness = mi / entropy_pred if entropy_pred else 1.0
    if homogeneity + completeness == 0.0:
        return float(homogeneity), float(completeness), 0.0
    v_measure = (1 + beta) * homogeneity * completeness / (beta * homogeneity + completeness)
    return float(homogeneity), float(completeness), float(v_measure)


def homogeneity_score(labels_true, labels_pred) -> float:
    """Homogeneity: see :func:`homogeneity_completeness_v_measure`."""
    return homogeneity_completeness_v_measure(labels_true, labels_pred)[0]


def completeness_score(labels_true, labels_pred) -> float:
    """Completeness: see :func:`homogeneity_completeness_v_measure`."""
    return homogeneity_completeness_v_measure(labels_true, labels_pred)[1]


def v_measure_score(labels_true, labels_pred, *, beta=1.0) -> float:
    """V-measure: see :func:`homogeneity_completeness_v_measure`."""
    return homogeneity_completeness_v_measure(labels_true, labels_pred, beta=beta)[2]


def fowlkes_mallows_score(labels_true, labels_pred) -> float:
    """Fowlkes-Mallows index: geometric mean of pairwise precision and recall."""
    labels_true, labels_pred = _check_pair(labels_true, labels_pred)
    n = int(labels_true.shape[0])
    table, a, b = _sparse_contingency(labels_true, labels_pred)
    tk = int(np.dot(table.data, table.data)) - n
    pk = int(np.dot(b, b)) - n
    qk = int(np.dot(a, a)) - n
    if tk == 0:
        return 0.0
    return float(math.sqrt(tk / pk) * math.sqrt(tk / qk))
