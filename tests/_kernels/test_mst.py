"""The spanning-tree engine: Boruvka on the KD-tree and the three Prims give one tree
(the strict order (weight, low, high)), for any thread count, with or without core distances."""

import numba
import numpy as np
import pytest
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial.distance import pdist, squareform

from clustra._kernels import core_distances as cd
from clustra._kernels.kdtree import build_kdtree, metric_code
from clustra._kernels.mst import mst_edges, mst_edges_precomputed
from clustra._kernels.mst_boruvka import boruvka
from clustra._kernels.mst_prim import prim_dense, prim_metric, prim_sqeuclidean


def _keyed(source, target, weight):
    """Edges as (low, high, weight) rows sorted by the strict order."""
    low, high = np.minimum(source, target), np.maximum(source, target)
    order = np.lexsort((high, low, weight))
    return np.stack([low[order], high[order]]), weight[order]


def _assert_same_tree(a, b):
    ends_a, w_a = _keyed(*a)
    ends_b, w_b = _keyed(*b)
    np.testing.assert_array_equal(ends_a, ends_b)
    np.testing.assert_array_equal(w_a, w_b)


def _in_threads(n_threads, func):
    previous = numba.get_num_threads()
    try:
        numba.set_num_threads(n_threads)
        return func()
    finally:
        numba.set_num_threads(previous)


def _plain_boruvka(X, leaf_size=16):
    n = X.shape[0]
    return boruvka(build_kdtree(X, leaf_size=leaf_size), np.zeros(n), 1.0,
                   np.empty((n, 0), dtype=np.int32), np.zeros(n, dtype=bool))


@pytest.mark.parametrize("grid", [False, True])
def test_boruvka_equals_prim_edge_for_edge_and_ignores_threads(rng, grid):
    X = (rng.integers(0, 20, size=(800, 2)).astype(np.float64) if grid
         else rng.normal(size=(800, 2)))
    one = _in_threads(1, lambda: _plain_boruvka(X))
    two = _in_threads(2, lambda: _plain_boruvka(X))
    for a, b in zip(one, two, strict=True):
        np.testing.assert_array_equal(a, b)
    code, p = metric_code("euclidean")
    # With many ties (the grid) the strict order still names one tree: Prim's.
    _assert_same_tree(one, prim_metric(X, np.empty(0), code, p, 1.0, False))
    _assert_same_tree(one, prim_sqeuclidean(X, np.empty(0), 1.0, False))
    if grid:
        return  # SciPy's sparse tree reads the duplicates' zero distances as no edge
    # And it is minimal: SciPy's total weight.
    np.testing.assert_allclose(np.sqrt(one[2]).sum(),
                               minimum_spanning_tree(squareform(pdist(X))).sum(), rtol=1e-12)


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("scipy_order", [False, True])
def test_prim_sqeuclidean_equals_generic_prim(rng, ties, scipy_order):
    # More points than one block (1024) so the block combine runs.
    X = (rng.integers(0, 3, size=(2500, 4)).astype(np.float64) if ties
         else rng.normal(size=(2500, 6)))
    code, p = metric_code("euclidean")
    core = np.empty(0) if ties else cd.core_rdist_brute(X, 4, code, p)
    expected = prim_metric(X, core, code, p, 1.0, scipy_order)
    got = prim_sqeuclidean(X, core, 1.0, scipy_order)
    for a, b in zip(expected, got, strict=True):  # the same edges in the same order
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("scipy_order", [False, True])
def test_dense_prim_on_condensed_and_square_equals_prim_on_observations(rng, scipy_order):
    X = rng.integers(0, 5, size=(300, 2)).astype(np.float64)  # ties everywhere
    code, p = metric_code("manhattan")
    expected = prim_metric(X, np.empty(0), code, p, 1.0, scipy_order)
    condensed = pdist(X, "cityblock")
    square = np.ascontiguousarray(squareform(condensed))
    for D in (condensed, square.reshape(-1)):
        got = prim_dense(D, 300, np.empty(0), 1.0, scipy_order)
        for a, b in zip(expected, got, strict=True):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("k", [1, 4])
@pytest.mark.parametrize("d", [2, 6])
def test_seeded_and_leaf_searches_keep_prims_tree_with_ties(rng, d, k):
    # Rounded coordinates: many tied distances and duplicates. The engine's Boruvka
    # seeds from the kNN lists and searches one-component leaves as one; neither may
    # change the tree of the strict order, on 1 or 2 threads.
    X = np.round(rng.normal(size=(1500, d)) * 2.0)
    one = _in_threads(1, lambda: mst_edges(X, "euclidean", k, algorithm="boruvka"))
    two = _in_threads(2, lambda: mst_edges(X, "euclidean", k, algorithm="boruvka"))
    prim_tree = mst_edges(X, "euclidean", k, algorithm="prim")
    for a, b in zip(one[:3], two[:3], strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(one.low, prim_tree.low)
    np.testing.assert_array_equal(one.high, prim_tree.high)
    np.testing.assert_array_equal(one.weight, prim_tree.weight)


@pytest.mark.parametrize("alpha", [1.0, 1.5])
def test_mutual_reachability_one_tree_from_every_kernel(rng, alpha):
    X = np.vstack([rng.normal(size=(500, 3)), np.round(rng.normal(size=(60, 3)))])
    X = np.vstack([X, X[:20]])  # duplicates: ties at the core distance
    n = X.shape[0]
    boruvka_tree = _in_threads(1, lambda: mst_edges(X, "euclidean", 5, alpha=alpha,
                                                    algorithm="boruvka"))
    two = _in_threads(2, lambda: mst_edges(X, "euclidean", 5, alpha=alpha,
                                           algorithm="boruvka"))
    prim_tree = mst_edges(X, "euclidean", 5, alpha=alpha, algorithm="prim")
    for a, b in zip(boruvka_tree[:4], two[:4], strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(boruvka_tree.low, prim_tree.low)
    np.testing.assert_array_equal(boruvka_tree.high, prim_tree.high)
    np.testing.assert_allclose(boruvka_tree.weight, prim_tree.weight, rtol=1e-15)
    D = squareform(pdist(X))
    core = np.sort(D, axis=1)[:, 4]  # k = 5 counting the point itself (column 0)
    np.testing.assert_allclose(boruvka_tree.core, core, rtol=1e-12)
    mutual = np.maximum(D / alpha, np.maximum(core[:, None], core[None, :]))
    np.fill_diagonal(mutual, 0.0)
    np.testing.assert_allclose(boruvka_tree.weight.sum(), minimum_spanning_tree(mutual).sum(),
                               rtol=1e-12)
    dense = mst_edges_precomputed(np.ascontiguousarray(D), 5, alpha=alpha)
    np.testing.assert_allclose(dense.weight, boruvka_tree.weight, rtol=1e-12)
    if alpha == 1.0:
        # Otherwise D / alpha (true units) and rdist / alpha**2 round differently, which
        # may turn a near-tie into a tie or back.
        np.testing.assert_array_equal(dense.low, boruvka_tree.low)
        np.testing.assert_array_equal(dense.high, boruvka_tree.high)
    assert boruvka_tree.weight.shape == (n - 1,)


def _edge_set(low, high):
    return set(zip(np.minimum(low, high).tolist(), np.maximum(low, high).tolist(), strict=True))


def test_row_order_does_not_change_the_tree(rng):
    X = rng.normal(size=(3000, 2))  # no tied distances: the plain tree is unique
    perm = rng.permutation(3000)
    base = mst_edges(X, "euclidean", algorithm="boruvka")
    moved = mst_edges(X[perm], "euclidean", algorithm="boruvka")
    assert _edge_set(perm[moved.low], perm[moved.high]) == _edge_set(base.low, base.high)
    # Mutual reachability ties at core distances, so only the tie rule may move edges:
    # the weights and core distances stay.
    base = mst_edges(X, "euclidean", 4, algorithm="boruvka")
    moved = mst_edges(X[perm], "euclidean", 4, algorithm="boruvka")
    np.testing.assert_array_equal(moved.weight, base.weight)
    np.testing.assert_array_equal(moved.core, base.core[perm])


@pytest.mark.parametrize("n", [2, 3])
def test_tiny_inputs(n):
    X = np.arange(n * 2, dtype=np.float64).reshape(n, 2)
    source, target, weight = prim_sqeuclidean(X, np.empty(0), 1.0, True)
    np.testing.assert_array_equal(source, np.arange(n - 1))
    np.testing.assert_array_equal(target, np.arange(1, n))
    np.testing.assert_array_equal(weight, np.full(n - 1, 8.0))
    tree = mst_edges(X, algorithm="boruvka")
    np.testing.assert_array_equal(tree.low, np.arange(n - 1))
    np.testing.assert_array_equal(tree.weight, np.full(n - 1, np.sqrt(8.0)))
