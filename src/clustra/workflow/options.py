"""Options of a run (checked on creation) and the record of automatic choices."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from clustra.io import OptionError

ALGORITHMS = (
    "kmeans", "minibatch", "bisecting", "dbscan", "hdbscan", "genie", "hierarchical", "auto"
)
LINKAGES = ("ward", "complete", "average", "single")

Progress = Callable[[int, int, str], None]


def _silent(done: int, total: int, message: str) -> None:
    """The default progress callback: says nothing."""


@dataclass
class Choice:
    """A value the workflow chose on the user's behalf, and why."""

    name: str
    value: object
    reason: str

    def to_dict(self) -> dict:
        return {"name": self.name, "value": _plain(self.value), "reason": self.reason}


@dataclass
class RunOptions:
    """The options of :func:`run` (the same as ``clustra run``'s), checked on creation."""

    # None: "auto" (clustra.auto_cluster), unless k is given (K-Means) or eps (DBSCAN).
    algorithm: str | None = None
    k: int | str = "auto"
    eps: float | str = "auto"
    min_samples: int | None = None  # None: 5 for DBSCAN, min_cluster_size for HDBSCAN
    min_cluster_size: int = 5
    linkage: str = "ward"
    columns: list[str] | None = None
    id_column: str | None = None
    scale: str = "standard"
    impute: str = "mean"
    remove_outliers: str = "none"
    outlier_fraction: float = 0.05
    reduce: str | int | float | None = None
    seed: int = 0
    k_max: int = 10
    max_categories: int = 10
    sep: str | None = None
    decimal: str | None = None

    def __post_init__(self):
        if self.algorithm is None:
            self.algorithm = ("kmeans" if self.k != "auto" else
                              "dbscan" if self.eps != "auto" else "auto")
        if self.algorithm not in ALGORITHMS:
            raise OptionError(f"algorithm={self.algorithm!r} is not one of: "
                              f"{', '.join(ALGORITHMS)}.")
        if self.linkage not in LINKAGES:
            raise OptionError(f"linkage={self.linkage!r} is not one of: {', '.join(LINKAGES)}.")
        self.k = _auto_or_number("k", self.k, int, minimum=1)
        self.eps = _auto_or_number("eps", self.eps, float, minimum=0.0, strict=True)
        for name, minimum in (("min_samples", 1), ("min_cluster_size", 2), ("k_max", 2),
                              ("seed", 0)):
            value = getattr(self, name)
            if value is None and name == "min_samples":
                continue
            integral = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
            if not integral or value < minimum:
                raise OptionError(f"{name}= must be an integer >= {minimum}, "
                                  f"got {value!r}.")
        if isinstance(self.columns, str):
            self.columns = [c.strip() for c in self.columns.split(",") if c.strip()]
        if self.columns is not None:
            self.columns = list(self.columns)
            if not self.columns:
                raise OptionError("columns= names no column; name at least one, or leave it out "
                                  "to use every usable column.")
        if self.id_column in ("cluster", "status"):
            raise OptionError(f"id_column={self.id_column!r} clashes with an output column; "
                              "rename that column first.")

    @property
    def dbscan_min_samples(self) -> int:
        """DBSCAN's (and the eps suggestion's) min_samples: 5 unless given."""
        return 5 if self.min_samples is None else self.min_samples


def _auto_or_number(name, value, kind, *, minimum, strict=False):
    if isinstance(value, str):
        if value.strip().lower() == "auto":
            return "auto"
        try:
            value = kind(value)
        except ValueError:
            raise OptionError(f"{name}={value!r} must be 'auto' or a number.") from None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise OptionError(f"{name}={value!r} must be 'auto' or a number.")
    if kind is int and float(value) != int(value):
        raise OptionError(f"{name}= must be a whole number, got {value!r}.")
    value = kind(value)
    if value < minimum or (strict and value == minimum) or not np.isfinite(value):
        bound = f"> {minimum}" if strict else f">= {minimum}"
        raise OptionError(f"{name}= must be {bound} (or 'auto'), got {value!r}.")
    return value


def reason_text(name: str, reason) -> str:
    """``reason`` without a leading ``name=value:`` (the choice already shows the value)."""
    return re.sub(rf"^{re.escape(name)}=[^:]*:\s*", "", str(reason))


def _plain(value):
    """JSON-friendly copy of numpy scalars and non-finite floats."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
