import sys

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score
from sklearn.neighbors import NearestNeighbors

from clustra import DBSCAN, suggest_eps
from clustra.selection.eps import FALLBACK_PERCENTILE, EpsSuggestion


def _blobs_with_noise(rng, seed=1):
    X, y = make_blobs(600, centers=4, cluster_std=0.4, random_state=seed)
    noise = rng.uniform(X.min() - 3, X.max() + 3, size=(40, 2))
    return np.vstack([X, noise]), y


@pytest.mark.parametrize("metric, p", [("euclidean", None), ("manhattan", None),
                                       ("chebyshev", None), ("minkowski", 3.0)])
def test_k_distances_match_sklearn_neighbours(metric, p, rng):
    X, _ = _blobs_with_noise(rng)
    X[5] = X[6]  # a duplicate is a neighbour at distance 0
    suggestion = suggest_eps(X, min_samples=6, metric=metric, p=p)
    assert suggestion.k == 5
    kwargs = {"p": p} if metric == "minkowski" else {}
    reference = NearestNeighbors(n_neighbors=5, metric=metric, **kwargs).fit(X)
    expected = np.sort(reference.kneighbors()[0][:, -1])
    np.testing.assert_allclose(suggestion.distances, expected, rtol=1e-12)
    assert np.all(np.diff(suggestion.distances) >= 0)


@pytest.mark.parametrize("metric", ["cosine", "haversine"])
def test_k_distances_for_angular_metrics(metric, rng):
    X = np.column_stack([rng.uniform(-1.2, 1.2, 300), rng.uniform(-3, 3, 300)])
    suggestion = suggest_eps(X, min_samples=4, metric=metric)
    expected = np.sort(NearestNeighbors(n_neighbors=3, metric=metric, algorithm="brute")
                       .fit(X).kneighbors()[0][:, -1])
    np.testing.assert_allclose(suggestion.distances, expected, rtol=1e-6, atol=1e-12)
    # Cosine data with an all-zero row has no direction: computed by brute force.
    if metric == "cosine":
        Z = np.vstack([X, np.zeros((1, 2))])
        expected = np.sort(NearestNeighbors(n_neighbors=3, metric="cosine", algorithm="brute")
                           .fit(Z).kneighbors()[0][:, -1])
        np.testing.assert_allclose(suggest_eps(Z, 4, "cosine").distances, expected, atol=1e-12)


def test_suggested_eps_recovers_the_blobs(rng):
    X, y = _blobs_with_noise(rng)
    suggestion = suggest_eps(X, min_samples=10)
    assert suggestion.knee.found and suggestion.eps == suggestion.knee.y
    assert "knee of the sorted 9-distance curve" in suggestion.reason
    labels = DBSCAN(eps=suggestion.eps, min_samples=10).fit(X).labels_
    assert adjusted_rand_score(y, labels[:600]) > 0.95


def test_no_knee_falls_back_to_a_percentile():
    # Gaps growing linearly: the 1-distance curve is a straight line, with no knee.
    X = (np.arange(50, dtype=float) ** 2).reshape(-1, 1)
    suggestion = suggest_eps(X, min_samples=2)
    assert not suggestion.knee.found
    assert suggestion.eps == pytest.approx(np.percentile(suggestion.distances,
                                                         FALLBACK_PERCENTILE))
    assert f"{FALLBACK_PERCENTILE:g}th percentile" in suggestion.reason
    duplicates = np.zeros((20, 2))
    assert suggest_eps(duplicates, min_samples=3).eps > 0


def test_result_is_frozen_and_plots(rng):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    X, _ = _blobs_with_noise(rng)
    suggestion = suggest_eps(X, min_samples=5)
    assert isinstance(suggestion, EpsSuggestion)
    with pytest.raises(AttributeError):
        suggestion.eps = 1.0
    fig, ax = plt.subplots()
    assert suggestion.plot(ax=ax) is ax
    assert len(ax.lines) == 2 and len(ax.collections) == 1  # curve, eps line, knee marker
    plt.close(fig)


def test_plot_names_the_extra_when_matplotlib_is_missing(monkeypatch, rng):
    suggestion = suggest_eps(rng.normal(size=(30, 2)), min_samples=3)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"clustra\[plot\]"):
        suggestion.plot()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"min_samples": 1}, "min_samples must be an integer >= 2.*got 1"),
        ({"metric": "precomputed"}, "does not support metric 'precomputed'"),
        ({"metric": "wasserstein"}, "does not support metric 'wasserstein'"),
        ({"min_samples": 40}, "needs more than min_samples - 1 = 39 points"),
    ],
)
def test_bad_input(kwargs, match, rng):
    with pytest.raises(ValueError, match=match):
        suggest_eps(rng.normal(size=(20, 2)), **kwargs)
    with pytest.raises(ValueError, match="haversine.*exactly 2 columns"):
        suggest_eps(rng.normal(size=(20, 3)), metric="haversine")
