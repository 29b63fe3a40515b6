"""DBSCAN back ends: pick the index, run the kernels, assemble labels (private).

Input here is validated (:mod:`clustra.cluster.dbscan` does that) and the
thread count is already set by the caller.
"""

from __future__ import annotations

import numpy as np

from clustra._kernels import dbscan as kernels
from clustra._kernels import distances, grid, kdtree
from clustra._kernels.arrays import writeable

# "auto" uses the grid up to this many features (benchmarks/workloads/dbscan.py).
GRID_MAX_FEATURES = 3

# Minkowski power of each box-bounded metric code, for the grid's cell side.
_GRID_POWER = {kdtree.SQEUCLIDEAN: 2.0, kdtree.MANHATTAN: 1.0, kdtree.CHEBYSHEV: np.inf}


class _Space:
    """The coordinates the index works in, and the metric and radius there."""

    def __init__(self, data, code, p, radius, rradius):
        self.data = data
        self.code = code
        self.p = p
        self.radius = radius  # the true eps in these coordinates
        self.rradius = rradius  # the same, reduced


def working_space(X, params, allow_embedding: bool = True) -> _Space:
    """Map cosine/haversine to Euclidean unit vectors where possible; keep the rest."""
    metric, eps, p = params["metric"], params["eps"], params["p"]
    if allow_embedding and metric in ("cosine", "haversine"):
        embedded, ok = kdtree.angular_embedding(X, metric)
        if ok:
            radius = kdtree.angular_radius(eps, metric)
            return _Space(embedded, kdtree.SQEUCLIDEAN, 2.0, radius, radius * radius)
    code, p_value = kdtree.metric_code(metric, p)
    return _Space(X, code, p_value, eps, distances.dist_to_rdist(eps, metric, p_value))


def _grid_power(space: _Space) -> float:
    return _GRID_POWER.get(space.code, space.p)


def choose_algorithm(space: _Space, requested: str, n_features_max: int) -> str:
    """The index to use for this space: "grid", "kdtree" or "brute"."""
    if space.code not in kdtree.BOX_BOUNDED:
        return "brute"  # cosine data with an all-zero row: no geometry to index
    if requested == "auto":
        return "grid" if space.data.shape[1] <= n_features_max else "kdtree"
    return requested


def fit_labels(X, weights, params):
    """Return ``(core_mask, labels, algorithm_used)`` for validated ``X``."""
    # Distances are computed in float64 anyway; one dtype keeps numba's
    # specialisations (and compile time) to one per kernel.
    X = X if hasattr(X, "tocsr") else writeable(X, np.float64)
    if params["metric"] == "precomputed":
        if hasattr(X, "tocsr"):
            core, comp = _fit_sparse(X, weights, params)
            algorithm = "sparse"
        else:
            core, comp = _fit_brute(X, weights, params["eps"], params["min_samples"],
                                    kernels.PRECOMPUTED, 0.0)
            algorithm = "brute"
    else:
        allow_embedding = params["algorithm"] != "brute"
        space = working_space(X, params, allow_embedding)
        algorithm = choose_algorithm(space, params["algorithm"], GRID_MAX_FEATURES)
        core = comp = None
        if algorithm == "grid":
            result = _fit_grid(space, weights, params["min_samples"])
            if result is None:
                if params["algorithm"] == "grid":
                    raise ValueError(
                        f"algorithm='grid' cannot index {X.shape[1]} features with this metric "
                        f"and eps={params['eps']!r} (too many neighbour cells or cells); use "
                        "algorithm='kdtree' or 'auto'."
                    )
                algorithm = "kdtree"
            else:
                core, comp = result
        if algorithm == "kdtree":
            core, comp = _fit_tree(space, weights, params["min_samples"], params["leaf_size"])
        elif algorithm == "brute":
            core, comp = _fit_brute(space.data, weights, space.rradius, params["min_samples"],
                                    space.code, space.p)
    return core, kernels.labels_by_first_appearance(comp), algorithm


def _fit_grid(space: _Space, weights, min_samples):
    index = grid.build_grid(space.data, space.radius, _grid_power(space))
    if index is None:
        return None
    cum_weight = _prefix_sums(weights[index.index])
    core_sorted = kernels.grid_core_points(index.data, index.table, index.cell_keys,
                                           index.cell_start, index.offsets, cum_weight,
                                           space.rradius, float(min_samples), space.code,
                                           space.p)
    del cum_weight
    roots = kernels.grid_cell_components(index.data, index.table, index.cell_keys, index.cell_start,
                                         index.offsets, index.near_offsets, core_sorted,
                                         space.rradius, space.code, space.p)
    cell_of = np.repeat(np.arange(roots.shape[0]), np.diff(index.cell_start))
    comp_sorted = np.where(core_sorted, roots[cell_of], -1)
    nearest = kernels.grid_nearest_core(index.data, index.index, index.table, index.cell_keys,
                                        index.cell_start, index.offsets, core_sorted,
                                        space.rradius, space.code, space.p)
    border = nearest >= 0
    comp_sorted[border] = roots[cell_of[nearest[border]]]
    return _unsort(core_sorted, comp_sorted, index.index)


def _fit_tree(space: _Space, weights, min_samples, leaf_size):
    tree = kdtree.build_kdtree(space.data, leaf_size)
    arrays = kdtree.tree_arrays(tree)
    cum_weight = _prefix_sums(weights[tree.index])
    counts = kdtree.count_within(tree.data, *arrays[2:], cum_weight, tree.data, space.rradius,
                                 float(min_samples), space.code, space.p)
    core_tree = counts >= min_samples
    del counts, cum_weight
    comp_tree = kernels.tree_components(tree.data, *arrays[2:], core_tree, space.rradius,
                                        space.code, space.p)
    core, comp = _unsort(core_tree, comp_tree, tree.index)
    non_core = np.flatnonzero(~core_tree)
    if non_core.size:
        nearest = kdtree.nearest_masked(*arrays, core_tree, tree.data[non_core], space.rradius,
                                        space.code, space.p)
        rows = tree.index[non_core]
        found = nearest >= 0
        comp[rows[found]] = comp[nearest[found]]
    return core, comp


def _fit_brute(data, weights, rradius, min_samples, code, p):
    core = kernels.brute_core_points(data, weights, rradius, float(min_samples), code, p)
    comp = kernels.brute_components(data, core, rradius, code, p)
    nearest = kernels.brute_nearest_core(data, data, core, core, rradius, code, p)
    border = nearest >= 0
    comp[border] = comp[nearest[border]]
    return core, comp


def _fit_sparse(X, weights, params):
    graph = _canonical_csr(X)
    eps = params["eps"]
    core = kernels.sparse_core_points(graph.indptr, graph.indices, graph.data, weights, eps,
                                      float(params["min_samples"]))
    comp = kernels.sparse_components(graph.indptr, graph.indices, graph.data, core, eps)
    nearest = kernels.sparse_nearest_core(graph.indptr, graph.indices, graph.data, core, core,
                                          eps)
    border = nearest >= 0
    comp[border] = comp[nearest[border]]
    return core, comp


def _canonical_csr(X):
    graph = X.tocsr(copy=True)
    graph.sum_duplicates()
    graph.indptr = graph.indptr.astype(np.int64)
    graph.indices = graph.indices.astype(np.int64)
    graph.data = graph.data.astype(np.float64)
    return graph


def _prefix_sums(values):
    out = np.empty(values.shape[0] + 1, dtype=np.float64)
    out[0] = 0.0
    np.cumsum(values, out=out[1:])
    return out


def _unsort(core_sorted, comp_sorted, index):
    """Scatter results from index order back to row order."""
    core = np.empty_like(core_sorted)
    comp = np.empty_like(comp_sorted)
    core[index] = core_sorted
    comp[index] = comp_sorted
    return core, comp


def predict_labels(model, X):
    """Labels of new rows: the cluster of the nearest core point within eps, else -1."""
    params = model._params
    X = X if hasattr(X, "tocsr") else writeable(X, np.float64)
    n_queries = X.shape[0]
    labels = model.labels_[model.core_sample_indices_]
    if labels.shape[0] == 0:
        return np.full(n_queries, -1, dtype=np.int64)
    no_skip = np.zeros(n_queries, dtype=np.bool_)
    if params["metric"] == "precomputed":
        core_mask = np.zeros(model.labels_.shape[0], dtype=np.bool_)
        core_mask[model.core_sample_indices_] = True
        if hasattr(X, "tocsr"):
            graph = _canonical_csr(X)
            nearest = kernels.sparse_nearest_core(graph.indptr, graph.indices, graph.data,
                                                  core_mask, no_skip, params["eps"])
        else:
            nearest = kernels.brute_nearest_core(X, X, core_mask, no_skip, params["eps"],
                                                 kernels.PRECOMPUTED, 0.0)
        return np.where(nearest >= 0, model.labels_[np.maximum(nearest, 0)], -1)
    components = writeable(model.components_, np.float64)
    queries_space = working_space(X, params, model._algorithm != "brute")
    core_space = working_space(components, params, model._algorithm != "brute")
    if queries_space.code in kdtree.BOX_BOUNDED and core_space.code in kdtree.BOX_BOUNDED:
        tree = kdtree.build_kdtree(core_space.data, params["leaf_size"])
        queries = writeable(queries_space.data, np.float64)
        nearest = kdtree.nearest_masked(*kdtree.tree_arrays(tree),
                                        np.ones(components.shape[0], dtype=np.bool_), queries,
                                        core_space.rradius, core_space.code, core_space.p)
    else:
        raw = working_space(X, params, allow_embedding=False)
        all_core = np.ones(components.shape[0], dtype=np.bool_)
        nearest = kernels.brute_nearest_core(X, components,
                                             all_core, no_skip, raw.rradius, raw.code, raw.p)
    return np.where(nearest >= 0, labels[np.maximum(nearest, 0)], -1)
