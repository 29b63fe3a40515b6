"""Dendrograms: of a hierarchical run or estimator (:func:`plot_dendrogram`), and the
drawing of any :class:`~clustra.cluster.hierarchy.ClusterTree` behind it (:func:`draw_tree`).

No recursion anywhere (trees of any depth draw), one ``LineCollection`` per
colour (large trees draw quickly), branch and leaf colours taken from the
labels of the chosen cut, and leaf labels that survive truncation.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from clustra._optional import import_pyplot
from clustra.plot._base import is_result, new_axes

ORIENTATIONS = ("top", "bottom", "left", "right")
# Above this many leaves, unnamed leaves get no tick labels (they would be ink).
_MAX_INDEX_TICKS = 500


def cluster_colors(n_colors: int) -> list:
    """``n_colors`` distinct RGBA colours (tab10, tab20, then evenly spaced hues)."""
    import matplotlib

    if n_colors <= 10:
        return [matplotlib.colormaps["tab10"](i) for i in range(n_colors)]
    if n_colors <= 20:
        return [matplotlib.colormaps["tab20"](i) for i in range(n_colors)]
    hsv = matplotlib.colormaps["hsv"]
    return [hsv(i / n_colors) for i in range(n_colors)]


def _visible_rows(n: int, truncate: int | None) -> int:
    """First row drawn: rows ``first..n-2`` are drawn (the last ``truncate - 1`` merges)."""
    if truncate is None or truncate >= n:
        return 0
    if isinstance(truncate, bool) or not isinstance(truncate, (int, np.integer)) or truncate < 2:
        raise ValueError(
            f"truncate must be an integer >= 2 (the number of leaves to show), got {truncate!r}."
        )
    return n - int(truncate)


def _layout(Z: np.ndarray, n: int, first_row: int):
    """Leaf nodes left to right and the (x, y) of every drawn node (no recursion)."""
    position = {}
    leaves = []
    stack = [(2 * n - 2, False)]
    while stack:
        node, expanded = stack.pop()
        if node < n or node - n < first_row:
            position[node] = (float(len(leaves)), 0.0)
            leaves.append(node)
            continue
        left, right = int(Z[node - n, 0]), int(Z[node - n, 1])
        if expanded:
            x = 0.5 * (position[left][0] + position[right][0])
            position[node] = (x, float(Z[node - n, 2]))
        else:
            stack.append((node, True))
            stack.append((right, False))
            stack.append((left, False))
    return leaves, position


def _leaf_text(node: int, n: int, Z: np.ndarray, names: Sequence[str] | None) -> str:
    if node < n:
        return names[node] if names is not None else str(node)
    return f"({int(Z[node - n, 3])})"


def draw_tree(tree, ax=None, n_clusters: int | None = None, truncate: int | None = None,
                    labels: Sequence | None = None, orientation: str = "top",
                    color_threshold: float | None = None, above_color="0.55"):
    """Draw ``tree`` as a dendrogram; return the matplotlib Axes.

    Parameters
    ----------
    tree : ClusterTree
    ax : matplotlib Axes, optional
        Where to draw (a new figure when omitted).
    n_clusters : int, optional
        Colour the branches and leaves by the labels of ``tree.cut_exact(n_clusters)``
        (the last ``n_clusters - 1`` merges undone: an estimator's ``labels_``).
    truncate : int, optional
        Show only the last ``truncate - 1`` merges: ``truncate`` leaves, each a
        point (labelled with its name) or a collapsed cluster (labelled with
        its size, in parentheses).
    labels : sequence of str, optional
        One name per observation (default: the tree's labels, else the index).
    orientation : {"top", "bottom", "left", "right"}
        Where the root is.
    color_threshold : float, optional
        Colour by ``tree.cut(height=color_threshold)`` instead of ``n_clusters``.
    above_color : matplotlib colour
        Colour of the branches above the cut.
    """
    plt = import_pyplot("Drawing a dendrogram")
    from matplotlib.collections import LineCollection
    if orientation not in ORIENTATIONS:
        raise ValueError(
            f"Unknown orientation {orientation!r}; choose one of {', '.join(ORIENTATIONS)}."
        )
    if n_clusters is not None and color_threshold is not None:
        raise ValueError("Give n_clusters or color_threshold to colour the tree, not both.")
    n = tree.n_leaves
    Z = tree._Z
    names = [str(name) for name in labels] if labels is not None else tree.labels
    if names is not None and len(names) != n:
        raise ValueError(f"labels has {len(names)} entries but the tree has {n} leaves.")
    first_row = _visible_rows(n, truncate)
    leaves, position = _layout(Z, n, first_row)

    max_heights = tree._monotone_heights()
    node_color = {}
    if n_clusters is not None or color_threshold is not None:
        if n_clusters is not None:
            # The last n_clusters - 1 merges undone, as labels_ are (also where heights
            # tie or are not monotone, as in Genie's tree), not a cut by height.
            point_labels = tree.cut_exact(n_clusters)
            below = np.arange(n - 1) < n - int(n_clusters)
        else:
            point_labels = tree.cut(height=color_threshold)
            below = max_heights <= float(color_threshold)
        palette = cluster_colors(int(point_labels.max()) + 1)
        representative = np.empty(2 * n - 1, dtype=np.int64)
        representative[:n] = np.arange(n)
        for k in range(n - 1):
            representative[n + k] = representative[int(Z[k, 0])]
        for node in position:
            below_cut = node < n or below[node - n]
            node_color[node] = (palette[point_labels[representative[node]]]
                                if below_cut else above_color)
        default = above_color
    else:
        default = "0.2"

    segments = {}
    for node, (_, y) in position.items():
        if node < n or node - n < first_row:
            continue
        left, right = int(Z[node - n, 0]), int(Z[node - n, 1])
        (xl, yl), (xr, yr) = position[left], position[right]
        color = node_color.get(node, default)
        segments.setdefault(color, []).append([(xl, yl), (xl, y), (xr, y), (xr, yr)])

    if ax is None:
        _, ax = plt.subplots(figsize=(10, 5))
    vertical = orientation in ("top", "bottom")
    for color, lines in segments.items():
        lines = np.asarray(lines, dtype=np.float64)  # (n_links, 4, 2): one array, fast to draw
        if not vertical:
            lines = lines[:, :, ::-1]
        collection = LineCollection(lines, colors=[color], linewidths=1.0)
        collection.set_gid(_color_key(color))
        ax.add_collection(collection)

    n_shown = len(leaves)
    top = float(max(Z[first_row:, 2].max(), max_heights[-1])) if n > 1 else 1.0
    span = (-0.5, n_shown - 0.5)
    if vertical:
        ax.set_xlim(*span)
        ax.set_ylim(0.0, top * 1.05 or 1.0)
        if orientation == "bottom":
            ax.invert_yaxis()
    else:
        ax.set_ylim(*span)
        ax.set_xlim(0.0, top * 1.05 or 1.0)
        if orientation == "left":
            ax.invert_xaxis()
    _leaf_ticks(ax, leaves, Z, n, names, node_color, vertical, truncated=first_row > 0)
    return ax


def _color_key(color) -> str:
    return "above-cut" if isinstance(color, str) else "rgba-" + ",".join(f"{c:.4f}" for c in color)


def _leaf_ticks(ax, leaves, Z, n, names, node_color, vertical, truncated):
    axis = ax.xaxis if vertical else ax.yaxis
    if names is None and len(leaves) > _MAX_INDEX_TICKS and not truncated:
        axis.set_ticks([])
        return
    axis.set_ticks(np.arange(len(leaves), dtype=float))
    texts = [_leaf_text(node, n, Z, names) for node in leaves]
    axis.set_ticklabels(texts, rotation=90 if vertical else 0, fontsize="small")
    for tick_label, node in zip(axis.get_ticklabels(), leaves, strict=True):
        if node in node_color:
            tick_label.set_color(node_color[node])


def plot_dendrogram(model, *, n_clusters=None, truncate=None, labels=None, orientation="top",
                    ax=None):
    """Draw ``model.tree_`` (a fitted clustra.AgglomerativeClustering or BisectingKMeans, or a
    run using one).

    For a run, ``n_clusters`` defaults to the run's k, and trees over 60 rows are
    truncated to 30 leaves unless ``truncate`` says otherwise.
    """
    if is_result(model):
        if n_clusters is None:
            n_clusters = model.n_clusters
        if truncate is None and model.X.shape[0] > 60:
            truncate = 30
        model = model.model
    tree = getattr(model, "tree_", None)
    if tree is None:
        raise ValueError(f"{type(model).__name__} has no fitted tree_: a dendrogram needs a "
                         "fitted clustra.AgglomerativeClustering or clustra.BisectingKMeans.")
    return tree.plot_dendrogram(ax=new_axes(ax, figsize=(7.0, 4.0)), n_clusters=n_clusters,
                                truncate=truncate, labels=labels, orientation=orientation)
