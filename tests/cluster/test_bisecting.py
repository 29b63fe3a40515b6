"""BisectingKMeans against scikit-learn's, its tree, and its messages."""

from __future__ import annotations

import re

import numpy as np
import pytest
from sklearn.cluster import BisectingKMeans as SkBisectingKMeans
from sklearn.datasets import make_blobs
from sklearn.utils.estimator_checks import parametrize_with_checks
from threadpoolctl import threadpool_limits

import clustra
from clustra.cluster import BisectingKMeans
from clustra.cluster._params import InvalidParameterError

STRATEGIES = ("biggest_inertia", "largest_cluster")


@pytest.fixture(scope="module")
def blobs():
    X, _ = make_blobs(1500, 4, centers=9, cluster_std=1.8, random_state=3)
    return X


def _sklearn(X, n_clusters, sample_weight=None, **params):
    # One OpenMP thread: on a busy machine scikit-learn's threads take seconds to wake
    # for a small fit; its results (float64) do not depend on the thread count.
    with threadpool_limits(1):
        return SkBisectingKMeans(n_clusters, **params).fit(X, sample_weight=sample_weight)


def _both(X, n_clusters, sample_weight=None, **params):
    theirs = _sklearn(X, n_clusters, sample_weight, **params)
    ours = BisectingKMeans(n_clusters, **params).fit(X, sample_weight=sample_weight)
    return ours, theirs


def _assert_same(ours, theirs, rtol):
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    assert ours.labels_.dtype == np.int32
    assert ours.cluster_centers_.dtype == theirs.cluster_centers_.dtype
    scale = np.abs(theirs.cluster_centers_).max()
    np.testing.assert_allclose(ours.cluster_centers_, theirs.cluster_centers_, rtol=0,
                               atol=rtol * scale)
    # (atol: a cluster of one point has inertia 0 up to the rounding of its centre.)
    np.testing.assert_allclose(ours.inertia_, theirs.inertia_, rtol=rtol, atol=rtol * scale**2)


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("init", ["random", "k-means++"])
@pytest.mark.parametrize("random_state", [0, 1, 7])
def test_same_as_sklearn(blobs, strategy, init, random_state):
    ours, theirs = _both(blobs, 7, bisecting_strategy=strategy, init=init,
                         random_state=random_state)
    _assert_same(ours, theirs, 1e-10)


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("algorithm", ["lloyd", "elkan", "hamerly"])
def test_weights_and_n_init(blobs, strategy, algorithm):
    weights = np.random.default_rng(0).uniform(0.2, 3.0, blobs.shape[0])
    ours, theirs = _both(blobs, 6, weights, bisecting_strategy=strategy, n_init=3,
                         random_state=2, algorithm="elkan" if algorithm == "hamerly" else algorithm)
    _assert_same(ours, theirs, 1e-10)
    if algorithm == "hamerly":
        hamerly = BisectingKMeans(6, bisecting_strategy=strategy, n_init=3, random_state=2,
                                  algorithm="hamerly").fit(blobs, sample_weight=weights)
        np.testing.assert_array_equal(hamerly.labels_, ours.labels_)


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("init", ["random", "k-means++"])
def test_float32(blobs, strategy, init):
    # n_init=1: scikit-learn compares the inertia of several runs in float32 (a sum whose
    # rounding depends on its thread count), so only one run per split is bit-comparable.
    X = blobs.astype(np.float32)
    ours, theirs = _both(X, 8, bisecting_strategy=strategy, init=init, random_state=5)
    _assert_same(ours, theirs, 1e-5)
    assert ours.transform(X).dtype == np.float32


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_one_cluster_and_one_per_sample(strategy):
    X = np.random.default_rng(4).normal(size=(25, 3))
    for n_clusters in (1, 25):
        ours, theirs = _both(X, n_clusters, bisecting_strategy=strategy, random_state=0)
        _assert_same(ours, theirs, 1e-12)
    assert ours.inertia_ < 1e-20
    assert ours.tree_.cut(n_clusters=1).tolist() == [0] * 25


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_predict_goes_down_the_tree_as_sklearn(blobs, strategy):
    ours, theirs = _both(blobs, 8, bisecting_strategy=strategy, random_state=1)
    new = np.random.default_rng(9).normal(scale=12.0, size=(800, blobs.shape[1]))
    predicted = ours.predict(new)
    np.testing.assert_array_equal(predicted, theirs.predict(new))
    # The descent is not the nearest final centre for every point; this data shows it.
    assert (predicted != ours.transform(new).argmin(axis=1)).any()
    np.testing.assert_allclose(ours.transform(new), theirs.transform(new), rtol=1e-12)
    np.testing.assert_allclose(ours.score(new), theirs.score(new), rtol=1e-12)
    np.testing.assert_array_equal(ours.predict(blobs), ours.labels_)
    np.testing.assert_array_equal(ours.fit_predict(blobs), theirs.labels_)


def test_copy_x_false_restores_X(blobs):
    X = blobs.copy()
    model = BisectingKMeans(5, random_state=0, copy_x=False).fit(X)
    np.testing.assert_allclose(X, blobs, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(model.labels_,
                                  BisectingKMeans(5, random_state=0).fit(blobs).labels_)


def test_functional_form(blobs):
    centers, labels, inertia, tree = clustra.bisecting_k_means(
        blobs, 4, random_state=0, return_tree=True)
    model = clustra.BisectingKMeans(4, random_state=0).fit(blobs)
    np.testing.assert_array_equal(labels, model.labels_)
    np.testing.assert_array_equal(centers, model.cluster_centers_)
    assert inertia == model.inertia_
    np.testing.assert_array_equal(tree.cut(n_clusters=4), labels)
    assert len(clustra.bisecting_k_means(blobs, 2, random_state=0)) == 3


def test_results_do_not_depend_on_threads(blobs):
    one = BisectingKMeans(6, random_state=0, n_jobs=1).fit(blobs)
    every = BisectingKMeans(6, random_state=0, n_jobs=-1).fit(blobs)
    np.testing.assert_array_equal(one.labels_, every.labels_)
    np.testing.assert_array_equal(one.cluster_centers_, every.cluster_centers_)
    assert one.inertia_ == every.inertia_


# The tree -------------------------------------------------------------------------------


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("init", ["random", "k-means++"])
def test_cut_equals_a_fit_with_fewer_clusters(blobs, strategy, init):
    # Each step splits the leaf with the highest score, which does not depend on how many
    # steps follow, and draws its initial centres next from the one random state: a fit
    # with j clusters makes exactly the first j - 1 splits of a fit with more.
    weights = np.random.default_rng(1).uniform(0.5, 2.0, blobs.shape[0])
    params = {"bisecting_strategy": strategy, "init": init, "random_state": 11, "n_init": 2}
    full = BisectingKMeans(9, **params).fit(blobs, sample_weight=weights)
    cuts = full.tree_.cut_range(range(1, 10))
    for j in range(1, 10):
        fewer = BisectingKMeans(j, **params).fit(blobs, sample_weight=weights)
        np.testing.assert_array_equal(full.tree_.cut(n_clusters=j), fewer.labels_)
        np.testing.assert_array_equal(cuts[j - 1], fewer.labels_)
        np.testing.assert_array_equal(full.tree_.centers(j), fewer.cluster_centers_)
        np.testing.assert_allclose(full.tree_.inertias[j - 1], fewer.inertia_, rtol=1e-12)
        if j in (2, 5):
            np.testing.assert_array_equal(cuts[j - 1],
                                          _sklearn(blobs, j, weights, **params).labels_)


def test_tree_heights_and_exports(blobs):
    model = BisectingKMeans(6, random_state=0).fit(blobs)
    tree = model.tree_
    assert tree.n_clusters == 6 and tree.n_samples == blobs.shape[0]
    removed = tree.inertia_removed
    assert (removed > 0).all()
    np.testing.assert_allclose(tree.heights, np.cumsum(removed[::-1])[::-1])
    assert (np.diff(tree.heights) <= 0).all()
    np.testing.assert_allclose(tree.inertias[-1], model.inertia_, rtol=1e-12)
    np.testing.assert_allclose(np.diff(tree.inertias), -removed)
    # The root's inertia is the data's around its mean.
    np.testing.assert_allclose(tree.inertias[0], ((blobs - blobs.mean(0)) ** 2).sum(), rtol=1e-12)
    # Cutting between two heights keeps the splits above.
    middle = 0.5 * (tree.heights[2] + tree.heights[3])
    np.testing.assert_array_equal(tree.cut(height=middle), tree.cut(n_clusters=4))
    np.testing.assert_array_equal(tree.cut(height=tree.heights[0] + 1), np.zeros(len(blobs)))

    table = tree.to_pandas()
    assert list(table["step"]) == list(range(5))
    np.testing.assert_allclose(table["inertia_removed"], removed)
    np.testing.assert_array_equal(table["left_size"] + table["right_size"], table["size"])

    Z = tree.to_scipy()
    from scipy.cluster.hierarchy import fcluster, is_valid_linkage

    assert is_valid_linkage(Z) and Z.shape == (5, 4)
    assert Z[-1, 3] == 6
    # The SciPy tree over the final clusters gives the same partitions.
    for k in range(1, 7):
        by_cluster = fcluster(Z, k, criterion="maxclust")
        ours = tree.cut(n_clusters=k)
        mapped = by_cluster[model.labels_]
        assert len(np.unique(mapped)) == k
        # equal up to renumbering
        pairs = np.unique(np.stack([ours, mapped]), axis=1)
        assert pairs.shape[1] == k


def test_plot_dendrogram(blobs):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from clustra.plot import plot_dendrogram

    model = BisectingKMeans(5, random_state=0).fit(blobs)
    tree = model.tree_
    ax = tree.plot_dendrogram(n_clusters=3)
    texts = [t.get_text() for t in ax.get_xticklabels()]
    assert sorted(texts) == sorted(f"{i} ({tree.node_size[leaf]})"
                                   for i, leaf in enumerate(tree.leaf_nodes))
    assert ax.get_ylim()[1] >= tree.heights[0]
    # The figure the report draws for any model with a tree_.
    ax = plot_dendrogram(model, n_clusters=5)
    assert len(ax.get_xticklabels()) == 5
    plt.close("all")


def test_tree_messages(blobs):
    tree = BisectingKMeans(4, random_state=0).fit(blobs).tree_
    with pytest.raises(ValueError, match="The tree has 4 clusters; it cannot be cut into 5"):
        tree.cut(n_clusters=5)
    with pytest.raises(ValueError, match="cannot be cut into 6"):
        tree.cut_range([2, 6])
    with pytest.raises(ValueError, match="Give exactly one of n_clusters or height"):
        tree.cut()
    with pytest.raises(ValueError, match="height must be a finite number"):
        tree.cut(height=float("nan"))
    with pytest.raises(ValueError, match="n_clusters must be at least 1"):
        tree.cut(n_clusters=0)
    one = BisectingKMeans(1).fit(blobs).tree_
    with pytest.raises(ValueError, match="A tree of one cluster has no splits"):
        one.to_scipy()


def test_choose_k_reads_every_k_from_one_fit(blobs, monkeypatch):
    from clustra.selection._fitting import labels_for_k

    fits = []
    original = BisectingKMeans.fit

    def counting_fit(self, X, y=None, sample_weight=None):
        fits.append(self.n_clusters)
        return original(self, X, y, sample_weight)

    monkeypatch.setattr(BisectingKMeans, "fit", counting_fit)
    labels = labels_for_k(blobs, [1, 2, 3, 4, 5], BisectingKMeans(random_state=0))
    assert fits == [5]
    for k in (2, 3, 4, 5):
        expected = _sklearn(blobs, k, random_state=0).labels_
        np.testing.assert_array_equal(labels[k], expected)


# Bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"n_clusters": 0}, "BisectingKMeans: n_clusters must be an integer >= 1; got 0."),
        ({"init": "kmeans++"}, "init must be one of 'k-means++', 'random' or a callable"),
        ({"init": np.zeros((2, 4))}, "init must be one of 'k-means++', 'random' or a callable"),
        ({"n_init": "auto"}, "n_init must be an integer >= 1; got 'auto'."),
        ({"tol": -1.0}, "tol must be a number >= 0; got -1.0."),
        ({"algorithm": "fast"}, "algorithm must be one of 'auto', 'lloyd', 'elkan', 'hamerly'"),
        ({"bisecting_strategy": "largest"}, "bisecting_strategy must be one of 'biggest_inertia'"),
        ({"n_jobs": 0}, "n_jobs must be an integer >= 1, one of -1 or None; got 0."),
        ({"copy_x": "yes"}, "copy_x must be True or False; got 'yes'."),
    ],
)
def test_bad_parameters(blobs, params, message):
    with pytest.raises(InvalidParameterError, match=re.escape(message)):
        BisectingKMeans(**params).fit(blobs)


def test_bad_data():
    X = np.random.default_rng(0).normal(size=(5, 2))
    with pytest.raises(ValueError, match=r"n_clusters=6 is larger than the number of samples"):
        BisectingKMeans(6).fit(X)
    with pytest.raises(ValueError, match="sample_weight has 4 weights but X has 5 samples"):
        BisectingKMeans(2).fit(X, sample_weight=np.ones(4))
    X_nan = X.copy()
    X_nan[1, 1] = np.nan
    with pytest.raises(ValueError, match="Input X contains 1 NaN value"):
        BisectingKMeans(2).fit(X_nan)
    model = BisectingKMeans(2, random_state=0).fit(X)
    with pytest.raises(ValueError, match="X has 3 features"):
        model.predict(np.zeros((2, 3)))


def test_copies_of_points_as_sklearn():
    # Splitting copies of one point leaves an empty right child (label 1 is never nearer);
    # scikit-learn keeps it as a cluster, and so do we.
    X = np.repeat(np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]]), 2, axis=0)
    for strategy in STRATEGIES:
        ours, theirs = _both(X, 5, bisecting_strategy=strategy, random_state=0)
        np.testing.assert_array_equal(ours.labels_, theirs.labels_)
        assert len(np.unique(ours.labels_)) == 3


def test_too_few_rows_to_split():
    # All leaves have inertia 0 and the first holds one row: two random rows cannot be drawn
    # from it (scikit-learn fails inside numpy here: "Cannot take a larger sample").
    X = np.array([[0.0], [10.0], [10.0]])
    with pytest.raises(ValueError, match="Cannot take a larger sample"):
        _sklearn(X, 3, random_state=5)
    with pytest.raises(ValueError, match=r"Cannot reach n_clusters=3: the cluster to split next "
                                         r"\(node 1\) holds 1 sample\(s\), too few"):
        BisectingKMeans(3, random_state=5).fit(X)


# scikit-learn's estimator checks --------------------------------------------------------

_EXPECTED_FAILURES = {
    # Weighting a sample by 2 is not repeating it once rows are drawn at random for the
    # initial centres (the draws differ); scikit-learn lists the same for its own.
    "check_sample_weight_equivalence_on_dense_data": (
        "random initialisation draws differ between weighted and repeated samples"
    ),
}


@parametrize_with_checks([BisectingKMeans(n_clusters=3, max_iter=20)],
                         expected_failed_checks=lambda estimator: _EXPECTED_FAILURES)
def test_sklearn_compatible(estimator, check):
    check(estimator)
