"""Read tables (CSV, TSV, Parquet, Excel) and write labelled rows.

Every failure a user can cause (a missing file, an unknown extension, an empty
or unreadable file) raises :class:`DataError` with one sentence saying what was
wrong and what to do. The command line turns it into exit code 1.
"""

from __future__ import annotations

from pathlib import Path

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
WRITE_FORMATS = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet"}


class DataError(ValueError):
    """The data cannot be clustered as asked (exit code 1 on the command line)."""


class OptionError(ValueError):
    """An option value is invalid (exit code 2 on the command line)."""


def _format_for(path: Path, formats: dict[str, str], what: str) -> str:
    suffix = path.suffix.lower()
    if suffix not in formats:
        choices = ", ".join(sorted(formats))
        raise (DataError if what == "read" else OptionError)(
            f"Cannot {what} {path.name!r}: unknown file extension {suffix or '(none)'!r}; "
            f"use one of {choices}."
        )
    return formats[suffix]


def read_table(path, *, sheet: str | int | None = None):
    """Read a table from CSV, TSV, Parquet or Excel, chosen by the file extension.

    Parameters
    ----------
    path : str or path-like
        ``.csv``/``.txt`` (comma-separated), ``.tsv``/``.tab``, ``.parquet``/``.pq``,
        ``.xlsx``/``.xlsm`` (needs openpyxl).
    sheet : str or int, optional
        Excel sheet name or index (default: the first sheet).

    Returns
    -------
    pandas.DataFrame
        The table as read, with a fresh 0..n-1 index.

    Raises
    ------
    DataError
        The file does not exist, is empty, or cannot be parsed in its format.
    """
    import pandas as pd

    path = Path(path)
    if not path.exists():
        raise DataError(f"File not found: {str(path)!r}.")
    if path.is_dir():
        raise DataError(f"{str(path)!r} is a directory; give the path of a data file.")
    kind = _format_for(path, READ_FORMATS, "read")
    if path.stat().st_size == 0:
        raise DataError(f"{path.name!r} is empty: there are no rows to cluster.")
    try:
        if kind == "csv":
            frame = pd.read_csv(path, sep=None if path.suffix.lower() == ".txt" else ",",
                                engine="python" if path.suffix.lower() == ".txt" else "c")
        elif kind == "tsv":
            frame = pd.read_csv(path, sep="\t")
        elif kind == "parquet":
            frame = pd.read_parquet(path)
        else:
            frame = _read_excel(path, sheet)
    except DataError:
        raise
    except pd.errors.EmptyDataError:
        raise DataError(f"{path.name!r} has no columns: is it empty?") from None
    except Exception as exc:  # pandas/pyarrow raise many types for a bad file
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"Cannot read {path.name!r} as {kind.upper()}: {detail}") from None
    if frame.shape[0] == 0:
        raise DataError(f"{path.name!r} has a header but no rows: there is nothing to cluster.")
    return frame.reset_index(drop=True)


def _read_excel(path: Path, sheet):
    import pandas as pd

    try:
        import openpyxl  # noqa: F401
    except ImportError:
        raise DataError(
            f"Reading Excel files such as {path.name!r} needs openpyxl: "
            "pip install openpyxl (or pip install 'clustra[excel]'), or save the sheet as CSV."
        ) from None
    return pd.read_excel(path, sheet_name=0 if sheet is None else sheet)


def check_output_path(path) -> Path:
    """Check that labels can be written to ``path`` (by extension) before any work is done."""
    path = Path(path)
    _format_for(path, WRITE_FORMATS, "write")
    if path.parent and not path.parent.exists():
        raise OptionError(f"Cannot write {str(path)!r}: "
                          f"folder {str(path.parent)!r} does not exist.")
    return path


def write_table(frame, path) -> Path:
    """Write ``frame`` as CSV, TSV or Parquet, chosen by the extension of ``path``."""
    path = check_output_path(path)
    kind = WRITE_FORMATS[path.suffix.lower()]
    if kind == "csv":
        frame.to_csv(path, index=False)
    elif kind == "tsv":
        frame.to_csv(path, sep="\t", index=False)
    else:
        frame.to_parquet(path, index=False)
    return path
