"""Genie: hierarchical clustering on the minimum spanning tree with a Gini-index correction.

``Genie`` gives the labels of ``genieclust.Genie`` (1.3) on the same input:
the same spanning tree (up to the choice among equally light trees when
distances tie), edges in the same order ``(weight, low, high)``, the same
merge rule and Gini index, the same label numbering. Every number of
clusters comes from one run (:meth:`Genie.cut_range`).
"""

from __future__ import annotations

import os
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.utils.validation import check_is_fitted

from clustra._config import kernel_threads
from clustra.cluster._common import check_n_clusters, validate_X, writeable
from clustra.cluster._params import BOOLEAN, Interval, Options, check_params, store_parameters

__all__ = ["Genie", "genie"]

METRICS = ("euclidean", "l2", "manhattan", "l1", "cityblock", "cosine", "chebyshev",
           "precomputed")


class Genie(ClusterMixin, BaseEstimator):
    """Genie clustering (Gagolewski, Bartoszuk, Cena 2016), labels as genieclust's.

    Genie merges clusters along a minimum spanning tree in order of edge
    weight, as single linkage does, except that while the Gini index of the
    cluster sizes exceeds ``gini_threshold`` the next merge joins a cluster of
    the smallest size with its nearest neighbour (the lightest remaining tree
    edge touching it). Small groups of outliers thus cannot stay apart as
    clusters of their own.

    Parameters
    ----------
    n_clusters : int, default=2
        Number of clusters.
    gini_threshold : float in [0, 1], default=0.3
        Threshold for the Genie correction; 1 gives single linkage. Values
        of 0.1-0.5 usually work well.
    M : int, default=1
        Smoothing of the mutual reachability distance. ``M <= 1``: the
        metric itself. ``M > 1``: ``max(d(i, j), core(i), core(j))`` with
        ``core(i)`` the distance to the ``M``-th nearest other point (as
        genieclust; the hdbscan package's ``min_samples`` counts the point
        itself, i.e. ``min_samples = M + 1``). ``M`` must be below the
        number of samples.
    metric : {"euclidean", "l2", "manhattan", "l1", "cityblock", "cosine", "chebyshev", \
"precomputed"}
        Distance between observations; ``precomputed``: ``X`` is a square
        distance matrix (and ``predict`` takes distances to the training
        points, shape (n_new, n_train)).
    compute_full_tree : bool, default=True
        Run the merges down to one cluster (``tree_``, ``cut_range`` for any
        k). ``False`` stops at ``n_clusters`` (``cut_range`` then only for
        ``k >= n_clusters``; no ``tree_``).
    n_jobs : int, optional
        Threads for the spanning tree (``None``: clustra's setting, -1: all
        cores). Labels never depend on it.

    Attributes
    ----------
    labels_ : ndarray of int64, shape (n_samples,)
        Cluster of each point, numbered 0.. in order of first appearance.
    n_clusters_ : int
    children_ : ndarray of int64, shape (n_merges, 2)
        The cluster ids merged at each step (SciPy's numbering: ids below
        ``n_samples`` are points, ``n_samples + t`` the cluster made at step
        t), in genieclust's order: first the side of the tree edge's lower
        row (``linkage_matrix_`` puts the smaller id first, as SciPy).
    distances_ : ndarray of float64, shape (n_merges,)
        Weight of the tree edge of each merge, made non-decreasing as
        genieclust does (``distances_[t] = min(weights[t:])``).
    counts_ : ndarray of int64, shape (n_merges,)
        Size of the cluster made at each step.
    linkage_matrix_ : ndarray of shape (n_merges, 4)
        ``children_``, ``distances_``, ``counts_`` in SciPy's layout.
    tree_ : ClusterTree or None
        The hierarchy (dendrogram, export); ``tree_.cut_exact(k)`` is Genie's
        ``k``-partition. None when ``compute_full_tree=False``.
    mst_edges_ : ndarray of int64, shape (n_samples - 1, 2)
        The spanning tree's edges, sorted by ``(weight, low, high)``.
    mst_weights_ : ndarray of float64, shape (n_samples - 1,)
    merge_order_ : ndarray of int64, shape (n_merges,)
        Index into ``mst_edges_`` of the edge merged at each step.
    core_distances_ : ndarray of float64, shape (n_samples,) or None
        Core distances when ``M > 1``.
    n_features_in_ : int

    Notes
    -----
    The spanning tree comes from clustra's one engine
    (:func:`clustra._kernels.mst.mst_edges`, shared with single linkage and
    HDBSCAN): about O(n log n) for low-dimensional Euclidean data (Boruvka on
    a KD-tree; for ``M > 1`` up to 64 features, with the mutual reachability
    distance) and O(n^2 d) otherwise (Prim with distances on the fly), O(n)
    memory. The merges take O(n sqrt(n)) at worst.

    When several spanning trees are minimal (tied distances, duplicate
    points, and very often for ``M > 1``, where many mutual reachability
    distances equal a core distance), clustra takes the one tree of the
    order (weight, lower row, higher row); genieclust's may differ (its own
    choice varies from run to run with its threads), and so may the labels;
    on the same tree the labels are always the same.

    ``predict`` gives a new point the label of its nearest training point
    (the rule by which Genie itself attaches a point to a cluster: along its
    lightest edge).

    Examples
    --------
    >>> import numpy as np
    >>> from clustra import Genie
    >>> X = np.array([[0.0, 0.0], [0.1, 0.0], [0.2, 0.0], [5.0, 5.0], [5.1, 5.0]])
    >>> Genie(n_clusters=2).fit(X).labels_.tolist()
    [0, 0, 0, 1, 1]
    """

    _parameter_constraints = {
        "n_clusters": [Interval(Integral, 1, None)],
        "gini_threshold": [Interval(Real, 0.0, 1.0)],
        "M": [Interval(Integral, 0, None)],
        "metric": [Options(*METRICS)],
        "compute_full_tree": [BOOLEAN],
        "n_jobs": [Interval(Integral, 1, None), Options(-1), None],
    }

    def __init__(self, n_clusters=2, *, gini_threshold=0.3, M=1, metric="euclidean",
                 compute_full_tree=True, n_jobs=None):
        store_parameters(self, locals())

    def _prepare(self, X):
        """Check the settings and return the data as float64, C-contiguous."""
        check_params(self)
        X = validate_X(self, X, reset=True, ensure_min_samples=2)
        n = X.shape[0]
        if self.metric == "precomputed" and X.shape[0] != X.shape[1]:
            raise ValueError(
                f"Genie: metric='precomputed' needs a square distance matrix, got shape "
                f"{X.shape}; pass scipy.spatial.distance.squareform(pdist(X))."
            )
        if self.metric == "precomputed" and ((X < 0).any() or not np.allclose(X, X.T)):
            raise ValueError(
                "Genie: metric='precomputed' needs distances: a symmetric matrix with "
                "entries >= 0; this one has negative entries or is not symmetric."
            )
        check_n_clusters(self.n_clusters, n)
        if self.M >= n:
            raise ValueError(
                f"Genie: M={self.M} needs more than M samples, got {n}; use M < {n} "
                "(M <= 1 for the plain metric)."
            )
        return writeable(X, np.float64)

    def fit(self, X, y=None):
        """Build the spanning tree of ``X``, run the Genie merges, and cut; returns self."""
        from clustra._kernels.genie import genie_merges
        from clustra._kernels.mst import mst_edges, mst_edges_precomputed

        data = self._prepare(X)
        n = data.shape[0]
        with kernel_threads(self._threads(), limit_blas=False):
            # Genie's M-th nearest other point is the engine's (M+1)-th counting itself.
            k = int(self.M) + 1 if self.M > 1 else 1
            if self.metric == "precomputed":
                tree = mst_edges_precomputed(data, k)
            else:
                tree = mst_edges(data, self.metric, k)
            stop = 1 if self.compute_full_tree else int(self.n_clusters)
            merges = genie_merges(tree.low, tree.high, n, float(self.gini_threshold), stop)
        self._fit_X = data
        self._set_hierarchy(tree, merges, n)
        self.labels_ = self._partitions([int(self.n_clusters)])[0]
        self.n_clusters_ = int(self.n_clusters)
        self.core_distances_ = tree.core
        return self

    def _threads(self) -> int | None:
        """Threads for the kernels: None is clustra's setting, -1 every core."""
        if self.n_jobs == -1:
            return os.cpu_count() or 1
        return None if self.n_jobs is None else int(self.n_jobs)

    def _set_hierarchy(self, tree, merges, n):
        from clustra._kernels.genie import merge_children

        children, counts = merge_children(tree.low, tree.high, merges, n)
        weights = tree.weight[merges]
        # genieclust's correction: a merge's height is at most every later one's.
        heights = np.minimum.accumulate(weights[::-1])[::-1]
        Z = np.empty((merges.shape[0], 4), dtype=np.float64)
        Z[:, 0] = children.min(axis=1)
        Z[:, 1] = children.max(axis=1)
        Z[:, 2] = heights
        Z[:, 3] = counts
        self.mst_edges_ = np.column_stack([tree.low, tree.high])
        self.mst_weights_ = tree.weight
        self.merge_order_ = merges
        self.linkage_matrix_ = Z
        self.children_ = children
        self.distances_ = heights
        self.counts_ = counts
        self._tree = None

    @property
    def tree_(self):
        """The fitted hierarchy as a :class:`~clustra.ClusterTree` (built on first use)."""
        if "linkage_matrix_" not in vars(self):
            raise AttributeError("tree_ exists once Genie is fitted; call fit first.")
        n = self.mst_edges_.shape[0] + 1
        if self._tree is None and self.merge_order_.shape[0] == n - 1:
            from clustra._kernels.distances import canonical_metric

            # The hierarchy's public tree object: cuts, dendrogram and export for free.
            from clustra.cluster._tree import ClusterTree

            if self.metric == "precomputed":
                self._tree = ClusterTree(self.linkage_matrix_)
            else:
                self._tree = ClusterTree(self.linkage_matrix_, data=self._fit_X,
                                         metric=canonical_metric(self.metric)[0])
        return self._tree

    def _partitions(self, k_values) -> np.ndarray:
        from clustra._kernels.genie import partitions

        low = np.ascontiguousarray(self.mst_edges_[:, 0])
        high = np.ascontiguousarray(self.mst_edges_[:, 1])
        n = low.shape[0] + 1
        return partitions(low, high, self.merge_order_, n, np.asarray(k_values, dtype=np.int64))

    def cut_range(self, k_values) -> np.ndarray:
        """Genie's labels for every ``k`` in ``k_values`` from this one fit.

        Each row equals ``Genie(n_clusters=k, ...)``'s ``labels_`` with the
        other settings unchanged.

        Returns
        -------
        labels : ndarray of int64, shape (len(k_values), n_samples)
        """
        check_is_fitted(self, "merge_order_")
        n = self.mst_edges_.shape[0] + 1
        lowest = n - self.merge_order_.shape[0]
        k_values = list(k_values)
        for k in k_values:
            check_n_clusters(k, n, name="k")
            if k < lowest:
                raise ValueError(
                    f"This fit stopped at {lowest} clusters (compute_full_tree=False), so it "
                    f"cannot give k={k}; refit with compute_full_tree=True."
                )
        return self._partitions(k_values)

    def predict(self, X):
        """Label of the nearest training point for each new point.

        Returns
        -------
        labels : ndarray of int64, shape (n_new,)
        """
        check_is_fitted(self, "labels_")
        if self.metric == "precomputed":
            D = validate_X(self, X, reset=False)
            return self.labels_[np.argmin(D, axis=1)]
        X = writeable(validate_X(self, X, reset=False), np.float64)
        from clustra._kernels.distances import canonical_metric, metric_code
        from clustra._kernels.kdtree import BOX_BOUNDED, build_kdtree, kneighbors

        code, p = metric_code(self.metric)
        if code in BOX_BOUNDED:
            with kernel_threads(self._threads(), limit_blas=False):
                tree = build_kdtree(self._fit_X, leaf_size=16)
                _, rows = kneighbors(tree, X, 1, code, p)
            return self.labels_[rows[:, 0]]
        from sklearn.metrics import pairwise_distances_argmin

        name = canonical_metric(self.metric)[0]
        return self.labels_[pairwise_distances_argmin(X, self._fit_X, metric=name)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.pairwise = self.metric == "precomputed"
        return tags


def genie(X, n_clusters=2, *, gini_threshold=0.3, M=1, metric="euclidean", n_jobs=None):
    """Functional Genie: the labels of ``Genie(...).fit(X)``.

    Parameters are those of :class:`Genie`.

    Returns
    -------
    labels : ndarray of int64, shape (n_samples,)
    """
    return Genie(n_clusters, gini_threshold=gini_threshold, M=M, metric=metric,
                 n_jobs=n_jobs).fit(X).labels_
