"""The result of :func:`clustra.auto_cluster`."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Columns of the candidates table, in order.
COLUMNS = ("algorithm", "params", "k", "family", "separation", "separation_null",
           "separation_ratio", "calinski_harabasz", "calinski_harabasz_null",
           "calinski_harabasz_ratio", "weakest_gap", "prominence",
           "prominence_null", "prominence_ratio", "dip_p", "chosen")


@dataclass
class AutoResult:
    """What :func:`clustra.auto_cluster` found, and why.

    Attributes
    ----------
    labels : ndarray of int64, shape (n_samples,)
        One cluster per row, in the order of the rows (0..k-1), or -1 for the
        background noise an HDBSCAN winner leaves between its clusters.
    algorithm : str
        ``"genie"``, ``"hdbscan"``, ``"kmeans"``, or ``"none"`` (one cluster).
    params : dict
        The winner's settings (``n_clusters``, ``gini_threshold``, ``min_cluster_size``).
    k : int
        Number of clusters.
    reason : str
        Why this partition won, in one or two sentences.
    regime : str
        ``"gaps"`` (density-separated clusters), ``"convex"`` (overlapping
        groups), ``"modes"`` (density peaks that touch) or ``"none"`` (no structure).
    records : list of dict
        One row per candidate (columns :data:`COLUMNS`), best first within each family.
    sample_rows : ndarray of int64
        The rows the candidates were built and scored on (all rows when n is small).
    runner_up : dict or None
        The best candidate of the other regime (its record and sample labels), for pictures.
    candidates : list
        Every candidate (:class:`clustra.auto._candidates.Candidate`: settings, scores
        and labels of the sample rows), in the order of ``records``.
    """

    labels: np.ndarray
    algorithm: str
    params: dict
    k: int
    reason: str
    regime: str
    records: list = field(default_factory=list, repr=False)
    sample_rows: np.ndarray | None = field(default=None, repr=False)
    runner_up: dict | None = field(default=None, repr=False)
    X: np.ndarray | None = field(default=None, repr=False)
    candidates: list = field(default_factory=list, repr=False)

    @property
    def table(self):
        """Candidates x criteria: a pandas DataFrame when pandas is installed, else the records."""
        try:
            import pandas as pd
        except ImportError:
            return [dict(r) for r in self.records]
        return pd.DataFrame.from_records(self.records, columns=list(COLUMNS))

    def plot(self, ax=None):
        """The chosen partition (2-D projection) and the candidates' calibrated scores.

        Needs matplotlib (``pip install "clustra[plot]"``); returns the Figure
        when ``ax`` is None, else draws the partition on ``ax`` and returns it.
        """
        from clustra.plot.auto import plot_auto

        return plot_auto(self, ax=ax)
