"""Input checks shared by the validity indices (messages written for people)."""

from __future__ import annotations

import numpy as np

from clustra.cluster._common import _reject_text, check_finite

NOISE_OPTIONS = ("exclude", "cluster")


def check_data(X, name: str = "X") -> np.ndarray:
    """Return ``X`` as a C-contiguous 2-D float64 array (refusing NaN/inf, text, 1-D)."""
    _reject_text(X)
    if hasattr(X, "tocsr") and hasattr(X, "nnz"):
        raise TypeError(
            f"{name} is sparse ({type(X).__name__}); the validity indices need a dense array. "
            "Convert it with X.toarray() if it fits in memory."
        )
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(
            f"Expected a 2-D array {name} of shape (n_samples, n_features), got {X.ndim}-D "
            f"shape {X.shape}. Reshape with X.reshape(-1, 1) for a single feature."
        )
    if X.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric, got dtype {X.dtype}.")
    X = np.ascontiguousarray(X, dtype=np.float64)
    check_finite(X, name=name)
    return X


def check_labels(labels, n_samples: int, name: str = "labels") -> np.ndarray:
    """Return ``labels`` as a 1-D array with one entry per sample."""
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one label per sample), got shape {labels.shape}.")
    if labels.shape[0] != n_samples:
        raise ValueError(
            f"{name} has {labels.shape[0]} entries but X has {n_samples} samples; "
            "give exactly one label per row of X."
        )
    if labels.dtype.kind == "f":
        check_finite(labels, name=name)
    return labels


def check_noise(noise: str) -> str:
    if noise not in NOISE_OPTIONS:
        raise ValueError(
            f"noise must be 'exclude' (leave label -1 out) or 'cluster' (count it as its "
            f"own cluster), got {noise!r}."
        )
    return noise


def noise_mask(labels: np.ndarray) -> np.ndarray:
    """True where a label is the noise label -1 (only numeric labels can be noise)."""
    if labels.dtype.kind in "iuf":
        return labels == -1
    return np.zeros(labels.shape[0], dtype=bool)


def encode(labels: np.ndarray) -> tuple[np.ndarray, int]:
    """Labels -> codes ``0..k-1`` (in sorted label order) and ``k``."""
    if labels.dtype.kind in "iu" and labels.shape[0] > 0:
        # Small integer labels (the usual case) are encoded by a lookup table
        # in O(n) instead of np.unique's O(n log n) sort; same codes.
        low, high = int(labels.min()), int(labels.max())
        if high - low <= 4 * labels.shape[0] + 1024:
            present = np.zeros(high - low + 1, dtype=bool)
            present[labels - low] = True
            lookup = np.cumsum(present, dtype=np.int64) - 1
            return lookup[labels - low], int(present.sum())
    uniques, codes = np.unique(labels, return_inverse=True)
    return codes.astype(np.int64, copy=False), int(uniques.shape[0])


def check_n_labels(n_labels: int, n_samples: int, function: str, labels: np.ndarray) -> None:
    """The internal indices need ``2 <= n_labels <= n_samples - 1`` (as scikit-learn)."""
    if 2 <= n_labels <= n_samples - 1:
        return
    shown = np.unique(labels)[:5].tolist()
    if n_labels < 2:
        raise ValueError(
            f"{function} needs at least 2 clusters, got {n_labels} (labels {shown}). "
            "A single cluster has no 'other cluster' to compare with; for choosing between "
            "one and several clusters use clustra.selection.gap_statistic."
        )
    raise ValueError(
        f"{function} needs at most n_samples - 1 = {n_samples - 1} clusters, got "
        f"{n_labels}: every sample is its own cluster. Use fewer clusters."
    )


def select_samples(X, labels, noise: str, function: str, *, precomputed: bool = False):
    """Apply the noise option: returns ``(X_kept, codes, n_labels, kept_mask)``.

    ``noise="exclude"`` drops samples labelled -1 (rows and, for a precomputed
    distance matrix, columns); ``"cluster"`` keeps them as one more cluster.
    Checks the number of clusters for the internal indices.
    """
    check_noise(noise)
    X = check_data(X)
    labels = check_labels(labels, X.shape[0])
    kept = ~noise_mask(labels) if noise == "exclude" else np.ones(X.shape[0], dtype=bool)
    if not kept.any():
        raise ValueError(
            f"{function}: every sample is noise (label -1), so there is nothing to score. "
            "Use noise='cluster' to count noise as a cluster, or a clustering with clusters."
        )
    X_kept = X if kept.all() else X[kept]
    if precomputed and not kept.all():
        X_kept = np.ascontiguousarray(X_kept[:, kept])  # a distance matrix: columns too
    labels_kept = labels[kept]
    codes, n_labels = encode(labels_kept)
    check_n_labels(n_labels, X_kept.shape[0], function, labels_kept)
    return X_kept, codes, n_labels, kept
