"""MiniBatchKMeans against scikit-learn's, same seed, and its own behaviour."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import cluster as skcluster

import clustra
from clustra.cluster.kmeans import MiniBatchKMeans


def blobs(rng, n_per=150, n_centers=4, n_features=3, dtype=np.float64):
    centers = rng.uniform(-8, 8, size=(n_centers, n_features))
    X = np.concatenate([rng.normal(c, 1.0, size=(n_per, n_features)) for c in centers])
    return X[rng.permutation(len(X))].astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
def test_same_seed_same_centres_as_sklearn(rng, dtype, weighted):
    X = blobs(rng, dtype=dtype)
    weights = rng.uniform(0.5, 2.0, X.shape[0]) if weighted else None
    params = dict(n_clusters=4, batch_size=100, random_state=7, max_iter=20)
    ours = MiniBatchKMeans(**params).fit(X, sample_weight=weights)
    ref = skcluster.MiniBatchKMeans(**params).fit(X, sample_weight=weights)
    rtol = 1e-7 if dtype == np.float64 else 1e-4
    assert ours.n_steps_ == ref.n_steps_ and ours.n_iter_ == ref.n_iter_
    assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=rtol, atol=1e-4)
    assert_array_equal(ours.labels_, ref.labels_)
    assert_allclose(ours.inertia_, ref.inertia_, rtol=rtol)
    assert ours.cluster_centers_.dtype == dtype


def test_partial_fit_matches_sklearn(rng):
    X = blobs(rng)
    ours = MiniBatchKMeans(4, random_state=3)
    ref = skcluster.MiniBatchKMeans(4, random_state=3)
    for batch in np.array_split(X, 6):
        ours.partial_fit(batch)
        ref.partial_fit(batch)
    assert ours.n_steps_ == ref.n_steps_ == 6
    assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-7)
    assert_array_equal(ours.predict(X), ref.predict(X))


def test_tol_early_stop_and_no_labels(rng):
    X = blobs(rng)
    params = dict(n_clusters=4, batch_size=50, random_state=0, tol=1e-3, compute_labels=False)
    ours = MiniBatchKMeans(**params).fit(X)
    ref = skcluster.MiniBatchKMeans(**params).fit(X)
    assert ours.n_steps_ == ref.n_steps_
    assert not hasattr(ours, "labels_")
    assert_allclose(ours.inertia_, ref.inertia_, rtol=1e-7)


def test_reassignment_reseeds_starved_centre(rng):
    X = blobs(rng, n_centers=3)
    init = np.vstack([X[:3], np.full((1, 3), 500.0)])  # a centre no point will reach
    km = MiniBatchKMeans(4, init=init, batch_size=64, random_state=0, max_iter=5).fit(X)
    assert np.abs(km.cluster_centers_).max() < 100
    assert np.unique(km.labels_).size == 4


def test_thread_count_does_not_change_result(rng):
    X = blobs(rng, n_per=800)
    fits = []
    for n_threads in (1, 2):
        with clustra.thread_limit(n_threads):
            fits.append(MiniBatchKMeans(4, batch_size=2048, random_state=1, max_iter=3).fit(X))
    assert_array_equal(fits[0].cluster_centers_, fits[1].cluster_centers_)
    assert_array_equal(fits[0].labels_, fits[1].labels_)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"batch_size": 0}, "MiniBatchKMeans: batch_size must be an integer >= 1; got 0"),
        ({"reassignment_ratio": -0.5}, "reassignment_ratio must be a number >= 0; got -0.5"),
        ({"max_no_improvement": 0}, "max_no_improvement must be an integer >= 1 or None; got 0"),
        ({"n_clusters": 50}, "larger than the number of samples"),
    ],
)
def test_bad_parameters(rng, params, match):
    params = {"n_clusters": 2, **params}
    with pytest.raises(ValueError, match=match):
        MiniBatchKMeans(**params).fit(rng.normal(size=(20, 2)))


def test_array_init_with_n_init_warns_and_n_threads_is_deprecated(rng):
    X = rng.normal(size=(40, 2))
    with pytest.warns(RuntimeWarning, match="MiniBatchKMeans: explicit initial centres"):
        MiniBatchKMeans(2, init=X[:2], n_init=3, random_state=0).fit(X)
    with pytest.warns(FutureWarning, match="MiniBatchKMeans: n_threads is deprecated"):
        old = MiniBatchKMeans(2, n_threads=1, random_state=0).fit(X)
    new = MiniBatchKMeans(2, n_jobs=1, random_state=0).fit(X)
    assert_array_equal(old.cluster_centers_, new.cluster_centers_)


def test_partial_fit_wrong_features(rng):
    km = MiniBatchKMeans(2, random_state=0).partial_fit(rng.normal(size=(20, 3)))
    with pytest.raises(ValueError, match="3 features"):
        km.partial_fit(rng.normal(size=(20, 2)))
