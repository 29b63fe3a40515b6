"""The clustra command end to end: files in, labelled rows, JSON and report out, exit codes."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from clustra.cli import main

SRC = str(Path(__file__).resolve().parents[1] / "src")


@pytest.fixture
def customers(tmp_path, rng):
    """A small CSV with an id column, a text column, missing values and a hostile header."""
    centers = np.array([[20.0, 1.0, 3.0], [60.0, 9.0, 3.0], [40.0, 5.0, 12.0]])
    values = np.vstack([rng.normal(c, [2.0, 0.5, 0.6], size=(15, 3)) for c in centers])
    order = rng.permutation(len(values))
    frame = pd.DataFrame(values[order], columns=["age", "visits", "<script>alert(1)</script>"])
    frame.insert(0, "customer", [f"c{i:02d}" for i in rng.permutation(len(frame))])
    frame["city"] = rng.choice(["Oslo", "Lima"], size=len(frame))
    frame.loc[[3, 17], "age"] = np.nan
    frame.loc[8, ["age", "visits", "<script>alert(1)</script>", "city"]] = np.nan
    path = tmp_path / "customers.csv"
    frame.to_csv(path, index=False)
    return path, frame


def _one_line_error(capsys):
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("clustra: error: ")
    assert "Traceback" not in captured.err
    return lines[0]


def test_run_writes_one_row_per_input_row(customers, tmp_path, capsys):
    path, frame = customers
    out = tmp_path / "labels.csv"
    code = main(["run", str(path), "--k", "3", "--id-column", "customer", "--out", str(out)])
    assert code == 0
    labels = pd.read_csv(out)
    assert list(labels.columns) == ["customer", "cluster", "status"]
    assert labels["customer"].tolist() == frame["customer"].tolist()
    assert labels.at[8, "status"] == "missing values" and pd.isna(labels.at[8, "cluster"])
    assert (labels.drop(index=8)["status"] == "clustered").all()
    assert labels["cluster"].dropna().nunique() == 3
    captured = capsys.readouterr()
    assert captured.out == ""  # with --out, stdout stays empty
    assert "kmeans (n_clusters=3" in captured.err and "labels written to" in captured.err


@pytest.mark.parametrize("suffix", [".tsv", ".parquet"])
def test_run_other_output_formats(customers, tmp_path, suffix):
    path, frame = customers
    out = tmp_path / f"labels{suffix}"
    assert main(["run", str(path), "--k", "2", "--out", str(out), "--quiet"]) == 0
    labels = pd.read_parquet(out) if suffix == ".parquet" else pd.read_csv(out, sep="\t")
    assert labels["row"].tolist() == list(range(1, len(frame) + 1))


def test_run_reads_tsv_and_parquet(customers, tmp_path, capsys):
    _, frame = customers
    frame.to_parquet(tmp_path / "c.parquet", index=False)
    frame.to_csv(tmp_path / "c.tsv", sep="\t", index=False)
    for name in ("c.parquet", "c.tsv"):
        assert main(["run", str(tmp_path / name), "--k", "3", "--quiet"]) == 0
        table = pd.read_csv(__import__("io").StringIO(capsys.readouterr().out))
        assert len(table) == len(frame)


def test_labels_on_stdout_without_out(customers, capsys):
    path, frame = customers
    assert main(["run", str(path), "--k", "3", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    lines = captured.out.strip().splitlines()
    assert lines[0] == "row,cluster,status" and len(lines) == len(frame) + 1


def test_json_schema(customers, tmp_path, capsys):
    path, frame = customers
    out, report = tmp_path / "l.csv", tmp_path / "r.html"
    code = main(["run", str(path), "--algorithm", "kmeans", "--k", "auto", "--k-max", "5",
                 "--id-column", "customer", "--remove-outliers", "lof", "--reduce", "pca:2",
                 "--scale", "robust", "--impute", "median", "--seed", "3",
                 "--out", str(out), "--report", str(report), "--json", "--quiet"])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema"] == "clustra.run/1"
    assert doc["algorithm"] == "kmeans" and doc["seed"] == 3
    assert doc["n_clusters"] == doc["params"]["n_clusters"] == doc["choices"][0]["value"]
    assert doc["choices"][0]["name"] == "k" and doc["choices"][0]["reason"]
    assert [s["step"] for s in doc["preprocessing"]] == [
        "columns", "missing values", "scaling", "one-hot encoding", "outliers", "pca"]
    assert sum(doc["counts"].values()) == len(frame)
    assert doc["counts"]["outlier"] >= 1 and doc["counts"]["missing values"] == 1
    assert doc["outputs"] == {"labels": str(out), "report": str(report)}
    assert doc["input"]["id_column"] == "customer"
    assert isinstance(doc["metrics"]["silhouette"], float)
    labels = pd.read_csv(out)
    assert (labels["status"] == "outlier").sum() == doc["counts"]["outlier"]


def test_report_escapes_hostile_header(customers, tmp_path):
    path, _ = customers
    report = tmp_path / "r.html"
    assert main(["run", str(path), "--k", "3", "--report", str(report), "--quiet",
                 "--out", str(tmp_path / "l.csv")]) == 0
    html = report.read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_choices_are_explained(customers, capsys):
    path, _ = customers
    assert main(["run", str(path), "--algorithm", "auto", "--k-max", "5",
                 "--columns", "age,visits"]) == 0
    err = capsys.readouterr().err
    assert "chose algorithm=" in err
    # the reason names the winner's settings and how it compared with structureless data
    assert "structureless" in err or "reference" in err or "no cluster structure" in err.lower()


@pytest.mark.parametrize("algorithm", ["dbscan", "hierarchical", "minibatch", "bisecting",
                                       "hdbscan", "genie"])
def test_each_algorithm_runs(customers, tmp_path, capsys, algorithm):
    path, frame = customers
    assert main(["run", str(path), "--algorithm", algorithm, "--k", "3", "--quiet", "--json",
                 "--out", str(tmp_path / "o.csv")]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["algorithm"] == algorithm and sum(doc["counts"].values()) == len(frame)


@pytest.mark.parametrize("content, message", [
    ("", "'empty.csv' is empty"),
    ("a,b\n", "header but no rows"),
    ("name,town\nann,oslo\nbob,lima\n", "No numeric columns to cluster ('name' is text"),
    ("a,b\n,\n,\n", "No numeric columns to cluster"),
])
def test_data_errors_exit_1(tmp_path, capsys, content, message):
    path = tmp_path / "empty.csv"
    path.write_text(content)
    assert main(["run", str(path), "--columns", "name,town"] if "ann" in content
                else ["run", str(path)]) == 1
    assert message in _one_line_error(capsys)


def test_every_row_missing(tmp_path, capsys):
    path = tmp_path / "gaps.csv"
    path.write_text("a,b\n1,\n,2\n")
    assert main(["run", str(path), "--impute", "drop"]) == 1
    assert "Every row has a missing value" in _one_line_error(capsys)


def test_missing_path_exit_1(tmp_path, capsys):
    assert main(["run", str(tmp_path / "nope.csv")]) == 1
    assert "File not found" in _one_line_error(capsys)


def test_absurd_k_exit_1(customers, capsys):
    path, _ = customers
    assert main(["run", str(path), "--k", "1000000"]) == 1
    assert "--k 1000000 is larger than the 44 rows" in _one_line_error(capsys)


@pytest.mark.parametrize("args, message", [
    (["--k", "-3"], "--k must be >= 1"),
    (["--k", "lots"], "--k 'lots' must be 'auto' or a number"),
    (["--eps", "0"], "--eps must be > 0"),
    (["--algorithm", "spectral"], "Invalid value for '--algorithm'"),
    (["--scale", "zscore"], "Invalid value for '--scale'"),
    (["--reduce", "umap:2"], "--reduce 'umap:2' is not understood"),
    (["--out", "labels.xlsx"], "unknown file extension '.xlsx'"),
    (["--report", "report.pdf"], "must end in .html"),
    (["--seed", "x"], "Invalid value for '--seed'"),
    (["--no-such-option"], "No such option '--no-such-option'"),
])
def test_usage_errors_exit_2(customers, capsys, args, message):
    path, _ = customers
    assert main(["run", str(path), *args]) == 2
    assert message in _one_line_error(capsys)


def test_unknown_command_exit_2(capsys):
    assert main(["cluster"]) == 2
    assert "No such command 'cluster'" in _one_line_error(capsys)


def test_help_exits_0(capsys):
    assert main(["run", "--help"]) == 0
    assert "--algorithm" in capsys.readouterr().out


def test_suggest_prints_k_eps_and_table(customers, capsys):
    path, _ = customers
    assert main(["suggest", str(path), "--k-max", "5", "--columns", "age,visits",
                 "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("k = ")
    assert "eps = " in out and "(min_samples=5)" in out
    assert "k = " in out and not out.startswith("k = 3: k=3")
    assert main(["suggest", str(path), "--k-max", "5", "--json", "--quiet"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema"] == "clustra.suggest/1" and set(doc["k_table"]) == {"1", "2", "3", "4", "5"}


def test_demo_writes_labels_and_report(tmp_path, capsys):
    out_dir = tmp_path / "demo"
    assert main(["demo", "--out-dir", str(out_dir)]) == 0
    labels = pd.read_csv(out_dir / "labels.csv")
    assert len(labels) == 240 and labels.columns[0] == "customer_id"
    assert labels["status"].value_counts().get("missing values", 0) == 1
    assert (out_dir / "report.html").stat().st_size > 10_000
    assert "report written to" in capsys.readouterr().err
    # The automatic mode finds the four segments the table was made from.
    from clustra.data.make_customers import SEED, SEGMENTS

    shares = np.array([spec[0] for spec in SEGMENTS.values()])
    segment = np.random.default_rng(SEED).choice(len(SEGMENTS), size=240, p=shares / shares.sum())
    clustered = labels["status"] == "clustered"
    assert labels.loc[clustered, "cluster"].nunique() == 4
    assert adjusted_rand_score(segment[clustered], labels.loc[clustered, "cluster"]) > 0.9


def test_console_script_subprocess_no_traceback(tmp_path):
    env = {**os.environ, "PYTHONPATH": SRC}
    done = subprocess.run([sys.executable, "-m", "clustra.cli", "run", str(tmp_path / "x.csv")],
                          capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"clustra: error: File not found: {str(tmp_path / 'x.csv')!r}."]
    done = subprocess.run([sys.executable, "-m", "clustra.cli", "run", "x.csv", "--k"],
                          capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


def test_progress_only_on_a_terminal(monkeypatch):
    from clustra import cli

    with cli._progress(quiet=False) as update:  # pytest's stderr is not a terminal: plain lines
        assert update.__self__.__class__.__name__ == "_PlainProgress"
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    with cli._progress(quiet=True) as update:
        assert update.__name__ == "<lambda>"
    with cli._progress(quiet=False) as update:
        assert update.__name__ == "update"  # the rich bar
        update(1, 4, "k=2")


def test_warnings_are_one_line_each(customers, capsys):
    path, _ = customers
    # eps far above every distance: DBSCAN finds one cluster; any warning it gives is one line
    assert main(["run", str(path), "--algorithm", "dbscan", "--eps", "1000", "--json"]) == 0
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert doc["n_clusters"] == 1 and doc["metrics"]["silhouette"] is None
    assert any("single cluster" in message for message in doc["warnings"])
    for message in doc["warnings"]:
        assert f"clustra: warning: {' '.join(message.split())}" in captured.err.splitlines()
    assert "Warning:" not in captured.err  # no raw Python warning output


def test_memory_refusal_is_a_data_error(customers, capsys, monkeypatch):
    from clustra import workflow

    def refuse(X, opts, progress):
        raise MemoryError("linkage needs 9.9 GB for 45 rows; use fewer rows")

    monkeypatch.setitem(workflow.ADAPTERS, "hierarchical", refuse)
    path, _ = customers
    assert main(["run", str(path), "--algorithm", "hierarchical", "--k", "3"]) == 1
    assert "linkage needs 9.9 GB" in _one_line_error(capsys)


def test_report_without_matplotlib_names_the_extra(customers, tmp_path, capsys, monkeypatch):
    path, _ = customers
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    out = tmp_path / "l.csv"
    assert main(["run", str(path), "--k", "2", "--out", str(out),
                 "--report", str(tmp_path / "r.html")]) == 1
    assert 'pip install "clustra[plot]"' in _one_line_error(capsys)
    assert not out.exists()  # refused before any work


# --- messy tables through the command (issue 18) ------------------------------------------

def _blobs(rng, n_per=20):
    centers = np.array([[0.0, 0.0], [8.0, 8.0]])
    values = np.vstack([rng.normal(c, 0.5, size=(n_per, 2)) for c in centers])
    return values, np.repeat([0, 1], n_per)


def _agree(labels, truth) -> bool:
    from sklearn.metrics import adjusted_rand_score

    return adjusted_rand_score(truth, np.asarray(labels, dtype=int)) == 1.0


def test_european_csv_is_read_and_clustered(tmp_path, rng, capsys):
    values, truth = _blobs(rng)
    lines = ["x;y"] + [f"{a:.4f};{b:.4f}".replace(".", ",") for a, b in values]
    path = tmp_path / "eu.csv"
    path.write_text("\n".join(lines) + "\n")
    assert main(["run", str(path), "--k", "2", "--json"]) == 0
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert doc["input"]["numeric_columns"] == ["x", "y"]
    assert "--sep ';', --decimal ','" in captured.err.splitlines()[0]
    assert "give --sep and --decimal to override" in doc["input"]["read"]
    assert main(["run", str(path), "--k", "2", "--sep", ";", "--decimal", ",", "--quiet"]) == 0
    labels = pd.read_csv(__import__("io").StringIO(capsys.readouterr().out))
    assert _agree(labels["cluster"], truth)


def test_compressed_and_stdin(tmp_path, rng):
    import gzip

    from click.testing import CliRunner

    from clustra.cli import cli

    values, truth = _blobs(rng)
    text = pd.DataFrame(values, columns=["a", "b"]).to_csv(index=False)
    path = tmp_path / "d.csv.gz"
    path.write_bytes(gzip.compress(text.encode()))
    runner = CliRunner()
    for args, stdin in (([str(path)], None), (["-"], text), (["-"], gzip.compress(text.encode()))):
        done = runner.invoke(cli, ["run", *args, "--k", "2", "--quiet"], input=stdin)
        assert done.exit_code == 0, done.output
        labels = pd.read_csv(__import__("io").StringIO(done.stdout))
        assert labels["row"].tolist() == list(range(1, 41)) and _agree(labels["cluster"], truth)


def test_out_naming_the_input_is_refused(tmp_path, rng, capsys):
    values, _ = _blobs(rng)
    path = tmp_path / "data.csv"
    pd.DataFrame(values, columns=["a", "b"]).to_csv(path, index=False)
    before = path.read_bytes()
    assert main(["run", str(path), "--k", "2", "--out", str(path)]) == 2
    assert "it is the input file" in _one_line_error(capsys)
    assert main(["run", str(path), "--k", "2", "--report", str(tmp_path / "data.csv")]) == 2
    assert "must end in .html" in _one_line_error(capsys)
    assert path.read_bytes() == before


@pytest.mark.parametrize("bad", ["folder", "/proc/clustra-report.html", "missing/r.html"])
def test_bad_report_path_refused_before_any_work(customers, tmp_path, capsys, bad):
    path, _ = customers
    if bad == "folder":
        bad = str(tmp_path / "r.html")
        (tmp_path / "r.html").mkdir()
    elif bad.startswith("missing"):
        bad = str(tmp_path / bad)
    out = tmp_path / "labels.csv"
    assert main(["run", str(path), "--k", "2", "--out", str(out), "--report", bad]) == 2
    line = _one_line_error(capsys)
    assert "Cannot write" in line and bad in line
    assert not out.exists()  # nothing written


def test_nothing_half_written_when_the_report_fails(customers, tmp_path, capsys, monkeypatch):
    import clustra.report

    def broken(result, projection="pca"):
        raise MemoryError("no memory left to draw")

    monkeypatch.setattr(clustra.report, "build_report", broken)
    path, _ = customers
    out, report = tmp_path / "labels.csv", tmp_path / "r.html"
    assert main(["run", str(path), "--k", "2", "--out", str(out), "--report", str(report)]) == 1
    assert "no memory left to draw" in _one_line_error(capsys)
    assert list(tmp_path.iterdir()) == [path]


def test_columns_empty_is_an_error(customers, capsys):
    path, _ = customers
    assert main(["run", str(path), "--columns", ""]) == 2
    assert "--columns names no column" in _one_line_error(capsys)


def test_flags_in_errors_not_keywords(customers, capsys):
    path, _ = customers
    assert main(["run", str(path), "--k-max", "1"]) == 2
    assert _one_line_error(capsys) == "clustra: error: --k-max must be an integer >= 2, got 1."


@pytest.mark.parametrize("library, command", [
    ("k_max= must be an integer >= 2, got 1.", "--k-max must be an integer >= 2, got 1."),
    ("reduce='umap:2' is not understood", "--reduce 'umap:2' is not understood"),
    ("give sep= and decimal= to override", "give --sep and --decimal to override"),
    ("name it in columns= to cluster on it, or give id_column='id'",
     "name it in --columns to cluster on it, or give --id-column 'id'"),
    ("n_clusters=3 and eps=0.5; min_samples=4", "n_clusters=3 and --eps 0.5; --min-samples 4"),
    ("a line\n  broken   in two", "a line broken in two"),
])
def test_keywords_translated_to_flags(library, command):
    from clustra.cli import in_command_words

    assert in_command_words(library) == command


def test_stray_cells_ids_and_repeated_names_are_said(tmp_path, rng, capsys):
    values, truth = _blobs(rng)
    frame = pd.DataFrame({"id": np.arange(100, 140), "a": values[:, 0].astype(object),
                          "a ": values[:, 1]})
    frame.loc[[2, 30], "a"] = ["oops", "n/a?"]
    path = tmp_path / "t.csv"
    text = frame.to_csv(index=False).replace("a \n", "a\n", 1)  # two columns named 'a'
    path.write_text(text)
    assert main(["run", str(path), "--k", "2", "--json"]) == 0
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    warned = [line for line in captured.err.splitlines() if line.startswith("clustra: warning: ")]
    assert warned == [f"clustra: warning: {message}" for message in doc["warnings"]]
    assert doc["warnings"] == [
        "repeated column names were renamed: 'a' -> 'a_2'.",
        "left out column 'id': it looks like an id (unique per row and named like an id); name "
        "it in --columns to cluster on it, or give --id-column 'id' to copy it to the output.",
        "column 'a' is numeric but 2 cells ('oops', 'n/a?'; data rows 3, 31) are not numbers and "
        "were treated as missing."]
    assert doc["input"]["numeric_columns"] == ["a", "a_2"]


def test_constant_data(tmp_path, capsys):
    path = tmp_path / "c.csv"
    pd.DataFrame({"a": [3.0] * 25, "b": [1] * 25}).to_csv(path, index=False)
    assert main(["run", str(path), "--k", "auto", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["n_clusters"] == 1 and doc["choices"][0]["value"] == 1
    assert "same point" in doc["choices"][0]["reason"]
    assert main(["suggest", str(path)]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("k = 1: every row is the same point")
    assert all(line.startswith("clustra: ") for line in captured.err.splitlines()), captured.err
    assert len(captured.err.splitlines()) == 2  # what was read, and the constant columns


def test_extreme_values_keep_counting(tmp_path, rng, capsys):
    values, truth = _blobs(rng)
    path = tmp_path / "big.csv"
    pd.DataFrame({"big": values[:, 0] * 1e307, "y": rng.normal(size=40) * 0.01}).to_csv(
        path, index=False)
    assert main(["run", str(path), "--k", "2", "--quiet"]) == 0
    labels = pd.read_csv(__import__("io").StringIO(capsys.readouterr().out))
    assert _agree(labels["cluster"], truth)
    assert main(["run", str(path), "--k", "2", "--scale", "none"]) == 1
    assert "squared distances overflow" in _one_line_error(capsys)


def test_long_column_name_report_leaks_no_raw_warning(tmp_path, rng, capsys):
    values, _ = _blobs(rng)
    path = tmp_path / "long.csv"
    pd.DataFrame({"a" * 400: values[:, 0], "b" * 300: values[:, 1]}).to_csv(path, index=False)
    report = tmp_path / "r.html"
    assert main(["run", str(path), "--k", "2", "--report", str(report), "--json",
                 "--out", str(tmp_path / "l.csv")]) == 0
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert "Warning" not in captured.err and ".py:" not in captured.err
    for line in captured.err.splitlines():
        assert line.startswith(("clustra: ", "chose ", "kmeans (", "labels written",
                                "report written")), line
    html = report.read_text(encoding="utf-8")
    for message in doc["warnings"]:  # whatever the drawing said is in the report too
        assert message.split(" ")[0] in html


def test_warnings_from_drawing_are_kept(customers, tmp_path, capsys, monkeypatch):
    import warnings as python_warnings

    from clustra.plot import sizes

    original = sizes.plot_cluster_sizes

    def noisy(*args, **kwargs):
        python_warnings.warn("Glyph 1234 missing from font(s) DejaVu Sans.", UserWarning,
                             stacklevel=1)
        return original(*args, **kwargs)

    monkeypatch.setattr(sizes, "plot_cluster_sizes", noisy)
    import clustra.plot

    monkeypatch.setattr(clustra.plot, "plot_cluster_sizes", noisy, raising=False)
    path, _ = customers
    report = tmp_path / "r.html"
    assert main(["run", str(path), "--k", "2", "--report", str(report), "--json",
                 "--out", str(tmp_path / "l.csv")]) == 0
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    message = "drawing the report: Glyph 1234 missing from font(s) DejaVu Sans."
    assert message in doc["warnings"]
    assert f"clustra: warning: {message}" in captured.err.splitlines()
    assert "Glyph 1234 missing" in report.read_text(encoding="utf-8")


def test_plain_progress_lines_when_not_a_terminal(customers, capsys, monkeypatch):
    from clustra import cli

    monkeypatch.setattr(cli, "PLAIN_PROGRESS_EVERY", 0.0)
    path, _ = customers
    assert main(["run", str(path), "--k", "auto", "--k-max", "3", "--json"]) == 0
    err = capsys.readouterr().err
    progress = [line for line in err.splitlines() if line.startswith("clustra: 0:")]
    assert progress and any("/" in line for line in progress), err


def test_long_work_said_first_and_hierarchical_refused(customers, capsys, monkeypatch):
    from clustra.workflow import estimate

    path, _ = customers
    monkeypatch.setattr(estimate, "LONG_WORK_SECONDS", 0.0)
    assert main(["run", str(path), "--algorithm", "hierarchical", "--k", "3", "--json"]) == 0
    err = capsys.readouterr().err
    assert "clustra: hierarchical ward linkage on 44 rows x 5 features will take about" in err
    assert "faster: --linkage 'single'" in err
    monkeypatch.setattr(estimate, "HIERARCHY_LIMIT_SECONDS", 1e-9)
    assert main(["run", str(path), "--algorithm", "hierarchical", "--k", "3"]) == 1
    line = _one_line_error(capsys)
    assert "hierarchical ward linkage on 44 rows would take" in line
    assert "--linkage 'single'" in line
    assert "--algorithm 'genie', 'hdbscan', 'kmeans' or 'minibatch'" in line


def test_stray_python_warnings_become_lines(customers, tmp_path, capsys, monkeypatch):
    import warnings as python_warnings

    import clustra.io

    original = clustra.io.write_table

    def noisy(frame, path):
        python_warnings.warn("a library grumbles\n  over two lines", UserWarning, stacklevel=1)
        return original(frame, path)

    monkeypatch.setattr(clustra.io, "write_table", noisy)
    path, _ = customers
    assert main(["run", str(path), "--k", "2", "--out", str(tmp_path / "l.csv")]) == 0
    err = capsys.readouterr().err
    assert "clustra: warning: a library grumbles over two lines" in err.splitlines()
    assert "UserWarning" not in err


@pytest.mark.parametrize("args, message", [
    (["--sep", "::"], "--sep '::' must be one character"),
    (["--decimal", ";"], "Invalid value for '--decimal'"),
    (["--sep", ",", "--decimal", ","], "cannot be the same character"),
])
def test_bad_sep_and_decimal_exit_2(customers, capsys, args, message):
    path, _ = customers
    assert main(["run", str(path), *args]) == 2
    assert message in _one_line_error(capsys)


def test_warmup_runs_every_task_and_says_where_the_cache_is(monkeypatch, capsys):
    import clustra.warmup

    ran = []
    monkeypatch.setattr(clustra.warmup, "TASKS", {"tiny": lambda dtype: ran.append(dtype)})
    monkeypatch.setattr(clustra.warmup, "JOBS", ((("tiny", "float64"), ("tiny", "float32")),))
    assert main(["warmup", "--jobs", "1"]) == 0
    # One process: each task once for each dtype, in this process.
    assert ran == ["float64", "float32"]
    err = capsys.readouterr().err
    assert "compiled tiny kernels for float64" in err
    assert "compiled tiny kernels for float32" in err
    assert "numba's cache:" in err


def test_warmup_bad_jobs_exit_2(capsys):
    assert main(["warmup", "--jobs", "0"]) == 2
    assert "--jobs" in _one_line_error(capsys)


def test_python_dash_m_clustra_runs_the_command():
    env = dict(os.environ, PYTHONPATH=SRC)
    done = subprocess.run([sys.executable, "-m", "clustra", "warmup", "--help"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Compile every kernel" in done.stdout


def test_first_compile_notes_are_shown_unless_quiet(capsys):
    import logging

    from clustra.cli import _compile_notes

    with _compile_notes(quiet=False):
        logging.getLogger("clustra").info("compiling clustra's K-Means kernels for float64: "
                                          "first use only")
    with _compile_notes(quiet=True):
        logging.getLogger("clustra").info("not shown")
    err = capsys.readouterr().err
    assert err == "clustra: compiling clustra's K-Means kernels for float64: first use only\n"


def test_warmup_jobs_cover_every_task_in_both_dtypes():
    import clustra.warmup

    tasks = [task for job in clustra.warmup.JOBS for task in job]
    assert sorted(tasks) == sorted((name, dtype) for name in clustra.warmup.TASKS
                                   for dtype in clustra.warmup.DTYPES)
    # Longest first: both K-Means dtypes lead, the workflow (cached by then) ends.
    assert clustra.warmup.JOBS[:2] == ((("K-Means", "float64"),), (("K-Means", "float32"),))
    assert clustra.warmup.JOBS[-1][0][0] == "the clustra command's workflow"
