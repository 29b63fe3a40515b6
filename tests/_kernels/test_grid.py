import math

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from clustra._kernels import grid


@pytest.mark.parametrize("n_features", [1, 2, 3])
@pytest.mark.parametrize("p", [1.0, 2.0, 3.0, math.inf])
def test_cells_are_small_and_offsets_reach_every_neighbour(n_features, p, rng):
    X = rng.uniform(size=(400, n_features))
    eps = 0.15
    g = grid.build_grid(X, eps, p)
    if g is None:  # only Manhattan in 3-D needs more than MAX_OFFSETS cells
        assert (n_features, p) == (3, 1.0)
        return
    np.testing.assert_array_equal(g.data, X[g.index])
    assert np.all(np.diff(g.cell_keys) > 0)
    name = {1.0: "cityblock", 2.0: "euclidean", math.inf: "chebyshev"}.get(p, "minkowski")
    kwargs = {"p": p} if name == "minkowski" else {}
    D = cdist(g.data, g.data, name, **kwargs)
    cell_of = np.repeat(np.arange(g.cell_keys.shape[0]), np.diff(g.cell_start))
    # Every pair inside one cell is within eps ...
    same = cell_of[:, None] == cell_of[None, :]
    assert np.all(D[same] <= eps)
    # ... and every pair within eps lies in cells one offset apart.
    rows, cols = np.nonzero(D <= eps)
    differences = g.cell_keys[cell_of[cols]] - g.cell_keys[cell_of[rows]]
    assert np.all(np.isin(differences, g.offsets))
    assert set(g.near_offsets.tolist()) <= set(g.offsets.tolist())
    assert g.near_offsets.shape[0] == 3**n_features


def test_find_cell_and_points_in_row_order_within_a_cell(rng):
    X = np.repeat(rng.uniform(size=(30, 2)), 3, axis=0)
    g = grid.build_grid(X, 0.2, 2.0)
    for cell in range(g.cell_keys.shape[0]):
        assert grid.find_cell(g.cell_keys, g.cell_keys[cell]) == cell
        rows = g.index[g.cell_start[cell]:g.cell_start[cell + 1]]
        assert np.all(np.diff(rows) > 0)
    assert grid.find_cell(g.cell_keys, g.cell_keys[-1] + 1) == -1
    assert grid.find_cell(g.cell_keys, -5) == -1


def test_radix_argsort_is_a_stable_sort(rng):
    keys = rng.integers(0, 2**40, size=1000)
    keys[::7] = keys[3]
    np.testing.assert_array_equal(grid.radix_argsort(keys, 2**40),
                                  np.argsort(keys, kind="stable"))


def test_grid_refuses_what_does_not_fit():
    # Manhattan in 3-D needs 305 neighbour cells, more than a grid is worth.
    assert grid.build_grid(np.zeros((3, 3)), 1.0, 1.0) is None
    # A tiny eps over a huge spread would overflow the int64 keys.
    X = np.array([[0.0, 0.0, 0.0], [1e7, 1e7, 1e7]])
    assert grid.build_grid(X, 1e-6, 2.0) is None


def test_small_inputs_build_the_same_grid_in_numpy(monkeypatch):
    # Below SMALL_ROWS numpy builds the grid (nothing to compile); the kernels
    # build larger ones. Both must give the same grid, bit for bit.
    X = np.random.default_rng(3).normal(size=(3000, 3)).astype(np.float32)
    small = grid.build_grid(X, 0.3, 2.0)
    monkeypatch.setattr(grid, "SMALL_ROWS", 0)
    large = grid.build_grid(X, 0.3, 2.0)
    for field, a, b in zip(grid.Grid._fields, small, large, strict=True):
        assert np.array_equal(np.asarray(a), np.asarray(b)), field


def test_labels_by_first_appearance_small_and_large_paths_agree():
    from clustra._kernels.dbscan import _first_appearance, labels_by_first_appearance

    comp = np.random.default_rng(4).integers(-1, 200, size=5000)
    assert np.array_equal(labels_by_first_appearance(comp), _first_appearance(comp))
