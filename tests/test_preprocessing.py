import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import RobustScaler, StandardScaler

from clustra.io import DataError, OptionError
from clustra.preprocessing import (
    STATUS_CLUSTERED,
    STATUS_MISSING,
    STATUS_OUTLIER,
    parse_reduce,
    prepare,
    select_columns,
)


@pytest.fixture
def table(rng):
    n = 60
    frame = pd.DataFrame({
        "id": [f"r{i}" for i in range(n)],
        "x": rng.normal(size=n),
        "y": rng.normal(10, 3, size=n),
        "colour": rng.choice(["red", "green", "blue"], size=n),
        "note": [f"free text {i}" for i in range(n)],
    })
    frame.loc[[2, 7], "x"] = np.nan
    frame.loc[5, ["x", "y", "colour"]] = np.nan
    return frame


@pytest.mark.parametrize("spec, expected", [(None, None), ("none", None), ("pca:2", 2),
                                            ("PCA:0.9", 0.9), (3, 3)])
def test_parse_reduce(spec, expected):
    assert parse_reduce(spec) == expected


@pytest.mark.parametrize("spec, message", [("umap:2", "not understood"), ("pca:", "not understood"),
                                           ("pca:x", "not a number"), ("pca:1.5", r"in \(0, 1\)"),
                                           ("pca:0", "at least 1")])
def test_parse_reduce_rejects(spec, message):
    with pytest.raises(OptionError, match=message):
        parse_reduce(spec)


def test_select_columns_roles(table):
    numeric, categorical, skipped = select_columns(table, id_column="id")
    assert numeric == ["x", "y"]
    assert categorical == ["colour"]
    assert "distinct values" in skipped["note"]


def test_select_columns_errors(table):
    with pytest.raises(DataError, match="id_column='nope' is not a column"):
        select_columns(table, id_column="nope")
    with pytest.raises(DataError, match=r"Column\(s\) 'zz' not found"):
        select_columns(table, columns=["x", "zz"])
    text_only = pd.DataFrame({"name": [f"n{i}" for i in range(80)], "town": ["a", "b"] * 40})
    with pytest.raises(DataError, match=r"No numeric columns to cluster \('town' is text; "
                                        r"'name': looks like an id \(a different code"):
        select_columns(text_only)


def test_prepare_matches_sklearn_pipeline(table):
    prepared = prepare(table, id_column="id", columns=["x", "y"], impute="median", scale="robust")
    used = table.loc[table[["x", "y"]].notna().any(axis=1), ["x", "y"]]
    reference = make_pipeline(SimpleImputer(strategy="median"), RobustScaler()).fit_transform(used)
    np.testing.assert_allclose(prepared.X, reference)
    assert prepared.status[5] == STATUS_MISSING  # nothing at all in x, y
    assert (prepared.status[prepared.used] == STATUS_CLUSTERED).all()


def test_prepare_one_hot_with_cap(table):
    prepared = prepare(table, id_column="id", max_categories=2)
    # x, y + colour capped at 2 indicator columns (one frequent + 'infrequent')
    assert prepared.X.shape[1] == 4
    assert any("infrequent" in name for name in prepared.feature_names)
    reference = ColumnTransformer([("num", make_pipeline(SimpleImputer(), StandardScaler()),
                                    ["x", "y"])])
    used = table.loc[prepared.used]
    np.testing.assert_allclose(prepared.X[:, :2], reference.fit_transform(used))
    assert [step.name for step in prepared.steps] == ["columns", "missing values", "scaling",
                                                      "one-hot encoding"]


def test_prepare_drop_keeps_rows_with_status(table):
    prepared = prepare(table, id_column="id", impute="drop")
    assert prepared.status.shape == (len(table),)
    assert set(np.flatnonzero(prepared.status == STATUS_MISSING)) == {2, 5, 7}
    assert prepared.X.shape[0] == len(table) - 3
    assert not np.isnan(prepared.X).any()


def test_prepare_every_row_missing():
    frame = pd.DataFrame({"x": [1.0, np.nan], "y": [np.nan, 2.0]})
    with pytest.raises(DataError, match="Every row has a missing value"):
        prepare(frame, impute="drop")


@pytest.mark.parametrize("method", ["iforest", "lof"])
def test_outliers_flagged_in_place(table, method):
    table.loc[11, ["x", "y"]] = [40.0, -200.0]
    prepared = prepare(table, id_column="id", remove_outliers=method, outlier_fraction=0.05)
    flagged = np.flatnonzero(prepared.status == STATUS_OUTLIER)
    assert 11 in flagged
    assert 1 <= flagged.size <= 4  # about 5% of 59 rows
    assert prepared.X.shape[0] == prepared.used.sum() == len(table) - 1 - flagged.size
    assert "keep their row" in prepared.steps[-1].detail


def test_pca_reduces_and_is_recorded(table):
    prepared = prepare(table, id_column="id", reduce="pca:2")
    assert prepared.X.shape[1] == 2
    assert prepared.pipeline.named_steps["pca"].n_components_ == 2
    assert prepared.steps[-1].name == "pca"
    with pytest.raises(DataError, match="more components"):
        prepare(table, id_column="id", reduce="pca:40")


@pytest.mark.parametrize("option, value, message", [
    ("scale", "zscore", "scale='zscore' is not one of"),
    ("impute", "zero", "impute='zero' is not one of"),
    ("remove_outliers", "dbscan", "remove_outliers='dbscan' is not one of"),
    ("outlier_fraction", 0.9, r"outlier_fraction= must be in \(0, 0.5\]"),
    ("max_categories", 1, "max_categories= must be an integer >= 2"),
])
def test_prepare_rejects_bad_options(table, option, value, message):
    with pytest.raises(OptionError, match=message):
        prepare(table, **{option: value})


def test_scale_none_keeps_units(table):
    prepared = prepare(table, columns=["y"], scale="none")
    used = table.loc[prepared.used, "y"].to_numpy()
    np.testing.assert_allclose(prepared.X[:, 0], used)


def test_infinite_values_are_gaps(table):
    table.loc[[1, 4], "y"] = [np.inf, -np.inf]
    prepared = prepare(table, columns=["x", "y"], impute="drop")
    assert set(np.flatnonzero(prepared.status == STATUS_MISSING)) == {1, 2, 4, 5, 7}
    assert np.isfinite(prepared.X).all()
    assert "2 infinite value(s) counted as missing" in prepared.steps[1].detail
