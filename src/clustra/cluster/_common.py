"""What the estimators share: input checks, the memory guard, a writable copy.

Each input check says what was wrong, with the offending value, and what to do about
it. Only public scikit-learn helpers are used.
"""

from __future__ import annotations

import os
from numbers import Integral, Real

import numpy as np

from clustra._kernels.arrays import writeable  # noqa: F401 - the one helper, for estimators

FLOAT_DTYPES = (np.float64, np.float32)


def _first_positions(mask: np.ndarray, limit: int = 3) -> str:
    """Describe where ``mask`` is true, as '(row 3, column 0), ...' (0-based)."""
    positions = np.argwhere(mask)[:limit]
    described = ", ".join(
        f"(row {int(p[0])}, column {int(p[1])})" if len(p) == 2 else f"(index {int(p[0])})"
        for p in positions
    )
    more = int(mask.sum()) - len(positions)
    return described + (f" and {more} more" if more > 0 else "")


def check_finite(X: np.ndarray, name: str = "X") -> None:
    """Raise ``ValueError`` naming how many NaN/inf values ``X`` holds, and where."""
    if X.dtype.kind not in "fc":
        return
    # A finite sum proves every value finite in one cheap pass; only a sum that
    # is not finite (NaN, inf, or an overflow of finite values) needs a closer look.
    if np.isfinite(X.sum(dtype=np.float64)) or np.isfinite(X).all():
        return
    nan_mask = np.isnan(X)
    inf_mask = np.isinf(X)
    n_nan, n_inf = int(nan_mask.sum()), int(inf_mask.sum())
    parts = []
    if n_nan:
        plural = "s" if n_nan != 1 else ""
        parts.append(f"{n_nan} NaN value{plural} at {_first_positions(nan_mask)}")
    if n_inf:
        plural = "s" if n_inf != 1 else ""
        parts.append(f"{n_inf} inf value{plural} at {_first_positions(inf_mask)}")
    raise ValueError(
        f"Input {name} contains " + " and ".join(parts) + ". Clustering needs finite numbers: "
        "drop those rows or fill them in first (for example with sklearn.impute.SimpleImputer)."
    )


def validate_X(
    estimator,
    X,
    *,
    reset: bool,
    dtype=FLOAT_DTYPES,
    accept_sparse: bool | str | list = False,
    order: str | None = None,
    copy: bool = False,
    ensure_min_samples: int = 1,
    ensure_finite: bool = True,
):
    """Validate ``X`` for ``estimator`` (setting ``n_features_in_`` when ``reset``).

    Floats keep their precision (float32 stays float32); anything else becomes
    float64. NaN/inf, text, empty or 1-D input are refused with a clear message
    (NaN/inf only with ``ensure_finite``: a caller that passes over the data
    anyway may prove it finite on the way and call :func:`check_finite` only
    when it is not).
    """
    if not accept_sparse and _is_sparse(X):
        raise TypeError(
            f"{type(estimator).__name__} does not accept sparse input: got a "
            f"{type(X).__name__}. Convert it with X.toarray() if it fits in memory."
        )
    from sklearn.utils.validation import validate_data  # loads scikit-learn: only here

    _reject_text(X)
    try:
        X = validate_data(
            estimator,
            X,
            reset=reset,
            dtype=dtype,
            accept_sparse=accept_sparse,
            order=order,
            copy=copy,
            ensure_all_finite=False,
            ensure_min_samples=ensure_min_samples,
        )
    except ValueError as exc:
        message = str(exc)
        if "Expected 2D array" in message:
            raise ValueError(
                "Expected a 2-D array of shape (n_samples, n_features), got a 1-D array. "
                "Reshape your data with X.reshape(-1, 1) for a single feature, or X.reshape(1, -1) "
                "for a single sample."
            ) from exc
        raise
    if not ensure_finite:
        return X
    if _is_sparse(X):
        check_finite(X.data, name="X")
    else:
        check_finite(X, name="X")
    return X


def _is_sparse(X) -> bool:
    return hasattr(X, "tocsr") and hasattr(X, "nnz")


def _reject_text(X) -> None:
    """Refuse strings early, with a message that says which column to fix."""
    dtype = getattr(X, "dtype", None)
    if dtype is not None and dtype.kind in "USa":
        raise ValueError(
            "Input X contains text (dtype "
            f"{dtype}); clustering needs numbers. Encode text columns first "
            "(for example with sklearn.preprocessing.OneHotEncoder) or drop them."
        )
    dtypes = getattr(X, "dtypes", None)  # a pandas DataFrame
    if dtypes is not None and hasattr(dtypes, "items"):
        text_columns = [str(c) for c, t in dtypes.items() if t.kind in "OUSa" and _has_text(X[c])]
        if text_columns:
            raise ValueError(
                f"Input X has text column(s) {text_columns[:5]}; clustering needs numbers. "
                "Encode them first (for example with sklearn.preprocessing.OneHotEncoder) "
                "or drop them."
            )
    elif dtype is not None and dtype.kind == "O":
        flat = np.asarray(X).ravel()
        for position, value in enumerate(flat[:10_000]):
            if isinstance(value, str):
                raise ValueError(
                    f"Input X contains text ({value!r} at flat position {position}); "
                    "clustering needs numbers. Encode text columns first (for example "
                    "with sklearn.preprocessing.OneHotEncoder) or drop them."
                )


def _has_text(column) -> bool:
    return any(isinstance(v, str) for v in column.iloc[:10_000])


def check_sample_weight(sample_weight, n_samples: int, dtype) -> np.ndarray:
    """Return sample weights as a contiguous 1-D array of ``dtype``.

    ``None`` means every sample weighs 1. Weights must be finite and
    non-negative, with a positive total.
    """
    if sample_weight is None:
        return np.ones(n_samples, dtype=dtype)
    if isinstance(sample_weight, Real) and not isinstance(sample_weight, bool):
        return np.full(n_samples, sample_weight, dtype=dtype)
    weights = np.asarray(sample_weight)
    if weights.dtype.kind not in "biuf":
        raise ValueError(f"sample_weight must be numeric, got dtype {weights.dtype}.")
    if weights.ndim != 1:
        raise ValueError(
            f"sample_weight must be 1-D with one weight per sample, got shape {weights.shape}."
        )
    if weights.shape[0] != n_samples:
        raise ValueError(
            f"sample_weight has {weights.shape[0]} weights but X has {n_samples} samples; "
            "give one weight per sample."
        )
    weights = np.ascontiguousarray(weights, dtype=dtype)
    check_finite(weights, name="sample_weight")
    negative = weights < 0
    if negative.any():
        raise ValueError(
            f"sample_weight must be non-negative: {int(negative.sum())} negative weight(s), "
            f"the first at {_first_positions(negative, 1)} (value {weights[negative][0]!r})."
        )
    if not weights.sum() > 0:
        raise ValueError("sample_weight sums to zero: at least one sample needs a positive weight.")
    return weights


def check_n_clusters(n_clusters, n_samples: int, name: str = "n_clusters") -> int:
    """Check that ``1 <= n_clusters <= n_samples``."""
    if isinstance(n_clusters, bool) or not isinstance(n_clusters, Integral):
        raise TypeError(f"{name} must be an integer, got {n_clusters!r}.")
    if n_clusters < 1:
        raise ValueError(f"{name} must be at least 1, got {n_clusters}.")
    if n_clusters > n_samples:
        raise ValueError(
            f"{name}={n_clusters} is larger than the number of samples ({n_samples}): "
            f"ask for at most {n_samples} clusters, or give more data."
        )
    return int(n_clusters)


# The memory guard: refuse an n^2 allocation that will not fit, before making it.
#
# The available memory is read from ``/proc/meminfo`` (``MemAvailable``), else
# from ``os.sysconf``. Tests and users may set a limit instead: the environment
# variable ``CLUSTRA_MEMORY_LIMIT`` (bytes, or with a suffix K/M/G) or
# :func:`set_memory_limit` (which wins over the variable).


_limit_override: int | None = None
# Leave room for the interpreter, the input and the result.
_USABLE_FRACTION = 0.9


class LinkageMemoryError(MemoryError):
    """An O(n^2) structure would not fit in the memory available."""


def set_memory_limit(n_bytes: int | None) -> None:
    """Pretend that only ``n_bytes`` are available (``None``: measure again)."""
    global _limit_override
    if n_bytes is not None and (isinstance(n_bytes, bool) or int(n_bytes) <= 0):
        raise ValueError(f"The memory limit must be a positive number of bytes, got {n_bytes!r}.")
    _limit_override = None if n_bytes is None else int(n_bytes)


def _parse_size(text: str) -> int:
    text = text.strip().upper()
    factor = 1
    for suffix, value in (("K", 2**10), ("M", 2**20), ("G", 2**30), ("T", 2**40)):
        if text.endswith(suffix) or text.endswith(suffix + "B"):
            text = text[: text.index(suffix)]
            factor = value
            break
    try:
        return int(float(text) * factor)
    except ValueError as exc:
        raise ValueError(
            "CLUSTRA_MEMORY_LIMIT must be a number of bytes such as 4000000000 or 4G, "
            f"got {text!r}."
        ) from exc


def available_memory() -> int:
    """Bytes this process may still allocate (the override, else the system's estimate)."""
    if _limit_override is not None:
        return _limit_override
    raw = os.environ.get("CLUSTRA_MEMORY_LIMIT")
    if raw:
        return _parse_size(raw)
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - exotic platforms
        return 2**63 - 1


def condensed_bytes(n_samples: int, copies: int = 1) -> int:
    """Bytes of ``copies`` condensed float64 distance vectors for ``n_samples`` points."""
    return copies * 8 * (n_samples * (n_samples - 1) // 2)


def check_matrix_fits(n_samples: int, method: str, copies: int = 1) -> None:
    """Raise :class:`LinkageMemoryError` if the distance matrix would not fit.

    Costs nothing but arithmetic, so it answers at once for any ``n_samples``.
    """
    needed = condensed_bytes(n_samples, copies)
    available = available_memory()
    if needed <= _USABLE_FRACTION * available:
        return
    ways_out = []
    if method == "single":
        ways_out.append(
            "pass the observations (not a distance vector): single linkage then builds a "
            "minimum spanning tree in O(n) memory"
        )
    else:
        ways_out.append(
            'method="single" needs no matrix (a minimum spanning tree, O(n) memory)'
        )
    if method in ("ward", "centroid", "median"):
        ways_out.append(
            f'method="{method}" on the observations with Euclidean distances works in '
            "O(n d) memory: pass X (not distances)"
        )
    else:
        ways_out.append(
            '"ward", "centroid" and "median" have an O(n d) version from the observations'
        )
    ways_out.append(
        "or cluster a random sample (e.g. 20,000 rows) and assign the rest with predict()"
    )
    raise LinkageMemoryError(
        f"{method!r} linkage on {n_samples:,} points needs a distance matrix of "
        f"{needed / 1e9:.1f} GB, but only {available / 1e9:.1f} GB of memory is available. "
        "Ways out: " + "; ".join(ways_out) + "."
    )
