"""The fitted tree every hierarchical family hands back (agglomerative, Genie, HDBSCAN's
single-linkage tree, bisecting K-Means' dendrogram): flat cuts, cophenetic correlation,
export and drawing."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np


def check_linkage_matrix(Z) -> np.ndarray:
    """Return ``Z`` as float64 (n-1, 4) after checking it is a valid linkage matrix."""
    Z = np.asarray(Z)
    if Z.ndim != 2 or Z.shape[1] != 4 or Z.shape[0] < 1:
        raise ValueError(
            f"A linkage matrix has shape (n_samples - 1, 4) with n_samples >= 2, got shape "
            f"{Z.shape}. Build one with clustra.linkage or scipy.cluster.hierarchy.linkage."
        )
    Z = np.ascontiguousarray(Z, dtype=np.float64)
    if not np.isfinite(Z).all():
        raise ValueError("The linkage matrix contains NaN or inf values.")
    n = Z.shape[0] + 1
    children = Z[:, :2]
    if (children != np.round(children)).any() or children.min() < 0:
        raise ValueError("The first two columns of a linkage matrix must hold cluster ids >= 0.")
    limit = n + np.arange(n - 1)  # row k may only refer to ids below n + k
    if (children >= limit[:, None]).any():
        row = int(np.argmax((children >= limit[:, None]).any(axis=1)))
        raise ValueError(
            f"Row {row} of the linkage matrix refers to cluster id {int(children[row].max())}, "
            f"which is not formed before that row (ids must be < {n + row})."
        )
    used = np.bincount(children.astype(np.int64).ravel(), minlength=2 * n - 1)
    if (used[: 2 * n - 2] != 1).any():
        bad = int(np.argmax(used[: 2 * n - 2] != 1))
        raise ValueError(
            f"Cluster id {bad} is used {int(used[bad])} times in the linkage matrix; each id "
            "below 2n - 2 must be merged exactly once."
        )
    if (Z[:, 2] < 0).any():
        raise ValueError("The linkage matrix has negative heights; heights must be >= 0.")
    return Z


class ClusterTree:
    """A hierarchical clustering: the merges, and everything you do with them.

    Build one with :func:`tree_from_linkage` (from any SciPy linkage matrix) or
    take ``AgglomerativeClustering().fit(X).tree_``.

    Attributes
    ----------
    n_leaves : int
        Number of observations.
    heights : ndarray of float64, shape (n_leaves - 1,)
        Merge heights in row order.
    children : ndarray of int64, shape (n_leaves - 1, 2)
        The two cluster ids merged in each row (ids below ``n_leaves`` are points,
        ``n_leaves + k`` is the cluster formed in row ``k``).
    labels : list of str or None
        Leaf names used by the dendrogram.
    """

    def __init__(self, Z, labels: Sequence | None = None, *, data=None,
                 metric: str = "euclidean"):
        self._Z = check_linkage_matrix(Z)
        self.n_leaves = self._Z.shape[0] + 1
        if labels is not None:
            labels = [str(label) for label in labels]
            if len(labels) != self.n_leaves:
                raise ValueError(
                    f"labels has {len(labels)} entries but the tree has {self.n_leaves} leaves."
                )
        self.labels = labels
        self._data = data
        self._metric = metric

    # -- basic views ------------------------------------------------------------
    @property
    def heights(self) -> np.ndarray:
        return self._Z[:, 2].copy()

    @property
    def children(self) -> np.ndarray:
        return self._Z[:, :2].astype(np.int64)

    def __repr__(self) -> str:
        return f"ClusterTree(n_leaves={self.n_leaves}, max_height={self._Z[-1, 2]:.6g})"

    def to_scipy(self) -> np.ndarray:
        """The linkage matrix ``Z`` (a copy), as :mod:`scipy.cluster.hierarchy` expects it."""
        return self._Z.copy()

    def to_pandas(self):
        """The merges as a DataFrame: ``id, left, right, height, size`` (one row per merge)."""
        import pandas as pd

        n = self.n_leaves
        return pd.DataFrame(
            {
                "id": np.arange(n, 2 * n - 1, dtype=np.int64),
                "left": self._Z[:, 0].astype(np.int64),
                "right": self._Z[:, 1].astype(np.int64),
                "height": self._Z[:, 2],
                "size": self._Z[:, 3].astype(np.int64),
            }
        )

    # -- flat cuts ---------------------------------------------------------------
    @functools.cached_property
    def _max_heights(self) -> np.ndarray:
        from clustra._kernels.linkage import max_heights

        return max_heights(self._Z, self.n_leaves)

    @functools.cached_property
    def _sorted_max_heights(self) -> np.ndarray:
        return np.sort(self._max_heights)

    def _monotone_heights(self) -> np.ndarray:
        """Largest height inside each merge's subtree (equal to the height if monotone)."""
        return self._max_heights

    def _threshold_for(self, n_clusters) -> float:
        from clustra.cluster._common import check_n_clusters

        k = check_n_clusters(n_clusters, self.n_leaves)
        if k >= self.n_leaves:
            return -np.inf
        return self._sorted_max_heights[self.n_leaves - k - 1]

    def cut(self, n_clusters: int | None = None, height: float | None = None) -> np.ndarray:
        """Flat labels, numbered 0.. in order of first appearance.

        Parameters
        ----------
        n_clusters : int, optional
            At most this many clusters: the lowest merge height at which the tree
            has ``n_clusters`` or fewer clusters (SciPy's ``fcluster(...,
            criterion="maxclust")``; with tied heights the cut may give fewer).
        height : float, optional
            Join every merge whose subtree lies at or below ``height``
            (``fcluster(..., criterion="distance")``).

        Returns
        -------
        labels : ndarray of int64, shape (n_leaves,)
        """
        if (n_clusters is None) == (height is None):
            raise ValueError("Give exactly one of n_clusters or height to cut the tree.")
        if height is not None:
            if not np.isfinite(height):
                raise ValueError(f"height must be a finite number, got {height!r}.")
            threshold = float(height)
        else:
            threshold = self._threshold_for(n_clusters)
        return self._labels_at(threshold)

    def _labels_at(self, threshold: float) -> np.ndarray:
        from clustra._kernels.linkage import labels_from_rows

        keep = self._monotone_heights() <= threshold
        return labels_from_rows(self._Z, self.n_leaves, keep)

    def cut_exact(self, n_clusters: int) -> np.ndarray:
        """Exactly ``n_clusters`` clusters: undo the last ``n_clusters - 1`` merges (sklearn)."""
        from clustra._kernels.linkage import labels_from_rows
        from clustra.cluster._common import check_n_clusters

        k = check_n_clusters(n_clusters, self.n_leaves)
        keep = np.arange(self.n_leaves - 1) < self.n_leaves - k
        return labels_from_rows(self._Z, self.n_leaves, keep)

    def cut_range(self, k_values) -> np.ndarray:
        """Labels for every ``k`` in ``k_values`` (as :meth:`cut`), without refitting.

        Returns
        -------
        labels : ndarray of int64, shape (len(k_values), n_leaves)
        """
        k_values = list(k_values)
        out = np.empty((len(k_values), self.n_leaves), dtype=np.int64)
        for row, k in enumerate(k_values):
            out[row] = self._labels_at(self._threshold_for(k))
        return out

    def leaf_order(self) -> np.ndarray:
        """Leaves from left to right as the dendrogram draws them (int64, shape (n_leaves,))."""
        n = self.n_leaves
        order = np.empty(n, dtype=np.int64)
        stack = [2 * n - 2]
        position = 0
        while stack:
            node = stack.pop()
            if node < n:
                order[position] = node
                position += 1
            else:
                left, right = self._Z[node - n, :2]
                stack.append(int(right))
                stack.append(int(left))
        return order

    # -- quality and ordering ----------------------------------------------------
    def _condensed(self, X_or_condensed):
        from clustra.cluster.hierarchy._linkage import _condensed, check_linkage_input

        source = self._data if X_or_condensed is None else X_or_condensed
        if source is None:
            raise ValueError(
                "This tree was built from a bare linkage matrix; pass the observations or the "
                "condensed distance vector it was built from."
            )
        data, is_condensed, n = check_linkage_input(source, "single", self._metric)
        if n != self.n_leaves:
            raise ValueError(
                f"The data describe {n} points but the tree has {self.n_leaves} leaves."
            )
        return _condensed(data, is_condensed, n, "average", self._metric)

    def cophenetic_correlation(self, X_or_condensed=None) -> float:
        """Correlation between the original distances and the tree's cophenetic distances.

        ``X_or_condensed`` defaults to the data the tree was fitted on. Needs the
        n^2 distance matrix (checked against the memory available first).
        """
        from scipy.cluster.hierarchy import cophenet

        return float(cophenet(self._Z, self._condensed(X_or_condensed))[0])

    def optimal_ordering(self, X_or_condensed=None) -> ClusterTree:
        """A new tree with the same merges and leaves reordered to put close leaves side by side.

        Uses :func:`scipy.cluster.hierarchy.optimal_leaf_ordering` (O(n^2) memory).
        """
        from scipy.cluster.hierarchy import optimal_leaf_ordering

        Z = optimal_leaf_ordering(self._Z, self._condensed(X_or_condensed))
        return ClusterTree(Z, self.labels, data=self._data, metric=self._metric)

    def plot_dendrogram(self, ax=None, n_clusters: int | None = None,
                        truncate: int | None = None, labels: Sequence | None = None,
                        orientation: str = "top", color_threshold: float | None = None,
                        above_color: str = "0.55"):
        """Draw the dendrogram with matplotlib and return the Axes.

        See :func:`clustra.plot.dendrogram.draw_tree` for the parameters.
        """
        from clustra.plot.dendrogram import draw_tree

        return draw_tree(self, ax=ax, n_clusters=n_clusters, truncate=truncate, labels=labels,
                         orientation=orientation, color_threshold=color_threshold,
                         above_color=above_color)


def tree_from_linkage(Z, labels: Sequence | None = None) -> ClusterTree:
    """Wrap a SciPy linkage matrix ``Z`` in a :class:`ClusterTree`.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.cluster.hierarchy import linkage
    >>> tree = tree_from_linkage(linkage(np.array([[0.0], [0.1], [5.0]]), "single"))
    >>> tree.cut(n_clusters=2).tolist()
    [0, 0, 1]
    """
    return ClusterTree(Z, labels)
