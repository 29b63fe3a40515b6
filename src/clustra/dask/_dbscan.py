"""Exact DBSCAN on a Dask cluster, equal to in-memory ``clustra.DBSCAN``.

The plan (every step a task per block or per cell; only small tables reach
the client):

1. A sample of the rows cuts space into cells of similar counts
   (:mod:`clustra.dask._space`).
2. Every block sends each cell the rows it owns and the rows within eps of its
   box (the halo), with their global row numbers, kept in row order.
3. Per cell, in-memory ``clustra.DBSCAN`` on owned + halo rows: an owned row's
   whole eps-neighbourhood is there, so its core flag is exact.
4. Per cell again, with the exact core flags of the halo rows (from their
   owner cells, worker to worker): the connected components of the core rows
   (``clustra.DBSCAN(min_samples=1)`` on them) and, for every owned non-core
   row, the component of its nearest core row within eps (that model's
   ``predict``: ties to the lowest row, as in memory). Every core-core pair
   within eps has one end owned by some cell and the other in that cell's
   halo, so each link is seen.
5. The client joins the cells' components through the core rows they share
   (a union-find over the rows near cell borders), numbers the clusters by
   their first row as in memory, and every cell relabels its rows; the labels
   go back to the input blocks, in input order.

The result equals in-memory ``clustra.DBSCAN``'s: the same core rows, the same
clusters (numbered the same way) and the same noise; border rows join the
cluster of their nearest core row within eps, ties to the lowest row. (With
non-integer sample weights a core test that ties with ``min_samples`` to the
last bit could fall the other way: a cell adds its neighbours' weights in a
different order.)
"""

from __future__ import annotations

import math
import warnings
from numbers import Integral, Real

import numpy as np
from dask import delayed
from sklearn.base import BaseEstimator, ClusterMixin

import clustra.dask._data as _data
import clustra.dask._space as space
from clustra.cluster._params import (
    RANDOM_STATE,
    Interval,
    Options,
    check_params,
)
from clustra.cluster.dbscan._estimator import DBSCAN as MemoryDBSCAN

METRICS = {"euclidean": 2.0, "manhattan": 1.0, "chebyshev": math.inf, "minkowski": None}


def _route(block, weights, start, cells, eps, p):
    """Split one block by cell: {cell: (rows, points, weights, owned)} for owned and halo rows."""
    points = block.astype(np.float64, copy=False)
    w = np.ones(points.shape[0]) if weights is None else weights.astype(np.float64)
    rows = np.arange(start, start + points.shape[0], dtype=np.int64)
    owner = space.owners(cells, points)
    reach = eps * (1.0 + space.HALO_SLACK)
    out = {}
    for c in range(cells.n_cells):
        owned = owner == c
        take = owned | (space.box_distance(points, cells.lo[c], cells.hi[c], p) <= reach)
        if take.any():
            out[c] = (rows[take], points[take], w[take], owned[take])
    return out


def _piece(routed, cell):
    return routed.get(cell)


def _cell(*pieces):
    """One cell's rows (row order, as the pieces come in block order)."""
    pieces = [p for p in pieces if p is not None]
    if not pieces:
        return (np.empty(0, np.int64), None, np.empty(0), np.empty(0, bool))
    return tuple(np.concatenate([p[k] for p in pieces]) for k in range(4))


def _estimator(params, min_samples):
    return MemoryDBSCAN(params["eps"], min_samples=min_samples, metric=params["metric"],
                        p=params["p"], algorithm=params["algorithm"],
                        leaf_size=params["leaf_size"], n_jobs=1)


def _core_rows(cell, params):
    """Global rows of the cell's owned core points (exact), ascending."""
    rows, points, weights, owned = cell
    if rows.size == 0:
        return rows
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = _estimator(params, params["min_samples"]).fit(points, sample_weight=weights)
    core = np.zeros(rows.size, dtype=bool)
    core[model.core_sample_indices_] = True
    return rows[core & owned]


def _components(cell, lo, hi, params, own_core, *neighbour_core):
    """Local components of the cell's core rows and its owned rows' labels.

    Returns ``(table, labelled)``: ``table`` is small and goes to the client
    (number of components, (row, component) of halo core rows and of owned core
    rows near the border, first owned row of each component); ``labelled``
    (owned rows, their component or -1) stays on the worker.
    """
    rows, points, weights, owned = cell
    if rows.size == 0:
        empty = np.empty(0, np.int64)
        return (0, empty, empty, empty, empty, empty), (empty, empty)
    core = np.isin(rows, own_core, assume_unique=True)
    for other in neighbour_core:
        core |= np.isin(rows, other, assume_unique=True)
    comp = np.full(rows.size, -1, dtype=np.int64)
    n_comp = 0
    if core.any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = _estimator(params, 1).fit(points[core])
        comp[core] = model.labels_
        n_comp = int(model.labels_.max()) + 1
        border = owned & ~core
        if border.any():
            comp[border] = model.predict(points[border])
    halo_core = core & ~owned
    edge = np.zeros(rows.size, dtype=bool)
    edge[owned & core] = space.near_border(points[owned & core], lo, hi, params["eps"])
    first = np.full(n_comp, np.iinfo(np.int64).max, dtype=np.int64)
    labelled = owned & (comp >= 0)
    np.minimum.at(first, comp[labelled], rows[labelled])
    table = (n_comp, rows[halo_core], comp[halo_core], rows[edge], comp[edge], first)
    return table, (rows[owned], comp[owned])


def _table(result):
    return result[0]


def _labelled(result):
    return result[1]


def _relabel(labelled, mapping, starts):
    """Final labels of a cell's owned rows, split by input block: {block: (rows, labels)}."""
    rows, comp = labelled
    labels = np.where(comp >= 0, mapping[np.maximum(comp, 0)], -1) if comp.size else comp
    cut = np.searchsorted(rows, starts)
    return {b: (rows[cut[b]:cut[b + 1]], labels[cut[b]:cut[b + 1]])
            for b in range(len(starts) - 1) if cut[b + 1] > cut[b]}


def _block_labels(start, n_rows, block, *parts):
    out = np.full(n_rows, -1, dtype=np.int64)
    for part in parts:
        piece = part.get(block)
        if piece is not None:
            out[piece[0] - start] = piece[1]
    return out


def _merge(tables):
    """Global cluster numbers of every cell's local components (first-row order)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    offsets = np.concatenate([[0], np.cumsum([t[0] for t in tables])]).astype(np.int64)
    n_nodes = int(offsets[-1])
    if n_nodes == 0:
        return offsets, np.empty(0, np.int64)
    entry_rows = np.concatenate([np.concatenate([t[1], t[3]]) for t in tables])
    entry_nodes = np.concatenate([np.concatenate([t[2], t[4]]) + offsets[c]
                                  for c, t in enumerate(tables)])
    order = np.argsort(entry_rows, kind="stable")
    entry_rows, entry_nodes = entry_rows[order], entry_nodes[order]
    same = np.flatnonzero(entry_rows[1:] == entry_rows[:-1])
    graph = coo_matrix((np.ones(same.size), (entry_nodes[same], entry_nodes[same + 1])),
                       shape=(n_nodes, n_nodes))
    _, component = connected_components(graph, directed=False)
    first = np.concatenate([t[5] for t in tables])
    first_of = np.full(component.max() + 1, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_of, component, first)
    rank = np.empty_like(first_of)
    rank[np.argsort(first_of, kind="stable")] = np.arange(first_of.size)
    return offsets, rank[component]


class DBSCAN(ClusterMixin, BaseEstimator):
    """Exact DBSCAN of dask data on a cluster, for euclidean and Minkowski metrics.

    Parameters
    ----------
    eps : float, default=0.5
    min_samples : int, default=5
    metric : {'euclidean', 'manhattan', 'chebyshev', 'minkowski'}, default='euclidean'
    metric_params : dict, optional
        Only ``{"p": ...}``.
    algorithm : {'auto', 'grid', 'kdtree', 'brute'}, default='auto'
        The in-memory index used per cell (every choice gives the same labels).
    leaf_size : int, default=30
    p : float, optional
        Minkowski power (>= 1), default 2.
    n_partitions : int, optional
        Cells of space; default about one per 200,000 rows, at least two per
        worker thread.
    sample_size : int, default=100_000
        Rows sampled to place the cell borders.
    random_state : int or None
        Seed of the sample (the result never depends on it).
    client : distributed.Client, optional

    Attributes
    ----------
    labels_ : dask array of shape (n_samples,), int64, in input order
    core_sample_indices_ : ndarray of shape (n_core,), int64, ascending
    n_partitions_ : int
        Cells used.
    cell_rows_ : ndarray of shape (n_partitions_,)
        Rows per cell, owned and halo: how evenly the work was spread.

    Notes
    -----
    Works best in low dimension (up to about 8 features): the halo of a cell
    grows with its surface. Rows with identical coordinates cannot be cut
    apart, so a cell holds at least all copies of one point.
    """

    def __init__(self, eps=0.5, *, min_samples=5, metric="euclidean", metric_params=None,
                 algorithm="auto", leaf_size=30, p=None, n_partitions=None,
                 sample_size=100_000, random_state=None, client=None):
        _data.store_params(self, locals())

    # The in-memory estimator's declarations, where the parameter means the same here.
    _parameter_constraints = {
        **{name: MemoryDBSCAN._parameter_constraints[name]
           for name in ("eps", "min_samples", "metric_params", "algorithm", "leaf_size", "p")},
        "metric": [Options(*METRICS)],
        "n_partitions": [Interval(Integral, 1, None), None],
        "sample_size": [Interval(Integral, 1, None)],
        "random_state": [RANDOM_STATE],
        "client": _data.CLIENT,
    }
    _parameter_hints = {
        "eps": "eps is the neighbourhood radius.",
        "min_samples": "The point itself counts.",
        "metric": "For other metrics fit clustra.DBSCAN in memory.",
    }

    def _params(self):
        check_params(self)
        eps, min_samples = self.eps, self.min_samples
        p = (self.metric_params or {}).get("p", self.p)
        if self.metric != "minkowski":
            p = METRICS[self.metric]
        p = 2.0 if p is None else p
        if isinstance(p, bool) or not isinstance(p, Real) or not p >= 1:
            raise ValueError(f"p must be a number >= 1 (the Minkowski power), got {p!r}.")
        return {"eps": float(eps), "min_samples": int(min_samples), "metric": "minkowski",
                "p": float(p), "algorithm": self.algorithm, "leaf_size": self.leaf_size}

    def fit(self, X, y=None, sample_weight=None):
        """Cluster a dask array or dataframe (of at most ~8 numeric columns).

        Parameters
        ----------
        X : dask array (n_samples, n_features) or dask dataframe
        y : ignored
        sample_weight : dask array (n_samples,), optional

        Returns
        -------
        self
        """
        import dask.array as da

        params = self._params()
        client = _data.get_client(self.client)
        blocks = _data.blocks_of(X, sample_weight, multiple=1)
        n, n_blocks = blocks.n_samples, len(blocks.x)
        starts = blocks.starts
        seed = int(np.random.RandomState(self.random_state).randint(2**31 - 1))
        n_cells = self.n_partitions or max(2 * _data.n_threads(client), -(-n // 200_000))
        cells = self._cells(client, blocks, n_cells, seed)
        w_of = (lambda i: None) if blocks.weights is None else (lambda i: blocks.weights[i])
        routed = [delayed(_route, pure=False)(blocks.x[i], w_of(i), int(starts[i]), cells,
                                              params["eps"], params["p"])
                  for i in range(n_blocks)]
        cell_data = client.persist([
            delayed(_cell)(*[delayed(_piece)(r, c) for r in routed])
            for c in range(cells.n_cells)])
        core = client.persist([delayed(_core_rows)(c, params) for c in cell_data])
        near = space.neighbour_cells(cells, params["eps"], params["p"])
        results = [delayed(_components)(cell_data[c], cells.lo[c], cells.hi[c], params, core[c],
                                        *[core[o] for o in near[c]])
                   for c in range(cells.n_cells)]
        labelled = client.persist([delayed(_labelled)(r) for r in results])
        tables = client.gather(client.compute([delayed(_table)(r) for r in results]))
        offsets, cluster_of = _merge(tables)
        finals = [delayed(_relabel)(labelled[c], cluster_of[offsets[c]:offsets[c + 1]], starts)
                  for c in range(cells.n_cells)]
        finals = client.persist(finals)
        parts = [da.from_delayed(delayed(_block_labels)(int(starts[b]), int(blocks.sizes[b]), b,
                                                        *finals),
                                 shape=(int(blocks.sizes[b]),), dtype=np.int64)
                 for b in range(n_blocks)]
        self.labels_ = da.concatenate(parts).persist()
        self.core_sample_indices_ = np.sort(np.concatenate(
            [np.empty(0, np.int64), *client.gather(client.compute(core))]))
        self.cell_rows_ = np.array(client.gather(client.compute(
            [delayed(lambda c: c[0].size)(c) for c in cell_data])))
        self.n_partitions_ = cells.n_cells
        self.n_features_in_ = blocks.n_features
        return self

    def _cells(self, client, blocks, n_cells, seed):
        from clustra.dask._init import sample_rows

        sample, _ = sample_rows(client, blocks.x, None, self.sample_size, seed,
                                blocks.n_samples)
        return space.build_cells(sample, n_cells)

    def fit_predict(self, X, y=None, sample_weight=None):
        """Cluster X and return ``labels_`` (a dask array)."""
        return self.fit(X, sample_weight=sample_weight).labels_
