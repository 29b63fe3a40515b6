"""A battery of structureless shapes: ``auto_cluster`` must answer one cluster on each.

Uniform, Gaussian (also elongated), Student t and log-normal data, in one to ten
dimensions, at sizes from a few hundred to a few thousand rows (so that both the
full-sample path and the subsampled one are exercised), standardised as a user
would. The heavy and skewed tails (Student t, log-normal) and the Gaussian's long
tails at 5,000 rows are what the uniform reference alone got wrong: see
:mod:`clustra.auto._reference` and the unimodality test of gap partitions in
:mod:`clustra.auto._rule`.
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

def _cases():
    for name in SHAPES:
        for n in SIZES:
            for seed in SEEDS:
                yield pytest.param(name, n, seed, id=f"{name}-n{n}-seed{seed}")


@pytest.mark.parametrize("name, n, seed", list(_cases()))
def test_structureless_shape_is_one_cluster(name, n, seed):
    X = SHAPES[name](np.random.default_rng(seed), n)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    result = clustra.auto_cluster(X, random_state=seed)
    assert result.k == 1, result.reason
    assert (result.labels == 0).all()
    assert result.reason.startswith("No cluster structure")
