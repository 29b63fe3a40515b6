"""clustra.auto_cluster: no structure -> one cluster, clear structure -> the right k,
determinism, every row labelled in order, messages for bad input."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs, make_circles, make_moons
from sklearn.metrics import adjusted_rand_score

import clustra
from clustra.auto._result import COLUMNS

# Small samples keep each call well under a second once the kernels are compiled.
FAST = {"sample_size": 1200, "score_size": 600, "n_refs": 2}


def _auto(X, **kwargs):
    return clustra.auto_cluster(X, **{**FAST, **kwargs})


# --- no structure ---------------------------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda rng: rng.uniform(size=(1500, 2)),
    lambda rng: rng.normal(size=(1500, 5)),
    lambda rng: rng.uniform(size=(1000, 8)),
], ids=["uniform-2d", "gaussian-5d", "uniform-8d"])
def test_no_structure_is_one_cluster(make, rng):
    result = _auto(make(rng))
    assert result.k == 1
    assert result.algorithm == "none"
    assert (result.labels == 0).all()
    assert result.reason.startswith("No cluster structure")
    assert not result.table["chosen"].any()


@pytest.mark.parametrize("random_state", [0, 1, 2, 3])
def test_uniform_square_is_one_cluster_for_every_seed(random_state):
    # HDBSCAN's two halves of a uniform square can score twice its reference (which
    # finds many small clusters on noise) without any gap: the absolute condition
    # (separation above 1) must keep them out.
    X = np.random.default_rng(100 + random_state).uniform(size=(2000, 2))
    assert clustra.auto_cluster(X, random_state=random_state).k == 1


def test_constant_data_is_one_cluster():
    result = _auto(np.full((50, 3), 7.0))
    assert result.k == 1 and (result.labels == 0).all()
    assert "identical" in result.reason


# --- clear structure ------------------------------------------------------------------

def test_groups_of_identical_rows():
    # Zero spacing inside every group: the finest cut between the groups (k=3), not a
    # cut between copies of one point.
    X = np.repeat(np.array([[0.0, 0.0], [1.0, 1.0], [5.0, 5.0]]), 50, axis=0)
    result = _auto(X)
    assert result.k == 3
    assert adjusted_rand_score(np.repeat([0, 1, 2], 50), result.labels) == 1.0
    assert "coincide" in result.reason


def test_separated_blobs(global_random_seed):
    X, y = make_blobs([400, 300, 200], centers=[[0, 0], [8, 0], [0, 8]], cluster_std=0.6,
                      random_state=global_random_seed)
    result = _auto(X)
    assert result.k == 3
    assert adjusted_rand_score(y, result.labels) > 0.98


def test_moons(global_random_seed):
    X, y = make_moons(1000, noise=0.06, random_state=global_random_seed)
    result = _auto(X)
    assert result.k == 2 and result.algorithm in ("genie", "hdbscan")
    assert adjusted_rand_score(y, result.labels) > 0.98


def test_rings(global_random_seed):
    X, y = make_circles(1000, noise=0.04, factor=0.45, random_state=global_random_seed)
    result = _auto(X)
    assert result.k == 2
    assert adjusted_rand_score(y, result.labels) > 0.98


def test_overlapping_gaussians_take_the_convex_branch(global_random_seed):
    # Two Gaussians 3 sd apart touch: no gap, but clearly two groups for K-Means.
    rng = np.random.default_rng(global_random_seed)
    X = np.vstack([rng.normal(0, 1, (600, 2)), rng.normal([3.0, 0], 1, (600, 2))])
    y = np.repeat([0, 1], 600)
    result = _auto(X)
    assert result.regime == "convex" and result.algorithm == "kmeans" and result.k == 2
    assert adjusted_rand_score(y, result.labels) > 0.7


def test_touching_density_modes(global_random_seed):
    # Two clusters whose density rises to a sharp peak at their centres (radius
    # half-normal, as in the h2mg sets): no gap, but two modes. Whether K-Means' variance
    # ratio clears its threshold first depends on the sample; either way, two clusters.
    rng = np.random.default_rng(global_random_seed)
    angle = rng.uniform(0, 2 * np.pi, 2000)
    radius = np.abs(rng.normal(0, 1.0, 2000))
    X = np.c_[radius * np.cos(angle), radius * np.sin(angle)]
    X[1000:, 0] += 1.5
    y = np.repeat([0, 1], 1000)
    result = _auto(X)
    assert result.regime in ("modes", "convex") and result.k == 2
    assert adjusted_rand_score(y, result.labels) > 0.4


def test_nested_gaps_give_the_finer_partition(global_random_seed):
    # Two pairs of blobs: the gap between the pairs is the widest, but each pair is
    # two clusters with a gap of its own.
    rng = np.random.default_rng(global_random_seed)
    centres = np.array([[0, 0], [6, 0], [40, 0], [46, 0]], dtype=float)
    X = np.vstack([rng.normal(c, 1.0, (300, 2)) for c in centres])
    y = np.repeat(np.arange(4), 300)
    result = _auto(X)
    assert result.k == 4
    assert adjusted_rand_score(y, result.labels) > 0.95


def test_background_noise_between_clusters_is_noise(global_random_seed):
    rng = np.random.default_rng(global_random_seed)
    centres = np.array([[0, 0], [10, 0], [0, 10], [10, 10]], dtype=float)
    X, y = make_blobs(1800, centers=centres, cluster_std=0.6, random_state=global_random_seed)
    X = np.vstack([X, rng.uniform(-2, 12, size=(200, 2))])
    # The background points far from every blob (the truth is clear for those).
    far = np.linalg.norm(X[:, None] - centres, axis=2).min(axis=1) > 4
    far[:1800] = False
    result = _auto(X)
    assert result.k == 4 and result.algorithm == "hdbscan"
    noise = result.labels == -1
    assert noise[far].mean() > 0.6 and noise[:1800].mean() < 0.01
    assert "labelled noise (-1)" in result.reason
    assert adjusted_rand_score(np.r_[y, np.full(200, -1)], result.labels) > 0.87
    # Clean blobs keep (almost) every row in a cluster: cluster tails are not background.
    clean = _auto(X[:1800])
    assert clean.k == 4 and (clean.labels == -1).mean() < 0.005


# --- the result -------------------------------------------------------------------------

def test_result_fields_and_table():
    X, _ = make_blobs(600, centers=3, cluster_std=0.5, random_state=1)
    result = _auto(X)
    table = result.table
    assert list(table.columns) == list(COLUMNS)
    assert table["chosen"].sum() == 1
    chosen = table[table["chosen"]].iloc[0]
    assert chosen["algorithm"] == result.algorithm and chosen["k"] == result.k
    assert chosen["params"] == result.params
    assert result.labels.dtype == np.int64 and result.labels.shape == (600,)
    assert set(np.unique(result.labels)) == set(range(result.k))
    assert str(result.k) in result.reason


def test_every_row_labelled_in_order_beyond_the_sample(global_random_seed):
    # More rows than the sample: the rest are labelled by their nearest sample row or
    # centre; a shuffled copy of the data gets the shuffled labels' partition.
    X, y = make_blobs(5000, centers=[[0, 0], [10, 0], [0, 10], [10, 10]], cluster_std=0.7,
                      random_state=global_random_seed)
    result = _auto(X)
    assert result.labels.shape == (5000,)
    assert adjusted_rand_score(y, result.labels) == 1.0
    order = np.random.default_rng(global_random_seed).permutation(5000)
    shuffled = _auto(X[order])
    assert adjusted_rand_score(result.labels[order], shuffled.labels) == 1.0


def test_same_seed_same_answer():
    # Also with another thread count: the kernels combine fixed blocks in block order.
    X, _ = make_blobs(3000, centers=5, cluster_std=1.5, random_state=3)
    a, b = _auto(X, random_state=7), _auto(X, random_state=7, n_jobs=1)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert a.reason == b.reason
    np.testing.assert_array_equal(a.table["separation_ratio"].to_numpy(),
                                  b.table["separation_ratio"].to_numpy())


def test_k_max_bounds_the_answer():
    X, _ = make_blobs(800, centers=[[0, 0], [8, 0], [0, 8], [8, 8]], cluster_std=0.5,
                      random_state=0)
    result = _auto(X, k_max=3)
    assert result.k <= 3
    assert result.table.query("algorithm != 'hdbscan'")["k"].max() == 3


def test_table_without_pandas(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pandas(name, *args, **kwargs):
        if name == "pandas":
            raise ImportError("no pandas here")
        return real_import(name, *args, **kwargs)

    X, _ = make_blobs(300, centers=2, random_state=0)
    result = _auto(X)
    monkeypatch.setattr(builtins, "__import__", no_pandas)
    records = result.table
    assert isinstance(records, list) and set(records[0]) == set(COLUMNS)


def test_plot_draws_winner_runner_up_and_scores():
    pytest.importorskip("matplotlib")
    X, _ = make_blobs(400, centers=3, random_state=0)
    result = _auto(X)
    fig = result.plot()
    assert len(fig.axes) == 3
    assert fig.axes[0].get_title().startswith("chosen")
    assert fig.axes[1].get_title().startswith("runner-up")


def test_plot_without_structure():
    pytest.importorskip("matplotlib")
    fig = _auto(np.random.default_rng(0).uniform(size=(500, 3))).plot()
    assert fig.axes[0].get_title() == "chosen: none, k=1"
    assert fig.axes[1].get_title().startswith("runner-up: Genie")
    fig = _auto(np.ones((30, 2))).plot()  # constant: no candidates at all
    assert fig.axes[0].get_title() == "chosen: none, k=1"


# --- bad input --------------------------------------------------------------------------

@pytest.mark.parametrize("X, match", [
    (np.arange(10.0), "2-D array"),
    (np.array([[0.0, np.nan], [1.0, 2.0], [3.0, 4.0]]), "NaN"),
    (np.array([["a", "b"], ["c", "d"]]), "text|numeric"),
    (np.zeros((1, 2)), "at least 2 rows"),
])
def test_bad_data(X, match):
    with pytest.raises((ValueError, TypeError), match=match):
        clustra.auto_cluster(X)


@pytest.mark.parametrize("name, value", [
    ("k_max", 1), ("k_max", 2.5), ("sample_size", 5), ("score_size", True), ("n_refs", 0),
])
def test_bad_options(name, value):
    X = np.random.default_rng(0).normal(size=(50, 2))
    with pytest.raises(ValueError, match=f"auto_cluster: {name} must be an integer >= "):
        clustra.auto_cluster(X, **{name: value})
