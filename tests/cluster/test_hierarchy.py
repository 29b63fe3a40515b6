"""clustra.linkage against SciPy, AgglomerativeClustering against scikit-learn."""

import time
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.cluster import hierarchy as scipy_hierarchy
from scipy.spatial.distance import pdist
from sklearn import cluster as sklearn_cluster
from sklearn.metrics import adjusted_rand_score
from sklearn.neighbors import kneighbors_graph
from sklearn.utils.estimator_checks import parametrize_with_checks

import clustra
from clustra.cluster.hierarchy import (
    AgglomerativeClustering,
    LinkageMemoryError,
    linkage,
    set_memory_limit,
)

METHODS = ["single", "complete", "average", "weighted", "ward", "centroid", "median"]


def _random(rng, n=60, d=3):
    return rng.normal(size=(n, d))


def _ties(rng, n=60):
    # Integer grid points: many equal distances and exact duplicates.
    return rng.integers(0, 4, size=(n, 2)).astype(np.float64)


def assert_heights_close(Z, Z_ref, rtol=1e-9):
    np.testing.assert_allclose(np.sort(Z[:, 2]), np.sort(Z_ref[:, 2]), rtol=rtol, atol=0)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("make", [_random, _ties])
def test_matrix_algorithm_reproduces_scipy_exactly(rng, method, make):
    X = make(rng)
    expected = scipy_hierarchy.linkage(X, method)
    np.testing.assert_array_equal(linkage(X, method, algorithm="matrix"), expected)
    np.testing.assert_array_equal(linkage(pdist(X), method), expected)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("make", [_random, _ties])
def test_default_algorithm_heights_and_partitions_match_scipy(rng, method, make):
    X = make(rng)
    expected = scipy_hierarchy.linkage(X, method)
    Z = linkage(X, method)
    assert Z.shape == expected.shape
    np.testing.assert_array_equal(Z[:, 3].max(), X.shape[0])
    if make is _random:
        # No ties: the same merges in the same order, heights within rounding.
        np.testing.assert_array_equal(Z[:, [0, 1, 3]], expected[:, [0, 1, 3]])
        np.testing.assert_allclose(Z[:, 2], expected[:, 2], rtol=1e-9)
    elif method != "ward":
        # Ties may be broken differently, but never the heights (for ward a
        # different tie changes later heights too: compared on the matrix path).
        assert_heights_close(Z, expected)


@pytest.mark.parametrize("metric", ["cityblock", "chebyshev", "cosine"])
@pytest.mark.parametrize("method", ["single", "complete", "average", "weighted"])
def test_other_metrics_match_scipy(rng, metric, method):
    X = _random(rng, 40, 4)
    ours = "manhattan" if metric == "cityblock" else metric
    expected = scipy_hierarchy.linkage(X, method, metric=metric)
    assert_heights_close(linkage(X, method, metric=ours), expected)


def test_single_linkage_observations_vs_matrix_with_duplicates(rng):
    X = np.repeat(_ties(rng, 30), 2, axis=0)
    Z_obs = linkage(X, "single", algorithm="observations")
    Z_mat = scipy_hierarchy.linkage(X, "single")
    assert_heights_close(Z_obs, Z_mat)
    for k in (2, 5, 9):
        assert adjusted_rand_score(
            scipy_hierarchy.fcluster(Z_mat, k, "maxclust"),
            clustra.tree_from_linkage(Z_obs).cut(n_clusters=k),
        ) == 1.0


def test_two_points_and_float32(rng):
    Z = linkage(np.array([[0.0, 0.0], [3.0, 4.0]], dtype=np.float32), "ward")
    np.testing.assert_allclose(Z, [[0, 1, 5.0, 2]])


def test_optimal_ordering_matches_scipy(rng):
    X = _random(rng, 30)
    expected = scipy_hierarchy.linkage(X, "average", optimal_ordering=True)
    np.testing.assert_array_equal(linkage(X, "average", optimal_ordering=True), expected)


@pytest.mark.parametrize(
    "X, kwargs, error, match",
    [
        (np.array([[0.0, np.nan], [1.0, 2.0]]), {}, ValueError, "1 NaN value"),
        (np.array([[0.0, 1.0]]), {}, ValueError, "at least 2 points, got 1"),
        (np.zeros((3, 2)), {"method": "kmeans"}, ValueError, "Unknown linkage method 'kmeans'"),
        (np.zeros((3, 2)), {"method": "ward", "metric": "cosine"}, ValueError,
         "Euclidean distances only"),
        (np.ones(4), {}, ValueError, "has 4, which is not of that form"),
        (np.array([1.0, -1.0, 2.0]), {}, ValueError, "negative entries"),
        (np.zeros((3, 2)), {"algorithm": "fast"}, ValueError, "Unknown algorithm 'fast'"),
        (np.zeros((3, 2)), {"metric": "hamming"}, ValueError, "Unknown metric 'hamming'"),
        (np.zeros((2, 2, 2)), {}, ValueError, "3 dimensions"),
        (np.array([["a", "b"], ["c", "d"]]), {}, ValueError, "needs numbers"),
    ],
)
def test_bad_input_messages(X, kwargs, error, match):
    with pytest.raises(error, match=match):
        linkage(X, **kwargs)


@pytest.fixture
def small_memory():
    set_memory_limit(10 * 2**20)
    yield
    set_memory_limit(None)


def test_memory_guard_refuses_quickly_at_a_million_points(small_memory):
    # linkage imports its kernels on first call; time the guard, not those imports.
    with pytest.raises(ValueError, match="Unknown metric"):
        linkage(np.zeros((3, 2)), "average", metric="hamming")
    start = time.perf_counter()
    with pytest.raises(LinkageMemoryError, match=r"needs a distance matrix of 4000.0 GB") as info:
        linkage(_LazyHuge(), "average")
    assert time.perf_counter() - start < 1.0
    message = str(info.value)
    assert 'method="single"' in message and "O(n d)" in message and "sample" in message
    assert isinstance(info.value, MemoryError)


class _LazyHuge:
    """Looks like 1,000,000 x 2 observations without allocating more than a row."""

    def __array__(self, dtype=None, copy=None):
        return np.lib.stride_tricks.as_strided(
            np.arange(2, dtype=np.float64), shape=(1_000_000, 2), strides=(0, 8)
        )


def test_memory_guard_spares_the_low_memory_paths(small_memory, rng):
    X = _random(rng, 3000, 2)  # matrix: 36 MB > 10 MB limit
    with pytest.raises(LinkageMemoryError, match="0.0 GB"):
        linkage(X, "complete")
    with pytest.raises(LinkageMemoryError):
        linkage(X, "ward", algorithm="matrix")
    assert linkage(X[:600], "ward", algorithm="observations").shape == (599, 4)
    assert linkage(X, "single").shape == (2999, 4)


def test_memory_limit_from_environment(monkeypatch, rng):
    monkeypatch.setenv("CLUSTRA_MEMORY_LIMIT", "1M")
    with pytest.raises(LinkageMemoryError, match="0.0 GB of memory is available"):
        linkage(_random(rng, 1000), "average")
    monkeypatch.setenv("CLUSTRA_MEMORY_LIMIT", "lots")
    with pytest.raises(ValueError, match="CLUSTRA_MEMORY_LIMIT must be a number"):
        linkage(_random(rng, 1000), "average")


# --- AgglomerativeClustering ---------------------------------------------------


def _fit_both(X, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "connectivity ... components" warnings
        ours = AgglomerativeClustering(**params).fit(X)
        theirs = sklearn_cluster.AgglomerativeClustering(**params).fit(X)
    return ours, theirs


@pytest.mark.parametrize("linkage_name", ["ward", "complete", "average", "single"])
@pytest.mark.parametrize("neighbours", [None, 6, 2])
def test_labels_equal_sklearn(rng, linkage_name, neighbours):
    X = _random(rng, 80, 3)
    connectivity = None if neighbours is None else kneighbors_graph(X, neighbours)
    for k in (2, 7):
        ours, theirs = _fit_both(X, n_clusters=k, linkage=linkage_name,
                                 connectivity=connectivity, compute_distances=True)
        assert adjusted_rand_score(ours.labels_, theirs.labels_) == 1.0
        np.testing.assert_allclose(ours.distances_, theirs.distances_, rtol=1e-9)
        np.testing.assert_array_equal(np.sort(ours.children_, axis=1),
                                      np.sort(theirs.children_, axis=1))
        assert ours.n_connected_components_ == theirs.n_connected_components_
        assert ours.n_leaves_ == theirs.n_leaves_ == 80
        assert ours.n_clusters_ == k


@pytest.mark.parametrize("linkage_name", ["ward", "average"])
def test_distance_threshold_equals_sklearn(rng, linkage_name):
    X = _random(rng, 80, 3)
    ours, theirs = _fit_both(X, n_clusters=None, distance_threshold=1.2, linkage=linkage_name)
    assert ours.n_clusters_ == theirs.n_clusters_
    assert adjusted_rand_score(ours.labels_, theirs.labels_) == 1.0


def test_precomputed_and_l1_equal_sklearn(rng):
    X = _random(rng, 50, 3)
    from sklearn.metrics import pairwise_distances

    D = pairwise_distances(X, metric="manhattan")
    ours, theirs = _fit_both(D, n_clusters=4, linkage="average", metric="precomputed")
    assert adjusted_rand_score(ours.labels_, theirs.labels_) == 1.0
    ours, theirs = _fit_both(X, n_clusters=4, linkage="complete", metric="l1")
    assert adjusted_rand_score(ours.labels_, theirs.labels_) == 1.0


def test_partial_tree_with_connectivity_like_sklearn(rng):
    X = _random(rng, 60, 2)
    params = dict(n_clusters=5, connectivity=kneighbors_graph(X, 5), compute_full_tree=False)
    ours, theirs = _fit_both(X, **params)
    assert ours.children_.shape == theirs.children_.shape == (55, 2)
    assert ours.tree_.n_leaves == 60


def test_fitted_tree_and_linkage_matrix(rng):
    X = _random(rng, 40, 2)
    model = AgglomerativeClustering(n_clusters=3, linkage="average").fit(X)
    np.testing.assert_array_equal(model.linkage_matrix_, scipy_hierarchy.linkage(X, "average"))
    assert adjusted_rand_score(model.tree_.cut(n_clusters=3), model.labels_) == 1.0


@pytest.mark.parametrize("linkage_name", ["ward", "complete", "average", "single"])
def test_predict_training_points_of_separated_blobs(rng, linkage_name):
    centres = np.array([[0.0, 0.0], [20.0, 0.0], [0.0, 20.0]])
    X = np.concatenate([c + rng.normal(size=(30, 2)) for c in centres])
    model = AgglomerativeClustering(n_clusters=3, linkage=linkage_name).fit(X)
    np.testing.assert_array_equal(model.predict(X), model.labels_)
    new = centres + 0.5
    np.testing.assert_array_equal(model.predict(new), model.labels_[[0, 30, 60]])


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(n_clusters=None), "exactly one of n_clusters and distance_threshold"),
        (dict(n_clusters=2, distance_threshold=1.0), "exactly one of n_clusters"),
        (dict(linkage="median"), "linkage must be one of 'ward', 'complete', 'average', "
                                 "'single'; got 'median'. clustra.linkage also offers"),
        (dict(linkage="ward", metric="manhattan"), "Ward can only work with euclidean"),
        (dict(n_clusters=0), "n_clusters must be an integer >= 1 or None; got 0"),
        (dict(n_clusters=50), "larger than the number of samples"),
        (dict(n_clusters=None, distance_threshold=-1.0), "distance_threshold must be"),
        (dict(metric="precomputed", linkage="average"), "square distance matrix"),
        (dict(compute_full_tree="yes"), "compute_full_tree must be"),
        (dict(n_clusters=None, distance_threshold=1.0, compute_full_tree=False),
         r"compute_full_tree must be True \(or 'auto'\) when distance_threshold"),
        (dict(n_jobs=0), r"n_jobs must be an integer >= 1, -1 \(all cores\) or None; got 0"),
        (dict(metric="hamming", linkage="average"), "metric must be one of .*got 'hamming'"),
    ],
)
def test_estimator_bad_params(rng, params, match):
    with pytest.raises(ValueError, match=match):
        AgglomerativeClustering(**params).fit(_random(rng, 10, 3))


def test_estimator_bad_data():
    with pytest.raises(ValueError, match="1 NaN value"):
        AgglomerativeClustering().fit(np.array([[0.0, np.nan], [1.0, 2.0], [3.0, 4.0]]))
    with pytest.raises(ValueError, match="minimum of 2 is required"):
        AgglomerativeClustering(n_clusters=1).fit(np.array([[0.0, 1.0]]))


@parametrize_with_checks(
    [AgglomerativeClustering(), AgglomerativeClustering(linkage="single", n_clusters=3)],
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("ties", [False, True])
def test_boruvka_single_linkage_equals_scipy(rng, ties):
    X = (rng.integers(0, 30, size=(1500, 2)).astype(float) if ties
         else rng.normal(size=(1500, 3)))
    expected = scipy_hierarchy.linkage(X, "single")
    Z = linkage(X, "single", algorithm="kdtree")
    np.testing.assert_array_equal(np.sort(Z[:, 2]), np.sort(expected[:, 2]))
    tree = clustra.tree_from_linkage(Z)
    for k in (2, 10, 100, 700):
        assert adjusted_rand_score(
            scipy_hierarchy.fcluster(expected, k, "maxclust"), tree.cut(n_clusters=k)
        ) == 1.0
    if not ties:
        np.testing.assert_array_equal(Z, expected)


@pytest.mark.parametrize("n_threads", [1, 2])
def test_euclidean_prim_single_linkage_equals_scipy_for_any_thread_count(rng, n_threads):
    # d=8 > the KD-tree's limit: the parallel Euclidean Prim, over several blocks.
    X = rng.normal(size=(2200, 8))
    X[100:120] = X[0]  # duplicates: ties at height 0
    expected = scipy_hierarchy.linkage(X, "single")
    with clustra.thread_limit(n_threads):
        Z = linkage(X, "single")
    np.testing.assert_array_equal(Z, expected)


def test_boruvka_refuses_other_metrics(rng):
    with pytest.raises(ValueError, match='algorithm="kdtree" works with metric="euclidean"'):
        linkage(rng.normal(size=(10, 2)), "single", metric="manhattan", algorithm="kdtree")
    with pytest.raises(ValueError, match='algorithm="kdtree" builds single linkage'):
        linkage(rng.normal(size=(10, 2)), "ward", algorithm="kdtree")


@pytest.mark.filterwarnings("ignore:The symmetric non-negative hollow")
@settings(max_examples=40, deadline=None)
@given(
    X=st.integers(2, 25).flatmap(
        lambda n: arrays(np.float64, (n, 2), elements=st.integers(-3, 3).map(float))
    ),
    method=st.sampled_from(METHODS),
)
def test_matrix_path_equals_scipy_on_any_small_grid(X, method):
    # Small integer grids: ties and duplicates everywhere.
    np.testing.assert_array_equal(linkage(X, method, algorithm="matrix"),
                                  scipy_hierarchy.linkage(X, method))


def test_n_jobs_sets_the_threads_of_the_tree_build_and_not_the_tree(rng):
    seen = []

    class RecordingMemory:  # a joblib.Memory stand-in: sees the build as it runs
        def cache(self, func):
            def wrapper(*args, **kwargs):
                seen.append(clustra.get_num_threads())
                return func(*args, **kwargs)
            return wrapper

    X = _random(rng, 200, 3)
    one = AgglomerativeClustering(n_clusters=3, linkage="average", n_jobs=1,
                                  memory=RecordingMemory()).fit(X)
    both = AgglomerativeClustering(n_clusters=3, linkage="average", n_jobs=2).fit(X)
    assert seen == [1]
    np.testing.assert_array_equal(one.linkage_matrix_, both.linkage_matrix_)
