"""Guess how a text table was written: encoding, field separator, decimal mark, header names.

Used by :mod:`clustra.io`. Each guess looks at the first lines only
(``SAMPLE_CHARS``), so it costs nothing next to the parse itself.
"""

from __future__ import annotations

import csv
import io
import re

SEPARATORS = (",", ";", "\t", "|")
SAMPLE_CHARS = 65_536
SAMPLE_RECORDS = 50
# 3,14 or 1.234,5 (a dot grouping thousands, as where the comma is the decimal mark).
COMMA_NUMBER = re.compile(r"\s*[+-]?(?:\d{1,3}(?:\.\d{3})+|\d*),\d+(?:[eE][+-]?\d+)?\s*")
_DOT_NUMBER = re.compile(r"\s*[+-]?\d*\.\d+(?:[eE][+-]?\d+)?\s*")


def decode(raw: bytes) -> tuple[str, str]:
    """The text of ``raw`` and the name of its encoding.

    UTF-8 (a BOM is dropped) and UTF-16 with a BOM are recognised; anything
    else is read as Windows-1252, or Latin-1 for the few bytes that code page
    leaves undefined (Latin-1 decodes every byte, so this never fails).
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="replace"), "UTF-8 (with BOM)"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16", errors="replace"), "UTF-16"
    for codec, shown in (("utf-8", "UTF-8"), ("cp1252", "Windows-1252")):
        try:
            return raw.decode(codec), shown
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1"), "Latin-1"


def _records(text: str, sep: str) -> list[list[str]]:
    """The first records of ``text`` split on ``sep`` (quotes respected)."""
    sample = text[:SAMPLE_CHARS]
    cut = len(sample) < len(text)
    if cut:
        sample = sample[: sample.rfind("\n") + 1] or sample
    records = []
    try:
        for record in csv.reader(io.StringIO(sample), delimiter=sep):
            if record:
                records.append(record)
            if len(records) > SAMPLE_RECORDS:
                break
    except csv.Error:
        pass
    if cut and len(records) > 1 and len(records) <= SAMPLE_RECORDS:
        records.pop()  # may end inside a quoted field
    return records


def sniff_separator(text: str) -> str:
    """The separator that splits the first lines into the most, equally long, records.

    For each candidate: the number of fields in the header, and the share of
    the following records with that same number. The candidate with the
    highest share wins, then the most records, then the most fields; ``,``
    when nothing splits.
    """
    best, best_score = ",", (0.0, 0, 1)
    for sep in SEPARATORS:
        records = _records(text, sep)
        if not records or len(records[0]) < 2:
            continue
        width = len(records[0])
        body = records[1:] or records
        share = sum(len(r) == width for r in body) / len(body)
        # More records is better too: a quote opened by a wrong split swallows lines.
        score = (share, len(records), width)
        if score > best_score:
            best, best_score = sep, score
    return best


def sniff_decimal(text: str, sep: str) -> str:
    """``","`` when numbers like ``3,14`` outnumber numbers like ``3.14``; else ``"."``.

    With ``,`` as the separator a decimal comma would have to be quoted; that
    case is not guessed (give ``decimal=","``).
    """
    if sep == ",":
        return "."
    comma = dot = 0
    for record in _records(text, sep)[1:]:
        for cell in record:
            if COMMA_NUMBER.fullmatch(cell):
                comma += 1
            elif _DOT_NUMBER.fullmatch(cell):
                dot += 1
    return "," if comma > dot else "."


def unique_names(text: str, sep: str) -> tuple[list[str], list[tuple[str, str]]]:
    """The header's names made unique, and the ``(old, new)`` pairs that were renamed.

    A repeated name keeps its first column; the later ones get ``_2``, ``_3``
    ... (skipping names already taken). Empty names are left to pandas
    (``Unnamed: i``).
    """
    records = _records(text, sep)
    names = list(records[0]) if records else []
    taken = set(names)
    seen: set[str] = set()
    renamed = []
    for i, name in enumerate(names):
        if not name.strip():
            names[i] = f"Unnamed: {i}"
            continue
        if name in seen:
            number = 2
            while f"{name}_{number}" in taken:
                number += 1
            names[i] = f"{name}_{number}"
            taken.add(names[i])
            renamed.append((name, names[i]))
        seen.add(name)
    return names, renamed
