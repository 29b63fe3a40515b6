import numpy as np
import pytest

from clustra._kernels.kmeans_data import inertia, n_distinct_labels
from clustra._kernels.kmeans_sums import centres_from_sums


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_features", [1, 2, 16, 19])
def test_inertia_matches_the_straightforward_sum(rng, dtype, n_features):
    n_samples = 2500  # more than one chunk, the last one partial
    X = (rng.normal(size=(n_samples, n_features)) * rng.uniform(0.1, 100, n_features)).astype(dtype)
    centers = X[rng.choice(n_samples, 5, replace=False)]
    labels = rng.integers(0, 5, n_samples).astype(np.int32)
    weights = rng.uniform(0, 3, n_samples).astype(dtype)
    diff = X.astype(np.float64) - centers.astype(np.float64)[labels]
    expected = np.sum(weights.astype(np.float64) * np.sum(diff * diff, axis=1))
    np.testing.assert_allclose(inertia(X, weights, centers, labels), expected, rtol=1e-12)


def test_n_distinct_labels_counts_the_clusters_present():
    labels = np.array([2, 0, 2, 2, 0, 4], dtype=np.int32)
    assert n_distinct_labels(labels, 5) == 3
    assert n_distinct_labels(labels, 6) == 3
    assert n_distinct_labels(np.array([1, 0, 1, 1, 0], dtype=np.int32), 2) == 2


def test_centres_from_sums_are_the_means_and_their_shifts(rng):
    sums = rng.normal(size=(4, 3))
    weight_sums = np.array([2.0, 0.0, 5.0, 0.5])  # cluster 1 has no weight
    old = rng.normal(size=(4, 3)).astype(np.float32)
    centers, shift = centres_from_sums(sums, weight_sums, old)
    means = (sums / np.where(weight_sums > 0, weight_sums, 1.0)[:, None]).astype(np.float32)
    means[1] = means[2]  # the heaviest cluster's mean
    assert centers.dtype == np.float32
    np.testing.assert_array_equal(centers, means)
    expected = np.linalg.norm(means.astype(np.float64) - old.astype(np.float64), axis=1)
    np.testing.assert_allclose(shift, expected, rtol=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_features", [1, 3, 5, 9])
def test_small_inputs_in_numpy_match_the_kernels(rng, monkeypatch, dtype, n_features):
    # Up to kmeans_data.NUMPY_MAX_ROWS rows these passes run in numpy: the
    # same results, to the last bit, as the kernels.
    from clustra._kernels import kmeans_data

    n_samples = 1000
    X = (rng.normal(size=(n_samples, n_features)) * rng.uniform(0.1, 100, n_features)
         + rng.uniform(-50, 50, n_features)).astype(dtype)
    centers = X[rng.choice(n_samples, 5, replace=False)]
    labels = rng.integers(0, 4, n_samples).astype(np.int32)  # cluster 4 unused
    weights = rng.uniform(0, 3, n_samples).astype(dtype)
    shift = (X.mean(axis=0) + 0.5).astype(dtype)
    results = []
    for max_rows in (kmeans_data.NUMPY_MAX_ROWS, 0):
        with monkeypatch.context() as patch:
            patch.setattr(kmeans_data, "NUMPY_MAX_ROWS", max_rows)
            out = np.empty_like(X)
            variances = kmeans_data.centre(X, shift, out)
            results.append((kmeans_data.column_sums(X), out, variances,
                            kmeans_data.inertia(X, weights, centers, labels),
                            kmeans_data.n_distinct_labels(labels, 5)))
    assert results[0][4] == results[1][4] == 4
    for ours, kernels in zip(results[0], results[1], strict=True):
        np.testing.assert_array_equal(ours, kernels)


def test_add_in_order_in_numpy_matches_the_kernel(rng):
    # Up to kmeans_sums.NUMPY_MAX_CHUNKS chunks the partials are added in numpy:
    # the same sums to the last bit (signed zeros too) as the kernel.
    from clustra._kernels import kmeans_sums

    for n_chunks in range(1, kmeans_sums.NUMPY_MAX_CHUNKS + 3):  # past it: the kernel
        scales = 10.0 ** rng.integers(-8, 8, (n_chunks, 3, 4))
        partial_sums = rng.normal(size=(n_chunks, 3, 4)) * scales
        partial_sums[0, 0, 0] = -0.0
        partial_weights = rng.uniform(0, 5, (n_chunks, 3))
        ours = np.empty((3, 4)), np.empty(3)
        kernel = np.empty((3, 4)), np.empty(3)
        kmeans_sums.add_in_order(partial_sums, partial_weights, *ours)
        kmeans_sums._add_in_order(partial_sums, partial_weights, *kernel)
        for a, b in zip(ours, kernel, strict=True):
            np.testing.assert_array_equal(a, b)
            assert np.array_equal(np.signbit(a), np.signbit(b))


def test_lloyd_move_pass_refuses_columns_that_are_not_x_transposed(rng):
    # The columns chunk scores x_cols but adds the sums from X's rows: a stand-in X
    # (as the Dask block pass once gave it) would be read out of bounds.
    from clustra._kernels.kmeans import lloyd_move_pass
    from clustra._kernels.kmeans_sums import chunk_sums

    X = rng.normal(size=(100, 3))
    centers = np.ascontiguousarray(X[:4])
    with pytest.raises(ValueError, match="X transposed"):
        lloyd_move_pass(np.empty((100, 0)), np.ascontiguousarray(X.T), np.empty(0), centers,
                        -0.5 * (centers ** 2).sum(axis=1), np.full(100, -1, np.int32),
                        chunk_sums(100, 4, 3), True, False)
