"""The fitted bisecting tree: every partition from 1 to n_clusters clusters, from one fit."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from clustra.cluster._common import check_n_clusters


class BisectingTree:
    """The splits a bisecting K-Means fit made, in order, and the partitions they give.

    After ``j - 1`` splits the data fall into ``j`` clusters; :meth:`cut` gives
    that partition for any ``j`` up to the fit's ``n_clusters`` without
    refitting, numbered as a fit with ``n_clusters=j`` numbers it (leaves in
    depth-first order). A fit with fewer clusters makes the same first splits
    (the same leaf is chosen and the same random draws are used at each
    step), so for the same ``random_state`` the cut equals that fit's labels.

    Nodes are numbered as they are made: the root is 0, split ``s`` (from 0)
    makes nodes ``2 s + 1`` and ``2 s + 2``.

    Attributes
    ----------
    n_clusters : int
        Leaves of the full tree (the fit's ``n_clusters``).
    n_samples : int
    split_nodes : ndarray of int64, shape (n_clusters - 1,)
        The node split at each step.
    leaf_nodes : ndarray of int64, shape (n_clusters,)
        The final clusters' nodes, in label order (depth-first).
    inertia_removed : ndarray of float64, shape (n_clusters - 1,)
        For each split in order, the node's inertia less its two children's.
    heights : ndarray of float64, shape (n_clusters - 1,)
        For each split in order, the inertia removed by it and every later
        split: non-increasing in split order and never higher below a node
        than at it, so it draws as a dendrogram whose step from a split down
        to the next one is the inertia that split removed.
    inertias : ndarray of float64, shape (n_clusters,)
        ``inertias[j - 1]``: the total inertia of the partition into ``j``
        clusters (non-increasing).
    node_centers : ndarray of shape (2 n_clusters - 1, n_features)
        Every node's centre, in the frame of X.
    node_inertia, node_size, node_weight : ndarray of shape (2 n_clusters - 1,)
        Every node's inertia around its centre, number of rows and weight.
    """

    def __init__(self, bisection, x_mean: np.ndarray):
        self.n_clusters = int(bisection.leaves.size)
        self.n_samples = int(bisection.labels.shape[0])
        self.split_nodes = bisection.split_nodes.copy()
        self.node_centers = bisection.centers + x_mean
        self.node_inertia = bisection.inertia.copy()
        self.node_size = bisection.size.copy()
        self.node_weight = bisection.weight.copy()
        self.leaf_nodes = bisection.leaves.copy()
        self._labels = bisection.labels.copy()
        steps = np.arange(self.n_clusters - 1)
        removed = (self.node_inertia[self.split_nodes] - self.node_inertia[2 * steps + 1]
                   - self.node_inertia[2 * steps + 2])
        self.inertia_removed = removed
        # Rounding can leave a split of identical points a hair below zero.
        self.heights = np.cumsum(np.maximum(removed, 0.0)[::-1])[::-1].copy()
        self.inertias = float(self.node_inertia[0]) - np.concatenate([[0.0], np.cumsum(removed)])

    def __repr__(self) -> str:
        return f"BisectingTree(n_clusters={self.n_clusters}, n_samples={self.n_samples})"

    # -- flat cuts ---------------------------------------------------------------
    def _leaf_labels(self, n_clusters: int) -> np.ndarray:
        """(n_clusters of the full tree,) int32: the cluster, after ``n_clusters - 1`` splits,
        that holds each final leaf, numbered in depth-first order."""
        newest = 2 * (n_clusters - 1)  # nodes made by the first n_clusters - 1 splits
        parent = np.zeros(2 * self.n_clusters - 1, dtype=np.int64)
        for step, node in enumerate(self.split_nodes):
            parent[2 * step + 1] = parent[2 * step + 2] = node
        ancestors = self.leaf_nodes.copy()
        while (ancestors > newest).any():
            ancestors = np.where(ancestors > newest, parent[ancestors], ancestors)
        # Final leaves are in depth-first order and each cluster of the cut covers a run of
        # them, so first appearance is the cut's own depth-first order.
        _, first, inverse = np.unique(ancestors, return_index=True, return_inverse=True)
        rank = np.empty(first.size, dtype=np.int32)
        rank[np.argsort(first)] = np.arange(first.size, dtype=np.int32)
        return rank[inverse.ravel()]

    def _check_k(self, n_clusters) -> int:
        k = check_n_clusters(n_clusters, self.n_samples)
        if k > self.n_clusters:
            raise ValueError(
                f"The tree has {self.n_clusters} clusters; it cannot be cut into {k}. Fit with "
                f"n_clusters={k} or more to cut it there."
            )
        return k

    def cut(self, n_clusters: int | None = None, height: float | None = None) -> np.ndarray:
        """The partition after ``n_clusters - 1`` splits, or where the heights pass ``height``.

        Parameters
        ----------
        n_clusters : int, optional
            Number of clusters, from 1 to the fit's ``n_clusters``.
        height : float, optional
            Keep the splits whose height (see :attr:`heights`) is above
            ``height``: a prefix of the splits, since heights never rise.

        Returns
        -------
        labels : ndarray of int32, shape (n_samples,)
            Numbered as a fit with that many clusters numbers them.
        """
        if (n_clusters is None) == (height is None):
            raise ValueError("Give exactly one of n_clusters or height to cut the tree.")
        if height is not None:
            if isinstance(height, bool) or not np.isfinite(height):
                raise ValueError(f"height must be a finite number, got {height!r}.")
            k = 1 + int(np.count_nonzero(self.heights > height))
        else:
            k = self._check_k(n_clusters)
        return self._leaf_labels(k)[self._labels]

    def cut_range(self, k_values: Iterable[int]) -> np.ndarray:
        """Labels for every ``k`` in ``k_values`` (as :meth:`cut`).

        Returns
        -------
        labels : ndarray of int32, shape (len(k_values), n_samples)
        """
        k_values = [self._check_k(k) for k in k_values]
        out = np.empty((len(k_values), self.n_samples), dtype=np.int32)
        for row, k in enumerate(k_values):
            out[row] = self._leaf_labels(k)[self._labels]
        return out

    def centers(self, n_clusters: int) -> np.ndarray:
        """Cluster centres of the partition into ``n_clusters`` (row ``i``: cluster ``i``)."""
        return self.node_centers[self._cut_nodes(self._check_k(n_clusters))]

    def _cut_nodes(self, n_clusters: int) -> np.ndarray:
        """The nodes that are the clusters after ``n_clusters - 1`` splits, in depth-first order."""
        order = [0]
        for step in range(n_clusters - 1):
            position = order.index(int(self.split_nodes[step]))
            order[position:position + 1] = [2 * step + 1, 2 * step + 2]
        return np.asarray(order, dtype=np.int64)

    # -- export and drawing --------------------------------------------------------
    def to_pandas(self):
        """One row per split, in order: ``step, node, left, right, size, left_size, right_size,
        inertia, left_inertia, right_inertia, inertia_removed, height, n_clusters_after,
        total_inertia_after``."""
        import pandas as pd

        steps = np.arange(self.n_clusters - 1)
        left, right = 2 * steps + 1, 2 * steps + 2
        return pd.DataFrame(
            {
                "step": steps,
                "node": self.split_nodes,
                "left": left,
                "right": right,
                "size": self.node_size[self.split_nodes],
                "left_size": self.node_size[left],
                "right_size": self.node_size[right],
                "inertia": self.node_inertia[self.split_nodes],
                "left_inertia": self.node_inertia[left],
                "right_inertia": self.node_inertia[right],
                "inertia_removed": self.inertia_removed,
                "height": self.heights,
                "n_clusters_after": steps + 2,
                "total_inertia_after": self.inertias[1:],
            }
        )

    def to_scipy(self) -> np.ndarray:
        """A SciPy linkage matrix over the final clusters (ids 0 .. n_clusters - 1 = labels).

        The splits undone from the last to the first: row ``r`` undoes split
        ``n_clusters - 2 - r``, at that split's :attr:`heights` value; the
        fourth column counts the final clusters below.
        """
        k = self.n_clusters
        if k < 2:
            raise ValueError("A tree of one cluster has no splits to draw or export; fit with "
                             "n_clusters >= 2.")
        linkage_id = np.empty(2 * k - 1, dtype=np.int64)
        linkage_id[self.leaf_nodes] = np.arange(k)
        count = np.zeros(2 * k - 1, dtype=np.int64)
        count[self.leaf_nodes] = 1
        Z = np.empty((k - 1, 4))
        for row in range(k - 1):
            step = k - 2 - row
            left, right = 2 * step + 1, 2 * step + 2
            node = int(self.split_nodes[step])
            Z[row] = (linkage_id[left], linkage_id[right], self.heights[step],
                      count[left] + count[right])
            linkage_id[node] = k + row
            count[node] = count[left] + count[right]
        return Z

    def plot_dendrogram(self, ax=None, n_clusters: int | None = None, truncate: int | None = None,
                        labels=None, orientation: str = "top"):
        """Draw the splits as a dendrogram over the final clusters; return the matplotlib Axes.

        Leaves are the final clusters, named "label (rows)" unless ``labels``
        names them; the height of a split is :attr:`heights` (the inertia it
        and all later splits removed), so the step from one split down to the
        next is the inertia that split removed. ``n_clusters`` colours the
        partition into that many clusters; ``truncate`` shows that many leaves.
        """
        from clustra.cluster._tree import ClusterTree

        if labels is None:
            labels = [f"{label} ({self.node_size[leaf]})"
                      for label, leaf in enumerate(self.leaf_nodes)]
        if n_clusters is not None:
            self._check_k(n_clusters)
        tree = ClusterTree(self.to_scipy(), labels)
        return tree.plot_dendrogram(ax=ax, n_clusters=n_clusters, truncate=truncate,
                                    orientation=orientation)
