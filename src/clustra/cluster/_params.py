"""Declared parameters: each estimator lists its parameters and their allowed values once.

An estimator class sets ``_parameter_constraints``, a dict from parameter name
to a list of constraints; a value is valid when any one of them accepts it.
:func:`check_params` (called at the start of ``fit``) reads the table and, for
the first invalid value, raises :class:`InvalidParameterError` with a message
built from the same table: the estimator, the parameter, what is allowed and
what was given. scikit-learn's own machinery is private, so this is ours, with
the same shape::

    _parameter_constraints = {
        "eps": [Interval(Real, 0.0, None, closed="neither")],
        "metric": [Options("euclidean", "manhattan")],
        "n_jobs": [Interval(Integral, None, None), None],
    }

``None`` in a list stands for the value None. Checks that involve the data
(``n_clusters <= n_samples``) stay in ``fit``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from scipy import sparse

__all__ = [
    "ARRAY_LIKE",
    "BOOLEAN",
    "CALLABLE",
    "DICT",
    "MEMORY",
    "N_JOBS",
    "RANDOM_STATE",
    "SPARSE",
    "Interval",
    "InvalidParameterError",
    "Options",
    "Kind",
    "check_params",
    "store_parameters",
    "renamed_parameter",
]


class InvalidParameterError(ValueError, TypeError):
    """A parameter has a value outside its declared set (a ValueError and a TypeError,
    as scikit-learn's, so that either ``except`` catches it)."""


@dataclass(frozen=True)
class Interval:
    """Numbers of ``kind`` (``Integral`` or ``Real``) between ``low`` and ``high``.

    ``closed`` is "both", "left", "right" or "neither"; a bound of None is
    open-ended. Booleans are never numbers here, and a Real interval takes
    finite values only (NaN never passes a comparison anyway).
    """

    kind: type
    low: float | None
    high: float | None
    closed: str = "both"

    def accepts(self, value) -> bool:
        if isinstance(value, bool | np.bool_) or not isinstance(value, self.kind):
            return False
        if self.kind is Real and not math.isfinite(value):
            return False
        if self.low is not None:
            left_closed = self.closed in ("both", "left")
            if value < self.low or (value == self.low and not left_closed):
                return False
        if self.high is not None:
            right_closed = self.closed in ("both", "right")
            if value > self.high or (value == self.high and not right_closed):
                return False
        return True

    def describe(self) -> str:
        noun = "an integer" if self.kind is Integral else "a number"
        left = ">=" if self.closed in ("both", "left") else ">"
        right = "<=" if self.closed in ("both", "right") else "<"
        if self.low is None and self.high is None:
            return noun
        if self.high is None:
            return f"{noun} {left} {_number(self.low)}"
        if self.low is None:
            return f"{noun} {right} {_number(self.high)}"
        bracket = "[" if left == ">=" else "("
        closing = "]" if right == "<=" else ")"
        return f"{noun} in {bracket}{_number(self.low)}, {_number(self.high)}{closing}"


@dataclass(frozen=True)
class Options:
    """One of a fixed set of values (strings, usually)."""

    values: tuple

    def __init__(self, *values):
        object.__setattr__(self, "values", tuple(values))

    def accepts(self, value) -> bool:
        return isinstance(value, str | bool | Integral | Real | type(None)) and any(
            type(value) is type(option) and value == option for option in self.values
        )

    def describe(self) -> str:
        return "one of " + ", ".join(map(repr, self.values))


@dataclass(frozen=True)
class Kind:
    """Any value that ``test`` accepts, described as ``description`` ("a callable")."""

    test: Callable[[object], bool]
    description: str

    def accepts(self, value) -> bool:
        return bool(self.test(value))

    def describe(self) -> str:
        return self.description


def _is_array_like(value) -> bool:
    return hasattr(value, "__array__") or isinstance(value, list | tuple)


BOOLEAN = Kind(lambda v: isinstance(v, bool | np.bool_), "True or False")
CALLABLE = Kind(callable, "a callable")
ARRAY_LIKE = Kind(_is_array_like, "an array")
RANDOM_STATE = Kind(
    lambda v: v is None
    or (isinstance(v, Integral) and not isinstance(v, bool) and 0 <= v < 2**32)
    or isinstance(v, np.random.RandomState),
    "None, an integer in [0, 2**32) or a numpy RandomState",
)
DICT = Kind(lambda v: isinstance(v, dict), "a dict")
MEMORY = Kind(lambda v: isinstance(v, str) or hasattr(v, "cache"),
              "a cache directory (str) or a joblib.Memory")
SPARSE = Kind(sparse.issparse, "a sparse matrix")
ALL_CORES = Kind(
    lambda v: isinstance(v, Integral) and not isinstance(v, bool | np.bool_) and v == -1,
    "-1 (all cores)",
)
# The thread count, as every estimator spells it: a count, -1 for all cores, None for
# clustra's setting (clustra.thread_limit).
N_JOBS = [Interval(Integral, 1, None), ALL_CORES, None]
_NONE = Kind(lambda v: v is None, "None")


def _as_constraint(constraint):
    return _NONE if constraint is None else constraint


def check_params(estimator, names=None) -> None:
    """Check the estimator's parameters against its ``_parameter_constraints`` table.

    ``names`` limits the check to some parameters (default: every one in the
    table). Raises :class:`InvalidParameterError` naming the estimator, the
    parameter, what is allowed and the value given, followed by the class's
    ``_parameter_hints[name]`` when it has one (what to do about it).
    """
    table = type(estimator)._parameter_constraints
    for name in table if names is None else names:
        value = getattr(estimator, name)
        constraints = [_as_constraint(c) for c in table[name]]
        if any(c.accepts(value) for c in constraints):
            continue
        allowed = [c.describe() for c in constraints]
        allowed_text = allowed[0] if len(allowed) == 1 else (
            ", ".join(allowed[:-1]) + " or " + allowed[-1]
        )
        hint = getattr(type(estimator), "_parameter_hints", {}).get(name)
        raise InvalidParameterError(
            f"{type(estimator).__name__}: {name} must be {allowed_text}; got {value!r}."
            + (f" {hint}" if hint else "")
        )


def store_parameters(estimator, arguments: dict) -> None:
    """Store each parameter of the table as the attribute of its name, from ``arguments``.

    An ``__init__`` calls ``store_parameters(self, locals())`` and does nothing
    else (scikit-learn's rule); every parameter in the table must be an argument.
    """
    for name in type(estimator)._parameter_constraints:
        setattr(estimator, name, arguments[name])


def renamed_parameter(estimator, old: str, new: str, *, unset="deprecated"):
    """The value of ``new``, or of ``old`` (with a FutureWarning) when only ``old`` is set.

    For a parameter renamed across the estimators (``n_threads`` -> ``n_jobs``):
    ``old`` stays in ``__init__`` with the default ``unset`` until it is removed.
    """
    old_value = getattr(estimator, old)
    if isinstance(old_value, str) and old_value == unset:
        return getattr(estimator, new)
    warnings.warn(
        f"{type(estimator).__name__}: {old} is deprecated and will be removed in clustra 0.3; "
        f"use {new}={old_value!r} instead.",
        FutureWarning,
        stacklevel=3,
    )
    if getattr(estimator, new) is not None:
        raise InvalidParameterError(
            f"{type(estimator).__name__}: give {new} only ({old} is its deprecated name); "
            f"got {new}={getattr(estimator, new)!r} and {old}={old_value!r}."
        )
    return old_value


def _number(value) -> str:
    return repr(value) if isinstance(value, float) and not value.is_integer() else str(
        int(value) if isinstance(value, float) else value
    )
