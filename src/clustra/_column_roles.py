"""The column typing rule: which columns are numeric, categorical, ids or free text.

The rule, in order, for each column (the ``id_column`` aside):

1. **empty**: every value missing -> left out.
2. **dates** -> left out.
3. **numeric**: a number dtype (or booleans), or text where at least
   ``NUMERIC_SHARE`` of the non-missing cells are numbers. The other cells of
   such a column (``"n/a?"``, ``"oops"``) become missing values, and a notice
   names the column, how many cells and the first rows.
4. **categorical**: other text with at most ``MAX_TEXT_LEVELS`` distinct values.
5. **free text**: other text (more distinct values) -> left out.

Then, unless the columns were named with ``columns=``:

- **id**: a column that is unique per row and either named like an id
  (``id``, ``customer_id``, ``CustomerId``, ``key``, ``code``, ``no`` ...), or is
  a running number (1, 2, 3 ...), or is a code (text without spaces) with a
  different value in each of at least ``MIN_ROWS_FOR_UNIQUE`` rows -> left
  out, with a notice saying how to include it.
- **constant**: one distinct value -> left out (it cannot separate rows). When
  every usable column is constant, they are kept and the data are flagged as
  all-constant: the rows are one point, hence one cluster.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

NUMERIC_SHARE = 0.8
MAX_TEXT_LEVELS = 50
MIN_ROWS_FOR_UNIQUE = 10
SHOWN_ROWS = 3
_ID_NAME = re.compile(r"(?i)(?:^|[\s_\-.#])(?:id|ids|uuid|guid|key|index|idx|no|nr|code)$|^#$")
_CAMEL_ID = re.compile(r"[a-z0-9]I[dD]$")


@dataclass
class ColumnRoles:
    """What :func:`assign_roles` decided.

    ``values`` holds every numeric column as float64 (unparsable cells and
    infinities already missing); ``notices`` are the sentences to pass on.
    """

    numeric: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    values: dict = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    n_infinite: int = 0
    all_constant: bool = False


def looks_like_id_name(name: str) -> bool:
    """``True`` for names such as ``id``, ``customer_id``, ``CustomerId``, ``order no``."""
    return bool(_ID_NAME.search(name.strip()) or _CAMEL_ID.search(name.strip()))


def _numbers(series):
    """``(float64 values, mask of cells that are text but not numbers)`` for a text column."""
    import pandas as pd

    text = series.astype("string").str.strip()
    parsed = pd.to_numeric(text, errors="coerce").astype("float64")
    junk = (series.notna() & parsed.isna()).to_numpy()
    return parsed, junk


def _rows(mask: np.ndarray) -> str:
    rows = np.flatnonzero(mask)[:SHOWN_ROWS] + 1
    shown = ", ".join(str(r) for r in rows)
    return f"row{'s' if mask.sum() > 1 else ''} {shown}" + (" ..." if mask.sum() > SHOWN_ROWS
                                                              else "")


def _junk_notice(name, series, junk) -> str:
    examples = list(dict.fromkeys(str(v) for v in series[junk]))[:SHOWN_ROWS]
    count = int(junk.sum())
    return (f"column {name!r} is numeric but {count} cell{'s' if count > 1 else ''} "
            f"({', '.join(repr(e) for e in examples)}; data {_rows(junk)}) "
            f"{'are not numbers and were' if count > 1 else 'is not a number and was'} "
            "treated as missing.")


def _running_number(values: np.ndarray) -> bool:
    return values.size >= MIN_ROWS_FOR_UNIQUE and bool(np.all(np.diff(values) == 1.0))


def _id_evidence(name, series, numeric_values) -> str | None:
    """Why ``series`` looks like an identifier, or ``None``."""
    present = series.dropna()
    if present.size < 2 or present.nunique() != present.size or present.size != series.size:
        return None
    if looks_like_id_name(name):
        return "unique per row and named like an id"
    if numeric_values is not None:
        values = numeric_values.to_numpy()
        if np.all(values == np.round(values)) and _running_number(values):
            return "a running number"
        return None
    if present.size >= MIN_ROWS_FOR_UNIQUE and not present.astype(str).str.contains(r"\s").any():
        return "a different code in every row"
    return None


def assign_roles(frame, columns=None, id_column=None) -> ColumnRoles:
    """Apply the typing rule (module docstring) to ``frame``'s columns.

    ``columns``: the columns to consider (named explicitly: never taken for
    ids or free text); default all. ``id_column`` is never a feature.
    """
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    roles = ColumnRoles()
    named = bool(columns)
    candidates = [c for c in (columns or frame.columns) if c != id_column]
    constant = {}
    for name in candidates:
        series = frame[name]
        if series.isna().all():
            roles.skipped[name] = "every value is missing"
            continue
        if series.dtype.kind in "mM" or str(series.dtype).startswith("datetime"):
            roles.skipped[name] = "dates are not clustered"
            continue
        values = None
        if is_bool_dtype(series) or is_numeric_dtype(series):
            values = series.astype("float64")
        else:
            parsed, junk = _numbers(series)
            n_present = int(series.notna().sum())
            if n_present - junk.sum() >= max(1, NUMERIC_SHARE * n_present):
                values = parsed
                if junk.any():
                    roles.notices.append(_junk_notice(name, series, junk))
        if values is not None:
            infinite = np.isinf(values.to_numpy())
            roles.n_infinite += int(infinite.sum())
            values = values.mask(infinite)  # an infinite value is no measurement: a gap
        evidence = None if named else _id_evidence(name, series, values)
        if evidence is not None:
            roles.skipped[name] = f"looks like an id ({evidence})"
            roles.notices.append(
                f"left out column {name!r}: it looks like an id ({evidence}); name it in "
                f"columns= to cluster on it, or give id_column={name!r} to copy it to the "
                "output.")
            continue
        levels = (values if values is not None else series).nunique(dropna=True)
        if levels == 1:
            constant[name] = values
            continue
        if values is not None:
            roles.numeric.append(name)
            roles.values[name] = values
        elif not named and levels > MAX_TEXT_LEVELS:
            roles.skipped[name] = f"free text ({levels} distinct values)"
        else:
            roles.categorical.append(name)
    _settle_constant(roles, frame, constant)
    return roles


def _settle_constant(roles: ColumnRoles, frame, constant: dict) -> None:
    if not constant:
        return
    names = ", ".join(repr(name) for name in constant)
    if roles.numeric or roles.categorical:
        for name in constant:
            value = frame[name].dropna().iloc[0]
            shown = f"{value:g}" if isinstance(value, (int, float, np.number)) else repr(str(value))
            roles.skipped[name] = f"constant (every value is {shown})"
        roles.notices.append(f"left out constant column{'s' if len(constant) > 1 else ''} "
                             f"{names}: the same value in every row cannot separate rows.")
        return
    numeric = {name: values for name, values in constant.items() if values is not None}
    roles.all_constant = True
    roles.numeric.extend(numeric)
    roles.values.update(numeric)
    roles.categorical.extend(name for name in constant if name not in numeric)
    roles.notices.append(f"every column used ({names}) is constant: all rows are the same point, "
                         "so they form one cluster.")
