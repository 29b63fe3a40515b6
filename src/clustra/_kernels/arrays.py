"""The one array-preparation helper every kernel caller shares."""

from __future__ import annotations

import numpy as np


def writeable(X: np.ndarray, dtype=None) -> np.ndarray:
    """``X`` C-contiguous (of ``dtype`` when given) and writeable, copied only when needed.

    numba compiles every kernel a second time for a read-only array (a separate
    type), so callers hand kernels writeable arrays only.
    """
    X = np.ascontiguousarray(X, dtype=dtype)
    return X if X.flags.writeable else X.copy()
