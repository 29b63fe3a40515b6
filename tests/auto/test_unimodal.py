"""The dip-like unimodality test and the tailed reference of ``clustra.auto``."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs, make_circles

from clustra.auto import _dip_table
from clustra.auto._reference import TAIL_SHARE, marginal_sampler, unimodal_knots
from clustra.auto._unimodal import (
    dip_distance,
    dip_pvalue,
    neighbour_pairs,
    projected_dip,
    quantile_knots,
)


def test_distance_is_small_for_one_group_and_large_for_two(rng):
    one = rng.normal(size=2000)
    two = np.concatenate([rng.normal(0, 1, 1000), rng.normal(6, 1, 1000)])
    assert dip_distance(one) * np.sqrt(2000) < 1.0
    assert dip_distance(two) * np.sqrt(2000) > 5.0
    assert dip_pvalue(dip_distance(two), 2000) < 1e-4
    assert dip_pvalue(dip_distance(one), 2000) > 0.05


def test_distance_of_too_few_distinct_values_is_zero():
    assert dip_distance(np.array([1.0, 1.0, 2.0, 2.0])) == 0.0


def test_pvalue_falls_as_the_distance_grows():
    values = [dip_pvalue(d / np.sqrt(500), 500) for d in np.linspace(0.2, 3.0, 40)]
    assert all(a >= b for a, b in zip(values, values[1:], strict=False))
    assert values[0] == 1 - _dip_table.LEVELS[0] and values[-1] < 1e-5
    # Continuous across the table's last level, where the extrapolation takes over.
    last = _dip_table.TABLE[5][-1] / np.sqrt(500)
    assert dip_pvalue(last * 0.999, 500) == pytest.approx(dip_pvalue(last * 1.001, 500), rel=0.1)


def test_table_matches_a_fresh_simulation():
    # The stored table was simulated on uniform samples: about 5% of new ones (another
    # seed) must fall at or below p = 0.05, and about half below the median.
    rng = np.random.default_rng(12345)
    p = np.array([dip_pvalue(dip_distance(rng.uniform(size=300)), 300) for _ in range(400)])
    assert 0.01 <= (p <= 0.05).mean() <= 0.10
    assert 0.4 <= (p < 0.5).mean() <= 0.6


def test_quantile_knots_merge_repeated_values():
    x, F = quantile_knots(np.repeat([0.0, 1.0, 2.0], 100))
    assert (np.diff(x) > 0).all() and F[-1] == 1.0


def test_neighbour_pairs_form_a_spanning_tree():
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [1.0, 0.0], [11.0, 0.0]])
    pairs = {tuple(sorted(p)) for p in neighbour_pairs(centres)}
    assert pairs == {(0, 2), (1, 3), (1, 2)}


def test_projected_dip_sees_blobs_and_rings_but_not_cells_of_a_square(rng):
    X, y = make_blobs(2000, centers=[[0, 0], [6, 0], [0, 6]], random_state=0)
    assert projected_dip(X, y) <= 0.01
    X, y = make_circles(2000, noise=0.05, factor=0.5, random_state=0)
    assert projected_dip(X, y) <= 0.01
    # Cells of a uniform square (the union of two of them narrows at their boundary):
    # every projection of the whole square is unimodal.
    X = rng.uniform(size=(3000, 2))
    cells = (np.floor(X[:, 0] * 3) + 3 * np.floor(X[:, 1] * 3)).astype(np.int64)
    assert projected_dip(X, cells) > 0.01


@pytest.mark.parametrize("draw", [
    lambda rng: rng.normal(size=3000),
    lambda rng: rng.lognormal(size=3000),
    lambda rng: np.concatenate([rng.normal(0, 1, 1500), rng.normal(8, 1, 1500)]),
], ids=["normal", "lognormal", "two-groups"])
def test_reference_axis_fit_spans_the_data_with_an_even_body(draw, rng):
    values = draw(rng)
    x, F = unimodal_knots(values)
    assert x[0] == values.min() and x[-1] == values.max()
    assert F[0] == 0.0 and F[-1] == 1.0 and (np.diff(F) > 0).all()
    # Between the tails the density is constant: one straight piece holds the body.
    widest = int(np.argmax(np.diff(F)))
    assert F[widest + 1] - F[widest] > 1 - 2 * TAIL_SHARE - 0.01
    # Each tail's density is monotone: rising on the left, falling on the right.
    density = np.diff(F) / np.diff(x)
    assert (np.diff(density[:widest]) >= -1e-9).all()
    assert (np.diff(density[widest + 1:]) <= 1e-9).all()


def test_reference_keeps_tails_and_fills_valleys(rng):
    skewed = rng.lognormal(size=(4000, 1))
    drawn = marginal_sampler(skewed)(4000, rng)[:, 0]
    # The long right tail stays: the top percentile reaches as far as the data's.
    assert np.quantile(drawn, 0.99) > 0.7 * np.quantile(skewed, 0.99)
    two = np.concatenate([rng.normal(0, 1, 2000), rng.normal(8, 1, 2000)])[:, None]
    drawn = marginal_sampler(two)(4000, rng)[:, 0]
    # The valley between the groups (almost empty in the data) is filled.
    valley = lambda v: ((v > 3.5) & (v < 4.5)).mean()  # noqa: E731
    assert valley(two[:, 0]) < 0.01 and valley(drawn) > 0.03


def test_reference_finds_independent_axes(rng):
    # Two independent skewed columns, mixed: the reference undoes the mixing, so each
    # column's minimum (the sharp edge of a log-normal) stays sharp.
    S = rng.lognormal(size=(3000, 2))
    X = S @ np.array([[1.0, 0.4], [0.3, 1.0]])
    drawn = marginal_sampler(X)(3000, rng)
    assert np.quantile(drawn[:, 0], 0.001) > X[:, 0].min() - 0.5


def test_reference_of_flat_data_uses_principal_axes(rng):
    # Points on a line in 3-D: no independent components to whiten; the draws stay on it.
    t = rng.lognormal(size=500)
    X = np.column_stack([t, 2 * t, -t])
    drawn = marginal_sampler(X)(400, rng)
    assert np.isfinite(drawn).all()
    assert np.allclose(drawn[:, 1], 2 * drawn[:, 0]) and np.allclose(drawn[:, 2], -drawn[:, 0])
