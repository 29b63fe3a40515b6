"""The criteria of the automatic choice on small hand-made trees, worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from clustra.auto import _criteria as crit
from clustra.auto import _rule as rule
from clustra.auto._candidates import CONVEX, DENSITY, Candidate


def _chain(lengths, core):
    """A path tree 0-1-2-...: edge i joins rows i and i+1 with the given length."""
    m = len(lengths) + 1
    return crit.SampleTree(np.arange(m - 1), np.arange(1, m), np.asarray(lengths, float),
                           np.asarray(core, float))


def test_weakest_gap_and_separation():
    # Three groups along a path; within edges all 1, the cuts 8 and 4.
    tree = _chain([1, 1, 8, 1, 1, 4, 1, 1], np.ones(9))
    labels = np.repeat([0, 1, 2], 3)
    assert crit.weakest_gap(tree, labels) == pytest.approx(4.0)
    assert crit.separation(tree, labels) == pytest.approx(6.0)
    # A cut through a group: its shortest cut edge is no longer than the spacing.
    assert crit.weakest_gap(tree, np.repeat([0, 1], [4, 5])) < 1.0
    assert np.isnan(crit.weakest_gap(tree, np.zeros(9, np.int64)))


def test_prominence_saddle_over_peak():
    # Two groups of core distances rising from 1 (peaks) to 3 where they meet: the
    # saddle is the reachability of the cut edge (max of its length 2 and the two cores).
    core = [1, 1, 2, 3, 3, 2, 1, 1]
    tree = _chain([1, 1, 1, 2, 1, 1, 1], core)
    labels = np.repeat([0, 1], 4)
    assert crit.prominence(tree, labels) == pytest.approx(3.0, rel=0.05)
    # Flat density (all cores equal, all edges no longer): no mode, prominence 1.
    flat = _chain([1] * 7, np.ones(8))
    assert crit.prominence(flat, labels) == pytest.approx(1.0)
    # Copies of one point at each peak and a positive saddle: infinitely prominent.
    assert crit.prominence(_chain([1] * 7, [0, 0, 0, 2, 2, 0, 0, 0]), labels) == np.inf


def test_core_distances():
    X = np.arange(12, dtype=float)[:, None]
    core = crit.core_distances(X)
    # The 10th nearest other point of 0 is 10; of 5 (neighbours on both sides) it is 5.
    assert core[0] == 10 and core[5] == 5


def _candidate(algorithm, k, family, **scores):
    labels = np.repeat(np.arange(k), 20)
    base = {"separation": 0.5, "separation_ratio": 0.8, "calinski_harabasz_ratio": 0.9,
            "weakest_gap": 0.4, "prominence": 1.0, "prominence_ratio": 1.0}
    return Candidate(algorithm, {"n_clusters": k}, algorithm, family, k, labels,
                     scores={**base, **scores})


@pytest.mark.parametrize("prominence, ratio, regime", [
    (3.0, 2.0, "modes"),   # prominent, and well above noise's most prominent split
    (3.0, 1.2, "none"),    # prominent, but no more than noise gets (1-D uniform data)
    (1.5, 2.0, "none"),    # clearly above noise, but no clear mode
])
def test_rule_density_modes_need_both_conditions(prominence, ratio, regime):
    candidates = [_candidate("hdbscan", 2, DENSITY, prominence=prominence,
                             prominence_ratio=ratio),
                  _candidate("kmeans", 2, CONVEX)]
    winner, reason, found = rule.choose(candidates, k_max=12)
    assert found == regime
    assert (winner is candidates[0]) == (regime == "modes")
    assert ("each of its clusters is a density mode" in reason) == (regime == "modes")


def test_rule_gaps_come_first_and_nested_gaps_refine():
    coarse = _candidate("genie", 2, DENSITY, separation=2.0, separation_ratio=2.5)
    fine = _candidate("kmeans", 4, CONVEX, calinski_harabasz_ratio=8.0, weakest_gap=1.5)
    fine.labels = np.repeat(np.arange(4), 10)  # clusters 0, 1 in coarse 0; 2, 3 in coarse 1
    modes = _candidate("hdbscan", 3, DENSITY, prominence=5.0, prominence_ratio=5.0)
    winner, reason, regime = rule.choose([coarse, fine, modes], k_max=12)
    assert regime == "gaps" and winner is fine and "splits the clusters of" in reason
    # A K-Means partition that cuts a cluster (weakest gap below 1) does not refine it.
    fine.scores["weakest_gap"] = 0.8
    assert rule.choose([coarse, fine, modes], k_max=12)[0] is coarse
    # Nor one that straddles the coarse clusters.
    fine.scores["weakest_gap"] = 1.5
    fine.labels = np.roll(fine.labels, 5)
    assert rule.choose([coarse, fine, modes], k_max=12)[0] is coarse


def test_calinski_harabasz_threshold_follows_the_references_spread():
    # Reference sets whose K-Means index varies by a tenth of its mean: a ratio of 1.2
    # is within the chance of the best of several k, so the convex step must not fire.
    def kmeans(k, ch):
        return Candidate("kmeans", {"n_clusters": k}, "kmeans", CONVEX, k, np.zeros(4, np.int64),
                         scores={"calinski_harabasz": ch, "separation": np.nan})

    tight = [[kmeans(2, 100.0 + e), kmeans(3, 100.0 - e)] for e in (-1.0, 0.0, 1.0)]
    loose = [[kmeans(2, 100.0 + e), kmeans(3, 100.0 - e)] for e in (-10.0, 0.0, 10.0)]
    for refs, wins in ((tight, True), (loose, False)):
        data = [kmeans(2, 120.0), kmeans(3, 100.0)]
        rule.calibrate(data, rule.reference_means(refs))
        assert data[0].scores["calinski_harabasz_ratio"] == pytest.approx(1.2)
        assert (rule.choose(data, k_max=12)[2] == "convex") is wins


@pytest.mark.parametrize("smallest, regime", [(rule.MIN_SIZE, "gaps"), (rule.MIN_SIZE - 1, "none")])
def test_rule_gaps_need_clusters_of_a_measurable_size(smallest, regime):
    # A wide gap around a handful of scored rows (tail points, or a small group of the
    # larger fitting sample) is no evidence of clusters.
    gap = _candidate("hdbscan", 2, DENSITY, separation=3.0, separation_ratio=4.0,
                     smallest=float(smallest))
    assert rule.choose([gap, _candidate("kmeans", 2, CONVEX)], k_max=12)[2] == regime
