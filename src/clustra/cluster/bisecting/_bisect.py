"""The bisection loop: split one cluster in two, n_clusters - 1 times, as scikit-learn does.

Prior validation is assumed: ``X`` is C-contiguous float32 or float64, already
centred on its column means (scikit-learn centres before bisecting, and the
same bits need the same frame), ``weights`` has X's dtype.

scikit-learn's algorithm, step by step (``sklearn/cluster/_bisect_k_means.py``):

- the root holds every row, with centre ``X.mean(axis=0)`` and score 0;
- each step takes the leaf with the highest score, the first one in
  depth-first order (left before right) among equals; the score is the
  leaf's inertia ("biggest_inertia") or its number of rows ("largest_cluster");
- that leaf's rows, in their original order, are split by the best of
  ``n_init`` 2-means runs, each started from centres drawn from the one
  random state (k-means++ with its ``2 + int(ln 2) = 2`` candidates, or two
  distinct random rows, weighted); the draws follow one another across the
  steps, so a fit with fewer clusters makes the same first splits;
- the 2-means runs use ``tol`` as it is, an absolute bound on the squared
  centre shift (scikit-learn scales it by the data's variance for KMeans, not
  here);
- rows labelled 0 go to the left child, 1 to the right one;
- the final labels number the leaves in depth-first order.
"""

from __future__ import annotations

import logging
from typing import NamedTuple

import numpy as np

import clustra.cluster.bisecting._kmeans_steps as steps

logger = logging.getLogger(__name__)

STRATEGIES = ("biggest_inertia", "largest_cluster")


class Bisection(NamedTuple):
    """What the loop built. Nodes are numbered as they are made: the root is 0, split ``s``
    makes nodes ``2 s + 1`` (left) and ``2 s + 2`` (right).

    centers : (n_nodes, n_features) of X's dtype, in the centred frame
    inertia : (n_nodes,) float64, each node's rows around its centre
    size : (n_nodes,) int64, rows in each node
    weight : (n_nodes,) float64, the sum of the node's sample weights
    split_nodes : (n_splits,) int64, the node split at each step
    leaves : (n_clusters,) int64, the final leaves in label order (depth-first)
    labels : (n_samples,) int32, the final label of every row
    """

    centers: np.ndarray
    inertia: np.ndarray
    size: np.ndarray
    weight: np.ndarray
    split_nodes: np.ndarray
    leaves: np.ndarray
    labels: np.ndarray


class SplitSettings(NamedTuple):
    """How each cluster is split (see :func:`bisect`)."""

    strategy: str
    init: object
    kind: str
    n_init: int
    max_iter: int
    tol: float
    run: str
    verbose: int


def bisect(X, weights, n_clusters: int, settings: SplitSettings, random_state) -> Bisection:
    """Bisect X into ``n_clusters`` clusters; see the module docstring for the rules."""
    n_samples, n_features = X.shape
    n_nodes = 2 * n_clusters - 1
    centers = np.empty((n_nodes, n_features), dtype=X.dtype)
    inertia = np.zeros(n_nodes)
    size = np.zeros(n_nodes, dtype=np.int64)
    weight = np.zeros(n_nodes)
    score = np.zeros(n_nodes)
    centers[0] = X.mean(axis=0)
    size[0] = n_samples
    weight[0] = float(weights.sum(dtype=np.float64))
    labels = np.zeros(n_samples, dtype=np.int32)
    inertia[0] = steps.inertia_per_cluster(X, weights, centers[:1], labels)[0]
    rows: dict[int, np.ndarray] = {0: np.arange(n_samples, dtype=np.int64)}
    leaves = [0]  # depth-first order
    norm_bound = steps.row_norm_max(X)  # bounds every node's rows too
    unit_weights = bool(np.all(weights == 1))
    split_nodes = np.empty(n_clusters - 1, dtype=np.int64)
    for step in range(n_clusters - 1):
        position = _leaf_to_split(leaves, score)
        node = leaves[position]
        left, right = 2 * step + 1, 2 * step + 2
        node_rows = rows.pop(node)
        X_node = X if node == 0 else steps.take_rows(X, node_rows)
        # Unit weights: any slice of them is the node's weights, no gather needed.
        w_node = weights[:node_rows.size] if unit_weights or node == 0 else weights[node_rows]
        _check_splittable(X_node.shape[0], settings.kind, node, n_clusters)
        split_labels, split_centers, inertia[left:right + 1] = steps.best_two_means(
            X_node, w_node, init=settings.init, kind=settings.kind, n_init=settings.n_init,
            random_state=random_state, max_iter=settings.max_iter, tol=settings.tol,
            run=settings.run, row_norm_max=norm_bound,
        )
        centers[left:right + 1] = split_centers
        left_rows, right_rows, weight[left] = steps.partition_rows(split_labels, node_rows,
                                                                   w_node)
        rows[left], rows[right] = left_rows, right_rows
        size[left], size[right] = left_rows.size, right_rows.size
        weight[right] = weight[node] - weight[left]
        if settings.strategy == "biggest_inertia":
            score[left], score[right] = inertia[left], inertia[right]
        else:
            score[left], score[right] = size[left], size[right]
        leaves[position:position + 1] = [left, right]
        split_nodes[step] = node
        if settings.verbose:
            logger.info("Split cluster %d (%d rows) into %d and %d rows; centres %s", node,
                        X_node.shape[0], size[left], size[right], split_centers)
    for label, leaf in enumerate(leaves):
        labels[rows[leaf]] = label
    return Bisection(centers, inertia, size, weight, split_nodes,
                     np.asarray(leaves, dtype=np.int64), labels)


def _leaf_to_split(leaves: list, score: np.ndarray) -> int:
    """Position in ``leaves`` of the first leaf with the highest score (scikit-learn's choice)."""
    best = 0
    for position in range(1, len(leaves)):
        if score[leaves[position]] > score[leaves[best]]:
            best = position
    return best


def _check_splittable(n_rows: int, kind: str, node: int, n_clusters: int) -> None:
    if n_rows == 0 or (n_rows == 1 and kind == "random"):
        raise ValueError(
            f"Cannot reach n_clusters={n_clusters}: the cluster to split next (node {node}) "
            f"holds {n_rows} sample(s), too few to split in two. X has too few distinct "
            "points for that many clusters; lower n_clusters."
        )
