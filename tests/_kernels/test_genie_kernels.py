"""The Genie merge kernel on arbitrary spanning trees, and the tree-edge Prim kernels."""

from __future__ import annotations

import genieclust
import numpy as np
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial.distance import pdist, squareform

from clustra._kernels.distances import metric_code
from clustra._kernels.genie import genie_merges, merge_children, partitions
from clustra._kernels.mst import mst_edges, sorted_edge_order
from clustra._kernels.mst_prim import prim_metric, prim_sqeuclidean


def _random_tree(n, rng):
    """A random spanning tree (random attachment) with edges in random weight order."""
    low = np.empty(n - 1, dtype=np.int64)
    high = np.empty(n - 1, dtype=np.int64)
    for v in range(1, n):
        u = int(rng.integers(0, v)) if rng.random() < 0.7 else v - 1  # long paths too
        low[v - 1], high[v - 1] = min(u, v), max(u, v)
    order = rng.permutation(n - 1)
    return low[order], high[order]


@pytest.mark.parametrize("n", [2, 3, 50, 20_000])
@pytest.mark.parametrize("threshold", [0.0, 0.05, 0.3, 0.7, 1.0])
def test_merges_equal_genieclust_on_random_trees(n, threshold):
    rng = np.random.default_rng(n)
    low, high = _random_tree(n, rng)
    weights = np.arange(n - 1, dtype=np.float64)
    ref = genieclust.core.genie_from_mst(weights, np.column_stack([low, high]), n_clusters=1,
                                         gini_threshold=threshold)
    merges = genie_merges(low, high, n, threshold, 1)
    np.testing.assert_array_equal(merges, ref["links"][: n - 1])
    k = min(3, n - 1)
    expected = genieclust.core.genie_from_mst(weights, np.column_stack([low, high]),
                                              n_clusters=k, gini_threshold=threshold)
    np.testing.assert_array_equal(partitions(low, high, merges, n, np.array([k]))[0],
                                  expected["labels"])
    ref_z = genieclust.core.get_linkage_matrix(ref["links"], weights, np.column_stack([low, high]))
    children, counts = merge_children(low, high, merges, n)
    np.testing.assert_array_equal(children, ref_z["children"])
    np.testing.assert_array_equal(counts, ref_z["counts"])


def test_stopping_early_is_a_prefix():
    rng = np.random.default_rng(7)
    low, high = _random_tree(500, rng)
    full = genie_merges(low, high, 500, 0.3, 1)
    np.testing.assert_array_equal(genie_merges(low, high, 500, 0.3, 17), full[:483])


def _scipy_weight(X, metric):
    D = squareform(pdist(X, metric))
    return minimum_spanning_tree(D).sum()


def _is_spanning_tree(source, target, n):
    graph = coo_matrix((np.ones(n - 1), (source, target)), shape=(n, n))
    from scipy.sparse.csgraph import connected_components

    return connected_components(graph, directed=False)[0] == 1


@pytest.mark.parametrize("metric", ["euclidean", "cityblock", "chebyshev", "cosine"])
def test_prim_edges_are_a_minimum_spanning_tree(metric):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 4)) + 1.0
    name = {"cityblock": "manhattan"}.get(metric, metric)
    code, p = metric_code(name)
    source, target, _ = prim_metric(X, np.empty(0), code, p, 1.0, False)
    assert _is_spanning_tree(source, target, 300)
    weights = pdist(X, metric)
    D = squareform(weights)
    np.testing.assert_allclose(D[source, target].sum(), _scipy_weight(X, metric), rtol=1e-12)
    tree = mst_edges(X, name)
    np.testing.assert_allclose(tree.weight.sum(), _scipy_weight(X, metric), rtol=1e-12)
    np.testing.assert_allclose(D[tree.low, tree.high], tree.weight, rtol=1e-12, atol=1e-15)


def test_prim_sqeuclidean_and_mutual_reachability_against_a_dense_tree():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(400, 3))
    source, target, weight = prim_sqeuclidean(X, np.empty(0), 1.0, False)
    assert _is_spanning_tree(source, target, 400)
    np.testing.assert_allclose(np.sqrt(weight).sum(), _scipy_weight(X, "euclidean"), rtol=1e-12)
    M = 5
    D = squareform(pdist(X))
    core = np.sort(D, axis=1)[:, M]  # the M-th nearest other point (column 0 is itself)
    mutual = np.maximum(D, np.maximum(core[:, None], core[None, :]))
    np.fill_diagonal(mutual, 0.0)
    tree = mst_edges(X, "euclidean", M + 1)  # Genie's M-th other point: k = M + 1
    np.testing.assert_allclose(tree.core, core, rtol=1e-12)
    np.testing.assert_allclose(tree.weight.sum(), minimum_spanning_tree(mutual).sum(), rtol=1e-12)
    np.testing.assert_allclose(mutual[tree.low, tree.high], tree.weight, rtol=1e-12)


def test_sorted_edge_order_breaks_ties_by_rows():
    low = np.array([5, 1, 2, 0, 1], dtype=np.int64)
    high = np.array([6, 4, 3, 9, 2], dtype=np.int64)
    weight = np.array([1.0, 0.5, 0.5, 0.5, 2.0])
    order = sorted_edge_order(low, high, weight)
    np.testing.assert_array_equal(order, np.lexsort((high, low, weight)))


@pytest.mark.parametrize(("metric", "d"), [("euclidean", 2), ("manhattan", 3), ("cosine", 2)])
def test_core_distances_tree_and_brute_paths(metric, d):
    """Above 2,000 points the KD-tree answers for box-bounded metrics; brute force otherwise."""
    from clustra._kernels.core_distances import core_distances
    from clustra._kernels.distances import metric_code, rdist_to_dist

    rng = np.random.default_rng(8)
    X = rng.normal(size=(2500, d)) + 0.5
    X[10] = X[11]  # a duplicate: its nearest other point is at distance 0
    M = 4
    expected = np.sort(squareform(pdist(X, {"manhattan": "cityblock"}.get(metric, metric))),
                       axis=1)[:, M]
    # Genie's M-th nearest other point is the M+1-th counting the point itself.
    got = rdist_to_dist(core_distances(X, M + 1, *metric_code(metric)), metric)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
