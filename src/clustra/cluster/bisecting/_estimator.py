"""Bisecting K-Means: :class:`BisectingKMeans` and the functional form :func:`bisecting_k_means`.

A drop-in for scikit-learn's ``BisectingKMeans`` on clustra's K-Means
kernels: for the same integer ``random_state`` the same clusters are split in
the same order from the same initial centres (see ``_bisect`` for the rules),
so labels, centres and inertia equal scikit-learn's; the hierarchy it built
is public as ``tree_``.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.utils import check_random_state

import clustra.cluster.bisecting._kmeans_steps as steps
from clustra._docs import fill_doc
from clustra.cluster._common import (
    FLOAT_DTYPES,
    check_n_clusters,
    check_sample_weight,
    validate_X,
    writeable,
)
from clustra.cluster._params import (
    BOOLEAN,
    CALLABLE,
    Interval,
    Options,
    check_params,
    store_parameters,
)
from clustra.cluster.bisecting._bisect import STRATEGIES, SplitSettings, bisect
from clustra.cluster.bisecting._tree import BisectingTree

__all__ = ["BisectingKMeans", "bisecting_k_means"]


class BisectingKMeans(steps.CentroidEstimator):
    """Bisecting K-Means: split the cluster with the largest inertia (or most rows) in two,
    until there are ``n_clusters``.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters.
    init : {'k-means++', 'random'} or callable, default='random'
        How each bisection's two initial centres are drawn from the rows of
        the cluster being split (weighted by ``sample_weight``); a callable
        ``init(X, n_clusters=2, random_state=...)`` returns two centres.
    n_init : int, default=1
        2-means runs per bisection; the one with the lowest inertia is kept.
    random_state : int, RandomState instance or None, default=None
        Seed for the initial centres of every bisection, drawn in turn.
    max_iter : int, default=300
        Maximum iterations of each 2-means run.
    verbose : int, default=0
        When positive, each split is logged (logger ``clustra.cluster.bisecting._bisect``,
        level INFO).
    tol : float, default=1e-4
        A 2-means run stops when the squared centre shifts sum to at most
        ``tol`` (used as it is, as scikit-learn's BisectingKMeans does; its
        KMeans scales it by the data's variance).
    copy_x : bool, default=True
        If False, X (when already float and C-contiguous) is centred in place
        during fit and restored afterwards.
    algorithm : {'auto', 'lloyd', 'elkan', 'hamerly'}, default='auto'
        The 2-means run: 'lloyd' scores every row at every iteration;
        'hamerly' (and its synonym 'elkan', the bounded exact variant) keeps
        distance bounds and skips rows they settle, with the same iterates.
        'auto' is Lloyd (with two centres Hamerly's bounds save little). The
        results do not depend on it.
    bisecting_strategy : {'biggest_inertia', 'largest_cluster'}, default='biggest_inertia'
        Which cluster to split next: the one with the largest inertia, or the
        one with the most rows (the first in depth-first order among equals).
    n_jobs : int or None, default=None
        Threads for the kernels (-1 or None: every core, or what
        :func:`clustra.thread_limit` allows). Results do not depend on it.

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
    labels_ : ndarray of shape (n_samples,), int32
        Clusters numbered by the tree's leaves in depth-first order.
    inertia_ : float
        Weighted sum of squared distances of the samples to their centre.
    tree_ : BisectingTree
        The splits in order: ``tree_.cut(n_clusters=j)`` is the partition
        after ``j - 1`` splits (equal to a fit with ``n_clusters=j`` and the
        same integer ``random_state``), ``tree_.cut_range``,
        ``tree_.plot_dendrogram()``, ``tree_.to_pandas()``.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when X has string feature names.

    Notes
    -----
    Each split costs a 2-means fit on the rows of the cluster split, after
    copying them out (O(n_rows d) memory at a time); a balanced tree touches
    every row about ``log2(n_clusters)`` times. :meth:`predict` goes down the
    tree as scikit-learn's does (at each split, the nearer of the two
    children's centres), which need not be the nearest final centre.

    Where the results can differ from scikit-learn's: near-ties in a row's
    two distances (rounding), and, for float32 X with ``n_init > 1``, the run
    kept at a split when two runs' inertias lie within scikit-learn's float32
    summation error (which depends on its thread count) of its 1e-6 margin;
    clustra sums in float64, as it does the leaf scores of "biggest_inertia".

    Examples
    --------
    >>> import numpy as np
    >>> from clustra import BisectingKMeans
    >>> X = np.array([[1, 1], [10, 1], [3, 1], [10, 0], [2, 1], [10, 2],
    ...               [10, 8], [10, 9], [10, 10]])
    >>> model = BisectingKMeans(n_clusters=3, random_state=0).fit(X)
    >>> model.labels_
    array([0, 2, 0, 2, 0, 2, 1, 1, 1], dtype=int32)
    >>> model.predict([[0, 0], [12, 3]])
    array([0, 2], dtype=int32)
    >>> model.tree_.cut(n_clusters=2)
    array([0, 1, 0, 1, 0, 1, 1, 1, 1], dtype=int32)
    """

    # The tree reaches n_clusters and no further: a sweep over k fits the largest k and
    # cuts it (clustra.selection._fitting.labels_for_k).
    _tree_up_to_n_clusters = True

    _parameter_constraints = {
        **{name: steps.COMMON_CONSTRAINTS[name]
           for name in ("n_clusters", "random_state", "max_iter", "verbose", "tol", "n_jobs")},
        # No explicit centres (each split draws its own) and no n_init="auto".
        "init": [Options("k-means++", "random"), CALLABLE],
        "n_init": [Interval(Integral, 1, None)],
        "copy_x": [BOOLEAN],
        "algorithm": [Options("auto", "lloyd", "elkan", "hamerly")],
        "bisecting_strategy": [Options(*STRATEGIES)],
    }

    def __init__(self, n_clusters=8, *, init="random", n_init=1, random_state=None, max_iter=300,
                 verbose=0, tol=1e-4, copy_x=True, algorithm="auto",
                 bisecting_strategy="biggest_inertia", n_jobs=None):
        store_parameters(self, locals())

    def _threads(self, n_rows: int):
        return steps.threads(None if self.n_jobs in (None, -1) else int(self.n_jobs), n_rows)

    @fill_doc
    def fit(self, X, y=None, sample_weight=None):
        """Compute the bisecting K-Means clustering.

        %(fit_parameters)s
            Non-negative weight of each sample (not used by a callable ``init``).

        Returns
        -------
        self
        """
        check_params(self)
        X_given = X
        X = validate_X(self, X, reset=True, dtype=FLOAT_DTYPES, order="C")
        n_clusters = check_n_clusters(self.n_clusters, X.shape[0])
        weights = writeable(check_sample_weight(sample_weight, X.shape[0], X.dtype))
        settings = SplitSettings(
            strategy=self.bisecting_strategy,
            init=self.init,
            kind=self.init if isinstance(self.init, str) else "callable",
            n_init=int(self.n_init),
            max_iter=int(self.max_iter),
            tol=float(self.tol),
            run=steps.run_name(self.algorithm),
            verbose=self.verbose,
        )
        random_state = check_random_state(self.random_state)
        # scikit-learn centres X on its mean (numpy's, in X's dtype) before bisecting;
        # the same frame gives the same bits.
        x_mean = X.mean(axis=0)
        private = X is not X_given and X.flags.owndata
        in_place = X.flags.writeable and (private or not self.copy_x)
        X_centred = X if in_place else np.empty_like(X)
        np.subtract(X, x_mean, out=X_centred)
        try:
            with self._threads(X.shape[0]):
                result = bisect(X_centred, weights, n_clusters, settings, random_state)
        finally:
            X_centred += x_mean
        self.tree_ = BisectingTree(result, x_mean)
        self.labels_ = result.labels
        self.cluster_centers_ = result.centers[result.leaves] + x_mean
        # As scikit-learn: the inertia of the data put back, against the centres put back
        # (so that clusters of copies of one point have inertia exactly 0).
        with self._threads(X.shape[0]):
            self.inertia_ = float(steps.inertia(X_centred, weights, self.cluster_centers_,
                                                self.labels_))
        self._n_features_out = n_clusters
        return self

    def _predict(self, X):
        """The cluster of each sample, going down the tree as scikit-learn's does.

        At each split a sample goes to the child whose centre is nearer, until
        it reaches a final cluster (which need not hold the nearest final centre).
        """
        tree = self.tree_
        centers = np.ascontiguousarray(tree.node_centers, dtype=X.dtype)
        split_step = {int(node): step for step, node in enumerate(tree.split_nodes)}
        leaf_label = {int(node): label for label, node in enumerate(tree.leaf_nodes)}
        labels = np.empty(X.shape[0], dtype=np.int32)
        pending = [(0, np.arange(X.shape[0]))]
        while pending:
            node, rows = pending.pop()
            if node in leaf_label:
                labels[rows] = leaf_label[node]
                continue
            left = 2 * split_step[node] + 1
            side = steps.assign_labels(np.ascontiguousarray(X[rows]), centers[left:left + 2])
            pending.append((left, rows[side == 0]))
            pending.append((left + 1, rows[side == 1]))
        return labels

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def bisecting_k_means(X, n_clusters=8, *, sample_weight=None, init="random", n_init=1,
                      random_state=None, max_iter=300, tol=1e-4, copy_x=True, algorithm="auto",
                      bisecting_strategy="biggest_inertia", n_jobs=None, return_tree=False):
    """Functional bisecting K-Means: fit :class:`BisectingKMeans` and return its results.

    Parameters are those of :class:`BisectingKMeans`; the results are those of
    :func:`clustra.k_means` (``centers``, ``labels``, ``inertia``), followed by
    the fitted :class:`BisectingTree` when ``return_tree`` is True.

    Examples
    --------
    >>> from clustra import bisecting_k_means
    >>> X = [[1, 1], [10, 1], [3, 1], [10, 0], [2, 1], [10, 2], [10, 8], [10, 9], [10, 10]]
    >>> centers, labels, inertia, tree = bisecting_k_means(X, n_clusters=3, random_state=0,
    ...                                                    return_tree=True)
    >>> labels
    array([0, 2, 0, 2, 0, 2, 1, 1, 1], dtype=int32)
    >>> float(inertia)
    6.0
    >>> tree.cut(n_clusters=2)
    array([0, 1, 0, 1, 0, 1, 1, 1, 1], dtype=int32)
    """
    return steps.functional_fit(BisectingKMeans, locals(), "tree_" if return_tree else None)
