"""Each family on real labelled data (tests/data, CC BY 4.0; see tests/data/SOURCE.md).

mk1 is three Gaussian blobs (k-means territory); mk2 is two interlocked
non-convex shapes, where single linkage and density methods do well and
k-means does not. Results are compared with the reference implementations on
the same input, and with the reference partition where the method suits it.
"""

from pathlib import Path

import numpy as np
import pytest
from scipy.cluster.hierarchy import linkage as scipy_linkage
from sklearn.cluster import DBSCAN as SkDBSCAN
from sklearn.cluster import KMeans as SkKMeans
from sklearn.metrics import adjusted_rand_score

import clustra

DATA = Path(__file__).parent / "data"


def load(name):
    X = np.loadtxt(DATA / f"{name}.data.gz")
    labels = np.loadtxt(DATA / f"{name}.labels0.gz", dtype=np.int64)
    return X, labels


def test_kmeans_on_blobs_matches_sklearn_and_the_reference():
    X, truth = load("mk1")
    init = X[np.random.default_rng(0).choice(X.shape[0], 3, replace=False)]
    ours = clustra.KMeans(3, init=init, n_init=1).fit(X)
    theirs = SkKMeans(3, init=init, n_init=1).fit(X)
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    assert ours.inertia_ == pytest.approx(theirs.inertia_, rel=1e-7)
    assert adjusted_rand_score(truth, clustra.KMeans(3, random_state=0).fit(X).labels_) > 0.9


def test_single_linkage_on_shapes_matches_scipy_and_the_reference():
    X, truth = load("mk2")
    Z = clustra.linkage(X, "single")
    np.testing.assert_allclose(Z[:, 2], scipy_linkage(X, "single")[:, 2], rtol=1e-12)
    labels = clustra.tree_from_linkage(Z).cut(n_clusters=2)
    assert adjusted_rand_score(truth, labels) > 0.99


def test_dbscan_on_shapes_matches_sklearn():
    X, truth = load("mk2")
    eps = clustra.suggest_eps(X, min_samples=5).eps
    ours = clustra.DBSCAN(eps=eps, min_samples=5).fit(X)
    theirs = SkDBSCAN(eps=eps, min_samples=5).fit(X)
    np.testing.assert_array_equal(ours.core_sample_indices_, theirs.core_sample_indices_)
    core = ours.core_sample_indices_
    assert adjusted_rand_score(ours.labels_[core], theirs.labels_[core]) == 1.0


def test_choose_k_recovers_the_blobs():
    X, truth = load("mk1")
    assert clustra.choose_k(X, k_range=range(1, 8), random_state=0).k == len(np.unique(truth))
