import numpy as np
import pytest
from numba import njit

from clustra._kernels.intrinsics import fma
from clustra._kernels.kmeans_data import row_sq_norms
from clustra._kernels.kmeans_tiles import TILE, gather_tile, tile_best, tile_buffers, tile_sq_norms

# The tile kernels have no Python wrapper (clustra._kernels.jit.inner): reach them from a kernel.


@njit
def _gather_tile(X, rows, n_rows, x_t):
    return gather_tile(X, rows, n_rows, x_t)


@njit
def _tile_sq_norms(x_t, n_rows, out):
    tile_sq_norms(x_t, n_rows, out)


@njit
def _tile_buffers(n_features, n_clusters, dtype, blas):
    return tile_buffers(n_features, n_clusters, dtype, blas)


@njit
def _tile_best(X, rows, n_rows, centers, neg_half_norms, work, runner_up, few):
    return tile_best(X, rows, n_rows, centers, neg_half_norms, work, runner_up, few)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tile_sq_norms_equal_the_row_norms(rng, dtype):
    # Hamerly's first pass takes the row norms from its tiles: they must be
    # the values row_sq_norms gives, to the last bit.
    X = (rng.normal(size=(300, 13)) * rng.uniform(0.01, 1000, 13)).astype(dtype)
    rows = np.sort(rng.choice(300, 100, replace=False)).astype(np.int64)
    x_t = np.empty((13, TILE), dtype=dtype)
    _gather_tile(X, rows, 100, x_t)
    out = np.empty(TILE)
    _tile_sq_norms(x_t, 100, out)
    np.testing.assert_array_equal(out[:100], row_sq_norms(X)[rows])


@njit(cache=True)
def _scores_one_by_one(X, rows, centers, neg_half_norms):
    """Every score of every row, each its own chain of fused multiply-adds in feature order."""
    out = np.empty((rows.shape[0], centers.shape[0]), dtype=X.dtype)
    for r in range(rows.shape[0]):
        for j in range(centers.shape[0]):
            s = neg_half_norms[j]
            for f in range(X.shape[1]):
                s = fma(X[rows[r], f], centers[j, f], s)
            out[r, j] = s
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_features", [1, 2, 3, 4, 5, 7, 8, 16, 17])
@pytest.mark.parametrize("n_clusters", [1, 2, 3, 5, 8, 13])
def test_tile_best_takes_the_best_and_runner_up_scores_in_centre_order(
    rng, dtype, n_features, n_clusters
):
    # The tile kernel scores four centres per pass and four features per
    # step, padding both; each score must still be the one chain of
    # multiply-adds in feature order (to the last bit), the best the lowest
    # index among equal scores, and the runner-up the second largest score
    # (equal to the best when two centres tie).
    X = rng.normal(size=(400, n_features)).astype(dtype)
    centers = X[rng.choice(400, n_clusters, replace=False)].copy()
    if n_clusters > 2:
        centers[-1] = centers[1]  # a tie: the lower index must win
    neg_half_norms = (-0.5 * np.einsum("ij,ij->i", centers, centers)).astype(dtype)
    work = _tile_buffers(n_features, n_clusters, dtype, False)
    for n_rows in (TILE, 37, 1):
        rows = np.sort(rng.choice(400, n_rows, replace=False)).astype(np.int64)
        expected = _scores_one_by_one(X, rows, centers, neg_half_norms)
        ordered = np.sort(expected, axis=1)
        # few=True: at most 4 features score by nearest_few_features (the same bits).
        for runner_up, few in ((True, None), (False, None), (False, True)):
            _tile_best(X, rows, n_rows, centers, neg_half_norms, work, runner_up, few)
            np.testing.assert_array_equal(work.best[:n_rows], expected.argmax(axis=1))
            np.testing.assert_array_equal(work.best_score[:n_rows], ordered[:, -1])
            if runner_up:
                second = ordered[:, -2] if n_clusters > 1 else np.full(n_rows, -np.inf)
                np.testing.assert_array_equal(work.second_score[:n_rows], second)
