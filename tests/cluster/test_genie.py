"""Genie against genieclust.Genie (1.3): the same labels, merges and heights on the same input."""

from __future__ import annotations

from pathlib import Path

import genieclust
import numpy as np
import pytest
from sklearn.datasets import make_blobs, make_moons
from sklearn.utils.estimator_checks import parametrize_with_checks

import clustra
from clustra._kernels.genie import genie_merges, partitions
from clustra.cluster import Genie as ClusterGenie
from clustra.cluster._params import InvalidParameterError
from clustra.cluster.genie import Genie, genie

DATA = Path(__file__).resolve().parent.parent / "data"


def _blobs():
    return make_blobs(1500, centers=5, cluster_std=1.5, random_state=0)[0]


def _moons():
    return make_moons(1200, noise=0.08, random_state=1)[0]


def _unbalanced():
    rng = np.random.default_rng(2)
    return np.vstack([rng.normal(0, 1, (1000, 2)), rng.normal(6, 0.3, (40, 2)),
                      rng.normal((-6, 5), 0.5, (120, 2)), rng.uniform(-10, 10, (15, 2))])


def _wide():
    # 8 features: Prim's vectorised kernel rather than the KD-tree.
    return make_blobs(800, n_features=8, centers=4, random_state=3)[0]


DATASETS = {"blobs": _blobs, "moons": _moons, "unbalanced": _unbalanced, "wide": _wide}


@pytest.fixture(scope="module", params=sorted(DATASETS))
def dataset(request):
    return request.param, DATASETS[request.param]()


@pytest.mark.parametrize("threshold", [0.1, 0.3, 0.5, 1.0])
def test_labels_and_hierarchy_equal_genieclust(dataset, threshold):
    _, X = dataset
    ours = Genie(3, gini_threshold=threshold).fit(X)
    ref = genieclust.Genie(3, gini_threshold=threshold).fit(X)
    # genieclust numbers clusters by first appearance, as we do: equal, not just equivalent.
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    np.testing.assert_array_equal(ours.mst_edges_, ref._tree_i_)
    np.testing.assert_allclose(ours.mst_weights_, ref._tree_d_, rtol=1e-12)
    np.testing.assert_array_equal(ours.merge_order_, ref._links_)
    np.testing.assert_array_equal(ours.children_, ref.children_)
    np.testing.assert_array_equal(ours.counts_, ref.counts_)
    np.testing.assert_allclose(ours.distances_, ref.distances_, rtol=1e-12)
    # Every k from the one fit, each equal to genieclust's own fit for that k.
    ks = [1, 2, 4, 7]
    many = ours.cut_range(ks)
    for row, k in enumerate(ks):
        np.testing.assert_array_equal(
            many[row], genieclust.Genie(k, gini_threshold=threshold).fit(X).labels_)


@pytest.mark.parametrize("name", ["graph", "windows", "mk3", "mk1"])
@pytest.mark.parametrize("threshold", [0.1, 0.3, 0.5])
def test_benchmark_sets_equal_genieclust(name, threshold):
    X = np.loadtxt(DATA / f"{name}.data.gz")
    k = len(np.unique(np.loadtxt(DATA / f"{name}.labels0.gz")))
    ours = Genie(k, gini_threshold=threshold).fit(X)
    ref = genieclust.Genie(k, gini_threshold=threshold).fit(X)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)


def _tied_data():
    rng = np.random.default_rng(5)
    grid = rng.integers(0, 7, size=(400, 2)).astype(np.float64)  # many duplicates and ties
    return grid


@pytest.mark.parametrize("threshold", [0.1, 0.3, 0.5, 0.7, 1.0])
@pytest.mark.parametrize("M", [1, 4])
def test_merges_on_genieclusts_tree_with_ties(threshold, M):
    """Where several trees are minimal, the merge process on genieclust's own tree is its."""
    X = _tied_data() if M == 1 else _unbalanced()
    ref = genieclust.Genie(1, gini_threshold=threshold, M=M).fit(X)
    n = X.shape[0]
    low = np.ascontiguousarray(ref._tree_i_[:, 0], dtype=np.int64)
    high = np.ascontiguousarray(ref._tree_i_[:, 1], dtype=np.int64)
    merges = genie_merges(low, high, n, threshold, 1)
    np.testing.assert_array_equal(merges, ref._links_)
    ks = np.array([2, 3, 6], dtype=np.int64)
    labels = partitions(low, high, merges, n, ks)
    for row, k in enumerate(ks):
        # genieclust's labels for k replay its own merges: compare on the same tree.
        expected = genieclust.core.genie_from_mst(ref._tree_d_, ref._tree_i_, n_clusters=int(k),
                                                  gini_threshold=threshold)["labels"]
        np.testing.assert_array_equal(labels[row], expected)


def test_ties_and_duplicates_same_tree_weight_and_deterministic():
    X = _tied_data()
    ours = Genie(4).fit(X)
    ref = genieclust.Genie(4).fit(X)
    # Any two minimum spanning trees have the same sorted weights.
    np.testing.assert_allclose(ours.mst_weights_, ref._tree_d_)
    with clustra.thread_limit(1):
        one = Genie(4, n_jobs=1).fit(X).labels_
    np.testing.assert_array_equal(one, Genie(4, n_jobs=2).fit(X).labels_)
    np.testing.assert_array_equal(one, ours.labels_)


@pytest.mark.parametrize("M", [2, 3, 10])
def test_mutual_reachability_tree_and_core_distances(M):
    X = _blobs()
    ours = Genie(3, M=M).fit(X)
    ref = genieclust.Genie(3, M=M).fit(X)
    np.testing.assert_allclose(ours.core_distances_, ref._d_core_, rtol=1e-12)
    np.testing.assert_allclose(ours.mst_weights_, ref._tree_d_, rtol=1e-12)
    # The trees differ only in choices among equal weights: ours is the tree of the
    # engine's one rule (weight, low, high); genieclust's quitefastmst prefers other
    # pairs among equal mutual reachability distances (its mutreach_adj). Measured
    # ARI here: 0.998, 0.994, 0.963 for M = 2, 3, 10.
    from sklearn.metrics import adjusted_rand_score

    assert adjusted_rand_score(ours.labels_, ref.labels_) > 0.95


@pytest.mark.parametrize(("metric", "ref_metric"), [("manhattan", "l1"), ("cosine", "cosine")])
def test_other_metrics_equal_genieclust(metric, ref_metric):
    X = _moons() + 2.0
    ours = Genie(2, metric=metric).fit(X)
    ref = genieclust.Genie(2, metric=ref_metric).fit(X)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)


@pytest.mark.parametrize("M", [1, 3])
def test_precomputed_equals_genieclust(M):
    from scipy.spatial.distance import pdist, squareform

    X = _moons()[:600]
    D = squareform(pdist(X))
    ours = Genie(3, metric="precomputed", M=M).fit(D)
    ref = genieclust.Genie(3, metric="precomputed", M=M).fit(D)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    np.testing.assert_array_equal(ours.labels_, Genie(3, M=M).fit(X).labels_)
    np.testing.assert_array_equal(ours.predict(D[:40]), ours.labels_[:40])
    assert ours.tree_.n_leaves == 600
    with pytest.raises(ValueError, match="needs a square distance matrix, got shape"):
        Genie(metric="precomputed").fit(D[:, :50])
    with pytest.raises(ValueError, match="symmetric matrix with entries >= 0"):
        Genie(metric="precomputed").fit(D - 1.0)


def test_threshold_one_is_single_linkage():
    X = _unbalanced()
    tree = clustra.AgglomerativeClustering(linkage="single", n_clusters=5).fit(X)
    labels = Genie(5, gini_threshold=1.0).fit(X).labels_
    from sklearn.metrics import adjusted_rand_score

    assert adjusted_rand_score(labels, tree.labels_) == 1.0


def test_cut_range_equals_separate_fits_and_tree():
    X = _moons()
    model = Genie(2, gini_threshold=0.2).fit(X)
    ks = [9, 1, 3, 2]
    many = model.cut_range(ks)
    for row, k in enumerate(ks):
        np.testing.assert_array_equal(many[row], Genie(k, gini_threshold=0.2).fit(X).labels_)
        np.testing.assert_array_equal(model.tree_.cut_exact(k), many[row])


def test_threads_and_row_order_do_not_change_the_partition():
    X = make_blobs(5000, centers=6, cluster_std=2.0, random_state=9)[0]  # KD-tree path
    one = Genie(6, n_jobs=1).fit(X).labels_
    np.testing.assert_array_equal(one, Genie(6, n_jobs=2).fit(X).labels_)
    permutation = np.random.default_rng(0).permutation(X.shape[0])
    shuffled = Genie(6).fit(X[permutation]).labels_
    from sklearn.metrics import adjusted_rand_score

    assert adjusted_rand_score(one[permutation], shuffled) == 1.0


def test_tree_only_after_fit():
    with pytest.raises(AttributeError, match="tree_ exists once Genie is fitted"):
        Genie().tree_  # noqa: B018 - the property is the test


def test_compute_full_tree_false_stops_at_k():
    X = _blobs()
    full = Genie(4).fit(X)
    part = Genie(4, compute_full_tree=False).fit(X)
    np.testing.assert_array_equal(part.labels_, full.labels_)
    assert part.tree_ is None and part.children_.shape == (X.shape[0] - 4, 2)
    np.testing.assert_array_equal(part.cut_range([6, 4]), full.cut_range([6, 4]))
    with pytest.raises(ValueError, match="stopped at 4 clusters .* cannot give k=3"):
        part.cut_range([3])


def test_m_zero_and_one_are_the_plain_metric():
    X = _unbalanced()
    np.testing.assert_array_equal(Genie(4, M=0).fit(X).labels_, Genie(4, M=1).fit(X).labels_)
    assert Genie(4, M=1).fit(X).core_distances_ is None


def test_float32_and_functional_form_and_exports():
    X = _blobs()
    labels = genie(X.astype(np.float32), 3)
    np.testing.assert_array_equal(
        labels, genieclust.Genie(3).fit(X.astype(np.float32).astype(np.float64)).labels_)
    assert clustra.Genie is Genie and ClusterGenie is Genie and clustra.genie is genie


def test_predict_nearest_training_point():
    X = _blobs()
    model = Genie(5).fit(X)
    np.testing.assert_array_equal(model.predict(X), model.labels_)
    shifted = X[:50] + 1e-6
    np.testing.assert_array_equal(model.predict(shifted), model.labels_[:50])
    cos = Genie(3, metric="cosine").fit(X + 20)
    np.testing.assert_array_equal(cos.predict(X[:20] + 20), cos.labels_[:20])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"gini_threshold": 1.5}, r"^Genie: gini_threshold must be a number in \[0, 1\]"),
        ({"n_clusters": 0}, r"^Genie: n_clusters must be an integer >= 1"),
        ({"M": -1}, r"^Genie: M must be an integer >= 0"),
        ({"metric": "hamming"}, r"^Genie: metric must be one of 'euclidean'"),
        ({"compute_full_tree": "yes"}, r"^Genie: compute_full_tree must be True or False"),
        ({"n_jobs": 0}, r"^Genie: n_jobs must be an integer >= 1, one of -1 or None"),
    ],
)
def test_bad_parameters(params, message):
    with pytest.raises(InvalidParameterError, match=message):
        Genie(**params).fit(_blobs()[:30])


def test_bad_data_dependent_values():
    X = _blobs()[:20]
    with pytest.raises(ValueError, match="n_clusters=21 is larger than the number of samples"):
        Genie(21).fit(X)
    with pytest.raises(ValueError, match="M=20 needs more than M samples, got 20"):
        Genie(2, M=20).fit(X)
    with pytest.raises(ValueError, match="minimum of 2 is required by Genie"):
        Genie(1).fit(X[:1])
    model = Genie(2).fit(X)
    with pytest.raises(ValueError, match="k=25 is larger than the number of samples"):
        model.cut_range([25])


@parametrize_with_checks([Genie(n_clusters=3)])
def test_sklearn_compatible(estimator, check):
    check(estimator)
