"""Build the report: figures as base64 PNG, tables, and one autoescaped template.

The output is one HTML file with inline CSS and embedded images: no script, no
external URL, so it opens anywhere without a network. Everything that comes
from the data goes through Jinja2's autoescaping.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from clustra.workflow.result import safe_mean


@dataclass
class Figure:
    """One embedded figure (``png`` is base64 text) or the reason it is absent."""

    title: str
    caption: str
    png: str | None = None
    missing: str | None = None
    wide: bool = False  # spans the whole row (multi-panel figures)


def _png(drawn) -> str:
    """PNG (base64) of what a plot function returned: a Figure, an Axes or an array of Axes."""
    if isinstance(drawn, np.ndarray):
        drawn = drawn.ravel()[0]
    figure = drawn if hasattr(drawn, "savefig") else drawn.figure
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _figure(title: str, caption: str, draw, wide: bool = False) -> Figure:
    # A figure that cannot exist for this result (one cluster, no sweep) says why;
    # anything else is a bug and propagates.
    try:
        return Figure(title, caption, png=_png(draw()), wide=wide)
    except ValueError as exc:
        return Figure(title, caption, missing=str(exc), wide=wide)


def render_figures(result, projection: str = "pca") -> list[Figure]:
    """Every figure that applies to ``result``, in report order."""
    from clustra import plot

    figures = [
        _figure("Clusters in 2-D", f"{projection.upper()} projection of the clustered rows.",
                lambda: plot.plot_projection(result, method=projection,
                                             random_state=result.seed)),
        _figure("Cluster sizes", "Rows per cluster (noise in grey).",
                lambda: plot.plot_cluster_sizes(result)),
    ]
    if result.prepared.numeric_columns:
        figures.append(_figure("Cluster profiles", "Colour: standardised mean; numbers: mean in "
                               "the original units.", lambda: plot.plot_cluster_profiles(result)))
    figures.append(_figure("Silhouette diagram", "Silhouette of each clustered row, by cluster.",
                           lambda: plot.plot_silhouette(result, random_state=result.seed)))
    if result.selection is not None:
        figures.append(_figure("Choosing k", "Selection criteria over k (circle: each "
                               "criterion's pick; dashed line: the k chosen).",
                               lambda: plot.plot_selection(result), wide=True))
    if result.eps_suggestion is not None:
        figures.append(_figure("Choosing eps", "Sorted distance to the min_samples-th neighbour.",
                               lambda: plot.plot_k_distance(result)))
    if hasattr(result.model, "records") and result.model.records:  # clustra.auto_cluster
        figures.append(_figure("Automatic choice", "Left: the partition chosen; middle: the best "
                               "of the other kind (runner-up); right: every candidate's score "
                               "against structureless data (star: chosen).",
                               lambda: result.model.plot(), wide=True))
    if hasattr(result.model, "condensed_tree_"):
        figures += [
            _figure("Condensed tree", "HDBSCAN's cluster tree: bar width = rows, depth = density "
                    "(lambda = 1 / distance); the chosen clusters are outlined in red.",
                    lambda: result.model.condensed_tree_.plot()),
            _figure("Outlier scores", "GLOSH score of every row (1: the most outlying); the "
                    "dashed line marks the top 5%.", lambda: plot.plot_outlier_scores(result)),
            _figure("Soft memberships", "Each row's probability of belonging to its most likely "
                    "cluster.", lambda: plot.plot_memberships(result)),
        ]
    if hasattr(result.model, "tree_"):
        caption = ("The split tree, cut at the chosen k (height: the inertia removed by a "
                   "split and all later ones)." if hasattr(result.model.tree_, "inertia_removed")
                   else "The merge tree, cut at the chosen k.")
        figures.append(_figure("Dendrogram", caption,
                               lambda: plot.plot_dendrogram(result)))
    return figures


def _number(value) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, (float, np.floating)):
        return "n/a" if not np.isfinite(value) else f"{value:.4g}"
    return str(value)


def _column_summary(result) -> list[dict]:
    import pandas as pd

    prepared = result.prepared
    roles = {name: "numeric" for name in prepared.numeric_columns}
    roles.update({name: "categorical" for name in prepared.categorical_columns})
    roles.update({name: f"skipped: {why}" for name, why in prepared.skipped_columns.items()})
    if result.options.id_column is not None:
        roles[result.options.id_column] = "id"
    rows = []
    for name in result.data.columns:
        column = result.data[name]
        row = {"name": str(name), "dtype": str(column.dtype), "role": roles.get(name, "not used"),
               "missing": int(column.isna().sum()), "min": "", "mean": "", "max": ""}
        if roles.get(name) == "numeric":
            values = pd.to_numeric(column, errors="coerce")
            row.update(min=_number(values.min()), mean=_number(safe_mean(values)),
                       max=_number(values.max()))
        rows.append(row)
    return rows


def _profile_table(result) -> dict:
    profile = result.profiles(categorical=True)
    return {"columns": [str(c) for c in profile.columns],
            "rows": [{"cluster": str(index), "values": [_number(v) for v in row]}
                     for index, row in zip(profile.index, profile.to_numpy(), strict=True)]}


def report_context(result, projection: str = "pca") -> dict:
    """Everything the template shows, as plain values (escaped by the template).

    Warnings raised while drawing (matplotlib's, say, about a long column name)
    are added to ``result.warnings`` as one line each, so the report, the JSON
    and the command show them, and are not printed.
    """
    import warnings

    metrics = result.metrics
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        figures = render_figures(result, projection)
    for message in (f"drawing the report: {' '.join(str(w.message).split())}" for w in caught):
        if message not in result.warnings:
            result.warnings.append(message)
    return {
        "source": _source_name(result.source),
        "read_note": getattr(result, "read_note", ""),
        "version": result.version,
        "n_rows": len(result.table),
        "n_columns": result.data.shape[1],
        "columns": _column_summary(result),
        "steps": result.steps,
        "algorithm": result.algorithm,
        "params": [(k, _number(v)) for k, v in result.params.items()],
        "seed": result.seed,
        "choices": result.choices,
        "warnings": result.warnings,
        "metrics": [("clusters", _number(metrics["n_clusters"])),
                    ("noise fraction", _number(metrics["noise_fraction"])),
                    ("silhouette (higher is better)", _number(metrics["silhouette"])),
                    ("Calinski-Harabasz (higher is better)", _number(metrics["calinski_harabasz"])),
                    ("Davies-Bouldin (lower is better)", _number(metrics["davies_bouldin"]))],
        "counts": result.counts(),
        "profile": _profile_table(result),
        "figures": figures,
    }


def _source_name(source) -> str:
    if not source:
        return "(table given in Python)"
    return "(standard input)" if source == "-" else Path(source).name


def _environment():
    from jinja2 import Environment, PackageLoader, StrictUndefined

    return Environment(loader=PackageLoader("clustra.report", "templates"), autoescape=True,
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def build_report(result, *, projection: str = "pca") -> str:
    """The report of ``result`` as one HTML string."""
    from clustra.plot._base import require_matplotlib

    require_matplotlib()
    return _environment().get_template("report.html.j2").render(
        **report_context(result, projection))


def write_report(result, path, *, projection: str = "pca") -> Path:
    """Write the report to ``path`` (UTF-8) and return the path."""
    from clustra.io import write_text

    return write_text(build_report(result, projection=projection), path)
