"""A pipeline step that divides each column by its largest magnitude, however extreme."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin


class MagnitudeScaler(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Divide each column by its largest magnitude (gaps, NaN, pass through).

    Like scikit-learn's MaxAbsScaler, except that it keeps magnitudes that
    MaxAbsScaler takes for zero (below ten machine epsilons): used before the
    imputer and scaler when values near 1e308 (or 1e-308) would overflow (or
    vanish) in their sums of squares.

    Attributes
    ----------
    scale_ : ndarray of shape (n_features,), float64
        The divisor of each column (1 for a column of zeros or gaps).
    """

    def fit(self, X, y=None):
        X = np.asarray(X, dtype=np.float64)
        with np.errstate(all="ignore"):
            magnitude = np.max(np.where(np.isnan(X), 0.0, np.abs(X)), axis=0)
        self.scale_ = np.where((magnitude > 0) & np.isfinite(magnitude), magnitude, 1.0)
        self.n_features_in_ = self.scale_.shape[0]
        return self

    def transform(self, X):
        return np.asarray(X, dtype=np.float64) / self.scale_
