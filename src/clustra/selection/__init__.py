"""Choosing the number of clusters (k) or the density threshold (eps).

Submodules: ``knee`` (the one knee finder), ``eps`` (``suggest_eps``),
``gap`` (gap statistic), ``stability``, ``sweep`` (``choose_k``). They are
imported on first use, so ``import clustra.selection`` stays cheap.
"""

from __future__ import annotations

import importlib

_LAZY_NAMES = {
    "find_knee": "knee",
    "Knee": "knee",
    "suggest_eps": "eps",
    "gap_statistic": "gap",
    "GapResult": "gap",
    "stability": "stability",
    "StabilityResult": "stability",
    "choose_k": "sweep",
    "KSelection": "sweep",
}

__all__ = sorted(_LAZY_NAMES)


def __getattr__(name: str):
    module = _LAZY_NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'clustra.selection' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"clustra.selection.{module}"), name)
    globals()[name] = value
    return value
