"""Structureless reference data that keeps the data's tails and skew.

The gap statistic's reference (Tibshirani, Walther and Hastie 2001) is
uniform in the box of the principal axes. The uniform is the least
favourable shape only among log-concave ones: on heavy or skewed tails
(Student t, log-normal) K-Means' Calinski-Harabasz index varies far more from
sample to sample than on a uniform box, so the best of a dozen k on such
data clears a threshold set by the box's spread by chance.

This reference keeps each axis's tails: on each independent axis (FastICA,
which finds the sides of a box or the axes of independent skewed columns,
where principal axes of a round cloud are arbitrary), the central
``1 - 2 TAIL_SHARE`` of the rows are spread evenly between their quantiles,
as in the uniform box, and each tail follows the data's own distribution
function smoothed to a monotone density (its greatest convex minorant on the
left, its least concave majorant on the right, as in Hartigan's dip). The
axes are drawn independently and rotated back. Groups along an axis are
spread out (the body is even), so 1-D structure is not copied, as it would
be by resampling each axis's own scores; a uniform axis stays uniform.
The rule uses it for the spread of K-Means' index only (see
:mod:`clustra.auto._rule`).
"""

from __future__ import annotations

import numpy as np

from clustra.auto._unimodal import fit, quantile_knots

# Points of each axis's distribution function the fit is worked out on (quantiles).
KNOTS = 256
# Share of the rows in each tail of an axis: the rest is spread evenly.
TAIL_SHARE = 0.1
# Independent components are sought up to this many columns (their cost grows fast with
# the dimension), on at most this many rows, in at most this many iterations.
ICA_MAX_DIM = 32
ICA_ROWS = 1000
ICA_ITERATIONS = 100
# Smallest singular value, relative to the largest, of data whose components are sought.
RANK_TOLERANCE = 1e-6


def unimodal_knots(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(x, F)``: knots of the piecewise-linear distribution function of a reference axis
    fitted to ``values`` (float64 (m,)), ``x`` increasing and ``F`` from 0 to 1."""
    x, F = quantile_knots(values, KNOTS)
    if x.shape[0] < 3:
        return np.array([x[0], x[-1] + (x[-1] == x[0])]), np.array([0.0, 1.0])
    last = x.shape[0] - 1
    lo, hi = int(round(TAIL_SHARE * last)), int(round((1 - TAIL_SHARE) * last))
    index = np.unique(fit(x, F, lo, hi))
    return x[index], F[index]


def _independent_axes(X: np.ndarray, random_state: int):
    """``(scores, back, mean)``: ``X``'s coordinates along its independent components
    (FastICA; principal axes above ``ICA_MAX_DIM`` columns, or for one column), with
    ``scores @ back + mean`` giving ``X`` back."""
    import warnings

    mean = X.mean(axis=0)
    # Principal axes from the small covariance matrix.
    variances, vectors = np.linalg.eigh(np.atleast_2d(np.cov(X, rowvar=False)))
    axes = vectors[:, ::-1].T
    # Whitening needs every direction to vary (groups of copies of a few points may not).
    if 1 < X.shape[1] <= ICA_MAX_DIM and variances[0] > RANK_TOLERANCE**2 * variances[-1]:
        from sklearn.decomposition import FastICA

        rows = np.random.default_rng(random_state).permutation(X.shape[0])[:ICA_ROWS]
        with warnings.catch_warnings():
            # An unconverged unmixing is still a rotation of whitened data: good enough.
            warnings.simplefilter("ignore")
            ica = FastICA(whiten="unit-variance", random_state=random_state,
                          max_iter=ICA_ITERATIONS, tol=1e-3).fit(X[rows])
        unmix, back = ica.components_, ica.mixing_.T
        if np.isfinite(unmix).all() and np.allclose(unmix @ back.T, np.eye(X.shape[1]),
                                                    atol=1e-6):
            return (X - mean) @ unmix.T, back, mean
    return (X - mean) @ axes.T, axes, mean


def marginal_sampler(X: np.ndarray, random_state: int = 0):
    """``draw(size, rng)``: reference sets like ``X`` (float64 (m, d)) with no cluster
    structure, each independent axis drawn from its fit (this module's docstring)."""
    from threadpoolctl import threadpool_limits

    # Small factorisations: BLAS threads only wait on each other (and on other work).
    with threadpool_limits(limits=1, user_api="blas"):
        scores, back, mean = _independent_axes(X, random_state)
    fits = [unimodal_knots(np.ascontiguousarray(scores[:, j])) for j in range(scores.shape[1])]

    def draw(size: int, rng: np.random.Generator) -> np.ndarray:
        u = rng.uniform(size=(size, len(fits)))
        drawn = np.column_stack([np.interp(u[:, j], F, x) for j, (x, F) in enumerate(fits)])
        return drawn @ back + mean

    return draw
