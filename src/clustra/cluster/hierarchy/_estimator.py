"""Hierarchical clustering: ``linkage``, ``AgglomerativeClustering`` and the fitted tree.

``linkage`` returns SciPy's linkage matrix, merge for merge: the nearest-
neighbour chain (complete, average, weighted, ward), Muellner's generic
algorithm (centroid, median) and a minimum spanning tree (single), with the
same tie-breaking as SciPy. ``ward``, ``centroid`` and ``median`` also run from
the observations in O(n d) memory, and single linkage never needs the matrix.
Before any n^2 allocation the memory guard checks that it fits and otherwise
raises :class:`LinkageMemoryError` naming the ways out.
"""

from __future__ import annotations

import contextlib
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.utils.validation import check_is_fitted, check_memory

from clustra._config import kernel_threads, thread_limit
from clustra._kernels.distances import METRIC_ALIASES
from clustra._kernels.distances import METRICS as _KERNEL_METRICS
from clustra.cluster._common import check_n_clusters, validate_X
from clustra.cluster._params import (
    ARRAY_LIKE,
    BOOLEAN,
    CALLABLE,
    MEMORY,
    N_JOBS,
    SPARSE,
    Interval,
    InvalidParameterError,
    Options,
    check_params,
    store_parameters,
)
from clustra.cluster._tree import ClusterTree
from clustra.cluster.hierarchy._linkage import compute_linkage, linkage

__all__ = ["AgglomerativeClustering", "linkage"]

_SKLEARN_LINKAGES = ("ward", "complete", "average", "single")
_METRICS = (*_KERNEL_METRICS, *METRIC_ALIASES, "precomputed")


def _build_tree(X, linkage_name, metric, connectivity):
    """Z (SciPy layout) and the number of connected components of the graph."""
    from clustra.cluster.hierarchy import _graph

    n = X.shape[0]
    precomputed = metric == "precomputed"
    if connectivity is None:
        if precomputed:
            from scipy.spatial.distance import squareform

            data = squareform(np.asarray(X, dtype=np.float64), checks=False)
            return compute_linkage(data, linkage_name, "euclidean"), 1
        with kernel_threads():
            return compute_linkage(X, linkage_name, metric), 1
    graph, n_components = _graph.fix_connectivity(X, connectivity, metric)
    if linkage_name == "ward":
        return _graph.ward_on_graph(X, graph, n - 1), n_components
    weighted = _graph.graph_distances(X, graph, metric, precomputed)
    if linkage_name == "single":
        return _graph.single_on_graph(weighted, n), n_components
    return _graph.linkage_on_graph(weighted, n, linkage_name, n - 1), n_components


class AgglomerativeClustering(ClusterMixin, BaseEstimator):
    """Agglomerative clustering, a drop-in for scikit-learn's, with the whole tree kept.

    Parameters
    ----------
    n_clusters : int or None, default=2
        Number of clusters; ``None`` when ``distance_threshold`` is given.
    metric : str, default="euclidean"
        ``euclidean``, ``l1``, ``l2``, ``manhattan``, ``cosine``, ``chebyshev``,
        ``sqeuclidean`` or ``precomputed`` (X is then a square distance matrix).
        Ward needs ``euclidean``.
    memory : str or joblib.Memory, optional
        Cache the tree computation (as scikit-learn).
    connectivity : array-like, sparse matrix or callable, optional
        A graph between samples (or a callable ``X -> graph``, e.g.
        ``kneighbors_graph``): clusters merge only along its edges.
    compute_full_tree : "auto" or bool, default="auto"
        As scikit-learn: decides whether ``children_`` holds every merge when a
        connectivity graph is given (the full tree is always kept in ``tree_``).
    linkage : {"ward", "complete", "average", "single"}, default="ward"
    distance_threshold : float, optional
        Cut the tree where merges reach this distance (``n_clusters`` must then be None).
    compute_distances : bool, default=False
        Store ``distances_`` even without ``distance_threshold``.
    n_jobs : int, optional
        Threads for building the tree (``None``: clustra's setting, see
        :func:`clustra.thread_limit`; -1: all cores). The tree never depends on it.

    Attributes
    ----------
    labels_ : ndarray of int64, shape (n_samples,)
    n_clusters_ : int
    children_ : ndarray of shape (n_merges, 2)
        As scikit-learn: the two node ids merged at each step.
    distances_ : ndarray of shape (n_merges,)
        Merge heights (when ``distance_threshold`` or ``compute_distances``).
    n_leaves_ : int
    n_connected_components_ : int
    n_features_in_ : int
    linkage_matrix_ : ndarray of shape (n_samples - 1, 4)
        The SciPy linkage matrix.
    tree_ : ClusterTree
        The fitted tree (cuts, dendrogram, export).

    Notes
    -----
    ``predict`` assigns a new point to the cluster of its nearest training
    point for single linkage (the rule single linkage itself follows), to the
    nearest cluster mean for ward (whose clusters are compact around their
    mean), and, for complete and average linkage, to the cluster with the
    smallest complete (largest) or average distance from the point to its
    members, the rule that built the clusters. With ``metric="precomputed"``,
    predict takes distances to the training points, shape (n_new, n_train).

    Examples
    --------
    >>> import numpy as np
    >>> from clustra import AgglomerativeClustering
    >>> X = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [5.1, 5.0]])
    >>> AgglomerativeClustering(n_clusters=2).fit(X).labels_.tolist()
    [0, 0, 1, 1]
    """

    _parameter_constraints = {
        "n_clusters": [Interval(Integral, 1, None), None],
        "metric": [Options(*_METRICS)],
        "memory": [MEMORY, None],
        "connectivity": [ARRAY_LIKE, SPARSE, CALLABLE, None],
        "compute_full_tree": [Options("auto"), BOOLEAN],
        "linkage": [Options(*_SKLEARN_LINKAGES)],
        "distance_threshold": [Interval(Real, 0.0, None), None],
        "compute_distances": [BOOLEAN],
        "n_jobs": N_JOBS,
    }
    _parameter_hints = {
        "linkage": "clustra.linkage also offers weighted, centroid and median.",
    }

    def __init__(self, n_clusters=2, *, metric="euclidean", memory=None, connectivity=None,
                 compute_full_tree="auto", linkage="ward", distance_threshold=None,
                 compute_distances=False, n_jobs=None):
        store_parameters(self, locals())

    def _check_params(self):
        """The table, then the rules that tie parameters together; returns the metric."""
        check_params(self)
        if (self.n_clusters is None) == (self.distance_threshold is None):
            raise InvalidParameterError(
                "AgglomerativeClustering: exactly one of n_clusters and distance_threshold has "
                "to be set, and the other needs to be None (got "
                f"n_clusters={self.n_clusters!r}, distance_threshold={self.distance_threshold!r})."
            )
        if self.distance_threshold is not None and self.compute_full_tree is False:
            raise InvalidParameterError(
                "AgglomerativeClustering: compute_full_tree must be True (or 'auto') when "
                "distance_threshold is set."
            )
        metric = METRIC_ALIASES.get(self.metric, self.metric)
        if self.linkage == "ward" and metric != "euclidean":
            raise InvalidParameterError(
                f"AgglomerativeClustering: {self.metric!r} was provided as metric. Ward can only "
                "work with euclidean distances: use metric='euclidean' or another linkage."
            )
        return metric

    def fit(self, X, y=None):
        """Build the tree of ``X`` and cut it; returns self."""
        metric = self._check_params()
        X = validate_X(self, X, reset=True, ensure_min_samples=2)
        n = X.shape[0]
        if metric == "precomputed" and X.shape[0] != X.shape[1]:
            raise ValueError(
                f"metric='precomputed' needs a square distance matrix, got shape {X.shape}."
            )
        if self.n_clusters is not None:
            check_n_clusters(self.n_clusters, n)
        connectivity = self.connectivity
        if callable(connectivity):
            connectivity = connectivity(X)
        builder = check_memory(self.memory).cache(_build_tree)
        threads = (thread_limit(int(self.n_jobs)) if self.n_jobs not in (None, -1)
                   else contextlib.nullcontext())
        with threads:
            Z, n_components = builder(X, self.linkage, metric, connectivity)
        self.linkage_matrix_ = Z
        self.tree_ = ClusterTree(Z, data=None if metric == "precomputed" else X,
                                 metric="euclidean" if metric == "precomputed" else metric)
        self.n_leaves_ = n
        self.n_connected_components_ = n_components
        if self.distance_threshold is not None:
            self.n_clusters_ = int(np.count_nonzero(Z[:, 2] >= self.distance_threshold)) + 1
        else:
            self.n_clusters_ = int(self.n_clusters)
        n_merges = n - 1
        if connectivity is not None and not self._full_tree(n):
            n_merges = n - self.n_clusters_
        self.children_ = Z[:n_merges, :2].astype(np.intp)
        if self.distance_threshold is not None or self.compute_distances:
            self.distances_ = Z[:n_merges, 2].copy()
        self.labels_ = self.tree_.cut_exact(self.n_clusters_)
        self._fit_X = X
        return self

    def _full_tree(self, n):
        if self.compute_full_tree == "auto":
            return self.distance_threshold is not None or self.n_clusters < max(100, 0.02 * n)
        return bool(self.compute_full_tree)

    def predict(self, X):
        """Assign new points to the fitted clusters (rule in the class Notes).

        Returns
        -------
        labels : ndarray of int64, shape (n_new,)
        """
        check_is_fitted(self, "labels_")
        X = validate_X(self, X, reset=False)
        from clustra.cluster.hierarchy._predict import assign

        return assign(X, self._fit_X, self.labels_, self.n_clusters_, self.linkage,
                      METRIC_ALIASES.get(self.metric, self.metric))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.pairwise = self.metric == "precomputed"
        return tags
