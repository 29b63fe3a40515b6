"""Read tables (CSV, TSV, Parquet, Excel; compressed or from stdin) and write labelled rows.

Every failure a user can cause (a missing file, an unknown extension, an empty
or unreadable file, an output that cannot be written) raises :class:`DataError`
or :class:`OptionError` with one sentence saying what was wrong and what to do.
The command line turns them into exit codes 1 and 2.

Text tables are read the way people write them: the separator (``,`` ``;``
tab ``|``) and the decimal mark (``.`` or ``,``) are sniffed from the first
lines unless given, the encoding is UTF-8 (with or without BOM), UTF-16 with a
BOM, or else Windows-1252/Latin-1, and ``.gz``, ``.bz2``, ``.zip``, ``.xz``
files are decompressed. :func:`read_table_info` says in one line what was
assumed. Outputs are written to a temporary file beside the target and renamed
into place, so a failure never leaves half a file.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import sys
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from clustra._sniff import (
    COMMA_NUMBER,
    SAMPLE_CHARS,
    decode,
    sniff_decimal,
    sniff_separator,
    unique_names,
)

READ_FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".xlsx": "excel",
    ".xlsm": "excel",
}
COMPRESSIONS = {".gz": "gzip", ".bz2": "bz2", ".zip": "zip", ".xz": "xz"}
WRITE_FORMATS = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet"}
STDIN = "-"
# The encodings decode() names, as Python codecs (for pandas reading a file).
_CODECS = {"UTF-8": "utf-8", "UTF-8 (with BOM)": "utf-8-sig", "UTF-16": "utf-16",
           "Windows-1252": "cp1252", "Latin-1": "latin-1"}
# How compressed standard input announces itself (a file says so by its extension).
_MAGIC = {b"\x1f\x8b": "gzip", b"BZh": "bz2", b"\xfd7zXZ\x00": "xz", b"PK\x03\x04": "zip"}


class DataError(ValueError):
    """The data cannot be clustered as asked (exit code 1 on the command line)."""


class OptionError(ValueError):
    """An option value is invalid (exit code 2 on the command line)."""


class DataWarning(UserWarning):
    """Something in the data was changed or left out, and the user should know."""


@dataclass
class TableRead:
    """A table as read, what was assumed to read it, and what was noticed on the way.

    Attributes
    ----------
    frame : pandas.DataFrame
        The table, with a fresh 0..n-1 index and unique string column names.
    assumed : str
        One line: format, compression, encoding, separator and decimal mark.
    notices : list of str
        Things the reader changed and the user should know (renamed columns).
    """

    frame: object
    assumed: str
    notices: list[str] = field(default_factory=list)


def _format_for(path: Path, formats: dict[str, str], what: str) -> str:
    suffix = path.suffix.lower()
    if suffix not in formats:
        choices = ", ".join(sorted(formats))
        if what == "read":
            choices += " (optionally compressed: " + ", ".join(COMPRESSIONS) + ")"
        raise (DataError if what == "read" else OptionError)(
            f"Cannot {what} {path.name!r}: unknown file extension {suffix or '(none)'!r}; "
            f"use one of {choices}."
        )
    return formats[suffix]


def _decompress(raw: bytes, compression: str, name: str) -> bytes:
    try:
        if compression == "gzip":
            return gzip.decompress(raw)
        if compression == "bz2":
            return bz2.decompress(raw)
        if compression == "xz":
            return lzma.decompress(raw)
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            members = [m for m in archive.namelist() if not m.endswith("/")]
            if len(members) != 1:
                raise DataError(f"{name!r} holds {len(members)} files; a zip must hold exactly one "
                                "table.")
            return archive.read(members[0])
    except DataError:
        raise
    except Exception as exc:  # each codec has its own error types
        raise DataError(f"Cannot decompress {name!r} as {compression}: "
                        f"{_first_line(exc)}") from None


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def read_table(path, *, sheet: str | int | None = None, sep: str | None = None,
               decimal: str | None = None):
    """Read a table; see :func:`read_table_info` (this returns only the DataFrame)."""
    return read_table_info(path, sheet=sheet, sep=sep, decimal=decimal).frame


def read_table_info(path, *, sheet: str | int | None = None, sep: str | None = None,
                    decimal: str | None = None) -> TableRead:
    """Read a table from CSV, TSV, Parquet or Excel, chosen by the file extension.

    Parameters
    ----------
    path : str or path-like
        ``.csv``/``.txt``, ``.tsv``/``.tab``, ``.parquet``/``.pq``,
        ``.xlsx``/``.xlsm`` (needs openpyxl); CSV and TSV may be compressed
        (``.csv.gz``, ``.bz2``, ``.zip``, ``.xz``). ``"-"`` reads standard input
        (a text table, or Parquet).
    sheet : str or int, optional
        Excel sheet name or index (default: the first sheet).
    sep : str, optional
        Field separator of a text table (default: sniffed among ``,`` ``;``
        tab and ``|``; ``"tab"`` and ``"\\t"`` mean tab).
    decimal : {".", ","}, optional
        Decimal mark of a text table (default: sniffed).

    Returns
    -------
    TableRead

    Raises
    ------
    DataError
        The file does not exist, is empty, or cannot be parsed in its format.
    OptionError
        ``sep`` or ``decimal`` is not a single character.
    """
    sep, decimal = _check_text_options(sep, decimal)
    if str(path) == STDIN:
        raw = sys.stdin.buffer.read()
        name, kind = "standard input", "csv"
        compression = next((c for magic, c in _MAGIC.items() if raw.startswith(magic)), None)
        if compression:
            raw = _decompress(raw, compression, name)
        if raw[:4] == b"PAR1":
            kind = "parquet"
    else:
        path = Path(path)
        if not path.exists():
            raise DataError(f"File not found: {str(path)!r}.")
        if path.is_dir():
            raise DataError(f"{str(path)!r} is a directory; give the path of a data file.")
        name = path.name
        compression = COMPRESSIONS.get(path.suffix.lower())
        inner = Path(path.stem) if compression else path
        if compression and not inner.suffix:
            inner = inner.with_suffix(".csv")  # data.gz: a compressed CSV
        kind = _format_for(inner, READ_FORMATS, "read")
        if kind in ("parquet", "excel") and compression:
            raise DataError(f"Cannot read {name!r}: only CSV and TSV may be compressed; "
                            f"decompress it first.")
        if path.stat().st_size == 0:
            raise DataError(f"{name!r} is empty: there are no rows to cluster.")
        if kind in ("parquet", "excel"):
            return _read_binary(path, kind, sheet)
        if kind == "tsv" and sep is None:
            sep = "\t"
        if not compression:
            # pandas parses the file itself; the guesses need only its first lines.
            return _read_text(_head(path), name, None, sep, decimal, path=path)
        raw = _decompress(path.read_bytes(), compression, name)
    if kind == "parquet":
        return _read_binary(io.BytesIO(raw), kind, sheet, name)
    return _read_text(raw, name, compression, sep, decimal)


def _head(path: Path) -> bytes:
    """The first ``SAMPLE_CHARS`` bytes of ``path``, cut after a line end (or all of it)."""
    with open(path, "rb") as handle:
        head = handle.read(SAMPLE_CHARS + 1)
    if len(head) <= SAMPLE_CHARS or head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head if len(head) <= SAMPLE_CHARS else path.read_bytes()  # UTF-16: whole
    return head[: head.rfind(b"\n") + 1] or head[:SAMPLE_CHARS]


def _check_text_options(sep, decimal):
    if sep is not None:
        sep = {"tab": "\t", "\\t": "\t", "TAB": "\t"}.get(sep, sep)
        if len(sep) != 1 or sep in "\"\r\n":
            raise OptionError(f"sep={sep!r} must be one character such as ',' ';' '|' or 'tab'.")
    if decimal is not None and decimal not in (".", ","):
        raise OptionError(f"decimal={decimal!r} must be '.' or ','.")
    if sep is not None and sep == decimal:
        raise OptionError(f"sep={sep!r} and decimal={decimal!r} cannot be the same character.")
    return sep, decimal


def _read_binary(source, kind: str, sheet, name: str | None = None) -> TableRead:
    import pandas as pd

    name = name or Path(source).name
    try:
        frame = pd.read_parquet(source) if kind == "parquet" else _read_excel(source, sheet)
    except DataError:
        raise
    except Exception as exc:  # pandas/pyarrow raise many types for a bad file
        raise DataError(f"Cannot read {name!r} as {kind.upper()}: {_first_line(exc)}") from None
    return _finish(frame, name, f"read {name!r} as {kind.capitalize()}", [])


def _read_text(raw: bytes, name: str, compression, sep, decimal, path=None) -> TableRead:
    """Parse a text table: ``raw`` is all of it, or (with ``path``) its first lines."""
    import pandas as pd

    if b"\x00" in raw[:4096] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DataError(f"{name!r} is not a text table (it holds binary data); give a CSV, "
                        "TSV, Parquet or Excel file.")
    text, encoding = decode(raw)
    if not text.strip():
        raise DataError(f"{name!r} is empty: there are no rows to cluster.")
    sniffed = []
    if sep is None:
        sep = sniff_separator(text)
        sniffed.append(f"sep={_shown(sep)}")
    if decimal is None:
        decimal = sniff_decimal(text, sep)
        sniffed.append(f"decimal={decimal!r}")
    header, renamed = unique_names(text, sep)
    notices = []
    if renamed:
        pairs = ", ".join(f"{old!r} -> {new!r}" for old, new in renamed)
        notices.append(f"repeated column names were renamed: {pairs}.")
    try:
        # With a decimal comma, a dot groups thousands (1.234,5).
        thousands = "." if decimal == "," and sep != "." else None
        # A file is parsed from disk (no second copy in memory); bytes past the
        # sample that do not fit the sniffed encoding become U+FFFD, not a failure.
        # Blank lines are rows in a one-column table only (blank_line_options).
        source = io.StringIO(text) if path is None else path
        frame = pd.read_csv(source, sep=sep, decimal=decimal, thousands=thousands, header=0,
                            names=header if renamed else None, index_col=False, engine="c",
                            low_memory=False, encoding=_CODECS[encoding],
                            encoding_errors="replace", **blank_line_options(text, len(header)))
    except pd.errors.EmptyDataError:
        raise DataError(f"{name!r} has no columns: is it empty?") from None
    except Exception as exc:  # the C parser's errors name the line
        raise DataError(f"Cannot read {name!r} as a table (sep={_shown(sep)}): "
                        f"{_first_line(exc)}") from None
    if decimal == ",":
        frame = _dot_decimals(frame)
    how = f"{compression}-compressed text" if compression else "text"
    assumed = f"read {name!r} ({how}, {encoding}): sep={_shown(sep)}, decimal={decimal!r}"
    if sniffed:
        assumed += " (sniffed; give sep= and decimal= to override)"
    return _finish(frame, name, assumed, notices)


def blank_line_options(head: str, n_columns: int) -> dict:
    """``pandas.read_csv``'s options for the blank lines of a table whose text
    starts with ``head``.

    In a one-column table a blank line is how a CSV writer writes a missing
    value, so every line after the header is a row (the file's last line end
    makes none). In a wider table a blank line is no record (a writer writes
    ``,,``), and is skipped as pandas and R's ``read.csv`` do.
    """
    if n_columns != 1:
        return {}
    blank_head = len(head) - len(head.lstrip("\r\n"))
    return {"skip_blank_lines": False, "skiprows": head.count("\n", 0, blank_head)}


def _shown(sep: str) -> str:
    return "'tab'" if sep == "\t" else repr(sep)


def _dot_decimals(frame):
    """Text cells such as ``-1,5`` in a comma-decimal table, rewritten as ``-1.5``.

    pandas parses the decimal comma only in columns where every cell is a
    number; in a column with a stray text cell the numbers stay text, and the
    column typing (:mod:`clustra.preprocessing`) must still see them as numbers.
    """
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    for name in frame.columns:
        column = frame[name]
        if not (is_numeric_dtype(column) or is_bool_dtype(column)):
            text = column.astype("string")
            numeric = text.str.fullmatch(COMMA_NUMBER.pattern).fillna(False)
            if numeric.any():
                dotted = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
                frame[name] = column.where(~numeric.to_numpy(), dotted)
    return frame


def _finish(frame, name: str, assumed: str, notices: list[str]) -> TableRead:
    if frame.shape[1] == 0:
        raise DataError(f"{name!r} has no columns: is it empty?")
    if frame.shape[0] == 0:
        raise DataError(f"{name!r} has a header but no rows: there is nothing to cluster.")
    assumed += f"; {frame.shape[0]} rows x {frame.shape[1]} columns."
    return TableRead(frame.reset_index(drop=True), assumed, notices)


def _read_excel(path, sheet):
    import pandas as pd

    try:
        import openpyxl  # noqa: F401
    except ImportError:
        shown = getattr(path, "name", "this file")
        raise DataError(
            f"Reading Excel files such as {shown!r} needs openpyxl: "
            "pip install openpyxl (or pip install 'clustra[excel]'), or save the sheet as CSV."
        ) from None
    return pd.read_excel(path, sheet_name=0 if sheet is None else sheet)


def check_output_path(path, *, formats=None, inputs=(), what: str = "labels") -> Path:
    """Check, before any work is done, that ``path`` can be written.

    The extension must be one of ``formats`` (default: the label formats), the
    folder must exist and accept a new file (tried, not guessed: file-system
    permissions, read-only mounts and ``/proc`` all answer), the path must not
    be a folder, and it must not be one of ``inputs`` (overwriting the data).
    """
    path = Path(path)
    _format_for(path, WRITE_FORMATS if formats is None else formats, "write")
    shown = str(path)
    if path.is_dir():
        raise OptionError(f"Cannot write the {what} to {shown!r}: it is a folder; "
                          "give a file name.")
    for source in inputs:
        if source is not None and str(source) != STDIN and _same_file(path, Path(source)):
            raise OptionError(f"Cannot write the {what} to {shown!r}: it is the input file; "
                              "choose another name so the data are not overwritten.")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.exists():
        raise OptionError(f"Cannot write {shown!r}: folder {str(parent)!r} does not exist.")
    if not parent.is_dir():
        raise OptionError(f"Cannot write {shown!r}: {str(parent)!r} is not a folder.")
    probe = _temporary_name(path)
    try:
        with open(probe, "xb"):
            pass
        os.remove(probe)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise OptionError(f"Cannot write the {what} to {shown!r}: {reason.lower()} "
                          f"in folder {str(parent)!r}.") from None
    if path.exists() and not os.access(path, os.W_OK):
        raise OptionError(f"Cannot write the {what} to {shown!r}: the file is read-only.")
    return path


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


def _temporary_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.part")


def write_atomic(path, write) -> Path:
    """Call ``write(temporary_path)``, then rename the result to ``path``.

    The temporary file sits beside ``path`` (same file system, so the rename is
    atomic); if ``write`` fails it is removed and ``path`` is left as it was.
    """
    path = Path(path)
    temporary = _temporary_name(path)
    try:
        write(temporary)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def write_table(frame, path) -> Path:
    """Write ``frame`` as CSV, TSV or Parquet, chosen by the extension of ``path``."""
    path = check_output_path(path)
    kind = WRITE_FORMATS[path.suffix.lower()]
    if kind == "csv":
        return write_atomic(path, lambda tmp: frame.to_csv(tmp, index=False))
    if kind == "tsv":
        return write_atomic(path, lambda tmp: frame.to_csv(tmp, sep="\t", index=False))
    return write_atomic(path, lambda tmp: frame.to_parquet(tmp, index=False))


def write_text(text: str, path) -> Path:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file."""
    return write_atomic(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
