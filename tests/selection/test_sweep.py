import numpy as np
import pytest
from scipy.cluster.hierarchy import fcluster, linkage
from sklearn.base import BaseEstimator, ClusterMixin

from clustra import KMeans
from clustra.selection.sweep import KSelection, choose_k


def blobs(rng, k, d, per_cluster=25):
    # Centres far apart relative to the spread: any sensible criterion agrees.
    centres = rng.uniform(-30, 30, (k, d))
    while min(np.linalg.norm(a - b) for i, a in enumerate(centres) for b in centres[i + 1:]) < 8:
        centres = rng.uniform(-30, 30, (k, d))
    return np.vstack([rng.normal(c, 0.5, (per_cluster, d)) for c in centres])


@pytest.mark.parametrize(("k", "d"), [(2, 2), (4, 20), (6, 5), (10, 3)])
def test_choose_k_recovers_well_separated_blobs(rng, k, d):
    X = blobs(rng, k, d)
    result = choose_k(X, range(1, k + 3), KMeans(n_init=3), random_state=0, n_refs=4)
    assert result.k == k, result.reason
    assert f"k={k}" in result.reason


def test_choose_k_answers_one_on_uniform_data(rng):
    X = rng.uniform(size=(300, 3))
    # Several k-means starts: the gap statistic assumes W_k is the optimum, and
    # single-start local optima add noise that the references' s_k does not see.
    result = choose_k(X, range(1, 5), KMeans(n_init=3), random_state=0)
    assert result.k == 1
    assert "gap statistic" in result.reason and "no cluster structure" in result.reason


def test_table_marks_each_pick_and_progress_counts_every_fit(rng):
    X = blobs(rng, 3, 2)
    calls = []
    result = choose_k(
        X, range(1, 6), KMeans(n_init=2), random_state=0, n_refs=3,
        progress=lambda done, total, message: calls.append((done, total, message)),
    )
    assert isinstance(result, KSelection)
    table = result.table
    assert list(table.index) == [1, 2, 3, 4, 5]
    for column in ("inertia", "silhouette", "calinski_harabasz", "davies_bouldin", "gap",
                   "gap_se", "silhouette_pick", "gap_pick", "elbow_pick", "picked_by"):
        assert column in table.columns
    for criterion, pick in result.picks.items():
        assert table[f"{criterion}_pick"].sum() == (pick is not None)
        if pick is not None:
            assert bool(table.loc[pick, f"{criterion}_pick"])
            assert criterion in table.loc[pick, "picked_by"]
    assert np.isnan(table.loc[1, "silhouette"])
    assert [c[0] for c in calls] == list(range(1, 21))
    assert all(c[1] == 20 for c in calls)  # 5 data fits + 3 references x 5
    assert set(result.labels) == {1, 2, 3, 4, 5}


def test_choose_k_with_a_subset_of_criteria(rng):
    X = blobs(rng, 3, 2)
    result = choose_k(X, range(2, 6), KMeans(n_init=2), criteria=("silhouette",),
                      random_state=0)
    assert result.k == 3 and list(result.picks) == ["silhouette"]
    assert "gap" not in result.table.columns and "inertia" not in result.table.columns


def test_large_n_uses_the_sampled_silhouette(rng):
    X = blobs(rng, 3, 2, per_cluster=100)
    result = choose_k(X, range(2, 5), KMeans(n_init=2), criteria=("silhouette",),
                      random_state=0, exact_limit=100, silhouette_sample_size=50)
    assert result.silhouette_sample_size == 50 and result.k == 3


class TreeClusterer(ClusterMixin, BaseEstimator):
    """A test double with a fitted ``tree_``: counts fits, cuts scipy's Ward tree."""

    fits = 0

    def __init__(self, n_clusters=2):
        self.n_clusters = n_clusters

    def fit(self, X, y=None):
        type(self).fits += 1
        self.tree_ = _Tree(linkage(X, "ward"))
        self.labels_ = self.tree_.cut(self.n_clusters)
        return self


class _Tree:
    def __init__(self, Z):
        self.Z = Z

    def cut(self, n_clusters):
        return fcluster(self.Z, n_clusters, criterion="maxclust") - 1

    def cut_range(self, k_values):
        return np.array([self.cut(k) for k in k_values])


def test_tree_estimator_is_fitted_once_and_cut(rng):
    X = blobs(rng, 4, 3)
    TreeClusterer.fits = 0
    result = choose_k(X, range(1, 8), TreeClusterer(), random_state=0, n_refs=3)
    assert result.k == 4, result.reason
    assert TreeClusterer.fits == 1 + 3  # the data once, each reference set once


def test_plot_draws_one_panel_per_criterion(rng):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    X = blobs(rng, 3, 2)
    result = choose_k(X, range(1, 6), KMeans(n_init=2), random_state=0, n_refs=3)
    axes = result.plot()
    assert len(axes) == 5
    assert axes[4].get_title().startswith("Gap")
    _, few = plt.subplots(1, 2)
    with pytest.raises(ValueError, match="plot needs 5 Axes"):
        result.plot(few)
    plt.close("all")


def test_choose_k_refuses_bad_input(rng):
    X = rng.normal(size=(20, 2))
    with pytest.raises(ValueError, match="Unknown criteria \\['aic'\\]"):
        choose_k(X, range(1, 4), KMeans(n_init=1), criteria=("aic",))
    with pytest.raises(ValueError, match="k_range must be a non-empty sequence of integers"):
        choose_k(X, [1.5, 2], KMeans(n_init=1))
    X[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"1 NaN value at \(row 3, column 1\)"):
        choose_k(X, range(1, 4), KMeans(n_init=1))


def test_default_estimator_is_clustra_kmeans(rng):
    X = blobs(rng, 3, 4)
    result = choose_k(X, range(1, 6), random_state=0, n_refs=4)
    assert result.k == 3, result.reason


def test_shared_distance_sampled_silhouettes_equal_the_per_k_estimate():
    from clustra.metrics._checks import encode
    from clustra.metrics.internal import silhouette_of_rows
    from clustra.selection._silhouettes import sampled_silhouettes

    rng = np.random.default_rng(0)
    X = rng.normal(size=(5000, 4))
    X[:1500] += 4.0
    rows = np.sort(rng.choice(X.shape[0], 200, replace=False))
    labelings = [rng.integers(0, k, X.shape[0]) for k in (2, 3, 6)]
    labelings[1][rows[0]] = 9  # a singleton cluster among the sampled rows scores 0
    encoded = [encode(labels) for labels in labelings]
    got = sampled_silhouettes(X, [c for c, _ in encoded], [m for _, m in encoded], rows)
    expected = [silhouette_of_rows(X, c, m, rows).mean() for c, m in encoded]
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


def test_sampled_silhouettes_do_not_depend_on_the_threads_and_report_failures(monkeypatch):
    from clustra.metrics._checks import encode
    from clustra.selection._silhouettes import SampledSilhouettes

    rng = np.random.default_rng(1)
    X = rng.normal(size=(3000, 3))
    rows = np.sort(rng.choice(X.shape[0], 150, replace=False))
    encoded = [encode(rng.integers(0, k, X.shape[0])) for k in (2, 5)]
    codes, n_labels = [c for c, _ in encoded], [m for _, m in encoded]
    alone = SampledSilhouettes(X, codes, n_labels, rows).means()
    helped = SampledSilhouettes(X, codes, n_labels, rows).start(3).means()
    np.testing.assert_array_equal(alone, helped)  # each block writes its own rows

    def broken(*args):
        raise RuntimeError("kernel failed")

    monkeypatch.setattr("clustra._kernels.silhouette.cell_distance_sums", broken)
    with pytest.raises(RuntimeError, match="kernel failed"):
        SampledSilhouettes(X, codes, n_labels, rows).start(2).means()
