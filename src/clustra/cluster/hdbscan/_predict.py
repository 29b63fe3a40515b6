"""What a fitted HDBSCAN offers beyond labels: exemplars, centres, DBSCAN* cuts,
approximate prediction and soft clustering (the hdbscan package's definitions)."""

from __future__ import annotations

import numpy as np

from clustra.cluster._common import validate_X
from clustra.cluster.hdbscan._select import direct_max_lambda, nearest_selected
from clustra.cluster.hdbscan._spherical import SPHERICAL_METRICS, embed, pair_distances, to_metric


def _tree_maps(tree):
    parent, child, lam, _ = tree.cluster_tree()
    parent_of = dict(zip(child.tolist(), parent.tolist(), strict=False))
    birth = dict(zip(child.tolist(), lam.tolist(), strict=False))
    children_of: dict[int, list] = {}
    for p, c in zip(parent.tolist(), child.tolist(), strict=False):
        children_of.setdefault(p, []).append(c)
    return parent_of, birth, children_of


def _leaves(children_of, node):
    kids = children_of.get(node, [])
    if not kids:
        return [node]
    return [leaf for kid in kids for leaf in _leaves(children_of, kid)]


def persistence(tree) -> np.ndarray:
    """hdbscan's ``cluster_persistence_``: stability / (size * largest lambda) per cluster."""
    labels_rows = tree.selected
    out = np.ones(labels_rows.size)
    finite = tree.lambda_val
    max_lambda = float(finite.max()) if finite.size else 0.0
    owner = nearest_selected(tree, tree.n_points, tree.selected)[:tree.n_points]
    for k, cluster in enumerate(labels_rows.tolist()):
        size = int(np.count_nonzero(owner == cluster))
        if np.isfinite(max_lambda) and max_lambda != 0.0 and size:
            out[k] = tree.stability[cluster] / (size * max_lambda)
    return out


def exemplars(tree, data) -> list:
    """Per selected cluster, the points of its leaf clusters that leave them last."""
    _, _, children_of = _tree_maps(tree)
    n_ids = int(max(tree.child.max(), tree.n_points)) + 1
    deaths = direct_max_lambda(tree, n_ids)
    point_rows = np.flatnonzero((tree.child < tree.n_points)
                                & (tree.lambda_val == deaths[tree.parent]))
    # Rows grouped by parent once (stable, so each group keeps the tree's row order).
    point_rows = point_rows[np.argsort(tree.parent[point_rows], kind="stable")]
    parents = tree.parent[point_rows]
    out = []
    for cluster in tree.selected.tolist():
        rows = []
        for leaf in _leaves(children_of, cluster):
            start, end = np.searchsorted(parents, [leaf, leaf + 1])
            rows.append(tree.child[point_rows[start:end]])
        out.append(data[np.concatenate(rows)] if rows else data[:0])
    return out


def store_centers(model, data) -> None:
    """``centroids_`` / ``medoids_`` as scikit-learn: weighted by the probabilities."""
    labels = model.labels_[model._finite_rows]
    probs = model.probabilities_[model._finite_rows]
    n_clusters = int(labels.max()) + 1 if labels.size else 0
    d = data.shape[1]
    if model.store_centers in ("centroid", "both"):
        model.centroids_ = np.empty((n_clusters, d))
        for k in range(n_clusters):
            mask = labels == k
            model.centroids_[k] = np.average(data[mask], weights=probs[mask], axis=0)
    if model.store_centers in ("medoid", "both"):
        from sklearn.metrics import pairwise_distances

        metric = model.metric
        params = dict(model.metric_params or {})
        model.medoids_ = np.empty((n_clusters, d))
        for k in range(n_clusters):
            mask = labels == k
            members = data[mask]
            cost = (pairwise_distances(members, metric=metric, **params) * probs[mask]).sum(1)
            model.medoids_[k] = members[np.argmin(cost)]


def dbscan_clustering(model, cut_distance, min_cluster_size) -> np.ndarray:
    """Components of the single linkage tree joined below ``cut_distance``."""
    from clustra._kernels.condense import components_below

    if isinstance(cut_distance, bool) or not np.isscalar(cut_distance) or not cut_distance > 0:
        raise ValueError(f"HDBSCAN.dbscan_clustering: cut_distance must be a positive number; "
                         f"got {cut_distance!r}.")
    if isinstance(min_cluster_size, bool) or not isinstance(min_cluster_size, int | np.integer) \
            or min_cluster_size < 1:
        raise ValueError("HDBSCAN.dbscan_clustering: min_cluster_size must be an integer >= 1; "
                         f"got {min_cluster_size!r}.")
    Z = model.single_linkage_tree_.to_scipy()
    root = components_below(Z, float(cut_distance))
    _, first, inverse, counts = np.unique(root, return_index=True, return_inverse=True,
                                          return_counts=True)
    big = counts >= min_cluster_size
    # Clusters numbered in the order of their first row.
    rank = np.full(first.size, -1, dtype=np.int64)
    order = np.argsort(first[big], kind="stable")
    rank[np.flatnonzero(big)[order]] = np.arange(order.size)
    labels = model.labels_.copy()
    labels[model._finite_rows] = rank[inverse]
    return labels


def _neighbour_and_lambda(model, X):
    """The training neighbour each new point joins through, and the lambda at which it does."""
    from clustra._kernels.distances import metric_code, rdist_to_dist
    from clustra._kernels.kdtree import build_kdtree, kneighbors
    from clustra._kernels.mst import KDTREE_LEAF_SIZE

    if model.metric == "precomputed":
        raise ValueError("HDBSCAN: prediction needs the observations; it is not available "
                         "with metric='precomputed'.")
    settings = model._resolved()
    metric, p = settings["metric"], settings["p"]
    spherical = metric in SPHERICAL_METRICS
    if model._kdtree is None:
        # A small fit runs without the KD-tree; the first prediction builds it on the
        # rows the engine saw (embedded for cosine and haversine).
        data = embed(model._fit_data, metric) if spherical else model._fit_data
        model._kdtree = build_kdtree(data, leaf_size=KDTREE_LEAF_SIZE)
    min_samples = settings["min_samples"]
    n = model._fit_data.shape[0]
    k = min(2 * min_samples, n)
    # The KD-tree holds the embedded rows for cosine and haversine (Euclidean there).
    engine_metric = "euclidean" if spherical else metric
    code, p_value = metric_code(engine_metric, p)
    rd, rows = kneighbors(model._kdtree, embed(X, metric) if spherical else X, k, code, p_value)
    dist = rdist_to_dist(rd, engine_metric, p)
    if spherical:
        dist = to_metric(dist, metric)
    core_new = dist[:, min_samples - 2] if min_samples >= 2 else np.zeros(X.shape[0])
    core_train = model.core_distances_[model._finite_rows]
    mr = np.maximum(np.maximum(core_train[rows], core_new[:, None]), dist / model.alpha)
    pick = np.argmin(mr, axis=1)
    neighbour = rows[np.arange(X.shape[0]), pick]
    best = mr[np.arange(X.shape[0]), pick]
    with np.errstate(divide="ignore"):
        lam = np.where(best > 0, 1.0 / best, np.finfo(np.float64).max)
    return neighbour, lam


def _point_rows(tree):
    rows = np.flatnonzero(tree.child < tree.n_points)
    parent = np.empty(tree.n_points, dtype=np.int64)
    lam = np.empty(tree.n_points)
    parent[tree.child[rows]] = tree.parent[rows]
    lam[tree.child[rows]] = tree.lambda_val[rows]
    return parent, lam


def _check_new(model, X):
    X = validate_X(model, X, reset=False, dtype=[np.float64, np.float32], order="C")
    return np.ascontiguousarray(X, dtype=np.float64)


def approximate_predict(model, X):
    X = _check_new(model, X)
    tree = model.condensed_tree_
    neighbour, lam = _neighbour_and_lambda(model, X)
    point_parent, point_lambda = _point_rows(tree)
    parent_of, birth, _ = _tree_maps(tree)
    n_ids = int(max(tree.child.max(), tree.n_points)) + 1
    deaths = direct_max_lambda(tree, n_ids)
    owner = nearest_selected(tree, tree.n_points, tree.selected)
    labels = np.full(X.shape[0], -1, dtype=np.int64)
    probs = np.zeros(X.shape[0])
    root = tree.n_points
    for i in range(X.shape[0]):
        cluster = int(point_parent[neighbour[i]])
        lam_i = lam[i]
        if point_lambda[neighbour[i]] <= lam_i:
            lam_i = point_lambda[neighbour[i]]
        else:
            while cluster > root and birth[cluster] >= lam_i:
                cluster = parent_of[cluster]
        selected = owner[cluster]
        if selected < 0 or (selected == root and tree.selected.size > 1):
            continue
        labels[i] = int(np.searchsorted(tree.selected, selected))
        death = deaths[selected]
        probs[i] = min(death, lam_i) / death if death > 0 else 1.0
    return labels, probs


def _merge_heights(tree, point_cluster, clusters, parent_of, birth):
    """Per selected cluster, the lambda at which it meets ``point_cluster`` (NaN: use the
    point's own lambda, when one is an ancestor of the other)."""
    out = np.empty(clusters.size)
    for j, target in enumerate(clusters.tolist()):
        left, right = point_cluster, target
        took_left = took_right = False
        last = left
        while left != right:
            if left > right:
                took_left, last, left = True, left, parent_of[left]
            else:
                took_right, last, right = True, right, parent_of[right]
        out[j] = birth[last] if took_left and took_right else np.nan
    return out


def membership_vectors(model, X=None):
    """Soft membership: (distance to exemplars) x (tree position) x P(in some cluster)."""
    tree = model.condensed_tree_
    clusters = tree.selected
    n_train = tree.n_points
    data = model._fit_data if X is None else _check_new(model, X)
    if clusters.size == 0:
        return np.zeros((data.shape[0], 0))
    parent_of, birth, _ = _tree_maps(tree)
    n_ids = int(max(tree.child.max(), n_train)) + 1
    leaf_max = direct_max_lambda(tree, n_ids)
    settings = model._resolved()
    # Each distance computed directly (an exemplar is at exactly 0 from itself,
    # which the package's definition treats apart).
    dist = np.column_stack([
        pair_distances(data, ex, settings["metric"], settings["p"]).min(axis=1)
        for ex in model.exemplars_])
    with np.errstate(divide="ignore"):
        dist_vec = np.where(dist != 0, 1.0 / dist, np.finfo(np.float64).max / clusters.size)
    dist_vec /= dist_vec.sum(axis=1, keepdims=True)
    if X is None:
        point_cluster, point_lambda = _point_rows(tree)
    else:
        neighbour, lam = _neighbour_and_lambda(model, data)
        parents, lambdas = _point_rows(tree)
        point_cluster = parents[neighbour]
        point_lambda = np.minimum(lambdas[neighbour], lam)
    heights = np.empty((data.shape[0], clusters.size))
    for cluster in np.unique(point_cluster).tolist():
        rows = point_cluster == cluster
        h = _merge_heights(tree, cluster, clusters, parent_of, birth)
        heights[rows] = np.where(np.isnan(h)[None, :], point_lambda[rows, None], h[None, :])
    top = leaf_max[point_cluster]
    if X is None:
        with np.errstate(divide="ignore", over="ignore"):
            scores = np.exp(-((top + 1e-8)[:, None] / heights))
        outlier = np.exp(scores - np.nanmax(scores))
        outlier /= outlier.sum(axis=1, keepdims=True)
        result = dist_vec * outlier
    else:
        denominator = top[:, None] - heights
        scores = top[:, None] / np.where(denominator <= 0, 1e-8, denominator)
        outlier = np.exp(scores - np.nanmax(scores, axis=1, keepdims=True))
        outlier /= outlier.sum(axis=1, keepdims=True)
        result = dist_vec ** 0.5 * outlier ** 2.0
    result /= result.sum(axis=1, keepdims=True)
    nearest = np.argmax(heights, axis=1)
    best = heights[np.arange(heights.shape[0]), nearest]
    if X is None:
        in_some = best / np.maximum(leaf_max[clusters[nearest]], point_lambda)
    else:
        in_some = best / (np.maximum(point_lambda, leaf_max[clusters[nearest]]) + 1e-8)
    return result * in_some[:, None]
