"""The criteria of the automatic choice on small hand-made trees, worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from clustra.auto import _criteria as crit


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
