"""HDBSCAN against scikit-learn's HDBSCAN and the hdbscan package.

Reference semantics: scikit-learn's ``min_samples`` counts the point itself;
the hdbscan package's does not, so it gets ``min_samples - 1``. Exact
comparisons use inputs without tied mutual reachability merges
(``min_samples`` 1 or 2 on continuous data, where every merge height is a
distinct pairwise distance); with larger ``min_samples`` many merges tie, the
references order ties by an unstable sort, and the test checks that every
differing point is one whose merge is tied.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import hdbscan as hdbscan_pkg
import numpy as np
import pytest
from sklearn.cluster import HDBSCAN as SklearnHDBSCAN
from sklearn.datasets import make_blobs, make_moons
from sklearn.metrics import adjusted_rand_score

import clustra
from clustra import HDBSCAN

DATA = Path(__file__).resolve().parents[1] / "data"


def _blobs_noise(n=1500, seed=0, d=2):
    X, _ = make_blobs(n, centers=5, n_features=d, cluster_std=[0.4, 0.8, 1.2, 1.6, 0.6],
                      random_state=seed)
    rng = np.random.default_rng(seed)
    return np.vstack([X, rng.uniform(X.min(), X.max(), size=(n // 10, d))])


def _moons():
    X, _ = make_moons(1500, noise=0.08, random_state=0)
    return X


def _sklearn(X, **kw):
    return SklearnHDBSCAN(copy=True, **kw).fit(X)


def _pkg(X, min_samples, **kw):
    return hdbscan_pkg.HDBSCAN(min_samples=min_samples - 1, algorithm="generic", **kw).fit(X)


def _same_partition(a, b):
    """Labels equal up to renumbering, noise (-1) identical."""
    a, b = np.asarray(a), np.asarray(b)
    assert np.array_equal(a < 0, b < 0), f"noise differs at rows {np.flatnonzero((a<0)!=(b<0))}"
    pairs = set(zip(a.tolist(), b.tolist(), strict=True))
    assert len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


@pytest.mark.parametrize("data", [_blobs_noise, _moons])
@pytest.mark.parametrize("min_samples", [1, 2])
@pytest.mark.parametrize(("method", "single"), [("eom", False), ("leaf", False), ("eom", True)])
def test_matches_sklearn_exactly_without_ties(data, min_samples, method, single):
    X = data()
    kw = dict(min_cluster_size=15, min_samples=min_samples, cluster_selection_method=method,
              allow_single_cluster=single)
    ours = HDBSCAN(**kw).fit(X)
    ref = _sklearn(X, **kw)
    _same_partition(ours.labels_, ref.labels_)
    np.testing.assert_allclose(ours.probabilities_, ref.probabilities_, rtol=0, atol=1e-9)


@pytest.mark.parametrize("data", [_blobs_noise, _moons])
def test_glosh_and_probabilities_match_hdbscan_package(data):
    X = data()
    ours = HDBSCAN(min_cluster_size=15, min_samples=2).fit(X)
    ref = _pkg(X, 2, min_cluster_size=15)
    _same_partition(ours.labels_, ref.labels_)
    np.testing.assert_allclose(ours.probabilities_, ref.probabilities_, rtol=0, atol=1e-9)
    np.testing.assert_allclose(ours.outlier_scores_, ref.outlier_scores_, rtol=0, atol=1e-9)


def test_epsilon_where_sklearn_fails_matches_hdbscan_package():
    X, _ = make_moons(2000, noise=0.08, random_state=0)
    with pytest.raises(TypeError):  # scikit-learn 1.9.1's epsilon search on this input
        _sklearn(X, min_cluster_size=5, cluster_selection_epsilon=0.3)
    for ms in (2, 3):
        ours = HDBSCAN(min_cluster_size=5, min_samples=ms, cluster_selection_epsilon=0.3).fit(X)
        ref = _pkg(X, ms, min_cluster_size=5, cluster_selection_epsilon=0.3)
        assert adjusted_rand_score(ours.labels_, ref.labels_) == 1.0
    ours = HDBSCAN(min_cluster_size=15, min_samples=2, cluster_selection_epsilon=0.05).fit(
        _blobs_noise())
    ref = _pkg(_blobs_noise(), 2, min_cluster_size=15, cluster_selection_epsilon=0.05)
    _same_partition(ours.labels_, ref.labels_)


def test_max_cluster_size_matches_sklearn():
    X = _blobs_noise()
    ours = HDBSCAN(min_cluster_size=15, min_samples=2, max_cluster_size=200).fit(X)
    ref = _sklearn(X, min_cluster_size=15, min_samples=2, max_cluster_size=200)
    _same_partition(ours.labels_, ref.labels_)


def _merge_heights(model):
    return set(model.single_linkage_tree_.heights.tolist())


@pytest.mark.parametrize("min_samples", [5, 10])
def test_with_ties_only_tied_points_differ(min_samples):
    X = _blobs_noise()
    ours = HDBSCAN(min_cluster_size=20, min_samples=min_samples).fit(X)
    ref = _sklearn(X, min_cluster_size=20, min_samples=min_samples)
    assert adjusted_rand_score(ours.labels_, ref.labels_) > 0.99
    # Match clusters, then every differing row must be a point whose core
    # distance is a merge height shared with another merge (a tie).
    mapping = {a: np.bincount(ref.labels_[ours.labels_ == a] + 1).argmax() - 1
               for a in np.unique(ours.labels_)}
    differ = np.flatnonzero(np.array([mapping[a] for a in ours.labels_]) != ref.labels_)
    heights = ours.single_linkage_tree_.heights
    values, counts = np.unique(heights, return_counts=True)
    tied = set(values[counts > 1].tolist())
    assert all(ours.core_distances_[i] in tied for i in differ), differ


def test_boruvka_prim_threads_and_row_order_give_the_same_tree():
    X = _blobs_noise(800)
    X = np.vstack([X, X[:50], np.round(X[:100])])  # duplicates and grid ties
    base = HDBSCAN(min_cluster_size=10, min_samples=4).fit(X)
    brute = HDBSCAN(min_cluster_size=10, min_samples=4, algorithm="brute").fit(X)
    np.testing.assert_array_equal(base.single_linkage_tree_.to_scipy(),
                                  brute.single_linkage_tree_.to_scipy())
    for jobs in (1, 2):
        other = HDBSCAN(min_cluster_size=10, min_samples=4, n_jobs=jobs).fit(X)
        np.testing.assert_array_equal(base.single_linkage_tree_.to_scipy(),
                                      other.single_linkage_tree_.to_scipy())
        np.testing.assert_array_equal(base.outlier_scores_, other.outlier_scores_)
    # Without ties, a permutation of the rows permutes the labels.
    Y = _blobs_noise(600)
    order = np.random.default_rng(1).permutation(Y.shape[0])
    a = HDBSCAN(min_cluster_size=10, min_samples=2).fit(Y)
    b = HDBSCAN(min_cluster_size=10, min_samples=2).fit(Y[order])
    _same_partition(a.labels_[order], b.labels_)
    np.testing.assert_allclose(a.outlier_scores_[order], b.outlier_scores_, atol=1e-12)


def test_high_dimension_prim_matches_sklearn():
    X = _blobs_noise(600, d=72)
    ours = HDBSCAN(min_cluster_size=10, min_samples=2).fit(X)
    assert ours._algorithm == "prims"
    _same_partition(ours.labels_, _sklearn(X, min_cluster_size=10, min_samples=2).labels_)


@pytest.mark.parametrize("metric", ["manhattan", "chebyshev"])
def test_other_metrics_match_sklearn(metric):
    X = _blobs_noise(600)
    ours = HDBSCAN(min_cluster_size=10, min_samples=2, metric=metric).fit(X)
    ref = _sklearn(X, min_cluster_size=10, min_samples=2, metric=metric)
    _same_partition(ours.labels_, ref.labels_)
    np.testing.assert_allclose(ours.probabilities_, ref.probabilities_, atol=1e-9)


def test_precomputed_float32_and_alpha():
    from scipy.spatial.distance import cdist

    X = _blobs_noise(500)
    base = HDBSCAN(min_cluster_size=10, min_samples=2).fit(X)
    pre = HDBSCAN(min_cluster_size=10, min_samples=2, metric="precomputed").fit(cdist(X, X))
    _same_partition(base.labels_, pre.labels_)
    X32 = X.astype(np.float32)
    f32 = HDBSCAN(min_cluster_size=10, min_samples=2).fit(X32)
    _same_partition(HDBSCAN(min_cluster_size=10, min_samples=2).fit(
        X32.astype(np.float64)).labels_, f32.labels_)
    # alpha scales pair distances only (min_samples 1 keeps the merges untied).
    ours = HDBSCAN(min_cluster_size=10, min_samples=1, alpha=1.3).fit(X)
    ref = _sklearn(X, min_cluster_size=10, min_samples=1, alpha=1.3, algorithm="kd_tree")
    _same_partition(ours.labels_, ref.labels_)


def test_integer_weights_equal_repeated_rows():
    rng = np.random.default_rng(3)
    X = _blobs_noise(400)
    weight = rng.integers(1, 4, size=X.shape[0])
    weighted = HDBSCAN(min_cluster_size=12, min_samples=6).fit(X, sample_weight=weight)
    repeated = HDBSCAN(min_cluster_size=12, min_samples=6).fit(np.repeat(X, weight, axis=0))
    first = np.concatenate([[0], np.cumsum(weight)[:-1]])
    np.testing.assert_allclose(weighted.core_distances_, repeated.core_distances_[first])
    assert adjusted_rand_score(weighted.labels_, repeated.labels_[first]) > 0.98


def test_nonfinite_rows_are_labelled_as_sklearn():
    X = _blobs_noise(300)
    X[3, 0] = np.inf
    X[7, 1] = np.nan
    ours = HDBSCAN(min_cluster_size=10, min_samples=2).fit(X)
    ref = _sklearn(X, min_cluster_size=10, min_samples=2)
    np.testing.assert_array_equal(ours.labels_[[3, 7]], [-2, -3])
    _same_partition(ours.labels_, ref.labels_)


def test_dbscan_clustering_and_centers_match_sklearn():
    X = _blobs_noise(600)
    ours = HDBSCAN(min_cluster_size=10, min_samples=2, store_centers="both").fit(X)
    ref = _sklearn(X, min_cluster_size=10, min_samples=2, store_centers="both")
    _same_partition(ours.dbscan_clustering(0.4, 10), ref.dbscan_clustering(0.4, 10))
    order = [np.bincount(ref.labels_[ours.labels_ == k]).argmax()
             for k in range(ours.labels_.max() + 1)]
    np.testing.assert_allclose(ours.centroids_, ref.centroids_[order], atol=1e-9)
    np.testing.assert_allclose(ours.medoids_, ref.medoids_[order])


def test_soft_clustering_and_exemplars_match_hdbscan_package():
    X = _blobs_noise(800)
    ours = HDBSCAN(min_cluster_size=15, min_samples=2).fit(X)
    ref = hdbscan_pkg.HDBSCAN(min_cluster_size=15, min_samples=1, algorithm="generic",
                              prediction_data=True).fit(X)
    _same_partition(ours.labels_, ref.labels_)
    order = [np.bincount(ours.labels_[ref.labels_ == k]).argmax()
             for k in range(ref.labels_.max() + 1)]
    ref_vectors = hdbscan_pkg.all_points_membership_vectors(ref)
    mine = ours.membership_vectors()[:, order]
    # The shape of each vector is exact; its scale (the probability of being in some
    # cluster) divides by the largest lambda of the cluster the point meets last, and
    # when several meet it at once the package takes the first by cluster id, which
    # depends on the left/right order of its tree: compare the scale where it is unique.
    np.testing.assert_allclose(mine / mine.sum(1, keepdims=True),
                               ref_vectors / ref_vectors.sum(1, keepdims=True), atol=1e-9)
    same_scale = np.isclose(mine.sum(1), ref_vectors.sum(1), rtol=0, atol=1e-9)
    assert same_scale.mean() > 0.9
    for k, ex in enumerate(ref.exemplars_):
        np.testing.assert_array_equal(np.sort(ours.exemplars_[order[k]], axis=0),
                                      np.sort(ex, axis=0))
    new = X[:200] + 0.05
    labels, probs = ours.approximate_predict(new)
    ref_labels, _ = hdbscan_pkg.approximate_predict(ref, new)
    theirs_of_ours = np.empty(len(order), dtype=np.int64)
    theirs_of_ours[order] = np.arange(len(order))
    mapped = np.where(labels >= 0, theirs_of_ours[labels], -1)
    # Not exact: the package's prediction takes core distances with one neighbour
    # fewer than its fit (k=min_samples counting the point) and the new point's own
    # with one more; clustra uses the fit's definition for both.
    assert np.mean(mapped == ref_labels) > 0.95
    assert ((probs >= 0) & (probs <= 1)).all()
    soft = ours.membership_vectors(new)
    assert soft.shape == (200, ours.labels_.max() + 1) and (soft >= 0).all()


def test_condensed_tree_and_single_linkage_objects():
    X = _blobs_noise(400)
    n = X.shape[0]
    model = HDBSCAN(min_cluster_size=10, min_samples=2).fit(X)
    ref = _pkg(X, 2, min_cluster_size=10)
    frame = model.condensed_tree_.to_pandas()
    assert list(frame.columns) == ["parent", "child", "lambda_val", "child_size"]
    theirs = ref.condensed_tree_.to_pandas()
    mine = frame[frame.child >= n].sort_values(["lambda_val", "child_size"])
    their_rows = theirs[theirs.child >= n].sort_values(["lambda_val", "child_size"])
    np.testing.assert_allclose(mine[["lambda_val", "child_size"]].to_numpy(),
                               their_rows[["lambda_val", "child_size"]].to_numpy())
    cut = model.single_linkage_tree_.cut(n_clusters=3)
    assert cut.shape == (n,)
    pytest.importorskip("matplotlib")
    ax = model.condensed_tree_.plot()
    assert ax.get_title() == "HDBSCAN condensed tree"


def test_shared_benchmark_sets_match_sklearn():
    for name in ("windows", "mk3"):
        with gzip.open(DATA / f"{name}.data.gz", "rt") as handle:
            X = np.loadtxt(handle)
        ours = HDBSCAN(min_cluster_size=20, min_samples=2).fit(X)
        ref = _sklearn(X, min_cluster_size=20, min_samples=2)
        _same_partition(ours.labels_, ref.labels_)
        np.testing.assert_allclose(ours.probabilities_, ref.probabilities_, atol=1e-9)


def test_exports_and_functional_form():
    assert clustra.HDBSCAN is HDBSCAN is clustra.cluster.HDBSCAN
    X = _blobs_noise(300)
    labels, probs = clustra.hdbscan(X, min_cluster_size=10, min_samples=2)
    model = HDBSCAN(min_cluster_size=10, min_samples=2).fit(X)
    np.testing.assert_array_equal(labels, model.labels_)
    np.testing.assert_array_equal(probs, model.probabilities_)


@pytest.mark.parametrize(
    ("params", "fit_kw", "message"),
    [
        ({"min_cluster_size": 1}, {}, r"HDBSCAN: min_cluster_size must be an integer >= 2; got 1"),
        ({"min_samples": 0}, {}, r"HDBSCAN: min_samples must be an integer >= 1 or None"),
        ({"metric": "mahalanobis"}, {}, r"HDBSCAN: metric must be one of 'euclidean'"),
        ({"metric": "haversine"}, {}, r"latitudes \(column 0\) in \[-pi/2, pi/2\] radians"),
        ({"metric": "haversine", "alpha": 2.0}, {}, r"alpha=2.0 cannot be used with metric="),
        ({"cluster_selection_method": "best"}, {}, r"cluster_selection_method must be one of"),
        ({"alpha": 0.0}, {}, r"HDBSCAN: alpha must be a number > 0; got 0.0"),
        ({"min_samples": 500}, {}, r"min_samples \(500\) must be at most the number of samples"),
        ({"metric_params": {"q": 1}}, {}, r"metric_params may only hold 'p'"),
        ({"metric": "precomputed", "store_centers": "centroid"}, {}, r"cannot be used with"),
        ({}, {"sample_weight": np.r_[-np.ones(1), np.ones(299)]},
         r"sample_weight must be non-negative"),
    ],
)
def test_bad_parameters_have_clear_messages(params, fit_kw, message):
    X = _blobs_noise(300)[:300]
    with pytest.raises(ValueError, match=message):
        HDBSCAN(**params).fit(X, **fit_kw)


def test_bad_method_arguments():
    model = HDBSCAN(min_cluster_size=10, min_samples=2).fit(_blobs_noise(300))
    with pytest.raises(ValueError, match="cut_distance must be a positive number; got -1"):
        model.dbscan_clustering(-1)
    with pytest.raises(ValueError, match="X has 3 features, but HDBSCAN is expecting 2"):
        model.approximate_predict(np.zeros((2, 3)))
    pre = HDBSCAN(min_cluster_size=5, metric="precomputed").fit(np.abs(
        np.subtract.outer(np.arange(20.0), np.arange(20.0))))
    with pytest.raises(ValueError, match="prediction needs the observations"):
        pre.approximate_predict(np.zeros((2, 20)))


def test_a_heavy_point_can_be_a_cluster_and_every_point_is_labelled():
    X = np.array([[0.0, 0.0], [0.1, 0.0], [0.0, 0.1], [5.0, 5.0], [9.0, 0.0], [9.1, 0.0]])
    weight = np.array([1.0, 1.0, 1.0, 4.0, 1.0, 1.0])
    model = HDBSCAN(min_cluster_size=3, min_samples=2).fit(X, sample_weight=weight)
    assert model.labels_.shape == (6,)
    assert set(model.condensed_tree_.child[model.condensed_tree_.child < 6].tolist()) == set(
        range(6))
    assert model.labels_[3] >= 0 and model.labels_[0] == model.labels_[1] == model.labels_[2]


def test_boruvka_and_both_prims_give_the_same_edges():
    from clustra._kernels import core_distances as cd
    from clustra._kernels.kdtree import build_kdtree
    from clustra._kernels.mst import mst_edges, sorted_edge_order
    from clustra._kernels.mst_prim import prim_metric

    X = _blobs_noise(500, d=3)
    X = np.vstack([X, X[:20], np.round(X[:40])])
    tree = build_kdtree(X, 8)
    core, _, _ = cd.core_and_neighbours(tree, 4, 1.0)
    np.testing.assert_array_equal(core, cd.core_distances_kdtree(tree, X, 4, 0, 2.0))
    edges = [mst_edges(X, "euclidean", 4, algorithm="boruvka", kdtree=tree),
             mst_edges(X, "euclidean", 4, algorithm="prim")]
    np.testing.assert_array_equal(edges[0].core, np.sqrt(core))
    for name in ("low", "high", "weight"):
        np.testing.assert_array_equal(getattr(edges[0], name), getattr(edges[1], name))
    # The generic Prim (any metric code), here on squared Euclidean: the same tree.
    source, target, weight = prim_metric(X, core, 0, 2.0, 1.0, False)
    low, high = np.minimum(source, target), np.maximum(source, target)
    order = sorted_edge_order(low, high, weight)
    np.testing.assert_array_equal(low[order], edges[0].low)
    np.testing.assert_array_equal(high[order], edges[0].high)
    np.testing.assert_array_equal(np.sqrt(weight[order]), edges[0].weight)


def _grid_ties(n_side=12, seed=0):
    """Integer grid points (many equal distances) with some duplicated rows."""
    rng = np.random.default_rng(seed)
    grid = np.array([(i, j, (i * j) % 3) for i in range(n_side) for j in range(n_side)], float)
    blob = np.round(rng.normal(size=(300, 3)) * 2) + 20
    return np.vstack([grid, blob, grid[:30]])


@pytest.mark.parametrize("make", [_grid_ties, lambda: _blobs_noise(700, d=3)])
@pytest.mark.parametrize("min_samples", [1, 5])
def test_small_fit_prim_equals_boruvka_and_builds_the_tree_on_demand(make, min_samples):
    from clustra._kernels.mst import few_rows

    X = make()
    assert few_rows(X.shape[0], min_samples > 1)
    kw = dict(min_cluster_size=8, min_samples=min_samples)
    small = HDBSCAN(**kw).fit(X)  # auto: Prim, brute-force core distances, no KD-tree
    assert small._algorithm == "prims" and small._kdtree is None
    tree = HDBSCAN(algorithm="kd_tree", leaf_size=16, **kw).fit(X)
    assert tree._algorithm == "boruvka_kdtree"
    np.testing.assert_array_equal(small.single_linkage_tree_.to_scipy(),
                                  tree.single_linkage_tree_.to_scipy())
    for name in ("parent", "child", "lambda_val", "child_size"):
        np.testing.assert_array_equal(getattr(small.condensed_tree_, name),
                                      getattr(tree.condensed_tree_, name))
    for name in ("labels_", "probabilities_", "outlier_scores_", "core_distances_"):
        np.testing.assert_array_equal(getattr(small, name), getattr(tree, name))
    new = X[::7] + 0.25
    for a, b in zip(small.approximate_predict(new), tree.approximate_predict(new), strict=True):
        np.testing.assert_array_equal(a, b)
    assert small._kdtree is not None
    np.testing.assert_array_equal(HDBSCAN(**kw).fit(X).membership_vectors(new),
                                  tree.membership_vectors(new))


@pytest.mark.parametrize("d", [1, 3, 9])
def test_small_core_distances_equal_the_parallel_brute_force_and_the_tree(d):
    from clustra._kernels import core_distances as cd
    from clustra._kernels.kdtree import build_kdtree

    rng = np.random.default_rng(d)
    X = np.vstack([rng.normal(size=(400, d)), np.round(rng.normal(size=(100, d)) * 2)])
    X = np.vstack([X, X[:25]])  # duplicates: core distance 0 with k = 2
    for k in (1, 2, 7):
        small = cd.core_rdist_sqeuclidean(X, k)
        np.testing.assert_array_equal(small, cd.core_rdist_brute(X, k, 0, 2.0))
        np.testing.assert_array_equal(small, cd.core_distances_kdtree(build_kdtree(X, 16), X,
                                                                      k, 0, 2.0))
        np.testing.assert_array_equal(small, cd.core_distances(X, k, 0, 2.0))
