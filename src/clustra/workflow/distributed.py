"""``clustra run --engine dask``: a folder of Parquet or CSV files to labelled Parquet files.

The same job as :func:`clustra.run` for data that does not fit in one process:
the files are read by dask, missing values filled and columns scaled with
statistics over the whole data (dask reductions), k or eps chosen on a stated
sample, and :mod:`clustra.dask`'s K-Means or DBSCAN fitted on every row. The
output is a folder with one Parquet file per input partition
(``part-00000.parquet`` ...), each with the id column (or ``row``, the 1-based
row number over the whole input), ``cluster`` and ``status`` of every input
row, in input order; an input partition is one input file. The client only
ever sees small tables.
"""

from __future__ import annotations

import glob
import gzip
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from clustra._sniff import SAMPLE_CHARS, decode
from clustra.io import DataError, OptionError, blank_line_options
from clustra.workflow.options import Choice, RunOptions, reason_text

ENGINE_ALGORITHMS = ("kmeans", "dbscan")
ENGINE_IMPUTE = ("mean", "drop")
ENGINE_SCALE = ("standard", "minmax", "none")
SAMPLE_ROWS = 20_000  # rows k or eps is chosen on
_COMPLETE = "__clustra_complete__"


@dataclass
class DistributedRun:
    """What a distributed run did: where the labels went and what was chosen."""

    out_dir: Path
    n_rows: int
    n_partitions: int
    algorithm: str
    params: dict
    choices: list[Choice] = field(default_factory=list)
    counts: dict = field(default_factory=dict)
    sample_rows: int = 0
    report: object = None  # a ClusteringResult of the report's sample, when asked for


def _files(path: str) -> tuple[list[str], str]:
    """The input files and their format ("parquet" or "csv") for a file, folder or glob."""
    if os.path.isdir(path):
        files = sorted(f for f in glob.glob(os.path.join(path, "*")) if os.path.isfile(f))
    else:
        files = sorted(glob.glob(path)) if glob.has_magic(path) else [path]
    files = [f for f in files if not os.path.basename(f).startswith((".", "_"))]
    if not files or not all(os.path.isfile(f) for f in files):
        raise DataError(f"No input file found at {path!r}: give a file, a folder or a glob of "
                        "Parquet or CSV files.")
    kinds = {_kind(f) for f in files}
    if len(kinds) != 1 or None in kinds:
        raise DataError(f"{path!r} holds {', '.join(sorted(map(str, kinds)))} files: the dask "
                        "engine reads Parquet (.parquet, .pq) or CSV (.csv, .tsv, .gz), one kind "
                        "at a time.")
    return files, kinds.pop()


def _kind(name: str) -> str | None:
    lower = name.lower()
    if lower.endswith((".parquet", ".pq")):
        return "parquet"
    if lower.endswith((".csv", ".tsv", ".csv.gz", ".tsv.gz", ".txt")):
        return "csv"
    return None


def _read_one(path: str, kind: str, sep: str | None):
    """One input file as one pandas partition."""
    import pandas as pd

    if kind == "parquet":
        return pd.read_parquet(path)
    sep = sep or ("\t" if path.lower().endswith((".tsv", ".tsv.gz")) else ",")
    # Blank lines as clustra.io.read_table reads them (rows only in a one-column table).
    with (gzip.open if path.lower().endswith(".gz") else open)(path, "rb") as handle:
        head, _ = decode(handle.read(SAMPLE_CHARS))
    n_columns = len(pd.read_csv(io.StringIO(head), sep=sep, nrows=0).columns)
    return pd.read_csv(path, sep=sep, **blank_line_options(head, n_columns))


def _read(files, kind, sep):
    """One partition per file, read on the workers.

    dask's own readers may fuse small partitions differently for different
    column selections (the ids and the features would then not line up);
    one opaque partition per file keeps every derived frame aligned.
    """
    import dask.dataframe as dd

    return dd.from_map(_read_one, files, kind=kind, sep=sep)


def _check_options(opts: RunOptions) -> None:
    for name, value, allowed in (("algorithm", opts.algorithm, ENGINE_ALGORITHMS),
                                 ("impute", opts.impute, ENGINE_IMPUTE),
                                 ("scale", opts.scale, ENGINE_SCALE)):
        if value not in allowed:
            raise OptionError(f"{name}={value!r} is not available with engine='dask'; "
                              f"choose one of: {', '.join(allowed)}.")
    if opts.remove_outliers != "none" or opts.reduce is not None:
        raise OptionError("remove_outliers= and reduce= are not available with engine='dask'.")


def _feature_columns(frame, opts: RunOptions) -> list[str]:
    if opts.id_column is not None and opts.id_column not in frame.columns:
        raise DataError(f"id_column={opts.id_column!r} is not a column of the data; columns: "
                        f"{', '.join(map(str, frame.columns[:10]))}.")
    if opts.columns:
        missing = [c for c in opts.columns if c not in frame.columns]
        if missing:
            raise DataError(f"columns= names {missing} that the data do not have.")
        columns = list(opts.columns)
    else:
        columns = [c for c in frame.select_dtypes("number").columns if c != opts.id_column]
    text = [c for c in columns if frame[c].dtype.kind not in "biuf"]
    if text:
        raise DataError(f"column(s) {text} are not numeric; the dask engine clusters numeric "
                        "columns only: leave them out with columns=.")
    if not columns:
        raise DataError("The data have no numeric column to cluster on.")
    return columns


def _prepare(frame, columns, opts: RunOptions):
    """``(used, complete)``: the float64 features of the rows clustered (a dask dataframe)
    and, per input row, whether it is one of them (a dask boolean series).

    The mask is filtered within its own frame: files read without an index have
    no known divisions for dask to align two frames by.
    """
    import dask

    features = frame[columns].astype("float64")
    if opts.impute == "mean":
        features = features.fillna(features.mean())
    # After filling, only a column with no value at all leaves rows incomplete.
    features = features.assign(**{_COMPLETE: features.notnull().all(axis=1)})
    used = features[features[_COMPLETE]][columns]
    if opts.scale == "standard":
        mean, std = dask.compute(used.mean(), used.std(ddof=0))
        used = used.map_partitions(_shift_and_scale, mean, std.where(std > 0, 1.0))
    elif opts.scale == "minmax":
        low, high = dask.compute(used.min(), used.max())
        used = used.map_partitions(_shift_and_scale, low, (high - low).where(high > low, 1.0))
    return used, features[_COMPLETE]


def _shift_and_scale(part, shift, scale):
    """``(part - shift) / scale`` column by column (pandas Series indexed by column)."""
    return (part - shift) / scale


def _sample(used, n_rows: int, seed: int) -> np.ndarray:
    fraction = min(1.0, SAMPLE_ROWS / max(n_rows, 1))
    sample = used.sample(frac=fraction, random_state=seed).compute()
    return np.ascontiguousarray(sample.to_numpy(dtype=np.float64))


def _write_partition(labels, complete, ids, start, index, out_dir, id_name, noise_label,
                     part=None, fraction=0.0, seed=0):
    """Write one input partition's labelled rows: ``(counts by status, sample)``.

    ``part``: the partition's rows as read, when the report wants a sample: each
    row is drawn with probability ``fraction`` (seeded by partition), and the
    sample keeps its rows with their row number, cluster and status.
    """
    import pandas as pd

    complete = np.asarray(complete, dtype=bool)
    n = complete.shape[0]
    cluster = pd.array(np.full(n, pd.NA), dtype="Int64")
    cluster[np.flatnonzero(complete)] = labels
    status = np.where(complete, "clustered", "missing values").astype(object)
    if noise_label:
        status[np.flatnonzero(complete)[labels == -1]] = "noise"
    key = np.asarray(ids) if ids is not None else np.arange(start + 1, start + n + 1)
    table = pd.DataFrame({id_name: key, "cluster": cluster, "status": status})
    table.to_parquet(out_dir / f"part-{index:05d}.parquet", index=False)
    counts = {s: int((status == s).sum()) for s in ("clustered", "noise", "missing values")}
    if part is None:
        return counts, None
    take = np.flatnonzero(np.random.default_rng([seed, index]).random(n) < fraction)
    sample = part.iloc[take].reset_index(drop=True)
    return counts, (sample, start + 1 + take, cluster[take], status[take])


def _choose_on_sample(used, n_rows: int, opts: RunOptions) -> tuple[dict, list, int, object]:
    """The estimator's parameters, choosing k or eps on a sample where asked: ``(params,
    choices, sample_rows, what chose)``."""
    import clustra

    if opts.algorithm == "kmeans":
        params = {"n_clusters": opts.k, "random_state": opts.seed}
        name, asked = "k", opts.k == "auto"
    else:
        params = {"eps": opts.eps, "min_samples": opts.dbscan_min_samples}
        name, asked = "eps", opts.eps == "auto"
    if not asked:
        return params, [], 0, None
    sample = _sample(used, n_rows, opts.seed)
    if opts.algorithm == "kmeans":
        found = clustra.choose_k(sample, k_range=range(1, opts.k_max + 1), random_state=opts.seed)
        value = params["n_clusters"] = int(found.k)
    else:
        found = clustra.suggest_eps(sample, min_samples=opts.dbscan_min_samples)
        value = params["eps"] = float(found.eps)
    reason = f"{reason_text(name, found.reason)} (on a sample of {sample.shape[0]} rows)"
    return params, [Choice(name, value, reason)], sample.shape[0], found


def _write_all(frame, complete, labels_, lengths, used_lengths, out_dir: Path,
               opts: RunOptions, report_rows: int = 0) -> tuple[dict, object]:
    """One Parquet file per input partition: ``(counts by status, sample or None)``.

    ``report_rows``: about how many input rows to draw, uniformly, for the report
    (0: none); the sample is drawn while the labels are written.
    """
    import dask

    labels = labels_.rechunk((tuple(int(n) for n in used_lengths),))
    ids = (frame[opts.id_column].to_delayed() if opts.id_column is not None
           else [None] * len(lengths))
    parts = frame.to_delayed() if report_rows else [None] * len(lengths)
    fraction = min(1.0, report_rows / max(int(np.sum(lengths)), 1))
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    out_dir.mkdir(parents=True, exist_ok=True)
    tasks = [
        dask.delayed(_write_partition)(part_labels, part_complete, part_ids, int(start), index,
                                       out_dir, opts.id_column or "row", opts.algorithm == "dbscan",
                                       part, fraction, opts.seed)
        for index, (part_labels, part_complete, part_ids, part, start) in enumerate(
            zip(labels.to_delayed().ravel(), complete.to_delayed(), ids, parts, starts,
                strict=True))
    ]
    written = dask.compute(*tasks)
    counts = {s: sum(c[s] for c, _ in written) for s in written[0][0]}
    if not report_rows:
        return counts, None
    return counts, _join_samples([sample for _, sample in written])


def _join_samples(samples):
    """The partitions' samples as one: ``(rows as read, row numbers, cluster, status)``."""
    import pandas as pd

    return (pd.concat([s[0] for s in samples], ignore_index=True),
            np.concatenate([s[1] for s in samples]),
            pd.array(np.concatenate([np.asarray(s[2], dtype=object) for s in samples]),
                     dtype="Int64"),
            np.concatenate([s[3] for s in samples]))


def run_distributed(path, out, *, scheduler: str | None = None, progress=None,
                    report_rows: int = 0, **options) -> DistributedRun:
    """Cluster the files at ``path`` on Dask and write labelled Parquet files to ``out``.

    ``path`` is a file, a folder or a glob of Parquet or CSV files; ``out`` a
    folder (created; it must not hold a previous run's files). ``scheduler``
    is a ``dask.distributed`` scheduler address; without it a LocalCluster
    sized to the machine is started (and stopped at the end). ``options`` are
    :func:`clustra.run`'s, limited to what the engine offers (algorithm kmeans,
    the default, or dbscan; impute mean or drop; scale standard, minmax or none).
    ``report_rows``: draw a uniform sample of about that many input rows while
    writing, and return it as a result the report is drawn from (``.report``).
    """
    import dask
    from distributed import Client, LocalCluster

    import clustra.dask

    if options.get("algorithm") is None:  # the engine has no automatic mode yet
        options["algorithm"] = "dbscan" if options.get("eps", "auto") != "auto" else "kmeans"
    opts = RunOptions(**options)
    _check_options(opts)
    out_dir = Path(out)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise OptionError(f"out={str(out)!r} must be a new or empty folder for the dask engine "
                          "(one Parquet file per input partition is written there).")
    files, kind = _files(str(path))
    say = progress or (lambda message: None)
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=os.cpu_count() or 1, threads_per_worker=1,
                               dashboard_address=None, silence_logs=40)
    try:
        with Client(scheduler if scheduler is not None else cluster):
            frame = _read(files, kind, opts.sep)
            columns = _feature_columns(frame, opts)
            used, complete = _prepare(frame, columns, opts)
            # Rows per partition, all and used, in one pass over the files.
            lengths, used_lengths = (
                counts.to_numpy() for counts in dask.compute(
                    frame.map_partitions(len),
                    complete.map_partitions(lambda part: int(part.sum())))
            )
            n_rows = int(lengths.sum())
            say(f"read {n_rows} rows in {len(lengths)} partitions from {len(files)} {kind} file(s)")
            params, choices, sample_rows, found = _choose_on_sample(used, n_rows, opts)
            estimator = clustra.dask.KMeans if opts.algorithm == "kmeans" else clustra.dask.DBSCAN
            say(f"fitting {estimator.__name__} ({params}) on the cluster")
            X = used.to_dask_array(lengths=tuple(int(n) for n in used_lengths))
            model = estimator(**params).fit(X)
            counts, sample = _write_all(frame, complete, model.labels_, lengths, used_lengths,
                                        out_dir, opts, report_rows)
    finally:
        if cluster is not None:
            cluster.close()
    report = None
    if sample is not None:
        from clustra.workflow.distributed_report import sample_result

        say(f"preparing the report from a sample of {len(sample[0])} rows")
        report = sample_result(sample, opts, columns, algorithm=opts.algorithm, params=params,
                               choices=choices, found=found, model=model, n_rows=n_rows,
                               source=str(path))
    return DistributedRun(out_dir, n_rows, len(lengths), opts.algorithm, params, choices,
                          counts, sample_rows, report)
