"""clustra.run end to end on small tables, compared with scikit-learn where it applies."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import DBSCAN as SkDBSCAN
from sklearn.cluster import AgglomerativeClustering as SkAgglomerative
from sklearn.cluster import BisectingKMeans as SkBisectingKMeans
from sklearn.cluster import KMeans as SkKMeans
from sklearn.metrics import adjusted_rand_score, silhouette_score

import clustra
from clustra import workflow
from clustra.io import DataError, DataWarning, OptionError
from clustra.preprocessing import prepare


def blob_table(rng, n_per=25):
    centers = np.array([[0, 0, 0], [6, 6, 0], [0, 6, 6]], dtype=float)
    X = np.vstack([rng.normal(c, 0.6, size=(n_per, 3)) for c in centers])
    truth = np.repeat(np.arange(3), n_per)
    order = rng.permutation(X.shape[0])
    frame = pd.DataFrame(X[order], columns=["a", "b", "c"])
    frame.insert(0, "key", [f"k{i:03d}" for i in rng.permutation(len(frame))])
    frame["colour"] = rng.choice(["red", "blue"], size=len(frame))
    return frame, truth[order]


def test_kmeans_rows_ordered_and_matching_reference(rng):
    frame, truth = blob_table(rng)
    result = clustra.run(frame, algorithm="kmeans", k=3, id_column="key", columns=["a", "b", "c"],
                         seed=1)
    assert list(result.table.columns) == ["key", "cluster", "status"]
    assert result.table["key"].tolist() == frame["key"].tolist()
    X = prepare(frame, columns=["a", "b", "c"], id_column="key").X
    reference = SkKMeans(3, random_state=1, n_init="auto").fit_predict(X)
    assert adjusted_rand_score(result.labels, reference) == pytest.approx(1.0)
    assert adjusted_rand_score(result.labels, truth) == pytest.approx(1.0)
    assert result.params == {"n_clusters": 3, "n_init": "auto", "random_state": 1}
    assert result.metrics["silhouette"] == pytest.approx(silhouette_score(X, reference), abs=1e-9)
    assert result.counts()["clustered"] == len(frame)


def test_dbscan_matches_reference(rng):
    frame, _ = blob_table(rng)
    result = clustra.run(frame, algorithm="dbscan", eps=0.5, min_samples=4)
    reference = SkDBSCAN(eps=0.5, min_samples=4).fit_predict(result.X)
    assert adjusted_rand_score(result.labels, reference) == pytest.approx(1.0)
    assert ((result.labels == -1) == (reference == -1)).all()
    noise = result.table["status"] == "noise"
    assert noise.sum() == (reference == -1).sum()
    assert (result.table.loc[noise, "cluster"] == -1).all()


def test_hierarchical_matches_reference(rng):
    frame, _ = blob_table(rng)
    result = clustra.run(frame, algorithm="hierarchical", k=3, linkage="average")
    reference = SkAgglomerative(n_clusters=3, linkage="average").fit_predict(result.X)
    assert adjusted_rand_score(result.labels, reference) == pytest.approx(1.0)


def test_bisecting_matches_reference_and_draws_its_split_tree(rng):
    frame, truth = blob_table(rng)
    result = clustra.run(frame, algorithm="bisecting", k=3, columns=["a", "b", "c"], seed=2)
    reference = SkBisectingKMeans(3, random_state=2).fit_predict(result.X)
    np.testing.assert_array_equal(result.labels, reference)
    assert adjusted_rand_score(result.labels, truth) == pytest.approx(1.0)
    assert result.params == {"n_clusters": 3, "n_init": 1, "random_state": 2}
    assert hasattr(result.model, "tree_")


def test_hdbscan_matches_reference_and_reports_its_extras(rng, tmp_path):
    from sklearn.cluster import HDBSCAN as SkHDBSCAN

    frame, truth = blob_table(rng, n_per=40)
    result = clustra.run(frame, algorithm="hdbscan", min_cluster_size=10, columns=["a", "b", "c"])
    reference = SkHDBSCAN(min_cluster_size=10, copy=True).fit_predict(result.X)
    np.testing.assert_array_equal(result.labels, reference)
    assert result.params == {"min_cluster_size": 10, "min_samples": None}
    html = result.to_html(tmp_path / "report.html").read_text()
    for title in ("Condensed tree", "Outlier scores", "Soft memberships"):
        assert title in html


def test_genie_matches_reference_and_chooses_k_from_one_tree(rng):
    import genieclust

    frame, truth = blob_table(rng)
    result = clustra.run(frame, algorithm="genie", k=3, columns=["a", "b", "c"])
    reference = genieclust.Genie(n_clusters=3).fit_predict(result.X)
    assert adjusted_rand_score(result.labels, reference) == pytest.approx(1.0)
    chosen = clustra.run(frame, algorithm="genie", k="auto", columns=["a", "b", "c"], k_max=6)
    assert chosen.n_clusters == 3
    assert adjusted_rand_score(chosen.labels, truth) == pytest.approx(1.0)


@pytest.mark.parametrize(("options", "message"), [
    ({"min_cluster_size": 1}, "min_cluster_size= must be an integer >= 2"),
    ({"min_cluster_size": 500}, "min_cluster_size=500 is larger than the 75 rows"),
])
def test_hdbscan_options_are_checked(rng, options, message):
    frame, _ = blob_table(rng)
    with pytest.raises((OptionError, DataError), match=message):
        clustra.run(frame, algorithm="hdbscan", columns=["a", "b", "c"], **options)


@pytest.mark.parametrize("algorithm", ["kmeans", "minibatch", "hierarchical", "bisecting"])
def test_k_auto_finds_three_blobs_and_says_why(rng, algorithm):
    frame, truth = blob_table(rng)
    result = clustra.run(frame, algorithm=algorithm, k="auto", columns=["a", "b", "c"], k_max=6)
    assert result.n_clusters == 3
    assert result.choices[0].name == "k" and result.choices[0].value == 3
    assert result.choices[0].reason
    assert result.selection is not None and 3 in result.selection.table.index
    assert adjusted_rand_score(result.labels, truth) == pytest.approx(1.0)


def test_eps_auto_uses_suggest_eps(rng):
    frame, _ = blob_table(rng)
    result = clustra.run(frame, algorithm="dbscan", eps="auto", columns=["a", "b", "c"])
    suggestion = clustra.suggest_eps(result.X, min_samples=5)
    assert result.params["eps"] == pytest.approx(suggestion.eps)
    assert result.choices[0].name == "eps"


def test_algorithm_auto_is_the_default_and_uses_auto_cluster(rng, tmp_path):
    import json

    frame, truth = blob_table(rng, n_per=60)
    result = clustra.run(frame, columns=["a", "b", "c"], k_max=6)
    assert result.options.algorithm == "auto"
    found = clustra.auto_cluster(result.X, k_max=6, random_state=0)
    np.testing.assert_array_equal(result.labels, found.labels)
    assert result.algorithm == found.algorithm and result.n_clusters == 3
    assert result.choices[0].name == "algorithm" and result.choices[0].reason == found.reason
    assert adjusted_rand_score(result.labels, truth) == pytest.approx(1.0)
    document = json.loads(result.to_json())
    chosen = [row for row in document["auto_candidates"] if row["chosen"]]
    assert len(chosen) == 1 and chosen[0]["k"] == 3
    html = result.to_html(tmp_path / "report.html").read_text()
    assert "Automatic choice" in html and found.reason.split(":")[0] in html


def test_algorithm_auto_warns_about_two_valued_columns(rng):
    # The one-hot 'colour' columns split the rows in two with a gap of their own.
    frame, _ = blob_table(rng, n_per=60)
    with pytest.warns(DataWarning, match="2 of the 5 columns clustered take only two values"):
        result = clustra.run(frame, columns=["a", "b", "c", "colour"], k_max=6)
    assert any("take only two values" in m for m in result.warnings)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        clustra.run(frame, columns=["a", "b", "c"], k_max=6)


def test_algorithm_auto_says_one_cluster_without_structure():
    X = np.random.default_rng(4).uniform(size=(600, 2))
    result = clustra.run(X, algorithm="auto")
    assert result.n_clusters == 1 and result.algorithm == "auto"
    assert "one cluster" in result.choices[0].reason.lower()


def test_missing_and_outlier_rows_keep_their_place(rng):
    frame, _ = blob_table(rng)
    frame.loc[4, ["a", "b", "c", "colour"]] = np.nan
    frame.loc[9, "a"] = np.nan
    frame.loc[13, ["a", "b", "c"]] = [90.0, -90.0, 90.0]
    result = clustra.run(frame, algorithm="kmeans", k=3, id_column="key",
                         remove_outliers="iforest", outlier_fraction=0.01)
    table = result.table
    assert len(table) == len(frame) and table["key"].tolist() == frame["key"].tolist()
    assert table.at[4, "status"] == "missing values" and pd.isna(table.at[4, "cluster"])
    assert table.at[13, "status"] == "outlier" and pd.isna(table.at[13, "cluster"])
    assert table.at[9, "status"] == "clustered"  # imputed
    assert (table["status"] == "outlier").sum() == 1
    counts = result.counts()
    assert sum(counts.values()) == len(frame)
    assert result.labels.shape[0] == result.X.shape[0] == counts["clustered"] + counts["noise"]


def test_json_document(rng):
    frame, _ = blob_table(rng)
    result = clustra.run(frame, k=3, id_column="key")
    doc = json.loads(result.to_json({"labels": "x.csv"}))
    assert doc["schema"] == "clustra.run/1"
    assert set(doc) == {"schema", "clustra_version", "input", "algorithm", "params", "seed",
                        "n_clusters", "choices", "preprocessing", "metrics", "counts",
                        "cluster_sizes", "warnings", "auto_candidates", "outputs"}
    assert doc["algorithm"] == "kmeans"  # k given: K-Means, not the automatic choice
    assert doc["auto_candidates"] is None
    assert doc["input"]["n_rows"] == len(frame)
    assert doc["input"]["categorical_columns"] == ["colour"]
    assert sum(doc["cluster_sizes"].values()) == doc["counts"]["clustered"]
    assert doc["outputs"] == {"labels": "x.csv"}
    assert set(doc["metrics"]) >= {"silhouette", "calinski_harabasz", "davies_bouldin"}


def test_profiles_in_original_units(rng):
    frame, truth = blob_table(rng)
    result = clustra.run(frame, k=3, columns=["a", "b", "c"])
    profile = result.profiles()
    assert profile["size"].sum() == len(frame)
    for cluster in profile.index:
        rows = result.labels == cluster
        assert profile.at[cluster, "a"] == pytest.approx(frame.loc[rows, "a"].mean())
    assert "colour" not in profile


def test_categorical_profiles(rng):
    frame, _ = blob_table(rng)
    result = clustra.run(frame, k=3, columns=["a", "b", "c", "colour"])
    profile = result.profiles(categorical=True)
    for cluster in profile.index:
        values = frame.loc[result.labels == cluster, "colour"]
        top = values.value_counts()
        share = 100.0 * top.iloc[0] / len(values)
        assert profile.at[cluster, "colour"] == f"{top.index[0]} ({share:.0f}%)"


def test_run_reads_a_path_and_arrays(tmp_path, rng):
    frame, _ = blob_table(rng)
    path = tmp_path / "blobs.csv"
    frame.to_csv(path, index=False)
    result = clustra.run(path, k=3)
    assert result.source == str(path) and len(result.table) == len(frame)
    assert clustra.run(frame[["a", "b"]].to_numpy(), k=2).table.columns[0] == "row"


@pytest.mark.parametrize("options, error, message", [
    ({"k": 500}, DataError, "k=500 is larger than the 75 rows"),
    ({"k": 0}, OptionError, "k= must be >= 1"),
    ({"k": "many"}, OptionError, "k='many' must be 'auto' or a number"),
    ({"k": 2.5}, OptionError, "whole number"),
    ({"eps": -1.0}, OptionError, "eps= must be > 0"),
    ({"algorithm": "spectral"}, OptionError, "algorithm='spectral' is not one of"),
    ({"linkage": "centroid"}, OptionError, "linkage='centroid' is not one of"),
    ({"min_samples": 0}, OptionError, "min_samples= must be an integer >= 1"),
    ({"id_column": "cluster"}, OptionError, "clashes with an output column"),
    ({"algorithm": "dbscan", "min_samples": 900}, DataError, "min_samples=900 is larger"),
])
def test_bad_options(rng, options, error, message):
    frame, _ = blob_table(rng)
    with pytest.raises(error, match=message):
        clustra.run(frame, **options)


def test_suggest(rng):
    frame, _ = blob_table(rng)
    found = workflow.suggest(frame, columns=["a", "b", "c"], k_max=6)
    doc = found.to_dict()
    assert doc["k"] == 3 and doc["eps"] > 0
    assert "3" in doc["k_table"]


def test_table_inputs_are_normalised(rng):
    frame, _ = blob_table(rng)
    numbered = frame[["a", "b"]].set_axis([0, 1], axis=1)
    numbered.index = np.arange(100, 100 + len(frame))
    result = clustra.run(numbered, k=2)
    assert result.table["row"].tolist() == list(range(1, len(frame) + 1))
    assert list(result.profiles().columns) == ["size", "0", "1"]
    assert list(numbered.columns) == [0, 1]  # the caller's table is untouched
    twice = frame[["a", "b"]].set_axis(["a", "a"], axis=1)
    with pytest.warns(DataWarning, match=r"repeated column names were renamed: 'a' -> 'a_2'"):
        renamed = clustra.run(twice, k=2)
    assert list(renamed.data.columns) == ["a", "a_2"] and list(twice.columns) == ["a", "a"]
    with pytest.raises(DataError, match="no rows"):
        clustra.run(frame.iloc[:0])
    with pytest.raises(DataError, match="Expected a table"):
        clustra.run(np.zeros(5))


def test_fit_warnings_are_kept_and_passed_on(rng, monkeypatch):
    frame, _ = blob_table(rng)

    def warn_then_fit(X, opts, progress):
        import warnings

        warnings.warn("something odd about <this> data", UserWarning, stacklevel=1)
        return workflow.Fit(None, np.zeros(X.shape[0], dtype=int), {})

    monkeypatch.setitem(workflow.ADAPTERS, "kmeans", warn_then_fit)
    with pytest.warns(UserWarning, match="something odd"):
        result = clustra.run(frame, k=2, id_column="key")
    assert result.warnings == ["something odd about <this> data"]
    assert result.to_dict()["warnings"] == result.warnings


def test_reason_text_drops_the_repeated_value():
    from clustra.workflow.options import reason_text

    assert reason_text("k", "k=4: chosen by 5 of 5 criteria") == "chosen by 5 of 5 criteria"
    assert reason_text("eps", "eps=0.25: the knee") == "the knee"
    assert reason_text("k", "highest silhouette at k=4") == "highest silhouette at k=4"


def test_k_auto_says_one_cluster_on_structureless_data():
    # Uniform noise has no groups; the sweep includes k=1 so the answer can say so.
    X = np.random.default_rng(3).uniform(size=(300, 2))
    result = clustra.run(pd.DataFrame(X, columns=["a", "b"]), algorithm="kmeans", k="auto",
                         k_max=6, seed=0)
    choice = next(c for c in result.choices if c.name == "k")
    assert choice.value == 1 and "gap" in choice.reason
    assert (result.table["cluster"] == 0).all()
    assert (result.table["status"] == "clustered").all()


# --- degenerate data, long work, keyword words (issues 18 and 14) ------------------------

def test_constant_data_is_one_cluster_with_a_reason():
    frame = pd.DataFrame({"a": [1.5] * 30, "b": [2] * 30})
    with pytest.warns(DataWarning, match="is constant: all rows are the same point"):
        result = clustra.run(frame, k="auto")
    assert result.n_clusters == 1 and (result.table["cluster"] == 0).all()
    assert result.choices[0].name == "k" and result.choices[0].value == 1
    assert "every row is the same point" in result.choices[0].reason
    with pytest.warns(DataWarning, match="algorithm='dbscan' and k=3 could not apply"):
        asked = clustra.run(frame, algorithm="dbscan", k=3)
    assert asked.n_clusters == 1


@pytest.mark.parametrize("estimator", [None, "hierarchical"])
def test_choose_k_on_constant_data_answers_one(estimator):
    from clustra.selection import gap_statistic

    X = np.full((40, 3), 7.0)
    if estimator:
        estimator = clustra.AgglomerativeClustering(n_clusters=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning from log(0) or 0/0
        selection = clustra.choose_k(X, range(1, 6), estimator, random_state=0)
        gap = gap_statistic(X, range(1, 6), random_state=0)
    assert selection.k == 1 and gap.k == 1
    assert "every row is the same point (zero variance" in selection.reason
    assert selection.table.index.tolist() == [1, 2, 3, 4, 5]
    assert all(pick is None for pick in selection.picks.values())
    # One row differs: no longer constant, and the sweep runs as usual.
    X[0, 0] = 8.0
    assert np.isfinite(clustra.choose_k(X, range(1, 4), random_state=0).table["inertia"]).all()


def test_keyword_arguments_named_in_library_errors(rng):
    frame, _ = blob_table(rng)
    with pytest.raises(OptionError, match=r"^k_max= must be an integer >= 2, got 1\.$"):
        clustra.run(frame, k_max=1)
    with pytest.raises(OptionError, match="columns= names no column"):
        clustra.run(frame, columns="")
    with pytest.raises(DataError, match="id_column='nope' is not a column"):
        clustra.run(frame, id_column="nope")


def test_long_work_is_announced(rng, monkeypatch):
    from clustra.workflow import estimate

    frame, _ = blob_table(rng)
    said = []
    clustra.run(frame, k=3, id_column="key", notify=said.append)
    assert said == []  # a quick run says nothing
    monkeypatch.setattr(estimate, "LONG_WORK_SECONDS", 0.0)
    clustra.run(frame, algorithm="kmeans", k="auto", k_max=4, id_column="key",
                notify=said.append)
    assert len(said) == 1
    assert said[0].startswith("kmeans on 75 rows x 5 features will take about ")
    assert "a fixed k= skips the sweep over k" in said[0]


def test_estimates_grow_with_the_method():
    from clustra.workflow.estimate import duration, estimate_seconds, hierarchy_seconds

    opts = workflow.RunOptions(algorithm="hierarchical", linkage="ward", k=3)
    ward = estimate_seconds(200_000, 5, opts)
    assert 60 < ward < 3600  # minutes, not seconds or days
    assert hierarchy_seconds(200_000, 5, "single") < ward / 100  # the KD-tree path
    assert estimate_seconds(200_000, 5, workflow.RunOptions(k=3)) < ward / 100
    assert duration(40) == "about 40 seconds" and duration(600) == "about 10 minutes"


def test_hierarchical_on_too_many_rows_is_refused_with_ways_out(monkeypatch):
    from clustra.workflow import estimate

    X = np.random.default_rng(0).normal(size=(400, 3))
    monkeypatch.setattr(estimate, "HIERARCHY_LIMIT_SECONDS", 1e-6)
    with pytest.raises(DataError, match=r"hierarchical ward linkage on 400 rows would take about "
                                        r".*linkage='single'.*algorithm='genie', 'hdbscan', "
                                        r"'kmeans' or 'minibatch'"):
        clustra.run(X, algorithm="hierarchical", k=3)
    monkeypatch.setattr(estimate, "HIERARCHY_LIMIT_SECONDS", 600.0)
    # Complete linkage needs the distance matrix: the memory guard's refusal says the same.
    from clustra.cluster._common import set_memory_limit

    set_memory_limit(10_000)
    try:
        with pytest.raises(DataError, match=r"'complete' linkage on 400 points needs a distance "
                                            r"matrix .* Use linkage='single'.*'minibatch'"):
            clustra.run(X, algorithm="hierarchical", linkage="complete", k=3)
    finally:
        set_memory_limit(None)


def test_scalable_alternatives_name_the_methods_that_scale():
    from clustra.workflow import estimate

    assert estimate.scalable_alternatives("ward").startswith("linkage='single'")
    assert "linkage='single'" not in estimate.scalable_alternatives("single")
    for name in ("genie", "hdbscan", "kmeans", "minibatch"):
        assert name in workflow.ALGORITHMS
        assert f"'{name}'" in estimate.scalable_alternatives("ward")
