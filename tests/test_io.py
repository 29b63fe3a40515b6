import sys

import numpy as np
import pandas as pd
import pytest

from clustra.io import DataError, OptionError, check_output_path, read_table, write_table


@pytest.fixture
def frame():
    return pd.DataFrame({"id": ["a", "b", "c"], "x": [1.5, np.nan, 3.0], "name": ["p", "q", "r"]})


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".parquet", ".pq"])
def test_write_then_read_round_trip(tmp_path, frame, suffix):
    path = write_table(frame, tmp_path / f"t{suffix}")
    back = read_table(path)
    assert list(back.columns) == ["id", "x", "name"]
    assert back["id"].tolist() == ["a", "b", "c"]
    np.testing.assert_array_equal(back["x"].to_numpy(), frame["x"].to_numpy())


def test_txt_sniffs_the_separator(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("a;b\n1;2\n3;4\n")
    assert read_table(path).shape == (2, 2)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"File not found: .*nope\.csv"):
        read_table(tmp_path / "nope.csv")


def test_directory(tmp_path):
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    with pytest.raises(DataError, match="is a directory"):
        read_table(folder)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(DataError, match="'empty.csv' is empty"):
        read_table(path)


def test_header_without_rows(tmp_path):
    path = tmp_path / "head.csv"
    path.write_text("a,b\n")
    with pytest.raises(DataError, match="header but no rows"):
        read_table(path)


def test_unknown_extension(tmp_path):
    path = tmp_path / "data.json"
    path.write_text("{}")
    with pytest.raises(DataError, match=r"unknown file extension '\.json'; use one of .*\.csv"):
        read_table(path)


def test_unreadable_parquet(tmp_path):
    path = tmp_path / "bad.parquet"
    path.write_text("this is not parquet")
    with pytest.raises(DataError, match="Cannot read 'bad.parquet' as PARQUET"):
        read_table(path)


def test_excel_without_openpyxl_names_the_package(tmp_path, monkeypatch):
    path = tmp_path / "book.xlsx"
    path.write_bytes(b"PK\x03\x04 not really")
    monkeypatch.setitem(sys.modules, "openpyxl", None)  # import openpyxl -> ImportError
    with pytest.raises(DataError, match=r"needs openpyxl: pip install openpyxl"):
        read_table(path)


def test_output_path_checks(tmp_path):
    with pytest.raises(OptionError, match=r"unknown file extension '\.xlsx'"):
        check_output_path(tmp_path / "out.xlsx")
    with pytest.raises(OptionError, match="does not exist"):
        check_output_path(tmp_path / "no" / "out.csv")
    assert check_output_path(tmp_path / "out.TSV").name == "out.TSV"
