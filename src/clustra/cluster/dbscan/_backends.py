"""DBSCAN neighbourhood back ends: one small object per index (private).

Every back end answers two questions for validated input: which points are
core and how the core points group (:meth:`Backend.fit`), and which core point
is nearest to a new point within eps (:meth:`Backend.nearest_core`, for
``predict``). What a fit leaves for ``predict`` lives in the back-end object,
which the estimator keeps as ``backend_``. :func:`fit_backend` chooses one
(:func:`choose_backend`) and fits it. The thread count is set by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from clustra._kernels import dbscan as kernels
from clustra._kernels import dbscan_grid, distances, grid, kdtree, kdtree_radius
from clustra._kernels.arrays import writeable

# "auto" uses the grid up to this many features (benchmarks/workloads/dbscan.py).
GRID_MAX_FEATURES = 3

# Minkowski power of each box-bounded metric code, for the grid's cell side.
_GRID_POWER = {kdtree.SQEUCLIDEAN: 2.0, kdtree.MANHATTAN: 1.0, kdtree.CHEBYSHEV: np.inf}


@dataclass(frozen=True)
class Settings:
    """The estimator's parameters, checked and resolved (aliases, Minkowski powers)."""

    eps: float
    min_samples: int
    metric: str  # a canonical name, or "precomputed"
    p: float
    algorithm: str  # as requested: "auto", "grid", "kdtree" or "brute"
    leaf_size: int
    n_threads: int | None


class Space(NamedTuple):
    """The coordinates an index works in, with the metric and radius there.

    ``raw`` is the input itself (float64), ``data`` the same points after any
    mapping of cosine/haversine to Euclidean unit vectors; ``radius`` is eps in
    those coordinates and ``rradius`` the same, reduced. For precomputed
    distances ``data`` is the distance matrix and ``code`` is
    :data:`clustra._kernels.dbscan.PRECOMPUTED`.
    """

    data: object
    raw: object
    code: int
    p: float
    radius: float
    rradius: float


def working_space(X, settings: Settings, allow_embedding: bool = True) -> Space:
    """Map cosine/haversine to Euclidean unit vectors where possible; keep the rest."""
    if settings.metric == "precomputed":
        return Space(X, X, kernels.PRECOMPUTED, 0.0, settings.eps, settings.eps)
    if allow_embedding and settings.metric in ("cosine", "haversine"):
        embedded, ok = distances.angular_embedding(X, settings.metric)
        if ok:
            radius = distances.angular_radius(settings.eps, settings.metric)
            return Space(embedded, X, kdtree.SQEUCLIDEAN, 2.0, radius, radius * radius)
    code, p_value = distances.metric_code(settings.metric, settings.p)
    rradius = distances.dist_to_rdist(settings.eps, settings.metric, p_value)
    return Space(X, X, code, p_value, settings.eps, rradius)


class GridDoesNotFit(Exception):
    """The grid would need too many neighbour cells or keys beyond int64."""


class Backend:
    """A neighbourhood index for DBSCAN: fit on a :class:`Space`, then answer queries."""

    name = ""
    # Whether the index works on cosine/haversine data mapped to unit vectors.
    embeds = True

    def __init__(self, settings: Settings):
        self.settings = settings

    def fit(self, space: Space, weights: np.ndarray, min_samples: int):
        """Return ``(core_mask, components)``: (n,) bool, and (n,) int64 component ids of
        core and border points (any ids >= 0, -1 for noise), in row order."""
        raise NotImplementedError

    def nearest_core(self, queries) -> np.ndarray:
        """(m,) int64: for each query, the position among the fitted core points (in row
        order) of its nearest core point within eps, ties to the lowest row; -1 if none."""
        raise NotImplementedError


class _CoordinateBackend(Backend):
    """Back ends on coordinates share ``predict``: a KD-tree over the core points where
    the metric has box bounds, a scan otherwise."""

    def _keep_core(self, space: Space, core: np.ndarray) -> None:
        self._core_raw = np.ascontiguousarray(space.raw[core])

    def nearest_core(self, queries) -> np.ndarray:
        queries = writeable(queries, np.float64)
        core_raw = self._core_raw
        if core_raw.shape[0] == 0:
            return np.full(queries.shape[0], -1, dtype=np.int64)
        query_space = working_space(queries, self.settings, self.embeds)
        core_space = working_space(core_raw, self.settings, self.embeds)
        if query_space.code in kdtree.BOX_BOUNDED and core_space.code in kdtree.BOX_BOUNDED:
            tree = kdtree.build_kdtree(core_space.data, self.settings.leaf_size)
            return kdtree_radius.nearest_masked(
                tree, np.ones(core_raw.shape[0], dtype=np.bool_),
                writeable(query_space.data, np.float64), core_space.rradius, core_space.code,
                core_space.p)
        raw = working_space(queries, self.settings, allow_embedding=False)
        return kernels.brute_nearest_core(queries, core_raw, np.ones(core_raw.shape[0], np.bool_),
                                          np.zeros(queries.shape[0], np.bool_), raw.rradius,
                                          raw.code, raw.p)


class GridBackend(_CoordinateBackend):
    """Cells of side ``eps / d**(1/p)``: a cell's points are within eps of each other."""

    name = "grid"

    def fit(self, space, weights, min_samples):
        index = grid.build_grid(space.data, space.radius, _GRID_POWER.get(space.code, space.p))
        if index is None:
            raise GridDoesNotFit
        cum_weight = _prefix_sums(weights[index.index])
        core_sorted = dbscan_grid.grid_core_points(index, cum_weight, space.rradius,
                                                   float(min_samples), space.code, space.p)
        del cum_weight
        roots = dbscan_grid.grid_cell_components(index, core_sorted, space.rradius, space.code,
                                                 space.p)
        cell_of = np.repeat(np.arange(roots.shape[0]), np.diff(index.cell_start))
        comp_sorted = np.where(core_sorted, roots[cell_of], -1)
        nearest = dbscan_grid.grid_nearest_core(index, core_sorted, space.rradius, space.code,
                                                space.p)
        border = nearest >= 0
        comp_sorted[border] = roots[cell_of[nearest[border]]]
        core, comp = _unsort(core_sorted, comp_sorted, index.index)
        self._keep_core(space, core)
        return core, comp


class KDTreeBackend(_CoordinateBackend):
    """The shared KD-tree (:mod:`clustra._kernels.kdtree`)."""

    name = "kdtree"

    def fit(self, space, weights, min_samples):
        tree = kdtree.build_kdtree(space.data, self.settings.leaf_size)
        cum_weight = _prefix_sums(weights[tree.index])
        counts = kdtree_radius.count_within(tree, cum_weight, tree.data, space.rradius,
                                            float(min_samples), space.code, space.p)
        core_tree = counts >= min_samples
        del counts, cum_weight
        comp_tree = kernels.tree_components(tree, core_tree, space.rradius, space.code, space.p)
        core, comp = _unsort(core_tree, comp_tree, tree.index)
        non_core = np.flatnonzero(~core_tree)
        if non_core.size:
            nearest = kdtree_radius.nearest_masked(tree, core_tree, tree.data[non_core],
                                                   space.rradius, space.code, space.p)
            rows = tree.index[non_core]
            found = nearest >= 0
            comp[rows[found]] = comp[nearest[found]]
        self._keep_core(space, core)
        return core, comp


class BruteBackend(_CoordinateBackend):
    """A scan of every pair (metrics without box bounds, or when asked for)."""

    name = "brute"
    embeds = False

    def fit(self, space, weights, min_samples):
        core, comp = _fit_scan(space, weights, min_samples)
        self._keep_core(space, core)
        return core, comp


class _PrecomputedBackend(Backend):
    """Precomputed distances share ``predict``: queries are distances to the training
    points, dense (n_queries, n_samples) or sparse (stored entries are the candidates)."""

    def _keep_core(self, core: np.ndarray) -> None:
        self._core_position = np.where(core, np.cumsum(core) - 1, -1).astype(np.int64)

    def nearest_core(self, queries):
        core = self._core_position >= 0
        no_skip = np.zeros(queries.shape[0], np.bool_)
        if hasattr(queries, "tocsr"):
            graph = _canonical_csr(queries)
            rows = kernels.sparse_nearest_core(graph.indptr, graph.indices, graph.data, core,
                                               no_skip, self.settings.eps)
        else:
            queries = writeable(queries, np.float64)
            rows = kernels.brute_nearest_core(queries, queries, core, no_skip, self.settings.eps,
                                              kernels.PRECOMPUTED, 0.0)
        return np.where(rows >= 0, self._core_position[np.maximum(rows, 0)], -1)


class DensePrecomputedBackend(_PrecomputedBackend):
    """A dense square distance matrix, scanned row by row."""

    name = "brute"

    def fit(self, space, weights, min_samples):
        core, comp = _fit_scan(space, weights, min_samples)
        self._keep_core(core)
        return core, comp


class SparsePrecomputedBackend(_PrecomputedBackend):
    """A sparse distance graph: its stored entries are the candidate neighbours."""

    name = "sparse"

    def fit(self, space, weights, min_samples):
        graph = _canonical_csr(space.data)
        eps = space.rradius
        core = kernels.sparse_core_points(graph.indptr, graph.indices, graph.data, weights, eps,
                                          float(min_samples))
        comp = kernels.sparse_components(graph.indptr, graph.indices, graph.data, core, eps)
        nearest = kernels.sparse_nearest_core(graph.indptr, graph.indices, graph.data, core,
                                              core, eps)
        border = nearest >= 0
        comp[border] = comp[nearest[border]]
        self._keep_core(core)
        return core, comp


def choose_backend(X, settings: Settings) -> tuple[Backend, Space]:
    """The back end for this input and its working space."""
    if settings.metric == "precomputed":
        sparse = hasattr(X, "tocsr")
        backend = SparsePrecomputedBackend if sparse else DensePrecomputedBackend
        return backend(settings), working_space(X, settings)
    space = working_space(X, settings, allow_embedding=settings.algorithm != "brute")
    if space.code not in kdtree.BOX_BOUNDED:
        return BruteBackend(settings), space  # cosine data with an all-zero row: no geometry
    algorithm = settings.algorithm
    if algorithm == "auto":
        algorithm = "grid" if space.data.shape[1] <= GRID_MAX_FEATURES else "kdtree"
    backends = {"grid": GridBackend, "kdtree": KDTreeBackend, "brute": BruteBackend}
    return backends[algorithm](settings), space


def fit_backend(X, weights, settings: Settings):
    """Choose and fit a back end: ``(backend, core_mask, labels)`` for validated ``X``."""
    # Distances are computed in float64 anyway; one dtype keeps numba's
    # specialisations (and compile time) to one per kernel.
    X = X if hasattr(X, "tocsr") else writeable(X, np.float64)
    backend, space = choose_backend(X, settings)
    try:
        core, comp = backend.fit(space, weights, settings.min_samples)
    except GridDoesNotFit:
        if settings.algorithm == "grid":
            raise ValueError(
                f"algorithm='grid' cannot index {X.shape[1]} features with this metric and "
                f"eps={settings.eps!r} (too many neighbour cells or cells); use "
                "algorithm='kdtree' or 'auto'."
            ) from None
        backend = KDTreeBackend(settings)
        core, comp = backend.fit(space, weights, settings.min_samples)
    return backend, core, kernels.labels_by_first_appearance(comp)


def _fit_scan(space: Space, weights, min_samples):
    """Core points and components by scanning every pair (coordinates or a dense matrix)."""
    data, rradius, code, p = space.data, space.rradius, space.code, space.p
    core = kernels.brute_core_points(data, weights, rradius, float(min_samples), code, p)
    comp = kernels.brute_components(data, core, rradius, code, p)
    nearest = kernels.brute_nearest_core(data, data, core, core, rradius, code, p)
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
