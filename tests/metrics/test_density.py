import numpy as np
import pytest
from hdbscan.validity import validity_index
from sklearn.datasets import make_blobs

from clustra.metrics import dbcv_score


@pytest.mark.parametrize("metric", ["euclidean", "cityblock"])
def test_dbcv_matches_hdbscan_validity_index(rng, metric):
    # Same metric, same conventions (true distances, all-points core distance
    # with d = n_features, hdbscan's MST tie-breaking); tolerance 1e-8.
    for _ in range(6):
        k = int(rng.integers(2, 5))
        X, labels = make_blobs(
            int(rng.integers(40, 120)), int(rng.integers(2, 5)), centers=k,
            cluster_std=float(rng.uniform(0.5, 2.5)), random_state=int(rng.integers(1 << 30)),
        )
        labels[rng.random(labels.shape[0]) < 0.1] = -1
        expected, expected_per = validity_index(X, labels, metric=metric, per_cluster_scores=True)
        got, per_cluster = dbcv_score(X, labels, metric, per_cluster=True)
        assert abs(got - expected) < 1e-8
        np.testing.assert_allclose(per_cluster, expected_per, rtol=0, atol=1e-8)


def test_dbcv_prefers_the_true_clustering(rng):
    X, labels = make_blobs(150, 2, centers=3, cluster_std=0.5, random_state=3)
    shuffled = rng.permutation(labels)
    assert dbcv_score(X, labels) > 0.5 > dbcv_score(X, shuffled)


def test_dbcv_refuses_bad_input():
    X = np.arange(20.0).reshape(10, 2)
    with pytest.raises(ValueError, match="needs at least 2 clusters .besides noise., got 1"):
        dbcv_score(X, [0] * 8 + [-1] * 2)
    with pytest.raises(ValueError, match="cluster 2 has 1"):
        dbcv_score(X, [0] * 5 + [1] * 4 + [2])
    with pytest.raises(ValueError, match="needs integer labels"):
        dbcv_score(X, np.array(["a"] * 5 + ["b"] * 5))
    with pytest.raises(ValueError, match="labels has 9 entries but X has 10 samples"):
        dbcv_score(X, [0] * 9)
