"""Minimum spanning tree kernels: Boruvka on the KD-tree and Prim agree, for any thread count."""

import numba
import numpy as np
import pytest

from clustra._kernels import mst
from clustra._kernels.kdtree import build_kdtree, metric_code


def _boruvka(X):
    tree = build_kdtree(X, leaf_size=16)
    return mst.boruvka_tree(tree.data, tree.index, tree.node_start, tree.node_end, tree.lower,
                            tree.upper)


@pytest.mark.parametrize("grid", [False, True])
def test_boruvka_total_weight_equals_prim_and_ignores_threads(rng, grid):
    X = (rng.integers(0, 20, size=(800, 2)).astype(np.float64) if grid
         else rng.normal(size=(800, 2)))
    code, p = metric_code("euclidean")
    prim_weights = np.sort(mst.prim_observations(X, code, p)[2])
    previous = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = _boruvka(X)
        numba.set_num_threads(previous)
        many = _boruvka(X)
    finally:
        numba.set_num_threads(previous)
    for a, b in zip(one, many, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(np.sort(one[2]), prim_weights)
    # A spanning tree: n - 1 edges joining everything.
    parent = np.arange(800)

    def root(i):
        while parent[i] != i:
            i = parent[i]
        return i

    for u, v in zip(one[0], one[1], strict=True):
        assert root(u) != root(v)
        parent[root(u)] = root(v)


@pytest.mark.parametrize("ties", [False, True])
def test_prim_sqeuclidean_equals_generic_prim_for_any_thread_count(rng, ties):
    # More points than one block (1024) so the parallel scan and its combine run.
    X = (rng.integers(0, 3, size=(2500, 4)).astype(np.float64) if ties
         else rng.normal(size=(2500, 6)))
    code, p = metric_code("euclidean")
    expected = mst.prim_observations(X, code, p)
    previous = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = mst.prim_sqeuclidean(X)
        numba.set_num_threads(previous)
        many = mst.prim_sqeuclidean(X)
    finally:
        numba.set_num_threads(previous)
    for a, b, c in zip(expected, one, many, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)


@pytest.mark.parametrize("n", [2, 3])
def test_prim_sqeuclidean_tiny_inputs(n):
    X = np.arange(n * 2, dtype=np.float64).reshape(n, 2)
    source, target, weight = mst.prim_sqeuclidean(X)
    np.testing.assert_array_equal(source, np.arange(n - 1))
    np.testing.assert_array_equal(target, np.arange(1, n))
    np.testing.assert_array_equal(weight, np.full(n - 1, 8.0))
