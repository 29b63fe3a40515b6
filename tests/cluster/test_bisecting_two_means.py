"""Bisecting K-Means' two-centre Lloyd pass: the labels of Lloyd's general kernel, near-ties too."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cluster import BisectingKMeans as SkBisectingKMeans
from threadpoolctl import threadpool_limits

import clustra.cluster.bisecting._kmeans_steps as steps
import clustra.cluster.kmeans._single as single
from clustra._kernels import bisecting as bisecting_kernels
from clustra._kernels import kmeans_sums
from clustra.cluster import BisectingKMeans

DTYPES = (np.float32, np.float64)


def _near_tie_rows(dtype, n_features, n_rows, seed):
    """Two centres and rows a few units of rounding from their bisector (and some on it)."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(2, n_features)).astype(dtype)
    axis = centers[1].astype(np.float64) - centers[0]
    middle = (centers[0].astype(np.float64) + centers[1]) / 2
    across = rng.normal(size=(n_rows, n_features)) * 3
    across -= np.outer(across @ axis / (axis @ axis), axis)
    along = rng.integers(-50, 51, size=n_rows) * np.finfo(dtype).eps
    X = (middle + across + np.outer(along, axis)).astype(dtype)
    return np.ascontiguousarray(X), centers


def _two_centre_labels(X, centers, copy=False):
    labels = np.full(X.shape[0], -1, dtype=np.int32)
    sums = kmeans_sums.chunk_sums(X.shape[0], 2, X.shape[1])
    norm_bound = steps.row_norm_max(X)
    x_sides = steps.sides_copy(X, norm_bound) if copy else None
    wide64 = X.dtype == np.float64 and X.shape[1] >= 8
    assert (x_sides is not None) == (copy and (X.shape[1] <= 4 or wide64))
    bisecting_kernels.two_means_pass(X, X[:0, 0], centers, single.neg_half_norms(centers),
                                     labels, sums, True, norm_bound, x_sides)
    return labels


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n_features", [1, 2, 3, 16])
@pytest.mark.parametrize("copy", [False, True])  # sides from a float32 copy (float64, d >= 8)
def test_near_ties_labelled_as_the_general_kernel(dtype, n_features, copy):
    X, centers = _near_tie_rows(dtype, n_features, 5000, n_features)
    expected = single.assign_labels(X, centers)
    np.testing.assert_array_equal(_two_centre_labels(X, centers, copy), expected)
    assert 0.3 < expected.mean() < 0.7


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("copy", [False, True])
def test_the_sign_alone_gets_near_ties_wrong(dtype, copy, monkeypatch):
    # The data above has rows the margin must catch: with none, some labels change.
    X, centers = _near_tie_rows(dtype, 16, 5000, 16)
    monkeypatch.setattr(bisecting_kernels, "two_means_margin", lambda *args: 0.0)
    assert (_two_centre_labels(X, centers, copy) != single.assign_labels(X, centers)).any()


def _tie_data(kind, dtype, rng):
    if kind == "symmetric":
        half = rng.normal(size=(700, 8)) * 100
        X = np.concatenate([half, -half, half[:, ::-1], -half[:, ::-1]])
    elif kind == "lattice":
        X = rng.integers(-3, 4, size=(3000, 3)).astype(np.float64)
    else:  # near-ties around the bisector of two random centres
        X = _near_tie_rows(dtype, 16, 3000, 5)[0]
    return np.ascontiguousarray(X, dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["symmetric", "lattice", "near-ties"])
def test_two_means_run_is_lloyds_run(dtype, kind):
    rng = np.random.default_rng(1)
    X = _tie_data(kind, dtype, rng)
    weights = rng.uniform(0.5, 2.0, X.shape[0]).astype(dtype)
    for unit in (True, False):
        w = np.ones_like(weights) if unit else weights
        for start in range(3):
            centers = X[rng.choice(X.shape[0], 2, replace=False)]
            if start == 0:
                centers = np.stack([X[0], -X[0]])  # mirror centres: every row of x . c0 = 0 ties
            labels, inertia, new_centers, n_iter = single.lloyd(X, w, centers)
            norm_bound = steps.row_norm_max(X)
            ours = steps.two_means_lloyd(X, w, centers, max_iter=300, tol=1e-4,
                                         row_norm_max=norm_bound,
                                         x_sides=steps.sides_copy(X, norm_bound))
            np.testing.assert_array_equal(ours[0], labels)
            np.testing.assert_array_equal(ours[2], new_centers)
            assert ours[3] == n_iter
            np.testing.assert_allclose(ours[1].sum(), inertia, rtol=1e-12)


def _grid(n_features, half_width):
    axis = np.arange(-half_width, half_width + 1, dtype=np.float64)
    return np.stack(np.meshgrid(*[axis] * n_features), axis=-1).reshape(-1, n_features)


@pytest.mark.parametrize("strategy", ["biggest_inertia", "largest_cluster"])
@pytest.mark.parametrize("data", ["grid2", "grid3", "symmetric"])
def test_labels_as_sklearn_on_data_with_ties(strategy, data):
    # Points on a grid, and points with their mirror images: many rows equidistant from
    # two centres, decided the same way (to the first centre) as scikit-learn decides them.
    if data == "symmetric":
        half = np.random.default_rng(0).normal(size=(800, 16))
        X = np.concatenate([half, -half])
    else:
        X = _grid(2, 10) if data == "grid2" else _grid(3, 4)
    for random_state in range(3):
        with threadpool_limits(1):
            theirs = SkBisectingKMeans(8, random_state=random_state,
                                       bisecting_strategy=strategy).fit(X)
        ours = BisectingKMeans(8, random_state=random_state, bisecting_strategy=strategy).fit(X)
        np.testing.assert_array_equal(ours.labels_, theirs.labels_)
