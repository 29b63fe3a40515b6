import sys

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure

import clustra
from clustra import plot


def test_projection_from_arrays_and_result(blobs, kmeans_result):
    X, labels = blobs
    ax = plot.plot_projection(X, labels)
    assert isinstance(ax, Axes) and isinstance(ax.figure, Figure)
    assert len(ax.collections) == 3  # one scatter per cluster
    assert sum(c.get_offsets().shape[0] for c in ax.collections) == X.shape[0]
    ax = plot.plot_projection(kmeans_result)
    assert ax.get_xlabel() == "PCA 1"


def test_projection_noise_is_grey_and_tsne_runs(blobs):
    X, labels = blobs
    labels = labels.copy()
    labels[:3] = -1
    ax = plot.plot_projection(X, labels, method="tsne")
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "noise" in legend and ax.get_xlabel() == "t-SNE 1"
    with pytest.raises(ValueError, match="'umap' is not one of: pca, tsne"):
        plot.plot_projection(X, labels, method="umap")


def test_projection_draws_on_given_axes(blobs):
    X, labels = blobs
    ax = Figure().subplots()
    assert plot.plot_projection(X, labels, ax=ax) is ax


def test_projection_checks_lengths(blobs):
    X, labels = blobs
    with pytest.raises(ValueError, match="X has 60 rows but labels has 59"):
        plot.plot_projection(X, labels[:-1])


def test_cluster_sizes_bars(blobs):
    _, labels = blobs
    labels = labels.copy()
    labels[:5] = -1
    ax = plot.plot_cluster_sizes(labels)
    heights = [p.get_height() for p in ax.patches]
    assert heights == [15, 20, 20, 5]  # noise last
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2", "noise"]


def test_profiles_heatmap_in_original_units(frame, blobs, kmeans_result):
    _, labels = blobs
    profile = plot.cluster_profiles(frame, labels)
    assert profile.loc[1, "big"] == pytest.approx(frame["big"][labels == 1].mean())
    ax = plot.plot_cluster_profiles(frame, labels)
    image = ax.get_images()[0].get_array()
    assert image.shape == (3, 3)
    # standardised: each column's colour values are centred near zero across equal-size clusters
    np.testing.assert_allclose(np.asarray(image).mean(axis=0), 0.0, atol=1e-9)
    texts = {t.get_text() for t in ax.texts}
    assert f"{profile.loc[1, 'big']:.3g}" in texts
    ax = plot.plot_cluster_profiles(kmeans_result)
    assert ax.get_images()[0].get_array().shape[1] == 3


def test_silhouette_diagram_uses_clustra_metrics(blobs):
    X, labels = blobs
    ax = plot.plot_silhouette(X, labels)
    expected = float(np.mean(clustra.metrics.silhouette_samples(X, labels)))
    assert f"mean {expected:.3f}" in [t.get_text() for t in ax.get_legend().get_texts()]
    with pytest.raises(ValueError, match="at least 2 clusters, got 1"):
        plot.plot_silhouette(X, np.zeros(len(X), dtype=int))


def test_selection_and_k_distance_delegate(kmeans_result, blobs):
    figure = plot.plot_selection(kmeans_result)
    assert isinstance(figure, Figure) and figure.axes
    assert all(panel.has_data() for panel in figure.axes if panel.get_title())
    X, _ = blobs
    ax = plot.plot_k_distance(X, min_samples=4)
    assert isinstance(ax, Axes) and ax.has_data()
    with pytest.raises(ValueError, match="did not suggest eps"):
        plot.plot_k_distance(kmeans_result)


def test_selection_needs_a_sweep(frame):
    result = clustra.run(frame, k=3, id_column="id")
    with pytest.raises(ValueError, match="did not choose k"):
        plot.plot_selection(result)


def test_dendrogram_delegates_to_tree(frame):
    result = clustra.run(frame, algorithm="hierarchical", k=3, id_column="id")
    ax = plot.plot_dendrogram(result)
    assert isinstance(ax, Axes) and ax.has_data()
    with pytest.raises(ValueError, match="has no fitted tree_"):
        plot.plot_dendrogram(clustra.run(frame, k=3, id_column="id"))


def test_missing_matplotlib_names_the_extra(monkeypatch, blobs):
    X, labels = blobs
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r'pip install "clustra\[plot\]"'):
        plot.plot_cluster_sizes(labels)


def test_unknown_plot_name():
    with pytest.raises(AttributeError, match="no attribute 'plot_pie'"):
        plot.plot_pie  # noqa: B018
