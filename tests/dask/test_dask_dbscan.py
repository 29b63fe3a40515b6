"""clustra.dask.DBSCAN equals in-memory clustra.DBSCAN (core rows, clusters, noise, borders)."""

from __future__ import annotations

import warnings

import dask.array as da
import numpy as np
import pytest

import clustra
from clustra.dask import DBSCAN


def noisy_blobs(rng, n_features, n_per=2_000, n_blobs=4, n_noise=1_500):
    centres = rng.normal(scale=3.0, size=(n_blobs, n_features))
    X = np.concatenate([rng.normal(c, 0.5, size=(n_per, n_features)) for c in centres]
                       + [rng.uniform(-8, 8, size=(n_noise, n_features))])
    # Rounded to one decimal: repeated points and exact distance ties, the
    # cases where the border rule (nearest core, ties to the lowest row) shows.
    return np.round(X[rng.permutation(X.shape[0])], 1)


@pytest.mark.parametrize(
    ("n_features", "eps", "min_samples", "metric", "p", "weighted"),
    [
        (2, 0.15, 5, "euclidean", None, False),
        (3, 0.35, 4, "manhattan", None, True),
        (5, 0.9, 5, "minkowski", 3, False),
    ],
)
def test_equals_in_memory(client, rng, n_features, eps, min_samples, metric, p, weighted):
    X = noisy_blobs(rng, n_features)
    w = rng.integers(1, 3, X.shape[0]).astype(float) if weighted else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = clustra.DBSCAN(eps, min_samples=min_samples, metric=metric, p=p).fit(
            X, sample_weight=w)
    model = DBSCAN(eps, min_samples=min_samples, metric=metric, p=p, n_partitions=7).fit(
        da.from_array(X, chunks=3_000),
        sample_weight=None if w is None else da.from_array(w, chunks=2_000))
    assert isinstance(model.labels_, da.Array)
    labels = model.labels_.compute()
    np.testing.assert_array_equal(model.core_sample_indices_, ref.core_sample_indices_)
    np.testing.assert_array_equal(labels, ref.labels_)  # same numbering, borders, noise
    assert labels.max() >= 2 and (labels == -1).any()  # the case is not trivial
    assert model.n_partitions_ == 7
    # Cells of similar sizes (the halo adds to each).
    assert model.cell_rows_.max() < 3 * np.median(model.cell_rows_)


def test_a_dense_blob_is_cut_into_cells(client, rng):
    # 90% of the rows in one tight blob: quantile cells split it, so no cell
    # (hence no worker) gets it whole.
    X = np.concatenate([rng.normal(0, 0.05, size=(18_000, 2)), rng.uniform(-5, 5, (2_000, 2))])
    X = X[rng.permutation(X.shape[0])]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = clustra.DBSCAN(0.01, min_samples=10).fit(X)
    model = DBSCAN(0.01, min_samples=10, n_partitions=8).fit(da.from_array(X, chunks=5_000))
    np.testing.assert_array_equal(model.labels_.compute(), ref.labels_)
    assert model.cell_rows_.max() < 0.3 * X.shape[0]


def test_bad_parameters(client):
    dX = da.zeros((10, 2), chunks=5)
    with pytest.raises(ValueError, match="DBSCAN: eps must be a number > 0; got 0. eps is the "
                                         "neighbourhood radius"):
        DBSCAN(eps=0).fit(dX)
    with pytest.raises(ValueError, match="metric must be one of 'euclidean'.*For other metrics "
                                         "fit clustra.DBSCAN in memory"):
        DBSCAN(metric="cosine").fit(dX)
    with pytest.raises(ValueError, match="min_samples must be an integer >= 1; got 0. The point "
                                         "itself counts"):
        DBSCAN(min_samples=0).fit(dX)
