"""`clustra run --engine dask`: a folder of Parquet files to a folder of labelled Parquet files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

import clustra
from clustra.cli import main


def _write_parts(folder, frame, n_parts):
    folder.mkdir()
    for index, rows in enumerate(np.array_split(np.arange(len(frame)), n_parts)):
        frame.iloc[rows].to_parquet(folder / f"part-{index}.parquet", index=False)


@pytest.fixture
def blobs_folder(tmp_path):
    X, truth = make_blobs(3000, centers=[[0, 0], [10, 0], [0, 10]], cluster_std=0.8,
                          random_state=3)
    frame = pd.DataFrame(X, columns=["x", "y"])
    frame.insert(0, "key", [f"p{i:05d}" for i in range(len(frame))])
    frame.loc[[5, 1700], "y"] = np.nan  # two rows with a gap
    _write_parts(tmp_path / "in", frame, 3)
    return tmp_path / "in", frame, truth


def _read_out(folder):
    return pd.concat([pd.read_parquet(path) for path in sorted(folder.glob("part-*.parquet"))],
                     ignore_index=True)


def test_kmeans_on_dask_labels_every_row_in_order(client, blobs_folder, tmp_path):
    folder, frame, truth = blobs_folder
    out = tmp_path / "labels"
    code = main(["run", str(folder), "--engine", "dask", "--scheduler", client.scheduler.address,
                 "--id-column", "key", "--k", "3", "--impute", "drop", "--out", str(out), "-q"])
    assert code == 0
    labels = _read_out(out)
    assert len(list(out.glob("part-*.parquet"))) == 3  # one file per input partition
    assert labels["key"].tolist() == frame["key"].tolist()
    gaps = frame["y"].isna().to_numpy()
    assert (labels.loc[gaps, "status"] == "missing values").all()
    assert labels.loc[gaps, "cluster"].isna().all()
    clustered = labels.loc[~gaps, "cluster"].to_numpy(dtype=int)
    assert adjusted_rand_score(truth[~gaps], clustered) == pytest.approx(1.0)


def test_dbscan_on_dask_equals_in_memory_on_the_same_scaled_data(client, blobs_folder, tmp_path):
    folder, frame, _ = blobs_folder
    out = tmp_path / "labels"
    code = main(["run", str(folder), "--engine", "dask", "--scheduler", client.scheduler.address,
                 "--id-column", "key", "--algorithm", "dbscan", "--eps", "0.15",
                 "--min-samples", "8", "--out", str(out), "-q"])
    assert code == 0
    labels = _read_out(out)
    features = frame[["x", "y"]].fillna(frame[["x", "y"]].mean())
    scaled = ((features - features.mean()) / features.std(ddof=0)).to_numpy()
    expected = clustra.DBSCAN(eps=0.15, min_samples=8).fit(scaled).labels_
    np.testing.assert_array_equal(labels["cluster"].to_numpy(dtype=int), expected)
    assert ((labels["status"] == "noise") == (expected == -1)).all()


@pytest.mark.parametrize(("extra", "message"), [
    ([], "give --out FOLDER"),
    (["--out", "{out}", "--report", "{out}.txt"], "must end in .html"),
    (["--out", "{out}", "--algorithm", "hierarchical"],
     "--algorithm 'hierarchical' is not available with --engine 'dask'"),
])
def test_dask_engine_refuses_what_it_cannot_do(client, blobs_folder, tmp_path, capsys, extra,
                                               message):
    folder, _, _ = blobs_folder
    extra = [part.format(out=tmp_path / "labels") for part in extra]
    code = main(["run", str(folder), "--engine", "dask", "--scheduler", client.scheduler.address,
                 *extra])
    assert code == 2
    assert message in capsys.readouterr().err


def test_k_chosen_and_report_drawn_on_a_stated_sample(client, blobs_folder, tmp_path, capsys):
    import json

    folder, frame, _ = blobs_folder
    report = tmp_path / "report.html"
    code = main(["run", str(folder), "--engine", "dask", "--scheduler", client.scheduler.address,
                 "--id-column", "key", "--out", str(tmp_path / "labels"), "--k-max", "6",
                 "--report", str(report), "--json", "-q"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["params"]["n_clusters"] == 3
    assert summary["choices"][0]["name"] == "k"
    assert f"on a sample of {summary['sample_rows']} rows" in summary["choices"][0]["reason"]
    assert summary["counts"]["clustered"] == 3000 and summary["partitions"] == 3
    html = report.read_text(encoding="utf-8")
    # (3,000 rows: the report's sample of at most 20,000 takes every row)
    assert "a uniform sample of 3000 of the 3000 rows" in html
    assert "Choosing k" in html and html.count("<img") >= 4


def test_report_sample_keeps_each_rows_cluster(client, blobs_folder, tmp_path):
    from clustra.workflow.distributed import run_distributed

    folder, frame, _ = blobs_folder
    done = run_distributed(str(folder), tmp_path / "labels", scheduler=client.scheduler.address,
                           report_rows=500, id_column="key", k=3, impute="drop")
    sample = done.report.table
    assert 300 < len(sample) < 700  # about 500 of 3,000, drawn uniformly
    written = _read_out(tmp_path / "labels").set_index("key").loc[sample["key"]]
    np.testing.assert_array_equal(sample["cluster"].to_numpy(), written["cluster"].to_numpy())
    np.testing.assert_array_equal(sample["status"].to_numpy(), written["status"].to_numpy())
    assert "uniform sample of" in done.report.read_note
    assert done.report.X.shape[0] == int((sample["status"] == "clustered").sum())
