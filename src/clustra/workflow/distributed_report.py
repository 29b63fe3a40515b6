"""The report of a ``--engine dask`` run, drawn from a stated uniform sample of its rows.

The fit labels every row on the cluster; the report's figures and validity
indices need the rows in one process, so they are computed on a uniform
sample of the input rows (drawn while the labels are written), each with the
cluster the whole fit gave it. The sample is prepared as the in-memory run
prepares a table (the same columns, imputation and scaling, with the sample's
own statistics), and the report says so.
"""

from __future__ import annotations

import numpy as np

from clustra.workflow.options import RunOptions


def sample_note(n_sample: int, n_rows: int, seed: int) -> str:
    return (f"This report describes a uniform sample of {n_sample} of the {n_rows} rows "
            f"(seed {seed}), each with the cluster the fit on every row gave it (engine dask); "
            "the figures and validity indices are computed on the sample, scaled by its own "
            "statistics.")


def sample_result(sample, opts: RunOptions, columns: list[str], *, algorithm: str, params: dict,
                  choices: list, found, model, n_rows: int, source: str):
    """A :class:`~clustra.workflow.result.ClusteringResult` of the sampled rows.

    ``sample``: ``(rows as read, 1-based row numbers, cluster, status)``;
    ``found``: what chose k or eps on the sample (None when both were given).
    """
    from clustra import __version__
    from clustra.io import DataError
    from clustra.preprocessing import prepare
    from clustra.workflow.metrics import compute_metrics
    from clustra.workflow.result import ClusteringResult, _label_table

    frame, rows, cluster, _ = sample
    if len(frame) < 2:
        raise DataError(f"The sample for the report holds {len(frame)} row(s); a report needs "
                        "at least 2.")
    scale = opts.scale if opts.scale in ("standard", "minmax") else "none"
    prepared = prepare(frame, columns=columns, id_column=opts.id_column, scale=scale,
                       impute=opts.impute, seed=opts.seed)
    clustered = ~np.asarray(cluster.isna(), dtype=bool)
    if not np.array_equal(prepared.used, clustered):  # the same rule on both sides
        raise RuntimeError("The report's sample does not keep the rows the fit clustered.")
    labels = np.asarray(cluster[clustered], dtype=np.int64)
    table = _label_table(frame, prepared, labels, opts.id_column)
    if opts.id_column is None:
        table["row"] = rows
    frame = frame.copy()
    for name, values in prepared.numeric_values.items():
        frame[name] = values
    return ClusteringResult(
        table=table, data=frame, prepared=prepared, model=model, algorithm=algorithm,
        params=params, seed=opts.seed, metrics=compute_metrics(prepared.X, labels, opts.seed),
        choices=choices, options=opts,
        selection=found if algorithm == "kmeans" else None,
        eps_suggestion=found if algorithm == "dbscan" else None,
        source=source, version=__version__, read_note=sample_note(len(frame), n_rows, opts.seed))
