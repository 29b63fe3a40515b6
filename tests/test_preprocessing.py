import warnings

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


# --- the column typing rule (issue 18) -----------------------------------------------------

def test_stray_text_cells_become_missing_with_a_notice(rng):
    values = rng.normal(size=30).astype(object)
    values[[4, 11]] = ["n/a?", "oops"]
    frame = pd.DataFrame({"x": values, "y": rng.normal(size=30)})
    prepared = prepare(frame)
    assert prepared.numeric_columns == ["x", "y"] and prepared.categorical_columns == []
    assert np.isnan(prepared.numeric_values["x"][[4, 11]]).all()
    assert prepared.status.tolist().count(STATUS_MISSING) == 0  # imputed, not dropped
    assert prepared.notices == [
        "column 'x' is numeric but 2 cells ('n/a?', 'oops'; data rows 5, 12) are not numbers "
        "and were treated as missing."]
    reference = StandardScaler().fit_transform(
        SimpleImputer().fit_transform(pd.to_numeric(frame["x"], errors="coerce").to_frame()))
    np.testing.assert_allclose(prepared.X[:, 0], reference[:, 0])


def test_mostly_text_stays_text():
    frame = pd.DataFrame({"x": np.linspace(0, 1, 20) ** 2, "t": ["a", "b", "c", "1"] * 5})
    assert select_columns(frame) == (["x"], ["t"], {})


@pytest.mark.parametrize("name, values, evidence", [
    ("customer_id", [7, 3, 9, 1, 4, 8], "named like an id"),
    ("CustomerId", [f"x{i}" for i in range(6)], "named like an id"),
    ("order no", [5.0, 6.0, 1.0, 2.0, 3.0, 4.0], "named like an id"),
    ("n", list(range(1, 13)), "a running number"),
    ("ticket", [f"T-{i:04d}" for i in range(12)], "a different code in every row"),
])
def test_likely_ids_are_left_out_with_a_way_back(rng, name, values, evidence):
    frame = pd.DataFrame({name: values, "x": rng.normal(size=len(values)),
                          "y": rng.normal(size=len(values))})
    prepared = prepare(frame)
    assert prepared.numeric_columns == ["x", "y"]
    assert evidence in prepared.skipped_columns[name]
    assert prepared.notices == [
        f"left out column {name!r}: it looks like an id (unique per row and named like an id); "
        f"name it in columns= to cluster on it, or give id_column={name!r} to copy it to the "
        "output." if evidence == "named like an id" else
        f"left out column {name!r}: it looks like an id ({evidence}); name it in columns= to "
        f"cluster on it, or give id_column={name!r} to copy it to the output."]
    included = prepare(frame, columns=[name, "x"])  # named: never taken for an id
    assert name in included.numeric_columns + included.categorical_columns


@pytest.mark.parametrize("name, values", [
    ("paid", [1.5, 2.5, 3.5, 4.5, 5.5, 6.5]),       # ends in "id" but is a word
    ("age", [30, 41, 29, 35, 52, 47, 38, 33, 60, 25, 44, 31]),  # unique, not running
    ("id", [1, 1, 2, 3, 4, 5]),                    # named like an id but repeated
])
def test_not_ids(rng, name, values):
    frame = pd.DataFrame({name: values, "x": rng.normal(size=len(values))})
    assert name in select_columns(frame)[0]


def test_id_name_rule():
    from clustra._column_roles import looks_like_id_name

    assert all(map(looks_like_id_name, ["id", "ID", "user_id", "userId", "row-key", "#", "Nr"]))
    assert not any(map(looks_like_id_name, ["paid", "valid", "idle", "width", "grid"]))


def test_constant_columns_dropped_with_a_notice(rng):
    frame = pd.DataFrame({"x": rng.normal(size=20), "same": 4.0, "unit": "kg"})
    prepared = prepare(frame)
    assert prepared.numeric_columns == ["x"] and not prepared.all_constant
    assert prepared.skipped_columns == {"same": "constant (every value is 4)",
                                        "unit": "constant (every value is 'kg')"}
    assert prepared.notices == ["left out constant columns 'same', 'unit': the same value in "
                                "every row cannot separate rows."]


def test_all_constant_data_is_flagged():
    frame = pd.DataFrame({"a": [2.0] * 8, "b": [np.nan, 5, 5, 5, 5, 5, 5, 5]})
    prepared = prepare(frame)
    assert prepared.all_constant and prepared.numeric_columns == ["a", "b"]
    assert not np.ptp(prepared.X, axis=0).any()
    assert "is constant: all rows are the same point" in prepared.notices[-1]


@pytest.mark.parametrize("factor", [1e307, 1e-307])
@pytest.mark.parametrize("scale", ["standard", "robust", "minmax"])
def test_extreme_values_keep_counting(rng, scale, factor):
    base = np.r_[rng.normal(0, 1, 20), rng.normal(8, 1, 20)]
    frame = pd.DataFrame({"big": base * factor, "small": rng.normal(size=40)})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow anywhere
        prepared = prepare(frame, scale=scale)
    assert np.isfinite(prepared.X).all()
    expected = prepare(pd.DataFrame({"big": base, "small": frame["small"]}), scale=scale).X
    np.testing.assert_allclose(prepared.X, expected, atol=1e-9)
    assert "largest magnitude" in prepared.steps[2].detail
    assert "largest magnitude" not in prepare(frame[["small"]], scale=scale).steps[2].detail


def test_extreme_values_unscaled_are_refused(rng):
    frame = pd.DataFrame({"big": rng.normal(size=10) * 1e300, "x": rng.normal(size=10)})
    with pytest.raises(DataError, match=r"Column 'big' holds values as large as .*e\+300: "
                                        r"unscaled, their squared distances overflow.*"
                                        r"scale='standard'"):
        prepare(frame, scale="none")


def test_empty_column_list_is_an_error(table):
    with pytest.raises(OptionError, match="columns= names no column"):
        select_columns(table, columns=[])
