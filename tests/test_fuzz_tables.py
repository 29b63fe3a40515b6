"""Generated messy tables through ``clustra run``: a right answer or one clear line, never a crash.

Each example writes a small table the way people do (a random separator,
decimal mark, encoding and compression; missing cells, stray text cells,
repeated and odd column names) and runs the command in-process. A run either
succeeds with every input row back, in order, or fails with exit code 1 or 2
and exactly one ``clustra: error:`` line on stderr.
"""

import contextlib
import gzip
import io
import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from clustra._column_roles import looks_like_id_name
from clustra.cli import main
from clustra.workflow.options import ALGORITHMS

NAME_CHARS = st.sampled_from(list("abcxyz_ -.,;|\"'#éß0123456789\t"))
NAMES = st.one_of(st.sampled_from(["x", "y", "id", "x", "customer_id", "Unnamed: 0", "cluster"]),
                  # A header line of blanks alone reads as a blank line (a known limit).
                  st.text(NAME_CHARS, min_size=1, max_size=12).filter(str.strip))
KINDS = ["float", "int", "category", "code", "junk", "empty", "bool"]


@st.composite
def tables(draw):
    n_rows = draw(st.integers(1, 14))
    n_cols = draw(st.integers(1, 4))
    columns = {}
    names, kinds = [], []
    for j in range(n_cols):
        kind = draw(st.sampled_from(KINDS))
        kinds.append(kind)
        seed = draw(st.integers(0, 2**16))
        rng = np.random.default_rng(seed)
        if kind == "float":
            values = list(rng.normal(0, draw(st.sampled_from([1.0, 1e-300, 1e300])), n_rows))
        elif kind == "int":
            values = list(rng.integers(-5, 5, n_rows))
        elif kind == "category":
            values = list(rng.choice(["red", "blue", "Oslo é"], n_rows))
        elif kind == "code":
            values = [f"c{i}" for i in range(n_rows)]
        elif kind == "junk":
            values = list(rng.normal(0, 1, n_rows))
            for i in rng.choice(n_rows, size=min(n_rows, draw(st.integers(1, 2))), replace=False):
                values[i] = draw(st.sampled_from(["oops", "n/a?", "-", "1,2,3", "", " "]))
        elif kind == "bool":
            values = list(rng.choice([True, False], n_rows))
        else:
            values = [None] * n_rows
        missing = draw(st.floats(0.0, 0.5))
        values = [None if rng.random() < missing else v for v in values]
        name = draw(NAMES)
        names.append(name)
        columns[j] = values
    frame = pd.DataFrame(columns)
    frame.columns = names
    frame.attrs["kinds"] = kinds
    return frame


def _write(frame, folder: Path, sep: str, decimal: str, encoding: str, compression) -> Path:
    text = frame.to_csv(index=False, sep=sep, decimal=decimal)
    raw = text.encode(encoding)
    path = folder / ("t.csv.gz" if compression else "t.csv")
    path.write_bytes(gzip.compress(raw) if compression else raw)
    return path


def _labels(frame, folder: Path, sep: str) -> None:
    """Every input row comes back, in order, with a status."""
    path = folder / ("t.csv")
    frame.to_csv(path, index=False, sep=sep)
    code, out, _ = _invoke(["run", str(path), "--k", "2", "--quiet"])
    if code == 0:
        labels = pd.read_csv(io.StringIO(out))
        assert list(labels.columns) == ["row", "cluster", "status"]
        assert labels["row"].tolist() == list(range(1, len(frame) + 1))
        assert labels["status"].notna().all()


def _invoke(args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return code, out.getvalue(), err.getvalue()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=tables(), sep=st.sampled_from([",", ";", "\t", "|"]),
       decimal=st.sampled_from([".", ","]),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]),
       compression=st.booleans(), algorithm=st.sampled_from(["kmeans", "dbscan", "auto"]),
       say_format=st.booleans(),
       extra=st.sampled_from([[], ["--impute", "drop"], ["--remove-outliers", "lof"],
                              ["--reduce", "pca:1"], ["--scale", "none"], ["--k", "auto"]]))
def test_messy_tables_answer_or_one_clear_line(frame, sep, decimal, encoding, compression,
                                               algorithm, say_format, extra):
    if decimal == sep:
        decimal = "."
    try:
        frame.to_csv(index=False, sep=sep).encode(encoding)
    except UnicodeEncodeError:
        encoding = "utf-8"
    with tempfile.TemporaryDirectory() as folder:
        _labels(frame, Path(folder), sep)
        path = _write(frame, Path(folder), sep, decimal, encoding, compression)
        given = ["--sep", "tab" if sep == "\t" else sep, "--decimal", decimal] if say_format else []
        code, out, err = _invoke(["run", str(path), "--algorithm", algorithm, "--k", "2",
                                  "--k-max", "3", "--min-samples", "2", "--json", *given,
                                  *extra])
    event(f"exit code {code}")
    assert "Traceback" not in err and "Warning:" not in err, err
    if code == 0:
        doc = json.loads(out)
        assert doc["input"]["n_rows"] == len(frame) and sum(doc["counts"].values()) == len(frame)
        # Every column written as numbers (not an id by name, not constant) was read as numbers.
        clean = [name for i, (name, kind) in enumerate(zip(frame.columns, frame.attrs["kinds"],
                                                           strict=True))
                 if kind == "float" and frame.iloc[:, i].dropna().nunique() > 1
                 and not looks_like_id_name(name)]
        assert len(doc["input"]["numeric_columns"]) >= len(clean), (doc["input"], err)
        for line in err.strip().splitlines():
            assert line.startswith(("clustra: ", "chose ", *(f"{a} (" for a in ALGORITHMS))), line
    else:
        assert code in (1, 2), (code, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("clustra: error: "), err
