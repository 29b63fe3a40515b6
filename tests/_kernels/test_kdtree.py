import numpy as np
import pytest
from scipy.spatial.distance import cdist

from clustra._kernels import distances, kdtree, kdtree_radius

METRICS = [("euclidean", None), ("manhattan", None), ("chebyshev", None), ("minkowski", 3.0)]


def _reduced_brute(X, Q, metric, p):
    kwargs = {"p": p} if metric == "minkowski" else {}
    name = "cityblock" if metric == "manhattan" else metric
    D = cdist(Q.astype(np.float64), X.astype(np.float64), metric=name, **kwargs)
    return distances.dist_to_rdist(D, metric, p) if metric != "minkowski" else D**p


def _data(rng, n=400, d=3, dtype=np.float64):
    X = rng.normal(size=(n, d)).astype(dtype)
    X[10:15] = X[3]  # duplicates: ties must go to the lower row
    return X


def test_build_layout_is_a_partition(rng):
    X = _data(rng, n=333)
    tree = kdtree.build_kdtree(X, leaf_size=8)
    np.testing.assert_array_equal(np.sort(tree.index), np.arange(333))
    np.testing.assert_array_equal(tree.data, X[tree.index])
    n_nodes = tree.node_start.shape[0]
    assert n_nodes == 2 ** kdtree.n_levels_for(333, 8) - 1
    for node in range(n_nodes // 2):
        left, right = 2 * node + 1, 2 * node + 2
        assert tree.node_start[left] == tree.node_start[node]
        assert tree.node_end[left] == tree.node_start[right]
        assert tree.node_end[right] == tree.node_end[node]
    for node in range(n_nodes):
        points = tree.data[tree.node_start[node]:tree.node_end[node]]
        np.testing.assert_array_equal(points.min(axis=0), tree.lower[node])
        np.testing.assert_array_equal(points.max(axis=0), tree.upper[node])
    sizes = tree.node_end[n_nodes // 2:] - tree.node_start[n_nodes // 2:]
    assert sizes.min() >= 8 and sizes.max() <= 16


@pytest.mark.parametrize("metric, p", METRICS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_knn_matches_brute_force_with_ties_to_lower_row(metric, p, dtype, rng):
    X = _data(rng, dtype=dtype)
    tree = kdtree.build_kdtree(X, leaf_size=5)
    code, p_value = kdtree.metric_code(metric, p)
    reduced, rows = kdtree.kneighbors(tree, X, 6, code, p_value, exclude_self=True)
    brute = _reduced_brute(X, X, metric, p_value)
    np.fill_diagonal(brute, np.inf)
    n = X.shape[0]
    for i in range(n):
        order = np.lexsort((np.arange(n), brute[i]))[:6]
        np.testing.assert_allclose(reduced[i], brute[i, order], rtol=1e-5)
        # Rows agree except where float32 rounding may swap near-equal distances.
        if dtype == np.float64:
            np.testing.assert_array_equal(rows[i], order)
    assert rows[3, 0] == 10 and rows[10, :5].tolist() == [3, 11, 12, 13, 14]


def test_knn_keeps_self_when_asked_and_pads_small_trees():
    X = np.array([[0.0, 0.0], [1.0, 0.0], [3.0, 0.0]])
    tree = kdtree.build_kdtree(X, leaf_size=1)
    code, p = kdtree.metric_code("euclidean")
    reduced, rows = kdtree.kneighbors(tree, X, 4, code, p)
    assert rows[0].tolist() == [0, 1, 2, -1]
    np.testing.assert_array_equal(reduced[0], [0.0, 1.0, 9.0, np.inf])
    reduced, rows = kdtree.kneighbors(tree, X[:1], 1, code, p, exclude_self=True)
    assert rows.tolist() == [[1]]


@pytest.mark.parametrize("metric, p", METRICS)
def test_weighted_count_and_radius_query_match_brute_force(metric, p, rng):
    X = _data(rng, n=300, d=4)
    weights = rng.uniform(0.0, 2.0, size=300)
    tree = kdtree.build_kdtree(X, leaf_size=6)
    code, p_value = kdtree.metric_code(metric, p)
    brute = _reduced_brute(X, X, metric, p_value)
    radius = np.quantile(brute, 0.05)
    cum_weight = np.concatenate([[0.0], np.cumsum(weights[tree.index])])
    counts = kdtree_radius.count_within(tree, cum_weight, X, radius, np.inf, code, p_value)
    expected = (brute <= radius) @ weights
    np.testing.assert_allclose(counts, expected, rtol=1e-10)
    capped = kdtree_radius.count_within(tree, cum_weight, X, radius, 3.0, code, p_value)
    # Early exit: exact below the limit, at least the limit otherwise.
    below = expected < 3.0
    np.testing.assert_allclose(capped[below], expected[below], rtol=1e-10)
    assert np.all(capped[~below] >= 3.0)
    indptr, indices, reduced = kdtree_radius.radius_query(tree, X[:50], radius, code, p_value)
    for i in range(50):
        found = indices[indptr[i]:indptr[i + 1]]
        np.testing.assert_array_equal(found, np.nonzero(brute[i] <= radius)[0])
        np.testing.assert_allclose(reduced[indptr[i]:indptr[i + 1]], brute[i, found])


def test_nearest_masked_picks_nearest_allowed_point_within_radius(rng):
    X = _data(rng, n=250, d=2)
    mask = rng.random(250) < 0.3
    mask[3] = False  # row 3 has duplicates 10..14: the nearest allowed is the lowest of them
    mask[10:15] = True
    tree = kdtree.build_kdtree(X, leaf_size=4)
    code, p = kdtree.metric_code("euclidean")
    brute = _reduced_brute(X, X, "euclidean", p)
    radius = 0.04
    got = kdtree_radius.nearest_masked(tree, mask[tree.index], X, radius, code, p)
    for i in range(250):
        candidates = np.nonzero(mask & (brute[i] <= radius))[0]
        if candidates.size == 0:
            assert got[i] == -1
        else:
            best = candidates[np.lexsort((candidates, brute[i, candidates]))[0]]
            assert got[i] == best
    assert got[3] == 10


def test_single_point_and_bad_leaf_size():
    tree = kdtree.build_kdtree(np.zeros((1, 2)), leaf_size=30)
    assert tree.node_start.tolist() == [0] and tree.node_end.tolist() == [1]
    with pytest.raises(ValueError, match="leaf_size must be at least 1, got 0"):
        kdtree.build_kdtree(np.zeros((3, 2)), leaf_size=0)


@pytest.mark.parametrize("metric, radius", [("cosine", 0.3), ("haversine", 0.4)])
def test_angular_embedding_preserves_the_neighbourhoods(metric, radius, rng):
    if metric == "haversine":
        X = np.column_stack([rng.uniform(-1.5, 1.5, 200), rng.uniform(-3, 3, 200)])
        from sklearn.metrics.pairwise import haversine_distances

        D = haversine_distances(X)
    else:
        X = rng.normal(size=(200, 3))
        D = cdist(X, X, "cosine")
    Y, ok = kdtree.angular_embedding(X, metric)
    assert ok
    chord = kdtree.angular_radius(radius, metric)
    E = cdist(Y, Y)
    margin = np.abs(D - radius) > 1e-9
    np.testing.assert_array_equal((E <= chord)[margin], (D <= radius)[margin])
    Z, ok = kdtree.angular_embedding(np.vstack([X, np.zeros((1, 2 if metric == "haversine"
                                                               else 3))]), "cosine")
    assert not ok
