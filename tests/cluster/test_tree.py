"""ClusterTree: cuts against fcluster, export, cophenetic correlation, dendrograms."""

import sys

import matplotlib
import numpy as np
import pytest
from scipy.cluster import hierarchy as scipy_hierarchy
from scipy.spatial.distance import pdist
from sklearn.metrics import adjusted_rand_score

from clustra.cluster.hierarchy import ClusterTree, linkage, tree_from_linkage

matplotlib.use("Agg")


def same_partition(a, b):
    a = np.asarray(a)
    b = np.asarray(b)
    pairs = set(zip(a.tolist(), b.tolist(), strict=True))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


def first_appearance(labels):
    _, first = np.unique(labels, return_index=True)
    return np.array_equal(labels[np.sort(first)], np.arange(len(first)))


@pytest.mark.parametrize("method", ["single", "average", "ward", "centroid", "median"])
@pytest.mark.parametrize("ties", [False, True])
def test_cuts_equal_fcluster(rng, method, ties):
    X = (rng.integers(0, 4, size=(50, 2)).astype(float) if ties
         else rng.normal(size=(50, 3)))
    Z = scipy_hierarchy.linkage(X, method)
    tree = tree_from_linkage(Z)
    for k in range(1, 51):
        labels = tree.cut(n_clusters=k)
        assert labels.dtype == np.int64
        assert first_appearance(labels)
        assert same_partition(labels, scipy_hierarchy.fcluster(Z, k, "maxclust"))
    for height in np.concatenate([np.unique(Z[:, 2]), [0.0, Z[:, 2].max() * 2]]):
        assert same_partition(tree.cut(height=height),
                              scipy_hierarchy.fcluster(Z, height, "distance"))


def test_cut_range_equals_single_cuts_and_nests(rng):
    tree = tree_from_linkage(linkage(rng.normal(size=(40, 2)), "ward"))
    ks = [1, 2, 3, 5, 8, 40]
    all_labels = tree.cut_range(ks)
    assert all_labels.shape == (6, 40)
    for row, k in zip(all_labels, ks, strict=True):
        np.testing.assert_array_equal(row, tree.cut(n_clusters=k))
        assert row.max() + 1 == k
    for coarse, fine in zip(all_labels[:-1], all_labels[1:], strict=True):
        # Every fine cluster sits inside one coarse cluster.
        assert all(len(set(coarse[fine == c])) == 1 for c in np.unique(fine))


def test_cut_argument_errors(rng):
    tree = tree_from_linkage(linkage(rng.normal(size=(10, 2)), "single"))
    with pytest.raises(ValueError, match="exactly one of n_clusters or height"):
        tree.cut()
    with pytest.raises(ValueError, match="exactly one of n_clusters or height"):
        tree.cut(n_clusters=2, height=1.0)
    with pytest.raises(ValueError, match="larger than the number of samples"):
        tree.cut(n_clusters=11)
    with pytest.raises(ValueError, match="finite number"):
        tree.cut(height=np.nan)


def test_exports(rng):
    X = rng.normal(size=(20, 2))
    Z = linkage(X, "complete")
    tree = tree_from_linkage(Z)
    np.testing.assert_array_equal(tree.to_scipy(), Z)
    frame = tree.to_pandas()
    assert list(frame.columns) == ["id", "left", "right", "height", "size"]
    assert frame["id"].tolist() == list(range(20, 39))
    np.testing.assert_array_equal(frame["height"], Z[:, 2])
    assert tree.n_leaves == 20
    np.testing.assert_array_equal(tree.heights, Z[:, 2])
    np.testing.assert_array_equal(
        tree.leaf_order(), scipy_hierarchy.leaves_list(Z)
    )


def test_cophenetic_correlation_matches_scipy(rng):
    X = rng.normal(size=(30, 3))
    Z = linkage(X, "average")
    expected = scipy_hierarchy.cophenet(Z, pdist(X))[0]
    assert tree_from_linkage(Z).cophenetic_correlation(X) == pytest.approx(expected, rel=1e-12)
    assert tree_from_linkage(Z).cophenetic_correlation(pdist(X)) == pytest.approx(expected)
    from clustra import AgglomerativeClustering

    model = AgglomerativeClustering(linkage="average").fit(X)
    assert model.tree_.cophenetic_correlation() == pytest.approx(expected, rel=1e-12)
    with pytest.raises(ValueError, match="bare linkage matrix"):
        tree_from_linkage(Z).cophenetic_correlation()
    with pytest.raises(ValueError, match="describe 10 points but the tree has 30"):
        tree_from_linkage(Z).cophenetic_correlation(X[:10])


def test_optimal_ordering_tree(rng):
    X = rng.normal(size=(25, 2))
    tree = ClusterTree(linkage(X, "ward"), data=X)
    expected = scipy_hierarchy.optimal_leaf_ordering(scipy_hierarchy.linkage(X, "ward"), X)
    np.testing.assert_allclose(tree.optimal_ordering().to_scipy(), expected, rtol=1e-12)


@pytest.mark.parametrize(
    "Z, match",
    [
        (np.zeros((3, 3)), r"shape \(n_samples - 1, 4\)"),
        (np.array([[0, 1, 1.0, 2], [0, 2, 2.0, 3]]), "used 2 times"),
        (np.array([[0, 5, 1.0, 2], [1, 2, 2.0, 3]]), "not formed before that row"),
        (np.array([[0, 1, np.nan, 2]]), "NaN or inf"),
        (np.array([[0, 1, -1.0, 2]]), "negative heights"),
    ],
)
def test_bad_linkage_matrix(Z, match):
    with pytest.raises(ValueError, match=match):
        tree_from_linkage(Z)


def test_labels_length_checked():
    with pytest.raises(ValueError, match="labels has 2 entries but the tree has 3 leaves"):
        tree_from_linkage(np.array([[0, 1, 1.0, 2], [2, 3, 2.0, 3]]), labels=["a", "b"])


# --- dendrograms -----------------------------------------------------------------


def _segments_by_gid(ax):
    from matplotlib.collections import LineCollection

    return {c.get_gid(): c for c in ax.collections if isinstance(c, LineCollection)}


def test_dendrogram_colours_match_the_cut(rng):
    import matplotlib.pyplot as plt

    X = np.concatenate([c + rng.normal(scale=0.3, size=(8, 2)) for c in ([0, 0], [9, 0], [0, 9])])
    tree = tree_from_linkage(linkage(X, "ward"))
    labels = tree.cut(n_clusters=3)
    ax = tree.plot_dendrogram(n_clusters=3, labels=[f"p{i}" for i in range(24)])
    collections = _segments_by_gid(ax)
    cluster_collections = [c for gid, c in collections.items() if gid != "above-cut"]
    assert len(cluster_collections) == 3 and "above-cut" in collections
    order = tree.leaf_order()
    tick_colours = {t.get_text(): matplotlib.colors.to_rgba(t.get_color())
                    for t in ax.get_xticklabels()}
    for collection in cluster_collections:
        colour = tuple(collection.get_edgecolor()[0])
        xs = np.concatenate([np.asarray(path.vertices)[:, 0] for path in collection.get_paths()])
        leaves = order[np.unique(np.round(xs[xs == np.round(xs)]).astype(int))]
        # The branch colour covers exactly one cluster, and its leaves carry that colour.
        assert len(set(labels[leaves])) == 1
        members = np.flatnonzero(labels == labels[leaves[0]])
        assert set(leaves) == set(members)
        assert all(np.allclose(tick_colours[f"p{i}"], colour) for i in members)
    plt.close("all")


def test_genie_dendrogram_colours_match_its_labels():
    # Genie's k clusters undo its last k - 1 merges, which is not a cut by height: on
    # these 60 points the height cut at k=5 differs from labels_, so the leaf colours
    # must come from the merge order.
    import matplotlib.pyplot as plt
    from sklearn.datasets import make_blobs

    from clustra import Genie

    X, _ = make_blobs(60, centers=6, random_state=5)
    model = Genie(5).fit(X)
    assert adjusted_rand_score(model.labels_, model.tree_.cut(n_clusters=5)) < 1.0
    ax = model.tree_.plot_dendrogram(n_clusters=5, labels=[f"p{i}" for i in range(60)])
    colours = [matplotlib.colors.to_rgba(t.get_color()) for t in ax.get_xticklabels()]
    rows = [int(t.get_text()[1:]) for t in ax.get_xticklabels()]
    colour_ids = {colour: i for i, colour in enumerate(dict.fromkeys(colours))}
    by_colour = np.array([colour_ids[c] for c in colours])
    assert len(colour_ids) == 5
    assert adjusted_rand_score(model.labels_[rows], by_colour) == 1.0
    plt.close("all")


def test_truncated_dendrogram_keeps_leaf_labels(rng):
    import matplotlib.pyplot as plt

    X = np.array([[0.0], [0.1], [0.2], [10.0], [30.0]])
    tree = tree_from_linkage(linkage(X, "single"), labels=["a", "b", "c", "d", "e"])
    ax = tree.plot_dendrogram(truncate=3)
    texts = [t.get_text() for t in ax.get_xticklabels()]
    assert sorted(texts) == ["(3)", "d", "e"]
    ax = tree.plot_dendrogram(truncate=3, labels=["v", "w", "x", "y", "z"], orientation="left")
    assert sorted(t.get_text() for t in ax.get_yticklabels()) == ["(3)", "y", "z"]
    plt.close("all")


def test_big_dendrogram_renders_without_recursion(rng):
    import matplotlib.pyplot as plt

    # A chain-like single-linkage tree: the worst case for recursive drawing.
    X = np.cumsum(rng.random(20_000)).reshape(-1, 1)
    tree = tree_from_linkage(linkage(X, "single"))
    import inspect

    recursion_limit = sys.getrecursionlimit()
    # Room for pytest and matplotlib, far too little to recurse over 20,000 levels.
    sys.setrecursionlimit(len(inspect.stack()) + 300)
    try:
        ax = tree.plot_dendrogram(n_clusters=5, orientation="right")
        ax.figure.canvas.draw()
    finally:
        sys.setrecursionlimit(recursion_limit)
    assert len(_segments_by_gid(ax)) == 6
    plt.close("all")


def test_dendrogram_argument_errors(rng):
    tree = tree_from_linkage(linkage(rng.normal(size=(6, 2)), "single"))
    with pytest.raises(ValueError, match="Unknown orientation 'up'"):
        tree.plot_dendrogram(orientation="up")
    with pytest.raises(ValueError, match="truncate must be an integer >= 2"):
        tree.plot_dendrogram(truncate=1)
    with pytest.raises(ValueError, match="labels has 2 entries"):
        tree.plot_dendrogram(labels=["a", "b"])


def test_missing_matplotlib_names_the_extra(monkeypatch, rng):
    tree = tree_from_linkage(linkage(rng.normal(size=(6, 2)), "single"))
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r'pip install "clustra\[plot\]"'):
        tree.plot_dendrogram()
