"""HDBSCAN: hierarchical density-based clustering, a drop-in for scikit-learn's."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.utils.validation import check_is_fitted

import clustra.cluster.hdbscan._predict as _predict
from clustra._config import kernel_threads
from clustra._kernels.distances import METRIC_ALIASES
from clustra.cluster._common import check_sample_weight, validate_X
from clustra.cluster._params import BOOLEAN, DICT, Interval, Options, check_params, store_parameters
from clustra.cluster.hdbscan._condensed import CondensedTree
from clustra.cluster.hdbscan._engine import TREE_METRICS, build_hierarchy
from clustra.cluster.hdbscan._select import CondensedArrays, select_clusters
from clustra.cluster.hdbscan._spherical import SPHERICAL_METRICS, embed, engine_alpha, to_metric

__all__ = ["HDBSCAN", "hdbscan"]

METRICS = (*TREE_METRICS, "cityblock", "l1", "l2", *SPHERICAL_METRICS, "precomputed")
# scikit-learn's encoding of rows it cannot cluster.
INFINITE_LABEL, MISSING_LABEL = -2, -3


class HDBSCAN(ClusterMixin, BaseEstimator):
    """Hierarchical density-based clustering (HDBSCAN*), exact and O(n) in memory.

    Parameters (as scikit-learn's ``sklearn.cluster.HDBSCAN``)
    ----------------------------------------------------------
    min_cluster_size : int, default=5
        Smallest weight a group needs to count as a cluster (>= 2).
    min_samples : int, optional
        Neighbours (the point itself included) whose distance defines a
        point's core distance; None: ``min_cluster_size``.
    cluster_selection_epsilon : float, default=0.0
        Clusters born below this distance are merged upwards.
    max_cluster_size : int, optional
        EOM never selects a cluster heavier than this (None: no limit).
    metric : str, default="euclidean"
        "euclidean", "manhattan" (or "cityblock", "l1"), "chebyshev",
        "minkowski" (``metric_params={"p": ...}``), "cosine", "haversine"
        (2 columns: latitude, longitude in radians; distances in radians) or
        "precomputed" (a dense square distance matrix). Cosine and haversine
        run the Euclidean engine on unit rows / 3-D unit vectors and map every
        distance back (both maps are increasing), so everything fitted is in
        the metric's units; cosine refuses rows of norm zero and haversine
        refuses ``alpha != 1``.
    metric_params : dict, optional
        ``{"p": ...}`` for Minkowski.
    alpha : float, default=1.0
        Pair distances are divided by ``alpha`` in the mutual reachability
        ``max(core_i, core_j, d_ij / alpha)`` (core distances are not).
    algorithm : {"auto", "brute", "kd_tree", "ball_tree"}, default="auto"
        "auto": Boruvka on a KD-tree for Euclidean data up to 64 features,
        Prim with distances on the fly otherwise and on few rows (no KD-tree
        is built then until a prediction needs one); "kd_tree"/"ball_tree":
        Boruvka (Euclidean) or KD-tree core distances and Prim; "brute": Prim.
        Every choice gives the same tree.
    leaf_size : int, default=40
        KD-tree leaf size when ``algorithm`` is not "auto".
    n_jobs : int, optional
        Threads (None: clustra's setting; -1: all cores). Results never depend on it.
    cluster_selection_method : {"eom", "leaf"}, default="eom"
    allow_single_cluster : bool, default=False
    store_centers : {None, "centroid", "medoid", "both"}, default=None
    copy : bool, default=False
        Accepted for compatibility; the input is never modified.

    Attributes
    ----------
    labels_ : ndarray of int64, shape (n_samples,)
        Cluster per point; -1 noise, -2 rows with inf, -3 rows with NaN (as scikit-learn).
    probabilities_ : ndarray of float64
        Membership strength (the hdbscan package's definition).
    outlier_scores_ : ndarray of float64
        GLOSH scores (Campello et al. 2015), as the hdbscan package's; NaN for
        rows with inf or NaN.
    condensed_tree_ : CondensedTree
    single_linkage_tree_ : clustra.ClusterTree
        Single linkage of mutual reachability distances (finite rows only).
    core_distances_ : ndarray of float64
    exemplars_ : list of ndarray
        Per cluster, the points of its leaf clusters that persist longest.
    cluster_persistence_ : ndarray of float64
    centroids_, medoids_ : ndarray, per ``store_centers``
    n_features_in_ : int

    Notes
    -----
    The result is scikit-learn's partition. Where the two references differ:

    - ``min_samples`` counts the point itself, as in scikit-learn and both
      papers (Campello et al. 2013, 2015); the hdbscan package's
      ``min_samples`` is ours minus one.
    - Probabilities divide by the largest lambda among a cluster's rows (the
      hdbscan package sorts by parent first); scikit-learn's ``max_lambdas``
      keeps the largest of the last contiguous run of rows of each parent,
      which can differ in principle (it agreed on every input tested).
    - EOM compares stabilities in float64 (scikit-learn); the hdbscan package
      rounds the children's sum to float32.
    - ``cluster_selection_epsilon`` works on every input (scikit-learn 1.9.1
      raises a TypeError in its epsilon search on some inputs); there the
      result is the hdbscan package's.
    - ``alpha`` divides pair distances only (both references' tree-based
      paths); their brute-force paths divide the whole matrix first, core
      distances included. The papers have no alpha (it comes from robust
      single linkage, where it scales the pair distance).
    - Non-finite rows: labels -2 (inf) and -3 (NaN) as scikit-learn; the
      hdbscan package refuses them.
    - Cosine and haversine: scikit-learn computes them by brute force (cosine
      refuses "kd_tree" and "ball_tree", haversine "kd_tree"); here every
      ``algorithm`` runs the Euclidean engine on the embedded rows (unit rows,
      or 3-D unit vectors) and gives the same tree. scikit-learn treats a row
      of norm zero as at cosine distance 1 from every row; the cosine distance
      is undefined there, so clustra refuses it. With cosine, scikit-learn's
      brute-force path divides core distances by ``alpha`` too (see above).
    - Ties: mutual reachability has many equal weights. This implementation
      merges equal weights in the order (weight, lower row, higher row); both
      references merge them in the order of an unstable sort of their
      spanning tree, so a point whose core distance equals the height of a
      split can land on a different side (it leaves at the split's lambda
      either way). The papers define the split at that level as simultaneous.

    Memory is O(n) beyond the input (the KD-tree, the spanning tree, the
    condensed tree); Boruvka runs in about O(n log n) in low dimension.

    Examples
    --------
    >>> import numpy as np
    >>> from clustra import HDBSCAN
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(0, 0.3, (50, 2)), rng.normal(5, 0.3, (50, 2))])
    >>> labels = HDBSCAN(min_cluster_size=10).fit(X).labels_
    >>> sorted(set(labels.tolist()))
    [0, 1]
    """

    _parameter_constraints = {
        "min_cluster_size": [Interval(Integral, 2, None)],
        "min_samples": [Interval(Integral, 1, None), None],
        "cluster_selection_epsilon": [Interval(Real, 0.0, None)],
        "max_cluster_size": [Interval(Integral, 1, None), None],
        "metric": [Options(*METRICS)],
        "metric_params": [DICT, None],
        "alpha": [Interval(Real, 0.0, None, closed="neither")],
        "algorithm": [Options("auto", "brute", "kd_tree", "ball_tree")],
        "leaf_size": [Interval(Integral, 1, None)],
        "n_jobs": [Interval(Integral, -1, None), None],
        "cluster_selection_method": [Options("eom", "leaf")],
        "allow_single_cluster": [BOOLEAN],
        "store_centers": [Options("centroid", "medoid", "both"), None],
        "copy": [BOOLEAN],
    }

    def __init__(self, min_cluster_size=5, min_samples=None, cluster_selection_epsilon=0.0,
                 max_cluster_size=None, metric="euclidean", metric_params=None, alpha=1.0,
                 algorithm="auto", leaf_size=40, n_jobs=None, cluster_selection_method="eom",
                 allow_single_cluster=False, store_centers=None, copy=False):
        store_parameters(self, locals())

    # -- fitting ----------------------------------------------------------------------
    def _resolved(self):
        """Checked settings as a dict (the estimator's attributes are never changed)."""
        check_params(self)
        extra = dict(self.metric_params or {})
        name = type(self).__name__
        if set(extra) - {"p"}:
            raise ValueError(f"{name}: metric_params may only hold 'p' (for minkowski); got "
                             f"keys {sorted(extra)}.")
        p = extra.get("p", 2.0)
        if isinstance(p, bool) or not isinstance(p, Real) or not p >= 1:
            raise ValueError(f"{name}: metric_params['p'] must be a number >= 1 (the "
                             f"Minkowski power); got {p!r}.")
        metric = METRIC_ALIASES.get(self.metric, self.metric)
        if metric == "minkowski":
            metric = {1.0: "manhattan", 2.0: "euclidean", np.inf: "chebyshev"}.get(
                float(p), metric)
        if metric == "precomputed" and self.store_centers is not None:
            raise ValueError(f"{name}: store_centers={self.store_centers!r} needs the "
                             "observations; it cannot be used with metric='precomputed'.")
        n_jobs = self.n_jobs
        if n_jobs is not None and n_jobs == 0:
            raise ValueError(f"{name}: n_jobs must be a positive integer, -1 or None; got 0.")
        return {
            "min_samples": self.min_cluster_size if self.min_samples is None
            else int(self.min_samples),
            "metric": metric, "p": float(p),
            "engine_alpha": engine_alpha(float(self.alpha), metric, name)
            if metric in SPHERICAL_METRICS else float(self.alpha),
            "threads": None if n_jobs in (None, -1) else int(n_jobs),
        }

    def fit(self, X, y=None, sample_weight=None):
        """Cluster ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), or (n_samples, n_samples)
            with ``metric="precomputed"``. Rows with inf or NaN are left out
            and labelled -2 / -3, as in scikit-learn.
        y : ignored
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weights; rows of weight 0 are left out (labelled -1).
            A point's core distance is the smallest radius whose ball holds a
            weight of at least ``min_samples`` (itself included) and cluster
            sizes are weights. With integer weights the core distances are
            those of the data with every row repeated ``weight`` times, and the
            labels agree up to the order of tied merges (the repeated copies
            merge at distance 0). Neither reference supports weights.
        """
        settings = self._resolved()
        name = type(self).__name__
        precomputed = settings["metric"] == "precomputed"
        X = validate_X(self, X, reset=True, dtype=[np.float64, np.float32], order="C",
                       ensure_finite=precomputed)
        weight = None
        if sample_weight is not None:
            weight = check_sample_weight(sample_weight, X.shape[0], np.float64)
        if precomputed:
            if X.shape[0] != X.shape[1] or (X < 0).any():
                raise ValueError(f"{name}: metric='precomputed' needs a square matrix of "
                                 f"non-negative distances; got shape {X.shape}.")
            finite = np.ones(X.shape[0], dtype=bool)
        else:
            finite = np.isfinite(X).all(axis=1)
        # Rows of weight 0 take no part (as if absent) and are labelled noise.
        used = finite if weight is None else finite & (weight > 0)
        if precomputed:
            data = np.ascontiguousarray(X[np.ix_(used, used)], dtype=np.float64)
        else:
            data = np.ascontiguousarray(X[used], dtype=np.float64)
        weight = None if weight is None else weight[used]
        n = data.shape[0]
        min_samples = settings["min_samples"]
        if n < 2:
            raise ValueError(f"{name} needs at least 2 samples with finite values; got "
                             f"n_samples={n}.")
        if min_samples > n:
            raise ValueError(f"{name}: min_samples ({min_samples}) must be at most the number "
                             f"of samples in X ({n}); lower min_samples or min_cluster_size.")
        metric = settings["metric"]
        spherical = metric in SPHERICAL_METRICS
        engine_data = embed(data, metric, name) if spherical else data
        with kernel_threads(settings["threads"], limit_blas=False):
            hierarchy = build_hierarchy(
                engine_data, weight, min_samples=min_samples, alpha=settings["engine_alpha"],
                metric="euclidean" if spherical else metric, p=settings["p"],
                algorithm=self.algorithm, leaf_size=int(self.leaf_size))
        if spherical:
            # Increasing maps keep the tree; heights and core distances go to metric units.
            hierarchy.linkage[:, 2] = to_metric(hierarchy.linkage[:, 2], metric)
            hierarchy = hierarchy._replace(
                core_distances=to_metric(hierarchy.core_distances, metric))
        self._store(hierarchy, data, weight, used, finite, X)
        return self

    def _store(self, hierarchy, data, weight, used, finite, X):
        from clustra._kernels.condense import condense_tree, glosh
        from clustra.cluster._tree import ClusterTree

        n = data.shape[0]
        point_weight = np.ones(n) if weight is None else weight
        arrays = CondensedArrays(*condense_tree(hierarchy.linkage, point_weight,
                                                float(self.min_cluster_size)))
        selection = select_clusters(
            arrays, n, self.cluster_selection_method, bool(self.allow_single_cluster),
            float(self.cluster_selection_epsilon), self.max_cluster_size)
        n_ids = int(max(arrays.child.max(), n)) + 1
        scores = glosh(arrays.parent, arrays.child, arrays.lambda_val, n, n_ids)
        self.condensed_tree_ = CondensedTree(arrays, n, selection.clusters, selection.stability)
        self.single_linkage_tree_ = ClusterTree(hierarchy.linkage)
        self._finite_rows = np.flatnonzero(used)
        self._fit_data = data
        self._fit_weight = weight
        self._algorithm = hierarchy.algorithm
        self._kdtree = hierarchy.tree
        n_rows = finite.shape[0]
        self.labels_ = np.full(n_rows, -1, dtype=np.int64)
        self.probabilities_ = np.zeros(n_rows)
        self.outlier_scores_ = np.full(n_rows, np.nan)
        self.core_distances_ = np.full(n_rows, np.nan)
        self.labels_[used] = selection.labels
        self.probabilities_[used] = selection.probabilities
        self.outlier_scores_[used] = scores
        self.core_distances_[used] = hierarchy.core_distances
        if not finite.all():
            bad = np.flatnonzero(~finite)
            has_nan = np.isnan(X[bad]).any(axis=1)
            self.labels_[bad] = np.where(has_nan, MISSING_LABEL, INFINITE_LABEL)
        self.cluster_persistence_ = _predict.persistence(self.condensed_tree_)
        self.exemplars_ = ([] if self.metric == "precomputed"
                           else _predict.exemplars(self.condensed_tree_, data))
        if self.store_centers is not None:
            _predict.store_centers(self, data)

    def fit_predict(self, X, y=None, sample_weight=None):
        """Cluster ``X`` and return ``labels_``."""
        return self.fit(X, sample_weight=sample_weight).labels_

    # -- after fitting --------------------------------------------------------------
    def dbscan_clustering(self, cut_distance, min_cluster_size=5):
        """DBSCAN* labels at ``cut_distance`` of mutual reachability (no border points).

        Components of the single linkage tree below ``cut_distance`` lighter
        than ``min_cluster_size`` are noise (-1); -2/-3 rows keep their labels.
        """
        check_is_fitted(self, "labels_")
        return _predict.dbscan_clustering(self, cut_distance, min_cluster_size)

    def approximate_predict(self, X):
        """Labels and probabilities of new points without refitting.

        A new point's core distance is the distance to its ``min_samples - 1``
        nearest training point (it counts itself); it joins the tree at its
        smallest mutual reachability distance to one of its ``2 min_samples``
        nearest training points, in the cluster that neighbour belonged to at
        that lambda (the hdbscan package's rule). Returns ``(labels, probabilities)``.
        """
        check_is_fitted(self, "labels_")
        return _predict.approximate_predict(self, X)

    def membership_vectors(self, X=None):
        """Soft clustering: per point, the probability of belonging to each cluster.

        ``X=None`` gives the training points (the hdbscan package's
        ``all_points_membership_vectors``), else new points
        (``membership_vector``). Returns float64 (n, n_clusters).
        """
        check_is_fitted(self, "labels_")
        return _predict.membership_vectors(self, X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.pairwise = self.metric == "precomputed"
        tags.input_tags.allow_nan = self.metric != "precomputed"
        return tags


def hdbscan(X, min_cluster_size=5, *, sample_weight=None, **params):
    """Functional HDBSCAN: ``(labels, probabilities)``; ``params`` as :class:`HDBSCAN`."""
    model = HDBSCAN(min_cluster_size=min_cluster_size, **params)
    model.fit(X, sample_weight=sample_weight)
    return model.labels_, model.probabilities_
