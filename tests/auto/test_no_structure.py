"""A battery of structureless shapes: ``auto_cluster`` must answer one cluster on each.

Uniform, Gaussian (also elongated), Student t and log-normal data, in one to ten
dimensions, at sizes from a few hundred to a few thousand rows (so that both the
full-sample path and the subsampled one are exercised), standardised as a user
would. The shapes still answered with clusters are marked ``xfail(strict=True)``
with their cause, so a fix shows up as an unexpected pass.
"""

from __future__ import annotations

import numpy as np
import pytest

import clustra

SHAPES = {
    "uniform-1d": lambda rng, n: rng.uniform(size=(n, 1)),
    "uniform-2d": lambda rng, n: rng.uniform(size=(n, 2)),
    "uniform-10d": lambda rng, n: rng.uniform(size=(n, 10)),
    "gaussian-1d": lambda rng, n: rng.normal(size=(n, 1)),
    "gaussian-2d": lambda rng, n: rng.normal(size=(n, 2)),
    "gaussian-10d": lambda rng, n: rng.normal(size=(n, 10)),
    "elongated-2d": lambda rng, n: rng.normal(size=(n, 2)) * [5.0, 0.5],
    "student-t3-2d": lambda rng, n: rng.standard_t(3, size=(n, 2)),
    "lognormal-2d": lambda rng, n: rng.lognormal(size=(n, 2)),
}
SIZES = (500, 5000)
SEEDS = (0, 1, 2)

# Causes of the shapes still answered with clusters (by the step of the rule that fires).
# The reference of the calibration is uniform: it has no tails, so the isolated points of a
# heavy or skewed tail leave gaps wider, relative to the spacing, than any the same method
# cuts in the reference, and K-Means explains more of a skewed cloud's variance than of it.
TAILS_GAP = ("gap step: groups of tail points (at least the smallest cluster size) stand apart "
             "more than anything in the tailless reference")
SKEW_CH = "convex step: K-Means explains more of a skewed cloud's variance than of the reference"
KNOWN = {
    ("uniform-2d", 5000, 2): "convex step: ratio at the threshold, and reference sets of the "
                             "scoring size (1,000 rows) give too small a spread to raise it",
    ("gaussian-1d", 5000, 0): TAILS_GAP + " (HDBSCAN, min_cluster_size=50)",
    ("lognormal-2d", 500, 0): TAILS_GAP + " (HDBSCAN, min_cluster_size=10)",
    ("lognormal-2d", 500, 1): SKEW_CH,
    ("lognormal-2d", 500, 2): SKEW_CH,
    ("lognormal-2d", 5000, 2): SKEW_CH,
}


def _cases():
    for name in SHAPES:
        for n in SIZES:
            for seed in SEEDS:
                marks = ([pytest.mark.xfail(strict=True, reason=KNOWN[name, n, seed])]
                         if (name, n, seed) in KNOWN else [])
                yield pytest.param(name, n, seed, marks=marks, id=f"{name}-n{n}-seed{seed}")


@pytest.mark.parametrize("name, n, seed", list(_cases()))
def test_structureless_shape_is_one_cluster(name, n, seed):
    X = SHAPES[name](np.random.default_rng(seed), n)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    result = clustra.auto_cluster(X, random_state=seed)
    assert result.k == 1, result.reason
    assert (result.labels == 0).all()
    assert result.reason.startswith("No cluster structure")
