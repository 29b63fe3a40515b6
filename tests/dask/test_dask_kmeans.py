"""clustra.dask.KMeans / MiniBatchKMeans / predict against in-memory clustra on a LocalCluster."""

from __future__ import annotations

import logging

import dask.array as da
import numpy as np
import pytest

import clustra
from clustra.dask import KMeans, MiniBatchKMeans, predict


def blobs(rng, n_per, n_features, n_centres, spread=1.0, dtype=np.float64):
    centres = rng.normal(scale=4.0, size=(n_centres, n_features))
    X = np.concatenate([rng.normal(c, spread, size=(n_per, n_features)) for c in centres])
    return X[rng.permutation(X.shape[0])].astype(dtype) + 100.0  # an offset: centring matters


@pytest.mark.parametrize(
    ("n_features", "n_clusters", "dtype", "weighted", "persist"),
    [
        (3, 5, np.float64, False, "auto"),  # scored from the transposed block (<= 4 features)
        (8, 6, np.float32, True, False),  # every pass reads the input again
        (16, 64, np.float64, False, "auto"),  # BLAS tiles (k d >= 1024, n k d >= 2^24)
    ],
)
def test_lloyd_from_given_centres_equals_in_memory(client, rng, n_features, n_clusters, dtype,
                                                   weighted, persist):
    X = blobs(rng, 20_000 // n_clusters + 300, n_features, n_clusters, dtype=dtype)
    init = X[rng.choice(X.shape[0], n_clusters, replace=False)]
    w = rng.uniform(0.5, 2.0, X.shape[0]).astype(dtype) if weighted else None
    ref = clustra.KMeans(n_clusters, init=init, algorithm="lloyd", max_iter=60).fit(
        X, sample_weight=w)
    # Uneven chunks, not multiples of 1,024: the estimator cuts its own blocks.
    dX = da.from_array(X, chunks=(7_000, n_features))
    dw = None if w is None else da.from_array(w, chunks=5_000)
    seen = []
    model = KMeans(n_clusters, init=init, max_iter=60, persist=persist,
                   callback=seen.append).fit(dX, sample_weight=dw)
    labels = model.labels_.compute()
    assert isinstance(model.labels_, da.Array)
    np.testing.assert_array_equal(labels, ref.labels_)
    assert model.n_iter_ == ref.n_iter_
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(model.cluster_centers_, ref.cluster_centers_, rtol=rtol,
                               atol=rtol * 100)
    np.testing.assert_allclose(model.inertia_, ref.inertia_, rtol=rtol)
    assert [s["iteration"] for s in seen] == list(range(1, model.n_iter_ + 1))
    np.testing.assert_array_equal(model.predict(dX).compute(), ref.predict(X))
    np.testing.assert_allclose(model.transform(dX[:500]).compute(), ref.transform(X[:500]),
                               rtol=rtol)
    np.testing.assert_allclose(model.score(dX).compute(), ref.score(X), rtol=rtol)


def test_kmeans_parallel_and_sample_init_find_the_blobs(client, rng, caplog):
    X = blobs(rng, 3_000, 4, 6, spread=0.3)
    dX = da.from_array(X, chunks=5_000)
    best = clustra.KMeans(6, n_init=10, random_state=0).fit(X).inertia_
    for init in ("k-means||", "k-means++"):
        with caplog.at_level(logging.INFO, logger="clustra.dask"):
            model = KMeans(6, init=init, random_state=1, verbose=1).fit(dX)
        assert model.inertia_ <= 1.0001 * best, init
        # Deterministic for a seed, whatever the scheduling.
        again = KMeans(6, init=init, random_state=1).fit(dX)
        np.testing.assert_array_equal(again.cluster_centers_, model.cluster_centers_)
    assert "KMeans iteration 1:" in caplog.text


def test_dataframe_columns_and_names(client, rng):
    import dask.dataframe as dd
    import pandas as pd

    X = blobs(rng, 2_000, 3, 3)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    ddf = dd.from_pandas(frame, npartitions=3)
    model = KMeans(3, init=X[:3], max_iter=50).fit(ddf)
    ref = clustra.KMeans(3, init=X[:3], algorithm="lloyd", max_iter=50).fit(X)
    np.testing.assert_array_equal(model.labels_.compute(), ref.labels_)
    assert list(model.feature_names_in_) == ["a", "b", "c"]
    # predict selects the model's columns by name, whatever their order.
    np.testing.assert_array_equal(model.predict(ddf[["c", "a", "b"]]).compute(), ref.labels_)


def test_minibatch_streams_partitions(client, rng):
    X = blobs(rng, 4_000, 4, 4, spread=0.3)
    dX = da.from_array(X, chunks=3_000)
    model = MiniBatchKMeans(4, batch_size=1_000, n_epochs=2, random_state=0, window=2).fit(dX)
    ref = clustra.KMeans(4, n_init=10, random_state=0).fit(X)
    labels = model.labels_.compute()
    from sklearn.metrics import adjusted_rand_score

    assert adjusted_rand_score(labels, ref.labels_) > 0.99
    assert model.n_steps_ == 2 * sum(-(-c // 1_000) for c in dX.chunks[0])
    again = MiniBatchKMeans(4, batch_size=1_000, n_epochs=2, random_state=0).fit(dX)
    np.testing.assert_array_equal(again.cluster_centers_, model.cluster_centers_)


def test_predict_with_any_model_fitted_on_a_sample(client, rng):
    X = blobs(rng, 3_000, 2, 3, spread=0.2)
    dX = da.from_array(X, chunks=2_500)
    sample = X[::10]
    for model in (clustra.KMeans(3, random_state=0).fit(sample),
                  clustra.MiniBatchKMeans(3, random_state=0).fit(sample),
                  clustra.DBSCAN(eps=0.3, min_samples=5).fit(sample),
                  clustra.AgglomerativeClustering(3).fit(sample)):
        labels = predict(model, dX)
        assert labels.shape == (X.shape[0],)
        np.testing.assert_array_equal(labels.compute(), model.predict(X))
    with pytest.raises(TypeError, match="has no predict"):
        predict(object(), dX)


def test_bad_parameters_and_input(client, rng):
    dX = da.from_array(rng.normal(size=(100, 2)), chunks=50)
    with pytest.raises(ValueError, match="KMeans: init must be one of 'k-means\\|\\|', "
                                         "'k-means\\+\\+' or an array; got 'random'"):
        KMeans(2, init="random").fit(dX)
    with pytest.raises(ValueError, match="Lloyd's algorithm only"):
        KMeans(2, algorithm="elkan").fit(dX)
    with pytest.raises(TypeError, match="take a dask array or a dask dataframe"):
        KMeans(2).fit(np.zeros((10, 2)))
    with pytest.raises(ValueError, match=r"initial centres have shape \(3, 2\)"):
        KMeans(2, init=np.zeros((3, 2))).fit(dX)


def test_empty_cluster_relocated_as_in_memory(client, rng):
    # Two equal initial centres: the second gets no row in the first pass and
    # takes the farthest row, by in-memory clustra's rule.
    X = blobs(rng, 3_000, 3, 4)
    init = X[[0, 0, 1, 2]]
    ref = clustra.KMeans(4, init=init, algorithm="lloyd").fit(X)
    model = KMeans(4, init=init).fit(da.from_array(X, chunks=(4_000, 3)))
    np.testing.assert_array_equal(model.labels_.compute(), ref.labels_)
    np.testing.assert_allclose(model.cluster_centers_, ref.cluster_centers_, rtol=1e-12,
                               atol=1e-12 * np.abs(ref.cluster_centers_).max())
