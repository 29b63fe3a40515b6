"""The memory guard: refuse an n^2 allocation that will not fit, before making it.

The available memory is read from ``/proc/meminfo`` (``MemAvailable``), else
from ``os.sysconf``. Tests and users may set a limit instead: the environment
variable ``CLUSTRA_MEMORY_LIMIT`` (bytes, or with a suffix K/M/G) or
:func:`set_memory_limit` (which wins over the variable).
"""

from __future__ import annotations

import os

_limit_override: int | None = None
# Leave room for the interpreter, the input and the result.
_USABLE_FRACTION = 0.9


class LinkageMemoryError(MemoryError):
    """An O(n^2) structure would not fit in the memory available."""


def set_memory_limit(n_bytes: int | None) -> None:
    """Pretend that only ``n_bytes`` are available (``None``: measure again)."""
    global _limit_override
    if n_bytes is not None and (isinstance(n_bytes, bool) or int(n_bytes) <= 0):
        raise ValueError(f"The memory limit must be a positive number of bytes, got {n_bytes!r}.")
    _limit_override = None if n_bytes is None else int(n_bytes)


def _parse_size(text: str) -> int:
    text = text.strip().upper()
    factor = 1
    for suffix, value in (("K", 2**10), ("M", 2**20), ("G", 2**30), ("T", 2**40)):
        if text.endswith(suffix) or text.endswith(suffix + "B"):
            text = text[: text.index(suffix)]
            factor = value
            break
    try:
        return int(float(text) * factor)
    except ValueError as exc:
        raise ValueError(
            "CLUSTRA_MEMORY_LIMIT must be a number of bytes such as 4000000000 or 4G, "
            f"got {text!r}."
        ) from exc


def available_memory() -> int:
    """Bytes this process may still allocate (the override, else the system's estimate)."""
    if _limit_override is not None:
        return _limit_override
    raw = os.environ.get("CLUSTRA_MEMORY_LIMIT")
    if raw:
        return _parse_size(raw)
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - exotic platforms
        return 2**63 - 1


def condensed_bytes(n_samples: int, copies: int = 1) -> int:
    """Bytes of ``copies`` condensed float64 distance vectors for ``n_samples`` points."""
    return copies * 8 * (n_samples * (n_samples - 1) // 2)


def check_matrix_fits(n_samples: int, method: str, copies: int = 1) -> None:
    """Raise :class:`LinkageMemoryError` if the distance matrix would not fit.

    Costs nothing but arithmetic, so it answers at once for any ``n_samples``.
    """
    needed = condensed_bytes(n_samples, copies)
    available = available_memory()
    if needed <= _USABLE_FRACTION * available:
        return
    ways_out = []
    if method == "single":
        ways_out.append(
            "pass the observations (not a distance vector): single linkage then builds a "
            "minimum spanning tree in O(n) memory"
        )
    else:
        ways_out.append(
            'method="single" needs no matrix (a minimum spanning tree, O(n) memory)'
        )
    if method in ("ward", "centroid", "median"):
        ways_out.append(
            f'method="{method}" on the observations with Euclidean distances works in '
            "O(n d) memory: pass X (not distances)"
        )
    else:
        ways_out.append(
            '"ward", "centroid" and "median" have an O(n d) version from the observations'
        )
    ways_out.append(
        "or cluster a random sample (e.g. 20,000 rows) and assign the rest with predict()"
    )
    raise LinkageMemoryError(
        f"{method!r} linkage on {n_samples:,} points needs a distance matrix of "
        f"{needed / 1e9:.1f} GB, but only {available / 1e9:.1f} GB of memory is available. "
        "Ways out: " + "; ".join(ways_out) + "."
    )
