"""The fitted condensed tree as an object users can inspect, export and draw."""

from __future__ import annotations

import numpy as np

from clustra.cluster.hdbscan._select import CondensedArrays


class CondensedTree:
    """HDBSCAN's condensed cluster tree (``HDBSCAN().fit(X).condensed_tree_``).

    Every row says that ``child`` (a point when below ``n_points``, else a
    cluster) leaves ``parent`` at ``lambda_val`` = 1 / mutual reachability
    distance; ``child_size`` is the child's weight (1 per unit-weight point).
    The root is ``n_points``; clusters are numbered from there in
    breadth-first order, as in scikit-learn and the hdbscan package.

    Attributes
    ----------
    parent, child : ndarray of int64
    lambda_val, child_size : ndarray of float64
    n_points : int
    selected : ndarray of int64
        Ids of the clusters the flat clustering selected (label k is
        ``selected[k]``).
    stability : ndarray of float64
        Stability of every node id (entries below ``n_points`` are unused).
    """

    def __init__(self, arrays: CondensedArrays, n_points: int, selected, stability):
        self._arrays = arrays
        self.parent, self.child, self.lambda_val, self.child_size = arrays
        self.n_points = int(n_points)
        self.selected = np.asarray(selected, dtype=np.int64)
        self.stability = stability

    def __repr__(self) -> str:
        n_clusters = int(np.count_nonzero(self.child >= self.n_points))
        return (f"CondensedTree(n_points={self.n_points}, n_clusters={n_clusters + 1}, "
                f"n_selected={self.selected.size})")

    def __len__(self) -> int:
        return int(self.parent.shape[0])

    def to_numpy(self) -> np.ndarray:
        """A structured array with fields parent, child, lambda_val, child_size (hdbscan's)."""
        out = np.empty(len(self), dtype=[("parent", np.intp), ("child", np.intp),
                                         ("lambda_val", np.float64),
                                         ("child_size", np.float64)])
        out["parent"], out["child"] = self.parent, self.child
        out["lambda_val"], out["child_size"] = self.lambda_val, self.child_size
        return out

    def to_pandas(self):
        """A DataFrame with columns parent, child, lambda_val, child_size."""
        import pandas as pd

        return pd.DataFrame({"parent": self.parent, "child": self.child,
                             "lambda_val": self.lambda_val, "child_size": self.child_size})

    def cluster_tree(self):
        """The rows whose child is a cluster: ``(parent, child, lambda_val, child_size)``."""
        mask = self.child >= self.n_points
        return (self.parent[mask], self.child[mask], self.lambda_val[mask],
                self.child_size[mask])

    def plot(self, ax=None, *, select_clusters: bool = True, log_size: bool = False):
        """Draw the icicle plot of the cluster tree (matplotlib, imported on use)."""
        from clustra.plot.condensed_tree import plot_condensed_tree

        return plot_condensed_tree(self, ax=ax, select_clusters=select_clusters,
                                   log_size=log_size)
