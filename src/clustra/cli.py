"""The ``clustra`` command: ``run``, ``suggest``, ``demo`` and ``warmup``.

Thin on purpose: it parses options, calls :mod:`clustra.workflow`, writes files
and prints. Exit codes: 0 success, 2 usage error (a bad option), 1 data error
(missing or unreadable file, nothing numeric to cluster, k larger than the
rows ...). Errors are one line on stderr, never a traceback.

Output streams: human messages (what was chosen and why, a summary, progress)
go to stderr; stdout carries machine output only: the ``--json`` document, or
the labelled rows as CSV when neither ``--out`` nor ``--json`` is given.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

import click

from clustra.io import DataError, OptionError
from clustra.workflow.options import ALGORITHMS, reason_text

DEMO_FILE = "customers.csv"
DEMO_ID = "customer_id"
# The demo segments customers on their numeric measurements, as an analyst would: the
# one-hot region columns would add gaps of their own, which the automatic mode reads as
# structure (it then splits on region, not on the four segments).
DEMO_COLUMNS = "age,annual_income_k,spending_score,visits_per_month,online_share"


# The library's keyword arguments and the command's flags: library messages name
# keywords (``k_max=1``), the command shows flags (``--k-max 1``). One table, one place.
KEYWORD_FLAGS = {
    "algorithm": "--algorithm", "k": "--k", "eps": "--eps", "linkage": "--linkage",
    "columns": "--columns", "id_column": "--id-column", "scale": "--scale",
    "impute": "--impute", "remove_outliers": "--remove-outliers",
    "outlier_fraction": "--outlier-fraction", "reduce": "--reduce", "seed": "--seed",
    "min_samples": "--min-samples", "min_cluster_size": "--min-cluster-size",
    "k_max": "--k-max", "sep": "--sep", "decimal": "--decimal",
    "projection": "--projection", "engine": "--engine", "scheduler": "--scheduler",
}
_KEYWORD = re.compile(r"(?<![\w\-.'\"])(" + "|".join(sorted(KEYWORD_FLAGS, key=len, reverse=True))
                      + r")=(\S?)")
# Seconds between plain progress lines when stderr is not a terminal.
PLAIN_PROGRESS_EVERY = 15.0


def in_command_words(message: str) -> str:
    """``message`` on one line, keyword arguments (``k_max=1``) shown as flags (``--k-max 1``)."""

    def flag(match: re.Match) -> str:
        value = match.group(2)
        name = KEYWORD_FLAGS[match.group(1)]
        return f"{name} {value}" if value and value not in ",.;:)" else f"{name}{value}"

    return _KEYWORD.sub(flag, " ".join(str(message).split()))


def _say(message: str, quiet: bool) -> None:
    if not quiet:
        click.echo(message, err=True)


def _warn(messages, quiet: bool) -> None:
    for message in dict.fromkeys(messages):
        _say(f"clustra: warning: {in_command_words(message)}", quiet)


@contextmanager
def _progress(quiet: bool):
    """A progress callback ``(done, total, message)``.

    On a terminal, a rich bar. Otherwise (a log file, a pipe) plain lines: the
    current step at most every ``PLAIN_PROGRESS_EVERY`` seconds, so that a
    quick run prints none and a long one shows it is alive, also during a single
    long fit.
    """
    if quiet:
        yield lambda done, total, message: None
        return
    if not sys.stderr.isatty():
        with _PlainProgress(PLAIN_PROGRESS_EVERY) as plain:
            yield plain.update
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                  MofNCompleteColumn(), console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("working", total=None)

        def update(done: int, total: int, message: str) -> None:
            bar.update(task, completed=done, total=total, description=message)

        yield update


class _PlainProgress:
    """Plain progress lines on stderr, at most one per ``every`` seconds (a heartbeat too)."""

    def __init__(self, every: float):
        self.every, self.state = every, (0, 0, "starting")
        self.start = self.last = time.monotonic()
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def update(self, done: int, total: int, message: str) -> None:
        with self.lock:
            self.state = (done, total, message)
        if time.monotonic() - self.last >= self.every:
            self.emit()

    def emit(self) -> None:
        with self.lock:
            done, total, message = self.state
            self.last = time.monotonic()
        elapsed = int(self.last - self.start)
        count = f" ({done}/{total})" if total else ""
        click.echo(f"clustra: {elapsed // 60}:{elapsed % 60:02d} {message}{count}", err=True)

    def _beat(self) -> None:
        while not self.stop.wait(self.every / 3 if self.every > 0 else 1.0):
            if time.monotonic() - self.last >= self.every:
                self.emit()

    def __enter__(self):
        self.thread = threading.Thread(target=self._beat, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def _check_outputs(data: Path, out: Path | None, report: Path | None) -> None:
    """Every output writable, none the input, labels and report apart: before any work."""
    from clustra.io import check_output_path

    if out is not None:
        check_output_path(out, inputs=(data,), what="labels")
    if report is not None:
        if report.suffix.lower() not in (".html", ".htm"):
            raise OptionError(f"--report {str(report)!r} must end in .html.")
        check_output_path(report, formats={".html": "html", ".htm": "html"}, inputs=(data,),
                          what="report")
        if out is not None and out.resolve() == report.resolve():
            raise OptionError(f"--out and --report both name {str(out)!r}; give two files.")


def _explain(result, quiet: bool) -> None:
    for choice in result.choices:
        value = f"{choice.value:.4g}" if isinstance(choice.value, float) else choice.value
        _say(f"chose {choice.name}={value}: {reason_text(choice.name, choice.reason)}", quiet)
    counts = ", ".join(f"{n} {status}" for status, n in result.counts().items() if n)
    params = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                       for k, v in result.params.items())
    clusters = f"{result.n_clusters} cluster{'' if result.n_clusters == 1 else 's'}"
    _say(f"{result.algorithm} ({params}): {clusters}; "
         f"{len(result.table)} rows: {counts}", quiet)


def _in_command_words(result) -> None:
    """The result's notes as the command says them (its report and JSON show them)."""
    result.warnings[:] = list(dict.fromkeys(in_command_words(m) for m in result.warnings))
    result.read_note = in_command_words(result.read_note)


def _notifier(quiet: bool):
    return lambda message: _say(f"clustra: {in_command_words(message)}", quiet)


@contextmanager
def _captured():
    """Python warnings (clustra's, numpy's, scikit-learn's, matplotlib's) kept, not printed."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught


def _run_and_write(data, *, out, report, as_json, quiet, projection, options) -> None:
    from clustra.io import write_table, write_text
    from clustra.workflow import run

    _check_outputs(data, out, report)
    if report is not None:
        from clustra.plot._base import require_matplotlib

        require_matplotlib()  # before the work, not after it
    with _progress(quiet) as progress, _captured() as caught:
        result = run(data, progress=progress, notify=_notifier(quiet), **options)
        _in_command_words(result)
        html = None
        if report is not None:
            progress(0, 1, "drawing the report" + (" (t-SNE)" if projection == "tsne" else ""))
            from clustra.report import build_report

            html = build_report(result, projection=projection)
    # Anything not already in the result (it keeps its own): one line each, kept for the JSON.
    result.warnings.extend(in_command_words(w.message) for w in caught)
    _in_command_words(result)
    if result.read_note:
        _say(f"clustra: {result.read_note}", quiet)
    _warn(result.warnings, quiet)
    _explain(result, quiet)
    # Both files are complete before either is renamed into place.
    outputs = {"labels": None, "report": None}
    if out is not None:
        outputs["labels"] = str(write_table(result.table, out))
        _say(f"labels written to {out}", quiet)
    if html is not None:
        outputs["report"] = str(write_text(html, report))
        _say(f"report written to {report}", quiet)
    if as_json:
        click.echo(result.to_json(outputs))
    elif out is None:
        click.echo(result.table.to_csv(index=False), nl=False)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="clustra", prog_name="clustra")
def cli() -> None:
    """Cluster a table: labelled rows, plots and a self-contained HTML report."""


def _preprocessing_options(command):
    options = [
        click.option("--sep", help="Field separator of a text table: , ; | or tab "
                                   "(default: sniffed from the first lines)."),
        click.option("--decimal", type=click.Choice([".", ","]),
                     help="Decimal mark of a text table (default: sniffed)."),
        click.option("--columns", help="Comma-separated columns to use (default: all usable; "
                                       "ids, free text and constant columns are left out)."),
        click.option("--id-column", help="Column identifying rows; copied to the output."),
        click.option("--scale", type=click.Choice(["standard", "robust", "minmax", "none"]),
                     default="standard", show_default=True),
        click.option("--impute", type=click.Choice(["mean", "median", "drop"]), default="mean",
                     show_default=True, help="Fill missing values, or leave those rows out."),
        click.option("--remove-outliers", type=click.Choice(["none", "iforest", "lof"]),
                     default="none", show_default=True,
                     help="Flag outliers (they stay in the output with status 'outlier')."),
        click.option("--outlier-fraction", type=float, default=0.05, show_default=True),
        click.option("--reduce", help="PCA before clustering: pca:N components or pca:0.9 "
                                      "(fraction of variance)."),
        click.option("--seed", type=int, default=0, show_default=True),
        click.option("--min-samples", type=int, default=None,
                     help="DBSCAN's min_samples (default 5; also used to suggest eps); "
                          "HDBSCAN's (default: --min-cluster-size)."),
        click.option("--min-cluster-size", type=int, default=5, show_default=True,
                     help="HDBSCAN: the fewest rows a cluster may have."),
        click.option("--k-max", type=int, default=10, show_default=True,
                     help="Largest k tried by --k auto."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@cli.command()
@click.argument("data", type=click.Path(path_type=Path))
@click.option("--algorithm", type=click.Choice(ALGORITHMS), default=None,
              help="Default auto: the clusters a person would see, among Genie, HDBSCAN and "
                   "K-Means partitions (one cluster when there is no structure); with --k N, "
                   "kmeans; with --eps X, dbscan.")
@click.option("--k", "k", default="auto", show_default=True, help="Number of clusters, or auto.")
@click.option("--eps", default="auto", show_default=True, help="DBSCAN radius, or auto.")
@click.option("--linkage", type=click.Choice(["ward", "complete", "average", "single"]),
              default="ward", show_default=True)
@_preprocessing_options
@click.option("--projection", type=click.Choice(["pca", "tsne"]), default="pca",
              show_default=True, help="2-D projection drawn in the report.")
@click.option("--out", type=click.Path(path_type=Path), help="Labels file: .csv, .tsv, .parquet.")
@click.option("--report", type=click.Path(path_type=Path), help="HTML report file.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout.")
@click.option("--quiet", "-q", is_flag=True, help="No messages or progress on stderr.")
@click.option("--engine", type=click.Choice(["memory", "dask"]), default="memory",
              show_default=True, help="dask: DATA a file, folder or glob of Parquet/CSV files, "
                                      "--out a folder of Parquet files (clustra[dask]).")
@click.option("--scheduler", help="With --engine dask: a dask scheduler address (default: a "
                                  "LocalCluster sized to this machine).")
def run(data, out, report, as_json, quiet, projection, engine, scheduler, **options) -> None:
    """Cluster DATA (CSV, TSV, Parquet or Excel; .gz .bz2 .zip .xz; - for stdin):
    one labelled output row per input row.

    The output has the id column (or `row`), `cluster` and `status` (clustered,
    noise, missing values, outlier). Without --out or --json the labelled rows
    are printed on stdout as CSV; messages go to stderr. Exit codes: 0 success,
    1 data error, 2 usage error.
    """
    if engine == "dask":
        _run_distributed(data, out=out, report=report, as_json=as_json, quiet=quiet,
                         scheduler=scheduler, projection=projection, options=options)
        return
    if scheduler is not None:
        raise OptionError("--scheduler goes with --engine dask.")
    _run_and_write(data, out=out, report=report, as_json=as_json, quiet=quiet,
                   projection=projection, options=options)


def _run_distributed(data, *, out, report, as_json, quiet, scheduler, projection,
                     options) -> None:
    import json

    if out is None:
        raise OptionError("--engine dask writes its labels to a folder: give --out FOLDER.")
    _check_outputs(data, None, report)
    try:
        from clustra.workflow.distributed import SAMPLE_ROWS, run_distributed
    except ImportError as exc:
        raise DataError(f"--engine dask needs clustra's dask extra: {exc}") from None
    done = run_distributed(str(data), out, scheduler=scheduler,
                           progress=lambda message: _say(f"clustra: {message}", quiet),
                           report_rows=SAMPLE_ROWS if report is not None else 0, **options)
    if report is not None:
        from clustra.io import write_text
        from clustra.report import build_report

        write_text(build_report(done.report, projection=projection), report)
        _say(f"report (a sample of {len(done.report.table)} rows) written to {report}", quiet)
    for choice in done.choices:
        _say(f"{choice.name} = {choice.value}: {in_command_words(choice.reason)}", quiet)
    _say(f"{done.algorithm} ({done.params}): {done.n_rows} rows in {done.n_partitions} "
         f"partitions; {done.counts}; labels written to {done.out_dir}/", quiet)
    if as_json:
        click.echo(json.dumps({"schema": "clustra.run-dask/1", "out": str(done.out_dir),
                               "rows": done.n_rows, "partitions": done.n_partitions,
                               "algorithm": done.algorithm, "params": done.params,
                               "counts": done.counts, "sample_rows": done.sample_rows,
                               "report": None if report is None else str(report),
                               "choices": [c.to_dict() for c in done.choices]}))


@cli.command()
@click.argument("data", type=click.Path(path_type=Path))
@_preprocessing_options
@click.option("--json", "as_json", is_flag=True, help="Print the suggestions as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="No progress on stderr.")
def suggest(data, as_json, quiet, **options) -> None:
    """Suggest k (with the selection table) and DBSCAN's eps for DATA."""
    import json

    from clustra.workflow import suggest as suggest_for

    with _progress(quiet) as progress, _captured() as caught:
        found = suggest_for(data, progress=progress, **options)
    if found.read_note:
        _say(f"clustra: {in_command_words(found.read_note)}", quiet)
    _warn((in_command_words(w.message) for w in caught), quiet)
    if as_json:
        click.echo(json.dumps(found.to_dict(), indent=2))
        return
    selection, eps = found.selection, found.eps_suggestion
    k = int(selection.k)
    click.echo(f"k = {k}: {reason_text('k', selection.reason)}")
    table = selection.table
    # The curves, and which criteria picked each k (the boolean pick columns say the same).
    shown = table.select_dtypes("number")
    if "picked_by" in table:
        shown = shown.assign(picked_by=table["picked_by"])
    click.echo(shown.to_string(float_format=lambda v: f"{v:.4g}"))
    click.echo(f"eps = {float(eps.eps):.4g} (min_samples={found.min_samples}): "
               f"{reason_text('eps', eps.reason)}")


@cli.command()
@click.option("--out-dir", type=click.Path(path_type=Path), default=Path("clustra-demo"),
              show_default=True, help="Folder for labels.csv and report.html.")
@click.option("--quiet", "-q", is_flag=True)
def demo(out_dir: Path, quiet: bool) -> None:
    """Run the whole job on the example customer table shipped with clustra."""
    from importlib.resources import as_file, files

    out_dir.mkdir(parents=True, exist_ok=True)
    with as_file(files("clustra") / "data" / DEMO_FILE) as path:
        _say(f"example data: {path} (synthetic customers, see clustra/data/customers.txt)", quiet)
        _run_and_write(path, out=out_dir / "labels.csv", report=out_dir / "report.html",
                       as_json=False, quiet=quiet, projection="pca",
                       options={"algorithm": "auto", "id_column": DEMO_ID, "seed": 0,
                                "columns": DEMO_COLUMNS})
    _say(f"open {out_dir / 'report.html'} in a browser", quiet)


@cli.command()
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Processes compiling side by side (default: one per CPU).")
@click.option("--quiet", "-q", is_flag=True)
def warmup(jobs: int | None, quiet: bool) -> None:
    """Compile every kernel for float32 and float64 now (Docker images, CI caches)."""
    import numba

    from clustra.warmup import warmup as compile_all

    seconds = compile_all(jobs, report=lambda line: _say(line, quiet))
    where = numba.config.CACHE_DIR or "next to the installed package (__pycache__)"
    _say(f"clustra's kernels compiled in {seconds:.0f} s; numba's cache: {where}", quiet)


class _SayFirstCompile(logging.Handler):
    """Shows the library's "compiling ... first use only" notes (logger "clustra") on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == "clustra" and record.levelno == logging.INFO:
            click.echo(f"clustra: {record.getMessage()}", err=True)


@contextmanager
def _compile_notes(quiet: bool):
    logger = logging.getLogger("clustra")
    if quiet:
        yield
        return
    handler, level = _SayFirstCompile(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def main(argv: list[str] | None = None) -> int:
    """Console entry point; returns the exit code (0, 1 data error, 2 usage error).

    A Python warning that no step kept for itself (with Python's usual
    filters) becomes one ``clustra: warning:`` line after a success, and is
    dropped after a failure, whose one line is the error.
    """
    words = sys.argv[1:] if argv is None else argv
    quiet = "--quiet" in words or "-q" in words
    with warnings.catch_warnings(record=True) as stray, _compile_notes(quiet):
        code = _main(argv)
    if code == 0:
        _warn((in_command_words(w.message) for w in stray), quiet=quiet)
    return code


def _main(argv: list[str] | None) -> int:
    try:
        code = cli.main(args=argv, prog_name="clustra", standalone_mode=False)
    except click.UsageError as exc:
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
        message = exc.format_message().strip().replace("\n", " ")
        click.echo(f"clustra: error: {message}{hint}", err=True)
        return 2
    except OptionError as exc:
        click.echo(f"clustra: error: {in_command_words(exc)}", err=True)
        return 2
    except (DataError, MemoryError) as exc:
        click.echo(f"clustra: error: {in_command_words(exc)}", err=True)
        return 1
    except ImportError as exc:
        if "pip install" not in str(exc):  # a missing optional extra, not a bug
            raise
        click.echo(f"clustra: error: {in_command_words(exc)}", err=True)
        return 1
    except click.Abort:
        click.echo("clustra: interrupted", err=True)
        return 130
    return code if isinstance(code, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
