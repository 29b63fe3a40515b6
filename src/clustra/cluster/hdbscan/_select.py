"""From the condensed tree to a flat clustering: stability, EOM / leaf selection, labels.

The rules are those of scikit-learn's ``_tree.pyx`` and the hdbscan package's
``_hdbscan_tree.pyx`` (which agree on them), written over arrays indexed by
cluster id instead of per-node searches, so selection is linear in the
number of clusters:

- stability of cluster C: the sum over the rows whose parent is C of
  ``(lambda - birth(C)) * child_size``, in row order (Campello et al. 2013, eq. 3);
- EOM: bottom-up (decreasing id), a cluster is kept when its own stability
  is at least the sum of its children's (which then replaces its stability
  when it is not kept) and its size does not exceed ``max_cluster_size``;
  a kept cluster hides every kept descendant;
- leaf: the leaves of the cluster tree;
- ``cluster_selection_epsilon``: a selected cluster born below epsilon is
  replaced by its first ancestor born above it (the root only with
  ``allow_single_cluster``);
- a point takes the label of the nearest selected cluster among the
  clusters it belongs to; with a single selected root the point must fall
  out no earlier than the root's last split (or 1 / epsilon).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

CondensedArrays = namedtuple("CondensedArrays", ["parent", "child", "lambda_val", "child_size"])

Selection = namedtuple("Selection", ["labels", "probabilities", "clusters", "stability"])


def stabilities(tree: CondensedArrays, n_points: int) -> np.ndarray:
    """Stability of every node id (float64, shape (max id + 1,); only ids >= n_points used)."""
    size = int(max(tree.child.max(initial=n_points), n_points)) + 1
    birth = np.zeros(size)
    birth[tree.child] = tree.lambda_val
    birth[n_points] = 0.0
    stability = np.zeros(size)
    with np.errstate(invalid="ignore"):
        np.add.at(stability, tree.parent,
                  (tree.lambda_val - birth[tree.parent]) * tree.child_size)
    return stability


def _cluster_rows(tree: CondensedArrays, n_points: int):
    is_cluster_row = tree.child >= n_points
    return (tree.parent[is_cluster_row], tree.child[is_cluster_row],
            tree.lambda_val[is_cluster_row], tree.child_size[is_cluster_row])


def _descendants(children_of: dict, node: int) -> list:
    out, queue = [], [node]
    while queue:
        out.extend(queue)
        queue = [c for q in queue for c in children_of.get(q, ())]
    return out


def _epsilon_search(leaves, parent_of, birth_lambda, children_of, epsilon, allow_single, root):
    selected, processed = [], set()
    for leaf in leaves:
        if 1.0 / birth_lambda[leaf] < epsilon:
            if leaf in processed:
                continue
            node = leaf
            while True:
                parent = parent_of[node]
                if parent == root:
                    chosen = parent if allow_single else node
                    break
                if 1.0 / birth_lambda[parent] > epsilon:
                    chosen = parent
                    break
                node = parent
            selected.append(chosen)
            processed.update(d for d in _descendants(children_of, chosen) if d != chosen)
        else:
            selected.append(leaf)
    return set(selected)


def select_clusters(tree: CondensedArrays, n_points: int, method: str = "eom",
                    allow_single_cluster: bool = False, epsilon: float = 0.0,
                    max_cluster_size: float | None = None) -> Selection:
    """Labels (int64, -1 noise), probabilities, the selected cluster ids (ascending) and
    the stability of every node id."""
    root = n_points
    stability = stabilities(tree, n_points)
    c_parent, c_child, c_lambda, c_size = _cluster_rows(tree, n_points)
    n_ids = stability.shape[0]
    children_of: dict[int, list] = {}
    for p, c in zip(c_parent.tolist(), c_child.tolist(), strict=False):
        children_of.setdefault(p, []).append(c)
    parent_of = dict(zip(c_child.tolist(), c_parent.tolist(), strict=False))
    birth_lambda = dict(zip(c_child.tolist(), c_lambda.tolist(), strict=False))
    size_of = dict(zip(c_child.tolist(), c_size.tolist(), strict=False))
    node_ids = sorted(set(tree.parent.tolist()), reverse=True)
    if not allow_single_cluster:
        node_ids = node_ids[:-1]
    else:
        size_of[root] = float(sum(size_of[c] for c in children_of.get(root, ())))
    limit = np.inf if max_cluster_size is None else max_cluster_size
    is_cluster = dict.fromkeys(node_ids, True)
    if method == "eom":
        stab = stability.copy()
        kept = np.zeros(n_ids, dtype=bool)
        for node in node_ids:
            subtree = 0.0
            for child in children_of.get(node, ()):
                subtree = subtree + stab[child]
            if subtree > stab[node] or size_of[node] > limit:
                stab[node] = subtree
            else:
                kept[node] = True
        # A kept cluster hides its kept descendants (ids grow away from the root).
        hidden = np.zeros(n_ids, dtype=bool)
        for node in sorted(node_ids):
            if node in parent_of and (hidden[parent_of[node]] or kept[parent_of[node]]):
                hidden[node] = True
        for node in node_ids:
            is_cluster[node] = bool(kept[node] and not hidden[node])
        if epsilon != 0.0 and c_child.size > 0:
            chosen = [c for c in is_cluster if is_cluster[c]]
            if len(chosen) == 1 and chosen[0] == root:
                selected = set(chosen) if allow_single_cluster else set()
            else:
                selected = _epsilon_search(set(chosen), parent_of, birth_lambda, children_of,
                                           epsilon, allow_single_cluster, root)
            for c in is_cluster:
                is_cluster[c] = c in selected
    else:
        leaves = {c for c in c_child.tolist() if c not in children_of} if c_child.size else set()
        if epsilon != 0.0:
            selected = _epsilon_search(leaves, parent_of, birth_lambda, children_of, epsilon,
                                       allow_single_cluster, root)
        else:
            selected = leaves
        for c in is_cluster:
            is_cluster[c] = c in selected
    clusters = np.array(sorted(c for c in is_cluster if is_cluster[c]), dtype=np.int64)
    labels = label_points(tree, n_points, clusters, allow_single_cluster, epsilon)
    probabilities = membership_strength(tree, n_points, clusters, labels)
    return Selection(labels, probabilities, clusters, stability)


def nearest_selected(tree: CondensedArrays, n_points: int, clusters: np.ndarray) -> np.ndarray:
    """For every node id, the nearest selected cluster among itself and its ancestors, or -1."""
    n_ids = int(max(tree.child.max(initial=n_points), n_points)) + 1
    owner = np.full(n_ids, -1, dtype=np.int64)
    owner[clusters] = clusters
    # Rows come parents first (a cluster's own row precedes its children's).
    for p, c in zip(tree.parent.tolist(), tree.child.tolist(), strict=False):
        if c >= n_points and owner[c] < 0:
            owner[c] = owner[p]
    point_rows = tree.child < n_points
    owner_points = np.full(n_points, -1, dtype=np.int64)
    owner_points[tree.child[point_rows]] = owner[tree.parent[point_rows]]
    owner[:n_points] = owner_points
    return owner


def label_points(tree: CondensedArrays, n_points: int, clusters: np.ndarray,
                 allow_single_cluster: bool, epsilon: float) -> np.ndarray:
    """Labels 0..k-1 in the order of the cluster ids, -1 for noise."""
    root = n_points
    owner = nearest_selected(tree, n_points, clusters)[:n_points]
    labels = np.full(n_points, -1, dtype=np.int64)
    inside = owner >= 0
    labels[inside] = np.searchsorted(clusters, owner[inside])
    owned_by_root = owner == root
    if clusters.size == 1 and clusters[0] == root and allow_single_cluster:
        # A single root cluster keeps the points that leave it no earlier than its
        # last split (or than 1 / epsilon).
        point_rows = tree.child < n_points
        point_lambda = np.empty(n_points)
        point_lambda[tree.child[point_rows]] = tree.lambda_val[point_rows]
        if epsilon != 0.0:
            threshold = 1.0 / epsilon
        else:
            threshold = tree.lambda_val[tree.parent == root].max()
        labels[owned_by_root & ~(point_lambda >= threshold)] = -1
    else:
        labels[owned_by_root] = -1
    return labels


def direct_max_lambda(tree: CondensedArrays, n_ids: int) -> np.ndarray:
    """Largest lambda among the rows of each parent (its "death"), float64 (n_ids,)."""
    deaths = np.zeros(n_ids)
    np.maximum.at(deaths, tree.parent, tree.lambda_val)
    return deaths


def membership_strength(tree: CondensedArrays, n_points: int, clusters: np.ndarray,
                        labels: np.ndarray) -> np.ndarray:
    """hdbscan's probabilities: ``min(lambda_p, death(C)) / death(C)`` for the point's
    cluster C (1.0 where death is 0 or lambda_p infinite), 0 for noise."""
    n_ids = int(max(tree.parent.max(initial=n_points), n_points)) + 1
    deaths = direct_max_lambda(tree, n_ids)
    out = np.zeros(n_points)
    point_rows = np.flatnonzero(tree.child < n_points)
    points = tree.child[point_rows]
    keep = labels[points] >= 0
    point_rows, points = point_rows[keep], points[keep]
    death = deaths[clusters[labels[points]]]
    lam = tree.lambda_val[point_rows]
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.minimum(lam, death) / death
    value = np.where((death == 0.0) | ~np.isfinite(lam), 1.0, value)
    out[points] = value
    return out
