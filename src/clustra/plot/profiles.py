"""What each cluster looks like, in the original units of the numeric columns."""

from __future__ import annotations

import numpy as np

from clustra.plot._base import is_result, new_axes


def cluster_profiles(data, labels=None):
    """Per-cluster means of the numeric columns (original units) plus a ``size`` column.

    ``data`` is a ClusteringResult, or a DataFrame whose rows match ``labels``.
    Noise (-1) rows are left out.
    """
    import pandas as pd

    if is_result(data):
        return data.profiles()
    if labels is None:
        raise TypeError("labels are required with a DataFrame (or pass a ClusteringResult).")
    frame = pd.DataFrame(data).select_dtypes("number")
    labels = np.asarray(labels)
    keep = labels >= 0
    profile = frame[keep].groupby(labels[keep]).mean()
    profile.insert(0, "size", pd.Series(labels[keep]).value_counts().sort_index())
    profile.index.name = "cluster"
    return profile


def _overall(data, labels):
    """Column means and standard deviations over the clustered rows."""
    import pandas as pd

    if is_result(data):
        columns = data.prepared.numeric_columns
        frame = data.data.loc[data.prepared.used, columns].apply(pd.to_numeric)
        labels = data.labels
    else:
        frame = pd.DataFrame(data).select_dtypes("number")
    frame = frame[np.asarray(labels) >= 0]
    return frame.mean(), frame.std(ddof=0)


def plot_cluster_profiles(data, labels=None, *, ax=None, max_columns: int = 20):
    """Heatmap of standardised cluster means, annotated with the means in original units.

    Colour = (cluster mean - overall mean) / overall standard deviation, so
    columns with different units compare; the numbers are the plain means.
    """
    profile = cluster_profiles(data, labels).drop(columns="size")
    if profile.shape[1] == 0:
        raise ValueError("No numeric columns to profile.")
    profile = profile.iloc[:, :max_columns]
    mean, std = _overall(data, labels)
    mean, std = mean[profile.columns], std[profile.columns].replace(0.0, 1.0)
    z = ((profile - mean) / std).to_numpy(dtype=float)
    n_clusters, n_columns = z.shape
    ax = new_axes(ax, figsize=(min(2.0 + 0.9 * n_columns, 14.0), 1.2 + 0.45 * n_clusters))
    limit = max(1.0, float(np.nanmax(np.abs(z)))) if z.size else 1.0
    image = ax.imshow(z, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
    ax.set_xticks(range(n_columns), [str(c) for c in profile.columns], rotation=30, ha="right")
    ax.set_yticks(range(n_clusters), [str(i) for i in profile.index])
    ax.set_ylabel("cluster")
    for row in range(n_clusters):
        for col in range(n_columns):
            value = profile.iat[row, col]
            ax.text(col, row, f"{value:.3g}", ha="center", va="center", fontsize="x-small",
                    color="white" if abs(z[row, col]) > 0.6 * limit else "black")
    ax.figure.colorbar(image, ax=ax, label="standardised mean")
    ax.set_title("Cluster profiles (numbers: mean in original units)")
    return ax
