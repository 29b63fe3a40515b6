"""The icicle plot of HDBSCAN's condensed tree."""

from __future__ import annotations

import numpy as np

from clustra.plot._base import new_axes


def _layout(tree):
    """x position (centre) and width of every cluster: children side by side in the parent."""
    parent, child, _, size = tree.cluster_tree()
    root = tree.n_points
    root_size = float(tree.child_size[tree.parent == root].sum())
    children: dict[int, list] = {}
    for p, c in zip(parent.tolist(), child.tolist(), strict=False):
        children.setdefault(p, []).append(c)
    width = {root: root_size}
    width.update(zip(child.tolist(), size.tolist(), strict=False))
    left = {root: 0.0}
    for node in sorted(width):
        offset = left[node] + (width[node] - sum(width[c] for c in children.get(node, ()))) / 2
        for c in children.get(node, ()):
            left[c] = offset
            offset += width[c]
    return left, width


def plot_condensed_tree(tree, ax=None, *, select_clusters: bool = True, log_size: bool = False):
    """Draw ``tree`` (a :class:`clustra.cluster.hdbscan.CondensedTree`) as an icicle plot.

    Each cluster is a bar from its birth (top, lambda at which it appears) to
    the lambda at which its last point leaves; its width is its size. The
    y axis is lambda = 1 / distance, growing downwards. With
    ``select_clusters`` the selected clusters are outlined in red.
    """
    ax = new_axes(ax, figsize=(7.0, 4.5))
    left, width = _layout(tree)
    root = tree.n_points
    birth = {root: 0.0}
    parent, child, lam, _ = tree.cluster_tree()
    birth.update(zip(child.tolist(), lam.tolist(), strict=False))
    finite = tree.lambda_val[np.isfinite(tree.lambda_val)]
    top = float(finite.max()) if finite.size else 1.0
    for node, start in left.items():
        rows = tree.parent == node
        ends = tree.lambda_val[rows]
        ends = np.where(np.isfinite(ends), ends, top)
        death = float(ends.max()) if ends.size else birth[node]
        w = np.log(width[node]) if log_size and width[node] > 1 else width[node]
        ax.bar(start + width[node] / 2, death - birth[node], bottom=birth[node], width=w,
               color="#4c72b0", alpha=0.7, edgecolor="none")
        if select_clusters and node in set(tree.selected.tolist()):
            ax.bar(start + width[node] / 2, death - birth[node], bottom=birth[node], width=w,
                   fill=False, edgecolor="red", linewidth=1.5)
    for p, c in zip(parent.tolist(), child.tolist(), strict=False):
        ax.plot([left[c] + width[c] / 2, left[p] + width[p] / 2], [birth[c], birth[c]],
                color="black", linewidth=0.8)
    ax.set_ylim(top * 1.02, 0.0)
    ax.set_xticks([])
    ax.set_ylabel("lambda = 1 / distance")
    ax.set_title("HDBSCAN condensed tree")
    return ax
