import numpy as np

from clustra._kernels.centroids import cluster_moments


def test_cluster_moments_match_the_straightforward_computation(rng):
    X = rng.normal(size=(300, 4)) * rng.uniform(0.1, 100, 4)
    codes = rng.integers(0, 6, 300)
    codes[codes == 4] = 5  # cluster 4 is empty: count 0, centroid 0, spread 0
    centroids, counts, within, spread = cluster_moments(X, codes, 7)
    for c in range(7):
        members = X[codes == c]
        assert counts[c] == members.shape[0]
        if members.shape[0] == 0:
            assert np.all(centroids[c] == 0) and spread[c] == 0
            continue
        np.testing.assert_allclose(centroids[c], members.mean(axis=0), rtol=1e-13, atol=1e-12)
        expected_spread = np.linalg.norm(members - members.mean(axis=0), axis=1).sum()
        np.testing.assert_allclose(spread[c], expected_spread, rtol=1e-12)
    expected_within = sum(
        ((X[codes == c] - X[codes == c].mean(axis=0)) ** 2).sum() for c in np.unique(codes)
    )
    np.testing.assert_allclose(within, expected_within, rtol=1e-12)


def test_cluster_moments_of_one_cluster_are_the_total_sum_of_squares(rng):
    X = rng.normal(size=(50, 3))
    centroids, counts, within, _ = cluster_moments(X, np.zeros(50, dtype=np.int64), 1)
    assert counts[0] == 50
    np.testing.assert_allclose(centroids[0], X.mean(axis=0), rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(within, ((X - X.mean(axis=0)) ** 2).sum(), rtol=1e-12)
