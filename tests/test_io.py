import bz2
import gzip
import io
import lzma
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clustra.io import (
    DataError,
    OptionError,
    check_output_path,
    read_table,
    read_table_info,
    write_atomic,
    write_table,
)


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


# --- messy tables (issue 18) ---------------------------------------------------------------

EUROPEAN = "name;height;weight\nann;1,62;55,5\nbob;1,80;80,25\ncid;1,75;-70,0\n"


def test_sniffs_semicolon_and_decimal_comma(tmp_path):
    path = tmp_path / "eu.csv"
    path.write_text(EUROPEAN, encoding="utf-8")
    read = read_table_info(path)
    assert read.frame["height"].tolist() == [1.62, 1.80, 1.75]
    assert read.frame["weight"].tolist() == [55.5, 80.25, -70.0]
    assert "sep=';', decimal=','" in read.assumed and "(sniffed;" in read.assumed
    assert "3 rows x 3 columns" in read.assumed


def test_decimal_comma_in_a_column_with_a_stray_cell_stays_readable(tmp_path):
    path = tmp_path / "eu.csv"
    path.write_text("a;b\n1,5;x\noops;2,25\n3,0;y\n", encoding="utf-8")
    frame = read_table(path)
    assert frame["a"].tolist() == ["1.5", "oops", "3.0"]  # numbers in dot form for the typing


@pytest.mark.parametrize("text, sep, decimal, expected", [
    ("a|b\n1,5|2\n3,5|4\n", "|", ",", [1.5, 3.5]),
    ("a\tb\n1.5\t2\n3.5\t4\n", "tab", None, [1.5, 3.5]),
    ("a;b\n1.5;2\n3.5;4\n", ";", ".", [1.5, 3.5]),
])
def test_sep_and_decimal_given(tmp_path, text, sep, decimal, expected):
    path = tmp_path / "t.csv"
    path.write_text(text)
    read = read_table_info(path, sep=sep, decimal=decimal)
    assert read.frame["a"].tolist() == expected
    assert "sniffed" not in read.assumed or decimal is None


@pytest.mark.parametrize("sep, decimal, message", [
    ("::", None, "sep='::' must be one character"),
    (None, ";", "decimal=';' must be '.' or ','"),
    (",", ",", "cannot be the same character"),
])
def test_bad_sep_or_decimal(tmp_path, sep, decimal, message):
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(OptionError, match=message):
        read_table(path, sep=sep, decimal=decimal)


@pytest.mark.parametrize("suffix, compress", [
    (".csv.gz", gzip.compress), (".csv.bz2", bz2.compress), (".csv.xz", lzma.compress),
    (".tsv.gz", gzip.compress), (".zip", None)])
def test_compressed_tables(tmp_path, suffix, compress):
    sep = "\t" if suffix.startswith(".tsv") else ","
    text = f"x{sep}y\n1{sep}2\n3{sep}4\n"
    path = tmp_path / f"t{suffix}"
    if compress is None:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("t.csv", text)
    else:
        path.write_bytes(compress(text.encode()))
    read = read_table_info(path)
    assert read.frame.to_dict("list") == {"x": [1, 3], "y": [2, 4]}
    kind = {"gz": "gzip", "bz2": "bz2", "xz": "xz", "zip": "zip"}[suffix.rsplit(".", 1)[1]]
    assert f"({kind}-compressed text" in read.assumed


def test_zip_with_two_tables(tmp_path):
    path = tmp_path / "two.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.csv", "x\n1\n")
        archive.writestr("b.csv", "x\n2\n")
    with pytest.raises(DataError, match="'two.zip' holds 2 files; a zip must hold exactly one"):
        read_table(path)


def test_corrupt_gzip(tmp_path):
    path = tmp_path / "bad.csv.gz"
    path.write_bytes(b"not gzip at all")
    with pytest.raises(DataError, match="Cannot decompress 'bad.csv.gz' as gzip"):
        read_table(path)


_EUROPEAN = b"x;y\n1,5;2\n3,5;4\n"


@pytest.mark.parametrize("data", [_EUROPEAN, gzip.compress(_EUROPEAN, mtime=0)],
                         ids=["plain", "gzip"])
def test_standard_input(monkeypatch, data):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    read = read_table_info("-")
    assert read.frame["x"].tolist() == [1.5, 3.5]
    assert read.assumed.startswith("read 'standard input'")


@pytest.mark.parametrize("encoding, shown", [("utf-8", "UTF-8"), ("utf-8-sig", "UTF-8 (with BOM)"),
                                             ("utf-16", "UTF-16"), ("cp1252", "Windows-1252")])
def test_encodings(tmp_path, encoding, shown):
    path = tmp_path / "t.csv"
    path.write_bytes("städte,größe\nZürich,1.5\nLyon,2.5\n".encode(encoding))
    read = read_table_info(path)
    assert list(read.frame.columns) == ["städte", "größe"]
    assert read.frame["städte"].tolist() == ["Zürich", "Lyon"]
    assert f", {shown})" in read.assumed


def test_repeated_names_renamed_with_notice(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b,a,a_2\n1,2,3,4\n5,6,7,8\n")
    read = read_table_info(path)
    assert list(read.frame.columns) == ["a", "b", "a_3", "a_2"]
    assert read.frame["a_3"].tolist() == [3, 7]
    assert read.notices == ["repeated column names were renamed: 'a' -> 'a_3'."]


def test_binary_junk(tmp_path):
    path = tmp_path / "junk.csv"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(DataError, match="'junk.csv' is not a text table"):
        read_table(path)


def test_output_must_not_be_the_input(tmp_path):
    data = tmp_path / "data.csv"
    data.write_text("a\n1\n")
    with pytest.raises(OptionError, match="it is the input file"):
        check_output_path(tmp_path / "." / "data.csv", inputs=(data,))
    assert data.read_text() == "a\n1\n"


def test_output_folder_or_unwritable(tmp_path):
    folder = tmp_path / "out.csv"
    folder.mkdir()
    with pytest.raises(OptionError, match="it is a folder"):
        check_output_path(folder)
    with pytest.raises(OptionError, match=r"Cannot write the labels to '/proc/labels.csv'"):
        check_output_path("/proc/labels.csv")
    assert list(tmp_path.iterdir()) == [folder]  # the probe file is gone


def test_write_is_all_or_nothing(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("old\n")

    def half_then_fail(temporary):
        Path(temporary).write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomic(path, half_then_fail)
    assert path.read_text() == "old\n" and list(tmp_path.iterdir()) == [path]
    write_table(pd.DataFrame({"a": [1]}), path)
    assert path.read_text() == "a\n1\n"


def test_decimal_comma_with_thousands_dots(tmp_path):
    path = tmp_path / "eu.csv"
    path.write_text("a;b\n1.234,5;1\n2,25;2\n-12.000,75;3\n")
    assert read_table(path)["a"].tolist() == [1234.5, 2.25, -12000.75]
    path.write_text("a;b\n1.234,5;x\noops;2\n")  # the same inside a column with a stray cell
    assert read_table(path)["a"].tolist() == ["1234.5", "oops"]


def test_large_file_sniffed_from_its_first_lines(tmp_path):
    rows = "".join(f"{i},{i % 7};x{i % 3};{i % 5},25\n" for i in range(20_000))
    path = tmp_path / "big.csv"
    # ';'-separated with decimal commas, one stray Windows-1252 byte far past the sample
    path.write_bytes(b"a;b;b\n" + rows.encode() + b"1,5;caf\xe9;2\n")
    read = read_table_info(path)
    assert read.frame.shape == (20_001, 3) and list(read.frame.columns) == ["a", "b", "b_2"]
    assert read.frame["a"].iloc[:3].tolist() == [0.0, 1.1, 2.2]
    assert read.frame["b_2"].iloc[:3].tolist() == [0.25, 1.25, 2.25]
    assert read.frame["b"].iloc[-1] == "caf\ufffd"
    assert "sep=';', decimal=','" in read.assumed


def test_a_one_column_table_keeps_its_blank_lines_as_missing_values(tmp_path):
    # pandas writes a missing value of a one-column table as a blank line, in the
    # middle or at the end; each is a row and must come back (pandas' reader skipped
    # them, and the labels lost rows). Blank lines before the header are not rows.
    path = tmp_path / "one.csv"
    pd.DataFrame({"x": [np.nan, -0.5, np.nan, 0.25, np.nan]}).to_csv(path, index=False)
    assert read_table(path)["x"].isna().tolist() == [True, False, True, False, True]
    path.write_bytes(b"\r\n\r\nx\r\n1\r\n\r\n2\r\n")
    assert read_table(path)["x"].isna().tolist() == [False, True, False]
    path.write_bytes(b"id\n1\n2\n")
    assert read_table(path)["id"].dtype.kind == "i"


def test_a_wider_table_skips_blank_lines(tmp_path):
    # A writer writes a missing row of two columns as ",": a blank line is no record.
    path = tmp_path / "two.csv"
    path.write_bytes(b"\nid,v\n1,2\n\n3,4\n,\n\n")
    frame = read_table(path)
    assert frame.shape == (3, 2) and frame["id"].isna().tolist() == [False, False, True]


@pytest.mark.parametrize("name", ["part.csv", "part.csv.gz"])
@pytest.mark.parametrize("text", [b"x\n\n1\n2\n\n", b"\nx,y\n1,2\n\n3,4\n\n"])
def test_the_dask_engine_reads_a_csv_partition_as_read_table_does(tmp_path, name, text):
    # One partition per file on the workers: the same rows as the in-memory reader,
    # blank lines included (the engine's reader is a plain function of the path).
    from clustra.workflow.distributed import _read_one

    path = tmp_path / name
    path.write_bytes(gzip.compress(text) if name.endswith(".gz") else text)
    pd.testing.assert_frame_equal(_read_one(str(path), "csv", None), read_table(path))
