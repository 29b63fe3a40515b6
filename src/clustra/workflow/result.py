"""The result of a run: labelled rows, the fitted pipeline and model, metrics, choices."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from clustra.preprocessing import (
    STATUS_CLUSTERED,
    STATUS_MISSING,
    STATUS_NOISE,
    STATUS_OUTLIER,
    PreparedData,
)
from clustra.workflow.options import Choice, RunOptions, _plain

STATUSES = (STATUS_CLUSTERED, STATUS_NOISE, STATUS_MISSING, STATUS_OUTLIER)
JSON_SCHEMA = "clustra.run/1"


@dataclass
class ClusteringResult:
    """Everything :func:`run` found.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per input row, in input order: the id column (or ``row``, the
        1-based data row number), ``cluster`` (nullable integer; -1 for DBSCAN
        noise, missing for rows not clustered) and ``status``.
    data : pandas.DataFrame
        The input table as read.
    prepared : PreparedData
        The matrix that was clustered, which rows it holds, the fitted pipeline.
    model : estimator
        The fitted clustra estimator.
    """

    table: object
    data: object
    prepared: PreparedData
    model: object
    algorithm: str
    params: dict
    seed: int
    metrics: dict
    choices: list[Choice]
    options: RunOptions
    selection: object = None
    eps_suggestion: object = None
    auto_scores: list | None = None  # auto_cluster's candidates x criteria
    source: str | None = None
    version: str = ""
    warnings: list[str] = field(default_factory=list)
    read_note: str = ""

    @property
    def pipeline(self):
        """The fitted preprocessing :class:`~sklearn.pipeline.Pipeline`."""
        return self.prepared.pipeline

    @property
    def steps(self) -> list:
        return self.prepared.steps

    @property
    def X(self) -> np.ndarray:
        """The clustered matrix (rows with status clustered or noise)."""
        return self.prepared.X

    @property
    def labels(self) -> np.ndarray:
        """Labels of the rows of :attr:`X` (-1 is noise)."""
        return self.table["cluster"].to_numpy()[self.prepared.used].astype(np.int64)

    @property
    def reasons(self) -> dict[str, str]:
        return {choice.name: choice.reason for choice in self.choices}

    @property
    def n_clusters(self) -> int:
        return int(self.metrics["n_clusters"])

    def counts(self) -> dict[str, int]:
        """Rows per status (every status listed, zeros included)."""
        values = self.table["status"].value_counts()
        return {status: int(values.get(status, 0)) for status in STATUSES}

    def cluster_sizes(self) -> dict[int, int]:
        labels = self.labels
        return {int(c): int((labels == c).sum()) for c in np.unique(labels[labels >= 0])}

    def profiles(self, categorical: bool = False):
        """Per cluster: its size, the mean of each numeric input column (original units)
        and, with ``categorical=True``, the most common value of each categorical column
        with its share, e.g. ``"North (62%)"``. Noise rows are left out."""
        import pandas as pd

        columns = self.prepared.numeric_columns
        used = self.data.loc[self.prepared.used]
        labels = self.labels
        clustered = labels >= 0
        groups = labels[clustered]
        frame = used[columns].apply(pd.to_numeric, errors="coerce")[clustered]
        # Means of values near 1e308 overflow as plain sums: average in units of the
        # column's largest magnitude, then scale back.
        magnitude = frame.abs().max().replace(0.0, 1.0).fillna(1.0)
        profile = (frame / magnitude).groupby(groups).mean() * magnitude
        profile.insert(0, "size", pd.Series(self.cluster_sizes()))
        if categorical:
            for name in self.prepared.categorical_columns:
                profile[name] = used[name][clustered].groupby(groups).agg(_most_common)
        profile.index.name = "cluster"
        return profile

    def to_dict(self, outputs: dict | None = None) -> dict:
        """The ``--json`` document, schema ``clustra.run/1``.

        Keys (all always present):

        - ``schema``: ``"clustra.run/1"``; ``clustra_version``: str.
        - ``input``: ``source`` (path or null), ``read`` (how a file was read:
          format, encoding, separator, decimal mark; "" for a table given in
          Python), ``n_rows``, ``n_columns``,
          ``id_column`` (or null), ``numeric_columns`` and ``categorical_columns``
          (lists of names used), ``skipped_columns`` ({name: reason}).
        - ``algorithm``: kmeans | minibatch | bisecting | dbscan | hdbscan | genie |
          hierarchical (the one that ran; with ``--algorithm auto``, the winner,
          or ``auto`` when it found no structure: one cluster).
        - ``params``: the estimator's parameters ({name: value}); ``seed``: int.
        - ``n_clusters``: clusters found (noise not counted).
        - ``choices``: [{``name`` (algorithm | k | eps), ``value``, ``reason``}], in
          the order they were made.
        - ``preprocessing``: [{``step``, ``detail``}], in order.
        - ``metrics``: ``n_clusters``, ``noise_fraction``, ``silhouette``,
          ``calinski_harabasz``, ``davies_bouldin`` (null when undefined, e.g. one
          cluster; noise rows excluded).
        - ``counts``: rows per status, every status listed: ``clustered``,
          ``noise``, ``missing values``, ``outlier``; they sum to ``input.n_rows``.
        - ``cluster_sizes``: {label as str: rows}.
        - ``warnings``: [str], one line each: what the reading and the column
          typing changed or left out, and warnings raised while fitting or
          drawing the report.
        - ``auto_candidates``: with ``--algorithm auto``, every candidate partition
          and its criteria ([{``algorithm``, ``params``, ``k``, ``chosen``, scores}]);
          else null.
        - ``outputs``: what the command wrote, e.g. {``labels``: path or null,
          ``report``: path or null}.
        """
        return {
            "schema": JSON_SCHEMA,
            "clustra_version": self.version,
            "input": {"source": self.source, "read": self.read_note,
                      "n_rows": int(len(self.table)),
                      "n_columns": int(self.data.shape[1]), "id_column": self.options.id_column,
                      "numeric_columns": self.prepared.numeric_columns,
                      "categorical_columns": self.prepared.categorical_columns,
                      "skipped_columns": self.prepared.skipped_columns},
            "algorithm": self.algorithm,
            "params": {k: _plain(v) for k, v in self.params.items()},
            "seed": self.seed,
            "n_clusters": self.n_clusters,
            "choices": [choice.to_dict() for choice in self.choices],
            "preprocessing": [step.to_dict() for step in self.steps],
            "metrics": {k: _plain(v) for k, v in self.metrics.items()},
            "counts": self.counts(),
            "cluster_sizes": {str(k): v for k, v in self.cluster_sizes().items()},
            "warnings": list(self.warnings),
            "auto_candidates": (None if self.auto_scores is None else
                                [_plain_record(row) for row in self.auto_scores]),
            "outputs": dict(outputs or {}),
        }

    def to_json(self, outputs: dict | None = None, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(outputs), indent=indent)

    def to_html(self, path, *, projection: str = "pca") -> Path:
        """Write the self-contained HTML report to ``path``; returns the path."""
        from clustra.report import write_report

        return write_report(self, path, projection=projection)


def _plain_record(row: dict) -> dict:
    return {k: (_plain_record(v) if isinstance(v, dict) else _plain(v)) for k, v in row.items()}


def safe_mean(values) -> float:
    """Mean of a numeric Series ignoring gaps, finite even for values near 1e308."""
    magnitude = float(values.abs().max()) if values.notna().any() else 0.0
    if not np.isfinite(magnitude) or magnitude == 0.0:
        return float(values.mean())
    return float((values / magnitude).mean() * magnitude)


def _most_common(values) -> str:
    counts = values.dropna().astype(str).value_counts()
    if counts.empty:
        return ""
    return f"{counts.index[0]} ({100.0 * counts.iloc[0] / len(values):.0f}%)"


def _label_table(frame, prepared: PreparedData, labels: np.ndarray, id_column):
    import pandas as pd

    status = prepared.status.copy()
    cluster = pd.array([pd.NA] * len(frame), dtype="Int64")
    cluster[prepared.used] = labels
    used_rows = np.flatnonzero(prepared.used)
    status[used_rows[labels < 0]] = STATUS_NOISE
    if id_column is not None:
        first = (id_column, frame[id_column].to_numpy())
    else:
        first = ("row", np.arange(1, len(frame) + 1))
    return pd.DataFrame({first[0]: first[1], "cluster": cluster, "status": status})
