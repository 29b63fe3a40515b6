"""The clustra command end to end: files in, labelled rows, JSON and report out, exit codes."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

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
    assert "chose algorithm=" in err and "silhouette x fraction clustered" in err
    assert "chose k=" in err or "chose eps=" in err
    assert "kmeans (k=" in err and "dbscan (eps=" in err  # both candidates and their settings


@pytest.mark.parametrize("algorithm", ["dbscan", "hierarchical", "minibatch"])
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
