"""HDBSCAN with metric="cosine" and "haversine" against scikit-learn and the hdbscan package.

Both metrics run the Euclidean engine on embedded rows and map distances back
(cosine = ||a - b||^2 / 2 on unit rows, haversine = 2 arcsin(chord / 2)). The
references compute 1 - cos and the haversine formula directly, so the same
distance differs in the last bits: 1 - cos has an absolute rounding error of a
few ulps of 1, so a relative error of about 1e-16 / d on a distance d, and
probabilities (ratios of lambdas = 1 / d) move by about as much. The tests
check that the smallest merge height is above 1e-6, which bounds that error
well below the 1e-9 tolerance. Exact comparisons use ``min_samples`` 1 or 2
(no tied merges), as in test_hdbscan.py.
"""

from __future__ import annotations

import warnings

import hdbscan as hdbscan_pkg
import numpy as np
import pytest
from scipy.spatial.distance import cdist
from sklearn.cluster import HDBSCAN as SklearnHDBSCAN
from sklearn.metrics import adjusted_rand_score

from clustra import HDBSCAN

TOL = 1e-9


def _directions(n=600, d=5, seed=0):
    """Four blobs of directions of different spreads, rows of random lengths, plus noise."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(4, d))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    X = np.vstack([c + rng.normal(scale=s, size=(n // 4, d))
                   for c, s in zip(centres, [0.05, 0.1, 0.15, 0.2], strict=True)])
    X *= rng.uniform(0.5, 3.0, size=(X.shape[0], 1))
    return np.vstack([X, rng.normal(size=(n // 10, d))])


def _sphere(n=600, seed=0):
    """Four blobs of (latitude, longitude) in radians, one across the date line, plus noise."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0.5, 0.3], [-0.7, 2.0], [1.2, -2.5], [0.0, 3.1]])
    X = np.vstack([c + rng.normal(scale=s, size=(n // 4, 2))
                   for c, s in zip(centres, [0.05, 0.1, 0.15, 0.08], strict=True)])
    noise = np.c_[np.arcsin(rng.uniform(-1, 1, n // 10)), rng.uniform(-np.pi, np.pi, n // 10)]
    X = np.vstack([X, noise])
    X[:, 0] = np.clip(X[:, 0], -np.pi / 2, np.pi / 2)
    return X


DATA = {"cosine": _directions, "haversine": _sphere}


def _sklearn(X, **kw):
    return SklearnHDBSCAN(copy=True, **kw).fit(X)


def _same_partition(a, b):
    assert np.array_equal(a < 0, b < 0)
    assert adjusted_rand_score(a, b) == 1.0


def _order(ours, ref):
    """ref's cluster of each of our clusters."""
    return [np.bincount(ref[ours == k]).argmax() for k in range(ours.max() + 1)]


@pytest.mark.parametrize("metric", ["cosine", "haversine"])
@pytest.mark.parametrize("min_samples", [1, 2])
@pytest.mark.parametrize("method", ["eom", "leaf"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_matches_sklearn(metric, min_samples, method, dtype):
    X = DATA[metric]().astype(dtype)
    kw = dict(min_cluster_size=15, min_samples=min_samples, metric=metric,
              cluster_selection_method=method)
    ours = HDBSCAN(**kw).fit(X)
    ref = _sklearn(X, **kw)
    assert ours.labels_.max() >= 2
    assert ours.single_linkage_tree_.heights.min() > 1e-6  # bounds the rounding (see top)
    _same_partition(ours.labels_, ref.labels_)
    np.testing.assert_allclose(ours.probabilities_, ref.probabilities_, rtol=0, atol=TOL)


@pytest.mark.parametrize("metric", ["cosine", "haversine"])
def test_epsilon_cuts_and_centres_match_sklearn(metric):
    X = DATA[metric]()
    for eps in (0.01, 0.05):
        kw = dict(min_cluster_size=15, min_samples=2, metric=metric,
                  cluster_selection_epsilon=eps)
        _same_partition(HDBSCAN(**kw).fit(X).labels_, _sklearn(X, **kw).labels_)
    kw = dict(min_cluster_size=15, min_samples=2, metric=metric, store_centers="both")
    ours, ref = HDBSCAN(**kw).fit(X), _sklearn(X, **kw)
    for cut in (0.02, 0.1):
        _same_partition(ours.dbscan_clustering(cut, 10), ref.dbscan_clustering(cut, 10))
    order = _order(ours.labels_, ref.labels_)
    # scikit-learn's centroid is the probability-weighted mean of the raw rows.
    np.testing.assert_allclose(ours.centroids_, ref.centroids_[order], rtol=0, atol=TOL)
    np.testing.assert_array_equal(ours.medoids_, ref.medoids_[order])


@pytest.mark.parametrize("metric", ["cosine", "haversine"])
def test_glosh_and_soft_clustering_match_hdbscan_package(metric):
    X = DATA[metric]()
    ours = HDBSCAN(min_cluster_size=15, min_samples=2, metric=metric).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the package: no prediction data for cosine
        ref = hdbscan_pkg.HDBSCAN(min_cluster_size=15, min_samples=1, metric=metric,
                                  algorithm="generic", prediction_data=True).fit(X)
    _same_partition(ours.labels_, ref.labels_)
    np.testing.assert_allclose(ours.outlier_scores_, ref.outlier_scores_, rtol=0, atol=TOL)
    if metric == "haversine":  # the package has no prediction data for cosine
        order = _order(ref.labels_, ours.labels_)
        np.testing.assert_allclose(ours.membership_vectors()[:, order],
                                   hdbscan_pkg.all_points_membership_vectors(ref),
                                   rtol=0, atol=TOL)
        new = X[:100] + 0.01
        labels, _ = ours.approximate_predict(new)
        ref_labels, _ = hdbscan_pkg.approximate_predict(ref, new)
        _same_partition(labels, ref_labels)


def test_cosine_is_the_euclidean_tree_of_unit_rows_mapped():
    """Cosine lambdas are 2 / d^2 for Euclidean d on unit rows, so probabilities square."""
    X = _directions()
    unit = X / np.linalg.norm(X, axis=1, keepdims=True)
    kw = dict(min_cluster_size=15, min_samples=5)
    cos = HDBSCAN(metric="cosine", **kw).fit(X)
    euc = HDBSCAN(metric="euclidean", **kw).fit(unit)
    np.testing.assert_array_equal(cos.labels_, euc.labels_)
    np.testing.assert_allclose(cos.core_distances_, euc.core_distances_ ** 2 / 2, rtol=1e-12)
    np.testing.assert_allclose(cos.single_linkage_tree_.heights,
                               euc.single_linkage_tree_.heights ** 2 / 2, rtol=1e-12)
    np.testing.assert_allclose(cos.probabilities_, euc.probabilities_ ** 2, rtol=0, atol=TOL)
    new = X[:100] * 2.0 + 0.02
    labels, probs = cos.approximate_predict(new)
    ref_labels, ref_probs = euc.approximate_predict(
        new / np.linalg.norm(new, axis=1, keepdims=True))
    np.testing.assert_array_equal(labels, ref_labels)
    np.testing.assert_allclose(probs, ref_probs ** 2, rtol=0, atol=TOL)


def test_cosine_alpha_equals_the_precomputed_cosine_matrix():
    """alpha divides the pair distances (sqrt(alpha) on the Euclidean engine)."""
    X = _directions()
    D = cdist(X, X, metric="cosine")
    for alpha in (0.7, 1.5):
        kw = dict(min_cluster_size=15, min_samples=1, alpha=alpha)
        cos = HDBSCAN(metric="cosine", **kw).fit(X)
        pre = HDBSCAN(metric="precomputed", **kw).fit(D)
        _same_partition(cos.labels_, pre.labels_)
        np.testing.assert_allclose(cos.probabilities_, pre.probabilities_, rtol=0, atol=TOL)


def test_what_the_metrics_refuse():
    X = _directions(200)
    X[[3, 7]] = 0.0
    with pytest.raises(ValueError, match=r"cosine distance is undefined for rows of norm zero "
                                         r"\(rows \[3, 7\]\); drop them"):
        HDBSCAN(metric="cosine").fit(X)
    model = HDBSCAN(min_cluster_size=10, metric="cosine").fit(X[8:])
    with pytest.raises(ValueError, match="rows of norm zero"):
        model.approximate_predict(X[:5])
    S = _sphere(200)
    with pytest.raises(ValueError, match=r"needs 2 columns \(latitude, longitude in radians\); "
                                         r"got 3"):
        HDBSCAN(metric="haversine").fit(np.c_[S, S[:, :1]])
    with pytest.raises(ValueError, match=r"latitudes \(column 0\) in \[-pi/2, pi/2\] radians"):
        HDBSCAN(metric="haversine").fit(np.degrees(S))
    with pytest.raises(ValueError, match=r"alpha=0.5 cannot be used with metric='haversine'"):
        HDBSCAN(metric="haversine", alpha=0.5).fit(S)
